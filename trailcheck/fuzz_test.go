package trailcheck_test

import (
	"context"
	"testing"

	"github.com/warroom-ir/warroom/trailcheck"
)

// FuzzParseDigest feeds the digest parser arbitrary bytes: it must never
// panic, and what it accepts must have what the validation reads.
func FuzzParseDigest(f *testing.F) {
	tr := newTrail()
	for _, k := range tr.Hours(day, 2, 2) {
		o, _ := tr.Mem.Get(context.Background(), tr.Bucket, k)
		f.Add(gunzipF(o.Body))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"digestStartTime":null,"digestEndTime":"x","digestS3Bucket":"b","digestS3Object":"k","digestPublicKeyFingerprint":"f","previousDigestSignature":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := trailcheck.ParseDigest(raw)
		if err != nil {
			return
		}
		if d.Bucket == "" || d.Object == "" || d.RawEndTime == "" || (d.PreviousBucket == nil) != (d.PreviousObject == nil) {
			t.Fatalf("accepted a digest without what validation reads: %+v", d)
		}
		for _, l := range d.LogFiles {
			if l.Object == "" || l.HashValue == "" {
				t.Fatalf("accepted a log file without key or hash: %+v", l)
			}
		}
		_ = trailcheck.StringToSign(d, raw)
	})
}

// FuzzParseDigestKey: any key either parses into a digest key that names
// itself consistently, or is refused.
func FuzzParseDigestKey(f *testing.F) {
	tr := newTrail()
	f.Add(tr.DigestKey(day))
	tr.Org, tr.Prefix = "o-a1b2c3d4e5", "p/q"
	f.Add(tr.DigestKey(day))
	f.Add("AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/x.json.gz")
	f.Fuzz(func(t *testing.T, key string) {
		k, ok := trailcheck.ParseDigestKey(key)
		if ok && (len(k.Account) != 12 || k.Region == "" || k.Trail == "" || k.Time.IsZero()) {
			t.Fatalf("ParseDigestKey(%q) = %+v", key, k)
		}
	})
}
