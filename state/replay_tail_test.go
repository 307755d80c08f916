package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// tailRaw is a CloudTrail record of key, n minutes into the incident.
func tailRaw(n int, key string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":%q,"eventTime":"2026-11-23T04:%02d:00Z","eventSource":"iam.amazonaws.com",`+
		`"eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2",`+
		`"requestParameters":{"userName":"u%d"},"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accessKeyId":%q}}`,
		uuidOf(n), n%60, n, key))
}

// sameFold fails unless a and b hold the same facts: every field, and the
// same events in the same order.
func sameFold(t *testing.T, what string, a, b *Store) {
	t.Helper()
	if a.Events.Len() != b.Events.Len() {
		t.Fatalf("%s: %d events, a full replay %d", what, a.Events.Len(), b.Events.Len())
	}
	for i := range a.Events.Len() {
		ea, eb := a.Events.Event(uint32(i)), b.Events.Event(uint32(i))
		if ea.EventID != eb.EventID || ea.Ref != eb.Ref || !ea.Time.Equal(eb.Time) {
			t.Fatalf("%s: event %d is %s at %v, a full replay's %s at %v", what, i, ea.EventID, ea.Ref, eb.EventID, eb.Ref)
		}
	}
	ca, cb := *a, *b
	ca.Events, cb.Events = nil, nil
	if !reflect.DeepEqual(ca, cb) {
		t.Fatalf("%s: the incremental fold differs from a full replay:\n%+v\n%+v", what, ca, cb)
	}
}

// TestReplayTailIsReplay: folding a journal a piece at a time, as it grows
// (two writers, events and other facts), gives the store a full Replay
// gives at every step; and every line is folded once, not once a call.
func TestReplayTailIsReplay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	alice, err := OpenRecorder(path, IncidentOpened{ID: "wr-tail"}, journal.Actor{User: "alice", Host: "jump1", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	bob, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2", PID: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	rt := NewReplayTail(path)
	defer rt.Close()
	n := 0
	for round := range 6 {
		for i := range round + 1 {
			var raws []json.RawMessage
			for range 3 {
				n++
				raws = append(raws, tailRaw(n, "AKIAALICE0000000001"))
			}
			raws = append(raws, tailRaw(n, "AKIAALICE0000000001")) // a copy of one already there
			if _, _, err := alice.RecordRawEvents("lookup:us-east-1", raws, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := bob.Record(KindNote, Note{Text: fmt.Sprintf("round %d, %d", round, i)}); err != nil {
				t.Fatal(err)
			}
			if _, err := alice.Record(KindSuspect, Suspect{AccessKeyID: "AKIAALICE0000000001", Clear: i%2 == 1}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := rt.CatchUp()
		if err != nil {
			t.Fatal(err)
		}
		want, rep, err := Replay(path)
		if err != nil || rep.Problem != nil {
			t.Fatal(err, rep.Problem)
		}
		sameFold(t, fmt.Sprintf("round %d", round), got, want)
		if rt.Lines() != int64(rep.Lines) {
			t.Fatalf("round %d: %d lines folded in all for a journal of %d: lines were folded again", round, rt.Lines(), rep.Lines)
		}
	}
	// Nothing appended: nothing folded.
	if _, err := rt.CatchUp(); err != nil {
		t.Fatal(err)
	}
	if _, rep, _ := Replay(path); rt.Lines() != int64(rep.Lines) {
		t.Errorf("a call with nothing new folded %d lines of %d", rt.Lines(), rep.Lines)
	}
}

// TestReplayTailStopsAtABreak: a line altered after it was folded breaks
// the chain at the next line appended; the tail says so, names the file,
// and hands out no store from then on.
func TestReplayTailStopsAtABreak(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := OpenRecorder(path, IncidentOpened{ID: "wr-tail"}, LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if _, err := rec.Record(KindNote, Note{Text: "first"}); err != nil {
		t.Fatal(err)
	}
	rt := NewReplayTail(path)
	defer rt.Close()
	if _, err := rt.CatchUp(); err != nil {
		t.Fatal(err)
	}
	// A line spliced in from elsewhere: its prev is no hash in this chain.
	other := filepath.Join(t.TempDir(), "other.jsonl")
	orec, err := OpenRecorder(other, IncidentOpened{ID: "wr-tail"}, LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := orec.Record(KindNote, Note{Text: "other first"}); err != nil {
		t.Fatal(err)
	}
	if _, err := orec.Record(KindNote, Note{Text: "spliced"}); err != nil {
		t.Fatal(err)
	}
	orec.Close()
	b, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(append(lines[len(lines)-1], '\n')); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for i := range 2 {
		if s, err := rt.CatchUp(); err == nil || s != nil {
			t.Fatalf("call %d after a broken link: store %v, error %v", i, s != nil, err)
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("the error does not name the file: %v", err)
		}
	}
}
