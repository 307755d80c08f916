package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// orgCLI starts a drill organisation and points the command line at it as
// the management account's responder.
func orgCLI(t *testing.T) (*sim.Org, *readDrill) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	clock := sim.NewManualClock(time.Now().Add(-2 * time.Hour).Truncate(time.Second))
	o := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: 41, Clock: clock}})
	endpoint, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = o.Close()
	})
	asResponder(t, o.Responder())
	return o, &readDrill{sim: o.Management(), clock: clock, endpoint: endpoint, journal: filepath.Join(t.TempDir(), "inc", "journal.jsonl")}
}

// TestContainAccountSCP: `contain account-scp` previews the exact SCP and
// its impact, attaches it (an intruder's call in the member then fails
// with the SCP's message), --undo detaches and deletes it (the call works
// again), each journaled; the management account is refused.
func TestContainAccountSCP(t *testing.T) {
	o, d := orgCLI(t)
	ctx := context.Background()
	acct := o.Members()[1].AccountID()
	if err := o.Members()[1].AddUser("intruder"); err != nil {
		t.Fatal(err)
	}
	intruder, err := o.Members()[1].AddKey("intruder")
	if err != nil {
		t.Fatal(err)
	}
	call := func() error {
		_, err := ec2.NewFromConfig(d.cfg(intruder, "us-east-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		return err
	}
	base := []string{"--journal", d.journal, "--endpoint-url", d.endpoint}
	args := func(a ...string) []string { return append(append([]string{"contain"}, a...), base...) }

	code, out, errs := warroomIn(t, "", args("account-scp", acct, "--plan")...)
	if code != 0 {
		t.Fatalf("--plan: exit %d: %s", code, errs)
	}
	for _, want := range []string{"organizations:CreatePolicy", "organizations:AttachPolicy", "TargetId: " + acct, "IMPACT",
		`"ArnNotLike":{"aws:PrincipalARN":["arn:aws:iam::` + acct + `:role/OrganizationAccountAccessRole"]}`, "undo: remove-account-scp " + acct} {
		if !strings.Contains(out, want) {
			t.Errorf("--plan does not show %q:\n%s", want, out)
		}
	}
	if err := call(); err != nil {
		t.Fatalf("--plan changed something: %v", err)
	}
	// The role warroom assumes (--role-name) is spared too.
	_, out, _ = warroomIn(t, "", args("account-scp", acct, "--plan", "--role-name", "warroom-ir")...)
	if !strings.Contains(out, `["arn:aws:iam::`+acct+`:role/OrganizationAccountAccessRole","arn:aws:iam::`+acct+`:role/warroom-ir"]`) {
		t.Errorf("--role-name warroom-ir is not spared:\n%s", out)
	}

	if code, out, errs = warroomIn(t, "", args("account-scp", acct, "--yes")...); code != 0 {
		t.Fatalf("attach: exit %d: %s\n%s", code, errs, out)
	}
	if err := call(); err == nil || !strings.Contains(err.Error(), "service control policy") {
		t.Fatalf("the intruder's call with the SCP attached: %v", err)
	}
	if code, out, errs = warroomIn(t, "", args("account-scp", acct, "--undo", "--yes")...); code != 0 {
		t.Fatalf("--undo: exit %d: %s\n%s", code, errs, out)
	}
	if !strings.Contains(out, "organizations:DetachPolicy") || !strings.Contains(out, "organizations:DeletePolicy") {
		t.Errorf("--undo plan:\n%s", out)
	}
	if err := call(); err != nil {
		t.Errorf("after --undo: %v", err)
	}
	l, _, err := state.ReadActions(d.journal)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range l.Actions {
		got = append(got, a.Intent.Action+" "+a.Intent.Target+" "+string(a.Outcome()))
	}
	if strings.Join(got, "; ") != "account-scp account/"+acct+" verified; remove-account-scp account/"+acct+" verified" {
		t.Errorf("journal: %v", got)
	}

	code, _, errs = warroomIn(t, "", args("account-scp", o.Management().AccountID(), "--plan")...)
	if code != exitProblem || !strings.Contains(errs, "management account") {
		t.Errorf("the management account: exit %d, %s", code, errs)
	}
}

// TestContainCredentialAcrossAccounts: a leaked key of member A assumed a
// role in member B and made a user with a key there; `contain credential
// --plan`, run from the management account, plans in both accounts and
// names the account and role of every step.
func TestContainCredentialAcrossAccounts(t *testing.T) {
	o, d := orgCLI(t)
	ctx := context.Background()
	a, b := o.Members()[0], o.Members()[1]
	if err := a.AddUser("ci-deploy"); err != nil {
		t.Fatal(err)
	}
	if err := a.AttachUserPolicy("ci-deploy", "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	leaked, err := a.AddKey("ci-deploy")
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + a.AccountID() + `:root"},"Action":"sts:AssumeRole"}]}`
	if err := b.AddRoleWithTrust("deploy-cross", trust, "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	as, err := sts.NewFromConfig(d.cfg(leaked, "us-east-1")).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + b.AccountID() + ":role/deploy-cross"), RoleSessionName: aws.String("deploy")})
	if err != nil {
		t.Fatal(err)
	}
	sess := sim.Credentials{AccessKeyID: aws.ToString(as.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(as.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(as.Credentials.SessionToken)}
	ib := iam.NewFromConfig(d.cfg(sess, "us-east-1"))
	if _, err := ib.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("svc-replication")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ib.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("svc-replication")}); err != nil {
		t.Fatal(err)
	}

	// A user made in B after the leak that no CloudTrail record names a
	// creator for (made behind the API's back): unsure, in B.
	d.clock.Advance(time.Minute)
	if err := b.AddUser("late-user"); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(d.journal), 0o700); err != nil {
		t.Fatal(err)
	}
	rec, err := state.OpenRecorder(d.journal, state.IncidentOpened{ID: "wr-org"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	rec.Close()
	code, out, errs := warroomIn(t, "", "contain", "credential", leaked.AccessKeyID, "--plan", "--journal", d.journal, "--endpoint-url", d.endpoint)
	if code == exitUsage {
		t.Fatalf("exit %d: %s", code, errs)
	}
	inA := "in account " + a.AccountID() + " through role arn:aws:iam::" + a.AccountID() + ":role/OrganizationAccountAccessRole"
	inB := "in account " + b.AccountID() + " through role arn:aws:iam::" + b.AccountID() + ":role/OrganizationAccountAccessRole"
	for _, want := range []string{"accounts: " + a.AccountID() + ", " + b.AccountID(), inA, inB, "user/svc-replication", "role/deploy-cross"} {
		if !strings.Contains(out, want) {
			t.Errorf("the plan does not show %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "? user late-user in account "+b.AccountID()+": created ") {
		t.Errorf("the user made in B after the leak with no creator is not unsure there:\n%s", out)
	}
	// The deactivation of the leaked key is in A; the quarantine of the
	// user the session made is in B.
	for _, c := range []struct{ step, where string }{{"deactivate-key — the suspect key", inA}, {"quarantine — a user the family created (backdoor)", inB}} {
		i := strings.Index(out, c.step)
		if i < 0 || !strings.HasPrefix(strings.TrimSpace(out[i+len(c.step):]), c.where) {
			t.Errorf("step %q is not shown %q:\n%s", c.step, c.where, out)
		}
	}
}
