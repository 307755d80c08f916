// Package inventory reads the account's principals and keys — users with
// every access key, console password, MFA device, group and policy; roles
// with their trust policies; the root user from the credential report —
// into a state.Inventory fact, and answers "is this key ours?".
//
// A call that fails is recorded in Inventory.Errors with which call, on
// what, and why, and the rest of the snapshot goes on: a user whose
// ListAccessKeys is denied still appears, with the error beside it.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Options tune a snapshot. The zero value is usable.
type Options struct {
	// Since marks principals, keys and devices created after it as created
	// during the incident (IncidentOpened.Began, or --since). Zero: none.
	Since time.Time
	// AccountID is the account's id, used to tell external principals in
	// trust policies. When empty it is read from the principals' ARNs.
	AccountID string
	// Concurrency bounds the per-user and per-role calls in flight (default 8).
	Concurrency int
	// ReportWait bounds how long to wait for the credential report to be
	// generated (default 30 s). The report is skipped when it is negative.
	ReportWait time.Duration
	// Now tells the time (default time.Now).
	Now func() time.Time
}

// collector is one snapshot being taken.
type collector struct {
	iam  *iam.Client
	opts Options
	// readOnly: the session is read-only; nothing CloudTrail records as a
	// write (readOnly false) is sent.
	readOnly bool

	mu     sync.Mutex
	errs   []state.CallError
	groups map[string]*groupPolicies   // group name → its policies, read once
	docs   map[string]*managedDocument // managed policy ARN → default version
}

type groupPolicies struct {
	once     sync.Once
	policies []state.Policy
}

type managedDocument struct {
	once sync.Once
	doc  string
}

// Collect takes a snapshot of the account's principals and keys through
// sess. It returns an Inventory even when calls fail; those are in Errors.
func Collect(ctx context.Context, sess *session.Session, opts Options) state.Inventory {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.ReportWait == 0 {
		opts.ReportWait = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	c := &collector{iam: sess.IAM(), opts: opts, readOnly: sess.ReadOnly(), groups: map[string]*groupPolicies{}, docs: map[string]*managedDocument{}}
	inv := state.Inventory{TakenAt: opts.Now().UTC(), Since: opts.Since.UTC(), AccountID: opts.AccountID}

	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); inv.Users = c.users(ctx) }()
	go func() { defer wg.Done(); inv.Roles = c.roles(ctx) }()
	go func() { defer wg.Done(); inv.Root = c.root(ctx) }()
	wg.Wait()

	if inv.AccountID == "" {
		inv.AccountID = accountFromARNs(inv)
	}
	for i := range inv.Roles {
		r := &inv.Roles[i]
		if r.TrustPolicy == "" {
			continue
		}
		if doc, err := state.ParsePolicy(r.TrustPolicy); err == nil {
			r.External = ExternalPrincipals(doc, inv.AccountID)
		} else {
			c.fail("iam:GetRole", r.Name, err)
		}
	}
	inv.Errors = c.errs
	sort.SliceStable(inv.Errors, func(i, j int) bool {
		a, b := inv.Errors[i], inv.Errors[j]
		if a.Call != b.Call {
			return a.Call < b.Call
		}
		return a.Target < b.Target
	})
	return inv
}

// fail records a failed call on target.
func (c *collector) fail(call, target string, err error) {
	ce := callErr(call, "", target, err)
	c.mu.Lock()
	c.errs = append(c.errs, ce)
	c.mu.Unlock()
}

// isNotFound reports whether err means the thing asked about does not exist.
func isNotFound(err error) bool { return session.Classify(err) == session.ClassNotFound }

// each runs fn for every index of n items, at most opts.Concurrency at a time.
func (c *collector) each(ctx context.Context, n int, fn func(i int)) {
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	wg.Wait()
}

func (c *collector) isNew(t time.Time) bool {
	return !c.opts.Since.IsZero() && !t.IsZero() && t.After(c.opts.Since)
}

// users lists every user and reads each one's credentials and policies.
func (c *collector) users(ctx context.Context) []state.User {
	var list []types.User
	p := iam.NewListUsersPaginator(c.iam, &iam.ListUsersInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListUsers", "", err)
			break
		}
		list = append(list, out.Users...)
	}
	users := make([]state.User, len(list))
	c.each(ctx, len(list), func(i int) { users[i] = c.user(ctx, list[i]) })
	return users
}

