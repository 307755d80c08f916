package trailcheck

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options say what to validate.
type Options struct {
	// Bucket and Prefix are where the trail delivers (Prefix without
	// slashes at its ends, "" when none).
	Bucket, Prefix string
	// Account, Region, Trail and Org narrow the chains validated; empty
	// validates every chain found under the bucket and prefix.
	Account, Region, Trail, Org string
	// Start and End bound the time validated; End is now when zero, Start
	// the oldest digest's hour when zero (everything the source holds).
	Start, End time.Time
	// Workers is how many log files are hashed at once; every core when zero.
	Workers int
	// PublicKeys, when set, are used instead of asking the Source (keys
	// kept somewhere the attacker could not write).
	PublicKeys []PublicKey
}

// Status is what validation found of a digest, a log file or an hour.
type Status string

// Statuses.
const (
	Valid   Status = "valid"
	Invalid Status = "invalid"
	Missing Status = "missing"
)

// DigestResult is one digest: one hour of one chain.
type DigestResult struct {
	Bucket string    `json:"bucket"`
	Key    string    `json:"key"`
	Start  time.Time `json:"start,omitzero"`
	End    time.Time `json:"end,omitzero"`
	Status Status    `json:"status"`
	Why    string    `json:"why,omitempty"`
	// Signature says whether the signature was verified ("verified"), or
	// why it could not be ("not checked: …").
	Signature string `json:"signature,omitempty"`
	Logs      int    `json:"logs"`
}

// FileResult is one log file a digest lists.
type FileResult struct {
	Bucket string `json:"bucket"`
	Key    string `json:"key"`
	Digest string `json:"digest"` // the key of the digest that lists it
	Status Status `json:"status"`
	Why    string `json:"why,omitempty"`
}

// Gap is a time no digest chain covers: a digest that starts a new chain
// while older digests exist (validation was off, logging stopped, or the
// trail was recreated).
type Gap struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// After and Before are the digests either side.
	After  string `json:"after,omitempty"`
	Before string `json:"before"`
}

// Unvouched is a log file present in the trail that no valid digest lists.
type Unvouched struct {
	Bucket string    `json:"bucket"`
	Key    string    `json:"key"`
	Time   time.Time `json:"time"`
	Why    string    `json:"why"`
	// Pending is true for a file delivered after the newest digest, within
	// the last hour and a half of the range: CloudTrail has not digested it
	// yet. Pending files do not make the trail broken.
	Pending bool `json:"pending,omitempty"`
}

// ChainResult is what validation found of one chain.
type ChainResult struct {
	ID        ChainID        `json:"chain"`
	Digests   []DigestResult `json:"digests"` // newest first
	Files     []FileResult   `json:"files"`
	Gaps      []Gap          `json:"gaps,omitempty"`
	Unvouched []Unvouched    `json:"unvouched,omitempty"`
	// Began is the start of the oldest digest walked when it starts a chain
	// inside the range: nothing before it in the range is vouched for.
	Began time.Time `json:"began,omitzero"`
}

// Result is a validation's outcome.
type Result struct {
	Bucket string        `json:"bucket"`
	Prefix string        `json:"prefix,omitempty"`
	Start  time.Time     `json:"start"`
	End    time.Time     `json:"end"`
	Chains []ChainResult `json:"chains"`
	// SignaturesChecked is false when no digest's signature could be
	// verified (no public keys, or no metadata): then only hashes and the
	// chain's links were checked, which an attacker who rewrote every
	// digest would pass.
	SignaturesChecked bool     `json:"signatures_checked"`
	SignatureNote     string   `json:"signature_note,omitempty"`
	KeyFingerprints   []string `json:"public_key_fingerprints,omitempty"`
	Counts            Counts   `json:"counts"`
}

// Counts sum a Result.
type Counts struct {
	Digests, DigestsValid, Logs, LogsValid, Gaps, Unvouched, Pending int
}

