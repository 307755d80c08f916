package sim

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// orgEnv is an organisation served over real HTTP on loopback.
type orgEnv struct {
	*testEnv
	org *Org
}

func newOrgEnv(t testing.TB, opts OrgOptions) *orgEnv {
	t.Helper()
	clock := NewManualClock(time.Now())
	if opts.Clock == nil {
		opts.Clock = clock
	}
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	o := NewOrg(opts)
	srv := httptest.NewServer(o)
	t.Cleanup(srv.Close)
	return &orgEnv{testEnv: &testEnv{sim: o.Management(), clock: clock, endpoint: srv.URL}, org: o}
}

func (e *orgEnv) orgs(c Credentials) *organizations.Client {
	return organizations.NewFromConfig(e.cfg(c, "us-east-1"))
}

// assume assumes roleARN with c and returns the session's credentials.
func (e *orgEnv) assume(t *testing.T, c Credentials, roleARN string, mod func(*sts.AssumeRoleInput)) (Credentials, error) {
	t.Helper()
	in := &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("drill")}
	if mod != nil {
		mod(in)
	}
	out, err := e.sts(c, "us-east-1").AssumeRole(context.Background(), in)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: *out.Credentials.AccessKeyId, SecretAccessKey: *out.Credentials.SecretAccessKey,
		SessionToken: *out.Credentials.SessionToken}, nil
}

func roleARN(s *Sim, name string) string { return "arn:aws:iam::" + s.AccountID() + ":role/" + name }

