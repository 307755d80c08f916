package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// t0 is the fixed "now" of every test screen.
var t0 = time.Date(2026, 11, 23, 4, 21, 7, 0, time.UTC)

// facts builds journal entries with consecutive sequence numbers.
type facts struct {
	seq     int64
	entries []journal.Entry
}

func (f *facts) add(t testing.TB, kind state.Kind, at time.Time, payload any) journal.Entry {
	t.Helper()
	data, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	f.seq++
	e := journal.Entry{
		Seq: f.seq, At: at, Kind: string(kind), Data: data,
		By:     journal.Actor{User: "alice", Host: "jump1"},
		Offset: f.seq * 1000,
	}
	f.entries = append(f.entries, e)
	return e
}

// ev is a CloudTrail record for tests.
type ev struct {
	id, name, source, region, arn, key, ip, code, agent, user string
	at                                                        time.Time
	minted                                                    string // ASIA key minted
	expires                                                   time.Time
	role                                                      string // the role ARN an AssumeRole names
}

func (e ev) raw() json.RawMessage {
	if e.source == "" {
		e.source = "iam.amazonaws.com"
	}
	if e.region == "" {
		e.region = "us-east-1"
	}
	if e.agent == "" {
		e.agent = "aws-cli/2.15.0"
	}
	rec := map[string]any{
		"eventVersion":       "1.09",
		"eventID":            e.id,
		"eventTime":          e.at.UTC().Format(time.RFC3339),
		"eventName":          e.name,
		"eventSource":        e.source,
		"awsRegion":          e.region,
		"sourceIPAddress":    e.ip,
		"userAgent":          e.agent,
		"eventType":          "AwsApiCall",
		"recipientAccountId": "123456789012",
		"userIdentity": map[string]any{
			"type": "IAMUser", "arn": e.arn, "accountId": "123456789012",
			"accessKeyId": e.key, "userName": e.user,
		},
	}
	if e.code != "" {
		rec["errorCode"] = e.code
		rec["errorMessage"] = "User is not authorized to perform " + e.name
	}
	if e.role != "" {
		rec["requestParameters"] = map[string]any{"roleArn": e.role, "roleSessionName": "pivot"}
	}
	if e.minted != "" {
		rec["responseElements"] = map[string]any{"credentials": map[string]any{
			"accessKeyId": e.minted, "expiration": e.expires.UTC().Format("Jan 2, 2006, 3:04:05 PM"),
			"sessionToken": "REDACTED",
		}}
	}
	b, _ := json.Marshal(rec)
	return b
}

const (
	leaked   = "AKIAIOSFODNN7EXAMPLE"
	minted   = "ASIAQWERTYUIOPASDFGH"
	aliceARN = "arn:aws:iam::123456789012:user/alice"
	ciARN    = "arn:aws:iam::123456789012:user/ci-deploy"
)

