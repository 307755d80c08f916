package contain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/warroom-ir/warroom/aws/sim"
)

// farRegion is where the attacker goes: an opt-in Region, not the home one.
const farRegion = "ca-west-1"

// attacker is an outside SDK client of the drill holding an admin key.
type attacker struct {
	d   *drill
	key sim.Credentials
}

func newAttacker(t *testing.T, d *drill) *attacker {
	t.Helper()
	if err := d.sim.AddUser("ops-admin"); err != nil {
		t.Fatal(err)
	}
	if err := d.sim.AttachUserPolicy("ops-admin", "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	return &attacker{d: d, key: must(d.sim.AddKey("ops-admin"))(t)}
}

func (a *attacker) ec2(region string) *ec2.Client { return ec2.NewFromConfig(a.d.cfg(a.key, region)) }

// launch runs n protected instances in region and returns their ids.
func (a *attacker) launch(t *testing.T, region string, n int32) []string {
	t.Helper()
	out := must(a.ec2(region).RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String("ami-0a4e637babb7b0a86"),
		InstanceType: ec2types.InstanceTypeP316xlarge, MinCount: aws.Int32(n), MaxCount: aws.Int32(n),
		DisableApiTermination: aws.Bool(true), DisableApiStop: aws.Bool(true)}))(t)
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	return ids
}

// states reads the instances' states back through the SDK, as the responder.
func (d *drill) states(t *testing.T, region string, ids []string) map[string]string {
	t.Helper()
	out := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), region)).DescribeInstances(context.Background(),
		&ec2.DescribeInstancesInput{InstanceIds: ids}))(t)
	st := map[string]string{}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			st[aws.ToString(i.InstanceId)] = string(i.State.Name)
		}
	}
	return st
}

