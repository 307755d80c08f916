package journal

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// The reader parses the fixed envelope of a line by hand: it is the hot path
// of Verify (a million lines in well under a second), and the envelope's key
// order is part of the format. The values of "by" and "data" are checked
// against the JSON grammar by jsonscan.Value; FuzzRead holds the hand parser
// to encoding/json.

// maxDepth is encoding/json's nesting limit, counted over the whole line (the
// envelope is depth 1), so that a line this package accepts is always one
// that json.Valid accepts too.
const maxDepth = jsonscan.MaxDepth

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

// errAt is a JSON or envelope error at a byte offset of a line.
func errAt(off int, format string, args ...any) error {
	return &jsonscan.Error{Off: off, Msg: fmt.Sprintf(format, args...)}
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
	if rl.at, ok = jsonscan.Time(b[i : i+j]); !ok {
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
	} else if i, err = skipValue(b, i, 1); err != nil {
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
	if i, err = skipString(b, i); err != nil {
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
	if i, err = skipValue(b, i, 1); err != nil {
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

// skipValue checks the JSON value at b[i] (no white space before it) with
// jsonscan.Value and returns the index after it. depth is the number of
// containers around it.
func skipValue(b []byte, i, depth int) (int, error) {
	end, err := jsonscan.Value(b, i, depth, false)
	if err != nil {
		return end, err
	}
	return end, nil
}

// skipString checks the JSON string at b[i] (a '"') with jsonscan.String
// and returns the index after its closing quote.
func skipString(b []byte, i int) (int, error) {
	end, err := jsonscan.String(b, i)
	if err != nil {
		return end, err
	}
	return end, nil
}

// unquote decodes a JSON string token that skipString accepted, as
// encoding/json does.
func unquote(tok []byte) string {
	body := tok[1 : len(tok)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body)
	}
	return string(jsonscan.Unquote(nil, body))
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
	// The object's grammar was checked by skipValue, so the punctuation
	// below is where it must be.
	i := jsonscan.SkipWS(b, 1)
	if b[i] == '}' {
		return nil
	}
	for {
		start := i
		i, _ = jsonscan.String(b, i)
		key := b[start:i]
		i = jsonscan.SkipWS(b, jsonscan.SkipWS(b, i)+1) // past ':'
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
			i, _ = jsonscan.String(b, i)
			if a != nil {
				*actorString(a, unquote(key)) = unquote(b[start:i])
			}
		default:
			i, _ = jsonscan.Value(b, i, 2, false)
		}
		i = jsonscan.SkipWS(b, i)
		if b[i] == '}' {
			return nil
		}
		i = jsonscan.SkipWS(b, i+1) // past ','
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
	end, ok := jsonscan.Number(b, i)
	if !ok {
		return 0, i, errAt(end, "want a digit")
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
