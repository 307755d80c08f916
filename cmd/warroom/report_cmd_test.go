package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportCommand writes reports of a small journal in each format, and
// of a tampered one, which says so and exits 1.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	path := smallJournal(t, dir)
	cases := []struct {
		name, format string
		want         []string
	}{
		{name: "markdown", format: "md", want: []string{"# Incident report wr-20261123-0400-c0ffee", "req-1", "yes: the hash chain is intact"}},
		{name: "html", format: "html", want: []string{"<!DOCTYPE html>", "<td>req-1</td>"}},
		{name: "json", format: "json", want: []string{`"request_id": "req-1"`, `"verified": true`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "report."+c.format)
			code, _, errOut := warroom(t, "report", path, "--format", c.format, "-o", out)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("report lacks %q", w)
				}
			}
			if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
				t.Errorf("report mode %v, want 0600", fi.Mode().Perm())
			}
		})
	}
	if code, _, _ := warroom(t, "report", path, "--format", "csv"); code != exitUsage {
		t.Errorf("an unknown format exits %d, want %d", code, exitUsage)
	}
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "paged the CI owner", "nobody was paged", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := warroom(t, "report", path)
	if code != exitProblem || !strings.Contains(out, "NO: journal: line 4") || strings.Contains(out, "nobody was paged") {
		t.Errorf("tampered journal: exit %d, report:\n%s", code, out)
	}
}
