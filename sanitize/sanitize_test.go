package sanitize

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice", "alice"},
		{"csi colour", "\x1b[31mred\x1b[0m", "⟨U+001B⟩[31mred⟨U+001B⟩[0m"},
		{"csi clear screen", "a\x1b[2Jb", "a⟨U+001B⟩[2Jb"},
		{"osc title bel", "\x1b]0;pwned\x07user", "⟨U+001B⟩]0;pwned⟨U+0007⟩user"},
		{"osc 52 clipboard", "x\x1b]52;c;Y3VybCBldmlsLnNo\x07y", "x⟨U+001B⟩]52;c;Y3VybCBldmlsLnNo⟨U+0007⟩y"},
		{"c1 csi", "a\u009b31mb", "a⟨U+009B⟩31mb"},
		{"c1 osc", "a\u009d0;t\u0007b", "a⟨U+009D⟩0;t⟨U+0007⟩b"},
		{"lone esc at end", "abc\x1b", "abc⟨U+001B⟩"},
		{"c0 controls", "a\x00b\x07c\x08d", "a⟨U+0000⟩b⟨U+0007⟩c⟨U+0008⟩d"},
		{"newline tab cr", "a\nb\tc\rd", "a b c d"},
		{"del", "a\x7fb", "a⟨U+007F⟩b"},
		{"bidi override", "user\u202egnp.exe", "user⟨U+202E⟩gnp.exe"},
		{"bidi isolate", "\u2066abc\u2069", "⟨U+2066⟩abc⟨U+2069⟩"},
		{"zero width space", "ad\u200bmin", "ad⟨U+200B⟩min"},
		{"zero width joiner", "ad\u200dmin", "ad⟨U+200D⟩min"},
		{"word joiner", "ad\u2060min", "ad⟨U+2060⟩min"},
		{"bom", "\ufeffadmin", "⟨U+FEFF⟩admin"},
		{"soft hyphen", "ad\u00admin", "ad⟨U+00AD⟩min"},
		{"line separator", "a\u2028b\u2029c", "a⟨U+2028⟩b⟨U+2029⟩c"},
		{"tag characters", "admin\U000e0041\U000e007f", "admin⟨U+E0041⟩⟨U+E007F⟩"},
		{"variation selector", "admin\ufe0f\U000e0100", "admin⟨U+FE0F⟩⟨U+E0100⟩"},
		{"hangul filler", "\u3164", "⟨U+3164⟩"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"unicode kept", "Zoë 東京 ⟨x⟩", "Zoë 東京 ⟨x⟩"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Terminal(tt.in); got != tt.want {
				t.Errorf("Terminal(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCSVField(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "alice", "alice"},
		{"formula", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"plus", "+1", "'+1"},
		{"minus", "-2+3", "'-2+3"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"escape then formula", "\x1b[0m=1+1", "⟨U+001B⟩[0m=1+1"},
		{"spaces then formula", "  =1+1", "'  =1+1"},
		{"tab", "\t=1+1", "' =1+1"},
		{"carriage return", "\r@SUM(A1)", "' @SUM(A1)"},
		{"full-width equals", "＝1+1", "'＝1+1"},
		{"hidden then formula", "\u200b=1", "⟨U+200B⟩=1"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CSVField(tt.in); got != tt.want {
				t.Errorf("CSVField(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestJSONString(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "alice", `"alice"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"c0", "a\x00\x1b\n", `"a\u0000\u001b\n"`},
		{"del", "a\x7f", `"a\u007f"`},
		{"c1 csi", "a\u009b31m", `"a\u009b31m"`},
		{"bidi", "\u202e\u2066\u200f", `"\u202e\u2066\u200f"`},
		{"zero width", "ad\u200bmin\ufeff", `"ad\u200bmin\ufeff"`},
		{"separators", "\u2028\u2029", `"\u2028\u2029"`},
		{"tag", "\U000e0041", `"\udb40\udc41"`},
		{"html", "<b>&", `"\u003cb\u003e\u0026"`},
		{"invalid utf8", "a\xffb", `"a\ufffdb"`},
		{"unicode kept", "Zoë 東京", `"Zoë 東京"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := JSONString(tt.in); got != tt.want {
				t.Errorf("JSONString(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestEscapedJSON: what encoding/json leaves raw is escaped, the rest of
// the text is unchanged.
func TestEscapedJSON(t *testing.T) {
	in := map[string]string{"userAgent": "curl\u009b31m\x7f", "userName": "ad\u200bmin\u202e", "tag": "x\U000e0041"}
	src, _ := json.Marshal(in)
	for _, raw := range []string{"\u009b", "\x7f", "\u200b", "\u202e"} {
		if !strings.Contains(string(src), raw) {
			t.Fatalf("encoding/json escaped %q itself; the test needs a new example", raw)
		}
	}
	got := string(AppendEscapedJSON(nil, src))
	want := `{"tag":"x\udb40\udc41","userAgent":"curl\u009b31m\u007f","userName":"ad\u200bmin\u202e"}`
	if got != want {
		t.Errorf("AppendEscapedJSON:\n got %s\nwant %s", got, want)
	}
	var w bytes.Buffer
	jw := NewJSONWriter(&w)
	for i := 0; i < len(src); i++ { // one byte at a time: every character split
		if _, err := jw.Write(src[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := jw.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.String() != want {
		t.Errorf("JSONWriter byte by byte:\n got %s\nwant %s", w.String(), want)
	}
	w.Reset()
	jw = NewJSONWriter(&w)
	jw.Write([]byte("\"a\xe2\x80"))
	jw.Flush()
	if w.String() != `"a\ufffd\ufffd` {
		t.Errorf("a cut character at the end: %q", w.String())
	}
}

func TestMarkdown(t *testing.T) {
	got := Markdown("a|b <script> [x](http://e) =cmd")
	if strings.Contains(got, "<script>") || strings.Contains(got, "](") || strings.Contains(got, "a|b") {
		t.Errorf("Markdown left markup: %q", got)
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abcdef", 4, "abc…"},
		{"abc", 4, "abc"},
		{"東京都庁", 3, "東京…"},
		{"abc", 0, ""},
		{"abc", 1, "…"},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.n); got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// FuzzTerminal checks that nothing a terminal acts on, and nothing a reader
// cannot see, survives, whatever the input; and that what was hidden is
// shown, not dropped.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"\x1b[31mred", "\x1b]0;t\x07", "\u009b1m", "a\u202eb", "\xff\xfe", "\x1bP\x1b\\", "ad\u200bmin", "\U000e0041", " =1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || Hidden(r) || unicode.Is(unicode.Cf, r) ||
				(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || (r >= 0x200b && r <= 0x200f) || r == 0xfeff ||
				(r >= 0xe0000 && r <= 0xe007f) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("control or invisible %U survived in %q (from %q)", r, out, s)
			}
		}
		if Terminal(out) != out {
			t.Fatalf("not idempotent: %q -> %q", out, Terminal(out))
		}
		// Every hidden character is shown, in order.
		var want []string
		for _, r := range s {
			if Hidden(r) && r != '\t' && r != '\n' && r != '\r' {
				want = append(want, Visible(r))
			}
		}
		rest := out
		for _, v := range want {
			k := strings.Index(rest, v)
			if k < 0 {
				t.Fatalf("%s not shown in %q (from %q)", v, out, s)
			}
			rest = rest[k+len(v):]
		}
		c := CSVField(s)
		if tr := strings.TrimLeft(c, " "); tr != "" && strings.ContainsRune("=+-@\t\r", rune(tr[0])) {
			t.Fatalf("CSV formula prefix survived: %q", c)
		}
	})
}

// validJSONOf is what a JSON reader makes of s: each byte of invalid UTF-8
// becomes U+FFFD.
func validJSONOf(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// checkEscapedJSON fails when JSON text holds a raw control byte (but the
// white space between values), DEL, or a raw Hidden character.
func checkEscapedJSON(t *testing.T, out []byte, from string) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("invalid UTF-8 in %q (from %q)", out, from)
	}
	for _, r := range string(out) {
		if r == '\n' || r == '\t' || r == '\r' {
			continue
		}
		if r < 0x20 || r == 0x7f || Hidden(r) || (r >= 0x80 && r < 0xa0) || (r >= 0x202a && r <= 0x202e) ||
			(r >= 0x2066 && r <= 0x2069) || (r >= 0x200b && r <= 0x200f) || r == 0xfeff || r == 0x2028 || r == 0x2029 ||
			(r >= 0xe0000 && r <= 0xe007f) {
			t.Fatalf("raw %U in JSON %q (from %q)", r, out, from)
		}
	}
}

// FuzzJSONString checks that a string written as JSON is valid JSON that
// reads back as the same string, with nothing raw a terminal acts on or a
// reader cannot see.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "alice", "a\u009bb", "\x7f", "\x00\x1f", "\u2028\u2029", "\u202e\u2066", "ad\u200bmin", "\ufeff", "\U000e0041", "\xff\xfe", "\"\\</>&", "東京"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendJSONString(nil, s)
		if out[len(out)-1] == '\n' || bytes.ContainsAny(out, "\n\r\t") {
			t.Fatalf("raw white space in %q", out)
		}
		checkEscapedJSON(t, out, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("%q is not JSON: %v", out, err)
		}
		if back != validJSONOf(s) {
			t.Fatalf("round trip: %q -> %q -> %q", s, out, back)
		}
	})
}