// Intact reports whether every digest and log file in range is valid,
// nothing is missing, the chains have no gap and every log file present is
// vouched for (pending ones aside). Nothing found is not intact.
func (r *Result) Intact() bool {
	c := r.Counts
	return c.Digests > 0 && c.Digests == c.DigestsValid && c.Logs == c.LogsValid && c.Gaps == 0 && c.Unvouched == c.Pending
}

// Vouched reports whether a valid digest vouches for the log file at
// bucket/key with a matching hash.
func (r *Result) Vouched() map[string]bool {
	m := map[string]bool{}
	for _, c := range r.Chains {
		for _, f := range c.Files {
			if f.Status == Valid {
				m[f.Bucket+"/"+f.Key] = true
			}
		}
	}
	return m
}

// Validate checks the digests and log files of opts's range in src, as
// aws-cli's validate-logs does (and more: the previous digest's hash and
// signature are checked against what the next digest recorded, so a folder
// without signatures still shows an edited digest; log files no digest
// lists are named). An error is returned only when src could not be read
// at all; every problem found is in the Result.
func Validate(ctx context.Context, src Source, opts Options) (*Result, error) {
	if opts.End.IsZero() {
		opts.End = time.Now()
	}
	opts.Start, opts.End = opts.Start.UTC(), opts.End.UTC()
	if opts.Start.IsZero() {
		first, err := oldestDigest(ctx, src, opts)
		if err != nil {
			return nil, err
		}
		opts.Start = first
		if first.IsZero() || first.After(opts.End) {
			opts.Start = opts.End.Add(-24 * time.Hour)
		}
	}
	if opts.Start.After(opts.End) {
		return nil, fmt.Errorf("start %s is after end %s", opts.Start.Format(time.RFC3339), opts.End.Format(time.RFC3339))
	}
	res := &Result{Bucket: opts.Bucket, Prefix: opts.Prefix, Start: opts.Start, End: opts.End, Chains: []ChainResult{}}
	chains, err := findDigests(ctx, src, opts.Bucket, opts)
	if err != nil {
		return nil, err
	}
	keys, keyNote, err := publicKeys(ctx, src, opts)
	if err != nil {
		return nil, err
	}
	v := &validator{src: src, opts: opts, keys: keys, keyNote: keyNote}
	for _, k := range keys {
		res.KeyFingerprints = append(res.KeyFingerprints, k.Fingerprint)
	}
	var jobs []*logJob
	ids := make([]ChainID, 0, len(chains))
	for id := range chains {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b ChainID) int { return cmp.Compare(a.String()+a.Org+a.Prefix, b.String()+b.Org+b.Prefix) })
	for _, id := range ids {
		cr, js, err := v.walk(ctx, id, chains[id])
		if err != nil {
			return nil, err
		}
		res.Chains = append(res.Chains, cr)
		jobs = append(jobs, js...)
	}
	if err := hashLogs(ctx, src, jobs, opts.Workers); err != nil {
		return nil, err
	}
	for i := range res.Chains {
		c := &res.Chains[i]
		for _, j := range jobs {
			if j.chain == i {
				c.Files = append(c.Files, j.res)
			}
		}
		if err := v.unvouched(ctx, c); err != nil {
			return nil, err
		}
	}
	res.SignaturesChecked = v.signed > 0 && v.unsigned == 0
	switch {
	case v.unsigned > 0 && v.signed == 0:
		res.SignatureNote = "signatures could not be checked (" + v.unsignedWhy + "): hashes and the chain's links were checked, which a rewrite of every digest would pass"
	case v.unsigned > 0:
		res.SignatureNote = fmt.Sprintf("%d digest(s) had no signature to check (%s)", v.unsigned, v.unsignedWhy)
	}
	res.count()
	return res, nil
}

func (r *Result) count() {
	var c Counts
	for _, ch := range r.Chains {
		c.Digests += len(ch.Digests)
		for _, d := range ch.Digests {
			if d.Status == Valid {
				c.DigestsValid++
			}
		}
		c.Logs += len(ch.Files)
		for _, f := range ch.Files {
			if f.Status == Valid {
				c.LogsValid++
			}
		}
		c.Gaps += len(ch.Gaps)
		c.Unvouched += len(ch.Unvouched)
		for _, u := range ch.Unvouched {
			if u.Pending {
				c.Pending++
			}
		}
	}
	r.Counts = c
}

