package state

import (
	"slices"
	"testing"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// TestForgedAddendumKeepsFamily is the red team's record: a copy of an
// AssumeRole with the same eventID, an addendum, and no credentials in
// it. The key the original minted stays in the family (and its own
// children with it), the event stays found by minted, and the copy is
// kept (Add says the table changed), as is a plain duplicate with other
// content.
func TestForgedAddendumKeepsFamily(t *testing.T) {
	tb := NewEventTable()
	for _, r := range chain() {
		tb.Add(r, EventRef{})
	}
	forged := mintRec(4, 4, "ASIA1", "AssumeRole", "ASIA2", roleA)
	forged.Minted = nil
	forged.Addendum = &ctlog.Addendum{Reason: "UPDATED_DATA", UpdatedFields: "responseElements"}
	id, changed := tb.Add(forged, EventRef{Offset: 7})
	if !changed {
		t.Error("the forged copy was dropped: it is evidence")
	}
	var keys []string
	for _, l := range tb.Family("AKIA1") {
		keys = append(keys, l.Key)
	}
	if !slices.Contains(keys, "ASIA2") || !slices.Contains(keys, "ASIA3") {
		t.Errorf("family of AKIA1 = %v: the forged addendum took ASIA2's line out", keys)
	}
	f, _ := ParseFilter("minted")
	if !slices.Contains(tb.QueryAt(f, t0).IDs(), id) {
		t.Error("minted no longer finds the AssumeRole")
	}
	dup := useRec(1, 1, "AKIA1")
	dup.SourceIP = "198.51.100.66"
	if _, changed := tb.Add(dup, EventRef{Offset: 8}); !changed {
		t.Error("a duplicate with other content was dropped silently")
	}
	g, err := ParseFilter("conflict")
	if err != nil {
		t.Fatal(err)
	}
	if got := tb.QueryAt(g, t0).Len(); got != 2 {
		t.Errorf("conflict matches %d events, want 2", got)
	}
}
