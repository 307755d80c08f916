package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/themes"
)

// kindGlyph marks a timeline row's fact kind.
func kindGlyph(k state.Kind) string {
	switch k {
	case state.KindEvents:
		return "≡"
	case state.KindNote:
		return "✎"
	case state.KindSuspect:
		return markSuspect
	case state.KindActionIntent, state.KindActionResult, state.KindActionVerify:
		return "▶"
	case state.KindJournalRepaired:
		return "!"
	case state.KindSessionEnded:
		return glyphEnded
	}
	return "·"
}

// outcomeBadge is an action outcome as a glyph and word, with its style.
func outcomeBadge(st *themes.Styles, o state.Outcome) (string, func(...string) string) {
	switch o {
	case state.OutcomeVerified:
		return "✓ verified", st.Success.Render
	case state.OutcomeDone:
		return "✓ done", st.Success.Render
	case state.OutcomeAlready:
		return "= already in effect", st.Success.Render
	case state.OutcomeFailed:
		return "✗ failed", st.Danger.Render
	case state.OutcomeBroken:
		return "✗ does not hold", st.Danger.Render
	}
	return "? outcome unknown", st.Warning.Render
}

// journalPane is the incident timeline: one row per fact, newest at the
// bottom, actions with their outcome. By default it lists the incident's
// own facts and leaves out the routine ones (event batches, stream health,
// sweeps, Region lists), which outnumber them a hundred to one; e shows
// them too.
type journalPane struct {
	w, h    int
	focused bool
	follow  bool
	cur     listCursor
	// actions maps the seq of each action's intent to the action.
	actions map[int64]*state.Action
	// store and seq are what rows were built from. rows only grow while
	// the store does; a replay that seeks folds a new store, maybe a
	// shorter one, and then rows are built again from nothing.
	store *state.Store
	seq   int64
	built bool
	// routine shows routine facts too; rows indexes the timeline items shown.
	routine bool
	rows    []int
	filter  textFilter // / in this pane (journal_filter.go)
	// scanned is how many timeline items rows was built over.
	scanned int
}

// isRoutine reports the fact kinds that arrive by the hundred while the
// console runs and say nothing a responder did or decided.
func isRoutine(k state.Kind) bool {
	switch k {
	case state.KindEvents, state.KindStreamHealth, state.KindSweep, state.KindRegions:
		return true
	}
	return false
}

// ToggleRoutine shows or hides routine facts.
func (p *journalPane) ToggleRoutine() {
	p.routine = !p.routine
	p.built = false
	p.follow = true
}

func newJournalPane() *journalPane { return &journalPane{follow: true} }

// Title implements pane.
func (p *journalPane) Title(v *viewCtx) string {
	t := "Journal · " + thousands(len(v.store.Timeline)) + " facts"
	if !p.routine && len(p.rows) < len(v.store.Timeline) {
		t += " (" + thousands(len(p.rows)) + " shown, e all)"
	}
	if n := len(v.store.Actions); n > 0 {
		t += " · " + itoa(n) + " actions"
	}
	if u := len(v.store.Unfinished()); u > 0 {
		t += " · " + itoa(u) + " unfinished"
	}
	return titleParts(t, p.filter, listSort{}, nil)
}

// SetSize implements pane.
func (p *journalPane) SetSize(w, h int) {
	p.w, p.h = w, h
	p.cur.rows = max(h, 1)
	p.cur.clamp()
	if p.follow {
		p.cur.navigate(navBottom)
	}
}

// Focus implements pane.
func (p *journalPane) Focus() { p.focused = true }

// Blur implements pane.
func (p *journalPane) Blur() { p.focused = false }

// Refresh implements pane.
func (p *journalPane) Refresh(v *viewCtx) {
	same := p.built && p.store == v.store
	if same && p.seq == v.store.Seq {
		return
	}
	from := 0
	if same && v.store.Seq > p.seq {
		// The same store's timeline only grows: index only the new items.
		from = p.scanned
	} else {
		p.rows = p.rows[:0]
	}
	p.built, p.store, p.seq = true, v.store, v.store.Seq
	p.scanned = len(v.store.Timeline)
	p.actions = map[int64]*state.Action{}
	for _, a := range v.store.Actions {
		p.actions[a.IntentSeq] = a
	}
	for i := from; i < len(v.store.Timeline); i++ {
		if (p.routine || !isRoutine(v.store.Timeline[i].Kind)) && p.matches(&v.store.Timeline[i]) {
			p.rows = append(p.rows, i)
		}
	}
	p.cur.n = len(p.rows)
	if p.follow {
		p.cur.navigate(navBottom)
	}
	p.cur.clamp()
}

// Navigate implements pane.
func (p *journalPane) Navigate(n nav) {
	p.cur.navigate(n)
	p.follow = p.cur.sel == p.cur.n-1
}

// Follow resumes following the newest fact.
func (p *journalPane) Follow() {
	p.follow = true
	p.cur.navigate(navBottom)
}

// Selected implements pane.
func (p *journalPane) Selected(v *viewCtx) (selection, bool) {
	if len(p.rows) == 0 || p.cur.sel >= len(p.rows) {
		return selection{}, false
	}
	return selection{kind: selTimeline, item: v.store.Timeline[p.rows[p.cur.sel]]}, true
}

// Render implements pane.
func (p *journalPane) Render(v *viewCtx) string {
	tl := v.store.Timeline
	lines := make([]string, 0, p.h)
	end := min(p.cur.top+p.cur.rows, len(p.rows))
	for i := p.cur.top; i < end; i++ {
		it := tl[p.rows[i]]
		text := clock(it.At, false) + " " + kindGlyph(it.Kind) + " " + fit(clean(it.By), 14) + " "
		badge := ""
		var badgeStyle func(...string) string
		if a := p.actions[it.Seq]; a != nil && it.Kind == state.KindActionIntent {
			badge, badgeStyle = outcomeBadge(v.st, a.Outcome())
		}
		room := p.w - width(text)
		if badge != "" {
			room -= width(badge) + 1
		}
		text += fit(clean(it.Summary), max(room, 0))
		switch {
		case i == p.cur.sel:
			if badge != "" {
				text += " " + badge
			}
			lines = append(lines, v.st.Selected.Render(fit(text, p.w)))
			continue
		case it.Kind == state.KindNote:
			text = v.st.Accent.Render(text)
		case it.Kind == state.KindSuspect:
			text = v.st.Suspect.Render(text)
		case it.Kind == state.KindJournalRepaired || it.Kind == state.KindSessionEnded:
			text = v.st.Warning.Render(text)
		case it.Kind == state.KindEvents || it.Kind == state.KindStreamHealth:
			text = v.st.Subtle.Render(text)
		default:
			text = v.st.Base.Render(text)
		}
		if badge != "" {
			text += " " + badgeStyle(badge)
		}
		lines = append(lines, fit(text, p.w))
	}
	switch {
	case len(tl) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("the journal is empty", p.w)))
	case len(p.rows) == 0:
		lines = append(lines, v.st.Subtle.Render(fit("only routine facts so far (e shows them)", p.w)))
	}
	return block(strings.Join(lines, "\n"), p.w, p.h)
}

// ShortHelp implements pane.
func (p *journalPane) ShortHelp(k KeyMap) []key.Binding {
	return []key.Binding{k.Note, k.Detail, k.Routine, k.Follow}
}

// FullHelp implements pane.
func (p *journalPane) FullHelp(k KeyMap) [][]key.Binding {
	return [][]key.Binding{append(listHelp(k), k.Follow), {k.Note, k.Detail, k.Routine, k.Copy}}
}
