package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/state"
)

// openQuarantine opens the irreversible plan for ci-deploy and waits out
// the dialog's first moment.
func openQuarantine(t *testing.T, c *fakeContainment, w, h int) (*Model, *clockAt) {
	t.Helper()
	m, clk := newTestModel(t, Options{Containment: c, Journal: &recJournal{}}, w, h)
	for _, k := range []tea.KeyPressMsg{key1('2'), keyDown, keyDown, key1('Q')} {
		exec(m, press(m, k))
	}
	if m.dialog == nil || !m.dialog.typesName() {
		t.Fatalf("no irreversible plan dialog; message %q", m.message)
	}
	clk.advance(time.Second)
	return m, clk
}

// TestConfirmByTypingName is defect 2 of issue 14: typing the target's name
// and pressing enter closed the dialog silently (enter pressed the focused
// Cancel). Typing moves the focus to the confirm button, so enter after the
// right name runs the plan; after a wrong name it refuses, saying why; and
// every cancel says so in the flash line.
func TestConfirmByTypingName(t *testing.T) {
	t.Run("name and enter runs", func(t *testing.T) {
		c := &fakeContainment{}
		m, _ := openQuarantine(t, c, 80, 24)
		press(m, runes("ci-deploy")...)
		if !strings.Contains(ansi.Strip(m.Render()), "[Run plan]") {
			t.Error("the confirm button is not focused after the name was typed")
		}
		exec(m, press(m, keyEnter))
		if len(c.runs) != 1 || m.dialog != nil {
			t.Fatalf("runs %d, dialog open %v, message %q", len(c.runs), m.dialog != nil, m.message)
		}
		if !strings.Contains(ansi.Strip(m.Render()), "plan sent") {
			t.Errorf("the flash line does not say the plan was sent: %q", m.message)
		}
	})
	t.Run("wrong name and enter refuses", func(t *testing.T) {
		c := &fakeContainment{}
		m, _ := openQuarantine(t, c, 80, 24)
		press(m, runes("ci-deplo")...)
		exec(m, press(m, keyEnter))
		if len(c.runs) != 0 || m.dialog == nil {
			t.Fatalf("runs %d, dialog open %v", len(c.runs), m.dialog != nil)
		}
		footer := ansi.Strip(lastLine(m.Render()))
		if !strings.Contains(footer, "does not match ci-deploy") {
			t.Errorf("no reason in the flash line: %q", footer)
		}
		// Fixed, it runs.
		press(m, key1('y'))
		exec(m, press(m, keyEnter))
		if len(c.runs) != 1 {
			t.Errorf("the corrected name did not run the plan: %q", m.message)
		}
	})
	t.Run("esc cancels, saying so", func(t *testing.T) {
		c := &fakeContainment{}
		m, _ := openQuarantine(t, c, 80, 24)
		press(m, runes("ci-deploy")...)
		press(m, keyEsc)
		if m.dialog != nil || len(c.runs) != 0 {
			t.Fatal("esc did not cancel")
		}
		if footer := ansi.Strip(lastLine(m.Render())); !strings.Contains(footer, "cancelled") || !strings.Contains(footer, "not run") {
			t.Errorf("cancel was silent: %q", footer)
		}
	})
	t.Run("enter on cancel cancels, saying so", func(t *testing.T) {
		c := &fakeContainment{}
		m, _ := openQuarantine(t, c, 80, 24)
		press(m, keyEnter)
		if m.dialog != nil || !strings.Contains(m.message, "cancelled") {
			t.Errorf("dialog open %v, message %q", m.dialog != nil, m.message)
		}
	})
	t.Run("tab back to cancel after typing cancels", func(t *testing.T) {
		c := &fakeContainment{}
		m, _ := openQuarantine(t, c, 80, 24)
		press(m, runes("ci-deploy")...)
		press(m, keyTab, keyEnter)
		if m.dialog != nil || len(c.runs) != 0 || !strings.Contains(m.message, "cancelled") {
			t.Errorf("dialog open %v, runs %d, message %q", m.dialog != nil, len(c.runs), m.message)
		}
	})
	t.Run("quit cancelled says so", func(t *testing.T) {
		m, clk := newTestModel(t, Options{}, 80, 24)
		press(m, key1('q'))
		clk.advance(time.Second)
		press(m, keyEsc)
		if m.dialog != nil || m.message != "quit cancelled" {
			t.Errorf("message %q", m.message)
		}
	})
}

