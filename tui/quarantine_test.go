package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
)

const quarantineV3 = "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"

// quarantineIncident is the fixture's incident after AWS quarantined
// ci-deploy (CloudTrail's AttachUserPolicy from "AWS Internal", then an
// inventory showing the policy) and the attacker gave alice a password.
func quarantineIncident(t testing.TB) *state.Store {
	t.Helper()
	entries := incident(t)
	f := &facts{seq: int64(len(entries)), entries: entries}
	aws := ev{id: "0000000a-aaaa-4bbb-8ccc-0123456789ab", name: "AttachUserPolicy", ip: "AWS Internal", agent: "AWS Internal",
		arn: "arn:aws:sts::000000000000:assumed-role/AWSCompromisedKeyQuarantineRole/AWSCompromisedKeyQuarantine", at: t0.Add(-2*time.Hour - 30*time.Minute)}
	pw := ev{id: "0000000b-aaaa-4bbb-8ccc-0123456789ab", name: "UpdateLoginProfile", key: minted, arn: ciARN, user: "ci-deploy", ip: "198.51.100.23", at: t0.Add(-2 * time.Hour)}
	var recs []json.RawMessage
	for _, e := range []ev{aws, pw} {
		var m map[string]any
		if err := json.Unmarshal(e.raw(), &m); err != nil {
			t.Fatal(err)
		}
		if e.name == "AttachUserPolicy" {
			m["requestParameters"] = map[string]any{"userName": "ci-deploy", "policyArn": quarantineV3}
			m["userIdentity"] = map[string]any{"type": "AssumedRole", "arn": e.arn, "accountId": "000000000000"}
		} else {
			m["requestParameters"] = map[string]any{"userName": "alice"}
		}
		b, _ := json.Marshal(m)
		recs = append(recs, b)
	}
	f.add(t, state.KindEvents, t0.Add(-time.Hour), state.Events{Source: "lookup:us-east-1", Records: recs})
	var inv state.Inventory
	for _, e := range entries {
		if e.Kind == string(state.KindInventory) {
			if err := json.Unmarshal(e.Data, &inv); err != nil {
				t.Fatal(err)
			}
		}
	}
	inv.TakenAt = t0.Add(-2 * time.Minute)
	for i := range inv.Users {
		if inv.Users[i].Name == "ci-deploy" {
			inv.Users[i].Policies = append(inv.Users[i].Policies, state.Policy{Name: "AWSCompromisedKeyQuarantineV3", ARN: quarantineV3})
		}
	}
	f.add(t, state.KindInventory, t0.Add(-2*time.Minute), inv)
	return storeOf(t, f.entries)
}

// passwordContainment plans password-reset as incident.Containment does
// (a user only), everything else as the fixture's fake.
type passwordContainment struct {
	fakeContainment
	planned []string
}

func (c *passwordContainment) Plan(ctx context.Context, action string, t Target) (Plan, error) {
	c.planned = append(c.planned, action+" "+string(t.Kind)+" "+t.ID)
	if action != ActionPasswordReset {
		return c.fakeContainment.Plan(ctx, action, t)
	}
	if t.Kind != TargetUser && t.Kind != TargetKey {
		return Plan{}, fmt.Errorf("a password reset applies to a user, not a %s: select a user (or one of its keys)", t.Kind)
	}
	return Plan{ID: "plan-pw", Action: "password-reset", Target: t,
		Title: "Require user " + t.ID + " to choose a new console password at the next sign-in",
		Calls: []state.Call{{API: "iam:UpdateLoginProfile", Params: map[string]string{"UserName": t.ID, "PasswordResetRequired": "true"}}},
		Undo:  "undo-password-reset user/" + t.ID + " (puts back false)"}, nil
}

