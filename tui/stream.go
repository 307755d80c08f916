package tui

import (
	"slices"
	"strings"
	"time"

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

// Marks in the stream's mark columns.
const (
	markSuspect = "»"
	markOurs    = "·"
	// markFailed marks a call AWS refused or failed (it had an errorCode),
	// in its own column and colour, so a failed probe never reads as a
	// success of the same class.
	markFailed = "✗"
	// markUnvouched marks an event read from a log file no valid digest
	// vouches for (Store.UnvouchedEvent): planted or edited, perhaps. It
	// takes the suspect/ours column (the row keeps their colour): what
	// the digests say of the evidence comes first.
	markUnvouched = "≠"
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
	colSource
	colAgent
	colEventID
)

type streamCol struct {
	id    colID
	title string
	w     int
}

// streamSpec is one stream column: its widths and its priority. The columns
// that identify an attacker (key, principal, source IP) are kept longest;
// the Region and the error code (which the ✗ mark still shows) go first.
type streamSpec struct {
	id         colID
	title      string
	minW, maxW int
	prio       int  // lower is kept longer
	wide       bool // only in wide mode (ctrl+w)
}

var streamSpecs = []streamSpec{
	{colMark, "", 3, 3, 0, false},
	{colTime, "time", 8, 8, 1, false},
	{colRegion, "region", 14, 14, 7, false},
	{colEvent, "event", 14, 32, 2, false},
	{colPrincipal, "principal", 13, 48, 3, false},
	{colKey, "key", 20, 20, 4, false},
	{colIP, "source ip", 15, 15, 5, false},
	{colError, "error", 12, 32, 6, false},
	{colSource, "service", 10, 24, 8, true},
	{colAgent, "user agent", 16, 40, 9, true},
	{colEventID, "event id", 36, 36, 10, true},
}

// principalRoom is how wide the principal column is before the error
// column may take room from it.
const principalRoom = 24

// streamColumns picks the columns that fit in w cells, by priority, and
// shares out the room left among the wide ones. In wide mode every column
// is shown (at its narrowest when room is short; the row is then cut at the
// pane's edge, z zooms).
func streamColumns(w int, wide bool) []streamCol {
	specs := make([]streamSpec, 0, len(streamSpecs))
	for _, s := range streamSpecs {
		if s.wide && !wide {
			continue
		}
		if s.id == colTime && w >= 170 {
			s.minW, s.maxW = 19, 19
		}
		specs = append(specs, s)
	}
	minW, prio := make([]int, len(specs)), make([]int, len(specs))
	for i, s := range specs {
		minW[i], prio[i] = s.minW, s.prio
	}
	keep := dropFit(minW, prio, w)
	var cols []streamCol
	used := -1
	for i, s := range specs {
		if keep[i] || wide {
			cols = append(cols, streamCol{id: s.id, title: s.title, w: s.minW})
			used += s.minW + 1
		}
	}
	left := w - used
	// The error column squeezes in only where the principal keeps room to
	// tell users apart ("user/ci-depl…" and "user/legacy-…" do not): a
	// failed call keeps its ✗ mark, and the detail view names the error.
	// (The event name grows to 18 first, then the principal.)
	if i := slices.IndexFunc(cols, func(c streamCol) bool { return c.id == colError }); i >= 0 && !wide && left < principalRoom-13+18-14 {
		left += cols[i].w + 1
		cols = slices.Delete(cols, i, i+1)
	}
	// Grow in steps, so that a common event name and principal both show
	// before either takes its widest.
	for _, g := range []struct {
		id colID
		to int
	}{{colEvent, 18}, {colPrincipal, 28}, {colError, 20}, {colEvent, 32}, {colPrincipal, 48}, {colError, 32}, {colAgent, 40}} {
		for i := range cols {
			if cols[i].id == g.id && left > 0 && cols[i].w < g.to {
				add := min(left, g.to-cols[i].w)
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
	return cols
}

// streamSorts are the stream's sortable columns; "time" (newest first) is
// its natural order.
var streamSorts = []string{"time", "event", "principal", "key", "source ip", "region", "error"}

// maxSortRows bounds the rows a sort other than time orders: it is done on
// the update loop when the store changes, and a million strings take too
// long. Above it the title asks for a filter first.
const maxSortRows = 200_000

// streamPane lists CloudTrail events, newest at the top. In follow mode
// (the default) the newest event stays selected as events arrive; moving
// the selection pauses it, and the rows then stay put as events arrive.
type streamPane struct {
	w, h    int
	focused bool
	wide    bool
	xoff    int // wide mode: cells scrolled off to the left (←/→)
	cols    []streamCol

	filterText string
	filter     *state.Filter
	res        state.Result
	resSeq     int64
	queried    bool
	follow     bool
	// sort orders the rows by a column (streamSorts); order holds the
	// sorted ids when the sort is not by time, nil otherwise.
	sort      listSort
	order     []uint32
	sortedFor int64 // the store seq order was sorted for (-1: never)
	tooMany   bool  // the result is too long to sort (maxSortRows)
	// cur indexes rows newest first: row 0 is res.At(res.Len()-1).
	cur listCursor
	// drawn is the event the last frame showed as selected. While
	// following, new events move row 0 under the responder's eyes; a key
	// that acts on "this event" must act on the one on screen, not on one
	// that arrived after the frame was drawn.
	drawn    uint32
	drawnSet bool
}

func newStreamPane() *streamPane { return &streamPane{follow: true, sortedFor: -1} }

// Title implements pane.
func (p *streamPane) Title(v *viewCtx) string {
	t := "Stream · " + thousands(p.res.Len())
	if p.filter != nil {
		t += " of " + thousands(v.store.Events.Len()) + " · /" + clean(p.filterText)
	} else {
		t += " events"
	}
	if p.tooMany {
		t += " · sort " + streamSorts[p.sort.col] + " needs ≤" + thousands(maxSortRows) + " (filter first)"
	} else if l := p.sort.label(streamSorts); l != "" {
		t += " · " + l
	}
	if p.follow {
		t += " · following"
	} else {
		t += " · paused (f follows)"
	}
	if fail := streamFailure(v.store); fail != "" && p.res.Len() > 0 {
		t += " · ✗ stream failing"
	}
	return t
}

// SetSize implements pane.
func (p *streamPane) SetSize(w, h int) {
	p.w, p.h = w, h
	p.cols = streamColumns(w, p.wide)
	p.cur.rows = max(h-1, 1)
	p.cur.clamp()
}

// SetWide shows every column (true) or those that fit.
func (p *streamPane) SetWide(wide bool) {
	p.wide, p.xoff = wide, 0
	p.cols = streamColumns(p.w, wide)
}

// Scroll moves a wide table left or right by n cells (negative: left); it
// reports false when the columns fit and there is nothing to scroll.
func (p *streamPane) Scroll(n int) bool {
	total := -1
	for _, c := range p.cols {
		total += c.w + 1
	}
	if total <= p.w {
		p.xoff = 0
		return false
	}
	p.xoff = max(0, min(p.xoff+n, total-p.w+4))
	return true
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

// Sort cycles the sort column (reverse: flips the direction instead).
func (p *streamPane) Sort(reverse bool) {
	if reverse {
		p.sort.desc = !p.sort.desc
	} else {
		p.sort.cycle(len(streamSorts))
	}
	p.sortedFor = -1
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
	p.sortRows(v)
	if p.follow || p.order != nil {
		p.cur.sel, p.cur.top = 0, 0
	} else if d := p.res.Len() - old; d > 0 && !p.sort.desc {
		// Keep the same events under the cursor while paused.
		p.cur.sel += d
		p.cur.top += d
	}
	p.cur.clamp()
}

// sortRows orders the result by the sort column (time needs no work).
func (p *streamPane) sortRows(v *viewCtx) {
	p.tooMany = false
	if p.sort.col == 0 {
		p.order = nil
		return
	}
	if p.sortedFor == v.store.Seq && p.order != nil && len(p.order) == p.res.Len() {
		return
	}
	n := p.res.Len()
	if n > maxSortRows {
		p.order, p.tooMany = nil, true
		return
	}
	type row struct {
		id  uint32
		key string
	}
	rows := make([]row, n)
	for i := range n {
		id := p.res.At(n - 1 - i) // newest first: ties stay newest first
		e := v.store.Events.Event(id)
		var k string
		switch streamSorts[p.sort.col] {
		case "event":
			k = e.Name
		case "principal":
			k = e.Principal
		case "key":
			k = e.AccessKeyID
		case "source ip":
			k = e.SourceIP
		case "region":
			k = e.Region
		case "error":
			k = e.ErrorCode
		}
		rows[i] = row{id, k}
	}
	desc := p.sort.desc
	slices.SortStableFunc(rows, func(a, b row) int {
		c := compareText(a.key, b.key)
		// An empty cell sorts last either way (a success has no error).
		switch {
		case a.key == "" && b.key != "":
			return 1
		case b.key == "" && a.key != "":
			return -1
		case desc:
			return -c
		}
		return c
	})
	p.order = make([]uint32, n)
	for i, r := range rows {
		p.order[i] = r.id
	}
	p.sortedFor = v.store.Seq
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

// id returns the event id shown on row r (0 = the first row: the newest,
// unless sorted otherwise).
func (p *streamPane) id(r int) uint32 {
	switch {
	case p.order != nil:
		return p.order[r]
	case p.sort.col == 0 && p.sort.desc:
		return p.res.At(r) // oldest first
	}
	return p.res.At(p.res.Len() - 1 - r)
}

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

// failing reports the stream health statuses that mean no events arrive.
func failing(status string) bool {
	switch status {
	case "ok", "backfill", "disabled", "":
		return false
	}
	return true
}

// streamFailure says why the stream shows nothing when every source of it
// that is not disabled is failing ("" when one works, or none reported):
// "✗ the stream failed in every Region: 15 denied (AccessDeniedException),
// 2 error (…)".
func streamFailure(s *state.Store) string {
	type group struct {
		n       int
		err     string
		regions []string
	}
	groups := map[string]*group{}
	var order []string
	n := 0
	for _, d := range s.Health {
		h := d.V
		if h.Status == "disabled" {
			continue
		}
		if !failing(h.Status) {
			return ""
		}
		n++
		g := groups[h.Status]
		if g == nil {
			g = &group{}
			groups[h.Status] = g
			order = append(order, h.Status)
		}
		g.n++
		name := h.Region
		if name == "" {
			name = h.Source
		}
		g.regions = append(g.regions, name)
		if g.err == "" || h.Error != "" && h.Error < g.err {
			g.err = h.Error
		}
	}
	if n == 0 {
		return ""
	}
	slices.SortFunc(order, func(a, b string) int {
		if c := groups[b].n - groups[a].n; c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	where := "in every Region"
	if n == 1 {
		for _, g := range groups {
			where = "in " + g.regions[0] + ", its only Region"
		}
	}
	var parts []string
	for _, st := range order {
		g := groups[st]
		part := itoa(g.n) + " " + st
		if g.err != "" {
			part += " (" + g.err + ")"
		}
		parts = append(parts, part)
	}
	return "✗ the stream failed " + where + ": " + strings.Join(parts, ", ")
}

// Render implements pane: a header and one line per visible row only.
func (p *streamPane) Render(v *viewCtx) string {
	var sb strings.Builder
	sb.Grow((p.w + 32) * p.h)
	hdr := make([]string, len(p.cols))
	sortCol := ""
	if p.sort.col > 0 && !p.tooMany {
		sortCol = streamSorts[p.sort.col]
	}
	for i, c := range p.cols {
		t := c.title
		if c.id == colMark {
			t = "   "
		}
		if t == sortCol || sortCol == "" && c.id == colTime && p.sort.desc {
			if p.sort.desc {
				t += "↓"
			} else {
				t += "↑"
			}
		}
		hdr[i] = fit(t, c.w)
	}
	head := strings.Join(hdr, " ")
	if p.xoff > 0 {
		head = head[:4] + cutLeft(head[4:], p.xoff)
	}
	sb.WriteString(v.st.Header.Render(fit(head, p.w)))
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
		msg, style := "no events yet", v.st.Subtle
		if p.filter != nil {
			msg = "no events match the filter (x clears it)"
		}
		lines := []string{msg}
		if fail := streamFailure(v.store); fail != "" {
			lines = []string{fail, "nothing can arrive until a Region answers; the header shows each Region's status"}
			if p.filter != nil {
				lines = append(lines, "(a filter is set too: x clears it)")
			}
			style = v.st.Error
		}
		rows = 0
		for _, l := range lines {
			for _, w := range wrapWords(clean(l), p.w) {
				if rows+1 >= p.h {
					break
				}
				sb.WriteByte('\n')
				sb.WriteString(style.Render(fit(w, p.w)))
				rows++
			}
		}
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
	sus := v.sus.Has(e.AccessKeyID, e.Principal)
	mark2 := " "
	switch {
	case sus:
		mark2 = markSuspect
	case e.Ours:
		mark2 = markOurs
	}
	unvouched := v.store.UnvouchedEvent(e.EventID)
	if unvouched {
		mark2 = markUnvouched
	}
	fail := " "
	if e.ErrorCode != "" {
		fail = markFailed
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
		case colSource:
			s = strings.TrimSuffix(e.Source, ".amazonaws.com")
		case colAgent:
			s = e.UserAgent
		case colEventID:
			s = e.EventID
		}
		rest = append(rest, cell(s, c.w))
	}
	text := strings.Join(rest, " ")
	if p.xoff > 0 {
		text = cutLeft(text, p.xoff)
	}
	text = fit(text, p.w-4)
	glyph := classGlyph[f.Class]
	if selected {
		return v.st.Selected.Render(glyph + fail + mark2 + " " + text)
	}
	g := glyph
	if lvl := f.Class.Level(); lvl > state.LevelNone {
		g = v.st.Severity[lvl-1].Render(glyph)
	}
	x := fail
	if e.ErrorCode != "" {
		x = v.st.Danger.Render(fail)
	}
	m := mark2
	body := v.st.Base.Render(" " + text)
	if unvouched {
		m = v.st.Danger.Render(mark2)
	}
	switch {
	case sus:
		if !unvouched {
			m = v.st.Suspect.Render(mark2)
		}
		body = v.st.Suspect.Render(" " + text)
	case e.Ours:
		if !unvouched {
			m = v.st.Ours.Render(mark2)
		}
		body = v.st.Ours.Render(" " + text)
	case f.Class.Level() >= state.LevelHigh:
		body = v.st.Severity[f.Class.Level()-1].Render(" " + text)
	case e.ErrorCode != "":
		body = v.st.Warning.Render(" " + text)
	}
	return g + x + m + body
}

// ShortHelp implements pane.
func (p *streamPane) ShortHelp(k KeyMap) []key.Binding {
	return []key.Binding{k.Filter, k.PivotKey, k.PivotPrincipal, k.PivotIP, k.Follow, k.Detail}
}

// FullHelp implements pane.
func (p *streamPane) FullHelp(k KeyMap) [][]key.Binding {
	return [][]key.Binding{
		append(listHelp(k), k.Follow, k.Sort, k.SortReverse, k.Wide, k.ScrollLeft, k.ScrollRight),
		{k.Filter, k.PivotKey, k.PivotPrincipal, k.PivotIP, k.ClearFilter, k.Detail, k.Suspect, k.Copy, k.CopyMore},
	}
}

// healthSummary is the stream's health as the status line shows it, short
// enough for 80 columns: the failing sources first (disabled Regions are
// left out: nothing is expected from them), then CloudTrail's lag, the
// newest event delivered by the healthy sources ("lag 42s").
func healthSummary(s *state.Store, now time.Time) string {
	type src struct {
		name string
		h    state.StreamHealth
	}
	var bad []src
	lag, healthy := time.Duration(0), false
	for name, d := range s.Health {
		h := d.V
		if h.Region != "" {
			name = h.Region
		}
		switch {
		case h.Status == "disabled":
		case failing(h.Status):
			bad = append(bad, src{name, h})
		default:
			healthy = true
			lag = max(lag, liveLag(h, now))
		}
	}
	slices.SortFunc(bad, func(a, b src) int {
		if c := strings.Compare(a.h.Status, b.h.Status); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	var parts []string
	switch {
	case len(bad) > 2:
		statuses := map[string]int{}
		for _, b := range bad {
			statuses[b.h.Status]++
		}
		var ws []string
		for _, st := range sortedKeys(boolKeys(statuses)) {
			ws = append(ws, itoa(statuses[st])+" "+clean(st))
		}
		parts = append(parts, "✗ "+itoa(len(bad))+" Regions failing ("+strings.Join(ws, ", ")+")")
	default:
		for _, b := range bad {
			parts = append(parts, clean(b.name)+" "+healthGlyph(b.h.Status))
		}
	}
	if healthy {
		parts = append(parts, "lag "+span(lag))
	}
	return strings.Join(parts, " · ")
}

func boolKeys(m map[string]int) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}
