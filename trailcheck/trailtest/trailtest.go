// Package trailtest builds CloudTrail trails with signed digest files, as
// CloudTrail writes them, for tests of trailcheck and its commands: log
// files, hourly digests chained and signed with a key of the test's own,
// an in-memory Source, and folders like those trailcheck.Download writes.
package trailtest

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/trailcheck"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// Key is a 2048-bit RSA key made once per process.
func Key() *rsa.PrivateKey {
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return key
}

// Trail is one account's trail in one Region, delivering into Bucket.
type Trail struct {
	Bucket, Prefix, Org         string
	Account, Region, Name, Home string
	Key                         *rsa.PrivateKey
	Mem                         *Mem

	prevKey, prevSig, prevHash string
	restart                    bool
	n                          int
}

// New returns a trail of account 111122223333 in us-east-1 named "main",
// into bucket "trail-bucket", signed with Key().
func New() *Trail {
	return &Trail{Bucket: "trail-bucket", Account: "111122223333", Region: "us-east-1", Name: "main", Home: "us-east-1",
		Key: Key(), Mem: &Mem{Objects: map[string]trailcheck.Object{}}, restart: true}
}

func (t *Trail) base() string {
	b := "AWSLogs/"
	if t.Org != "" {
		b += t.Org + "/"
	}
	b += t.Account + "/"
	if t.Prefix != "" {
		b = t.Prefix + "/" + b
	}
	return b
}

// Fingerprint is the public key's fingerprint: here the first 16 bytes of
// the SHA-256 of its DER, in hex (CloudTrail's is opaque to validators).
func (t *Trail) Fingerprint() string {
	der := t.der()
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:16])
}

// der is the public key as CloudTrail's ListPublicKeys gives it: PKCS #1
// RSAPublicKey DER (aws-cli loads it with rsa.PublicKey.load_pkcs1).
func (t *Trail) der() []byte { return x509.MarshalPKCS1PublicKey(&t.Key.PublicKey) }

