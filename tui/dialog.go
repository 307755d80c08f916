package tui

import (
	"github.com/warroom-ir/warroom/state"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/themes"
)

// dialogKind is what a dialog asks.
type dialogKind int

const (
	dialogQuit dialogKind = iota + 1
	dialogPlan
)

// Buttons, in focus order. Cancel is first and focused when a dialog opens.
const (
	buttonCancel = 0
	buttonOK     = 1
)

// dialog is a modal confirmation: quitting, or running a containment plan.
// It ignores keys for a moment after it opens (keys typed for the screen
// before must not confirm it), focuses Cancel, and for an irreversible plan
// asks for the target's name to be typed; typing into that field moves the
// focus to the confirm button, so enter after the name confirms (and after
// a wrong name refuses, saying why).
type dialog struct {
	kind     dialogKind
	plan     Plan
	openedAt time.Time
	delay    time.Duration
	button   int
	typed    lineInput
	top      int // scroll of the plan text
	// Set by the last render: how many body lines were shown (a page),
	// how many there are, and where the buttons were drawn, relative to
	// the box's top-left corner (for mouse clicks).
	rows, total int
	hits        dialogHits
}

// dialogHits is where the last render put the box and its buttons.
type dialogHits struct {
	x, y, w, h    int // the box on the screen
	btnY          int // the buttons' line, from the box's top
	cancel, okBtn [2]int
}

func newQuitDialog(now time.Time, delay time.Duration) *dialog {
	return &dialog{kind: dialogQuit, openedAt: now, delay: delay}
}

func newPlanDialog(p Plan, now time.Time, delay time.Duration) *dialog {
	d := &dialog{kind: dialogPlan, plan: p, openedAt: now, delay: delay}
	d.typed.prompt = "type " + clean(p.Target.Name) + " to confirm:"
	return d
}

// typesName reports whether the plan needs the target's name typed: an
// irreversible plan, or one that asks for it (Plan.Confirm).
func (d *dialog) typesName() bool {
	if d.kind != dialogPlan {
		return false
	}
	return d.plan.Confirm || d.irreversible()
}

// irreversible reports whether the plan, or one of its calls, cannot be
// undone.
func (d *dialog) irreversible() bool {
	if d.kind != dialogPlan {
		return false
	}
	if d.plan.Irreversible {
		return true
	}
	for _, c := range d.plan.Calls {
		if c.Irreversible {
			return true
		}
	}
	return false
}

// armed reports whether the dialog accepts keys yet.
func (d *dialog) armed(now time.Time) bool { return !now.Before(d.openedAt.Add(d.delay)) }

// canConfirm reports whether the OK button does anything.
func (d *dialog) canConfirm() bool {
	return !d.typesName() || d.typed.Value() == clean(d.plan.Target.Name)
}

// refusal says why the typed confirmation does not confirm.
func (d *dialog) refusal() string {
	name := clean(d.plan.Target.Name)
	if d.typed.Value() == "" {
		what := "irreversible"
		if !d.irreversible() {
			what = "disruptive"
		}
		return "not run: type " + name + " to confirm this " + what + " plan (esc cancels)"
	}
	return "not run: typed " + clean(d.typed.Value()) + " does not match " + name + " (esc cancels)"
}

// what names what the dialog would do, for the flash line.
func (d *dialog) what() string {
	if d.kind == dialogQuit {
		return "quit"
	}
	return clean(d.plan.Title)
}

// scroll moves the plan text by n lines (clamped when drawn).
func (d *dialog) scroll(n int) {
	d.top = max(min(d.top+n, d.total-d.rows), 0)
}

func (d *dialog) okLabel() string {
	if d.kind == dialogQuit {
		return "Quit"
	}
	return "Run plan"
}

// summary counts what a plan holds, as contain --plan heads it.
func (d *dialog) summary() string {
	p := d.plan
	parts := []string{plural(max(len(p.Steps), 1), "step"), plural(len(p.Calls), "call")}
	if len(p.Steps) > 0 || len(p.LeftAlone) > 0 || len(p.Unsure) > 0 {
		parts = append(parts, itoa(len(p.LeftAlone))+" left alone", itoa(len(p.Unsure))+" unsure")
	}
	return strings.Join(parts, " · ")
}