var quarantineScreens = []struct {
	name string
	keys []tea.KeyPressMsg
}{
	{name: "principals", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown}},
	{name: "detail-user", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, keyEnter}},
	{name: "dialog-password-reset", keys: []tea.KeyPressMsg{key1('2'), keyDown, key1('P')}},
	{name: "passwords", keys: append(append([]tea.KeyPressMsg{key1(':')}, runes("passwords")...), keyEnter)},
}

// TestQuarantineGolden draws AWS's quarantine (the status line's alert,
// the principal's row and detail), the password-reset plan and the
// :passwords preset at 80x24 and 160x48.
func TestQuarantineGolden(t *testing.T) {
	for _, sc := range quarantineScreens {
		for _, sz := range [][2]int{{80, 24}, {160, 48}} {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m, _ := newTestModel(t, Options{Store: quarantineIncident(t), Journal: &recJournal{}, Containment: &passwordContainment{}}, sz[0], sz[1])
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

func TestQuarantineAlertAndRow(t *testing.T) {
	m, _ := newTestModel(t, Options{Store: quarantineIncident(t), Journal: &recJournal{}, Containment: &fakeContainment{}}, 160, 48)
	out := ansi.Strip(m.Render())
	top := strings.SplitN(out, "\n", 2)[0]
	if !strings.Contains(top, "▲ AWS QUARANTINED ci-deploy (V3): not containment") {
		t.Errorf("status line: %q", top)
	}
	exec(m, press(m, key1('2')))
	out = ansi.Strip(m.Render())
	if !strings.Contains(out, "▲ AWS quarantine") {
		t.Errorf("the principal's row is not marked:\n%s", out)
	}
	// Before an inventory names the user, CloudTrail's record of AWS's
	// attachment still raises the alert.
	s := storeOf(t, incident(t))
	s.Events = quarantineIncident(t).Events
	m2, _ := newTestModel(t, Options{Store: s, Journal: &recJournal{}, Containment: &fakeContainment{}}, 160, 48)
	if top := strings.SplitN(ansi.Strip(m2.Render()), "\n", 2)[0]; !strings.Contains(top, "AWS attached a policy (AWS Internal)") {
		t.Errorf("status line without the inventory: %q", top)
	}
	// No quarantine, no alert.
	m3, _ := newTestModel(t, Options{Journal: &recJournal{}, Containment: &fakeContainment{}}, 160, 48)
	if strings.Contains(ansi.Strip(m3.Render()), "QUARANTINED") {
		t.Error("an alert without a quarantine")
	}
}

func TestPasswordResetKey(t *testing.T) {
	c := &passwordContainment{}
	m, _ := newTestModel(t, Options{Store: quarantineIncident(t), Journal: &recJournal{}, Containment: c}, 160, 48)
	exec(m, press(m, key1('2'), keyDown, key1('P')))
	if len(c.planned) != 1 || c.planned[0] != "password-reset user alice" {
		t.Fatalf("planned %v", c.planned)
	}
	if m.dialog == nil || m.dialog.kind != dialogPlan {
		t.Fatal("no plan dialog")
	}
	// Cancel is focused: enter right away does nothing.
	exec(m, press(m, keyEnter))
	if len(c.runs) != 0 {
		t.Fatal("the plan ran without confirmation")
	}
	// On a role the engine's refusal is shown.
	m, _ = newTestModel(t, Options{Store: quarantineIncident(t), Journal: &recJournal{}, Containment: c}, 160, 48)
	exec(m, press(m, key1('2'), key1('G'), key1('P')))
	if !strings.Contains(ansi.Strip(m.Render()), "applies to a user") {
		t.Errorf("no refusal shown:\n%s", ansi.Strip(m.Render()))
	}
	// Read-only (a replay): refused, and said so.
	m, _ = newTestModel(t, Options{Store: quarantineIncident(t), Journal: &recJournal{}, Mode: ModeReplay}, 160, 48)
	exec(m, press(m, key1('2'), keyDown, key1('P')))
	if m.dialog != nil || m.message == "" {
		t.Errorf("read-only: dialog %v, message %q", m.dialog, m.message)
	}
}