func TestOrgListing(t *testing.T) {
	env := newOrgEnv(t, OrgOptions{Members: 6})
	ctx := context.Background()
	o := env.orgs(env.org.Responder())

	d, err := o.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Organization.Id != env.org.ID() || *d.Organization.MasterAccountId != env.org.Management().AccountID() ||
		!strings.HasPrefix(env.org.ID(), "o-") || len(env.org.ID()) != 12 {
		t.Fatalf("organization = %+v, org id %s", d.Organization, env.org.ID())
	}

	// Pages of two: 7 accounts in 4 pages, each once, management first.
	var ids []string
	pages := 0
	p := organizations.NewListAccountsPaginator(o, &organizations.ListAccountsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.Accounts {
			ids = append(ids, *a.Id)
			if a.Status != orgtypes.AccountStatusActive || a.JoinedTimestamp == nil || !strings.Contains(*a.Arn, env.org.ID()) {
				t.Errorf("account %+v", a)
			}
		}
	}
	if pages != 4 || len(ids) != 7 || ids[0] != env.org.Management().AccountID() {
		t.Fatalf("%d pages, ids %v", pages, ids)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] || env.org.Account(id) == nil {
			t.Fatalf("account %s twice or unknown: %v", id, ids)
		}
		seen[id] = true
	}
	if _, err := o.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(21)}); errCode(t, err) != "InvalidInputException" {
		t.Fatalf("MaxResults 21: %v", err)
	}
	if _, err := o.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: aws.String("bogus")}); errCode(t, err) != "InvalidInputException" {
		t.Fatalf("bad token: %v", err)
	}

	roots, err := o.ListRoots(ctx, &organizations.ListRootsInput{})
	if err != nil || len(roots.Roots) != 1 {
		t.Fatal(roots, err)
	}
	root := *roots.Roots[0].Id
	ous, err := o.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: &root})
	if err != nil || len(ous.OrganizationalUnits) != 2 {
		t.Fatal(ous, err)
	}
	// Every member under one OU; the management account at the root.
	inOUs := 0
	for _, ou := range ous.OrganizationalUnits {
		acc, err := o.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: ou.Id})
		if err != nil {
			t.Fatal(err)
		}
		inOUs += len(acc.Accounts)
		for _, a := range acc.Accounts {
			par, err := o.ListParents(ctx, &organizations.ListParentsInput{ChildId: a.Id})
			if err != nil || len(par.Parents) != 1 || *par.Parents[0].Id != *ou.Id || par.Parents[0].Type != orgtypes.ParentTypeOrganizationalUnit {
				t.Fatalf("parents of %s: %+v %v", *a.Id, par, err)
			}
		}
	}
	atRoot, err := o.ListChildren(ctx, &organizations.ListChildrenInput{ParentId: &root, ChildType: orgtypes.ChildTypeAccount})
	if err != nil || len(atRoot.Children) != 1 || *atRoot.Children[0].Id != env.org.Management().AccountID() || inOUs != 6 {
		t.Fatalf("root's accounts %+v (%v), %d in OUs", atRoot, err, inOUs)
	}
	if _, err := o.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("ou-zzzz-zzzzzzzz")}); errCode(t, err) != "ParentNotFoundException" {
		t.Fatalf("unknown parent: %v", err)
	}
	da, err := o.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(ids[3])})
	if err != nil || *da.Account.Id != ids[3] {
		t.Fatal(da, err)
	}
	if _, err := o.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("999999999999")}); errCode(t, err) != "AccountNotFoundException" {
		t.Fatalf("unknown account: %v", err)
	}
	pols, err := o.ListPoliciesForTarget(ctx, &organizations.ListPoliciesForTargetInput{TargetId: &root, Filter: orgtypes.PolicyTypeServiceControlPolicy})
	if err != nil || len(pols.Policies) != 1 || *pols.Policies[0].Id != "p-FullAWSAccess" || !pols.Policies[0].AwsManaged {
		t.Fatalf("root's SCPs %+v %v", pols, err)
	}

	// A member sees its organisation and nothing more.
	mc, err := env.org.Members()[0].AddKey("incident-responder")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.orgs(mc).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("member DescribeOrganization: %v", err)
	}
	if _, err := env.orgs(mc).ListAccounts(ctx, &organizations.ListAccountsInput{}); errCode(t, err) != "AccessDeniedException" {
		t.Fatalf("member ListAccounts: %v", err)
	}

	// Recorded in the management account, as Organizations' events are.
	var found bool
	for _, r := range env.org.Management().Records() {
		if r.EventName == "ListAccounts" {
			var rec map[string]any
			_ = json.Unmarshal(r.JSON, &rec)
			if rec["eventSource"] != "organizations.amazonaws.com" || rec["awsRegion"] != "us-east-1" ||
				rec["recipientAccountId"] != env.org.Management().AccountID() {
				t.Fatalf("record %s", r.JSON)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("no ListAccounts record in the management account")
	}
}

// TestOrgRouting: each account answers for its own keys; a key no account
// holds is answered InvalidClientTokenId.
func TestOrgRouting(t *testing.T) {
	env := newOrgEnv(t, OrgOptions{})
	ctx := context.Background()
	for _, s := range env.org.Accounts() {
		c, err := s.AddKey("incident-responder")
		if err != nil {
			t.Fatal(err)
		}
		id, err := env.sts(c, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || *id.Account != s.AccountID() {
			t.Fatalf("%s: %+v %v", s.AccountID(), id, err)
		}
		if env.org.AccountOfKey(c.AccessKeyID) != s.AccountID() {
			t.Fatalf("AccountOfKey(%s) = %s", c.AccessKeyID, env.org.AccountOfKey(c.AccessKeyID))
		}
	}
	_, err := env.sts(Credentials{AccessKeyID: "AKIAUNKNOWNUNKNOWN00", SecretAccessKey: "x"}, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if errCode(t, err) != "InvalidClientTokenId" {
		t.Fatalf("unknown key: %v", err)
	}
	if len(env.org.Members()) != DefaultOrgMembers {
		t.Fatalf("%d members", len(env.org.Members()))
	}
}

func TestOrgAssumeRole(t *testing.T) {
	env := newOrgEnv(t, OrgOptions{Options: Options{ImplicitDeny: true}, NoAccessRole: []int{1}, UntrustedAccessRole: []int{2}})
	ctx := context.Background()
	mgmt, members := env.org.Management(), env.org.Members()
	admin := env.org.Responder()

	// Allowed: the management account's administrator into member 0.
	sess, err := env.assume(t, admin, roleARN(members[0], OrgAccessRole), nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := env.sts(sess, "us-east-1").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || *id.Account != members[0].AccountID() || !strings.Contains(*id.Arn, ":assumed-role/"+OrgAccessRole+"/drill") {
		t.Fatalf("caller %+v %v", id, err)
	}
	if _, err := env.iam(sess).CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("made-by-mgmt")}); err != nil {
		t.Fatal(err)
	}
	if !members[0].HasUser("made-by-mgmt") || mgmt.HasUser("made-by-mgmt") {
		t.Fatal("the session's user was not made in member 0 alone")
	}

	// Missing role, and a trust that does not allow the management account.
	for _, m := range []*Sim{members[1], members[2]} {
		_, err := env.assume(t, admin, roleARN(m, OrgAccessRole), nil)
		want := "User: " + mgmt.acct.userARN("/", "incident-responder") + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN(m, OrgAccessRole)
		if errCode(t, err) != "AccessDenied" || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v", m.AccountID(), err)
		}
	}

	// A role of member 3 trusting member 0's account with an external id.
	if err := members[3].AddRoleWithTrust("vendor-audit", fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",`+
		`"Principal":{"AWS":"arn:aws:iam::%s:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x-42"}}}]}`,
		members[0].AccountID()), "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		t.Fatal(err)
	}
	dev, err := members[0].AddKey("incident-responder")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.assume(t, dev, roleARN(members[3], "vendor-audit"), nil); errCode(t, err) != "AccessDenied" {
		t.Fatalf("no external id: %v", err)
	}
	if _, err := env.assume(t, dev, roleARN(members[3], "vendor-audit"), func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String("wrong") }); errCode(t, err) != "AccessDenied" {
		t.Fatalf("wrong external id: %v", err)
	}
	vs, err := env.assume(t, dev, roleARN(members[3], "vendor-audit"), func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String("x-42") })
	if err != nil {
		t.Fatal(err)
	}
	// The session works in member 3 only: an ASIA key of member 3 whose
	// parent is member 0's key.
	if got := env.org.AccountOfKey(vs.AccessKeyID); got != members[3].AccountID() || !strings.HasPrefix(vs.AccessKeyID, "ASIA") {
		t.Fatalf("session key %s in %s", vs.AccessKeyID, got)
	}
	// Under ImplicitDeny, a user with no policy allowing sts:AssumeRole
	// cannot assume even a role that trusts its account.
	if err := members[0].AddUser("no-rights"); err != nil {
		t.Fatal(err)
	}
	nr, _ := members[0].AddKey("no-rights")
	if _, err := env.assume(t, nr, roleARN(members[3], "vendor-audit"), func(in *sts.AssumeRoleInput) { in.ExternalId = aws.String("x-42") }); errCode(t, err) != "AccessDenied" {
		t.Fatalf("no identity policy: %v", err)
	}

	// CloudTrail: the AssumeRole in both accounts with one sharedEventID;
	// in the role's account the caller is an AWSAccount.
	ev0 := lookupOne(t, env, dev, members[0], "AssumeRole", vs.AccessKeyID)
	admin3 := env.adminOf(t, members[3])
	ev3 := lookupOne(t, env, admin3, members[3], "AssumeRole", vs.AccessKeyID)
	ui0, ui3 := ev0["userIdentity"].(map[string]any), ev3["userIdentity"].(map[string]any)
	if ev0["sharedEventID"] == nil || ev0["sharedEventID"] != ev3["sharedEventID"] || ev0["eventID"] == ev3["eventID"] ||
		ev0["requestID"] != ev3["requestID"] ||
		ev0["recipientAccountId"] != members[0].AccountID() || ev3["recipientAccountId"] != members[3].AccountID() ||
		ui0["type"] != "IAMUser" || ui3["type"] != "AWSAccount" || ui3["accountId"] != members[0].AccountID() ||
		ui3["principalId"] != ui0["principalId"] || ui3["arn"] != nil || ui3["accessKeyId"] != nil {
		t.Fatalf("records:\n%v\n%v", ev0, ev3)
	}
}

