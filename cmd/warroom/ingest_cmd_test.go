package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestIngestSameOnAnyCores: ingest parses files on every core with records
// borrowing the parser's buffers. Whatever the core count, the journal
// must hold exactly the records a plain sequential parse gives, in order,
// each copied out before its buffer was reused (8,000 records make four
// batches, so the batch arenas are reused too).
func TestIngestSameOnAnyCores(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "trail")
	if _, err := gen.Write(corpus, gen.Options{Events: 8000, Seed: 11, End: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	paths := []string{corpus}
	if _, err := os.Stat(samples); err == nil {
		paths = append(paths, samples)
	}

	// The reference: every record of a sequential, owning parse, with the
	// duplicates (same event id, no addendum) left out as ingest does.
	var want []string
	seen := state.NewEventTable()
	if _, _, err := ctlog.ParsePaths(paths, ctlog.Options{}, func(r ctlog.Record) error {
		if _, changed := seen.Add(&r, state.EventRef{}); changed {
			want = append(want, string(r.Raw))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("GOMAXPROCS=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			j := filepath.Join(t.TempDir(), "journal.jsonl")
			// The samples hold README files: exit 1, the rest journaled.
			wantCode := exitOK
			if len(paths) > 1 {
				wantCode = exitProblem
			}
			if code, out, errOut := warroom(t, append([]string{"ingest", "--journal", j}, paths...)...); code != wantCode {
				t.Fatalf("ingest exit %d: %s %s", code, out, errOut)
			}
			var got []string
			if _, err := journal.Read(j, func(e journal.Entry) error {
				if e.Kind != string(state.KindEvents) {
					return nil
				}
				var ev state.Events
				if err := json.Unmarshal(e.Data, &ev); err != nil {
					return err
				}
				for _, r := range ev.Records {
					got = append(got, string(r))
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				for i := range min(len(got), len(want)) {
					if got[i] != want[i] {
						t.Fatalf("record %d differs:\n got %.200s\nwant %.200s", i, got[i], want[i])
					}
				}
				t.Fatalf("%d records journaled, want %d", len(got), len(want))
			}
		})
	}
}
