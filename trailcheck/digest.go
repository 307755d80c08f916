package trailcheck

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Digest is one CloudTrail digest file, as CloudTrail writes it.
type Digest struct {
	AccountID             string    `json:"awsAccountId"`
	StartTime             time.Time `json:"-"`
	EndTime               time.Time `json:"-"`
	RawEndTime            string    `json:"-"` // digestEndTime exactly as written: the string to sign holds it
	Bucket                string    `json:"digestS3Bucket"`
	Object                string    `json:"digestS3Object"`
	Fingerprint           string    `json:"digestPublicKeyFingerprint"`
	SignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	PreviousBucket        *string   `json:"previousDigestS3Bucket"`
	PreviousObject        *string   `json:"previousDigestS3Object"`
	PreviousHashValue     *string   `json:"previousDigestHashValue"`
	PreviousHashAlgorithm *string   `json:"previousDigestHashAlgorithm"`
	PreviousSignature     *string   `json:"previousDigestSignature"`
	LogFiles              []LogFile `json:"logFiles"`
}

// LogFile is one log file a digest vouches for.
type LogFile struct {
	Bucket        string `json:"s3Bucket"`
	Object        string `json:"s3Object"`
	HashValue     string `json:"hashValue"`
	HashAlgorithm string `json:"hashAlgorithm"`
	OldestEvent   string `json:"oldestEventTime,omitempty"`
	NewestEvent   string `json:"newestEventTime,omitempty"`
}

// maxDigest bounds an uncompressed digest: CloudTrail's list at most a few
// thousand log files an hour, a few hundred kilobytes.
const maxDigest = 64 << 20

// errFormat marks a digest that is not a digest (aws-cli: "invalid format").
var errFormat = errors.New("invalid format")

