// Package jsonscan holds the JSON scanning helpers shared by the CloudTrail
// parser (ctlog), the journal and the store's fast decoders: white space,
// the end of a string (plain runs found by swar), escapes, numbers,
// literals, a strict value check, decoding a string as encoding/json does,
// and the RFC 3339 UTC time every record and journal line carries.
//
// Each helper accepts exactly what encoding/json accepts for its token, so
// a caller built on them is as strict as encoding/json. None allocates
// unless it says so; none quotes its input in an error (input may hold
// secrets).
package jsonscan

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/swar"
)

// MaxDepth is encoding/json's nesting limit.
const MaxDepth = 10000

// Error is invalid JSON at a byte offset. Msg says what was wanted or
// found there without quoting the input.
type Error struct {
	Off int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("at byte %d: %s", e.Off, e.Msg) }

func errAt(off int, format string, args ...any) *Error {
	return &Error{Off: off, Msg: fmt.Sprintf(format, args...)}
}

// IsSpace reports JSON white space.
func IsSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipWS returns the index of the first byte at or after i that is not JSON
// white space, or len(b).
func SkipWS(b []byte, i int) int {
	for i < len(b) && IsSpace(b[i]) {
		i++
	}
	return i
}

// Escape checks the escape sequence at b[i] (a '\\') inside a string and
// returns the index after it, or i when it is not a valid one (EscapeError
// says why). It is small enough to be inlined: the scanners call it for
// every escape.
func Escape(b []byte, i int) int {
	if i+1 < len(b) {
		switch escapeLen[b[i+1]] {
		case 2:
			return i + 2
		case 6:
			if len(b)-i >= 6 && unhex[b[i+2]]|unhex[b[i+3]]|unhex[b[i+4]]|unhex[b[i+5]] <= 0xf {
				return i + 6
			}
		}
	}
	return i
}

// EscapeError says what is wrong with the escape at b[i] that Escape
// refused.
func EscapeError(b []byte, i int) string {
	switch {
	case i+1 >= len(b):
		return "unterminated string"
	case b[i+1] == 'u':
		return "invalid \\u escape"
	}
	return "invalid escape"
}

// escapeLen is the length of the escape that a byte after '\\' begins, or
// 0 when it begins none.
var escapeLen = [256]uint8{'"': 2, '\\': 2, '/': 2, 'b': 2, 'f': 2, 'n': 2, 'r': 2, 't': 2, 'u': 6}

// unhex maps a hex digit to its value and any other byte to 0xff.
var unhex = func() (t [256]uint8) {
	for c := range t {
		switch {
		case '0' <= c && c <= '9':
			t[c] = uint8(c - '0')
		case 'a' <= c && c <= 'f':
			t[c] = uint8(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			t[c] = uint8(c - 'A' + 10)
		default:
			t[c] = 0xff
		}
	}
	return t
}()

// Hex4 decodes the four hex digits at the start of b (which must hold
// them), or returns -1.
func Hex4(b []byte) rune {
	b = b[:4]
	if unhex[b[0]]|unhex[b[1]]|unhex[b[2]]|unhex[b[3]] > 0xf {
		return -1
	}
	return rune(unhex[b[0]])<<12 | rune(unhex[b[1]])<<8 | rune(unhex[b[2]])<<4 | rune(unhex[b[3]])
}

// String checks the JSON string at b[i] (a '"') as strictly as
// encoding/json (invalid UTF-8 is left for a decoder to replace), and
// returns the index after its closing quote. Plain ASCII goes by eight or
// sixteen bytes at a time.
func String(b []byte, i int) (int, *Error) {
	start := i
	i++
	for i < len(b) {
		if i = swar.Run(b, i); i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			j := Escape(b, i)
			if j == i {
				return i, &Error{Off: i, Msg: EscapeError(b, i)}
			}
			i = j
		case c < 0x20:
			return i, &Error{Off: i, Msg: "control character in string"}
		default:
			i++
		}
	}
	return start, &Error{Off: start, Msg: "unterminated string"}
}

// Number checks the JSON number at b[i] (a '-' or a digit) and returns the
// index after it; when it is not one, ok is false and the index is where a
// digit was wanted.
func Number(b []byte, i int) (end int, ok bool) {
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	default:
		if i, ok = digits(b, i); !ok {
			return i, false
		}
	}
	if i < len(b) && b[i] == '.' {
		if i, ok = digits(b, i+1); !ok {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = digits(b, i); !ok {
			return i, false
		}
	}
	return i, true
}

// digits skips one or more decimal digits at b[i].
func digits(b []byte, i int) (int, bool) {
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i, i > start
}

// Literal reports whether b[i:] starts with lit (true, false or null).
func Literal(b []byte, i int, lit string) bool {
	return len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit
}

// Unquote appends the decoded content of a valid JSON string body (without
// quotes) to dst exactly as encoding/json decodes it: invalid UTF-8 and
// unpaired surrogates become U+FFFD.
func Unquote(dst, src []byte) []byte {
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\\':
			switch src[i+1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r := Hex4(src[i+2:])
				i += 6
				if utf16.IsSurrogate(r) {
					if i+6 <= len(src) && src[i] == '\\' && src[i+1] == 'u' {
						if r2 := Hex4(src[i+2:]); r2 >= 0 {
							if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
								dst = utf8.AppendRune(dst, d)
								i += 6
								continue
							}
						}
					}
					r = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r)
				continue
			default: // '"', '\\', '/'
				dst = append(dst, src[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, src[i:i+n]...)
			}
			i += n
		}
	}
	return dst
}
