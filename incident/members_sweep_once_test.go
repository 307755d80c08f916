package incident_test

import (
	"context"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/incident"
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
	oc := openOrgConsole(ctx, t, o, endpoint)
	oc.start(ctx, t, incident.DrillPacing(1), incident.Members{NoStream: true}) // sweeps every 5 minutes
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
		af, ok := oc.store(t).Account(member.AccountID())
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