// ParseDigest decodes an uncompressed digest file. The fields the
// validation needs must be present (aws-cli's required keys), times must be
// RFC 3339, and every log file must name its object and hash.
func ParseDigest(raw []byte) (*Digest, error) {
	var d Digest
	var aux struct {
		Start *string `json:"digestStartTime"`
		End   *string `json:"digestEndTime"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("%w: %v", errFormat, err)
	}
	if err := json.Unmarshal(raw, &aux); err != nil {
		return nil, fmt.Errorf("%w: %v", errFormat, err)
	}
	// previousDigestSignature must be present (null at a chain's start).
	var present map[string]json.RawMessage
	if err := json.Unmarshal(raw, &present); err != nil {
		return nil, fmt.Errorf("%w: %v", errFormat, err)
	}
	for _, k := range []string{"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object", "previousDigestSignature", "digestEndTime", "digestStartTime"} {
		if _, ok := present[k]; !ok {
			return nil, fmt.Errorf("%w: no %s", errFormat, k)
		}
	}
	if aux.Start == nil || aux.End == nil {
		return nil, fmt.Errorf("%w: digestStartTime or digestEndTime is null", errFormat)
	}
	var err error
	if d.StartTime, err = time.Parse(time.RFC3339, *aux.Start); err != nil {
		return nil, fmt.Errorf("%w: digestStartTime: %v", errFormat, err)
	}
	if d.EndTime, err = time.Parse(time.RFC3339, *aux.End); err != nil {
		return nil, fmt.Errorf("%w: digestEndTime: %v", errFormat, err)
	}
	d.RawEndTime = *aux.End
	if d.Bucket == "" || d.Object == "" {
		return nil, fmt.Errorf("%w: empty digestS3Bucket or digestS3Object", errFormat)
	}
	if (d.PreviousBucket == nil) != (d.PreviousObject == nil) {
		return nil, fmt.Errorf("%w: previousDigestS3Bucket and previousDigestS3Object must both be set or both be null", errFormat)
	}
	for i, l := range d.LogFiles {
		if l.Bucket == "" || l.Object == "" || l.HashValue == "" {
			return nil, fmt.Errorf("%w: logFiles[%d] lacks s3Bucket, s3Object or hashValue", errFormat, i)
		}
		if l.HashAlgorithm != "" && l.HashAlgorithm != "SHA-256" {
			return nil, fmt.Errorf("%w: logFiles[%d]: hash algorithm %q", errFormat, i, l.HashAlgorithm)
		}
	}
	return &d, nil
}

// NewChain reports whether the digest starts a chain: its previous fields
// are null (validation was off, logging stopped, or the trail was recreated).
func (d *Digest) NewChain() bool { return d.PreviousBucket == nil }

// StringToSign is what CloudTrail signs for a digest: its end time, its
// bucket/key, the hex SHA-256 of the uncompressed digest, and the previous
// digest's signature ("null" at a chain's start).
func StringToSign(d *Digest, raw []byte) []byte {
	sum := sha256.Sum256(raw)
	prev := "null"
	if d.PreviousSignature != nil {
		prev = *d.PreviousSignature
	}
	return []byte(d.RawEndTime + "\n" + d.Bucket + "/" + d.Object + "\n" + hex.EncodeToString(sum[:]) + "\n" + prev)
}

// gunzip inflates body (every gzip member), at most limit bytes.
func gunzip(body []byte, limit int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("larger than %d bytes uncompressed", limit)
	}
	return out.Bytes(), nil
}

// DigestKey is what a digest's S3 key says: whose, which Region and trail, when.
type DigestKey struct {
	Prefix     string // the trail's key prefix, "" when none
	Org        string // o-… for an organization trail
	Account    string
	Region     string // the Region the digest covers
	Trail      string
	HomeRegion string
	Time       time.Time // the key's timestamp (the digest's end, to the second)
}

// Chain names the chain a digest belongs to: one per account, Region and trail.
func (k DigestKey) Chain() ChainID {
	return ChainID{Prefix: k.Prefix, Org: k.Org, Account: k.Account, Region: k.Region, Trail: k.Trail, HomeRegion: k.HomeRegion}
}

// ChainID names one chain of digests: an account's digests for one Region of one trail.
type ChainID struct {
	Prefix     string `json:"prefix,omitempty"`
	Org        string `json:"org,omitempty"`
	Account    string `json:"account"`
	Region     string `json:"region"`
	Trail      string `json:"trail"`
	HomeRegion string `json:"home_region"`
}

func (c ChainID) String() string {
	return c.Account + " " + c.Region + " trail " + c.Trail + " (home " + c.HomeRegion + ")"
}

// base is the key folder the chain's account lives under: [prefix/]AWSLogs/[o-id/]ACCOUNT/.
func (c ChainID) base() string {
	b := "AWSLogs/"
	if c.Org != "" {
		b += c.Org + "/"
	}
	b += c.Account + "/"
	if c.Prefix != "" {
		b = c.Prefix + "/" + b
	}
	return b
}

var digestKeyRE = regexp.MustCompile(`^(?:(.+)/)?AWSLogs/(?:(o-[a-z0-9]{10,32})/)?(\d{12})/CloudTrail-Digest/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z]{2}(?:-[a-z]+)+-\d+)_(\d{8}T\d{6}Z)\.json\.gz$`)

// ParseDigestKey reads a digest's S3 key; ok is false for any other key.
func ParseDigestKey(key string) (DigestKey, bool) {
	m := digestKeyRE.FindStringSubmatch(key)
	if m == nil || m[3] != m[5] || m[4] != m[6] {
		return DigestKey{}, false
	}
	t, err := time.Parse("20060102T150405Z", m[9])
	if err != nil {
		return DigestKey{}, false
	}
	return DigestKey{Prefix: m[1], Org: m[2], Account: m[3], Region: m[4], Trail: m[7], HomeRegion: m[8], Time: t}, true
}

var logKeyRE = regexp.MustCompile(`/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail_[a-z0-9-]+_(\d{8}T\d{4}Z)_[A-Za-z0-9]+\.json\.gz$`)

// logKeyTime is the delivery time in a log file's key.
func logKeyTime(key string) (time.Time, bool) {
	m := logKeyRE.FindStringSubmatch(key)
	if m == nil {
		return time.Time{}, false
	}
	t, err := time.Parse("20060102T1504Z", m[1])
	return t, err == nil
}

// isLocalKey reports whether key is safe as a relative path: no empty, "."
// or ".." segment, no leading slash, no backslash or NUL.
func isLocalKey(key string) bool {
	if key == "" || strings.ContainsAny(key, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
