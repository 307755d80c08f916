package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// gdDrill is the read drill with GuardDuty on in us-east-1 and eu-west-1:
// a finding about the leaked key from the address it called from, one
// about the miner it launched in eu-west-1 (its title hostile), and one
// about someone else.
func gdDrill(t *testing.T) (*readDrill, string) {
	t.Helper()
	d := newReadDrill(t, sim.Options{})
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if _, err := d.sim.EnableGuardDuty(r); err != nil {
			t.Fatal(err)
		}
	}
	ip := ""
	for _, c := range d.sim.Calls() {
		if c.AccessKeyID == d.leaked.AccessKeyID {
			ip = c.SourceIP
		}
	}
	d.sim.ReportFinding("us-east-1", sim.GuardDutyFinding{Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 5, ResourceType: "AccessKey",
		Title: "Reconnaissance API CreateUser was invoked from a known malicious IP address.", AccessKeyID: d.leaked.AccessKeyID,
		UserName: "ci-deploy", UserType: "IAMUser", API: "CreateUser", ServiceName: "iam.amazonaws.com", RemoteIP: ip})
	instance := ""
	for _, m := range d.made {
		if f := strings.Fields(m); f[0] == "eu-west-1" && f[1] == "ec2:instance" {
			instance = f[2]
		}
	}
	d.sim.ReportFinding("eu-west-1", sim.GuardDutyFinding{Type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", Severity: 8, ResourceType: "Instance",
		InstanceID: instance, Domain: "pool.example", Title: "Bitcoin-related domain queried by \x1b]0;owned\x07" + instance})
	d.sim.ReportFinding("us-east-1", sim.GuardDutyFinding{Type: "Discovery:IAMUser/AnomalousBehavior", Severity: 2, ResourceType: "AccessKey",
		AccessKeyID: "AKIAOTHERPERSON00001", UserName: "alice", RemoteIP: "192.0.2.44"})
	return d, instance
}

// TestFindingsCommand: every Region read (GuardDuty off in one, said),
// the family's findings tied by key, address and instance, the read
// journaled; the table's hostile title made safe.
func TestFindingsCommand(t *testing.T) {
	d, instance := gdDrill(t)
	args := []string{"findings", "--journal", d.journal, "--endpoint-url", d.endpoint, "--regions", "us-east-1,eu-west-1,eu-north-1"}
	code, out, errOut := warroom(t, append(args, "--output", "json")...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	var v findingsView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(v.NotEnabled) != 1 || v.NotEnabled[0] != "eu-north-1" || len(v.Findings) != 3 {
		t.Fatalf("not enabled %v, %d findings", v.NotEnabled, len(v.Findings))
	}
	ties := map[string]string{}
	for _, f := range v.Findings {
		var w []string
		for _, t := range f.Ties {
			w = append(w, t.What)
		}
		ties[f.Type] = strings.Join(w, ",")
	}
	if ties["Recon:IAMUser/MaliciousIPCaller"] != "key,ip" || ties["CryptoCurrency:EC2/BitcoinTool.B!DNS"] != "instance" ||
		ties["Discovery:IAMUser/AnomalousBehavior"] != "" {
		t.Errorf("ties %v", ties)
	}
	if v.Findings[0].InstanceID != instance || v.Findings[0].SeverityWord != "high" || !v.Findings[0].Family {
		t.Errorf("most severe first: %+v", v.Findings[0])
	}
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\x07") {
		t.Error("JSON output carries raw control characters")
	}
	s, _, err := state.Replay(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.GuardDutyFindings()) != 3 || len(s.GuardDutyOff()) != 1 {
		t.Errorf("journal holds %d findings, off in %v", len(s.GuardDutyFindings()), s.GuardDutyOff())
	}

	t.Run("table", func(t *testing.T) {
		code, out, errOut := warroom(t, append(args, "--family")...)
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errOut)
		}
		for _, want := range []string{"GuardDuty is not enabled in eu-north-1", "8 high", "CryptoCurrency:EC2/BitcoinTool.B!DNS", "key,ip", d.leaked.AccessKeyID} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "AKIAOTHERPERSON00001") {
			t.Error("--family listed a finding not tied to the family")
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("the table carries the title's control characters:\n%q", out)
		}
	})
}

// TestFindingsCommandErrors: a denied and a throttled Region are named
// (exit 2) while the others are read; nothing found is exit 1.
func TestFindingsCommandErrors(t *testing.T) {
	d, _ := gdDrill(t)
	d.sim.SetGuardDutyFault("eu-west-1", sim.GuardDutyDenied)
	d.sim.SetGuardDutyFault("us-east-1", sim.GuardDutyThrottled)
	code, out, errOut := warroom(t, "findings", "--journal", d.journal, "--endpoint-url", d.endpoint, "--regions", "us-east-1,eu-west-1,eu-north-1")
	if code != exitUsage {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitUsage, out, errOut)
	}
	for _, want := range []string{"GuardDuty could not be read in eu-west-1 denied", "us-east-1 throttled", "not enabled in eu-north-1"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "AccessDeniedException") || !strings.Contains(errOut, "TooManyRequestsException") {
		t.Errorf("stderr does not name AWS's errors: %s", errOut)
	}
	code, _, errOut = warroom(t, "findings", "--journal", d.journal, "--endpoint-url", d.endpoint, "--regions", "eu-north-1")
	if code != exitProblem || !strings.Contains(errOut, "nothing found") {
		t.Fatalf("nothing found: exit %d, %s", code, errOut)
	}
}
