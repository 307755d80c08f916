package scenario

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
)

// TestTamper makes each of the attacker's moves against the trail's
// evidence on a drill with a hand-moved clock and reads the result back as
// the responder.
func TestTamper(t *testing.T) {
	clock := sim.NewManualClock(time.Now())
	s := sim.New(sim.Options{Seed: 3, Clock: clock, LookupRate: 1000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endpoint, err := s.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sc, err := New(DefaultScenario, s, endpoint, Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	d := &drill{sim: s, sc: sc, endpoint: endpoint}
	for range 12 { // two hours of calls: log files and digests
		if _, err := sts.NewFromConfig(d.responder("us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Minute)
	}
	c := s3.NewFromConfig(d.responder("us-east-1"), func(o *s3.Options) { o.UsePathStyle = true })
	bucket := s.TrailBucket()
	list := func(prefix string) []string {
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(prefix)})
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, o := range out.Contents {
			ks = append(ks, aws.ToString(o.Key))
		}
		sort.Strings(ks)
		return ks
	}
	etag := func(key string) (string, map[string]string, error) {
		out, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return "", nil, err
		}
		return aws.ToString(out.ETag), out.Metadata, nil
	}
	logs := list("AWSLogs/" + s.AccountID() + "/CloudTrail/us-east-1/")
	digests := list("AWSLogs/" + s.AccountID() + "/CloudTrail-Digest/us-east-1/")
	if len(logs) < 3 || len(digests) != 2 {
		t.Fatalf("%d logs, %d digests", len(logs), len(digests))
	}
	a := sc.Attacker()

	if err := a.Tamper(ctx, TamperDeleteObject, logs[0]); err != nil {
		t.Fatal(err)
	}
	var nf *s3types.NotFound
	if _, _, err := etag(logs[0]); !errors.As(err, &nf) {
		t.Errorf("deleted log file still there: %v", err)
	}
	before, _, _ := etag(logs[1])
	if err := a.Tamper(ctx, TamperOverwriteLog, logs[1]); err != nil {
		t.Fatal(err)
	}
	if after, _, _ := etag(logs[1]); after == before {
		t.Errorf("overwritten log file unchanged")
	}
	before, meta, _ := etag(digests[1])
	if err := a.Tamper(ctx, TamperEditDigest, digests[1]); err != nil {
		t.Fatal(err)
	}
	after, meta2, _ := etag(digests[1])
	if after == before || meta2["signature"] == "" || meta2["signature"] != meta["signature"] {
		t.Errorf("edited digest: etag %s→%s, signature kept %v", before, after, meta2["signature"] == meta["signature"])
	}

	ct := cloudtrail.NewFromConfig(d.responder("us-east-1"))
	status := func() bool {
		st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("management-events")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToBool(st.IsLogging)
	}
	if err := a.Tamper(ctx, TamperStopLogging, "management-events"); err != nil || status() {
		t.Fatalf("stop logging: %v", err)
	}
	clock.Advance(90 * time.Minute)
	if err := a.Tamper(ctx, TamperStartLogging, "management-events"); err != nil || !status() {
		t.Fatalf("start logging: %v", err)
	}
	if err := a.Tamper(ctx, TamperRecreateTrail, "management-events"); err != nil || !status() {
		t.Fatalf("recreate trail: %v", err)
	}
	if err := a.Tamper(ctx, "burn it all", "x"); err == nil || !strings.Contains(err.Error(), "unknown tamper move") {
		t.Fatalf("unknown move: %v", err)
	}
	// The trail moves are the leaked key's, in CloudTrail.
	seen := map[string]bool{}
	for _, r := range s.Records() {
		if strings.Contains(string(r.JSON), sc.LeakedKey()) {
			seen[r.EventName] = true
		}
	}
	for _, op := range []string{"StopLogging", "StartLogging", "DeleteTrail", "CreateTrail"} {
		if !seen[op] {
			t.Errorf("no %s record by the leaked key", op)
		}
	}
}