func (c *collector) user(ctx context.Context, in types.User) state.User {
	name := aws.ToString(in.UserName)
	u := state.User{
		Name: name, ARN: aws.ToString(in.Arn), ID: aws.ToString(in.UserId),
		Created: aws.ToTime(in.CreateDate).UTC(), PasswordLastUsed: aws.ToTime(in.PasswordLastUsed).UTC(),
	}
	u.New = c.isNew(u.Created)
	if in.PermissionsBoundary != nil {
		u.Boundary = aws.ToString(in.PermissionsBoundary.PermissionsBoundaryArn)
	}
	for _, t := range in.Tags {
		u.Tags = append(u.Tags, state.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
	}
	// ListUsers leaves out boundaries and tags: GetUser has them.
	if out, err := c.iam.GetUser(ctx, &iam.GetUserInput{UserName: &name}); err != nil {
		c.fail("iam:GetUser", name, err)
	} else if out.User != nil {
		if out.User.PermissionsBoundary != nil {
			u.Boundary = aws.ToString(out.User.PermissionsBoundary.PermissionsBoundaryArn)
		}
		if len(out.User.Tags) > 0 {
			u.Tags = u.Tags[:0]
			for _, t := range out.User.Tags {
				u.Tags = append(u.Tags, state.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
			}
		}
		if out.User.PasswordLastUsed != nil {
			u.PasswordLastUsed = out.User.PasswordLastUsed.UTC()
		}
	}
	u.Keys = c.keys(ctx, name)
	if out, err := c.iam.GetLoginProfile(ctx, &iam.GetLoginProfileInput{UserName: &name}); err == nil {
		u.ConsolePassword = true
		if out.LoginProfile != nil {
			u.PasswordCreated = aws.ToTime(out.LoginProfile.CreateDate).UTC()
		}
	} else if !isNotFound(err) {
		c.fail("iam:GetLoginProfile", name, err)
	}
	mp := iam.NewListMFADevicesPaginator(c.iam, &iam.ListMFADevicesInput{UserName: &name})
	for mp.HasMorePages() {
		out, err := mp.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListMFADevices", name, err)
			break
		}
		for _, d := range out.MFADevices {
			serial := aws.ToString(d.SerialNumber)
			en := aws.ToTime(d.EnableDate).UTC()
			u.MFA = append(u.MFA, state.MFADevice{Serial: serial, Enabled: en, Virtual: strings.Contains(serial, ":mfa/"), New: c.isNew(en)})
		}
	}
	u.Groups = c.groupsOf(ctx, name)
	u.Policies = c.userPolicies(ctx, name)
	for _, g := range u.Groups {
		u.Policies = append(u.Policies, c.groupPolicies(ctx, g)...)
	}
	for _, p := range u.Policies {
		u.Admin = u.Admin || p.Admin
	}
	u.SigningCerts, u.SSHKeys, u.ServiceCreds = c.otherCredentials(ctx, name)
	return u
}

// keys lists a user's access keys with when and where each was last used.
func (c *collector) keys(ctx context.Context, name string) []state.AccessKey {
	var keys []state.AccessKey
	p := iam.NewListAccessKeysPaginator(c.iam, &iam.ListAccessKeysInput{UserName: &name})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListAccessKeys", name, err)
			break
		}
		for _, k := range out.AccessKeyMetadata {
			ak := state.AccessKey{ID: aws.ToString(k.AccessKeyId), Status: string(k.Status), Created: aws.ToTime(k.CreateDate).UTC()}
			ak.New = c.isNew(ak.Created)
			keys = append(keys, ak)
		}
	}
	for i := range keys {
		out, err := c.iam.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: &keys[i].ID})
		if err != nil {
			c.fail("iam:GetAccessKeyLastUsed", keys[i].ID, err)
			continue
		}
		if lu := out.AccessKeyLastUsed; lu != nil {
			keys[i].LastUsed = aws.ToTime(lu.LastUsedDate).UTC()
			keys[i].LastService = naEmpty(aws.ToString(lu.ServiceName))
			keys[i].LastRegion = naEmpty(aws.ToString(lu.Region))
		}
	}
	return keys
}

