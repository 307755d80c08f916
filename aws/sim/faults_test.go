package sim

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestFaultInjection(t *testing.T) {
	ctx := context.Background()
	type probe func(env *testEnv, c Credentials) error
	stsCall := func(region string) probe {
		return func(env *testEnv, c Credentials) error {
			_, err := env.sts(c, region).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}
	}
	ctCall := func(region string) probe {
		return func(env *testEnv, c Credentials) error {
			_, err := env.ct(c, region).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
			return err
		}
	}
	iamCall := func(env *testEnv, c Credentials) error {
		_, err := env.iam(c).ListUsers(ctx, &iam.ListUsersInput{})
		return err
	}
	s3Call := func(env *testEnv, c Credentials) error {
		_, err := env.s3(c).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(env.sim.TrailBucket())})
		return err
	}
	cases := []struct {
		name   string
		opts   Options
		call   probe
		code   string
		record bool // a CloudTrail record is written
	}{
		{"latency", Options{Latency: time.Millisecond}, stsCall("eu-west-1"), "", true},
		{"throttled query", Options{ThrottleRate: 1}, stsCall("eu-west-1"), "Throttling", true},
		{"throttled json", Options{ThrottleRate: 1}, ctCall("eu-west-1"), "ThrottlingException", true},
		{"throttled s3", Options{ThrottleRate: 1}, s3Call, "SlowDown", false},
		{"never throttled at rate 0", Options{}, ctCall("eu-west-1"), "", true},
		{"5xx query", Options{ErrorRate: 1}, iamCall, "ServiceFailure", true},
		{"5xx json", Options{ErrorRate: 1}, ctCall("eu-west-1"), "InternalFailure", true},
		{"denied Region query", Options{DeniedRegions: []string{"eu-west-1"}}, stsCall("eu-west-1"), "AccessDenied", true},
		{"denied Region json", Options{DeniedRegions: []string{"eu-west-1"}}, ctCall("eu-west-1"), "AccessDeniedException", true},
		{"denied Region spares others", Options{DeniedRegions: []string{"eu-west-1"}}, ctCall("eu-west-2"), "", true},
		{"denied Region spares IAM", Options{DeniedRegions: []string{"us-east-1"}}, iamCall, "", true},
		{"disabled Region json", Options{DisabledRegions: []string{"af-south-1"}}, ctCall("af-south-1"), "UnrecognizedClientException", false},
		{"unknown Region", Options{}, stsCall("xx-nowhere-1"), "InvalidClientTokenId", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newEnv(t, tc.opts)
			err := tc.call(env, env.sim.Responder())
			if got := errCode(t, err); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
			recs := env.sim.Records()
			if (len(recs) == 1) != tc.record {
				t.Fatalf("%d records, want record=%v", len(recs), tc.record)
			}
			if tc.record {
				var m map[string]any
				_ = json.Unmarshal(recs[0].JSON, &m)
				if got, _ := m["errorCode"].(string); got != tc.code {
					t.Errorf("recorded errorCode %q", got)
				}
			}
			if calls := env.sim.Calls(); len(calls) != 1 || calls[0].ErrorCode != tc.code {
				t.Errorf("calls %+v", calls)
			}
		})
	}
}

// TestDeterminism checks that a seed fixes the account: ids, keys and the
// answers to the same calls.
func TestDeterminism(t *testing.T) {
	run := func(seed uint64) []string {
		env := newEnv(t, Options{Seed: seed, ThrottleRate: 0.5})
		var out []string
		out = append(out, env.sim.AccountID(), env.sim.Responder().AccessKeyID, env.sim.TrailBucket())
		for range 10 {
			out = append(out, errCode(t, func() error {
				_, err := env.sts(env.sim.Responder(), "us-east-1").GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
				return err
			}()))
		}
		return out
	}
	cases := []struct {
		name  string
		a, b  uint64
		equal bool
	}{
		{"same seed", 42, 42, true},
		{"other seed", 42, 43, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := run(tc.a), run(tc.b)
			same := len(a) == len(b)
			for i := range a {
				same = same && a[i] == b[i]
			}
			if same != tc.equal {
				t.Errorf("runs equal=%v, want %v:\n%v\n%v", same, tc.equal, a, b)
			}
		})
	}
}

func TestCredentialsNeverPrintSecrets(t *testing.T) {
	c := Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "s3cr3t", SessionToken: "t0k3n"}
	cases := []struct {
		name string
		got  string
	}{
		{"String", c.String()},
		{"GoString", c.GoString()},
	}
	for _, tc := range cases {
		if tc.got == "" || strings.Contains(tc.got, "s3cr3t") || strings.Contains(tc.got, "t0k3n") {
			t.Errorf("%s: %q", tc.name, tc.got)
		}
	}
}
