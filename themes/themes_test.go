package themes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestSelect(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "night.theme")
	if err := os.WriteFile(good, []byte("inherit = light\naccent = #f80\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		theme   string
		noColor bool
		darkBG  bool
		want    string
		wantErr string
	}{
		{name: "auto on dark", theme: "", darkBG: true, want: "dark"},
		{name: "auto on light", theme: "auto", darkBG: false, want: "light"},
		{name: "explicit light on dark", theme: "light", darkBG: true, want: "light"},
		{name: "high contrast", theme: "high-contrast", darkBG: true, want: "high-contrast"},
		{name: "mono is monochrome", theme: "mono", darkBG: true, want: "monochrome"},
		{name: "NO_COLOR wins", theme: "dark", noColor: true, want: "monochrome"},
		{name: "theme file", theme: good, want: "night"},
		{name: "unknown", theme: "solarised", wantErr: `unknown theme "solarised"`},
		{name: "missing file", theme: filepath.Join(dir, "nope.theme"), wantErr: "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, err := Select(tt.theme, tt.noColor, tt.darkBG)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if th.Name != tt.want {
				t.Errorf("theme = %q, want %q", th.Name, tt.want)
			}
		})
	}
}

// TestHelpNamesAreAccepted: every name the help lists is a theme Select
// accepts, and every built-in theme is listed.
func TestHelpNamesAreAccepted(t *testing.T) {
	h := Help()
	if want := "dark, high-contrast, light, monochrome (or mono)"; h != want {
		t.Errorf("Help() = %q, want %q", h, want)
	}
	for _, n := range Names() {
		if !strings.Contains(h, n) {
			t.Errorf("help %q does not list %q", h, n)
		}
	}
	for _, f := range strings.FieldsFunc(h, func(r rune) bool { return strings.ContainsRune(" ,()", r) }) {
		if f == "or" {
			continue
		}
		if _, err := Select(f, false, true); err != nil {
			t.Errorf("help lists %q, Select refuses it: %v", f, err)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		check   func(t *testing.T, th Theme)
		wantErr string
	}{
		{
			name: "overrides on an inherited base",
			text: "# comment\ninherit = light\nname = mine\naccent = #ff8800  # orange\nsev.critical = 196\n",
			check: func(t *testing.T, th Theme) {
				if th.Name != "mine" || th.Dark {
					t.Errorf("name %q dark %v, want mine, light", th.Name, th.Dark)
				}
				if th.Tokens[TokenAccent] != "#ff8800" || th.Tokens[TokenSevCritical] != "196" {
					t.Errorf("tokens not applied: %v", th.Tokens)
				}
				if th.Tokens[TokenFG] != Light().Tokens[TokenFG] {
					t.Errorf("fg = %q, want the light theme's", th.Tokens[TokenFG])
				}
			},
		},
		{
			name: "none clears a colour",
			text: "selection = none\n",
			check: func(t *testing.T, th Theme) {
				if th.Tokens[TokenSelection] != "" {
					t.Errorf("selection = %q, want empty", th.Tokens[TokenSelection])
				}
				if !strings.Contains(th.Styles.Selected.Render("x"), "\x1b[7m") {
					t.Errorf("selection without colour should fall back to reverse video: %q", th.Styles.Selected.Render("x"))
				}
			},
		},
		{name: "typo names the key and a suggestion", text: "acent = #fff\n", wantErr: `line 1: unknown key "acent" (did you mean "accent"?)`},
		{name: "bad colour names the key", text: "\nwarning = #ggg\n", wantErr: `line 2: key "warning": "#ggg" is not a colour`},
		{name: "index out of range", text: "danger = 256\n", wantErr: `key "danger": "256" is not a colour`},
		{name: "missing equals", text: "accent #fff\n", wantErr: "line 1: expected key = value"},
		{name: "duplicate key", text: "fg = 1\nfg = 2\n", wantErr: `line 2: key "fg" set twice (first on line 1)`},
		{name: "unknown base", text: "inherit = neon\n", wantErr: `key "inherit": unknown built-in theme "neon"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, err := Parse("my.theme", strings.NewReader(tt.text))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "my.theme") {
					t.Errorf("error %q does not name the file", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, th)
		})
	}
}

// TestMonochromeHasNoColour checks that the monochrome theme never emits a
// colour sequence, and still marks selection and focus with attributes.
func TestMonochromeHasNoColour(t *testing.T) {
	s := Monochrome().Styles
	styles := map[string]string{
		"selected":      s.Selected.Render("row"),
		"title focused": s.TitleFocused.Render("Stream"),
		"danger":        s.Danger.Render("✗"),
		"status":        s.StatusBar.Render("LIVE"),
		"button":        s.ButtonFocused.Render("Cancel"),
	}
	for name, out := range styles {
		if strings.Contains(out, "38;") || strings.Contains(out, "48;") || hasSGRColour(out) {
			t.Errorf("%s: colour in monochrome output %q", name, out)
		}
		if out == ansi.Strip(out) {
			t.Errorf("%s: no attribute at all: %q", name, out)
		}
	}
}

// hasSGRColour reports an SGR parameter 30–37, 40–47, 90–97 or 100–107.
func hasSGRColour(s string) bool {
	for _, seq := range strings.Split(s, "\x1b[")[1:] {
		end := strings.IndexByte(seq, 'm')
		if end < 0 {
			continue
		}
		for _, p := range strings.Split(seq[:end], ";") {
			switch {
			case len(p) == 2 && (p[0] == '3' || p[0] == '4' || p[0] == '9') && p[1] >= '0' && p[1] <= '7':
				return true
			case len(p) == 3 && p[:2] == "10" && p[2] >= '0' && p[2] <= '7':
				return true
			}
		}
	}
	return false
}

func TestBuiltinsAreValid(t *testing.T) {
	for _, n := range Names() {
		th, _ := Builtin(n)
		if th.Name != n {
			t.Errorf("builtin %q is named %q", n, th.Name)
		}
		for tok, v := range th.Tokens {
			if v != "" && !ValidColour(v) {
				t.Errorf("%s: token %s = %q is not a valid colour", n, tok, v)
			}
		}
	}
}
