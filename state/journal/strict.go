package journal

import (
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
	"github.com/warroom-ir/warroom/state/internal/swar"
)

// The writer's fast path: data that is already compact — event batches built
// from compacted records, the bulk of every journal — is proved so by
// validCompact in one pass, UTF-8 included, and kept as it is. validCompact
// only answers yes or no: on no, compactData takes the slow path, which
// compacts with encoding/json and words the error, so what Append accepts
// and the errors it gives do not depend on this file. FuzzValidCompact holds
// it to encoding/json and to the reader's own grammar (jsonscan.Value).

// validCompact reports whether b is exactly one JSON value, without white
// space between tokens, in valid UTF-8, whose containers nest fewer than
// maxDepth deep counting depth for the value itself (1 for a line's data,
// which sits in the envelope). It accepts exactly what checking b with the
// reader's grammar (jsonscan.Value) refusing white space, then utf8.Valid,
// accepts. Outside strings JSON is ASCII by grammar, so only strings need
// their UTF-8 checked.
func validCompact(b []byte, depth int) bool {
	// closers holds the closing byte of every open container; the
	// backing array covers every realistic payload without allocating.
	var arr [64]byte
	closers := arr[:0]
	i := 0
value:
	if i >= len(b) {
		return false
	}
	switch c := b[i]; c {
	case '"':
		if i = strictString(b, i); i < 0 {
			return false
		}
	case '{', '[':
		if depth+len(closers) >= maxDepth {
			return false
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i++
		if i < len(b) && b[i] == closer {
			i++
			break
		}
		closers = append(closers, closer)
		if c == '{' {
			goto key
		}
		goto value
	case 't':
		if !jsonscan.Literal(b, i, "true") {
			return false
		}
		i += 4
	case 'f':
		if !jsonscan.Literal(b, i, "false") {
			return false
		}
		i += 5
	case 'n':
		if !jsonscan.Literal(b, i, "null") {
			return false
		}
		i += 4
	default:
		var ok bool
		if i, ok = jsonscan.Number(b, i); !ok {
			return false
		}
	}
	// After a value: the end, a comma, or the innermost container's end.
	for {
		if len(closers) == 0 {
			return i == len(b)
		}
		if i >= len(b) {
			return false
		}
		top := closers[len(closers)-1]
		switch b[i] {
		case ',':
			i++
			if top == '}' {
				goto key
			}
			goto value
		case top:
			i++
			closers = closers[:len(closers)-1]
			continue
		}
		return false
	}
key:
	if i >= len(b) || b[i] != '"' {
		return false
	}
	if i = strictString(b, i); i < 0 || i >= len(b) || b[i] != ':' {
		return false
	}
	i++
	goto value
}

// strictString checks the JSON string at b[i] (a '"'), its UTF-8 included,
// and returns the index after its closing quote, or -1. Plain ASCII goes by
// eight bytes at a time.
func strictString(b []byte, i int) int {
	i++
	for {
		i = swar.Run(b, i)
		if i >= len(b) {
			return -1
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			j := jsonscan.Escape(b, i)
			if j == i {
				return -1
			}
			i = j
		case c < 0x20:
			return -1
		default:
			// A run of non-ASCII: each rune must be valid UTF-8.
			for i < len(b) && b[i] >= utf8.RuneSelf {
				if _, n := utf8.DecodeRune(b[i:]); n > 1 {
					i += n
				} else {
					return -1
				}
			}
		}
	}
}
