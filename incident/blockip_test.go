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
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// TestConsoleBlockIP is the console's :block-ip through the one fold: the
// plan takes the suspect family's address (not the responder's), the
// network the attacker launched into, and runs; the attacker's calls from
// its address are then denied, the responder's are not.
func TestConsoleBlockIP(t *testing.T) {
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
	out := scenario.Outsider{Endpoint: srv.URL, Cred: leaked, IP: "127.0.0.66"}
	attacker := func() error { return out.ListUsers(ctx) }
	if err := attacker(); err != nil {
		t.Fatal(err)
	}
	if err := out.RunInstance(ctx, "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	resp := sm.Responder()
	t.Setenv("AWS_ACCESS_KEY_ID", resp.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", resp.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	sess, err := session.Load(ctx, session.Options{Endpoint: srv.URL, MaxBackoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rec := openRec(t)
	if _, err := rec.Record(state.KindSessionStarted, state.SessionStarted{Command: "console", Mode: state.ModeLive, AccountID: id.AccountID,
		CallerARN: id.ARN, CallerKeyID: id.KeyID}); err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	for _, r := range sm.Records() {
		p, err := ctlog.ParseRecord(r.JSON)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p)
	}
	if _, _, err := rec.RecordEvents("sim", recs, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: leaked.AccessKeyID, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	fold := NewFold()
	done := follow(ctx, rec.Path(), fold, 0)
	// The planner waits for the facts the runner journals, not for these
	// (journaled here, as the stream would): the fold must hold them
	// before the defaults are read from it (under CI's load it once did not).
	if _, seq, _ := rec.Head(); fold.Through(ctx, seq) != nil {
		t.Fatal("the fold did not apply the journal")
	}
	env := contain.NewEnv(sess, id, "wr-test")
	c := NewContainment(&contain.Runner{Env: env, Journal: rec, Path: rec.Path(), Actor: state.LocalActor()}, fold)

	if _, err := c.Plan(ctx, ActionBlockIP, Target{Kind: TargetIPs, ID: "127.0.0.1"}); err == nil || !strings.Contains(err.Error(), "responder's own source IP") {
		t.Errorf("the responder's address: %v", err)
	}
	p, err := c.Plan(ctx, ActionBlockIP, Target{Kind: TargetIPs})
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.ID != "127.0.0.66/32" || !strings.Contains(p.Title, "127.0.0.66/32") {
		t.Errorf("plan %q for %q, want the attacker's address", p.Title, p.Target.ID)
	}
	entries := 0
	for _, call := range p.Calls {
		if call.API == "ec2:CreateNetworkAclEntry" && call.Region == "eu-west-1" {
			entries++
		}
	}
	if entries != 2 {
		t.Errorf("%d network ACL entries planned, want in and out on the VPC the attacker launched into", entries)
	}
	if err := c.Run(ctx, Plan{ID: p.ID}); err != nil {
		t.Fatal(err)
	}
	if err := attacker(); err == nil {
		t.Error("the attacker's call works after :block-ip")
	}
	if err := (scenario.Outsider{Endpoint: srv.URL, Cred: resp}).ListUsers(ctx); err != nil {
		t.Errorf("the responder's calls fail: %v", err)
	}
	// The undo, as :block-ip --undo plans it.
	u, err := c.Plan(ctx, ActionUnblockIP, Target{Kind: TargetIPs, ID: "127.0.0.66"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Run(ctx, Plan{ID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if err := attacker(); err != nil {
		t.Errorf("the attacker's call still fails after the undo: %v", err)
	}
	cancel()
	<-done
}
