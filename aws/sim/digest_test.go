package sim

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// busy makes the account call every ten minutes for d of the drill's
// clock, so that log files are delivered.
func busy(t *testing.T, env *testEnv, d time.Duration) {
	t.Helper()
	c := env.sts(env.sim.Responder(), "us-east-1")
	for end := env.clock.Now().Add(d); env.clock.Now().Before(end); env.clock.Advance(10 * time.Minute) {
		if _, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
}

// getObject reads an object with its metadata.
func getObject(t *testing.T, env *testEnv, key string) ([]byte, map[string]string) {
	t.Helper()
	out, err := env.s3(env.sim.Responder()).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(env.sim.TrailBucket()),
		Key: aws.String(key)}, func(o *s3.Options) { o.DisableLogOutputChecksumValidationSkipped = true })
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, out.Metadata
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// listKeys lists the bucket's keys under prefix through ListObjectsV2.
func listKeys(t *testing.T, env *testEnv, prefix string) []string {
	t.Helper()
	var keys []string
	pages := s3.NewListObjectsV2Paginator(env.s3(env.sim.Responder()), &s3.ListObjectsV2Input{Bucket: aws.String(env.sim.TrailBucket()),
		Prefix: aws.String(prefix)})
	for pages.HasMorePages() {
		p, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	return keys
}

type testDigest struct {
	digestFile
	key, sig string
	raw      []byte
}

// readDigests reads, checks the signature of, and returns every digest of
// region, oldest first; the public key comes from ListPublicKeys.
func readDigests(t *testing.T, env *testEnv, region string, since time.Time) []testDigest {
	t.Helper()
	out, err := env.ct(env.sim.Responder(), "us-east-1").ListPublicKeys(context.Background(), &cloudtrail.ListPublicKeysInput{
		StartTime: aws.Time(since), EndTime: aws.Time(env.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range out.PublicKeyList {
		pub, err := x509.ParsePKCS1PublicKey(k.Value)
		if err != nil {
			t.Fatalf("ListPublicKeys' Value is not a PKCS#1 DER RSA key: %v", err)
		}
		if sum := md5.Sum(k.Value); hex.EncodeToString(sum[:]) != aws.ToString(k.Fingerprint) || pub.N.BitLen() != 2048 {
			t.Fatalf("key %s: fingerprint or size wrong", aws.ToString(k.Fingerprint))
		}
		keys[aws.ToString(k.Fingerprint)] = pub
	}
	var ds []testDigest
	for _, key := range listKeys(t, env, "AWSLogs/"+env.sim.AccountID()+"/CloudTrail-Digest/"+region+"/") {
		gz, meta := getObject(t, env, key)
		d := testDigest{key: key, raw: gunzip(t, gz), sig: meta["signature"]}
		if err := json.Unmarshal(d.raw, &d.digestFile); err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		if meta["signature-algorithm"] != "SHA256withRSA" || d.DigestSignatureAlgorithm != "SHA256withRSA" {
			t.Errorf("%s: algorithm %q / %q", key, meta["signature-algorithm"], d.DigestSignatureAlgorithm)
		}
		if d.DigestS3Bucket != env.sim.TrailBucket() || d.DigestS3Object != key {
			t.Errorf("%s: digest names itself %s/%s", key, d.DigestS3Bucket, d.DigestS3Object)
		}
		pub := keys[d.DigestPublicKeyFingerprint]
		if pub == nil {
			t.Fatalf("%s: no public key with fingerprint %s", key, d.DigestPublicKeyFingerprint)
		}
		prev := "null"
		if d.PreviousDigestSignature != nil {
			prev = *d.PreviousDigestSignature
		}
		sum := sha256.Sum256(d.raw)
		toSign := d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prev
		h := sha256.Sum256([]byte(toSign))
		sig, err := hex.DecodeString(d.sig)
		if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) != nil {
			t.Errorf("%s: signature does not verify", key)
		}
		if !strings.HasSuffix(key, "_CloudTrail-Digest_"+region+"_management-events_us-east-1_"+
			strings.NewReplacer("-", "", ":", "").Replace(d.DigestEndTime)+".json.gz") {
			t.Errorf("%s: name does not match digestEndTime %s", key, d.DigestEndTime)
		}
		ds = append(ds, d)
	}
	return ds
}

// TestDigestsSignChainAndHash: the trail's digests verify with Go's
// crypto/rsa against ListPublicKeys' key, chain hour to hour, and hash
// every log file the trail delivered, uncompressed; an hour with no log
// files still has its digest.
func TestDigestsSignChainAndHash(t *testing.T) {
	env := newEnv(t, Options{LookupRate: 1000})
	born := env.clock.Now()
	busy(t, env, 3*time.Hour)
	env.clock.Advance(2 * time.Hour) // two quiet hours
	ds := readDigests(t, env, "us-east-1", born)
	if len(ds) != 5 {
		t.Fatalf("%d digests in 5 hours, want 5", len(ds))
	}
	listed := map[string]bool{}
	for i, d := range ds {
		if i == 0 {
			if d.PreviousDigestS3Object != nil || d.PreviousDigestSignature != nil || d.PreviousDigestHashValue != nil {
				t.Errorf("first digest has previous fields")
			}
		} else {
			p := ds[i-1]
			sum := sha256.Sum256(p.raw)
			if aws.ToString(d.PreviousDigestS3Object) != p.key || aws.ToString(d.PreviousDigestSignature) != p.sig ||
				aws.ToString(d.PreviousDigestHashValue) != hex.EncodeToString(sum[:]) || d.DigestStartTime != p.DigestEndTime {
				t.Errorf("digest %d does not chain to %d", i, i-1)
			}
		}
		if (i < 3) != (len(d.LogFiles) > 0) {
			t.Errorf("digest %d (%s) lists %d log files", i, d.DigestEndTime, len(d.LogFiles))
		}
		for _, l := range d.LogFiles {
			gz, _ := getObject(t, env, l.S3Object)
			sum := sha256.Sum256(gunzip(t, gz))
			if l.HashValue != hex.EncodeToString(sum[:]) || l.HashAlgorithm != "SHA-256" || l.S3Bucket != env.sim.TrailBucket() {
				t.Errorf("%s: hash %s, want %x", l.S3Object, l.HashValue, sum)
			}
			listed[l.S3Object] = true
		}
	}
	logs := listKeys(t, env, "AWSLogs/"+env.sim.AccountID()+"/CloudTrail/us-east-1/")
	if len(logs) == 0 {
		t.Fatal("no log files")
	}
	for _, k := range logs {
		if !listed[k] {
			t.Errorf("log file %s is in no digest", k)
		}
	}
	// Every enabled Region has its own chain, empty or not.
	if eu := readDigests(t, env, "eu-west-1", born); len(eu) != 5 || len(eu[2].LogFiles) != 0 {
		t.Errorf("eu-west-1: %d digests", len(eu))
	}
}

// TestDigestChainRestarts: after StopLogging the trail writes the digest
// of the hour it stopped in and no more; StartLogging starts a new chain,
// as does a trail deleted and made again.
func TestDigestChainRestarts(t *testing.T) {
	env := newEnv(t, Options{LookupRate: 1000})
	born := env.clock.Now()
	ct := env.ct(env.sim.Responder(), "us-east-1")
	ctx := context.Background()
	busy(t, env, 90*time.Minute)
	if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("management-events")}); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(3 * time.Hour)
	if n := len(readDigests(t, env, "us-east-1", born)); n != 2 {
		t.Fatalf("%d digests after stopping in the second hour, want 2", n)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("management-events")}); err != nil {
		t.Fatal(err)
	}
	busy(t, env, 2*time.Hour)
	ds := readDigests(t, env, "us-east-1", born)
	if len(ds) != 4 || ds[2].PreviousDigestS3Object != nil || ds[3].PreviousDigestS3Object == nil {
		t.Fatalf("after StartLogging: %d digests, want 4 with the third starting a chain", len(ds))
	}

	// Deleted and made again: a new chain.
	bucket := env.sim.TrailBucket()
	if _, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String("management-events")}); err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(30 * time.Minute)
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("management-events"), S3BucketName: &bucket,
		IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("management-events")}); err != nil {
		t.Fatal(err)
	}
	busy(t, env, 2*time.Hour)
	ds = readDigests(t, env, "us-east-1", born)
	if len(ds) != 6 || ds[4].PreviousDigestS3Object != nil || aws.ToString(ds[5].PreviousDigestS3Object) != ds[4].key {
		t.Fatalf("after the trail was made again: %d digests, want 6 with the fifth starting a chain", len(ds))
	}
}

