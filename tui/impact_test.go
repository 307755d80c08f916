package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// impactIncident is the fixture incident with the leaked key's own
// application: it called before the incident and keeps calling after the
// deactivation (failing), and the attacker retries from its address.
func impactIncident(t testing.TB) []journal.Entry {
	entries := incident(t)
	began := t0.Add(-3 * time.Hour)
	app := "reporting-job/1.0 aws-sdk-go-v2/1.30"
	var recs []ev
	for i := range 3 {
		recs = append(recs, ev{name: "GetAccountSummary", key: leaked, arn: ciARN, user: "ci-deploy", ip: "10.20.30.40", agent: app,
			at: began.Add(-3*time.Hour + time.Duration(i)*10*time.Minute)})
	}
	for i := range 4 {
		recs = append(recs, ev{name: "GetAccountSummary", key: leaked, arn: ciARN, user: "ci-deploy", ip: "10.20.30.40", agent: app,
			code: "InvalidClientTokenId", at: began.Add(35*time.Minute + time.Duration(i)*10*time.Minute)})
	}
	recs = append(recs,
		ev{name: "ListUsers", key: leaked, arn: ciARN, user: "ci-deploy", ip: "203.0.113.7", code: "InvalidClientTokenId", at: began.Add(36 * time.Minute)},
		ev{name: "GetCallerIdentity", source: "sts.amazonaws.com", key: leaked, arn: ciARN, user: "ci-deploy", ip: "203.0.113.7",
			agent: "\x1b]52;c;ZXZpbA==\x07evil", code: "InvalidClientTokenId", at: began.Add(37 * time.Minute)})
	var raws [][]byte
	for i, e := range recs {
		e.id = fmt.Sprintf("0000010%d-aaaa-4bbb-8ccc-0123456789ab", i)
		raws = append(raws, e.raw())
	}
	last := entries[len(entries)-1]
	f := &facts{seq: last.Seq, entries: entries}
	var batch state.Events
	batch.Source = "lookup:us-east-1"
	for _, r := range raws {
		batch.Records = append(batch.Records, r)
	}
	f.add(t, state.KindEvents, began.Add(90*time.Minute), batch)
	return f.entries
}

// TestImpactView types ':impact' and enter: the watch opens in the text
// view, the application apart from the attacker, attacker text sanitised;
// esc closes it. Goldens at 80x24 and 160x48.
func TestImpactView(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newTestModel(t, Options{Store: storeOf(t, impactIncident(t)), ImpactQuietFor: 3 * time.Hour}, sz[0], sz[1])
			press(m, key1(':'))
			press(m, runes("impact")...)
			exec(m, press(m, keyEnter))
			if m.text == nil {
				t.Fatalf("no view; flash %q", m.message)
			}
			out := m.Render()
			checkFrame(t, out, sz[0], sz[1])
			golden.RequireEqual(t, out)
			screen := ansi.Strip(out)
			for _, want := range []string{"impact", leaked, "matches use before the incident", "▲ new"} {
				if !strings.Contains(screen, want) {
					t.Errorf("the screen lacks %q:\n%s", want, screen)
				}
			}
			if sz[0] >= 160 && !strings.Contains(screen, "NOT YET SAFE TO DELETE") {
				t.Errorf("the judgement is missing:\n%s", screen)
			}
			press(m, tea.KeyPressMsg{Code: tea.KeyEnd})
			if screen := ansi.Strip(m.Render()); !strings.Contains(screen, "⟨U+001B⟩") {
				t.Errorf("the attacker's agent is not shown sanitised:\n%s", screen)
			}
			press(m, keyEsc)
			if m.text != nil {
				t.Fatal("esc did not close the view")
			}
		})
	}
}

// TestImpactNothingContained: ':impact' before any containment says so in
// the flash line and opens nothing.
func TestImpactNothingContained(t *testing.T) {
	var entries []journal.Entry
	for _, e := range incident(t) {
		if e.Kind == string(state.KindActionResult) {
			break
		}
		entries = append(entries, e)
	}
	m, _ := newTestModel(t, Options{Store: storeOf(t, entries)}, 120, 40)
	press(m, key1(':'))
	press(m, runes("impact")...)
	exec(m, press(m, keyEnter))
	if m.text != nil || !strings.Contains(m.message, "no key deactivated") {
		t.Fatalf("text %v, flash %q", m.text != nil, m.message)
	}
}
