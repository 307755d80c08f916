package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

// TestSessionEndReason: why a console ended, as journaled.
func TestSessionEndReason(t *testing.T) {
	live := context.Background()
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name   string
		parent context.Context
		err    error
		want   state.SessionEnded
	}{
		{"quit", live, nil, state.SessionEnded{Command: "console", Reason: state.EndQuit}},
		{"signal", stopped, context.Canceled, state.SessionEnded{Command: "console", Reason: state.EndInterrupted}},
		{"failed", live, errors.New("terminal lost"), state.SessionEnded{Command: "console", Reason: state.EndFailed, Error: "terminal lost"}},
	}
	for _, c := range cases {
		if got := sessionEnd("console", c.parent, c.err); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestConsoleJournalsItsEnd is defect 11 of issue 14: a console that quit
// journaled nothing, so a follower could not tell that the driver had
// left. The drill's console, quit from the keyboard or stopped by a signal
// (its context), journals session.ended with why, after its own last fact.
func TestConsoleJournalsItsEnd(t *testing.T) {
	for _, how := range []string{state.EndQuit, state.EndInterrupted} {
		t.Run(how, func(t *testing.T) {
			// A stalled account: the console answers and quits at once.
			r := startDrillRun(t, func(a *drillArgs) { a.latency = 10 * time.Minute })
			r.waitFor("the session in the journal", func() bool { return len(r.store().Sessions) == 1 })
			if _, ok := r.store().SessionEnd(0); ok {
				t.Fatal("the session ended while the console runs")
			}
			if how == state.EndQuit {
				if err := r.quit(); err != nil {
					t.Fatal(err)
				}
			} else {
				r.cancel()
				<-r.done
				r.stopped = true
			}
			s := r.store()
			end, ok := s.SessionEnd(0)
			if !ok || end.V.Command != "drill" || end.V.Reason != how {
				t.Fatalf("session end %+v, %v; want drill, %s", end.V, ok, how)
			}
			if end.By != s.Sessions[0].By {
				t.Errorf("ended by %+v, started by %+v", end.By, s.Sessions[0].By)
			}
		})
	}
}

// TestFollowOpensOnOurs is the rest of defect 11: follow and replay open
// on the filter the console opens on, so that warroom's own calls do not
// bury the attacker's there either.
func TestFollowOpensOnOurs(t *testing.T) {
	path := smallJournal(t, t.TempDir())
	s, _, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	out := tui.Frame(followOptions(s, path, nil, func() error { return nil }, "mono"), 160, 50)
	if !strings.Contains(out, "/-ours") || !strings.Contains(out, "FOLLOW") {
		t.Errorf("follow's first frame is not filtered on -ours:\n%s", out)
	}
	code, out, errOut := warroom(t, "replay", filepath.Clean(path), "--frame", "160x50")
	if code != 0 {
		t.Fatalf("replay: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "/-ours") {
		t.Errorf("replay's first frame is not filtered on -ours:\n%s", out)
	}
}
