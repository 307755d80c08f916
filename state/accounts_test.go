package state

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

const (
	homeAcct = "111111111111"
	acctA    = "222222222222"
	acctB    = "333333333333"
)

// accountsJournal journals a session in the home account, then inventory,
// Regions, a sweep and stream health for the home account (with and
// without its id) and for two members, and the members' access.
func accountsJournal(t *testing.T) string {
	t.Helper()
	path := eventsJournal(t, 5, 10)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, f := range []struct {
		k Kind
		v any
	}{
		{KindSessionStarted, SessionStarted{Command: "console", Mode: ModeReadOnly, AccountID: homeAcct}},
		{KindInventory, Inventory{TakenAt: at, AccountID: homeAcct, Users: []User{{Name: "home-user"}}}},
		{KindInventory, Inventory{TakenAt: at, AccountID: acctA, Users: []User{{Name: "a-user"}},
			Roles: []Role{{Name: "r", TrustPolicy: "{}"}}}},
		{KindRegions, Regions{Regions: []Region{{Name: "eu-west-1", OptInStatus: "opt-in-not-required"}}}},
		{KindRegions, Regions{AccountID: acctA, Regions: []Region{{Name: "us-east-1", OptInStatus: "opt-in-not-required"}}}},
		{KindSweep, Sweep{Region: "us-east-1", Kind: "ec2:instance", TakenAt: at, AccountID: acctA, Resources: []Resource{{ID: "i-a"}}}},
		{KindSweep, Sweep{Region: "us-east-1", Kind: "ec2:instance", TakenAt: at, Resources: []Resource{{ID: "i-home"}}}},
		{KindStreamHealth, StreamHealth{Source: "lookup:us-east-1", Status: "ok", AccountID: acctA}},
		{KindStreamHealth, StreamHealth{Source: "lookup:us-east-1", Status: "throttled"}},
		{KindAccountAccess, AccountAccess{AccountID: acctA, RoleARN: "arn:aws:iam::" + acctA + ":role/OrganizationAccountAccessRole", Status: AccessOK}},
		{KindAccountAccess, AccountAccess{AccountID: acctB, RoleARN: "arn:aws:iam::" + acctB + ":role/OrganizationAccountAccessRole",
			Status: AccessSCP, Error: "explicit deny in a service control policy"}},
	} {
		if _, err := rec.Record(f.k, f.v); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestAccountFacts: facts of the home account (with its id or none) fold
// where they always did; a member's go to Store.Accounts, and neither
// overwrites the other.
func TestAccountFacts(t *testing.T) {
	s := mustFold(t, accountsJournal(t))
	if s.Home() != homeAcct {
		t.Fatalf("home %q", s.Home())
	}
	if s.Inventory == nil || s.Inventory.Users[0].Name != "home-user" {
		t.Errorf("home inventory %+v", s.Inventory)
	}
	if len(s.Regions) != 1 || s.Regions[0].Name != "eu-west-1" {
		t.Errorf("home Regions %+v", s.Regions)
	}
	if sw := s.Sweeps[SweepKey{"us-east-1", "ec2:instance"}]; len(sw.V.Resources) != 1 || sw.V.Resources[0].ID != "i-home" {
		t.Errorf("home sweep %+v", sw.V)
	}
	if s.Health["lookup:us-east-1"].V.Status != "throttled" {
		t.Errorf("home health %+v", s.Health)
	}
	if _, ok := s.Trusts["r"]; ok {
		t.Error("a member's role trust went into the home account's Trusts")
	}
	a, ok := s.Account(acctA)
	if !ok || a.Inventory == nil || a.Inventory.Users[0].Name != "a-user" || len(a.Regions) != 1 ||
		a.Sweeps[SweepKey{"us-east-1", "ec2:instance"}].V.Resources[0].ID != "i-a" ||
		a.Health["lookup:us-east-1"].V.Status != "ok" || a.Access == nil || !a.Access.V.OK() {
		t.Errorf("member A: %+v", a)
	}
	b, _ := s.Account(acctB)
	if b.Access == nil || b.Access.V.Status != AccessSCP {
		t.Errorf("member B access %+v", b.Access)
	}
	if got, want := s.AccountIDs(), []string{homeAcct, acctA, acctB}; !slices.Equal(got, want) {
		t.Errorf("AccountIDs %v, want %v", got, want)
	}
}

// TestCheckpointKeepsAccounts: the members' facts survive an open from the
// checkpoint.
func TestCheckpointKeepsAccounts(t *testing.T) {
	path := accountsJournal(t)
	openIndexed(t, path)
	o, warn := openIndexed(t, path)
	if warn != "" || o.from != o.store.Seq {
		t.Fatalf("not opened from the checkpoint: warned %q, from %d of %d", warn, o.from, o.store.Seq)
	}
	want := mustFold(t, path)
	for _, id := range []string{acctA, acctB} {
		g, _ := json.Marshal(ckOf(o.store.Accounts[id]))
		w, _ := json.Marshal(ckOf(want.Accounts[id]))
		if string(g) != string(w) {
			t.Errorf("account %s after the checkpoint:\n%s\nwant\n%s", id, g, w)
		}
	}
	if !reflect.DeepEqual(o.store.Accounts[acctA].Sweeps, want.Accounts[acctA].Sweeps) {
		t.Error("member sweeps differ after the checkpoint")
	}
}

func ckOf(m *AccountFacts) ckAccount {
	return ckAccount{Access: m.Access, Regions: m.Regions, RegionsAt: m.RegionsAt, Inventory: m.Inventory,
		InventorySeq: m.InventorySeq, Health: m.Health, Sweeps: sweepList(m.Sweeps)}
}
