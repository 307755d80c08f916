package state

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestSessionEnded: a session.ended fact closes its actor's latest session
// (not another actor's, nor a later session of the same actor), and the
// journal pane's line says who ended and why.
func TestSessionEnded(t *testing.T) {
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	a := journal.Actor{User: "alice", Host: "jump1", PID: 1}
	b := journal.Actor{User: "bob", Host: "jump1", PID: 2}
	s := NewStore()
	for i, e := range []journal.Entry{
		{At: at, By: a, Kind: string(KindIncidentOpened), Data: json.RawMessage(`{"id":"wr-x"}`)},
		{At: at, By: a, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"console","mode":"live","caller_key_id":"AKIA1"}`)},
		{At: at.Add(time.Minute), By: b, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"console","mode":"read-only"}`)},
		{At: at.Add(2 * time.Minute), By: a, Kind: string(KindSessionEnded), Data: json.RawMessage(`{"command":"console","reason":"quit"}`)},
		{At: at.Add(3 * time.Minute), By: a, Kind: string(KindSessionStarted), Data: json.RawMessage(`{"command":"console","mode":"live"}`)},
		{At: at.Add(4 * time.Minute), By: a, Kind: string(KindSessionEnded), Data: json.RawMessage(`{"command":"console","reason":"failed","error":"terminal lost"}`)},
	} {
		e.Seq = int64(i + 1)
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Problems) > 0 {
		t.Fatalf("problems: %+v", s.Problems)
	}
	for i, want := range []struct {
		ended  bool
		seq    int64
		reason string
	}{{true, 4, EndQuit}, {false, 0, ""}, {true, 6, EndFailed}} {
		end, ok := s.SessionEnd(i)
		if ok != want.ended || end.Seq != want.seq || end.V.Reason != want.reason {
			t.Errorf("session %d: end %+v, %v; want seq %d %q", i, end, ok, want.seq, want.reason)
		}
	}
	if _, ok := s.SessionEnd(3); ok {
		t.Error("a session past the list ended")
	}
	if got := s.Timeline[3].Summary; got != "console ended (quit)" {
		t.Errorf("timeline: %q", got)
	}
	if got := s.Timeline[5].Summary; got != "console ended (failed): terminal lost" {
		t.Errorf("timeline: %q", got)
	}
}
