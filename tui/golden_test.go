package tui

import (
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// screens are the states the golden files show, each reached with the keys
// a responder would press.
var screens = []struct {
	name string
	keys []tea.KeyPressMsg
}{
	{name: "stream"},
	{name: "stream-filtered", keys: append(append([]tea.KeyPressMsg{key1('/')}, runes("source:iam")...), keyEnter)},
	{name: "principals", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, keyDown}},
	{name: "regions", keys: []tea.KeyPressMsg{key1('3')}},
	{name: "regions-list", keys: []tea.KeyPressMsg{key1('3'), keyDown, keyEnter}},
	{name: "journal", keys: []tea.KeyPressMsg{key1('4')}},
	{name: "detail-event", keys: []tea.KeyPressMsg{keyDown, keyDown, keyEnter}},
	{name: "detail-key", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, keyDown, keyEnter}},
	{name: "detail-action", keys: []tea.KeyPressMsg{key1('4'), keyUp, keyUp, keyUp, keyEnter}},
	{name: "zoom", keys: []tea.KeyPressMsg{key1('4'), key1('z')}},
	{name: "help", keys: []tea.KeyPressMsg{key1('?')}},
	{name: "filter-error", keys: append([]tea.KeyPressMsg{key1('/')}, runes("regoin:eu-west-1")...)},
	{name: "command", keys: append([]tea.KeyPressMsg{key1(':')}, runes("qu")...)},
	{name: "note", keys: append([]tea.KeyPressMsg{key1('n')}, runes("called the CI owner")...)},
	{name: "dialog-quit", keys: []tea.KeyPressMsg{key1('q')}},
	{name: "dialog-plan", keys: []tea.KeyPressMsg{keyDown, keyDown, keyDown, keyDown, key1('D')}},
	{name: "dialog-irreversible", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, key1('Q')}},
	{name: "stream-sorted", keys: []tea.KeyPressMsg{key1('o'), key1('o'), key1('o'), key1('O')}},
	{name: "stream-wide", keys: []tea.KeyPressMsg{{Code: 'w', Mod: tea.ModCtrl}}},
	{name: "principals-filtered", keys: append(append([]tea.KeyPressMsg{key1('2'), key1('/')}, runes("ci-deploy")...), keyEnter)},
	{name: "principals-sorted", keys: []tea.KeyPressMsg{key1('2'), key1('o'), key1('o'), key1('o')}},
	{name: "regions-filtered", keys: append(append([]tea.KeyPressMsg{key1('3'), key1('/')}, runes("east")...), keyEnter)},
}

var sizes = [][2]int{{80, 24}, {120, 40}, {200, 60}}

// TestGolden draws every screen at every size in the dark and monochrome
// themes and compares with testdata (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, sc := range screens {
		for _, sz := range sizes {
			for _, theme := range []string{"dark", "monochrome"} {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", sc.name, sz[0], sz[1], theme), func(t *testing.T) {
					m, _ := newTestModel(t, Options{Theme: theme, Journal: &recJournal{}, Containment: &fakeContainment{}}, sz[0], sz[1])
					for _, k := range sc.keys {
						exec(m, press(m, k))
					}
					out := m.Render()
					checkFrame(t, out, sz[0], sz[1])
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}

// checkFrame checks a frame's shape: exactly h lines, none wider than w
// under either width measure, and only SGR escape sequences in it.
func checkFrame(t testing.TB, out string, w, h int) {
	t.Helper()
	lines := strings.Split(out, "\n")
	if len(lines) != h {
		t.Errorf("frame has %d lines, want %d", len(lines), h)
	}
	for i, l := range lines {
		if gw, ww := ansi.StringWidth(l), ansi.StringWidthWc(l); gw > w || ww > w {
			t.Errorf("line %d is %d/%d cells wide, more than %d: %q", i, gw, ww, w, ansi.Strip(l))
		}
	}
	if bad := foreignControls(out); bad != "" {
		t.Errorf("frame holds %s", bad)
	}
}

// foreignControls returns a description of the first control sequence or
// character in s that the console itself does not emit (it emits SGR only).
func foreignControls(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0x1b {
			j := i + 1
			if j >= len(s) || s[j] != '[' {
				return fmt.Sprintf("an escape that is not CSI at byte %d: %q", i, s[i:min(i+12, len(s))])
			}
			j++
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == ';' || s[j] == ':') {
				j++
			}
			if j >= len(s) || s[j] != 'm' {
				return fmt.Sprintf("a CSI that is not SGR at byte %d: %q", i, s[i:min(j+1, len(s))])
			}
			i = j
			continue
		}
		if c < 0x20 && c != '\n' || c == 0x7f {
			return fmt.Sprintf("control byte %#x at %d", c, i)
		}
	}
	for _, r := range s {
		switch {
		case r >= 0x80 && r <= 0x9f:
			return fmt.Sprintf("C1 control %U", r)
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Sprintf("bidi control %U", r)
		}
	}
	return ""
}
