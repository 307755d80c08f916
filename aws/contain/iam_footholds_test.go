package contain

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
)

// newStrictDrill is newDrill on a drill that evaluates Allow statements
// (sim.Options.ImplicitDeny), so that taking a granting policy away is
// seen in what a key can still do.
func newStrictDrill(t *testing.T) *drill {
	t.Helper()
	clock := sim.NewManualClock(time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour))
	s := sim.New(sim.Options{Seed: 11, Clock: clock, ImplicitDeny: true})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	d := &drill{sim: s, clock: clock, endpoint: srv.URL, log: &bytes.Buffer{}}
	d.path = filepath.Join(t.TempDir(), "journal.jsonl")
	d.connect(t, s.Responder(), false)
	return d
}

const (
	adminARN    = "arn:aws:iam::aws:policy/AdministratorAccess"
	outsideAcct = "999988887777"
	allowAll    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// footholds is what an attacker with a leaked administrator key planted
// in IAM, through the SDK.
type footholds struct {
	goodTrust   string // the role deploy's trust before the attack
	backdoor    string // its trust after
	outside     sim.Credentials
	member      sim.Credentials // carol's key: admin only through group admins
	inlineUser  sim.Credentials // eve's key: admin only through her inline policy
	createdRole string          // a role the attacker created, admin attached
}

func plant(t *testing.T, d *drill) *footholds {
	t.Helper()
	ctx := context.Background()
	s := d.sim
	acct := s.AccountID()
	f := &footholds{createdRole: "svc-backup-automation",
		goodTrust: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}]}`}
	f.backdoor = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"},` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + outsideAcct + `:root"},"Action":"sts:AssumeRole"}]}`
	for _, u := range []string{"leaky", "carol", "eve"} {
		if err := s.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AttachUserPolicy("leaky", adminARN); err != nil {
		t.Fatal(err)
	}
	leaked := must(s.AddKey("leaky"))(t)
	f.member = must(s.AddKey("carol"))(t)
	f.inlineUser = must(s.AddKey("eve"))(t)
	f.outside = must(s.AddOutsideKey(outsideAcct, "mallory"))(t)
	if err := s.AddRole("deploy", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.AddGroup("admins"); err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(time.Hour)
	im := iam.NewFromConfig(d.cfg(leaked, "us-east-1"))
	must(im.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: aws.String(f.backdoor)}))(t)
	must(im.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(adminARN)}))(t)
	must(im.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("carol")}))(t)
	must(im.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("eve"), PolicyName: aws.String("ops"), PolicyDocument: aws.String(allowAll)}))(t)
	must(im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(f.createdRole), AssumeRolePolicyDocument: aws.String(f.backdoor)}))(t)
	must(im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(f.createdRole), PolicyArn: aws.String(adminARN)}))(t)
	d.clock.Advance(time.Minute)
	return f
}

// admin reports whether c may call iam:ListUsers.
func (d *drill) admin(c sim.Credentials) bool {
	_, err := iam.NewFromConfig(d.cfg(c, "us-east-1")).ListUsers(context.Background(), &iam.ListUsersInput{})
	return err == nil
}

// assume assumes role with c; ok is false when AssumeRole is refused.
func (d *drill) assume(t *testing.T, c sim.Credentials, role string) (sim.Credentials, bool) {
	t.Helper()
	out, err := sts.NewFromConfig(d.cfg(c, "us-east-1")).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + d.sim.AccountID() + ":role/" + role), RoleSessionName: aws.String("s-" + time.Now().Format("150405.000"))})
	if err != nil {
		return sim.Credentials{}, false
	}
	return sim.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(out.Credentials.SessionToken)}, true
}

