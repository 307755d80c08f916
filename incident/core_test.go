package incident

import (
	"context"
	"testing"
	"time"

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
