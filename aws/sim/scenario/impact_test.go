package scenario

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestReportingJobAfterDeactivation: the leaked key's own application
// calls with it before the attack and keeps calling after the key is
// deactivated; the account records those failed calls with the key, from
// the application's address and agent, and the attacker's retries from
// its own; the impact watch folded over what LookupEvents returns tells
// the two apart. Everything is read through the SDK as an outside client.
func TestReportingJobAfterDeactivation(t *testing.T) {
	// The attacker here is played by hand, so that nothing re-activates
	// the key behind the test's back (the scenario's attacker does).
	d := startDrillWith(t, 7, 100, Options{Seed: 7, AttackAfter: -1, Logf: t.Logf})
	sc, endpoint := d.sc, d.endpoint
	ctx := context.Background()
	leaked, user := d.sc.LeakedKey(), d.sc.LeakedUser()
	_ = d.sim.Pace(ctx, 3*30*time.Second)
	evil := newIdentity(attackerIP, attackerAgent)
	evilIAM := iam.NewFromConfig(evil.config(endpoint, sc.leaked, homeRgn))
	if _, err := evilIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("support-backup")}); err != nil {
		t.Fatal(err)
	}
	_ = d.sim.Pace(ctx, 30*time.Second)
	adm := iam.NewFromConfig(d.responder("us-east-1"))
	if _, err := adm.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(user), AccessKeyId: aws.String(leaked),
		Status: iamtypes.StatusTypeInactive}); err != nil {
		t.Fatal(err)
	}
	// CloudTrail's times are to the second: calls in the second of the
	// deactivation may be either side of it.
	contained := d.sim.Now().Truncate(time.Second).Add(time.Second)
	// Let the application call a few times with the dead key.
	waitFor(t, "the second after the deactivation", func() bool { return d.sim.Now().After(contained) })
	// The attacker retries from its own address.
	for range 2 {
		if _, err := evilIAM.ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
			t.Fatal("a deactivated key listed users")
		}
	}
	_ = d.sim.Pace(ctx, 8*30*time.Second)

	ct := cloudtrail.NewFromConfig(d.responder("us-east-1"))
	var recs []ctlog.Record
	p := cloudtrail.NewLookupEventsPaginator(ct, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
		{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(leaked)}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range out.Events {
			r, err := ctlog.ParseRecord([]byte(aws.ToString(ev.CloudTrailEvent)))
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
	}
	appFrom := ""
	var before, after, attackerAfter int
	for _, r := range recs {
		if r.UserAgent == reportAgent {
			appFrom = r.SourceIP
			if r.EventTime.Before(contained.Add(-time.Second)) {
				before++
				if r.ErrorCode != "" {
					t.Errorf("the application's call before deactivation failed: %s", r.ErrorCode)
				}
			} else if !r.EventTime.Before(contained) {
				after++
				if r.ErrorCode != "InvalidClientTokenId" || r.AccessKeyID != leaked || r.UserName != user {
					t.Errorf("after deactivation: %s %s by %s with %s, want InvalidClientTokenId with the key", r.EventName, r.ErrorCode, r.UserName, r.AccessKeyID)
				}
			}
		} else if r.UserAgent == attackerAgent && !r.EventTime.Before(contained) {
			attackerAfter++
		}
	}
	if before == 0 || after == 0 || attackerAfter == 0 {
		t.Fatalf("application %d calls before, %d after deactivation; attacker %d after", before, after, attackerAfter)
	}

	// The fold: the records journaled, and the deactivation as warroom
	// journals it.
	s := state.NewStore()
	apply := func(seq int64, kind state.Kind, v any, at time.Time) {
		t.Helper()
		data, _ := json.Marshal(v)
		if err := s.Apply(journal.Entry{Seq: seq, At: at, Kind: string(kind), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	apply(1, state.KindIncidentOpened, state.IncidentOpened{ID: "wr-drill"}, contained)
	for i := range recs {
		s.Events.Add(&recs[i], state.EventRef{})
	}
	apply(2, state.KindActionIntent, state.ActionIntent{ActionID: "x", Action: "deactivate-key", Target: leaked + "@" + user}, contained)
	apply(3, state.KindActionResult, state.ActionResult{ActionID: "x", OK: true}, contained)
	im := s.Impact(state.ImpactOptions{Now: d.sim.Now(), QuietFor: time.Minute})
	if len(im) != 1 || len(im[0].Groups) < 2 {
		t.Fatalf("impact %+v", im)
	}
	for _, g := range im[0].Groups {
		switch g.UserAgent {
		case reportAgent:
			if g.Match != state.MatchBefore || g.SourceIP != appFrom || g.Failed != g.Calls {
				t.Errorf("application group %+v", g)
			}
		case attackerAgent:
			if g.Match != state.MatchNew {
				t.Errorf("attacker group %+v", g)
			}
		}
	}
	if im[0].SafeToDelete {
		t.Errorf("the application still calls: not safe to delete (%s)", im[0].Why)
	}
}
