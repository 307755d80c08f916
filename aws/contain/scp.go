package contain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// KindAccount is a member account of the organisation, by id.
const KindAccount Kind = "account"

// OrgAccessRole is the role Organizations makes in every account it
// creates, trusted by the management account: the deny SCP always spares
// it, so the organisation can still get in.
const OrgAccessRole = "OrganizationAccountAccessRole"

// AccountSCP attaches a deny-all service control policy to a compromised
// member account: every principal of the account is denied every action,
// except the incident-response roles (OrgAccessRole and the role warroom
// assumes there, Env.MemberRole). It is the organisation-level step: it
// stops the account's applications too, so it is never in the credential
// playbook. It runs through the organisation's management account (or a
// delegated administrator): the Env's own session. It refuses the
// management account (SCPs do not apply there) and the account warroom
// itself acts from.
type AccountSCP struct {
	Account string

	policyID string // the policy CreatePolicy made (or an earlier run left unattached)
}

// RemoveAccountSCP undoes AccountSCP: DetachPolicy, then DeletePolicy, of
// the policy warroom made for the account (SCPPolicyName).
type RemoveAccountSCP struct {
	Account string
}

// SCPPolicyName is the name of the deny SCP warroom makes for account:
// what undo and the read-back look for.
func SCPPolicyName(account string) string { return "warroom-deny-" + account }

// SCPDocument is the deny SCP for account, as CreatePolicy sends it:
// Deny * on * unless the principal is one of the incident-response roles
// of the account (aws:PrincipalARN, ArnNotLike). partition is the
// account's ("aws" when empty); roles are the role names to spare besides
// OrgAccessRole.
func SCPDocument(partition, account string, roles ...string) string {
	if partition == "" {
		partition = "aws"
	}
	names := []string{OrgAccessRole}
	for _, r := range roles {
		if r != "" && !slices.Contains(names, r) {
			names = append(names, r)
		}
	}
	arns := make([]string, len(names))
	for i, n := range names {
		arns[i] = fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, n)
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []any{map[string]any{
			"Sid":       "WarroomContainment",
			"Effect":    "Deny",
			"Action":    "*",
			"Resource":  "*",
			"Condition": map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalARN": arns}},
		}},
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// Name implements Action.
func (a *AccountSCP) Name() string { return "account-scp" }

// Target implements Action.
func (a *AccountSCP) Target() Target { return Target{Kind: KindAccount, ID: a.Account} }

// Undo implements Undoer.
func (a *AccountSCP) Undo() Action { return &RemoveAccountSCP{Account: a.Account} }

// Name implements Action.
func (a *RemoveAccountSCP) Name() string { return "remove-account-scp" }

// Target implements Action.
func (a *RemoveAccountSCP) Target() Target { return Target{Kind: KindAccount, ID: a.Account} }

// Undo implements Undoer.
func (a *RemoveAccountSCP) Undo() Action { return &AccountSCP{Account: a.Account} }

// scpState is what Organizations holds of warroom's SCP for an account.
type scpState struct {
	// ID and Content of the policy named SCPPolicyName ("" when none).
	ID, Content string
	// Attached: the policy is attached to the account.
	Attached bool
	// Others are the other SCPs attached to the account, by name.
	Others []string
}

// readSCP reads warroom's SCP for account: ListPoliciesForTarget (is it
// attached), else ListPolicies (was it made and left unattached), and
// DescribePolicy (its content).
func readSCP(ctx context.Context, env *Env, account string) (scpState, error) {
	var st scpState
	org := env.Sess.Organizations()
	name := SCPPolicyName(account)
	pg := organizations.NewListPoliciesForTargetPaginator(org, &organizations.ListPoliciesForTargetInput{
		TargetId: aws.String(account), Filter: orgtypes.PolicyTypeServiceControlPolicy})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		if err != nil {
			return st, session.Wrap("organizations:ListPoliciesForTarget", "", err)
		}
		for _, p := range out.Policies {
			if aws.ToString(p.Name) == name {
				st.ID, st.Attached = aws.ToString(p.Id), true
			} else {
				st.Others = append(st.Others, aws.ToString(p.Name))
			}
		}
	}
	if st.ID == "" {
		all := organizations.NewListPoliciesPaginator(org, &organizations.ListPoliciesInput{Filter: orgtypes.PolicyTypeServiceControlPolicy})
		for all.HasMorePages() && st.ID == "" {
			out, err := all.NextPage(ctx)
			if err != nil {
				return st, session.Wrap("organizations:ListPolicies", "", err)
			}
			for _, p := range out.Policies {
				if aws.ToString(p.Name) == name {
					st.ID = aws.ToString(p.Id)
					break
				}
			}
		}
	}
	if st.ID != "" {
		out, err := org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(st.ID)})
		if err != nil {
			return st, session.Wrap("organizations:DescribePolicy", "", err)
		}
		if out.Policy != nil {
			st.Content = aws.ToString(out.Policy.Content)
		}
	}
	return st, nil
}

