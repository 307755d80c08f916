package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
)

// gdStore is the incident fixture with GuardDuty read: on in us-east-1
// (a finding on the leaked key from its address, its title hostile, and
// one on someone else) and eu-west-1, off in ap-east-1 and sa-east-1,
// denied in eu-central-1.
func gdStore(t *testing.T) *state.Store {
	entries := incident(t)
	f := &facts{seq: entries[len(entries)-1].Seq, entries: entries}
	f.add(t, state.KindGuardDuty, t0, state.GuardDuty{ReadAt: t0, Regions: []state.GuardDutyRegion{
		{Region: "us-east-1", Status: state.GuardDutyEnabled, Detectors: []string{"12abc34d567e8fa901bc2d34e56789f0"}, Findings: []state.GuardDutyFinding{
			{ID: "f1", Region: "us-east-1", Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 5, AccessKeyID: leaked, UserName: "ci-deploy", UserType: "IAMUser",
				RemoteIP: "203.0.113.7", API: "ListUsers", ServiceName: "iam.amazonaws.com", Count: 4,
				Title: "Reconnaissance API ListUsers invoked by \x1b]0;pwned\x07ci-deploy", FirstSeen: t0.Add(-50 * time.Minute), LastSeen: t0.Add(-40 * time.Minute)},
			{ID: "f2", Region: "us-east-1", Type: "Discovery:IAMUser/AnomalousBehavior", Severity: 2, AccessKeyID: "AKIAOTHER0000000001", UserName: "alice", Count: 1},
		}},
		{Region: "eu-west-1", Status: state.GuardDutyEnabled, Findings: []state.GuardDutyFinding{
			{ID: "f3", Region: "eu-west-1", Type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", Severity: 8, InstanceID: "i-0abc", RemoteIP: "198.51.100.23", Domain: "pool.example", Count: 12},
		}},
		{Region: "ap-east-1", Status: state.GuardDutyNotEnabled},
		{Region: "sa-east-1", Status: state.GuardDutyNotEnabled},
		{Region: "eu-central-1", Status: state.GuardDutyDenied, Error: "guardduty:ListDetectors in eu-central-1: AccessDeniedException (denied)"},
	}})
	return storeOf(t, f.entries)
}

// TestGuardDutyStatusLine: the family's worst finding and where GuardDuty
// is off or unread are on the status line, at 80 columns too.
func TestGuardDutyStatusLine(t *testing.T) {
	m, _ := newTestModel(t, Options{Store: gdStore(t)}, 200, 40)
	status := strings.Split(screenOf(m), "\n")[0]
	for _, want := range []string{"GD ▲ high 2 family/3", "off: ap-east-1 +1", "✗ eu-central-1 denied"} {
		if !strings.Contains(status, want) {
			t.Errorf("status line %q lacks %q", status, want)
		}
	}
	m80, _ := newTestModel(t, Options{Store: gdStore(t)}, 80, 24)
	if s := strings.Split(screenOf(m80), "\n")[0]; !strings.Contains(s, "GD") {
		t.Errorf("80 columns: status line %q has no GuardDuty", s)
	}
	plain, _ := newTestModel(t, Options{}, 200, 40)
	if s := strings.Split(screenOf(plain), "\n")[0]; strings.Contains(s, "GD") {
		t.Errorf("GuardDuty never read, yet the status line says %q", s)
	}
}

// TestGuardDutyFindingsView: `:findings` lists every finding in full, the
// family's first, the hostile title made printable; esc closes it; an
// event's detail names the findings on its key.
func TestGuardDutyFindingsView(t *testing.T) {
	m, _ := newTestModel(t, Options{Store: gdStore(t)}, 160, 48)
	exec(m, press(m, append(append([]tea.KeyPressMsg{key1(':')}, runes("findings")...), keyEnter)...))
	out := m.Render()
	checkFrame(t, out, 160, 48)
	screen := screenOf(m)
	for _, want := range []string{"GuardDuty findings", "GuardDuty is not enabled in ap-east-1, sa-east-1", "could not be read in eu-central-1 denied",
		"▲ high 8  CryptoCurrency:EC2/BitcoinTool.B!DNS", "» suspect family", "tied by", "ip 198.51.100.23", "key " + leaked, "· low 2  Discovery:IAMUser/AnomalousBehavior"} {
		if !strings.Contains(screen, want) {
			t.Errorf("findings view lacks %q:\n%s", want, screen)
		}
	}
	if strings.Index(screen, "Discovery:IAMUser") < strings.Index(screen, "Recon:IAMUser") {
		t.Error("a finding outside the family is listed before the family's")
	}
	exec(m, press(m, tea.KeyPressMsg{Code: tea.KeyEscape}))
	if m.text != nil {
		t.Fatal("esc did not close the findings")
	}
	// The stream's newest-first rows include the leaked key's calls: the
	// detail of one names the finding on its key.
	for range 8 {
		exec(m, press(m, keyDown))
		exec(m, press(m, keyEnter))
		if m.detail != nil && strings.Contains(strings.Join(m.detail.lines, "\n"), leaked) {
			break
		}
		exec(m, press(m, tea.KeyPressMsg{Code: tea.KeyEscape}))
	}
	if m.detail == nil || !strings.Contains(strings.Join(m.detail.lines, "\n"), "guardduty    ◆ medium Recon:IAMUser/MaliciousIPCaller in us-east-1") {
		t.Errorf("no event of the leaked key shows its finding in detail")
	}
}

// TestGuardDutyGolden: the findings view and the status line at 80×24 and
// 160×48 (go test -update rewrites them).
func TestGuardDutyGolden(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}} {
		t.Run(fmt.Sprintf("findings/%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newTestModel(t, Options{Store: gdStore(t), Theme: "monochrome"}, sz[0], sz[1])
			exec(m, press(m, append(append([]tea.KeyPressMsg{key1(':')}, runes("findings")...), keyEnter)...))
			out := m.Render()
			checkFrame(t, out, sz[0], sz[1])
			golden.RequireEqual(t, out)
		})
	}
}