// TestIAMFootholdActions runs each foothold action on the drill through
// the Runner: plan, run, verify, a second run (already in effect), undo,
// and checks what the planted credentials can do at each point.
func TestIAMFootholdActions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		action    func(f *footholds) Action
		wantCalls []string
		// effect says whether the foothold is open, read from the drill.
		open  func(t *testing.T, d *drill, f *footholds) bool
		prior func(t *testing.T, f *footholds, prior json.RawMessage)
	}{
		{
			name:      "restore a backdoored trust",
			action:    func(f *footholds) Action { return &RestoreTrust{Role: "deploy", Document: f.goodTrust} },
			wantCalls: []string{"iam:UpdateAssumeRolePolicy"},
			open: func(t *testing.T, d *drill, f *footholds) bool {
				_, ok := d.assume(t, f.outside, "deploy")
				return ok
			},
			prior: func(t *testing.T, f *footholds, prior json.RawMessage) {
				var p TrustPrior
				if err := json.Unmarshal(prior, &p); err != nil || p.Role != "deploy" || !sameDoc(p.Document, f.backdoor) {
					t.Errorf("prior %s (%v)", prior, err)
				}
			},
		},
		{
			name: "detach a managed policy from a group",
			action: func(f *footholds) Action {
				return &DetachPolicy{Kind: KindGroup, Principal: "admins", PolicyARN: adminARN}
			},
			wantCalls: []string{"iam:DetachGroupPolicy"},
			open:      func(t *testing.T, d *drill, f *footholds) bool { return d.admin(f.member) },
		},
		{
			name:      "delete an inline user policy",
			action:    func(f *footholds) Action { return &DetachPolicy{Kind: KindUser, Principal: "eve", Inline: "ops"} },
			wantCalls: []string{"iam:DeleteUserPolicy"},
			open:      func(t *testing.T, d *drill, f *footholds) bool { return d.admin(f.inlineUser) },
			prior: func(t *testing.T, f *footholds, prior json.RawMessage) {
				var p PolicyPrior
				if err := json.Unmarshal(prior, &p); err != nil || p.Inline != "ops" || p.Kind != KindUser || !sameDoc(p.Document, allowAll) {
					t.Errorf("prior %s (%v)", prior, err)
				}
			},
		},
		{
			name: "detach a managed policy from a role the attacker created",
			action: func(f *footholds) Action {
				return &DetachPolicy{Kind: KindRole, Principal: f.createdRole, PolicyARN: adminARN}
			},
			wantCalls: []string{"iam:DetachRolePolicy"},
			open: func(t *testing.T, d *drill, f *footholds) bool {
				c, ok := d.assume(t, d.sim.Responder(), f.createdRole)
				return ok && d.admin(c)
			},
		},
		{
			name:      "remove a user from a group",
			action:    func(f *footholds) Action { return &RemoveFromGroup{User: "carol", Group: "admins"} },
			wantCalls: []string{"iam:RemoveUserFromGroup"},
			open:      func(t *testing.T, d *drill, f *footholds) bool { return d.admin(f.member) },
		},
		{
			name:      "quarantine a role the attacker created",
			action:    func(f *footholds) Action { return &Quarantine{Kind: KindRole, Principal: f.createdRole} },
			wantCalls: []string{"iam:PutRolePolicy"},
			open: func(t *testing.T, d *drill, f *footholds) bool {
				c, ok := d.assume(t, f.outside, f.createdRole)
				return ok && d.admin(c)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newStrictDrill(t)
			f := plant(t, d)
			if !tt.open(t, d, f) {
				t.Fatal("the foothold is not open before the action: the test proves nothing")
			}
			a := tt.action(f)
			p, err := d.runner.Plan(ctx, a)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			if p.Already || !slices.Equal(apis(p.Calls), tt.wantCalls) {
				t.Fatalf("plan already=%v calls %v, want %v", p.Already, apis(p.Calls), tt.wantCalls)
			}
			if p.HasIrreversible() {
				t.Error("plan is irreversible")
			}
			if v, err := a.Verify(ctx, d.env); err != nil || v.Holds {
				t.Errorf("verify before running holds=%v err=%v", v.Holds, err)
			}
			o, err := d.runner.Run(ctx, a, RunOptions{Confirmed: p})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if !o.Result.OK || o.Result.Already || o.Verify == nil || !o.Verify.Holds {
				t.Fatalf("result ok=%v already=%v err=%q verify=%+v", o.Result.OK, o.Result.Already, o.Result.Error, o.Verify)
			}
			if tt.open(t, d, f) {
				t.Fatal("the foothold is still open after the action")
			}
			if tt.prior != nil {
				tt.prior(t, f, o.Result.Prior)
			}
			// The journaled intent is enough to verify the action again.
			got := d.store(t).Action(o.ActionID)
			if got == nil {
				t.Fatal("the action is not in the journal")
			}
			re, err := FromIntent(got.Intent)
			if err != nil {
				t.Fatalf("FromIntent: %v", err)
			}
			if v, err := re.Verify(ctx, d.env); err != nil || !v.Holds || re.Name() != a.Name() {
				t.Errorf("rebuilt %s from the intent: holds=%v err=%v", re.Name(), v.Holds, err)
			}
			again, err := d.runner.Run(ctx, a, RunOptions{})
			if err != nil || !again.Result.Already || len(again.Plan.Calls) != 0 || !again.Verify.Holds {
				t.Fatalf("second run: err=%v already=%v calls=%v", err, again.Result.Already, apis(again.Plan.Calls))
			}
			undo, why := Undo(a)
			if undo == nil {
				t.Fatalf("no undo: %s", why)
			}
			uo, err := d.runner.Run(ctx, undo, RunOptions{})
			if err != nil || !uo.Result.OK || !uo.Verify.Holds {
				t.Fatalf("undo %s: err=%v result=%+v verify=%+v", undo.Name(), err, uo.Result, uo.Verify)
			}
			if v, err := a.Verify(ctx, d.env); err != nil || v.Holds {
				t.Errorf("after undo the action still holds (%v, %s)", err, v.Detail)
			}
			if !tt.open(t, d, f) {
				t.Error("after undo the foothold is not back: the undo did not restore the state")
			}
		})
	}
}

