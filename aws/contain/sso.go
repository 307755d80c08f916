package contain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idsdoc "github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// IAM Identity Center users, contained the way AWS's
// AWSSupport-ContainIAMPrincipal runbook (SSM Automation) documents it for
// an Identity Center user. Its documentation
// (docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/awssupport-contain-iam-principal.html)
// says: "For Identity Center users, it removes permission sets, group
// memberships, and applies a deny policy. Throughout the process, the
// runbook backs up the original configuration to an Amazon S3 bucket for
// potential restoration", and restoring puts that configuration back.
// IAM Identity Center's own guide ("Revoke access for deleted users",
// singlesignon/latest/userguide/authconcept-revoke-access.html) gives the
// deny: "Add or update the inline policy of the permission set(s)
// assigned to the user by adding an explicit Deny effect for all actions
// on all resources", with "the aws:userid or identitystore:userid
// condition key", so that sessions already issued stop working (removing
// an assignment does not end them).
//
// ContainSSOUser follows those steps:
//  1. it reads the user (identitystore:GetUserId, DescribeUser), the
//     groups it is in (ListGroupMembershipsForMember), and every account
//     assignment that reaches it, its own and its groups'
//     (sso:ListAccountAssignmentsForPrincipal), with each permission set's
//     inline policy (GetInlinePolicyForPermissionSet): the backup, kept in
//     the action's result in the journal (Plan.Prior) instead of an S3
//     bucket;
//  2. on every permission set that reaches the user it puts a Deny * on *
//     statement conditioned on identitystore:UserId into the inline policy
//     (PutInlinePolicyToPermissionSet, the permission set's other
//     statements kept) and provisions it to the accounts
//     (ProvisionPermissionSet ALL_PROVISIONED_ACCOUNTS), which ends the
//     user's sessions issued before, and spares every other user of the
//     permission set;
//  3. it deletes the user's own account assignments
//     (DeleteAccountAssignment), so the access portal offers nothing.
//
// What differs from the runbook: the user's group memberships are not
// removed (warroom does not call the identity store's write operations):
// the deny statement is on the groups' permission sets too, so what a
// group gives the user is denied all the same, and the other members keep
// their access. The backup is the journal, not an S3 bucket.
//
// RestoreSSOUser (the undo) lifts warroom's deny statements (the rest of
// each inline policy kept; DeleteInlinePolicyFromPermissionSet when
// nothing else is left), provisions, and creates the backed-up
// assignments again (CreateAccountAssignment).

// KindSSOUser is an IAM Identity Center user, by user name.
const KindSSOUser Kind = "sso-user"

// ErrSSONotEnabled: no IAM Identity Center instance in the Region.
var ErrSSONotEnabled = errors.New("IAM Identity Center is not enabled")

// SSOAssignment is one account assignment reaching an Identity Center
// user.
type SSOAssignment struct {
	AccountID         string `json:"account_id"`
	PermissionSetARN  string `json:"permission_set_arn"`
	PermissionSetName string `json:"permission_set"`
	// Group is the group it reaches the user through ("" for the user's own).
	Group string `json:"group,omitempty"`
}

// SSOBackup is what ContainSSOUser changes, kept in its result so that
// RestoreSSOUser puts it back: the user's own assignments it deletes and
// each permission set's inline policy before the deny was added.
type SSOBackup struct {
	Region      string            `json:"region"`
	InstanceARN string            `json:"instance_arn"`
	UserID      string            `json:"user_id"`
	UserName    string            `json:"user_name"`
	Assignments []SSOAssignment   `json:"assignments"`
	Policies    map[string]string `json:"inline_policies,omitempty"`
}

// SSOUser is an Identity Center user as read just now.
type SSOUser struct {
	Region, InstanceARN, StoreID string
	ID, UserName, DisplayName    string
	Emails                       []string
	Groups                       []string
	// Assignments reach the user: its own first, then its groups'.
	Assignments []SSOAssignment
	// Inline is each reaching permission set's inline policy ("" for none).
	Inline map[string]string
	// Names are the permission sets' names by ARN.
	Names map[string]string
}

// Own returns the user's own assignments.
func (u *SSOUser) Own() []SSOAssignment {
	var out []SSOAssignment
	for _, a := range u.Assignments {
		if a.Group == "" {
			out = append(out, a)
		}
	}
	return out
}

// PermissionSets returns the ARNs of the permission sets reaching the
// user, in name order.
func (u *SSOUser) PermissionSets() []string {
	var out []string
	for _, a := range u.Assignments {
		if !slices.Contains(out, a.PermissionSetARN) {
			out = append(out, a.PermissionSetARN)
		}
	}
	sort.Slice(out, func(i, j int) bool { return u.Names[out[i]] < u.Names[out[j]] })
	return out
}

