// Package themes holds warroom's colour themes: a small set of semantic
// tokens (base foreground and background, subtle, accent, success, warning,
// danger, severity levels …) and the one function, Build, that turns tokens
// into every lipgloss style the console uses. No pane picks a colour itself.
//
// Meaning never rides on colour alone: the console draws a glyph or a word
// beside every coloured mark, so the monochrome theme loses nothing.
package themes

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
)

// Token names a semantic colour. Theme files use these names as keys.
type Token string

// The tokens. A token's value is a colour ("#rrggbb", "#rgb" or an ANSI
// index 0–255) or empty (the terminal's own colour; the styles then fall back
// to bold, faint, underline or reverse video).
const (
	TokenFG          Token = "fg"           // body text
	TokenBG          Token = "bg"           // background behind the panes (empty: the terminal's)
	TokenSubtle      Token = "subtle"       // secondary text: times, labels, hints
	TokenAccent      Token = "accent"       // focus, titles, keys in help
	TokenBorder      Token = "border"       // unfocused pane borders
	TokenSelection   Token = "selection"    // background of the selected row
	TokenSuccess     Token = "success"      // done, verified, healthy
	TokenWarning     Token = "warning"      // lag, throttled, outcome unknown
	TokenDanger      Token = "danger"       // failed, denied, suspect, irreversible
	TokenSevLow      Token = "sev.low"      // recon failures
	TokenSevMedium   Token = "sev.medium"   // credential access
	TokenSevHigh     Token = "sev.high"     // persistence, privilege escalation
	TokenSevCritical Token = "sev.critical" // defence evasion, impact
	TokenNew         Token = "new"          // made since the incident began
	TokenOurs        Token = "ours"         // the console's own calls
)

// AllTokens lists every token in the order theme files document them.
var AllTokens = []Token{
	TokenFG, TokenBG, TokenSubtle, TokenAccent, TokenBorder, TokenSelection,
	TokenSuccess, TokenWarning, TokenDanger,
	TokenSevLow, TokenSevMedium, TokenSevHigh, TokenSevCritical,
	TokenNew, TokenOurs,
}

// Tokens maps each token to its colour value; a missing token is empty.
type Tokens map[Token]string

// Theme is a named set of tokens and the styles built from them.
type Theme struct {
	Name   string
	Dark   bool // drawn for a dark background
	Tokens Tokens
	Styles Styles
}

// Styles is every style the console draws with, built by Build.
type Styles struct {
	Base          lipgloss.Style // body text
	Subtle        lipgloss.Style // secondary text
	Accent        lipgloss.Style // emphasised text
	Title         lipgloss.Style // an unfocused pane's title
	TitleFocused  lipgloss.Style // the focused pane's title
	Border        lipgloss.Style // an unfocused pane's border (foreground only)
	BorderFocused lipgloss.Style // the focused pane's border
	Header        lipgloss.Style // column headers
	Selected      lipgloss.Style // the selected row
	Success       lipgloss.Style
	Warning       lipgloss.Style
	Danger        lipgloss.Style
	// Severity holds one style per severity level: low, medium, high, critical.
	Severity [4]lipgloss.Style
	New      lipgloss.Style // new since the incident began
	Ours     lipgloss.Style // the console's own calls
	Suspect  lipgloss.Style // a suspect key or principal

	StatusBar   lipgloss.Style // the status line
	StatusMode  lipgloss.Style // LIVE / REPLAY / FOLLOW / READ-ONLY badge
	TabActive   lipgloss.Style // the shown pane in the compact tab bar
	TabInactive lipgloss.Style
	HelpKey     lipgloss.Style
	HelpDesc    lipgloss.Style
	HelpSep     lipgloss.Style

	Dialog        lipgloss.Style // a dialog's box (border colour set)
	DialogDanger  lipgloss.Style // a dialog's box for irreversible plans
	Button        lipgloss.Style
	ButtonFocused lipgloss.Style
	Input         lipgloss.Style // text being typed
	Prompt        lipgloss.Style // the prompt before an input
	Error         lipgloss.Style // an inline error (bad filter …)
}

// colour returns the lipgloss colour for a token value, nil when empty.
func colour(v string) color.Color {
	if v == "" || v == "none" {
		return nil
	}
	return lipgloss.Color(v)
}

