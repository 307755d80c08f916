package contain

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/state"
)

// orgDrill starts a drill organisation and connects the responder of its
// management account, with the member accounts reached through their
// OrganizationAccountAccessRole (SessionMembers, the SDK's assume-role
// provider).
func orgDrill(t *testing.T, opts sim.OrgOptions) (*sim.Org, *drill, context.Context) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	o := sim.NewOrg(opts)
	endpoint, err := o.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = o.Close()
	})
	d := &drill{sim: o.Management(), endpoint: endpoint, log: &bytes.Buffer{}}
	d.path = t.TempDir() + "/journal.jsonl"
	d.connect(t, o.Responder(), false)
	d.env.Now = nil // the wall clock, as the sim's
	d.env.Member, d.env.MemberRole = SessionMembers(d.sess), MemberRoleName(d.sess)
	// The session, as warroom journals it: the home account's facts are
	// told from the members' by it.
	if _, err := d.rec.Record(state.KindSessionStarted, state.SessionStarted{Command: "contain", AccountID: d.env.Self.AccountID,
		CallerARN: d.env.Self.ARN, CallerKeyID: d.env.Self.KeyID, Endpoint: endpoint, Drill: true}); err != nil {
		t.Fatal(err)
	}
	return o, d, ctx
}

// playOrg plays the organisation scenario on o until the attacker holds
// footholds in the pivot account.
func playOrg(t *testing.T, ctx context.Context, o *sim.Org, d *drill, seed uint64, speed float64) *scenario.OrgScenario {
	t.Helper()
	sc, err := scenario.NewOrg(scenario.DefaultScenario, o, d.endpoint, scenario.Options{Seed: seed, AttackAfter: 1,
		Round: time.Duration(speed * float64(300*time.Millisecond))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sc.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	for deadline := time.Now().Add(120 * time.Second); !sc.PivotEstablished(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the attacker never established its footholds in the pivot account")
		}
	}
	return sc
}

// orgContain are the playbook's options in an organisation drill: rounds
// every 250 ms for up to wait.
func orgContain(wait time.Duration) ContainOptions {
	return ContainOptions{Wait: wait, Poll: 250 * time.Millisecond, Refresh: RefreshOptions{Rate: 40}}
}

func orgOptions(seed uint64, speed float64) sim.OrgOptions {
	return sim.OrgOptions{Options: sim.Options{Seed: seed, Speed: speed, DeliveryDelay: time.Duration(speed * float64(1500*time.Millisecond)), LookupRate: 50}}
}

// TestOrgPivotContainedInBothAccounts: the organisation scenario's leaked
// key in member A pivots through deploy-cross into member B and plants a
// user, its key and miners there. The playbook, run from the management
// account from an empty journal, contains in both accounts, each through
// its OrganizationAccountAccessRole, journaling the account and role of
// every action; read back through the SDK as each account's own
// responder, A's key is Inactive, and B's user has no active key, the
// pivot sessions work no more and the miners are stopped.
func TestOrgPivotContainedInBothAccounts(t *testing.T) {
	if testing.Short() {
		t.Skip("plays an organisation drill")
	}
	const speed = 10
	o, d, ctx := orgDrill(t, orgOptions(5, speed))
	sc := playOrg(t, ctx, o, d, 5, speed)
	v, pb, err := d.runner.Contain(ctx, journalFold(t, d.path), sc.LeakedKey(), orgContain(180*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	truth := sc.Truth()
	a, b := o.Account(truth.LeakedAccount), o.Account(truth.PivotAccount)
	t.Logf("verdict %s: %d of %d footholds held; %d steps; open %v unsure %v", v.Word(), v.Held, v.Footholds, len(pb.Steps), v.Open, v.Unsure)
	if pb.Family.Account != a.AccountID() || pb.Family.Members[b.AccountID()] == nil {
		t.Fatalf("the family's accounts: %q and members %v, want %s and %s", pb.Family.Account, pb.Family.Accounts(), a.AccountID(), b.AccountID())
	}
	roleIn := func(acct string) string { return "arn:aws:iam::" + acct + ":role/" + OrgAccessRole }

	// Read back as each account's own responder, through the SDK.
	ia := iam.NewFromConfig(d.cfg(a.Responder(), "us-east-1"))
	keys, err := ia.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(sc.LeakedUser())})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys.AccessKeyMetadata {
		if aws.ToString(k.AccessKeyId) == sc.LeakedKey() && k.Status != iamtypes.StatusTypeInactive {
			t.Errorf("account A: the leaked key is %s", k.Status)
		}
	}
	ib := iam.NewFromConfig(d.cfg(b.Responder(), "us-east-1"))
	var pivotUser string
	var instances []string
	for _, f := range truth.Footholds[b.AccountID()] {
		switch f.Kind {
		case "user":
			pivotUser = f.ID
		case "instance":
			instances = append(instances, f.ID)
		}
	}
	bk, err := ib.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(pivotUser)})
	if err != nil {
		t.Fatalf("account B: %v", err)
	}
	for _, k := range bk.AccessKeyMetadata {
		if k.Status == iamtypes.StatusTypeActive {
			t.Errorf("account B: key %s of the attacker's user %s is Active", aws.ToString(k.AccessKeyId), pivotUser)
		}
	}
	menv, err := d.env.ForAccount(ctx, b.AccountID())
	if err != nil {
		t.Fatal(err)
	}
	attackers := 0
	for _, s := range truth.PivotSessions {
		if s == menv.Self.KeyID {
			continue // warroom's own session of OrganizationAccountAccessRole
		}
		attackers++
		if ok, _ := b.Works(s, "ec2:DescribeInstances"); ok {
			t.Errorf("account B: the attacker's session %s of %s still works", s, scenario.PivotRole)
		}
	}
	if len(instances) == 0 || attackers == 0 {
		t.Fatalf("account B: the truth names %d miners and %d attacker sessions", len(instances), attackers)
	}
	eb := ec2.NewFromConfig(d.cfg(b.Responder(), "ap-southeast-1"))
	out, err := eb.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: instances})
	if err != nil {
		t.Fatalf("account B: %v", err)
	}
	for _, r := range out.Reservations {
		for _, in := range r.Instances {
			if s := in.State.Name; s == ec2types.InstanceStateNameRunning || s == ec2types.InstanceStateNamePending {
				t.Errorf("account B: miner %s is %s", aws.ToString(in.InstanceId), s)
			}
		}
	}

	// Refresh read each account's inventory and sweep through its role,
	// journaled with the account.
	st, _, err := state.Replay(d.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, acct := range []string{a.AccountID(), b.AccountID()} {
		af, ok := st.Account(acct)
		if !ok || af.Inventory == nil || len(af.Sweeps) == 0 {
			t.Errorf("account %s: no inventory or sweep journaled (%v)", acct, ok)
		}
	}
	if af, _ := st.Account(b.AccountID()); af.Inventory != nil && !slices.ContainsFunc(af.Inventory.Users, func(u state.User) bool { return u.Name == pivotUser }) {
		t.Errorf("account B's inventory does not hold %s", pivotUser)
	}

	// The journal names the account and the role of every action.
	l, err := ReadLedger(d.path)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]int{}
	for _, x := range l.Actions {
		acct := x.Intent.Account
		in[acct]++
		switch {
		case acct == "":
			t.Errorf("action %s %s journaled without the account it acted in", x.Intent.Action, x.Intent.Target)
		case x.Intent.Role != roleIn(acct):
			t.Errorf("action %s in %s: role %q, want %q", x.Intent.Action, acct, x.Intent.Role, roleIn(acct))
		case x.Result != nil && (x.Result.Account != acct || x.Result.Role != x.Intent.Role):
			t.Errorf("action %s: result in %q by %q, intent in %s", x.Intent.Action, x.Result.Account, x.Result.Role, acct)
		}
		for _, vf := range x.Verifies {
			if vf.Account != acct {
				t.Errorf("action %s: read back in %q, acted in %s", x.Intent.Action, vf.Account, acct)
			}
		}
	}
	if in[a.AccountID()] == 0 || in[b.AccountID()] == 0 {
		t.Errorf("actions by account: %v, want some in %s and in %s", in, a.AccountID(), b.AccountID())
	}
	for _, f := range append(v.Open, v.Unsure...) {
		if f.Kind == "account" {
			t.Errorf("an account was unreachable: %+v", f)
		}
	}
	if v.Contained {
		if n := len(sc.Attacker().SuccessesSince(time.Now())); n > 0 {
			t.Errorf("contained, yet the attacker called %d times in A", n)
		}
	} else if !raceDetector {
		t.Errorf("verdict %s: open %v unsure %v", v.Word(), v.Open, v.Unsure)
	}
}

