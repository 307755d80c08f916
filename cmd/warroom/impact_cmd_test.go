package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// impactApp is the leaked key's own application: its address and app id.
const impactAppIP, impactAppID = "127.0.0.12", "legacy-reporting"

// appCall makes one call as the key's own application.
func (d *readDrill) appCall(t *testing.T) error {
	t.Helper()
	cfg := d.cfg(d.leaked, "us-east-1")
	cfg.HTTPClient, cfg.AppID, cfg.RetryMaxAttempts = scenario.HTTPClient(impactAppIP), impactAppID, 1
	_, err := iam.NewFromConfig(cfg).GetAccountSummary(context.Background(), &iam.GetAccountSummaryInput{})
	return err
}

// journalCloudTrail journals every record the drill holds (a record the
// journal has is folded once).
func (d *readDrill) journalCloudTrail(t *testing.T) {
	t.Helper()
	rec, err := state.OpenRecorder(d.journal, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	for _, r := range d.sim.Records() {
		p, err := ctlog.ParseRecord(r.JSON)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, p)
	}
	if _, _, err := rec.RecordEvents("sim", recs, nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestImpactCommand: the key's application used it before the incident;
// warroom contain deactivates it; the application and the attacker keep
// calling; warroom impact tells them apart from what the account
// recorded, reads IAM's last use, says when deletion is safe, and
// journals its judgement. The drill is driven through the SDK over HTTP.
func TestImpactCommand(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	ctx := context.Background()
	key := d.leaked.AccessKeyID
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}

	// Nothing contained yet: "nothing found".
	if code, _, errOut := warroom(t, append([]string{"impact"}, base...)...); code != 1 || !strings.Contains(errOut, "nothing found") {
		t.Fatalf("before containment: exit %d, %s", code, errOut)
	}

	// The application's use before the incident began.
	s0, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	present := d.clock.Now()
	d.clock.Set(s0.Incident.Began.Add(-5 * time.Minute))
	for range 2 {
		if err := d.appCall(t); err != nil {
			t.Fatal(err)
		}
		d.clock.Advance(time.Minute)
	}
	d.clock.Set(present)

	if code, out, errOut := warroom(t, append([]string{"contain", "deactivate-key", key, "--yes"}, base...)...); code != 0 {
		t.Fatalf("contain: exit %d\n%s\n%s", code, out, errOut)
	}
	d.clock.Advance(2 * time.Minute)
	for range 3 {
		if err := d.appCall(t); err == nil {
			t.Fatal("the application's call with the deactivated key worked")
		}
		d.clock.Advance(time.Minute)
	}
	// The attacker retries from its own address.
	if _, err := iam.NewFromConfig(d.cfg(d.leaked, "us-east-1")).ListUsers(ctx, &iam.ListUsersInput{}); err == nil {
		t.Fatal("the attacker's call with the deactivated key worked")
	}
	d.clock.Advance(time.Minute)
	d.journalCloudTrail(t)

	impact := func(args ...string) []state.Impact {
		t.Helper()
		code, out, errOut := warroom(t, append(append([]string{"impact", "--output", "json"}, args...), base...)...)
		if code != 0 {
			t.Fatalf("impact %v: exit %d\n%s", args, code, errOut)
		}
		var im []state.Impact
		if err := json.Unmarshal([]byte(out), &im); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, out)
		}
		return im
	}
	im := impact("--check", "--quiet-for", "30m")
	if len(im) != 1 || im[0].Credential != key || im[0].Kind != "key" {
		t.Fatalf("impact %+v", im)
	}
	x := im[0]
	if x.Baseline != 2 || len(x.Groups) != 2 {
		t.Fatalf("baseline %d, groups %+v", x.Baseline, x.Groups)
	}
	app, evil := x.Groups[0], x.Groups[1]
	if app.Match != state.MatchBefore || app.Calls != 3 || app.Failed != 3 || app.Errors[0] != "InvalidClientTokenId" ||
		!strings.Contains(app.UserAgent, "app/"+impactAppID) {
		t.Errorf("application group %+v", app)
	}
	if evil.Match != state.MatchNew || evil.Events[0] != "ListUsers" {
		t.Errorf("attacker group %+v", evil)
	}
	if x.LastUsedAt.IsZero() || !x.LastUsed.Before(x.ContainedAt) || len(x.LastUsedErrors) != 0 {
		t.Errorf("IAM's last use: %v read at %v (%v), contained %v", x.LastUsed, x.LastUsedAt, x.LastUsedErrors, x.ContainedAt)
	}
	if x.SafeToDelete || !strings.Contains(x.Why, "watched for") {
		t.Errorf("judged %v: %s", x.SafeToDelete, x.Why)
	}

	// Time passes in the account; nothing legitimate calls: safe.
	d.clock.Advance(45 * time.Minute)
	im = impact("--check", "--quiet-for", "30m")
	if !im[0].SafeToDelete || !strings.Contains(im[0].Why, "no call matching") {
		t.Errorf("after 45 quiet minutes: %v %s", im[0].SafeToDelete, im[0].Why)
	}
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	j, ok := s.Impacts["|"+key]
	if !ok || !j.V.SafeToDelete || j.V.Matching != 1 || j.V.New != 1 {
		t.Errorf("journaled judgement %+v (%v)", j.V, ok)
	}
	n := 0
	for _, it := range s.Timeline {
		if strings.Contains(it.Summary, "impact watch on "+key) {
			n++
		}
	}
	// Judged twice; shown a third time unchanged, journaled no more.
	impact("--check", "--quiet-for", "30m")
	s, _, _ = state.Replay(d.journal)
	m := 0
	for _, it := range s.Timeline {
		if strings.Contains(it.Summary, "impact watch on "+key) {
			m++
		}
	}
	if n != 2 || m != 2 {
		t.Errorf("%d then %d judgements journaled, want 2 and 2", n, m)
	}

	// The table names the groups and the judgement.
	code, out, _ := warroom(t, append([]string{"impact", "--key", key, "--quiet-for", "30m"}, base...)...)
	if code != 0 || !strings.Contains(out, "matches use before the incident") || !strings.Contains(out, "▲ new") || !strings.Contains(out, "InvalidClientTokenId") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}

