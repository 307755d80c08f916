package inventory

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// TestIdentityCenterRead reads the drill's Identity Center through the
// SDK: every user with the permission sets reaching it in the account (its
// own, its groups'); an account without an instance is "not enabled"; a
// responder denied sso:* gets "unreadable" with AccessDenied; throttling
// is "unreadable" with Throttling.
func TestIdentityCenterRead(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t, sim.Options{})
	resp := d.sim.Responder()
	if ic := IdentityCenter(ctx, d.session(t, resp), "us-east-1", d.sim.AccountID()); ic.Status != state.IdentityCenterNotEnabled {
		t.Fatalf("before enabling: %+v", ic)
	}
	s := d.sim
	s.EnableIdentityCenter()
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := s.AddSSOUser(u, strings.ToUpper(u[:1])+u[1:], u+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.AddSSOGroup("engineers", "alice", "bob")
	_, _ = s.AddPermissionSet("AdministratorAccess", "")
	_, _ = s.AddPermissionSet("ReadOnly", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}]}`)
	if err := s.AssignSSO("alice", "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignSSO("engineers", "ReadOnly"); err != nil {
		t.Fatal(err)
	}
	ic := IdentityCenter(ctx, d.session(t, resp), "us-east-1", s.AccountID())
	if ic.Status != state.IdentityCenterOK || len(ic.Users) != 3 || ic.InstanceARN == "" || ic.StoreID == "" {
		t.Fatalf("read: %+v", ic)
	}
	access := map[string]string{}
	for _, u := range ic.Users {
		access[u.UserName] = strings.Join(u.Access, ", ")
	}
	want := map[string]string{"alice": "AdministratorAccess, ReadOnly (via engineers)", "bob": "ReadOnly (via engineers)", "carol": ""}
	for u, w := range want {
		if access[u] != w {
			t.Errorf("%s reaches %q, want %q", u, access[u], w)
		}
	}
	if ic.Users[0].Emails[0] != "alice@example.com" || ic.Users[0].DisplayName != "Alice" {
		t.Errorf("alice: %+v", ic.Users[0])
	}
	// Not enabled in another Region.
	if ic := IdentityCenter(ctx, d.session(t, resp), "eu-west-1", s.AccountID()); ic.Status != state.IdentityCenterNotEnabled || ic.Region != "eu-west-1" {
		t.Errorf("eu-west-1: %+v", ic)
	}
	// AccessDenied.
	cl := iam.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: d.session(t, resp).Config("us-east-1").Credentials, BaseEndpoint: aws.String(d.endpoint)})
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("auditor")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("auditor"), PolicyName: aws.String("no-sso"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["sso:*","identitystore:*"],"Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	k, err := s.AddKey("auditor")
	if err != nil {
		t.Fatal(err)
	}
	if ic := IdentityCenter(ctx, d.session(t, k), "us-east-1", s.AccountID()); ic.Status != state.IdentityCenterUnreadable || ic.Reason != "AccessDenied" ||
		!strings.Contains(ic.Error, "sso:ListInstances") || ic.Summary() != "Identity Center not readable: AccessDenied" {
		t.Errorf("denied: %+v", ic)
	}
	// Throttled.
	td := newDrill(t, sim.Options{ThrottleRate: 1})
	td.sim.EnableIdentityCenter()
	if ic := IdentityCenter(ctx, td.session(t, td.sim.Responder()), "us-east-1", td.sim.AccountID()); ic.Status != state.IdentityCenterUnreadable || ic.Reason != "Throttling" {
		t.Errorf("throttled: %+v", ic)
	}
}
