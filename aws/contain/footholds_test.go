package contain

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
)

// planted is every foothold an attacker with a leaked admin key left in
// the drill account, and the legitimate things beside them that must
// survive containment.
type planted struct {
	leaked, ownKeyOnAlice, backdoorKey sim.Credentials
	session, federation, roleCreds     sim.Credentials
	aliceKey                           sim.Credentials // legitimate
	backdoor, createdRole              string
	opsTrust                           string // the ops role's trust before the attack
	instances                          map[string][]string
	spotRegion                         string
	spot                               []string
	keyPairRegion, functionRegion      string
	attackerFunction                   string
	sgRegion, sgID                     string
	trail                              string
	footholds                          int
}

const (
	outsideAccount = "arn:aws:iam::999988887777:root"
	prodFunction   = "billing-export"
)

// plantFootholds builds a company (alice with a key, bob with a console
// password, carol, dave, the groups devs and admins, the roles ops and
// lambda-exec, a function) and a leaked admin key of legacy-reporting,
// takes the responder's inventory (the journal's known-good snapshot), then
// plays the attacker through the SDK as an outside client, planting one of
// every foothold kind, in Regions chosen by seed.
func plantFootholds(t testing.TB, d *drill, seed uint64) *planted {
	t.Helper()
	ctx := context.Background()
	s := d.sim
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	regions := []string{"ap-northeast-3", "ca-west-1", "me-central-1", "eu-south-2", "ap-southeast-3", "sa-east-1", "eu-north-1"}
	rng.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
	p := &planted{backdoor: fmt.Sprintf("svc-monitor-%d", rng.IntN(1000)), createdRole: "ci-deploy-" + fmt.Sprint(rng.IntN(1000)),
		instances: map[string][]string{}, spotRegion: regions[3], keyPairRegion: regions[0], functionRegion: regions[4],
		attackerFunction: "log-forwarder", sgRegion: regions[5], trail: "management-events"}
	for _, u := range []string{"legacy-reporting", "alice", "bob", "carol", "dave"} {
		must(0, s.AddUser(u))(t)
	}
	must(0, s.AttachUserPolicy("legacy-reporting", "arn:aws:iam::aws:policy/AdministratorAccess"))(t)
	must(0, s.AttachUserPolicy("alice", "arn:aws:iam::aws:policy/ReadOnlyAccess"))(t)
	p.leaked = must(s.AddKey("legacy-reporting"))(t)
	p.aliceKey = must(s.AddKey("alice"))(t)
	must(0, s.AddRole("ops", time.Hour))(t)
	must(0, s.AddRole("lambda-exec", time.Hour))(t)
	must(0, s.AddGroup("devs", "dave"))(t)
	must(0, s.AddGroup("admins"))(t)
	// The responder's own setup: bob's console password, the company's function.
	rim := iam.NewFromConfig(d.cfg(s.Responder(), "us-east-1"))
	must(rim.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Bob-0riginal-pw!")}))(t)
	must(lambda.NewFromConfig(d.cfg(s.Responder(), p.functionRegion)).CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(prodFunction), Runtime: lambdatypes.RuntimePython312, Handler: aws.String("index.handler"),
		Role: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/lambda-exec", s.AccountID())), Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04prod")}}))(t)
	role := must(rim.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ops")}))(t)
	p.opsTrust = must(url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument)))(t)
	// The responder's first inventory: the known-good trust policies.
	inv := inventory.Collect(ctx, d.sess, inventory.Options{ReportWait: -1, Now: d.sim.Now})
	must(d.rec.Record(state.KindInventory, inv))(t)
	d.clock.Advance(time.Hour)

	// The attacker, an outside SDK client with the leaked key.
	cfg := d.cfg(p.leaked, "us-east-1")
	im, st := iam.NewFromConfig(cfg), sts.NewFromConfig(cfg)
	admin := aws.String("arn:aws:iam::aws:policy/AdministratorAccess")
	must(im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(p.backdoor)}))(t)
	must(im.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String(p.backdoor), PolicyArn: admin}))(t)
	must(im.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String(p.backdoor), Password: aws.String("Backd00r-Passw0rd!")}))(t)
	bk := must(im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(p.backdoor)}))(t)
	p.backdoorKey = sim.Credentials{AccessKeyID: aws.ToString(bk.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(bk.AccessKey.SecretAccessKey)}
	ak := must(im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))(t)
	p.ownKeyOnAlice = sim.Credentials{AccessKeyID: aws.ToString(ak.AccessKey.AccessKeyId), SecretAccessKey: aws.ToString(ak.AccessKey.SecretAccessKey)}
	must(im.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("Att4cker-knows-it!")}))(t)
	mfa := must(im.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("attacker-phone")}))(t)
	must(im.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String(p.backdoor), SerialNumber: mfa.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String("123456"), AuthenticationCode2: aws.String("654321")}))(t)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + outsideAccount + `"},"Action":"sts:AssumeRole"}]}`
	must(im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(p.createdRole), AssumeRolePolicyDocument: aws.String(trust)}))(t)
	must(im.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String(p.createdRole), PolicyArn: admin}))(t)
	var doc map[string]any
	must(0, json.Unmarshal([]byte(p.opsTrust), &doc))(t)
	doc["Statement"] = append(doc["Statement"].([]any), map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": outsideAccount}, "Action": "sts:AssumeRole"})
	bad := must(json.Marshal(doc))(t)
	must(im.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("ops"), PolicyDocument: aws.String(string(bad))}))(t)
	must(im.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: admin}))(t)
	must(im.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("carol")}))(t)
	must(im.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dave"), PolicyName: aws.String("ops-helper"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))(t)
	tok := must(st.GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)}))(t)
	p.session = sim.Credentials{AccessKeyID: aws.ToString(tok.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(tok.Credentials.SecretAccessKey), SessionToken: aws.ToString(tok.Credentials.SessionToken)}
	fed := must(st.GetFederationToken(ctx, &sts.GetFederationTokenInput{Name: aws.String("ops-admin"), DurationSeconds: aws.Int32(129600),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}))(t)
	p.federation = sim.Credentials{AccessKeyID: aws.ToString(fed.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(fed.Credentials.SecretAccessKey), SessionToken: aws.ToString(fed.Credentials.SessionToken)}
	ar := must(st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/ops", s.AccountID())), RoleSessionName: aws.String("botocore-session-1")}))(t)
	p.roleCreds = sim.Credentials{AccessKeyID: aws.ToString(ar.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(ar.Credentials.SecretAccessKey), SessionToken: aws.ToString(ar.Credentials.SessionToken)}

	// EC2 in several Regions, some through the role session (role chaining).
	for i, r := range regions[:3] {
		c := p.leaked
		if i == 1 {
			c = p.roleCreds
		}
		e := ec2.NewFromConfig(d.cfg(c, r))
		run := must(e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0a4e637babb7b0a86"), InstanceType: ec2types.InstanceTypeP316xlarge,
			MinCount: aws.Int32(2), MaxCount: aws.Int32(2), DisableApiTermination: aws.Bool(i == 0), DisableApiStop: aws.Bool(i == 0)}))(t)
		for _, in := range run.Instances {
			p.instances[r] = append(p.instances[r], aws.ToString(in.InstanceId))
		}
	}
	must(ec2.NewFromConfig(d.cfg(p.leaked, p.keyPairRegion)).ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("kali"), PublicKeyMaterial: []byte(attackerPub)}))(t)
	sp := must(ec2.NewFromConfig(d.cfg(p.backdoorKey, p.spotRegion)).RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{Type: ec2types.SpotInstanceTypePersistent,
		InstanceCount: aws.Int32(2), SpotPrice: aws.String("30.00"), LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{
			ImageId: aws.String("ami-0a4e637babb7b0a86"), InstanceType: ec2types.InstanceTypeP316xlarge}}))(t)
	for _, r := range sp.SpotInstanceRequests {
		p.spot = append(p.spot, aws.ToString(r.SpotInstanceRequestId))
	}
	lm := lambda.NewFromConfig(d.cfg(p.leaked, p.functionRegion))
	must(lm.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(p.attackerFunction), Runtime: lambdatypes.RuntimePython312,
		Role: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/lambda-exec", s.AccountID())), Handler: aws.String("index.handler"),
		Code: &lambdatypes.FunctionCode{ZipFile: []byte("PK\x03\x04import os")}}))(t)
	must(lm.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(prodFunction), StatementId: aws.String("backdoor-invoke"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("999988887777")}))(t)
	se := ec2.NewFromConfig(d.cfg(p.leaked, p.sgRegion))
	sgs := must(se.DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{}))(t)
	p.sgID = aws.ToString(sgs.SecurityGroups[0].GroupId)
	must(se.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(p.sgID), IpPermissions: []ec2types.IpPermission{{
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}))(t)
	ct := cloudtrail.NewFromConfig(cfg)
	trails := must(ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}))(t)
	p.trail = aws.ToString(trails.TrailList[0].Name)
	must(ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(p.trail), EventSelectors: []cttypes.EventSelector{{
		ReadWriteType: cttypes.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(false)}}}))(t)
	must(ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(p.trail)}))(t)
	// keys ×3, backdoor user, its login and MFA, created role, ops trust,
	// devs policy, carol's group, dave's inline policy, bob's password,
	// sessions of legacy-reporting and of ops, 3 Regions of instances,
	// spot, key pair, function, permission, ingress, logging, selectors.
	p.footholds = 25
	d.clock.Advance(time.Minute)
	return p
}

