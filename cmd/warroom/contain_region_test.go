package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// wrappedHyphen is a line break after a hyphen, as the error box wraps.
var wrappedHyphen = regexp.MustCompile(`-\s*\n\s*`)

// instanceStates reads instances back through the SDK as the responder.
func instanceStates(t *testing.T, d *readDrill, region string, ids []string) map[string]string {
	t.Helper()
	out, err := ec2.NewFromConfig(d.cfg(d.sim.Responder(), region)).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	st := map[string]string{}
	for _, r := range out.Reservations {
		for _, i := range r.Instances {
			st[aws.ToString(i.InstanceId)] = string(i.State.Name)
		}
	}
	return st
}

// TestContainFindsTheRegion: a wrong or missing --region no longer turns
// into "not found (gone)" and exit 0: the action acts where the resources
// are (the journal's Region first), and a target found nowhere, or a
// principal that does not exist, is exit 1 with the reason.
func TestContainFindsTheRegion(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	ctx := context.Background()
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint, "--yes"}
	args := func(a ...string) []string { return append(append([]string{"contain"}, a...), base...) }

	// The attacker launches two instances in a Region the journal has not seen.
	run, err := ec2.NewFromConfig(d.cfg(d.leaked, "ca-west-1")).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
		InstanceType: ec2types.InstanceTypeP316xlarge, MinCount: aws.Int32(2), MaxCount: aws.Int32(2), DisableApiTermination: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	far := []string{aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)}
	var known string // an instance the journal saw created in eu-west-1
	for _, m := range d.made {
		if f := strings.Fields(m); f[0] == "eu-west-1" && f[1] == "ec2:instance" {
			known = f[2]
		}
	}

	t.Run("wrong region", func(t *testing.T) {
		code, out, errOut := warroomIn(t, "", args("terminate-instances", strings.Join(far, ","), "--region", "us-east-1")...)
		if code != 0 || !strings.Contains(out, "are in ca-west-1, not us-east-1") || !strings.Contains(out, "✓ holds:") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		for id, st := range instanceStates(t, d, "ca-west-1", far) {
			if st != "terminated" && st != "shutting-down" {
				t.Errorf("%s is %s", id, st)
			}
		}
	})

	t.Run("no region, found through the journal", func(t *testing.T) {
		before := len(d.sim.Calls())
		code, out, errOut := warroomIn(t, "", args("stop-instances", known)...)
		if code != 0 || !strings.Contains(out, known+" is in eu-west-1 (no Region given") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		for _, c := range d.sim.Calls()[before:] {
			if c.Operation == "DescribeRegions" {
				t.Error("the account's Regions were listed although the journal knew where the instance is")
			}
		}
		if st := instanceStates(t, d, "eu-west-1", []string{known})[known]; st != "stopped" && st != "stopping" {
			t.Errorf("%s is %s", known, st)
		}
	})

	fails := []struct {
		name string
		args []string
		want []string // in stderr
	}{
		{"fake instance", args("terminate-instances", "i-0123456789abcdef0"), []string{"not found in any of the", "us-east-1", "ca-west-1", "me-central-1"}},
		{"fake instance, region given", args("stop-instances", "i-0123456789abcdef0", "--region", "eu-west-1"), []string{"not found in any of the", "eu-west-1", "ca-west-1"}},
		{"fake spot request", args("cancel-spot", "sir-0123abcd"), []string{"not found in any of the", "us-east-1"}},
		{"fake function", args("delete-function", "nosuchfunction", "--region", "us-east-1"), []string{"not found in any of the", "ca-west-1"}},
		{"key pair in two Regions", args("delete-key-pair", "kali"), []string{"exists in 2 Regions", "ap-southeast-1", "eu-west-1", "--region"}},
		{"missing user's password", args("delete-login-profile", "user/doesnotexist"), []string{"iam:GetUser", "NoSuchEntity", "doesnotexist"}},
		{"missing user's MFA", args("remove-mfa", "mfa/doesnotexist"), []string{"iam:ListMFADevices", "NoSuchEntity"}},
		{"missing role's sessions", args("revoke-sessions", "role/doesnotexist"), []string{"iam:GetRole", "NoSuchEntity"}},
		{"teardown of a missing user", args("teardown-user", "user/doesnotexist"), []string{"iam:GetUser", "NoSuchEntity"}},
		{"tag a missing user", args("tag", "user/doesnotexist"), []string{"iam:GetUser", "NoSuchEntity"}},
		{"tag what cannot be tagged", args("tag", "bucket/loot"), []string{"cannot tag bucket/loot"}},
	}
	for _, tt := range fails {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := warroomIn(t, "", tt.args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			// The error box wraps long lines, splitting Region names at
			// their hyphens: read it as one line.
			flat := strings.Join(strings.Fields(wrappedHyphen.ReplaceAllString(errOut, "-")), " ")
			for _, w := range tt.want {
				if !strings.Contains(flat, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(out, "already in effect") || strings.Contains(out, "✓") {
				t.Errorf("stdout claims success:\n%s", out)
			}
		})
	}

	t.Run("tag a role", func(t *testing.T) {
		code, out, errOut := warroomIn(t, "", args("tag", "role/IncidentResponse")...)
		if code != 0 || !strings.Contains(out, "iam:TagRole") || !strings.Contains(out, "✓ holds:") {
			t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
		}
		r, err := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("IncidentResponse")})
		if err != nil {
			t.Fatal(err)
		}
		tagged := false
		for _, tg := range r.Role.Tags {
			tagged = tagged || aws.ToString(tg.Key) == "warroom-incident" && aws.ToString(tg.Value) != ""
		}
		if !tagged {
			t.Errorf("role IncidentResponse carries no incident tag: %v", r.Role.Tags)
		}
	})

	// Nothing that failed was journaled as an action.
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.Actions {
		if strings.Contains(a.Intent.Target, "doesnotexist") || strings.Contains(a.Intent.Target, "i-0123456789abcdef0") {
			t.Errorf("journaled an action on a target that does not exist: %s %s", a.Intent.Action, a.Intent.Target)
		}
	}
}
