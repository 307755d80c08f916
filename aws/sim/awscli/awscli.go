// Package awscli runs the AWS CLI, the independent client, against a
// drill account (aws/sim), for tests: it finds the CLIs installed that
// can be pointed at the drill, gives each a HOME, configuration and
// credentials of its own, and reaches the drill's S3 from the commands
// that build their S3 clients without --endpoint-url (validate-logs).
// Standard library only.
package awscli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// CLI is an AWS CLI that can be pointed at the drill.
type CLI struct {
	Name, Bin string
	// Proxied: its S3 clients reach the drill through S3Proxy (CLI v2
	// 2.9, which cannot be given S3's endpoint any other way).
	Proxied bool
}

// v1 finds an AWS CLI whose validate-logs can be pointed at the drill:
// version 1 with a botocore that reads AWS_ENDPOINT_URL (1.31+).
// validate-logs hands --endpoint-url to its CloudTrail client only; its
// S3 clients (S3ClientProvider) are made without one, so they reach the
// drill only through AWS_ENDPOINT_URL. Debian's CLI v2 (2.9) predates that
// variable. A pyenv shim is resolved to the real program, as the CLI is
// run with a HOME of its own.
func v1() string {
	p, err := exec.LookPath("aws")
	if err != nil {
		return ""
	}
	if strings.Contains(p, "/shims/") {
		if out, err := exec.Command("pyenv", "which", "aws").Output(); err == nil {
			p = strings.TrimSpace(string(out))
		}
	}
	out, err := exec.Command(p, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "aws-cli/1.") {
		return ""
	}
	return p
}

// Find lists the CLIs installed: v1 through AWS_ENDPOINT_URL, v2
// (/usr/bin/aws, as Debian's awscli package installs it) through the
// HTTPS proxy.
func Find() []CLI {
	var out []CLI
	if p := v1(); p != "" {
		out = append(out, CLI{Name: "v1", Bin: p})
	}
	if v, err := exec.Command("/usr/bin/aws", "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(v), "aws-cli/2.") {
		out = append(out, CLI{Name: "v2", Bin: "/usr/bin/aws", Proxied: true})
	}
	return out
}

// Run runs the CLI with args against the drill at endpoint as the key
// keyID/secret (us-east-1, path-style S3, one attempt, no other
// configuration or credentials) and returns its exit code, stdout and
// stderr. args should carry --endpoint-url for the command's own client.
func (c CLI) Run(t testing.TB, endpoint, keyID, secret string, args ...string) (int, string, string) {
	t.Helper()
	return c.Start(t, endpoint, keyID, secret, args...)()
}

// Start starts what Run runs and returns the function that waits for it,
// to be called on the test's goroutine: the test can do other work while
// the CLI (a second or more of Python) runs.
func (c CLI) Start(t testing.TB, endpoint, keyID, secret string, args ...string) func() (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[default]\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(c.Bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + cfg,
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + keyID, "AWS_SECRET_ACCESS_KEY=" + secret,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL=" + endpoint, "AWS_MAX_ATTEMPTS=1"}
	if c.Proxied {
		proxy, ca := S3Proxy(t, endpoint)
		cmd.Env = append(cmd.Env, "HTTPS_PROXY="+proxy, "AWS_CA_BUNDLE="+ca)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := false
	t.Cleanup(func() {
		if !waited { // the test stopped before it waited
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return func() (int, string, string) {
		t.Helper()
		waited = true
		err := cmd.Wait()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, stdout.String(), stderr.String()
	}
}
