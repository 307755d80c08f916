package trailcheck_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/trailcheck"
	"github.com/warroom-ir/warroom/trailcheck/trailtest"
)

var day = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// sixHours is a trail of six signed hourly digests, three log files each.
func sixHours(t *testing.T) (*trailtest.Trail, []string) {
	t.Helper()
	tr := trailtest.New()
	tr.Mem.Keys = []trailcheck.PublicKey{tr.PublicKey()}
	return tr, tr.Hours(day, 6, 3)
}

func opts(tr *trailtest.Trail) trailcheck.Options {
	return trailcheck.Options{Bucket: tr.Bucket, Prefix: tr.Prefix, Start: day, End: day.Add(6 * time.Hour)}
}

func validate(t *testing.T, src trailcheck.Source, o trailcheck.Options) *trailcheck.Result {
	t.Helper()
	res, err := trailcheck.Validate(context.Background(), src, o)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func digestByKey(t *testing.T, res *trailcheck.Result, key string) trailcheck.DigestResult {
	t.Helper()
	for _, c := range res.Chains {
		for _, d := range c.Digests {
			if d.Key == key {
				return d
			}
		}
	}
	t.Fatalf("no result for digest %s", key)
	return trailcheck.DigestResult{}
}

func fileByKey(t *testing.T, res *trailcheck.Result, key string) trailcheck.FileResult {
	t.Helper()
	for _, c := range res.Chains {
		for _, f := range c.Files {
			if f.Key == key {
				return f
			}
		}
	}
	t.Fatalf("no result for log file %s", key)
	return trailcheck.FileResult{}
}

func logsOf(t *testing.T, tr *trailtest.Trail, digest string) []string {
	t.Helper()
	o, err := tr.Mem.Get(context.Background(), tr.Bucket, digest)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, part := range strings.Split(string(gunzip(t, o.Body)), `"s3Object":"`)[1:] {
		keys = append(keys, part[:strings.IndexByte(part, '"')])
	}
	return keys
}

func TestIntact(t *testing.T) {
	tr, digests := sixHours(t)
	res := validate(t, tr.Mem, opts(tr))
	if !res.Intact() || !res.SignaturesChecked {
		t.Fatalf("intact trail: Intact=%v signatures=%v %+v", res.Intact(), res.SignaturesChecked, res.Counts)
	}
	c := res.Counts
	if c.Digests != 6 || c.DigestsValid != 6 || c.Logs != 18 || c.LogsValid != 18 || c.Gaps != 0 || c.Unvouched != 0 {
		t.Errorf("counts = %+v", c)
	}
	if got := res.Chains[0].Digests[0].Key; got != digests[5] {
		t.Errorf("first digest walked = %s, want the newest %s", got, digests[5])
	}
	if d := res.Chains[0].Digests[0]; d.Signature != "verified" {
		t.Errorf("signature = %q", d.Signature)
	}
}

func TestLogEdited(t *testing.T) {
	tr, digests := sixHours(t)
	victim := logsOf(t, tr, digests[2])[1]
	tr.Mem.Edit(tr.Bucket, victim, func(b []byte) []byte {
		return bytes.Replace(b, []byte("DescribeInstances"), []byte("DescribeInstancez"), 1)
	})
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() {
		t.Fatal("an edited log file left the trail intact")
	}
	if f := fileByKey(t, res, victim); f.Status != trailcheck.Invalid || f.Why != "hash value doesn't match" {
		t.Errorf("edited log = %+v", f)
	}
	if c := res.Counts; c.LogsValid != 17 || c.DigestsValid != 6 {
		t.Errorf("counts = %+v", c)
	}
}

func TestLogDeleted(t *testing.T) {
	tr, digests := sixHours(t)
	victim := logsOf(t, tr, digests[4])[0]
	tr.Mem.Delete(tr.Bucket, victim)
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() {
		t.Fatal("a deleted log file left the trail intact")
	}
	if f := fileByKey(t, res, victim); f.Status != trailcheck.Missing {
		t.Errorf("deleted log = %+v", f)
	}
}

func TestDigestDeleted(t *testing.T) {
	tr, digests := sixHours(t)
	tr.Mem.Delete(tr.Bucket, digests[3])
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() {
		t.Fatal("a deleted digest left the trail intact")
	}
	if d := digestByKey(t, res, digests[3]); d.Status != trailcheck.Missing {
		t.Errorf("deleted digest = %+v", d)
	}
	// The walk goes on past it; its hour's log files are vouched for by nothing.
	if c := res.Counts; c.DigestsValid != 5 || c.Unvouched != 3 || c.Pending != 0 {
		t.Errorf("counts = %+v", c)
	}
	for _, u := range res.Chains[0].Unvouched {
		if u.Why != "no digest lists it" {
			t.Errorf("unvouched %s: %s", u.Key, u.Why)
		}
	}
}

func TestDigestEdited(t *testing.T) {
	tr, digests := sixHours(t)
	tr.Mem.Edit(tr.Bucket, digests[2], func(b []byte) []byte {
		i := bytes.Index(b, []byte(`"hashValue":"`)) + len(`"hashValue":"`)
		b = bytes.Clone(b)
		b[i] ^= 1 // the attacker hides an edited log's hash
		return b
	})
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() {
		t.Fatal("an edited digest left the trail intact")
	}
	d := digestByKey(t, res, digests[2])
	if d.Status != trailcheck.Invalid || d.Why != "signature verification failed" {
		t.Errorf("edited digest = %+v", d)
	}
}

func TestLoggingStoppedForAnHour(t *testing.T) {
	tr := trailtest.New()
	tr.Mem.Keys = []trailcheck.PublicKey{tr.PublicKey()}
	tr.Hours(day, 3, 2)
	tr.Restart() // logging stopped 03:00–04:00: no digest, and the next one starts a new chain
	after := tr.Hours(day.Add(4*time.Hour), 2, 2)
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() {
		t.Fatal("a gap left the trail intact")
	}
	gaps := res.Chains[0].Gaps
	if len(gaps) != 1 || !gaps[0].From.Equal(day.Add(3*time.Hour)) || !gaps[0].To.Equal(day.Add(4*time.Hour)) || gaps[0].Before != after[0] {
		t.Fatalf("gaps = %+v", gaps)
	}
	if c := res.Counts; c.Digests != 5 || c.DigestsValid != 5 || c.LogsValid != 10 {
		t.Errorf("counts = %+v", c)
	}
}

func TestMovedDigest(t *testing.T) {
	tr, digests := sixHours(t)
	// The digest of hour 2 put in the place of hour 3's: signed, but not for this place.
	o, _ := tr.Mem.Get(context.Background(), tr.Bucket, digests[2])
	o.Key = digests[3]
	tr.Mem.Put(o)
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() {
		t.Fatal("a moved digest left the trail intact")
	}
	d := digestByKey(t, res, digests[3])
	if d.Status != trailcheck.Invalid || !strings.Contains(d.Why, "has been moved from its original location") {
		t.Errorf("moved digest = %+v", d)
	}
}

func TestOrgTrailPaths(t *testing.T) {
	tr := trailtest.New()
	tr.Org, tr.Prefix = "o-a1b2c3d4e5", "org/logs"
	tr.Mem.Keys = []trailcheck.PublicKey{tr.PublicKey()}
	digests := tr.Hours(day, 6, 2)
	if !strings.HasPrefix(digests[0], "org/logs/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail-Digest/us-east-1/") {
		t.Fatalf("fixture key %s", digests[0])
	}
	res := validate(t, tr.Mem, opts(tr))
	if !res.Intact() || len(res.Chains) != 1 || res.Chains[0].ID.Org != "o-a1b2c3d4e5" || res.Counts.LogsValid != 12 {
		t.Fatalf("org trail: intact=%v %+v", res.Intact(), res)
	}
	// Narrowed to the organization and account, as for a member account.
	o := opts(tr)
	o.Org, o.Account = "o-a1b2c3d4e5", "111122223333"
	if res := validate(t, tr.Mem, o); !res.Intact() || res.Counts.Digests != 6 {
		t.Fatalf("org trail narrowed: %+v", res.Counts)
	}
	// An edited log in an org trail is found too.
	victim := logsOf(t, tr, digests[1])[0]
	tr.Mem.Edit(tr.Bucket, victim, func(b []byte) []byte { return append(b, ' ') })
	if res := validate(t, tr.Mem, opts(tr)); res.Intact() || fileByKey(t, res, victim).Status != trailcheck.Invalid {
		t.Fatal("an edited org-trail log went unseen")
	}
}

func TestWrongKeyFailsSignature(t *testing.T) {
	tr, _ := sixHours(t)
	// A key with the right fingerprint but other bytes: nothing verifies.
	other := trailtest.New()
	other.Key = mustOtherKey(t)
	pk := other.PublicKey()
	pk.Fingerprint = tr.Fingerprint()
	tr.Mem.Keys = []trailcheck.PublicKey{pk}
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() || res.Counts.DigestsValid != 0 {
		t.Fatalf("digests verified with the wrong key: %+v", res.Counts)
	}
}

func TestUnvouchedLog(t *testing.T) {
	tr, _ := sixHours(t)
	// A log file planted in hour 2 that no digest lists.
	planted := tr.AddLog(day.Add(2*time.Hour+30*time.Minute), []byte(`{"Records":[]}`))
	// And one in the last hour of the range, after the newest digest: pending.
	res := validate(t, tr.Mem, opts(tr))
	if res.Intact() || len(res.Chains[0].Unvouched) != 1 || res.Chains[0].Unvouched[0].Key != planted {
		t.Fatalf("planted log: %+v", res.Chains[0].Unvouched)
	}
	if res.Vouched()[tr.Bucket+"/"+planted] {
		t.Error("a planted log is vouched for")
	}
	tr2, _ := sixHours(t)
	pending := tr2.AddLog(day.Add(6*time.Hour+10*time.Minute), []byte(`{"Records":[]}`))
	o := opts(tr2)
	o.End = day.Add(6*time.Hour + 20*time.Minute)
	res = validate(t, tr2.Mem, o)
	if !res.Intact() || res.Counts.Pending != 1 || res.Chains[0].Unvouched[0].Key != pending {
		t.Fatalf("pending log: intact=%v %+v", res.Intact(), res.Chains[0].Unvouched)
	}
}

// A log file's name gives its delivery to the minute only: one named in
// the minute the newest digest ends in may have come after it, and waits
// for the next digest (played on the drill: a file named 22:27 beside a
// digest ending 22:27:33 read "no digest lists it", and the console said
// the trail was broken). One named a minute earlier is missed.
func TestPendingInTheNewestDigestsMinute(t *testing.T) {
	tr := trailtest.New()
	tr.Mem.Keys = []trailcheck.PublicKey{tr.PublicKey()}
	p := 3 * time.Minute // the drill's digest period at speed 20
	end := day.Add(p + 33*time.Second)
	listed := tr.AddLog(day.Add(time.Minute), []byte(`{"Records":[]}`))
	tr.Digest(day.Add(33*time.Second), end, []string{listed})
	sameMinute := tr.AddLog(end.Truncate(time.Minute), []byte(`{"Records":[]}`))
	before := tr.AddLog(end.Truncate(time.Minute).Add(-time.Minute), []byte(`{"Records":[]}`))
	o := opts(tr)
	o.End = end.Add(30 * time.Second)
	res := validate(t, tr.Mem, o)
	why := map[string]trailcheck.Unvouched{}
	for _, u := range res.Chains[0].Unvouched {
		why[u.Key] = u
	}
	if u := why[sameMinute]; !u.Pending {
		t.Errorf("a file named in the newest digest's last minute: %+v, want pending", u)
	}
	if u := why[before]; u.Pending || u.Why != "no digest lists it" {
		t.Errorf("a file named before the newest digest's end: %+v, want missed", u)
	}
	// Long after, with no later digest, the same file is missed too: the
	// wait is one and a half of the chain's digest periods, not 90 minutes.
	o.End = end.Add(2 * p)
	res = validate(t, tr.Mem, o)
	for _, u := range res.Chains[0].Unvouched {
		if u.Key == sameMinute && u.Pending {
			t.Errorf("still pending two digest periods later: %+v", u)
		}
	}
}

func TestNothingFoundIsNotIntact(t *testing.T) {
	tr := trailtest.New()
	if res := validate(t, tr.Mem, opts(tr)); res.Intact() {
		t.Fatal("an empty bucket is intact")
	}
}

func TestZeroStartIsEverything(t *testing.T) {
	tr, _ := sixHours(t)
	o := opts(tr)
	o.Start = time.Time{}
	res := validate(t, tr.Mem, o)
	if !res.Intact() || res.Counts.Digests != 6 || !res.Start.Equal(day.Add(0)) {
		t.Fatalf("zero start: intact=%v start=%s %+v", res.Intact(), res.Start, res.Counts)
	}
}

// ListPublicKeys gives PKCS #1 DER; a key given as SubjectPublicKeyInfo verifies too.
func TestSubjectPublicKeyInfoKey(t *testing.T) {
	tr, _ := sixHours(t)
	der, err := x509.MarshalPKIXPublicKey(&tr.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	tr.Mem.Keys[0].Value = der
	if res := validate(t, tr.Mem, opts(tr)); !res.Intact() || !res.SignaturesChecked {
		t.Fatalf("SPKI key: %+v", res.Counts)
	}
}

// aws-cli decodes the key's Value from base64 once more than botocore does:
// a Value that is base64 text of the DER verifies too.
func TestBase64KeyValue(t *testing.T) {
	tr, _ := sixHours(t)
	tr.Mem.Keys[0].Value = []byte(base64.StdEncoding.EncodeToString(tr.Mem.Keys[0].Value))
	if res := validate(t, tr.Mem, opts(tr)); !res.Intact() || !res.SignaturesChecked {
		t.Fatalf("base64 key: %+v", res.Counts)
	}
}
