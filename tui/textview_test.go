package tui

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// debriefCommand is a program-supplied command that counts its runs and
// returns text (or err).
func debriefCommand(runs *atomic.Int32, text string, err error) Command {
	return Command{Name: "debrief", Help: "how the drill went", Run: func(context.Context) (string, error) {
		runs.Add(1)
		return text, err
	}}
}

// TestProgramCommand types ':debrief' and enter as a responder would: the
// command runs in the Cmd (not on the update loop), its text shows in a
// scrollable view, and esc closes it.
func TestProgramCommand(t *testing.T) {
	var long strings.Builder
	long.WriteString("Debrief\n\nfirst attacker call: 2026-11-23T05:00:00Z\n")
	for i := range 60 {
		long.WriteString("  step " + itoa(i) + "\n")
	}
	long.WriteString("verdict: contained\n")
	tests := []struct {
		name  string
		typed []tea.KeyPressMsg
		size  [2]int
	}{
		{name: "typed in full", typed: runes("debrief"), size: [2]int{120, 40}},
		{name: "completed with tab", typed: append(runes("deb"), keyTab), size: [2]int{120, 40}},
		{name: "compact layout", typed: runes("debrief"), size: [2]int{80, 24}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs atomic.Int32
			m, _ := newTestModel(t, Options{Commands: []Command{debriefCommand(&runs, long.String(), nil)}}, tt.size[0], tt.size[1])
			press(m, key1(':'))
			press(m, tt.typed...)
			cmd := press(m, keyEnter)
			if n := runs.Load(); n != 0 {
				t.Fatalf("the command ran %d times on the update loop", n)
			}
			if m.text != nil {
				t.Fatal("the view opened before the command answered")
			}
			exec(m, cmd)
			if n := runs.Load(); n != 1 {
				t.Fatalf("the command ran %d times, want once", n)
			}
			out := m.Render()
			checkFrame(t, out, tt.size[0], tt.size[1])
			screen := ansi.Strip(out)
			for _, want := range []string{"debrief", "(esc closes)", "first attacker call: 2026-11-23T05:00:00Z", "step 0"} {
				if !strings.Contains(screen, want) {
					t.Errorf("the screen lacks %q:\n%s", want, screen)
				}
			}
			if strings.Contains(screen, "verdict: contained") {
				t.Error("the end of a long text shows before scrolling")
			}
			press(m, tea.KeyPressMsg{Code: tea.KeyEnd})
			if screen := ansi.Strip(m.Render()); !strings.Contains(screen, "verdict: contained") || strings.Contains(screen, "first attacker call") {
				t.Errorf("end did not scroll to the end:\n%s", screen)
			}
			press(m, keyEsc)
			if m.text != nil {
				t.Fatal("esc did not close the view")
			}
			if screen := ansi.Strip(m.Render()); strings.Contains(screen, "verdict: contained") || !strings.Contains(screen, "Stream") {
				t.Errorf("after esc the screen is not the panes:\n%s", screen)
			}
		})
	}
}