// digestRef is a digest key found in a listing.
type digestRef struct {
	key string
	at  time.Time
}

// findDigests lists the digest keys of opts's range in bucket, by chain,
// oldest first.
func findDigests(ctx context.Context, src Source, bucket string, opts Options) (map[ChainID][]digestRef, error) {
	prefix := "AWSLogs/"
	if opts.Prefix != "" {
		prefix = opts.Prefix + "/" + prefix
	}
	if opts.Org != "" {
		prefix += opts.Org + "/"
	}
	if opts.Account != "" {
		if opts.Org == "" {
			prefix += opts.Account + "/CloudTrail-Digest/"
			if opts.Region != "" {
				prefix += opts.Region + "/"
			}
		}
	}
	keys, err := src.List(ctx, bucket, prefix)
	if err != nil {
		return nil, fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, err)
	}
	from, to := opts.Start, opts.End.Add(time.Hour) // a digest delivered up to an hour later covers the range's end
	out := map[ChainID][]digestRef{}
	for _, key := range keys {
		dk, ok := ParseDigestKey(key)
		if !ok || dk.Prefix != opts.Prefix {
			continue
		}
		if (opts.Account != "" && dk.Account != opts.Account) || (opts.Region != "" && dk.Region != opts.Region) ||
			(opts.Trail != "" && dk.Trail != opts.Trail) || (opts.Org != "" && dk.Org != opts.Org) {
			continue
		}
		if dk.Time.Before(from) || dk.Time.After(to) {
			continue
		}
		id := dk.Chain()
		out[id] = append(out[id], digestRef{key: key, at: dk.Time})
	}
	for id := range out {
		slices.SortFunc(out[id], func(a, b digestRef) int {
			return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.key, b.key))
		})
	}
	return out, nil
}

// oldestDigest is the start of the hour of the oldest digest listed (zero when none).
func oldestDigest(ctx context.Context, src Source, opts Options) (time.Time, error) {
	all := opts
	all.Start, all.End = time.Time{}, opts.End
	chains, err := findDigests(ctx, src, opts.Bucket, all)
	if err != nil {
		return time.Time{}, err
	}
	var first time.Time
	for _, refs := range chains {
		if len(refs) > 0 && (first.IsZero() || refs[0].at.Before(first)) {
			first = refs[0].at
		}
	}
	if first.IsZero() {
		return first, nil
	}
	return first.Add(-time.Hour).Truncate(time.Hour), nil
}

