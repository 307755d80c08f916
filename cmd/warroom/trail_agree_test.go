package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/awscli"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/trailcheck"
)

// An agreeProblem is what a validator reports, as a class and what it names: a
// file's key, or a gap's times. Both tools' outputs are mapped to these.
type agreeProblem struct{ class, name string }

// The problem classes both tools can report.
const (
	pHash          = "hash mismatch"
	pLogMissing    = "log missing"
	pLogFormat     = "log invalid format"
	pDigestMissing = "digest missing"
	pDigestSig     = "digest signature invalid"
	pDigestFormat  = "digest invalid format"
	pDigestMoved   = "digest moved"
	pDigestNoKey   = "digest public key not found"
	pGap           = "gap"
	// warroom only: the CLI reads only the log files valid digests list,
	// so it cannot say which present files none lists.
	pUnvouched = "unvouched"
	// warroom only: its link check (the previous digest's hash and
	// signature as the next one recorded them), which the CLI does not make.
	pDigestLink = "digest link broken"
)

func (p agreeProblem) String() string {
	if p.name == "" {
		return p.class
	}
	return p.class + " " + p.name
}

// gapName is a gap as both tools can name it: its ends to the second.
func gapName(from, to time.Time) string {
	return from.UTC().Format(time.RFC3339) + "–" + to.UTC().Format(time.RFC3339)
}

// cliProblems maps validate-logs' stderr (its one line per problem, as
// validation.py writes them) to problems. A line it does not know fails
// the test: nothing the CLI says is dropped.
func cliProblems(t *testing.T, bucket, stderr string) []agreeProblem {
	t.Helper()
	var out []agreeProblem
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if rest, ok := strings.CutPrefix(line, "No log files were delivered by CloudTrail between "); ok {
			from, to, ok := strings.Cut(rest, " and ")
			f, err1 := time.Parse(time.RFC3339, from)
			tt, err2 := time.Parse(time.RFC3339, to)
			if !ok || err1 != nil || err2 != nil {
				t.Fatalf("CLI gap line %q", line)
			}
			out = append(out, agreeProblem{pGap, gapName(f, tt)})
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || !strings.HasPrefix(f[1], "s3://"+bucket+"/") {
			t.Fatalf("CLI line not understood: %q", line)
		}
		key := strings.TrimPrefix(f[1], "s3://"+bucket+"/")
		class := ""
		switch what, why := f[0], f[2]; {
		case what == "Log file" && why == "INVALID: hash value doesn't match":
			class = pHash
		case what == "Log file" && why == "INVALID: not found":
			class = pLogMissing
		case what == "Log file" && why == "INVALID: invalid format":
			class = pLogFormat
		case what == "Digest file" && why == "INVALID: not found":
			class = pDigestMissing
		case what == "Digest file" && why == "INVALID: signature verification failed":
			class = pDigestSig
		case what == "Digest file" && why == "INVALID: invalid format":
			class = pDigestFormat
		case what == "Digest file" && strings.HasPrefix(why, "INVALID: has been moved"):
			class = pDigestMoved
		case what == "Digest file" && strings.HasPrefix(why, "INVALID: public key not found"):
			class = pDigestNoKey
		default:
			t.Fatalf("CLI line not understood: %q", line)
		}
		out = append(out, agreeProblem{class, key})
	}
	return sortProblems(out)
}

