package contain

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// IAM footholds a leaked administrator key leaves behind and the actions
// that take them away: a role trust policy widened to let an outside
// principal in (RestoreTrust), a policy attached to or put on a user, group
// or role (DetachPolicy, undone by RestorePolicy), a user put in a group
// (RemoveFromGroup, undone by AddToGroup). Each reads the current state
// when it plans, never takes a missing principal for "already done", keeps
// what it destroys in Plan.Prior, and verifies by reading back.

// iamDocument returns a policy document as text: IAM answers documents
// URL-encoded (RFC 3986), and callers may hold them either way.
func iamDocument(doc string) string {
	s := strings.TrimSpace(doc)
	if strings.HasPrefix(s, "{") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return strings.TrimSpace(d)
	}
	return s
}

// normalJSON returns doc (URL-encoded or not) as compact JSON with object
// keys sorted, so that two renderings of the same document compare equal.
func normalJSON(doc string) (string, error) {
	var v any
	if err := json.Unmarshal([]byte(iamDocument(doc)), &v); err != nil {
		return "", fmt.Errorf("policy document is not JSON: %w", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// trustPrincipals lists the principals a trust policy's Allow statements
// name, for the plan's findings ("AWS:arn:aws:iam::999988887777:root").
func trustPrincipals(doc string) []string {
	var t struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(iamDocument(doc)), &t) != nil {
		return nil
	}
	var sts []map[string]json.RawMessage
	if json.Unmarshal(t.Statement, &sts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(t.Statement, &one) != nil {
			return nil
		}
		sts = []map[string]json.RawMessage{one}
	}
	var out []string
	for _, st := range sts {
		var effect string
		_ = json.Unmarshal(st["Effect"], &effect)
		if effect != "Allow" {
			continue
		}
		var star string
		if json.Unmarshal(st["Principal"], &star) == nil {
			out = append(out, star)
			continue
		}
		var kinds map[string]json.RawMessage
		if json.Unmarshal(st["Principal"], &kinds) != nil {
			continue
		}
		for k, raw := range kinds {
			var many []string
			if json.Unmarshal(raw, &many) != nil {
				var one string
				if json.Unmarshal(raw, &one) != nil {
					continue
				}
				many = []string{one}
			}
			for _, v := range many {
				out = append(out, k+":"+v)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TrustPrior is the trust policy RestoreTrust replaced, kept in the result.
type TrustPrior struct {
	Role     string `json:"role"`
	Document string `json:"document"`
}

// RestoreTrust puts a role's trust policy back to Document, the known-good
// one (from the CloudTrail record of the change or an earlier inventory),
// with iam:UpdateAssumeRolePolicy. The document it replaces is kept in
// Plan.Prior; Undo puts that back.
type RestoreTrust struct {
	Role     string
	Document string

	prior string // the trust read at plan time
}

// Name implements Action.
func (a *RestoreTrust) Name() string { return "restore-trust" }

// Target implements Action.
func (a *RestoreTrust) Target() Target { return principalTarget(KindRole, a.Role) }

// currentTrust reads the role's trust policy, decoded.
func currentTrust(ctx context.Context, env *Env, role string) (string, error) {
	out, err := env.Sess.IAM().GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		return "", session.Wrap("iam:GetRole", "", err)
	}
	if out.Role == nil {
		return "", fmt.Errorf("iam:GetRole: no role %s in the answer", role)
	}
	return iamDocument(aws.ToString(out.Role.AssumeRolePolicyDocument)), nil
}

// Plan implements Action.
func (a *RestoreTrust) Plan(ctx context.Context, env *Env) (*Plan, error) {
	want, err := normalJSON(a.Document)
	if err != nil {
		return nil, fmt.Errorf("restore-trust %s: the document to restore: %w", a.Role, err)
	}
	cur, err := currentTrust(ctx, env, a.Role)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: "Restore the trust policy of role " + a.Role,
		Undo: "restore-trust role/" + a.Role + " with the document it replaced (kept in the result)"}
	if got, err := normalJSON(cur); err == nil && got == want {
		pl.Already = true
		pl.Findings = append(pl.Findings, "the trust policy of "+a.Role+" is already the known-good document")
		return pl, nil
	}
	a.prior = cur
	pl.Prior = TrustPrior{Role: a.Role, Document: cur}
	pl.Calls = []state.Call{call("iam:UpdateAssumeRolePolicy", "", "RoleName", a.Role, "PolicyDocument", iamDocument(a.Document))}
	pl.Findings = append(pl.Findings,
		fmt.Sprintf("the trust of %s now lets in: %s", a.Role, strings.Join(trustPrincipals(cur), ", ")),
		fmt.Sprintf("after the change: %s", strings.Join(trustPrincipals(a.Document), ", ")),
		"sessions already issued for the role are not ended: revoke the role's sessions too")
	return pl, nil
}

// Verify implements Action.
func (a *RestoreTrust) Verify(ctx context.Context, env *Env) (Verification, error) {
	want, err := normalJSON(a.Document)
	if err != nil {
		return Verification{}, err
	}
	cur, err := currentTrust(ctx, env, a.Role)
	if err != nil {
		return Verification{}, err
	}
	if got, err := normalJSON(cur); err == nil && got == want {
		return Verification{Holds: true, Detail: "the trust policy of " + a.Role + " is the known-good document"}, nil
	}
	return Verification{Detail: fmt.Sprintf("the trust policy of %s differs from the known-good document: it lets in %s",
		a.Role, strings.Join(trustPrincipals(cur), ", "))}, nil
}

// Undo implements Undoer: the trust read when the action planned goes
// back. Nil when it did not plan a change.
func (a *RestoreTrust) Undo() Action {
	if a.prior == "" {
		return nil
	}
	return &RestoreTrust{Role: a.Role, Document: a.prior}
}

// PolicyPrior is a policy DetachPolicy took off a principal, kept in the
// result: a managed policy's ARN, or an inline policy's name and document.
type PolicyPrior struct {
	Kind      Kind   `json:"kind"`
	Principal string `json:"principal"`
	PolicyARN string `json:"policy_arn,omitempty"`
	Inline    string `json:"inline,omitempty"`
	Document  string `json:"document,omitempty"`
}

// iamWord is the word IAM operations use for a principal kind.
func iamWord(k Kind) (string, error) {
	switch k {
	case KindUser:
		return "User", nil
	case KindGroup:
		return "Group", nil
	case KindRole:
		return "Role", nil
	}
	return "", fmt.Errorf("%w: %s is not a user, group or role", ErrUnsupported, k)
}

// principalPolicies reads the inline policy names and attached policy ARNs
// of a user, group or role. A principal that does not exist is an error.
func principalPolicies(ctx context.Context, env *Env, kind Kind, name string) (inline, attached []string, err error) {
	cl := env.Sess.IAM()
	n := aws.String(name)
	switch kind {
	case KindUser:
		p := iam.NewListUserPoliciesPaginator(cl, &iam.ListUserPoliciesInput{UserName: n})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, session.Wrap("iam:ListUserPolicies", "", err)
			}
			inline = append(inline, out.PolicyNames...)
		}
		a := iam.NewListAttachedUserPoliciesPaginator(cl, &iam.ListAttachedUserPoliciesInput{UserName: n})
		for a.HasMorePages() {
			out, err := a.NextPage(ctx)
			if err != nil {
				return nil, nil, session.Wrap("iam:ListAttachedUserPolicies", "", err)
			}
			for _, ap := range out.AttachedPolicies {
				attached = append(attached, aws.ToString(ap.PolicyArn))
			}
		}
	case KindGroup:
		p := iam.NewListGroupPoliciesPaginator(cl, &iam.ListGroupPoliciesInput{GroupName: n})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, session.Wrap("iam:ListGroupPolicies", "", err)
			}
			inline = append(inline, out.PolicyNames...)
		}
		a := iam.NewListAttachedGroupPoliciesPaginator(cl, &iam.ListAttachedGroupPoliciesInput{GroupName: n})
		for a.HasMorePages() {
			out, err := a.NextPage(ctx)
			if err != nil {
				return nil, nil, session.Wrap("iam:ListAttachedGroupPolicies", "", err)
			}
			for _, ap := range out.AttachedPolicies {
				attached = append(attached, aws.ToString(ap.PolicyArn))
			}
		}
	case KindRole:
		p := iam.NewListRolePoliciesPaginator(cl, &iam.ListRolePoliciesInput{RoleName: n})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				return nil, nil, session.Wrap("iam:ListRolePolicies", "", err)
			}
			inline = append(inline, out.PolicyNames...)
		}
		a := iam.NewListAttachedRolePoliciesPaginator(cl, &iam.ListAttachedRolePoliciesInput{RoleName: n})
		for a.HasMorePages() {
			out, err := a.NextPage(ctx)
			if err != nil {
				return nil, nil, session.Wrap("iam:ListAttachedRolePolicies", "", err)
			}
			for _, ap := range out.AttachedPolicies {
				attached = append(attached, aws.ToString(ap.PolicyArn))
			}
		}
	default:
		_, err := iamWord(kind)
		return nil, nil, err
	}
	return inline, attached, nil
}