// SSOInstance finds the Identity Center instance in region: its ARN and
// identity store id, ErrSSONotEnabled (wrapped, naming the Region) when
// there is none.
func SSOInstance(ctx context.Context, sess *session.Session, region string) (arn, store string, err error) {
	out, err := sess.SSOAdmin(region).ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		return "", "", session.Wrap("sso:ListInstances", region, err)
	}
	for _, in := range out.Instances {
		if in.Status == "" || in.Status == ssotypes.InstanceStatusActive {
			return aws.ToString(in.InstanceArn), aws.ToString(in.IdentityStoreId), nil
		}
	}
	return "", "", fmt.Errorf("%w in %s (sso:ListInstances lists no instance)", ErrSSONotEnabled, region)
}

// ReadSSOUser reads an Identity Center user by user name: its id, groups,
// the assignments reaching it and the reaching permission sets' inline
// policies.
func ReadSSOUser(ctx context.Context, sess *session.Session, region, userName string) (*SSOUser, error) {
	inst, store, err := SSOInstance(ctx, sess, region)
	if err != nil {
		return nil, err
	}
	ids, sso := sess.IdentityStore(region), sess.SSOAdmin(region)
	uid, err := ids.GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: aws.String(store),
		AlternateIdentifier: &idstypes.AlternateIdentifierMemberUniqueAttribute{Value: idstypes.UniqueAttribute{
			AttributePath: aws.String("userName"), AttributeValue: idsString(userName)}}})
	if err != nil {
		if session.Classify(err) == session.ClassNotFound {
			return nil, fmt.Errorf("no IAM Identity Center user %q in identity store %s (%s)", userName, store, region)
		}
		return nil, session.Wrap("identitystore:GetUserId", region, err)
	}
	u := &SSOUser{Region: region, InstanceARN: inst, StoreID: store, ID: aws.ToString(uid.UserId), UserName: userName,
		Inline: map[string]string{}, Names: map[string]string{}}
	du, err := ids.DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: aws.String(store), UserId: aws.String(u.ID)})
	if err != nil {
		return nil, session.Wrap("identitystore:DescribeUser", region, err)
	}
	u.DisplayName = aws.ToString(du.DisplayName)
	for _, e := range du.Emails {
		u.Emails = append(u.Emails, aws.ToString(e.Value))
	}
	own, err := ssoAssignmentsOf(ctx, sso, region, inst, ssotypes.PrincipalTypeUser, u.ID, "")
	if err != nil {
		return nil, err
	}
	u.Assignments = own
	mp := identitystore.NewListGroupMembershipsForMemberPaginator(ids, &identitystore.ListGroupMembershipsForMemberInput{
		IdentityStoreId: aws.String(store), MemberId: &idstypes.MemberIdMemberUserId{Value: u.ID}})
	for mp.HasMorePages() {
		page, err := mp.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("identitystore:ListGroupMembershipsForMember", region, err)
		}
		for _, m := range page.GroupMemberships {
			gid := aws.ToString(m.GroupId)
			name := gid
			if g, err := ids.DescribeGroup(ctx, &identitystore.DescribeGroupInput{IdentityStoreId: aws.String(store), GroupId: aws.String(gid)}); err == nil {
				name = aws.ToString(g.DisplayName)
			} else if session.Classify(err) != session.ClassNotFound {
				return nil, session.Wrap("identitystore:DescribeGroup", region, err)
			}
			u.Groups = append(u.Groups, name)
			via, err := ssoAssignmentsOf(ctx, sso, region, inst, ssotypes.PrincipalTypeGroup, gid, name)
			if err != nil {
				return nil, err
			}
			u.Assignments = append(u.Assignments, via...)
		}
	}
	for _, ps := range u.PermissionSetsUnordered() {
		d, err := sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(inst), PermissionSetArn: aws.String(ps)})
		if err != nil {
			return nil, session.Wrap("sso:DescribePermissionSet", region, err)
		}
		if d.PermissionSet != nil {
			u.Names[ps] = aws.ToString(d.PermissionSet.Name)
		}
		pol, err := sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: aws.String(inst), PermissionSetArn: aws.String(ps)})
		if err != nil {
			return nil, session.Wrap("sso:GetInlinePolicyForPermissionSet", region, err)
		}
		u.Inline[ps] = aws.ToString(pol.InlinePolicy)
	}
	for i := range u.Assignments {
		u.Assignments[i].PermissionSetName = u.Names[u.Assignments[i].PermissionSetARN]
	}
	return u, nil
}

