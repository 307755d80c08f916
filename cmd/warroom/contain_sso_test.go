package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/sim"
)

// TestContainSSOUserCLI: `warroom contain sso-user alice --output json`
// prints the plan and the result with request ids and the backup, alice's
// Identity Center session is denied (bob's is not); `--undo` finds the
// backup in the journal and puts her assignment back, her session works
// again. An account without Identity Center says "not enabled".
func TestContainSSOUserCLI(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	s := d.sim
	s.EnableIdentityCenter()
	for _, u := range []string{"alice", "bob"} {
		if _, err := s.AddSSOUser(u, u, u+"@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddPermissionSet("AdministratorAccess", ""); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if err := s.AssignSSO(u, "AdministratorAccess"); err != nil {
			t.Fatal(err)
		}
	}
	alice, err := s.SignInSSO("alice", "AdministratorAccess", "198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := s.SignInSSO("bob", "AdministratorAccess", "203.0.113.9")
	works := func(c sim.Credentials) bool {
		_, err := s3.NewFromConfig(d.cfg(c, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(context.Background(), &s3.ListBucketsInput{})
		return err == nil
	}
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
	args := func(a ...string) []string { return append(append([]string{"contain"}, a...), base...) }

	code, out, errs := warroomIn(t, "", args("sso-user", "alice", "--output", "json", "--yes")...)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	var got struct {
		Plan struct {
			Calls  []struct{ API string }
			Backup struct {
				UserID      string `json:"user_id"`
				Assignments []any
			}
		}
		Result struct {
			Calls []struct {
				API       string
				RequestID string `json:"request_id"`
			}
		}
		Holds bool
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !got.Holds || len(got.Plan.Calls) != 3 || got.Plan.Backup.UserID == "" || len(got.Plan.Backup.Assignments) != 1 {
		t.Fatalf("json: %s", out)
	}
	for _, c := range got.Result.Calls {
		if c.RequestID == "" {
			t.Errorf("%s without a request id", c.API)
		}
	}
	if works(alice) || !works(bob) {
		t.Fatalf("after containment alice works=%v bob works=%v", works(alice), works(bob))
	}
	code, out, errs = warroomIn(t, "", args("sso-user", "alice", "--undo", "--yes")...)
	if code != 0 || !strings.Contains(out, "sso:CreateAccountAssignment") || !strings.Contains(out, "✓ holds") {
		t.Fatalf("--undo: exit %d: %s\n%s", code, errs, out)
	}
	if !works(alice) {
		t.Error("alice's session still denied after --undo")
	}
	if _, err := s.SignInSSO("alice", "AdministratorAccess", "198.51.100.7"); err != nil {
		t.Errorf("alice cannot sign in after --undo: %v", err)
	}
	// Not enabled in another Region: said, exit 1, nothing done.
	code, _, errs = warroomIn(t, "", args("sso-user", "alice", "--region", "eu-west-1", "--yes")...)
	if code != 1 || !strings.Contains(errs, "IAM Identity Center is not enabled in eu-west-1") {
		t.Fatalf("eu-west-1: exit %d: %s", code, errs)
	}
}
