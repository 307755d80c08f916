package tui

// The keys every list pane shares (sort, wide, pane filter, copy another
// field), kept apart from model.go's routing, which only dispatches here.

// sorter is a pane that sorts by its columns.
type sorter interface{ Sort(reverse bool) }

// textFiltered is a pane with a free-text filter.
type textFiltered interface {
	FilterText() string
	SetTextFilter(text string)
}

// wider is a pane with columns that only wide mode shows.
type wider interface{ SetWide(wide bool) }

// sortFocused cycles (or reverses) the focused pane's sort.
func (m *Model) sortFocused(reverse bool) {
	p, ok := m.panes[m.focus].(sorter)
	if !ok {
		m.flash(paneNames[m.focus]+" has no columns to sort", true)
		return
	}
	p.Sort(reverse)
	m.refresh()
}

// toggleWide shows every column of every list, or those that fit.
func (m *Model) toggleWide() {
	m.wide = !m.wide
	for _, p := range m.panes {
		if w, ok := p.(wider); ok {
			w.SetWide(m.wide)
		}
	}
	m.applySizes()
	if m.wide {
		m.flash("wide: every column (ctrl+w again: those that fit)", false)
	} else {
		m.flash("columns that fit (ctrl+w: every column)", false)
	}
}

// openPaneFilter opens the focused pane's free-text filter.
func (m *Model) openPaneFilter() {
	p, ok := m.panes[m.focus].(textFiltered)
	if !ok {
		return
	}
	value := p.FilterText()
	if value != "" {
		value += " "
	}
	m.openInput(inputPaneFilter, "/", value)
	m.inputHint = "text in any column, column:text, -text excludes"
}

// setPaneFilter applies a free-text filter to the focused pane.
func (m *Model) setPaneFilter(text string) {
	if p, ok := m.panes[m.focus].(textFiltered); ok {
		p.SetTextFilter(text)
		m.refresh()
	}
}

// clearPaneFilter clears the focused pane's free-text filter; false when
// it has none (x then clears the stream's).
func (m *Model) clearPaneFilter() bool {
	p, ok := m.panes[m.focus].(textFiltered)
	if !ok || p.FilterText() == "" || m.focus == paneStream {
		return false
	}
	p.SetTextFilter("")
	m.refresh()
	return true
}

// scroller is a pane whose wide table scrolls sideways.
type scroller interface{ Scroll(n int) bool }

// scrollFocused scrolls the focused pane's wide table sideways.
func (m *Model) scrollFocused(n int) {
	p, ok := m.panes[m.focus].(scroller)
	if !ok || !p.Scroll(n) {
		m.flash("nothing to scroll sideways here (ctrl+w shows every column)", true)
	}
}