// PermissionSetsUnordered returns the reaching permission sets' ARNs in
// the order the assignments name them.
func (u *SSOUser) PermissionSetsUnordered() []string {
	var out []string
	for _, a := range u.Assignments {
		if !slices.Contains(out, a.PermissionSetARN) {
			out = append(out, a.PermissionSetARN)
		}
	}
	return out
}

// idsString is a user name as the identity store takes it: a JSON
// document (the attribute value is a smithy document).
func idsString(s string) idsdoc.Interface { return idsdoc.NewLazyDocument(s) }

func ssoAssignmentsOf(ctx context.Context, sso *ssoadmin.Client, region, inst string, pt ssotypes.PrincipalType, id, group string) ([]SSOAssignment, error) {
	var out []SSOAssignment
	pg := ssoadmin.NewListAccountAssignmentsForPrincipalPaginator(sso, &ssoadmin.ListAccountAssignmentsForPrincipalInput{
		InstanceArn: aws.String(inst), PrincipalType: pt, PrincipalId: aws.String(id)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("sso:ListAccountAssignmentsForPrincipal", region, err)
		}
		for _, a := range page.AccountAssignments {
			out = append(out, SSOAssignment{AccountID: aws.ToString(a.AccountId), PermissionSetARN: aws.ToString(a.PermissionSetArn), Group: group})
		}
	}
	return out, nil
}

