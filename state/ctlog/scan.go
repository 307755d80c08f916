package ctlog

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
	"github.com/warroom-ir/warroom/state/internal/swar"
)

// This file is the single-pass JSON scanner. It walks one JSON value,
// validating it as strictly as encoding/json does, and at the same time
//
//   - pulls out the members Record needs (by path, see lookupKey), as spans
//     of the input, decoded only when they carry escapes;
//   - builds the compact form of the value (whitespace dropped, invalid UTF-8
//     replaced by \ufffd, credential secrets replaced by a redaction marker).
//
// When the input is already compact, clean and holds no secret, no output is
// built at all: the raw record is the input slice. Unknown values are skipped
// without allocating. Nothing here recurses: containers live on a small
// explicit stack, so hostile nesting costs memory proportional to its depth,
// capped at maxDepth like encoding/json.

// maxDepth is the deepest nesting accepted, the same as encoding/json's.
const maxDepth = 10000

// Value kinds of a captured member.
const (
	vAbsent uint8 = iota
	vString
	vNumber
	vTrue
	vFalse
	vNull
	vObject
	vArray
)

// span is a captured member value. For strings start:end is the content
// between the quotes and esc says it needs decoding (escapes, non-ASCII or
// invalid UTF-8); for other kinds it is the value's raw bytes.
type span struct {
	kind       uint8
	esc        bool
	start, end int
}

// frame is one open container.
type frame struct {
	obj    bool
	ctx    ctx
	field  field // member the container is the value of, when captured
	pred   uint8 // the member predicted next (see memberOrder), or 0
	prev   uint8 // the member met last, or 0
	redact int   // output mark where a redacted value began, or -1
}

// Every context has a bit in scanner.entered.
var _ [16 - numCtx]struct{}

// syntaxError is invalid JSON at an input offset. Its message never quotes
// the input beyond one character: input may hold secrets.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg)
}

// scanner holds the state of one value's scan and the scratch buffers that
// are reused from one record to the next.
type scanner struct {
	in      []byte
	out     []byte // compact output; used only when dirty
	flushed int    // in[:flushed] has been accounted for in out
	dirty   bool   // out (plus in[flushed:end]) is the compact form
	stack   []frame
	fields  [numFields]span
	keybuf  []byte // decoded key with escapes
	dec     []byte // scratch for decoding strings
	arena   []byte // string fields of one record, converted once
	hashbuf []byte // compact bytes of a redacted non-string value
	entered uint16 // contexts entered in this value (bit 1<<ctx): their fields may be set
	escaped bool   // a captured string needed decoding

	// Member prediction, learned from one value to the next (see
	// memberOrder): the first member of each context and the member
	// following each member.
	learned bool
	first   [numCtx]uint8
	succ    [256]uint8
	fixed   bool // learns nothing (tests: with zero tables, predicts nothing)
	scanned int  // member names scanned and looked up rather than predicted

	// Redaction by shape (see redact.go).
	redacted bool              // something was redacted in this value
	redMask  uint64            // captured fields whose text is in redField
	redField [numFields][]byte // the redacted text of those fields
	redStart [numFields]int    // where the value redacted began (a later duplicate is not)
	red      []byte            // scratch for a redacted string
	sub      *scanner          // searches JSON held in strings
	depth    int               // how deep in strings this scanner is
}

// Every field has a bit in scanner.redMask.
var _ [64 - numFields]struct{}

// reset prepares the scanner to scan a value of in starting at start.
func (s *scanner) reset(in []byte, start int) {
	s.in = in
	s.out = s.out[:0]
	s.flushed = start
	s.dirty = false
	s.stack = s.stack[:0]
	s.fields = [numFields]span{}
	s.entered, s.escaped = 0, false
	s.redacted, s.redMask = false, 0
	if !s.learned {
		s.learned = true
		s.first, s.succ = firstMember, succMember
	}
}

// flushTo appends the pending input up to p to the output.
func (s *scanner) flushTo(p int) {
	s.out = append(s.out, s.in[s.flushed:p]...)
	s.flushed = p
	s.dirty = true
}

// compact returns the compact form of in[start:end] after a successful
// scan. It aliases either the input or the scanner's output buffer.
func (s *scanner) compact(start, end int) []byte {
	if !s.dirty {
		return s.in[start:end]
	}
	s.out = append(s.out, s.in[s.flushed:end]...)
	s.flushed = end
	return s.out
}

