package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestFollowFeedStopsWhenReplaced: the feed behind `warroom follow` ends
// with an error naming the replacement when another file is renamed over
// the journal (the command then shows it in a banner and exits 1).
func TestFollowFeedStopsWhenReplaced(t *testing.T) {
	dir := t.TempDir()
	path := smallJournal(t, dir)
	other := smallJournal(t, filepath.Join(dir, "other"))
	rep, _ := journal.Verify(path, journal.VerifyOptions{})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	feed, done := incident.FollowFeed(ctx, path, rep.Bytes)
	time.Sleep(3 * journal.PollInterval)
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	for range feed {
	}
	if ctx.Err() != nil {
		t.Fatal("the feed went on silently after the journal was replaced")
	}
	if err := done(); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("done: %v, want the replacement named", err)
	}
}

// TestVerifyBackdated: a fact back-dated by hours under someone else's
// name, chained correctly, fails `journal verify` with its line.
func TestVerifyBackdated(t *testing.T) {
	dir := t.TempDir()
	path := smallJournal(t, dir)
	rep, _ := journal.Verify(path, journal.VerifyOptions{})
	b, _ := os.ReadFile(path)
	forged := fmt.Sprintf(`{"seq":%d,"at":"2020-01-01T00:00:00Z","by":{"user":"ops-lead","host":"laptop"},"kind":"note","data":{"text":"approved the key rotation in advance"},"prev":"%s"}`+"\n", rep.Seq+1, rep.Head)
	os.WriteFile(path, append(b, forged...), 0o600)
	code, _, errOut := warroom(t, "journal", "verify", path)
	want := fmt.Sprintf("line %d", rep.Lines+1)
	if code != 1 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "back-dated") {
		t.Fatalf("exit %d, stderr %q; want 1 naming %s as back-dated", code, errOut, want)
	}
}

// TestRecorderReturnsItsFactAfterARepair: when the writer repairs the end
// of the file first, Record still returns the fact it recorded.
func TestRecorderReturnsItsFactAfterARepair(t *testing.T) {
	path := smallJournal(t, t.TempDir())
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString("garbage\n")
	f.Close()
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, journal.Actor{User: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	e, err := rec.Record(state.KindNote, state.Note{Text: "after the garbage"})
	if err != nil || e.Kind != string(state.KindNote) {
		t.Fatalf("Record returned %+v, %v; want the note", e, err)
	}
	s, rep, err := state.Replay(path)
	if err != nil || !rep.OK() || len(s.Repairs) != 1 || s.Repairs[0].V.Action != journal.RepairQuarantined {
		t.Fatalf("replay: %+v %v, repairs %+v", rep, err, s.Repairs)
	}
}
