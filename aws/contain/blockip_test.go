package contain

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/state"
)

// attackerIP is where the attacker's calls come from: a loopback address
// of its own (Linux binds all of 127.0.0.0/8), so CloudTrail and the
// drill's aws:SourceIp see it apart from the responder's 127.0.0.1.
const attackerIP = "127.0.0.66"

// ownerIP is where the leaked key's owner's application calls from.
const ownerIP = "127.0.0.12"

// ipDrill is a drill where a leaked key is used from attackerIP: it lists
// users, opens SSH on a security group and launches an instance in
// eu-west-1; the key is marked suspect and the records journaled.
type ipDrill struct {
	*drill
	leaked sim.Credentials
	group  string
}

func newIPDrill(t *testing.T) *ipDrill {
	t.Helper()
	ctx := context.Background()
	d := &ipDrill{drill: newDrill(t)}
	// The journal's clock and the drill's agree here, so that warroom's
	// own calls are "ours" (within the session's window).
	d.clock.Set(time.Now().UTC())
	if err := d.sim.AddUser("legacy-reporting"); err != nil {
		t.Fatal(err)
	}
	d.leaked = must(d.sim.AddKey("legacy-reporting"))(t)
	if err := d.sim.AddRole("deploy", 0); err != nil {
		t.Fatal(err)
	}
	// A service-linked role, which cannot take an inline policy.
	must(d.sess.IAM().CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("AWSServiceRoleForSupport"), Path: aws.String("/aws-service-role/support.amazonaws.com/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"support.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))(t)
	// The key's owner's application, from its usual address, before the
	// leak: block-ip's defaults leave that address out.
	ownerCfg := d.cfg(d.leaked, "us-east-1")
	ownerCfg.HTTPClient = scenario.HTTPClient(ownerIP)
	must(iam.NewFromConfig(ownerCfg).ListAccountAliases(ctx, &iam.ListAccountAliasesInput{}))(t)
	d.clock.Advance(time.Minute)
	if !d.attackerWorks(t) {
		t.Fatal("the attacker's key does not work before the block")
	}
	e := d.attackerEC2("eu-west-1")
	g := must(e.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String("ops"), Description: aws.String("ops")}))(t)
	d.group = aws.ToString(g.GroupId)
	must(e.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: g.GroupId, IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}))(t)
	must(e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a4e637babb7b0a86"), InstanceType: ec2types.InstanceTypeT3Micro,
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}))(t)
	// The responder's own calls: what CloudTrail shows for them, "ours"
	// by the session the journal holds.
	if _, err := d.rec.Record(state.KindSessionStarted, state.SessionStarted{Command: "test", Mode: state.ModeLive, AccountID: d.env.Self.AccountID,
		CallerARN: d.env.Self.ARN, CallerKeyID: d.env.Self.KeyID}); err != nil {
		t.Fatal(err)
	}
	must(d.sess.IAM().ListUsers(ctx, &iam.ListUsersInput{}))(t)
	if _, err := d.rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: d.leaked.AccessKeyID, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	d.ingest(t)
	return d
}

func (d *ipDrill) attackerCfg(region string) aws.Config {
	cfg := d.cfg(d.leaked, region)
	cfg.HTTPClient = scenario.HTTPClient(attackerIP)
	return cfg
}

func (d *ipDrill) attackerEC2(region string) *ec2.Client {
	return ec2.NewFromConfig(d.attackerCfg(region))
}

// attackerWorks: can the leaked key, from the attacker's address, call IAM?
func (d *ipDrill) attackerWorks(t *testing.T) bool {
	_, err := iam.NewFromConfig(d.attackerCfg("us-east-1")).ListUsers(context.Background(), &iam.ListUsersInput{})
	return err == nil
}

// ownerWorks: the same key from another address (its owner's application).
func (d *ipDrill) ownerWorks() bool {
	_, err := iam.NewFromConfig(d.cfg(d.leaked, "us-east-1")).ListUsers(context.Background(), &iam.ListUsersInput{})
	return err == nil
}