func plural(n int, word string) string { return state.Plural(n, word) }

// lines returns the dialog's body text, before wrapping.
func (d *dialog) lines() []string {
	if d.kind == dialogQuit {
		return []string{"Quit warroom?", "", "The journal is on disk; replay it any time."}
	}
	p := d.plan
	out := []string{clean(p.Title), d.summary(), ""}
	out = append(out, "target: "+clean(string(p.Target.Kind))+" "+clean(p.Target.ID)+suffix(" in ", clean(p.Target.Region)))
	if p.Target.ARN != "" {
		out = append(out, "        "+clean(p.Target.ARN))
	}
	if p.Impact != "" {
		out = append(out, "impact: "+clean(p.Impact))
	}
	if len(p.Steps) == 0 {
		out = append(out, "", "calls, exactly as they will be sent:")
		for _, c := range p.Calls {
			out = append(out, planCallLines(c)...)
		}
	}
	for i, st := range p.Steps {
		out = append(out, "", "["+itoa(i+1)+"/"+itoa(len(p.Steps))+"] "+clean(st.Name)+suffix(" — ", clean(st.Why)))
		if st.Err != "" {
			out = append(out, "  ✗ cannot plan (skipped): "+clean(st.Err))
			continue
		}
		for _, c := range st.Calls {
			for _, l := range planCallLines(c) {
				out = append(out, "  "+l)
			}
		}
	}
	if len(p.LeftAlone) > 0 {
		out = append(out, "", "left alone (stays open in the verdict):")
		for _, o := range p.LeftAlone {
			out = append(out, "  ✗ "+clean(o))
		}
	}
	if len(p.Unsure) > 0 {
		out = append(out, "", "unsure: made after the leak, creator not yet in CloudTrail (not acted on):")
		for _, o := range p.Unsure {
			out = append(out, "  ? "+clean(o))
		}
	}
	if p.Undo != "" {
		out = append(out, "", "undo: "+clean(p.Undo))
	}
	if len(p.Warnings) > 0 {
		out = append(out, "")
	}
	for _, w := range p.Warnings {
		out = append(out, "! "+clean(w))
	}
	return out
}

// wrapLine wraps a plain line to w cells; the lines it continues on are
// indented two cells past the line's own indent.
func wrapLine(s string, w int) []string {
	if w < 12 || width(s) <= w {
		return []string{s}
	}
	n := len(s) - len(strings.TrimLeft(s, " "))
	ind := strings.Repeat(" ", min(n, w/3))
	parts := strings.Split(ansi.Wrap(s[n:], w-len(ind)-2, ""), "\n")
	out := make([]string, len(parts))
	for i, l := range parts {
		if i == 0 {
			out[i] = ind + l
		} else {
			out[i] = ind + "  " + l
		}
	}
	return out
}

// dialogWidth is the outer width of a dialog on a w-cell screen: most of
// it, at least 76 cells when there are, at most 110.
func dialogWidth(w int) int { return min(w, max(w*3/4, 76), 110) }

