package findings

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// drill serves a sim over loopback and returns it with a session signing
// as the responder (retries fast, so a throttled Region gives up quickly).
func drill(t *testing.T) (*sim.Sim, *session.Session) {
	t.Helper()
	s := sim.New(sim.Options{Seed: 19, Clock: sim.NewManualClock(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c := s.Responder()
	sess, err := session.Load(context.Background(), session.Options{Endpoint: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		MaxAttempts: 2, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s, sess
}

// TestReadEveryRegion: through the real SDK over HTTP, GuardDuty read in
// five Regions at once: enabled with findings (more than one ListFindings
// page, more than one GetFindings batch), enabled and empty, not enabled,
// denied, throttled — each said for its Region while the others are read.
func TestReadEveryRegion(t *testing.T) {
	s, sess := drill(t)
	for _, r := range []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-south-1"} {
		if _, err := s.EnableGuardDuty(r); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 73 {
		s.ReportFinding("us-east-1", sim.GuardDutyFinding{Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 5, ResourceType: "AccessKey",
			AccessKeyID: "AKIAATTACKER00000001", UserName: "ci-deployer", UserType: "IAMUser", API: "ListUsers",
			ServiceName: "iam.amazonaws.com", RemoteIP: fmt.Sprintf("203.0.113.%d", i)})
	}
	s.ReportFinding("us-east-1", sim.GuardDutyFinding{Type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", Severity: 8, ResourceType: "Instance",
		InstanceID: "i-0abc", Domain: "xmr.pool.example"})
	s.SetGuardDutyFault("eu-central-1", sim.GuardDutyDenied)
	s.SetGuardDutyFault("ap-south-1", sim.GuardDutyThrottled)
	regions := []string{"us-east-1", "eu-west-1", "eu-north-1", "eu-central-1", "ap-south-1"}
	got := Read(context.Background(), SessionClient(sess), Options{Regions: regions})
	want := map[string]string{"us-east-1": state.GuardDutyEnabled, "eu-west-1": state.GuardDutyEnabled,
		"eu-north-1": state.GuardDutyNotEnabled, "eu-central-1": state.GuardDutyDenied, "ap-south-1": state.GuardDutyThrottled}
	for i, r := range got.Regions {
		if r.Region != regions[i] || r.Status != want[r.Region] {
			t.Errorf("%s: %s (%s), want %s", r.Region, r.Status, r.Error, want[r.Region])
		}
		if r.Status != state.GuardDutyEnabled && r.Status != state.GuardDutyNotEnabled &&
			(!strings.Contains(r.Error, r.Region) || !strings.Contains(r.Error, "guardduty:")) {
			t.Errorf("%s: error %q does not name the call and Region", r.Region, r.Error)
		}
	}
	us := got.Regions[0]
	if len(us.Findings) != 74 {
		t.Fatalf("us-east-1: %d findings, want 74", len(us.Findings))
	}
	var miner state.GuardDutyFinding
	for _, f := range us.Findings {
		if f.InstanceID != "" {
			miner = f
		}
	}
	f := us.Findings[0]
	if f.AccessKeyID != "AKIAATTACKER00000001" || f.UserName != "ci-deployer" || f.RemoteIP == "" || f.Count != 1 ||
		f.Severity != 5 || f.SeverityWord() != "medium" || f.FirstSeen.IsZero() || f.DetectorID == "" || f.Region != "us-east-1" {
		t.Errorf("finding %+v", f)
	}
	if miner.InstanceID != "i-0abc" || miner.Domain != "xmr.pool.example" || miner.SeverityWord() != "high" {
		t.Errorf("miner finding %+v", miner)
	}
	// Since: only what was updated in the window.
	got = Read(context.Background(), SessionClient(sess), Options{Regions: []string{"us-east-1"}, Since: s.Now().Add(time.Hour)})
	if got.Regions[0].Status != state.GuardDutyEnabled || len(got.Regions[0].Findings) != 0 {
		t.Errorf("window after now: %+v", got.Regions[0])
	}
}