func sameDoc(a, b string) bool {
	x, err1 := normalJSON(a)
	y, err2 := normalJSON(b)
	return err1 == nil && err2 == nil && x == y
}

// TestIAMFootholdActionsOnMissingTargets: a principal that does not exist
// is an error naming the call, never "already in effect".
func TestIAMFootholdActionsOnMissingTargets(t *testing.T) {
	d := newStrictDrill(t)
	f := plant(t, d)
	tests := []struct {
		name   string
		action Action
		call   string
	}{
		{"restore-trust on a missing role", &RestoreTrust{Role: "ghost", Document: f.goodTrust}, "iam:GetRole"},
		{"detach-policy from a missing group", &DetachPolicy{Kind: KindGroup, Principal: "ghosts", PolicyARN: adminARN}, "iam:ListGroupPolicies"},
		{"detach-policy from a missing user", &DetachPolicy{Kind: KindUser, Principal: "ghost", Inline: "ops"}, "iam:ListUserPolicies"},
		{"detach-policy from a missing role", &DetachPolicy{Kind: KindRole, Principal: "ghost", PolicyARN: adminARN}, "iam:ListRolePolicies"},
		{"remove-from-group of a missing group", &RemoveFromGroup{User: "carol", Group: "ghosts"}, "iam:GetGroup"},
		{"remove-from-group of a missing user", &RemoveFromGroup{User: "ghost", Group: "admins"}, "iam:ListGroupsForUser"},
		{"quarantine a missing role", &Quarantine{Kind: KindRole, Principal: "ghost"}, "iam:GetRole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := d.runner.Run(context.Background(), tt.action, RunOptions{})
			if err == nil {
				t.Fatalf("ran: already=%v ok=%v", o.Result.Already, o.Result.OK)
			}
			if !strings.Contains(err.Error(), tt.call) || !strings.Contains(err.Error(), "NoSuchEntity") {
				t.Errorf("error %q does not name %s and NoSuchEntity", err, tt.call)
			}
		})
	}
	// A document that is not JSON is refused before anything is read.
	if _, err := d.runner.Plan(context.Background(), &RestoreTrust{Role: "deploy", Document: "{"}); err == nil {
		t.Error("restore-trust with a broken document planned")
	}
	if _, err := d.runner.Plan(context.Background(), &DetachPolicy{Kind: KindUser, Principal: "eve"}); err == nil {
		t.Error("detach-policy naming no policy planned")
	}
}

// TestGroupTargets: group targets round-trip through the journal's text.
func TestGroupTargets(t *testing.T) {
	tg := Target{Kind: KindGroup, ID: "admins"}
	if tg.String() != "group/admins" {
		t.Fatalf("String %q", tg.String())
	}
	back, err := ParseTarget(KindGroup, "group/admins", "")
	if err != nil || back.Kind != KindGroup || back.ID != "admins" {
		t.Fatalf("ParseTarget %+v %v", back, err)
	}
	if _, err := ParseTarget(KindGroup, "user/admins", ""); err == nil {
		t.Error("ParseTarget took user/ for a group")
	}
}
