package tui

import (
	"encoding/json"
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

// The organisation fixture's member accounts.
const (
	pivotAcct   = "210987654321" // read; the leaked key's family pivoted here
	scpAcct     = "333333333333" // behind a deny SCP; its name is hostile
	missingAcct = "444444444444" // no role
	pivotRole   = "arn:aws:iam::" + pivotAcct + ":role/deploy-cross"
	pivotTemp   = "ASIAPIVOTSESSION0001"
	pivotKey    = "AKIAPIVOTBACKDOOR001"
)

// orgIncident is the small incident read across an organisation: the
// leaked key's minted session assumes deploy-cross in a member and makes a
// user with a key and a miner there; one member is blocked by an SCP (its
// name, from Organizations, carries escape sequences), one has no role.
func orgIncident(t testing.TB) []journal.Entry {
	t.Helper()
	f := &facts{entries: incident(t)}
	f.seq = int64(len(f.entries))
	began := t0.Add(-3 * time.Hour)
	f.add(t, state.KindAccountAccess, began, state.AccountAccess{AccountID: pivotAcct, Name: "workload-1",
		RoleARN: "arn:aws:iam::" + pivotAcct + ":role/OrganizationAccountAccessRole", Status: state.AccessOK})
	f.add(t, state.KindAccountAccess, began, state.AccountAccess{AccountID: scpAcct, Name: "sandbox\x1b[2J\x1b]0;pwned\x07-3",
		RoleARN: "arn:aws:iam::" + scpAcct + ":role/OrganizationAccountAccessRole", Status: state.AccessSCP,
		Error: "AccessDenied: sts:GetCallerIdentity with an explicit deny in a service control policy", Retry: t0.Add(4 * time.Minute)})
	f.add(t, state.KindAccountAccess, began, state.AccountAccess{AccountID: missingAcct, Name: "legacy",
		RoleARN: "arn:aws:iam::" + missingAcct + ":role/OrganizationAccountAccessRole", Status: state.AccessMissingRole,
		Error: "NoSuchEntity: the role does not exist", Retry: t0.Add(8 * time.Minute)})
	f.add(t, state.KindRegions, began, state.Regions{AccountID: pivotAcct, Regions: []state.Region{
		{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, {Name: "ap-southeast-1", OptInStatus: "opt-in-not-required"}}})
	f.add(t, state.KindInventory, began, state.Inventory{AccountID: pivotAcct, TakenAt: t0.Add(-4 * time.Minute),
		Users: []state.User{{Name: "svc-replication", ARN: "arn:aws:iam::" + pivotAcct + ":user/svc-replication", Created: began.Add(-10 * time.Minute),
			Keys: []state.AccessKey{{ID: pivotKey, Status: "Active", Created: began.Add(-9 * time.Minute)}}}},
		Roles: []state.Role{{Name: "deploy-cross", ARN: pivotRole, Created: began.AddDate(-1, 0, 0), External: []string{"arn:aws:iam::123456789012:root"}, Admin: true}}})
	f.add(t, state.KindSweep, t0.Add(-4*time.Minute), state.Sweep{AccountID: pivotAcct, Region: "ap-southeast-1", Kind: "ec2:instance", TakenAt: t0.Add(-4 * time.Minute),
		Resources: []state.Resource{{ID: "i-0feed0000beef0001", State: "running", Created: began.Add(-8 * time.Minute), Attrs: map[string]string{"type": "c5.24xlarge", "creator": pivotKey}}}})
	f.add(t, state.KindSweep, t0.Add(-4*time.Minute), state.Sweep{AccountID: pivotAcct, Region: "us-east-1", Kind: "ec2:instance", TakenAt: t0.Add(-4 * time.Minute)})
	sessARN := "arn:aws:sts::" + pivotAcct + ":assumed-role/deploy-cross/pivot"
	var recs []json.RawMessage
	for i, e := range []ev{
		{name: "AssumeRole", source: "sts.amazonaws.com", key: minted, arn: ciARN, user: "ci-deploy", ip: "198.51.100.23", role: pivotRole,
			minted: pivotTemp, expires: t0.Add(time.Hour), at: began.Add(-15 * time.Minute)},
		{name: "CreateUser", key: pivotTemp, arn: sessARN, ip: "198.51.100.23", at: began.Add(-10 * time.Minute)},
	} {
		e.id = fmt.Sprintf("1000000%d-aaaa-4bbb-8ccc-0123456789ab", i+1)
		recs = append(recs, e.raw())
	}
	f.add(t, state.KindEvents, began, state.Events{Source: "lookup:us-east-1@" + pivotAcct, Records: recs})
	return f.entries
}

// orgScreens are the organisation mode's screens, each reached with the
// keys a responder would press.
var orgScreens = []struct {
	name string
	keys []tea.KeyPressMsg
}{
	{name: "org-principals", keys: []tea.KeyPressMsg{key1('2')}},
	{name: "org-principals-end", keys: []tea.KeyPressMsg{key1('2'), key1('G')}},
	{name: "org-regions", keys: []tea.KeyPressMsg{key1('3')}},
	{name: "org-regions-list", keys: []tea.KeyPressMsg{key1('3'), keyDown, keyEnter}},
	{name: "org-account-detail", keys: []tea.KeyPressMsg{key1('2'), key1('G'), keyUp, keyEnter}},
	{name: "org-region-account-detail", keys: []tea.KeyPressMsg{key1('3'), key1('G'), keyEnter}},
	// The pivot account's row (the first member's), C: the deny SCP's plan.
	{name: "org-account-scp", keys: []tea.KeyPressMsg{key1('2'), key1('/'), key1('k'), key1('i'), key1('n'), key1('d'), key1(':'),
		key1('a'), key1('c'), key1('c'), key1('t'), keyEnter, keyDown, key1('C')}},
}

// TestGoldenOrg draws the organisation mode's screens at 80×24 and 160×48
// (go test -update rewrites them).
func TestGoldenOrg(t *testing.T) {
	for _, sc := range orgScreens {
		for _, sz := range [][2]int{{80, 24}, {160, 48}} {
			for _, theme := range []string{"dark", "monochrome"} {
				t.Run(fmt.Sprintf("%s/%dx%d/%s", sc.name, sz[0], sz[1], theme), func(t *testing.T) {
					m, _ := newTestModel(t, Options{Theme: theme, Store: storeOf(t, orgIncident(t)), Journal: &recJournal{}, Containment: &fakeContainment{}}, sz[0], sz[1])
					for _, k := range sc.keys {
						exec(m, press(m, k))
					}
					out := m.Render()
					checkFrame(t, out, sz[0], sz[1])
					golden.RequireEqual(t, out)
				})
			}
		}
	}
}

// TestOrgConsole drives the console in organisation mode with the keys a
// responder presses: the principals pane names the accounts the suspect
// family touched and each member's access; the SCP-blocked member's detail
// explains it and when warroom retries, its hostile name drawn inert; the
// Region map lists accounts × Regions with the unread members' status.
func TestOrgConsole(t *testing.T) {
	m, _ := newTestModel(t, Options{Store: storeOf(t, orgIncident(t)), Journal: &recJournal{}, Containment: &fakeContainment{}}, 160, 48)
	exec(m, press(m, key1('2')))
	screen := ansi.Strip(m.Render())
	for _, want := range []string{"4 accounts · » suspects in 2", "»   210987654321 acct 210987654321 workload-1", "✓ ok",
		"✗ scp-blocked", "✗ missing-role", "svc-replication", pivotKey, "210987654321 temp", "    333333333333 acct"} {
		if !strings.Contains(screen, want) {
			t.Errorf("principals pane lacks %q:\n%s", want, screen)
		}
	}
	// The pivot account's row, opened: the suspects acted there.
	exec(m, press(m, key1('/')))
	exec(m, press(m, runes("kind:acct")...))
	exec(m, press(m, keyEnter, keyDown, keyEnter))
	screen = ansi.Strip(m.Render())
	for _, want := range []string{"Account " + pivotAcct, "workload-1", "✓ ok since", "the suspect families acted in this account", "1 user, 1 key, 1 role"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the pivot account's detail lacks %q:\n%s", want, screen)
		}
	}
	exec(m, press(m, keyEsc, key1('x')))
	exec(m, press(m, key1('G'), keyUp, keyEnter))
	screen = m.Render()
	if bad := foreignControls(screen); bad != "" {
		t.Fatalf("the account's name reached the terminal raw: %s", bad)
	}
	screen = ansi.Strip(screen)
	for _, want := range []string{"Account " + scpAcct, "a service control policy denies warroom's calls", "explicit deny in a service control policy",
		"warroom tries again at 2026-11-23 04:25:07 UTC", "sandbox"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the SCP-blocked account's detail lacks %q:\n%s", want, screen)
		}
	}
	exec(m, press(m, keyEsc, key1('3')))
	screen = ansi.Strip(m.Render())
	for _, want := range []string{"4 accounts × Regions", pivotAcct + " ap-southeast-1", "123456789012 eu-west-1", "✗ scp-blocked · not read", "✗ missing-role · not read"} {
		if !strings.Contains(screen, want) {
			t.Errorf("Region map lacks %q:\n%s", want, screen)
		}
	}
	// The pivot account's Region lists the miner the family made there.
	exec(m, press(m, key1('/')))
	exec(m, press(m, runes(pivotAcct+" ap-southeast-1")...))
	exec(m, press(m, keyEnter, keyEnter))
	screen = ansi.Strip(m.Render())
	if !strings.Contains(screen, "i-0feed0000beef0001") {
		t.Errorf("the pivot account's ap-southeast-1 does not list the miner:\n%s", screen)
	}
}

