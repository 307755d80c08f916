package tui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/themes"
)

// Below these sizes the console shows one pane at a time with a tab bar.
const (
	compactWidth  = 120
	compactHeight = 30
)

// size is a width and height in cells.
type size struct{ w, h int }

// layout is computed once per window size: the outer size of each pane in
// the four-pane layout, and of the single pane in compact, zoom and detail.
type layout struct {
	compact bool
	bodyH   int
	panes   [numPanes]size
	single  size // the one pane of compact, zoom, detail and help
}

// computeLayout lays out a w×h screen whose body loses banner lines to a
// banner above it.
func computeLayout(w, h, banner int) layout {
	l := layout{compact: w < compactWidth || h < compactHeight, bodyH: max(h-2-banner, 0)}
	if l.compact {
		l.single = size{w, max(l.bodyH-1, 0)} // a tab bar above
	} else {
		l.single = size{w, l.bodyH}
	}
	topH := l.bodyH * 3 / 5
	botH := l.bodyH - topH
	streamW := w * 3 / 5
	regionsW := w * 2 / 5
	l.panes[paneStream] = size{streamW, topH}
	l.panes[panePrincipals] = size{w - streamW, topH}
	l.panes[paneRegions] = size{regionsW, botH}
	l.panes[paneJournal] = size{w - regionsW, botH}
	return l
}

// resize lays the screen out for a new window size.
func (m *Model) resize(w, h int) {
	m.width, m.height = w, h
	banner := 0
	if m.banner() != "" {
		banner = 1
	}
	m.lay = computeLayout(w, h, banner)
	m.applySizes()
}

// applySizes pushes the content sizes down to the panes.
func (m *Model) applySizes() {
	for i, p := range m.panes {
		s := m.lay.panes[i]
		if m.lay.compact || m.zoom {
			s = m.lay.single
		}
		p.SetSize(max(s.w-2, 1), max(s.h-2, 1))
	}
	if m.detail != nil {
		m.detail.SetSize(max(m.lay.single.w-2, 1), max(m.lay.single.h-2, 1))
	}
	if m.text != nil {
		m.text.SetSize(max(m.lay.single.w-2, 1), max(m.lay.single.h-2, 1))
	}
}

