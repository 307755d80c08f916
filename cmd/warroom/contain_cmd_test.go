package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// warroomIn runs the command line in-process with stdin.
func warroomIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// keyStatus reads a key's status from the drill.
func keyStatus(t *testing.T, d *readDrill, user, key string) string {
	t.Helper()
	out, err := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).ListAccessKeys(context.Background(), &iam.ListAccessKeysInput{UserName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range out.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == key {
			return string(k.Status)
		}
	}
	return "gone"
}

func mutatingCalls(d *readDrill) int {
	n := 0
	for _, c := range d.sim.Calls() {
		if c.AccessKeyID == d.sim.Responder().AccessKeyID && !session.IsReadOperation(c.Operation) {
			n++
		}
	}
	return n
}

func TestContainAction(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	key := d.leaked.AccessKeyID
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
	args := func(a ...string) []string { return append(a, base...) }
	tests := []struct {
		name     string
		stdin    string
		args     []string
		code     int
		out      []string // in stdout
		errOut   string   // in stderr
		status   string   // the leaked key's status afterwards
		mutating bool     // whether any mutating call may be sent
	}{
		{name: "plan only", args: args("contain", "deactivate-key", key, "--plan"), code: 0,
			out: []string{"Deactivate access key " + key + " of user ci-deploy", "iam:UpdateAccessKey", "Status: Inactive", "undo: reactivate-key"}, status: "Active"},
		{name: "not a key", args: args("contain", "deactivate-key", "bob"), code: 2, errOut: "not an access key id", status: "Active"},
		{name: "read-only", args: args("contain", "deactivate-key", key, "--yes", "--read-only"), code: 1, errOut: "read-only", status: "Active"},
		{name: "own key refused", args: args("contain", "deactivate-key", d.sim.Responder().AccessKeyID, "--yes"), code: 1,
			errOut: "override", status: "Active"},
		{name: "not confirmed", stdin: "no\n", args: args("contain", "deactivate-key", key), code: 1, errOut: "not confirmed", status: "Active"},
		{name: "no answer", args: args("contain", "deactivate-key", key), code: 2, errOut: "--yes", status: "Active"},
		{name: "confirmed", stdin: "yes\n", args: args("contain", "deactivate-key", key), code: 0, out: []string{"✓ done", "✓ holds:", "request "},
			status: "Inactive", mutating: true},
		{name: "again", args: args("contain", "deactivate-key", key, "--yes"), code: 0, out: []string{"already in effect"}, status: "Inactive", mutating: true},
		{name: "undo", args: args("contain", "reactivate-key", key, "--yes"), code: 0, out: []string{"✓ done"}, status: "Active", mutating: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := mutatingCalls(d)
			code, out, errOut := warroomIn(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.out {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if !strings.Contains(strings.ToLower(errOut), strings.ToLower(tt.errOut)) {
				t.Errorf("stderr lacks %q:\n%s", tt.errOut, errOut)
			}
			if got := keyStatus(t, d, "ci-deploy", key); got != tt.status {
				t.Errorf("key is %s, want %s", got, tt.status)
			}
			if !tt.mutating && mutatingCalls(d) != before {
				t.Errorf("%d mutating calls were sent", mutatingCalls(d)-before)
			}
		})
	}
}

func TestContainIrreversibleNeedsTypedName(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	var id string
	for _, m := range d.made {
		if f := strings.Fields(m); f[0] == "eu-west-1" && f[1] == "ec2:instance" {
			id = f[2]
		}
	}
	args := []string{"contain", "terminate-instances", id, "--region", "eu-west-1", "--journal", d.journal, "--endpoint-url", d.endpoint}
	code, out, errOut := warroomIn(t, "yes\n", args...)
	if code != 1 || !strings.Contains(errOut, "Type "+id) || !strings.Contains(out, "✗ irreversible") {
		t.Fatalf("a plain yes confirmed an irreversible plan: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = warroomIn(t, id+"\n", args...)
	if code != 0 || !strings.Contains(out, "DisableApiTermination: false") || !strings.Contains(out, "✓ holds:") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	in, err := ec2.NewFromConfig(d.cfg(d.sim.Responder(), "eu-west-1")).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if st := in.Reservations[0].Instances[0].State.Name; st != "terminated" && st != "shutting-down" {
		t.Errorf("instance is %s", st)
	}
}

func TestContainCredentialPlaybook(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	key := d.leaked.AccessKeyID
	base := []string{"contain", "credential", key, "--journal", d.journal, "--endpoint-url", d.endpoint, "--wait", "60s", "--poll", "100ms"}
	code, out, errOut := warroomIn(t, "", append(base, "--plan")...)
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errOut)
	}
	for _, w := range []string{"deactivate-key", "quarantine", "backup-svc", "revoke-sessions", "cancel-spot", "stop-instances", "AWSRevokeOlderSessions",
		"aws:TokenIssueTime", "✗ some steps cannot be undone"} {
		if !strings.Contains(out, w) {
			t.Errorf("plan lacks %q", w)
		}
	}
	if code, _, errOut := warroomIn(t, "yes\n", base...); code != 1 || !strings.Contains(errOut, "Type "+key) {
		t.Fatalf("the irreversible playbook took a plain yes: exit %d\n%s", code, errOut)
	}
	code, out, errOut = warroomIn(t, key+"\n", base...)
	if code != 0 || !strings.Contains(out, "verdict: contained") {
		t.Fatalf("run: exit %d\n%s\n%s", code, out, errOut)
	}
	if st := keyStatus(t, d, "ci-deploy", key); st != "Inactive" {
		t.Errorf("leaked key %s", st)
	}
	code, out, _ = warroomIn(t, "", append(base, "--yes")...)
	if code != 0 || !strings.Contains(out, "holds (read back now") || !strings.Contains(out, "verdict: contained") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	s, rep, err := state.Replay(d.journal)
	if err != nil || !rep.OK() {
		t.Fatalf("journal: %v %v", err, rep.Problem)
	}
	for _, a := range s.Actions {
		if a.Outcome() != state.OutcomeVerified {
			t.Errorf("%s %s: %s", a.Intent.Action, a.Intent.Target, a.Outcome())
		}
	}
}

func TestContainRotateShowsSecretOnce(t *testing.T) {
	d := newReadDrill(t, sim.Options{})
	if err := d.sim.AddUser("alice"); err != nil {
		t.Fatal(err)
	}
	old, err := d.sim.AddKey("alice")
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := warroomIn(t, "", "contain", "rotate-key", old.AccessKeyID, "--yes", "--journal", d.journal, "--endpoint-url", d.endpoint)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	i := strings.Index(out, "SecretAccessKey: ")
	if i < 0 {
		t.Fatalf("no secret shown:\n%s", out)
	}
	secret := strings.Fields(out[i+len("SecretAccessKey: "):])[0]
	if strings.Count(out, secret) != 1 || strings.Contains(errOut, secret) {
		t.Error("the secret is shown more than once")
	}
	j, err := os.ReadFile(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(j, []byte(secret)) {
		t.Error("the journal holds the new key's secret")
	}
}
