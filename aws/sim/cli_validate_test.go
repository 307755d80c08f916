package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// awsCLIv1 finds an AWS CLI whose validate-logs can be pointed at the
// drill: version 1 with a botocore that reads AWS_ENDPOINT_URL (1.31+).
// validate-logs hands --endpoint-url to its CloudTrail client only; its
// S3 clients (S3ClientProvider) are made without one, so they reach the
// drill only through AWS_ENDPOINT_URL. Debian's CLI v2 (2.9) predates that
// variable and is not usable here. A pyenv shim is resolved to the real
// program, as the test runs it with a HOME of its own.
func awsCLIv1() string {
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

// validator is an AWS CLI that runs validate-logs against the drill.
type validator struct {
	name, bin string
	// proxied: the CLI's S3 clients reach the drill through s3Proxy
	// (CLI v2 2.9, which cannot be given S3's endpoint any other way).
	proxied bool
}

// validators lists the CLIs found: v1 through AWS_ENDPOINT_URL, v2
// (/usr/bin/aws) through the HTTPS proxy.
func validators() []validator {
	var out []validator
	if v1 := awsCLIv1(); v1 != "" {
		out = append(out, validator{name: "v1", bin: v1})
	}
	if v, err := exec.Command("/usr/bin/aws", "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(v), "aws-cli/2.") {
		out = append(out, validator{name: "v2", bin: "/usr/bin/aws", proxied: true})
	}
	return out
}

// validateLogs runs `aws cloudtrail validate-logs` against the drill from
// from to the drill's now, and returns its exit code, stdout and stderr.
func validateLogs(t *testing.T, cli validator, env *testEnv, from time.Time, extra ...string) (int, string, string) {
	t.Helper()
	bin := cli.bin
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config")
	if err := os.WriteFile(cfg, []byte("[default]\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp := env.sim.Responder()
	arn := "arn:aws:cloudtrail:us-east-1:" + env.sim.AccountID() + ":trail/management-events"
	cmd := exec.Command(bin, "cloudtrail", "validate-logs", "--trail-arn", arn, "--verbose",
		"--start-time", from.UTC().Format(time.RFC3339), "--end-time", env.clock.Now().UTC().Format(time.RFC3339),
		"--endpoint-url", env.endpoint, "--region", "us-east-1")
	cmd.Args = append(cmd.Args, extra...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + cfg,
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + resp.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + resp.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL=" + env.endpoint, "AWS_MAX_ATTEMPTS=1"}
	if cli.proxied {
		proxy, ca := s3Proxy(t, env.endpoint)
		cmd.Env = append(cmd.Env, "HTTPS_PROXY="+proxy, "AWS_CA_BUNDLE="+ca)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestAWSCLIValidateLogs runs the AWS CLI's own validator over the
// drill's trail: intact, then after each move an attacker with S3 and
// CloudTrail rights can make, the CLI reports what AWS's would.
func TestAWSCLIValidateLogs(t *testing.T) {
	clis := validators()
	if len(clis) == 0 {
		t.Skip("no AWS CLI that validate-logs can point at the drill is installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per run")
	}
	ctx := context.Background()
	// logKey and digestKey pick an object of the second hour.
	logKey := func(t *testing.T, env *testEnv) string {
		ks := listKeys(t, env, "AWSLogs/"+env.sim.AccountID()+"/CloudTrail/us-east-1/")
		return ks[len(ks)/2]
	}
	digestKey := func(t *testing.T, env *testEnv) string {
		ks := listKeys(t, env, "AWSLogs/"+env.sim.AccountID()+"/CloudTrail-Digest/us-east-1/")
		return ks[1]
	}
	put := func(t *testing.T, env *testEnv, key string, body []byte, meta map[string]string) {
		bucket := env.sim.TrailBucket()
		if _, err := env.s3(env.sim.Responder()).PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key,
			Body: bytes.NewReader(body), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	del := func(t *testing.T, env *testEnv, key string) {
		bucket := env.sim.TrailBucket()
		if _, err := env.s3(env.sim.Responder()).DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
			t.Fatal(err)
		}
	}
	trailName := aws.String("management-events")
	cases := []struct {
		name string
		move func(t *testing.T, env *testEnv) string // returns what the CLI must print on stderr
		code int
	}{
		{"intact", func(t *testing.T, env *testEnv) string { return "" }, 0},
		{"log file edited", func(t *testing.T, env *testEnv) string {
			k := logKey(t, env)
			put(t, env, k, gzipBytes([]byte(`{"Records":[]}`)), nil)
			return "Log file\ts3://" + env.sim.TrailBucket() + "/" + k + "\tINVALID: hash value doesn't match"
		}, 1},
		{"log file deleted", func(t *testing.T, env *testEnv) string {
			k := logKey(t, env)
			del(t, env, k)
			return "Log file\ts3://" + env.sim.TrailBucket() + "/" + k + "\tINVALID: not found"
		}, 1},
		{"digest deleted", func(t *testing.T, env *testEnv) string {
			k := digestKey(t, env)
			del(t, env, k)
			return "Digest file\ts3://" + env.sim.TrailBucket() + "/" + k + "\tINVALID: not found"
		}, 1},
		{"digest edited", func(t *testing.T, env *testEnv) string {
			k := digestKey(t, env)
			gz, meta := getObject(t, env, k)
			raw := bytes.Replace(gunzip(t, gz), []byte(`"logFiles":[{`), []byte(`"logFiles":[{"x":1,`), 1)
			put(t, env, k, gzipBytes(raw), meta) // the signature kept
			return "Digest file\ts3://" + env.sim.TrailBucket() + "/" + k + "\tINVALID: signature verification failed"
		}, 1},
		{"logging stopped for an hour", func(t *testing.T, env *testEnv) string {
			ct := env.ct(env.sim.Responder(), "us-east-1")
			if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: trailName}); err != nil {
				t.Fatal(err)
			}
			env.clock.Advance(90 * time.Minute)
			if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: trailName}); err != nil {
				t.Fatal(err)
			}
			busy(t, env, 2*time.Hour)
			return "No log files were delivered by CloudTrail between"
		}, 0},
		{"trail deleted and made again", func(t *testing.T, env *testEnv) string {
			ct := env.ct(env.sim.Responder(), "us-east-1")
			if _, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: trailName}); err != nil {
				t.Fatal(err)
			}
			env.clock.Advance(90 * time.Minute)
			bucket := env.sim.TrailBucket()
			if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: trailName, S3BucketName: &bucket,
				IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)}); err != nil {
				t.Fatal(err)
			}
			if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: trailName}); err != nil {
				t.Fatal(err)
			}
			busy(t, env, 2*time.Hour)
			return "No log files were delivered by CloudTrail between"
		}, 0},
	}
	for _, cli := range clis {
		for _, tc := range cases {
			t.Run(cli.name+"/"+tc.name, func(t *testing.T) {
				env := newEnv(t, Options{LookupRate: 1000})
				born := env.clock.Now()
				busy(t, env, 3*time.Hour)
				want := tc.move(t, env)
				env.clock.Advance(time.Minute)
				code, stdout, stderr := validateLogs(t, cli, env, born)
				if code != tc.code || !strings.Contains(stderr, want) || want == "" && stderr != "" {
					t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr:\n%s\nwant on stderr: %q", code, tc.code, stdout, stderr, want)
				}
				if !strings.Contains(stdout, "digest files valid") || !strings.Contains(stdout, "Results found for") {
					t.Fatalf("stdout:\n%s", stdout)
				}
				if tc.name == "intact" && (strings.Contains(stdout, "INVALID") || !strings.Contains(stdout, "log files valid")) {
					t.Fatalf("intact trail:\n%s", stdout)
				}
			})
		}
	}
}