func lastLine(s string) string { return s[strings.LastIndexByte(s, '\n')+1:] }

// bigPlan is a playbook the size the drill gives: many steps, each with a
// policy document, a long warning, footholds left alone and unsure.
type bigPlan struct{ fakeContainment }

func (c *bigPlan) Plan(_ context.Context, action string, t Target) (Plan, error) {
	p := Plan{ID: "pb-1", Action: action, Target: t, Title: "Contain the credential " + t.ID + " and everything it made", Irreversible: true}
	p.Target.Name = t.ID
	for i := range 12 {
		calls := []state.Call{{API: "iam:PutUserPolicy", Params: map[string]string{"UserName": fmt.Sprintf("user-%d", i),
			"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`}}}
		if i == 3 {
			calls[0].Irreversible = true
		}
		p.Steps = append(p.Steps, PlanStep{Name: "quarantine-user", Why: fmt.Sprintf("user-%d was created by the leaked key at 01:0%d", i, i%10), Calls: calls})
		p.Calls = append(p.Calls, calls...)
	}
	p.LeftAlone = []string{"the company's deploy role ci-role (used before the leak)"}
	p.Unsure = []string{"instance i-0123 in eu-west-1 made after the leak, creator not in CloudTrail yet", "key pair backdoor in us-east-1"}
	p.Warnings = []string{"after these steps the playbook keeps reading the account back, containing what turns up in the same way, until the verdict is read back as contained (or 15 minutes pass); the verdict is journaled"}
	return p, nil
}

var (
	keyPgDown = tea.KeyPressMsg{Code: tea.KeyPgDown}
	keyPgUp   = tea.KeyPressMsg{Code: tea.KeyPgUp}
	keyHome   = tea.KeyPressMsg{Code: tea.KeyHome}
	keyEnd    = tea.KeyPressMsg{Code: tea.KeyEnd}
	keyCtrlD  = tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl}
	keyCtrlU  = tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
)

// TestPlanDialogLong is defect 9 of issue 14: a playbook of 200+ lines
// could only be scrolled a line at a time, had no step numbers or counts,
// cut long lines at the box edge and showed 8 lines at 80×24.
func TestPlanDialogLong(t *testing.T) {
	c := &bigPlan{}
	m, clk := newTestModel(t, Options{Containment: c, Journal: &recJournal{}}, 80, 24)
	exec(m, press(m, key1('2'), keyDown, keyDown, keyDown, key1('C')))
	d := m.dialog
	if d == nil {
		t.Fatalf("no dialog: %q", m.message)
	}
	clk.advance(time.Second)
	screen := ansi.Strip(m.Render())
	for _, want := range []string{"12 steps · 12 calls · 1 left alone · 2 unsure", "[1/12] quarantine-user — user-0 was created"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the plan does not show %q:\n%s", want, screen)
		}
	}
	if d.rows < 14 {
		t.Errorf("%d plan lines shown at 80x24, want at least 14", d.rows)
	}
	if !strings.Contains(screen, "of "+itoa(d.total)) {
		t.Errorf("no scroll position shown:\n%s", screen)
	}
	step := func(k tea.KeyPressMsg, want int) {
		t.Helper()
		press(m, k)
		m.Render()
		if d.top != want {
			t.Errorf("after %s the plan is at line %d, want %d", k, d.top, want)
		}
	}
	page, last := d.rows-1, d.total-d.rows
	step(keyPgDown, page)
	step(keyPgUp, 0)
	step(keyCtrlD, m.halfPage())
	step(keyCtrlU, 0)
	step(keyEnd, last)
	screen = ansi.Strip(m.Render())
	// The long last warning is wrapped, not cut: its end is on screen.
	if !strings.Contains(screen, "the verdict is journaled") {
		t.Errorf("the long warning was cut:\n%s", screen)
	}
	for _, want := range []string{"left alone (stays open in the verdict):", "? key pair backdoor"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the end of the plan does not show %q", want)
		}
	}
	step(keyHome, 0)
	// In an irreversible plan letters are the name being typed, not keys.
	press(m, key1('G'))
	if d.top != 0 || d.typed.Value() != "G" {
		t.Errorf("G scrolled (top %d) or was not typed (%q)", d.top, d.typed.Value())
	}
	// The wheel scrolls the plan.
	m.Update(tea.MouseWheelMsg{X: 40, Y: 12, Button: tea.MouseWheelDown})
	if d.top != wheelStep {
		t.Errorf("the wheel scrolled to %d, want %d", d.top, wheelStep)
	}
	checkFrame(t, m.Render(), 80, 24)
}

