package tui

import (
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// debriefText is a debrief as the drill writes it: columns aligned with
// spaces, RFC 3339 times, hyphenated action names and long details.
const debriefText = `Debrief

leaked key: AKIAXK7PLM2QW9ZT4EXM
first attacker call: 2026-11-23T05:00:00Z (its CloudTrail event in the journal)

containment steps, time after the first attacker call:
  +00:03:12  deactivate-key     AKIAXK7PLM2QW9ZT4EXM             held: key Inactive since 2026-11-23T05:03:12Z, read back at 2026-11-23T05:03:14Z
  +00:04:40  deny-all-sessions  arn:aws:iam::123456789012:user/ci-deploy held: AWSRevokeOlderSessions attached, issued before 2026-11-23T05:04:40Z denied

the attacker's successful calls after your last step (2026-11-23T05:04:41Z): 3
verdict (read back from AWS at 2026-11-23T05:09:30Z): contained — 4 of 4 footholds neutralised`

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`)

// TestWrapWordsKeepsTimestamps: at every width the debrief's lines wrap at
// spaces only: no line is wider than the width, no word is split (a
// timestamp above all), and nothing is lost (issue 14: debrief lines
// wrapped inside timestamps).
func TestWrapWordsKeepsTimestamps(t *testing.T) {
	for w := 24; w <= 140; w++ {
		for _, l := range strings.Split(debriefText, "\n") {
			got := wrapWords(l, w)
			for _, g := range got {
				if width(g) > w {
					t.Fatalf("width %d: line %q is %d wide", w, g, width(g))
				}
			}
			words := strings.Fields(strings.Join(got, "\n"))
			if strings.Join(words, "") != strings.Join(strings.Fields(l), "") {
				t.Fatalf("width %d: %q wrapped to %q: text changed", w, l, got)
			}
			for _, word := range strings.Fields(l) {
				if width(word) <= w && !slices.Contains(words, word) {
					t.Fatalf("width %d: %q wrapped to %q: %q split", w, l, got, word)
				}
			}
			for _, ts := range rfc3339.FindAllString(l, -1) {
				if !strings.Contains(strings.Join(got, "\n"), ts) {
					t.Fatalf("width %d: timestamp %s split in %q", w, ts, got)
				}
			}
			if len(got) > 1 && strings.HasPrefix(l, "  +") && width(got[1]) <= w-4 && !strings.HasPrefix(got[1], "    ") {
				t.Errorf("width %d: continuation %q is not indented under its step", w, got[1])
			}
		}
	}
	// A word wider than the line is cut, nothing lost.
	arn := "arn:aws:iam::123456789012:role/" + strings.Repeat("x", 60)
	got := wrapWords("target "+arn, 30)
	if strings.ReplaceAll(strings.Join(got[1:], ""), " ", "") != arn {
		t.Errorf("long word cut to %q", got)
	}
	for _, g := range got {
		if width(g) > 30 {
			t.Errorf("line %q wider than 30", g)
		}
	}
}

// TestDebriefViewKeepsTimestamps types :debrief as a responder would at the
// golden sizes and at every width from 60 to 200: every timestamp of the
// debrief shows whole on one line.
func TestDebriefViewKeepsTimestamps(t *testing.T) {
	sizes := [][2]int{{80, 24}, {120, 40}, {200, 60}}
	for w := 60; w <= 200; w++ {
		sizes = append(sizes, [2]int{w, 40})
	}
	for _, size := range sizes {
		var runs atomic.Int32
		m, _ := newTestModel(t, Options{Commands: []Command{debriefCommand(&runs, debriefText, nil)}}, size[0], size[1])
		press(m, key1(':'))
		press(m, runes("debrief")...)
		exec(m, press(m, keyEnter))
		seen := map[string]bool{}
		for range 4 { // the text is longer than 24 rows: page through it
			out := m.Render()
			checkFrame(t, out, size[0], size[1])
			for _, ts := range rfc3339.FindAllString(ansi.Strip(out), -1) {
				seen[ts] = true
			}
			press(m, tea.KeyPressMsg{Code: tea.KeyPgDown})
		}
		for _, ts := range rfc3339.FindAllString(debriefText, -1) {
			if !seen[ts] {
				t.Errorf("%dx%d: timestamp %s never shows whole", size[0], size[1], ts)
			}
		}
	}
}
