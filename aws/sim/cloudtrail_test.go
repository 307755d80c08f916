package sim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func lookup(t *testing.T, env *testEnv, region string, in *cloudtrail.LookupEventsInput) ([]cttypes.Event, error) {
	t.Helper()
	var all []cttypes.Event
	p := cloudtrail.NewLookupEventsPaginator(env.ct(env.sim.Responder(), region), in)
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			return all, err
		}
		all = append(all, out.Events...)
	}
	return all, nil
}

func TestLookupEventsAttributes(t *testing.T) {
	env := newEnv(t, Options{LookupRate: 1000})
	ctx := context.Background()
	key := leak(t, env)
	if _, err := env.sts(key, "eu-west-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.sts(key, "eu-west-1").AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + env.sim.AccountID() + ":role/IncidentResponse"), RoleSessionName: aws.String("evil")}); err != nil {
		t.Fatal(err)
	}
	first := env.sim.Records()[0].EventID
	attr := func(k cttypes.LookupAttributeKey, v string) []cttypes.LookupAttribute {
		return []cttypes.LookupAttribute{{AttributeKey: k, AttributeValue: aws.String(v)}}
	}
	cases := []struct {
		name  string
		attrs []cttypes.LookupAttribute
		want  []string // event names, newest first
	}{
		// First, before these lookups' own (read-only) records are visible.
		{"read only", attr(cttypes.LookupAttributeKeyReadOnly, "true"), []string{"AssumeRole", "GetCallerIdentity"}},
		{"access key", attr(cttypes.LookupAttributeKeyAccessKeyId, key.AccessKeyID), []string{"AssumeRole", "GetCallerIdentity"}},
		{"event name", attr(cttypes.LookupAttributeKeyEventName, "AssumeRole"), []string{"AssumeRole"}},
		{"event source", attr(cttypes.LookupAttributeKeyEventSource, "sts.amazonaws.com"), []string{"AssumeRole", "GetCallerIdentity"}},
		{"username", attr(cttypes.LookupAttributeKeyUsername, "leaky"), []string{"AssumeRole", "GetCallerIdentity"}},
		{"resource name", attr(cttypes.LookupAttributeKeyResourceName, "IncidentResponse"), []string{"AssumeRole"}},
		{"resource type", attr(cttypes.LookupAttributeKeyResourceType, "AWS::IAM::Role"), []string{"AssumeRole"}},
		{"event id", attr(cttypes.LookupAttributeKeyEventId, first), []string{"GetCallerIdentity"}},
		{"no match", attr(cttypes.LookupAttributeKeyUsername, "nobody"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := lookup(t, env, "eu-west-1", &cloudtrail.LookupEventsInput{LookupAttributes: tc.attrs})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, aws.ToString(e.EventName))
				var rec map[string]any
				if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil || rec["eventID"] != aws.ToString(e.EventId) {
					t.Errorf("CloudTrailEvent does not hold the record: %v", err)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLookupEventsPagingAndErrors(t *testing.T) {
	env := newEnv(t, Options{LookupRate: 1000})
	ctx := context.Background()
	key := leak(t, env)
	client := env.sts(key, "eu-north-1")
	for range 120 {
		if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
		env.clock.Advance(time.Second)
	}
	byKey := []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key.AccessKeyID)}}
	evs, err := lookup(t, env, "eu-north-1", &cloudtrail.LookupEventsInput{LookupAttributes: byKey})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 120 {
		t.Fatalf("%d events", len(evs))
	}
	for i := 1; i < len(evs); i++ {
		if aws.ToTime(evs[i].EventTime).After(aws.ToTime(evs[i-1].EventTime)) {
			t.Fatalf("not newest first at %d", i)
		}
	}
	// Time window: the 10 newest seconds (event times are whole seconds).
	now := env.clock.Now().Truncate(time.Second)
	evs, err = lookup(t, env, "eu-north-1", &cloudtrail.LookupEventsInput{LookupAttributes: byKey, StartTime: aws.Time(now.Add(-10 * time.Second)), EndTime: aws.Time(now)})
	if err != nil || len(evs) != 10 {
		t.Fatalf("window: %d events, %v", len(evs), err)
	}

	ct := env.ct(env.sim.Responder(), "eu-north-1")
	page, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey, MaxResults: aws.Int32(50)})
	if err != nil || page.NextToken == nil {
		t.Fatalf("first page: %v", err)
	}
	two := append(byKey, cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("x")})
	cases := []struct {
		name string
		in   *cloudtrail.LookupEventsInput
		code string
	}{
		{"token with its parameters", &cloudtrail.LookupEventsInput{LookupAttributes: byKey, NextToken: page.NextToken}, ""},
		{"token with other parameters", &cloudtrail.LookupEventsInput{LookupAttributes: byKey, NextToken: page.NextToken, StartTime: aws.Time(now.Add(-time.Hour))}, "InvalidNextTokenException"},
		{"garbage token", &cloudtrail.LookupEventsInput{NextToken: aws.String("nope")}, "InvalidNextTokenException"},
		{"more than 50", &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)}, "InvalidMaxResultsException"},
		{"two attributes", &cloudtrail.LookupEventsInput{LookupAttributes: two}, "InvalidLookupAttributesException"},
		{"reversed window", &cloudtrail.LookupEventsInput{StartTime: aws.Time(now), EndTime: aws.Time(now.Add(-time.Hour))}, "InvalidTimeRangeException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ct.LookupEvents(ctx, tc.in)
			if got := errCode(t, err); got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
		})
	}
}

