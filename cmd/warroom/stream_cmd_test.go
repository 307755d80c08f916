package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// streamDrill is a drill account on the wall clock (LookupEvents' rate
// limit needs time to pass), the responder's credentials in the SDK's
// environment, and a key the attacker used in a few Regions.
type streamDrill struct {
	sim      *sim.Sim
	endpoint string
	leaked   sim.Credentials
}

func newStreamDrill(t *testing.T, opts sim.Options) *streamDrill {
	t.Helper()
	opts.Seed = 41
	s := sim.New(opts)
	srv := serveAsResponder(t, s)
	if err := s.AddUser("ci-deploy"); err != nil {
		t.Fatal(err)
	}
	leaked, err := s.AddKey("ci-deploy")
	if err != nil {
		t.Fatal(err)
	}
	// The attacker's key as a profile: the test's own calls go through
	// aws/session, as the command's do (cmd/ does not import the SDK).
	creds := filepath.Join(t.TempDir(), "credentials")
	profile := "[attacker]\naws_access_key_id = " + leaked.AccessKeyID + "\naws_secret_access_key = " + leaked.SecretAccessKey + "\n"
	if err := os.WriteFile(creds, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	return &streamDrill{sim: s, endpoint: srv.URL, leaked: leaked}
}

// serveAsResponder serves the drill s over HTTP and makes its responder
// the credentials of the commands the test runs (the environment's, in
// us-east-1, no profile, configuration or journal from outside the test).
func serveAsResponder(t *testing.T, s *sim.Sim) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	resp := s.Responder()
	t.Setenv("AWS_ACCESS_KEY_ID", resp.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", resp.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("WARROOM_JOURNAL", "")
	return srv
}

// attack asks who the leaked key is in each Region: sts:GetCallerIdentity
// there, and iam:ListAccountAliases (denied) in us-east-1.
func (d *streamDrill) attack(t *testing.T, regions ...string) {
	t.Helper()
	for _, r := range regions {
		s, err := session.Load(context.Background(), session.Options{Profile: "attacker", Region: r, Endpoint: d.endpoint})
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.Identify(context.Background())
		if err != nil || id.KeyID != d.leaked.AccessKeyID {
			t.Fatalf("attacker in %s: %v (as %s)", r, err, id.KeyID)
		}
	}
}

// attackerEvents returns the ids of the events the sim recorded for the leaked key.
func (d *streamDrill) attackerEvents() map[string]string {
	out := map[string]string{}
	for _, r := range d.sim.Records() {
		if bytes.Contains(r.JSON, []byte(d.leaked.AccessKeyID)) {
			out[r.EventID] = r.Region
		}
	}
	return out
}

// journaled counts, per event id, how many times the journal holds it, and
// returns the facts' kinds.
func journaled(t *testing.T, path string) (map[string]int, []journal.Entry) {
	t.Helper()
	ids := map[string]int{}
	var entries []journal.Entry
	_, err := journal.Read(path, func(e journal.Entry) error {
		entries = append(entries, e)
		if e.Kind != string(state.KindEvents) {
			return nil
		}
		var ev struct {
			Records []struct {
				EventID string `json:"eventID"`
			} `json:"records"`
		}
		if err := json.Unmarshal(e.Data, &ev); err != nil {
			return err
		}
		for _, rec := range ev.Records {
			ids[rec.EventID]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids, entries
}

func TestStreamOnce(t *testing.T) {
	d := newStreamDrill(t, sim.Options{DeniedRegions: []string{"ap-south-1"}, DisabledRegions: []string{"ap-east-1"}})
	d.attack(t, "eu-west-1", "sa-east-1", "us-east-1")
	j := filepath.Join(t.TempDir(), "inc", "journal.jsonl")
	args := []string{"stream", "--once", "--since", "1h", "--endpoint-url", d.endpoint, "-j", j}

	code, out, errOut := warroom(t, args...)
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	want := d.attackerEvents()
	if len(want) != 6 {
		t.Fatalf("the sim recorded %d attacker events, want 6", len(want))
	}
	if n := strings.Count(out, d.leaked.AccessKeyID); n != len(want) {
		t.Errorf("table shows the leaked key %d times, want %d:\n%s", n, len(want), out)
	}
	for _, line := range []string{"lookup:ap-south-1: denied", "lookup:ap-east-1: disabled", "lookup:eu-west-1: ok"} {
		if !strings.Contains(errOut, line) {
			t.Errorf("stderr does not say %q:\n%s", line, errOut)
		}
	}
	ids, entries := journaled(t, j)
	for id := range want {
		if ids[id] != 1 {
			t.Errorf("attacker event %s journaled %d times", id, ids[id])
		}
	}
	kinds := map[string]int{}
	for _, e := range entries {
		kinds[e.Kind]++
	}
	for _, k := range []state.Kind{state.KindSessionStarted, state.KindRegions, state.KindEvents, state.KindStreamHealth} {
		if kinds[string(k)] == 0 {
			t.Errorf("no %s fact in the journal (kinds %v)", k, kinds)
		}
	}

	// Again, into the same journal, as JSON for the leaked key: nothing is
	// journaled twice, and the Region list is not journaled again.
	d.attack(t, "eu-west-1")
	code, out, errOut = warroom(t, append(args, "--output", "json", "--filter", "key:"+d.leaked.AccessKeyID)...)
	if code != 0 {
		t.Fatalf("second run exit %d\nstderr: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(d.attackerEvents()) {
		t.Errorf("%d JSON lines, want %d:\n%s", len(lines), len(d.attackerEvents()), out)
	}
	for _, l := range lines {
		var rec struct {
			UserIdentity struct {
				AccessKeyID string `json:"accessKeyId"`
				ARN         string `json:"arn"`
			} `json:"userIdentity"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.UserIdentity.AccessKeyID != d.leaked.AccessKeyID ||
			!strings.HasSuffix(rec.UserIdentity.ARN, ":user/ci-deploy") {
			t.Errorf("line %q: %v", l, err)
		}
	}
	ids, entries = journaled(t, j)
	for id, n := range ids {
		if n != 1 {
			t.Errorf("event %s journaled %d times over two runs", id, n)
		}
	}
	regionFacts := 0
	for _, e := range entries {
		if e.Kind == string(state.KindRegions) {
			regionFacts++
		}
	}
	if regionFacts != 1 {
		t.Errorf("%d regions facts, want 1 (the list did not change)", regionFacts)
	}
}

func TestStreamRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"since too far", []string{"--since", "2200h"}, "at most 90 days"},
		{"bad output", []string{"--output", "yaml"}, "table or json"},
		{"bad filter", []string{"--filter", "nosuch:x"}, "unknown field"},
		{"bad bucket", []string{"--trail-bucket", "https://x"}, "s3://BUCKET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := warroom(t, append([]string{"stream"}, tt.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, exitUsage, tt.want)
			}
		})
	}
}

// streamOut is a bytes.Buffer safe to read while the command writes.
type streamOut struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *streamOut) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *streamOut) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStreamFollowsUntilInterrupted(t *testing.T) {
	// Records reach LookupEvents 2 s late; the trail's files land in S3.
	d := newStreamDrill(t, sim.Options{DeliveryDelay: 2 * time.Second})
	d.attack(t, "eu-west-1")
	j := filepath.Join(t.TempDir(), "inc", "journal.jsonl")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb streamOut
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"stream", "--since", "1h", "--poll", "200ms", "--endpoint-url", d.endpoint, "-j", j,
			"--filter", "key:" + d.leaked.AccessKeyID}, strings.NewReader(""), &out, &errb)
	}()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s\nstdout: %s\nstderr: %s", what, out.String(), errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("the first events", func() bool { return strings.Count(out.String(), d.leaked.AccessKeyID) == 2 })
	d.attack(t, "sa-east-1", "us-east-1")
	wait("the later events", func() bool { return strings.Count(out.String(), d.leaked.AccessKeyID) == 6 })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d\nstderr: %s", code, errb.String())
	}
	if n := strings.Count(out.String(), "TIME (UTC)"); n != 1 {
		t.Errorf("header printed %d times", n)
	}
	ids, _ := journaled(t, j)
	for id := range d.attackerEvents() {
		if ids[id] != 1 {
			t.Errorf("attacker event %s journaled %d times", id, ids[id])
		}
	}
}

func TestStreamReadsTrailBucket(t *testing.T) {
	// A log file every second (5 simulated minutes at 300×).
	d := newStreamDrill(t, sim.Options{Speed: 300})
	d.attack(t, "eu-west-1")
	// The trail writes a file when its delivery window (1 s) has closed:
	// wait for the sim's clock, the wall clock, to pass it.
	time.Sleep(1100 * time.Millisecond)
	j := filepath.Join(t.TempDir(), "inc", "journal.jsonl")
	code, out, errOut := warroom(t, "stream", "--once", "--since", "1h", "--endpoint-url", d.endpoint, "-j", j, "--trail-bucket", "auto")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	bucket := "s3://" + d.sim.TrailBucket()
	if !strings.Contains(errOut, bucket+": ok") {
		t.Errorf("stderr does not show the bucket's health:\n%s", errOut)
	}
	// The S3 source read the file (its records may have come by
	// LookupEvents first: the journal holds each event once either way).
	read := false
	_, err := journal.Read(j, func(e journal.Entry) error {
		var h state.StreamHealth
		if e.Kind == string(state.KindStreamHealth) && json.Unmarshal(e.Data, &h) == nil && h.Source == bucket &&
			h.Status == "ok" && !h.NewestAt.IsZero() {
			read = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !read {
		t.Error("no health fact shows the trail's S3 files read")
	}
	if n := strings.Count(out, d.leaked.AccessKeyID); n != 2 {
		t.Errorf("the attacker's events printed %d times, want 2:\n%s", n, out)
	}
}