// ws skips whitespace, dropping it from the compact output.
func (s *scanner) ws(in []byte, pos int) int {
	if pos < len(in) && in[pos] > ' ' {
		return pos
	}
	return s.wsSlow(pos)
}

//go:noinline
func (s *scanner) wsSlow(pos int) int {
	st := pos
	if pos = jsonscan.SkipWS(s.in, pos); pos > st {
		s.flushTo(st)
		s.flushed = pos
	}
	return pos
}

// plainRun returns the offset of the first byte at or after i that is not
// plain string content ('"', '\\', a control character, non-ASCII), or
// len(in).
func plainRun(in []byte, i int) int { return swar.Run(in, i) }

// str scans the string whose opening quote is at pos. It returns the
// offset just past the closing quote and whether the content needs
// decoding. Invalid UTF-8 is replaced by \ufffd in the compact output.
func (s *scanner) str(pos int) (end int, esc bool, err *syntaxError) {
	i := plainRun(s.in, pos+1)
	if i < len(s.in) && s.in[i] == '"' {
		return i + 1, false, nil
	}
	return s.strSlow(i, false)
}

// strSlow goes on scanning a string at i, where plainRun stopped.
func (s *scanner) strSlow(i int, esc bool) (end int, _ bool, err *syntaxError) {
	in := s.in
	for {
		i = plainRun(in, i)
		if i >= len(in) {
			return i, esc, &syntaxError{i, "unterminated string"}
		}
		switch c := in[i]; {
		case c == '"':
			return i + 1, esc, nil
		case c == '\\':
			esc = true
			j := jsonscan.Escape(in, i)
			if j == i {
				return i, esc, &syntaxError{i, jsonscan.EscapeError(in, i)}
			}
			i = j
		case c < 0x20:
			return i, esc, &syntaxError{i, "control character in string"}
		default:
			esc = true
			r, n := utf8.DecodeRune(in[i:])
			if r == utf8.RuneError && n == 1 {
				s.flushTo(i)
				s.out = append(s.out, `\ufffd`...)
				s.flushed = i + 1
			}
			i += n
		}
	}
}

// number scans a JSON number starting at pos (a '-' or a digit).
func (s *scanner) number(pos int) (int, *syntaxError) {
	i, ok := jsonscan.Number(s.in, pos)
	if !ok {
		return i, &syntaxError{i, "invalid number"}
	}
	return i, nil
}

// literal checks for true, false or null at pos.
func (s *scanner) literal(pos int, lit string) (int, *syntaxError) {
	if !jsonscan.Literal(s.in, pos, lit) {
		return pos, &syntaxError{pos, "invalid literal"}
	}
	return pos + len(lit), nil
}

// redactPrefix starts every redaction marker.
const redactPrefix = "REDACTED sha256:"