// TestS3ObjectDataEvents: PutObject and DeleteObject change the bucket;
// they are recorded only once the trail selects S3 data events, then in
// the trail's log files and never in the event history.
func TestS3ObjectDataEvents(t *testing.T) {
	env := newEnv(t, Options{LookupRate: 1000})
	ctx := context.Background()
	c := env.s3(env.sim.Responder())
	bucket := env.sim.TrailBucket()
	put := func(key, body string) {
		t.Helper()
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader(body),
			Metadata: map[string]string{"signature": "abc"}}); err != nil {
			t.Fatal(err)
		}
	}
	put("x/one", "hello")
	b, meta := getObject(t, env, "x/one")
	if string(b) != "hello" || meta["signature"] != "abc" {
		t.Fatalf("read back %q %v", b, meta)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String("x/one")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("x/one")}); errCode(t, err) != "NotFound" {
		t.Fatalf("HeadObject after delete: %v", err)
	}
	for _, r := range env.sim.Records() {
		if r.EventName == "PutObject" || r.EventName == "DeleteObject" {
			t.Fatalf("%s recorded without a data event selector", r.EventName)
		}
	}
	ct := env.ct(env.sim.Responder(), "us-east-1")
	if _, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("management-events"),
		EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly, IncludeManagementEvents: aws.Bool(true),
			DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::" + bucket + "/"}}}}}}); err != nil {
		t.Fatal(err)
	}
	put("x/two", "again")
	getObject(t, env, "x/two") // a read: not selected (WriteOnly)
	var got []string
	for _, r := range env.sim.Records() {
		var rec struct {
			EventName, EventCategory string
			ManagementEvent          bool
			RequestParameters        map[string]any
			Resources                []EventResource
		}
		if err := json.Unmarshal(r.JSON, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.EventCategory == "Data" {
			got = append(got, rec.EventName)
			if rec.ManagementEvent || rec.RequestParameters["key"] != "x/two" || len(rec.Resources) != 2 ||
				rec.Resources[0].ARN != "arn:aws:s3:::"+bucket+"/x/two" || rec.Resources[0].Type != "AWS::S3::Object" {
				t.Errorf("data event shape: %s", r.JSON)
			}
		}
	}
	if strings.Join(got, ",") != "PutObject" {
		t.Fatalf("data events recorded: %v, want PutObject", got)
	}
	lk, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
		AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("PutObject")}}})
	if err != nil || len(lk.Events) != 0 {
		t.Fatalf("LookupEvents shows data events: %v %v", lk, err)
	}
	env.clock.Advance(10 * time.Minute)
	found := false
	for _, k := range listKeys(t, env, "AWSLogs/"+env.sim.AccountID()+"/CloudTrail/us-east-1/") {
		gz, _ := getObject(t, env, k)
		found = found || bytes.Contains(gunzip(t, gz), []byte(`"eventName":"PutObject"`))
	}
	if !found {
		t.Fatal("the trail did not deliver the PutObject data event")
	}
}

