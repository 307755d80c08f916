package incident

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// TestGuardDutyProducer: the core reads GuardDuty in every enabled Region
// through the SDK, journals one guardduty fact with each Region's status
// (a denied Region said, the others read), journals nothing while nothing
// changes, and a new fact when a finding appears.
func TestGuardDutyProducer(t *testing.T) {
	s := sim.New(sim.Options{Seed: 5})
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := s.Responder()
	sess, err := session.Load(context.Background(), session.Options{Endpoint: srv.URL, MaxBackoff: 5 * time.Millisecond,
		MaxAttempts: 2, Credentials: session.StaticCredentials(c.AccessKeyID, c.SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.EnableGuardDuty("us-east-1"); err != nil {
		t.Fatal(err)
	}
	s.EnableGuardDuty("eu-west-1")
	s.SetGuardDutyFault("eu-west-1", sim.GuardDutyDenied)
	s.ReportFinding("us-east-1", sim.GuardDutyFinding{Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 5, AccessKeyID: "AKIAX"})
	rec := openRec(t)
	core := New(sess, session.Identity{}, rec, Pacing{GuardDuty: 20 * time.Millisecond})
	core.enabled = []string{"us-east-1", "eu-west-1", "eu-north-1"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- core.guarddutyLoop(ctx, time.Time{}) }()
	facts := func() int {
		st, _, err := state.Replay(rec.Path())
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range st.Timeline {
			if it.Kind == state.KindGuardDuty {
				n++
			}
		}
		return n
	}
	waitFor := func(n int) *state.Store {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if facts() >= n {
				st, _, _ := state.Replay(rec.Path())
				return st
			}
		}
		t.Fatalf("no %d guardduty facts", n)
		return nil
	}
	st := waitFor(1)
	want := map[string]string{"us-east-1": state.GuardDutyEnabled, "eu-west-1": state.GuardDutyDenied, "eu-north-1": state.GuardDutyNotEnabled}
	for r, w := range want {
		if got := st.GuardDuty[r].V.Status; got != w {
			t.Errorf("%s: %s, want %s", r, got, w)
		}
	}
	if len(st.GuardDutyFindings()) != 1 {
		t.Fatalf("findings %v", st.GuardDutyFindings())
	}
	time.Sleep(150 * time.Millisecond) // several reads, nothing new
	if n := facts(); n != 1 {
		t.Fatalf("%d facts while nothing changed", n)
	}
	s.SetGuardDutyFault("eu-west-1", "")
	st = waitFor(2)
	if st.GuardDuty["eu-west-1"].V.Status != state.GuardDutyEnabled {
		t.Errorf("eu-west-1 after the deny was lifted: %+v", st.GuardDuty["eu-west-1"].V)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
