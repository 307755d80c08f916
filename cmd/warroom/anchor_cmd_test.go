package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestJournalAnchorCloudTrail: `journal anchor` makes a LookupEvents call
// the drill account records in CloudTrail with the head in its
// requestParameters; `journal verify --cloudtrail` then holds a journal
// rewritten (hashes recomputed) or cut back after the anchor to it.
func TestJournalAnchorCloudTrail(t *testing.T) {
	s := sim.New(sim.Options{Clock: sim.NewManualClock(time.Now().Truncate(time.Second)), Seed: 7})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	resp := s.Responder()
	t.Setenv("AWS_ACCESS_KEY_ID", resp.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", resp.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))

	dir := t.TempDir()
	path := smallJournal(t, dir)
	code, out, errOut := warroom(t, "journal", "anchor", path, "--endpoint-url", srv.URL)
	if code != 0 || !strings.Contains(out, "anchored line") {
		t.Fatalf("anchor: exit %d %q %q", code, out, errOut)
	}
	// What the account holds: the LookupEvents record with the head.
	rep, _ := journal.Verify(path, journal.VerifyOptions{})
	var anchorFact state.Anchor
	journal.Read(path, func(e journal.Entry) error {
		if e.Kind == string(state.KindAnchor) {
			json.Unmarshal(e.Data, &anchorFact)
		}
		return nil
	})
	if anchorFact.RequestID == "" || anchorFact.Seq != int64(rep.Lines-1) {
		t.Fatalf("anchor fact %+v in a journal of %d lines", anchorFact, rep.Lines)
	}
	var recs []json.RawMessage
	found := false
	for _, r := range s.Records() {
		recs = append(recs, r.JSON)
		if r.EventName == "LookupEvents" && bytes.Contains(r.JSON, []byte(anchorFact.Value)) && bytes.Contains(r.JSON, []byte(anchorFact.RequestID)) {
			found = true
		}
	}
	if !found {
		t.Fatalf("CloudTrail holds no LookupEvents record carrying %s with request %s", anchorFact.Value, anchorFact.RequestID)
	}
	trail := filepath.Join(dir, "trail.json")
	b, _ := json.Marshal(map[string]any{"Records": recs})
	os.WriteFile(trail, b, 0o600)

	code, out, errOut = warroom(t, "journal", "verify", path, "--cloudtrail", trail)
	if code != 0 || !strings.Contains(out, "1 CloudTrail anchor(s) hold") {
		t.Fatalf("verify the anchored journal: exit %d %q %q", code, out, errOut)
	}

	// Rewritten with the chain recomputed: same incident, same length.
	forged := filepath.Join(dir, "forged", "journal.jsonl")
	rec, err := state.OpenRecorder(forged, state.IncidentOpened{ID: rep.IncidentID}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	for range rep.Lines - 1 {
		rec.Record(state.KindNote, state.Note{Text: "all quiet"})
	}
	rec.Close()
	// Cut back to before the anchored line.
	orig, _ := os.ReadFile(path)
	lines := strings.SplitAfter(string(orig), "\n")
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:rep.Lines-3], "")), 0o600)
	for _, p := range []string{forged, cut} {
		if code, _, errOut := warroom(t, "journal", "verify", p); code != 0 {
			t.Fatalf("%s on its own: exit %d %s (it passes: that is the hole)", p, code, errOut)
		}
		code, _, errOut := warroom(t, "journal", "verify", p, "--cloudtrail", trail)
		if code != 1 || !strings.Contains(errOut, "CloudTrail anchor") {
			t.Fatalf("%s: exit %d %q, want 1 naming the CloudTrail anchor", p, code, errOut)
		}
	}
}
