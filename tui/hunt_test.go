package tui

import (
	"context"
	"errors"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestHuntCommand types ':hunt FILTER' and enter as a responder would: the
// hunt runs in a Cmd, its stages and its result show in the flash line,
// a bad filter is refused before anything runs, and a failure says why.
func TestHuntCommand(t *testing.T) {
	release := make(chan struct{})
	var got []string
	hunt := func(ctx context.Context, filter string, progress func(string)) (string, error) {
		got = append(got, filter)
		if strings.HasPrefix(filter, "family:") {
			return "", errors.New("column 1: family:AKIA1 cannot be hunted in Athena")
		}
		progress("query q-1 running")
		<-release
		return "12 found, 10 new, 2 already held; 1.2 MB scanned ($0.00005); query q-1", nil
	}
	m, _ := newTestModel(t, Options{Hunt: hunt}, 120, 40)
	screen := func() string { return ansi.Strip(m.Render()) }

	press(m, key1(':'))
	press(m, runes("hunt key:AKIAEXAMPLE since:2d")...)
	cmd := press(m, keyEnter)
	if len(got) != 0 {
		t.Fatal("the hunt ran on the update loop")
	}
	if !strings.Contains(screen(), "hunt: key:AKIAEXAMPLE since:2d…") {
		t.Errorf("no flash when the hunt starts:\n%s", screen())
	}
	batch, ok := cmd().(tea.BatchMsg)
	if !ok || len(batch) != 2 {
		t.Fatalf("the command gave %T, want the hunt and its progress", cmd())
	}
	done := make(chan tea.Msg)
	go func() { done <- batch[0]() }()
	_, next := m.Update(batch[1]())
	if !strings.Contains(screen(), "hunt: query q-1 running") {
		t.Errorf("the stage is not shown:\n%s", screen())
	}
	// A second hunt while one runs is refused, and says so.
	press(m, key1(':'))
	press(m, runes("hunt user:alice")...)
	if c := press(m, keyEnter); c != nil {
		exec(m, c)
	}
	if !strings.Contains(screen(), "one is running") {
		t.Errorf("a second hunt was not refused:\n%s", screen())
	}
	close(release)
	m.Update(<-done)
	if !strings.Contains(screen(), "hunt: 12 found, 10 new, 2 already held") {
		t.Errorf("the result is not shown:\n%s", screen())
	}
	if next != nil {
		if msg := next(); msg != nil {
			m.Update(msg) // the closed channel: nothing more
		}
	}
	if !strings.Contains(screen(), "12 found") {
		t.Errorf("a late stage replaced the result:\n%s", screen())
	}
	if len(got) != 1 || got[0] != "key:AKIAEXAMPLE since:2d" {
		t.Errorf("hunts run: %q", got)
	}

	// A filter that does not parse never reaches the hunt.
	press(m, key1(':'))
	press(m, runes("hunt nokey:x")...)
	exec(m, press(m, keyEnter))
	if !strings.Contains(screen(), "hunt: column 1: unknown field") || len(got) != 1 {
		t.Errorf("a bad filter:\n%s", screen())
	}
	// A failure is shown as one.
	press(m, key1(':'))
	press(m, runes("hunt family:AKIA1")...)
	exec(m, press(m, keyEnter))
	if !strings.Contains(screen(), "hunt failed: column 1: family:AKIA1 cannot be hunted") {
		t.Errorf("a failed hunt:\n%s", screen())
	}
}

// Without a hunt (no Athena configured, replay) :hunt is not a command.
func TestHuntCommandAbsent(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 120, 40)
	press(m, key1(':'))
	press(m, runes("hunt key:AKIA1")...)
	exec(m, press(m, keyEnter))
	if s := ansi.Strip(m.Render()); !strings.Contains(s, "no such command: hunt") {
		t.Errorf("without a hunt:\n%s", s)
	}
}