// defaults reads block-ip's defaults from the journal.
func (d *ipDrill) defaults(t *testing.T) BlockDefaults {
	t.Helper()
	fold, closeRaw := JournalFold(d.path)
	defer closeRaw()
	var out BlockDefaults
	if err := fold(func(s *state.Store, raw Raw) error { out = DefaultsFromFold(s, raw); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// denyEntries lists the deny entries of eu-west-1's network ACLs.
func (d *ipDrill) denyEntries(t *testing.T) []string {
	t.Helper()
	out := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), "eu-west-1")).DescribeNetworkAcls(context.Background(), &ec2.DescribeNetworkAclsInput{}))(t)
	var got []string
	for _, a := range out.NetworkAcls {
		for _, e := range a.Entries {
			if e.RuleAction == ec2types.RuleActionDeny && aws.ToInt32(e.RuleNumber) < 32767 {
				got = append(got, direction(aws.ToBool(e.Egress))+" "+aws.ToString(e.CidrBlock))
			}
		}
	}
	slices.Sort(got)
	return got
}

func TestBlockIPAgainstTheDrill(t *testing.T) {
	ctx := context.Background()
	d := newIPDrill(t)
	def := d.defaults(t)
	if !slices.Equal(def.IPs, []string{attackerIP + "/32"}) {
		t.Fatalf("default IPs %v, want the attacker's only (responder: %v, owners: %v)", def.IPs, def.Responder, def.Owners)
	}
	if !slices.Equal(def.Owners, []string{ownerIP}) {
		t.Errorf("left out as the owner's %v, want %s: it called with the key before the attacker", def.Owners, ownerIP)
	}
	if !slices.Contains(def.Responder, "127.0.0.1") {
		t.Errorf("responder IPs %v", def.Responder)
	}
	if len(def.Networks) != 2 || !slices.Contains(def.Networks, NetRef{Region: "eu-west-1", Resource: d.group}) {
		t.Errorf("networks %v: want the opened group and the launched instance", def.Networks)
	}
	a := must(New("block-ip", Target{Kind: KindSourceIPs, IDs: def.IPs}, Options{Networks: def.Networks, Responder: def.Responder}))(t)
	p := must(d.runner.Plan(ctx, a))(t)
	var puts, entries int
	for _, c := range p.Calls {
		switch c.API {
		case "iam:PutUserPolicy", "iam:PutRolePolicy":
			puts++
			if c.Params["PolicyName"] != DenyIPsPolicyName || !strings.Contains(c.Params["PolicyDocument"], `"IpAddress":{"aws:SourceIp":["127.0.0.66/32"]}`) {
				t.Errorf("policy call %v", c.Params)
			}
		case "ec2:CreateNetworkAclEntry":
			entries++
			if c.Params["RuleNumber"] != "1" || c.Params["RuleAction"] != "deny" || c.Params["CidrBlock"] != "127.0.0.66/32" || c.Region != "eu-west-1" {
				t.Errorf("entry call %v", c)
			}
		default:
			t.Errorf("unexpected call %s", c.API)
		}
	}
	if !slices.ContainsFunc(p.Findings, func(f string) bool {
		return strings.Contains(f, "skipped: service-linked role AWSServiceRoleForSupport cannot take an inline policy")
	}) {
		t.Errorf("the plan does not say the service-linked role is skipped: %q", p.Findings)
	}
	for _, c := range p.Calls {
		if c.Params["RoleName"] == "AWSServiceRoleForSupport" {
			t.Error("the plan puts a policy on a service-linked role")
		}
	}
	// Users: the responder, legacy-reporting; roles: deploy and the
	// sim's own. One VPC (the group and the instance share it): in and out.
	if puts < 3 || entries != 2 {
		t.Errorf("%d policy calls, %d entries: %v", puts, entries, apis(p.Calls))
	}
	o := must(d.runner.Run(ctx, a, RunOptions{Confirmed: p}))(t)
	if !o.Result.OK || o.Verify == nil || !o.Verify.Holds {
		t.Fatalf("block: %+v %+v", o.Result, o.Verify)
	}
	for _, c := range o.Result.Calls {
		if c.RequestID == "" {
			t.Errorf("%s: no request id", c.API)
		}
	}
	if d.attackerWorks(t) {
		t.Error("the attacker's call from its IP works after the block")
	}
	if !d.ownerWorks() {
		t.Error("the same key from another address is denied: the block is not by address")
	}
	if _, err := d.sess.IAM().ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
		t.Errorf("the responder's own calls fail after the block: %v", err)
	}
	if got := d.denyEntries(t); !slices.Equal(got, []string{"egress 127.0.0.66/32", "ingress 127.0.0.66/32"}) {
		t.Errorf("network ACL deny entries %v", got)
	}
	// Again: already in effect.
	again := must(d.runner.Plan(ctx, must(New("block-ip", Target{Kind: KindSourceIPs, IDs: def.IPs}, Options{Networks: def.Networks, Responder: def.Responder}))(t)))(t)
	if !again.Already || len(again.Calls) != 0 {
		t.Errorf("second plan: already=%v %v", again.Already, apis(again.Calls))
	}
	// The intent rebuilds the action (Resume).
	l := must(ReadLedger(d.path))(t)
	var intent state.ActionIntent
	for _, ac := range l.Actions {
		if ac.Intent.Action == "block-ip" {
			intent = ac.Intent
		}
	}
	re := must(FromIntent(intent))(t)
	if v := must(re.Verify(ctx, d.env))(t); !v.Holds {
		t.Errorf("rebuilt from the intent: %s", v.Detail)
	}
	// Undo.
	u, why := Undo(a)
	if u == nil {
		t.Fatal(why)
	}
	uo := must(d.runner.Run(ctx, u, RunOptions{}))(t)
	if !uo.Result.OK || uo.Verify == nil || !uo.Verify.Holds {
		t.Fatalf("unblock: %+v %+v", uo.Result, uo.Verify)
	}
	if !d.attackerWorks(t) {
		t.Error("the attacker's call from its IP still fails after undo")
	}
	if got := d.denyEntries(t); len(got) != 0 {
		t.Errorf("deny entries left after undo: %v", got)
	}
	out := must(d.sess.IAM().ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("legacy-reporting")}))(t)
	if slices.Contains(out.PolicyNames, DenyIPsPolicyName) {
		t.Error("the deny policy is still on legacy-reporting after undo")
	}
}

