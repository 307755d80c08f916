package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// lastRecordOf returns the newest CloudTrail record of eventName, decoded.
func lastRecordOf(t *testing.T, s *Sim, eventName string) map[string]any {
	t.Helper()
	recs := s.Records()
	for i := len(recs) - 1; i >= 0; i-- {
		if recs[i].EventName != eventName {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(recs[i].JSON, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	t.Fatalf("no %s record", eventName)
	return nil
}

// sameJSON reports whether two JSON texts hold the same value.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func urlDecoded(t *testing.T, s string) string {
	t.Helper()
	d, err := url.QueryUnescape(s)
	if err != nil {
		t.Fatalf("not URL-encoded: %q", s)
	}
	return d
}

// TestIAMFootholdOperations drives the role, group and login-profile
// operations through the SDK, checking each answer, each error AWS gives,
// and each CloudTrail record's requestParameters and responseElements.
func TestIAMFootholdOperations(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.iam(env.sim.Responder())
	acct := env.sim.AccountID()
	if err := env.sim.AddUser("bob"); err != nil {
		t.Fatal(err)
	}
	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	trust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole"}]}`, acct)
	backdoor := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root"},"Action":"sts:AssumeRole"}]}`
	allowList := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:List*","Resource":"*"}]}`
	// check reads the newest record of the step's operation.
	rec := func(name string) map[string]any { return lastRecordOf(t, env.sim, name) }
	params := func(m map[string]any) map[string]any { p, _ := m["requestParameters"].(map[string]any); return p }
	steps := []struct {
		name string
		call func() error
		code string
		// record checks the operation's CloudTrail record.
		record func(m map[string]any)
	}{
		{"CreateRole", func() error {
			out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ops-automation"), AssumeRolePolicyDocument: aws.String(trust),
				Description: aws.String("nightly"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ops")}}})
			if err == nil {
				if aws.ToString(out.Role.Arn) != "arn:aws:iam::"+acct+":role/ops-automation" || !strings.HasPrefix(aws.ToString(out.Role.RoleId), "AROA") {
					t.Errorf("role %s %s", aws.ToString(out.Role.Arn), aws.ToString(out.Role.RoleId))
				}
				if !sameJSON(urlDecoded(t, aws.ToString(out.Role.AssumeRolePolicyDocument)), trust) {
					t.Errorf("trust answered %q", aws.ToString(out.Role.AssumeRolePolicyDocument))
				}
			}
			return err
		}, "", func(m map[string]any) {
			p := params(m)
			if p["roleName"] != "ops-automation" || p["assumeRolePolicyDocument"] != trust || p["description"] != "nightly" {
				t.Errorf("requestParameters %v", p)
			}
			role, _ := m["responseElements"].(map[string]any)["role"].(map[string]any)
			if role["roleName"] != "ops-automation" || role["arn"] != "arn:aws:iam::"+acct+":role/ops-automation" ||
				!strings.HasPrefix(fmt.Sprint(role["roleId"]), "AROA") || role["path"] != "/" || role["createDate"] == nil {
				t.Errorf("responseElements.role %v", role)
			}
			if !sameJSON(urlDecoded(t, fmt.Sprint(role["assumeRolePolicyDocument"])), trust) {
				t.Errorf("responseElements trust %v", role["assumeRolePolicyDocument"])
			}
		}},
		{"CreateRole exists", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("OPS-automation"), AssumeRolePolicyDocument: aws.String(trust)})
			return err
		}, "EntityAlreadyExists", nil},
		{"CreateRole trust not JSON", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(`{"Version":`)})
			return err
		}, "MalformedPolicyDocument", nil},
		{"CreateRole trust with Resource", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Resource":"*"}]}`)})
			return err
		}, "MalformedPolicyDocument", nil},
		{"CreateRole trust naming a missing user", func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(
				`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/ghost"},"Action":"sts:AssumeRole"}]}`)})
			return err
		}, "MalformedPolicyDocument", nil},
		{"UpdateAssumeRolePolicy", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ops-automation"), PolicyDocument: aws.String(backdoor)})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["roleName"] != "ops-automation" || p["policyDocument"] != backdoor || len(p) != 2 {
				t.Errorf("requestParameters %v", p)
			}
			if m["responseElements"] != nil {
				t.Errorf("responseElements %v", m["responseElements"])
			}
		}},
		{"GetRole shows the new trust", func() error {
			out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ops-automation")})
			if err == nil && !sameJSON(urlDecoded(t, aws.ToString(out.Role.AssumeRolePolicyDocument)), backdoor) {
				t.Errorf("trust %q", aws.ToString(out.Role.AssumeRolePolicyDocument))
			}
			return err
		}, "", nil},
		{"UpdateAssumeRolePolicy missing role", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("nope"), PolicyDocument: aws.String(trust)})
			return err
		}, "NoSuchEntity", nil},
		{"UpdateAssumeRolePolicy malformed", func() error {
			_, err := c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ops-automation"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`)})
			return err
		}, "MalformedPolicyDocument", func(m map[string]any) {
			if m["errorCode"] != "MalformedPolicyDocument" || params(m)["roleName"] != "ops-automation" {
				t.Errorf("record %v %v", m["errorCode"], params(m))
			}
		}},
		{"AttachRolePolicy", func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ops-automation"), PolicyArn: aws.String(admin)})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["roleName"] != "ops-automation" || p["policyArn"] != admin {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"AttachRolePolicy missing policy", func() error {
			_, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ops-automation"),
				PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
			return err
		}, "NoSuchEntity", nil},
		{"DeleteRole with a policy", func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ops-automation")})
			return err
		}, "DeleteConflict", nil},
		{"DetachRolePolicy", func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ops-automation"), PolicyArn: aws.String(admin)})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["roleName"] != "ops-automation" || p["policyArn"] != admin {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"DetachRolePolicy again", func() error {
			_, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ops-automation"), PolicyArn: aws.String(admin)})
			return err
		}, "NoSuchEntity", nil},
		{"DeleteRole", func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ops-automation")})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["roleName"] != "ops-automation" {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"GetRole deleted", func() error {
			_, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ops-automation")})
			return err
		}, "NoSuchEntity", nil},
		{"DeleteRole missing", func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ops-automation")})
			return err
		}, "NoSuchEntity", nil},
		{"CreateGroup", func() error {
			out, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")})
			if err == nil && (aws.ToString(out.Group.Arn) != "arn:aws:iam::"+acct+":group/ops" || !strings.HasPrefix(aws.ToString(out.Group.GroupId), "AGPA")) {
				t.Errorf("group %+v", out.Group)
			}
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["groupName"] != "ops" {
				t.Errorf("requestParameters %v", p)
			}
			g, _ := m["responseElements"].(map[string]any)["group"].(map[string]any)
			if g["groupName"] != "ops" || g["arn"] != "arn:aws:iam::"+acct+":group/ops" || g["path"] != "/" || g["groupId"] == nil || g["createDate"] == nil {
				t.Errorf("responseElements.group %v", g)
			}
		}},
		{"CreateGroup exists", func() error {
			_, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("ops")})
			return err
		}, "EntityAlreadyExists", nil},
		{"ListGroups", func() error {
			out, err := c.ListGroups(ctx, &iam.ListGroupsInput{})
			if err == nil && (len(out.Groups) != 1 || aws.ToString(out.Groups[0].GroupName) != "ops") {
				t.Errorf("groups %v", out.Groups)
			}
			return err
		}, "", nil},
		{"AddUserToGroup", func() error {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("bob")})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["groupName"] != "ops" || p["userName"] != "bob" || len(p) != 2 {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"AddUserToGroup missing user", func() error {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("ghost")})
			return err
		}, "NoSuchEntity", nil},
		{"AddUserToGroup missing group", func() error {
			_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("ghosts"), UserName: aws.String("bob")})
			return err
		}, "NoSuchEntity", nil},
		{"GetGroup", func() error {
			out, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("ops")})
			if err == nil && (aws.ToString(out.Group.GroupName) != "ops" || len(out.Users) != 1 || aws.ToString(out.Users[0].UserName) != "bob") {
				t.Errorf("group %v users %v", out.Group, out.Users)
			}
			return err
		}, "", nil},
		{"GetGroup missing", func() error {
			_, err := c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("ghosts")})
			return err
		}, "NoSuchEntity", nil},
		{"ListGroupsForUser", func() error {
			out, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
			if err == nil && (len(out.Groups) != 1 || aws.ToString(out.Groups[0].GroupName) != "ops") {
				t.Errorf("groups %v", out.Groups)
			}
			return err
		}, "", nil},
		{"PutGroupPolicy", func() error {
			_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("list"), PolicyDocument: aws.String(allowList)})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["groupName"] != "ops" || p["policyName"] != "list" || p["policyDocument"] != allowList {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"PutGroupPolicy malformed", func() error {
			_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Statement":[]}`)})
			return err
		}, "MalformedPolicyDocument", nil},
		{"PutGroupPolicy too big", func() error {
			big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["` + strings.Repeat("x", 6000) + `"],"Resource":"*"}]}`
			_, err := c.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
			return err
		}, "LimitExceeded", nil},
		{"ListGroupPolicies", func() error {
			out, err := c.ListGroupPolicies(ctx, &iam.ListGroupPoliciesInput{GroupName: aws.String("ops")})
			if err == nil && !reflect.DeepEqual(out.PolicyNames, []string{"list"}) {
				t.Errorf("names %v", out.PolicyNames)
			}
			return err
		}, "", nil},
		{"GetGroupPolicy", func() error {
			out, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("list")})
			if err == nil && (aws.ToString(out.GroupName) != "ops" || !sameJSON(urlDecoded(t, aws.ToString(out.PolicyDocument)), allowList)) {
				t.Errorf("policy %s %s", aws.ToString(out.GroupName), aws.ToString(out.PolicyDocument))
			}
			return err
		}, "", nil},
		{"GetGroupPolicy missing", func() error {
			_, err := c.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("nope")})
			return err
		}, "NoSuchEntity", nil},
		{"AttachGroupPolicy", func() error {
			_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: aws.String(admin)})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["groupName"] != "ops" || p["policyArn"] != admin {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"AttachGroupPolicy missing policy", func() error {
			_, err := c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: aws.String("arn:aws:iam::" + acct + ":policy/nope")})
			return err
		}, "NoSuchEntity", nil},
		{"ListAttachedGroupPolicies", func() error {
			out, err := c.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("ops")})
			if err == nil && (len(out.AttachedPolicies) != 1 || aws.ToString(out.AttachedPolicies[0].PolicyName) != "AdministratorAccess") {
				t.Errorf("attached %v", out.AttachedPolicies)
			}
			return err
		}, "", nil},
		{"GetPolicy counts the group attachment", func() error {
			out, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(admin)})
			if err == nil && aws.ToInt32(out.Policy.AttachmentCount) != 3 { // the responder, the role IncidentResponse and the group
				t.Errorf("attachment count %d", aws.ToInt32(out.Policy.AttachmentCount))
			}
			return err
		}, "", nil},
		{"DeleteGroup with members", func() error {
			_, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
			return err
		}, "DeleteConflict", nil},
		{"DetachGroupPolicy", func() error {
			_, err := c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: aws.String(admin)})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["groupName"] != "ops" || p["policyArn"] != admin {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"DetachGroupPolicy again", func() error {
			_, err := c.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("ops"), PolicyArn: aws.String(admin)})
			return err
		}, "NoSuchEntity", nil},
		{"DeleteGroupPolicy", func() error {
			_, err := c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("list")})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["groupName"] != "ops" || p["policyName"] != "list" {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"DeleteGroupPolicy again", func() error {
			_, err := c.DeleteGroupPolicy(ctx, &iam.DeleteGroupPolicyInput{GroupName: aws.String("ops"), PolicyName: aws.String("list")})
			return err
		}, "NoSuchEntity", nil},
		{"RemoveUserFromGroup", func() error {
			_, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("ops"), UserName: aws.String("bob")})
			return err
		}, "", func(m map[string]any) {
			if p := params(m); p["groupName"] != "ops" || p["userName"] != "bob" {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"DeleteGroup", func() error {
			_, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("ops")})
			return err
		}, "", nil},
		{"UpdateLoginProfile without a profile", func() error {
			_, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Secr3t-passw0rd!")})
			return err
		}, "NoSuchEntity", nil},
		{"CreateLoginProfile", func() error {
			_, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Initial-passw0rd!")})
			return err
		}, "", nil},
		{"UpdateLoginProfile", func() error {
			_, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Attacker-passw0rd!"),
				PasswordResetRequired: aws.Bool(true)})
			return err
		}, "", func(m map[string]any) {
			p := params(m)
			if p["userName"] != "bob" || p["passwordResetRequired"] != true || len(p) != 2 {
				t.Errorf("requestParameters %v", p)
			}
		}},
		{"GetLoginProfile shows the reset flag", func() error {
			out, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})
			if err == nil && !out.LoginProfile.PasswordResetRequired {
				t.Error("PasswordResetRequired not set")
			}
			return err
		}, "", nil},
		{"UpdateLoginProfile short password", func() error {
			_, err := c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("short")})
			return err
		}, "PasswordPolicyViolation", nil},
		{"DeleteSigningCertificate missing", func() error {
			_, err := c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("bob"), CertificateId: aws.String(strings.Repeat("C", 32))})
			return err
		}, "NoSuchEntity", nil},
		{"DeleteSSHPublicKey missing", func() error {
			_, err := c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("bob"), SSHPublicKeyId: aws.String("APKA0000000000000000")})
			return err
		}, "NoSuchEntity", nil},
		{"DeleteServiceSpecificCredential missing", func() error {
			_, err := c.DeleteServiceSpecificCredential(ctx, &iam.DeleteServiceSpecificCredentialInput{UserName: aws.String("bob"),
				ServiceSpecificCredentialId: aws.String("ACCA0000000000000000")})
			return err
		}, "NoSuchEntity", nil},
		{"DeleteUserPermissionsBoundary", func() error {
			_, err := c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("bob")})
			return err
		}, "", nil},
		{"DeleteUserPermissionsBoundary missing user", func() error {
			_, err := c.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("ghost")})
			return err
		}, "NoSuchEntity", nil},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) {
			if got := errCode(t, st.call()); got != st.code {
				t.Fatalf("code %q, want %q", got, st.code)
			}
			if st.record != nil {
				op := strings.Fields(st.name)[0]
				m := rec(op)
				if m["eventSource"] != "iam.amazonaws.com" || m["awsRegion"] != "us-east-1" {
					t.Errorf("record source %v region %v", m["eventSource"], m["awsRegion"])
				}
				st.record(m)
			}
		}) {
			return
		}
	}
	// No password reached any record.
	for _, r := range env.sim.Records() {
		for _, pw := range []string{"Initial-passw0rd!", "Attacker-passw0rd!", "Secr3t-passw0rd!"} {
			if strings.Contains(string(r.JSON), pw) {
				t.Fatalf("%s record holds a password: %s", r.EventName, r.JSON)
			}
		}
	}
	// The change of trust is found by LookupEvents as well.
	out, err := env.ct(env.sim.Responder(), "us-east-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("UpdateAssumeRolePolicy")}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 3 { // the backdoor, and the two refused
		t.Fatalf("%d UpdateAssumeRolePolicy events", len(out.Events))
	}
}

// TestGroupLimits: a user is in at most ten groups.
func TestGroupLimits(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.iam(env.sim.Responder())
	for i := range 11 {
		g := fmt.Sprintf("g%d", i)
		if _, err := c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String(g)}); err != nil {
			t.Fatal(err)
		}
		_, err := c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String(g), UserName: aws.String("incident-responder")})
		want := ""
		if i == 10 {
			want = "LimitExceeded"
		}
		if got := errCode(t, err); got != want {
			t.Fatalf("group %d: code %q, want %q", i, got, want)
		}
	}
}

// TestGroupGrantsAdmin: with Allow statements evaluated, a user with no
// policy of its own is an administrator while in a group that holds
// AdministratorAccess (or an inline Allow), and is not once the policy is
// detached or the user removed.
func TestGroupGrantsAdmin(t *testing.T) {
	env := newEnv(t, Options{ImplicitDeny: true})
	ctx := context.Background()
	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	resp := env.iam(env.sim.Responder())
	if err := env.sim.AddUser("carol"); err != nil {
		t.Fatal(err)
	}
	key, err := env.sim.AddKey("carol")
	if err != nil {
		t.Fatal(err)
	}
	carol := env.iam(key)
	isAdmin := func() bool {
		t.Helper()
		_, err := carol.ListUsers(ctx, &iam.ListUsersInput{})
		switch errCode(t, err) {
		case "":
			return true
		case "AccessDenied":
			return false
		}
		t.Fatalf("ListUsers: %v", err)
		return false
	}
	step := func(what string, f func() error, want bool) {
		t.Helper()
		if err := f(); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := isAdmin(); got != want {
			t.Fatalf("after %s: carol admin = %v, want %v", what, got, want)
		}
	}
	if isAdmin() {
		t.Fatal("carol, with no policy, is an administrator")
	}
	rec := lastRecordOf(t, env.sim, "ListUsers")
	if rec["errorCode"] != "AccessDenied" || !strings.Contains(fmt.Sprint(rec["errorMessage"]), "no identity-based policy allows") {
		t.Errorf("denial record %v: %v", rec["errorCode"], rec["errorMessage"])
	}
	step("CreateGroup", func() error {
		_, err := resp.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")})
		return err
	}, false)
	step("AttachGroupPolicy", func() error {
		_, err := resp.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(admin)})
		return err
	}, false)
	step("AddUserToGroup", func() error {
		_, err := resp.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("carol")})
		return err
	}, true)
	// An administrator through the group can act as one: create a user.
	if _, err := carol.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carols-backdoor")}); err != nil {
		t.Fatalf("group admin cannot CreateUser: %v", err)
	}
	step("DetachGroupPolicy", func() error {
		_, err := resp.DetachGroupPolicy(ctx, &iam.DetachGroupPolicyInput{GroupName: aws.String("admins"), PolicyArn: aws.String(admin)})
		return err
	}, false)
	step("PutGroupPolicy", func() error {
		_, err := resp.PutGroupPolicy(ctx, &iam.PutGroupPolicyInput{GroupName: aws.String("admins"), PolicyName: aws.String("all"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*","Resource":"*"}]}`)})
		return err
	}, true)
	if _, err := carol.ListRoles(ctx, &iam.ListRolesInput{}); err != nil {
		t.Fatalf("iam:* through the group does not allow ListRoles: %v", err)
	}
	if _, err := env.ct(key, "us-east-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{}); errCode(t, err) != "AccessDeniedException" {
		t.Fatalf("iam:* allowed cloudtrail:LookupEvents: %v", err)
	}
	step("RemoveUserFromGroup", func() error {
		_, err := resp.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("admins"), UserName: aws.String("carol")})
		return err
	}, false)
	// The responder, an administrator by its own policy, was never refused.
	if _, err := resp.ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestTrustPolicyDecidesAssumeRole: the trust stored by CreateRole and
