package advisor

import (
	"context"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/state"
)

// TestScenarioBlastRadius runs the leaked-key drill and reads, as an
// outside client through the SDK, the blast radius of the leaked user and
// of the backdoor user the attacker made, and the backdoor user's Config
// history: what the account holds says what the attacker used (EC2 in the
// Regions it mined in, IAM for its footholds), and the user's history starts
// when the attacker created it.
func TestScenarioBlastRadius(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the drill's scenario")
	}
	s := sim.New(sim.Options{Seed: 11, Speed: 2000})
	ctx, cancel := context.WithCancel(context.Background())
	endpoint, err := s.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.New(scenario.DefaultScenario, s, endpoint, scenario.Options{Seed: 11, AttackAfter: 2, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = sc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = s.Close() })
	a := sc.Attacker()
	select {
	case <-a.Established():
	case <-time.After(2 * time.Minute):
		t.Fatal("the attacker never established its footholds")
	}
	d := &drill{sim: s, endpoint: endpoint}
	sess := d.session(t, s.Responder())
	acct := s.AccountID()
	leaked := "arn:aws:iam::" + acct + ":user/" + sc.LeakedUser()
	// The attacker keeps calling: the report lies between what the drill
	// held before it was generated and after it was read.
	before, beforeRegion, _ := s.LastAccess(leaked, "ec2")
	r, err := Reach(ctx, sess.IAM(), leaked, Options{Poll: 10 * time.Millisecond})
	after, afterRegion, _ := s.LastAccess(leaked, "ec2")
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]state.ServiceReach{}
	for _, sv := range r.Services {
		if sv.Used() {
			used[sv.Namespace] = sv
		}
	}
	for _, ns := range []string{"iam", "ec2", "sts"} {
		if _, ok := used[ns]; !ok {
			t.Errorf("the leaked user's use of %s is missing: %+v", ns, used)
		}
	}
	if e, ok := used["ec2"]; ok {
		if e.LastUsed.Before(before.Truncate(time.Second)) || e.LastUsed.After(after) || e.Region == "" {
			t.Errorf("ec2 last used %s in %s; the drill held %s in %s before and %s in %s after", e.LastUsed, e.Region, before, beforeRegion, after, afterRegion)
		}
	}
	backdoor := a.BackdoorUser()
	if backdoor == "" {
		t.Fatal("no backdoor user")
	}
	h, err := History(ctx, sess.ConfigService("us-east-1"), "us-east-1", "AWS::IAM::User", mustUserID(t, d, backdoor))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Items) == 0 || h.Items[len(h.Items)-1].Status != "ResourceDiscovered" || h.Items[len(h.Items)-1].Name != backdoor {
		t.Fatalf("backdoor history %+v", h)
	}
	for _, region := range a.Regions() {
		if region == "us-east-1" {
			continue
		}
		h, err := History(ctx, sess.ConfigService(region), region, "AWS::EC2::Instance", "i-0000000000000000")
		if err != nil || h.Recording != state.ConfigNoRecorder {
			t.Errorf("%s: %v %+v", region, err, h)
		}
	}
}

func mustUserID(t *testing.T, d *drill, name string) string {
	t.Helper()
	id, _, err := ConfigID(context.Background(), d.session(t, d.sim.Responder()).IAM(), "AWS::IAM::User", name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}
