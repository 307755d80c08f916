package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestBrokenChainCommands: a note altered on line 3 breaks the chain at
// line 4. journal verify says where; journal show (state.Replay) and report
// (the replay engine) show the entries the chain vouches for, 1-2, not the
// altered one, and say so; all exit 1. journal show used to print line 3,
// and the report counted it.
func TestBrokenChainCommands(t *testing.T) {
	path := alteredJournal(t)
	code, _, errOut := warroom(t, "journal", "verify", path)
	if code != exitProblem || !strings.Contains(errOut, "NOT intact") || !strings.Contains(errOut, "line 4") || !strings.Contains(errOut, "chain broken") {
		t.Errorf("verify: exit %d, %q", code, errOut)
	}

	code, out, errOut := warroom(t, "journal", "show", path)
	if code != exitProblem || !strings.Contains(errOut, "line 4") || !strings.Contains(errOut, "showing the 2 entries") {
		t.Errorf("show: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out, "paged") || len(strings.Split(strings.TrimSpace(out), "\n")) != 2 {
		t.Errorf("show printed more than lines 1-2:\n%s", out)
	}

	code, out, _ = warroom(t, "report", path, "--format", "json")
	var r struct {
		Journal struct {
			Entries  int    `json:"entries"`
			Verified bool   `json:"verified"`
			Problem  string `json:"problem"`
		} `json:"journal"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("report: exit %d: %v\n%s", code, err, out)
	}
	if code != exitProblem || r.Journal.Verified || r.Journal.Entries != 2 || !strings.Contains(r.Journal.Problem, "line 4") {
		t.Errorf("report: exit %d, journal %+v; want 2 entries and the break at line 4", code, r.Journal)
	}
	if strings.Contains(out, "paged") {
		t.Errorf("the report holds the altered line:\n%s", out)
	}
}

// TestHeadAfterABrokenLink: journal head of a journal whose chain breaks at
// line 4 prints line 2's hash, the last line a later link vouches for, not
// line 3's (which may be the altered one, and which head used to print),
// says where the chain breaks, and exits 1.
func TestHeadAfterABrokenLink(t *testing.T) {
	path := alteredJournal(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	hash := func(n int) string { h := sha256.Sum256([]byte(lines[n-1])); return hex.EncodeToString(h[:]) }
	code, out, errOut := warroom(t, "journal", "head", path)
	if code != exitProblem {
		t.Errorf("exit %d, want %d", code, exitProblem)
	}
	if got := strings.TrimSpace(out); got != hash(2) {
		t.Errorf("head printed %q, want line 2's %s (line 3's is %s)", got, hash(2), hash(3))
	}
	if !strings.Contains(errOut, "breaks at line 4") || !strings.Contains(errOut, "line 3 is not vouched for") {
		t.Errorf("stderr does not say where the chain breaks: %q", errOut)
	}
	// An intact journal: its last line, exit 0.
	intact := smallJournal(t, t.TempDir())
	b, err = os.ReadFile(intact)
	if err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	code, out, errOut = warroom(t, "journal", "head", intact)
	if code != 0 || strings.TrimSpace(out) != hash(len(lines)) || errOut != "" {
		t.Errorf("intact: exit %d, %q, %q; want the last line's %s", code, out, errOut, hash(len(lines)))
	}
}

// alteredJournal is smallJournal with its note (line 3) altered: the chain
// breaks at line 4.
func alteredJournal(t *testing.T) string {
	t.Helper()
	path := smallJournal(t, t.TempDir())
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "paged the CI owner", "nobody was paged", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