// incident returns the entries of a small incident: a leaked key of user
// ci-deploy probing, minting a session token, making a backdoor key and
// starting instances; the console marked it suspect and deactivated it.
func incident(t testing.TB) []journal.Entry {
	t.Helper()
	f := &facts{}
	began := t0.Add(-3 * time.Hour)
	f.add(t, state.KindIncidentOpened, began, state.IncidentOpened{ID: "wr-20261123-0120-3fa9c1", Title: "leaked CI key", OpenedAt: began, Began: began.Add(-time.Hour)})
	f.add(t, state.KindSessionStarted, began, state.SessionStarted{Command: "console", Mode: state.ModeLive, AccountID: "123456789012", Alias: "acme-prod", CallerARN: "arn:aws:iam::123456789012:user/responder", CallerKeyID: "AKIAEXAMPLERESPONDER"})
	f.add(t, state.KindRegions, began, state.Regions{Regions: []state.Region{
		{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, {Name: "eu-west-1", OptInStatus: "opt-in-not-required"},
		{Name: "ap-southeast-3", OptInStatus: "opted-in"}, {Name: "me-south-1", OptInStatus: "not-opted-in"},
	}})
	f.add(t, state.KindStreamHealth, t0.Add(-time.Minute), state.StreamHealth{Source: "lookup:us-east-1", Region: "us-east-1", Status: "ok", Lag: state.Duration(42 * time.Second)})
	f.add(t, state.KindStreamHealth, t0.Add(-time.Minute), state.StreamHealth{Source: "lookup:eu-west-1", Region: "eu-west-1", Status: "throttled", Lag: state.Duration(3 * time.Minute)})
	f.add(t, state.KindInventory, began, state.Inventory{TakenAt: t0.Add(-10 * time.Minute),
		Root: &state.Root{ARN: "arn:aws:iam::123456789012:root", MFA: true},
		Users: []state.User{
			{Name: "alice", ARN: aliceARN, Created: began.AddDate(-1, 0, 0), ConsolePassword: true,
				MFA: []state.MFADevice{{Serial: "arn:aws:iam::123456789012:mfa/alice"}}, Groups: []string{"admins"}, Admin: true},
			{Name: "ci-deploy", ARN: ciARN, Created: began.AddDate(0, -6, 0),
				Keys:     []state.AccessKey{{ID: leaked, Status: "Active", Created: began.AddDate(0, -6, 0), LastUsed: t0.Add(-15 * time.Minute), LastService: "ec2", LastRegion: "eu-west-1"}},
				Policies: []state.Policy{{Name: "deploy", Inline: true}}},
		},
		Roles: []state.Role{{Name: "OrganizationAccountAccessRole", ARN: "arn:aws:iam::123456789012:role/OrganizationAccountAccessRole", Created: began.AddDate(-2, 0, 0), External: []string{"arn:aws:iam::999999999999:root"}, Admin: true}},
	})
	var recs []json.RawMessage
	for i, e := range []ev{
		{name: "GetCallerIdentity", source: "sts.amazonaws.com", key: leaked, arn: ciARN, user: "ci-deploy", ip: "203.0.113.7", at: began.Add(-50 * time.Minute)},
		{name: "ListUsers", key: leaked, arn: ciARN, user: "ci-deploy", ip: "203.0.113.7", code: "AccessDenied", at: began.Add(-49 * time.Minute)},
		{name: "GetSessionToken", source: "sts.amazonaws.com", key: leaked, arn: ciARN, user: "ci-deploy", ip: "203.0.113.7", minted: minted, expires: t0.Add(9 * time.Hour), at: began.Add(-45 * time.Minute)},
		{name: "CreateAccessKey", key: leaked, arn: ciARN, user: "ci-deploy", ip: "203.0.113.7", at: began.Add(-40 * time.Minute)},
		{name: "RunInstances", source: "ec2.amazonaws.com", region: "eu-west-1", key: minted, arn: ciARN, user: "ci-deploy", ip: "198.51.100.23", at: began.Add(-30 * time.Minute)},
		{name: "StopLogging", source: "cloudtrail.amazonaws.com", key: minted, arn: ciARN, user: "ci-deploy", ip: "198.51.100.23", at: began.Add(-20 * time.Minute)},
		{name: "DescribeInstances", source: "ec2.amazonaws.com", region: "eu-west-1", key: "AKIAEXAMPLERESPONDER", arn: "arn:aws:iam::123456789012:user/responder", user: "responder", ip: "192.0.2.10", agent: "aws-sdk-go-v2/1.47 app/warroom", at: began.Add(5 * time.Minute)},
		{name: "ConsoleLogin", source: "signin.amazonaws.com", key: "", arn: aliceARN, user: "alice", ip: "192.0.2.44", at: began.Add(10 * time.Minute)},
	} {
		e.id = fmt.Sprintf("0000000%d-aaaa-4bbb-8ccc-0123456789ab", i+1)
		recs = append(recs, e.raw())
	}
	f.add(t, state.KindEvents, began, state.Events{Source: "lookup:us-east-1", Records: recs})
	f.add(t, state.KindSweep, t0.Add(-5*time.Minute), state.Sweep{Region: "eu-west-1", Kind: "ec2:instance", TakenAt: t0.Add(-5 * time.Minute), Resources: []state.Resource{
		{ID: "i-0abc1234def567890", State: "running", Created: began.Add(-30 * time.Minute), Attrs: map[string]string{"type": "p3.16xlarge", "creator": minted}},
		{ID: "i-0aaa1111bbb222333", Name: "web-1", State: "running", Created: began.AddDate(0, -1, 0), Attrs: map[string]string{"type": "t3.small"}},
	}})
	f.add(t, state.KindSweep, t0.Add(-5*time.Minute), state.Sweep{Region: "us-east-1", Kind: "ec2:instance", TakenAt: t0.Add(-5 * time.Minute)})
	f.add(t, state.KindSweep, t0.Add(-5*time.Minute), state.Sweep{Region: "us-east-1", Kind: "ec2:key-pair", TakenAt: t0.Add(-5 * time.Minute), Resources: []state.Resource{{ID: "key-0123", Name: "backdoor", Created: began.Add(-25 * time.Minute)}}})
	f.add(t, state.KindSweep, t0.Add(-5*time.Minute), state.Sweep{Region: "ap-southeast-3", Kind: "ec2:instance", TakenAt: t0.Add(-5 * time.Minute), Error: &state.CallError{Call: "ec2:DescribeInstances", Region: "ap-southeast-3", Class: "denied", Error: "UnauthorizedOperation"}})
	f.add(t, state.KindSuspect, began.Add(20*time.Minute), state.Suspect{AccessKeyID: leaked, Reason: "found on a public paste site"})
	f.add(t, state.KindNote, began.Add(21*time.Minute), state.Note{Text: "GitHub secret scanning alert at 01:02; paging on-call"})
	f.add(t, state.KindActionIntent, began.Add(30*time.Minute), state.ActionIntent{ActionID: "act-1", Action: ActionDeactivateKey, Target: leaked,
		Plan: []state.Call{{API: "iam:UpdateAccessKey", Params: map[string]string{"UserName": "ci-deploy", "AccessKeyId": leaked, "Status": "Inactive"}}}, Undo: "iam:UpdateAccessKey Status=Active"})
	f.add(t, state.KindActionResult, began.Add(30*time.Minute), state.ActionResult{ActionID: "act-1", OK: true, Calls: []state.CallResult{{API: "iam:UpdateAccessKey", RequestID: "5f1e0c6e-0000-4a4a-9d9d-123456789abc"}}})
	f.add(t, state.KindActionVerify, began.Add(31*time.Minute), state.ActionVerify{ActionID: "act-1", Holds: true, Detail: "key is Inactive"})
	f.add(t, state.KindActionIntent, began.Add(40*time.Minute), state.ActionIntent{ActionID: "act-2", Action: ActionRevokeSessions, Target: ciARN,
		Plan: []state.Call{{API: "iam:PutUserPolicy", Params: map[string]string{"UserName": "ci-deploy", "PolicyName": "AWSRevokeOlderSessions"}}}})
	return f.entries
}

// storeOf folds entries into a new store.
func storeOf(t testing.TB, entries []journal.Entry) *state.Store {
	t.Helper()
	s := state.NewStore()
	for _, e := range entries {
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if len(s.Problems) > 0 {
		t.Fatalf("fixture facts did not apply: %+v", s.Problems)
	}
	return s
}

// clockAt is a settable clock for tests.
type clockAt struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clockAt) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clockAt) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// recJournal is a Journal that records in memory, optionally blocking.
type recJournal struct {
	mu    sync.Mutex
	got   []any
	kinds []state.Kind
	block chan struct{} // when set, Record waits for it to close
	seq   int64
}