// SSODenySid is the Sid of the deny statement warroom puts into a
// permission set's inline policy for the user with id userID.
func SSODenySid(userID string) string {
	var b strings.Builder
	b.WriteString("WarroomDenyIdentityCenterUser")
	for _, r := range userID {
		if (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ssoDenyStatement is warroom's deny for the user: every action, every
// resource, for sessions whose identitystore:UserId is the user's.
func ssoDenyStatement(userID string) map[string]any {
	return map[string]any{"Sid": SSODenySid(userID), "Effect": "Deny", "Action": "*", "Resource": "*",
		"Condition": map[string]any{"StringEquals": map[string]any{"identitystore:UserId": userID}}}
}

// policyStatements splits an inline policy into its Version and
// statements ("" is no policy).
func policyStatements(doc string) (version string, stmts []json.RawMessage, err error) {
	if strings.TrimSpace(doc) == "" {
		return "2012-10-17", nil, nil
	}
	var d struct {
		Version   string
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return "", nil, fmt.Errorf("inline policy is not JSON: %w", err)
	}
	if len(d.Statement) > 0 && d.Statement[0] == '[' {
		err = json.Unmarshal(d.Statement, &stmts)
	} else if len(d.Statement) > 0 {
		stmts = []json.RawMessage{d.Statement}
	}
	if d.Version == "" {
		d.Version = "2012-10-17"
	}
	return d.Version, stmts, err
}

func stmtSid(raw json.RawMessage) string {
	var s struct{ Sid string }
	_ = json.Unmarshal(raw, &s)
	return s.Sid
}

// hasSSODeny reports whether an inline policy holds warroom's deny for the
// user.
func hasSSODeny(doc, userID string) bool {
	_, stmts, _ := policyStatements(doc)
	return slices.ContainsFunc(stmts, func(r json.RawMessage) bool { return stmtSid(r) == SSODenySid(userID) })
}

// withSSODeny returns the inline policy with warroom's deny for the user
// added, the other statements kept.
func withSSODeny(doc, userID string) (string, error) {
	v, stmts, err := policyStatements(doc)
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(ssoDenyStatement(userID))
	stmts = append(stmts, b)
	out, _ := json.Marshal(map[string]any{"Version": v, "Statement": stmts})
	return string(out), nil
}

// withoutSSODeny returns the inline policy without warroom's deny for the
// user; "" when no statement is left.
func withoutSSODeny(doc, userID string) (string, error) {
	v, stmts, err := policyStatements(doc)
	if err != nil {
		return "", err
	}
	stmts = slices.DeleteFunc(stmts, func(r json.RawMessage) bool { return stmtSid(r) == SSODenySid(userID) })
	if len(stmts) == 0 {
		return "", nil
	}
	out, _ := json.Marshal(map[string]any{"Version": v, "Statement": stmts})
	return string(out), nil
}

// ContainSSOUser contains an IAM Identity Center user (see above).
type ContainSSOUser struct {
	User   string
	Region string // Identity Center's Region; empty: the session's

	backup  *SSOBackup
	pending []string // DeleteAccountAssignment request ids to read back
}

// RestoreSSOUser undoes ContainSSOUser: it lifts warroom's deny statements
// for the user and creates the backed-up assignments again.
type RestoreSSOUser struct {
	User   string
	Region string

	backup  *SSOBackup
	pending []string
}

func ssoRegion(env *Env, r string) string {
	if r != "" {
		return r
	}
	if env.Sess != nil {
		return env.Sess.HomeRegion()
	}
	return session.DefaultRegion
}

// Name implements Action.
func (a *ContainSSOUser) Name() string { return "sso-user" }

// Target implements Action.
func (a *ContainSSOUser) Target() Target {
	return Target{Kind: KindSSOUser, ID: a.User, Region: a.Region}
}

// Undo implements Undoer.
func (a *ContainSSOUser) Undo() Action {
	return &RestoreSSOUser{User: a.User, Region: a.Region, backup: a.backup}
}

// Backup is what the plan backed up (nil before planning).
func (a *ContainSSOUser) Backup() *SSOBackup { return a.backup }

// Name implements Action.
func (a *RestoreSSOUser) Name() string { return "restore-sso-user" }

// Target implements Action.
func (a *RestoreSSOUser) Target() Target {
	return Target{Kind: KindSSOUser, ID: a.User, Region: a.Region}
}

// Undo implements Undoer.
func (a *RestoreSSOUser) Undo() Action { return &ContainSSOUser{User: a.User, Region: a.Region} }

// WithBackup sets the backup the restore puts back (the contain action's
// result, SSOBackup).
func (a *RestoreSSOUser) WithBackup(b *SSOBackup) *RestoreSSOUser { a.backup = b; return a }

func ssoCall(api, region string, kv ...string) state.Call { return call(api, region, kv...) }

// Plan implements Action.
func (a *ContainSSOUser) Plan(ctx context.Context, env *Env) (*Plan, error) {
	region := ssoRegion(env, a.Region)
	a.Region = region
	u, err := ReadSSOUser(ctx, env.Sess, region, a.User)
	if err != nil {
		return nil, err
	}
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Contain IAM Identity Center user %s (%s) in %s", a.User, u.ID, region),
		Undo: "restore-sso-user " + a.User + " (warroom contain sso-user " + a.User + " --undo): the deny statements lifted, the assignments created again from the backup"}
	p.Findings = append(p.Findings, fmt.Sprintf("user %s, display name %q, id %s, identity store %s, instance %s", u.UserName, u.DisplayName, u.ID, u.StoreID, u.InstanceARN))
	if len(u.Groups) > 0 {
		p.Findings = append(p.Findings, "groups (memberships kept; their permission sets get the deny): "+strings.Join(u.Groups, ", "))
	}
	bk := &SSOBackup{Region: region, InstanceARN: u.InstanceARN, UserID: u.ID, UserName: u.UserName, Policies: map[string]string{}}
	for _, ps := range u.PermissionSets() {
		doc := u.Inline[ps]
		if hasSSODeny(doc, u.ID) {
			p.Findings = append(p.Findings, fmt.Sprintf("permission set %s already denies the user", u.Names[ps]))
			continue
		}
		nd, err := withSSODeny(doc, u.ID)
		if err != nil {
			return nil, fmt.Errorf("sso-user %s: permission set %s: %w", a.User, u.Names[ps], err)
		}
		bk.Policies[ps] = doc
		p.Calls = append(p.Calls,
			ssoCall("sso:PutInlinePolicyToPermissionSet", region, "InstanceArn", u.InstanceARN, "PermissionSetArn", ps, "InlinePolicy", nd),
			ssoCall("sso:ProvisionPermissionSet", region, "InstanceArn", u.InstanceARN, "PermissionSetArn", ps, "TargetType", string(ssotypes.ProvisionTargetTypeAllProvisionedAccounts)))
	}
	for _, as := range u.Assignments {
		via := "the user's own"
		if as.Group != "" {
			via = "through group " + as.Group + " (kept; denied)"
		}
		p.Findings = append(p.Findings, fmt.Sprintf("assignment: %s in account %s, %s", as.PermissionSetName, as.AccountID, via))
	}
	for _, as := range u.Own() {
		bk.Assignments = append(bk.Assignments, as)
		p.Calls = append(p.Calls, ssoCall("sso:DeleteAccountAssignment", region, "InstanceArn", u.InstanceARN, "PermissionSetArn", as.PermissionSetARN,
			"PrincipalType", string(ssotypes.PrincipalTypeUser), "PrincipalId", u.ID, "TargetId", as.AccountID, "TargetType", string(ssotypes.TargetTypeAwsAccount)))
	}
	if len(u.Assignments) == 0 {
		p.Findings = append(p.Findings, "no account assignment reaches the user")
	}
	if ssoSelf(env.Self.ARN, u) {
		p.Self = true
		p.Warnings = append(p.Warnings, "warroom itself runs on "+env.Self.ARN+", an Identity Center session of this user: containing it cuts the console off")
	}
	p.Warnings = append(p.Warnings, "Sessions the user already holds keep working until the deny is provisioned; every other user of these permission sets keeps its access (the deny names this user's identitystore:UserId).")
	if len(p.Calls) == 0 {
		p.Already = true
		return p, nil
	}
	a.backup = bk
	p.Prior = bk
	return p, nil
}

// ssoSelf reports whether arn (the console's own) is an Identity Center
// session of u: an AWSReservedSSO_ role's session named after the user
// (its user name or an e-mail address, as the access portal names it).
func ssoSelf(arn string, u *SSOUser) bool {
	p, ok := state.ParsePrincipal(arn)
	if !ok || !p.Role() || !strings.HasPrefix(p.Name, "AWSReservedSSO_") {
		return false
	}
	session := arn[strings.LastIndexByte(arn, '/')+1:]
	if strings.EqualFold(session, u.UserName) {
		return true
	}
	return slices.ContainsFunc(u.Emails, func(e string) bool { return strings.EqualFold(session, e) })
}

// observe keeps the DeleteAccountAssignment request ids.
func (a *ContainSSOUser) observe(c state.Call, out any, _ *Outcome) {
	if o, ok := out.(*ssoadmin.DeleteAccountAssignmentOutput); ok && o.AccountAssignmentDeletionStatus != nil {
		a.pending = append(a.pending, aws.ToString(o.AccountAssignmentDeletionStatus.RequestId))
	}
}

// waitSSORequests reads the assignment requests' status until none is
// IN_PROGRESS (a few tries): a FAILED one is an error.
func waitSSORequests(ctx context.Context, env *Env, region, inst string, ids []string, deletion bool) error {
	sso := env.Sess.SSOAdmin(region)
	for _, id := range ids {
		for try := 0; ; try++ {
			var st ssotypes.StatusValues
			var reason string
			if deletion {
				o, err := sso.DescribeAccountAssignmentDeletionStatus(ctx, &ssoadmin.DescribeAccountAssignmentDeletionStatusInput{
					InstanceArn: aws.String(inst), AccountAssignmentDeletionRequestId: aws.String(id)})
				if err != nil {
					return session.Wrap("sso:DescribeAccountAssignmentDeletionStatus", region, err)
				}
				st, reason = o.AccountAssignmentDeletionStatus.Status, aws.ToString(o.AccountAssignmentDeletionStatus.FailureReason)
			} else {
				o, err := sso.DescribeAccountAssignmentCreationStatus(ctx, &ssoadmin.DescribeAccountAssignmentCreationStatusInput{
					InstanceArn: aws.String(inst), AccountAssignmentCreationRequestId: aws.String(id)})
				if err != nil {
					return session.Wrap("sso:DescribeAccountAssignmentCreationStatus", region, err)
				}
				st, reason = o.AccountAssignmentCreationStatus.Status, aws.ToString(o.AccountAssignmentCreationStatus.FailureReason)
			}
			if st == ssotypes.StatusValuesFailed {
				return fmt.Errorf("account assignment request %s failed: %s", id, reason)
			}
			if st != ssotypes.StatusValuesInProgress || try >= 10 {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(try+1) * 200 * time.Millisecond):
			}
		}
	}
	return nil
}

// readSSOSettled reads the user once the assignment requests pending (the
// run's deletions, or creations) are no longer in progress.
func readSSOSettled(ctx context.Context, env *Env, region, user string, pending []string, deletion bool) (*SSOUser, error) {
	u, err := ReadSSOUser(ctx, env.Sess, region, user)
	if err != nil || len(pending) == 0 {
		return u, err
	}
	if err := waitSSORequests(ctx, env, region, u.InstanceARN, pending, deletion); err != nil {
		return nil, err
	}
	return ReadSSOUser(ctx, env.Sess, region, user)
}

// ssoRoleDenies reads the roles Identity Center provisioned in the
// session's account for the permission sets named (iam:ListRoles under
// /aws-reserved/sso.amazonaws.com/, iam:GetRolePolicy AwsSSOInlinePolicy)
// and says, per role, whether its inline policy carries warroom's deny
// for the user: what the user's sessions meet.
func ssoRoleDenies(ctx context.Context, env *Env, names []string, userID string) (map[string]bool, error) {
	cl := env.Sess.IAM()
	pg := iam.NewListRolesPaginator(cl, &iam.ListRolesInput{PathPrefix: aws.String("/aws-reserved/sso.amazonaws.com/")})
	roles := map[string]string{} // permission set name → role
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("iam:ListRoles", "", err)
		}
		for _, r := range page.Roles {
			n := aws.ToString(r.RoleName)
			if rest, ok := strings.CutPrefix(n, "AWSReservedSSO_"); ok {
				if i := strings.LastIndexByte(rest, '_'); i > 0 {
					roles[rest[:i]] = n
				}
			}
		}
	}
	out := map[string]bool{}
	for _, ps := range names {
		r, ok := roles[ps]
		if !ok {
			continue // not provisioned in this account
		}
		o, err := cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(r), PolicyName: aws.String("AwsSSOInlinePolicy")})
		if err != nil && session.Classify(err) != session.ClassNotFound {
			return nil, session.Wrap("iam:GetRolePolicy", "", err)
		}
		doc := ""
		if err == nil && o != nil {
			doc = iamDocument(aws.ToString(o.PolicyDocument))
		}
		out[r] = hasSSODeny(doc, userID)
	}
	return out, nil
}

