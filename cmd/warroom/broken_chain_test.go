package main

import (
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