// TestBlockIPRefusesTheResponder: an address or a block covering the
// responder's own is refused, naming it; nothing is called.
func TestBlockIPRefusesTheResponder(t *testing.T) {
	ctx := context.Background()
	d := newIPDrill(t)
	before := len(d.sim.Records())
	for _, ip := range []string{"127.0.0.1", "127.0.0.0/8", "0.0.0.0/0"} {
		a := must(New("block-ip", Target{Kind: KindSourceIPs, IDs: []string{ip}}, Options{}))(t)
		_, err := d.runner.Run(ctx, a, RunOptions{OverrideSelf: true})
		if !errors.Is(err, ErrSelfIP) || !strings.Contains(err.Error(), "127.0.0.1") || !strings.Contains(err.Error(), "warroom's own calls") {
			t.Errorf("block %s: %v", ip, err)
		}
	}
	for _, r := range d.sim.Records()[before:] {
		if strings.HasPrefix(r.EventName, "Put") || strings.HasPrefix(r.EventName, "Create") {
			t.Errorf("a refused block made %s", r.EventName)
		}
	}
	// The responder's address known only from the journal (CloudTrail's
	// event history not read: a key with no history) is refused too.
	a := &BlockIPs{IPs: []string{"10.1.2.3/32"}, Responder: []string{"10.1.2.3"}}
	if _, err := a.Plan(ctx, d.env); !errors.Is(err, ErrSelfIP) {
		t.Errorf("journal's responder address: %v", err)
	}
}