// TestRegionalActionsActWhereTheResourceIs: given the wrong Region, or none,
// an action finds where the attacker's resources are, acts there, says so in
// its plan, journals that Region, and verifies there; the resources really
// are stopped, terminated, cancelled or deleted.
func TestRegionalActionsActWhereTheResourceIs(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		region string // what the responder gave
		// plant makes the resource as the attacker; act builds the action.
		act func(t *testing.T, d *drill, a *attacker) (Action, func(t *testing.T))
	}{
		{name: "terminate, wrong Region", region: "us-east-1", act: func(t *testing.T, d *drill, a *attacker) (Action, func(t *testing.T)) {
			ids := a.launch(t, farRegion, 2)
			return &StopInstances{Region: "us-east-1", IDs: ids, Terminate: true}, func(t *testing.T) {
				for id, st := range d.states(t, farRegion, ids) {
					if st != "terminated" && st != "shutting-down" {
						t.Errorf("%s is %s in %s", id, st, farRegion)
					}
				}
			}
		}},
		{name: "stop, no Region", act: func(t *testing.T, d *drill, a *attacker) (Action, func(t *testing.T)) {
			ids := a.launch(t, farRegion, 3)
			return &StopInstances{IDs: ids}, func(t *testing.T) {
				for id, st := range d.states(t, farRegion, ids) {
					if st != "stopped" && st != "stopping" {
						t.Errorf("%s is %s in %s", id, st, farRegion)
					}
				}
			}
		}},
		{name: "cancel spot, wrong Region", region: "eu-west-1", act: func(t *testing.T, d *drill, a *attacker) (Action, func(t *testing.T)) {
			out := must(a.ec2(farRegion).RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{Type: ec2types.SpotInstanceTypePersistent,
				InstanceCount: aws.Int32(1), LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-0a4e637babb7b0a86"),
					InstanceType: ec2types.InstanceTypeP316xlarge}}))(t)
			id := aws.ToString(out.SpotInstanceRequests[0].SpotInstanceRequestId)
			return &CancelSpot{Region: "eu-west-1", IDs: []string{id}}, func(t *testing.T) {
				got := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), farRegion)).DescribeSpotInstanceRequests(ctx,
					&ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: []string{id}}))(t)
				if st := got.SpotInstanceRequests[0].State; st != ec2types.SpotInstanceStateCancelled && st != ec2types.SpotInstanceStateClosed {
					t.Errorf("spot request %s is %s", id, st)
				}
			}
		}},
		{name: "delete key pair, wrong Region", region: "us-east-1", act: func(t *testing.T, d *drill, a *attacker) (Action, func(t *testing.T)) {
			must(a.ec2(farRegion).ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("kali"), PublicKeyMaterial: []byte(attackerPub)}))(t)
			return &DeleteKeyPair{Region: "us-east-1", KeyName: "kali"}, func(t *testing.T) {
				out := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), farRegion)).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}))(t)
				if len(out.KeyPairs) != 0 {
					t.Errorf("key pairs left in %s: %v", farRegion, out.KeyPairs)
				}
			}
		}},
		{name: "delete function, no Region", act: func(t *testing.T, d *drill, a *attacker) (Action, func(t *testing.T)) {
			if err := d.sim.AddRole("lambda-exec", 0); err != nil {
				t.Fatal(err)
			}
			lm := lambda.NewFromConfig(d.cfg(a.key, farRegion))
			must(lm.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("log-forwarder"), Runtime: lambdatypes.RuntimePython312,
				Role: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/lambda-exec", d.sim.AccountID())), Handler: aws.String("index.handler"),
				Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04import os")}}))(t)
			return &DeleteFunction{Function: "log-forwarder"}, func(t *testing.T) {
				out := must(lm.ListFunctions(ctx, &lambda.ListFunctionsInput{}))(t)
				if len(out.Functions) != 0 {
					t.Errorf("functions left in %s: %d", farRegion, len(out.Functions))
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDrill(t)
			a := newAttacker(t, d)
			act, check := tt.act(t, d, a)
			o, err := d.runner.Run(ctx, act, RunOptions{})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			want := farRegion + ", not " + tt.region
			if tt.region == "" {
				want = "in " + farRegion + " (no Region given"
			}
			if !slices.ContainsFunc(o.Plan.Findings, func(f string) bool { return strings.Contains(f, want) }) {
				t.Errorf("the plan does not say where the resource is (%q): %q", want, o.Plan.Findings)
			}
			for _, c := range o.Plan.Calls {
				if c.Region != farRegion {
					t.Errorf("call %s sent to %q, want %s", c.API, c.Region, farRegion)
				}
			}
			if !o.Result.OK || o.Result.Already || o.Verify == nil || !o.Verify.Holds {
				t.Fatalf("result ok=%v already=%v err=%q verify=%+v", o.Result.OK, o.Result.Already, o.Result.Error, o.Verify)
			}
			check(t)
			if got := d.store(t).Action(o.ActionID); got == nil || got.Intent.Region != farRegion {
				t.Errorf("the journal's intent does not name %s: %+v", farRegion, got)
			}
		})
	}
}

// TestLocateUsesTheJournalFirst: with a locator that knows the Region, the
// action reads that Region and never lists the account's Regions.
func TestLocateUsesTheJournalFirst(t *testing.T) {
	d := newDrill(t)
	a := newAttacker(t, d)
	ids := a.launch(t, farRegion, 1)
	var asked []string
	d.env.Locate = func(kind Kind, id string) []string {
		asked = append(asked, string(kind)+" "+id)
		return []string{"eu-west-1", farRegion}
	}
	before := len(d.sim.Calls())
	p, err := d.runner.Plan(context.Background(), &StopInstances{Region: "us-east-1", IDs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(asked, []string{"instances " + ids[0]}) {
		t.Errorf("locator asked %q", asked)
	}
	var regions []string
	for _, c := range d.sim.Calls()[before:] {
		if c.Operation == "DescribeRegions" {
			t.Error("DescribeRegions was called although the journal knew the Region")
		}
		if c.Operation == "DescribeInstances" && !slices.Contains(regions, c.Region) {
			regions = append(regions, c.Region)
		}
	}
	if !slices.Equal(regions, []string{"us-east-1", "eu-west-1", farRegion}) {
		t.Errorf("DescribeInstances in %v, want us-east-1, eu-west-1, %s", regions, farRegion)
	}
	if p.Target.Region != farRegion {
		t.Errorf("plan Region %q", p.Target.Region)
	}
}

// TestRegionalActionsOnMissingResourcesFail: an id or name that is nowhere
// fails, naming every Region looked in; nothing is journaled as done.
func TestRegionalActionsOnMissingResourcesFail(t *testing.T) {
	d := newDrill(t)
	const fake = "i-0123456789abcdef0"
	tests := []struct {
		name   string
		action Action
	}{
		{"terminate, Region given", &StopInstances{Region: "us-east-1", IDs: []string{fake}, Terminate: true}},
		{"stop, no Region", &StopInstances{IDs: []string{fake}}},
		{"cancel spot", &CancelSpot{Region: "us-east-1", IDs: []string{"sir-0123abcd"}}},
		{"delete key pair", &DeleteKeyPair{Region: "us-east-1", KeyName: "nosuchkey"}},
		{"delete function", &DeleteFunction{Function: "nosuchfunction"}},
		{"tag", &Tag{Region: "us-east-1", IDs: []string{fake}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := d.runner.Run(context.Background(), tt.action, RunOptions{})
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("err = %v (outcome %+v), want ErrNotFound", err, o)
			}
			for _, r := range []string{"us-east-1", farRegion, "ap-southeast-3", "me-central-1"} {
				if !strings.Contains(err.Error(), r) {
					t.Errorf("error does not name %s: %v", r, err)
				}
			}
		})
	}
	if n := len(d.store(t).Actions); n != 0 {
		t.Errorf("%d actions journaled for targets that do not exist", n)
	}
}

// TestInstancesInSeveralRegionsAreRefused: ids spread over Regions are
// refused, naming each id's Region, and nothing is stopped.
func TestInstancesInSeveralRegionsAreRefused(t *testing.T) {
	d := newDrill(t)
	a := newAttacker(t, d)
	far := a.launch(t, farRegion, 1)
	near := a.launch(t, "eu-west-1", 1)
	_, err := d.runner.Run(context.Background(), &StopInstances{IDs: append(slices.Clone(far), near...)}, RunOptions{})
	if err == nil || !strings.Contains(err.Error(), far[0]+" in "+farRegion) || !strings.Contains(err.Error(), near[0]+" in eu-west-1") ||
		!strings.Contains(err.Error(), "once per Region") {
		t.Fatalf("err = %v, want a refusal naming each instance's Region", err)
	}
	if st := d.states(t, farRegion, far)[far[0]]; st != "running" {
		t.Errorf("%s is %s", far[0], st)
	}
	if st := d.states(t, "eu-west-1", near)[near[0]]; st != "running" {
		t.Errorf("%s is %s", near[0], st)
	}
}

// TestTagTargets: tag tags roles (read back through the SDK), finds
// instances in their Region, fails on a missing user and refuses what it
// cannot tag.
func TestTagTargets(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	a := newAttacker(t, d)
	if err := d.sim.AddRole("x", 0); err != nil {
		t.Fatal(err)
	}
	ids := a.launch(t, farRegion, 1)
	tag := &Tag{Region: "us-east-1", IDs: []string{"role/x", ids[0], "user/ops-admin"}}
	o, err := d.runner.Run(ctx, tag, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := apis(o.Plan.Calls); !slices.Equal(got, []string{"ec2:CreateTags", "iam:TagUser", "iam:TagRole"}) {
		t.Errorf("calls %v", got)
	}
	if !o.Result.OK || !o.Verify.Holds {
		t.Fatalf("result %+v verify %+v", o.Result, o.Verify)
	}
	im := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	role := must(im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("x")}))(t)
	if !slices.ContainsFunc(role.Role.Tags, func(t iamtypes.Tag) bool {
		return aws.ToString(t.Key) == TagKey && aws.ToString(t.Value) == "wr-test-incident"
	}) {
		t.Errorf("role x carries no incident tag: %v", role.Role.Tags)
	}
	in := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), farRegion)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}))(t)
	if !slices.ContainsFunc(in.Reservations[0].Instances[0].Tags, func(t ec2types.Tag) bool { return aws.ToString(t.Key) == TagKey }) {
		t.Errorf("instance %s carries no incident tag", ids[0])
	}

	_, err = d.runner.Run(ctx, &Tag{IDs: []string{"user/doesnotexist"}}, RunOptions{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "iam:GetUser") || !strings.Contains(err.Error(), "NoSuchEntity") {
		t.Errorf("tag of a missing user: %v, want a not-found error naming iam:GetUser", err)
	}
	_, err = d.runner.Run(ctx, &Tag{IDs: []string{"role/nosuchrole"}}, RunOptions{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "iam:GetRole") {
		t.Errorf("tag of a missing role: %v, want a not-found error naming iam:GetRole", err)
	}
	_, err = d.runner.Run(ctx, &Tag{IDs: []string{"bucket/loot", "sg-0123abcd"}}, RunOptions{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "bucket/loot, sg-0123abcd") {
		t.Errorf("tag of what it cannot tag: %v, want a refusal naming them", err)
	}
}

// TestActionsOnMissingPrincipalsFail: every action on a user, role or key
// that does not exist fails with the call that said so, and journals
// nothing; none is "already in effect".
func TestActionsOnMissingPrincipalsFail(t *testing.T) {
	d := newDrill(t)
	if err := d.sim.AddUser("alice"); err != nil {
		t.Fatal(err)
	}
	const ghostKey = "AKIAZZZZZZZZZZZZZZZZ"
	tests := []struct {
		name     string
		action   Action
		call     string // the call named in the error
		notFound bool   // errors.Is(err, ErrNotFound)
	}{
		{"deactivate unknown key", &SetKeyStatus{Key: ghostKey}, "iam:GetAccessKeyLastUsed", false},
		{"deactivate a key alice does not hold", &SetKeyStatus{Key: ghostKey, User: "alice"}, "iam:ListAccessKeys", true},
		{"deactivate a key of a missing user", &SetKeyStatus{Key: ghostKey, User: "doesnotexist"}, "iam:ListAccessKeys", true},
		{"delete unknown key", &DeleteKey{Key: ghostKey, User: "alice"}, "iam:ListAccessKeys", true},
		{"rotate unknown key", &RotateKey{Key: ghostKey, User: "alice"}, "iam:ListAccessKeys", true},
		{"revoke sessions of a missing role", &RevokeSessions{Kind: KindRole, Principal: "doesnotexist"}, "iam:GetRole", true},
		{"revoke sessions of a missing user", &RevokeSessions{Kind: KindUser, Principal: "doesnotexist"}, "iam:GetUser", true},
		{"quarantine a missing user", &Quarantine{Kind: KindUser, Principal: "doesnotexist"}, "iam:GetUser", true},
		{"quarantine a missing role", &Quarantine{Kind: KindRole, Principal: "doesnotexist"}, "iam:GetRole", true},
		{"unquarantine a missing user", NewUnquarantine(KindUser, "doesnotexist"), "iam:GetUser", true},
		{"delete login profile of a missing user", &DeleteLoginProfile{User: "doesnotexist"}, "iam:GetUser", true},
		{"remove MFA of a missing user", &RemoveMFA{User: "doesnotexist"}, "iam:ListMFADevices", true},
		{"tear down a missing user", &TeardownUser{User: "doesnotexist"}, "iam:GetUser", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := d.runner.Run(context.Background(), tt.action, RunOptions{})
			if err == nil {
				t.Fatalf("no error; outcome already=%v verify=%+v", o.Result.Already, o.Verify)
			}
			if !strings.Contains(err.Error(), tt.call) {
				t.Errorf("error does not name %s: %v", tt.call, err)
			}
			if tt.notFound && !errors.Is(err, ErrNotFound) {
				t.Errorf("err = %v, want ErrNotFound", err)
			}
		})
	}
	if n := len(d.store(t).Actions); n != 0 {
		t.Errorf("%d actions journaled for targets that do not exist", n)
	}
	// A user that exists and has no console password is already in effect.
	o, err := d.runner.Run(context.Background(), &DeleteLoginProfile{User: "alice"}, RunOptions{})
	if err != nil || !o.Result.Already || !o.Verify.Holds {
		t.Errorf("alice without a password: err=%v outcome=%+v", err, o)
	}
}