// rolesWhere returns the roles of m whose value is want, sorted.
func rolesWhere(m map[string]bool, want bool) []string {
	var out []string
	for r, v := range m {
		if v == want {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// Verify implements Action: the user has no account assignment of its
// own, every permission set reaching it (its groups') holds the deny, and
// the roles provisioned in this account carry it.
func (a *ContainSSOUser) Verify(ctx context.Context, env *Env) (Verification, error) {
	region := ssoRegion(env, a.Region)
	u, err := readSSOSettled(ctx, env, region, a.User, a.pending, true)
	if err != nil {
		return Verification{}, err
	}
	if own := u.Own(); len(own) > 0 {
		var names []string
		for _, o := range own {
			names = append(names, o.PermissionSetName+"@"+o.AccountID)
		}
		return Verification{Detail: fmt.Sprintf("Identity Center user %s still has its own account assignments: %s", a.User, strings.Join(names, ", "))}, nil
	}
	// The permission sets to check: those reaching the user now (its
	// groups'), and those the backup changed.
	check := map[string]string{}
	for _, ps := range u.PermissionSetsUnordered() {
		check[ps] = u.Names[ps]
	}
	if a.backup != nil {
		for ps := range a.backup.Policies {
			if _, ok := check[ps]; !ok {
				check[ps] = ""
			}
		}
	}
	sso := env.Sess.SSOAdmin(region)
	var names []string
	for ps, name := range check {
		pol, err := sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: aws.String(u.InstanceARN), PermissionSetArn: aws.String(ps)})
		if err != nil {
			return Verification{}, session.Wrap("sso:GetInlinePolicyForPermissionSet", region, err)
		}
		if name == "" {
			d, err := sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: aws.String(u.InstanceARN), PermissionSetArn: aws.String(ps)})
			if err != nil {
				return Verification{}, session.Wrap("sso:DescribePermissionSet", region, err)
			}
			name = aws.ToString(d.PermissionSet.Name)
		}
		if !hasSSODeny(aws.ToString(pol.InlinePolicy), u.ID) {
			return Verification{Detail: fmt.Sprintf("permission set %s reaches Identity Center user %s without warroom's deny", name, a.User)}, nil
		}
		names = append(names, name)
	}
	sort.Strings(names)
	roles, err := ssoRoleDenies(ctx, env, names, u.ID)
	if err != nil {
		return Verification{}, err
	}
	if missing := rolesWhere(roles, false); len(missing) > 0 {
		return Verification{Detail: "the deny is not provisioned to role(s) " + strings.Join(missing, ", ") + " in this account"}, nil
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("Identity Center user %s has no account assignment of its own; permission sets %s deny it (identitystore:UserId %s), provisioned",
		a.User, strings.Join(names, ", "), u.ID)}, nil
}