func TestLookupEventsThrottling(t *testing.T) {
	env := newEnv(t, Options{})
	ct := env.ct(env.sim.Responder(), "us-east-1")
	other := env.ct(env.sim.Responder(), "eu-west-1")
	cases := []struct {
		name    string
		client  *cloudtrail.Client
		advance time.Duration
		code    string
	}{
		{"first", ct, 0, ""},
		{"second", ct, 0, ""},
		{"third in the same second", ct, 0, "ThrottlingException"},
		{"other Region has its own limit", other, 0, ""},
		{"after a second", ct, time.Second, ""},
	}
	for _, tc := range cases {
		env.clock.Advance(tc.advance)
		_, err := tc.client.LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{})
		if got := errCode(t, err); got != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.code)
		}
	}
}

// s3Records lists the trail bucket and returns every record in every file.
func s3Records(t *testing.T, env *testEnv) (keys []string, records []map[string]any) {
	t.Helper()
	return s3RecordsUnder(t, env, "AWSLogs/")
}

// s3RecordsUnder returns the records of every file under prefix.
func s3RecordsUnder(t *testing.T, env *testEnv, prefix string) (keys []string, records []map[string]any) {
	t.Helper()
	ctx := context.Background()
	c := env.s3(env.sim.Responder())
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(env.sim.TrailBucket()), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(env.sim.TrailBucket()), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(obj.Body)
			_ = obj.Body.Close()
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s is not gzip: %v", aws.ToString(o.Key), err)
			}
			var file struct{ Records []map[string]any }
			if err := json.NewDecoder(zr).Decode(&file); err != nil {
				t.Fatal(err)
			}
			records = append(records, file.Records...)
		}
	}
	return keys, records
}

func TestDeliveryAndStopLogging(t *testing.T) {
	env := newEnv(t, Options{DeliveryDelay: 5 * time.Minute, LookupRate: 1000})
	ctx := context.Background()
	key := leak(t, env)
	call := func() {
		if _, err := env.sts(key, "eu-west-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	ct := env.ct(env.sim.Responder(), "us-east-1")
	setLogging := func(on bool) {
		var err error
		if on {
			_, err = ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("management-events")})
		} else {
			_, err = ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management-events")})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	byKey := []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key.AccessKeyID)}}
	steps := []struct {
		name       string
		act        func()
		advance    time.Duration
		lookup, s3 int // attacker events visible in LookupEvents and S3
		logging    bool
	}{
		{"call made", call, 0, 0, 0, true},
		{"before the delay", nil, 4 * time.Minute, 0, 0, true},
		{"after the delay", nil, time.Minute, 1, 0, true},
		{"file delivered", nil, 5 * time.Minute, 1, 1, true},
		{"logging stopped, call made", func() { setLogging(false); call() }, 0, 1, 1, false},
		{"delivered to lookup only", nil, 15 * time.Minute, 2, 1, false},
		{"logging started, call made", func() { setLogging(true); call() }, 15 * time.Minute, 3, 2, true},
	}
	for _, st := range steps {
		if st.act != nil {
			st.act()
		}
		env.clock.Advance(st.advance)
		evs, err := lookup(t, env, "eu-west-1", &cloudtrail.LookupEventsInput{LookupAttributes: byKey})
		if err != nil {
			t.Fatal(err)
		}
		_, recs := s3Records(t, env)
		n := 0
		for _, r := range recs {
			if ui, _ := r["userIdentity"].(map[string]any); ui["accessKeyId"] == key.AccessKeyID {
				n++
			}
		}
		status, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("management-events")})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != st.lookup || n != st.s3 || aws.ToBool(status.IsLogging) != st.logging {
			t.Errorf("%s: lookup %d s3 %d logging %v, want %d %d %v", st.name, len(evs), n, aws.ToBool(status.IsLogging), st.lookup, st.s3, st.logging)
		}
	}
	// StopLogging itself reached S3 (in us-east-1), as at AWS.
	_, recs := s3Records(t, env)
	stops := 0
	for _, r := range recs {
		if r["eventName"] == "StopLogging" && r["awsRegion"] == "us-east-1" {
			stops++
		}
	}
	if stops != 1 {
		t.Errorf("%d StopLogging records in S3", stops)
	}
}