// Build makes every style from tokens. Where a token is empty the style
// uses an attribute instead (bold, faint, underline, reverse), so a theme
// without colours still shows focus, selection and severity.
func Build(t Tokens) Styles {
	fg := func(tok Token) lipgloss.Style {
		s := lipgloss.NewStyle()
		if c := colour(t[tok]); c != nil {
			s = s.Foreground(c)
		}
		return s
	}
	has := func(tok Token) bool { return colour(t[tok]) != nil }
	or := func(s lipgloss.Style, tok Token, fallback func(lipgloss.Style) lipgloss.Style) lipgloss.Style {
		if has(tok) {
			return s
		}
		return fallback(s)
	}
	bold := func(s lipgloss.Style) lipgloss.Style { return s.Bold(true) }
	faint := func(s lipgloss.Style) lipgloss.Style { return s.Faint(true) }
	under := func(s lipgloss.Style) lipgloss.Style { return s.Underline(true) }
	reverse := func(s lipgloss.Style) lipgloss.Style { return s.Reverse(true) }

	base := fg(TokenFG)
	if c := colour(t[TokenBG]); c != nil {
		base = base.Background(c)
	}
	var s Styles
	s.Base = base
	s.Subtle = or(fg(TokenSubtle), TokenSubtle, faint)
	s.Accent = fg(TokenAccent).Bold(true)
	s.Title = fg(TokenSubtle).Bold(true)
	s.TitleFocused = or(fg(TokenAccent).Bold(true), TokenAccent, reverse)
	s.Border = fg(TokenBorder)
	s.BorderFocused = or(fg(TokenAccent), TokenAccent, bold)
	s.Header = or(fg(TokenSubtle).Bold(true), TokenSubtle, under)
	if c := colour(t[TokenSelection]); c != nil {
		s.Selected = fg(TokenFG).Background(c).Bold(true)
	} else {
		s.Selected = lipgloss.NewStyle().Reverse(true)
	}
	s.Success = fg(TokenSuccess)
	s.Warning = or(fg(TokenWarning), TokenWarning, bold)
	s.Danger = fg(TokenDanger).Bold(true)
	for i, tok := range []Token{TokenSevLow, TokenSevMedium, TokenSevHigh, TokenSevCritical} {
		st := fg(tok)
		if i >= 2 {
			st = st.Bold(true)
		}
		s.Severity[i] = st
	}
	s.New = or(fg(TokenNew).Bold(true), TokenNew, under)
	s.Ours = or(fg(TokenOurs), TokenOurs, faint)
	s.Suspect = fg(TokenDanger).Bold(true)

	bar := lipgloss.NewStyle()
	if c := colour(t[TokenSelection]); c != nil {
		bar = bar.Background(c)
	}
	if c := colour(t[TokenFG]); c != nil {
		bar = bar.Foreground(c)
	}
	if !has(TokenSelection) {
		bar = bar.Reverse(true)
	}
	s.StatusBar = bar
	s.StatusMode = bar.Bold(true)
	s.TabActive = or(fg(TokenAccent).Bold(true).Underline(true), TokenAccent, reverse)
	s.TabInactive = s.Subtle
	s.HelpKey = fg(TokenAccent).Bold(true)
	s.HelpDesc = s.Subtle
	s.HelpSep = s.Subtle

	box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1)
	s.Dialog = box
	if c := colour(t[TokenAccent]); c != nil {
		s.Dialog = box.BorderForeground(c)
	}
	s.DialogDanger = box.Border(lipgloss.DoubleBorder())
	if c := colour(t[TokenDanger]); c != nil {
		s.DialogDanger = s.DialogDanger.BorderForeground(c)
	}
	s.Button = lipgloss.NewStyle().Padding(0, 1)
	if c := colour(t[TokenSelection]); c != nil {
		s.ButtonFocused = s.Button.Background(c).Bold(true).Underline(true)
		if f := colour(t[TokenFG]); f != nil {
			s.ButtonFocused = s.ButtonFocused.Foreground(f)
		}
	} else {
		s.ButtonFocused = s.Button.Reverse(true).Bold(true)
	}
	s.Input = fg(TokenFG)
	s.Prompt = fg(TokenAccent).Bold(true)
	s.Error = fg(TokenDanger).Bold(true)
	return s
}

// New returns a theme named name from tokens, with its styles built.
func New(name string, dark bool, t Tokens) Theme {
	return Theme{Name: name, Dark: dark, Tokens: t, Styles: Build(t)}
}

// Dark is the default theme, for dark backgrounds.
func Dark() Theme {
	return New("dark", true, Tokens{
		TokenFG: "#d8dee9", TokenSubtle: "#7b8496", TokenAccent: "#88c0d0",
		TokenBorder: "#4c566a", TokenSelection: "#3b4252",
		TokenSuccess: "#a3be8c", TokenWarning: "#ebcb8b", TokenDanger: "#ff6b6b",
		TokenSevLow: "#8fbcbb", TokenSevMedium: "#ebcb8b", TokenSevHigh: "#f29e5c", TokenSevCritical: "#ff6b6b",
		TokenNew: "#b48ead", TokenOurs: "#6f7b91",
	})
}

