package scenario

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/sim"
)

// drill is a sim serving the leaked-key scenario at high speed.
type drill struct {
	sim      *sim.Sim
	sc       *Scenario
	endpoint string
}

func startDrill(t *testing.T, seed uint64, speed float64) *drill {
	t.Helper()
	s := sim.New(sim.Options{Seed: seed, Speed: speed})
	ctx, cancel := context.WithCancel(context.Background())
	endpoint, err := s.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := New(DefaultScenario, s, endpoint, Options{Seed: seed, AttackAfter: 2, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = s.Close()
	})
	return &drill{sim: s, sc: sc, endpoint: endpoint}
}

// responder returns an SDK config for the console's credentials, with the
// standard retryer (LookupEvents throttles at 2 requests per second).
func (d *drill) responder(region string) aws.Config {
	c := d.sim.Responder()
	return aws.Config{Region: region, BaseEndpoint: aws.String(d.endpoint), HTTPClient: HTTPClient(""),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		Retryer:     func() aws.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 10) }}
}

// waitFor polls cond until it holds; the deadline only bounds a broken run.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kinds returns the kinds of the attacker's credentials that signed calls.
func (d *drill) kinds(calls []sim.Call) map[string]int {
	byKey := map[string]string{}
	for _, h := range d.sc.Attacker().Holds() {
		byKey[h.AccessKeyID] = h.Kind
	}
	out := map[string]int{}
	for _, c := range calls {
		out[byKey[c.AccessKeyID]]++
	}
	return out
}

