package sim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/session"
)

// testEnv is a sim served over real HTTP on loopback.
type testEnv struct {
	sim      *Sim
	clock    *ManualClock
	endpoint string
}

func newEnv(t *testing.T, opts Options) *testEnv { return newEnvB(t, opts) }

// newEnvB is newEnv for tests and benchmarks.
func newEnvB(t testing.TB, opts Options) *testEnv {
	t.Helper()
	clock := NewManualClock(time.Now())
	if opts.Clock == nil {
		opts.Clock = clock
	}
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	s := New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &testEnv{sim: s, clock: clock, endpoint: srv.URL}
}

// cfg builds an SDK config for creds in region, with retries off so that
// tests see each error as the sim sent it.
func (e *testEnv) cfg(c Credentials, region string) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint:     aws.String(e.endpoint),
		HTTPClient:       session.NewHTTPClient(),
		RetryMaxAttempts: 1,
		Retryer:          func() aws.Retryer { return aws.NopRetryer{} },
	}
}

func (e *testEnv) sts(c Credentials, region string) *sts.Client {
	return sts.NewFromConfig(e.cfg(c, region))
}
func (e *testEnv) iam(c Credentials) *iam.Client { return iam.NewFromConfig(e.cfg(c, "us-east-1")) }
func (e *testEnv) ct(c Credentials, region string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(e.cfg(c, region))
}
func (e *testEnv) s3(c Credentials) *s3.Client {
	return s3.NewFromConfig(e.cfg(c, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
}

// errCode returns the API error code of err, or "" when err is nil.
func errCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode()
}

// lastRecord returns the newest CloudTrail record, decoded.
func lastRecord(t *testing.T, s *Sim) map[string]any {
	t.Helper()
	recs := s.Records()
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	var m map[string]any
	if err := json.Unmarshal(recs[len(recs)-1].JSON, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestAuthentication(t *testing.T) {
	env := newEnv(t, Options{DisabledRegions: []string{"me-south-1"}})
	if err := env.sim.AddUser("alice"); err != nil {
		t.Fatal(err)
	}
	good, err := env.sim.AddKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	badSecret := good
	badSecret.SecretAccessKey = "x" + good.SecretAccessKey[1:]
	unknown := Credentials{AccessKeyID: "AKIAAAAAAAAAAAAAAAAA", SecretAccessKey: good.SecretAccessKey}
	cases := []struct {
		name   string
		creds  Credentials
		region string
		code   string
		record bool
	}{
		{"valid key", good, "eu-west-1", "", true},
		{"bad signature", badSecret, "eu-west-1", "SignatureDoesNotMatch", true},
		{"unknown key", unknown, "eu-west-1", "InvalidClientTokenId", false},
		{"disabled region", good, "me-south-1", "InvalidClientTokenId", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(env.sim.Records())
			out, err := env.sts(tc.creds, tc.region).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
			if got := errCode(t, err); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
			if err == nil && aws.ToString(out.Arn) != "arn:aws:iam::"+env.sim.AccountID()+":user/alice" {
				t.Errorf("arn %q", aws.ToString(out.Arn))
			}
			if got := len(env.sim.Records()) - before; (got == 1) != tc.record {
				t.Fatalf("%d records written, want record=%v", got, tc.record)
			}
			if tc.record {
				rec := lastRecord(t, env.sim)
				if rec["awsRegion"] != tc.region || rec["eventName"] != "GetCallerIdentity" {
					t.Errorf("record region %v name %v", rec["awsRegion"], rec["eventName"])
				}
				if code, _ := rec["errorCode"].(string); code != tc.code {
					t.Errorf("record errorCode %q, want %q", code, tc.code)
				}
			}
			calls := env.sim.Calls()
			if last := calls[len(calls)-1]; last.OK() != (tc.code == "") || last.AccessKeyID != tc.creds.AccessKeyID {
				t.Errorf("call %+v", last)
			}
		})
	}
}
