package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
)

// huntState is the console's one running hunt (:hunt FILTER).
type huntState struct {
	id       int         // the running hunt's request (0: none)
	progress chan string // its stages, read by waitHunt
}

// huntProgressMsg is a stage of hunt id; ok is false once its progress
// channel is closed.
type huntProgressMsg struct {
	id   int
	text string
	ok   bool
}

// startHunt runs a hunt for filter: its stages and its result in the
// flash line; what it finds comes through the journal.
func (m *Model) startHunt(filter string) tea.Cmd {
	if filter == "" {
		m.flash("hunt: give a filter, e.g. :hunt key:AKIA… since:2d", true)
		return nil
	}
	if _, err := state.ParseFilter(filter); err != nil {
		m.flash("hunt: "+err.Error(), true)
		return nil
	}
	if m.hunt.id != 0 {
		m.flash("hunt: one is running; its result comes first", true)
		return nil
	}
	id := m.nextID()
	ch := make(chan string, 8)
	m.hunt = huntState{id: id, progress: ch}
	m.flash("hunt: "+filter+"…", false)
	run, ctx := m.opts.Hunt, m.ctx
	progress := func(s string) {
		select {
		case ch <- s:
		default: // the screen is behind: a later stage says more
		}
	}
	return tea.Batch(func() tea.Msg {
		text, err := run(ctx, filter, progress)
		close(ch)
		return resultMsg{ID: id, Kind: taskHunt, Name: "hunt", Text: text, Err: err}
	}, waitHunt(id, ch))
}

// waitHunt reads one stage of hunt id.
func waitHunt(id int, ch <-chan string) tea.Cmd {
	return func() tea.Msg {
		s, ok := <-ch
		return huntProgressMsg{id: id, text: s, ok: ok}
	}
}

// huntProgress shows a stage and waits for the next.
func (m *Model) huntProgress(p huntProgressMsg) tea.Cmd {
	if !p.ok || p.id != m.hunt.id {
		return nil
	}
	m.flash("hunt: "+p.text, false)
	return waitHunt(p.id, m.hunt.progress)
}

// huntDone shows how the hunt ended.
func (m *Model) huntDone(r resultMsg) {
	if r.ID != m.hunt.id {
		return
	}
	m.hunt = huntState{}
	if r.Err != nil {
		m.flash("hunt failed: "+r.Err.Error(), true)
		return
	}
	m.flash("hunt: "+r.Text, false)
}
