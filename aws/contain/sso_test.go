package contain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/state"
)

// ssoDrill is a drill account with Identity Center: alice (the attacker
// holds her session) and bob are both assigned AdministratorAccess
// directly, and both are in the group engineers, assigned ReadOnly (an
// inline policy of its own).
type ssoDrill struct {
	*drill
	inst, store string
	readOnly    string // ReadOnly's inline policy
	aliceAdmin  sim.Credentials
	aliceRO     sim.Credentials
	bobAdmin    sim.Credentials
}

func newSSODrill(t *testing.T) *ssoDrill {
	t.Helper()
	d := &ssoDrill{drill: newDrill(t)}
	s := d.sim
	d.inst, d.store = s.EnableIdentityCenter()
	d.readOnly = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":["s3:Get*","s3:List*"],"Resource":"*"}]}`
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.AddSSOUser("alice", "Alice Example", "alice@example.com")
	must(err)
	_, err = s.AddSSOUser("bob", "Bob Example", "bob@example.com")
	must(err)
	must(s.AddSSOGroup("engineers", "alice", "bob"))
	_, err = s.AddPermissionSet("AdministratorAccess", "", "arn:aws:iam::aws:policy/AdministratorAccess")
	must(err)
	_, err = s.AddPermissionSet("ReadOnly", d.readOnly)
	must(err)
	must(s.AssignSSO("alice", "AdministratorAccess"))
	must(s.AssignSSO("bob", "AdministratorAccess"))
	must(s.AssignSSO("engineers", "ReadOnly"))
	d.aliceAdmin, err = s.SignInSSO("alice", "AdministratorAccess", "198.51.100.7")
	must(err)
	d.aliceRO, err = s.SignInSSO("alice", "ReadOnly", "198.51.100.7")
	must(err)
	d.bobAdmin, err = s.SignInSSO("bob", "AdministratorAccess", "203.0.113.9")
	must(err)
	return d
}

// s3Works: a session's call to S3 is allowed (what an Identity Center
// session does with its role).
func (d *ssoDrill) s3Works(c sim.Credentials) bool {
	_, err := s3.NewFromConfig(d.cfg(c, "us-east-1"), func(o *s3.Options) { o.UsePathStyle = true }).ListBuckets(context.Background(), &s3.ListBucketsInput{})
	return err == nil
}

// ownAssignments reads alice's own assignments as an outside client.
func (d *ssoDrill) ownAssignments(t *testing.T, userID string) []ssotypes.AccountAssignmentForPrincipal {
	t.Helper()
	out, err := ssoadmin.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).ListAccountAssignmentsForPrincipal(context.Background(),
		&ssoadmin.ListAccountAssignmentsForPrincipalInput{InstanceArn: aws.String(d.inst), PrincipalType: ssotypes.PrincipalTypeUser, PrincipalId: aws.String(userID)})
	if err != nil {
		t.Fatal(err)
	}
	return out.AccountAssignments
}

