package tui

import (
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// rowOf returns the screen line and column where text is drawn.
func rowOf(t *testing.T, m *Model, text string) (x, y int) {
	t.Helper()
	for y, l := range strings.Split(ansi.Strip(m.Render()), "\n") {
		if i := strings.Index(l, text); i >= 0 {
			return ansi.StringWidth(l[:i]), y
		}
	}
	t.Fatalf("%q is not on screen", text)
	return 0, 0
}

func click(m *Model, x, y int) tea.Cmd {
	_, c := m.Update(tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft})
	return c
}

// TestMouse: a click focuses the pane under it and selects the row
// clicked; the wheel scrolls the pane under the pointer; a click presses a
// dialog's button; in the compact layout a click on a tab shows that pane.
func TestMouse(t *testing.T) {
	if v := New(Options{}).View(); v.MouseMode != tea.MouseModeCellMotion {
		t.Errorf("the view does not ask for the mouse: %v", v.MouseMode)
	}
	t.Run("click selects a row in another pane", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		x, y := rowOf(t, m, "user ci-deploy  ") // the principals row (the stream has user/ci-deploy)
		click(m, x, y)
		if m.focus != panePrincipals {
			t.Fatalf("focus %s, want principals", paneNames[m.focus])
		}
		s, _ := m.selected()
		if s.name != "ci-deploy" || s.key != "" {
			t.Errorf("selected %+v, want user ci-deploy (not its key)", s)
		}
	})
	t.Run("click selects a stream row", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		x, y := rowOf(t, m, "RunInstances")
		click(m, x, y)
		if s, _ := m.selected(); s.event.Name != "RunInstances" {
			t.Errorf("selected %q", s.event.Name)
		}
		if m.stream.follow {
			t.Error("still following after a click below the newest row")
		}
	})
	t.Run("wheel scrolls the pane under the pointer", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		x, y := rowOf(t, m, "RunInstances")
		m.Update(tea.MouseWheelMsg{X: x, Y: y, Button: tea.MouseWheelDown})
		if m.stream.cur.sel != wheelStep {
			t.Errorf("stream at row %d, want %d", m.stream.cur.sel, wheelStep)
		}
		m.Update(tea.MouseWheelMsg{X: x, Y: y, Button: tea.MouseWheelUp})
		if m.stream.cur.sel != 0 {
			t.Errorf("stream at row %d after wheel up", m.stream.cur.sel)
		}
	})
	t.Run("tab of the compact layout", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 80, 24)
		x, y := rowOf(t, m, "3 regions")
		click(m, x, y)
		if m.focus != paneRegions {
			t.Errorf("focus %s, want regions", paneNames[m.focus])
		}
	})
	t.Run("dialog buttons", func(t *testing.T) {
		for _, sz := range sizes {
			c := &fakeContainment{}
			m, clk := newTestModel(t, Options{Containment: c}, sz[0], sz[1])
			exec(m, press(m, keyDown, keyDown, keyDown, keyDown, key1('D')))
			x, y := rowOf(t, m, "Run plan")
			exec(m, click(m, x, y))
			if m.dialog == nil || len(c.runs) != 0 {
				t.Fatal("a click in the dialog's first moment acted")
			}
			clk.advance(time.Second)
			cx, cy := rowOf(t, m, "[Cancel]")
			exec(m, click(m, cx+3, cy))
			if m.dialog != nil || !strings.Contains(m.message, "cancelled") {
				t.Fatalf("%dx%d: clicking Cancel: dialog open %v, message %q", sz[0], sz[1], m.dialog != nil, m.message)
			}
			exec(m, press(m, key1('D')))
			clk.advance(time.Second)
			x, y = rowOf(t, m, "Run plan")
			exec(m, click(m, x+1, y))
			if len(c.runs) != 1 {
				t.Errorf("%dx%d: clicking Run plan did not run it: %q", sz[0], sz[1], m.message)
			}
		}
	})
	t.Run("an irreversible plan still needs the name", func(t *testing.T) {
		c := &fakeContainment{}
		m, _ := openQuarantine(t, c, 120, 40)
		x, y := rowOf(t, m, "Run plan")
		exec(m, click(m, x+1, y))
		if len(c.runs) != 0 || m.dialog == nil || !strings.Contains(m.message, "type ci-deploy") {
			t.Errorf("runs %d, message %q", len(c.runs), m.message)
		}
	})
}
