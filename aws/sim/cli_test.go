package sim

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// awsCLI finds the AWS CLI to check against, preferring version 2 (the
// issue's independent client; Debian's awscli package installs it as
// /usr/bin/aws) over a version 1 found first on PATH.
func awsCLI() string {
	var found []string
	for _, c := range []string{"/usr/bin/aws"} {
		if _, err := os.Stat(c); err == nil {
			found = append(found, c)
		}
	}
	if p, err := exec.LookPath("aws"); err == nil {
		found = append(found, p)
	}
	for _, c := range found {
		if out, err := exec.Command(c, "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(out), "aws-cli/2") {
			return c
		}
	}
	if len(found) > 0 {
		return found[0]
	}
	return ""
}

// TestAWSCLI checks the wire formats with an independent client: the AWS
// CLI (Debian's awscli package in CI). It skips when aws is not installed.
func TestAWSCLI(t *testing.T) {
	bin := awsCLI()
	if bin == "" {
		t.Skip("aws CLI not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{LookupRate: 1000})
	key := leak(t, env)
	if _, err := env.sts(key, "us-east-1").GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(10 * time.Minute) // a log file is delivered
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[default]\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp := env.sim.Responder()
	run := func(args ...string) (map[string]any, error) {
		// --endpoint-url as well as AWS_ENDPOINT_URL: Debian's CLI v2
		// (2.9) predates the environment variable.
		cmd := exec.Command(bin, append(args, "--output", "json", "--endpoint-url", env.endpoint)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + cfg,
			"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
			"AWS_ACCESS_KEY_ID=" + resp.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + resp.SecretAccessKey,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL=" + env.endpoint, "AWS_MAX_ATTEMPTS=1"}
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
		var m map[string]any
		if len(strings.TrimSpace(string(out))) == 0 {
			return map[string]any{}, nil
		}
		return m, json.Unmarshal(out, &m)
	}
	if out, err := exec.Command(bin, "--version").CombinedOutput(); err == nil {
		t.Logf("%s", strings.TrimSpace(string(out)))
	}
	cases := []struct {
		name  string
		args  []string
		check func(map[string]any) bool
		err   string // a substring of the CLI's error output
	}{
		{"sts get-caller-identity", []string{"sts", "get-caller-identity"}, func(m map[string]any) bool {
			return m["Account"] == env.sim.AccountID() && strings.HasSuffix(m["Arn"].(string), ":user/incident-responder")
		}, ""},
		{"iam list-access-keys", []string{"iam", "list-access-keys", "--user-name", "leaky"}, func(m map[string]any) bool {
			keys, _ := m["AccessKeyMetadata"].([]any)
			return len(keys) == 1 && keys[0].(map[string]any)["AccessKeyId"] == key.AccessKeyID
		}, ""},
		// The impact watch's truth check (inventory.LastUsed).
		{"iam get-access-key-last-used", []string{"iam", "get-access-key-last-used", "--access-key-id", key.AccessKeyID}, func(m map[string]any) bool {
			lu, _ := m["AccessKeyLastUsed"].(map[string]any)
			return m["UserName"] == "leaky" && lu["ServiceName"] == "sts" && lu["Region"] == "us-east-1" && lu["LastUsedDate"] != nil
		}, ""},
		{"iam get-access-key-last-used unknown", []string{"iam", "get-access-key-last-used", "--access-key-id", "AKIAUNKNOWN000000000"}, nil, "AccessDenied"},
		{"iam get-user missing", []string{"iam", "get-user", "--user-name", "nobody"}, nil, "NoSuchEntity"},
		{"cloudtrail lookup-events", []string{"cloudtrail", "lookup-events", "--lookup-attributes",
			"AttributeKey=AccessKeyId,AttributeValue=" + key.AccessKeyID}, func(m map[string]any) bool {
			evs, _ := m["Events"].([]any)
			return len(evs) == 1 && evs[0].(map[string]any)["EventName"] == "GetCallerIdentity"
		}, ""},
		{"cloudtrail describe-trails", []string{"cloudtrail", "describe-trails"}, func(m map[string]any) bool {
			tl, _ := m["trailList"].([]any)
			return len(tl) == 1
		}, ""},
		{"s3api list-objects-v2", []string{"s3api", "list-objects-v2", "--bucket", env.sim.TrailBucket()}, func(m map[string]any) bool {
			c, _ := m["Contents"].([]any)
			return len(c) >= 1 && strings.HasPrefix(c[0].(map[string]any)["Key"].(string), "AWSLogs/"+env.sim.AccountID()+"/CloudTrail/")
		}, ""},
	}
	env.sim.mu.Lock()
	_, hasEC2 := env.sim.services["ec2"]
	_, hasLambda := env.sim.services["lambda"]
	env.sim.mu.Unlock()
	if hasEC2 {
		cases = append(cases, struct {
			name  string
			args  []string
			check func(map[string]any) bool
			err   string
		}{"ec2 describe-instances", []string{"ec2", "describe-instances", "--region", "eu-north-1"}, func(m map[string]any) bool {
			_, ok := m["Reservations"]
			return ok
		}, ""})
	}
	if hasLambda {
		cases = append(cases, struct {
			name  string
			args  []string
			check func(map[string]any) bool
			err   string
		}{"lambda list-functions", []string{"lambda", "list-functions", "--region", "eu-north-1"}, func(m map[string]any) bool {
			_, ok := m["Functions"]
			return ok
		}, ""})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := run(tc.args...)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want error %s, got %v", tc.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(m) {
				t.Errorf("unexpected answer %v", m)
			}
		})
	}
}