// adminOf returns a fresh administrator key of account s.
func (e *orgEnv) adminOf(t *testing.T, s *Sim) Credentials {
	t.Helper()
	c, err := s.AddKey("incident-responder")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lookupOne finds, through LookupEvents in us-east-1 of account s, the
// one event named name whose responseElements hold key (a minted key id).
func lookupOne(t *testing.T, e *orgEnv, c Credentials, s *Sim, name, key string) map[string]any {
	t.Helper()
	out, err := e.ct(c, "us-east-1").LookupEvents(context.Background(), &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(name)}}})
	if err != nil {
		t.Fatal(err)
	}
	var hit map[string]any
	for _, ev := range out.Events {
		if !strings.Contains(*ev.CloudTrailEvent, key) {
			continue
		}
		if hit != nil {
			t.Fatalf("two %s events in %s", name, s.AccountID())
		}
		_ = json.Unmarshal([]byte(*ev.CloudTrailEvent), &hit)
	}
	if hit == nil {
		t.Fatalf("no %s event for %s in %s", name, key, s.AccountID())
	}
	return hit
}

func TestOrgSCP(t *testing.T) {
	env := newOrgEnv(t, OrgOptions{})
	ctx := context.Background()
	admin := env.org.Responder()
	o := env.orgs(admin)
	member := env.org.Members()[0]
	sess, err := env.assume(t, admin, roleARN(member, OrgAccessRole), nil)
	if err != nil {
		t.Fatal(err)
	}
	listUsers := func(c Credentials) error {
		_, err := env.iam(c).ListUsers(ctx, &iam.ListUsersInput{})
		return err
	}
	if err := listUsers(sess); err != nil {
		t.Fatal(err)
	}
	ir, err := env.assume(t, sess, roleARN(member, "IncidentResponse"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A deny SCP sparing the incident-response role.
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*",` +
		`"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/IncidentResponse"}}}]}`
	cp, err := o.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("quarantine"), Description: aws.String("drill"),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(deny)})
	if err != nil {
		t.Fatal(err)
	}
	pid := cp.Policy.PolicySummary.Id
	if _, err := o.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("quarantine"), Description: aws.String("again"),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(deny)}); errCode(t, err) != "DuplicatePolicyException" {
		t.Fatalf("duplicate name: %v", err)
	}
	target := aws.String(member.AccountID())
	if _, err := o.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: pid, TargetId: target}); errCode(t, err) != "PolicyNotAttachedException" {
		t.Fatalf("detach before attach: %v", err)
	}
	if _, err := o.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: pid, TargetId: aws.String("999999999999")}); errCode(t, err) != "TargetNotFoundException" {
		t.Fatalf("unknown target: %v", err)
	}
	if _, err := o.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: pid, TargetId: target}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: pid, TargetId: target}); errCode(t, err) != "DuplicatePolicyAttachmentException" {
		t.Fatalf("attach twice: %v", err)
	}
	err = listUsers(sess)
	if errCode(t, err) != "AccessDenied" || !strings.Contains(err.Error(), "is not authorized to perform: iam:ListUsers on resource: * with an explicit deny in a service control policy") {
		t.Fatalf("under the SCP: %v", err)
	}
	// Spared: the incident-response role of the member; and the
	// management account is never under SCPs.
	if err := listUsers(ir); err != nil {
		t.Fatalf("the incident-response role under the SCP: %v", err)
	}
	if err := listUsers(admin); err != nil {
		t.Fatalf("management account: %v", err)
	}
	tg, err := o.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: pid})
	if err != nil || len(tg.Targets) != 1 || *tg.Targets[0].TargetId != member.AccountID() || tg.Targets[0].Type != orgtypes.TargetTypeAccount {
		t.Fatalf("targets %+v %v", tg, err)
	}
	if _, err := o.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: pid}); errCode(t, err) != "PolicyInUseException" {
		t.Fatalf("delete attached: %v", err)
	}
	if _, err := o.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: pid, TargetId: target}); err != nil {
		t.Fatal(err)
	}
	if err := listUsers(sess); err != nil {
		t.Fatalf("after detach: %v", err)
	}

	// No Allow at a level denies: an allow-list of EC2 only, FullAWSAccess
	// detached from the account.
	al, err := o.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("ec2-only"), Description: aws.String("drill"),
		Type: orgtypes.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: target}); errCode(t, err) != "ConstraintViolationException" {
		t.Fatalf("detach the last SCP: %v", err)
	}
	if _, err := o.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: al.Policy.PolicySummary.Id, TargetId: target}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: target}); err != nil {
		t.Fatal(err)
	}
	err = listUsers(sess)
	if errCode(t, err) != "AccessDenied" || !strings.Contains(err.Error(), "because no service control policy allows the iam:ListUsers action") {
		t.Fatalf("no SCP allows: %v", err)
	}
	if _, err := env.ec2(sess, "us-east-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("allowed by the allow-list: %v", err)
	}
}