func (j *recJournal) Record(kind state.Kind, payload any) (journal.Entry, error) {
	if j.block != nil {
		<-j.block
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.got = append(j.got, payload)
	j.kinds = append(j.kinds, kind)
	data, _ := json.Marshal(payload)
	j.seq++
	return journal.Entry{Seq: j.seq, Kind: string(kind), Data: data, At: t0}, nil
}

// fakeContainment plans and runs actions in memory.
type fakeContainment struct {
	mu      sync.Mutex
	runs    []Plan
	planned Target // the last target planned
}

func (c *fakeContainment) Plan(_ context.Context, action string, t Target) (Plan, error) {
	c.mu.Lock()
	c.planned = t
	c.mu.Unlock()
	p := Plan{ID: "plan-1", Action: action, Target: t, Undo: "iam:UpdateAccessKey Status=Active"}
	if t.Kind == TargetAccount {
		return accountSCPPlan(action, t)
	}
	if t.Kind == TargetSSOUser {
		p.Action, p.Title, p.Undo = "sso-user", "Contain IAM Identity Center user "+t.ID+" in "+t.Region, "restore-sso-user "+t.ID
		p.Calls = []state.Call{{API: "sso:DeleteAccountAssignment", Params: map[string]string{"PrincipalType": "USER", "TargetType": "AWS_ACCOUNT"}}}
		return p, nil
	}
	switch action {
	case ActionDeactivateKey:
		if t.Kind != TargetKey {
			return Plan{}, fmt.Errorf("%s is not an access key", t.ID)
		}
		p.Title = "Deactivate access key " + t.ID
		p.Calls = []state.Call{{API: "iam:UpdateAccessKey", Params: map[string]string{"UserName": "ci-deploy", "AccessKeyId": t.ID, "Status": "Inactive"}}}
	case ActionQuarantine:
		p.Title = "Quarantine " + t.ID + " (deny all, delete login profile)"
		p.Irreversible = true
		p.Undo = "cannot be undone (the login profile is deleted)"
		p.Calls = []state.Call{
			{API: "iam:PutUserPolicy", Params: map[string]string{"UserName": t.Name, "PolicyName": "warroom-deny-all",
				"PolicyDocument": `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`}},
			{API: "iam:DeleteLoginProfile", Params: map[string]string{"UserName": t.Name}, Irreversible: true},
		}
	default:
		return Plan{}, fmt.Errorf("%s does not apply to %s", action, t.ID)
	}
	return p, nil
}

// accountSCPPlan is the plan incident.Containment makes for an account
// (planAccount over aws/contain's AccountSCP), in its words: refused on
// the home account (the fixture's warroom acts from the management
// account), else the deny SCP's calls with its document.
func accountSCPPlan(action string, t Target) (Plan, error) {
	switch {
	case action != ActionContainAll:
		return Plan{}, fmt.Errorf("%s applies to a principal, not an account: on an account, contain (C) plans account-scp, the deny-all SCP", action)
	case t.ID == "123456789012":
		return Plan{}, fmt.Errorf("account-scp: account %s is the organisation's management account: service control policies do not apply to it; contain its principals instead", t.ID)
	}
	role := "arn:aws:iam::" + t.ID + ":role/OrganizationAccountAccessRole"
	doc := `{"Statement":[{"Action":"*","Condition":{"ArnNotLike":{"aws:PrincipalARN":["` + role + `"]}},"Effect":"Deny","Resource":"*","Sid":"WarroomContainment"}],"Version":"2012-10-17"}`
	return Plan{ID: "plan-scp", Action: "account-scp", Target: t, Confirm: true,
		Title:  "Attach a deny-all service control policy to account " + t.ID,
		Impact: "every principal of account " + t.ID + " except " + role + " is denied every AWS action, the account's own applications included (services calling AWS with its roles, users' keys, instances' roles): production in that account stops until the SCP is removed.",
		Calls: []state.Call{
			{API: "organizations:CreatePolicy", Params: map[string]string{"Name": "warroom-deny-" + t.ID, "Type": "SERVICE_CONTROL_POLICY",
				"Description": "warroom containment of account " + t.ID, "Content": doc}},
			{API: "organizations:AttachPolicy", Params: map[string]string{"PolicyId": "(the id CreatePolicy returns)", "TargetId": t.ID}},
		},
		Undo:     "remove-account-scp " + t.ID + " (DetachPolicy, then DeletePolicy of warroom-deny-" + t.ID + ") — C on this account's row again, or warroom contain account-scp " + t.ID + " --undo",
		Warnings: []string{"The management account is not affected; service-linked roles are not restricted by SCPs."},
	}, nil
}

func (c *fakeContainment) Run(_ context.Context, p Plan) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runs = append(c.runs, p)
	return nil
}

