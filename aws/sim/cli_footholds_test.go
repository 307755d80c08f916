package sim

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// cliRunner returns a function running the AWS CLI against env as the
// responder, in region, answering its JSON output or its error output.
func cliRunner(t *testing.T, env *testEnv, bin string) func(args ...string) (map[string]any, error) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[default]\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp := env.sim.Responder()
	return func(args ...string) (map[string]any, error) {
		cmd := exec.Command(bin, append(args, "--output", "json", "--endpoint-url", env.endpoint)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + cfg,
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
			"AWS_ACCESS_KEY_ID=" + resp.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + resp.SecretAccessKey,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_MAX_ATTEMPTS=1"}
		if p := os.Getenv("PYENV_ROOT"); p != "" {
			cmd.Env = append(cmd.Env, "PYENV_ROOT="+p)
		}
		out, err := cmd.Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				return nil, &cliError{string(ee.Stderr)}
			}
			return nil, err
		}
		m := map[string]any{}
		if len(strings.TrimSpace(string(out))) == 0 {
			return m, nil
		}
		return m, json.Unmarshal(out, &m)
	}
}

// TestAWSCLIFootholds checks the wire formats of the footholds (security
// group rules, function permissions, trails) with the AWS CLI, in the
// order an attacker and then a responder would use them.
func TestAWSCLIFootholds(t *testing.T) {
	bin := awsCLI()
	if bin == "" {
		t.Skip("aws CLI not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{})
	run := cliRunner(t, env, bin)
	if _, err := env.lambda(env.sim.Responder(), "us-east-1").CreateFunction(context.Background(), &lambda.CreateFunctionInput{
		FunctionName: aws.String("exfil"), Runtime: ltypes.RuntimePython312, Handler: aws.String("index.handler"),
		Role: aws.String("arn:aws:iam::" + env.sim.AccountID() + ":role/IncidentResponse"),
		Code: &ltypes.FunctionCode{ZipFile: []byte("PK\x03\x04 not really")}}); err != nil {
		t.Fatal(err)
	}
	var groupID string
	steps := []struct {
		name  string
		args  func() []string
		check func(map[string]any) bool
		err   string
	}{
		{"ec2 create-security-group", func() []string {
			return []string{"ec2", "create-security-group", "--group-name", "ops", "--description", "ops access"}
		}, func(m map[string]any) bool {
			groupID, _ = m["GroupId"].(string)
			return strings.HasPrefix(groupID, "sg-")
		}, ""},
		{"ec2 authorize-security-group-ingress --cidr", func() []string {
			return []string{"ec2", "authorize-security-group-ingress", "--group-id", groupID, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"}
		}, func(m map[string]any) bool {
			rules, _ := m["SecurityGroupRules"].([]any)
			return m["Return"] == true && len(rules) == 1 && dig(rules, 0, "CidrIpv4") == "0.0.0.0/0"
		}, ""},
		{"ec2 authorize duplicate", func() []string {
			return []string{"ec2", "authorize-security-group-ingress", "--group-id", groupID, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"}
		}, nil, "InvalidPermission.Duplicate"},
		{"ec2 describe-security-groups", func() []string {
			return []string{"ec2", "describe-security-groups", "--group-ids", groupID}
		}, func(m map[string]any) bool {
			p := dig(m, "SecurityGroups", 0, "IpPermissions", 0)
			return dig(p, "IpProtocol") == "tcp" && dig(p, "FromPort") == 22.0 && dig(p, "IpRanges", 0, "CidrIp") == "0.0.0.0/0"
		}, ""},
		{"ec2 revoke-security-group-ingress --ip-permissions", func() []string {
			return []string{"ec2", "revoke-security-group-ingress", "--group-id", groupID, "--ip-permissions",
				`[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]`}
		}, func(m map[string]any) bool { return m["Return"] == true }, ""},
		{"ec2 revoke again", func() []string {
			return []string{"ec2", "revoke-security-group-ingress", "--group-id", groupID, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"}
		}, nil, "InvalidPermission.NotFound"},
		{"ec2 delete-security-group", func() []string {
			return []string{"ec2", "delete-security-group", "--group-id", groupID}
		}, func(map[string]any) bool { return true }, ""},
		{"lambda add-permission", func() []string {
			return []string{"lambda", "add-permission", "--function-name", "exfil", "--statement-id", "anyone",
				"--action", "lambda:InvokeFunction", "--principal", "*"}
		}, func(m map[string]any) bool {
			s, _ := m["Statement"].(string)
			return strings.Contains(s, `"Sid":"anyone"`)
		}, ""},
		{"lambda add-permission duplicate", func() []string {
			return []string{"lambda", "add-permission", "--function-name", "exfil", "--statement-id", "anyone",
				"--action", "lambda:InvokeFunction", "--principal", "*"}
		}, nil, "ResourceConflictException"},
		{"lambda get-policy", func() []string { return []string{"lambda", "get-policy", "--function-name", "exfil"} },
			func(m map[string]any) bool {
				s, _ := m["Policy"].(string)
				return strings.Contains(s, `"Id":"default"`)
			}, ""},
		{"lambda remove-permission", func() []string {
			return []string{"lambda", "remove-permission", "--function-name", "exfil", "--statement-id", "anyone"}
		}, func(map[string]any) bool { return true }, ""},
		{"lambda get-function", func() []string { return []string{"lambda", "get-function", "--function-name", "exfil"} },
			func(m map[string]any) bool { return dig(m, "Configuration", "FunctionName") == "exfil" }, ""},
		{"cloudtrail put-event-selectors", func() []string {
			return []string{"cloudtrail", "put-event-selectors", "--trail-name", "management-events", "--event-selectors",
				`[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true}]`}
		}, func(m map[string]any) bool { return dig(m, "EventSelectors", 0, "ReadWriteType") == "WriteOnly" }, ""},
		{"cloudtrail get-event-selectors", func() []string {
			return []string{"cloudtrail", "get-event-selectors", "--trail-name", "management-events"}
		}, func(m map[string]any) bool { return dig(m, "EventSelectors", 0, "ReadWriteType") == "WriteOnly" }, ""},
		{"cloudtrail delete-trail", func() []string {
			return []string{"cloudtrail", "delete-trail", "--name", "management-events"}
		}, func(map[string]any) bool { return true }, ""},
		{"cloudtrail get-trail-status of the deleted trail", func() []string {
			return []string{"cloudtrail", "get-trail-status", "--name", "management-events"}
		}, nil, "TrailNotFoundException"},
		{"cloudtrail create-trail", func() []string {
			return strings.Fields(recreateCommandForTest("management-events", env.sim.TrailBucket()))
		}, func(m map[string]any) bool {
			return m["Name"] == "management-events" && m["IsMultiRegionTrail"] == true
		}, ""},
		{"cloudtrail create-trail again", func() []string {
			return strings.Fields(recreateCommandForTest("management-events", env.sim.TrailBucket()))
		}, nil, "TrailAlreadyExistsException"},
	}
	for _, st := range steps {
		m, err := run(st.args()...)
		if st.err != "" {
			if err == nil || !strings.Contains(err.Error(), st.err) {
				t.Fatalf("%s: want error %s, got %v", st.name, st.err, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !st.check(m) {
			t.Errorf("%s: unexpected answer %v", st.name, m)
		}
	}
}

// recreateCommandForTest is the create-trail half of the command
// contain.RecreateTrailCommand prints (the sim cannot import contain).
func recreateCommandForTest(name, bucket string) string {
	return "cloudtrail create-trail --name " + name + " --s3-bucket-name " + bucket + " --is-multi-region-trail --region us-east-1"
}