// TestWrapLine: long lines wrap at the width with their indent kept.
func TestWrapLine(t *testing.T) {
	got := wrapLine("    PolicyDocument: "+strings.Repeat("abcdefghij ", 8), 30)
	if len(got) < 3 {
		t.Fatalf("not wrapped: %q", got)
	}
	for i, l := range got {
		if width(l) > 30 {
			t.Errorf("line %d is %d wide: %q", i, width(l), l)
		}
		if i > 0 && !strings.HasPrefix(l, "      ") {
			t.Errorf("continuation %d lost its indent: %q", i, l)
		}
	}
}

// TestLegendOneMeaningEach is part of defect 10 of issue 14: the legend
// used + (persistence, new) and ? (recon, outcome unknown) twice.
func TestLegendOneMeaningEach(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 80, 24)
	seen := map[string]string{}
	for _, mk := range legendMarks(&m.theme.Styles) {
		if prev, ok := seen[mk.glyph]; ok {
			t.Errorf("%q means both %q and %q", mk.glyph, prev, mk.meaning)
		}
		seen[mk.glyph] = mk.meaning
	}
}

// TestHelpListsEveryCommand: ? lists every command that : and tab offer,
// the program's included (defect 10 of issue 14: it listed only those).
func TestHelpListsEveryCommand(t *testing.T) {
	for _, opts := range []Options{
		{Containment: &fakeContainment{}, Journal: &recJournal{}},
		{Mode: ModeFollow},
	} {
		opts.Commands = []Command{{Name: "debrief", Help: "the drill's debrief", Run: func(context.Context) (string, error) { return "", nil }}}
		m, _ := newTestModel(t, opts, 200, 60)
		press(m, key1(':'))
		press(m, keyTab)
		offered := strings.Fields(m.inputHint)
		if len(offered) < 10 {
			t.Fatalf(": tab offers only %q", m.inputHint)
		}
		press(m, keyEsc, key1('?'))
		var screen string
		for range 10 { // every page of help
			screen += ansi.Strip(m.Render())
			press(m, keyPgDown)
		}
		for _, c := range offered {
			if !strings.Contains(screen, ":"+c) {
				t.Errorf("%s: help does not list :%s", opts.Mode, c)
			}
		}
		if opts.Mode == ModeFollow && strings.Contains(screen, ":contain") {
			t.Error("help lists :contain where : does not offer it")
		}
	}
}

// TestHintBar is part of defect 10 of issue 14: the footer never showed s,
// D, C or ?. It shows them first, fitting the width.
func TestHintBar(t *testing.T) {
	for _, w := range []int{80, 120, 200} {
		m, _ := newTestModel(t, Options{Containment: &fakeContainment{}, Journal: &recJournal{}}, w, 40)
		for _, p := range []rune{'1', '2', '4'} {
			press(m, key1(p))
			footer := ansi.Strip(lastLine(m.Render()))
			for _, want := range []string{"? help", "s suspect", "D deactivate", "C contain"} {
				if !strings.Contains(footer, want) {
					t.Errorf("%d wide, pane %c: footer %q lacks %q", w, p, footer, want)
				}
			}
		}
	}
	// Read-only: the containment keys are not offered.
	m, _ := newTestModel(t, Options{Mode: ModeReadOnly, Journal: &recJournal{}}, 120, 40)
	if footer := ansi.Strip(lastLine(m.Render())); strings.Contains(footer, "D ") || !strings.Contains(footer, "? help") {
		t.Errorf("read-only footer %q", footer)
	}
}

