package sanitize

import (
	"io"
	"unicode/utf8"
)

// JSON output. encoding/json leaves C1 controls, DEL, bidirectional
// overrides, zero-width and tag characters raw in its output, and a record
// read from CloudTrail is journaled as it came: printed as it is, such text
// would reach the terminal of whoever reads the JSON with cat or less, and
// hide itself from a reader. Everything here writes every Hidden character
// as a \u escape instead, which any JSON reader turns back into the same
// string.

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s to dst as a JSON string literal, quotes
// included: ", \ and every Hidden character escaped (and <, > and &, as
// encoding/json does), invalid UTF-8 as \ufffd, one per bad byte (as
// encoding/json decodes it). The result has no byte below 0x20, no DEL and
// no Hidden character.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&':
				dst = appendU(dst, rune(c))
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case Hidden(r):
			dst = appendU(dst, r)
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// JSONString returns s as a JSON string literal (see AppendJSONString).
func JSONString(s string) string { return string(AppendJSONString(nil, s)) }

// AppendEscapedJSON appends the JSON text src to dst with every Hidden
// character in it written as a \u escape and invalid UTF-8 as \ufffd: the
// same JSON value, with nothing in it that a terminal acts on or a reader
// cannot see. src is expected to be valid JSON (such characters can then
// only be inside strings); tab, newline and carriage return are left as
// they are, since outside strings they are white space and inside a valid
// string they cannot occur raw.
func AppendEscapedJSON(dst, src []byte) []byte {
	start := 0
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
				dst = append(dst, src[start:i]...)
				dst = appendU(dst, rune(c))
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		if (r == utf8.RuneError && size == 1) || Hidden(r) {
			dst = append(dst, src[start:i]...)
			if r == utf8.RuneError {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = appendU(dst, r)
			}
			start = i + size
		}
		i += size
	}
	return append(dst, src[start:]...)
}

// appendU appends r as \uXXXX, or as a surrogate pair past U+FFFF.
func appendU(dst []byte, r rune) []byte {
	if r > 0xffff {
		r -= 0x10000
		dst = appendU(dst, 0xd800+(r>>10))
		return appendU(dst, 0xdc00+(r&0x3ff))
	}
	return append(dst, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// JSONWriter passes JSON text through to another writer with every Hidden
// character escaped (see AppendEscapedJSON). Every JSON output of warroom
// goes through one: wrap the output, write JSON to it (an encoding/json
// Encoder, or records as journaled), then Flush. A character split across
// two writes is escaped whole.
type JSONWriter struct {
	w       io.Writer
	pending []byte // the start of a UTF-8 sequence the last write cut
	buf     []byte
}

// NewJSONWriter returns a JSONWriter writing to w.
func NewJSONWriter(w io.Writer) *JSONWriter { return &JSONWriter{w: w} }

// Write escapes p and writes it. It reports len(p) when everything up to
// the end of p's last whole character was written.
func (j *JSONWriter) Write(p []byte) (int, error) {
	src := p
	if len(j.pending) > 0 {
		src = append(j.pending, p...)
		j.pending = nil
	}
	// Keep back an incomplete UTF-8 sequence at the end for the next write.
	cut := len(src)
	for k := 1; k <= utf8.UTFMax-1 && k <= len(src); k++ {
		c := src[len(src)-k]
		if c < utf8.RuneSelf {
			break
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(src[len(src)-k:]) {
				cut = len(src) - k
			}
			break
		}
	}
	j.buf = AppendEscapedJSON(j.buf[:0], src[:cut])
	if cut < len(src) {
		j.pending = append([]byte(nil), src[cut:]...)
	}
	if _, err := j.w.Write(j.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes a sequence a write left incomplete, as \ufffd escapes: the
// JSON text ended inside a character.
func (j *JSONWriter) Flush() error {
	if len(j.pending) == 0 {
		return nil
	}
	j.buf = AppendEscapedJSON(j.buf[:0], j.pending)
	j.pending = nil
	_, err := j.w.Write(j.buf)
	return err
}