// Plan implements Action.
func (a *RestoreSSOUser) Plan(ctx context.Context, env *Env) (*Plan, error) {
	region := ssoRegion(env, a.Region)
	a.Region = region
	u, err := ReadSSOUser(ctx, env.Sess, region, a.User)
	if err != nil {
		return nil, err
	}
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Restore IAM Identity Center user %s (%s) in %s", a.User, u.ID, region),
		Undo: "sso-user " + a.User}
	// Every permission set carrying warroom's deny for the user.
	sso := env.Sess.SSOAdmin(region)
	pg := ssoadmin.NewListPermissionSetsPaginator(sso, &ssoadmin.ListPermissionSetsInput{InstanceArn: aws.String(u.InstanceARN)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("sso:ListPermissionSets", region, err)
		}
		for _, ps := range page.PermissionSets {
			pol, err := sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: aws.String(u.InstanceARN), PermissionSetArn: aws.String(ps)})
			if err != nil {
				return nil, session.Wrap("sso:GetInlinePolicyForPermissionSet", region, err)
			}
			doc := aws.ToString(pol.InlinePolicy)
			if !hasSSODeny(doc, u.ID) {
				continue
			}
			nd, err := withoutSSODeny(doc, u.ID)
			if err != nil {
				return nil, err
			}
			if nd == "" {
				p.Calls = append(p.Calls, ssoCall("sso:DeleteInlinePolicyFromPermissionSet", region, "InstanceArn", u.InstanceARN, "PermissionSetArn", ps))
			} else {
				p.Calls = append(p.Calls, ssoCall("sso:PutInlinePolicyToPermissionSet", region, "InstanceArn", u.InstanceARN, "PermissionSetArn", ps, "InlinePolicy", nd))
			}
			p.Calls = append(p.Calls, ssoCall("sso:ProvisionPermissionSet", region, "InstanceArn", u.InstanceARN, "PermissionSetArn", ps,
				"TargetType", string(ssotypes.ProvisionTargetTypeAllProvisionedAccounts)))
		}
	}
	if a.backup == nil {
		p.Warnings = append(p.Warnings, "No backup of the user's account assignments was found in the journal: only warroom's deny statements are lifted; assign its access again by hand.")
	} else {
		have := u.Own()
		for _, as := range a.backup.Assignments {
			if slices.ContainsFunc(have, func(h SSOAssignment) bool {
				return h.AccountID == as.AccountID && h.PermissionSetARN == as.PermissionSetARN
			}) {
				continue
			}
			p.Calls = append(p.Calls, ssoCall("sso:CreateAccountAssignment", region, "InstanceArn", u.InstanceARN, "PermissionSetArn", as.PermissionSetARN,
				"PrincipalType", string(ssotypes.PrincipalTypeUser), "PrincipalId", u.ID, "TargetId", as.AccountID, "TargetType", string(ssotypes.TargetTypeAwsAccount)))
			p.Findings = append(p.Findings, fmt.Sprintf("backed-up assignment: %s in account %s", as.PermissionSetName, as.AccountID))
		}
	}
	if len(p.Calls) == 0 {
		p.Already = true
	}
	return p, nil
}