func (c *collector) groupsOf(ctx context.Context, name string) []string {
	var groups []string
	p := iam.NewListGroupsForUserPaginator(c.iam, &iam.ListGroupsForUserInput{UserName: &name})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListGroupsForUser", name, err)
			break
		}
		for _, g := range out.Groups {
			groups = append(groups, aws.ToString(g.GroupName))
		}
	}
	return groups
}

// userPolicies reads a user's inline and attached policies.
func (c *collector) userPolicies(ctx context.Context, name string) []state.Policy {
	var out []state.Policy
	ip := iam.NewListUserPoliciesPaginator(c.iam, &iam.ListUserPoliciesInput{UserName: &name})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListUserPolicies", name, err)
			break
		}
		for _, pn := range page.PolicyNames {
			pol := state.Policy{Name: pn, Inline: true}
			got, err := c.iam.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: &name, PolicyName: &pn})
			if err != nil {
				c.fail("iam:GetUserPolicy", name+"/"+pn, err)
			} else {
				pol.Document = decodeDocument(aws.ToString(got.PolicyDocument))
			}
			out = append(out, c.judge(pol, name))
		}
	}
	ap := iam.NewListAttachedUserPoliciesPaginator(c.iam, &iam.ListAttachedUserPoliciesInput{UserName: &name})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListAttachedUserPolicies", name, err)
			break
		}
		for _, a := range page.AttachedPolicies {
			out = append(out, c.managed(ctx, a, ""))
		}
	}
	return out
}

// groupPolicies reads a group's inline and attached policies, once per
// snapshot however many members the group has.
func (c *collector) groupPolicies(ctx context.Context, group string) []state.Policy {
	c.mu.Lock()
	g := c.groups[group]
	if g == nil {
		g = &groupPolicies{}
		c.groups[group] = g
	}
	c.mu.Unlock()
	g.once.Do(func() {
		ip := iam.NewListGroupPoliciesPaginator(c.iam, &iam.ListGroupPoliciesInput{GroupName: &group})
		for ip.HasMorePages() {
			page, err := ip.NextPage(ctx)
			if err != nil {
				c.fail("iam:ListGroupPolicies", group, err)
				break
			}
			for _, pn := range page.PolicyNames {
				pol := state.Policy{Name: pn, Inline: true, Group: group}
				got, err := c.iam.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: &group, PolicyName: &pn})
				if err != nil {
					c.fail("iam:GetGroupPolicy", group+"/"+pn, err)
				} else {
					pol.Document = decodeDocument(aws.ToString(got.PolicyDocument))
				}
				g.policies = append(g.policies, c.judge(pol, group))
			}
		}
		ap := iam.NewListAttachedGroupPoliciesPaginator(c.iam, &iam.ListAttachedGroupPoliciesInput{GroupName: &group})
		for ap.HasMorePages() {
			page, err := ap.NextPage(ctx)
			if err != nil {
				c.fail("iam:ListAttachedGroupPolicies", group, err)
				break
			}
			for _, a := range page.AttachedPolicies {
				g.policies = append(g.policies, c.managed(ctx, a, group))
			}
		}
	})
	return slices.Clone(g.policies)
}

// managed builds an attached managed policy. AWS-managed policies are
// judged by name; customer-managed ones by their default version's
// document, read once per snapshot.
func (c *collector) managed(ctx context.Context, a types.AttachedPolicy, group string) state.Policy {
	pol := state.Policy{Name: aws.ToString(a.PolicyName), ARN: aws.ToString(a.PolicyArn), Group: group}
	if _, ok := awsManaged(pol.ARN); ok {
		pol.Admin = AdminManagedARN(pol.ARN)
		return pol
	}
	c.mu.Lock()
	d := c.docs[pol.ARN]
	if d == nil {
		d = &managedDocument{}
		c.docs[pol.ARN] = d
	}
	c.mu.Unlock()
	d.once.Do(func() {
		got, err := c.iam.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: &pol.ARN})
		if err != nil {
			c.fail("iam:GetPolicy", pol.ARN, err)
			return
		}
		ver := aws.ToString(got.Policy.DefaultVersionId)
		v, err := c.iam.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: &pol.ARN, VersionId: &ver})
		if err != nil {
			c.fail("iam:GetPolicyVersion", pol.ARN, err)
			return
		}
		if v.PolicyVersion != nil {
			d.doc = decodeDocument(aws.ToString(v.PolicyVersion.Document))
		}
	})
	pol.Document = d.doc
	return c.judge(pol, pol.ARN)
}