// TestAWSCLIDigestCalls checks the wire format of the calls validation
// makes with the AWS CLI's own commands: list-public-keys (Value base64 of
// a PKCS#1 DER key), head-object and get-object of a digest (its
// signature metadata, under lower-case names).
func TestAWSCLIDigestCalls(t *testing.T) {
	clis := validators()
	if len(clis) == 0 {
		t.Skip("no AWS CLI installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per run")
	}
	env := newEnv(t, Options{LookupRate: 1000})
	born := env.clock.Now()
	busy(t, env, 70*time.Minute)
	digest := listKeys(t, env, "AWSLogs/"+env.sim.AccountID()+"/CloudTrail-Digest/us-east-1/")[0]
	_, meta := getObject(t, env, digest)
	for _, cli := range clis {
		t.Run(cli.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "config")
			if err := os.WriteFile(cfg, []byte("[default]\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			resp := env.sim.Responder()
			run := func(args ...string) map[string]any {
				t.Helper()
				cmd := exec.Command(cli.bin, append(args, "--output", "json", "--endpoint-url", env.endpoint, "--region", "us-east-1")...)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "AWS_CONFIG_FILE=" + cfg,
					"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(dir, "none"), "AWS_EC2_METADATA_DISABLED=true",
					"AWS_ACCESS_KEY_ID=" + resp.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + resp.SecretAccessKey, "AWS_MAX_ATTEMPTS=1"}
				out, err := cmd.Output()
				if err != nil {
					if ee, ok := err.(*exec.ExitError); ok {
						t.Fatalf("%v: %s", args, ee.Stderr)
					}
					t.Fatal(err)
				}
				var m map[string]any
				if err := json.Unmarshal(out, &m); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, out)
				}
				return m
			}
			keys := run("cloudtrail", "list-public-keys", "--start-time", born.UTC().Format(time.RFC3339))
			list, _ := keys["PublicKeyList"].([]any)
			if len(list) != 1 {
				t.Fatalf("list-public-keys: %v", keys)
			}
			k := list[0].(map[string]any)
			if v, _ := k["Value"].(string); !strings.HasPrefix(v, "MIIBCgKCAQEA") || len(k["Fingerprint"].(string)) != 32 {
				t.Fatalf("public key %v", k)
			}
			for _, args := range [][]string{{"s3api", "head-object"}, {"s3api", "get-object"}} {
				args = append(args, "--bucket", env.sim.TrailBucket(), "--key", digest)
				if args[1] == "get-object" {
					args = append(args, filepath.Join(dir, "digest.json.gz"))
				}
				m := run(args...)
				md, _ := m["Metadata"].(map[string]any)
				if md["signature"] != meta["signature"] || md["signature-algorithm"] != "SHA256withRSA" {
					t.Fatalf("%s: metadata %v", args[1], md)
				}
			}
		})
	}
}
