package incident

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/state"
)

// TestCoreChecksTrailIntegrity runs the incident core against the drill
// account as an outside client and reads its fold: before the trail's
// first digest the check is unsure; once digests are written, intact;
// after the attacker deletes a log file a digest lists, broken, naming the
// file. Checked every 50 ms, journaled only when the result changed.
func TestCoreChecksTrailIntegrity(t *testing.T) {
	clock := sim.NewManualClock(time.Now())
	sm := sim.New(sim.Options{Seed: 5, Clock: clock, LookupRate: 1000})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	endpoint, err := sm.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sm.Close()
	sc, err := scenario.New(scenario.DefaultScenario, sm, endpoint, scenario.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	resp := sm.Responder()
	t.Setenv("AWS_ACCESS_KEY_ID", resp.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", resp.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", resp.SessionToken)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	sess, err := session.Load(ctx, session.Options{Endpoint: endpoint, MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := openRec(t)
	pace := DrillPacing(1)
	pace.Integrity = 50 * time.Millisecond
	core := New(sess, id, rec, pace)
	cctx, stop := context.WithCancel(ctx)
	core.Start(cctx)
	defer func() { stop(); core.Wait() }()

	src := IntegritySource(sm.AccountID())
	waitWord := func(want string, cond func(state.TrailIntegrity) bool) state.TrailIntegrity {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var got state.TrailIntegrity
			var ok bool
			core.Fold().Read(func(s *state.Store) {
				var d state.Dated[state.TrailIntegrity]
				if d, ok = s.Integrity[src]; ok {
					got = d.V
				}
			})
			if ok && got.Word() == want && (cond == nil || cond(got)) {
				return got
			}
			if time.Now().After(deadline) {
				t.Fatalf("the fold's %s is %q (%s), want %s", src, got.Word(), got.Summary(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// The drill's trail has written no digest yet: unsure, not broken.
	u := waitWord("unsure", nil)
	if u.Intact || !strings.Contains(u.Unsure, "no digest") || len(u.Trails) != 1 {
		t.Errorf("before the first digest: %+v", u)
	}

	// Two hours of calls: log files and digests.
	for range 13 {
		if _, err := sess.Identify(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Minute)
	}
	in := waitWord("intact", func(v state.TrailIntegrity) bool { return v.Digests > 0 })
	if !in.SignaturesChecked || in.LogsValid == 0 {
		t.Errorf("intact drill: %+v", in)
	}

	// The attacker deletes a log file a digest lists.
	bucket := sm.TrailBucket()
	bs := trail.NewBucketSource(sess.S3("us-east-1"), sess.CloudTrail("us-east-1"), "us-east-1")
	keys, err := bs.List(ctx, bucket, "AWSLogs/"+sm.AccountID()+"/CloudTrail/us-east-1/")
	if err != nil || len(keys) < 2 {
		t.Fatalf("log files: %v %v", keys, err)
	}
	slices.Sort(keys)
	victim := keys[0]
	if err := sc.Attacker().Tamper(ctx, scenario.TamperDeleteObject, victim); err != nil {
		t.Fatal(err)
	}
	br := waitWord("broken", nil)
	found := false
	for _, p := range br.Problems {
		found = found || p.Key == victim && p.Status == "missing"
	}
	if !found || br.Intact {
		t.Errorf("after deleting %s the fact is %+v", victim, br)
	}

	if err := core.Problem(); err != nil {
		t.Errorf("core: %v", err)
	}
	// Checked every 50 ms, journaled only when the result changed.
	stop()
	core.Wait()
	raw, err := os.ReadFile(rec.Path())
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), `"kind":"trail.integrity"`); n != 3 {
		t.Errorf("%d trail.integrity facts journaled, want 3 (unsure, intact, broken)", n)
	}
}

// TestMergeIntegrity: the account's fact is intact only when every trail
// is and nothing failed or is unsure.
func TestMergeIntegrity(t *testing.T) {
	ok := state.TrailIntegrity{Intact: true, SignaturesChecked: true, Digests: 2, DigestsValid: 2}
	cases := []struct {
		name   string
		failed string
		unsure string
		trails []state.TrailIntegrity
		word   string
	}{
		{"one intact trail", "", "", []state.TrailIntegrity{ok}, "intact"},
		{"no trail checked", "no trail has log file validation on", "", nil, "unchecked"},
		{"one denied, one intact", "s3://b trail x: AccessDenied", "", []state.TrailIntegrity{ok}, "unchecked"},
		{"one with no digest yet", "", "s3://b trail y: no digest delivered yet", []state.TrailIntegrity{ok}, "unsure"},
		{"one broken, one denied", "denied", "", []state.TrailIntegrity{ok, {Problems: []state.TrailProblem{{What: "log", Status: "missing"}}}}, "broken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := state.TrailIntegrity{Failed: tc.failed, Unsure: tc.unsure}
			mergeIntegrity(&f, tc.trails)
			if f.Word() != tc.word || f.Intact != (tc.word == "intact") {
				t.Errorf("word %q intact %v, want %q", f.Word(), f.Intact, tc.word)
			}
		})
	}
}
