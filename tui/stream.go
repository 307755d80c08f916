package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"

	"github.com/warroom-ir/warroom/state"
)

// classGlyph is the mark a severity class gets beside its colour, so that
// nothing rides on colour alone (ASCII, for 16-colour terminals and
// TERM=screen).
var classGlyph = map[state.Class]string{
	state.ClassNone:             " ",
	state.ClassRecon:            "*",
	state.ClassCredentialAccess: "$",
	state.ClassPersistence:      "#",
	state.ClassPrivEsc:          "^",
	state.ClassDefenseEvasion:   "~",
	state.ClassImpact:           "!",
	state.ClassImpersonation:    "@",
}

// Marks in the stream's second mark column.
const (
	markSuspect = "»"
	markOurs    = "·"
)

type colID int

const (
	colMark colID = iota
	colTime
	colRegion
	colEvent
	colPrincipal
	colKey
	colIP
	colError
)

type streamCol struct {
	id    colID
	title string
	w     int
}

// streamColumns picks the columns that fit in w cells, most important
// first, and shares out the room left among the wide ones.
func streamColumns(w int) []streamCol {
	timeW := 8
	if w >= 170 {
		timeW = 19
	}
	type spec struct {
		id         colID
		title      string
		minW, maxW int
	}
	prio := []spec{
		{colMark, "", 2, 2},
		{colTime, "time", timeW, timeW},
		{colEvent, "event", 14, 32},
		{colPrincipal, "principal", 14, 48},
		{colRegion, "region", 14, 14},
		{colKey, "key", 20, 20},
		{colIP, "source ip", 15, 15},
		{colError, "error", 12, 40},
	}
	var cols []streamCol
	maxW := map[colID]int{}
	used := 0
	for _, s := range prio {
		need := s.minW
		if len(cols) > 0 {
			need++
		}
		if used+need > w {
			continue
		}
		used += need
		cols = append(cols, streamCol{id: s.id, title: s.title, w: s.minW})
		maxW[s.id] = s.maxW
	}
	left := w - used
	for _, grow := range []colID{colEvent, colPrincipal, colError} {
		for i := range cols {
			if cols[i].id == grow && left > 0 {
				add := min(left, maxW[grow]-cols[i].w)
				cols[i].w += add
				left -= add
			}
		}
	}
	if left > 0 {
		for i := range cols {
			if cols[i].id == colPrincipal {
				cols[i].w += left
			}
		}
	}
	// Show them in reading order.
	for i := 1; i < len(cols); i++ {
		for j := i; j > 0 && cols[j].id < cols[j-1].id; j-- {
			cols[j], cols[j-1] = cols[j-1], cols[j]
		}
	}
	return cols
}

// streamPane lists CloudTrail events, newest at the top. In follow mode
// (the default) the newest event stays selected as events arrive; moving
// the selection pauses it, and the rows then stay put as events arrive.
type streamPane struct {
	w, h    int
	focused bool
	cols    []streamCol

	filterText string
	filter     *state.Filter
	res        state.Result
	resSeq     int64
	queried    bool
	follow     bool
	// cur indexes rows newest first: row 0 is res.At(res.Len()-1).
	cur listCursor
	// drawn is the event the last frame showed as selected. While
	// following, new events move row 0 under the responder's eyes; a key
	// that acts on "this event" must act on the one on screen, not on one
	// that arrived after the frame was drawn.
	drawn    uint32
	drawnSet bool
}

func newStreamPane() *streamPane { return &streamPane{follow: true} }

// Title implements pane.
func (p *streamPane) Title(v *viewCtx) string {
	t := "Stream · " + thousands(p.res.Len())
	if p.filter != nil {
		t += " of " + thousands(v.store.Events.Len()) + " · /" + clean(p.filterText)
	} else {
		t += " events"
	}
	if p.follow {
		t += " · following"
	} else {
		t += " · paused (f follows)"
	}
	return t
}

// SetSize implements pane.
func (p *streamPane) SetSize(w, h int) {
	p.w, p.h = w, h
	p.cols = streamColumns(w)
	p.cur.rows = max(h-1, 1)
	p.cur.clamp()
}

// Focus implements pane.
func (p *streamPane) Focus() { p.focused = true }

// Blur implements pane.
func (p *streamPane) Blur() { p.focused = false }

// SetFilter replaces the filter; nil shows every event. It resumes follow.
func (p *streamPane) SetFilter(text string, f *state.Filter) {
	p.filterText, p.filter = text, f
	p.queried = false
	p.follow = true
	p.drawnSet = false
}

// Refresh implements pane: it queries the store again when it changed.
func (p *streamPane) Refresh(v *viewCtx) {
	if p.queried && p.resSeq == v.store.Seq {
		return
	}
	old := p.res.Len()
	p.res = v.store.Events.QueryAt(p.filter, v.now)
	p.resSeq, p.queried = v.store.Seq, true
	p.cur.n = p.res.Len()
	if p.follow {
		p.cur.sel, p.cur.top = 0, 0
	} else if d := p.res.Len() - old; d > 0 {
		// Keep the same events under the cursor while paused.
		p.cur.sel += d
		p.cur.top += d
	}
	p.cur.clamp()
}

