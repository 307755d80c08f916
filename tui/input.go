package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/themes"
)

// lineInput is a one-line text editor: the filter, the command line, the
// note prompt and the dialog's confirmation field. It is a plain struct the
// root drives; it draws a block cursor itself so that frames are the same
// every time (no blinking state).
type lineInput struct {
	prompt string
	value  []rune
	pos    int
}

// Value returns the text typed.
func (in *lineInput) Value() string { return string(in.value) }

// SetValue replaces the text and puts the cursor at its end.
func (in *lineInput) SetValue(s string) {
	in.value = []rune(s)
	in.pos = len(in.value)
}

// Key edits the text for a key press and reports whether it used the key.
func (in *lineInput) Key(msg tea.KeyPressMsg) bool {
	switch msg.String() {
	case "left", "ctrl+b":
		in.pos = max(in.pos-1, 0)
	case "right", "ctrl+f":
		in.pos = min(in.pos+1, len(in.value))
	case "home", "ctrl+a":
		in.pos = 0
	case "end", "ctrl+e":
		in.pos = len(in.value)
	case "backspace", "ctrl+h":
		if in.pos > 0 {
			in.value = append(in.value[:in.pos-1], in.value[in.pos:]...)
			in.pos--
		}
	case "delete", "ctrl+d":
		if in.pos < len(in.value) {
			in.value = append(in.value[:in.pos], in.value[in.pos+1:]...)
		}
	case "ctrl+u":
		in.value = in.value[in.pos:]
		in.pos = 0
	case "ctrl+k":
		in.value = in.value[:in.pos]
	case "ctrl+w":
		i := in.pos
		for i > 0 && in.value[i-1] == ' ' {
			i--
		}
		for i > 0 && in.value[i-1] != ' ' {
			i--
		}
		in.value = append(in.value[:i], in.value[in.pos:]...)
		in.pos = i
	default:
		if msg.Text == "" || msg.Mod&^tea.ModShift != 0 {
			return false
		}
		in.insert(msg.Text)
	}
	return true
}

// Paste inserts pasted text, on one line.
func (in *lineInput) Paste(s string) {
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ").Replace(s)
	in.insert(clean(s))
}

func (in *lineInput) insert(s string) {
	r := []rune(clean(s))
	v := make([]rune, 0, len(in.value)+len(r))
	v = append(v, in.value[:in.pos]...)
	v = append(v, r...)
	v = append(v, in.value[in.pos:]...)
	in.value = v
	in.pos += len(r)
}

// Render draws the prompt and the text in w cells, scrolled so that the
// cursor is visible.
func (in *lineInput) Render(st *themes.Styles, w int) string {
	p := st.Prompt.Render(in.prompt)
	room := w - width(in.prompt) - 1
	if room <= 0 {
		return fit(p, w)
	}
	val := clean(string(in.value))
	before := clean(string(in.value[:in.pos]))
	// Scroll: keep the cursor in view.
	start := 0
	for width(string([]rune(before)[start:])) >= room && start < len([]rune(before)) {
		start++
	}
	vr := []rune(val)
	if start > len(vr) {
		start = len(vr)
	}
	shown := string(vr[start:])
	cur := len([]rune(before)) - start
	sr := []rune(shown)
	under := " "
	if cur < len(sr) {
		under = string(sr[cur])
	}
	var after string
	if cur+1 <= len(sr) {
		after = string(sr[min(cur+1, len(sr)):])
	}
	text := st.Input.Render(string(sr[:min(cur, len(sr))])) + st.Selected.Render(under) + st.Input.Render(after)
	return fit(p+" "+truncate(text, room), w)
}
