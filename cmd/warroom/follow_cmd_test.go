package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

// helperEnv names the role a re-executed test binary plays.
const helperEnv = "WARROOM_FOLLOW_HELPER"

// helper starts this test binary again as another process playing role
// (see TestFollowHelper) on the journal at path.
func helper(t *testing.T, role, path string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	c := exec.Command(os.Args[0], "-test.run=^TestFollowHelper$")
	c.Env = append(os.Environ(), helperEnv+"="+role, "WARROOM_FOLLOW_JOURNAL="+path, "WARROOM_FOLLOW_ARGS="+strings.Join(args, ","))
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	return c, &out
}

// summary is what a driver process saw through follow.
type summary struct {
	Notes    []string          `json:"notes"`
	Suspects []string          `json:"suspects"`
	Actions  map[string]string `json:"actions"` // action id → outcome and request ids
	Seq      int64             `json:"seq"`
}

func summarize(s *state.Store) summary {
	out := summary{Actions: map[string]string{}, Seq: s.Seq}
	for _, n := range s.Notes {
		out.Notes = append(out.Notes, n.V.Text)
	}
	for id := range s.Suspects {
		out.Suspects = append(out.Suspects, id)
	}
	slices.Sort(out.Suspects)
	for _, a := range s.Actions {
		v := string(a.Outcome())
		if a.Result != nil {
			for _, c := range a.Result.Calls {
				v += " " + c.RequestID
			}
		}
		out.Actions[a.Intent.ActionID] = v
	}
	return out
}

// followUntil applies the feed to s until done(s) holds, failing the test
// if the feed closes first or a minute passes (a hang, not a speed check).
func followUntil(ctx context.Context, s *state.Store, feed tui.Feed, done func(*state.Store) bool) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for !done(s) {
		select {
		case batch, ok := <-feed:
			if !ok {
				return fmt.Errorf("the feed closed at seq %d", s.Seq)
			}
			for _, e := range batch {
				if err := s.Apply(e); err != nil {
					return err
				}
			}
		case <-ctx.Done():
			return fmt.Errorf("gave up at seq %d: %w", s.Seq, ctx.Err())
		}
	}
	return nil
}