func publicKeys(ctx context.Context, src Source, opts Options) ([]PublicKey, string, error) {
	if len(opts.PublicKeys) > 0 {
		return opts.PublicKeys, "", nil
	}
	keys, err := src.PublicKeys(ctx, opts.Start.Add(-time.Hour), opts.End.Add(time.Hour))
	if errors.Is(err, ErrNotFound) {
		return nil, "no public keys in the source", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("public keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, "no public keys for the range", nil
	}
	return keys, "", nil
}

type validator struct {
	src     Source
	opts    Options
	keys    []PublicKey
	keyNote string

	chainIndex       int
	signed, unsigned int
	unsignedWhy      string
}

// loaded is a digest read and checked.
type loaded struct {
	d   *Digest
	raw []byte // uncompressed
	sig string // the signature from the object's metadata, "" when none
}

// walk validates one chain from its newest digest back, as aws-cli's
// DigestTraverser does: through each digest's previous pointer, and when
// a digest is missing or invalid, or starts a new chain, on to the next
// older digest listed.
func (v *validator) walk(ctx context.Context, id ChainID, refs []digestRef) (ChainResult, []*logJob, error) {
	cr := ChainResult{ID: id, Digests: []DigestResult{}, Files: []FileResult{}}
	var jobs []*logJob
	chain := v.chainIndex
	v.chainIndex++
	bucket := v.opts.Bucket
	// next pops the newest listed digest older than before (any when zero).
	next := func(before time.Time) (digestRef, bool) {
		for len(refs) > 0 {
			r := refs[len(refs)-1]
			refs = refs[:len(refs)-1]
			if before.IsZero() || r.at.Before(before) {
				return r, true
			}
		}
		return digestRef{}, false
	}
	cur, ok := next(time.Time{})
	lastStart := v.opts.End.Add(time.Hour)
	var newer *loaded // the digest walked just before (newer), when reached through its previous pointer
	var newerKey string
	for ok && !v.opts.Start.After(lastStart) {
		if err := ctx.Err(); err != nil {
			return cr, nil, err
		}
		key := cur.key
		curAt := cur.at
		l, dr, err := v.load(ctx, bucket, key)
		if err != nil {
			return cr, nil, err
		}
		if dr.Status == Valid && newer != nil {
			// The newer digest recorded this one's hash and signature.
			if why := linkProblem(newer, l); why != "" {
				dr.Status, dr.Why = Invalid, why+" recorded by "+newerKey
			}
		}
		cr.Digests = append(cr.Digests, dr)
		if dr.Status != Valid {
			newer = nil
			cur, ok = next(curAt)
			continue
		}
		d := l.d
		lastStart = d.StartTime
		for _, lf := range d.LogFiles {
			jobs = append(jobs, &logJob{chain: chain, lf: lf, res: FileResult{Bucket: lf.Bucket, Key: lf.Object, Digest: key}})
		}
		if d.NewChain() {
			older, found := next(curAt)
			if found {
				cr.Gaps = append(cr.Gaps, Gap{From: older.at, To: d.StartTime, After: older.key, Before: key})
			} else if d.StartTime.After(v.opts.Start) {
				cr.Began = d.StartTime
			}
			newer, cur, ok = nil, older, found
			continue
		}
		newer, newerKey = l, key
		if *d.PreviousBucket != bucket {
			bucket = *d.PreviousBucket
		}
		prevKey := *d.PreviousObject
		at := curAt
		if pk, ok := ParseDigestKey(prevKey); ok {
			at = pk.Time
		}
		// Drop listed digests at or after the previous one: the pointer is followed instead.
		for len(refs) > 0 && !refs[len(refs)-1].at.Before(at) && refs[len(refs)-1].key != prevKey {
			refs = refs[:len(refs)-1]
		}
		if len(refs) > 0 && refs[len(refs)-1].key == prevKey {
			refs = refs[:len(refs)-1]
		}
		cur, ok = digestRef{key: prevKey, at: at}, true
	}
	return cr, jobs, nil
}

// linkProblem compares what newer recorded of its previous digest with prev.
func linkProblem(newer, prev *loaded) string {
	d := newer.d
	if d.PreviousHashValue != nil {
		sum := sha256.Sum256(prev.raw)
		if !strings.EqualFold(*d.PreviousHashValue, hex.EncodeToString(sum[:])) {
			return "edited: its hash is not the one"
		}
	}
	if d.PreviousSignature != nil && prev.sig != "" && !strings.EqualFold(*d.PreviousSignature, prev.sig) {
		return "its signature is not the one"
	}
	return ""
}

// load reads and checks one digest. An error is returned only when the
// source failed; a missing or bad digest is in the DigestResult.
func (v *validator) load(ctx context.Context, bucket, key string) (*loaded, DigestResult, error) {
	dr := DigestResult{Bucket: bucket, Key: key, Status: Invalid}
	if dk, ok := ParseDigestKey(key); ok {
		dr.End = dk.Time
	}
	obj, err := v.src.Get(ctx, bucket, key)
	if errors.Is(err, ErrNotFound) {
		dr.Status, dr.Why = Missing, "not found"
		return nil, dr, nil
	}
	if err != nil {
		return nil, dr, fmt.Errorf("reading digest s3://%s/%s: %w", bucket, key, err)
	}
	raw, err := gunzip(obj.Body, maxDigest)
	if err != nil {
		dr.Why = "invalid format: " + err.Error()
		return nil, dr, nil
	}
	d, err := ParseDigest(raw)
	if err != nil {
		dr.Why = err.Error()
		return nil, dr, nil
	}
	dr.Start, dr.End, dr.Logs = d.StartTime, d.EndTime, len(d.LogFiles)
	if d.Bucket != bucket || d.Object != key {
		dr.Why = "has been moved from its original location (it names s3://" + d.Bucket + "/" + d.Object + ")"
		return nil, dr, nil
	}
	l := &loaded{d: d, raw: raw}
	if obj.Meta != nil {
		l.sig = obj.Meta["signature"]
	}
	sig, why := v.verify(obj, d, raw)
	dr.Signature = sig
	if why != "" {
		dr.Why = why
		return nil, dr, nil
	}
	dr.Status = Valid
	return l, dr, nil
}

// verify checks a digest's signature. sig says what was done; why is set
// when the signature is wrong.
func (v *validator) verify(obj Object, d *Digest, raw []byte) (sig, why string) {
	unchecked := func(reason string) (string, string) {
		v.unsigned++
		if v.unsignedWhy == "" {
			v.unsignedWhy = reason
		}
		return "not checked: " + reason, ""
	}
	if obj.Meta == nil {
		return unchecked("no object metadata: a copy that kept none, such as aws s3 sync's")
	}
	if v.keyNote != "" {
		return unchecked(v.keyNote)
	}
	hexSig, alg := obj.Meta["signature"], obj.Meta["signature-algorithm"]
	if hexSig == "" || alg == "" {
		return "missing", "signature verification failed: the object has no signature metadata"
	}
	if alg != "SHA256withRSA" {
		return "unsupported", "signature algorithm " + alg + " is not SHA256withRSA"
	}
	var key *PublicKey
	for i := range v.keys {
		if v.keys[i].Fingerprint == d.Fingerprint {
			key = &v.keys[i]
			break
		}
	}
	if key == nil {
		return "no key", "public key not found for fingerprint " + d.Fingerprint
	}
	pub, err := parseRSAKey(key.Value)
	if err != nil {
		return "bad key", "unable to load the public key with fingerprint " + d.Fingerprint + ": " + err.Error()
	}
	s, err := hex.DecodeString(hexSig)
	if err != nil {
		return "bad", "signature verification failed: the signature is not hex"
	}
	h := sha256.Sum256(StringToSign(d, raw))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], s); err != nil {
		return "bad", "signature verification failed"
	}
	v.signed++
	return "verified", ""
}

