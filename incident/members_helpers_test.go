package incident_test

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

// optInRegions are the sim's opt-in Regions: disabled, they leave the 17
// Regions every account has enabled.
func optInRegions() []string {
	var out []string
	for _, r := range sim.New(sim.Options{}).Regions() {
		if r.OptInStatus != "opt-in-not-required" {
			out = append(out, r.Name)
		}
	}
	return out
}

// orgConsole is the management account's responder reading a drill
// organisation through the SDK, read-only: its session and identity, the
// accounts Organizations lists, and a journal with the session attached.
type orgConsole struct {
	sess  *session.Session
	id    session.Identity
	accts []org.Account
	path  string
	rec   *state.Recorder
}

func openOrgConsole(ctx context.Context, t *testing.T, o *sim.Org, endpoint string) *orgConsole {
	t.Helper()
	resp := o.Responder()
	sess, err := session.Load(ctx, session.Options{Endpoint: endpoint, ReadOnly: true,
		Credentials: session.StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken)})
	if err != nil {
		t.Fatal(err)
	}
	oc := &orgConsole{sess: sess, path: filepath.Join(t.TempDir(), "inc.journal")}
	if oc.id, err = sess.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	if oc.accts, err = org.List(ctx, sess.Organizations()); err != nil {
		t.Fatal(err)
	}
	if oc.rec, err = state.OpenRecorder(oc.path, state.IncidentOpened{ID: "wr-org"}, journal.Actor{User: "alice", Host: "jump1"}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { oc.rec.Close() })
	if err := incident.Attach(sess, oc.rec, state.SessionStarted{Command: "console", Mode: state.ModeReadOnly, AccountID: oc.id.AccountID}); err != nil {
		t.Fatal(err)
	}
	return oc
}

// start runs a core in organisation mode over every listed account until
// the test ends.
func (oc *orgConsole) start(ctx context.Context, t *testing.T, pace incident.Pacing, m incident.Members) {
	t.Helper()
	core := incident.New(oc.sess, oc.id, oc.rec, pace)
	m.Accounts = oc.accts
	core.SetMembers(m)
	cctx, stop := context.WithCancel(ctx)
	core.Start(cctx)
	t.Cleanup(func() { stop(); core.Wait() })
}

// store folds the journal as it stands.
func (oc *orgConsole) store(t *testing.T) *state.Store {
	t.Helper()
	s, _, err := state.Replay(oc.path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitUntil polls cond until it holds, failing after d (a generous bound:
// the test's correctness never depends on how fast it comes).
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
