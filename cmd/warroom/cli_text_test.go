package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/themes"
)

// TestErrorsPrintAsProduced: an error is printed exactly as the command
// produced it, after "warroom: ": no re-casing of its first word (a key id
// as typed, a flag name, an AWS action), no box, no escape sequences, to a
// buffer and to a file alike (issue 14).
func TestErrorsPrintAsProduced(t *testing.T) {
	dir := t.TempDir()
	j := filepath.Join(dir, "journal.jsonl")
	if code, _, errOut := warroom(t, "ingest", "-j", j, writeOneRecord(t, dir)); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	tests := []struct {
		name string
		args []string
		want string // the whole of stderr
	}{
		{"a key id as typed", []string{"whois-key", "notakey"},
			"warroom: \"notakey\" is not an access key id (AKIA… or ASIA…, upper-case letters and digits)\n"},
		{"a flag name", []string{"events", "-j", j, "--filter", "colour:red"}, ""},
		{"an unknown flag", []string{"events", "--bogus"},
			"warroom: unknown flag: --bogus\nRun 'warroom events --help' for usage.\n"},
		{"missing arguments", []string{"note", "-j", j},
			"warroom: requires at least 1 arg(s), only received 0\nRun 'warroom note --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// stderr is a file, as under 2>err.log or in CI.
			f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var out bytes.Buffer
			code := run(context.Background(), tt.args, strings.NewReader(""), &out, f)
			got, err := os.ReadFile(f.Name())
			if err != nil {
				t.Fatal(err)
			}
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if tt.want != "" && string(got) != tt.want {
				t.Errorf("stderr\n%q\nwant\n%q", got, tt.want)
			}
			if tt.want == "" && !strings.HasPrefix(string(got), "warroom: --filter: ") {
				t.Errorf("stderr %q, want the error as produced: warroom: --filter: …", got)
			}
			if bytes.ContainsAny(got, "\x1b╭│") || bytes.Contains(got, []byte("ERROR")) {
				t.Errorf("styled error written to a file: %q", got)
			}
		})
	}
	// An AWS action name and a mode keep their case.
	var b bytes.Buffer
	printError(&b, nil, usageErr(os.ErrPermission))
	printError(&b, nil, &exitError{code: exitProblem, err: errorString("iam:GetUser: AccessDenied in a read-only session")})
	if want := "warroom: permission denied\nwarroom: iam:GetUser: AccessDenied in a read-only session\n"; b.String() != want {
		t.Errorf("printed %q, want %q", b.String(), want)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestHelpPrintsAsWritten: --help shows every command's and flag's text as
// written (no "Aws" for "AWS"), one default per flag, no "(0s)" for a zero
// duration, and the root's examples start with the drill (issue 14).
func TestHelpPrintsAsWritten(t *testing.T) {
	t.Setenv("WARROOM_JOURNAL", "/srv/inc/journal.jsonl")
	root := newRootCmd(&env{})
	var all []*cobra.Command
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		all = append(all, c)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	for _, c := range all {
		path := strings.Fields(c.CommandPath())[1:]
		code, out, errOut := warroom(t, append(path, "--help")...)
		if code != 0 {
			t.Fatalf("%s --help: exit %d: %s", c.CommandPath(), code, errOut)
		}
		if c != root && !strings.Contains(out, c.Short) && !strings.Contains(out, c.Long) {
			t.Errorf("%s --help lacks its description as written", c.CommandPath())
		}
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Hidden {
				return
			}
			_, usage := pflag.UnquoteUsage(f)
			first, _, _ := strings.Cut(usage, "\n")
			if !strings.Contains(out, first) {
				t.Errorf("%s --help lacks --%s's text as written: %q", c.CommandPath(), f.Name, first)
			}
		})
		for _, line := range strings.Split(out, "\n") {
			if strings.Count(line, "(default") > 1 {
				t.Errorf("%s --help: two defaults on one line: %q", c.CommandPath(), line)
			}
			if strings.Contains(line, "(0s)") || strings.Contains(line, "Aws") {
				t.Errorf("%s --help: %q", c.CommandPath(), line)
			}
		}
	}
	_, out, _ := warroom(t, "--help")
	ex := out[strings.Index(out, "Examples:"):]
	if !strings.Contains(ex, "\n  warroom drill\n") {
		t.Errorf("the root's examples have no drill:\n%s", ex)
	}
}

// TestThemeFlagAcceptsWhatHelpSays: every --theme flag lists the theme
// registry's names, and the names it lists (mono among them) are accepted
// (issue 14).
func TestThemeFlagAcceptsWhatHelpSays(t *testing.T) {
	root := newRootCmd(&env{})
	n := 0
	for _, c := range append(root.Commands(), root) {
		if f := c.Flags().Lookup("theme"); f != nil {
			n++
			if !strings.Contains(f.Usage, themes.Help()) || !strings.Contains(f.Usage, "mono") {
				t.Errorf("%s --theme: %q does not list %q", c.CommandPath(), f.Usage, themes.Help())
			}
		}
	}
	if n < 5 { // warroom, console, drill, follow, replay
		t.Errorf("%d commands have --theme, want 5", n)
	}
	path := smallJournal(t, t.TempDir())
	for _, name := range []string{"mono", "monochrome", "high-contrast"} {
		code, out, errOut := warroom(t, "replay", path, "--frame", "80x24", "--theme", name)
		if code != 0 || !strings.Contains(out, "REPLAY") {
			t.Errorf("replay --theme %s: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}

// TestWhoisKeyWritesNothing: whois-key without --journal is a read-only
// lookup: it answers and creates no incident folder (issue 14).
func TestWhoisKeyWritesNothing(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	dir := t.TempDir()
	t.Chdir(dir)
	code, out, errOut := warroom(t, "whois-key", d.leaked.AccessKeyID, "--endpoint-url", d.endpoint)
	if code != 0 || !strings.Contains(out, "✓ OURS") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		t.Errorf("whois-key created %s", e.Name())
	}
	if strings.Contains(errOut, "new incident journal") {
		t.Errorf("whois-key said %q", errOut)
	}
}
