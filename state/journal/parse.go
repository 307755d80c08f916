package journal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/swar"
)

// The reader parses the fixed envelope of a line by hand: it is the hot path
// of Verify (a million lines in well under a second), and the envelope's key
// order is part of the format. The values of "by" and "data" are checked
// against the JSON grammar by SkipValue; FuzzRead holds the hand parser to
// encoding/json.

// maxDepth is encoding/json's nesting limit, counted over the whole line (the
// envelope is depth 1), so that a line this package accepts is always one
// that json.Valid accepts too.
const maxDepth = 10000

// rawLine is a line split into its envelope fields. The slices point into
// the line.
type rawLine struct {
	seq  int64
	at   time.Time
	by   []byte // the JSON object
	kind []byte // the JSON string token, quotes included
	data []byte // the JSON value
	prev [32]byte
	// byKnown says that by equals the knownBy given to parseLine, so it
	// was not checked again.
	byKnown bool
}

// syntaxError is a JSON or envelope error at a byte offset of a line.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("at byte %d: %s", e.off, e.msg) }

func errAt(off int, format string, args ...any) error {
	return &syntaxError{off: off, msg: fmt.Sprintf(format, args...)}
}

// Envelope pieces, in order.
var (
	keySeq  = []byte(`{"seq":`)
	keyAt   = []byte(`,"at":"`)
	keyBy   = []byte(`","by":`)
	keyKind = []byte(`,"kind":`)
	keyData = []byte(`,"data":`)
	keyPrev = []byte(`,"prev":"`)
	endLine = []byte(`"}`)
)

// parseLine splits a line (without its newline) into its fields. It checks
// the envelope and the JSON grammar of every value, but not the chain.
// knownBy, when not nil, is a "by" object already checked: consecutive lines
// usually come from one writer, and a line whose "by" begins with knownBy
// has that very object (a JSON value ends where its grammar says), so it
// is not walked again.
func parseLine(b []byte, rl *rawLine, knownBy []byte) error {
	if !utf8.Valid(b) {
		return errAt(invalidUTF8At(b), "invalid UTF-8")
	}
	i, err := expect(b, 0, keySeq)
	if err != nil {
		return err
	}
	if rl.seq, i, err = parseUint(b, i); err != nil {
		return err
	}
	if i, err = expect(b, i, keyAt); err != nil {
		return err
	}
	j := bytes.IndexByte(b[i:], '"')
	if j < 0 {
		return errAt(len(b), "unterminated \"at\" string")
	}
	var ok bool
	if rl.at, ok = parseTime(b[i : i+j]); !ok {
		return errAt(i, "\"at\" is not an RFC 3339 UTC time")
	}
	if i, err = expect(b, i+j, keyBy); err != nil {
		return err
	}
	if i >= len(b) || b[i] != '{' {
		return errAt(i, "\"by\" is not an object")
	}
	start := i
	if rl.byKnown = len(knownBy) > 0 && bytes.HasPrefix(b[i:], knownBy); rl.byKnown {
		i += len(knownBy)
	} else if i, err = SkipValue(b, i, 1); err != nil {
		return err
	}
	rl.by = b[start:i]
	if i, err = expect(b, i, keyKind); err != nil {
		return err
	}
	if i >= len(b) || b[i] != '"' {
		return errAt(i, "\"kind\" is not a string")
	}
	start = i
	if i, err = SkipString(b, i); err != nil {
		return err
	}
	rl.kind = b[start:i]
	if len(rl.kind) == 2 {
		return errAt(start, "\"kind\" is empty")
	}
	if i, err = expect(b, i, keyData); err != nil {
		return err
	}
	start = i
	if i, err = SkipValue(b, i, 1); err != nil {
		return err
	}
	rl.data = b[start:i]
	if i, err = expect(b, i, keyPrev); err != nil {
		return err
	}
	if len(b)-i < 64 || !decodeHex(rl.prev[:], b[i:i+64]) {
		return errAt(i, "\"prev\" is not 64 lower-case hex digits")
	}
	i += 64
	if i, err = expect(b, i, endLine); err != nil {
		return err
	}
	if i != len(b) {
		return errAt(i, "text after the end of the entry")
	}
	return nil
}

// invalidUTF8At returns the offset of the first invalid UTF-8 sequence.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// expect checks that b[i:] starts with want and returns the index after it.
func expect(b []byte, i int, want []byte) (int, error) {
	if !bytes.HasPrefix(b[i:], want) {
		return i, errAt(i, "want %s", want)
	}
	return i + len(want), nil
}