// warroomProblems maps one chain of a validation to problems: the ones
// the CLI can report too, and the ones only warroom reports (unvouched
// files, broken links). A status or reason it does not know fails the test.
func warroomProblems(t *testing.T, c trailcheck.ChainResult) (shared, only []agreeProblem) {
	t.Helper()
	for _, d := range c.Digests {
		var class string
		switch {
		case d.Status == trailcheck.Valid:
			continue
		case d.Status == trailcheck.Missing:
			class = pDigestMissing
		case strings.HasPrefix(d.Why, "signature verification failed"):
			class = pDigestSig
		case strings.HasPrefix(d.Why, "invalid format"):
			class = pDigestFormat
		case strings.HasPrefix(d.Why, "has been moved"):
			class = pDigestMoved
		case strings.HasPrefix(d.Why, "public key not found"):
			class = pDigestNoKey
		case strings.HasPrefix(d.Why, "edited:") || strings.HasPrefix(d.Why, "its signature is not the one"):
			only = append(only, agreeProblem{pDigestLink, d.Key})
			continue
		default:
			t.Fatalf("warroom digest %s: %s %q not understood", d.Key, d.Status, d.Why)
		}
		shared = append(shared, agreeProblem{class, d.Key})
	}
	for _, f := range c.Files {
		switch {
		case f.Status == trailcheck.Valid:
		case f.Status == trailcheck.Missing:
			shared = append(shared, agreeProblem{pLogMissing, f.Key})
		case f.Why == "hash value doesn't match":
			shared = append(shared, agreeProblem{pHash, f.Key})
		case strings.HasPrefix(f.Why, "invalid format"):
			shared = append(shared, agreeProblem{pLogFormat, f.Key})
		default:
			t.Fatalf("warroom log %s: %s %q not understood", f.Key, f.Status, f.Why)
		}
	}
	for _, g := range c.Gaps {
		shared = append(shared, agreeProblem{pGap, gapName(g.From, g.To)})
	}
	for _, u := range c.Unvouched {
		if !u.Pending {
			only = append(only, agreeProblem{pUnvouched, u.Key})
		}
	}
	return sortProblems(shared), sortProblems(only)
}

func sortProblems(ps []agreeProblem) []agreeProblem {
	sort.Slice(ps, func(i, j int) bool { return ps[i].String() < ps[j].String() })
	return ps
}

func problemList(ps []agreeProblem) string {
	if len(ps) == 0 {
		return "—"
	}
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, "; ")
}

// agreeDrill is a drill account with the leaked-key scenario set up, on a
// hand-moved clock, as the responder's default credentials.
type agreeDrill struct {
	sim      *sim.Sim
	clock    *sim.ManualClock
	endpoint string
	born     time.Time
	sc       *scenario.Scenario
	sess     *session.Session
	rng      *rand.Rand
}

