package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/trailcheck"
	"github.com/warroom-ir/warroom/trailcheck/trailtest"
)

var trailDay = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// downloadedTrail writes a signed six-hour trail into a folder as trail
// download does and returns the folder and the trail.
func downloadedTrail(t *testing.T) (string, *trailtest.Trail, []string) {
	t.Helper()
	tr := trailtest.New()
	tr.Mem.Keys = []trailcheck.PublicKey{tr.PublicKey()}
	digests := tr.Hours(trailDay, 6, 3)
	dir := t.TempDir()
	res, err := trailcheck.Download(context.Background(), tr.Mem, trailcheck.Folder{Dir: dir},
		trailcheck.Options{Bucket: tr.Bucket, Start: trailDay, End: trailDay.Add(6 * time.Hour)})
	if err != nil || !res.Intact() {
		t.Fatalf("download: %v %+v", err, res)
	}
	return dir, tr, digests
}

var trailRange = []string{"--start", "2026-12-01T00:00:00Z", "--end", "2026-12-01T06:00:00Z"}

func TestTrailValidateFolder(t *testing.T) {
	dir, tr, digests := downloadedTrail(t)
	code, out, errOut := warroom(t, append([]string{"trail", "validate", dir}, trailRange...)...)
	if code != 0 || !strings.Contains(out, ": intact") || !strings.Contains(out, "6/6 digest files valid, 18/18 log files valid") ||
		!strings.Contains(out, "signatures verified") {
		t.Fatalf("intact folder: exit %d\n%s%s", code, out, errOut)
	}
	// A log file edited: exit 1, the file named with why.
	o, _ := tr.Mem.Get(context.Background(), tr.Bucket, digests[1])
	var d struct {
		LogFiles []struct{ S3Object string } `json:"logFiles"`
	}
	raw := gunzipBytes(t, o.Body)
	json.Unmarshal(raw, &d)
	victim := d.LogFiles[0].S3Object
	if err := os.WriteFile(filepath.Join(dir, tr.Bucket, filepath.FromSlash(victim)), trailtest.Gzip([]byte(`{"Records":[]}`)), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = warroom(t, append([]string{"trail", "validate", dir}, trailRange...)...)
	if code != 1 || !strings.Contains(out, victim+"  INVALID: hash value doesn't match") || !strings.Contains(out, "NOT intact") {
		t.Fatalf("edited log: exit %d\n%s", code, out)
	}
	// --output json says the same.
	code, out, _ = warroom(t, append([]string{"trail", "validate", dir, "--output", "json"}, trailRange...)...)
	var res trailcheck.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != 1 || res.Counts.LogsValid != 17 {
		t.Fatalf("json: exit %d %v %+v", code, err, res.Counts)
	}
	// A digest deleted: missing, exit 1.
	os.Remove(filepath.Join(dir, tr.Bucket, filepath.FromSlash(digests[3])))
	code, out, _ = warroom(t, append([]string{"trail", "validate", dir}, trailRange...)...)
	if code != 1 || !strings.Contains(out, "MISSING  digest s3://trail-bucket/"+digests[3]+": not found") {
		t.Fatalf("deleted digest: exit %d\n%s", code, out)
	}
}

func TestTrailValidateJournalsTheResult(t *testing.T) {
	dir, _, _ := downloadedTrail(t)
	j := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(j, state.IncidentOpened{Title: "t"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	rec.Close()
	if code, out, errOut := warroom(t, append([]string{"trail", "validate", dir, "-j", j}, trailRange...)...); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	s, _, err := state.Replay(j)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Integrity) != 1 {
		t.Fatalf("integrity facts: %+v", s.Integrity)
	}
	for _, ti := range s.Integrity {
		if !ti.V.Intact || ti.V.Word() != "intact" || ti.V.Digests != 6 || ti.V.LogsValid != 18 || !ti.V.SignaturesChecked {
			t.Errorf("fact = %+v", ti.V)
		}
	}
}

func TestTrailValidateSyncCopyAndHostileNames(t *testing.T) {
	tr := trailtest.New()
	tr.Hours(trailDay, 6, 2)
	dir := t.TempDir()
	for _, o := range tr.Mem.Objects {
		p := filepath.Join(dir, filepath.FromSlash(o.Key))
		os.MkdirAll(filepath.Dir(p), 0o700)
		os.WriteFile(p, o.Body, 0o600)
	}
	code, out, errOut := warroom(t, append([]string{"trail", "validate", dir}, trailRange...)...)
	if code != 0 || !strings.Contains(out, "signatures could not be checked") || !strings.Contains(out, ": intact") {
		t.Fatalf("s3 sync copy: exit %d\n%s%s", code, out, errOut)
	}
	// A digest that names a place of the attacker's making, with terminal controls in it.
	key := tr.DigestKey(trailDay.Add(9 * time.Hour))
	raw := []byte(`{"digestStartTime":"2026-12-01T08:00:00Z","digestEndTime":"2026-12-01T09:00:00Z","digestS3Bucket":"trail-bucket","digestS3Object":"x\u001b]0;pwned\u0007","digestPublicKeyFingerprint":"f","previousDigestSignature":null,"logFiles":[]}`)
	p := filepath.Join(dir, filepath.FromSlash(key))
	os.MkdirAll(filepath.Dir(p), 0o700)
	os.WriteFile(p, trailtest.Gzip(raw), 0o600)
	code, out, _ = warroom(t, "trail", "validate", dir, "--start", "2026-12-01T00:00:00Z", "--end", "2026-12-01T09:00:00Z")
	if code != 1 || strings.ContainsAny(out, "\x1b\x07") || !strings.Contains(out, "has been moved") {
		t.Fatalf("hostile digest: exit %d\n%q", code, out)
	}
}

func TestTrailValidateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"trail", "validate", "s3:///no-bucket"},
		{"trail", "validate", filepath.Join(t.TempDir(), "nope")},
		{"trail", "validate", t.TempDir(), "--start", "yesterday"},
		{"trail", "validate", t.TempDir(), "--output", "yaml"},
	} {
		if code, out, errOut := warroom(t, args...); code != 2 {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// An empty folder: nothing vouched for, not intact.
	if code, out, _ := warroom(t, "trail", "validate", t.TempDir()); code != 1 || !strings.Contains(out, "no digest files found") {
		t.Errorf("empty folder: exit %d\n%s", code, out)
	}
}

func gunzipBytes(_ *testing.T, b []byte) []byte { return trailtest.Gunzip(b) }

// trailClock is the wall clock moved by an offset the test changes: the
// drill's trail delivers digests hourly on it.
type trailClock struct{ off atomic.Int64 }

func (c *trailClock) Now() time.Time          { return time.Now().UTC().Add(time.Duration(c.off.Load())) }
func (c *trailClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// TestTrailValidateDrill validates the drill account's trail bucket through
// the AWS API (s3:// and auto): intact, then a log file deleted and a
// digest deleted, as an attacker with S3 rights would.
func TestTrailValidateDrill(t *testing.T) {
	clock := &trailClock{}
	d := newStreamDrill(t, sim.Options{Clock: clock})
	born := clock.Now()
	for range 13 {
		d.attack(t, "us-east-1")
		clock.Advance(10 * time.Minute)
	}
	bucket := d.sim.TrailBucket()
	rng := []string{"--start", born.Add(-time.Hour).Format(time.RFC3339), "--end", clock.Now().Format(time.RFC3339), "--endpoint-url", d.endpoint}
	code, out, errOut := warroom(t, append([]string{"trail", "validate", "s3://" + bucket}, rng...)...)
	if code != 0 || !strings.Contains(out, "signatures verified") || !strings.Contains(out, ": intact") {
		t.Fatalf("intact drill trail: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := warroom(t, append([]string{"trail", "validate", "auto"}, rng...)...); code != 0 || !strings.Contains(out, "s3://"+bucket) {
		t.Fatalf("auto: exit %d\n%s%s", code, out, errOut)
	}
	// The attacker deletes a log file a digest lists.
	var res trailcheck.Result
	_, out, _ = warroom(t, append([]string{"trail", "validate", "s3://" + bucket, "-o", "json", "-v"}, rng...)...)
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json: %v %s", err, out)
	}
	var victim string
	for _, c := range res.Chains {
		if len(c.Files) > 0 && victim == "" {
			victim = c.Files[0].Key
		}
	}
	if victim == "" || res.Counts.Digests == 0 || res.Counts.Logs == 0 {
		t.Fatalf("the drill's digests list no log file: %+v", res.Counts)
	}
	sess, err := session.Load(context.Background(), session.Options{Profile: "attacker", Region: "us-east-1", Endpoint: d.endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sess.S3("us-east-1").DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: &bucket, Key: &victim}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = warroom(t, append([]string{"trail", "validate", "s3://" + bucket}, rng...)...)
	if code != 1 || !strings.Contains(out, victim+"  MISSING: not found") {
		t.Fatalf("deleted log: exit %d\n%s", code, out)
	}
	// Offline: download, then validate the folder with no endpoint at all.
	dir := filepath.Join(t.TempDir(), "copy")
	if code, _, errOut := warroom(t, append([]string{"trail", "download", "s3://" + bucket, dir}, rng...)...); code != 1 {
		t.Fatalf("download of a broken trail: exit %d\n%s", code, errOut)
	}
	code, out, _ = warroom(t, "trail", "validate", dir, rng[0], rng[1], rng[2], rng[3])
	if code != 1 || !strings.Contains(out, victim+"  MISSING: not found") || !strings.Contains(out, "signatures verified") {
		t.Fatalf("downloaded folder: exit %d\n%s", code, out)
	}
}