// TestRefusedKeysSay is defect 5 of issue 14 and the flash line: a key that
// does nothing says why.
func TestRefusedKeysSay(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		keys []tea.KeyPressMsg
		want string
	}{
		{"s in follow", Options{Mode: ModeFollow}, []tea.KeyPressMsg{key1('s')}, "follower does not write the journal"},
		{"n in follow", Options{Mode: ModeFollow}, []tea.KeyPressMsg{key1('n')}, "follower does not write the journal"},
		{"D in follow", Options{Mode: ModeFollow}, []tea.KeyPressMsg{key1('D')}, "contain from the console that drives"},
		{"C in follow", Options{Mode: ModeFollow}, []tea.KeyPressMsg{key1('C')}, "contain from the console that drives"},
		{"D in read-only", Options{Mode: ModeReadOnly, Containment: &fakeContainment{}}, []tea.KeyPressMsg{key1('D')}, "off in read-only mode"},
		{"C in read-only", Options{Mode: ModeReadOnly, Containment: &fakeContainment{}}, []tea.KeyPressMsg{key1('C')}, "off in read-only mode"},
		{"D in replay", Options{Mode: ModeReplay}, []tea.KeyPressMsg{key1('D')}, "cannot act on AWS"},
		{"space outside a replay", Options{Mode: ModeLive}, []tea.KeyPressMsg{{Code: tea.KeySpace, Text: " "}}, "only in a replay"},
		{"e outside the journal", Options{}, []tea.KeyPressMsg{key1('e')}, "press 4 first"},
		{"an unbound key", Options{}, []tea.KeyPressMsg{key1('w')}, "w: not a key here"},
		{"s on a Region", Options{Journal: &recJournal{}}, []tea.KeyPressMsg{key1('3'), key1('s')}, "select a key or a principal"},
		{"an empty note", Options{Journal: &recJournal{}}, []tea.KeyPressMsg{key1('n'), keyEnter}, "empty note"},
		{"a key in a dialog", Options{}, []tea.KeyPressMsg{key1('q')}, "not a key in this dialog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newTestModel(t, tt.opts, 80, 24)
			for _, k := range tt.keys {
				exec(m, press(m, k))
			}
			if tt.name == "a key in a dialog" {
				clk.advance(time.Second)
				press(m, key1('x'))
			}
			footer := ansi.Strip(lastLine(m.Render()))
			if !strings.Contains(m.message, tt.want) || !strings.Contains(footer, tt.want) {
				t.Errorf("message %q, footer %q; want %q", m.message, footer, tt.want)
			}
			if m.dialog != nil && tt.name != "a key in a dialog" {
				t.Error("a dialog opened")
			}
		})
	}
}

// TestRunningPlanStaysOnStatusLine: while a confirmed plan runs, the status
// line says so (with how many actions the journal holds), and a key press,
// which clears the flash line, does not hide it; when the run returns, the
// mark goes. The drill's first-user script relied on the flash line, which
// any key press or redraw could take away.
func TestRunningPlanStaysOnStatusLine(t *testing.T) {
	c := &fakeContainment{}
	m, clk := openQuarantine(t, c, 120, 40)
	press(m, runes("ci-deploy")...)
	cmd := press(m, keyEnter) // not run yet: the run is in flight
	if cmd == nil || len(m.runs) != 1 {
		t.Fatalf("no run in flight after confirming: %d", len(m.runs))
	}
	clk.advance(7 * time.Second)
	status := func() string { return ansi.Strip(strings.SplitN(m.Render(), "\n", 2)[0]) }
	if s := status(); !strings.Contains(s, "▶ running 7s · 0 actions journaled") {
		t.Fatalf("the status line does not show the running plan: %q", s)
	}
	press(m, key1('j'))
	if s := status(); !strings.Contains(s, "▶ running") {
		t.Fatalf("a key press hid the running plan: %q", s)
	}
	exec(m, cmd)
	if s := status(); strings.Contains(s, "▶ running") || len(c.runs) != 1 {
		t.Fatalf("the mark stays after the run returned (runs %d): %q", len(c.runs), s)
	}
}
