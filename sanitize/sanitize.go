// Package sanitize makes attacker-controlled text safe to draw on a terminal,
// to write into CSV, Markdown and HTML, and to print as JSON. Every string that comes from CloudTrail or AWS (user
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

// Terminal returns s made safe to draw on a terminal and honest to read
// there: every character that a terminal would act on rather than print, or
// that a reader cannot see, is replaced by its visible form (see Visible):
// ESC (so no escape sequence — CSI, OSC window titles, clipboard writes and
// hyperlinks, DCS, APC — can start), the other C0 controls, DEL, the C1
// controls (the 8-bit CSI and OSC among them), the bidirectional controls that
// reorder what a reader sees, zero-width and other format characters, line and
// paragraph separators, tag characters, variation selectors and the blank
// filler letters (see Hidden). So "ad\u200bmin" reads "ad⟨U+200B⟩min", never
// "admin", on screen and in a copy. Invalid UTF-8 becomes U+FFFD. Tabs,
// newlines and carriage returns become a space: a value is drawn on one line.
// What remains is printable text whose display width can be measured.
func Terminal(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case Hidden(r):
			writeVisible(&b, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Visible returns the form in which Terminal shows a hidden character r:
// its code point between angle brackets, "⟨U+200B⟩". The brackets are
// U+27E8 and U+27E9, one cell wide everywhere.
func Visible(r rune) string {
	var b strings.Builder
	writeVisible(&b, r)
	return b.String()
}

func writeVisible(b *strings.Builder, r rune) {
	const hexdig = "0123456789ABCDEF"
	b.WriteString("⟨U+")
	n := 4
	if r > 0xffff {
		n = 5
		if r > 0xfffff {
			n = 6
		}
	}
	for k := n - 1; k >= 0; k-- {
		b.WriteByte(hexdig[(r>>(4*k))&0xf])
	}
	b.WriteString("⟩")
}

// Hidden reports whether r is a character that a terminal acts on, that a
// reader cannot see, or that changes how the text around it reads: the C0
// controls, DEL, the C1 controls, the bidirectional controls (U+061C,
// U+200E–200F, U+202A–202E, U+2066–2069), zero-width characters
// (U+200B–200D, U+2060–2064, U+FEFF), every other format (Cf) character
// (soft hyphen, tag characters U+E0000–E007F …), line and paragraph
// separators (U+2028, U+2029), variation selectors (U+FE00–FE0F,
// U+E0100–E01EF, U+180B–180F), the combining grapheme joiner, and the blank
// "letters" used to fake empty names (Hangul fillers U+115F, U+1160, U+3164,
// U+FFA0; Khmer U+17B4, U+17B5). Terminal shows these visibly and JSON
// escapes them.
func Hidden(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f:
		return true
	case r < 0xa0:
		return r >= 0x80
	case r < 0x300:
		return r == 0xad
	}
	switch r {
	case 0x034f, 0x061c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x2028, 0x2029, 0x3164, 0xfeff, 0xffa0:
		return true
	}
	switch {
	case r >= 0x180b && r <= 0x180f,
		r >= 0x200b && r <= 0x200f,
		r >= 0x202a && r <= 0x202e,
		r >= 0x2060 && r <= 0x206f,
		r >= 0xfe00 && r <= 0xfe0f,
		r >= 0xfff9 && r <= 0xfffb,
		r >= 0xe0000 && r <= 0xe007f,
		r >= 0xe0100 && r <= 0xe01ef:
		return true
	}
	return unicode.Is(unicode.Cf, r)
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

// CSVField returns s made safe for a CSV cell that a spreadsheet will open: it
// is first made safe for a terminal (so no tab or carriage return is left),
// then a cell that a spreadsheet would read as a formula — one starting,
// after any spaces, with = + - @ or their full-width forms — gets a single
// quote in front, as OWASP recommends.
func CSVField(s string) string {
	s = Terminal(s)
	t := strings.TrimLeft(s, " ")
	if t == "" {
		return s
	}
	r, _ := utf8.DecodeRuneInString(t)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
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