// FuzzEscapedJSON checks that JSON text from encoding/json, escaped, is
// valid JSON holding the same value, with nothing raw a terminal acts on or
// a reader cannot see; through a JSONWriter cut at any point as well.
func FuzzEscapedJSON(f *testing.F) {
	for _, s := range []string{"alice", "a\u009bb\x7f", "\u202e\u200b\U000e0041", "\xff", "東京\u2028"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, cut uint8) {
		src, err := json.Marshal(map[string]any{"k" + s: []string{s, "x"}, "n": 1})
		if err != nil {
			t.Fatal(err)
		}
		out := AppendEscapedJSON(nil, src)
		checkEscapedJSON(t, out, s)
		var a, b any
		if err := json.Unmarshal(src, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &b); err != nil {
			t.Fatalf("%q is not JSON: %v", out, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("value changed: %q -> %q", src, out)
		}
		var w bytes.Buffer
		jw := NewJSONWriter(&w)
		k := int(cut) % (len(src) + 1)
		if _, err := jw.Write(src[:k]); err != nil {
			t.Fatal(err)
		}
		if _, err := jw.Write(src[k:]); err != nil {
			t.Fatal(err)
		}
		if err := jw.Flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(w.Bytes(), out) {
			t.Fatalf("writer cut at %d: %q, want %q", k, w.Bytes(), out)
		}
	})
}
