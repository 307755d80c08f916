package org_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/org"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestMemberSweptOnceAtStart: in the console's organisation mode a member
// is swept once when it is first read, and again only after the sweep
// interval — not a second time straight away (the watcher's loop used to
// sweep on entry, just after the first read had).
func TestMemberSweptOnceAtStart(t *testing.T) {
	o := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: 9}, Members: 1})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endpoint, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	resp := o.Responder()
	sess, err := session.Load(ctx, session.Options{Endpoint: endpoint, ReadOnly: true,
		Credentials: session.StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken)})
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
	path := filepath.Join(t.TempDir(), "inc.journal")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{ID: "wr-sweep"}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	if err := incident.Attach(sess, rec, state.SessionStarted{Command: "console", Mode: state.ModeReadOnly, AccountID: id.AccountID}); err != nil {
		t.Fatal(err)
	}
	pace := incident.DrillPacing(1) // sweeps every 5 minutes
	core := incident.New(sess, id, rec, pace)
	core.SetMembers(incident.Members{Accounts: accts, NoStream: true})
	cctx, stop := context.WithCancel(ctx)
	core.Start(cctx)
	defer func() { stop(); core.Wait() }()
	member := o.Members()[0]
	described := func() int {
		n := 0
		for _, c := range member.Calls() {
			if c.Operation == "DescribeKeyPairs" {
				n++
			}
		}
		return n
	}
	waitUntil(t, 60*time.Second, "the member's first sweep journaled", func() bool {
		s, _, err := state.Replay(path)
		if err != nil {
			t.Fatal(err)
		}
		af, ok := s.Account(member.AccountID())
		return ok && len(af.Sweeps) > 0
	})
	first := described()
	// A second sweep straight after would start within the first's time;
	// give it several times that.
	time.Sleep(3 * time.Second)
	if n := described(); n != first {
		t.Errorf("the member was swept again straight after its first read: %d DescribeKeyPairs calls, then %d", first, n)
	}
}
