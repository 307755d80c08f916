package tui

import "github.com/warroom-ir/warroom/state"

// The journal pane's free-text filter, kept out of journal_pane.go.

// journalCols are the names a "col:text" term may use in the journal.
var journalCols = []string{"kind", "by", "summary"}

// matches reports whether a timeline item passes the filter.
func (p *journalPane) matches(it *state.TimelineItem) bool {
	if p.filter.empty() {
		return true
	}
	return p.filter.match(journalCols, func(c int) string {
		switch c {
		case 0:
			return string(it.Kind)
		case 1:
			return it.By
		}
		return it.Summary
	})
}

// FilterText returns the free-text filter.
func (p *journalPane) FilterText() string { return p.filter.text }

// SetTextFilter replaces the free-text filter; the rows are rebuilt on the
// next Refresh.
func (p *journalPane) SetTextFilter(text string) {
	p.filter = parseTextFilter(text, journalCols)
	p.built = false
	p.follow = true
}
