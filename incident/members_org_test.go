package incident_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/org"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestReadMembers drives the drill organisation through the real SDK: the
// accounts listed by Organizations; a member read (access, Regions,
// inventory, sweeps journaled with its id); one with no role, one whose
// trust denies the management account and one behind a deny SCP, each
// shown as such while the others are read.
func TestReadMembers(t *testing.T) {
	o := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: 3}, Members: 4, NoAccessRole: []int{1}, UntrustedAccessRole: []int{2}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endpoint, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	resp := o.Responder()
	creds := session.StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken)
	members := o.Members()
	blocked := members[3].AccountID()

	// A deny-all SCP on the fourth member, attached as an administrator would.
	if _, err := scenario.AttachSCP(ctx, endpoint, resp, blocked, "deny-all", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}

	sess, err := session.Load(ctx, session.Options{Endpoint: endpoint, Credentials: creds, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sess.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	accts, err := org.List(ctx, sess.Organizations())
	if err != nil {
		t.Fatal(err)
	}
	if len(accts) != 5 {
		t.Fatalf("%d accounts listed, want 5: %+v", len(accts), accts)
	}
	path := filepath.Join(t.TempDir(), "inc.journal")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{ID: "wr-org"}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := incident.Attach(sess, rec, state.SessionStarted{Command: "inventory", Mode: state.ModeReadOnly, AccountID: id.AccountID}); err != nil {
		t.Fatal(err)
	}
	core := incident.New(sess, id, rec, incident.DrillPacing(1))
	if err := core.ReadMembers(ctx, incident.Members{Accounts: accts, Concurrency: 4}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	s, _, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{members[0].AccountID(): state.AccessOK, members[1].AccountID(): state.AccessDenied,
		members[2].AccountID(): state.AccessDenied, blocked: state.AccessSCP}
	for acct, status := range want {
		af, ok := s.Account(acct)
		if !ok || af.Access == nil {
			t.Errorf("account %s: no access fact", acct)
			continue
		}
		if af.Access.V.Status != status {
			t.Errorf("account %s: %s (%s), want %s", acct, af.Access.V.Status, af.Access.V.Error, status)
		}
		if status != state.AccessOK {
			if af.Inventory != nil || len(af.Sweeps) > 0 {
				t.Errorf("account %s (%s) has an inventory or sweeps", acct, status)
			}
			continue
		}
		if af.Inventory == nil || af.Inventory.AccountID != acct || len(af.Regions) == 0 || len(af.Sweeps) == 0 {
			t.Errorf("account %s read: inventory %v, %d Regions, %d sweeps", acct, af.Inventory != nil, len(af.Regions), len(af.Sweeps))
		}
		for k, sw := range af.Sweeps {
			if sw.V.AccountID != acct {
				t.Errorf("sweep %v journaled for account %q", k, sw.V.AccountID)
			}
		}
	}
}

// BenchmarkReadMembers is the budget: inventory and Region map of 100
// member accounts × 17 Regions at 100 ms per call (≤ 20 s). The 17 are
// the Regions every account has enabled; the sim's opt-in Regions are
// left disabled, as in most accounts. calls/member counts what one member
// was asked (a second sweep would show here).
func BenchmarkReadMembers(b *testing.B) {
	optIn := optInRegions()
	for b.Loop() {
		o := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: 5, Latency: 100 * time.Millisecond, DisabledRegions: optIn}, Members: 100})
		ctx, cancel := context.WithCancel(context.Background())
		endpoint, err := o.Start(ctx)
		if err != nil {
			b.Fatal(err)
		}
		resp := o.Responder()
		sess, _ := session.Load(ctx, session.Options{Endpoint: endpoint, ReadOnly: true,
			Credentials: session.StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken)})
		id, err := sess.Identify(ctx)
		if err != nil {
			b.Fatal(err)
		}
		accts, err := org.List(ctx, sess.Organizations())
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(b.TempDir(), "inc.journal")
		rec, _ := state.OpenRecorder(path, state.IncidentOpened{ID: "wr-bench"}, journal.Actor{User: "alice", Host: "jump1"})
		core := incident.New(sess, id, rec, incident.DrillPacing(1))
		start, cpu0 := time.Now(), cpuTime()
		if err := core.ReadMembers(ctx, incident.Members{Accounts: accts, Concurrency: 100}, time.Time{}); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(time.Since(start).Seconds(), "s/org")
		// The CPU the process spent (client and sim): on a shared machine
		// the wall time follows the load, this does not.
		b.ReportMetric((cpuTime() - cpu0).Seconds(), "cpu-s/org")
		calls := 0
		for _, m := range o.Members() {
			calls += len(m.Calls())
		}
		b.ReportMetric(float64(calls)/float64(len(o.Members())), "calls/member")
		rec.Close()
		cancel()
		o.Close()
	}
}