// revokeOlderSessions is the AWSRevokeOlderSessions document for "now",
// rounded up to the next second: the condition compares at second
// precision, and a token minted earlier in the same second must be caught.
func revokeOlderSessions(now time.Time) string {
	at := now.UTC().Truncate(time.Second).Add(time.Second).Format(time.RFC3339)
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}`, at)
}

const denyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

func TestLeakedKeyEndToEnd(t *testing.T) {
	d := startDrill(t, 11, 2000)
	ctx := context.Background()
	a := d.sc.Attacker()
	select {
	case <-a.Established():
	case <-time.After(60 * time.Second):
		t.Fatal("the attacker never established its footholds")
	}
	holds := map[string]bool{}
	for _, h := range a.Holds() {
		holds[h.Kind] = true
	}
	for _, k := range kindOrder {
		if !holds[k] {
			t.Fatalf("attacker holds %v, missing %s", a.Holds(), k)
		}
	}
	leaked, user, backdoor := d.sc.LeakedKey(), d.sc.LeakedUser(), a.BackdoorUser()

	// The attacker calls from its own loopback address where the system
	// has one (Linux: all of 127/8), else from 127.0.0.1.
	attackerFrom := a.CallsSince(time.Time{})[0].SourceIP
	if attackerFrom != attackerIP {
		t.Logf("the attacker's calls come from %s: this system cannot bind %s", attackerFrom, attackerIP)
	}
	t.Run("attribution in LookupEvents", func(t *testing.T) {
		ct := cloudtrail.NewFromConfig(d.responder("us-east-1"))
		out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
			{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(leaked)}}})
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, ev := range out.Events {
			names[aws.ToString(ev.EventName)] = true
			if aws.ToString(ev.Username) != user {
				t.Errorf("%s by %q, want %s", aws.ToString(ev.EventName), aws.ToString(ev.Username), user)
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec); err != nil {
				t.Fatal(err)
			}
			if rec["sourceIPAddress"] != attackerFrom || rec["userAgent"] != attackerAgent {
				t.Errorf("%s from %v with agent %v, want %s and the attacker's agent", aws.ToString(ev.EventName), rec["sourceIPAddress"], rec["userAgent"], attackerFrom)
			}
		}
		for _, want := range []string{"GetCallerIdentity", "ListUsers", "CreateUser", "AttachUserPolicy", "CreateLoginProfile",
			"CreateAccessKey", "GetSessionToken", "GetFederationToken", "AssumeRole", "StopLogging"} {
			if !names[want] {
				t.Errorf("no %s by the leaked key in us-east-1 (have %v)", want, names)
			}
		}
		region := a.Regions()[0]
		out, err = cloudtrail.NewFromConfig(d.responder(region)).LookupEvents(ctx, &cloudtrail.LookupEventsInput{
			LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("RunInstances")}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) == 0 {
			t.Fatalf("no RunInstances in %s", region)
		}
		for _, ev := range out.Events {
			var rec struct {
				UserIdentity struct {
					AccessKeyID string `json:"accessKeyId"`
				} `json:"userIdentity"`
				ResponseElements struct {
					InstancesSet struct {
						Items []struct {
							InstanceID string `json:"instanceId"`
						} `json:"items"`
					} `json:"instancesSet"`
				} `json:"responseElements"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(ev.CloudTrailEvent)), &rec); err != nil {
				t.Fatal(err)
			}
			if !a.owns(rec.UserIdentity.AccessKeyID) || len(rec.ResponseElements.InstancesSet.Items) == 0 ||
				!strings.HasPrefix(rec.ResponseElements.InstancesSet.Items[0].InstanceID, "i-") {
				t.Errorf("RunInstances record: key %s, instances %v", rec.UserIdentity.AccessKeyID, rec.ResponseElements.InstancesSet.Items)
			}
		}
	})

	t.Run("attribution in S3 files", func(t *testing.T) {
		client := s3.NewFromConfig(d.responder("us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
		prefix := "AWSLogs/" + d.sim.AccountID() + "/CloudTrail/us-east-1/"
		found := map[string]bool{}
		waitFor(t, "CreateUser by the leaked key in an S3 log file", func() bool {
			out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(d.sim.TrailBucket()), Prefix: aws.String(prefix)})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.sim.TrailBucket()), Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				raw, err := io.ReadAll(obj.Body)
				_ = obj.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				zr, err := gzip.NewReader(bytes.NewReader(raw))
				if err != nil {
					t.Fatalf("%s: %v", aws.ToString(o.Key), err)
				}
				var file struct {
					Records []struct {
						EventName    string `json:"eventName"`
						UserIdentity struct {
							AccessKeyID string `json:"accessKeyId"`
							UserName    string `json:"userName"`
						} `json:"userIdentity"`
					} `json:"Records"`
				}
				if err := json.NewDecoder(zr).Decode(&file); err != nil {
					t.Fatalf("%s: %v", aws.ToString(o.Key), err)
				}
				for _, r := range file.Records {
					if r.UserIdentity.AccessKeyID == leaked && r.UserIdentity.UserName == user {
						found[r.EventName] = true
					}
				}
			}
			return found["CreateUser"] && found["GetSessionToken"]
		})
	})

	im := iam.NewFromConfig(d.responder("us-east-1"))

	// Phase 2: deactivate every key of the leaked user (the leaked one and
	// the one the attacker made on it). The temporary keys still work.
	keys, err := im.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if _, err := im.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: k.AccessKeyId,
			Status: iamtypes.StatusTypeInactive}); err != nil {
			t.Fatal(err)
		}
	}
	t1 := d.sim.Now()
	waitFor(t, "the attacker to work through temporary keys", func() bool {
		k := d.kinds(a.SuccessesSince(t1))
		return k[KindSession]+k[KindFederation]+k[KindRole] >= 3
	})
	if k := d.kinds(a.SuccessesSince(t1)); k[KindLeaked]+k[KindOwnKey] > 0 {
		t.Errorf("deactivated keys still worked: %v", k)
	}

	// Phase 3: revoke older sessions of the user and of the role it assumed.
	// Only the backdoor user is left.
	doc := revokeOlderSessions(d.sim.Now())
	if _, err := im.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("AWSRevokeOlderSessions"),
		PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := im.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(d.sc.AdminRole()), PolicyName: aws.String("AWSRevokeOlderSessions"),
		PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	// The deny takes effect from its own date, a moment from now.
	waitFor(t, "the revocation date to pass", func() bool { return !d.sim.Now().Before(mustTime(t, doc)) })
	t2 := d.sim.Now()
	waitFor(t, "the attacker to fall back to the backdoor user", func() bool { return d.kinds(a.SuccessesSince(t2))[KindBackdoor] >= 2 })
	if k := d.kinds(a.SuccessesSince(t2)); len(k) != 1 {
		t.Errorf("after revoking sessions, successes by %v, want the backdoor only", k)
	}

	// Phase 4: quarantine the backdoor user. Nothing works any more.
	if _, err := im.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(backdoor), PolicyName: aws.String("quarantine"),
		PolicyDocument: aws.String(denyAll)}); err != nil {
		t.Fatal(err)
	}
	t3 := d.sim.Now()
	waitFor(t, "the attacker to try again after the quarantine", func() bool {
		var failed []string
		for _, c := range a.CallsSince(t3) {
			if !c.OK() {
				failed = append(failed, c.Operation)
			}
		}
		return slices.Contains(failed, "RunInstances") && slices.Contains(failed, "ListUsers")
	})
	if got := a.SuccessesSince(t3); len(got) > 0 {
		t.Errorf("after complete containment the attacker still succeeded %d times, first %s %s", len(got), got[0].Operation, got[0].AccessKeyID)
	}
	// The background actors were never disturbed.
	if !slices.ContainsFunc(d.sim.Calls(), func(c sim.Call) bool { return c.SourceIP == ciIP && c.Operation == "RunInstances" && c.OK() }) {
		t.Log("note: the CI actor's calls did not come from its own loopback address (no 127.0.0.10 on this system)")
	}
}

func mustTime(t *testing.T, doc string) time.Time {
	t.Helper()
	var p struct {
		Statement []struct {
			Condition map[string]map[string]string
		}
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339, p.Statement[0].Condition["DateLessThan"]["aws:TokenIssueTime"])
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func TestUnknownScenario(t *testing.T) {
	s := sim.New(sim.Options{Seed: 1})
	cases := []struct {
		name string
		ok   bool
	}{{DefaultScenario, true}, {"ransomware", false}, {"", false}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.ok {
				// A second setup on the same sim would clash; use a fresh one.
				s = sim.New(sim.Options{Seed: 1})
			}
			_, err := New(tc.name, s, "http://127.0.0.1:1", Options{})
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestSetupDeterministic(t *testing.T) {
	build := func() (string, string) {
		s := sim.New(sim.Options{Seed: 5})
		sc, err := New(DefaultScenario, s, "http://127.0.0.1:1", Options{Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		return sc.LeakedKey(), sc.rotator
	}
	k1, r1 := build()
	k2, r2 := build()
	if k1 != k2 || r1 != r2 || !strings.HasPrefix(k1, "AKIA") {
		t.Fatalf("seed 5 gave %s/%s and %s/%s", k1, r1, k2, r2)
	}
}
