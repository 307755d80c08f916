package incident

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// follow applies the journal at path to fold until ctx ends, as the Core's
// follower does, lag late for each events entry (a follower behind the
// writer, as on a busy console).
func follow(ctx context.Context, path string, fold *Fold, lag time.Duration) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ferr error
		for e, err := range journal.Follow(ctx, path, 0) {
			if err != nil {
				ferr = err
				break
			}
			if state.Kind(e.Kind) == state.KindEvents {
				time.Sleep(lag)
			}
			if ferr = fold.Apply(e); ferr != nil {
				break
			}
		}
		fold.Stop(ferr)
	}()
	return done
}

// TestPlannerWaitsForItsFacts: the planner reads the process's one fold
// (the store the screen draws, not a second fold), and only once that fold
// has applied every fact the runner journaled; it does not hold the fold
// while it waits, so the screen can draw meanwhile.
func TestPlannerWaitsForItsFacts(t *testing.T) {
	rec := openRec(t)
	fold := NewFold()
	c := NewContainment(&contain.Runner{Journal: rec, Path: rec.Path()}, fold)
	// A fact journaled the way Refresh journals its reads: through the
	// runner's journal.
	e, err := c.runner.Journal.Record(state.KindInventory, state.Inventory{Users: []state.User{{Name: "backdoor"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pf, closeRaw := c.planFold(ctx)
	defer closeRaw()
	type read struct {
		same  bool
		seq   int64
		users int
	}
	got := make(chan read, 1)
	go func() {
		_ = pf(func(s *state.Store, _ contain.Raw) error {
			r := read{same: s == fold.Store(), seq: s.Seq}
			if s.Inventory != nil {
				r.users = len(s.Inventory.Users)
			}
			got <- r
			return nil
		})
	}()
	select {
	case r := <-got:
		t.Fatalf("the planner read the fold at seq %d before it held seq %d", r.seq, e.Seq)
	case <-time.After(200 * time.Millisecond):
	}
	// The screen draws while the planner waits.
	drew := make(chan struct{})
	go func() { fold.Read(func(*state.Store) {}); close(drew) }()
	select {
	case <-drew:
	case <-time.After(5 * time.Second):
		t.Fatal("the screen could not read the fold while the planner waited")
	}
	done := follow(ctx, rec.Path(), fold, 0)
	select {
	case r := <-got:
		if !r.same {
			t.Error("the planner read a store other than the process's one fold")
		}
		if r.seq < e.Seq || r.users != 1 {
			t.Errorf("the planner read seq %d with %d users, want seq ≥ %d with the inventory's user", r.seq, r.users, e.Seq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the planner never read the fold")
	}
	cancel()
	<-done
	// Once the fold stops, a planner waiting for more is told why.
	if _, err := c.runner.Journal.Record(state.KindNote, state.Note{Text: "after"}); err != nil {
		t.Fatal(err)
	}
	pf2, closeRaw2 := c.planFold(context.Background())
	defer closeRaw2()
	if err := pf2(func(*state.Store, contain.Raw) error { return nil }); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("a planner waiting on a stopped fold got %v, want an error saying it stopped", err)
	}
}

// TestPlannerSeesRefresh: "contain everything" on a leaked key of the drill
// account plans from the one fold, after Refresh journaled what CloudTrail
// holds of the key: the plan knows the key's events, although the follower
// applies them a second late (a planner reading the fold before the
// follower applied them would say CloudTrail holds none).
func TestPlannerSeesRefresh(t *testing.T) {
	sm := sim.New(sim.Options{Seed: 7})
	srv := httptest.NewServer(sm)
	t.Cleanup(srv.Close)
	if err := sm.AddUser("ci-deploy"); err != nil {
		t.Fatal(err)
	}
	leaked, err := sm.AddKey("ci-deploy")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	load := func(c sim.Credentials) (*session.Session, session.Identity) {
		t.Setenv("AWS_ACCESS_KEY_ID", c.AccessKeyID)
		t.Setenv("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey)
		t.Setenv("AWS_SESSION_TOKEN", c.SessionToken)
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
		t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
		sess, err := session.Load(ctx, session.Options{Endpoint: srv.URL, MaxBackoff: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		id, err := sess.Identify(ctx) // the attacker's call: CloudTrail records it
		if err != nil {
			t.Fatal(err)
		}
		return sess, id
	}
	_, attacker := load(leaked)
	if attacker.KeyID != leaked.AccessKeyID && !strings.Contains(attacker.ARN, "ci-deploy") {
		t.Fatalf("the attacker's session is %+v", attacker)
	}
	sess, id := load(sm.Responder())
	rec := openRec(t)
	fold := NewFold()
	done := follow(ctx, rec.Path(), fold, time.Second)
	env := contain.NewEnv(sess, id, "wr-test")
	env.Now = sm.Now
	c := NewContainment(&contain.Runner{Env: env, Journal: rec, Path: rec.Path(), Actor: state.LocalActor()}, fold)
	p, err := c.Plan(ctx, ActionContainAll, Target{Kind: TargetKey, ID: leaked.AccessKeyID})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range p.Warnings {
		if strings.Contains(w, "holds no event") {
			t.Errorf("the plan was made from a fold without Refresh's facts: %q", w)
		}
	}
	if len(p.Steps) == 0 || p.Steps[0].Name != "deactivate-key" {
		t.Errorf("plan steps %+v, want the key deactivated first", p.Steps)
	}
	fold.Read(func(s *state.Store) {
		if len(s.Events.Family(leaked.AccessKeyID)) == 0 {
			t.Error("the fold holds no event of the leaked key after Refresh")
		}
	})
	cancel()
	<-done
}
