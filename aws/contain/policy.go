package contain

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Policy names warroom gives what it attaches, so that anyone reading the
// principal later recognises them.
const (
	// RevokePolicyName is the inline revoke policy's name, as AWS's own
	// console names it ("Revoke active sessions").
	RevokePolicyName = "AWSRevokeOlderSessions"
	// QuarantinePolicyName is the inline deny-all policy's name.
	QuarantinePolicyName = "WarroomQuarantineDenyAll"
	// ManagedPath is the path of the customer-managed policies warroom
	// creates when an inline policy would not fit.
	ManagedPath = "/warroom/"
	// TagKey is the tag warroom puts on what it touched; its value is the
	// incident id.
	TagKey = "warroom-incident"
)

// Inline policy size caps, in characters without whitespace, as IAM counts.
const (
	UserInlineCap = 2048
	RoleInlineCap = 10240
)

// DenyAllDocument denies every action on every resource.
const DenyAllDocument = `{"Version":"2012-10-17","Statement":[{"Sid":"WarroomQuarantine","Effect":"Deny","Action":"*","Resource":"*"}]}`

// RevokeCutoff returns the revoke time for now: the next whole second.
// The condition compares at second precision, so a token minted earlier
// in the same second must fall before the cutoff.
func RevokeCutoff(now time.Time) time.Time {
	return now.UTC().Truncate(time.Second).Add(time.Second)
}

