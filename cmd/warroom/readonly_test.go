package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/sim"
)

// writesBy returns the CloudTrail records the drill wrote for key's calls
// that CloudTrail counts as writes (readOnly false), from the i-th on.
func writesBy(t *testing.T, s *sim.Sim, key string, from int) []string {
	t.Helper()
	var out []string
	for _, r := range s.Records()[from:] {
		var rec struct {
			EventName    string `json:"eventName"`
			ReadOnly     bool   `json:"readOnly"`
			UserIdentity struct {
				AccessKeyID string `json:"accessKeyId"`
			} `json:"userIdentity"`
		}
		if err := json.Unmarshal(r.JSON, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.UserIdentity.AccessKeyID == key && !rec.ReadOnly {
			out = append(out, rec.EventName)
		}
	}
	return out
}

// TestReadOnlySendsNoWrite: in --read-only, inventory, regions and stream
// --once send nothing CloudTrail records as a write (issue 13, point 14):
// the inventory reads the credential report IAM holds and, when there is
// none, says so instead of generating one.
func TestReadOnlySendsNoWrite(t *testing.T) {
	d := newStreamDrill(t, sim.Options{})
	resp := d.sim.Responder().AccessKeyID
	dir := t.TempDir()
	ep := []string{"--endpoint-url", d.endpoint, "--read-only"}

	from := len(d.sim.Records())
	code, out, errOut := warroom(t, append([]string{"inventory", "-j", dir + "/a/journal.jsonl"}, ep...)...)
	if code != 0 && code != exitProblem {
		t.Fatalf("inventory: exit %d\n%s\n%s", code, out, errOut)
	}
	const noReport = "no credential report available; root's details unknown (generating one is a write)"
	if !strings.Contains(out, "root: unknown: ") || !strings.Contains(out, noReport) {
		t.Errorf("no report: the inventory does not say so:\n%s\n%s", out, errOut)
	}
	if w := writesBy(t, d.sim, resp, from); len(w) > 0 {
		t.Errorf("read-only inventory without a report sent writes: %v", w)
	}

	// A report exists (made outside warroom): it is read, and root shown.
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(d.endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(d.sim.Responder().AccessKeyID, d.sim.Responder().SecretAccessKey, "")}
	if _, err := iam.NewFromConfig(cfg).GenerateCredentialReport(context.Background(), &iam.GenerateCredentialReportInput{}); err != nil {
		t.Fatal(err)
	}
	from = len(d.sim.Records())
	for _, args := range [][]string{
		{"inventory", "-j", dir + "/b/journal.jsonl"},
		{"inventory", "-o", "json", "-j", dir + "/b/journal.jsonl"},
		{"regions", "-j", dir + "/b/journal.jsonl"},
		{"stream", "--once", "--since", "1h", "-j", dir + "/b/journal.jsonl"},
		{"whois-key", d.leaked.AccessKeyID, "-j", dir + "/b/journal.jsonl"},
	} {
		code, out, errOut := warroom(t, append(args, ep...)...)
		if code != 0 {
			t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
		if args[0] == "inventory" && len(args) == 3 && !strings.Contains(out, "root: ✓ MFA") && !strings.Contains(out, "root: ✗ no MFA") {
			t.Errorf("the existing report was not read:\n%s", out)
		}
	}
	if w := writesBy(t, d.sim, resp, from); len(w) > 0 {
		t.Errorf("read-only commands sent writes: %v", w)
	}
	if from == len(d.sim.Records()) {
		t.Error("the commands made no call the drill recorded: the check checks nothing")
	}
}