// judge sets pol.Admin from its document; an unreadable document is
// recorded as an error on target.
func (c *collector) judge(pol state.Policy, target string) state.Policy {
	if pol.Admin || pol.Document == "" {
		return pol
	}
	doc, err := state.ParsePolicy(pol.Document)
	if err != nil {
		c.fail("policy:"+pol.Name, target, err)
		return pol
	}
	pol.Admin = AdminDocument(doc)
	return pol
}

// decodeDocument undoes the URL encoding IAM applies to policy documents.
func decodeDocument(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// otherCredentials counts a user's signing certificates, SSH public keys
// and service-specific credentials: each lets someone act as the user, and
// each must be removed before the user can be deleted.
func (c *collector) otherCredentials(ctx context.Context, name string) (certs, ssh, svc int) {
	cp := iam.NewListSigningCertificatesPaginator(c.iam, &iam.ListSigningCertificatesInput{UserName: &name})
	for cp.HasMorePages() {
		out, err := cp.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListSigningCertificates", name, err)
			break
		}
		certs += len(out.Certificates)
	}
	sp := iam.NewListSSHPublicKeysPaginator(c.iam, &iam.ListSSHPublicKeysInput{UserName: &name})
	for sp.HasMorePages() {
		out, err := sp.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListSSHPublicKeys", name, err)
			break
		}
		ssh += len(out.SSHPublicKeys)
	}
	// The SDK has no paginator for this one; users hold a handful at most.
	out, err := c.iam.ListServiceSpecificCredentials(ctx, &iam.ListServiceSpecificCredentialsInput{UserName: &name})
	if err != nil {
		c.fail("iam:ListServiceSpecificCredentials", name, err)
	} else {
		svc = len(out.ServiceSpecificCredentials)
	}
	return certs, ssh, svc
}

// roles lists every role and reads each one's last use and policies.
func (c *collector) roles(ctx context.Context) []state.Role {
	var list []types.Role
	p := iam.NewListRolesPaginator(c.iam, &iam.ListRolesInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListRoles", "", err)
			break
		}
		list = append(list, out.Roles...)
	}
	roles := make([]state.Role, len(list))
	c.each(ctx, len(list), func(i int) { roles[i] = c.role(ctx, list[i]) })
	return roles
}

func (c *collector) role(ctx context.Context, in types.Role) state.Role {
	name := aws.ToString(in.RoleName)
	r := state.Role{
		Name: name, ARN: aws.ToString(in.Arn), Path: aws.ToString(in.Path), Created: aws.ToTime(in.CreateDate).UTC(),
		MaxSession: aws.ToInt32(in.MaxSessionDuration), TrustPolicy: decodeDocument(aws.ToString(in.AssumeRolePolicyDocument)),
	}
	r.New = c.isNew(r.Created)
	r.ServiceLinked = serviceLinked(r.Path)
	r.IdentityCenter = identityCenter(r.Path, name)
	// ListRoles does not say when a role was last used; GetRole does.
	if out, err := c.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &name}); err != nil {
		c.fail("iam:GetRole", name, err)
	} else if out.Role != nil {
		if lu := out.Role.RoleLastUsed; lu != nil {
			r.LastUsed = aws.ToTime(lu.LastUsedDate).UTC()
			r.LastRegion = aws.ToString(lu.Region)
		}
		if d := aws.ToString(out.Role.AssumeRolePolicyDocument); d != "" {
			r.TrustPolicy = decodeDocument(d)
		}
	}
	ip := iam.NewListRolePoliciesPaginator(c.iam, &iam.ListRolePoliciesInput{RoleName: &name})
	for ip.HasMorePages() {
		page, err := ip.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListRolePolicies", name, err)
			break
		}
		for _, pn := range page.PolicyNames {
			pol := state.Policy{Name: pn, Inline: true}
			got, err := c.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &pn})
			if err != nil {
				c.fail("iam:GetRolePolicy", name+"/"+pn, err)
			} else {
				pol.Document = decodeDocument(aws.ToString(got.PolicyDocument))
			}
			r.Policies = append(r.Policies, c.judge(pol, name))
		}
	}
	ap := iam.NewListAttachedRolePoliciesPaginator(c.iam, &iam.ListAttachedRolePoliciesInput{RoleName: &name})
	for ap.HasMorePages() {
		page, err := ap.NextPage(ctx)
		if err != nil {
			c.fail("iam:ListAttachedRolePolicies", name, err)
			break
		}
		for _, a := range page.AttachedPolicies {
			r.Policies = append(r.Policies, c.managed(ctx, a, ""))
		}
	}
	for _, p := range r.Policies {
		r.Admin = r.Admin || p.Admin
	}
	return r
}

