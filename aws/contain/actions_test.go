package contain

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

func apis(calls []state.Call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		out[i] = c.API
	}
	return out
}

// TestActionsAgainstTheDrill runs every action through plan, execute,
// verify, a second run (already in effect) and undo where there is one,
// against a fresh compromised drill account each.
func TestActionsAgainstTheDrill(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		before       func(t *testing.T, d *drill, in *incident)
		action       func(d *drill, in *incident) Action
		wantCalls    []string
		irreversible bool
		// gone: the action deletes its target, so a second run finds
		// nothing to act on and must fail (not say "already in effect").
		gone bool
		// effect checks the world after the action (and, with undone, after its undo).
		effect func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool)
	}{
		{
			name:      "deactivate key",
			action:    func(d *drill, in *incident) Action { return &SetKeyStatus{Key: in.leaked.AccessKeyID} },
			wantCalls: []string{"iam:UpdateAccessKey"},
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				if d.works(in.leaked) != undone {
					t.Errorf("leaked key works = %v, want %v", !undone, undone)
				}
			},
		},
		{
			name:      "revoke user sessions",
			action:    func(d *drill, in *incident) Action { return &RevokeSessions{Kind: KindUser, Principal: in.leakedUser} },
			wantCalls: []string{"iam:PutUserPolicy"},
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				if d.works(in.session) != undone || d.works(in.federation) != undone {
					t.Errorf("session/federation tokens work = %v/%v, want %v", d.works(in.session), d.works(in.federation), undone)
				}
				if !d.works(in.leaked) {
					t.Error("revoking sessions stopped the long-term key: it must not")
				}
				if !undone && !strings.Contains(o.Plan.Calls[0].Params["PolicyDocument"], `"aws:TokenIssueTime"`) ||
					o.Plan.Calls[0].Params["PolicyName"] != RevokePolicyName {
					t.Errorf("revoke call %v", o.Plan.Calls[0].Params)
				}
			},
		},
		{
			name:      "revoke role sessions",
			action:    func(d *drill, in *incident) Action { return &RevokeSessions{Kind: KindRole, Principal: in.role} },
			wantCalls: []string{"iam:PutRolePolicy"},
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				if d.works(in.roleCreds) != undone {
					t.Errorf("role session works = %v, want %v", !undone, undone)
				}
			},
		},
		{
			name:      "quarantine user",
			action:    func(d *drill, in *incident) Action { return &Quarantine{Kind: KindUser, Principal: in.backdoor} },
			wantCalls: []string{"iam:PutUserPolicy"},
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				if d.works(in.backdoorKey) != undone {
					t.Errorf("backdoor key works = %v, want %v", !undone, undone)
				}
			},
		},
		{
			name:      "quarantine role",
			action:    func(d *drill, in *incident) Action { return &Quarantine{Kind: KindRole, Principal: in.role} },
			wantCalls: []string{"iam:PutRolePolicy"},
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				if d.works(in.roleCreds) != undone {
					t.Errorf("role session works = %v, want %v", !undone, undone)
				}
			},
		},
		{
			name:         "delete login profile",
			action:       func(d *drill, in *incident) Action { return &DeleteLoginProfile{User: in.backdoor} },
			wantCalls:    []string{"iam:DeleteLoginProfile"},
			irreversible: true,
		},
		{
			name: "remove attacker MFA",
			action: func(d *drill, in *incident) Action {
				return &RemoveMFA{User: in.backdoor, Serials: []string{in.mfaSerial}}
			},
			wantCalls:    []string{"iam:DeactivateMFADevice", "iam:DeleteVirtualMFADevice"},
			irreversible: true,
		},
		{
			name: "delete inactive key",
			before: func(t *testing.T, d *drill, in *incident) {
				must(iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).UpdateAccessKey(context.Background(), &iam.UpdateAccessKeyInput{
					UserName: aws.String(in.leakedUser), AccessKeyId: aws.String(in.ownKey.AccessKeyID), Status: iamtypes.StatusTypeInactive}))(t)
			},
			action:       func(d *drill, in *incident) Action { return &DeleteKey{Key: in.ownKey.AccessKeyID} },
			wantCalls:    []string{"iam:DeleteAccessKey"},
			irreversible: true,
			gone:         true,
		},
		{
			name: "rotate a legitimate key",
			before: func(t *testing.T, d *drill, in *incident) {
				if err := d.sim.AddUser("alice"); err != nil {
					t.Fatal(err)
				}
				in.session = must(d.sim.AddKey("alice"))(t) // reused as "alice's old key"
			},
			action:    func(d *drill, in *incident) Action { return &RotateKey{Key: in.session.AccessKeyID} },
			wantCalls: []string{"iam:CreateAccessKey", "iam:UpdateAccessKey"},
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				if undone {
					if !d.works(in.session) {
						t.Error("the old key does not work after undo")
					}
					return
				}
				if o.NewKey == nil || o.NewKey.SecretAccessKey == "" || o.NewKey.User != "alice" {
					t.Fatalf("no new key handed back: %v", o.NewKey)
				}
				if !d.works(sim.Credentials{AccessKeyID: o.NewKey.AccessKeyID, SecretAccessKey: o.NewKey.SecretAccessKey}) {
					t.Error("the new key does not work")
				}
				if d.works(in.session) {
					t.Error("the old key still works")
				}
			},
		},
		{
			name:      "stop protected instances",
			action:    func(d *drill, in *incident) Action { return &StopInstances{Region: in.region, IDs: in.instances} },
			wantCalls: []string{"ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceAttribute", "ec2:StopInstances"},
		},
		{
			name: "terminate protected instances",
			action: func(d *drill, in *incident) Action {
				return &StopInstances{Region: in.region, IDs: in.instances, Terminate: true, Snapshot: true}
			},
			// Each instance's root volume is snapshotted for evidence first.
			wantCalls: []string{"ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceAttribute", "ec2:CreateSnapshot",
				"ec2:ModifyInstanceAttribute", "ec2:ModifyInstanceAttribute", "ec2:CreateSnapshot", "ec2:TerminateInstances"},
			irreversible: true,
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				if slices.ContainsFunc(o.Plan.Findings, func(f string) bool { return strings.Contains(f, "no evidence snapshot") }) {
					t.Errorf("findings say no snapshot could be taken: %q", o.Plan.Findings)
				}
			},
		},
		{
			name:         "cancel spot then terminate",
			action:       func(d *drill, in *incident) Action { return &CancelSpot{Region: in.spotRegion, IDs: in.spot} },
			irreversible: true,
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				got := apis(o.Plan.Calls)
				ci, ti := slices.Index(got, "ec2:CancelSpotInstanceRequests"), slices.Index(got, "ec2:TerminateInstances")
				if ci != 0 || ti >= 0 && ti < ci {
					t.Errorf("calls %v: want the cancel first, then the terminate", got)
				}
			},
		},
		{
			name:         "tear down backdoor user",
			action:       func(d *drill, in *incident) Action { return &TeardownUser{User: in.backdoor} },
			irreversible: true,
			gone:         true,
			effect: func(t *testing.T, d *drill, in *incident, o *Outcome, undone bool) {
				got := apis(o.Plan.Calls)
				if got[0] != "iam:PutUserPolicy" || got[len(got)-1] != "iam:DeleteUser" {
					t.Errorf("calls %v: want quarantine first, delete last", got)
				}
				for _, want := range []string{"iam:DeleteLoginProfile", "iam:DeleteAccessKey", "iam:DeactivateMFADevice", "iam:DetachUserPolicy", "iam:DeleteUserPolicy"} {
					if !slices.Contains(got, want) {
						t.Errorf("no %s in %v", want, got)
					}
				}
				var prior UserPrior
				if err := json.Unmarshal(o.Result.Prior, &prior); err != nil {
					t.Fatal(err)
				}
				if prior.Name != in.backdoor || len(prior.Keys) != 1 || prior.Keys[0].ID != in.backdoorKey.AccessKeyID ||
					prior.LoginProfile == nil || len(prior.MFA) != 1 || len(prior.Attached) != 1 {
					t.Errorf("prior state incomplete: %+v", prior)
				}
				if d.works(in.backdoorKey) {
					t.Error("the backdoor key still works")
				}
			},
		},
		{
			name:         "delete key pair",
			action:       func(d *drill, in *incident) Action { return &DeleteKeyPair{Region: in.region, KeyName: "kali"} },
			wantCalls:    []string{"ec2:DeleteKeyPair"},
			irreversible: true,
			gone:         true,
		},
		{
			name:         "delete function",
			action:       func(d *drill, in *incident) Action { return &DeleteFunction{Region: in.region, Function: in.function} },
			wantCalls:    []string{"lambda:DeleteFunction"},
			irreversible: true,
			gone:         true,
		},
		{
			name: "tag what was touched",
			action: func(d *drill, in *incident) Action {
				return &Tag{Region: in.region, IDs: append(slices.Clone(in.instances), "user/"+in.backdoor)}
			},
			wantCalls: []string{"ec2:CreateTags", "iam:TagUser"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDrill(t)
			in := compromise(t, d)
			if tt.before != nil {
				tt.before(t, d, in)
			}
			a := tt.action(d, in)
			p, err := d.runner.Plan(ctx, a)
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			if p.Already {
				t.Fatalf("plan says already in effect before anything ran: %v", p.Findings)
			}
			if tt.wantCalls != nil && !slices.Equal(apis(p.Calls), tt.wantCalls) {
				t.Errorf("plan calls %v, want %v", apis(p.Calls), tt.wantCalls)
			}
			if p.HasIrreversible() != tt.irreversible {
				t.Errorf("irreversible = %v, want %v", p.HasIrreversible(), tt.irreversible)
			}
			if v, err := a.Verify(ctx, d.env); err != nil || v.Holds {
				t.Errorf("verify before running holds=%v err=%v (%s)", v.Holds, err, v.Detail)
			}
			o, err := d.runner.Run(ctx, a, RunOptions{Confirmed: p})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if !o.Result.OK || o.Result.Already || o.Verify == nil || !o.Verify.Holds {
				t.Fatalf("result ok=%v already=%v err=%q verify=%+v", o.Result.OK, o.Result.Already, o.Result.Error, o.Verify)
			}
			for _, c := range o.Result.Calls {
				if c.RequestID == "" {
					t.Errorf("call %s has no request id", c.API)
				}
			}
			if tt.effect != nil {
				tt.effect(t, d, in, o, false)
			}
			if got := d.store(t).Action(o.ActionID); got == nil || got.Outcome() != state.OutcomeVerified || len(got.Intent.Plan) != len(p.Calls) {
				t.Errorf("journal does not hold the verified action: %+v", got)
			}
			if tt.gone {
				// Twice: the target is gone, and the action says so by failing.
				if _, err := d.runner.Run(ctx, a, RunOptions{}); !errors.Is(err, ErrNotFound) {
					t.Errorf("second run on a deleted target: err = %v, want ErrNotFound", err)
				}
			} else {
				// Twice: no harm, and it says so.
				again, err := d.runner.Run(ctx, a, RunOptions{})
				if err != nil {
					t.Fatalf("second run: %v", err)
				}
				if !again.Result.Already || len(again.Plan.Calls) != 0 || !again.Verify.Holds {
					t.Errorf("second run: already=%v calls=%v verify=%+v", again.Result.Already, apis(again.Plan.Calls), again.Verify)
				}
				if got := d.store(t).Action(again.ActionID); got == nil || got.Result == nil || !got.Result.Already {
					t.Errorf("journal does not say already in effect: %+v", got)
				}
			}
			undo, why := Undo(a)
			if tt.irreversible {
				if undo != nil || why != CannotUndo || p.Undo != CannotUndo {
					t.Errorf("irreversible action offers undo %v / %q / %q", undo, why, p.Undo)
				}
				return
			}
			if undo == nil {
				return // stop and tag: undone by hand, as their Undo text says
			}
			uo, err := d.runner.Run(ctx, undo, RunOptions{})
			if err != nil || !uo.Result.OK || !uo.Verify.Holds {
				t.Fatalf("undo %s: err=%v result=%+v verify=%+v", undo.Name(), err, uo.Result, uo.Verify)
			}
			if v, err := a.Verify(ctx, d.env); err != nil || v.Holds {
				t.Errorf("after undo the action still holds (%v, %s)", err, v.Detail)
			}
			if tt.effect != nil {
				tt.effect(t, d, in, uo, true)
			}
		})
	}
}

