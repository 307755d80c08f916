package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
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
