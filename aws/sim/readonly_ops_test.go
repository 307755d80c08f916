package sim

import (
	"sort"
	"testing"

	"github.com/warroom-ir/warroom/aws/session"
)

// TestReadGuardLetsNoWriteThrough: every operation the read-only guard
// (session.IsReadOperation) lets through is one CloudTrail records as
// readOnly true, for every operation the drill serves (issue 13, point 14:
// --read-only sends nothing CloudTrail counts as a write).
func TestReadGuardLetsNoWriteThrough(t *testing.T) {
	s := New(Options{})
	var names []string
	for name := range s.services {
		names = append(names, name)
	}
	sort.Strings(names)
	n := 0
	for _, name := range names {
		for op, o := range s.services[name].Ops {
			n++
			if session.IsReadOperation(op) && !o.ReadOnly {
				t.Errorf("%s:%s is recorded as a write, but the read-only guard lets it through", name, op)
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d operations found: the check checks little", n)
	}
}