// TestOrgUnreachableMemberIsUnsure: the member the attacker pivoted into
// has no OrganizationAccountAccessRole (an invited account): the playbook
// contains what it can reach, and the verdict is unsure, naming the
// account — never contained.
func TestOrgUnreachableMemberIsUnsure(t *testing.T) {
	if testing.Short() {
		t.Skip("plays an organisation drill")
	}
	const speed = 10
	opts := orgOptions(7, speed)
	opts.NoAccessRole = []int{1}
	o, d, ctx := orgDrill(t, opts)
	sc := playOrg(t, ctx, o, d, 7, speed)
	v, _, err := d.runner.Contain(ctx, journalFold(t, d.path), sc.LeakedKey(), orgContain(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b := sc.PivotAccount()
	t.Logf("verdict %s: open %v unsure %v", v.Word(), v.Open, v.Unsure)
	if v.Contained || v.Word() == "contained" {
		t.Fatalf("verdict contained with account %s out of reach", b)
	}
	named := false
	for _, f := range v.Unsure {
		named = named || f.Kind == "account" && f.ID == b && f.Account == b && strings.Contains(f.Detail, b)
	}
	if !named {
		t.Errorf("the verdict does not name the unreachable account %s: unsure %+v", b, v.Unsure)
	}
	l, err := ReadLedger(d.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range l.Actions {
		if x.Intent.Account == b {
			t.Errorf("an action in the unreachable account: %+v", x.Intent)
		}
	}
}

// TestAccountSCP: account-scp on a member, run from the management
// account: the plan shows the exact document and the impact; once it is
// attached, a call in the member by an attacker's key fails with the
// SCP's message while the incident-response role still works; undo
// detaches and deletes it and the call works again. The management
// account is refused.
func TestAccountSCP(t *testing.T) {
	o, d, ctx := orgDrill(t, sim.OrgOptions{Options: sim.Options{Seed: 9}})
	b := o.Members()[1]
	acct := b.AccountID()
	if err := b.AddUser("intruder"); err != nil {
		t.Fatal(err)
	}
	intruder, err := b.AddKey("intruder")
	if err != nil {
		t.Fatal(err)
	}
	call := func() error {
		_, err := ec2.NewFromConfig(d.cfg(intruder, "us-east-1")).DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		return err
	}
	if err := call(); err != nil {
		t.Fatalf("before: %v", err)
	}

	a := &AccountSCP{Account: acct}
	p, err := d.runner.Plan(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	doc := SCPDocument("aws", acct, OrgAccessRole)
	if got := apis(p.Calls); strings.Join(got, " ") != "organizations:CreatePolicy organizations:AttachPolicy" {
		t.Fatalf("calls %v", got)
	}
	if p.Calls[0].Params["Content"] != doc || p.Calls[1].Params["TargetId"] != acct || p.HasIrreversible() {
		t.Errorf("plan %+v", p.Calls)
	}
	if !strings.Contains(strings.Join(p.Warnings, " "), "IMPACT") || !strings.Contains(strings.Join(p.Findings, " "), doc) {
		t.Errorf("the preview does not show the impact and the document: %v %v", p.Warnings, p.Findings)
	}
	out, err := d.runner.Run(ctx, a, RunOptions{Confirmed: p})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Result.OK || out.Verify == nil || !out.Verify.Holds {
		t.Fatalf("attach: %+v %+v", out.Result, out.Verify)
	}
	for _, c := range out.Result.Calls {
		if c.RequestID == "" {
			t.Errorf("%s: no request id", c.API)
		}
	}
	err = call()
	if err == nil || !strings.Contains(err.Error(), "service control policy") {
		t.Fatalf("the intruder's call with the SCP attached: %v", err)
	}
	// The incident-response role is spared.
	menv, err := d.env.ForAccount(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := menv.Sess.IAM().ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("the incident-response role in %s: %v", acct, err)
	}
	// Read back as the organisation's administrator, through the SDK.
	org := organizations.NewFromConfig(d.cfg(o.Responder(), "us-east-1"))
	lp, err := org.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: aws.String(acct), Filter: orgtypes.PolicyTypeServiceControlPolicy})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	for _, pol := range lp.Policies {
		if aws.ToString(pol.Name) == SCPPolicyName(acct) {
			id = aws.ToString(pol.Id)
		}
	}
	if id == "" {
		t.Fatalf("not attached: %+v", lp.Policies)
	}
	if again, err := d.runner.Plan(ctx, a); err != nil || !again.Already {
		t.Errorf("a second plan: %+v %v", again, err)
	}

	undo, why := Undo(a)
	if undo == nil {
		t.Fatal(why)
	}
	uo, err := d.runner.Run(ctx, undo, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := apis(uo.Plan.Calls); strings.Join(got, " ") != "organizations:DetachPolicy organizations:DeletePolicy" || !uo.Verify.Holds {
		t.Fatalf("undo: %v %+v", got, uo.Verify)
	}
	if err := call(); err != nil {
		t.Errorf("after undo: %v", err)
	}
	if _, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)}); err == nil {
		t.Errorf("policy %s still exists after undo", id)
	}

	// The journal: intent, result with request ids, verification.
	l, err := ReadLedger(d.path)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, x := range l.Actions {
		seen = append(seen, fmt.Sprintf("%s %s %s", x.Intent.Action, x.Intent.Target, x.Outcome()))
	}
	if strings.Join(seen, "; ") != "account-scp account/"+acct+" verified; remove-account-scp account/"+acct+" verified" {
		t.Errorf("journal: %v", seen)
	}

	// The management account is refused: SCPs do not apply there.
	if _, err := d.runner.Plan(ctx, &AccountSCP{Account: o.Management().AccountID()}); err == nil || !strings.Contains(err.Error(), "management account") {
		t.Errorf("account-scp on the management account: %v", err)
	}
	// So is the account warroom acts from (here a member's role session).
	if _, err := (&AccountSCP{Account: acct}).Plan(ctx, menv); err == nil || !strings.Contains(err.Error(), "warroom itself acts from") {
		t.Errorf("account-scp on warroom's own account: %v", err)
	}
}