// UpdateAssumeRolePolicy is what AssumeRole evaluates. A backdoored trust
// lets an outside account's principal in; the restored trust keeps it out.
func TestTrustPolicyDecidesAssumeRole(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	acct := env.sim.AccountID()
	resp := env.iam(env.sim.Responder())
	outside, err := env.sim.AddOutsideKey("999988887777", "mallory")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.sim.AddUser("dave"); err != nil {
		t.Fatal(err)
	}
	dave, err := env.sim.AddKey("dave")
	if err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/incident-responder"},"Action":"sts:AssumeRole"}]}`, acct)
	backdoor := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/incident-responder"},"Action":"sts:AssumeRole"},`+
		`{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::999988887777:root"]},"Action":"sts:AssumeRole"}]}`, acct)
	if _, err := resp.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: aws.String(good)}); err != nil {
		t.Fatal(err)
	}
	roleARN := "arn:aws:iam::" + acct + ":role/deploy"
	assume := func(c Credentials) (Credentials, error) {
		out, err := env.sts(c, "us-east-1").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")})
		if err != nil {
			return Credentials{}, err
		}
		return Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
			SessionToken: aws.ToString(out.Credentials.SessionToken)}, nil
	}
	cases := []struct {
		name  string
		trust string // set before the call, when not empty
		who   Credentials
		code  string
	}{
		{"named user may", "", env.sim.Responder(), ""},
		{"another user of the account may not", "", dave, "AccessDenied"},
		{"outside principal may not", "", outside, "AccessDenied"},
		{"outside principal may through a backdoored trust", backdoor, outside, ""},
		{"outside principal may not once the trust is restored", good, outside, "AccessDenied"},
		{"a Deny for the outside account wins", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},` +
			`{"Effect":"Deny","Principal":{"AWS":"999988887777"},"Action":"sts:*"}]}`, outside, "AccessDenied"},
		{"an ExternalId condition the caller does not meet", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},` +
			`"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}]}`, dave, "AccessDenied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.trust != "" {
				if _, err := resp.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: aws.String(tc.trust)}); err != nil {
					t.Fatal(err)
				}
			}
			creds, err := assume(tc.who)
			if got := errCode(t, err); got != tc.code {
				t.Fatalf("code %q, want %q (%v)", got, tc.code, err)
			}
			if err != nil {
				return
			}
			id, err := env.sts(creds, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::"+acct+":assumed-role/deploy/s1" {
				t.Fatalf("the session is not the role: %v %v", id, err)
			}
		})
	}
	// The backdoor's AssumeRole is in the drill's trail as the role's
	// account records a cross-account call: type AWSAccount, the other
	// account, no key.
	var found bool
	for _, r := range env.sim.Records() {
		var m map[string]any
		if err := json.Unmarshal(r.JSON, &m); err != nil {
			t.Fatal(err)
		}
		ui, _ := m["userIdentity"].(map[string]any)
		if r.EventName != "AssumeRole" || ui["accountId"] != "999988887777" || m["errorCode"] != nil {
			continue
		}
		found = true
		if ui["type"] != "AWSAccount" || ui["accessKeyId"] != nil || ui["arn"] != nil || !strings.HasPrefix(fmt.Sprint(ui["principalId"]), "AIDA") {
			t.Errorf("userIdentity %v", ui)
		}
		if m["recipientAccountId"] != acct {
			t.Errorf("recipientAccountId %v", m["recipientAccountId"])
		}
	}
	if !found {
		t.Error("no successful cross-account AssumeRole record")
	}
	// The outside key reaches nothing else in the drill, and its other
	// calls are not the drill's to record.
	before := len(env.sim.Records())
	if _, err := env.iam(outside).ListUsers(ctx, &iam.ListUsersInput{}); errCode(t, err) != "AccessDenied" {
		t.Errorf("outside key ListUsers: %v", err)
	}
	if n := len(env.sim.Records()) - before; n != 0 {
		t.Errorf("%d records of the outside key's ListUsers", n)
	}
}