// checkAccount refuses what an SCP must not be put on: not an account id,
// the account warroom acts from, the management account.
func checkAccount(ctx context.Context, env *Env, account string) (partition string, err error) {
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", fmt.Errorf("account %q: not an account id (twelve digits)", account)
	}
	self := func() error {
		return fmt.Errorf("account %s is the account warroom itself acts from (%s): a deny SCP there would cut the response off", account, env.Self.ARN)
	}
	if env.Sess == nil {
		if account == env.Self.AccountID {
			return "", self()
		}
		return "", errors.New("no session to read the organisation with")
	}
	org, err := env.Sess.Organizations().DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		if account == env.Self.AccountID {
			return "", self()
		}
		return "", session.Wrap("organizations:DescribeOrganization", "", err)
	}
	if o := org.Organization; o != nil && aws.ToString(o.MasterAccountId) == account {
		return "", fmt.Errorf("account %s is the organisation's management account: service control policies do not apply to it; contain its principals instead", account)
	}
	if account == env.Self.AccountID {
		return "", self()
	}
	partition = "aws"
	if o := org.Organization; o != nil {
		if a, ok := state.ParseARN(aws.ToString(o.Arn)); ok && a.Partition != "" {
			partition = a.Partition
		}
	}
	return partition, nil
}

// document is the SCP for the account as the Env would send it.
func (a *AccountSCP) document(env *Env, partition string) string {
	return SCPDocument(partition, a.Account, env.MemberRole)
}

// Plan implements Action.
func (a *AccountSCP) Plan(ctx context.Context, env *Env) (*Plan, error) {
	partition, err := checkAccount(ctx, env, a.Account)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	st, err := readSCP(ctx, env, a.Account)
	if err != nil {
		return nil, err
	}
	doc, name := a.document(env, partition), SCPPolicyName(a.Account)
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: "Attach a deny-all service control policy to account " + a.Account,
		Undo: "remove-account-scp " + a.Account + " (DetachPolicy, then DeletePolicy of " + name + ")"}
	spared := strings.Join(scpSpared(doc), ", ")
	p.Warnings = append(p.Warnings,
		"IMPACT: every principal of account "+a.Account+" except "+spared+" is denied every AWS action, the account's own applications included "+
			"(services calling AWS with its roles, users' keys, instances' roles): production in that account stops until the SCP is removed.",
		"The management account is not affected; service-linked roles are not restricted by SCPs.")
	if len(st.Others) > 0 {
		p.Findings = append(p.Findings, "other SCPs attached to the account: "+strings.Join(st.Others, ", "))
	}
	if st.ID != "" && !sameJSON(st.Content, doc) {
		return nil, fmt.Errorf("%s %s: a policy named %s (%s) exists with other content than warroom's: read it with `aws organizations describe-policy --policy-id %s` and remove it first", a.Name(), a.Account, name, st.ID, st.ID)
	}
	a.policyID = st.ID
	switch {
	case st.Attached:
		p.Already = true
		p.Findings = append(p.Findings, fmt.Sprintf("%s (%s) is already attached to %s", name, st.ID, a.Account))
		return p, nil
	case st.ID != "":
		p.Findings = append(p.Findings, fmt.Sprintf("%s (%s) exists, made by an earlier run, not attached: it is attached", name, st.ID))
	default:
		p.Calls = append(p.Calls, call("organizations:CreatePolicy", "", "Name", name, "Type", string(orgtypes.PolicyTypeServiceControlPolicy),
			"Description", "warroom containment of account "+a.Account+scpIncident(env), "Content", doc))
	}
	id := st.ID
	if id == "" {
		id = policyFromCreate
	}
	p.Calls = append(p.Calls, call("organizations:AttachPolicy", "", "PolicyId", id, "TargetId", a.Account))
	p.Findings = append(p.Findings, "the policy document: "+doc)
	return p, nil
}