// TestContainSSOUser: the runbook's steps against the drill, read back
// through the SDK as an outside client: the deny on both permission sets
// reaching alice (hers and her group's), provisioned, so her sessions
// issued before are denied while bob's are not; her own assignment
// deleted (she cannot sign in to it again); CloudTrail's records in
// sso.amazonaws.com's shape; the result journaled with request ids and the
// backup; the undo, rebuilt from the journal, puts everything back.
func TestContainSSOUser(t *testing.T) {
	ctx := context.Background()
	d := newSSODrill(t)
	if !d.s3Works(d.aliceAdmin) || !d.s3Works(d.aliceRO) || !d.s3Works(d.bobAdmin) {
		t.Fatal("the sessions do not work before containment")
	}
	a := &ContainSSOUser{User: "alice"}
	p, err := d.runner.Plan(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sso:PutInlinePolicyToPermissionSet", "sso:ProvisionPermissionSet", "sso:PutInlinePolicyToPermissionSet", "sso:ProvisionPermissionSet", "sso:DeleteAccountAssignment"}
	if got := apis(p.Calls); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("plan calls %v, want %v", got, want)
	}
	if ro := p.Calls[2].Params["InlinePolicy"]; !strings.Contains(ro, `"Sid":"Read"`) || !strings.Contains(ro, `"identitystore:UserId"`) {
		t.Errorf("ReadOnly's new inline policy drops its statement or lacks the deny: %s", ro)
	}
	o, err := d.runner.Run(ctx, a, RunOptions{Confirmed: p})
	if err != nil {
		t.Fatal(err)
	}
	if o.Verify == nil || !o.Verify.Holds {
		t.Fatalf("verify: %+v\n%s", o.Verify, d.log)
	}
	for _, c := range o.Result.Calls {
		if c.RequestID == "" {
			t.Errorf("%s journaled without a request id", c.API)
		}
	}
	if d.s3Works(d.aliceAdmin) || d.s3Works(d.aliceRO) {
		t.Error("alice's sessions still work after containment")
	}
	if !d.s3Works(d.bobAdmin) {
		t.Error("bob's session stopped: the deny must name alice only")
	}
	userID := o.Plan.Prior.(*SSOBackup).UserID
	if got := d.ownAssignments(t, userID); len(got) != 0 {
		t.Errorf("alice still has assignments: %+v", got)
	}
	if _, err := d.sim.SignInSSO("alice", "AdministratorAccess", "198.51.100.7"); err == nil {
		t.Error("alice can still sign in to AdministratorAccess")
	}
	// CloudTrail's records of the changes.
	seen := map[string]bool{}
	for _, r := range d.sim.Records() {
		var rec struct {
			EventSource       string
			EventName         string
			ReadOnly          bool
			RequestParameters map[string]any
			ResponseElements  map[string]any
		}
		if err := json.Unmarshal(r.JSON, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.EventSource != "sso.amazonaws.com" {
			continue
		}
		seen[rec.EventName] = true
		if rec.EventName == "DeleteAccountAssignment" {
			if rec.ReadOnly || rec.RequestParameters["principalId"] != userID || rec.RequestParameters["targetType"] != "AWS_ACCOUNT" {
				t.Errorf("DeleteAccountAssignment record: %s", r.JSON)
			}
			st, _ := rec.ResponseElements["accountAssignmentDeletionStatus"].(map[string]any)
			if st["status"] != "IN_PROGRESS" || st["requestId"] == "" {
				t.Errorf("DeleteAccountAssignment responseElements: %s", r.JSON)
			}
		}
	}
	for _, n := range []string{"Federate", "ListInstances", "PutInlinePolicyToPermissionSet", "ProvisionPermissionSet", "DeleteAccountAssignment", "DescribeAccountAssignmentDeletionStatus"} {
		if !seen[n] {
			t.Errorf("no sso.amazonaws.com %s record", n)
		}
	}
	// A second run: already in effect.
	if p2, err := d.runner.Plan(ctx, &ContainSSOUser{User: "alice"}); err != nil || !p2.Already {
		t.Errorf("second plan: already=%v err=%v calls=%v", p2 != nil && p2.Already, err, p2)
	}
	// The undo, rebuilt from the journal as `contain sso-user --undo` does.
	ledger, _, err := state.ReadActions(d.path)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := FromAction(ledger.Action(o.ActionID))
	if err != nil {
		t.Fatal(err)
	}
	undo, _ := Undo(rebuilt)
	up, err := d.runner.Plan(ctx, undo)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{"sso:DeleteInlinePolicyFromPermissionSet", "sso:ProvisionPermissionSet", "sso:PutInlinePolicyToPermissionSet", "sso:ProvisionPermissionSet", "sso:CreateAccountAssignment"}
	if got := apis(up.Calls); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("undo calls %v, want %v", got, want)
	}
	uo, err := d.runner.Run(ctx, undo, RunOptions{Confirmed: up})
	if err != nil {
		t.Fatal(err)
	}
	if uo.Verify == nil || !uo.Verify.Holds {
		t.Fatalf("undo verify: %+v\n%s", uo.Verify, d.log)
	}
	if !d.s3Works(d.aliceAdmin) || !d.s3Works(d.aliceRO) {
		t.Error("alice's sessions still denied after the undo")
	}
	if got := d.ownAssignments(t, userID); len(got) != 1 {
		t.Errorf("alice's assignment not back: %+v", got)
	}
	pol, err := ssoadmin.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1")).GetInlinePolicyForPermissionSet(ctx,
		&ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: aws.String(d.inst), PermissionSetArn: aws.String(psARN(t, d, "ReadOnly"))})
	if err != nil || !sameJSON(aws.ToString(pol.InlinePolicy), d.readOnly) {
		t.Errorf("ReadOnly's inline policy after the undo: %v %v", aws.ToString(pol.InlinePolicy), err)
	}
}

