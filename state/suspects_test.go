package state

import (
	"slices"
	"testing"
)

// TestSuspectSet expands marked keys to their families (EventTable.Family),
// keeps marked principals as they are, and adds extra marks.
func TestSuspectSet(t *testing.T) {
	s := NewStore()
	for i, r := range chain() {
		s.Events.Add(r, EventRef{Index: uint32(i)})
	}
	s.Suspects["ASIA1"] = Dated[Suspect]{V: Suspect{AccessKeyID: "ASIA1"}}
	s.Suspects[roleB] = Dated[Suspect]{V: Suspect{PrincipalARN: roleB}}

	x := s.SuspectSet("AKIA9")
	if want := []string{"AKIA9", "ASIA1", roleB}; !slices.Equal(x.Marked, want) {
		t.Errorf("Marked = %q, want %q", x.Marked, want)
	}
	if want := []string{"AKIA9", "ASIA1"}; !slices.Equal(x.Roots, want) {
		t.Errorf("Roots = %q, want %q", x.Roots, want)
	}
	for key, want := range map[string]bool{
		"ASIA1": true, "ASIA2": true, "ASIA3": true, // ASIA1's family
		"AKIA9": true, "ASIA9": true, // the extra mark's
		"AKIA1": false, "ASIA4": false, // ASIA1's issuer and sibling are not of its family
	} {
		if x.Key(key) != want || x.Has(key, "") != want {
			t.Errorf("%s: Key %v, Has %v; want %v", key, x.Key(key), x.Has(key, ""), want)
		}
	}
	if !x.Has("", roleB) || x.Has("", roleA) || x.Has("", "") || x.Key(roleB) {
		t.Errorf("principals: Has(roleB) %v, Has(roleA) %v, Has(empty) %v, Key(roleB) %v", x.Has("", roleB), x.Has("", roleA), x.Has("", ""), x.Key(roleB))
	}
	if !x.IsMarked("ASIA1") || !x.IsMarked(roleB) || !x.IsMarked("AKIA9") || x.IsMarked("ASIA2") {
		t.Error("IsMarked does not say what was marked itself")
	}
}