// View implements tea.Model.
func (m *Model) View() tea.View {
	if l := m.opts.Lock; l != nil {
		l.Lock()
		defer l.Unlock()
	}
	v := tea.NewView(m.Render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion // click to focus and select, wheel to scroll (mouse.go)
	v.WindowTitle = "warroom " + clean(m.store.Incident.ID)
	return v
}

// Render draws the whole screen: exactly height lines of at most width
// cells.
func (m *Model) Render() string {
	w, h := m.width, m.height
	if w <= 0 || h <= 0 {
		return ""
	}
	if w < 20 || h < 6 {
		return block("warroom: the terminal is too small", w, h)
	}
	v := m.vctx()
	var sb strings.Builder
	sb.WriteString(m.statusLine(v))
	sb.WriteByte('\n')
	if b := m.banner(); b != "" {
		sb.WriteString(v.st.Error.Render(fit(clean(b), w)))
		sb.WriteByte('\n')
	}
	body := m.body(v)
	if d := m.dialog; d != nil {
		box := d.render(v.st, w, m.lay.bodyH, v.now)
		var x, y int
		body, x, y = overlay(body, box, w, m.lay.bodyH)
		d.hits.x, d.hits.y = x, y+m.bodyTop()
		d.hits.w, d.hits.h = width(strings.SplitN(box, "\n", 2)[0]), strings.Count(box, "\n")+1
	}
	sb.WriteString(body)
	sb.WriteByte('\n')
	sb.WriteString(m.footer(v))
	return sb.String()
}

// body draws the area between the status line and the footer.
func (m *Model) body(v *viewCtx) string {
	var tabs string
	if m.lay.compact {
		tabs = m.tabBar(v) + "\n"
	}
	s := m.lay.single
	switch {
	case m.help:
		return tabs + frame(v, "Help · what applies now", m.helpView(v, s.w-2, s.h-2), s.w, s.h, true)
	case m.text != nil:
		return tabs + frame(v, m.text.frameTitle(), m.text.Render(v), s.w, s.h, true)
	case m.detail != nil:
		return tabs + frame(v, "Detail · "+m.detail.title+" (esc closes)", m.detail.Render(v), s.w, s.h, true)
	case m.lay.compact || m.zoom:
		p := m.panes[m.focus]
		return tabs + frame(v, itoa(int(m.focus)+1)+" "+p.Title(v), p.Render(v), s.w, s.h, true)
	}
	f := func(id paneID) string {
		p, sz := m.panes[id], m.lay.panes[id]
		return frame(v, itoa(int(id)+1)+" "+p.Title(v), p.Render(v), sz.w, sz.h, id == m.focus)
	}
	return joinH(f(paneStream), f(panePrincipals)) + "\n" + joinH(f(paneRegions), f(paneJournal))
}

// frame draws a bordered box of outer size w×h around content (which is
// already (w-2)×(h-2)), with the title in the top border.
func frame(v *viewCtx, title, content string, w, h int, focused bool) string {
	if w < 2 || h < 2 {
		return block("", w, h)
	}
	bs, ts := v.st.Border, v.st.Title
	if focused {
		bs, ts = v.st.BorderFocused, v.st.TitleFocused
	}
	inner := w - 2
	t := truncate(" "+title+" ", max(inner-2, 0))
	top := bs.Render("╭─") + ts.Render(t) + bs.Render(strings.Repeat("─", max(inner-1-width(t), 0))+"╮")
	if inner < 3 {
		top = bs.Render("╭" + strings.Repeat("─", inner) + "╮")
	}
	l, r := bs.Render("│"), bs.Render("│")
	var sb strings.Builder
	sb.Grow(w * h * 2)
	sb.WriteString(top)
	lines := strings.Split(content, "\n")
	for i := 0; i < h-2; i++ {
		sb.WriteByte('\n')
		sb.WriteString(l)
		if i < len(lines) {
			sb.WriteString(lines[i])
		} else {
			sb.WriteString(strings.Repeat(" ", inner))
		}
		sb.WriteString(r)
	}
	sb.WriteByte('\n')
	sb.WriteString(bs.Render("╰" + strings.Repeat("─", inner) + "╯"))
	return sb.String()
}

// tabBar lists the panes in compact layout, the shown one highlighted.
func (m *Model) tabBar(v *viewCtx) string {
	var parts []string
	for i := range numPanes {
		name := itoa(int(i)+1) + " " + paneNames[i]
		if i == m.focus {
			parts = append(parts, v.st.TabActive.Render("["+name+"]"))
		} else {
			parts = append(parts, v.st.TabInactive.Render(" "+name+" "))
		}
	}
	return fit(strings.Join(parts, " "), m.width)
}

// healthGlyph marks a stream source's status with a glyph and word.
func healthGlyph(status string) string {
	switch status {
	case "ok":
		return "✓"
	case "backfill":
		return "…"
	case "throttled":
		return "! throttled"
	case "denied":
		return "✗ denied"
	case "disabled":
		return "- disabled"
	}
	return "✗ " + clean(status)
}

func durationOf(d state.Duration) time.Duration { return time.Duration(d) }

// statusLine draws the top line: mode, incident, account, driver, per-Region
// health and lag, and the UTC clock.
func (m *Model) statusLine(v *viewCtx) string {
	st := v.st
	mode := string(m.opts.Mode)
	if m.closed && m.opts.Mode == ModeReplay {
		mode += " (end)"
	}
	left := st.StatusMode.Render(" " + mode + " ")
	// Parts in the order drawn. When they do not fit, the least needed go
	// first (the caller, the account, the incident id: they do not change),
	// then the stream's health is cut short, so that a driver who left, a
	// running plan and the verdict stay on screen at 80 columns.
	type part struct {
		text string
		drop int // 0: kept; higher drops first
		cut  bool
	}
	var parts []part
	if m.tl != nil {
		parts = append(parts, part{text: m.tl.status()})
	}
	// AWS's own quarantine: the top alert (cut, never dropped).
	if q := quarantinePart(m.store); q != "" {
		parts = append(parts, part{text: q, cut: true})
	}
	// A driver who left comes first (a follower must see it), then the
	// stream's health: what 80 columns must show.
	if d := driverPart(m.store); d != "" {
		parts = append(parts, part{text: d})
	}
	if h := healthSummary(m.store, v.now); h != "" {
		parts = append(parts, part{text: h, cut: true})
	}
	if tp := trailPart(m.store); tp != "" {
		parts = append(parts, part{text: tp, cut: true})
	}
	if gp := m.guarddutyPart(v); gp != "" {
		parts = append(parts, part{text: gp, cut: true})
	}
	if r := m.runPart(v.now); r != "" {
		parts = append(parts, part{text: r})
	}
	// The verdict, read back from AWS, before what does not change.
	if vd := verdictPart(m.store); vd != "" {
		parts = append(parts, part{text: vd})
	}
	if id := m.store.Incident.ID; id != "" {
		parts = append(parts, part{text: clean(id), drop: 1})
	}
	var acct, caller string
	for i := len(m.store.Sessions) - 1; i >= 0; i-- {
		s := m.store.Sessions[i].V
		if s.AccountID != "" && acct == "" {
			acct = s.AccountID + suffix(" ", paren(s.Alias))
			if s.Drill {
				acct += " drill"
			}
		}
		if s.CallerARN != "" && caller == "" {
			caller = s.CallerARN
		}
	}
	if acct != "" {
		parts = append(parts, part{text: "acct " + clean(acct), drop: 2})
	}
	a := m.opts.Actor
	if a.AWS != "" {
		caller = a.AWS
	}
	if who := a.User + suffix("@", a.Host); who != "" || caller != "" {
		parts = append(parts, part{text: strings.TrimSpace(clean(who) + suffix(" as ", clean(shortARN(caller)))), drop: 3})
	}
	clockText := v.now.UTC().Format("15:04:05") + " UTC "
	if m.tl != nil {
		clockText = "" // the timeline's part says "as of"
	}
	room := m.width - width(left) - width(clockText) - 1
	const sep = " │ "
	need := func() int {
		n := 1 // the leading space
		for i, p := range parts {
			if i > 0 {
				n += width(sep)
			}
			n += width(p.text)
		}
		return n
	}
	for need() > room {
		worst := -1
		for i, p := range parts {
			if p.drop > 0 && (worst < 0 || p.drop > parts[worst].drop) {
				worst = i
			}
		}
		if worst < 0 {
			break
		}
		parts = slices.Delete(parts, worst, worst+1)
	}
	// The trail's "where" is cut before the stream's health.
	for i := len(parts) - 1; i >= 0; i-- {
		if over := need() - room; over > 0 && parts[i].cut && len(parts) > 1 {
			p := &parts[i]
			p.text = truncate(p.text, max(width(p.text)-over, 8))
		}
	}
	texts := make([]string, len(parts))
	for i, p := range parts {
		texts[i] = p.text
	}
	mid := " " + strings.Join(texts, sep)
	line := left + st.StatusBar.Render(fit(mid, max(room, 0))+" "+clockText)
	return fit(line, m.width)
}

// runState is a confirmed plan still running.
type runState struct {
	id    int
	title string
	since time.Time
	seq   int64 // the store's seq when it was confirmed
}

// runPart says that a confirmed plan still runs, for how long, and how
// many of its actions the journal holds so far; "" when none runs.
func (m *Model) runPart(now time.Time) string {
	if len(m.runs) == 0 {
		return ""
	}
	r := m.runs[0]
	n := 0
	for i := len(m.store.Actions) - 1; i >= 0 && m.store.Actions[i].IntentSeq > r.seq; i-- {
		n++
	}
	s := "▶ running " + now.Sub(r.since).Round(time.Second).String()
	if len(m.runs) > 1 {
		s = fmt.Sprintf("▶ %d plans running, first %s", len(m.runs), now.Sub(r.since).Round(time.Second))
	}
	return s + " · " + state.Plural(n, "action") + " journaled"
}

// liveLag is how far behind now a source is: from the newest event it has
// delivered when it is healthy (the stream journals health only when it
// changes, so the journaled lag ages), else the journaled lag.
func liveLag(h state.StreamHealth, now time.Time) time.Duration {
	if h.Status == "ok" && !h.NewestAt.IsZero() && now.After(h.NewestAt) {
		return now.Sub(h.NewestAt).Round(time.Second)
	}
	return durationOf(h.Lag)
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

// footer draws the bottom line: the active input, a message, or the keys
// that apply now.
func (m *Model) footer(v *viewCtx) string {
	w := m.width
	if m.inputKind != inputNone {
		in := m.input.Render(v.st, w)
		if m.inputHint != "" {
			inW := min(width(m.input.prompt)+len(m.input.value)+3, w/2)
			in = fit(m.input.Render(v.st, max(inW, w-width(m.inputHint)-2)), max(w-width(m.inputHint)-2, inW))
			style := v.st.Subtle
			if strings.HasPrefix(m.inputHint, "✗") {
				style = v.st.Error
			}
			in += "  " + style.Render(m.inputHint)
		}
		return fit(in, w)
	}
	if m.message != "" {
		style := v.st.Accent
		if m.messageErr {
			style = v.st.Error
		}
		return style.Render(fit(m.message, w))
	}
	return m.shortHelpLine(v, m.ShortHelp(), w)
}

// shortHelpLine draws bindings as "key desc · key desc", most important
// first: when the full descriptions do not all fit, each gets its short
// word (hintWord), and what still does not fit is dropped from the end.
func (m *Model) shortHelpLine(v *viewCtx, bs []key.Binding, w int) string {
	draw := func(short bool) (string, bool) {
		var sb strings.Builder
		used := 0
		sep := v.st.HelpSep.Render(" · ")
		for _, b := range bs {
			if !b.Enabled() {
				continue
			}
			h := b.Help()
			desc := h.Desc
			if short {
				desc = hintWord(desc)
			}
			need := width(h.Key + " " + desc)
			if used > 0 {
				need += 3
			}
			if used+need > w {
				return sb.String(), false
			}
			if used > 0 {
				sb.WriteString(sep)
			}
			sb.WriteString(v.st.HelpKey.Render(h.Key) + " " + v.st.HelpDesc.Render(desc))
			used += need
		}
		return sb.String(), true
	}
	line, all := draw(false)
	if !all {
		line, _ = draw(true)
	}
	return fit(line, w)
}

// helpView draws the full help for what applies now, and the legend of the
// marks, in columns.
func (m *Model) helpView(v *viewCtx, w, h int) string {
	type group struct {
		title string
		lines []string
	}
	var groups []group
	render := func(title string, bs []key.Binding) {
		g := group{title: title}
		for _, b := range bs {
			if b.Enabled() {
				g.lines = append(g.lines, v.st.HelpKey.Render(fit(b.Help().Key, 10))+" "+v.st.HelpDesc.Render(b.Help().Desc))
			}
		}
		if len(g.lines) > 0 {
			groups = append(groups, g)
		}
	}
	for i, bs := range m.panes[m.focus].FullHelp(m.keys) {
		t := paneNames[m.focus]
		if i > 0 {
			t += " (more)"
		}
		render(t, bs)
	}
	for _, g := range m.keys.Groups() {
		if g.Name == "Lists" || g.Name == "Stream" {
			continue
		}
		title := strings.ToLower(g.Name)
		if g.Dangerous {
			title += " (asks to confirm)"
		}
		render(title, g.Bindings)
	}
	// Every command : and tab offer now, from the same table.
	cg := group{title: "commands (: name, tab completes, enter runs)"}
	for _, c := range m.commands() {
		cg.lines = append(cg.lines, v.st.HelpKey.Render(fit(":"+c.name+suffix(" ", c.args), 16))+" "+v.st.HelpDesc.Render(c.desc))
	}
	groups = append(groups, cg)
	legend := group{title: "marks"}
	for _, mk := range legendMarks(v.st) {
		legend.lines = append(legend.lines, mk.style.Render(mk.glyph)+"  "+mk.meaning)
	}
	groups = append(groups, legend)

	colW := 46
	cols := max(w/colW, 1)
	colW = w / cols
	var columns [][]string
	cur := []string{}
	for _, g := range groups {
		need := len(g.lines) + 2
		if len(cur) > 0 && len(cur)+need > h && len(columns) < cols-1 {
			columns = append(columns, cur)
			cur = []string{}
		}
		cur = append(cur, v.st.Accent.Render(g.title))
		cur = append(cur, g.lines...)
		cur = append(cur, "")
	}
	columns = append(columns, cur)
	var blocks []string
	for _, c := range columns {
		top := min(m.helpTop, max(len(c)-h, 0))
		blocks = append(blocks, block(strings.Join(c[top:], "\n"), colW, h))
	}
	return block(joinH(blocks...), w, h)
}

// legendMark is one glyph of the help's legend and what it means.
type legendMark struct {
	glyph, meaning string
	style          lipgloss.Style
}

// legendMarks are the glyphs the panes draw, each with one meaning.
func legendMarks(st *themes.Styles) []legendMark {
	var out []legendMark
	for _, c := range []state.Class{state.ClassRecon, state.ClassCredentialAccess, state.ClassPersistence, state.ClassPrivEsc, state.ClassDefenseEvasion, state.ClassImpact, state.ClassImpersonation} {
		out = append(out, legendMark{classGlyph[c], c.String(), st.Severity[c.Level()-1]})
	}
	return append(out,
		legendMark{markSuspect, "suspect (and its key family)", st.Suspect},
		legendMark{markOurs, "our own call", st.Ours},
		legendMark{markUnvouched, "from a log file no valid digest vouches for", st.Danger},
		legendMark{"+", "new since the incident began", st.New},
		legendMark{"A", "admin-equivalent", st.Base},
		legendMark{"✓", "action verified", st.Base},
		legendMark{"✗", "action failed", st.Base},
		legendMark{"?", "outcome or verdict not known", st.Base},
	)
}

// ThemeName returns the name of the theme in use.
func (m *Model) ThemeName() string { return m.theme.Name }

// setTheme switches themes by name.
func (m *Model) setTheme(name string) error {
	th, err := themes.Select(name, m.opts.NoColor, m.theme.Dark)
	if err != nil {
		return err
	}
	m.theme, m.autoTheme = th, false
	return nil
}

// unreachablePart names the accounts a verdict could not read (an
// "account" foothold: the role refused, an SCP, a missing role), the first
// two by id: " · account 210987654321 unreachable", "" when none.
func unreachablePart(v state.Verdict) string {
	var ids []string
	for _, f := range append(slices.Clone(v.Unsure), v.Open...) {
		if f.Kind == "account" && !slices.Contains(ids, f.ID) {
			ids = append(ids, clean(f.ID))
		}
	}
	switch len(ids) {
	case 0:
		return ""
	case 1:
		return " · account " + ids[0] + " unreachable"
	case 2:
		return " · accounts " + ids[0] + ", " + ids[1] + " unreachable"
	}
	return " · accounts " + ids[0] + ", " + ids[1] + " +" + itoa(len(ids)-2) + " unreachable"
}

// verdictPart is the newest verdict read back from AWS, for the status
// line: "✓ contained 04:12", "✗ not contained: 3 open 04:12", "? unsure: 2
// 04:12"; "(old)" when containment actions were journaled after it.
func verdictPart(s *state.Store) string {
	var newest *state.Dated[state.Verdict]
	for _, d := range s.Verdicts {
		if newest == nil || d.Seq > newest.Seq {
			d := d
			newest = &d
		}
	}
	if newest == nil {
		return ""
	}
	v := newest.V
	var out string
	switch v.Word() {
	case "contained":
		out = "✓ contained"
	case "unsure":
		out = fmt.Sprintf("? unsure: %d", len(v.Unsure))
	default:
		out = fmt.Sprintf("✗ not contained: %d open", len(v.Open))
	}
	out += unreachablePart(v)
	out += " " + v.CheckedAt.UTC().Format("15:04")
	for _, a := range s.Actions {
		if a.At.After(newest.At) {
			return out + " (old)"
		}
	}
	return out
}
