package tui

import (
	"path"
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// trailPart is CloudTrail's log-file integrity for the status line, beside
// the stream's health: the worst trail validated ("trail ✓ intact",
// "trail ✗ broken: log 1122_CloudTrail_….json.gz invalid", "trail ! gap
// 03:00–04:00", "trail ? unchecked: why", "trail ? unsure: no digest
// yet"), "(unsigned)" when signatures could not be checked, "+N" for more
// trails. Empty when no trail was validated.
func trailPart(s *state.Store) string {
	if len(s.Integrity) == 0 {
		return ""
	}
	rank := map[string]int{"broken": 0, "unchecked": 1, "gaps": 2, "unsure": 3, "intact": 4}
	var worst *state.TrailIntegrity
	for _, src := range s.IntegritySources() {
		v := s.Integrity[src].V
		if worst == nil || rank[v.Word()] < rank[worst.Word()] {
			worst = &v
		}
	}
	v := *worst
	var out string
	switch v.Word() {
	case "intact":
		out = "trail ✓ intact"
	case "unchecked":
		// Could not be validated: never shown as intact.
		out = "trail ? unchecked: " + truncate(clean(v.Failed), 40)
	case "unsure":
		out = "trail ? unsure: no digest yet"
	case "gaps":
		g := v.Gaps[0]
		out = "trail ! gap " + g.From.UTC().Format("01-02 15:04") + "–" + g.To.UTC().Format("15:04")
		if n := len(v.Gaps); n > 1 {
			out += " (" + itoa(n) + " gaps)"
		}
	default:
		out = "trail ✗ broken"
		if len(v.Problems) > 0 {
			p := v.Problems[0]
			out += ": " + p.What + " " + truncate(clean(shortObject(p.Key)), 30) + " " + p.Status
		}
		if n := len(v.Problems) + v.MoreProblems; n > 1 {
			out += " (+" + itoa(n-1) + ")"
		}
	}
	if !v.SignaturesChecked && v.Failed == "" && v.Unsure == "" {
		out += " (unsigned)"
	}
	if n := len(s.Integrity); n > 1 {
		out += " +" + itoa(n-1)
	}
	return out
}

// shortObject is a trail object's name without what every name repeats:
// "us-east-1_20261201T0305Z_abc" of "…/111122223333_CloudTrail_us-east-1_20261201T0305Z_abc.json.gz".
func shortObject(key string) string {
	b := strings.TrimSuffix(path.Base(key), ".json.gz")
	if i := strings.Index(b, "_CloudTrail"); i >= 0 {
		if j := strings.IndexByte(b[i+1:], '_'); j >= 0 {
			return b[i+1+j+1:]
		}
	}
	return b
}
