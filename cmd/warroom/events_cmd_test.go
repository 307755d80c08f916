package main

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/state"
)

// TestEventsTableIndexed: the events table answered from the checkpoint
// (a filter of column terms) is the table a full open prints (the same
// filter with a term only the store answers, which no generated event
// fails), row for row, and so is its count.
func TestEventsTableIndexed(t *testing.T) {
	dir := t.TempDir()
	files, journal := filepath.Join(dir, "files"), filepath.Join(dir, "journal.jsonl")
	if _, err := gen.Write(files, gen.Options{Events: 2 * state.DefaultIndexMin, Seed: 5, End: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	runOK := func(args ...string) (string, string) {
		t.Helper()
		var out, errb strings.Builder
		if code := run(context.Background(), args, strings.NewReader(""), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String(), errb.String()
	}
	runOK("ingest", "-j", journal, files)
	runOK("events", "-j", journal, "--filter", "region:nowhere") // writes the checkpoint
	if _, err := os.Stat(state.IndexPath(journal)); err != nil {
		t.Fatal(err)
	}
	// A byte of the index that the table's path does not read (the
	// event ids' values: section 200+11 of the section table at the
	// file's end), but a full open does, and refuses: the table is
	// still printed, with no warning, from the index.
	ck, err := os.ReadFile(state.IndexPath(journal))
	if err != nil {
		t.Fatal(err)
	}
	flip := sectionAt(t, ck, 211) + 2
	before, _ := runOK("events", "-j", journal, "--filter", "event:Get*")
	ck[flip] ^= 1
	if err := os.WriteFile(state.IndexPath(journal), ck, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, gotErr := runOK("events", "-j", journal, "--filter", "event:Get*"); got != before || strings.Contains(gotErr, "warning") {
		t.Fatalf("the table was not printed from the index: %s", gotErr)
	}
	ck[flip] ^= 1
	if err := os.WriteFile(state.IndexPath(journal), ck, 0o600); err != nil {
		t.Fatal(err)
	}

	// A byte of a row (section 104), which a full open never reads: the
	// query finds it, the events come from a full open that says so and
	// writes the index again, and the next query answers from it.
	ck[sectionAt(t, ck, 104)+7] ^= 1
	if err := os.WriteFile(state.IndexPath(journal), ck, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, gotErr := runOK("events", "-j", journal, "--filter", "event:Get*"); got != before || !strings.Contains(gotErr, "ignored, rebuilt") || !strings.Contains(gotErr, "SHA-256 does not match") {
		t.Fatalf("a damaged row: not rebuilt (%s), or another table", gotErr)
	}
	if got, gotErr := runOK("events", "-j", journal, "--filter", "event:Get*"); got != before || strings.Contains(gotErr, "warning") {
		t.Fatalf("after the rebuild: %s", gotErr)
	}
	if a, _, err := state.AnswerIndexed(journal, mustFilter(t, "event:Get*")); err != nil {
		t.Fatalf("after the rebuild: not answered from the index: %v", err)
	} else if _, ok := a.Events(0); !ok {
		t.Fatalf("after the rebuild: rows not read from the index: %v", a.Damaged())
	}

	for _, filter := range []string{"event:Get*", "region:us-east-1 -event:Describe*", "error:*"} {
		f, err := state.ParseFilter(filter)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := state.QueryIndexed(journal, f); !ok {
			t.Fatalf("%q: not answered from the index", filter)
		}
		for _, limit := range []string{"0", "7"} {
			got, gotErr := runOK("events", "-j", journal, "--filter", filter, "-n", limit)
			want, wantErr := runOK("events", "-j", journal, "--filter", filter+" -ours", "-n", limit)
			if got != want || gotErr != wantErr {
				t.Fatalf("%q -n %s: from the index\n%.600s\n%s\nfrom the store\n%.600s\n%s", filter, limit, got, gotErr, want, wantErr)
			}
			if strings.Count(got, "\n") < 2 {
				t.Fatalf("%q: nothing matched: the test tests little", filter)
			}
		}
	}
}

func mustFilter(t *testing.T, src string) *state.Filter {
	t.Helper()
	f, err := state.ParseFilter(src)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// sectionAt is where section id starts in the index ck, read from the
// section table at the file's end (binding, event count, then per section
// its id, offset, length and SHA-256; the table's length and SHA-256 last).
func sectionAt(t *testing.T, ck []byte, id uint32) int {
	t.Helper()
	tl := int(binary.LittleEndian.Uint64(ck[len(ck)-40:]))
	tab := ck[len(ck)-40-tl : len(ck)-40]
	tab = tab[8+binary.LittleEndian.Uint64(tab)+8+8+32+8:]
	for i := range int(binary.LittleEndian.Uint64(tab)) {
		if sec := tab[8+i*52:]; binary.LittleEndian.Uint32(sec) == id {
			return int(binary.LittleEndian.Uint64(sec[4:]))
		}
	}
	t.Fatalf("no section %d in the index", id)
	return 0
}