// observe keeps the CreateAccountAssignment request ids.
func (a *RestoreSSOUser) observe(c state.Call, out any, _ *Outcome) {
	if o, ok := out.(*ssoadmin.CreateAccountAssignmentOutput); ok && o.AccountAssignmentCreationStatus != nil {
		a.pending = append(a.pending, aws.ToString(o.AccountAssignmentCreationStatus.RequestId))
	}
}

// Verify implements Action: no permission set reaching the user carries
// warroom's deny, and the backed-up assignments are there.
func (a *RestoreSSOUser) Verify(ctx context.Context, env *Env) (Verification, error) {
	region := ssoRegion(env, a.Region)
	u, err := readSSOSettled(ctx, env, region, a.User, a.pending, false)
	if err != nil {
		return Verification{}, err
	}
	for _, ps := range u.PermissionSets() {
		if hasSSODeny(u.Inline[ps], u.ID) {
			return Verification{Detail: fmt.Sprintf("permission set %s still denies Identity Center user %s", u.Names[ps], a.User)}, nil
		}
	}
	if a.backup != nil {
		have := u.Own()
		for _, as := range a.backup.Assignments {
			if !slices.ContainsFunc(have, func(h SSOAssignment) bool {
				return h.AccountID == as.AccountID && h.PermissionSetARN == as.PermissionSetARN
			}) {
				return Verification{Detail: fmt.Sprintf("assignment %s in account %s is not back", as.PermissionSetName, as.AccountID)}, nil
			}
		}
	}
	var names []string
	for _, n := range u.Names {
		names = append(names, n)
	}
	if a.backup != nil {
		for _, as := range a.backup.Assignments {
			names = append(names, as.PermissionSetName)
		}
	}
	roles, err := ssoRoleDenies(ctx, env, names, u.ID)
	if err != nil {
		return Verification{}, err
	}
	if still := rolesWhere(roles, true); len(still) > 0 {
		return Verification{Detail: "role(s) " + strings.Join(still, ", ") + " in this account still carry the deny (not provisioned again)"}, nil
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("Identity Center user %s: no permission set denies it; %d assignment(s) of its own", a.User, len(u.Own()))}, nil
}

