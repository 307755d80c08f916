package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestJournalSignVerify: keygen, sign and verify. A journal rewritten
// with a recomputed chain, or cut back, verifies intact on its own; with
// the signed heads beside it, verify exits 1 and says which line.
func TestJournalSignVerify(t *testing.T) {
	dir := t.TempDir()
	path := smallJournal(t, dir)
	key := filepath.Join(dir, "responder.key")
	if code, out, errOut := warroom(t, "journal", "keygen", key); code != 0 || !strings.Contains(out, "ed25519:") {
		t.Fatalf("keygen: exit %d %q %q", code, out, errOut)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	if code, _, errOut := warroom(t, "journal", "keygen", key); code == 0 || !strings.Contains(errOut, "exists") {
		t.Fatalf("keygen over an existing key: exit %d %q", code, errOut)
	}
	if code, _, errOut := warroom(t, "journal", "keygen", path, "--force"); code == 0 || !strings.Contains(errOut, "journal") {
		t.Fatalf("keygen over the journal: exit %d %q", code, errOut)
	}
	if code, out, errOut := warroom(t, "journal", "sign", path, "--key", key); code != 0 || !strings.Contains(out, `"sig"`) {
		t.Fatalf("sign: exit %d %q %q", code, out, errOut)
	}
	code, out, errOut := warroom(t, "journal", "verify", path, "--key", key+".pub")
	if code != 0 || !strings.Contains(out, "1 signed head") {
		t.Fatalf("verify the signed journal: exit %d %q %q", code, out, errOut)
	}
	orig, _ := os.ReadFile(path)
	heads, _ := os.ReadFile(path + journal.HeadsSuffix)

	// A rewrite with a recomputed chain, the heads file carried along.
	rep, _ := journal.Verify(path, journal.VerifyOptions{})
	forged := filepath.Join(dir, "forged", "journal.jsonl")
	rec, err := state.OpenRecorder(forged, state.IncidentOpened{ID: rep.IncidentID, Title: "replay test"}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	for range rep.Lines - 1 {
		rec.Record(state.KindNote, state.Note{Text: "all quiet"})
	}
	rec.Close()
	os.WriteFile(forged+journal.HeadsSuffix, heads, 0o600)
	// Cut back by its last line, heads carried along.
	lines := strings.SplitAfter(string(orig), "\n")
	cut := filepath.Join(dir, "cut.jsonl")
	os.WriteFile(cut, []byte(strings.Join(lines[:len(lines)-2], "")), 0o600)
	os.WriteFile(cut+journal.HeadsSuffix, heads, 0o600)
	for _, p := range []string{forged, cut} {
		if code, _, errOut := warroom(t, "journal", "verify", p, "--no-heads"); code != 0 {
			t.Fatalf("%s without heads: exit %d %s (it should pass: that is the hole)", p, code, errOut)
		}
		code, _, errOut := warroom(t, "journal", "verify", p, "--key", key+".pub")
		if code != 1 || !strings.Contains(errOut, "signed head") {
			t.Fatalf("%s: exit %d %q; want 1 naming the signed head", p, code, errOut)
		}
	}
	// Heads signed by someone else's key do not count with --key.
	other := filepath.Join(dir, "mallory.key")
	warroom(t, "journal", "keygen", other)
	mal := filepath.Join(dir, "mal.jsonl")
	os.WriteFile(mal, orig, 0o600)
	warroom(t, "journal", "sign", mal, "--key", other)
	if code, _, errOut := warroom(t, "journal", "verify", mal, "--key", key+".pub"); code != 1 || !strings.Contains(errOut, "not one of --key") {
		t.Fatalf("a head signed by another key: exit %d %q", code, errOut)
	}
	// An altered record.
	os.WriteFile(mal+journal.HeadsSuffix, []byte(strings.Replace(string(heads), `"seq":6`, `"seq":5`, 1)), 0o600)
	if code, _, errOut := warroom(t, "journal", "verify", mal); code != 1 || !strings.Contains(errOut, "signature") {
		t.Fatalf("an altered record: exit %d %q", code, errOut)
	}
}