func TestDeleteKeyRefusesAnActiveKey(t *testing.T) {
	d := newDrill(t)
	in := compromise(t, d)
	_, err := d.runner.Run(context.Background(), &DeleteKey{Key: in.leaked.AccessKeyID}, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "is active") {
		t.Fatalf("err = %v, want a refusal of an active key", err)
	}
	if !d.works(in.leaked) {
		t.Error("the key was touched")
	}
}

func TestRevokeRefusals(t *testing.T) {
	d := newDrill(t)
	if err := d.sim.AddRole("AWSReservedSSO_AdministratorAccess_0123456789abcdef", 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		action Action
		want   string
	}{
		{"root", &RevokeSessions{Kind: KindRoot, Principal: "root"}, "root user"},
		{"identity center role", &RevokeSessions{Kind: KindRole, Principal: "AWSReservedSSO_AdministratorAccess_0123456789abcdef"}, "Identity Center"},
		{"temporary key", &SetKeyStatus{Key: "ASIAEXAMPLEEXAMPLE01"}, "temporary key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.runner.Run(context.Background(), tt.action, RunOptions{})
			if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrUnsupported saying %q", err, tt.want)
			}
		})
	}
	// Service-linked roles are recognised by their path (the drill cannot
	// create one).
	if why := cannotRevoke(KindRole, "AWSServiceRoleForSupport", "/aws-service-role/support.amazonaws.com/"); !strings.Contains(why, "service-linked") {
		t.Errorf("service-linked role: %q", why)
	}
	if why := cannotRevoke(KindRole, "deploy", "/"); why != "" {
		t.Errorf("plain role refused: %q", why)
	}
}

