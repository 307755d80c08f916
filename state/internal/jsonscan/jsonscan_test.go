package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

var seeds = []string{
	`{"a":[1,-2.5e+3,{"b":"c d"}],"e":null,"f":true,"g":false}`,
	` { "a" : [ 1 , 2 ] } `,
	`"\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00\uABcd"`,
	`"\uD800x\uDC00\uD83D\u0041"`,
	"\"caf\xc3\xa9 \xff bad\"",
	`-0.5E-7`, `01`, `1.`, `1e`, `-`, `tru`, `nul`, `[1,]`, `{"a"}`, `{"a":1,}`,
	`"\x"`, `"\u12"`, "\"a\x01\"", `"unterminated`, `[[[[]]]]`,
}

// FuzzValue holds Value to json.Valid on a whole value, and compact mode to
// json.Compact leaving the value as it is.
func FuzzValue(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		i := SkipWS(b, 0)
		end, err := Value(b, i, 0, false)
		ours := err == nil && SkipWS(b, end) == len(b)
		if want := json.Valid(b); ours != want {
			t.Fatalf("Value says %v (%v), json.Valid %v, for %q", ours, err, want, b)
		}
		end, err = Value(b, 0, 0, true)
		compact := err == nil && end == len(b)
		var buf bytes.Buffer
		want := json.Valid(b) && json.Compact(&buf, b) == nil && bytes.Equal(buf.Bytes(), b)
		if compact != want {
			t.Fatalf("compact Value says %v (%v), encoding/json %v, for %q", compact, err, want, b)
		}
	})
}

// FuzzUnquote holds String and Unquote to encoding/json's string decoding.
func FuzzUnquote(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		werr := json.Unmarshal(b, &want)
		if len(b) == 0 || b[0] != '"' {
			return
		}
		end, err := String(b, 0)
		if ok := err == nil && SkipWS(b, end) == len(b); ok != (werr == nil) {
			t.Fatalf("String says %v (%v), encoding/json %v, for %q", ok, err, werr, b)
		}
		if werr != nil {
			return
		}
		if got := string(Unquote(nil, b[1:end-1])); got != want {
			t.Fatalf("Unquote %q, encoding/json %q, for %q", got, want, b)
		}
	})
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`"a\x"`, "at byte 2: invalid escape"},
		{`"a\u12"`, "at byte 2: invalid \\u escape"},
		{"\"a\x01\"", "at byte 2: control character in string"},
		{`"abc`, "at byte 0: unterminated string"},
		{`"abc\`, "at byte 4: unterminated string"},
		{`[1,]`, "at byte 3: want a JSON value"},
		{`{"a" 1}`, "at byte 5: want ':'"},
		{`{1}`, "at byte 1: want an object key"},
		{`[1 2]`, "at byte 3: want ',' or ']'"},
		{`-x`, "at byte 1: want a digit"},
		{`1.e`, "at byte 2: want a digit"},
		{`nul`, "at byte 0: want null"},
		{`[`, "at byte 1: unexpected end of line"},
		{strings.Repeat("[", MaxDepth+1), "at byte 10000: nested too deeply"},
	} {
		_, err := Value([]byte(tc.in), 0, 0, false)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%.40q: %v, want %s", tc.in, err, tc.want)
		}
	}
	if _, err := Value([]byte(`[1, 2]`), 0, 0, true); err != ErrNotCompact {
		t.Errorf("compact: %v, want ErrNotCompact", err)
	}
}
