package incident

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

func TestDrillPacing(t *testing.T) {
	real := RealPacing()
	cases := []struct {
		name      string
		speed     float64
		wantPoll  time.Duration
		wantSweep time.Duration
	}{
		{"real time", 1, real.Poll, real.Sweeps},
		{"ten times", 10, 5 * time.Second, 30 * time.Second},
		{"very fast stays within bounds", 1000, 5 * time.Second, 10 * time.Second},
		{"slower than real is not slower than real", 0.5, real.Poll, real.Sweeps},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DrillPacing(tc.speed)
			if p.Poll != tc.wantPoll || p.Sweeps != tc.wantSweep {
				t.Errorf("poll %s sweeps %s, want %s %s", p.Poll, p.Sweeps, tc.wantPoll, tc.wantSweep)
			}
		})
	}
}

// TestEntryQueue: what is put comes out in order, all of it, in batches of
// what was ready.
func TestEntryQueue(t *testing.T) {
	cases := []struct {
		name    string
		batches [][]int64 // puts between takes
	}{
		{"one", [][]int64{{1}}},
		{"everything ready at once", [][]int64{{1, 2, 3, 4}}},
		{"in rounds", [][]int64{{1}, {2, 3}, {4, 5, 6}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := newEntryQueue()
			for _, b := range tc.batches {
				for _, seq := range b {
					q.put(journal.Entry{Seq: seq})
				}
				got, ok := q.take(context.Background())
				if !ok || len(got) != len(b) {
					t.Fatalf("took %d entries (ok %v), want %d", len(got), ok, len(b))
				}
				for i := range got {
					if got[i].Seq != b[i] {
						t.Fatalf("entry %d is seq %d, want %d", i, got[i].Seq, b[i])
					}
				}
			}
			q.close()
			if got, ok := q.take(context.Background()); ok || len(got) != 0 {
				t.Errorf("a closed, empty queue gave %v, %v", got, ok)
			}
		})
	}
}

// TestCoreFollowsIntoOneFold: the core's follower applies the journal to
// the fold before the feed tells the screen, in journal order, and keeps
// the suspect list; what a second writer appends is seen too.
func TestCoreFollowsIntoOneFold(t *testing.T) {
	rec := openRec(t)
	if _, err := rec.Record(state.KindNote, state.Note{Text: "before start"}); err != nil {
		t.Fatal(err)
	}
	core := New(nil, session.Identity{}, rec, Pacing{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	core.Start(ctx)
	select {
	case <-core.CaughtUp():
	case <-time.After(10 * time.Second):
		t.Fatal("the follower never caught up")
	}
	k := &Sink{Rec: rec, Fold: core.Fold()}
	r := record(t, "6f1e0c4e-0000-4000-8000-000000000001", "GetUser", "1.2.3.4")
	if !k.Admit(&r) {
		t.Fatal("not admitted")
	}
	if err := k.Events(ctx, "lookup:us-east-1", []ctlog.Record{r}, nil); err != nil {
		t.Fatal(err)
	}
	other, err := state.OpenRecorder(rec.Path(), state.IncidentOpened{}, journal.Actor{User: "second", Host: "host"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	last, err := other.Record(state.KindSuspect, state.Suspect{AccessKeyID: "AKIAEXAMPLE", Reason: "leaked"})
	if err != nil {
		t.Fatal(err)
	}
	var seq int64
	deadline := time.After(10 * time.Second)
	for seq < last.Seq {
		select {
		case b := <-core.Feed():
			for _, e := range b {
				if e.Seq != seq+1 {
					t.Fatalf("the feed brought seq %d after %d", e.Seq, seq)
				}
				if e.Data != nil {
					t.Errorf("seq %d came with its data: the fold holds it", e.Seq)
				}
				seq = e.Seq
				core.Fold().Read(func(s *state.Store) {
					if s.Seq < e.Seq {
						t.Errorf("the feed brought seq %d before the fold held it (at %d)", e.Seq, s.Seq)
					}
				})
			}
		case <-deadline:
			t.Fatalf("the feed stopped at seq %d of %d", seq, last.Seq)
		}
	}
	core.Fold().Read(func(s *state.Store) {
		if s.Events.Len() != 1 || len(s.Notes) != 1 {
			t.Errorf("the fold holds %d events and %d notes, want 1 and 1", s.Events.Len(), len(s.Notes))
		}
	})
	if got := core.SuspectKeys(); len(got) != 1 || got[0] != "AKIAEXAMPLE" {
		t.Errorf("suspects %v", got)
	}
	cancel()
	core.Wait()
	if err := core.Problem(); err != nil {
		t.Error(err)
	}
}

// BenchmarkCoreFeed measures the console's feed: journal.Follow of a
// journal of b.N facts, into the fold, through the queue, to the channel
// the screen reads.
func BenchmarkCoreFeed(b *testing.B) {
	rec, err := state.OpenRecorder(filepath.Join(b.TempDir(), "journal.jsonl"), state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if _, err := rec.Record(state.KindNote, state.Note{Text: "note " + string(rune('a'+i%26))}); err != nil {
			b.Fatal(err)
		}
	}
	defer rec.Close()
	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	core := New(nil, session.Identity{}, rec, Pacing{})
	core.Start(ctx)
	got := 0
	for got < b.N+1 { // the incident.opened line, then the notes
		got += len(<-core.Feed())
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "entries/s")
}

// TestCoreOpenFoldsBeforeStart: Open folds the journal as it stands (the
// suspect list too), the follower goes on from there without reading it
// again, the core counts as caught up at once, and what is appended later
// is followed.
func TestCoreOpenFoldsBeforeStart(t *testing.T) {
	rec := openRec(t)
	if _, err := rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: "AKIAEXAMPLE", Reason: "leaked"}); err != nil {
		t.Fatal(err)
	}
	head, err := rec.Record(state.KindNote, state.Note{Text: "before start"})
	if err != nil {
		t.Fatal(err)
	}
	core := New(nil, session.Identity{}, rec, Pacing{})
	if err := core.Open(nil); err != nil {
		t.Fatal(err)
	}
	core.Fold().Read(func(s *state.Store) {
		if s.Seq != head.Seq || len(s.Notes) != 1 {
			t.Fatalf("after Open the fold is at %d with %d notes, want %d and 1", s.Seq, len(s.Notes), head.Seq)
		}
	})
	if got := core.SuspectKeys(); !slices.Equal(got, []string{"AKIAEXAMPLE"}) {
		t.Fatalf("suspects %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	core.Start(ctx)
	select {
	case <-core.CaughtUp():
	case <-time.After(10 * time.Second):
		t.Fatal("not caught up though Open folded everything")
	}
	last, err := rec.Record(state.KindNote, state.Note{Text: "after start"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case b := <-core.Feed():
		if len(b) != 1 || b[0].Seq != last.Seq {
			t.Fatalf("the feed brought %v, want only seq %d (the rest was folded by Open)", b, last.Seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the follower did not go on after Open")
	}
	core.Fold().Read(func(s *state.Store) {
		if s.Seq != last.Seq || len(s.Notes) != 2 {
			t.Fatalf("fold at %d with %d notes", s.Seq, len(s.Notes))
		}
	})
}
