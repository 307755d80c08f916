package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// TestAdvisorCommand: the leaked key's family (its user and the user it
// made keys for) is reported through the SDK against the drill, each
// service's last use as the drill recorded it, journaled as
// principal.reach facts; an unknown principal is a clear failure.
func TestAdvisorCommand(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	if code, _, errOut := warroom(t, "inventory", "--journal", d.journal, "--endpoint-url", d.endpoint); code != 0 {
		t.Fatalf("inventory: %d %s", code, errOut)
	}
	code, out, errOut := warroom(t, "advisor", d.leaked.AccessKeyID, "--family", "--journal", d.journal, "--endpoint-url", d.endpoint, "--output", "json")
	if code != 0 {
		t.Fatalf("advisor: exit %d: %s %s", code, errOut, out)
	}
	var got []state.Reach
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	acct := d.sim.AccountID()
	ci, backup := "arn:aws:iam::"+acct+":user/ci-deploy", "arn:aws:iam::"+acct+":user/backup-svc"
	if len(got) != 2 || got[0].Principal != ci || got[1].Principal != backup {
		t.Fatalf("principals %+v", got)
	}
	for _, s := range got[0].Services {
		at, region, used := d.sim.LastAccess(ci, s.Namespace)
		if s.Used() != used || used && (!s.LastUsed.Equal(at.UTC().Truncate(time.Second)) || s.Region != region) {
			t.Errorf("%s: reported %v in %s, the drill says %v in %s (used %v)", s.Namespace, s.LastUsed, s.Region, at, region, used)
		}
	}
	if got[0].UsedCount() < 4 || got[1].UsedCount() != 0 || len(got[1].Services) == 0 {
		t.Fatalf("used: ci-deploy %d, backup-svc %d of %d", got[0].UsedCount(), got[1].UsedCount(), len(got[1].Services))
	}
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Reaches) != 2 || s.Reaches[ci].V.Key != d.leaked.AccessKeyID {
		t.Fatalf("journaled %+v", s.Reaches)
	}

	code, out, _ = warroom(t, "advisor", ci, "--endpoint-url", d.endpoint)
	if code != 0 || !strings.Contains(out, "SERVICE") || !strings.Contains(out, "ap-southeast-1") {
		t.Fatalf("table: %d\n%s", code, out)
	}
	code, out, _ = warroom(t, "advisor", "arn:aws:iam::"+acct+":user/nobody", "--endpoint-url", d.endpoint)
	if code != exitUsage || !strings.Contains(out, "✗ iam:GenerateServiceLastAccessedDetails failed (not-found)") {
		t.Fatalf("unknown user: %d\n%s", code, out)
	}
}

// TestConfigHistoryCommand: a user the attacker made has its history in
// the home Region; the attacker's instance in eu-west-1 is where Config
// does not record (exit 1, said plainly); a denied caller exits 2.
func TestConfigHistoryCommand(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	acct := d.sim.AccountID()
	code, out, errOut := warroom(t, "config-history", "arn:aws:iam::"+acct+":user/backup-svc", "--journal", d.journal, "--endpoint-url", d.endpoint, "--output", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, errOut, out)
	}
	var h state.ConfigHistory
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		t.Fatal(err)
	}
	if h.Region != "us-east-1" || h.ResourceType != "AWS::IAM::User" || h.Name != "backup-svc" || len(h.Items) < 2 ||
		h.Items[len(h.Items)-1].Status != "ResourceDiscovered" || !strings.Contains(h.Items[0].Configuration, "AdministratorAccess") {
		t.Fatalf("history %+v", h)
	}
	var inst string
	for _, m := range d.made {
		if f := strings.Fields(m); f[0] == "eu-west-1" && f[1] == "ec2:instance" {
			inst = f[2]
		}
	}
	code, out, _ = warroom(t, "config-history", inst, "--region", "eu-west-1", "--journal", d.journal, "--endpoint-url", d.endpoint)
	if code != exitProblem || !strings.Contains(out, "AWS Config is not recording here (no-recorder)") {
		t.Fatalf("eu-west-1: %d\n%s", code, out)
	}
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ConfigHistories) != 2 {
		t.Fatalf("journaled %+v", s.ConfigHistories)
	}
}

// TestReachCommandsDenied: a responder whose policies allow neither
// Access Advisor nor Config reads is told so, the call and its class
// named, exit 2, and the failure journaled.
func TestReachCommandsDenied(t *testing.T) {
	d := newReadDrill(t, sim.Options{ImplicitDeny: true})
	if err := d.sim.AddUser("viewer"); err != nil {
		t.Fatal(err)
	}
	viewer, err := d.sim.AddKey("viewer")
	if err != nil {
		t.Fatal(err)
	}
	asResponder(t, viewer)
	code, out, errOut := warroom(t, "config-history", "sg-0123456789abcdef0", "--journal", d.journal, "--endpoint-url", d.endpoint)
	if code != exitUsage || !strings.Contains(out, "✗ config:DescribeConfigurationRecorderStatus failed (denied)") {
		t.Fatalf("config-history: %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = warroom(t, "advisor", "arn:aws:iam::"+d.sim.AccountID()+":user/ci-deploy", "--journal", d.journal, "--endpoint-url", d.endpoint)
	if code != exitUsage || !strings.Contains(out, "✗ iam:GenerateServiceLastAccessedDetails failed (denied)") {
		t.Fatalf("advisor: %d\n%s%s", code, out, errOut)
	}
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Reaches {
		if r.V.Error == nil || r.V.Error.Class != "denied" {
			t.Errorf("journaled %+v", r.V)
		}
	}
	if len(s.Reaches) != 1 || len(s.ConfigHistories) != 1 {
		t.Fatalf("journaled %d reaches, %d histories", len(s.Reaches), len(s.ConfigHistories))
	}
}