// TestOrgConsoleBeforeInventory draws organisation mode before any
// inventory was read (a member's access journaled first, as a live start
// does): every pane draws, the accounts listed, nothing panics.
func TestOrgConsoleBeforeInventory(t *testing.T) {
	f := &facts{}
	f.add(t, state.KindSessionStarted, t0, state.SessionStarted{Command: "drill", Mode: state.ModeLive, AccountID: "123456789012"})
	f.add(t, state.KindAccountAccess, t0, state.AccountAccess{AccountID: pivotAcct, Status: state.AccessOK})
	m, _ := newTestModel(t, Options{Store: storeOf(t, f.entries), Journal: &recJournal{}}, 120, 40)
	for _, k := range []rune{'2', '3', '1'} {
		exec(m, press(m, key1(k)))
		screen := ansi.Strip(m.Render())
		if !strings.Contains(screen, "2 accounts") {
			t.Errorf("after %c the screen does not show the 2 accounts:\n%s", k, screen)
		}
	}
}

// TestOrgAccountSCP drives the organisation-level step with the keys a
// responder presses: C on a member account's row opens the deny SCP's plan
// (its document, its impact, the account id to type); enter before the id
// is typed refuses, saying why; a wrong id refuses; the id runs it. On the
// home (management) account the engine's refusal reaches the flash line.
func TestOrgAccountSCP(t *testing.T) {
	open := func(t *testing.T, c *fakeContainment, rows ...tea.KeyPressMsg) (*Model, *clockAt) {
		m, clk := newTestModel(t, Options{Store: storeOf(t, orgIncident(t)), Journal: &recJournal{}, Containment: c}, 160, 48)
		exec(m, press(m, key1('2'), key1('/')))
		exec(m, press(m, runes("kind:acct")...))
		exec(m, press(m, keyEnter))
		exec(m, press(m, rows...))
		exec(m, press(m, key1('C')))
		return m, clk
	}
	t.Run("member: typed id runs", func(t *testing.T) {
		c := &fakeContainment{}
		m, clk := open(t, c, keyDown)
		if m.dialog == nil {
			t.Fatalf("C on %s's row opened no plan: %q", pivotAcct, m.message)
		}
		screen := ansi.Strip(m.Render())
		for _, want := range []string{"Attach a deny-all service control policy to account " + pivotAcct, "target: account " + pivotAcct,
			"impact: every principal of account " + pivotAcct, "production in that account stops", "organizations:CreatePolicy",
			`"Effect": "Deny"`, `"aws:PrincipalARN"`, "organizations:AttachPolicy", "! disruptive: it stops account " + pivotAcct + " until undone",
			"type " + pivotAcct + " to confirm:"} {
			if !strings.Contains(screen, want) {
				t.Errorf("the plan lacks %q:\n%s", want, screen)
			}
		}
		if strings.Contains(screen, "irreversible") {
			t.Errorf("the SCP can be undone, the dialog says irreversible:\n%s", screen)
		}
		clk.advance(time.Second)
		exec(m, press(m, keyTab, keyEnter))
		if len(c.runs) != 0 || m.dialog == nil || !strings.Contains(m.message, "type "+pivotAcct+" to confirm this disruptive plan") {
			t.Fatalf("enter without the id: runs %d, dialog %v, message %q", len(c.runs), m.dialog != nil, m.message)
		}
		exec(m, press(m, runes(scpAcct)...))
		exec(m, press(m, keyEnter))
		if len(c.runs) != 0 || !strings.Contains(m.message, "does not match "+pivotAcct) {
			t.Fatalf("a wrong id: runs %d, message %q", len(c.runs), m.message)
		}
		for range scpAcct {
			exec(m, press(m, keyBack))
		}
		exec(m, press(m, runes(pivotAcct)...))
		exec(m, press(m, keyEnter))
		if len(c.runs) != 1 || c.runs[0].Action != "account-scp" || c.runs[0].Target.Kind != TargetAccount || c.runs[0].Target.ID != pivotAcct {
			t.Fatalf("runs %+v, message %q", c.runs, m.message)
		}
	})
	t.Run("home account refused", func(t *testing.T) {
		c := &fakeContainment{}
		m, _ := open(t, c)
		if m.dialog != nil {
			t.Fatal("a plan opened for the management account")
		}
		if footer := ansi.Strip(m.Render()); !strings.Contains(footer, "management account") {
			t.Errorf("the refusal is not on screen:\n%s", footer)
		}
	})
	t.Run("other keys point at C", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Store: storeOf(t, orgIncident(t)), Journal: &recJournal{}, Containment: &fakeContainment{}}, 160, 48)
		exec(m, press(m, key1('2'), key1('/')))
		exec(m, press(m, runes("kind:acct")...))
		exec(m, press(m, keyEnter, keyDown, key1('Q')))
		if m.dialog != nil || !strings.Contains(m.message, "on an account, contain (C) plans account-scp") {
			t.Errorf("Q on an account: dialog %v, message %q", m.dialog != nil, m.message)
		}
	})
	t.Run("help says it", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Store: storeOf(t, orgIncident(t)), Journal: &recJournal{}, Containment: &fakeContainment{}}, 160, 48)
		exec(m, press(m, key1('2'), key1('?')))
		if screen := ansi.Strip(m.Render()); !strings.Contains(screen, "account: deny-all SCP (again: undo)") {
			t.Errorf("the principals pane's help does not say what C does on an account:\n%s", screen)
		}
	})
}

