package state

import (
	"slices"
	"strings"
)

// SuspectSet is the suspect marks expanded to whole key families: a marked
// key and every key of its family (EventTable.Family), and each marked
// principal ARN. The console highlights it, the report counts it, the
// Region map judges creators by it. It is built from the store as it stands
// (Store.SuspectSet) and not kept up to date.
type SuspectSet struct {
	// Marked is what was marked itself, key ids and principal ARNs, sorted.
	Marked []string
	// Roots are the marked keys, sorted: the families' roots.
	Roots []string

	keys       map[string]bool // marked keys and every key of their families
	principals map[string]bool // marked principal ARNs
	marked     map[string]bool
}

// SuspectSet builds the suspect set of the store's marks, and of extra
// ones (key ids, or principal ARNs: what starts with "arn:").
func (s *Store) SuspectSet(extra ...string) *SuspectSet {
	x := &SuspectSet{keys: map[string]bool{}, principals: map[string]bool{}, marked: map[string]bool{}}
	for id := range s.Suspects {
		x.marked[id] = true
	}
	for _, id := range extra {
		x.marked[id] = true
	}
	for id := range x.marked {
		x.Marked = append(x.Marked, id)
	}
	slices.Sort(x.Marked)
	for _, id := range x.Marked {
		if strings.HasPrefix(id, "arn:") {
			x.principals[id] = true
			continue
		}
		x.Roots = append(x.Roots, id)
		x.keys[id] = true
		for _, l := range s.Events.Family(id) {
			x.keys[l.Key] = true
		}
	}
	return x
}

// Has reports whether a key is of a suspect family or a principal is
// marked suspect (either may be empty).
func (x *SuspectSet) Has(key, principal string) bool {
	return key != "" && x.keys[key] || principal != "" && x.principals[principal]
}

// Key reports whether key is of a suspect family.
func (x *SuspectSet) Key(key string) bool { return x.keys[key] }

// IsMarked reports whether id (a key id or a principal ARN) was marked
// suspect itself.
func (x *SuspectSet) IsMarked(id string) bool { return x.marked[id] }
