package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/sim/awscli"
)

// validateLogs runs `aws cloudtrail validate-logs` against the drill from
// from to the drill's now, and returns its exit code, stdout and stderr.
func validateLogs(t *testing.T, cli awscli.CLI, env *testEnv, from time.Time, extra ...string) (int, string, string) {
	t.Helper()
	resp := env.sim.Responder()
	arn := "arn:aws:cloudtrail:us-east-1:" + env.sim.AccountID() + ":trail/management-events"
	args := []string{"cloudtrail", "validate-logs", "--trail-arn", arn, "--verbose",
		"--start-time", from.UTC().Format(time.RFC3339), "--end-time", env.clock.Now().UTC().Format(time.RFC3339),
		"--endpoint-url", env.endpoint, "--region", "us-east-1"}
	return cli.Run(t, env.endpoint, resp.AccessKeyID, resp.SecretAccessKey, append(args, extra...)...)
}

// TestAWSCLIValidateLogs runs the AWS CLI's own validator over the
// drill's trail: intact, then after each move an attacker with S3 and
// CloudTrail rights can make, the CLI reports what AWS's would.
func TestAWSCLIValidateLogs(t *testing.T) {
	clis := awscli.Find()
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
			t.Run(cli.Name+"/"+tc.name, func(t *testing.T) {
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
	clis := awscli.Find()
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
		t.Run(cli.Name, func(t *testing.T) {
			dir := t.TempDir()
			resp := env.sim.Responder()
			run := func(args ...string) map[string]any {
				t.Helper()
				code, out, errOut := cli.Run(t, env.endpoint, resp.AccessKeyID, resp.SecretAccessKey,
					append(args, "--output", "json", "--endpoint-url", env.endpoint, "--region", "us-east-1")...)
				if code != 0 {
					t.Fatalf("%v: exit %d: %s", args, code, errOut)
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(out), &m); err != nil {
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