// inlineDocument reads one inline policy of a user, group or role.
func inlineDocument(ctx context.Context, env *Env, kind Kind, name, policy string) (string, error) {
	cl := env.Sess.IAM()
	n, pn := aws.String(name), aws.String(policy)
	switch kind {
	case KindUser:
		out, err := cl.GetUserPolicy(ctx, &iam.GetUserPolicyInput{UserName: n, PolicyName: pn})
		if err != nil {
			return "", session.Wrap("iam:GetUserPolicy", "", err)
		}
		return iamDocument(aws.ToString(out.PolicyDocument)), nil
	case KindGroup:
		out, err := cl.GetGroupPolicy(ctx, &iam.GetGroupPolicyInput{GroupName: n, PolicyName: pn})
		if err != nil {
			return "", session.Wrap("iam:GetGroupPolicy", "", err)
		}
		return iamDocument(aws.ToString(out.PolicyDocument)), nil
	case KindRole:
		out, err := cl.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: n, PolicyName: pn})
		if err != nil {
			return "", session.Wrap("iam:GetRolePolicy", "", err)
		}
		return iamDocument(aws.ToString(out.PolicyDocument)), nil
	}
	_, err := iamWord(kind)
	return "", err
}

// selfInGroup reports whether the console's own user is in group.
func selfInGroup(ctx context.Context, env *Env, group string) (bool, error) {
	u := selfUser(env)
	if u == "" {
		return false, nil
	}
	groups, err := userGroups(ctx, env, u)
	if err != nil {
		return false, err
	}
	return slices.Contains(groups, group), nil
}

