package tui

import (
	"strings"
	"time"

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
// asks for the target's name to be typed.
type dialog struct {
	kind     dialogKind
	plan     Plan
	openedAt time.Time
	delay    time.Duration
	button   int
	typed    lineInput
	top      int // scroll of the plan text
}

func newQuitDialog(now time.Time, delay time.Duration) *dialog {
	return &dialog{kind: dialogQuit, openedAt: now, delay: delay}
}

func newPlanDialog(p Plan, now time.Time, delay time.Duration) *dialog {
	d := &dialog{kind: dialogPlan, plan: p, openedAt: now, delay: delay}
	d.typed.prompt = "type " + clean(p.Target.Name) + " to confirm:"
	return d
}

// irreversible reports whether the plan needs the target's name typed.
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
	return !d.irreversible() || d.typed.Value() == clean(d.plan.Target.Name)
}

func (d *dialog) okLabel() string {
	if d.kind == dialogQuit {
		return "Quit"
	}
	return "Run plan"
}

// lines returns the dialog's body text.
func (d *dialog) lines() []string {
	if d.kind == dialogQuit {
		return []string{"Quit warroom?", "", "The journal is on disk; replay it any time."}
	}
	p := d.plan
	out := []string{clean(p.Title), ""}
	out = append(out, "target: "+clean(string(p.Target.Kind))+" "+clean(p.Target.ID)+suffix(" in ", clean(p.Target.Region)))
	if p.Target.ARN != "" {
		out = append(out, "        "+clean(p.Target.ARN))
	}
	out = append(out, "", "calls, exactly as they will be sent:")
	for _, c := range p.Calls {
		out = append(out, planCallLines(c)...)
	}
	if p.Undo != "" {
		out = append(out, "", "undo: "+clean(p.Undo))
	}
	for _, w := range p.Warnings {
		out = append(out, "! "+clean(w))
	}
	return out
}

// render draws the dialog box at most w×h cells.
func (d *dialog) render(st *themes.Styles, w, h int, now time.Time) string {
	boxW := min(max(w*3/4, 40), w, 100)
	inner := boxW - 4 // border and padding
	body := d.lines()
	// Footer: confirmation field and buttons.
	var foot []string
	if d.irreversible() {
		foot = append(foot, st.Danger.Render(fit("✗ irreversible: cannot be undone", inner)))
		foot = append(foot, d.typed.Render(st, inner))
	}
	cancel, ok := st.Button.Render("Cancel"), st.Button.Render(d.okLabel())
	if d.button == buttonCancel {
		cancel = st.ButtonFocused.Render("[Cancel]")
	} else {
		label := "[" + d.okLabel() + "]"
		if !d.canConfirm() {
			label += " (type the name first)"
		}
		ok = st.ButtonFocused.Render(label)
	}
	btn := cancel + "  " + ok
	if !d.armed(now) {
		btn += st.Subtle.Render("  …")
	}
	foot = append(foot, "", btn)
	room := max(h-2-len(foot), 1)
	d.top = max(min(d.top, len(body)-room), 0)
	shown := body[d.top:min(d.top+room, len(body))]
	if len(body) > room {
		shown = append(shown[:len(shown)-1:len(shown)-1], st.Subtle.Render("… ↑/↓ scroll the plan"))
	}
	lines := make([]string, 0, len(shown)+len(foot))
	for _, l := range shown {
		lines = append(lines, fit(l, inner))
	}
	for _, l := range foot {
		lines = append(lines, fit(l, inner))
	}
	style := st.Dialog
	if d.irreversible() {
		style = st.DialogDanger
	}
	return style.Render(strings.Join(lines, "\n"))
}

// overlay draws box centred over base (a w×h block).
func overlay(base, box string, w, h int) string {
	bl := strings.Split(base, "\n")
	ol := strings.Split(box, "\n")
	bw := 0
	for _, l := range ol {
		bw = max(bw, width(l))
	}
	bw = min(bw, w)
	y0 := max((h-len(ol))/2, 0)
	x0 := max((w-bw)/2, 0)
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
	return strings.Join(bl, "\n")
}