// TestPlaybookNeutralisesEveryFoothold plants one of every foothold kind
// through the SDK, runs the playbook to its verdict, and reads the account
// back as the responder: every foothold is neutralised, the legitimate key
// and the responder's own access still work. Before the stream: the
// journal holds none of the attacker's events and the playbook pulls them
// from CloudTrail itself.
func TestPlaybookNeutralisesEveryFoothold(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		for _, streamed := range []bool{true, false} {
			t.Run(fmt.Sprintf("seed%d/streamed=%v", seed, streamed), func(t *testing.T) {
				ctx := context.Background()
				d := newDrill(t)
				p := plantFootholds(t, d, seed)
				if streamed {
					d.ingest(t)
				}
				start := time.Now()
				v, pb, err := d.runner.Contain(ctx, journalFold(t, d.path), p.leaked.AccessKeyID, ContainOptions{Wait: 20 * time.Second, Poll: 100 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("verdict %s: %d of %d footholds held, in %v; %d steps", v.Word(), v.Held, v.Footholds, time.Since(start).Round(time.Millisecond), len(pb.Steps))
				if !v.Contained {
					t.Errorf("verdict %s: open %+v unsure %+v", v.Word(), v.Open, v.Unsure)
				}
				if v.Footholds != p.footholds {
					t.Errorf("the playbook found %d footholds, %d were planted (each once):\n%s", v.Footholds, p.footholds, strings.Join(stepNames(pb), "\n"))
				}
				checkNeutralised(t, d, p)
				// The verdict is journaled.
				if got, ok := d.store(t).Verdicts[p.leaked.AccessKeyID]; !ok || !got.V.Contained {
					t.Errorf("journaled verdict: %+v", got)
				}
			})
		}
	}
}

// checkNeutralised reads the drill account back through the SDK as the
// responder and fails for every foothold still open.
func checkNeutralised(t *testing.T, d *drill, p *planted) {
	t.Helper()
	ctx := context.Background()
	for what, c := range map[string]sim.Credentials{"leaked key": p.leaked, "key made on alice": p.ownKeyOnAlice, "backdoor key": p.backdoorKey,
		"session token": p.session, "federation token": p.federation, "role session": p.roleCreds} {
		if d.works(c) {
			t.Errorf("the attacker's %s still works", what)
		}
	}
	if !d.works(p.aliceKey) {
		t.Error("alice's own key no longer works: containment hit a legitimate key")
	}
	if !d.works(d.sim.Responder()) {
		t.Error("the responder's own access was cut")
	}
	im := iam.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	role := must(im.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ops")}))(t)
	if got := must(url.QueryUnescape(aws.ToString(role.Role.AssumeRolePolicyDocument)))(t); !sameJSON(got, p.opsTrust) {
		t.Errorf("ops trust policy not restored: %s", got)
	}
	if ap := must(im.ListAttachedGroupPolicies(ctx, &iam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")}))(t); len(ap.AttachedPolicies) > 0 {
		t.Errorf("devs still has %v attached", ap.AttachedPolicies)
	}
	if g := must(im.ListGroupsForUser(ctx, &iam.ListGroupsForUserInput{UserName: aws.String("carol")}))(t); len(g.Groups) > 0 {
		t.Errorf("carol is still in %d groups", len(g.Groups))
	}
	if ip := must(im.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("dave")}))(t); len(ip.PolicyNames) > 0 {
		t.Errorf("dave still has inline policies %v", ip.PolicyNames)
	}
	if _, err := im.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: aws.String("bob")}); err == nil {
		t.Error("bob's console password the attacker set still works")
	}
	if m := must(im.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String(p.backdoor)}))(t); len(m.MFADevices) > 0 {
		t.Errorf("the backdoor user still has MFA devices %v", m.MFADevices)
	}
	for region, ids := range p.instances {
		out := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), region)).DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}))(t)
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				if s := in.State.Name; s == ec2types.InstanceStateNameRunning || s == ec2types.InstanceStateNamePending {
					t.Errorf("instance %s in %s is %s", aws.ToString(in.InstanceId), region, s)
				}
			}
		}
	}
	for _, in := range d.sim.Instances() {
		if in.SpotRequestID != "" && slices.Contains(p.spot, in.SpotRequestID) && (in.State == "running" || in.State == "pending") {
			t.Errorf("spot instance %s of %s is %s", in.ID, in.SpotRequestID, in.State)
		}
	}
	se := ec2.NewFromConfig(d.cfg(d.sim.Responder(), p.spotRegion))
	sr := must(se.DescribeSpotInstanceRequests(ctx, &ec2.DescribeSpotInstanceRequestsInput{SpotInstanceRequestIds: p.spot}))(t)
	for _, r := range sr.SpotInstanceRequests {
		if r.State == ec2types.SpotInstanceStateOpen || r.State == ec2types.SpotInstanceStateActive {
			t.Errorf("spot request %s is %s", aws.ToString(r.SpotInstanceRequestId), r.State)
		}
	}
	if kp, err := ec2.NewFromConfig(d.cfg(d.sim.Responder(), p.keyPairRegion)).DescribeKeyPairs(ctx, &ec2.DescribeKeyPairsInput{}); err != nil || len(kp.KeyPairs) > 0 {
		t.Errorf("key pairs in %s: %v %v", p.keyPairRegion, kp, err)
	}
	lm := lambda.NewFromConfig(d.cfg(d.sim.Responder(), p.functionRegion))
	if _, err := lm.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(p.attackerFunction)}); err == nil {
		t.Errorf("the attacker's function %s still exists", p.attackerFunction)
	}
	if _, err := lm.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(prodFunction)}); err != nil {
		t.Errorf("the company's function is gone: %v", err)
	}
	if pol, err := lm.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String(prodFunction)}); err == nil && strings.Contains(aws.ToString(pol.Policy), "backdoor-invoke") {
		t.Errorf("the attacker's permission on %s is still there: %s", prodFunction, aws.ToString(pol.Policy))
	}
	sgs := must(ec2.NewFromConfig(d.cfg(d.sim.Responder(), p.sgRegion)).DescribeSecurityGroups(ctx, &ec2.DescribeSecurityGroupsInput{GroupIds: []string{p.sgID}}))(t)
	for _, g := range sgs.SecurityGroups {
		for _, perm := range g.IpPermissions {
			for _, r := range perm.IpRanges {
				if aws.ToInt32(perm.FromPort) == 22 && aws.ToString(r.CidrIp) == "0.0.0.0/0" {
					t.Errorf("ssh from anywhere is still open on %s", p.sgID)
				}
			}
		}
	}
	ct := cloudtrail.NewFromConfig(d.cfg(d.sim.Responder(), "us-east-1"))
	if st := must(ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(p.trail)}))(t); !aws.ToBool(st.IsLogging) {
		t.Error("the trail is still not logging")
	}
	if es := must(ct.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(p.trail)}))(t); len(es.EventSelectors) == 0 ||
		!aws.ToBool(es.EventSelectors[0].IncludeManagementEvents) || es.EventSelectors[0].ReadWriteType != cttypes.ReadWriteTypeAll {
		t.Errorf("event selectors not restored: %+v", es.EventSelectors)
	}
}