func newAgreeDrill(t *testing.T, seed uint64) *agreeDrill {
	t.Helper()
	clock := sim.NewManualClock(time.Now())
	s := sim.New(sim.Options{Seed: seed, Clock: clock, LookupRate: 1000})
	srv := serveAsResponder(t, s)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	sc, err := scenario.New(scenario.DefaultScenario, s, srv.URL, scenario.Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := session.Load(context.Background(), session.Options{Region: "us-east-1", Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &agreeDrill{sim: s, clock: clock, endpoint: srv.URL, born: clock.Now(), sc: sc, sess: sess,
		rng: rand.New(rand.NewPCG(seed, 17))}
}

// busy makes a call every ten minutes of the drill's clock for d: log
// files, and a digest each hour.
func (d *agreeDrill) busy(t *testing.T, dur time.Duration) {
	t.Helper()
	for end := d.clock.Now().Add(dur); d.clock.Now().Before(end); d.clock.Advance(10 * time.Minute) {
		if _, err := d.sess.Identify(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func (d *agreeDrill) tamper(t *testing.T, move, target string) {
	t.Helper()
	if err := d.sc.Attacker().Tamper(context.Background(), move, target); err != nil {
		t.Fatalf("%s %s: %v", move, target, err)
	}
}

func (d *agreeDrill) s3() *s3.Client { return d.sess.S3("us-east-1") }

// keys lists the trail bucket's keys under prefix, in order.
func (d *agreeDrill) keys(t *testing.T, prefix string) []string {
	t.Helper()
	bucket := d.sim.TrailBucket()
	out, err := d.s3().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, o := range out.Contents {
		ks = append(ks, aws.ToString(o.Key))
	}
	slices.Sort(ks)
	return ks
}

// digests lists the us-east-1 digest keys, oldest first.
func (d *agreeDrill) digests(t *testing.T) []string {
	return d.keys(t, "AWSLogs/"+d.sim.AccountID()+"/CloudTrail-Digest/us-east-1/")
}

// listed reads a digest and returns the log files it lists.
func (d *agreeDrill) listed(t *testing.T, key string) []string {
	t.Helper()
	bucket := d.sim.TrailBucket()
	out, err := d.s3().GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	gz, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	var dg struct {
		LogFiles []struct {
			S3Object string `json:"s3Object"`
		} `json:"logFiles"`
	}
	if err := json.Unmarshal(gunzipBytes(t, gz), &dg); err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, l := range dg.LogFiles {
		ks = append(ks, l.S3Object)
	}
	return ks
}

// middle picks, by the drill's seed, a digest that is neither the oldest
// nor the newest (the chain continues on both sides of it).
func (d *agreeDrill) middle(t *testing.T) string {
	t.Helper()
	ds := d.digests(t)
	if len(ds) < 3 {
		t.Fatalf("%d digests", len(ds))
	}
	return ds[1+d.rng.IntN(len(ds)-2)]
}

// boundary is the end of the digest hour t falls in: the drill's chain
// starts when the drill is born and closes an hour at a time.
func (d *agreeDrill) boundary(at time.Time) time.Time {
	born := d.born.Truncate(time.Second)
	n := at.Sub(born)/time.Hour + 1
	return born.Add(n * time.Hour)
}

// agreeStep is one move against the trail and what both tools must then
// report: the problems they share, and the ones only warroom can report.
type agreeStep struct {
	name string
	move func(t *testing.T, d *agreeDrill) (want, warroomOnly []agreeProblem)
}

var agreeSteps = []agreeStep{
	{"intact", func(t *testing.T, d *agreeDrill) ([]agreeProblem, []agreeProblem) { return nil, nil }},
	{"log file edited", func(t *testing.T, d *agreeDrill) ([]agreeProblem, []agreeProblem) {
		logs := d.listed(t, d.middle(t))
		k := logs[d.rng.IntN(len(logs))]
		d.tamper(t, scenario.TamperOverwriteLog, k)
		return []agreeProblem{{pHash, k}}, nil
	}},
	{"log file deleted", func(t *testing.T, d *agreeDrill) ([]agreeProblem, []agreeProblem) {
		logs := d.listed(t, d.middle(t))
		k := logs[d.rng.IntN(len(logs))]
		d.tamper(t, scenario.TamperDeleteObject, k)
		return []agreeProblem{{pLogMissing, k}}, nil
	}},
	{"digest deleted", func(t *testing.T, d *agreeDrill) ([]agreeProblem, []agreeProblem) {
		k := d.middle(t)
		logs := d.listed(t, k)
		d.tamper(t, scenario.TamperDeleteObject, k)
		return []agreeProblem{{pDigestMissing, k}}, unvouchedProblems(logs)
	}},
	{"digest edited", func(t *testing.T, d *agreeDrill) ([]agreeProblem, []agreeProblem) {
		k := d.middle(t)
		logs := d.listed(t, k)
		d.tamper(t, scenario.TamperEditDigest, k)
		return []agreeProblem{{pDigestSig, k}}, unvouchedProblems(logs)
	}},
	{"logging stopped for an hour", func(t *testing.T, d *agreeDrill) ([]agreeProblem, []agreeProblem) {
		stop := d.clock.Now()
		d.tamper(t, scenario.TamperStopLogging, "management-events")
		// An hour and a half: at least one whole digest hour has none.
		d.busy(t, 90*time.Minute)
		start := d.clock.Now()
		d.tamper(t, scenario.TamperStartLogging, "management-events")
		d.busy(t, 2*time.Hour)
		return []agreeProblem{{pGap, gapName(d.boundary(stop), start.Truncate(time.Second))}}, nil
	}},
	{"trail deleted and recreated", func(t *testing.T, d *agreeDrill) ([]agreeProblem, []agreeProblem) {
		// The deleted trail's open hour is never digested (its chains end
		// without a last digest): the log files it delivered in that hour
		// are listed by no digest, which only warroom can say.
		at := d.clock.Now()
		before := d.keys(t, "AWSLogs/"+d.sim.AccountID()+"/CloudTrail/us-east-1/")
		d.tamper(t, scenario.TamperRecreateTrail, "management-events")
		d.busy(t, 2*time.Hour)
		listed := map[string]bool{}
		for _, k := range d.digests(t) {
			for _, l := range d.listed(t, k) {
				listed[l] = true
			}
		}
		var orphans []string
		for _, k := range before {
			if !listed[k] {
				orphans = append(orphans, k)
			}
		}
		if len(orphans) == 0 {
			t.Fatal("no log file of the deleted trail's last hour")
		}
		return []agreeProblem{{pGap, gapName(d.boundary(at).Add(-time.Hour), at.Truncate(time.Second))}}, unvouchedProblems(orphans)
	}},
}

func unvouchedProblems(keys []string) []agreeProblem {
	var out []agreeProblem
	for _, k := range keys {
		out = append(out, agreeProblem{pUnvouched, k})
	}
	return sortProblems(out)
}

// TestTrailValidateAgreesWithAWSCLI runs the AWS CLI's validate-logs and
// warroom trail validate (s3://, auto, and a folder trail download made)
// on drills of two seeds, intact and after each move an attacker can make
// against the trail's evidence, and checks that they report the same
// problems: the same class for the same file, the same gaps to the second.
func TestTrailValidateAgreesWithAWSCLI(t *testing.T) {
	clis := awscli.Find()
	if len(clis) == 0 {
		t.Skip("no AWS CLI that validate-logs can point at the drill: need aws-cli v1 (botocore 1.31+, reads AWS_ENDPOINT_URL) on PATH or Debian's aws-cli v2 at /usr/bin/aws")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes a second or more per run")
	}
	var table []string
	for i, seed := range []uint64{5, 23} {
		cli := clis[i%len(clis)]
		for _, step := range agreeSteps {
			t.Run(fmt.Sprintf("seed%d/%s/%s", seed, cli.Name, step.name), func(t *testing.T) {
				row := agreeRun(t, seed, cli, step)
				table = append(table, fmt.Sprintf("| %d | %s | %s | %s", seed, cli.Name, step.name, row))
			})
		}
	}
	t.Logf("seed | CLI | step | aws cloudtrail validate-logs | warroom (s3://, auto, offline) | warroom only\n%s", strings.Join(table, "\n"))
}

// agreeRun plays one step on a fresh drill and compares the tools; it
// returns the row of the table for it.
func agreeRun(t *testing.T, seed uint64, cli awscli.CLI, step agreeStep) string {
	d := newAgreeDrill(t, seed)
	// Four hours and a bit: four digests, and the move inside an hour.
	d.busy(t, 4*time.Hour+25*time.Minute)
	want, wantOnly := step.move(t, d)
	d.clock.Advance(time.Minute)
	bucket := d.sim.TrailBucket()
	now := d.clock.Now()
	// The CLI: the trail's home Region (the one it validates).
	arn := "arn:aws:cloudtrail:us-east-1:" + d.sim.AccountID() + ":trail/management-events"
	resp := d.sim.Responder()
	wait := cli.Start(t, d.endpoint, resp.AccessKeyID, resp.SecretAccessKey, "cloudtrail", "validate-logs",
		"--trail-arn", arn, "--start-time", d.born.UTC().Format(time.RFC3339), "--end-time", now.UTC().Format(time.RFC3339),
		"--endpoint-url", d.endpoint, "--region", "us-east-1")
	// warroom, while the CLI runs.
	rng := []string{"--start", d.born.UTC().Format(time.RFC3339), "--end", now.UTC().Format(time.RFC3339)}
	validate := func(what string, args ...string) (shared, only []agreeProblem) {
		t.Helper()
		code, out, errOut := warroom(t, append(append([]string{"trail", "validate"}, args...), append(rng, "-o", "json")...)...)
		var res trailcheck.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%s: exit %d: %v\n%s%s", what, code, err, out, errOut)
		}
		if !res.SignaturesChecked {
			t.Errorf("%s: signatures not checked: %s", what, res.SignatureNote)
		}
		home := false
		for _, c := range res.Chains {
			s, o := warroomProblems(t, c)
			if c.ID.Region == "us-east-1" && c.ID.Trail == "management-events" {
				shared, only, home = s, o, true
				continue
			}
			// Other Regions' chains: only the trail's stop and recreation
			// touch them, as gaps.
			for _, p := range append(s, o...) {
				if p.class != pGap {
					t.Errorf("%s: %s: %s", what, c.ID, p)
				}
			}
		}
		if !home {
			t.Fatalf("%s: no chain of the trail's home Region validated: %+v", what, res.Counts)
		}
		if intact := len(shared)+len(only) == 0; (code == 0) != intact || code > 1 {
			t.Errorf("%s: exit %d with %v %v", what, code, shared, only)
		}
		return shared, only
	}
	online, onlineOnly := validate("s3://", "s3://"+bucket, "--endpoint-url", d.endpoint)
	auto, autoOnly := validate("auto", "auto", "--endpoint-url", d.endpoint)
	dir := filepath.Join(t.TempDir(), "copy")
	if code, out, errOut := warroom(t, append([]string{"trail", "download", "s3://" + bucket, dir, "--endpoint-url", d.endpoint}, rng...)...); code > 1 {
		t.Fatalf("download: exit %d\n%s%s", code, out, errOut)
	}
	offline, offlineOnly := validate("folder", dir)
	code, stdout, stderr := wait()
	if !strings.Contains(stdout, "digest files valid") {
		t.Fatalf("CLI validated nothing: exit %d\n%s%s", code, stdout, stderr)
	}
	cliSaid := cliProblems(t, bucket, stderr)
	// validate-logs exits 1 for an invalid or missing file, 0 for gaps.
	wantCode := 0
	for _, p := range cliSaid {
		if p.class != pGap {
			wantCode = 1
		}
	}
	if code != wantCode {
		t.Errorf("CLI exit %d, want %d for %v", code, wantCode, cliSaid)
	}

	if !slices.Equal(cliSaid, want) {
		t.Errorf("CLI said %v, want %v\n%s", cliSaid, want, stderr)
	}
	for _, w := range []struct {
		what        string
		shared, onl []agreeProblem
	}{{"s3://", online, onlineOnly}, {"auto", auto, autoOnly}, {"folder", offline, offlineOnly}} {
		if !slices.Equal(w.shared, cliSaid) {
			t.Errorf("warroom (%s) said %v, the CLI %v", w.what, w.shared, cliSaid)
		}
		if !slices.Equal(w.onl, wantOnly) {
			t.Errorf("warroom (%s) also said %v, want %v", w.what, w.onl, wantOnly)
		}
	}
	if t.Failed() {
		t.Logf("CLI exit %d\n%s\n%s", code, stdout, stderr)
		_, out, _ := warroom(t, append([]string{"trail", "validate", "s3://" + bucket, "--endpoint-url", d.endpoint}, rng...)...)
		t.Logf("warroom:\n%s", out)
	}
	return fmt.Sprintf("%s | %s | %s |", problemList(cliSaid), problemList(online), problemList(onlineOnly))
}