// render draws the dialog box at most w×h cells.
func (d *dialog) render(st *themes.Styles, w, h int, now time.Time) string {
	boxW := dialogWidth(w)
	if d.kind == dialogQuit {
		boxW = min(w, 56)
	}
	inner := boxW - 4 // border and padding
	var body []string
	for _, l := range d.lines() {
		body = append(body, wrapLine(l, inner)...)
	}
	// Footer: confirmation field and buttons.
	var foot []string
	switch {
	case d.typesName() && d.irreversible():
		foot = append(foot, st.Danger.Render(fit("✗ irreversible: cannot be undone", inner)))
	case d.typesName():
		foot = append(foot, st.Danger.Render(fit("! disruptive: it stops "+clean(string(d.plan.Target.Kind))+" "+clean(d.plan.Target.ID)+" until undone", inner)))
	}
	if d.typesName() {
		foot = append(foot, d.typed.Render(st, inner))
	}
	cancel, ok := st.Button.Render("Cancel"), st.Button.Render(d.okLabel())
	if d.button == buttonCancel {
		cancel = st.ButtonFocused.Render("[Cancel]")
	} else {
		ok = st.ButtonFocused.Render("[" + d.okLabel() + "]")
	}
	cancelW, okW := width(cancel), width(ok)
	btn := cancel + "  " + ok
	if d.button == buttonOK && !d.canConfirm() {
		btn += st.Subtle.Render(" (type the name first)")
	}
	if !d.armed(now) {
		btn += st.Subtle.Render("  …")
	}
	btnW := width(btn)
	room := max(h-2-len(foot)-2, 1) // border, footer, buttons, a blank line
	d.rows, d.total = min(room, len(body)), len(body)
	d.top = max(min(d.top, len(body)-room), 0)
	if len(body) > room {
		pos := "lines " + itoa(d.top+1) + "–" + itoa(min(d.top+room, len(body))) + " of " + itoa(len(body)) + " · pgup/pgdn home/end"
		if btnW+2+width(pos) > inner {
			pos = itoa(d.top+1) + "–" + itoa(min(d.top+room, len(body))) + "/" + itoa(len(body))
		}
		if gap := inner - btnW - width(pos); gap >= 2 {
			btn += strings.Repeat(" ", gap) + st.Subtle.Render(pos)
		}
	}
	foot = append(foot, btn)
	shown := body[d.top:min(d.top+room, len(body))]
	lines := make([]string, 0, len(shown)+len(foot))
	for _, l := range shown {
		lines = append(lines, fit(l, inner))
	}
	lines = append(lines, fit("", inner)) // a blank line above the footer
	for _, l := range foot {
		lines = append(lines, fit(l, inner))
	}
	d.hits.btnY = 1 + len(lines) - 1
	d.hits.cancel = [2]int{2, 2 + cancelW}
	d.hits.okBtn = [2]int{2 + cancelW + 2, 2 + cancelW + 2 + okW}
	style := st.Dialog
	if d.typesName() {
		style = st.DialogDanger
	}
	return style.Render(strings.Join(lines, "\n"))
}

// buttonAt returns the button drawn at screen cell (x, y), or -1.
func (d *dialog) buttonAt(x, y int) int {
	h := d.hits
	if y != h.y+h.btnY {
		return -1
	}
	switch x -= h.x; {
	case x >= h.cancel[0] && x < h.cancel[1]:
		return buttonCancel
	case x >= h.okBtn[0] && x < h.okBtn[1]:
		return buttonOK
	}
	return -1
}

// overlay draws box centred over base (a w×h block) and returns where the
// box's top-left corner went.
func overlay(base, box string, w, h int) (out string, x0, y0 int) {
	bl := strings.Split(base, "\n")
	ol := strings.Split(box, "\n")
	bw := 0
	for _, l := range ol {
		bw = max(bw, width(l))
	}
	bw = min(bw, w)
	y0 = max((h-len(ol))/2, 0)
	x0 = max((w-bw)/2, 0)
	for i, l := range ol {
		y := y0 + i
		if y >= len(bl) {
			break
		}
		left := truncateCells(bl[y], x0)
		right := cutLeft(bl[y], x0+bw)
		bl[y] = left + "\x1b[m" + fit(l, bw) + "\x1b[m" + right
		bl[y] = fit(bl[y], w)
	}
	return strings.Join(bl, "\n"), x0, y0
}

// typedChanged moves the focus after the confirmation field changed:
// typing the name means confirming, so the confirm button takes the
// focus (enter then runs the plan, or refuses a wrong name saying why);
// an emptied field gives it back to Cancel.
func (d *dialog) typedChanged() {
	if d.typed.Value() == "" {
		d.button = buttonCancel
	} else {
		d.button = buttonOK
	}
}

// navigate scrolls the plan text.
func (d *dialog) navigate(n nav) {
	page := max(d.rows-1, 1)
	switch n {
	case navUp:
		d.scroll(-1)
	case navDown:
		d.scroll(1)
	case navPageUp:
		d.scroll(-page)
	case navPageDown:
		d.scroll(page)
	case navTop:
		d.top = 0
	case navBottom:
		d.scroll(d.total)
	}
}
