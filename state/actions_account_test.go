package state

import (
	"os"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestActionAccountFolds: an action taken in a member account through an
// assumed role keeps its account and role through the fold, the verified
// reader and a checkpoint; a journal written before accounts (no such
// fields) folds to empty ones, the session's own account, and its lines
// carry no new key.
func TestActionAccountFolds(t *testing.T) {
	path := eventsJournal(t, 5, 40)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	const acct, role = "222222222222", "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
	for _, f := range []struct {
		k Kind
		v any
	}{
		{KindActionIntent, ActionIntent{ActionID: "own", Action: "deactivate-key", Target: "AKIA1", Plan: []Call{}}},
		{KindActionResult, ActionResult{ActionID: "own", OK: true, Calls: []CallResult{}}},
		{KindActionVerify, ActionVerify{ActionID: "own", Holds: true}},
		{KindActionIntent, ActionIntent{ActionID: "member", Action: "quarantine", Target: "user/eve", Plan: []Call{}, Account: acct, Role: role}},
		{KindActionResult, ActionResult{ActionID: "member", OK: true, Calls: []CallResult{}, Account: acct, Role: role}},
		{KindActionVerify, ActionVerify{ActionID: "member", Holds: true, Account: acct, Role: role}},
	} {
		if _, err := rec.Record(f.k, f.v); err != nil {
			t.Fatal(err)
		}
	}
	rec.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, `"own"`) && (strings.Contains(line, `"account"`) || strings.Contains(line, `"role"`)) {
			t.Errorf("a fact of the own account writes account or role: %s", line)
		}
	}
	check := func(what string, s *Store) {
		t.Helper()
		got := map[string]*Action{}
		for _, a := range s.Actions {
			got[a.Intent.ActionID] = a
		}
		own, member := got["own"], got["member"]
		if own == nil || member == nil {
			t.Fatalf("%s: actions %v", what, actionIDs(s.Actions))
		}
		if own.Intent.Account != "" || own.Intent.Role != "" || own.Result.Account != "" || own.Verifies[0].Account != "" {
			t.Errorf("%s: the own account's action has an account: %+v", what, own)
		}
		if member.Intent.Account != acct || member.Intent.Role != role || member.Result.Account != acct || member.Result.Role != role ||
			len(member.Verifies) != 1 || member.Verifies[0].Account != acct || member.Verifies[0].Role != role {
			t.Errorf("%s: the member's action lost its account or role: %+v %+v %+v", what, member.Intent, member.Result, member.Verifies)
		}
	}
	check("fold", mustFold(t, path))
	openIndexed(t, path) // writes the checkpoint
	o, warn := openIndexed(t, path)
	if warn != "" || o.from != o.store.Seq {
		t.Fatalf("not opened from the checkpoint: %q, from %d of %d", warn, o.from, o.store.Seq)
	}
	check("checkpoint", o.store)
	l, _, err := ReadActions(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range l.Actions {
		if a.Intent.ActionID == "member" && (a.Intent.Account != acct || a.Verifies[0].Role != role) {
			t.Errorf("ReadActions lost the account: %+v", a)
		}
	}
}
