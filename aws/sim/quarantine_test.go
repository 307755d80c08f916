package sim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestAWSQuarantine: AWS attaches its quarantine policy to a user, CloudTrail
// records the attachment as AWS's ("AWS Internal"), the policy reads back
// through the API as AWS publishes it, and the user's key is then denied
// exactly what the policy lists, with an explicit deny, and nothing else.
func TestAWSQuarantine(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	leaked := newUserKey(t, env, "legacy-reporting", "arn:aws:iam::aws:policy/AdministratorAccess")
	if err := env.sim.AWSQuarantine("legacy-reporting", quarantineV3); err != nil {
		t.Fatal(err)
	}
	if err := env.sim.AWSQuarantine("legacy-reporting", "arn:aws:iam::aws:policy/AdministratorAccess"); err == nil {
		t.Error("AWSQuarantine attached a policy that is not a quarantine")
	}
	admin := env.sim.Responder()
	att, err := env.iam(admin).ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("legacy-reporting")})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range att.AttachedPolicies {
		found = found || aws.ToString(p.PolicyArn) == quarantineV3
	}
	if !found {
		t.Fatalf("attached: %+v", att.AttachedPolicies)
	}
	v, err := env.iam(admin).GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(quarantineV3), VersionId: aws.String("v1")})
	if err != nil {
		t.Fatal(err)
	}
	if doc := aws.ToString(v.PolicyVersion.Document); !strings.Contains(doc, "mediapackagev2%3ACreateChannel") && !strings.Contains(doc, "mediapackagev2:CreateChannel") {
		t.Errorf("document lacks the last action of AWS's list: %s", doc)
	}
	// The record: AttachUserPolicy by AWS, from "AWS Internal".
	var rec map[string]any
	for _, r := range env.sim.Records() {
		if r.EventName == "AttachUserPolicy" {
			if err := json.Unmarshal(r.JSON, &rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	if rec == nil || rec["sourceIPAddress"] != "AWS Internal" || rec["eventSource"] != "iam.amazonaws.com" ||
		rec["requestParameters"].(map[string]any)["policyArn"] != quarantineV3 || rec["readOnly"] != false {
		t.Fatalf("record %v", rec)
	}
	// Denied what the list names, with the effect named; allowed the rest.
	_, err = env.iam(leaked).CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("legacy-reporting")})
	if errCode(t, err) != "AccessDenied" || !strings.Contains(err.Error(), "with an explicit deny in an identity-based policy") {
		t.Errorf("CreateAccessKey: %v", err)
	}
	if _, err := env.iam(leaked).ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Errorf("ListRoles is not on the list: %v", err)
	}
	if _, err := env.iam(leaked).CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)}); err != nil {
		t.Errorf("CreatePolicy is not on the list: %v", err)
	}
}

// TestLoginProfileReset: UpdateLoginProfile's PasswordResetRequired reads
// back through GetLoginProfile; both answer NoSuchEntity for a user without
// a password, and CloudTrail records the flag, never a password.
func TestLoginProfileReset(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	admin := env.sim.Responder()
	c := env.iam(admin)
	if err := env.sim.AddUser("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), PasswordResetRequired: aws.Bool(true)}); errCode(t, err) != "NoSuchEntity" {
		t.Fatalf("no password: %v", err)
	}
	if _, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")}); errCode(t, err) != "NoSuchEntity" {
		t.Fatalf("no password: %v", err)
	}
	if _, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("correct-horse-9")}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{true, false} {
		if _, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("alice"), PasswordResetRequired: aws.Bool(want)}); err != nil {
			t.Fatal(err)
		}
		lp, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("alice")})
		if err != nil || lp.LoginProfile.PasswordResetRequired != want {
			t.Fatalf("read back %v: %+v %v", want, lp, err)
		}
	}
	for _, r := range env.sim.Records() {
		if strings.Contains(string(r.JSON), "correct-horse") {
			t.Fatalf("a password in CloudTrail: %s", r.JSON)
		}
		if r.EventName == "UpdateLoginProfile" && !strings.Contains(string(r.JSON), `"passwordResetRequired":`) {
			t.Errorf("the flag is not recorded: %s", r.JSON)
		}
	}
}