// journalFold replays the journal at path each time.
func journalFold(t testing.TB, path string) Fold {
	fold, closeRaw := JournalFold(path)
	t.Cleanup(func() { _ = closeRaw() })
	return fold
}

// BenchmarkContainFamily times the playbook from the responder's word to
// a verdict read back as contained, for a family holding 25 footholds
// across 6 Regions, on the drill at its default latency (none) and at 20
// ms a call. Planting is off the clock.
func BenchmarkContainFamily(b *testing.B) {
	for _, lat := range []time.Duration{0, 20 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%v", lat), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d := newDrill(b)
				p := plantFootholds(b, d, uint64(i+1))
				d.sim.SetLatency(lat)
				b.StartTimer()
				v, _, err := d.runner.Contain(context.Background(), journalFold(b, d.path), p.leaked.AccessKeyID, ContainOptions{Wait: 30 * time.Second, Poll: 100 * time.Millisecond})
				b.StopTimer()
				if err != nil || !v.Contained {
					b.Fatalf("verdict %s (%v): open %+v unsure %+v", v.Word(), err, v.Open, v.Unsure)
				}
				b.ReportMetric(float64(v.Footholds), "footholds")
			}
		})
	}
}

// TestRerunRedoesWhatWasUndone: after the playbook held, someone with
// admin rights (here a second admin key, as an attacker who kept one
// would) re-activates the leaked key and re-opens the SSH rule. A second
// run must not believe the journal: it reads every step back, redoes the
// two that no longer hold, journals the earlier actions as reverted, and
// the account reads back contained.
func TestRerunRedoesWhatWasUndone(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	// A second admin, there before the incident (a teammate; or a key
	// the attacker also holds).
	must(0, d.sim.AddUser("other-admin"))(t)
	must(0, d.sim.AttachUserPolicy("other-admin", "arn:aws:iam::aws:policy/AdministratorAccess"))(t)
	admin := must(d.sim.AddKey("other-admin"))(t)
	p := plantFootholds(t, d, 4)
	d.ingest(t)
	fold := journalFold(t, d.path)
	v, _, err := d.runner.Contain(ctx, fold, p.leaked.AccessKeyID, ContainOptions{Wait: 20 * time.Second, Poll: 100 * time.Millisecond})
	if err != nil || !v.Contained {
		t.Fatalf("first run: %v %+v", err, v)
	}
	// Undo two steps by hand, as an outside client with admin rights.
	im := iam.NewFromConfig(d.cfg(admin, "us-east-1"))
	must(im.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("legacy-reporting"), AccessKeyId: aws.String(p.leaked.AccessKeyID), Status: "Active"}))(t)
	must(ec2.NewFromConfig(d.cfg(admin, p.sgRegion)).AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(p.sgID),
		IpPermissions: []ec2types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []ec2types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}}}))(t)
	if !d.works(p.leaked) {
		t.Fatal("the leaked key was re-activated but does not work")
	}
	// Assess alone (what the debrief and the status line use) sees it.
	chk, _, err := d.runner.Check(ctx, fold, p.leaked.AccessKeyID, ContainOptions{})
	if err != nil || chk.Contained || len(chk.Open) < 2 {
		t.Fatalf("check after the undo: %v verdict %s, open %+v", err, chk.Word(), chk.Open)
	}
	var reverted []string
	v, _, err = d.runner.Contain(ctx, fold, p.leaked.AccessKeyID, ContainOptions{Wait: 20 * time.Second, Poll: 100 * time.Millisecond,
		Progress: func(_ int, so StepOutcome) {
			if so.Reverted != "" {
				reverted = append(reverted, so.Step.Action.Name())
			}
		}})
	if err != nil || !v.Contained {
		t.Fatalf("second run: %v verdict %s open %+v unsure %+v", err, v.Word(), v.Open, v.Unsure)
	}
	slices.Sort(reverted)
	if !slices.Equal(reverted, []string{"deactivate-key", "revoke-ingress"}) {
		t.Errorf("reverted steps %v, want deactivate-key and revoke-ingress", reverted)
	}
	if d.works(p.leaked) {
		t.Error("the leaked key works after the second run")
	}
	checkNeutralised(t, d, p)
	n := 0
	for _, a := range d.store(t).Actions {
		for _, vf := range a.Verifies {
			if !vf.Holds && strings.HasPrefix(vf.Detail, "reverted: ") {
				n++
			}
		}
	}
	if n != 2 {
		t.Errorf("%d actions journaled as reverted, want 2", n)
	}
}