func gzipBytes(b []byte) []byte { return gzipped(b) }

// TestListObjectsV1Pages: ListObjects (version 1, what validate-logs
// lists digests with) pages with Marker to the same keys ListObjectsV2
// gives, and with a delimiter lists each common prefix once.
func TestListObjectsV1Pages(t *testing.T) {
	env := newEnv(t, Options{LookupRate: 1000})
	busy(t, env, 70*time.Minute)
	c := env.s3(env.sim.Responder())
	bucket := env.sim.TrailBucket()
	base := "AWSLogs/" + env.sim.AccountID() + "/"
	pageAll := func(delim string) (keys, prefixes []string) {
		in := &s3.ListObjectsInput{Bucket: &bucket, Prefix: aws.String(base), MaxKeys: aws.Int32(1)}
		if delim != "" {
			in.Delimiter = aws.String(delim)
		}
		for range 1000 {
			out, err := c.ListObjects(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range out.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
			for _, p := range out.CommonPrefixes {
				prefixes = append(prefixes, aws.ToString(p.Prefix))
			}
			if !aws.ToBool(out.IsTruncated) {
				return keys, prefixes
			}
			in.Marker = out.NextMarker
			if delim == "" {
				in.Marker = out.Contents[len(out.Contents)-1].Key
			}
		}
		t.Fatal("ListObjects does not end")
		return nil, nil
	}
	keys, _ := pageAll("")
	if want := listKeys(t, env, base); strings.Join(keys, "\n") != strings.Join(want, "\n") || len(keys) < 30 {
		t.Fatalf("ListObjects paged to %d keys, ListObjectsV2 lists %d", len(keys), len(want))
	}
	if _, prefixes := pageAll("/"); strings.Join(prefixes, ",") != base+"CloudTrail-Digest/,"+base+"CloudTrail/" {
		t.Fatalf("common prefixes %v", prefixes)
	}
}

// TestS3PayloadChunked: an aws-chunked upload is stored without its
// framing; a plain body as sent.
func TestS3PayloadChunked(t *testing.T) {
	req := func(body, sha string) *Request {
		hr := httptest.NewRequest("PUT", "/b/k", nil)
		hr.Header.Set("X-Amz-Content-Sha256", sha)
		return &Request{HTTP: hr, Body: []byte(body)}
	}
	got, err := s3Payload(req("5;chunk-signature=ab\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"))
	if err != nil || string(got) != "hello world" {
		t.Fatalf("chunked: %q %v", got, err)
	}
	if got, err := s3Payload(req("5\r\nhel", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")); err == nil {
		t.Fatalf("truncated chunk accepted: %q", got)
	}
	if got, _ := s3Payload(req("5\r\nhello\r\n0\r\n\r\n", "abc")); string(got) != "5\r\nhello\r\n0\r\n\r\n" {
		t.Fatalf("plain body changed: %q", got)
	}
}

// BenchmarkDigestHour measures one hour of the drill's trail: the log
// files of 600 calls spread over 6 Regions delivered, and the digest of
// every enabled Region written and signed.
func BenchmarkDigestHour(b *testing.B) {
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "sa-east-1"}
	drillSigningKey() // made once a process, not timed
	for b.Loop() {
		b.StopTimer()
		clock := NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		s := New(Options{Seed: 1, Clock: clock})
		s.mu.Lock()
		for i := range 600 {
			now := clock.Now().Add(time.Duration(i) * 6 * time.Second)
			s.trail.add(&event{seq: i, raw: []byte(`{"eventVersion":"1.09","eventName":"GetCallerIdentity"}`), time: now, visibleAt: now,
				region: regions[i%len(regions)], id: fmt.Sprint(i)}, "")
		}
		b.StartTimer()
		s.deliverLocked(clock.Now().Add(DigestInterval))
		s.mu.Unlock()
	}
}
