package report

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// TestFirstAttackerEventLeavesOutTheOwner: the leaked key's owner's
// application called with it from its usual address before the attacker
// did; the report's first attacker event is the attacker's first call, not
// the application's (the time to containment is measured from it).
func TestFirstAttackerEventLeavesOutTheOwner(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	const leaked, account = "AKIAEXAMPLELEAKED001", "111122223333"
	rec := func(n int, at time.Time, name, ip, agent string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"eventVersion": "1.09", "eventID": "e" + string(rune('0'+n)), "requestID": "r" + string(rune('0'+n)),
			"eventTime": at.Format(time.RFC3339), "eventName": name, "eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1",
			"sourceIPAddress": ip, "userAgent": agent, "recipientAccountId": account,
			"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::" + account + ":user/ci", "accountId": account, "accessKeyId": leaked, "userName": "ci"}})
		return b
	}
	events := []json.RawMessage{
		rec(1, t0.Add(-2*time.Hour), "GetAccountSummary", "198.51.100.10", "reporting/1.0"),
		rec(2, t0.Add(-50*time.Minute), "GetCallerIdentity", "203.0.113.66", "Boto3/1.9.201"),
		rec(3, t0.Add(-49*time.Minute), "CreateUser", "203.0.113.66", "Boto3/1.9.201"),
		rec(4, t0.Add(-10*time.Minute), "GetAccountSummary", "198.51.100.10", "reporting/1.0"),
	}
	id := "wr-20261123-0100-f1rst0"
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	writeJournal(t, path, id, []line{
		{t0, state.KindIncidentOpened, state.IncidentOpened{ID: id, OpenedAt: t0}},
		{t0.Add(time.Minute), state.KindEvents, state.Events{Source: "sim", Records: events}},
		{t0.Add(2 * time.Minute), state.KindSuspect, state.Suspect{AccessKeyID: leaked, Reason: "test"}},
	})
	st, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %v", err, rep.Problem)
	}
	r := Build(st, rep, Options{})
	f := r.Summary.FirstAttackerEvent
	if f == nil || f.Name != "GetCallerIdentity" || f.SourceIP != "203.0.113.66" {
		t.Fatalf("first attacker event %+v, want the attacker's GetCallerIdentity from 203.0.113.66, not the owner's application", f)
	}
}