// TestBusyHomeRegionFallsBackToPerKey: when the home Region's writes in
// the window do not fit a few pages (another admin busy tagging, as a
// live account's deploys are), the pull reads one look-up per key of the
// family there instead, and every foothold is still found and
// neutralised.
func TestBusyHomeRegionFallsBackToPerKey(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	must(0, d.sim.AddUser("deployer"))(t)
	must(0, d.sim.AttachUserPolicy("deployer", "arn:aws:iam::aws:policy/AdministratorAccess"))(t)
	deployer := must(d.sim.AddKey("deployer"))(t)
	p := plantFootholds(t, d, 5)
	im := iam.NewFromConfig(d.cfg(deployer, "us-east-1"))
	for i := range 200 {
		must(im.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("deployer"),
			Tags: []iamtypes.Tag{{Key: aws.String("build"), Value: aws.String(fmt.Sprint(i))}}}))(t)
	}
	v, pb, err := d.runner.Contain(ctx, journalFold(t, d.path), p.leaked.AccessKeyID, ContainOptions{Wait: 30 * time.Second, Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if lv := d.env.busyLevel("us-east-1"); lv != 2 {
		t.Errorf("us-east-1 read at level %d, want 2 (one look-up per key)", lv)
	}
	if !v.Contained || v.Footholds < p.footholds {
		t.Errorf("verdict %s, %d footholds of %d planted: open %+v unsure %+v\n%s", v.Word(), v.Footholds, p.footholds, v.Open, v.Unsure, strings.Join(stepNames(pb), "\n"))
	}
	checkNeutralised(t, d, p)
}

// TestCheckCutShortJournalsNoVerdict: a read-back cut short by the
// caller's deadline (the drill's :debrief gives it 20 s) is no verdict: it
// says so and journals nothing, so the status line keeps the last verdict
// read back in full instead of "unsure" made of timeouts.
func TestCheckCutShortJournalsNoVerdict(t *testing.T) {
	ctx := context.Background()
	d := newDrill(t)
	p := plantFootholds(t, d, 2)
	d.ingest(t)
	fold := journalFold(t, d.path)
	v, _, err := d.runner.Contain(ctx, fold, p.leaked.AccessKeyID, ContainOptions{Wait: 20 * time.Second, Poll: 100 * time.Millisecond})
	if err != nil || !v.Contained {
		t.Fatalf("contain: %v %+v", err, v)
	}
	verdicts := func() int64 { return d.store(t).Verdicts[p.leaked.AccessKeyID].Seq }
	before := verdicts()
	d.sim.SetLatency(300 * time.Millisecond)
	defer d.sim.SetLatency(0)
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, _, err = d.runner.Check(short, fold, p.leaked.AccessKeyID, ContainOptions{})
	if err == nil {
		t.Fatal("a check cut short by its deadline returned no error")
	}
	if n := verdicts(); n != before {
		t.Errorf("a check cut short journaled a verdict (line %d over line %d): %v", n, before, err)
	}
}