// policyFromCreate is the PolicyId the plan shows for a policy CreatePolicy
// has not made yet: the Runner puts in the id it returns (binder).
const policyFromCreate = "(the id CreatePolicy returns)"

func scpIncident(env *Env) string {
	if env.Incident == "" {
		return ""
	}
	return ", incident " + env.Incident
}

// scpSpared returns the principal ARN patterns the document spares.
func scpSpared(doc string) []string {
	var d struct {
		Statement []struct {
			Condition map[string]map[string][]string
		}
	}
	if json.Unmarshal([]byte(doc), &d) != nil || len(d.Statement) == 0 {
		return nil
	}
	return d.Statement[0].Condition["ArnNotLike"]["aws:PrincipalARN"]
}

// observe keeps the id CreatePolicy returned.
func (a *AccountSCP) observe(c state.Call, out any, _ *Outcome) {
	if o, ok := out.(*organizations.CreatePolicyOutput); ok && c.API == "organizations:CreatePolicy" && o.Policy != nil && o.Policy.PolicySummary != nil {
		a.policyID = aws.ToString(o.Policy.PolicySummary.Id)
	}
}

// bind puts the created policy's id into AttachPolicy.
func (a *AccountSCP) bind(c state.Call) state.Call {
	if c.Params["PolicyId"] == policyFromCreate && a.policyID != "" {
		c.Params = maps.Clone(c.Params)
		c.Params["PolicyId"] = a.policyID
	}
	return c
}

// Verify implements Action: the policy named SCPPolicyName is attached
// to the account (ListPoliciesForTarget) with warroom's document
// (DescribePolicy).
func (a *AccountSCP) Verify(ctx context.Context, env *Env) (Verification, error) {
	partition := "aws"
	if p, ok := state.ParseARN(env.Self.ARN); ok && p.Partition != "" {
		partition = p.Partition
	}
	st, err := readSCP(ctx, env, a.Account)
	if err != nil {
		return Verification{}, err
	}
	name := SCPPolicyName(a.Account)
	switch {
	case !st.Attached:
		return Verification{Detail: name + " is not attached to account " + a.Account}, nil
	case !sameJSON(st.Content, a.document(env, partition)):
		return Verification{Detail: fmt.Sprintf("%s (%s) is attached to %s but its content is not warroom's: %s", name, st.ID, a.Account, st.Content)}, nil
	}
	return Verification{Holds: true, Detail: fmt.Sprintf("%s (%s) is attached to account %s with warroom's deny document", name, st.ID, a.Account)}, nil
}

// Plan implements Action.
func (a *RemoveAccountSCP) Plan(ctx context.Context, env *Env) (*Plan, error) {
	st, err := readSCP(ctx, env, a.Account)
	if err != nil {
		return nil, err
	}
	name := SCPPolicyName(a.Account)
	p := &Plan{Action: a.Name(), Target: a.Target(), Title: "Detach and delete warroom's deny SCP " + name + " from account " + a.Account,
		Undo: "account-scp " + a.Account}
	if st.ID == "" {
		p.Already = true
		p.Findings = append(p.Findings, "no policy named "+name+" exists")
		return p, nil
	}
	if st.Attached {
		p.Calls = append(p.Calls, call("organizations:DetachPolicy", "", "PolicyId", st.ID, "TargetId", a.Account))
	}
	p.Calls = append(p.Calls, call("organizations:DeletePolicy", "", "PolicyId", st.ID))
	p.Findings = append(p.Findings, fmt.Sprintf("%s (%s), attached: %v; the account's principals get back what their policies allow", name, st.ID, st.Attached))
	return p, nil
}

// Verify implements Action: no policy named SCPPolicyName is attached to
// the account, nor exists.
func (a *RemoveAccountSCP) Verify(ctx context.Context, env *Env) (Verification, error) {
	st, err := readSCP(ctx, env, a.Account)
	if err != nil {
		return Verification{}, err
	}
	name := SCPPolicyName(a.Account)
	switch {
	case st.Attached:
		return Verification{Detail: fmt.Sprintf("%s (%s) is still attached to account %s", name, st.ID, a.Account)}, nil
	case st.ID != "":
		return Verification{Detail: fmt.Sprintf("%s (%s) is detached from account %s but still exists", name, st.ID, a.Account)}, nil
	}
	return Verification{Holds: true, Detail: name + " is detached from account " + a.Account + " and deleted"}, nil
}