// TestFollowHelper is not a test: it is the other process of the follow
// tests, run by helper, and does nothing unless WARROOM_FOLLOW_HELPER says
// which role to play.
//
//   - writer: append N notes (WARROOM_FOLLOW_ARGS=N) and exit;
//   - driver: as driver NAME of two (WARROOM_FOLLOW_ARGS=NAME,OTHER), follow
//     the journal from the start while journaling a note, a suspect mark
//     and an action (intent and result), until the other driver's action
//     result arrives; then print what it saw.
func TestFollowHelper(t *testing.T) {
	role := os.Getenv(helperEnv)
	if role == "" {
		t.Skip("run by the follow tests in another process")
	}
	path := os.Getenv("WARROOM_FOLLOW_JOURNAL")
	args := strings.Split(os.Getenv("WARROOM_FOLLOW_ARGS"), ",")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	switch role {
	case "writer":
		n, _ := strconv.Atoi(args[0])
		for i := range n {
			if _, err := rec.Record(state.KindNote, state.Note{Text: fmt.Sprintf("writer note %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	case "driver":
		name, other := args[0], args[1]
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		feed, _ := incident.FollowFeed(ctx, path, 0)
		s := state.NewStore()
		facts := []struct {
			kind    state.Kind
			payload any
		}{
			{state.KindNote, state.Note{Text: "note from " + name}},
			{state.KindSuspect, state.Suspect{AccessKeyID: "AKIA" + strings.ToUpper(name), Reason: "marked by " + name}},
			{state.KindActionIntent, state.ActionIntent{ActionID: "act-" + name, Action: "deactivate-key", Target: "AKIA" + strings.ToUpper(name)}},
			{state.KindActionResult, state.ActionResult{ActionID: "act-" + name, OK: true, Calls: []state.CallResult{{API: "iam:UpdateAccessKey", RequestID: "req-" + name}}}},
		}
		for _, f := range facts {
			if _, err := rec.Record(f.kind, f.payload); err != nil {
				t.Fatal(err)
			}
			// Apply what has arrived so far, as a console would between keys.
			if err := followUntil(ctx, s, feed, func(s *state.Store) bool { return len(feed) == 0 }); err != nil {
				t.Fatal(err)
			}
		}
		err := followUntil(ctx, s, feed, func(s *state.Store) bool {
			a, b := s.Action("act-"+name), s.Action("act-"+other)
			return a != nil && a.Result != nil && b != nil && b.Result != nil
		})
		if err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(summarize(s))
		fmt.Printf("SUMMARY %s\n", out)
	default:
		t.Fatalf("unknown role %q", role)
	}
}

// TestFollowWriterInAnotherProcess follows a journal while another process
// appends to it: every fact it writes arrives, and the followed store ends
// equal to a replay of the file.
func TestFollowWriterInAnotherProcess(t *testing.T) {
	path := smallJournal(t, t.TempDir())
	s, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		t.Fatal(err, rep.Problem)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	feed, done := incident.FollowFeed(ctx, path, rep.Bytes)
	const n = 25
	c, out := helper(t, "writer", path, strconv.Itoa(n))
	err = followUntil(ctx, s, feed, func(s *state.Store) bool { return len(s.Notes) == 1+n })
	if werr := c.Wait(); werr != nil {
		t.Fatalf("writer: %v\n%s", werr, out)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, note := range s.Notes[1:] {
		if note.V.Text != fmt.Sprintf("writer note %d", i) || note.By.PID != c.Process.Pid {
			t.Errorf("note %d: %q by pid %d, want the writer's (pid %d)", i, note.V.Text, note.By.PID, c.Process.Pid)
		}
	}
	again, rep2, err := state.Replay(path)
	if err != nil || !rep2.OK() {
		t.Fatal(err, rep2.Problem)
	}
	if s.Seq != again.Seq || s.Head != again.Head || len(s.Timeline) != len(again.Timeline) {
		t.Errorf("followed store at %d %s, replay at %d %s", s.Seq, s.Head, again.Seq, again.Head)
	}
	cancel()
	for range feed {
	}
	if err := done(); err != nil {
		t.Errorf("follow ended with %v, want nil after cancel", err)
	}
}

// TestTwoDrivers runs two driver processes on one journal: each journals
// its own note, suspect mark and action while following the journal, and
// each must see every fact of the other.
func TestTwoDrivers(t *testing.T) {
	path := smallJournal(t, t.TempDir())
	a, aout := helper(t, "driver", path, "red", "blue")
	b, bout := helper(t, "driver", path, "blue", "red")
	got := map[string]summary{}
	for name, p := range map[string]struct {
		c   *exec.Cmd
		out *bytes.Buffer
	}{"red": {a, aout}, "blue": {b, bout}} {
		if err := p.c.Wait(); err != nil {
			t.Fatalf("driver %s: %v\n%s", name, err, p.out)
		}
		sc := bufio.NewScanner(p.out)
		for sc.Scan() {
			if js, ok := strings.CutPrefix(sc.Text(), "SUMMARY "); ok {
				var s summary
				if err := json.Unmarshal([]byte(js), &s); err != nil {
					t.Fatal(err)
				}
				got[name] = s
			}
		}
	}
	for _, name := range []string{"red", "blue"} {
		s, ok := got[name]
		if !ok {
			t.Fatalf("driver %s printed no summary", name)
		}
		for _, n := range []string{"note from red", "note from blue"} {
			if !slices.Contains(s.Notes, n) {
				t.Errorf("driver %s did not see %q: %v", name, n, s.Notes)
			}
		}
		for _, k := range []string{"AKIABLUE", "AKIARED"} {
			if !slices.Contains(s.Suspects, k) {
				t.Errorf("driver %s did not see the suspect mark on %s: %v", name, k, s.Suspects)
			}
		}
		for _, d := range []string{"red", "blue"} {
			if want := "done req-" + d; s.Actions["act-"+d] != want {
				t.Errorf("driver %s sees act-%s as %q, want %q", name, d, s.Actions["act-"+d], want)
			}
		}
	}
	final, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		t.Fatalf("the journal two drivers wrote does not verify: %v %v", err, rep.Problem)
	}
	if len(final.Notes) != 3 || len(final.Actions) != 3 {
		t.Errorf("journal holds %d notes and %d actions, want 3 and 3", len(final.Notes), len(final.Actions))
	}
}