var s3KeyPattern = regexp.MustCompile(`^AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/(\d{4}/\d{2}/\d{2})/(\d{12})_CloudTrail_([a-z0-9-]+)_(\d{8}T\d{4}Z)_[A-Za-z0-9]{16}\.json\.gz$`)

func TestS3Layout(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	key := leak(t, env)
	for _, region := range []string{"eu-west-1", "us-east-1", "ap-south-1"} {
		if _, err := env.sts(key, region).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	env.clock.Advance(5 * time.Minute)
	keys, recs := s3Records(t, env)
	if len(keys) != 3 || len(recs) != 3 {
		t.Fatalf("%d files, %d records", len(keys), len(recs))
	}
	for _, k := range keys {
		m := s3KeyPattern.FindStringSubmatch(k)
		if m == nil || m[1] != env.sim.AccountID() || m[4] != m[1] || m[2] != m[5] || strings.ReplaceAll(m[3], "/", "") != m[6][:8] {
			t.Errorf("bad key %s", k)
		}
	}
	c := env.s3(env.sim.Responder())
	bucket := aws.String(env.sim.TrailBucket())
	cases := []struct {
		name       string
		in         *s3.ListObjectsV2Input
		keys, pfxs int
		code       string
	}{
		{"delimiter at Regions", &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("AWSLogs/" + env.sim.AccountID() + "/CloudTrail/"), Delimiter: aws.String("/")}, 0, 3, ""},
		{"prefix of one Region", &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("AWSLogs/" + env.sim.AccountID() + "/CloudTrail/eu-west-1/")}, 1, 0, ""},
		{"page of one", &s3.ListObjectsV2Input{Bucket: bucket, MaxKeys: aws.Int32(1)}, 1, 0, ""},
		{"other bucket", &s3.ListObjectsV2Input{Bucket: aws.String("not-ours")}, 0, 0, "NoSuchBucket"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.ListObjectsV2(ctx, tc.in)
			if got := errCode(t, err); got != tc.code {
				t.Fatalf("code %q, want %q", got, tc.code)
			}
			if err == nil && (len(out.Contents) != tc.keys || len(out.CommonPrefixes) != tc.pfxs) {
				t.Errorf("%d keys, %d prefixes", len(out.Contents), len(out.CommonPrefixes))
			}
		})
	}
	_, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("AWSLogs/nope")})
	if got := errCode(t, err); got != "NoSuchKey" {
		t.Errorf("missing key: %q", got)
	}
	// S3 reads are data events: none of them is in CloudTrail.
	for _, r := range env.sim.Records() {
		if strings.Contains(string(r.JSON), `"s3.amazonaws.com"`) {
			t.Errorf("S3 data event recorded: %s", r.EventName)
		}
	}
}

func TestDescribeTrails(t *testing.T) {
	env := newEnv(t, Options{})
	ctx := context.Background()
	cases := []struct {
		name   string
		region string
		in     *cloudtrail.DescribeTrailsInput
		want   int
	}{
		{"home Region", "us-east-1", &cloudtrail.DescribeTrailsInput{}, 1},
		{"shadow in another Region", "eu-west-1", &cloudtrail.DescribeTrailsInput{}, 1},
		{"no shadows", "eu-west-1", &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)}, 0},
		{"by name", "us-east-1", &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"management-events"}}, 1},
		{"unknown name", "us-east-1", &cloudtrail.DescribeTrailsInput{TrailNameList: []string{"x"}}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := env.ct(env.sim.Responder(), tc.region).DescribeTrails(ctx, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.TrailList) != tc.want {
				t.Fatalf("%d trails", len(out.TrailList))
			}
			if tc.want == 1 && (aws.ToString(out.TrailList[0].S3BucketName) != env.sim.TrailBucket() || !aws.ToBool(out.TrailList[0].IsMultiRegionTrail)) {
				t.Errorf("trail %+v", out.TrailList[0])
			}
		})
	}
	_, err := env.ct(env.sim.Responder(), "eu-west-1").StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management-events")})
	if got := errCode(t, err); got != "InvalidHomeRegionException" {
		t.Errorf("StopLogging outside the home Region: %q", got)
	}
	_, err = env.ct(env.sim.Responder(), "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("nope")})
	if got := errCode(t, err); got != "TrailNotFoundException" {
		t.Errorf("unknown trail: %q", got)
	}
}
