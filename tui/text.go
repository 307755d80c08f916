package tui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/sanitize"
)

// clean makes attacker-controllable text safe to draw: every string that
// came from CloudTrail, AWS or the journal passes through here before it is
// measured or drawn.
func clean(s string) string { return sanitize.Terminal(s) }

// width is the display width of s. It takes the larger of the grapheme and
// the wcwidth measure: terminals differ in which they use, and a cell that
// fits under both fits everywhere.
func width(s string) int {
	if plainASCII(s) {
		return len(s)
	}
	return max(ansi.StringWidth(s), ansi.StringWidthWc(s))
}

// plainASCII reports whether s is printable ASCII only (most cells are):
// its width is its length, without parsing.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// truncate cuts s (which may hold our own SGR styling) to at most w cells
// under both width measures, ending with "…" when it cut.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if width(s) <= w {
		return s
	}
	tail := "…"
	if w == 1 {
		tail = ""
	}
	if plainASCII(s) {
		return s[:w-len([]rune(tail))] + tail
	}
	for n := w; n > 0; n-- {
		if t := ansi.Truncate(s, n, tail); width(t) <= w {
			return t
		}
	}
	return ""
}

// fit returns s cut or padded with spaces to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	s = truncate(s, w)
	if n := w - width(s); n > 0 {
		s += strings.Repeat(" ", n)
	}
	return s
}

// fitLeft is fit, padding on the left (right-aligned numbers).
func fitLeft(s string, w int) string {
	s = truncate(s, w)
	if n := w - width(s); n > 0 {
		s = strings.Repeat(" ", n) + s
	}
	return s
}

// cell cleans attacker text and fits it to w cells. Text far longer than
// the cell is cut first, so that a megabyte user agent costs no more to
// draw than a short one; what the cut drops could only have shown if the
// text were mostly zero-width marks, and the cell then ends early.
func cell(s string, w int) string {
	if n := 4*w + 16; len(s) > n {
		s = s[:n]
	}
	return fit(clean(s), w)
}

// block makes text exactly w cells wide and h lines high: longer lines are
// cut, shorter ones padded, missing lines added blank, extra lines dropped.
func block(text string, w, h int) string {
	if h <= 0 || w <= 0 {
		return ""
	}
	lines := strings.Split(text, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fit(l, w)
	}
	return strings.Join(lines, "\n")
}

// joinH places blocks of equal height side by side.
func joinH(blocks ...string) string {
	var split [][]string
	h := 0
	for _, b := range blocks {
		l := strings.Split(b, "\n")
		split = append(split, l)
		h = max(h, len(l))
	}
	var sb strings.Builder
	for i := range h {
		if i > 0 {
			sb.WriteByte('\n')
		}
		for _, l := range split {
			if i < len(l) {
				sb.WriteString(l[i])
			}
		}
	}
	return sb.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// thousands formats n with thousands separators: 1,000,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// truncateCells keeps the first n cells of s (styled text), without a tail.
func truncateCells(s string, n int) string { return ansi.Truncate(s, n, "") }

// cutLeft drops the first n cells of s (styled text).
func cutLeft(s string, n int) string { return ansi.TruncateLeft(s, n, "") }
