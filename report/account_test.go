package report

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// TestActionAccount: an action taken in a member account through a role
// shows its account and role in the report (every format), and in the
// containment summary; one in the session's own account shows neither.
func TestActionAccount(t *testing.T) {
	const acct, role = "222222222222", "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	writeJournal(t, path, "wr-acct", []line{
		{at, state.KindIncidentOpened, state.IncidentOpened{ID: "wr-acct", Title: "pivot"}},
		{at.Add(time.Second), state.KindActionIntent, state.ActionIntent{ActionID: "own", Action: "deactivate-key", Target: "AKIA1", Plan: []state.Call{}}},
		{at.Add(2 * time.Second), state.KindActionIntent, state.ActionIntent{ActionID: "m", Action: "quarantine", Target: "user/svc-replication",
			Plan: []state.Call{}, Account: acct, Role: role}},
		{at.Add(3 * time.Second), state.KindActionResult, state.ActionResult{ActionID: "m", OK: true, Calls: []state.CallResult{}, Account: acct, Role: role}},
	})
	st, rep, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	r := Build(st, rep, Options{})
	if len(r.Actions) != 2 || r.Actions[0].Account != "" || r.Actions[1].Account != acct || r.Actions[1].Role != role ||
		r.Summary.Containment[1].Account != acct {
		t.Fatalf("actions %+v, containment %+v", r.Actions, r.Summary.Containment)
	}
	for _, f := range []string{FormatMarkdown, FormatHTML, FormatJSON} {
		var b bytes.Buffer
		if err := Write(&b, r, f); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, acct) || !strings.Contains(out, role) {
			t.Errorf("%s: the member account or role is missing", f)
		}
		if f == FormatMarkdown && (strings.Count(out, "role assumed") != 1 || !strings.Contains(out, "user/svc-replication (account "+acct+")")) {
			t.Errorf("markdown:\n%s", out)
		}
	}
}