// isMarker reports whether a decoded string is already a redaction marker,
// so that scanning a redacted record again (replay) changes nothing.
func isMarker(b []byte) bool {
	if len(b) != len(redactPrefix)+64 || string(b[:len(redactPrefix)]) != redactPrefix {
		return false
	}
	for _, c := range b[len(redactPrefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// appendMarker appends the JSON string "REDACTED sha256:<hex>" for secret.
func appendMarker(dst, secret []byte) []byte {
	sum := sha256.Sum256(secret)
	dst = append(dst, '"')
	dst = append(dst, redactPrefix...)
	dst = hex.AppendEncode(dst, sum[:])
	return append(dst, '"')
}

// redactString replaces the string value in[pos:end], whose output began
// at mark, with a marker holding the SHA-256 of its decoded content, unless
// it already is a marker.
func (s *scanner) redactString(mark, pos, end int, esc bool) {
	body := s.in[pos+1 : end-1]
	if esc {
		s.dec = jsonscan.Unquote(s.dec[:0], body)
		body = s.dec
	}
	if isMarker(body) || string(body) == hiddenByCloudTrail {
		return
	}
	s.out = appendMarker(s.out[:mark], body)
	s.flushed = end
	s.redacted = true
}

// redactFrom replaces everything written to the output since mark (a
// non-string value, compact) with a marker holding the SHA-256 of it.
func (s *scanner) redactFrom(mark, end int) {
	s.flushTo(end)
	s.hashbuf = append(s.hashbuf[:0], s.out[mark:]...)
	s.out = appendMarker(s.out[:mark], s.hashbuf)
	s.redacted = true
}

// redactMark returns where in the output the value at pos begins when it
// is to be redacted, or -1.
func (s *scanner) redactMark(pos int, redact bool) int {
	if !redact {
		return -1
	}
	s.flushTo(pos)
	return len(s.out)
}

// open begins the container at pos, the value of member f (0: none, else
// its span is captured): it returns redactMark's mark.
func (s *scanner) open(pos int, f field, kind uint8, redact bool) int {
	if f != 0 {
		s.fields[f] = span{kind: kind, start: pos}
	}
	return s.redactMark(pos, redact)
}

// value scans one JSON value starting at pos (which must not be
// whitespace), capturing members by path when it is an object in context
// c. It returns the offset just past the value.
func (s *scanner) value(pos int, c ctx) (int, *syntaxError) {
	in := s.in
	var (
		f      field // member being captured, if any
		child  ctx   // context of the value, when it is an object
		redact bool  // the value is a secret
		top    *frame
	)
	child = c
value:
	if pos >= len(in) {
		return pos, &syntaxError{pos, "unexpected end of input"}
	}
	switch ch := in[pos]; ch {
	case '"':
		mark := s.redactMark(pos, redact)
		var (
			end int
			esc bool
			err *syntaxError
		)
		if i := plainRun(in, pos+1); i < len(in) && in[i] == '"' {
			end = i + 1
		} else {
			if end, esc, err = s.strSlow(i, false); err != nil {
				return end, err
			}
			if esc && f != 0 {
				s.escaped = true
			}
		}
		if f != 0 {
			s.fields[f] = span{kind: vString, esc: esc, start: pos + 1, end: end - 1}
		}
		if mark >= 0 {
			s.redactString(mark, pos, end, esc)
		} else if (f == 0 || f == fErrorMessage) && (end-pos >= minSecretLen+2 || in[pos+1]|0x20 == '{') {
			// Long enough to hold a secret, or JSON ('{' or '[') that
			// may name one. The captured fields but errorMessage are
			// names, ids, ARNs and the user agent: never searched.
			s.redactShapes(pos, end, esc, f)
		}
		pos = end
	case '{':
		if len(s.stack) >= maxDepth {
			return pos, &syntaxError{pos, "nesting too deep"}
		}
		mark := s.open(pos, f, vObject, redact)
		s.stack = append(s.stack, frame{obj: true, ctx: child, field: f, redact: mark, pred: s.first[child]})
		top = &s.stack[len(s.stack)-1]
		pos++
		if pos < len(in) && in[pos] == '"' {
			goto key
		}
		pos = s.ws(in, pos)
		if pos < len(in) && in[pos] == '}' {
			pos++
			goto closed
		}
		goto key
	case '[':
		if len(s.stack) >= maxDepth {
			return pos, &syntaxError{pos, "nesting too deep"}
		}
		mark := s.open(pos, f, vArray, redact)
		s.stack = append(s.stack, frame{ctx: ctxNone, field: f, redact: mark})
		pos = s.ws(in, pos+1)
		if pos < len(in) && in[pos] == ']' {
			pos++
			goto closed
		}
		f, child, redact = 0, ctxNone, false
		goto value
	default:
		var (
			end  int
			err  *syntaxError
			kind uint8
		)
		switch ch {
		case 't':
			end, err = s.literal(pos, "true")
			kind = vTrue
		case 'f':
			end, err = s.literal(pos, "false")
			kind = vFalse
		case 'n':
			end, err = s.literal(pos, "null")
			kind = vNull
			redact = false // nothing to hide
		default:
			if ch != '-' && (ch < '0' || ch > '9') {
				return pos, &syntaxError{pos, fmt.Sprintf("unexpected character %q", rune(ch))}
			}
			end, err = s.number(pos)
			kind = vNumber
		}
		if err != nil {
			return end, err
		}
		if f != 0 {
			s.fields[f] = span{kind: kind, start: pos, end: end}
		}
		if redact {
			s.flushTo(pos)
			s.redactFrom(len(s.out), end)
		}
		pos = end
	}

next: // after a value: a separator, or the end of the container
	if len(s.stack) == 0 {
		return pos, nil
	}
	if pos >= len(in) || in[pos] <= ' ' {
		if pos = s.ws(in, pos); pos >= len(in) {
			return pos, &syntaxError{pos, "unexpected end of input"}
		}
	}
	if top = &s.stack[len(s.stack)-1]; top.obj {
		switch in[pos] {
		case ',':
			pos++
			if pos >= len(in) || in[pos] != '"' {
				pos = s.ws(in, pos)
			}
			goto key
		case '}':
			pos++
			goto closed
		}
		return pos, &syntaxError{pos, "expected ',' or '}' after object member"}
	}
	switch in[pos] {
	case ',':
		pos = s.ws(in, pos+1)
		f, child, redact = 0, ctxNone, false
		goto value
	case ']':
		pos++
		goto closed
	}
	return pos, &syntaxError{pos, "expected ',' or ']' after array element"}

closed: // the container ending just before pos is complete
	{
		top := s.stack[len(s.stack)-1]
		s.stack = s.stack[:len(s.stack)-1]
		if top.field != 0 {
			s.fields[top.field].end = pos
		}
		if top.redact >= 0 {
			s.redactFrom(top.redact, pos)
		}
		goto next
	}

key: // pos is at an object member's name; top is its object
	// The predicted name, confirmed by comparing words.
	if p := top.pred; p != 0 && pos+maxPredicted <= len(in) && pos >= 0 {
		m := &members[p]
		b := (*[maxPredicted]byte)(in[pos : pos+maxPredicted])
		x := (binary.LittleEndian.Uint64(b[0:8]) ^ m.w[0]) & m.mask[0]
		x |= (binary.LittleEndian.Uint64(b[8:16]) ^ m.w[1]) & m.mask[1]
		x |= (binary.LittleEndian.Uint64(b[16:24]) ^ m.w[2]) & m.mask[2]
		if x == 0 {
			f, child, redact = m.f, m.child, false
			top.prev, top.pred = p, s.succ[p]
			pos += m.n
			goto colon
		}
	}
	{
		if pos >= len(in) || in[pos] != '"' {
			return pos, &syntaxError{pos, "expected member name"}
		}
		var (
			end int
			esc bool
			err *syntaxError
		)
		// Most names end within the first word: no call.
		i := pos + 1
		if i+8 <= len(in) {
			if n := swar.First(in, i); n < 8 {
				i += n
			} else {
				i = plainRun(in, i+8)
			}
		} else {
			i = plainRun(in, i)
		}
		if i < len(in) && in[i] == '"' {
			end = i + 1
		} else if end, esc, err = s.strSlow(i, false); err != nil {
			return end, err
		}
		k := in[pos+1 : end-1]
		if esc {
			s.keybuf = jsonscan.Unquote(s.keybuf[:0], k)
			k = s.keybuf
		}
		s.scanned++
		f, child = 0, ctxNone
		if tc := top.ctx; tc != ctxNone {
			f, child = lookupKey(tc, k)
			// Learn what follows what: the next record likely repeats it.
			if j := memberIndex(tc, k); j != 0 && !s.fixed {
				if top.prev == 0 {
					s.first[tc] = j
				} else {
					s.succ[top.prev] = j
				}
				top.prev, top.pred = j, s.succ[j]
			}
		}
		// Every secret name ends in "en", "ey", "rd", "ng" or "et":
		// most names are rejected on a table lookup.
		redact = len(k) >= len("password") && secretTail[k[len(k)-2]]&secretLast[k[len(k)-1]] != 0 && isSecretKey(k)
		pos = end
	}
colon:
	if pos < len(in) && in[pos] == ':' {
		pos++
	} else {
		if pos = s.ws(in, pos); pos >= len(in) || in[pos] != ':' {
			return pos, &syntaxError{pos, "expected ':' after member name"}
		}
		pos++
	}
	if child != ctxNone {
		// Entering a context again (a duplicate name: the last one wins,
		// as in encoding/json) forgets what the first time captured.
		if bit := uint16(1) << child; s.entered&bit == 0 {
			s.entered |= bit
		} else {
			r := ctxFields[child]
			clear(s.fields[r[0]:r[1]])
		}
	}
	if pos >= len(in) || in[pos] <= ' ' {
		pos = s.ws(in, pos)
	}
	goto value
}

// str returns the decoded text of a captured string field, aliasing the
// input when it needs no decoding. The result is valid until the next call.
func (s *scanner) text(f field) []byte {
	sp := s.fields[f]
	if sp.kind != vString {
		return nil
	}
	if s.redMask&(1<<f) != 0 && s.redStart[f] == sp.start {
		return s.redField[f]
	}
	b := s.in[sp.start:sp.end]
	if sp.esc {
		s.dec = jsonscan.Unquote(s.dec[:0], b)
		return s.dec
	}
	return b
}
