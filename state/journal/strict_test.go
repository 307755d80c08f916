package journal

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// readerCompact is what compactData's fast path accepted before
// validCompact: the reader's grammar refusing white space, then utf8.Valid.
func readerCompact(b []byte) bool {
	end, err := jsonscan.Value(b, 0, 1, true)
	return err == nil && end == len(b) && utf8.Valid(b)
}

// jsonCompact is validCompact by encoding/json: one valid value, in valid
// UTF-8, that json.Compact leaves as it is. It ignores the nesting limit.
func jsonCompact(b []byte) bool {
	if !json.Valid(b) || !utf8.Valid(b) {
		return false
	}
	var buf bytes.Buffer
	return json.Compact(&buf, b) == nil && bytes.Equal(buf.Bytes(), b)
}

func TestValidCompact(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"object", `{"a":[1,-2.5e+3,{"b":"c d"}],"e":null,"f":true,"g":false}`, true},
		{"empty containers", `{"a":{},"b":[],"c":[{}]}`, true},
		{"string alone", `"x"`, true},
		{"number alone", `-0.5E-7`, true},
		{"escapes", `["\"\\\/\b\f\n\r\t","\u00e9\uD83D\uDE00","\uABcd"]`, true},
		{"non-ASCII", `{"k":"café — 日本語 😀 \ufffd �"}`, true},
		{"non-ASCII key", `{"clé":1}`, true},
		{"long string, quote on every offset", `["` + strings.Repeat("abcdefghijklmnopq", 3) + `","a","ab","abcdefgh","abcdefghi"]`, true},
		{"nesting at the limit", nest(maxDepth - 1), true},
		{"nesting over the limit", nest(maxDepth), false},
		{"empty", ``, false},
		{"space before", ` 1`, false},
		{"space after", `1 `, false},
		{"space after colon", `{"a": 1}`, false},
		{"space after comma", `[1, 2]`, false},
		{"newline in object", "{\n\"a\":1}", false},
		{"two values", `{}{}`, false},
		{"trailing comma", `[1,]`, false},
		{"missing colon", `{"a"1}`, false},
		{"key not a string", `{a:1}`, false},
		{"unclosed", `{"a":[1}`, false},
		{"bad literal", `[tru]`, false},
		{"leading zero", `01`, false},
		{"bare minus", `-`, false},
		{"dot without digits", `1.`, false},
		{"exponent without digits", `1e+`, false},
		{"bad escape", `"\q"`, false},
		{"short unicode escape", `"\u12"`, false},
		{"bad hex", `"\u12g4"`, false},
		{"backslash at the end", `"\`, false},
		{"unterminated", `"abcdefghijklmnop`, false},
		{"control character", "\"abcdefgh\x01\"", false},
		{"raw newline", "\"a\nb\"", false},
		{"lone continuation byte", "\"abcdefgh\x80\"", false},
		{"overlong", "\"\xc0\x80\"", false},
		{"surrogate", "\"\xed\xa0\x80\"", false},
		{"truncated rune", "\"\xe6\x97\"", false},
		{"truncated rune at the end", "\"\xe6\x97", false},
		{"beyond U+10FFFF", "\"\xf4\x90\x80\x80\"", false},
		{"non-ASCII outside strings", "[\xc3\xa9]", false},
		{"invalid UTF-8 in a key", "{\"\xff\":1}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(tt.in)
			if got := validCompact(b, 1); got != tt.want {
				t.Fatalf("validCompact(%.80q) = %v, want %v", tt.in, got, tt.want)
			}
			if old := readerCompact(b); old != tt.want {
				t.Fatalf("the reader's grammar says %v for %.80q, the case %v", old, tt.in, tt.want)
			}
		})
	}
}

// TestValidCompactPayload checks the benchmark's events payload, which
// mixes long ASCII, escapes and non-ASCII, and every prefix of a piece of
// it: no cut of a valid value but the whole is valid.
func TestValidCompactPayload(t *testing.T) {
	data := eventsPayload(64 << 10)
	if !validCompact(data, 1) || !jsonCompact(data) {
		t.Fatal("the events payload is not accepted")
	}
	piece := data[:4096]
	for n := range piece {
		if got, want := validCompact(piece[:n], 1), readerCompact(piece[:n]); got != want {
			t.Fatalf("validCompact says %v for the first %d bytes, the reader's grammar %v", got, n, want)
		}
	}
}

// FuzzValidCompact holds validCompact to the check it replaced (the reader's
// grammar without white space, then utf8.Valid) and to encoding/json.
func FuzzValidCompact(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,-2.5e+3,{"b":"c d"}],"e":null,"f":true}`,
		`{"k":"café — 日本語 😀","u":"\u00e9\\\""}`,
		`{ "a" : 1 }`,
		"\"abcdefgh\x80\"",
		"\"\xed\xa0\x80\"",
		`[[[[]]]]`,
		`-0.5E-7`,
	} {
		f.Add([]byte(s))
	}
	f.Add(eventsPayload(2048))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := validCompact(b, 1)
		if old := readerCompact(b); got != old {
			t.Fatalf("validCompact says %v, the reader's grammar %v, for %q", got, old, b)
		}
		// encoding/json allows one more level of nesting than a line's
		// data may have; TestValidCompact covers the limit.
		if bytes.Count(b, []byte("["))+bytes.Count(b, []byte("{")) < maxDepth-1 {
			if want := jsonCompact(b); got != want {
				t.Fatalf("validCompact says %v, encoding/json %v, for %q", got, want, b)
			}
		}
	})
}

// BenchmarkValidCompact checks a 4 MB events payload, the fast path of every
// ingest batch, against the check it replaced.
//
//	go test ./state/journal -run '^$' -bench 'ValidCompact' -count 5
func BenchmarkValidCompact(b *testing.B) {
	data := eventsPayload(4 << 20)
	for _, bc := range []struct {
		name  string
		check func([]byte) bool
	}{
		{"strict", func(b []byte) bool { return validCompact(b, 1) }},
		{"reader+utf8", readerCompact},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if !bc.check(data) {
					b.Fatal("refused")
				}
			}
		})
	}
}
