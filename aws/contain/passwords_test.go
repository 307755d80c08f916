package contain

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/state"
)

// passwordUser makes user with a console password whose reset flag is
// reset, through the SDK as an outside administrator.
func passwordUser(t *testing.T, d *drill, user string, reset bool) *iam.Client {
	t.Helper()
	if err := d.sim.AddUser(user); err != nil {
		t.Fatal(err)
	}
	im := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	must(im.CreateLoginProfile(context.Background(), &iam.CreateLoginProfileInput{UserName: aws.String(user),
		Password: aws.String("Old-passw0rd-of-" + user), PasswordResetRequired: reset}))(t)
	return im
}

// resetFlag reads the flag back as an outside client.
func resetFlag(t *testing.T, im *iam.Client, user string) bool {
	t.Helper()
	lp := must(im.GetLoginProfile(context.Background(), &iam.GetLoginProfileInput{UserName: aws.String(user)}))(t)
	return lp.LoginProfile.PasswordResetRequired
}

func TestPasswordResetAgainstTheDrill(t *testing.T) {
	ctx := context.Background()
	for _, prior := range []bool{false, true} {
		d := newDrill(t)
		im := passwordUser(t, d, "alice", prior)
		a := &PasswordReset{User: "alice", Required: true}
		o, err := d.runner.Run(ctx, a, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if prior != o.Result.Already {
			t.Errorf("prior %v: already = %v", prior, o.Result.Already)
		}
		if !prior && (len(o.Plan.Calls) != 1 || o.Plan.Calls[0].API != "iam:UpdateLoginProfile" ||
			o.Plan.Calls[0].Params["PasswordResetRequired"] != "true" || o.Result.Calls[0].RequestID == "") {
			t.Errorf("plan %+v result %+v", o.Plan.Calls, o.Result)
		}
		if strings.Contains(strings.ToLower(fmtCalls(o.Plan.Calls)), "\"password\"") {
			t.Error("a password in the plan")
		}
		if !o.Verify.Holds || !resetFlag(t, im, "alice") {
			t.Fatalf("prior %v: verify %+v, account holds %v", prior, o.Verify, resetFlag(t, im, "alice"))
		}
		// The journal keeps the prior value; an undo in another process finds it.
		led, _, err := state.ReadActions(d.path)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := PriorReset(led.Actions, "alice")
		if !ok || got != prior {
			t.Errorf("PriorReset = %v %v, want %v", got, ok, prior)
		}
		// Undo puts the prior value back: false goes back to false, true stays.
		uo, err := d.runner.Run(ctx, a.Undo(), RunOptions{})
		if err != nil || !uo.Verify.Holds {
			t.Fatalf("undo: %v %+v", err, uo)
		}
		if resetFlag(t, im, "alice") != prior {
			t.Errorf("after undo the account holds %v, want %v", !prior, prior)
		}
		if uo.Plan.Action != "undo-password-reset" || prior != uo.Result.Already {
			t.Errorf("undo plan %s already %v", uo.Plan.Action, uo.Result.Already)
		}
	}
}

func TestPasswordResetErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("no console password", func(t *testing.T) {
		d := newDrill(t)
		if err := d.sim.AddUser("bob"); err != nil {
			t.Fatal(err)
		}
		_, err := d.runner.Run(ctx, &PasswordReset{User: "bob", Required: true}, RunOptions{})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "iam:GetLoginProfile: NoSuchEntity") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no such user", func(t *testing.T) {
		d := newDrill(t)
		_, err := d.runner.Run(ctx, &PasswordReset{User: "ghost", Required: true}, RunOptions{})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "iam:GetUser") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("access denied", func(t *testing.T) {
		d := newDrill(t)
		im := passwordUser(t, d, "alice", false)
		// AWS's quarantine on the responder denies iam:UpdateLoginProfile.
		if err := d.sim.AttachUserPolicy("incident-responder", "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"); err != nil {
			t.Fatal(err)
		}
		o, err := d.runner.Run(ctx, &PasswordReset{User: "alice", Required: true}, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Result.OK || !strings.Contains(o.Result.Error, "AccessDenied") || o.Verify == nil || o.Verify.Holds {
			t.Fatalf("result %+v verify %+v", o.Result, o.Verify)
		}
		if resetFlag(t, im, "alice") {
			t.Error("the flag changed though the call was denied")
		}
	})
	t.Run("throttled", func(t *testing.T) {
		d := newDrill(t)
		im := passwordUser(t, d, "alice", false)
		d.sim.ThrottleOps("UpdateLoginProfile")
		o, err := d.runner.Run(ctx, &PasswordReset{User: "alice", Required: true}, RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if o.Result.OK || !strings.Contains(o.Result.Error, "Throttling") {
			t.Fatalf("result %+v", o.Result)
		}
		d.sim.ThrottleOps()
		if resetFlag(t, im, "alice") {
			t.Error("the flag changed though the call was throttled")
		}
		o, err = d.runner.Run(ctx, &PasswordReset{User: "alice", Required: true}, RunOptions{})
		if err != nil || !o.Verify.Holds {
			t.Fatalf("after the throttle: %v %+v", err, o)
		}
	})
}

func fmtCalls(cs []state.Call) string {
	var b strings.Builder
	for _, c := range cs {
		for k, v := range c.Params {
			b.WriteString(`"` + strings.ToLower(k) + `"=` + v + ";")
		}
	}
	return b.String()
}

// TestPlaybookCompletesAWSQuarantine: AWS quarantined the leaked key's
// user (CloudTrail's record of it journaled); the credential playbook says
// what the quarantine already denies of its footholds' calls and what it
// does not, and still plans and runs every step: the key is deactivated,
// the backdoor quarantined, and the verdict read back.
func TestPlaybookCompletesAWSQuarantine(t *testing.T) {
	d := newDrill(t)
	in := compromise(t, d)
	if err := d.sim.AWSQuarantine(in.leakedUser, "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"); err != nil {
		t.Fatal(err)
	}
	d.ingest(t)
	without := newDrill(t)
	withoutIn := compromise(t, without)
	base := stepNames(planCredential(t, without, withoutIn.leaked.AccessKeyID, CredentialOptions{}))

	pb := planCredential(t, d, in.leaked.AccessKeyID, CredentialOptions{})
	if len(pb.AWSQuarantine) != 1 {
		t.Fatalf("AWSQuarantine = %+v", pb.AWSQuarantine)
	}
	q := pb.AWSQuarantine[0]
	if !q.Sighting.ByAWS || q.Sighting.User != in.leakedUser || !q.Coverage.Known ||
		!slices.Contains(q.Coverage.Denied, "iam:CreateAccessKey") || !slices.Contains(q.Coverage.NotDenied, "sts:AssumeRole") || !slices.Contains(q.Coverage.NotDenied, "ec2:ImportKeyPair") {
		t.Errorf("note %+v", q)
	}
	if !slices.ContainsFunc(pb.Notes, func(n string) bool {
		return strings.Contains(n, "not containment") && strings.Contains(n, "NOT denied: ")
	}) {
		t.Errorf("notes %q", pb.Notes)
	}
	// The quarantine changes no step.
	if got := stepNames(pb); len(got) != len(base) {
		t.Errorf("steps with the quarantine %v\nwithout %v", got, base)
	}
	if _, err := d.runner.Run(context.Background(), &SetKeyStatus{Key: in.leaked.AccessKeyID}, RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if d.works(in.leaked) {
		t.Error("the leaked key still works")
	}
}