// PublicKey is the trail's key as ListPublicKeys returns it.
func (t *Trail) PublicKey() trailcheck.PublicKey {
	return trailcheck.PublicKey{Fingerprint: t.Fingerprint(), Value: t.der(),
		Start: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Gzip compresses b.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// Gunzip inflates b; it panics on bad input (tests only).
func Gunzip(b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	var plain bytes.Buffer
	if _, err := plain.ReadFrom(zr); err != nil {
		panic(err)
	}
	return plain.Bytes()
}

// LogKey is the key CloudTrail gives a log file delivered at at.
func (t *Trail) LogKey(at time.Time) string {
	t.n++
	at = at.UTC()
	return fmt.Sprintf("%sCloudTrail/%s/%s/%s_CloudTrail_%s_%s_%016d.json.gz", t.base(), t.Region, at.Format("2006/01/02"),
		t.Account, t.Region, at.Format("20060102T1504Z"), t.n)
}

// AddLog stores a log file (plain JSON, gzipped here) delivered at at and returns its key.
func (t *Trail) AddLog(at time.Time, plain []byte) string {
	k := t.LogKey(at)
	t.Mem.Put(trailcheck.Object{Bucket: t.Bucket, Key: k, Body: Gzip(plain)})
	return k
}

// AddLogKey stores a log file of plain content at a given key.
func (t *Trail) AddLogKey(k string, plain []byte) {
	t.Mem.Put(trailcheck.Object{Bucket: t.Bucket, Key: k, Body: Gzip(plain)})
}

// DigestKey is the key of the digest ending at end.
func (t *Trail) DigestKey(end time.Time) string {
	end = end.UTC()
	return fmt.Sprintf("%sCloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz", t.base(), t.Region, end.Format("2006/01/02"),
		t.Account, t.Region, t.Name, t.Home, end.Format("20060102T150405Z"))
}

// Restart makes the next digest start a new chain (logging stopped, the
// trail recreated).
func (t *Trail) Restart() { t.restart = true }

// Digest writes and signs the digest of [start, end) listing logs (keys of
// log files in the trail's bucket), chained to the previous digest.
func (t *Trail) Digest(start, end time.Time, logs []string) string {
	key := t.DigestKey(end)
	files := []map[string]any{}
	for _, l := range logs {
		obj := t.Mem.Objects[t.Bucket+"/"+l]
		h := sha256.Sum256(Gunzip(obj.Body))
		files = append(files, map[string]any{"s3Bucket": t.Bucket, "s3Object": l, "hashValue": hex.EncodeToString(h[:]), "hashAlgorithm": "SHA-256",
			"newestEventTime": end.UTC().Format(time.RFC3339), "oldestEventTime": start.UTC().Format(time.RFC3339)})
	}
	var prev map[string]any
	if t.restart {
		prev = map[string]any{"previousDigestS3Bucket": nil, "previousDigestS3Object": nil, "previousDigestHashValue": nil,
			"previousDigestHashAlgorithm": nil, "previousDigestSignature": nil}
	} else {
		prev = map[string]any{"previousDigestS3Bucket": t.Bucket, "previousDigestS3Object": t.prevKey, "previousDigestHashValue": t.prevHash,
			"previousDigestHashAlgorithm": "SHA-256", "previousDigestSignature": t.prevSig}
	}
	d := map[string]any{
		"awsAccountId":               t.Account,
		"digestStartTime":            start.UTC().Format(time.RFC3339),
		"digestEndTime":              end.UTC().Format(time.RFC3339),
		"digestS3Bucket":             t.Bucket,
		"digestS3Object":             key,
		"digestPublicKeyFingerprint": t.Fingerprint(),
		"digestSignatureAlgorithm":   "SHA256withRSA",
		"newestEventTime":            end.UTC().Format(time.RFC3339),
		"oldestEventTime":            start.UTC().Format(time.RFC3339),
		"logFiles":                   files,
	}
	for k, v := range prev {
		d[k] = v
	}
	raw, err := json.Marshal(d)
	if err != nil {
		panic(err)
	}
	sig := t.Sign(raw)
	t.Mem.Put(trailcheck.Object{Bucket: t.Bucket, Key: key, Body: Gzip(raw),
		Meta: map[string]string{"signature": sig, "signature-algorithm": "SHA256withRSA"}})
	sum := sha256.Sum256(raw)
	t.prevKey, t.prevSig, t.prevHash, t.restart = key, sig, hex.EncodeToString(sum[:]), false
	return key
}

// Sign signs an uncompressed digest as CloudTrail does and returns the hex signature.
func (t *Trail) Sign(raw []byte) string {
	d, err := trailcheck.ParseDigest(raw)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(trailcheck.StringToSign(d, raw))
	s, err := rsa.SignPKCS1v15(rand.Reader, t.Key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return hex.EncodeToString(s)
}

// Hours writes n hourly digests from start, each over perHour log files
// of small records, and returns the digests' keys, oldest first.
func (t *Trail) Hours(start time.Time, n, perHour int) []string {
	var keys []string
	for h := range n {
		from := start.Add(time.Duration(h) * time.Hour)
		var logs []string
		for i := range perHour {
			at := from.Add(time.Duration(i+1) * time.Hour / time.Duration(perHour+1))
			logs = append(logs, t.AddLog(at, fmt.Appendf(nil, `{"Records":[{"eventVersion":"1.08","eventTime":%q,"eventName":"DescribeInstances","eventID":"%d-%d"}]}`,
				at.Format(time.RFC3339), h, i)))
		}
		keys = append(keys, t.Digest(from, from.Add(time.Hour), logs))
	}
	return keys
}

// Mem is an in-memory trailcheck.Source.
type Mem struct {
	mu      sync.Mutex
	Objects map[string]trailcheck.Object // by bucket/key
	Keys    []trailcheck.PublicKey
}

// Put stores an object.
func (m *Mem) Put(o trailcheck.Object) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Objects[o.Bucket+"/"+o.Key] = o
}

// Delete removes an object.
func (m *Mem) Delete(bucket, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.Objects, bucket+"/"+key)
}

// List implements trailcheck.Source.
func (m *Mem) List(_ context.Context, bucket, prefix string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, o := range m.Objects {
		if o.Bucket == bucket && strings.HasPrefix(o.Key, prefix) {
			out = append(out, o.Key)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return cmp.Compare(a, b) })
	return out, nil
}

// Get implements trailcheck.Source.
func (m *Mem) Get(_ context.Context, bucket, key string) (trailcheck.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.Objects[bucket+"/"+key]
	if !ok {
		return trailcheck.Object{}, trailcheck.ErrNotFound
	}
	return o, nil
}

// PublicKeys implements trailcheck.Source.
func (m *Mem) PublicKeys(context.Context, time.Time, time.Time) ([]trailcheck.PublicKey, error) {
	return m.Keys, nil
}

// Edit replaces an object's stored (gzip) body with the gzip of fn(plain),
// keeping its metadata.
func (m *Mem) Edit(bucket, key string, fn func([]byte) []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.Objects[bucket+"/"+key]
	o.Body = Gzip(fn(Gunzip(o.Body)))
	m.Objects[bucket+"/"+key] = o
}

// WriteFolder writes every object into f (with its metadata when meta),
// and the public keys.
func (m *Mem) WriteFolder(f trailcheck.Folder, meta bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.Objects {
		if !meta {
			o.Meta = nil
		}
		if err := f.Put(o); err != nil {
			return err
		}
	}
	if meta && len(m.Keys) > 0 {
		return f.PutPublicKeys(m.Keys)
	}
	return nil
}
