package incident

import (
	"os"
	"slices"
	"sync"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/state"
)

// sweepKinds are the sweep kinds that hold each Regional target kind.
var sweepKinds = map[contain.Kind]string{
	contain.KindInstances: "ec2:instance", contain.KindSpot: "ec2:spot-request",
	contain.KindKeyPair: "ec2:key-pair", contain.KindFunction: "lambda:function",
}

// JournalLocator answers Env.Locate from the journal: the Regions where a
// CloudTrail event of the journal created the resource, then those where
// a sweep saw it. The creating events are read from the journal once, on
// the first question (most actions never ask).
func JournalLocator(s *state.Store, path string) func(kind contain.Kind, id string) []string {
	var once sync.Once
	var creators *state.Creators
	var known []string // every Region the journal names
	return func(kind contain.Kind, id string) []string {
		once.Do(func() {
			raw := state.NewRawReader(path)
			defer raw.Close()
			creators, _ = state.FindCreators(s.Events, raw.Raw)
			add := func(r string) {
				if r != "" && !slices.Contains(known, r) {
					known = append(known, r)
				}
			}
			for _, c := range s.Events.Counts(state.FieldRegion, nil) {
				add(c.Value)
			}
			for _, r := range s.Regions {
				add(r.Name)
			}
			for k := range s.Sweeps {
				add(k.Region)
			}
			slices.Sort(known)
		})
		var out []string
		for _, r := range known {
			if _, ok := creators.Lookup(r, id); ok {
				out = append(out, r)
			}
		}
		for _, sw := range s.SweepList() {
			if sw.V.Kind != sweepKinds[kind] || slices.Contains(out, sw.V.Region) {
				continue
			}
			if slices.ContainsFunc(sw.V.Resources, func(r state.Resource) bool { return r.ID == id || r.Name == id || r.ARN == id }) {
				out = append(out, sw.V.Region)
			}
		}
		return out
	}
}

// FileLocator answers Env.Locate from the journal file at path, for a
// process whose fold must not be held while the journal is read: the journal is replayed on the first question, and again
// when a resource is not in the replay and the file has grown since (the
// console journals sweeps and events as it runs). Safe for concurrent
// use: questions are answered one at a time.
func FileLocator(path string) func(kind contain.Kind, id string) []string {
	var mu sync.Mutex
	var loc func(kind contain.Kind, id string) []string
	var size int64
	return func(kind contain.Kind, id string) []string {
		mu.Lock()
		defer mu.Unlock()
		fi, err := os.Stat(path)
		if err != nil {
			return nil
		}
		if loc != nil {
			if out := loc(kind, id); len(out) > 0 || fi.Size() == size {
				return out
			}
		}
		s, _, err := state.Replay(path)
		if err != nil {
			return nil // the action then searches every enabled Region
		}
		loc, size = JournalLocator(s, path), fi.Size()
		return loc(kind, id)
	}
}
