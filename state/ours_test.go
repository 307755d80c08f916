package state

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestStoreOursFromSessions folds a journal: a console session runs on
// AKIARESP from 04:00 to its last fact at 04:30; an attacker who set the
// SDK app id to warroom must not hide behind -ours (the console's default
// view), and must be flagged; our own key outside the window is not ours.
func TestStoreOursFromSessions(t *testing.T) {
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	console := journal.Actor{User: "alice", Host: "jump1", PID: 100}
	ingest := journal.Actor{User: "alice", Host: "jump1", PID: 200}
	const resp = "arn:aws:iam::111122223333:user/responder"
	record := func(id, key, arn, agent string, m int) string {
		return fmt.Sprintf(`{"eventID":"%s","eventTime":"%s","eventName":"ListUsers","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1","userAgent":%q,"userIdentity":{"type":"IAMUser","arn":%q,"accessKeyId":%q}}`,
			id, at.Add(time.Duration(m)*time.Minute).Format(time.RFC3339), agent, arn, key)
	}
	events := func(recs ...string) json.RawMessage {
		raw := make([]json.RawMessage, len(recs))
		for i, r := range recs {
			raw[i] = json.RawMessage(r)
		}
		b, _ := json.Marshal(map[string]any{"source": "test", "records": raw})
		return b
	}
	const ua = "aws-sdk-go-v2/1.30 os/linux app/warroom-1.0"
	entries := []journal.Entry{
		{At: at, By: console, Kind: string(KindIncidentOpened), Data: json.RawMessage(`{"id":"wr-x"}`)},
		{At: at, By: console, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"console","mode":"live","caller_arn":"` + resp + `","caller_key_id":"AKIARESP"}`)},
		{At: at.Add(3 * time.Minute), By: console, Kind: string(KindEvents), Data: events(
			record("ours-1", "AKIARESP", resp, ua, 1),
			record("attacker", "AKIALEAKED", "arn:aws:iam::111122223333:user/ci", "Boto3/1.34 md/Botocore app/warroom", 1),
			record("before", "AKIARESP", resp, ua, -60),
		)},
		{At: at.Add(30 * time.Minute), By: console, Kind: string(KindNote), Data: json.RawMessage(`{"text":"x"}`)},
		{At: at.Add(40 * time.Minute), By: ingest, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"ingest","mode":"offline"}`)},
		{At: at.Add(41 * time.Minute), By: ingest, Kind: string(KindEvents), Data: events(
			record("ours-2", "AKIARESP", resp, ua, 20),
			record("after", "AKIARESP", resp, ua, 50),
		)},
		// The console's next session, on a new key, ends the first window.
		{At: at.Add(60 * time.Minute), By: console, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"console","mode":"live","caller_arn":"` + resp + `","caller_key_id":"ASIANEW"}`)},
		{At: at.Add(90 * time.Minute), By: console, Kind: string(KindNote), Data: json.RawMessage(`{"text":"y"}`)},
		{At: at.Add(95 * time.Minute), By: ingest, Kind: string(KindEvents), Data: events(
			record("old-key-late", "AKIARESP", resp, ua, 80),
			record("ours-3", "ASIANEW", resp, ua, 85),
		)},
	}
	s := NewStore()
	for i, e := range entries {
		e.Seq = int64(i + 1)
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(expr string) []string {
		f, err := ParseFilter(expr)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, id := range s.Events.QueryAt(f, at).IDs() {
			out = append(out, s.Events.Event(id).EventID)
		}
		slices.Sort(out)
		return out
	}
	for expr, want := range map[string][]string{
		"ours":          {"ours-1", "ours-2", "ours-3"},
		"-ours":         {"after", "attacker", "before", "old-key-late"},
		"impersonation": {"after", "attacker", "before", "old-key-late"},
	} {
		if got := ids(expr); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", expr, got, want)
		}
	}
}

// TestOurCredentialsWindows: a session's window runs from its start to its
// actor's last fact, and a new session of the actor ends it; a session.key
// fact (refreshed credentials) adds a key to the actor's session.
func TestOurCredentialsWindows(t *testing.T) {
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	a := journal.Actor{User: "alice", PID: 1}
	s := NewStore()
	for i, e := range []journal.Entry{
		{At: at, By: a, Kind: string(KindIncidentOpened), Data: json.RawMessage(`{"id":"wr-x"}`)},
		{At: at, By: a, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"console","mode":"live","caller_key_id":"AKIA1"}`)},
		{At: at.Add(30 * time.Minute), By: a, Kind: string(KindNote), Data: json.RawMessage(`{"text":"x"}`)},
		{At: at.Add(31 * time.Minute), By: journal.Actor{PID: 2}, Kind: string(KindNote), Data: json.RawMessage(`{"text":"x"}`)},
		{At: at.Add(60 * time.Minute), By: a, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"console","mode":"live","caller_key_id":"ASIA2"}`)},
		{At: at.Add(90 * time.Minute), By: a, Kind: string(KindNote), Data: json.RawMessage(`{"text":"y"}`)},
		{At: at.Add(95 * time.Minute), By: a, Kind: string(KindSessionKey), Data: json.RawMessage(`{"key_id":"ASIA3"}`)},
		{At: at.Add(120 * time.Minute), By: a, Kind: string(KindNote), Data: json.RawMessage(`{"text":"z"}`)},
	} {
		e.Seq = int64(i + 1)
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	c := s.Events.OurCredentials()
	if len(c) != 3 || c[0].AccessKeyID != "AKIA1" || !c[0].From.Equal(at) || !c[0].To.Equal(at.Add(30*time.Minute)) ||
		c[1].AccessKeyID != "ASIA2" || !c[1].To.Equal(at.Add(120*time.Minute)) ||
		c[2].AccessKeyID != "ASIA3" || !c[2].From.Equal(at.Add(95*time.Minute)) || !c[2].To.Equal(at.Add(120*time.Minute)) {
		t.Errorf("credentials = %+v", c)
	}
}