// newTestModel makes a model over the incident at a size.
func newTestModel(t testing.TB, opts Options, w, h int) (*Model, *clockAt) {
	t.Helper()
	clk := &clockAt{t: t0}
	if opts.Store == nil {
		opts.Store = storeOf(t, incident(t))
	}
	opts.Now = clk.now
	opts.NoTick = true
	if opts.Theme == "" {
		opts.Theme = "dark"
	}
	if opts.Mode == "" {
		opts.Mode = ModeLive
	}
	m := New(opts)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m, clk
}

// press sends key presses; a string of printable runes sends each rune.
func press(m *Model, keys ...tea.KeyPressMsg) tea.Cmd {
	var cmds []tea.Cmd
	for _, k := range keys {
		_, c := m.Update(k)
		cmds = append(cmds, c)
	}
	return tea.Batch(cmds...)
}

func runes(s string) []tea.KeyPressMsg {
	var out []tea.KeyPressMsg
	for _, r := range s {
		out = append(out, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	return out
}

var (
	keyEnter    = tea.KeyPressMsg{Code: tea.KeyEnter}
	keyEsc      = tea.KeyPressMsg{Code: tea.KeyEscape}
	keyTab      = tea.KeyPressMsg{Code: tea.KeyTab}
	keyShiftTab = tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	keyDown     = tea.KeyPressMsg{Code: tea.KeyDown}
	keyUp       = tea.KeyPressMsg{Code: tea.KeyUp}
	keyCtrlC    = tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	keyRight    = tea.KeyPressMsg{Code: tea.KeyRight}
	keyBack     = tea.KeyPressMsg{Code: tea.KeyBackspace}
)

func key1(r rune) tea.KeyPressMsg { return tea.KeyPressMsg{Code: r, Text: string(r)} }

// exec runs a Cmd and feeds back what it returns (batches included), once.
func exec(m *Model, c tea.Cmd) []tea.Msg {
	if c == nil {
		return nil
	}
	msg := c()
	var out []tea.Msg
	switch msg := msg.(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			out = append(out, exec(m, c)...)
		}
		return out
	case nil:
		return nil
	}
	m.Update(msg)
	return append(out, msg)
}