// doSSO sends one sso-admin call of a plan (calls.go's do).
func doSSO(ctx context.Context, m *session.Mutators, c state.Call) (out any, md middleware.Metadata, err error) {
	p := c.Params
	cl := m.SSOAdmin(c.Region)
	inst, ps := aws.String(p["InstanceArn"]), aws.String(p["PermissionSetArn"])
	_, op, _ := strings.Cut(c.API, ":")
	switch op {
	case "PutInlinePolicyToPermissionSet":
		var o *ssoadmin.PutInlinePolicyToPermissionSetOutput
		o, err = cl.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps, InlinePolicy: aws.String(p["InlinePolicy"])})
		out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
	case "DeleteInlinePolicyFromPermissionSet":
		var o *ssoadmin.DeleteInlinePolicyFromPermissionSetOutput
		o, err = cl.DeleteInlinePolicyFromPermissionSet(ctx, &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps})
		out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
	case "ProvisionPermissionSet":
		var o *ssoadmin.ProvisionPermissionSetOutput
		in := &ssoadmin.ProvisionPermissionSetInput{InstanceArn: inst, PermissionSetArn: ps, TargetType: ssotypes.ProvisionTargetType(p["TargetType"])}
		if t := p["TargetId"]; t != "" {
			in.TargetId = aws.String(t)
		}
		o, err = cl.ProvisionPermissionSet(ctx, in)
		out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
	case "DeleteAccountAssignment":
		var o *ssoadmin.DeleteAccountAssignmentOutput
		o, err = cl.DeleteAccountAssignment(ctx, &ssoadmin.DeleteAccountAssignmentInput{InstanceArn: inst, PermissionSetArn: ps,
			PrincipalType: ssotypes.PrincipalType(p["PrincipalType"]), PrincipalId: aws.String(p["PrincipalId"]),
			TargetId: aws.String(p["TargetId"]), TargetType: ssotypes.TargetType(p["TargetType"])})
		out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
		if err == nil && o.AccountAssignmentDeletionStatus != nil && o.AccountAssignmentDeletionStatus.Status == ssotypes.StatusValuesFailed {
			err = fmt.Errorf("sso:DeleteAccountAssignment failed: %s", aws.ToString(o.AccountAssignmentDeletionStatus.FailureReason))
		}
	case "CreateAccountAssignment":
		var o *ssoadmin.CreateAccountAssignmentOutput
		o, err = cl.CreateAccountAssignment(ctx, &ssoadmin.CreateAccountAssignmentInput{InstanceArn: inst, PermissionSetArn: ps,
			PrincipalType: ssotypes.PrincipalType(p["PrincipalType"]), PrincipalId: aws.String(p["PrincipalId"]),
			TargetId: aws.String(p["TargetId"]), TargetType: ssotypes.TargetType(p["TargetType"])})
		out, md = o, meta(o, func() middleware.Metadata { return o.ResultMetadata })
	default:
		return nil, md, fmt.Errorf("%s: not a call warroom makes", c.API)
	}
	return out, md, err
}

// RestoreFromLedger is the undo of the last sso-user action on user (in
// region, when given) that the journal's ledger holds a backup for: a
// RestoreSSOUser carrying it. Without one it is a RestoreSSOUser with no
// backup (it lifts the deny statements only, and its plan says so).
func RestoreFromLedger(l *state.ActionLedger, user, region string) (*RestoreSSOUser, error) {
	ru := &RestoreSSOUser{User: user, Region: region}
	if l == nil {
		return ru, nil
	}
	target := Target{Kind: KindSSOUser, ID: user}.String()
	for i := len(l.Actions) - 1; i >= 0; i-- {
		act := l.Actions[i]
		if act.Intent.Action != "sso-user" || act.Intent.Target != target || act.Result == nil || len(act.Result.Prior) == 0 {
			continue
		}
		if region != "" && act.Intent.Region != "" && act.Intent.Region != region {
			continue
		}
		rebuilt, err := FromAction(act)
		if err != nil {
			return ru, err
		}
		if cu, ok := rebuilt.(*ContainSSOUser); ok && cu.backup != nil {
			if ru.Region == "" {
				ru.Region = cu.backup.Region
			}
			ru.backup = cu.backup
			return ru, nil
		}
	}
	return ru, nil
}
