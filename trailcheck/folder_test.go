package trailcheck_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/warroom-ir/warroom/trailcheck"
	"github.com/warroom-ir/warroom/trailcheck/trailtest"
)

func gunzip(_ *testing.T, b []byte) []byte { return trailtest.Gunzip(b) }

var (
	otherOnce sync.Once
	otherKey  *rsa.PrivateKey
)

func mustOtherKey(t *testing.T) *rsa.PrivateKey {
	otherOnce.Do(func() {
		var err error
		if otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatal(err)
		}
	})
	return otherKey
}

// offlineSource fails every call: a folder validated later needs no network.
type offlineSource struct{ trailcheck.Folder }

func TestOfflineRoundTrip(t *testing.T) {
	tr, digests := sixHours(t)
	dir := t.TempDir()
	res, err := trailcheck.Download(context.Background(), tr.Mem, trailcheck.Folder{Dir: dir}, opts(tr))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Intact() {
		t.Fatalf("source not intact: %+v", res.Counts)
	}
	for _, p := range []string{
		filepath.Join(dir, tr.Bucket, digests[0]),
		filepath.Join(dir, ".warroom", "meta", tr.Bucket, digests[0]+".json"),
		filepath.Join(dir, ".warroom", "public-keys.json"),
	} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("download wrote no %s: %v", p, err)
		}
	}
	// Later, with no network: the folder alone.
	got := validate(t, offlineSource{trailcheck.Folder{Dir: dir}}, opts(tr))
	if !got.Intact() || !got.SignaturesChecked || got.Counts != res.Counts {
		t.Fatalf("folder: intact=%v signatures=%v %+v, want %+v", got.Intact(), got.SignaturesChecked, got.Counts, res.Counts)
	}
	// An edit of the folder is found offline too.
	victim := logsOf(t, tr, digests[3])[2]
	p := filepath.Join(dir, tr.Bucket, filepath.FromSlash(victim))
	if err := os.WriteFile(p, tr.Mem.Objects[tr.Bucket+"/"+logsOf(t, tr, digests[3])[1]].Body, 0o600); err != nil {
		t.Fatal(err)
	}
	got = validate(t, trailcheck.Folder{Dir: dir}, opts(tr))
	if got.Intact() || fileByKey(t, got, victim).Why != "hash value doesn't match" {
		t.Fatalf("edited folder: %+v", fileByKey(t, got, victim))
	}
}

func TestFolderWithoutSignatures(t *testing.T) {
	tr, digests := sixHours(t)
	dir := t.TempDir()
	// As aws s3 sync s3://trail-bucket DIR makes it: keys under DIR, no metadata.
	for _, o := range tr.Mem.Objects {
		p := filepath.Join(dir, filepath.FromSlash(o.Key))
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, o.Body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	f := trailcheck.Folder{Dir: dir, Bucket: tr.Bucket}
	res := validate(t, f, opts(tr))
	if !res.Intact() || res.SignaturesChecked || !strings.Contains(res.SignatureNote, "signatures could not be checked") {
		t.Fatalf("s3 sync folder: intact=%v signatures=%v note=%q %+v", res.Intact(), res.SignaturesChecked, res.SignatureNote, res.Counts)
	}
	if s := res.Chains[0].Digests[0].Signature; !strings.HasPrefix(s, "not checked") {
		t.Errorf("signature = %q", s)
	}
	// Without signatures the chain's links still show an edited digest (not the newest).
	p := filepath.Join(dir, filepath.FromSlash(digests[2]))
	raw := gunzip(t, mustRead(t, p))
	raw = bytes.Replace(raw, []byte(`"hashValue":"`), []byte(`"hashValue":"0`), 1)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	zw.Close()
	os.WriteFile(p, buf.Bytes(), 0o600)
	res = validate(t, f, opts(tr))
	d := digestByKey(t, res, digests[2])
	if res.Intact() || d.Status != trailcheck.Invalid || !strings.Contains(d.Why, "edited") {
		t.Fatalf("edited digest in an unsigned folder: %+v", d)
	}
	// A planted public-keys file in an s3 sync copy is not trusted.
	os.MkdirAll(filepath.Join(dir, ".warroom"), 0o700)
	os.WriteFile(filepath.Join(dir, ".warroom", "public-keys.json"), []byte(`[{"fingerprint":"x","value":"AAAA"}]`), 0o600)
	if keys, err := f.PublicKeys(context.Background(), day, day); err != trailcheck.ErrNotFound || keys != nil {
		t.Errorf("s3 sync copy's public keys = %v, %v", keys, err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFolderRefusesEscapingKeys(t *testing.T) {
	f := trailcheck.Folder{Dir: t.TempDir()}
	for _, key := range []string{"../x", "a/../../x", "/etc/passwd", "a//b", "a\\..\\b"} {
		if _, err := f.Get(context.Background(), "b", key); err == nil || err == trailcheck.ErrNotFound {
			t.Errorf("Get %q = %v, want a refusal", key, err)
		}
		if err := f.Put(trailcheck.Object{Bucket: "b", Key: key, Body: []byte("x")}); err == nil {
			t.Errorf("Put %q succeeded", key)
		}
	}
	if err := f.Put(trailcheck.Object{Bucket: ".warroom", Key: "public-keys.json", Body: []byte("x")}); err == nil {
		t.Error("Put into .warroom as a bucket succeeded")
	}
}

func gunzipF(b []byte) []byte { return trailtest.Gunzip(b) }

func newTrail() *trailtest.Trail { return trailtest.New() }