// userGroups lists the groups a user is in. A missing user is an error.
func userGroups(ctx context.Context, env *Env, user string) ([]string, error) {
	var out []string
	p := iam.NewListGroupsForUserPaginator(env.Sess.IAM(), &iam.ListGroupsForUserInput{UserName: aws.String(user)})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			return nil, session.Wrap("iam:ListGroupsForUser", "", err)
		}
		for _, g := range pg.Groups {
			out = append(out, aws.ToString(g.GroupName))
		}
	}
	return out, nil
}

// policySelfWarning marks pl when the principal is (or holds) the console
// itself: taking a policy away may take away the console's own rights.
func policySelfWarning(ctx context.Context, env *Env, pl *Plan, kind Kind, name string) error {
	self := isSelf(env, kind, name)
	if kind == KindGroup {
		in, err := selfInGroup(ctx, env, name)
		if err != nil {
			return err
		}
		self = in
	}
	if self {
		pl.Self = true
		pl.Warnings = append(pl.Warnings, fmt.Sprintf("the console itself runs as (or in) %s %s: this may take away its own rights", kind, name))
	}
	return nil
}

// DetachPolicy takes a policy off a user, group or role: detaches the
// managed policy PolicyARN, or deletes the inline policy Inline (its
// document is kept in Plan.Prior). Undo puts it back (RestorePolicy).
type DetachPolicy struct {
	Kind      Kind // KindUser, KindGroup or KindRole
	Principal string
	PolicyARN string // a managed policy to detach
	Inline    string // or the name of an inline policy to delete

	prior string // the inline document read at plan time
}

// Name implements Action.
func (a *DetachPolicy) Name() string { return "detach-policy" }

// Target implements Action.
func (a *DetachPolicy) Target() Target { return principalTarget(a.Kind, a.Principal) }

func (a *DetachPolicy) what() string {
	if a.PolicyARN != "" {
		return "managed policy " + a.PolicyARN
	}
	return "inline policy " + a.Inline
}

