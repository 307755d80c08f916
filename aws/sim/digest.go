package sim

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Log file integrity validation, as CloudTrail does it: every hour (of
// the drill's compressed clock) a trail with validation on writes, for
// each Region it logs, a digest file naming the log files it delivered
// there in that hour with the SHA-256 of each (uncompressed), chained to
// the Region's previous digest and signed with the drill's own RSA key
// (SHA256withRSA); the signature travels in the object's metadata.
// ListPublicKeys serves the public half. Stopping the trail ends its
// chains after one more digest; starting it again starts new ones (null
// previous fields), as does a trail deleted and made again.

// DigestInterval is how often a trail writes digest files (simulated time,
// divided by Options.Speed).
const DigestInterval = time.Hour

// digestKey is the drill's digest-signing key pair, made on first use.
type digestKey struct {
	priv        *rsa.PrivateKey
	der         []byte // PKCS#1 RSAPublicKey, as ListPublicKeys returns it
	fingerprint string // hex MD5 of der
	start, end  time.Time
}

// drillSigningKey is the drill's digest-signing private key: 2048-bit
// RSA, made once a process (a few hundred milliseconds) and shared by its
// drill accounts, as AWS shares a Region's key among accounts.
var drillSigningKey = sync.OnceValue(func() *rsa.PrivateKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic("sim: cannot make the digest-signing key: " + err.Error())
	}
	return priv
})

// signingKeyLocked returns the drill's digest-signing key, valid from the
// trail bucket's creation for ten years.
func (s *Sim) signingKeyLocked() *digestKey {
	st := s.trail
	if st.signer != nil {
		return st.signer
	}
	priv := drillSigningKey()
	der := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	sum := md5.Sum(der)
	st.signer = &digestKey{priv: priv, der: der, fingerprint: hex.EncodeToString(sum[:]),
		start: st.created, end: st.created.AddDate(10, 0, 0)}
	return st.signer
}

// digestChain is a trail's digest schedule and, per Region, the link to
// the previous digest and the log files delivered since.
type digestChain struct {
	start time.Time // the open window's digestStartTime; zero: no chain
	next  time.Time // when the open window closes (its digestEndTime)
	prev  map[string]*digestLink
	logs  map[string][]digestLog
}

type digestLink struct{ bucket, key, hash, sig string }

type digestLog struct {
	key            string
	hash           string // hex SHA-256 of the uncompressed file
	oldest, newest time.Time
}

// digestInterval is the drill's digest interval on its clock: whole
// seconds, at least one, as digest names and times have no finer grain.
func (s *Sim) digestInterval() time.Duration {
	return max(s.scaled(DigestInterval).Truncate(time.Second), time.Second)
}

// startChain opens a new digest chain for t at now (null previous fields).
func (s *Sim) startChain(t *trail, now time.Time) {
	if !t.validation {
		return
	}
	start := now.UTC().Truncate(time.Second)
	t.digest = digestChain{start: start, next: start.Add(s.digestInterval()), prev: map[string]*digestLink{}, logs: map[string][]digestLog{}}
}

// digestRegions are the Regions t writes digests for: every enabled
// Region for a multi-Region trail, else its home Region.
func (s *Sim) digestRegions(t *trail) []string {
	if !t.multiRegion {
		return []string{t.homeRegion}
	}
	var out []string
	for _, r := range s.Regions() {
		if r.OptInStatus != "not-opted-in" {
			out = append(out, r.Name)
		}
	}
	return out
}

// noteLogLocked remembers a log file t delivered, for its next digest.
func (t *trail) noteLog(region, key string, raw []byte, evs []*event) {
	if t.digest.start.IsZero() {
		return
	}
	sum := sha256.Sum256(raw)
	l := digestLog{key: key, hash: hex.EncodeToString(sum[:])}
	for i, ev := range evs {
		if i == 0 || ev.time.Before(l.oldest) {
			l.oldest = ev.time
		}
		if i == 0 || ev.time.After(l.newest) {
			l.newest = ev.time
		}
	}
	t.digest.logs[region] = append(t.digest.logs[region], l)
}

// digestLogFile is one entry of a digest's logFiles.
type digestLogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// digestFile is a digest file's JSON, field for field as CloudTrail writes it.
type digestFile struct {
	AWSAccountID                string          `json:"awsAccountId"`
	DigestStartTime             string          `json:"digestStartTime"`
	DigestEndTime               string          `json:"digestEndTime"`
	DigestS3Bucket              string          `json:"digestS3Bucket"`
	DigestS3Object              string          `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string          `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string          `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string         `json:"newestEventTime"`
	OldestEventTime             *string         `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string         `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string         `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string         `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string         `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string         `json:"previousDigestSignature"`
	LogFiles                    []digestLogFile `json:"logFiles"`
}

// DigestKey is the S3 key of a digest file: prefix (may be empty), the
// account, the Region the digest covers, the trail's name and home Region,
// and the digest's end time.
func DigestKey(prefix, account, region, trailName, homeRegion string, end time.Time) string {
	end = end.UTC()
	key := fmt.Sprintf("AWSLogs/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz", account, region,
		end.Format("2006/01/02"), account, region, trailName, homeRegion, end.Format("20060102T150405Z"))
	if prefix != "" {
		key = prefix + "/" + key
	}
	return key
}

// StringToSign is what a digest's signature signs: its end time, where it
// is, the hex SHA-256 of its uncompressed content, and the previous
// digest's signature ("null" when it starts a chain).
func StringToSign(endTime, bucket, key string, uncompressed []byte, prevSig string) string {
	if prevSig == "" {
		prevSig = "null"
	}
	sum := sha256.Sum256(uncompressed)
	return endTime + "\n" + bucket + "/" + key + "\n" + hex.EncodeToString(sum[:]) + "\n" + prevSig
}

