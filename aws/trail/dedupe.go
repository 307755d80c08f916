package trail

import (
	"hash/maphash"
	"slices"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// seenSet remembers the events a poller has passed on, so that overlapping
// windows and filtered polls deliver each event once. A distinct copy of an
// event (state.CopyFingerprint, the rule the store and ingest use) is passed
// on, whatever it carries: every distinct copy is journaled as evidence, and
// the store judges it (an addendum CloudTrail's rules allow, or a conflict). Memory is bounded: entries older than the oldest
// window still asked are pruned, and past max the oldest half goes.
type seenSet struct {
	max  int
	seed maphash.Seed
	m    map[string]seenEntry
}

type seenEntry struct {
	at  int64    // event time, unix seconds
	fps []uint64 // every distinct copy passed on
}

func newSeenSet(max int) *seenSet {
	return &seenSet{max: max, seed: maphash.MakeSeed(), m: map[string]seenEntry{}}
}

// key identifies r: its event id, or its bytes when it has none.
func (s *seenSet) key(r *ctlog.Record) string {
	if r.EventID != "" {
		return r.EventID
	}
	return "raw:" + string(r.Raw)
}

// admit reports whether r is to be passed on, and remembers it.
func (s *seenSet) admit(r *ctlog.Record) bool {
	k := s.key(r)
	fp := state.CopyFingerprint(s.seed, r)
	old, ok := s.m[k]
	if ok && slices.Contains(old.fps, fp) {
		return false
	}
	s.m[k] = seenEntry{at: r.EventTime.Unix(), fps: append(old.fps, fp)}
	if len(s.m) > s.max {
		s.shrink()
	}
	return true
}

// prune forgets events older than before: no window still asked reaches
// them.
func (s *seenSet) prune(before time.Time) {
	b := before.Unix()
	for k, e := range s.m {
		if e.at < b {
			delete(s.m, k)
		}
	}
}

// shrink forgets the older half of the set. An event that old seen again
// (a late filtered poll) is passed on twice; the store dedupes it.
func (s *seenSet) shrink() {
	times := make([]int64, 0, len(s.m))
	for _, e := range s.m {
		times = append(times, e.at)
	}
	slices.Sort(times)
	cut := times[len(times)/2]
	for k, e := range s.m {
		if e.at < cut || e.at == cut && len(s.m) > s.max/2 {
			delete(s.m, k)
		}
	}
}
