package trail

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/trailcheck"
)

// TestBucketSourceReadsDrillDigests reads the drill's trail bucket through
// the SDK as the validator will: digests with their signature metadata,
// public keys that verify them, and ErrNotFound for an object deleted.
func TestBucketSourceReadsDrillDigests(t *testing.T) {
	env := startSim(t, sim.Options{})
	a := newAttacker(t, env, "leaked")
	born := env.clock.Now()
	for range 13 {
		a.whoami(a.key, "us-east-1")
		env.clock.Advance(10 * time.Minute)
	}
	sess := env.session(t, static(env.sim.Responder()))
	src := NewBucketSource(sess.S3("us-east-1"), sess.CloudTrail("us-east-1"), "us-east-1")
	ctx := context.Background()
	bucket := env.sim.TrailBucket()
	keys, err := src.List(ctx, bucket, "AWSLogs/"+env.sim.AccountID()+"/CloudTrail-Digest/us-east-1/")
	if err != nil || len(keys) != 2 {
		t.Fatalf("List: %v %v", keys, err)
	}
	pubs, err := src.PublicKeys(ctx, born, env.clock.Now())
	if err != nil || len(pubs) != 1 || pubs[0].Start.After(born) || !pubs[0].End.After(env.clock.Now()) {
		t.Fatalf("PublicKeys: %+v %v", pubs, err)
	}
	pub, err := x509.ParsePKCS1PublicKey(pubs[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	o, err := src.Get(ctx, bucket, keys[1])
	if err != nil {
		t.Fatal(err)
	}
	if o.Meta["signature-algorithm"] != "SHA256withRSA" || o.Bucket != bucket || o.Key != keys[1] {
		t.Fatalf("object %s/%s meta %v", o.Bucket, o.Key, o.Meta)
	}
	raw := gunzipT(t, o.Body)
	var d struct {
		DigestEndTime, DigestPublicKeyFingerprint string
		PreviousDigestSignature                   string
		LogFiles                                  []struct{ S3Object, HashValue string }
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if d.DigestPublicKeyFingerprint != pubs[0].Fingerprint || d.PreviousDigestSignature == "" || len(d.LogFiles) == 0 {
		t.Fatalf("digest %s", raw)
	}
	toSign := sim.StringToSign(d.DigestEndTime, bucket, keys[1], raw, d.PreviousDigestSignature)
	h := sha256.Sum256([]byte(toSign))
	sig, _ := hex.DecodeString(o.Meta["signature"])
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("signature: %v", err)
	}
	lf, err := src.Get(ctx, bucket, d.LogFiles[0].S3Object)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(gunzipT(t, lf.Body)); hex.EncodeToString(sum[:]) != d.LogFiles[0].HashValue {
		t.Fatal("log file hash differs")
	}
	if _, err := sess.S3("us-east-1").DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: aws.String(keys[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Get(ctx, bucket, keys[0]); !errors.Is(err, trailcheck.ErrNotFound) || !strings.Contains(err.Error(), keys[0]) {
		t.Fatalf("deleted digest: %v", err)
	}
	if _, err := src.Get(ctx, "no-such-bucket", "k"); err == nil || errors.Is(err, trailcheck.ErrNotFound) {
		t.Fatalf("missing bucket: %v", err)
	}
}

func gunzipT(t *testing.T, b []byte) []byte {
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