func (a *DetachPolicy) check() (string, error) {
	word, err := iamWord(a.Kind)
	if err != nil {
		return "", err
	}
	if (a.PolicyARN == "") == (a.Inline == "") {
		return "", fmt.Errorf("detach-policy %s/%s: give either a managed policy ARN or an inline policy name", a.Kind, a.Principal)
	}
	return word, nil
}

// Plan implements Action.
func (a *DetachPolicy) Plan(ctx context.Context, env *Env) (*Plan, error) {
	word, err := a.check()
	if err != nil {
		return nil, err
	}
	inline, attached, err := principalPolicies(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Take %s off %s %s", a.what(), a.Kind, a.Principal),
		Undo: fmt.Sprintf("restore-policy %s/%s (the %s is put back)", a.Kind, a.Principal, a.what())}
	nameParam := word + "Name"
	switch {
	case a.PolicyARN != "":
		if !slices.Contains(attached, a.PolicyARN) {
			pl.Already = true
			pl.Findings = append(pl.Findings, fmt.Sprintf("%s is not attached to %s %s", a.PolicyARN, a.Kind, a.Principal))
			return pl, nil
		}
		pl.Calls = []state.Call{call("iam:Detach"+word+"Policy", "", nameParam, a.Principal, "PolicyArn", a.PolicyARN)}
		pl.Prior = PolicyPrior{Kind: a.Kind, Principal: a.Principal, PolicyARN: a.PolicyARN}
	default:
		if !slices.Contains(inline, a.Inline) {
			pl.Already = true
			pl.Findings = append(pl.Findings, fmt.Sprintf("%s %s has no inline policy %s", a.Kind, a.Principal, a.Inline))
			return pl, nil
		}
		doc, err := inlineDocument(ctx, env, a.Kind, a.Principal, a.Inline)
		if err != nil {
			return nil, err
		}
		a.prior = doc
		pl.Calls = []state.Call{call("iam:Delete"+word+"Policy", "", nameParam, a.Principal, "PolicyName", a.Inline)}
		pl.Prior = PolicyPrior{Kind: a.Kind, Principal: a.Principal, Inline: a.Inline, Document: doc}
		pl.Findings = append(pl.Findings, fmt.Sprintf("the document of %s (%d characters) is kept in the result", a.Inline, policySize(doc)))
	}
	if a.Kind == KindGroup {
		pl.Findings = append(pl.Findings, "every member of group "+a.Principal+" loses what the policy granted")
	}
	if err := policySelfWarning(ctx, env, pl, a.Kind, a.Principal); err != nil {
		return nil, err
	}
	return pl, nil
}

// Verify implements Action.
func (a *DetachPolicy) Verify(ctx context.Context, env *Env) (Verification, error) {
	if _, err := a.check(); err != nil {
		return Verification{}, err
	}
	inline, attached, err := principalPolicies(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return Verification{}, err
	}
	if (a.PolicyARN != "" && slices.Contains(attached, a.PolicyARN)) || (a.Inline != "" && slices.Contains(inline, a.Inline)) {
		return Verification{Detail: fmt.Sprintf("%s is still on %s %s", a.what(), a.Kind, a.Principal)}, nil
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("%s is no longer on %s %s", a.what(), a.Kind, a.Principal)}, nil
}

// Undo implements Undoer: the managed policy is attached again, or the
// inline policy put back with the document read when the action planned.
func (a *DetachPolicy) Undo() Action {
	if a.Inline != "" && a.prior == "" {
		return nil
	}
	return &RestorePolicy{Kind: a.Kind, Principal: a.Principal, PolicyARN: a.PolicyARN, Inline: a.Inline, Document: a.prior}
}

// RestorePolicy puts a policy back on a user, group or role: attaches the
// managed policy PolicyARN, or puts the inline policy Inline with
// Document. It undoes DetachPolicy.
type RestorePolicy struct {
	Kind      Kind
	Principal string
	PolicyARN string
	Inline    string
	Document  string
}

// Name implements Action.
func (a *RestorePolicy) Name() string { return "restore-policy" }

// Target implements Action.
func (a *RestorePolicy) Target() Target { return principalTarget(a.Kind, a.Principal) }

func (a *RestorePolicy) detach() *DetachPolicy {
	return &DetachPolicy{Kind: a.Kind, Principal: a.Principal, PolicyARN: a.PolicyARN, Inline: a.Inline}
}

