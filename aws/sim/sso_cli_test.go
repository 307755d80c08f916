package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/aws/sim/awscli"
)

// TestSSOAWSCLI checks IAM Identity Center's wire formats with the AWS CLI
// v1 (the independent client): sso-admin's SWBExternalService.* and the
// identity store's AWSIdentityStore.* targets, signing names, timestamps
// and the account assignment deletion's asynchronous status.
func TestSSOAWSCLI(t *testing.T) {
	var cli *awscli.CLI
	for _, c := range awscli.Find() {
		if c.Name == "v1" {
			cli = &c
		}
	}
	if cli == nil {
		t.Skip("AWS CLI v1 not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{})
	s := env.sim
	inst, store := s.EnableIdentityCenter()
	uid, err := s.AddSSOUser("alice", "Alice Example", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	psARN, _ := s.AddPermissionSet("AdministratorAccess", "")
	if err := s.AssignSSO("alice", "AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		r := s.Responder()
		code, out, errOut := cli.Run(t, env.endpoint, r.AccessKeyID, r.SecretAccessKey,
			append(args, "--output", "json", "--region", "us-east-1", "--endpoint-url", env.endpoint)...)
		if code != 0 {
			t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		m := map[string]any{}
		if strings.TrimSpace(out) == "" {
			return m // an empty answer ({}) prints nothing
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return m
	}
	insts := run("sso-admin", "list-instances")["Instances"].([]any)
	if len(insts) != 1 || insts[0].(map[string]any)["InstanceArn"] != inst || insts[0].(map[string]any)["IdentityStoreId"] != store {
		t.Fatalf("list-instances %v", insts)
	}
	id := run("identitystore", "get-user-id", "--identity-store-id", store, "--alternate-identifier",
		`{"UniqueAttribute":{"AttributePath":"userName","AttributeValue":"alice"}}`)
	if id["UserId"] != uid {
		t.Fatalf("get-user-id %v", id)
	}
	as := run("sso-admin", "list-account-assignments-for-principal", "--instance-arn", inst, "--principal-type", "USER", "--principal-id", uid)["AccountAssignments"].([]any)
	if len(as) != 1 || as[0].(map[string]any)["PermissionSetArn"] != psARN || as[0].(map[string]any)["AccountId"] != s.AccountID() {
		t.Fatalf("assignments %v", as)
	}
	del := run("sso-admin", "delete-account-assignment", "--instance-arn", inst, "--permission-set-arn", psARN, "--principal-type", "USER",
		"--principal-id", uid, "--target-id", s.AccountID(), "--target-type", "AWS_ACCOUNT")["AccountAssignmentDeletionStatus"].(map[string]any)
	if del["Status"] != "IN_PROGRESS" || del["RequestId"] == "" {
		t.Fatalf("delete-account-assignment %v", del)
	}
	st := run("sso-admin", "describe-account-assignment-deletion-status", "--instance-arn", inst,
		"--account-assignment-deletion-request-id", del["RequestId"].(string))["AccountAssignmentDeletionStatus"].(map[string]any)
	if st["Status"] != "SUCCEEDED" || st["PrincipalId"] != uid {
		t.Fatalf("deletion status %v", st)
	}
	run("sso-admin", "put-inline-policy-to-permission-set", "--instance-arn", inst, "--permission-set-arn", psARN,
		"--inline-policy", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)
	prov := run("sso-admin", "provision-permission-set", "--instance-arn", inst, "--permission-set-arn", psARN, "--target-type", "ALL_PROVISIONED_ACCOUNTS")
	if prov["PermissionSetProvisioningStatus"].(map[string]any)["Status"] != "IN_PROGRESS" {
		t.Fatalf("provision %v", prov)
	}
}