type cliError struct{ stderr string }

func (e *cliError) Error() string { return strings.TrimSpace(e.stderr) }

// TestAWSCLIIAMFootholds checks the wire format of the role, group and
// login-profile operations with the AWS CLI: it parses the answers (and
// URL-decodes the trust document) with its own models.
func TestAWSCLIIAMFootholds(t *testing.T) {
	bin := awsCLI()
	if bin == "" {
		t.Skip("aws CLI not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{})
	if err := env.sim.AddUser("bob"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	resp := env.sim.Responder()
	run := func(args ...string) (map[string]any, error) {
		cmd := exec.Command(bin, append(args, "--output", "json", "--endpoint-url", env.endpoint)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + filepath.Join(dir, "none"),
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
	acct := env.sim.AccountID()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}]}`
	backdoor := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`
	principal := func(m map[string]any) any {
		doc, _ := m["Role"].(map[string]any)["AssumeRolePolicyDocument"].(map[string]any)
		st, _ := doc["Statement"].([]any)
		if len(st) != 1 {
			return nil
		}
		return st[0].(map[string]any)["Principal"].(map[string]any)["AWS"]
	}
	// In order: each step depends on the ones before.
	steps := []struct {
		name  string
		args  []string
		check func(map[string]any) bool
		err   string
	}{
		{"create-role", []string{"iam", "create-role", "--role-name", "ci", "--assume-role-policy-document", trust}, func(m map[string]any) bool {
			return m["Role"].(map[string]any)["Arn"] == "arn:aws:iam::"+acct+":role/ci" && principal(m) == "arn:aws:iam::"+acct+":root"
		}, ""},
		{"update-assume-role-policy", []string{"iam", "update-assume-role-policy", "--role-name", "ci", "--policy-document", backdoor}, nil, ""},
		{"get-role", []string{"iam", "get-role", "--role-name", "ci"}, func(m map[string]any) bool { return principal(m) == "*" }, ""},
		{"update-assume-role-policy malformed", []string{"iam", "update-assume-role-policy", "--role-name", "ci", "--policy-document", "{"}, nil,
			"MalformedPolicyDocument"},
		{"delete-role", []string{"iam", "delete-role", "--role-name", "ci"}, nil, ""},
		{"create-group", []string{"iam", "create-group", "--group-name", "ops"}, func(m map[string]any) bool {
			return m["Group"].(map[string]any)["GroupName"] == "ops"
		}, ""},
		{"add-user-to-group", []string{"iam", "add-user-to-group", "--group-name", "ops", "--user-name", "bob"}, nil, ""},
		{"attach-group-policy", []string{"iam", "attach-group-policy", "--group-name", "ops", "--policy-arn", "arn:aws:iam::aws:policy/AdministratorAccess"}, nil, ""},
		{"get-group", []string{"iam", "get-group", "--group-name", "ops"}, func(m map[string]any) bool {
			us, _ := m["Users"].([]any)
			return len(us) == 1 && us[0].(map[string]any)["UserName"] == "bob"
		}, ""},
		{"list-attached-group-policies", []string{"iam", "list-attached-group-policies", "--group-name", "ops"}, func(m map[string]any) bool {
			ps, _ := m["AttachedPolicies"].([]any)
			return len(ps) == 1 && ps[0].(map[string]any)["PolicyName"] == "AdministratorAccess"
		}, ""},
		{"list-group-policies", []string{"iam", "list-group-policies", "--group-name", "ops"}, func(m map[string]any) bool {
			ps, ok := m["PolicyNames"].([]any)
			return ok && len(ps) == 0
		}, ""},
		{"get-group missing", []string{"iam", "get-group", "--group-name", "nope"}, nil, "NoSuchEntity"},
		{"create-login-profile", []string{"iam", "create-login-profile", "--user-name", "bob", "--password", "Initial-passw0rd!"}, nil, ""},
		{"update-login-profile", []string{"iam", "update-login-profile", "--user-name", "bob", "--password", "Attacker-passw0rd!",
			"--password-reset-required"}, nil, ""},
		{"get-login-profile", []string{"iam", "get-login-profile", "--user-name", "bob"}, func(m map[string]any) bool {
			return m["LoginProfile"].(map[string]any)["PasswordResetRequired"] == true
		}, ""},
	}
	for _, st := range steps {
		m, err := run(st.args...)
		if st.err != "" {
			if err == nil || !strings.Contains(err.Error(), st.err) {
				t.Fatalf("%s: want error %s, got %v", st.name, st.err, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.check != nil && !st.check(m) {
			t.Fatalf("%s: unexpected answer %v", st.name, m)
		}
	}
	rec := lastRecordOf(t, env.sim, "UpdateLoginProfile")
	if p := rec["requestParameters"].(map[string]any); p["userName"] != "bob" || p["passwordResetRequired"] != true || len(p) != 2 {
		t.Errorf("UpdateLoginProfile requestParameters %v", p)
	}
}