// Plan implements Action.
func (a *RestorePolicy) Plan(ctx context.Context, env *Env) (*Plan, error) {
	word, err := a.detach().check()
	if err != nil {
		return nil, err
	}
	inline, attached, err := principalPolicies(ctx, env, a.Kind, a.Principal)
	if err != nil {
		return nil, err
	}
	d := a.detach()
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Put %s back on %s %s", d.what(), a.Kind, a.Principal),
		Undo: fmt.Sprintf("detach-policy %s/%s", a.Kind, a.Principal)}
	if a.PolicyARN != "" {
		if slices.Contains(attached, a.PolicyARN) {
			pl.Already = true
			pl.Findings = append(pl.Findings, a.PolicyARN+" is attached")
			return pl, nil
		}
		pl.Calls = []state.Call{call("iam:Attach"+word+"Policy", "", word+"Name", a.Principal, "PolicyArn", a.PolicyARN)}
		return pl, nil
	}
	want, err := normalJSON(a.Document)
	if err != nil {
		return nil, fmt.Errorf("restore-policy %s/%s: %w", a.Kind, a.Principal, err)
	}
	if slices.Contains(inline, a.Inline) {
		doc, err := inlineDocument(ctx, env, a.Kind, a.Principal, a.Inline)
		if err != nil {
			return nil, err
		}
		if got, err := normalJSON(doc); err == nil && got == want {
			pl.Already = true
			pl.Findings = append(pl.Findings, "inline policy "+a.Inline+" holds the document")
			return pl, nil
		}
		pl.Findings = append(pl.Findings, "inline policy "+a.Inline+" exists with another document: it is replaced")
	}
	pl.Calls = []state.Call{call("iam:Put"+word+"Policy", "", word+"Name", a.Principal, "PolicyName", a.Inline, "PolicyDocument", iamDocument(a.Document))}
	return pl, nil
}

// Verify implements Action.
func (a *RestorePolicy) Verify(ctx context.Context, env *Env) (Verification, error) {
	v, err := a.detach().Verify(ctx, env)
	if err != nil {
		return v, err
	}
	if v.Holds {
		return Verification{Detail: a.detach().what() + " is not on " + a.Principal}, nil
	}
	if a.Inline != "" {
		doc, err := inlineDocument(ctx, env, a.Kind, a.Principal, a.Inline)
		if err != nil {
			return Verification{}, err
		}
		want, _ := normalJSON(a.Document)
		if got, err := normalJSON(doc); err != nil || got != want {
			return Verification{Detail: "inline policy " + a.Inline + " holds another document"}, nil
		}
	}
	return Verification{Holds: true, Detail: a.detach().what() + " is on " + a.Principal}, nil
}

// Undo implements Undoer.
func (a *RestorePolicy) Undo() Action { return a.detach() }

// RemoveFromGroup takes a user out of a group (an attacker's way to hand
// a user a group's rights). Undo puts it back (AddToGroup).
type RemoveFromGroup struct {
	User  string
	Group string
}

// Name implements Action.
func (a *RemoveFromGroup) Name() string { return "remove-from-group" }

// Target implements Action: the group, with the user.
func (a *RemoveFromGroup) Target() Target { return Target{Kind: KindGroup, ID: a.Group, User: a.User} }

// member reads whether the user is in the group; a missing user or group
// is an error.
func member(ctx context.Context, env *Env, user, group string) (bool, error) {
	groups, err := userGroups(ctx, env, user)
	if err != nil {
		return false, err
	}
	if slices.Contains(groups, group) {
		return true, nil
	}
	if _, err := env.Sess.IAM().GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String(group), MaxItems: aws.Int32(1)}); err != nil {
		return false, session.Wrap("iam:GetGroup", "", err)
	}
	return false, nil
}

// Plan implements Action.
func (a *RemoveFromGroup) Plan(ctx context.Context, env *Env) (*Plan, error) {
	in, err := member(ctx, env, a.User, a.Group)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Remove user %s from group %s", a.User, a.Group),
		Undo: fmt.Sprintf("add-to-group (user %s back in group %s)", a.User, a.Group)}
	if !in {
		pl.Already = true
		pl.Findings = append(pl.Findings, a.User+" is not in group "+a.Group)
		return pl, nil
	}
	pl.Calls = []state.Call{call("iam:RemoveUserFromGroup", "", "GroupName", a.Group, "UserName", a.User)}
	pl.Findings = append(pl.Findings, a.User+" loses every right group "+a.Group+" grants")
	if isSelf(env, KindUser, a.User) {
		pl.Self = true
		pl.Warnings = append(pl.Warnings, "the console itself runs as "+a.User+": this may take away its own rights")
	}
	return pl, nil
}

