package tui

import (
	tea "charm.land/bubbletea/v2"
)

// The mouse (View.MouseMode is cell motion): a click focuses the pane under
// it and selects the row clicked, or presses a dialog's button or a tab of
// the compact layout; the wheel scrolls what is under the pointer (the
// dialog's plan, help, a view, a pane) by wheelStep rows.

// wheelStep is how many rows one notch of the wheel moves.
const wheelStep = 3

// rect is a screen area.
type rect struct{ x, y, w, h int }

func (r rect) has(x, y int) bool { return x >= r.x && x < r.x+r.w && y >= r.y && y < r.y+r.h }

// bodyTop is the screen line the body starts on: below the status line and
// the banner.
func (m *Model) bodyTop() int {
	if m.banner() != "" {
		return 2
	}
	return 1
}

// paneAt returns the pane whose frame is drawn at (x, y) and the frame's
// rectangle, when the panes are on screen.
func (m *Model) paneAt(x, y int) (paneID, rect, bool) {
	if m.help || m.text != nil {
		return 0, rect{}, false
	}
	top := m.bodyTop()
	if m.lay.compact || m.zoom || m.detail != nil {
		if m.lay.compact {
			top++ // the tab bar
		}
		r := rect{0, top, m.lay.single.w, m.lay.single.h}
		return m.focus, r, r.has(x, y)
	}
	st, pr, rg := m.lay.panes[paneStream], m.lay.panes[panePrincipals], m.lay.panes[paneRegions]
	rects := [numPanes]rect{
		paneStream:     {0, top, st.w, st.h},
		panePrincipals: {st.w, top, pr.w, pr.h},
		paneRegions:    {0, top + st.h, rg.w, m.lay.panes[paneRegions].h},
		paneJournal:    {rg.w, top + st.h, m.lay.panes[paneJournal].w, m.lay.panes[paneJournal].h},
	}
	for id, r := range rects {
		if r.has(x, y) {
			return paneID(id), r, true
		}
	}
	return 0, rect{}, false
}

// tabAt returns the compact layout's tab drawn at (x, y).
func (m *Model) tabAt(x, y int) (paneID, bool) {
	if !m.lay.compact || m.help || m.text != nil || y != m.bodyTop() {
		return 0, false
	}
	at := 0
	for i := range numPanes {
		w := width(itoa(int(i)+1)+" "+paneNames[i]) + 2 // "[name]" or " name "
		if x >= at && x < at+w {
			return i, true
		}
		at += w + 1
	}
	return 0, false
}

// cursorOf returns a pane's list cursor and how many header lines its
// content has above the first row.
func cursorOf(p pane) (*listCursor, int) {
	switch p := p.(type) {
	case *streamPane:
		return &p.cur, 1
	case *principalsPane:
		return &p.cur, 1 // the column header
	case *regionsPane:
		if p.open != "" {
			return &p.resCur, 1
		}
		return &p.cur, 1
	case *journalPane:
		return &p.cur, 0
	}
	return nil, 0
}

// click handles a mouse click.
func (m *Model) click(msg tea.MouseClickMsg) tea.Cmd {
	if msg.Button != tea.MouseLeft {
		return nil
	}
	x, y := msg.X, msg.Y
	if d := m.dialog; d != nil {
		b := d.buttonAt(x, y)
		switch {
		case b < 0:
			return nil // a click beside the buttons, or off the box, does nothing
		case !d.armed(m.opts.Now()):
			m.flash("the dialog ignores clicks for a moment after it opens: read it first", true)
			return nil
		}
		m.message = ""
		d.button = b
		return m.pressButton(b)
	}
	if m.inputKind != inputNone {
		return nil // the text input keeps the keyboard; esc closes it
	}
	m.message = ""
	if id, ok := m.tabAt(x, y); ok {
		m.setFocus(id)
		return nil
	}
	id, r, ok := m.paneAt(x, y)
	if !ok {
		return nil
	}
	if m.detail != nil {
		return nil // the detail view has no rows to pick
	}
	if id != m.focus {
		m.setFocus(id)
	}
	p := m.panes[id]
	cur, header := cursorOf(p)
	line := y - r.y - 1 - header // inside the border, below the header
	if cur == nil || line < 0 || x <= r.x || x >= r.x+r.w-1 {
		return nil
	}
	row := cur.top + line
	if row >= cur.n || line >= cur.rows {
		return nil
	}
	for d := row - cur.sel; d != 0; {
		if d > 0 {
			p.Navigate(navDown)
			d--
		} else {
			p.Navigate(navUp)
			d++
		}
	}
	return nil
}

// wheel scrolls what is under the pointer.
func (m *Model) wheel(msg tea.MouseWheelMsg) {
	n := navDown
	switch msg.Button {
	case tea.MouseWheelUp:
		n = navUp
	case tea.MouseWheelDown:
	default:
		return
	}
	var to func(nav)
	switch {
	case m.dialog != nil:
		to = m.dialog.navigate
	case m.help:
		to = m.helpNavigate
	case m.text != nil:
		to = m.text.Navigate
	case m.detail != nil:
		to = m.detail.Navigate
	default:
		id, _, ok := m.paneAt(msg.X, msg.Y)
		if !ok {
			return
		}
		if id != m.focus {
			m.setFocus(id)
		}
		to = m.panes[id].Navigate
	}
	for range wheelStep {
		to(n)
	}
}