// TestImpactCheckErrors: IAM's last use cannot be read (denied,
// throttled): shown in the output and the journal, exit 1, and the watch
// goes on from CloudTrail.
func TestImpactCheckErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		deny bool
		want string
	}{
		{name: "denied", deny: true, want: "AccessDenied"},
		{name: "throttled", want: "Throttling"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := newReadDrill(t, sim.Options{})
			key := d.leaked.AccessKeyID
			base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
			if code, out, errOut := warroom(t, append([]string{"contain", "deactivate-key", key, "--yes"}, base...)...); code != 0 {
				t.Fatalf("contain: exit %d\n%s\n%s", code, out, errOut)
			}
			if c.deny {
				d.denyResponder(t, "iam:GetAccessKeyLastUsed")
			}
			if !c.deny {
				d.sim.SetThrottled("GetAccessKeyLastUsed")
			}
			code, out, errOut := warroom(t, append([]string{"impact", "--check"}, base...)...)
			if code != 1 || !strings.Contains(out, "last use not read") || !strings.Contains(out, c.want) || !strings.Contains(out, key) {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			s, _, _ := state.Replay(d.journal)
			if ki := s.KeyInfos[key]; len(ki.V.Errors) == 0 || !strings.Contains(ki.V.Errors[0].Error, c.want) {
				t.Errorf("journaled %+v", ki.V)
			}
			if _, ok := s.Impacts["|"+key]; !ok {
				t.Error("no judgement journaled")
			}
		})
	}
}

// denyResponder gives the responder's own user an explicit deny of action,
// as an administrator would, through the SDK.
func (d *readDrill) denyResponder(t *testing.T, action string) {
	t.Helper()
	ctx := context.Background()
	cfg := d.cfg(d.sim.Responder(), "us-east-1")
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	user := aws.ToString(id.Arn)[strings.LastIndexByte(aws.ToString(id.Arn), '/')+1:]
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"` + action + `","Resource":"*"}]}`
	if _, err := iam.NewFromConfig(cfg).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user),
		PolicyName: aws.String("no-last-used"), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
}

// TestImpactUsage: bad input is refused naming what is wrong, exit 2;
// a journal that does not exist is "could not read", not "nothing found".
func TestImpactUsage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("WARROOM_JOURNAL", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"impact"}, "no journal"},
		{[]string{"impact", "-j", dir + "/none.jsonl"}, "none.jsonl"},
		{[]string{"impact", "-j", dir + "/none.jsonl", "--quiet-for", "-1h"}, "--quiet-for"},
		{[]string{"impact", "-j", dir + "/none.jsonl", "--output", "xml"}, "--output"},
	} {
		code, _, errOut := warroom(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %s", c.args, code, errOut)
		}
	}
	d := newReadDrill(t, sim.Options{})
	if code, _, errOut := warroom(t, "impact", "-j", d.journal, "--leak-at", "yesterday"); code != 2 || !strings.Contains(errOut, "--leak-at") {
		t.Errorf("--leak-at yesterday: exit %d, %s", code, errOut)
	}
}
