package trail

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/warroom-ir/warroom/aws/sim"
)

func TestParseBucketURL(t *testing.T) {
	tests := []struct {
		in, bucket, prefix string
		bad                bool
	}{
		{in: "s3://logs", bucket: "logs"},
		{in: "s3://logs/org/trail/", bucket: "logs", prefix: "org/trail"},
		{in: "https://logs/x", bad: true},
		{in: "s3:///x", bad: true},
		{in: "logs", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			b, p, err := ParseBucketURL(tt.in)
			if (err != nil) != tt.bad || b != tt.bucket || p != tt.prefix {
				t.Errorf("= %q %q %v", b, p, err)
			}
		})
	}
}

func TestS3SourceFollowsDrillTrail(t *testing.T) {
	// Log files every second (5 simulated minutes at 300×).
	env := startSim(t, sim.Options{Speed: 300})
	a := newAttacker(t, env, "leaked")
	regions := []string{"eu-west-1", "ap-southeast-2"}
	for _, r := range regions {
		a.whoami(a.key, r)
	}
	a.listUsers()
	sess := env.session(t, static(env.sim.Responder()))
	bucket, prefix, err := DiscoverBucket(context.Background(), sess.CloudTrail("us-east-1"), "us-east-1")
	if err != nil || bucket != env.sim.TrailBucket() || prefix != "" {
		t.Fatalf("DiscoverBucket = %q %q %v", bucket, prefix, err)
	}
	sink := newMemSink()
	src := NewS3Source(sess.S3("us-east-1"), sink, S3Options{Bucket: bucket, AccountID: env.sim.AccountID(),
		Regions: append(regions, "us-east-1"), PollEvery: 200 * time.Millisecond, Now: env.clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	defer cancel()
	tmp := a.mint("eu-west-1")
	for i := range 4 {
		a.whoami(tmp, regions[i%2])
	}
	want := a.records()
	sink.waitFor(t, "the attacker's events from S3", func() bool { return sink.has(want) })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for id, n := range sink.count {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	for _, b := range sink.batches {
		for _, r := range b.recs {
			w, ok := want[r.EventID]
			if !ok {
				continue
			}
			if !strings.Contains(b.source, "/CloudTrail/"+w.Region+"/") || !strings.HasPrefix(b.source, "s3://"+bucket+"/AWSLogs/"+env.sim.AccountID()+"/") {
				t.Errorf("event %s (%s) from %s", r.EventID, w.Region, b.source)
			}
			if r.AccessKeyID != w.AccessKeyID || r.PrincipalARN != w.PrincipalARN {
				t.Errorf("event %s attributed to %s/%s, want %s/%s", r.EventID, r.PrincipalARN, r.AccessKeyID, w.PrincipalARN, w.AccessKeyID)
			}
		}
	}
	ok := false
	for _, h := range sink.health {
		ok = ok || h.Source == "s3://"+bucket && h.Status == StatusOK
	}
	if !ok {
		t.Errorf("no ok health for s3://%s: %+v", bucket, sink.health)
	}
}

// fakeS3 is a bucket in memory whose GetObject can fail a number of times.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string][]byte
	failGet map[string]int
	gets    map[string]int
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &s3.ListObjectsV2Output{}
	prefix := aws.ToString(in.Prefix)
	seen := map[string]bool{}
	for k := range f.objects {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if d := aws.ToString(in.Delimiter); d != "" {
			if i := strings.Index(k[len(prefix):], d); i >= 0 {
				cp := k[:len(prefix)+i+1]
				if !seen[cp] {
					seen[cp] = true
					out.CommonPrefixes = append(out.CommonPrefixes, s3types.CommonPrefix{Prefix: aws.String(cp)})
				}
				continue
			}
		}
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	return out, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := aws.ToString(in.Key)
	f.gets[k]++
	if f.failGet[k] > 0 {
		f.failGet[k]--
		return nil, &smithy.GenericAPIError{Code: "InternalError", Message: "We encountered an internal error."}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(f.objects[k]))}, nil
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestS3SourceBadFilesAndFailedDownloads(t *testing.T) {
	now := time.Date(2026, 11, 23, 4, 30, 0, 0, time.UTC)
	day := "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/2026/11/23/"
	key := func(n int) string {
		return fmt.Sprintf("%s111122223333_CloudTrail_eu-west-1_20261123T04%02dZ_abcdefghijklmnop.json.gz", day, n)
	}
	rec := func(id string) string { return rawRecord(id, now.Add(-10*time.Minute), "CreateUser", "") }
	f := &fakeS3{gets: map[string]int{}, failGet: map[string]int{key(10): 1}, objects: map[string][]byte{
		key(5):                       gz(t, `{"Records":[`+rec("00000000-0000-4000-8000-000000000001")+`,{"eventTime":"not a time"},`+rec("00000000-0000-4000-8000-000000000002")+`]}`),
		key(10):                      gz(t, `{"Records":[`+rec("00000000-0000-4000-8000-000000000003")+`]}`),
		"prefix-elsewhere/x.json.gz": gz(t, `{"Records":[]}`),
		"AWSLogs/o-abc123/111122223333/CloudTrail-Digest/eu-west-1/2026/11/23/d.json.gz": gz(t, `{}`),
	}}
	sink := newMemSink()
	src := NewS3Source(f, sink, S3Options{Bucket: "org-logs", Regions: []string{"eu-west-1"}, Since: time.Hour,
		Now: func() time.Time { return now }})
	ctx := context.Background()
	// First poll: one download fails, the rest goes on.
	if err := src.poll(ctx, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if sink.count["00000000-0000-4000-8000-000000000001"] != 1 || sink.count["00000000-0000-4000-8000-000000000002"] != 1 {
		t.Errorf("good records of a file with a bad one: %v", sink.count)
	}
	if len(sink.skipped) != 1 || sink.skipped[0].File != "s3://org-logs/"+key(5) || sink.skipped[0].Index != 1 {
		t.Errorf("skipped %+v, want record 1 of %s", sink.skipped, key(5))
	}
	if h := sink.health[len(sink.health)-1]; h.Status != StatusError || !strings.Contains(h.Error, "s3:GetObject") || !strings.Contains(h.Error, key(10)) {
		t.Errorf("health after a failed download: %+v", h)
	}
	// Second poll: the failed file is read, the others are not read again.
	if err := src.poll(ctx, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if sink.count["00000000-0000-4000-8000-000000000003"] != 1 {
		t.Errorf("the file that failed was not read again: %v", sink.count)
	}
	if f.gets[key(5)] != 1 || f.gets[key(10)] != 2 {
		t.Errorf("downloads %v", f.gets)
	}
	if h := sink.health[len(sink.health)-1]; h.Status != StatusOK || h.Source != "s3://org-logs" {
		t.Errorf("health after recovery: %+v", h)
	}
}
