package sim

import (
	"context"
	"encoding/csv"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestIAMOperations drives every IAM operation through the SDK, in an
// order where each step depends on the state the earlier ones left.
func TestIAMOperations(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	c := env.iam(env.sim.Responder())
	if err := env.sim.AddGroup("devs"); err != nil {
		t.Fatal(err)
	}
	var newKey string
	var mfaSerial string
	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
	steps := []struct {
		name string
		call func() error
		code string
	}{
		{"CreateUser", func() error {
			out, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ci")}}})
			if err == nil && aws.ToString(out.User.Arn) != "arn:aws:iam::"+env.sim.AccountID()+":user/bob" {
				t.Errorf("arn %s", aws.ToString(out.User.Arn))
			}
			return err
		}, ""},
		{"CreateUser exists", func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")})
			return err
		}, "EntityAlreadyExists"},
		{"TagUser", func() error {
			_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("bob"), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("x")}}})
			return err
		}, ""},
		{"GetUser", func() error {
			out, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("bob")})
			if err == nil && len(out.User.Tags) != 2 {
				t.Errorf("tags %v", out.User.Tags)
			}
			return err
		}, ""},
		{"GetUser missing", func() error {
			_, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")})
			return err
		}, "NoSuchEntity"},
		{"GetUser self", func() error {
			out, err := c.GetUser(ctx, &iam.GetUserInput{})
			if err == nil && aws.ToString(out.User.UserName) != "incident-responder" {
				t.Errorf("self %s", aws.ToString(out.User.UserName))
			}
			return err
		}, ""},
		{"ListUsers", func() error {
			out, err := c.ListUsers(ctx, &iam.ListUsersInput{})
			if err == nil && len(out.Users) != 2 {
				t.Errorf("users %d", len(out.Users))
			}
			return err
		}, ""},
		{"CreateAccessKey", func() error {
			out, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
			if err == nil {
				newKey = aws.ToString(out.AccessKey.AccessKeyId)
				if !strings.HasPrefix(newKey, "AKIA") || len(aws.ToString(out.AccessKey.SecretAccessKey)) != 40 {
					t.Errorf("key %s", newKey)
				}
			}
			return err
		}, ""},
		{"CreateAccessKey second", func() error {
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
			return err
		}, ""},
		{"CreateAccessKey over quota", func() error {
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("bob")})
			return err
		}, "LimitExceeded"},
		{"ListAccessKeys", func() error {
			out, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
			if err == nil && (len(out.AccessKeyMetadata) != 2 || out.AccessKeyMetadata[0].Status != types.StatusTypeActive) {
				t.Errorf("keys %+v", out.AccessKeyMetadata)
			}
			return err
		}, ""},
		{"UpdateAccessKey", func() error {
			_, err := c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(newKey), Status: types.StatusTypeInactive})
			return err
		}, ""},
		{"GetAccessKeyLastUsed", func() error {
			out, err := c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(newKey)})
			if err == nil && (aws.ToString(out.UserName) != "bob" || aws.ToString(out.AccessKeyLastUsed.ServiceName) != "N/A") {
				t.Errorf("last used %+v", out.AccessKeyLastUsed)
			}
			return err
		}, ""},
		{"DeleteAccessKey", func() error {
			_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(newKey)})
			return err
		}, ""},
		{"DeleteAccessKey again", func() error {
			_, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String(newKey)})
			return err
		}, "NoSuchEntity"},
		{"PutUserPolicy", func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("deny"), PolicyDocument: aws.String(doc)})
			return err
		}, ""},
		{"PutUserPolicy malformed", func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("bad"), PolicyDocument: aws.String("{")})
			return err
		}, "MalformedPolicyDocument"},
		{"PutUserPolicy over size", func() error {
			big := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Sid":"` + strings.Repeat("a", 2100) + `"}]}`
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
			return err
		}, "LimitExceeded"},
		{"ListUserPolicies", func() error {
			out, err := c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("bob")})
			if err == nil && (len(out.PolicyNames) != 1 || out.PolicyNames[0] != "deny") {
				t.Errorf("names %v", out.PolicyNames)
			}
			return err
		}, ""},
		{"GetUserPolicy", func() error {
			out, err := c.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("deny")})
			if err == nil {
				if d, _ := url.QueryUnescape(aws.ToString(out.PolicyDocument)); d != doc {
					t.Errorf("document %s", d)
				}
			}
			return err
		}, ""},
		{"DeleteUserPolicy", func() error {
			_, err := c.DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("deny")})
			return err
		}, ""},
		{"AttachUserPolicy", func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(admin)})
			return err
		}, ""},
		{"AttachUserPolicy unknown", func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::aws:policy/Nope")})
			return err
		}, "NoSuchEntity"},
		{"ListAttachedUserPolicies", func() error {
			out, err := c.ListAttachedUserPolicies(ctx, &iam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")})
			if err == nil && (len(out.AttachedPolicies) != 1 || aws.ToString(out.AttachedPolicies[0].PolicyName) != "AdministratorAccess") {
				t.Errorf("attached %+v", out.AttachedPolicies)
			}
			return err
		}, ""},
		{"CreateLoginProfile", func() error {
			_, err := c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("hunter2-hunter2")})
			return err
		}, ""},
		{"GetLoginProfile", func() error {
			_, err := c.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")})
			return err
		}, ""},
		{"CreateVirtualMFADevice", func() error {
			out, err := c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("bob-mfa")})
			if err == nil {
				mfaSerial = aws.ToString(out.VirtualMFADevice.SerialNumber)
			}
			return err
		}, ""},
		{"EnableMFADevice", func() error {
			_, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("bob"), SerialNumber: aws.String(mfaSerial),
				AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")})
			return err
		}, ""},
		{"ListMFADevices", func() error {
			out, err := c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("bob")})
			if err == nil && len(out.MFADevices) != 1 {
				t.Errorf("mfa %+v", out.MFADevices)
			}
			return err
		}, ""},
		{"DeleteVirtualMFADevice in use", func() error {
			_, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(mfaSerial)})
			return err
		}, "DeleteConflict"},
		{"ListSigningCertificates", func() error {
			_, err := c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("bob")})
			return err
		}, ""},
		{"ListSSHPublicKeys", func() error {
			_, err := c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("bob")})
			return err
		}, ""},
		{"ListServiceSpecificCredentials", func() error {
			_, err := c.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: aws.String("bob")})
			return err
		}, ""},
		{"ListGroupsForUser", func() error {
			_, err := env.sim.iamAddToGroup("bob", "devs")
			if err != nil {
				return err
			}
			out, err := c.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("bob")})
			if err == nil && len(out.Groups) != 1 {
				t.Errorf("groups %+v", out.Groups)
			}
			return err
		}, ""},
		{"DeleteUser with login profile", func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
			return err
		}, "DeleteConflict"},
		{"DeleteLoginProfile", func() error {
			_, err := c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("bob")})
			return err
		}, ""},
		{"DeactivateMFADevice", func() error {
			_, err := c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("bob"), SerialNumber: aws.String(mfaSerial)})
			return err
		}, ""},
		{"DeleteVirtualMFADevice", func() error {
			_, err := c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(mfaSerial)})
			return err
		}, ""},
		{"DetachUserPolicy", func() error {
			_, err := c.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(admin)})
			return err
		}, ""},
		{"RemoveUserFromGroup", func() error {
			_, err := c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{UserName: aws.String("bob"), GroupName: aws.String("devs")})
			return err
		}, ""},
		{"DeleteUser with a key", func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
			return err
		}, "DeleteConflict"},
		{"DeleteUser", func() error {
			keys, err := c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
			if err != nil {
				return err
			}
			for _, k := range keys.AccessKeyMetadata {
				if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k.AccessKeyId}); err != nil {
					return err
				}
			}
			_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("bob")})
			return err
		}, ""},
		{"ListRoles", func() error {
			out, err := c.ListRoles(ctx, &iam.ListRolesInput{})
			if err == nil && len(out.Roles) != 1 {
				t.Errorf("roles %d", len(out.Roles))
			}
			return err
		}, ""},
		{"GetRole", func() error {
			out, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("IncidentResponse")})
			if err == nil && aws.ToInt32(out.Role.MaxSessionDuration) != 3600 {
				t.Errorf("max session %d", aws.ToInt32(out.Role.MaxSessionDuration))
			}
			return err
		}, ""},
		{"PutRolePolicy", func() error {
			_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("IncidentResponse"), PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: aws.String(doc)})
			return err
		}, ""},
		{"ListRolePolicies", func() error {
			out, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("IncidentResponse")})
			if err == nil && len(out.PolicyNames) != 1 {
				t.Errorf("names %v", out.PolicyNames)
			}
			return err
		}, ""},
		{"ListAttachedRolePolicies", func() error {
			out, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("IncidentResponse")})
			if err == nil && len(out.AttachedPolicies) != 1 {
				t.Errorf("attached %v", out.AttachedPolicies)
			}
			return err
		}, ""},
		{"DeleteRolePolicy", func() error {
			_, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("IncidentResponse"), PolicyName: aws.String("AWSRevokeOlderSessions")})
			return err
		}, ""},
		{"GetCredentialReport before generation", func() error {
			_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			return err
		}, "ReportNotPresent"},
		{"GenerateCredentialReport", func() error {
			out, err := c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
			if err == nil && out.State != types.ReportStateTypeStarted {
				t.Errorf("state %s", out.State)
			}
			return err
		}, ""},
		{"GetCredentialReport", func() error {
			out, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			if err != nil {
				return err
			}
			rows, err := csv.NewReader(strings.NewReader(string(out.Content))).ReadAll()
			if err != nil {
				t.Fatalf("report is not CSV: %v", err)
			}
			if len(rows) != 3 || rows[0][0] != "user" || rows[1][0] != "<root_account>" || rows[2][0] != "incident-responder" || rows[2][8] != "true" {
				t.Errorf("report %v", rows)
			}
			return nil
		}, ""},
		{"GetAccountSummary", func() error {
			out, err := c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
			if err == nil && out.SummaryMap["Users"] != 1 {
				t.Errorf("summary %v", out.SummaryMap)
			}
			return err
		}, ""},
		{"ListAccountAliases", func() error {
			out, err := c.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
			if err == nil && len(out.AccountAliases) != 1 {
				t.Errorf("aliases %v", out.AccountAliases)
			}
			return err
		}, ""},
	}
	for _, st := range steps {
		if got := errCode(t, st.call()); got != st.code {
			t.Fatalf("%s: code %q, want %q", st.name, got, st.code)
		}
	}
	// Every call above was recorded in us-east-1 with IAM's event source.
	for _, r := range env.sim.Records() {
		if r.Region != "us-east-1" {
			t.Errorf("%s recorded in %s", r.EventName, r.Region)
		}
		if strings.Contains(string(r.JSON), "hunter2") {
			t.Errorf("%s record holds the password", r.EventName)
		}
	}
}

func TestIAMPagination(t *testing.T) {
	env := newEnv(t, Options{})
	for i := range 7 {
		if err := env.sim.AddUser(string(rune('a'+i)) + "-user"); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name      string
		pageSize  int32
		wantPages int
	}{
		{"one page", 100, 1},
		{"pages of three", 3, 3},
		{"pages of one", 1, 8},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := iam.NewListUsersPaginator(env.iam(env.sim.Responder()), &iam.ListUsersInput{MaxItems: aws.Int32(tc.pageSize)})
			pages, names := 0, map[string]bool{}
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				pages++
				for _, u := range out.Users {
					names[aws.ToString(u.UserName)] = true
				}
			}
			if pages != tc.wantPages || len(names) != 8 {
				t.Errorf("%d pages, %d users", pages, len(names))
			}
		})
	}
}