// Light is the theme for light backgrounds.
func Light() Theme {
	return New("light", false, Tokens{
		TokenFG: "#24292f", TokenSubtle: "#6e7781", TokenAccent: "#0550ae",
		TokenBorder: "#afb8c1", TokenSelection: "#ddf4ff",
		TokenSuccess: "#1a7f37", TokenWarning: "#9a6700", TokenDanger: "#cf222e",
		TokenSevLow: "#0a7480", TokenSevMedium: "#9a6700", TokenSevHigh: "#bc4c00", TokenSevCritical: "#cf222e",
		TokenNew: "#8250df", TokenOurs: "#8c959f",
	})
}

// HighContrast uses the 16 basic ANSI colours at full intensity on black, so
// it reads the same on 16-colour terminals and under TERM=screen.
func HighContrast() Theme {
	return New("high-contrast", true, Tokens{
		TokenFG: "15", TokenBG: "0", TokenSubtle: "7", TokenAccent: "14",
		TokenBorder: "15", TokenSelection: "4",
		TokenSuccess: "10", TokenWarning: "11", TokenDanger: "9",
		TokenSevLow: "14", TokenSevMedium: "11", TokenSevHigh: "13", TokenSevCritical: "9",
		TokenNew: "13", TokenOurs: "7",
	})
}

// Monochrome has no colours at all: bold, faint, underline and reverse
// video carry emphasis, and glyphs carry meaning. It is used when NO_COLOR
// is set.
func Monochrome() Theme {
	return New("monochrome", true, Tokens{})
}

var builtins = map[string]func() Theme{
	"dark":          Dark,
	"light":         Light,
	"high-contrast": HighContrast,
	"monochrome":    Monochrome,
}

// Names returns the built-in theme names, sorted.
func Names() []string {
	out := make([]string, 0, len(builtins))
	for n := range builtins {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// aliases are other names the built-in themes answer to: alias → name.
var aliases = map[string]string{
	"mono": "monochrome",
}

// Help lists the names a --theme flag or :theme command accepts, for help
// text: every built-in theme, each followed by its aliases, as in
// "dark, high-contrast, light, monochrome (or mono)".
func Help() string {
	parts := make([]string, 0, len(builtins))
	for _, n := range Names() {
		var also []string
		for a, to := range aliases {
			if to == n {
				also = append(also, a)
			}
		}
		if len(also) > 0 {
			slices.Sort(also)
			n += " (or " + strings.Join(also, ", ") + ")"
		}
		parts = append(parts, n)
	}
	return strings.Join(parts, ", ")
}

// Builtin returns the built-in theme called name, or by one of its aliases.
func Builtin(name string) (Theme, bool) {
	if to, ok := aliases[name]; ok {
		name = to
	}
	f, ok := builtins[name]
	if !ok {
		return Theme{}, false
	}
	return f(), true
}

// Auto is the theme name that means "pick dark or light from the terminal's
// background colour".
const Auto = "auto"

// Select picks the theme the console starts with. name is a built-in name,
// "auto" or "" (dark or light by the background), or a path to a theme file
// (it contains a path separator or ends in .theme). noColor (NO_COLOR is set)
// forces monochrome. darkBG is the terminal background's darkness when known.
func Select(name string, noColor, darkBG bool) (Theme, error) {
	if noColor {
		return Monochrome(), nil
	}
	switch {
	case name == "" || name == Auto:
		if darkBG {
			return Dark(), nil
		}
		return Light(), nil
	case strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".theme"):
		return Load(name)
	}
	if t, ok := Builtin(name); ok {
		return t, nil
	}
	return Theme{}, fmt.Errorf("unknown theme %q: built in are %s, or give a theme file's path", name, Help())
}

// ValidColour reports whether v is a colour a token may hold: "#rgb",
// "#rrggbb", an ANSI index 0–255, or "none".
func ValidColour(v string) bool {
	if v == "none" {
		return true
	}
	if strings.HasPrefix(v, "#") {
		h := v[1:]
		if len(h) != 3 && len(h) != 6 {
			return false
		}
		for _, c := range h {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	n, err := strconv.Atoi(v)
	return err == nil && n >= 0 && n <= 255 && strconv.Itoa(n) == v
}
