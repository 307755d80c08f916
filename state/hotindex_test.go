package state

import (
	"fmt"
	"strings"
	"testing"
)

// TestInternHot checks that a column gives every distinct string one value
// id, the same every time, whatever its hot index makes of the strings:
// strings built to collide in quickHash, more strings than the index keeps
// (it is emptied and refilled), and the empty string.
func TestInternHot(t *testing.T) {
	// collide returns n distinct 40-byte strings alike in their length and
	// in the bytes quickHash reads (the first, middle and last eight).
	collide := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("arn:aws:%08d:iam::123456789012:user/x", i))
		}
		return out
	}
	many := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255))
		}
		return out
	}
	tests := []struct {
		name string
		strs []string
	}{
		{"few", []string{"us-east-1", "eu-west-1", "us-east-1", "ap-south-1"}},
		{"empty string", []string{"", "a", "", "ab", "abc", "abcd", ""}},
		{"short lengths", []string{"a", "b", "ab", "ba", "abc", "acb", "abcd", "abdc", "abcde", "abcdefg", "abcdefgh"}},
		{"case differs", []string{"AKIAEXAMPLE", "akiaexample", "AkiaExample"}},
		{"colliding", collide(50)},
		{"past the largest index", many(1<<maxHotBits + 1000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "colliding" {
				for _, s := range tc.strs[1:] {
					if quickHash(s) != quickHash(tc.strs[0]) {
						t.Fatalf("quickHash(%q) differs from quickHash(%q): the case tests nothing", s, tc.strs[0])
					}
				}
			}
			c := newColumn()
			want := map[string]uint32{"": 0}
			// Three passes: the first adds, the later ones find, each
			// string in a different order.
			for pass := range 3 {
				for i := range tc.strs {
					s := tc.strs[(i*(pass+1))%len(tc.strs)]
					if pass == 1 {
						s = tc.strs[len(tc.strs)-1-i]
					}
					id := c.intern(strings.Clone(s))
					w, ok := want[s]
					if !ok {
						w = uint32(len(want))
						want[s] = w
					}
					if id != w {
						t.Fatalf("pass %d: intern(%q) = %d, want %d", pass, s, id, w)
					}
				}
			}
			if len(c.strs) != len(want) {
				t.Errorf("column holds %d strings, want %d", len(c.strs), len(want))
			}
			for s, w := range want {
				if c.strs[w] != s {
					t.Errorf("value %d is %q, want %q", w, c.strs[w], s)
				}
			}
		})
	}
}
