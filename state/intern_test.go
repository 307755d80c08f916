package state

import (
	"slices"
	"testing"
)

// TestMatchFoldsNewValues checks that matching sees every value interned
// before it, though a column lower-cases its values only when it matches:
// values added between matches, including one that differs from an earlier
// value only in case (after which an exact match must find both).
func TestMatchFoldsNewValues(t *testing.T) {
	type step struct {
		add     []string // interned before the match
		pattern string
		substr  bool
		want    []string // the values matched, in value id order
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"exact, then a value added", []step{
			{add: []string{"AKIAONE", "AKIATWO"}, pattern: "akiatwo", want: []string{"AKIATWO"}},
			{add: []string{"AKIATHREE"}, pattern: "AKIAThree", want: []string{"AKIATHREE"}},
		}},
		{"a value differing only in case, added later", []step{
			{add: []string{"Alice", "bob"}, pattern: "alice", want: []string{"Alice"}},
			{add: []string{"ALICE"}, pattern: "alice", want: []string{"Alice", "ALICE"}},
			{pattern: "BOB", want: []string{"bob"}},
		}},
		{"globs over values added in three batches", []step{
			{add: []string{"us-east-1"}, pattern: "us-*", want: []string{"us-east-1"}},
			{add: []string{"eu-west-1", "US-WEST-2"}, pattern: "us-*", want: []string{"us-east-1", "US-WEST-2"}},
			{add: []string{"us-gov-west-1"}, pattern: "west", substr: true, want: []string{"eu-west-1", "US-WEST-2", "us-gov-west-1"}},
		}},
		{"nothing matched yet", []step{
			{pattern: "x", want: nil},
			{add: []string{"X"}, pattern: "x", want: []string{"X"}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newColumn()
			for i, st := range tc.steps {
				for _, s := range st.add {
					c.intern(s)
				}
				var got []string
				for _, v := range c.match(newGlob(st.pattern, st.substr), true) {
					got = append(got, c.strs[v])
				}
				if !slices.Equal(got, st.want) {
					t.Errorf("step %d, %q: matched %q, want %q", i, st.pattern, got, st.want)
				}
			}
		})
	}
}