// The status line's verdict across accounts names the account it could
// not read: unsure, never contained, with the account's id, at 80 columns
// too.
func TestStatusLineVerdictNamesUnreachableAccount(t *testing.T) {
	entries := orgIncident(t)
	f := &facts{seq: entries[len(entries)-1].Seq, entries: entries}
	f.add(t, state.KindVerdict, t0, state.Verdict{Key: "AKIAIOSFODNN7EXAMPLE", CheckedAt: t0, Footholds: 4, Held: 4,
		Unsure: []state.OpenFoothold{
			{Kind: "account", ID: scpAcct, Account: scpAcct, Detail: "account " + scpAcct + " could not be read: scp-blocked"},
			{Kind: "instance", ID: "i-0feed0000beef0001", Region: "ap-southeast-1", Account: pivotAcct, Detail: "CloudTrail has not delivered past containment"}}})
	for _, w := range []int{80, 160} {
		m, _ := newTestModel(t, Options{Store: storeOf(t, f.entries)}, w, 24)
		status := strings.Split(screenOf(m), "\n")[0]
		if !strings.Contains(status, "? unsure: 2 · account "+scpAcct+" unreachable") || strings.Contains(status, "✓") {
			t.Errorf("at %d columns the status line is %q", w, status)
		}
	}
}
