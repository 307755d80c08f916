package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice", "alice"},
		{"csi colour", "\x1b[31mred\x1b[0m", "red"},
		{"csi clear screen", "a\x1b[2Jb", "ab"},
		{"osc title bel", "\x1b]0;pwned\x07user", "user"},
		{"osc title st", "\x1b]2;pwned\x1b\\user", "user"},
		{"osc 52 clipboard", "x\x1b]52;c;Y3VybCBldmlsLnNo\x07y", "xy"},
		{"osc 8 hyperlink", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"dcs", "\x1bPq#0;2;0;0;0\x1b\\ok", "ok"},
		{"apc", "\x1b_Gf=100;AAAA\x1b\\ok", "ok"},
		{"c1 csi", "a\u009b31mb", "ab"},
		{"c1 osc", "a\u009d0;t\u0007b", "ab"},
		{"two-char escape", "a\x1bcb", "ab"},
		{"charset escape", "a\x1b(0b", "ab"},
		{"lone esc at end", "abc\x1b", "abc"},
		{"unterminated osc", "ok\x1b]0;never ends", "ok"},
		{"c0 controls", "a\x00b\x07c\x08d", "abcd"},
		{"newline tab cr", "a\nb\tc\rd", "a b c d"},
		{"del", "a\x7fb", "ab"},
		{"bidi override", "user\u202egnp.exe", "usergnp.exe"},
		{"bidi isolate", "\u2066abc\u2069", "abc"},
		{"zero width", "ad\u200bmin", "admin"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"unicode kept", "Zoë 東京", "Zoë 東京"},
		{"csi with bad byte keeps rest", "\x1b[1\nabc", " abc"},
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
		{"escape then formula", "\x1b[0m=1+1", "'=1+1"},
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

// FuzzTerminal checks that nothing a terminal acts on survives, whatever the input.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"\x1b[31mred", "\x1b]0;t\x07", "\u009b1m", "a\u202eb", "\xff\xfe", "\x1bP\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r) || isInvisibleFormat(r) {
				t.Fatalf("control %U survived in %q (from %q)", r, out, s)
			}
		}
		if Terminal(out) != out {
			t.Fatalf("not idempotent: %q -> %q", out, Terminal(out))
		}
		if c := CSVField(s); c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
			t.Fatalf("CSV formula prefix survived: %q", c)
		}
	})
}