// root reads the root user from the credential report, generating one
// when needed. It returns nil when the report could not be had.
func (c *collector) root(ctx context.Context) *state.Root {
	if c.opts.ReportWait < 0 {
		return nil
	}
	data, err := c.credentialReport(ctx)
	if err != nil {
		c.fail(callOf(err, "iam:GetCredentialReport"), "credential report", err)
		return nil
	}
	rows, bad, err := ParseCredentialReport(data)
	if err != nil {
		c.fail("iam:GetCredentialReport", "credential report", err)
		return nil
	}
	for _, b := range bad {
		c.fail("iam:GetCredentialReport", "credential report", b)
	}
	for _, row := range rows {
		if row.User == RootUser {
			return rootOf(row)
		}
	}
	return nil
}

// rootOf builds the root user's entry from its report row.
func rootOf(row CredentialRow) *state.Root {
	r := &state.Root{ARN: row.ARN, MFA: row.MFAActive, PasswordLastUsed: row.PasswordLastUsed}
	for _, k := range row.Keys {
		if k.Active {
			r.AccessKeys++
		}
		if k.LastUsed.After(r.KeyLastUsed) {
			r.KeyLastUsed = k.LastUsed
		}
	}
	return r
}

// callError names the call that failed inside credentialReport.
type callError struct {
	call string
	err  error
}

func (e *callError) Error() string { return e.err.Error() }
func (e *callError) Unwrap() error { return e.err }

func callOf(err error, def string) string {
	var ce *callError
	if errors.As(err, &ce) {
		return ce.call
	}
	return def
}

// ErrNoCredentialReport is the root user's entry of a read-only inventory
// when IAM holds no current credential report: generating one
// (iam:GenerateCredentialReport) is recorded by CloudTrail as a write
// (readOnly false), which a read-only session never sends.
var ErrNoCredentialReport = errors.New("no credential report available; root's details unknown (generating one is a write)")

// credentialReport asks IAM to generate the report and fetches it, waiting
// (within ReportWait) while it is being generated. A read-only session only
// fetches the report IAM already holds.
func (c *collector) credentialReport(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReportWait)
	defer cancel()
	if c.readOnly {
		out, err := c.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
		switch {
		case err == nil:
			return out.Content, nil
		case reportNotReady(err):
			return nil, &callError{"iam:GetCredentialReport", fmt.Errorf("%w: %s", ErrNoCredentialReport, reportCode(err))}
		}
		return nil, &callError{"iam:GetCredentialReport", err}
	}
	wait := 250 * time.Millisecond
	for {
		gen, err := c.iam.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, &callError{"iam:GenerateCredentialReport", err}
		}
		if gen.State == types.ReportStateTypeComplete {
			out, err := c.iam.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			if err == nil {
				return out.Content, nil
			}
			if !reportNotReady(err) {
				return nil, &callError{"iam:GetCredentialReport", err}
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, &callError{"iam:GenerateCredentialReport", ctx.Err()}
		case <-t.C:
		}
		wait = min(wait*2, 4*time.Second)
	}
}

// reportNotReady recognises GetCredentialReport's answers while a report is
// still being generated.
func reportNotReady(err error) bool {
	code := reportCode(err)
	return code == "ReportInProgress" || code == "ReportNotPresent" || code == "ReportExpired"
}

// reportCode is the AWS error code of err, or "".
func reportCode(err error) string {
	var se *session.Error
	if w := session.Wrap("", "", err); errors.As(w, &se) {
		return se.Code
	}
	return ""
}

// accountFromARNs reads the account id from the first principal ARN.
func accountFromARNs(inv state.Inventory) string {
	for _, u := range inv.Users {
		if a := accountOf(u.ARN); a != "" {
			return a
		}
	}
	for _, r := range inv.Roles {
		if a := accountOf(r.ARN); a != "" {
			return a
		}
	}
	return ""
}
