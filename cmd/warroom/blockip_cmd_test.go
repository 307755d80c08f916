package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/state/ctlog"

	"github.com/warroom-ir/warroom/state"
)

// ipCLIDrill is a drill where the leaked key of ci-deploy is used from
// 127.0.0.66: it lists users and launches an instance in eu-west-1. The
// journal holds the records and the key marked suspect.
func ipCLIDrill(t *testing.T) (d *readDrill, attacker func() error) {
	t.Helper()
	clock := sim.NewManualClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	s := sim.New(sim.Options{Clock: clock, Seed: 19})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	d = &readDrill{sim: s, clock: clock, endpoint: srv.URL, journal: filepath.Join(t.TempDir(), "inc", "journal.jsonl")}
	asResponder(t, s.Responder())
	if err := s.AddUser("ci-deploy"); err != nil {
		t.Fatal(err)
	}
	leaked, err := s.AddKey("ci-deploy")
	if err != nil {
		t.Fatal(err)
	}
	d.leaked = leaked
	ctx := context.Background()
	cfg := func(region string) aws.Config {
		c := d.cfg(leaked, region)
		c.HTTPClient, c.RetryMaxAttempts = scenario.HTTPClient("127.0.0.66"), 1
		return c
	}
	attacker = func() error {
		_, err := iam.NewFromConfig(cfg("us-east-1")).ListUsers(ctx, &iam.ListUsersInput{})
		return err
	}
	if err := attacker(); err != nil {
		t.Fatal(err)
	}
	if _, err := ec2.NewFromConfig(cfg("eu-west-1")).RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
		InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	rec, err := state.OpenRecorder(d.journal, state.IncidentOpened{Title: "leaked ci key"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	for _, r := range s.Records() {
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
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	return d, attacker
}

func TestContainBlockIP(t *testing.T) {
	d, attacker := ipCLIDrill(t)
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
	args := func(a ...string) []string { return append(a, base...) }

	// The preview: the defaults from the journal, nothing changed.
	unchanged := func(when string) {
		t.Helper()
		out, err := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).ListUserPolicies(context.Background(), &iam.ListUserPoliciesInput{UserName: aws.String("ci-deploy")})
		if err != nil || len(out.PolicyNames) != 0 {
			t.Errorf("%s: ci-deploy's inline policies %v %v", when, out, err)
		}
		if err := attacker(); err != nil {
			t.Errorf("%s: the attacker's calls fail: %v", when, err)
		}
	}
	code, out, errOut := warroom(t, args("contain", "block-ip", "--plan")...)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errOut)
	}
	unchanged("after --plan")
	// The ids of this drill are the seed's; the network ACL's DryRun
	// answers are part of the preview.
	golden.RequireEqual(t, regexp.MustCompile(`\b\d{12}\b`).ReplaceAllString(out, "ACCOUNT"))

	// The responder's own address is refused, with why.
	code, _, errOut = warroom(t, args("contain", "block-ip", "127.0.0.0/24", "--yes")...)
	if code != 1 || !strings.Contains(errOut, "127.0.0.1") || !strings.Contains(errOut, "warroom's own calls") {
		t.Errorf("own address: exit %d\n%s", code, errOut)
	}
	unchanged("after a refused block")

	// Block, as JSON.
	code, out, errOut = warroom(t, args("contain", "block-ip", "--yes", "--output", "json")...)
	if code != 0 {
		t.Fatalf("block: exit %d\n%s\n%s", code, out, errOut)
	}
	var got blockIPOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if got.Action != "block-ip" || len(got.IPs) != 1 || got.IPs[0] != "127.0.0.66/32" || got.Verify == nil || !got.Verify.Holds ||
		got.Result == nil || !got.Result.OK || got.ActionID == "" || len(got.Networks) != 1 {
		t.Errorf("block output: %s", out)
	}
	if err := attacker(); err == nil {
		t.Error("the attacker's call from its address works after the block")
	}
	if _, err := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
		t.Errorf("the responder's calls fail after the block: %v", err)
	}
	if _, err := iam.NewFromConfig(d.cfg(d.leaked, "us-east-1")).ListUsers(context.Background(), &iam.ListUsersInput{}); err != nil {
		t.Errorf("the key from another address fails after the block: %v", err)
	}
	// Undo.
	code, out, errOut = warroom(t, args("contain", "block-ip", "--undo", "--yes")...)
	if code != 0 || !strings.Contains(out, "✓ holds:") {
		t.Fatalf("undo: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := attacker(); err != nil {
		t.Errorf("the attacker's call still fails after undo: %v", err)
	}
	// The journal holds both actions with their request ids.
	l, _, err := state.ReadActions(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, a := range l.Actions {
		names = append(names, a.Intent.Action)
	}
	if strings.Join(names, ",") != "block-ip,unblock-ip" {
		t.Errorf("journaled actions %v", names)
	}
	// The report lists the address, as the newest action left it.
	code, out, errOut = warroom(t, "report", d.journal, "--format", "json")
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, errOut)
	}
	var rep struct {
		BlockedIPs []struct {
			CIDR, State string
			Principals  []string
			NetworkACLs []string `json:"network_acls"`
		} `json:"blocked_ips"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.BlockedIPs) != 1 || rep.BlockedIPs[0].CIDR != "127.0.0.66/32" || rep.BlockedIPs[0].State != "lifted" ||
		len(rep.BlockedIPs[0].Principals) != 3 || len(rep.BlockedIPs[0].NetworkACLs) != 1 {
		t.Errorf("report's blocked IPs: %+v", rep.BlockedIPs)
	}
	if _, md, _ := warroom(t, "report", d.journal); !strings.Contains(md, "## Blocked source IPs") || !strings.Contains(md, "127.0.0.66/32") {
		t.Errorf("the Markdown report has no blocked IPs section")
	}
}