// RevokeDocument denies everything to temporary credentials issued before
// cutoff: AWS's "revoke older sessions" policy.
func RevokeDocument(cutoff time.Time) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],`+
		`"Condition":{"DateLessThan":{"aws:TokenIssueTime":"%s"}}}]}`, cutoff.UTC().Format(time.RFC3339))
}

// policySize counts a document's characters as IAM's quota does: without
// whitespace.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// decodeDoc undoes the URL encoding IAM returns documents in.
func decodeDoc(doc string) string {
	if d, err := url.QueryUnescape(doc); err == nil && strings.HasPrefix(strings.TrimSpace(d), "{") {
		return d
	}
	return doc
}

// attachedPolicy is a managed policy attached to a principal.
type attachedPolicy struct {
	Name     string `json:"name"`
	ARN      string `json:"arn"`
	Document string `json:"document,omitempty"` // read for warroom's own policies only
}

// principal is a user's or role's policies as read just now.
type principal struct {
	Kind     Kind
	Name     string
	ARN      string
	Path     string
	Inline   map[string]string // name → document (decoded)
	Order    []string          // inline names in the order IAM listed them
	Attached []attachedPolicy
}

// principalErr is err from reading a user or role: an ErrNotFound naming
// the call when AWS says the principal does not exist.
func principalErr(api string, kind Kind, name string, err error) error {
	err = session.Wrap(api, "", err)
	if session.Classify(err) == session.ClassNotFound {
		return notFound(err, "%s %s does not exist", kind, name)
	}
	return err
}

// requireUser fails, naming iam:GetUser's answer, when the user does not
// exist.
func requireUser(ctx context.Context, env *Env, name string) error {
	if name == "" {
		return errors.New("no user name")
	}
	if _, err := env.Sess.IAM().GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}); err != nil {
		return principalErr("iam:GetUser", KindUser, name, err)
	}
	return nil
}

// readPrincipal reads a user's or role's inline and attached policies.
func readPrincipal(ctx context.Context, env *Env, kind Kind, name string) (*principal, error) {
	cl := env.Sess.IAM()
	p := &principal{Kind: kind, Name: name, Inline: map[string]string{}}
	switch kind {
	case KindUser:
		u, err := cl.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)})
		if err != nil {
			return nil, principalErr("iam:GetUser", KindUser, name, err)
		}
		p.ARN, p.Path = aws.ToString(u.User.Arn), aws.ToString(u.User.Path)
		pages := iam.NewListUserPoliciesPaginator(cl, &iam.ListUserPoliciesInput{UserName: aws.String(name)})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return nil, session.Wrap("iam:ListUserPolicies", "", err)
			}
			p.Order = append(p.Order, out.PolicyNames...)
		}
		for _, pn := range p.Order {
			d, err := cl.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				return nil, session.Wrap("iam:GetUserPolicy", "", err)
			}
			p.Inline[pn] = decodeDoc(aws.ToString(d.PolicyDocument))
		}
		ap := iam.NewListAttachedUserPoliciesPaginator(cl, &iam.ListAttachedUserPoliciesInput{UserName: aws.String(name)})
		for ap.HasMorePages() {
			out, err := ap.NextPage(ctx)
			if err != nil {
				return nil, session.Wrap("iam:ListAttachedUserPolicies", "", err)
			}
			for _, a := range out.AttachedPolicies {
				p.Attached = append(p.Attached, attachedPolicy{Name: aws.ToString(a.PolicyName), ARN: aws.ToString(a.PolicyArn)})
			}
		}
	case KindRole:
		r, err := cl.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
		if err != nil {
			return nil, principalErr("iam:GetRole", KindRole, name, err)
		}
		p.ARN, p.Path = aws.ToString(r.Role.Arn), aws.ToString(r.Role.Path)
		pages := iam.NewListRolePoliciesPaginator(cl, &iam.ListRolePoliciesInput{RoleName: aws.String(name)})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return nil, session.Wrap("iam:ListRolePolicies", "", err)
			}
			p.Order = append(p.Order, out.PolicyNames...)
		}
		for _, pn := range p.Order {
			d, err := cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
			if err != nil {
				return nil, session.Wrap("iam:GetRolePolicy", "", err)
			}
			p.Inline[pn] = decodeDoc(aws.ToString(d.PolicyDocument))
		}
		ap := iam.NewListAttachedRolePoliciesPaginator(cl, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)})
		for ap.HasMorePages() {
			out, err := ap.NextPage(ctx)
			if err != nil {
				return nil, session.Wrap("iam:ListAttachedRolePolicies", "", err)
			}
			for _, a := range out.AttachedPolicies {
				p.Attached = append(p.Attached, attachedPolicy{Name: aws.ToString(a.PolicyName), ARN: aws.ToString(a.PolicyArn)})
			}
		}
	default:
		return nil, fmt.Errorf("%w: %s is not a user or role", ErrUnsupported, kind)
	}
	// warroom's own managed policies are read, so a fallback revoke or
	// quarantine is seen as well as an inline one.
	for i, a := range p.Attached {
		if !strings.Contains(a.ARN, ":policy"+ManagedPath) {
			continue
		}
		got, err := cl.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(a.ARN)})
		if err != nil {
			return nil, session.Wrap("iam:GetPolicy", "", err)
		}
		v, err := cl.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(a.ARN), VersionId: got.Policy.DefaultVersionId})
		if err != nil {
			return nil, session.Wrap("iam:GetPolicyVersion", "", err)
		}
		if v.PolicyVersion != nil {
			p.Attached[i].Document = decodeDoc(aws.ToString(v.PolicyVersion.Document))
		}
	}
	return p, nil
}

// cap is the principal's inline size cap.
func (p *principal) cap() int {
	if p.Kind == KindRole {
		return RoleInlineCap
	}
	return UserInlineCap
}

// inlineSizeWith is the total inline size if name were set to doc.
func (p *principal) inlineSizeWith(name, doc string) int {
	n := policySize(doc)
	for pn, d := range p.Inline {
		if pn != name {
			n += policySize(d)
		}
	}
	return n
}

// documents yields every inline and warroom-managed document with a label.
func (p *principal) documents(fn func(label, doc string)) {
	for _, pn := range p.Order {
		fn(pn+" (inline)", p.Inline[pn])
	}
	for _, a := range p.Attached {
		if a.Document != "" {
			fn(a.ARN, a.Document)
		}
	}
}

// revokeCutoff returns the latest revoke cutoff in effect on p, and which
// policy sets it.
func (p *principal) revokeCutoff() (cut time.Time, label string) {
	p.documents(func(l, doc string) {
		pd, err := state.ParsePolicy(doc)
		if err != nil {
			return
		}
		if c, ok := state.RevokeCutoff(pd); ok && c.After(cut) {
			cut, label = c, l
		}
	})
	return cut, label
}

// denyAll returns the label of a policy on p that denies everything
// without condition, or "".
func (p *principal) denyAll() string {
	found := ""
	p.documents(func(l, doc string) {
		if found != "" {
			return
		}
		pd, err := state.ParsePolicy(doc)
		if err != nil {
			return
		}
		for _, st := range pd.Statement {
			if strings.EqualFold(st.Effect, "Deny") && state.MatchesAll(st.Action) && state.MatchesAll(st.Resource) && len(st.Condition) == 0 {
				found = l
				return
			}
		}
	})
	return found
}

// nameParam is the parameter naming the principal in IAM calls.
func (p *principal) nameParam() string {
	if p.Kind == KindRole {
		return "RoleName"
	}
	return "UserName"
}

// iamOp returns op with "User" or "Role" filled in: iamOp("Put%sPolicy").
func (p *principal) iamOp(format string) string {
	if p.Kind == KindRole {
		return "iam:" + fmt.Sprintf(format, "Role")
	}
	return "iam:" + fmt.Sprintf(format, "User")
}

// putPolicyCalls returns the calls that put doc on p under name: an
// inline policy, or, when the inline cap would be exceeded, a
// customer-managed policy (named managedName under ManagedPath) attached
// to p. The finding says which and why.
func putPolicyCalls(env *Env, p *principal, name, doc, managedName string) ([]state.Call, string) {
	if size := p.inlineSizeWith(name, doc); size <= p.cap() {
		return []state.Call{call(p.iamOp("Put%sPolicy"), "", p.nameParam(), p.Name, "PolicyName", name, "PolicyDocument", doc)},
			fmt.Sprintf("inline policy %s: inline total %d of %d characters", name, size, p.cap())
	}
	arn := managedARN(env, managedName)
	return []state.Call{
			call("iam:CreatePolicy", "", "PolicyName", managedName, "Path", ManagedPath, "PolicyDocument", doc,
				"Description", "warroom containment "+env.Incident),
			call(p.iamOp("Attach%sPolicy"), "", p.nameParam(), p.Name, "PolicyArn", arn),
		}, fmt.Sprintf("inline policies of %s would exceed the %d-character cap (%d): falls back to customer-managed policy %s",
			p.Name, p.cap(), p.inlineSizeWith(name, doc), arn)
}

// managedARN is the ARN of a customer-managed policy warroom creates.
func managedARN(env *Env, name string) string {
	part := env.Self.Partition
	if part == "" {
		part = "aws"
	}
	return fmt.Sprintf("arn:%s:iam::%s:policy%s%s", part, env.Self.AccountID, ManagedPath, name)
}

// managedName builds a customer-managed policy name from a prefix, the
// principal and a time: IAM allows 128 characters of [\w+=,.@-].
func managedName(prefix string, p *principal, at time.Time) string {
	n := fmt.Sprintf("%s-%s-%s-%s", prefix, p.Kind, at.UTC().Format("20060102T150405Z"), p.Name)
	if len(n) > 128 {
		n = n[:128]
	}
	return n
}

// cannotRevoke says why p cannot take a revoke policy, or "".
func cannotRevoke(kind Kind, name, path string) string {
	switch {
	case kind == KindRoot:
		return "the root user cannot take a revoke policy (no policy applies to root)"
	case kind == KindRole && strings.HasPrefix(path, "/aws-service-role/"):
		return "service-linked role " + name + " cannot take a revoke policy (AWS manages its policies)"
	case kind == KindRole && (strings.HasPrefix(path, "/aws-reserved/sso.amazonaws.com/") || strings.HasPrefix(name, "AWSReservedSSO_")):
		return "Identity Center role " + name + " cannot take a revoke policy: revoke in IAM Identity Center (remove the permission set assignment)"
	}
	return ""
}