// writeDigestsLocked writes t's digests for every window that closed by
// now, delivering before each the log files due by its end. A stopped
// trail writes the digest of the window it stopped in, then no more.
func (s *Sim) writeDigestsLocked(t *trail, now time.Time) {
	for !t.digest.start.IsZero() && !t.digest.next.After(now) {
		end := t.digest.next
		s.deliverTrailLocked(t, end)
		for _, region := range s.digestRegions(t) {
			s.writeDigestLocked(t, region, t.digest.start, end)
		}
		t.digest.logs = map[string][]digestLog{}
		if !t.logging {
			t.digest = digestChain{}
			break
		}
		t.digest.start, t.digest.next = end, end.Add(s.digestInterval())
	}
}

// writeDigestLocked writes one Region's digest for [start, end].
func (s *Sim) writeDigestLocked(t *trail, region string, start, end time.Time) {
	k := s.signingKeyLocked()
	key := DigestKey(t.prefix, s.acct.ID, region, t.name, t.homeRegion, end)
	d := digestFile{AWSAccountID: s.acct.ID, DigestStartTime: isoTime(start), DigestEndTime: isoTime(end), DigestS3Bucket: t.bucket,
		DigestS3Object: key, DigestPublicKeyFingerprint: k.fingerprint, DigestSignatureAlgorithm: "SHA256withRSA",
		LogFiles: []digestLogFile{}}
	var oldest, newest time.Time
	for _, l := range t.digest.logs[region] {
		d.LogFiles = append(d.LogFiles, digestLogFile{S3Bucket: t.bucket, S3Object: l.key, HashValue: l.hash, HashAlgorithm: "SHA-256",
			NewestEventTime: isoTime(l.newest), OldestEventTime: isoTime(l.oldest)})
		if oldest.IsZero() || l.oldest.Before(oldest) {
			oldest = l.oldest
		}
		if l.newest.After(newest) {
			newest = l.newest
		}
	}
	if !oldest.IsZero() {
		o, n := isoTime(oldest), isoTime(newest)
		d.OldestEventTime, d.NewestEventTime = &o, &n
	}
	prevSig := ""
	if p := t.digest.prev[region]; p != nil {
		alg := "SHA-256"
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object, d.PreviousDigestHashValue = &p.bucket, &p.key, &p.hash
		d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &alg, &p.sig
		prevSig = p.sig
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return
	}
	h := sha256.Sum256([]byte(StringToSign(d.DigestEndTime, t.bucket, key, raw, prevSig)))
	sig, err := rsa.SignPKCS1v15(nil, k.priv, crypto.SHA256, h[:])
	if err != nil {
		return
	}
	sigHex := hex.EncodeToString(sig)
	gz := gzipped(raw)
	s.trail.objects[key] = &s3Object{Key: key, Body: gz, Modified: end, ETag: etagOf(gz),
		Meta: map[string]string{"signature": sigHex, "signature-algorithm": "SHA256withRSA"}}
	sum := sha256.Sum256(raw)
	t.digest.prev[region] = &digestLink{bucket: t.bucket, key: key, hash: hex.EncodeToString(sum[:]), sig: sigHex}
}

// gzipWriters keeps gzip writers between files: each holds most of a
// megabyte of tables.
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// gzipped returns raw gzip-compressed, as CloudTrail stores its files.
func gzipped(raw []byte) []byte {
	var buf bytes.Buffer
	zw := gzipWriters.Get().(*gzip.Writer)
	zw.Reset(&buf)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	gzipWriters.Put(zw)
	return buf.Bytes()
}

// etagOf is S3's ETag of a body stored in one part: its MD5, quoted.
func etagOf(body []byte) string {
	sum := md5.Sum(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// ctListPublicKeys serves cloudtrail:ListPublicKeys: the drill's one
// signing key, when its validity overlaps [StartTime, EndTime] (both
// default to now).
func (s *Sim) ctListPublicKeys(r *Request) (any, error) {
	var in struct {
		StartTime *epochTime
		EndTime   *epochTime
		NextToken string
	}
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &in); err != nil {
			return nil, Errorf(400, "SerializationException", "Cannot parse the request body")
		}
	}
	start, end := r.Now, r.Now
	p := map[string]any{}
	if in.StartTime != nil {
		start = in.StartTime.Time
		p["startTime"] = ctExpiration(start)
	}
	if in.EndTime != nil {
		end = in.EndTime.Time
		p["endTime"] = ctExpiration(end)
	}
	if len(p) > 0 {
		r.RequestParameters = p
	}
	if start.After(end) {
		return nil, Errorf(400, "InvalidTimeRangeException", "Start time must be before end time.")
	}
	type publicKey struct {
		Value             []byte  `json:"Value"`
		ValidityStartTime float64 `json:"ValidityStartTime"`
		ValidityEndTime   float64 `json:"ValidityEndTime"`
		Fingerprint       string  `json:"Fingerprint"`
	}
	out := struct {
		PublicKeyList []publicKey `json:"PublicKeyList"`
	}{PublicKeyList: []publicKey{}}
	k := s.signingKeyLocked()
	if !end.Before(k.start) && !start.After(k.end) {
		out.PublicKeyList = append(out.PublicKeyList, publicKey{Value: k.der, ValidityStartTime: float64(k.start.Unix()),
			ValidityEndTime: float64(k.end.Unix()), Fingerprint: k.fingerprint})
	}
	return out, nil
}
