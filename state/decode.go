package state

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// Fast decoders for the two payloads a long journal is mostly made of
// (events and stream.health), so that replay folds a journal quickly.
//
// Each one accepts only the plain form the recorder writes: one object,
// every key spelled exactly as the struct tag says and at most once, string
// values without escapes, no null. Anything else makes it answer ok=false,
// and the caller decodes with encoding/json instead, which then gives the
// same value, or the error, it always gave. So a fast decoder never decides
// what a payload means; it only skips work when the answer is plain.

// skipValue checks the JSON value at b[i] with jsonscan.Value, the journal
// reader's grammar (as strict as encoding/json's), answering ok=false where
// that refuses it.
func skipValue(b []byte, i, depth int) (int, bool) {
	if i < len(b) && b[i] == '"' {
		return skipString(b, i) // most values: straight to the string scan
	}
	end, err := jsonscan.Value(b, i, depth, false)
	return end, err == nil
}

// skipString is skipValue for the string at b[i].
func skipString(b []byte, i int) (int, bool) {
	end, err := jsonscan.String(b, i)
	return end, err == nil
}

// plainString returns the text of a checked JSON string token when it needs
// no decoding: no escapes and valid UTF-8.
func plainString(tok []byte) (string, bool) {
	b, ok := plainBytes(tok)
	return string(b), ok
}

// plainBytes is plainString without the copy: the text is tok's.
func plainBytes(tok []byte) ([]byte, bool) {
	if len(tok) < 2 || tok[0] != '"' {
		return nil, false
	}
	in := tok[1 : len(tok)-1]
	ascii := true
	for _, c := range in {
		if c == '\\' {
			return nil, false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if !ascii && !utf8.Valid(in) {
		return nil, false
	}
	return in, true
}

// interner hands out one copy of each short string it is given, so that the
// same source, Region and status in a million health facts cost one
// allocation. It stops remembering new strings at maxInterned.
type interner map[string]string

const (
	maxInterned    = 1024
	maxInternedLen = 256
)

// str returns b as a string, shared when it was seen before.
func (in interner) str(b []byte) string {
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	if in != nil && len(in) < maxInterned && len(b) <= maxInternedLen {
		in[s] = s
	}
	return s
}

// plainInterned is plainString with the text interned.
func (in interner) plainString(tok []byte) (string, bool) {
	b, ok := plainBytes(tok)
	if !ok {
		return "", false
	}
	return in.str(b), true
}

// eachMember calls fn with each member of the JSON object that is all of
// data (white space allowed around it), checking the object as it goes.
// fn gets each key as written, escapes and all, without its quotes. ok is
// false when data is not such an object or fn returned false; fn may have
// been called before that was known.
func eachMember(data []byte, fn func(key, val []byte) bool) bool {
	i := jsonscan.SkipWS(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = jsonscan.SkipWS(data, i+1)
	if i < len(data) && data[i] == '}' {
		return jsonscan.SkipWS(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return false
		}
		kEnd, ok := skipString(data, i)
		if !ok {
			return false
		}
		// The key as written: one with escapes matches no key the
		// decoders know, so encoding/json decides it.
		key := data[i+1 : kEnd-1]
		i = jsonscan.SkipWS(data, kEnd)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = jsonscan.SkipWS(data, i+1)
		vEnd, ok := skipValue(data, i, 1)
		if !ok || !fn(key, data[i:vEnd]) {
			return false
		}
		i = jsonscan.SkipWS(data, vEnd)
		if i >= len(data) {
			return false
		}
		switch data[i] {
		case '}':
			return jsonscan.SkipWS(data, i+1) == len(data)
		case ',':
			i = jsonscan.SkipWS(data, i+1)
		default:
			return false
		}
	}
}

// once marks a known key's bit in seen and answers good, or false when the
// key was met before (encoding/json then decides: the last one wins).
func once(seen *uint8, bit uint8, good bool) bool {
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return good
}

// splitArray returns the elements of a checked JSON array token, each
// without surrounding white space, as encoding/json gives a
// []json.RawMessage (an empty array gives an empty, non-nil slice). The
// elements share tok's memory.
func splitArray(tok []byte) ([]json.RawMessage, bool) {
	if len(tok) == 0 || tok[0] != '[' {
		return nil, false
	}
	out := []json.RawMessage{}
	i := jsonscan.SkipWS(tok, 1)
	if tok[i] == ']' {
		return out, true
	}
	for {
		end, ok := skipValue(tok, i, 1)
		if !ok {
			return nil, false
		}
		out = append(out, tok[i:end:end])
		i = jsonscan.SkipWS(tok, end)
		if tok[i] == ']' {
			return out, true
		}
		i = jsonscan.SkipWS(tok, i+1)
	}
}

// decodeEvents decodes an events payload, or answers ok=false (see the top
// of this file). Records share data's memory.
func decodeEvents(data []byte) (ev Events, ok bool) {
	var seen uint8
	ok = eachMember(data, func(key, val []byte) bool {
		var bit uint8
		var good bool
		switch string(key) {
		case "source":
			bit = 1
			ev.Source, good = plainString(val)
		case "records":
			bit = 2
			ev.Records, good = splitArray(val)
		default:
			// "skipped" and anything else: rare, encoding/json's.
			return false
		}
		return once(&seen, bit, good)
	})
	return ev, ok
}

// decodeHealth decodes a stream.health payload, or answers ok=false (see
// the top of this file). Source, Region and status come from in.
func decodeHealth(data []byte, in interner) (v StreamHealth, ok bool) {
	var seen uint8
	ok = eachMember(data, func(key, val []byte) bool {
		var bit uint8
		good := true
		switch string(key) {
		case "source":
			bit = 1
			v.Source, good = in.plainString(val)
		case "region":
			bit = 2
			v.Region, good = in.plainString(val)
		case "status":
			bit = 4
			v.Status, good = in.plainString(val)
		case "lag":
			bit = 8
			var s string
			if s, good = plainString(val); good {
				d, err := time.ParseDuration(s)
				v.Lag, good = Duration(d), err == nil
			}
		case "newest_at":
			bit = 16
			if _, good = plainString(val); good {
				good = v.NewestAt.UnmarshalJSON(val) == nil
			}
		case "error":
			bit = 32
			v.Error, good = plainString(val)
		case "delivered":
			bit = 64
			v.Delivered, good = plainInt(val)
		case "account_id":
			bit = 128
			v.AccountID, good = in.plainString(val)
		default:
			return false
		}
		return once(&seen, bit, good)
	})
	return v, ok
}

// plainInt reads a checked JSON number that is an integer written without
// fraction or exponent and fits an int.
func plainInt(tok []byte) (int, bool) {
	for _, c := range tok {
		if c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(tok))
	return n, err == nil
}