// parseRSAKey reads a DER public key: PKCS #1 RSAPublicKey, as
// ListPublicKeys gives it (aws-cli loads it with rsa's load_pkcs1), or
// SubjectPublicKeyInfo.
//
// aws-cli base64-decodes the Value botocore hands it once more: what the
// SDK gives may be base64 text of the DER, which is read as such.
func parseRSAKey(der []byte) (*rsa.PublicKey, error) {
	if len(der) > 0 && der[0] != 0x30 {
		if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(der))); err == nil {
			der = dec
		}
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("neither PKCS #1 nor SubjectPublicKeyInfo DER")
	}
	if rk, ok := k.(*rsa.PublicKey); ok {
		return rk, nil
	}
	return nil, errors.New("not an RSA key")
}

// logJob is one log file to hash.
type logJob struct {
	chain int
	lf    LogFile
	res   FileResult
}

// maxLog bounds an uncompressed log file (CloudTrail's are far smaller).
const maxLog = 4 << 30

// hashLogs reads and hashes every job's log file, workers at a time.
func hashLogs(ctx context.Context, src Source, jobs []*logJob, workers int) error {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		next     = make(chan *logJob)
	)
	for range min(workers, max(len(jobs), 1)) {
		wg.Go(func() {
			var zr gzip.Reader
			h := sha256.New()
			buf := make([]byte, 256<<10)
			for j := range next {
				if err := hashOne(ctx, src, j, &zr, h, buf); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- j
	}
	close(next)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

type hashWriter interface {
	io.Writer
	Sum([]byte) []byte
	Reset()
}

func hashOne(ctx context.Context, src Source, j *logJob, zr *gzip.Reader, h hashWriter, buf []byte) error {
	r := &j.res
	obj, err := src.Get(ctx, j.lf.Bucket, j.lf.Object)
	if errors.Is(err, ErrNotFound) {
		r.Status, r.Why = Missing, "not found"
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading log s3://%s/%s: %w", j.lf.Bucket, j.lf.Object, err)
	}
	r.Status = Invalid
	if err := zr.Reset(bytes.NewReader(obj.Body)); err != nil {
		r.Why = "invalid format: " + err.Error()
		return nil
	}
	h.Reset()
	n, err := io.CopyBuffer(h, io.LimitReader(zr, maxLog+1), buf)
	if err != nil {
		r.Why = "invalid format: " + err.Error()
		return nil
	}
	if n > maxLog {
		r.Why = "invalid format: too large uncompressed"
		return nil
	}
	var sum [sha256.Size]byte
	if !strings.EqualFold(hex.EncodeToString(h.Sum(sum[:0])), j.lf.HashValue) {
		r.Why = "hash value doesn't match"
		return nil
	}
	r.Status, r.Why = Valid, ""
	return nil
}

// unvouched lists the chain's log files in range and names those no valid
// digest lists.
func (v *validator) unvouched(ctx context.Context, c *ChainResult) error {
	listed := map[string]bool{}
	var newestEnd time.Time
	// How long a file delivered after the newest digest waits for the next
	// one before it counts as missed: one and a half digest periods (a
	// digest is hourly on AWS: 90 minutes; the drill's are shorter).
	pendingFor := 90 * time.Minute
	for _, d := range c.Digests {
		if d.Status == Valid && d.End.After(newestEnd) {
			newestEnd = d.End
			if p := d.End.Sub(d.Start); p > 0 && p < time.Hour {
				pendingFor = p * 3 / 2
			}
		}
	}
	for _, f := range c.Files {
		listed[f.Bucket+"/"+f.Key] = true // a listed file that fails is reported as such, not twice
	}
	base := c.ID.base() + "CloudTrail/" + c.ID.Region + "/"
	for day := v.opts.Start.Truncate(24 * time.Hour); !day.After(v.opts.End); day = day.Add(24 * time.Hour) {
		prefix := base + day.Format("2006/01/02/")
		keys, err := v.src.List(ctx, v.opts.Bucket, prefix)
		if err != nil {
			return fmt.Errorf("listing s3://%s/%s: %w", v.opts.Bucket, prefix, err)
		}
		for _, k := range keys {
			at, ok := logKeyTime(k)
			if !ok || at.Before(v.opts.Start) || at.After(v.opts.End) || listed[v.opts.Bucket+"/"+k] {
				continue
			}
			u := Unvouched{Bucket: v.opts.Bucket, Key: k, Time: at}
			// A file's name gives its delivery to the minute: one named
			// 22:27 came between 22:27:00 and 22:27:59, so a digest that
			// ends at 22:27:33 may not cover it yet.
			last := at.Add(time.Minute - time.Second)
			switch {
			case !newestEnd.IsZero() && !last.Before(newestEnd) && at.After(v.opts.End.Add(-pendingFor)):
				u.Why, u.Pending = "delivered after the newest digest: not digested yet", true
			case newestEnd.IsZero():
				u.Why = "no valid digest in range"
			case !last.Before(newestEnd):
				u.Why = "delivered after the newest digest, which is older than it should be: later digests are missing"
			default:
				u.Why = "no digest lists it"
			}
			c.Unvouched = append(c.Unvouched, u)
		}
	}
	slices.SortFunc(c.Unvouched, func(a, b Unvouched) int { return cmp.Compare(a.Key, b.Key) })
	return nil
}
