package tui

import (
	"bytes"
	"context"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/warroom-ir/warroom/state/journal"
)

// stalledContainment never answers until released.
type stalledContainment struct{ release chan struct{} }

func (c stalledContainment) Plan(ctx context.Context, _ string, _ Target) (Plan, error) {
	select {
	case <-c.release:
	case <-ctx.Done():
	}
	return Plan{}, context.Canceled
}

func (c stalledContainment) Run(context.Context, Plan) error {
	<-c.release
	return nil
}

// TestStalledSideDoesNotBlock runs the real program with the feed, the
// journal and the containment engine all stalled, asks each of them for
// something, and checks that the console still answers keys.
func TestStalledSideDoesNotBlock(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	feed := make(chan []journal.Entry) // nothing ever arrives
	m, _ := newTestModel(t, Options{
		Feed:        feed,
		Journal:     &recJournal{block: release},
		Containment: stalledContainment{release: release},
	}, 80, 24)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(80, 24))

	tm.Type("n")
	tm.Type("while the journal is stuck")
	tm.Send(tea.KeyPressMsg{Code: tea.KeyEnter})   // Journal.Record blocks in its Cmd
	tm.Send(tea.KeyPressMsg{Code: 'D', Text: "D"}) // Containment.Plan blocks in its Cmd
	tm.Send(tea.KeyPressMsg{Code: '2', Text: "2"})
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		return bytes.Contains(b, []byte("Principals"))
	}, teatest.WithDuration(20*time.Second), teatest.WithCheckInterval(10*time.Millisecond))

	tm.Send(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	tm.WaitFinished(t, teatest.WithFinalTimeout(20*time.Second))
	final := tm.FinalModel(t).(*Model)
	if final.focus != panePrincipals {
		t.Errorf("focus = %s, want principals", paneNames[final.focus])
	}
}
