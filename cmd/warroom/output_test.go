package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReportNeverOverwritesAJournal: `report J -o J` and every other way of
// pointing an output at a journal (a hard link, a symlink, another
// journal, --force) is refused and leaves the journal as it was; an
// existing file is replaced only with --force, and a symlink never.
func TestReportNeverOverwritesAJournal(t *testing.T) {
	dir := t.TempDir()
	path := smallJournal(t, dir)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.jsonl")
	if err := os.WriteFile(other, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.md")
	if err := os.Link(path, hard); err != nil {
		t.Fatal(err)
	}
	sym := filepath.Join(dir, "sym.md")
	if err := os.Symlink(path, sym); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.md")
	if err := os.Symlink(filepath.Join(dir, "nowhere.md"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"the journal itself", []string{"-o", path}, "journal"},
		{"the journal itself, forced", []string{"-o", path, "--force"}, "journal"},
		{"a hard link to it, forced", []string{"-o", hard, "--force"}, "journal"},
		{"another journal, forced", []string{"-o", other, "--force"}, "journal"},
		{"a symlink to it, forced", []string{"-o", sym, "--force"}, "symlink"},
		{"a dangling symlink", []string{"-o", dangling}, "symlink"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := warroom(t, append([]string{"report", path}, c.args...)...)
			if code == 0 || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d, stderr %q: want a refusal naming %q", code, errOut, c.want)
			}
			for _, p := range []string{path, other} {
				if b, _ := os.ReadFile(p); !bytes.Equal(b, orig) {
					t.Fatalf("%s changed", p)
				}
			}
			if _, err := os.Lstat(filepath.Join(dir, "nowhere.md")); err == nil {
				t.Fatal("the dangling symlink's target was created")
			}
		})
	}
	existing := filepath.Join(dir, "old-report.md")
	if err := os.WriteFile(existing, []byte("an older report\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := warroom(t, "report", path, "-o", existing); code == 0 || !strings.Contains(errOut, "--force") {
		t.Fatalf("an existing file: exit %d, %q; want a refusal that names --force", code, errOut)
	}
	if b, _ := os.ReadFile(existing); string(b) != "an older report\n" {
		t.Fatal("the existing file changed without --force")
	}
	if code, _, errOut := warroom(t, "report", path, "-o", existing, "--force"); code != 0 {
		t.Fatalf("--force: exit %d, %s", code, errOut)
	}
	if b, _ := os.ReadFile(existing); !strings.Contains(string(b), "# Incident report") {
		t.Fatal("--force did not replace the file")
	}
}
