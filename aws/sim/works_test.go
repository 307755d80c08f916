package sim

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestWorks: the drill's judgement of whether a credential still works
// (the debrief's count) is what a real call gets: a session token of a
// user whose sessions were revoked is refused though it authenticates; a
// deactivated key is refused; an active key works; and asking records
// nothing.
func TestWorks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	if err := e.sim.AddUser("victim"); err != nil {
		t.Fatal(err)
	}
	key, err := e.sim.AddKey("victim")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.sts(key, "us-east-1").GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	tok := Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}
	call := func(c Credentials) error {
		_, err := ec2.NewFromConfig(e.cfg(c, "us-east-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		return err
	}
	agree := func(what string, c Credentials, want bool) {
		t.Helper()
		n := len(e.sim.Records())
		works, why := e.sim.Works(c.AccessKeyID, "ec2:DescribeInstances")
		if len(e.sim.Records()) != n {
			t.Errorf("%s: Works recorded a call", what)
		}
		real := call(c)
		if works != want || (real == nil) != want {
			t.Errorf("%s: Works %v (%s), a real call %v; want works=%v", what, works, why, real, want)
		}
	}
	agree("active key", key, true)
	agree("session token", tok, true)
	// Revoke the user's older sessions, as warroom's playbook does.
	e.clock.Advance(2e9)
	revoke := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"` +
		e.sim.Now().UTC().Format("2006-01-02T15:04:05Z") + `"}}}]}`
	if _, err := e.iam(e.sim.Responder()).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("victim"),
		PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(revoke)}); err != nil {
		t.Fatal(err)
	}
	agree("revoked session token", tok, false)
	if _, err := e.iam(e.sim.Responder()).UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("victim"),
		AccessKeyId: aws.String(key.AccessKeyID), Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	agree("deactivated key", key, false)
	if works, _ := e.sim.Works("AKIANOSUCHKEY0000000", "ec2:DescribeInstances"); works {
		t.Error("an unknown key works")
	}
}
