package main

import (
	"context"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// smallJournal records a small incident through a Recorder and returns its
// path.
func smallJournal(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "journal.jsonl")
	opened := state.IncidentOpened{ID: "wr-20261123-0400-c0ffee", Title: "replay test", OpenedAt: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)}
	rec, err := state.OpenRecorder(path, opened, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	facts := []struct {
		kind    state.Kind
		payload any
	}{
		{state.KindSessionStarted, state.SessionStarted{Command: "console", Mode: state.ModeLive, AccountID: "123456789012", Alias: "acme-prod"}},
		{state.KindNote, state.Note{Text: "paged the CI owner"}},
		{state.KindSuspect, state.Suspect{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Reason: "public paste"}},
		{state.KindActionIntent, state.ActionIntent{ActionID: "act-1", Action: "deactivate-key", Target: "AKIAIOSFODNN7EXAMPLE"}},
		{state.KindActionResult, state.ActionResult{ActionID: "act-1", OK: true, Calls: []state.CallResult{{API: "iam:UpdateAccessKey", RequestID: "req-1"}}}},
	}
	for _, f := range facts {
		if _, err := rec.Record(f.kind, f.payload); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestReplayOffline runs warroom replay with an AWS environment that makes
// loading the AWS configuration fail and points every endpoint at a
// listener that counts connections: the replay must work and touch none.
func TestReplayOffline(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var hits atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			hits.Add(1)
			c.Close()
		}
	}()
	dir := t.TempDir()
	url := "http://" + ln.Addr().String()
	t.Setenv("AWS_PROFILE", "warroom-test-no-such-profile")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "aws-credentials"))
	t.Setenv("AWS_ENDPOINT_URL", url)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)
	t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url)
	// The environment is hostile: loading the AWS configuration fails.
	if _, err := session.Load(context.Background(), session.Options{}); err == nil {
		t.Fatal("session.Load succeeded in the test's AWS environment; the test would prove nothing")
	}
	path := smallJournal(t, dir)

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{name: "end", args: []string{"--at", "end"}, want: []string{"REPLAY", "fact 6 of 6", "acct 123456789012 (acme-prod)", "paged the CI owner"}},
		{name: "fact 3", args: []string{"--at", "3"}, want: []string{"fact 3 of 6", "paged the CI owner"}},
		{name: "start", args: nil, want: []string{"fact 1 of 6", "as of 20"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := warroom(t, append([]string{"replay", path, "--frame", "160x50"}, c.args...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("frame lacks %q:\n%s", w, out)
				}
			}
			if n := strings.Count(out, "\n"); n != 50 {
				t.Errorf("frame has %d lines, want 50", n)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("replay connected to the AWS endpoints %d times", n)
	}
}

// TestOfflineCommandsImportNoAWS checks that replay, follow and report
// cannot reach AWS: their files import nothing from aws/ or the SDK, and
// use neither the AWS flags nor a session.
func TestOfflineCommandsImportNoAWS(t *testing.T) {
	for _, name := range []string{"replay_cmd.go", "follow_cmd.go", "report_cmd.go"} {
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			if strings.Contains(p, "/aws/") || strings.HasPrefix(p, "github.com/aws/") {
				t.Errorf("%s imports %s", name, p)
			}
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"awsFlags", "session."} {
			if strings.Contains(string(src), bad) {
				t.Errorf("%s uses %s", name, bad)
			}
		}
	}
}

// TestReplayTamperedCommand replays a journal with an altered line: the
// screen shows the facts before the break under a banner, stderr says
// where, and the exit code is 1.
func TestReplayTamperedCommand(t *testing.T) {
	path := alteredJournal(t)
	code, out, errOut := warroom(t, "replay", path, "--at", "end", "--frame", "160x40")
	if code != exitProblem {
		t.Errorf("exit %d, want %d", code, exitProblem)
	}
	for _, w := range []string{"NOT intact", "line 4", "chain broken"} {
		if !strings.Contains(errOut, w) || !strings.Contains(out, w) {
			t.Errorf("stderr or banner lacks %q:\nstderr: %s\n%s", w, errOut, out)
		}
	}
	if strings.Contains(out, "nobody was paged") || !strings.Contains(out, "fact 2 of 2") {
		t.Errorf("the altered line or what follows it was replayed:\n%s", out)
	}
}