// parseUint parses a positive decimal integer without leading zeros.
func parseUint(b []byte, i int) (int64, int, error) {
	start := i
	var n int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if n > (1<<63-1-9)/10 {
			return 0, i, errAt(start, "number too large")
		}
		n = n*10 + int64(b[i]-'0')
		i++
	}
	switch {
	case i == start:
		return 0, i, errAt(i, "want a number")
	case b[start] == '0':
		return 0, i, errAt(start, "want a positive number without leading zeros")
	}
	return n, i, nil
}

// parseTime parses the UTC form of time.RFC3339Nano the writer produces:
// 2006-01-02T15:04:05.999999999Z, with 0 to 9 fraction digits. Anything it
// accepts, time.Parse(time.RFC3339Nano, …) accepts with the same value. It
// exists because time.Parse would need the bytes as a string, one allocation
// per line.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	num := func(s []byte) (int, bool) {
		n := 0
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(b[0:4])
	month, ok2 := num(b[5:7])
	day, ok3 := num(b[8:10])
	hour, ok4 := num(b[11:13])
	minute, ok5 := num(b[14:16])
	sec, ok6 := num(b[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return time.Time{}, false
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if frac := b[19 : len(b)-1]; len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		n, ok := num(frac[1:])
		if !ok {
			return time.Time{}, false
		}
		for k := len(frac) - 1; k < 9; k++ {
			n *= 10
		}
		nsec = n
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// decodeHex decodes lower-case hex digits into dst (len(src) == 2*len(dst)).
func decodeHex(dst, src []byte) bool {
	var bad byte
	for k := range dst {
		hi, lo := unhex[src[2*k]], unhex[src[2*k+1]]
		bad |= hi | lo
		dst[k] = hi<<4 | lo&0x0f
	}
	return bad&0xf0 == 0
}

// unhex maps a lower-case hex digit to its value and anything else to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// SkipValue checks the JSON value at b[i] (no white space before it) as
// strictly as encoding/json, and returns the index after it. depth is the
// number of containers around it: nesting stops at encoding/json's limit.
// The error names the offset and what was wanted there, never the input.
func SkipValue(b []byte, i, depth int) (int, error) { return checkValue(b, i, depth, false) }

// errNotCompact is checkValue's answer, in compact mode, to white space
// between tokens.
var errNotCompact = errAt(0, "white space between tokens")

// space skips white space from j; with compact set, there must be none.
func space(b []byte, j int, compact bool) (int, error) {
	if j < len(b) && b[j] > ' ' {
		return j, nil // mostly: small enough to be inlined
	}
	return spaceSlow(b, j, compact)
}

func spaceSlow(b []byte, j int, compact bool) (int, error) {
	k := skipSpace(b, j)
	if compact && k != j {
		return k, errNotCompact
	}
	return k, nil
}

// checkValue is SkipValue; with compact set it also refuses white space
// between tokens, so that one pass both checks and proves data compact.
func checkValue(b []byte, i, depth int, compact bool) (int, error) {
	if i >= len(b) {
		return i, errAt(i, "unexpected end of line")
	}
	switch c := b[i]; {
	case c == '{' || c == '[':
		if depth >= maxDepth {
			return i, errAt(i, "nested too deeply")
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		var err error
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
				if i, err = SkipString(b, i); err != nil {
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
			if i, err = checkValue(b, i, depth+1, compact); err != nil {
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
		return SkipString(b, i)
	case c == '-' || (c >= '0' && c <= '9'):
		return skipNumber(b, i)
	case c == 't':
		return skipLiteral(b, i, "true")
	case c == 'f':
		return skipLiteral(b, i, "false")
	case c == 'n':
		return skipLiteral(b, i, "null")
	}
	return i, errAt(i, "want a JSON value")
}

func skipLiteral(b []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return i, errAt(i, "want %s", lit)
	}
	return i + len(lit), nil
}

// SkipString checks the JSON string at b[i] (a '"') as strictly as
// encoding/json (invalid UTF-8 is left for a decoder to replace), and
// returns the index after its closing quote.
func SkipString(b []byte, i int) (int, error) {
	start := i
	i++
	for i < len(b) {
		// Plain ASCII content, eight or sixteen bytes at a time.
		if i = swar.Run(b, i); i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return i, errAt(i, "unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex4(b[i+2:i+6]) {
					return i, errAt(i, "invalid \\u escape")
				}
				i += 6
			default:
				return i, errAt(i, "invalid escape")
			}
		case c < 0x20:
			return i, errAt(i, "control character in string")
		default:
			i++
		}
	}
	return start, errAt(start, "unterminated string")
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func skipNumber(b []byte, i int) (int, error) {
	digits := func(i int) (int, error) {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, errAt(i, "want a digit")
		}
		return i, nil
	}
	if b[i] == '-' {
		i++
	}
	var err error
	switch {
	case i < len(b) && b[i] == '0':
		i++
	default:
		if i, err = digits(i); err != nil {
			return i, err
		}
	}
	if i < len(b) && b[i] == '.' {
		if i, err = digits(i + 1); err != nil {
			return i, err
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, err = digits(i); err != nil {
			return i, err
		}
	}
	return i, nil
}

// unquote decodes a JSON string token that SkipString accepted.
func unquote(tok []byte) string {
	if bytes.IndexByte(tok, '\\') < 0 {
		return string(tok[1 : len(tok)-1])
	}
	var s string
	if err := json.Unmarshal(tok, &s); err != nil {
		// Unreachable for a token SkipString accepted; keep the raw form.
		return string(tok[1 : len(tok)-1])
	}
	return s
}

// tokenIs reports whether the JSON string token tok decodes to s.
func tokenIs(tok []byte, s string) bool {
	if bytes.IndexByte(tok, '\\') < 0 {
		return len(tok) == len(s)+2 && string(tok[1:len(tok)-1]) == s
	}
	return unquote(tok) == s
}

// decodeActor checks the "by" object and, when a is not nil, decodes it.
// Known keys must have the right type (strings; an integer pid); unknown
// keys are skipped so that later versions can add some. Keys match exactly.
func decodeActor(b []byte, a *Actor) error {
	// The object's grammar was checked by SkipValue, so the punctuation
	// below is where it must be.
	i := skipSpace(b, 1)
	if b[i] == '}' {
		return nil
	}
	for {
		start := i
		i, _ = SkipString(b, i)
		key := b[start:i]
		i = skipSpace(b, skipSpace(b, i)+1) // past ':'
		switch {
		case tokenIs(key, "pid"):
			n, end, err := parseInt(b, i)
			if err != nil {
				return errAt(i, "\"by\".pid is not an integer")
			}
			if a != nil {
				a.PID = n
			}
			i = end
		case tokenIs(key, "user"), tokenIs(key, "host"), tokenIs(key, "ssh"), tokenIs(key, "aws"):
			if b[i] != '"' {
				return errAt(i, "\"by\".%s is not a string", unquote(key))
			}
			start = i
			i, _ = SkipString(b, i)
			if a != nil {
				*actorString(a, unquote(key)) = unquote(b[start:i])
			}
		default:
			i, _ = SkipValue(b, i, 2)
		}
		i = skipSpace(b, i)
		if b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // past ','
	}
}

// actorString returns the string field of a that key names.
func actorString(a *Actor, key string) *string {
	switch key {
	case "user":
		return &a.User
	case "host":
		return &a.Host
	case "ssh":
		return &a.SSH
	}
	return &a.AWS
}

// parseInt parses a JSON integer that fits an int.
func parseInt(b []byte, i int) (int, int, error) {
	end, err := skipNumber(b, i)
	if err != nil {
		return 0, i, err
	}
	n, err := strconv.ParseInt(string(b[i:end]), 10, strconv.IntSize)
	if err != nil {
		return 0, i, err
	}
	return int(n), end, nil
}

// openedID returns the string "id" member of a line 1's data, or "".
func openedID(data []byte) string {
	var v struct {
		ID *string `json:"id"`
	}
	if len(data) == 0 || data[0] != '{' || json.Unmarshal(data, &v) != nil || v.ID == nil {
		return ""
	}
	return *v.ID
}

// appendLine appends the encoded line (without newline) for one entry.
// byJSON and kindJSON are already JSON; data is compact JSON.
func appendLine(buf []byte, seq int64, at time.Time, byJSON, kindJSON, data []byte, prev *[32]byte) []byte {
	buf = appendHead(buf, seq, at, byJSON, kindJSON)
	buf = append(buf, data...)
	return appendTail(buf, prev)
}

// appendHead appends what comes before the data in a line.
func appendHead(buf []byte, seq int64, at time.Time, byJSON, kindJSON []byte) []byte {
	buf = append(buf, keySeq...)
	buf = strconv.AppendInt(buf, seq, 10)
	buf = append(buf, keyAt...)
	buf = at.AppendFormat(buf, time.RFC3339Nano)
	buf = append(buf, keyBy...)
	buf = append(buf, byJSON...)
	buf = append(buf, keyKind...)
	buf = append(buf, kindJSON...)
	return append(buf, keyData...)
}

// appendTail appends what comes after the data in a line.
func appendTail(buf []byte, prev *[32]byte) []byte {
	buf = append(buf, keyPrev...)
	buf = hex.AppendEncode(buf, prev[:])
	return append(buf, endLine...)
}