func psARN(t *testing.T, d *ssoDrill, name string) string {
	t.Helper()
	cl := ssoadmin.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	out, err := cl.ListPermissionSets(context.Background(), &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(d.inst)})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range out.PermissionSets {
		ps, err := cl.DescribePermissionSet(context.Background(), &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(d.inst), PermissionSetArn: aws.String(a)})
		if err == nil && aws.ToString(ps.PermissionSet.Name) == name {
			return a
		}
	}
	t.Fatalf("no permission set %s", name)
	return ""
}

// TestSSOUserRefusesSelf: a console running on an Identity Center
// session of the user (session named after the user's e-mail) is told the
// plan cuts it off, and the Runner refuses without the override.
func TestSSOUserRefusesSelf(t *testing.T) {
	ctx := context.Background()
	d := newSSODrill(t)
	d.env.Self.ARN = "arn:aws:sts::" + d.sim.AccountID() + ":assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/Alice@Example.com"
	p, err := d.runner.Plan(ctx, &ContainSSOUser{User: "alice"})
	if err != nil || !p.Self {
		t.Fatalf("plan: self=%v err=%v", p != nil && p.Self, err)
	}
	if _, err := d.runner.Run(ctx, &ContainSSOUser{User: "alice"}, RunOptions{}); !errors.Is(err, ErrSelf) {
		t.Fatalf("run: %v, want ErrSelf", err)
	}
	if !d.s3Works(d.aliceAdmin) {
		t.Error("alice was contained although refused")
	}
	if p, err := d.runner.Plan(ctx, &ContainSSOUser{User: "bob"}); err != nil || p.Self {
		t.Errorf("bob: self=%v err=%v", p != nil && p.Self, err)
	}
}

// TestSSOUserNotEnabled: an account without an Identity Center instance
// in the Region: the plan fails saying so (ErrSSONotEnabled), nothing is
// changed.
func TestSSOUserNotEnabled(t *testing.T) {
	d := newDrill(t)
	_, err := d.runner.Plan(context.Background(), &ContainSSOUser{User: "alice"})
	if !errors.Is(err, ErrSSONotEnabled) || !strings.Contains(err.Error(), "us-east-1") {
		t.Fatalf("err = %v, want ErrSSONotEnabled naming the Region", err)
	}
	// Another Region than the instance's: not enabled there either.
	sd := newSSODrill(t)
	if _, err := sd.runner.Plan(context.Background(), &ContainSSOUser{User: "alice", Region: "eu-west-1"}); !errors.Is(err, ErrSSONotEnabled) {
		t.Fatalf("eu-west-1: err = %v", err)
	}
	if _, err := sd.runner.Plan(context.Background(), &ContainSSOUser{User: "mallory"}); err == nil || !strings.Contains(err.Error(), `no IAM Identity Center user "mallory"`) {
		t.Fatalf("unknown user: err = %v", err)
	}
}

// TestSSOUserAccessDenied: a responder whose policy denies sso:* gets the
// plan refused with AccessDenied naming the call and the Region.
func TestSSOUserAccessDenied(t *testing.T) {
	ctx := context.Background()
	d := newSSODrill(t)
	cl := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	if _, err := cl.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("auditor")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("auditor"), PolicyName: aws.String("no-sso"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sso:*","Resource":"*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	k, err := cl.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("auditor")})
	if err != nil {
		t.Fatal(err)
	}
	d.connect(t, sim.Credentials{AccessKeyID: aws.ToString(k.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(k.AccessKey.SecretAccessKey)}, false)
	_, err = d.runner.Plan(ctx, &ContainSSOUser{User: "alice"})
	if session.Classify(err) != session.ClassDenied || !strings.Contains(err.Error(), "sso:ListInstances") {
		t.Fatalf("err = %v (class %s), want AccessDenied naming sso:ListInstances", err, session.Classify(err))
	}
}

