package sim

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/aws/sim/awscli"
)

// TestAdvisorConfigAWSCLI checks the wire formats of Access Advisor and
// AWS Config with the AWS CLI v1 (the independent client): a job generated
// and read until COMPLETED, the recorder's status in a recording and a
// bare Region, and a resource's history.
func TestAdvisorConfigAWSCLI(t *testing.T) {
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
	admin := env.sim.Responder()
	run := func(wantCode int, args ...string) map[string]any {
		t.Helper()
		code, out, errOut := cli.Run(t, env.endpoint, admin.AccessKeyID, admin.SecretAccessKey,
			append(args, "--output", "json", "--endpoint-url", env.endpoint)...)
		if code != wantCode {
			t.Fatalf("aws %s: exit %d, want %d: %s", strings.Join(args, " "), code, wantCode, errOut)
		}
		m := map[string]any{}
		if wantCode != 0 {
			m["stderr"] = errOut
			return m
		}
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("aws %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return m
	}
	arn := "arn:aws:iam::" + env.sim.AccountID() + ":user/incident-responder"
	gen := run(0, "iam", "generate-service-last-accessed-details", "--arn", arn, "--granularity", "ACTION_LEVEL")
	job, _ := gen["JobId"].(string)
	if job == "" {
		t.Fatalf("generate: %v", gen)
	}
	if got := run(0, "iam", "get-service-last-accessed-details", "--job-id", job); got["JobStatus"] != "IN_PROGRESS" {
		t.Fatalf("first read %v", got)
	}
	got := run(0, "iam", "get-service-last-accessed-details", "--job-id", job)
	svcs, _ := got["ServicesLastAccessed"].([]any)
	if got["JobStatus"] != "COMPLETED" || len(svcs) == 0 {
		t.Fatalf("second read %v", got)
	}
	usedIAM := false
	for _, s := range svcs {
		m := s.(map[string]any)
		if m["ServiceNamespace"] == "iam" && m["LastAuthenticated"] != nil && m["LastAuthenticatedEntity"] == arn && m["LastAuthenticatedRegion"] == "us-east-1" {
			acts, _ := m["TrackedActionsLastAccessed"].([]any)
			for _, a := range acts {
				usedIAM = usedIAM || a.(map[string]any)["ActionName"] == "GenerateServiceLastAccessedDetails"
			}
		}
	}
	if !usedIAM {
		t.Fatalf("the responder's own IAM call is not in the report: %v", svcs)
	}
	if e := run(255, "iam", "get-service-last-accessed-details", "--job-id", "00000000-0000-4000-8000-000000000000"); !strings.Contains(e["stderr"].(string), "InvalidInput") {
		t.Fatalf("unknown job: %v", e)
	}

	st := run(0, "configservice", "describe-configuration-recorder-status", "--region", "us-east-1")
	list, _ := st["ConfigurationRecordersStatus"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["recording"] != true {
		t.Fatalf("recorder status %v", st)
	}
	if st := run(0, "configservice", "describe-configuration-recorder-status", "--region", "eu-west-1"); len(st["ConfigurationRecordersStatus"].([]any)) != 0 {
		t.Fatalf("eu-west-1 recorder status %v", st)
	}
	u := run(0, "iam", "create-user", "--user-name", "cli-user")
	uid := u["User"].(map[string]any)["UserId"].(string)
	h := run(0, "configservice", "get-resource-config-history", "--resource-type", "AWS::IAM::User", "--resource-id", uid, "--region", "us-east-1")
	items, _ := h["configurationItems"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["configurationItemStatus"] != "ResourceDiscovered" || items[0].(map[string]any)["resourceName"] != "cli-user" {
		t.Fatalf("history %v", h)
	}
	if e := run(255, "configservice", "get-resource-config-history", "--resource-type", "AWS::IAM::User", "--resource-id", uid, "--region", "eu-west-1"); !strings.Contains(e["stderr"].(string), "ResourceNotDiscoveredException") {
		t.Fatalf("eu-west-1 history: %v", e)
	}
}
