package jsonscan

// Value checks the JSON value at b[i] (no white space before it) as
// strictly as encoding/json, and returns the index after it. depth is the
// number of containers around it: nesting stops at MaxDepth. With compact
// set it also refuses white space between tokens (answering
// ErrNotCompact), so that one pass both checks and proves a value compact.
func Value(b []byte, i, depth int, compact bool) (int, *Error) {
	if i >= len(b) {
		return i, errAt(i, "unexpected end of line")
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		if depth >= MaxDepth {
			return i, errAt(i, "nested too deeply")
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		var err *Error
		if i, err = space(b, i+1, compact); err != nil {
			return i, err
		}
		if i < len(b) && b[i] == closer {
			return i + 1, nil
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return i, errAt(i, "want an object key")
				}
				if i, err = String(b, i); err != nil {
					return i, err
				}
				if i, err = space(b, i, compact); err != nil {
					return i, err
				}
				if i >= len(b) || b[i] != ':' {
					return i, errAt(i, "want ':'")
				}
				if i, err = space(b, i+1, compact); err != nil {
					return i, err
				}
			}
			if i, err = Value(b, i, depth+1, compact); err != nil {
				return i, err
			}
			if i, err = space(b, i, compact); err != nil {
				return i, err
			}
			switch {
			case i >= len(b):
				return i, errAt(i, "unexpected end of line")
			case b[i] == ',':
				if i, err = space(b, i+1, compact); err != nil {
					return i, err
				}
			case b[i] == closer:
				return i + 1, nil
			default:
				return i, errAt(i, "want ',' or '%c'", closer)
			}
		}
	case c == '"':
		return String(b, i)
	case c == '-' || (c >= '0' && c <= '9'):
		end, ok := Number(b, i)
		if !ok {
			return end, errAt(end, "want a digit")
		}
		return end, nil
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	}
	return i, errAt(i, "want a JSON value")
}

func literal(b []byte, i int, lit string) (int, *Error) {
	if !Literal(b, i, lit) {
		return i, errAt(i, "want %s", lit)
	}
	return i + len(lit), nil
}

// ErrNotCompact is Value's answer, in compact mode, to white space between
// tokens.
var ErrNotCompact = &Error{Msg: "white space between tokens"}

// space skips white space from j; with compact set, there must be none.
func space(b []byte, j int, compact bool) (int, *Error) {
	if j < len(b) && b[j] > ' ' {
		return j, nil // mostly
	}
	return spaceSlow(b, j, compact)
}

func spaceSlow(b []byte, j int, compact bool) (int, *Error) {
	k := SkipWS(b, j)
	if compact && k != j {
		return k, ErrNotCompact
	}
	return k, nil
}
