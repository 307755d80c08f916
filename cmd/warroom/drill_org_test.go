package main

import (
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/state"
)

// TestDrillOrg plays warroom drill --org-accounts 3: the console opens in
// organisation mode on the management account, reads both members through
// their role (their access journaled ok), shows the accounts; once the
// attacker has pivoted into the second member, the debrief's ground truth
// holds what it planted there (its sessions and key, judged by that
// account, and its miners), not only the leaked account's.
func TestDrillOrg(t *testing.T) {
	var got []report.Debrief
	debriefed = func(db report.Debrief, _ error) { got = append(got, db) }
	t.Cleanup(func() { debriefed = nil })
	r := startDrillRun(t, func(a *drillArgs) { a.orgAccounts = 3 })
	if r.drill.org == nil || r.drill.osc == nil {
		t.Fatal("the drill is not an organisation")
	}
	leakedAcct, pivotAcct := r.drill.osc.LeakedAccount(), r.drill.osc.PivotAccount()
	r.waitFor("both members read through their role", func() bool {
		s := r.store()
		for _, id := range []string{leakedAcct, pivotAcct} {
			af, ok := s.Account(id)
			if !ok || af.Access == nil || af.Access.V.Status != state.AccessOK || af.Inventory == nil {
				return false
			}
		}
		return true
	})
	mark := len(r.screen.String())
	r.press("2")
	r.screenShows(mark, "3 accounts")
	r.waitFor("the attacker's pivot", r.drill.osc.PivotEstablished)
	if err := r.quit(); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatalf("no debrief; stdout %s", r.out.String())
	}
	db := got[len(got)-1]
	pivotHeld := 0
	for _, h := range db.Held {
		if strings.HasSuffix(h.Kind, " in "+pivotAcct) {
			pivotHeld++
		}
	}
	if pivotHeld == 0 {
		t.Errorf("the debrief holds nothing of the pivot account %s: %+v", pivotAcct, db.Held)
	}
	if db.Running < 2 {
		t.Errorf("the debrief counts %d running instances; the pivot's miners alone are 2", db.Running)
	}
	if out := r.out.String(); !strings.Contains(out, "in "+pivotAcct) {
		t.Errorf("the printed debrief does not name the pivot account:\n%s", out)
	}
}
