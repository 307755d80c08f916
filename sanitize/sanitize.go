// Package sanitize makes attacker-controlled text safe to draw on a terminal
// and to write into CSV. Every string that comes from CloudTrail or AWS (user
// names, user agents, request parameters, error messages) can be chosen by an
// attacker: it passes through here before it reaches a screen or a file.
//
// It imports only the standard library so that every layer may use it.
package sanitize

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s with everything removed that a terminal would act on
// rather than print: ESC and every escape sequence it starts (CSI, OSC — window
// title, clipboard, hyperlinks — DCS, APC, PM, SOS), the C0 and C1 control
// characters (the 8-bit CSI and OSC among them), DEL, and the Unicode
// bidirectional controls that can reorder what a reader sees. Invalid UTF-8
// becomes U+FFFD. Tabs, newlines and carriage returns become a space: a value
// is drawn on one line. What remains is printable text whose display width
// can be measured.
func Terminal(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
			i += size
			if size == 0 {
				i++
			}
			continue
		case r == 0x1b: // ESC: drop the whole sequence it introduces.
			i = skipEscape(s, i+size)
			continue
		case r == 0x9b: // C1 CSI
			i = skipCSI(s, i+size)
			continue
		case r == 0x9d || r == 0x90 || r == 0x98 || r == 0x9e || r == 0x9f: // C1 OSC, DCS, SOS, PM, APC
			i = skipString(s, i+size)
			continue
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			// Other C0/C1 controls and DEL: dropped.
		case isBidiControl(r):
			// Dropped: they reorder the text around them.
		case isInvisibleFormat(r):
			// Dropped: zero-width characters that hide text.
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII only, the common case, which
// needs no copy.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// skipEscape returns the index just past the escape sequence whose ESC
// ended at i.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// Two- or three-character sequences: ESC, optional intermediates
	// (0x20–0x2f), then one final byte. A non-ASCII byte ends it unconsumed.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI returns the index past a control sequence's final byte.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
		if c < 0x20 || c >= 0x7f {
			// Not a valid CSI byte: end the sequence here without
			// swallowing what follows.
			return i - 1
		}
	}
	return i
}

// skipString returns the index past a string sequence (OSC, DCS, …) that ends
// with BEL, ST (ESC \) or the C1 ST; an unterminated one runs to the end.
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case s[i] == 0x1b:
			// A new escape starts: end here and let it be handled.
			return i
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}

// isBidiControl reports the Unicode bidirectional formatting characters.
func isBidiControl(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e:
		return true
	case r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// isInvisibleFormat reports zero-width format characters that would let text
// hide inside other text, and the other Unicode format (Cf) characters.
func isInvisibleFormat(r rune) bool {
	switch r {
	case 0x200b, 0x200c, 0x200d, 0x2060, 0xfeff, 0x00ad:
		return true
	}
	return r > 0x7f && unicode.Is(unicode.Cf, r)
}

// CSVField returns s made safe for a CSV cell that a spreadsheet will open: it
// is first made safe for a terminal, then a leading character that a
// spreadsheet reads as a formula (= + - @, and tab or carriage return) gets a
// single quote in front, as OWASP recommends.
func CSVField(s string) string {
	s = Terminal(s)
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Markdown returns s safe to place in a Markdown table cell or paragraph: made
// safe for a terminal, with characters that Markdown or HTML would interpret
// escaped, and formula prefixes neutralised as for CSV.
func Markdown(s string) string {
	s = CSVField(s)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '{', '}', '[', ']', '(', ')', '#', '+', '!', '|', '<', '>', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Truncate cuts an already sanitised s to at most n runes, marking the cut
// with an ellipsis.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	if n == 1 {
		return "…"
	}
	return string(rs[:n-1]) + "…"
}
