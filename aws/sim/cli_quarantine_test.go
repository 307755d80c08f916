package sim

import (
	"strings"
	"testing"
)

// TestAWSCLIQuarantineAndPasswords checks with the AWS CLI v1 the wire
// formats warroom relies on for AWS's quarantine (the attached policy and
// its document as AWS publishes it) and the forced password reset
// (update-login-profile --password-reset-required read back by
// get-login-profile; NoSuchEntity without a password).
func TestAWSCLIQuarantineAndPasswords(t *testing.T) {
	bin := awsCLI()
	if bin == "" {
		t.Skip("aws CLI not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{})
	run := cliRunner(t, env, bin)
	for _, u := range []string{"legacy-reporting", "alice", "nopass"} {
		if err := env.sim.AddUser(u); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.sim.AWSQuarantine("legacy-reporting", quarantineV3); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		args  []string
		check func(map[string]any) bool
		err   string
	}{
		{"list-attached-user-policies", []string{"iam", "list-attached-user-policies", "--user-name", "legacy-reporting"}, func(m map[string]any) bool {
			ps, _ := m["AttachedPolicies"].([]any)
			return len(ps) == 1 && ps[0].(map[string]any)["PolicyArn"] == quarantineV3 && ps[0].(map[string]any)["PolicyName"] == "AWSCompromisedKeyQuarantineV3"
		}, ""},
		{"get-policy-version", []string{"iam", "get-policy-version", "--policy-arn", quarantineV3, "--version-id", "v1"}, func(m map[string]any) bool {
			// The CLI decodes the URL-encoded document into JSON.
			doc, _ := m["PolicyVersion"].(map[string]any)["Document"].(map[string]any)
			st, _ := doc["Statement"].([]any)
			if len(st) != 1 {
				return false
			}
			s := st[0].(map[string]any)
			acts, _ := s["Action"].([]any)
			return s["Effect"] == "Deny" && len(acts) == 89 && acts[0] == "cloudtrail:LookupEvents"
		}, ""},
		{"create-login-profile", []string{"iam", "create-login-profile", "--user-name", "alice", "--password", "Old-passw0rd!", "--no-password-reset-required"},
			func(m map[string]any) bool {
				return m["LoginProfile"].(map[string]any)["PasswordResetRequired"] == false
			}, ""},
		{"update-login-profile", []string{"iam", "update-login-profile", "--user-name", "alice", "--password-reset-required"},
			func(m map[string]any) bool { return true }, ""},
		{"get-login-profile", []string{"iam", "get-login-profile", "--user-name", "alice"},
			func(m map[string]any) bool {
				return m["LoginProfile"].(map[string]any)["PasswordResetRequired"] == true
			}, ""},
		{"update-login-profile back", []string{"iam", "update-login-profile", "--user-name", "alice", "--no-password-reset-required"},
			func(m map[string]any) bool { return true }, ""},
		{"get-login-profile back", []string{"iam", "get-login-profile", "--user-name", "alice"},
			func(m map[string]any) bool {
				return m["LoginProfile"].(map[string]any)["PasswordResetRequired"] == false
			}, ""},
		{"update-login-profile without one", []string{"iam", "update-login-profile", "--user-name", "nopass", "--password-reset-required"}, nil, "NoSuchEntity"},
		{"get-login-profile without one", []string{"iam", "get-login-profile", "--user-name", "nopass"}, nil, "NoSuchEntity"},
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
		if !st.check(m) {
			t.Errorf("%s: unexpected answer %v", st.name, m)
		}
	}
}