// TestSSOUserThrottled: Identity Center answering ThrottlingException to
// every call: the plan fails as throttled, naming the call.
func TestSSOUserThrottled(t *testing.T) {
	ctx := context.Background()
	s := sim.New(sim.Options{Seed: 7, ThrottleRate: 1})
	s.EnableIdentityCenter()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	srvURL := srv.URL
	sess, err := session.Load(ctx, session.Options{Endpoint: srvURL, MaxBackoff: time.Millisecond,
		Credentials: credentials.NewStaticCredentialsProvider(s.Responder().AccessKeyID, s.Responder().SecretAccessKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = SSOInstance(ctx, sess, "us-east-1")
	if session.Classify(err) != session.ClassThrottled || !strings.Contains(err.Error(), "sso:ListInstances") {
		t.Fatalf("err = %v (class %s), want throttled naming sso:ListInstances", err, session.Classify(err))
	}
}

// TestScenarioSSOIntruder: the scenario's Identity Center intruder calls
// the account with a phished administrator's session; sso-user on that
// user stops it (every call after containment denied) while the
// scenario's other actors go on, and CloudTrail shows the session as an
// AssumedRole of AWSReservedSSO_AdministratorAccess_… named after the user.
func TestScenarioSSOIntruder(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := sim.New(sim.Options{Seed: 5})
	endpoint, err := s.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenario.New(scenario.DefaultScenario, s, endpoint, scenario.Options{Seed: 5, AttackAfter: 1, Round: 100 * time.Millisecond, IdentityCenter: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = s.Close()
	})
	select {
	case <-sc.SSOIntruderStarted():
	case <-time.After(60 * time.Second):
		t.Fatal("the Identity Center intruder never signed in")
	}
	waitCalls := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for c, _ := sc.SSOIntruderCalls(); c < n; c, _ = sc.SSOIntruderCalls() {
			if time.Now().After(deadline) {
				t.Fatalf("the intruder made %d calls, waited for %d", c, n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitCalls(3)
	if _, denied := sc.SSOIntruderCalls(); denied != 0 {
		t.Fatalf("the intruder was denied before containment: %d", denied)
	}
	d := &drill{sim: s, endpoint: endpoint, log: &bytes.Buffer{}}
	d.path = filepath.Join(t.TempDir(), "journal.jsonl")
	d.connect(t, s.Responder(), false)
	o, err := d.runner.Run(ctx, &ContainSSOUser{User: sc.SSOUser()}, RunOptions{})
	if err != nil || o.Verify == nil || !o.Verify.Holds {
		t.Fatalf("contain %s: %v %+v\n%s", sc.SSOUser(), err, o, d.log)
	}
	before, deniedBefore := sc.SSOIntruderCalls()
	waitCalls(before + 6)
	after, deniedAfter := sc.SSOIntruderCalls()
	// GetCallerIdentity cannot be denied (as at AWS): the other two of
	// each round's three calls are.
	if got, want := deniedAfter-deniedBefore, (after-before)*2/3; got < want-1 {
		t.Errorf("after containment %d of the intruder's %d calls were denied, want about %d", got, after-before, want)
	}
	found := false
	for _, r := range s.Records() {
		if strings.Contains(string(r.JSON), `"arn":"arn:aws:sts::`+s.AccountID()+`:assumed-role/AWSReservedSSO_AdministratorAccess_`) &&
			strings.Contains(string(r.JSON), `/`+sc.SSOUser()+`"`) && strings.Contains(string(r.JSON), `"type":"AssumedRole"`) {
			found = true
			break
		}
	}
	if !found {
		t.Error("no CloudTrail record of the intruder's AWSReservedSSO_ session")
	}
}