// Navigate implements pane. Moving away from the newest row pauses follow;
// going to the top resumes it.
func (p *streamPane) Navigate(n nav) {
	p.cur.navigate(n)
	p.drawnSet = false // the responder moved the cursor: it is the selection
	p.follow = p.cur.sel == 0 && (n == navTop || n == navUp || p.follow)
}

// Follow resumes following the newest event.
func (p *streamPane) Follow() {
	p.follow = true
	p.cur.sel, p.cur.top = 0, 0
	p.drawnSet = false
}

// id returns the event id shown on row r (0 = newest).
func (p *streamPane) id(r int) uint32 { return p.res.At(p.res.Len() - 1 - r) }

// Selected implements pane: the event the responder sees selected.
func (p *streamPane) Selected(v *viewCtx) (selection, bool) {
	if p.drawnSet {
		return selection{kind: selEvent, event: v.store.Events.Event(p.drawn)}, true
	}
	if p.res.Len() == 0 {
		return selection{}, false
	}
	return selection{kind: selEvent, event: v.store.Events.Event(p.id(p.cur.sel))}, true
}

// Render implements pane: a header and one line per visible row only.
func (p *streamPane) Render(v *viewCtx) string {
	var sb strings.Builder
	sb.Grow((p.w + 32) * p.h)
	hdr := make([]string, len(p.cols))
	for i, c := range p.cols {
		hdr[i] = fit(c.title, c.w)
	}
	sb.WriteString(v.st.Header.Render(fit(strings.Join(hdr, " "), p.w)))
	rows := min(p.cur.rows, p.res.Len()-p.cur.top)
	p.drawnSet = false
	for r := 0; r < rows; r++ {
		sb.WriteByte('\n')
		row := p.cur.top + r
		id := p.id(row)
		e := v.store.Events.Event(id)
		if row == p.cur.sel {
			p.drawn, p.drawnSet = id, true
		}
		sb.WriteString(p.row(v, &e, row == p.cur.sel))
	}
	if p.res.Len() == 0 && p.h > 1 {
		sb.WriteByte('\n')
		msg := "no events yet"
		if p.filter != nil {
			msg = "no events match the filter (x clears it)"
		}
		sb.WriteString(v.st.Subtle.Render(fit(msg, p.w)))
		rows = 1
	}
	for r := rows + 1; r < p.h; r++ {
		sb.WriteByte('\n')
		sb.WriteString(strings.Repeat(" ", p.w))
	}
	return sb.String()
}

// row draws one event.
func (p *streamPane) row(v *viewCtx, e *state.Event, selected bool) string {
	f := state.ClassifyEvent(e)
	sus := v.sus.has(e.AccessKeyID, e.Principal)
	mark2 := " "
	switch {
	case sus:
		mark2 = markSuspect
	case e.Ours:
		mark2 = markOurs
	}
	var rest []string
	for _, c := range p.cols {
		var s string
		switch c.id {
		case colMark:
			continue
		case colTime:
			s = clock(e.Time, c.w > 8)
		case colRegion:
			s = e.Region
		case colEvent:
			s = e.Name
		case colPrincipal:
			s = shortARN(e.Principal)
		case colKey:
			s = e.AccessKeyID
		case colIP:
			s = e.SourceIP
		case colError:
			s = e.ErrorCode
		}
		rest = append(rest, cell(s, c.w))
	}
	text := fit(strings.Join(rest, " "), p.w-3)
	glyph := classGlyph[f.Class]
	if selected {
		return v.st.Selected.Render(glyph + mark2 + " " + text)
	}
	g := glyph
	if lvl := f.Class.Level(); lvl > state.LevelNone {
		g = v.st.Severity[lvl-1].Render(glyph)
	}
	m := mark2
	body := v.st.Base.Render(" " + text)
	switch {
	case sus:
		m = v.st.Suspect.Render(mark2)
		body = v.st.Suspect.Render(" " + text)
	case e.Ours:
		m = v.st.Ours.Render(mark2)
		body = v.st.Ours.Render(" " + text)
	case f.Class.Level() >= state.LevelHigh:
		body = v.st.Severity[f.Class.Level()-1].Render(" " + text)
	}
	return g + m + body
}

// ShortHelp implements pane.
func (p *streamPane) ShortHelp(k KeyMap) []key.Binding {
	return []key.Binding{k.Filter, k.PivotKey, k.PivotPrincipal, k.PivotIP, k.Follow, k.Detail}
}

// FullHelp implements pane.
func (p *streamPane) FullHelp(k KeyMap) [][]key.Binding {
	return [][]key.Binding{
		append(listHelp(k), k.Follow),
		{k.Filter, k.PivotKey, k.PivotPrincipal, k.PivotIP, k.ClearFilter, k.Detail, k.Suspect, k.Copy},
	}
}
