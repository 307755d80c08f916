package hunt

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// pagesOf makes Athena's pages of rows (1,000 a page) for recs.
func pagesOf(recs []ctlog.Record) [][][]*string {
	var pages [][][]*string
	for i := 0; i < len(recs); i += 1000 {
		var page [][]*string
		for _, r := range recs[i:min(i+1000, len(recs))] {
			page = append(page, athenaRow(decodeRecord(r.Raw), false))
		}
		pages = append(pages, page)
	}
	return pages
}

// A hunt's records go to the journal as ingest's do: what the journal
// already holds is dropped by state's rule, the rest is journaled under
// the query's source, and the store sees the events as any others.
func TestJournalDedupesAgainstTheJournal(t *testing.T) {
	recs := genRecords(t, 2500, 3)
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{Title: "hunt"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	// The journal already holds the first 1,000 (as ingest wrote them).
	if _, _, err := rec.RecordEvents("file", recs[:1000], nil); err != nil {
		t.Fatal(err)
	}
	rec.Close()

	s, _, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	rec, err = state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	j := &Journal{Sink: &RecorderSink{Rec: rec, Seen: s.Events.Seen()}, Source: Source("q-1")}
	bad := "not json"
	pages := pagesOf(recs)
	pages[2] = append(pages[2], []*string{&bad}) // a row of one field
	for _, p := range pages {
		if err := j.Page(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	if j.Found != 2501 || j.New != 1500 || j.Held != 1000 || j.Problems != 1 {
		t.Errorf("found %d, new %d, held %d, problems %d", j.Found, j.New, j.Held, j.Problems)
	}
	// The facts say where the records came from, as ingest's say "file".
	if b, err := os.ReadFile(path); err != nil || !bytes.Contains(b, []byte(`"source":"athena:q-1"`)) {
		t.Errorf("no events fact of source athena:q-1 (%v)", err)
	}
	s, _, err = state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Events.Len(); n != 2500 {
		t.Errorf("the store holds %d events, want 2500", n)
	}
	if f, _ := state.ParseFilter("conflict"); s.Events.Query(f).Len() != 0 {
		t.Error("the hunt's copies are conflicts")
	}
	// Again: everything is held.
	j2 := &Journal{Sink: &RecorderSink{Rec: nil, Seen: s.Events.Seen()}, Source: Source("q-2")}
	for _, p := range pagesOf(recs) {
		if err := j2.Page(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if j2.New != 0 || j2.Held != 2500 || len(j2.recs) != 0 {
		t.Errorf("a second hunt: new %d held %d", j2.New, j2.Held)
	}
}

// BenchmarkJournal measures warroom's side of a hunt: recorded pages of
// 1,000 rows (realistic records from aws/sim/gen) rebuilt, parsed,
// deduplicated and journaled. records/s is the figure of the budget
// (≥ 50,000).
func BenchmarkJournal(b *testing.B) {
	recs := genRecords(b, 20000, 11)
	pages := pagesOf(recs)
	var cpu time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "journal.jsonl")
		rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
		if err != nil {
			b.Fatal(err)
		}
		j := &Journal{Sink: &RecorderSink{Rec: rec, Seen: state.NewSeen()}, Source: Source("bench")}
		c0 := cpuTime()
		b.StartTimer()
		for _, p := range pages {
			if err := j.Page(context.Background(), p); err != nil {
				b.Fatal(err)
			}
		}
		if err := j.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := rec.Sync(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		rec.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
	// On a machine shared with other work, wall time says little: the
	// process's CPU time (every thread) says what a core would do.
	if cpu > 0 {
		b.ReportMetric(float64(len(recs)*b.N)/cpu.Seconds(), "records/cpu-s")
	}
}
