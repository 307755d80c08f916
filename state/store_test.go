package state

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// record builds a parsed CloudTrail record with its raw JSON.
func record(t *testing.T, id, name, key string, at time.Time) ctlog.Record {
	t.Helper()
	raw, err := json.Marshal(map[string]any{
		"eventVersion": "1.08", "eventID": id, "eventTime": at.UTC().Format(time.RFC3339),
		"eventName": name, "eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1",
		"sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.0",
		"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice", "accessKeyId": key, "userName": "alice"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := ctlog.ParseRecord(raw)
	if err != nil {
		t.Fatalf("ParseRecord: %v", err)
	}
	return r
}

func newJournal(t *testing.T) (*Recorder, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inc", "journal.jsonl")
	rec, err := OpenRecorder(path, IncidentOpened{ID: "wr-test", Title: "leaked key"}, journal.Actor{User: "alice", Host: "jump"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec, path
}

// TestReplayMatchesLive builds a store live (applying each fact as it is
// journaled, events already parsed) and by replay, and compares them.
func TestReplayMatchesLive(t *testing.T) {
	rec, path := newJournal(t)
	live := NewStore()
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)

	applyLive := func(e journal.Entry, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if err := live.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	// Line 1 was written by OpenRecorder: replay it into the live store.
	first, err := journal.ReadAt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	applyLive(first, nil)

	recs := []ctlog.Record{
		record(t, "11111111-1111-4111-8111-111111111111", "CreateUser", "AKIAAAAAAAAAAAAAAAAA", at.Add(2*time.Minute)),
		record(t, "22222222-2222-4222-8222-222222222222", "ListUsers", "AKIAAAAAAAAAAAAAAAAA", at),
	}
	e, ev, err := rec.RecordEvents("file:a.json", recs, []Skipped{{File: "a.json", Index: 3, Reason: "not an object"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := live.ApplyEvents(e, ev, recs); err != nil {
		t.Fatal(err)
	}
	// The same events again (an overlapping poll): deduplicated.
	e, ev, err = rec.RecordEvents("lookup:us-east-1", recs[:1], nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.ApplyEvents(e, ev, recs[:1]); err != nil {
		t.Fatal(err)
	}
	applyLive(rec.Record(KindNote, Note{Text: "owner says: not me"}))
	applyLive(rec.Record(KindSuspect, Suspect{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", Reason: "used from 203.0.113.7"}))
	applyLive(rec.Record(KindRegions, Regions{Regions: []Region{{"us-east-1", "opt-in-not-required"}, {"ap-east-1", "not-opted-in"}}}))
	applyLive(rec.Record(KindStreamHealth, StreamHealth{Source: "lookup:eu-west-1", Region: "eu-west-1", Status: "ok", Lag: Duration(40 * time.Second)}))
	applyLive(rec.Record(KindInventory, Inventory{TakenAt: at, Users: []User{{Name: "alice", Keys: []AccessKey{{ID: "AKIAAAAAAAAAAAAAAAAA", Status: "Active"}}}}}))
	applyLive(rec.Record(KindSweep, Sweep{Region: "eu-north-1", Kind: "ec2:instance", Resources: []Resource{{ID: "i-0123456789abcdef0"}}}))
	applyLive(rec.Record(KindActionIntent, ActionIntent{ActionID: "a1", Action: "deactivate-key", Target: "AKIAAAAAAAAAAAAAAAAA", Plan: []Call{{API: "iam:UpdateAccessKey"}}}))
	applyLive(rec.Record(KindActionResult, ActionResult{ActionID: "a1", OK: true, Calls: []CallResult{{API: "iam:UpdateAccessKey", RequestID: "req-1"}}}))
	applyLive(rec.Record(KindActionVerify, ActionVerify{ActionID: "a1", Holds: true, Detail: "key is Inactive"}))
	applyLive(rec.Record(KindActionIntent, ActionIntent{ActionID: "a2", Action: "revoke-sessions", Target: "arn:aws:iam::123456789012:user/alice"}))
	applyLive(rec.Record(KindSuspect, Suspect{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", Clear: true}))
	if err := rec.Sync(); err != nil {
		t.Fatal(err)
	}

	replayed, rep, err := Replay(path)
	if err != nil || rep.Problem != nil {
		t.Fatalf("Replay: %v, %v", err, rep.Problem)
	}
	for _, s := range []*Store{live, replayed} {
		if s.Events.Len() != 2 {
			t.Errorf("events: %d, want 2 (deduplicated)", s.Events.Len())
		}
		res := s.Events.Query(&Filter{})
		if res.Len() != 2 || s.Events.Event(res.At(0)).Name != "ListUsers" {
			t.Errorf("events not in event-time order")
		}
		if len(s.Skipped) != 1 || len(s.Notes) != 1 || len(s.Suspects) != 0 || len(s.Regions) != 2 ||
			s.Inventory == nil || len(s.Sweeps) != 1 || len(s.Actions) != 2 {
			t.Errorf("store misses facts: %+v", s)
		}
		if got := s.Actions[0].Outcome(); got != OutcomeVerified {
			t.Errorf("a1 outcome %q, want verified", got)
		}
		if got := s.Unfinished(); len(got) != 1 || got[0].Intent.ActionID != "a2" {
			t.Errorf("unfinished: %v, want a2 (intent without result)", got)
		}
		if s.Incident.ID != "wr-test" {
			t.Errorf("incident id %q", s.Incident.ID)
		}
	}
	if live.Seq != replayed.Seq || live.Head != replayed.Head || len(live.Timeline) != len(replayed.Timeline) {
		t.Fatalf("live (seq %d, %d items) and replay (seq %d, %d items) differ", live.Seq, len(live.Timeline), replayed.Seq, len(replayed.Timeline))
	}
	for i := range live.Timeline {
		if !reflect.DeepEqual(live.Timeline[i], replayed.Timeline[i]) {
			t.Errorf("timeline item %d: live %+v, replay %+v", i, live.Timeline[i], replayed.Timeline[i])
		}
	}
	for i := 0; i < live.Events.Len(); i++ {
		a, b := live.Events.Event(uint32(i)), replayed.Events.Event(uint32(i))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("event %d: live %+v, replay %+v", i, a, b)
		}
	}

	// Raw JSON comes back by reference, and equals what was journaled.
	raws := NewRawReader(path)
	defer raws.Close()
	for _, id := range replayed.Events.Query(&Filter{}).IDs() {
		ev := replayed.Events.Event(id)
		raw, err := raws.Raw(ev.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), ev.EventID) {
			t.Errorf("raw for %s is another record: %s", ev.EventID, raw)
		}
	}
}

// TestApplyKeepsGoingOnBadFacts: a fact whose payload does not decode, or of
// a kind this version does not know, is shown and does not stop the fold.
func TestApplyKeepsGoingOnBadFacts(t *testing.T) {
	s := NewStore()
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	entries := []journal.Entry{
		{Seq: 1, At: at, Kind: string(KindIncidentOpened), Data: json.RawMessage(`{"id":"wr-x"}`)},
		{Seq: 2, At: at, Kind: string(KindNote), Data: json.RawMessage(`{"text":42}`)},
		{Seq: 3, At: at, Kind: "from.the.future", Data: json.RawMessage(`{}`)},
		{Seq: 4, At: at, Kind: string(KindActionResult), Data: json.RawMessage(`{"action_id":"nope","ok":true}`)},
		{Seq: 5, At: at, Kind: string(KindEvents), Data: json.RawMessage(`{"source":"x","records":[{"eventID":"e1","eventTime":"2026-11-23T04:00:00Z","eventName":"ListUsers","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1"},"not a record"]}`)},
		{Seq: 6, At: at, Kind: string(KindNote), Data: json.RawMessage(`{"text":"still here"}`)},
	}
	for _, e := range entries {
		if err := s.Apply(e); err != nil {
			t.Fatalf("Apply seq %d: %v", e.Seq, err)
		}
	}
	if len(s.Problems) != 3 {
		t.Errorf("problems: %+v, want the bad note, the orphan result and the bad record", s.Problems)
	}
	if len(s.Notes) != 1 || s.Notes[0].V.Text != "still here" || s.Events.Len() != 1 {
		t.Errorf("facts after the bad ones were lost: notes %v, events %d", s.Notes, s.Events.Len())
	}
	if len(s.Timeline) != 6 || !strings.Contains(s.Timeline[2].Summary, "unknown fact kind") {
		t.Errorf("timeline: %+v", s.Timeline)
	}
	// Out of order is a caller's bug, and is said.
	if err := s.Apply(journal.Entry{Seq: 9, Kind: string(KindNote), Data: json.RawMessage(`{"text":"x"}`)}); err == nil {
		t.Error("an entry out of order was applied silently")
	}
}

func TestOpenRecorderAppendsToExisting(t *testing.T) {
	rec, path := newJournal(t)
	if !rec.Created {
		t.Error("first open did not create")
	}
	rec.Close()
	again, err := OpenRecorder(path, IncidentOpened{ID: "ignored"}, LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	if again.Created {
		t.Error("second open created a new journal")
	}
	if _, err := again.Record(KindNote, Note{Text: "second session"}); err != nil {
		t.Fatal(err)
	}
	again.Close()
	s, rep, err := Replay(path)
	if err != nil || rep.Problem != nil {
		t.Fatal(err, rep.Problem)
	}
	if s.Incident.ID != "wr-test" || len(s.Notes) != 1 {
		t.Errorf("incident %q notes %d", s.Incident.ID, len(s.Notes))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func TestDurable(t *testing.T) {
	for _, k := range []Kind{KindActionIntent, KindActionResult, KindActionVerify} {
		if !Durable(k) {
			t.Errorf("%s must be fsynced before the append returns", k)
		}
	}
	if Durable(KindEvents) {
		t.Error("event batches are group-committed")
	}
}