func TestRevokeFallsBackToManagedPolicy(t *testing.T) {
	d := newDrill(t)
	in := compromise(t, d)
	ctx := context.Background()
	// Fill the user's inline quota close to its 2,048 characters.
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` +
		strings.Repeat("a", 1800) + `/*"]}]}`
	must(iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).PutUserPolicy(ctx, &iam.PutUserPolicyInput{
		UserName: aws.String(in.leakedUser), PolicyName: aws.String("reports-bucket"), PolicyDocument: aws.String(big)}))(t)
	a := &RevokeSessions{Kind: KindUser, Principal: in.leakedUser}
	o, err := d.runner.Run(ctx, a, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := apis(o.Plan.Calls); !slices.Equal(got, []string{"iam:CreatePolicy", "iam:AttachUserPolicy"}) {
		t.Fatalf("calls %v, want the customer-managed fallback", got)
	}
	if !o.Result.OK || !o.Verify.Holds {
		t.Fatalf("result %+v verify %+v", o.Result, o.Verify)
	}
	if d.works(in.session) || d.works(in.federation) {
		t.Error("temporary credentials still work after the managed revoke")
	}
	again, err := d.runner.Run(ctx, a, RunOptions{})
	if err != nil || !again.Result.Already {
		t.Errorf("second run: %v already=%v", err, again.Result.Already)
	}
	uo, err := d.runner.Run(ctx, a.Undo(), RunOptions{})
	if err != nil || !uo.Verify.Holds || !slices.Equal(apis(uo.Plan.Calls), []string{"iam:DetachUserPolicy", "iam:DeletePolicy"}) {
		t.Fatalf("undo: %v %v %+v", err, apis(uo.Plan.Calls), uo.Verify)
	}
	if !d.works(in.session) {
		t.Error("session token does not work after the revoke was removed")
	}
}
