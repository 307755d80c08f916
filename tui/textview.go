package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
)

// textView shows the text a program-supplied command returned, sanitised,
// wrapped to the width and scrolled with the list keys.
type textView struct {
	title string
	// lines are cleaned text; they are wrapped to the width when drawn.
	lines   []string
	top     int
	w, h    int
	wrapped []string
	wrapW   int
}

// newTextView cleans text into lines: every line passes through clean, so
// whatever the command read (a journal, the drill's record) cannot reach
// the terminal as anything but printable text. Blank lines at either end
// are dropped.
func newTextView(title, text string) *textView {
	t := &textView{title: clean(title)}
	text = strings.Trim(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for _, l := range strings.Split(text, "\n") {
		t.lines = append(t.lines, clean(strings.ReplaceAll(l, "\t", "    ")))
	}
	return t
}

// SetSize sets the content size.
func (t *textView) SetSize(w, h int) {
	t.w, t.h = w, h
	t.clamp()
}

// wrap returns the lines wrapped to the width, cached per width.
func (t *textView) wrap() []string {
	if t.wrapW == t.w && t.wrapped != nil {
		return t.wrapped
	}
	t.wrapped = t.wrapped[:0]
	for _, l := range t.lines {
		if width(l) <= t.w {
			t.wrapped = append(t.wrapped, l)
			continue
		}
		for _, part := range wrapWords(l, max(t.w-1, 1)) {
			t.wrapped = append(t.wrapped, truncate(part, t.w))
		}
	}
	t.wrapW = t.w
	return t.wrapped
}

// wrapWords wraps a cleaned line to w cells at spaces only: a word (a
// timestamp, an ARN, a key id, "deactivate-key") is never split at a hyphen
// or a colon, and is cut only when it alone is wider than a line. The
// spaces inside a line are kept (they align columns); a continuation line
// is indented two cells past the line's own indentation when the word
// still fits.
func wrapWords(l string, w int) []string {
	if width(l) <= w {
		return []string{l}
	}
	body := strings.TrimLeft(l, " ")
	indent := l[:len(l)-len(body)]
	cont := indent + "  "
	if width(cont) > w/2 {
		cont = ""
	}
	var out []string
	cur, curW := indent, width(indent)
	fresh := true // cur holds only indentation
	for body != "" {
		// the next word and the spaces before it
		sp := len(body) - len(strings.TrimLeft(body, " "))
		gap := body[:sp]
		body = body[sp:]
		end := strings.IndexByte(body, ' ')
		if end < 0 {
			end = len(body)
		}
		word := body[:end]
		body = body[end:]
		if word == "" {
			break // trailing spaces
		}
		ww := width(word)
		if !fresh && curW+len(gap)+ww > w {
			out = append(out, cur)
			cur, curW, fresh = cont, width(cont), true
		}
		if !fresh {
			cur += gap
			curW += len(gap)
		}
		// a word that fits a line but not after the indentation goes
		// without it; one wider than a line is cut
		if fresh && curW+ww > w && ww <= w {
			cur, curW = "", 0
		}
		for curW+ww > w && fresh {
			n := max(w-curW, 1)
			out = append(out, cur+ansi.Cut(word, 0, n))
			word = ansi.Cut(word, n, ww)
			ww = width(word)
			cur, curW = cont, width(cont)
		}
		cur += word
		curW += ww
		fresh = false
	}
	if !fresh || len(out) == 0 {
		out = append(out, cur)
	}
	return out
}

func (t *textView) clamp() {
	t.top = max(min(t.top, len(t.wrap())-t.h), 0)
}

// Navigate scrolls.
func (t *textView) Navigate(n nav) {
	switch n {
	case navUp:
		t.top--
	case navDown:
		t.top++
	case navPageUp:
		t.top -= max(t.h-1, 1)
	case navPageDown:
		t.top += max(t.h-1, 1)
	case navTop:
		t.top = 0
	case navBottom:
		t.top = len(t.wrap())
	}
	t.clamp()
}

// Render draws the visible lines, exactly w×h cells.
func (t *textView) Render(v *viewCtx) string {
	lines := t.wrap()
	end := min(t.top+t.h, len(lines))
	out := make([]string, 0, t.h)
	for _, l := range lines[min(t.top, end):end] {
		out = append(out, v.st.Base.Render(fit(l, t.w)))
	}
	return block(strings.Join(out, "\n"), t.w, t.h)
}

// frameTitle is the title of the frame around the view: what it is, how
// far it is scrolled when it does not fit, and how to close it.
func (t *textView) frameTitle() string {
	title := t.title
	if n := len(t.wrap()); n > t.h && t.h > 0 {
		title += " · lines " + itoa(t.top+1) + "–" + itoa(min(t.top+t.h, n)) + " of " + itoa(n)
	}
	return title + " (esc closes)"
}

// ShortHelp is the view's help line.
func (t *textView) ShortHelp(k KeyMap) []key.Binding {
	return []key.Binding{k.Back, k.Up, k.Down, k.PageDown, k.Command, k.Quit}
}
