package themes

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
)

// Load reads a theme file. The format is one "key = value" per line; blank
// lines and lines starting with '#' are ignored, as is a trailing comment
// (a '#' after white space and followed by white space: colours start with '#').
//
//	# my theme
//	inherit = dark        # the built-in theme whose tokens are the starting point
//	name    = night-shift
//	accent  = #ff8800
//	sev.critical = 196
//
// The keys are the token names (see AllTokens) plus inherit and name. A value
// is "#rgb", "#rrggbb", an ANSI index 0–255, or none. Every problem is an
// error naming the file, the line and the bad key; nothing is half-applied.
func Load(path string) (Theme, error) {
	f, err := os.Open(path)
	if err != nil {
		return Theme{}, fmt.Errorf("theme file: %w", err)
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse reads a theme in the format Load documents from r; file names it in
// errors.
func Parse(file string, r io.Reader) (Theme, error) {
	known := map[string]bool{"inherit": true, "name": true}
	for _, t := range AllTokens {
		known[string(t)] = true
	}
	seen := map[string]int{}
	var (
		base  = Dark()
		name  = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		over  = Tokens{}
		sc    = bufio.NewScanner(r)
		line  = 0
		errAt = func(format string, args ...any) error {
			return fmt.Errorf("theme file %s line %d: %s", file, line, fmt.Sprintf(format, args...))
		}
	)
	for sc.Scan() {
		line++
		text := sc.Text()
		text = stripComment(text)
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		k, v, ok := strings.Cut(text, "=")
		if !ok {
			return Theme{}, errAt("expected key = value, got %q", text)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !known[k] {
			return Theme{}, errAt("unknown key %q%s (keys: inherit, name, %s)", k, suggest(k, known), tokenList())
		}
		if prev, dup := seen[k]; dup {
			return Theme{}, errAt("key %q set twice (first on line %d)", k, prev)
		}
		seen[k] = line
		switch k {
		case "inherit":
			b, ok := Builtin(v)
			if !ok {
				return Theme{}, errAt("key %q: unknown built-in theme %q (built in: %s)", k, v, strings.Join(Names(), ", "))
			}
			base = b
		case "name":
			if v == "" {
				return Theme{}, errAt("key %q: empty name", k)
			}
			name = v
		default:
			if !ValidColour(v) {
				return Theme{}, errAt("key %q: %q is not a colour (use #rgb, #rrggbb, 0-255 or none)", k, v)
			}
			over[Token(k)] = v
		}
	}
	if err := sc.Err(); err != nil {
		return Theme{}, fmt.Errorf("theme file %s: %w", file, err)
	}
	toks := maps.Clone(base.Tokens)
	if toks == nil {
		toks = Tokens{}
	}
	for k, v := range over {
		if v == "none" {
			v = ""
		}
		toks[k] = v
	}
	return New(name, base.Dark, toks), nil
}

// stripComment cuts a trailing " # comment" from a line.
func stripComment(s string) string {
	for i := 1; i < len(s); i++ {
		if s[i] == '#' && (s[i-1] == ' ' || s[i-1] == '\t') && (i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\t') {
			return s[:i]
		}
	}
	return s
}

func tokenList() string {
	s := make([]string, len(AllTokens))
	for i, t := range AllTokens {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// suggest returns ` (did you mean "x"?)` for the known key closest to k.
func suggest(k string, known map[string]bool) string {
	best, bestD := "", 3
	for c := range known {
		if d := distance(k, c); d < bestD || d == bestD && best != "" && c < best {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
