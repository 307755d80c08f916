package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/aws/sim/awscli"
)

// TestOrgAWSCLI checks the organisation's wire formats with the AWS CLI
// v1 (the independent client): Organizations' listing with its paging,
// and sts assume-role across accounts.
func TestOrgAWSCLI(t *testing.T) {
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
	env := newOrgEnv(t, OrgOptions{Members: 5})
	admin := env.org.Responder()
	run := func(c Credentials, args ...string) map[string]any {
		t.Helper()
		code, out, errOut := cli.Run(t, env.endpoint, c.AccessKeyID, c.SecretAccessKey,
			append(args, "--output", "json", "--endpoint-url", env.endpoint)...)
		if code != 0 {
			t.Fatalf("aws %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return m
	}
	// The CLI pages through every account on its own (page size 2: three
	// calls, each with the last one's NextToken).
	accts := run(admin, "organizations", "list-accounts", "--page-size", "2")
	list, _ := accts["Accounts"].([]any)
	if len(list) != 6 {
		t.Fatalf("list-accounts: %v", accts)
	}
	pages := 0
	for _, c := range env.org.Management().Calls() {
		if c.Operation == "ListAccounts" && c.OK() {
			pages++
		}
	}
	if pages != 3 {
		t.Fatalf("list-accounts took %d calls, want 3 pages of 2", pages)
	}
	first := list[0].(map[string]any)
	if first["Id"] != env.org.Management().AccountID() || first["Status"] != "ACTIVE" || first["JoinedMethod"] != "INVITED" {
		t.Fatalf("first account %v", first)
	}
	org := run(admin, "organizations", "describe-organization")["Organization"].(map[string]any)
	if org["Id"] != env.org.ID() || org["FeatureSet"] != "ALL" {
		t.Fatalf("organization %v", org)
	}
	roots := run(admin, "organizations", "list-roots")["Roots"].([]any)
	pols := run(admin, "organizations", "list-policies-for-target", "--target-id", roots[0].(map[string]any)["Id"].(string),
		"--filter", "SERVICE_CONTROL_POLICY")["Policies"].([]any)
	if len(pols) != 1 || pols[0].(map[string]any)["Id"] != "p-FullAWSAccess" {
		t.Fatalf("root's policies %v", pols)
	}

	m := env.org.Members()[2]
	as := run(admin, "sts", "assume-role", "--role-arn", roleARN(m, OrgAccessRole), "--role-session-name", "cli")
	creds := as["Credentials"].(map[string]any)
	if !strings.HasPrefix(creds["AccessKeyId"].(string), "ASIA") ||
		as["AssumedRoleUser"].(map[string]any)["Arn"] != "arn:aws:sts::"+m.AccountID()+":assumed-role/"+OrgAccessRole+"/cli" {
		t.Fatalf("assume-role %v", as)
	}
	if got := env.org.AccountOfKey(creds["AccessKeyId"].(string)); got != m.AccountID() {
		t.Fatalf("session key in %s", got)
	}
	// A member may not list the accounts: the CLI shows AWS's error.
	mk := env.adminOf(t, m)
	code, _, errOut := cli.Run(t, env.endpoint, mk.AccessKeyID, mk.SecretAccessKey,
		"organizations", "list-accounts", "--endpoint-url", env.endpoint)
	if code == 0 || !strings.Contains(errOut, "AccessDeniedException") || !strings.Contains(errOut, "You don't have permissions to access this resource.") {
		t.Fatalf("member list-accounts: exit %d: %s", code, errOut)
	}
}
