package state

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// actionsJournal records three actions by two responders: a1 finished and
// verified, a2 whose process died after its intent and that Resume read
// back (a verification, no result), a3 still in flight.
func actionsJournal(t *testing.T) (path string, alice, bob *Recorder) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "journal.jsonl")
	alice, err := OpenRecorder(path, IncidentOpened{ID: "wr-actions"}, journal.Actor{User: "alice", Host: "jump1", PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { alice.Close() })
	bob, err = OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2", PID: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bob.Close() })
	record := func(r *Recorder, k Kind, v any) {
		t.Helper()
		if _, err := r.Record(k, v); err != nil {
			t.Fatal(err)
		}
	}
	record(alice, KindActionIntent, ActionIntent{ActionID: "a1", Action: "deactivate-key", Target: "AKIA1", Plan: []Call{}})
	record(alice, KindActionResult, ActionResult{ActionID: "a1", OK: true, Calls: []CallResult{}})
	record(alice, KindActionVerify, ActionVerify{ActionID: "a1", Holds: true})
	record(bob, KindActionIntent, ActionIntent{ActionID: "a2", Action: "quarantine", Target: "user/eve", Plan: []Call{}})
	record(alice, KindNote, Note{Text: "bob's console died"})
	record(alice, KindActionVerify, ActionVerify{ActionID: "a2", Holds: true, Detail: "outcome unknown (the process stopped between intent and result); read back: attached"})
	record(bob, KindActionIntent, ActionIntent{ActionID: "a3", Action: "deactivate-key", Target: "AKIA2", Plan: []Call{}})
	return path, alice, bob
}

func actionIDs[T Action | *Action](as []T) []string {
	var out []string
	for _, a := range as {
		switch a := any(a).(type) {
		case Action:
			out = append(out, a.Intent.ActionID)
		case *Action:
			out = append(out, a.Intent.ActionID)
		}
	}
	return out
}

// TestUnfinishedIsOneRule: an action that Resume read back after its
// process died (a verification, no result) is finished for the store (the
// journal pane's count), the verified reader and the busy check's reader
// alike. The store used to count it unfinished for ever.
func TestUnfinishedIsOneRule(t *testing.T) {
	path, _, _ := actionsJournal(t)
	s, rep, err := Replay(path)
	if err != nil || !rep.OK() {
		t.Fatal(err, rep.Problem)
	}
	l, rep, err := ReadActions(path)
	if err != nil || !rep.OK() {
		t.Fatal(err, rep.Problem)
	}
	log := NewActionLog(path)
	un, err := log.Unfinished()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a3"}
	for name, got := range map[string][]string{
		"Store.Unfinished":     actionIDs(s.Unfinished()),
		"ReadActions":          actionIDs(l.Unfinished()),
		"ActionLog.Unfinished": actionIDs(un),
	} {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if o := s.Action("a2").Outcome(); o != OutcomeVerified || s.Action("a2").Unfinished() {
		t.Errorf("a2: outcome %q, unfinished %v", o, s.Action("a2").Unfinished())
	}
}

// TestActionReadersFoldAlike: the store, ReadActions and ActionLog fold
// action facts with one reducer, so they hold the same actions.
func TestActionReadersFoldAlike(t *testing.T) {
	path, _, bob := actionsJournal(t)
	if _, err := bob.Record(KindActionResult, ActionResult{ActionID: "a3", OK: true, Calls: []CallResult{}}); err != nil {
		t.Fatal(err)
	}
	s, _, err := Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := ReadActions(path)
	if err != nil {
		t.Fatal(err)
	}
	log := NewActionLog(path)
	if _, err := log.Unfinished(); err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]*Action{"ReadActions": l.Actions, "ActionLog": log.ledger.Actions} {
		if !reflect.DeepEqual(got, s.Actions) {
			t.Errorf("%s folds differently from the store:\n%+v\nwant\n%+v", name, got, s.Actions)
		}
	}
}

// TestActionLogReadsOnlyWhatIsNew: each call folds the lines appended
// since the last one; a torn last line waits for its end; a file cut back
// below what was read is read again from the start.
func TestActionLogReadsOnlyWhatIsNew(t *testing.T) {
	path, alice, bob := actionsJournal(t)
	log := NewActionLog(path)
	unfinished := func() []string {
		t.Helper()
		un, err := log.Unfinished()
		if err != nil {
			t.Fatal(err)
		}
		return actionIDs(un)
	}
	if got := unfinished(); !reflect.DeepEqual(got, []string{"a3"}) {
		t.Fatalf("unfinished %v, want [a3]", got)
	}
	read := log.off
	if fi, err := os.Stat(path); err != nil || fi.Size() != read {
		t.Fatalf("read to %d of %v (%v)", read, fi.Size(), err)
	}
	if _, err := alice.Record(KindActionIntent, ActionIntent{ActionID: "a4", Action: "quarantine", Target: "user/mallory", Plan: []Call{}}); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(); !reflect.DeepEqual(got, []string{"a3", "a4"}) {
		t.Fatalf("after a new intent: unfinished %v, want [a3 a4]", got)
	}
	if _, err := bob.Record(KindActionResult, ActionResult{ActionID: "a3", OK: true, Calls: []CallResult{}}); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(); !reflect.DeepEqual(got, []string{"a4"}) {
		t.Fatalf("after a3's result: unfinished %v, want [a4]", got)
	}

	// A writer in the middle of a line: the half line is not read, and is
	// read whole once it ends.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line := []byte(`{"seq":99,"at":"2026-11-23T04:00:00Z","by":{"user":"carol","host":"jump3","pid":3},"kind":"action.intent","data":{"action_id":"a5","action":"deactivate-key","target":"AKIA3","plan":[]},"prev":"00"}`)
	end := int64(len(b))
	if _, err := f.Write(line[:40]); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(); !reflect.DeepEqual(got, []string{"a4"}) || log.off != end {
		t.Fatalf("with a torn line: unfinished %v, read to %d; want [a4] and %d", got, log.off, end)
	}
	if _, err := f.Write(append(line[40:], '\n')); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(); !reflect.DeepEqual(got, []string{"a4", "a5"}) {
		t.Fatalf("once the line ends: unfinished %v, want [a4 a5]", got)
	}

	// Cut back below what was read (a repair; here it takes the newline
	// of a3's result): read again from the start.
	if err := os.Truncate(path, end-1); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(); !reflect.DeepEqual(got, []string{"a3", "a4"}) || log.off >= end {
		t.Fatalf("after the file was cut: unfinished %v, read to %d", got, log.off)
	}
}
