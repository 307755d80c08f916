package incident_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
)

// TestOrgStreamFollowsThePivot runs the console's core in organisation
// mode, through the real SDK, against the drill organisation while its
// scenario plays: the key leaks in member A and the attacker pivots into
// member B through a role that trusts A. The per-account streams journal
// the leaked family's events in both accounts and FamilyAccounts names
// both; a third member with no role is shown as such and retried, each
// try journaled with when the next comes (account.access's Retry).
func TestOrgStreamFollowsThePivot(t *testing.T) {
	o := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: 7, Speed: 100, DisabledRegions: optInRegions()}, Members: 3, NoAccessRole: []int{2}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endpoint, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	osc, err := scenario.NewOrg(scenario.DefaultScenario, o, endpoint, scenario.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	scDone := make(chan struct{})
	go func() { defer close(scDone); _ = osc.Run(ctx) }()
	defer func() { cancel(); <-scDone }()
	a, b, noRole := osc.LeakedAccount(), osc.PivotAccount(), o.Members()[2].AccountID()
	waitUntil(t, 90*time.Second, "the attacker's pivot into B", osc.PivotEstablished)

	oc := openOrgConsole(ctx, t, o, endpoint)
	if _, err := oc.rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: osc.LeakedKey(), Reason: "found on a paste site"}); err != nil {
		t.Fatal(err)
	}
	oc.start(ctx, t, incident.DrillPacing(100), incident.Members{RetryMin: 300 * time.Millisecond, RetryMax: time.Second})
	id, path := oc.id, oc.path

	var s *state.Store
	var fam []string
	var in map[string]int
	var nTries int
	defer func() {
		if t.Failed() {
			t.Logf("FamilyAccounts %v, the family's events by account %v, %d tries of the role-less member", fam, in, nTries)
		}
	}()
	waitUntil(t, 180*time.Second, "the family's events in both accounts, and the role-less member retried", func() bool {
		s = oc.store(t)
		fam, in, nTries = s.FamilyAccounts(), familyByAccount(t, s, osc.LeakedKey()), len(accessFacts(t, path, noRole))
		return slices.Contains(fam, a) && slices.Contains(fam, b) && in[a] > 0 && in[b] > 0 && nTries >= 2
	})
	if in := familyByAccount(t, s, osc.LeakedKey()); in[a] == 0 || in[b] == 0 {
		t.Errorf("the family's events by account: %v; want some in A %s and in B %s", in, a, b)
	}
	if fam := s.FamilyAccounts(); slices.Contains(fam, id.AccountID) {
		t.Errorf("FamilyAccounts %v names the management account, which the family never touched", fam)
	}
	tries := accessFacts(t, path, noRole)
	for i, acc := range tries {
		if acc.Status != state.AccessDenied && acc.Status != state.AccessMissingRole {
			t.Errorf("try %d of the role-less member: %s (%s)", i+1, acc.Status, acc.Error)
		}
		if acc.Retry.IsZero() {
			t.Errorf("try %d of the role-less member journaled without when warroom tries again", i+1)
		}
	}
	if af, ok := s.Account(noRole); !ok || af.Access == nil || af.Access.V.Retry.IsZero() {
		t.Errorf("the store does not show the role-less member's next try: %+v", af.Access)
	}
}

// familyByAccount counts the events of key's family the store holds by
// the account of the principal that made them: the leaked key's lineage
// in A, its sessions of the pivot role in B.
func familyByAccount(t *testing.T, s *state.Store, key string) map[string]int {
	t.Helper()
	f, err := state.ParseFilter("family:" + key)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]int{}
	for _, c := range s.Events.Counts(state.FieldPrincipal, f) {
		if p, ok := state.ParseARN(c.Value); ok {
			in[p.Account] += c.N
		}
	}
	return in
}

// accessFacts reads the journal's account.access facts for account.
func accessFacts(t *testing.T, path, account string) []state.AccountAccess {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []state.AccountAccess
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var line struct {
			Kind string              `json:"kind"`
			Data state.AccountAccess `json:"data"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Kind == string(state.KindAccountAccess) && line.Data.AccountID == account {
			out = append(out, line.Data)
		}
	}
	return out
}