// Verify implements Action.
func (a *RemoveFromGroup) Verify(ctx context.Context, env *Env) (Verification, error) {
	in, err := member(ctx, env, a.User, a.Group)
	if err != nil {
		return Verification{}, err
	}
	if in {
		return Verification{Detail: a.User + " is still in group " + a.Group}, nil
	}
	return Verification{Holds: true, Detail: a.User + " is not in group " + a.Group}, nil
}

// Undo implements Undoer.
func (a *RemoveFromGroup) Undo() Action { return &AddToGroup{User: a.User, Group: a.Group} }

// AddToGroup puts a user back in a group. It undoes RemoveFromGroup.
type AddToGroup struct {
	User  string
	Group string
}

// Name implements Action.
func (a *AddToGroup) Name() string { return "add-to-group" }

// Target implements Action.
func (a *AddToGroup) Target() Target { return Target{Kind: KindGroup, ID: a.Group, User: a.User} }

// Plan implements Action.
func (a *AddToGroup) Plan(ctx context.Context, env *Env) (*Plan, error) {
	in, err := member(ctx, env, a.User, a.Group)
	if err != nil {
		return nil, err
	}
	pl := &Plan{Action: a.Name(), Target: a.Target(), Title: fmt.Sprintf("Add user %s to group %s", a.User, a.Group),
		Undo: fmt.Sprintf("remove-from-group (user %s out of group %s)", a.User, a.Group)}
	if in {
		pl.Already = true
		pl.Findings = append(pl.Findings, a.User+" is in group "+a.Group)
		return pl, nil
	}
	pl.Calls = []state.Call{call("iam:AddUserToGroup", "", "GroupName", a.Group, "UserName", a.User)}
	return pl, nil
}

// Verify implements Action.
func (a *AddToGroup) Verify(ctx context.Context, env *Env) (Verification, error) {
	in, err := member(ctx, env, a.User, a.Group)
	if err != nil {
		return Verification{}, err
	}
	if !in {
		return Verification{Detail: a.User + " is not in group " + a.Group}, nil
	}
	return Verification{Holds: true, Detail: a.User + " is in group " + a.Group}, nil
}

// Undo implements Undoer.
func (a *AddToGroup) Undo() Action { return &RemoveFromGroup{User: a.User, Group: a.Group} }

// footholdFromIntent rebuilds the actions of this file from a journaled
// intent: the target names the principal, the planned call the rest.
// ok is false for other actions.
func footholdFromIntent(in state.ActionIntent) (a Action, ok bool, err error) {
	param := func(k string) string {
		for _, c := range in.Plan {
			if v := c.Params[k]; v != "" {
				return v
			}
		}
		return ""
	}
	principal := func() (Kind, string, error) {
		for _, k := range []Kind{KindUser, KindGroup, KindRole} {
			if name, ok := strings.CutPrefix(in.Target, string(k)+"/"); ok && name != "" {
				return k, name, nil
			}
		}
		return "", "", fmt.Errorf("intent %s: target %q: want user/NAME, group/NAME or role/NAME", in.ActionID, in.Target)
	}
	switch in.Action {
	case "restore-trust":
		_, name, err := principal()
		return &RestoreTrust{Role: name, Document: param("PolicyDocument")}, true, err
	case "detach-policy", "restore-policy":
		k, name, err := principal()
		if in.Action == "detach-policy" {
			return &DetachPolicy{Kind: k, Principal: name, PolicyARN: param("PolicyArn"), Inline: param("PolicyName")}, true, err
		}
		return &RestorePolicy{Kind: k, Principal: name, PolicyARN: param("PolicyArn"), Inline: param("PolicyName"),
			Document: param("PolicyDocument")}, true, err
	case "remove-from-group", "add-to-group":
		_, group, err := principal()
		if in.Action == "remove-from-group" {
			return &RemoveFromGroup{User: param("UserName"), Group: group}, true, err
		}
		return &AddToGroup{User: param("UserName"), Group: group}, true, err
	}
	return nil, false, nil
}