// TestProgramCommandCases covers the rest of a program-supplied command:
// hostile text, errors, names that cannot be used, help and the hint.
func TestProgramCommandCases(t *testing.T) {
	tests := []struct {
		name  string
		cmds  []Command
		keys  []tea.KeyPressMsg
		check func(t *testing.T, m *Model, screen string, runs int32)
	}{
		{name: "hostile text is sanitised", keys: append(append([]tea.KeyPressMsg{key1(':')}, runes("debrief")...), keyEnter),
			cmds: []Command{{Name: "debrief", Run: func(context.Context) (string, error) {
				return "key \x1b]52;c;ZXZpbA==\x07AKIA\u202eEVIL\x1b[2J\tdone\r\nnext", nil
			}}},
			check: func(t *testing.T, m *Model, screen string, _ int32) {
				if !strings.Contains(screen, "AKIA") || !strings.Contains(screen, "next") {
					t.Errorf("the text is not shown:\n%s", screen)
				}
			}},
		{name: "an error is flashed", keys: append(append([]tea.KeyPressMsg{key1(':')}, runes("debrief")...), keyEnter),
			cmds: []Command{{Name: "debrief", Run: func(context.Context) (string, error) { return "", errors.New("journal gone") }}},
			check: func(t *testing.T, m *Model, screen string, _ int32) {
				if m.text != nil || !strings.Contains(screen, "debrief: journal gone") {
					t.Errorf("view open %v; footer:\n%s", m.text != nil, screen)
				}
			}},
		{name: "a built-in's name is not taken", keys: append(append([]tea.KeyPressMsg{key1(':')}, runes("quit")...), keyEnter),
			cmds: []Command{{Name: "quit", Run: func(context.Context) (string, error) { return "hijacked", nil }}},
			check: func(t *testing.T, m *Model, screen string, runs int32) {
				if runs != 0 || m.text != nil || m.dialog == nil || m.dialog.kind != dialogQuit {
					t.Errorf("ran %d, view %v, dialog %v: :quit did not ask to quit", runs, m.text != nil, m.dialog)
				}
			}},
		{name: "a name with a space is left out", keys: append(append([]tea.KeyPressMsg{key1(':')}, runes("two words")...), keyEnter),
			cmds: []Command{{Name: "two words", Run: func(context.Context) (string, error) { return "ran", nil }}},
			check: func(t *testing.T, m *Model, screen string, runs int32) {
				if runs != 0 || m.text != nil || !strings.Contains(screen, "no such command: two") {
					t.Errorf("ran %d, view %v:\n%s", runs, m.text != nil, screen)
				}
			}},
		{name: "long lines wrap between words", keys: append(append([]tea.KeyPressMsg{key1(':')}, runes("debrief")...), keyEnter),
			cmds: []Command{{Name: "debrief", Run: func(context.Context) (string, error) {
				return "verified:" + strings.Repeat(" detail", 60), nil
			}}},
			check: func(t *testing.T, m *Model, screen string, _ int32) {
				lines := m.text.wrap()
				if len(lines) < 3 {
					t.Fatalf("a 430-cell line is %d lines at 158 cells", len(lines))
				}
				for _, l := range lines {
					if l = strings.TrimSpace(l); !strings.HasSuffix(l, "detail") && l != "verified:" {
						t.Errorf("a word was cut: %q", l)
					}
				}
			}},
		{name: "help lists it", keys: []tea.KeyPressMsg{key1('?')},
			cmds: []Command{{Name: "debrief", Help: "how the drill went", Run: func(context.Context) (string, error) { return "", nil }}},
			check: func(t *testing.T, m *Model, screen string, _ int32) {
				if !strings.Contains(screen, ":debrief") || !strings.Contains(screen, "how the drill went") {
					t.Errorf("help lacks :debrief:\n%s", screen)
				}
			}},
		{name: "help without commands has no commands group", keys: []tea.KeyPressMsg{key1('?')},
			check: func(t *testing.T, m *Model, screen string, _ int32) {
				if strings.Contains(screen, "commands (:name") {
					t.Errorf("help lists program commands there are none of:\n%s", screen)
				}
			}},
		{name: "the hint names it", keys: append([]tea.KeyPressMsg{key1(':')}, runes("debr")...),
			cmds: []Command{{Name: "debrief", Help: "how the drill went", Run: func(context.Context) (string, error) { return "", nil }}},
			check: func(t *testing.T, m *Model, screen string, _ int32) {
				if !strings.Contains(screen, "debrief — how the drill went") {
					t.Errorf("hint:\n%s", screen)
				}
			}},
		{name: "a built-in command closes the view", keys: append(append(append(append([]tea.KeyPressMsg{key1(':')}, runes("debrief")...), keyEnter, key1(':')), runes("focus journal")...), keyEnter),
			cmds: []Command{{Name: "debrief", Run: func(context.Context) (string, error) { return "the debrief", nil }}},
			check: func(t *testing.T, m *Model, screen string, _ int32) {
				if m.text != nil || m.focus != paneJournal {
					t.Errorf("view %v, focus %v", m.text != nil, m.focus)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var runs atomic.Int32
			for i, c := range tt.cmds {
				if run := c.Run; run != nil {
					tt.cmds[i].Run = func(ctx context.Context) (string, error) { runs.Add(1); return run(ctx) }
				}
			}
			m, _ := newTestModel(t, Options{Commands: tt.cmds}, 160, 50)
			for _, k := range tt.keys {
				exec(m, press(m, k))
			}
			out := m.Render()
			checkFrame(t, out, 160, 50)
			tt.check(t, m, ansi.Strip(out), runs.Load())
		})
	}
}