// TestBlockIPErrorPaths: access denied on a policy put and a throttled
// network ACL call end the action with the error in its result; a denied
// read fails the plan naming the call.
func TestBlockIPErrorPaths(t *testing.T) {
	ctx := context.Background()
	d := newIPDrill(t)
	def := d.defaults(t)
	mk := func() Action {
		return must(New("block-ip", Target{Kind: KindSourceIPs, IDs: def.IPs}, Options{Networks: def.Networks, Responder: def.Responder}))(t)
	}
	// The responder may not list roles: the plan fails naming the call.
	resp := d.env.Self.ARN[strings.LastIndex(d.env.Self.ARN, "/")+1:]
	must(d.sess.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(resp), PolicyName: aws.String("no-roles"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:ListRoles","Resource":"*"}]}`)}))(t)
	if _, err := d.runner.Plan(ctx, mk()); err == nil || session.Classify(err) != session.ClassDenied || !strings.Contains(err.Error(), "iam:ListRoles") {
		t.Errorf("denied ListRoles: %v", err)
	}
	// Denied the put on one principal: the result says which call, the
	// verification does not hold.
	must(d.sess.IAM().PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(resp), PolicyName: aws.String("no-roles"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:PutRolePolicy","Resource":"*"}]}`)}))(t)
	o, err := d.runner.Run(ctx, mk(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Result.OK || !strings.Contains(o.Result.Error, "iam:PutRolePolicy") || !strings.Contains(o.Result.Error, "AccessDenied") {
		t.Errorf("denied put: %+v", o.Result)
	}
	if o.Verify == nil || o.Verify.Holds {
		t.Errorf("a denied block verified as holding: %+v", o.Verify)
	}
	// Throttled on the network ACL entries (the policies are in): the
	// result names the call.
	must(d.sess.IAM().DeleteUserPolicy(ctx, &iam.DeleteUserPolicyInput{UserName: aws.String(resp), PolicyName: aws.String("no-roles")}))(t)
	d.sim.ThrottleOp("CreateNetworkAclEntry", 1000)
	o, err = d.runner.Run(ctx, mk(), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if o.Result.OK || !strings.Contains(o.Result.Error, "ec2:CreateNetworkAclEntry") ||
		!strings.Contains(strings.ToLower(o.Result.Error), "throttl") && !strings.Contains(o.Result.Error, "RequestLimitExceeded") {
		t.Errorf("throttled: %+v", o.Result)
	}
	if o.Verify == nil || o.Verify.Holds {
		t.Errorf("a throttled block verified as holding: %+v", o.Verify)
	}
	d.sim.ThrottleOp("CreateNetworkAclEntry", 0)
}

// FuzzBlockIPParsers: ParseBlockIP's answer is a canonical CIDR block that
// parses to itself; deniedIPs never fails on a document (IAM hands back
// whatever was put, an attacker's edit included) and answers canonical
// blocks only; a document DenyIPsDocument writes reads back as its blocks.
func FuzzBlockIPParsers(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "203.0.113.7/24", "::ffff:1.2.3.4", "2001:db8::1/64", "fe80::1%eth0", "0.0.0.0/0", "1.2.3", ""} {
		f.Add(s, DenyIPsDocument([]string{"127.0.0.66/32"}))
	}
	f.Add("10.0.0.1", `{"Statement":{"Effect":"Deny","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`)
	f.Add("10.0.0.1", `{"Statement":[{"Effect":"Deny","Condition":{"IpAddress":{"aws:SourceIp":[1,2]}}}]}`)
	f.Fuzz(func(t *testing.T, ip, doc string) {
		if c, err := ParseBlockIP(ip); err == nil {
			again, err := ParseBlockIP(c)
			if err != nil || again != c {
				t.Fatalf("ParseBlockIP(%q) = %q, which parses to %q, %v", ip, c, again, err)
			}
			if got := deniedIPs(DenyIPsDocument([]string{c})); len(got) != 1 || got[0] != c {
				t.Fatalf("the document for %q reads back as %q", c, got)
			}
		}
		for _, c := range deniedIPs(doc) {
			if again, err := ParseBlockIP(c); err != nil || again != c {
				t.Fatalf("deniedIPs(%q) gave %q, not a canonical block", doc, c)
			}
		}
	})
}
