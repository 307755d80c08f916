package tui

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
)

// ssoARN is alice's Identity Center session as CloudTrail names it.
const ssoARN = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice.ops"

// icStore is the incident fixture with an Identity Center read and calls
// of alice.ops's session of AWSReservedSSO_AdministratorAccess.
func icStore(t *testing.T, ic state.IdentityCenter) *state.Store {
	t.Helper()
	entries := incident(t)
	f := &facts{seq: entries[len(entries)-1].Seq, entries: entries}
	var recs []json.RawMessage
	for i, name := range []string{"ListBuckets", "GetObject", "CreateUser"} {
		rec := map[string]any{
			"eventVersion": "1.09", "eventID": fmt.Sprintf("5500000%d-aaaa-4bbb-8ccc-0123456789ab", i),
			"eventTime": t0.Add(-time.Duration(30-i) * time.Minute).Format(time.RFC3339), "eventName": name,
			"eventSource": "s3.amazonaws.com", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
			"eventType": "AwsApiCall", "recipientAccountId": "123456789012",
			"userIdentity": map[string]any{"type": "AssumedRole", "arn": ssoARN, "accountId": "123456789012",
				"principalId": "AROAEXAMPLESSO:alice.ops", "accessKeyId": "ASIASSOEXAMPLE000001",
				"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "userName": "AWSReservedSSO_AdministratorAccess_0123456789abcdef"}}},
		}
		b, _ := json.Marshal(rec)
		recs = append(recs, b)
	}
	f.add(t, state.KindEvents, t0.Add(-20*time.Minute), state.Events{Source: "lookup:us-east-1", Records: recs})
	f.add(t, state.KindIdentityCenter, t0.Add(-10*time.Minute), ic)
	return storeOf(t, f.entries)
}

var icRead = state.IdentityCenter{Region: "us-east-1", Status: state.IdentityCenterOK,
	InstanceARN: "arn:aws:sso:::instance/ssoins-7223abcdef012345", StoreID: "d-9067abcdef", TakenAt: t0.Add(-10 * time.Minute),
	Users: []state.SSOUser{
		{ID: "9067abcdef-1111-2222-3333-444455556666", UserName: "alice.ops", DisplayName: "Alice Ops", Emails: []string{"alice@example.com"},
			Access: []string{"AdministratorAccess", "ReadOnly (via engineers)"}},
		{ID: "9067abcdef-7777-8888-9999-000011112222", UserName: "bob", DisplayName: "Bob", Access: []string{"ReadOnly (via engineers)"}},
	}}

var icDenied = state.IdentityCenter{Region: "us-east-1", Status: state.IdentityCenterUnreadable, Reason: "AccessDenied",
	Error: "sso:ListInstances in us-east-1: AccessDeniedException: User is not authorized (denied)", TakenAt: t0.Add(-10 * time.Minute)}

// TestGoldenIdentityCenter: the principals pane's Identity Center rows
// (alice.ops with her permission sets and her AWSReservedSSO_ session, its
// calls counted), her detail view, and a read AWS refused ("Identity
// Center not readable: AccessDenied"), at 80x24 and 160x48.
func TestGoldenIdentityCenter(t *testing.T) {
	for _, sc := range []struct {
		name string
		ic   state.IdentityCenter
		keys int // Enter after the pane's last row, then Up this many
	}{{"users", icRead, -1}, {"detail", icRead, 1}, {"denied", icDenied, -1}} {
		for _, sz := range [][2]int{{80, 24}, {160, 48}} {
			t.Run(fmt.Sprintf("%s/%dx%d", sc.name, sz[0], sz[1]), func(t *testing.T) {
				m, _ := newTestModel(t, Options{Theme: "monochrome", Store: icStore(t, sc.ic)}, sz[0], sz[1])
				exec(m, press(m, key1('2'), key1('G')))
				if sc.keys >= 0 {
					for i := 0; i < sc.keys; i++ {
						exec(m, press(m, keyUp))
					}
					exec(m, press(m, keyEnter))
				}
				out := m.Render()
				checkFrame(t, out, sz[0], sz[1])
				golden.RequireEqual(t, out)
			})
		}
	}
}

// TestIdentityCenterRows: the rows say what was read and the sessions
// CloudTrail shows of each user; C on a user's row asks containment for
// an sso-user target in Identity Center's Region.
func TestIdentityCenterRows(t *testing.T) {
	fc := &fakeContainment{}
	m, _ := newTestModel(t, Options{Store: icStore(t, icRead), Containment: fc, Journal: &recJournal{}}, 200, 60)
	exec(m, press(m, key1('2'), key1('z')))
	s := screenOf(m)
	for _, want := range []string{"Identity Center", "2 users", "alice.ops", "AdministratorAccess, ReadOnly (via engineers)",
		"1 session · 3 calls · AdministratorAccess", "bob"} {
		if !strings.Contains(s, want) {
			t.Errorf("principals pane lacks %q:\n%s", want, s)
		}
	}
	exec(m, press(m, key1('G'), keyUp, keyEnter))
	if d := screenOf(m); !strings.Contains(d, ssoARN+" · 3 calls") || !strings.Contains(d, "9067abcdef-1111-2222-3333-444455556666") {
		t.Errorf("alice.ops's detail lacks her session or id:\n%s", d)
	}
	exec(m, press(m, keyEsc, key1('z'), key1('C')))
	fc.mu.Lock()
	got := fc.planned
	fc.mu.Unlock()
	if got.Kind != TargetSSOUser || got.ID != "alice.ops" || got.Region != "us-east-1" {
		t.Fatalf("C planned %+v, want the sso-user alice.ops in us-east-1", got)
	}
	m2, _ := newTestModel(t, Options{Store: icStore(t, icDenied)}, 200, 60)
	exec(m2, press(m2, key1('2'), key1('z')))
	if s := screenOf(m2); !strings.Contains(s, "Identity Center not readable: AccessDenied") {
		t.Errorf("a refused read is not said:\n%s", s)
	}
}