func TestOrgTrail(t *testing.T) {
	env := newOrgEnv(t, OrgOptions{Members: 3})
	ctx := context.Background()
	admin := env.org.Responder()
	keys := map[string]Credentials{}
	for _, s := range env.org.Accounts() {
		keys[s.AccountID()] = env.adminOf(t, s)
		if _, err := env.iam(keys[s.AccountID()]).ListUsers(ctx, &iam.ListUsersInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := env.ec2(keys[s.AccountID()], "eu-west-1").DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
			t.Fatal(err)
		}
	}
	env.clock.Advance(15 * time.Minute)

	// Every account's records under AWSLogs/o-…/ACCOUNT/, named as CloudTrail names them.
	objs, err := env.s3(admin).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(env.org.OrgTrailBucket()),
		Prefix: aws.String("AWSLogs/" + env.org.ID() + "/")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]bool{} // account → Region → seen
	for _, obj := range objs.Contents {
		m := orgKeyRE.FindStringSubmatch(*obj.Key)
		if m == nil || m[1] != env.org.ID() || m[2] != m[4] || m[3] != m[5] {
			t.Fatalf("key %s", *obj.Key)
		}
		body, err := env.s3(admin).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(env.org.OrgTrailBucket()), Key: obj.Key})
		if err != nil {
			t.Fatal(err)
		}
		var file struct{ Records []map[string]any }
		zr, err := gzip.NewReader(body.Body)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.NewDecoder(zr).Decode(&file); err != nil {
			t.Fatal(err)
		}
		body.Body.Close()
		for _, rec := range file.Records {
			if rec["recipientAccountId"] != m[2] || rec["awsRegion"] != m[3] {
				t.Fatalf("%s holds a record of %v/%v", *obj.Key, rec["recipientAccountId"], rec["awsRegion"])
			}
		}
		if got[m[2]] == nil {
			got[m[2]] = map[string]bool{}
		}
		got[m[2]][m[3]] = true
	}
	for _, s := range env.org.Accounts() {
		if !got[s.AccountID()]["us-east-1"] || !got[s.AccountID()]["eu-west-1"] {
			t.Fatalf("account %s: Regions %v", s.AccountID(), got[s.AccountID()])
		}
	}

	// A member sees the organisation trail (a shadow trail) and cannot stop it.
	m := env.org.Members()[1]
	mk := keys[m.AccountID()]
	dt, err := env.ct(mk, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var orgTrail *cttypes.Trail
	for i, tr := range dt.TrailList {
		if aws.ToBool(tr.IsOrganizationTrail) {
			orgTrail = &dt.TrailList[i]
		}
	}
	if orgTrail == nil || !strings.Contains(*orgTrail.TrailARN, ":"+env.org.Management().AccountID()+":trail/") ||
		*orgTrail.S3BucketName != env.org.OrgTrailBucket() {
		t.Fatalf("member's trails %+v", dt.TrailList)
	}
	dt, err = env.ct(mk, "eu-west-1").DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(false)})
	if err != nil || len(dt.TrailList) != 0 {
		t.Fatalf("without shadows: %+v %v", dt, err)
	}
	if _, err := env.ct(mk, "us-east-1").GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: orgTrail.TrailARN}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.ct(mk, "us-east-1").StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: orgTrail.TrailARN}); errCode(t, err) != "NotOrganizationManagementAccountException" {
		t.Fatalf("member stops the org trail: %v", err)
	}

	// LookupEvents in each account: only its own events.
	for _, s := range env.org.Accounts() {
		out, err := env.ct(keys[s.AccountID()], "eu-west-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Events) == 0 {
			t.Fatalf("%s: no events", s.AccountID())
		}
		for _, ev := range out.Events {
			if !strings.Contains(*ev.CloudTrailEvent, `"recipientAccountId":"`+s.AccountID()+`"`) {
				t.Fatalf("%s shows %s", s.AccountID(), *ev.CloudTrailEvent)
			}
		}
	}
}

// orgKeyRE is an organisation trail's log file key.
var orgKeyRE = regexp.MustCompile(`^AWSLogs/(o-[a-z0-9]{10})/([0-9]{12})/CloudTrail/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/([0-9]{12})_CloudTrail_([a-z0-9-]+)_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)

// TestStandaloneNotInAnOrganization: an account outside any organisation
// answers Organizations as AWS does, so `--org` on it can say why.
func TestStandaloneNotInAnOrganization(t *testing.T) {
	env := newEnv(t, Options{Seed: 3})
	o := organizations.NewFromConfig(env.cfg(env.sim.Responder(), "us-east-1"))
	_, err := o.ListAccounts(context.Background(), &organizations.ListAccountsInput{})
	var nf *orgtypes.AWSOrganizationsNotInUseException
	if !errors.As(err, &nf) {
		t.Fatalf("ListAccounts on a standalone account: %v, want AWSOrganizationsNotInUseException", err)
	}
}
