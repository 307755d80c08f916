package sim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The Organizations API (JSON 1.1, X-Amz-Target AWSOrganizationsV20161128.*,
// a global service signed for us-east-1) over an Org. The management
// account may call every operation; a member account only
// DescribeOrganization, as at AWS. Lists page as AWS pages them
// (MaxResults 1–20, an opaque NextToken bound to the request).

const scpType = "SERVICE_CONTROL_POLICY"

// A nil o serves a standalone account: every operation answers
// AWSOrganizationsNotInUseException, as AWS does.
func organizationsService(o *Org, s *Sim) *Service {
	op := func(h func(*Request) (any, error), readOnly bool) Op {
		return Op{ReadOnly: readOnly, Handle: func(r *Request) (any, error) {
			var in map[string]any
			if len(r.Body) > 0 {
				if err := json.Unmarshal(r.Body, &in); err != nil {
					return nil, Errorf(400, "SerializationException", "Cannot parse the request body")
				}
			}
			if len(in) > 0 {
				params := map[string]any{}
				for k, v := range in {
					params[lowerFirst(k)] = v
				}
				r.RequestParameters = params
			}
			if o == nil {
				// A standalone account, as every Sim is until NewOrg
				// makes it one of an organisation's.
				return nil, Errorf(400, "AWSOrganizationsNotInUseException", "Your account is not a member of an organization.")
			}
			if s != o.mgmt && r.Op != "DescribeOrganization" {
				return nil, Errorf(400, "AccessDeniedException", "You don't have permissions to access this resource.")
			}
			return h(r)
		}}
	}
	return &Service{Name: "organizations", EventSource: "organizations.amazonaws.com", Protocol: ProtoJSON, Global: true,
		Ops: map[string]Op{
			"DescribeOrganization":             op(o.describeOrganization, true),
			"ListAccounts":                     op(o.listAccounts, true),
			"ListRoots":                        op(o.listRoots, true),
			"ListOrganizationalUnitsForParent": op(o.listOUsForParent, true),
			"ListAccountsForParent":            op(o.listAccountsForParent, true),
			"ListChildren":                     op(o.listChildren, true),
			"ListParents":                      op(o.listParents, true),
			"DescribeAccount":                  op(o.describeAccount, true),
			"DescribeOrganizationalUnit":       op(o.describeOU, true),
			"ListPolicies":                     op(o.listPolicies, true),
			"ListPoliciesForTarget":            op(o.listPoliciesForTarget, true),
			"ListTargetsForPolicy":             op(o.listTargetsForPolicy, true),
			"DescribePolicy":                   op(o.describePolicy, true),
			"CreatePolicy":                     op(o.createPolicy, false),
			"DeletePolicy":                     op(o.deletePolicy, false),
			"AttachPolicy":                     op(o.attachPolicy, false),
			"DetachPolicy":                     op(o.detachPolicy, false),
		}}
}

// orgInput is every field the operations read.
type orgInput struct {
	MaxResults  *int
	NextToken   string
	ParentID    string `json:"ParentId"`
	ChildID     string `json:"ChildId"`
	ChildType   string
	AccountID   string `json:"AccountId"`
	OUID        string `json:"OrganizationalUnitId"`
	PolicyID    string `json:"PolicyId"`
	TargetID    string `json:"TargetId"`
	Filter      string
	Name        string
	Description string
	Content     string
	Type        string
}

func orgErr(code, format string, args ...any) *Error { return Errorf(400, code, format, args...) }

func errOrgInput(msg string) *Error {
	return orgErr("InvalidInputException", "%s", msg)
}

func readOrgInput(r *Request) (orgInput, *Error) {
	var in orgInput
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &in); err != nil {
			return in, Errorf(400, "SerializationException", "Cannot parse the request body")
		}
	}
	return in, nil
}

// orgPage cuts items to one page: MaxResults (1–20, 20 when absent) from the
// offset NextToken names. The token is bound to the operation and its
// parameters.
func orgPage[T any](r *Request, in orgInput, items []T) ([]T, string, *Error) {
	max := 20
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 20 {
			return nil, "", errOrgInput("You provided a value that does not match the required pattern. MaxResults must be between 1 and 20.")
		}
		max = *in.MaxResults
	}
	bound := in
	bound.MaxResults, bound.NextToken = nil, ""
	b, _ := json.Marshal(bound)
	sum := sha256.Sum256(append([]byte(r.Op+"|"), b...))
	bind := hex.EncodeToString(sum[:6])
	from := 0
	if in.NextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		tb, off, ok := strings.Cut(string(raw), ":")
		n, aerr := strconv.Atoi(off)
		if err != nil || !ok || aerr != nil || tb != bind || n < 0 || n > len(items) {
			return nil, "", errOrgInput("You specified an invalid value for nextToken. You must get the value from the response to a previous call to the API.")
		}
		from = n
	}
	end := min(from+max, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d", bind, end))
	}
	return items[from:end], next, nil
}

type orgAccountOut struct {
	ID              string   `json:"Id"`
	Arn             string   `json:"Arn"`
	Email           string   `json:"Email"`
	Name            string   `json:"Name"`
	Status          string   `json:"Status"`
	State           string   `json:"State"`
	JoinedMethod    string   `json:"JoinedMethod"`
	JoinedTimestamp float64  `json:"JoinedTimestamp"`
	Paths           []string `json:"Paths,omitempty"`
}

func (o *Org) accountOut(a *orgAccount) orgAccountOut {
	return orgAccountOut{ID: a.ID, Arn: a.ARN, Email: a.Email, Name: a.Name, Status: "ACTIVE", State: "ACTIVE",
		JoinedMethod: a.JoinedMethod, JoinedTimestamp: float64(a.Joined.Unix())}
}

type policyTypeOut struct {
	Type   string `json:"Type"`
	Status string `json:"Status"`
}

func (o *Org) describeOrganization(r *Request) (any, error) {
	m := o.accounts[0]
	return map[string]any{"Organization": map[string]any{
		"Id": o.id, "Arn": o.arn, "FeatureSet": "ALL", "MasterAccountArn": m.ARN, "MasterAccountId": m.ID,
		"MasterAccountEmail": m.Email, "AvailablePolicyTypes": []policyTypeOut{{Type: scpType, Status: "ENABLED"}},
	}}, nil
}

func (o *Org) listAccounts(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	var all []orgAccountOut
	for _, a := range o.accounts {
		all = append(all, o.accountOut(a))
	}
	pg, next, e := orgPage(r, in, all)
	if e != nil {
		return nil, e
	}
	return listOut("Accounts", nonNil(pg), next), nil
}

// nonNil makes an empty list [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// listOut is a page of a list under key, with NextToken when more follow.
func listOut(key string, items any, next string) map[string]any {
	out := map[string]any{key: items}
	if next != "" {
		out["NextToken"] = next
	}
	return out
}

func (o *Org) listRoots(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	roots := []map[string]any{{"Id": o.root.ID, "Arn": o.root.ARN, "Name": o.root.Name,
		"PolicyTypes": []policyTypeOut{{Type: scpType, Status: "ENABLED"}}}}
	pg, next, e := orgPage(r, in, roots)
	if e != nil {
		return nil, e
	}
	return listOut("Roots", pg, next), nil
}

// parentKnownLocked checks a parent id (root or OU).
func (o *Org) parentKnownLocked(id string) *Error {
	if id == o.root.ID {
		return nil
	}
	for _, ou := range o.ous {
		if ou.ID == id {
			return nil
		}
	}
	if !strings.HasPrefix(id, "r-") && !strings.HasPrefix(id, "ou-") {
		return errOrgInput("You provided a value that does not match the required pattern.")
	}
	return orgErr("ParentNotFoundException", "We can't find a root or OU with the ParentId that you specified.")
}

func (o *Org) ouOut(ou *orgUnit) map[string]any {
	path := o.id + "/"
	for _, id := range o.pathOfLocked(ou.ID) {
		path += id + "/"
	}
	return map[string]any{"Id": ou.ID, "Arn": ou.ARN, "Name": ou.Name, "Path": path}
}

func (o *Org) listOUsForParent(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if e := o.parentKnownLocked(in.ParentID); e != nil {
		return nil, e
	}
	var all []map[string]any
	for _, ou := range o.ous {
		if ou.Parent == in.ParentID {
			all = append(all, o.ouOut(ou))
		}
	}
	pg, next, e := orgPage(r, in, all)
	if e != nil {
		return nil, e
	}
	return listOut("OrganizationalUnits", nonNil(pg), next), nil
}

func (o *Org) describeOU(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	for _, ou := range o.ous {
		if ou.ID == in.OUID {
			return map[string]any{"OrganizationalUnit": o.ouOut(ou)}, nil
		}
	}
	return nil, orgErr("OrganizationalUnitNotFoundException", "We can't find an OU with the OrganizationalUnitId that you specified.")
}

func (o *Org) listAccountsForParent(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if e := o.parentKnownLocked(in.ParentID); e != nil {
		return nil, e
	}
	var all []orgAccountOut
	for _, a := range o.accounts {
		if a.Parent == in.ParentID {
			all = append(all, o.accountOut(a))
		}
	}
	pg, next, e := orgPage(r, in, all)
	if e != nil {
		return nil, e
	}
	return listOut("Accounts", nonNil(pg), next), nil
}

type childOut struct {
	ID   string `json:"Id"`
	Type string `json:"Type"`
}

func (o *Org) listChildren(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if in.ChildType != "ACCOUNT" && in.ChildType != "ORGANIZATIONAL_UNIT" {
		return nil, errOrgInput("You provided a value that does not match the required pattern. ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.")
	}
	if e := o.parentKnownLocked(in.ParentID); e != nil {
		return nil, e
	}
	var all []childOut
	if in.ChildType == "ACCOUNT" {
		for _, a := range o.accounts {
			if a.Parent == in.ParentID {
				all = append(all, childOut{a.ID, "ACCOUNT"})
			}
		}
	} else {
		for _, ou := range o.ous {
			if ou.Parent == in.ParentID {
				all = append(all, childOut{ou.ID, "ORGANIZATIONAL_UNIT"})
			}
		}
	}
	pg, next, e := orgPage(r, in, all)
	if e != nil {
		return nil, e
	}
	return listOut("Children", nonNil(pg), next), nil
}

func (o *Org) listParents(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	parent := ""
	if a := o.byID[in.ChildID]; a != nil {
		parent = a.Parent
	}
	for _, ou := range o.ous {
		if ou.ID == in.ChildID {
			parent = ou.Parent
		}
	}
	if parent == "" {
		return nil, orgErr("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified.")
	}
	typ := "ORGANIZATIONAL_UNIT"
	if parent == o.root.ID {
		typ = "ROOT"
	}
	pg, next, e := orgPage(r, in, []childOut{{parent, typ}})
	if e != nil {
		return nil, e
	}
	return listOut("Parents", pg, next), nil
}

func (o *Org) describeAccount(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if !accountIDPattern.MatchString(in.AccountID) {
		return nil, errOrgInput("You provided a value that does not match the required pattern.")
	}
	a := o.byID[in.AccountID]
	if a == nil {
		return nil, orgErr("AccountNotFoundException", "You specified an account that doesn't exist.")
	}
	return map[string]any{"Account": o.accountOut(a)}, nil
}

type policySummaryOut struct {
	ID          string `json:"Id"`
	Arn         string `json:"Arn"`
	Name        string `json:"Name"`
	Description string `json:"Description"`
	Type        string `json:"Type"`
	AwsManaged  bool   `json:"AwsManaged"`
}

func summaryOf(p *scp) policySummaryOut {
	return policySummaryOut{ID: p.ID, Arn: p.ARN, Name: p.Name, Description: p.Description, Type: scpType, AwsManaged: p.AWSManaged}
}

// checkFilter accepts SERVICE_CONTROL_POLICY, the one policy type the
// drill organisation has enabled.
func checkFilter(f string) *Error {
	switch f {
	case scpType:
		return nil
	case "TAG_POLICY", "BACKUP_POLICY", "AISERVICES_OPT_OUT_POLICY", "CHATBOT_POLICY", "DECLARATIVE_POLICY_EC2",
		"RESOURCE_CONTROL_POLICY", "SECURITYHUB_POLICY":
		return orgErr("PolicyTypeNotEnabledException", "The specified policy type isn't currently enabled in this root.")
	}
	return errOrgInput("You provided a value that does not match the required pattern. Filter must be a policy type.")
}

func (o *Org) listPolicies(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if e := checkFilter(in.Filter); e != nil {
		return nil, e
	}
	var all []policySummaryOut
	for _, p := range o.policies {
		all = append(all, summaryOf(p))
	}
	pg, next, e := orgPage(r, in, all)
	if e != nil {
		return nil, e
	}
	return listOut("Policies", nonNil(pg), next), nil
}

// targetLocked finds a target (root, OU or account): its name, ARN and type.
func (o *Org) targetLocked(id string) (name, arn, typ string, ok bool) {
	if id == o.root.ID {
		return o.root.Name, o.root.ARN, "ROOT", true
	}
	for _, ou := range o.ous {
		if ou.ID == id {
			return ou.Name, ou.ARN, "ORGANIZATIONAL_UNIT", true
		}
	}
	if a := o.byID[id]; a != nil {
		return a.Name, a.ARN, "ACCOUNT", true
	}
	return "", "", "", false
}

func errTargetNotFound() *Error {
	return orgErr("TargetNotFoundException", "We can't find a root, OU, account, or policy with the TargetId that you specified.")
}

func errPolicyNotFound() *Error {
	return orgErr("PolicyNotFoundException", "We can't find a policy with the PolicyId that you specified.")
}

func (o *Org) listPoliciesForTarget(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if e := checkFilter(in.Filter); e != nil {
		return nil, e
	}
	if _, _, _, ok := o.targetLocked(in.TargetID); !ok {
		return nil, errTargetNotFound()
	}
	var all []policySummaryOut
	for _, id := range o.attached[in.TargetID] {
		if p := o.policyLocked(id); p != nil {
			all = append(all, summaryOf(p))
		}
	}
	pg, next, e := orgPage(r, in, all)
	if e != nil {
		return nil, e
	}
	return listOut("Policies", nonNil(pg), next), nil
}

type targetOut struct {
	TargetID string `json:"TargetId"`
	Arn      string `json:"Arn"`
	Name     string `json:"Name"`
	Type     string `json:"Type"`
}

// targetOrder is every target, root first, then OUs, then accounts.
func (o *Org) targetOrder() []string {
	ids := []string{o.root.ID}
	for _, ou := range o.ous {
		ids = append(ids, ou.ID)
	}
	for _, a := range o.accounts {
		ids = append(ids, a.ID)
	}
	return ids
}

func (o *Org) listTargetsForPolicy(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if o.policyLocked(in.PolicyID) == nil {
		return nil, errPolicyNotFound()
	}
	var all []targetOut
	for _, t := range o.targetOrder() {
		if slices.Contains(o.attached[t], in.PolicyID) {
			name, arn, typ, _ := o.targetLocked(t)
			all = append(all, targetOut{TargetID: t, Arn: arn, Name: name, Type: typ})
		}
	}
	pg, next, e := orgPage(r, in, all)
	if e != nil {
		return nil, e
	}
	return listOut("Targets", nonNil(pg), next), nil
}

func policyOut(p *scp) map[string]any {
	return map[string]any{"Policy": map[string]any{"PolicySummary": summaryOf(p), "Content": p.Content}}
}

func (o *Org) describePolicy(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	p := o.policyLocked(in.PolicyID)
	if p == nil {
		return nil, errPolicyNotFound()
	}
	return policyOut(p), nil
}

func (o *Org) createPolicy(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if in.Type != scpType {
		return nil, checkFilter(in.Type)
	}
	if in.Name == "" || len(in.Name) > 128 {
		return nil, errOrgInput("You provided a value that does not match the required pattern. Name must be 1 to 128 characters.")
	}
	if in.Description == "" && !strings.Contains(string(r.Body), `"Description"`) {
		return nil, errOrgInput("You provided a value that does not match the required pattern. Description is required.")
	}
	if len(in.Content) > 5120 {
		return nil, orgErr("ConstraintViolationException", "You have exceeded the maximum size of a policy document.")
	}
	if _, err := parsePolicy(in.Content); err != nil {
		return nil, orgErr("MalformedPolicyDocumentException", "The provided policy document doesn't meet the requirements of the specified policy type.")
	}
	for _, p := range o.policies {
		if p.Name == in.Name {
			return nil, orgErr("DuplicatePolicyException", "A policy with the same name already exists.")
		}
	}
	id := "p-" + o.ids.str("abcdefghijklmnopqrstuvwxyz0123456789", 8)
	p := &scp{ID: id, Name: in.Name, Description: in.Description, Content: in.Content,
		ARN: fmt.Sprintf("arn:aws:organizations::%s:policy/%s/service_control_policy/%s", o.mgmt.acct.ID, o.id, id)}
	o.policies = append(o.policies, p)
	r.ResponseElements = map[string]any{"policy": map[string]any{"policySummary": map[string]any{
		"id": p.ID, "arn": p.ARN, "name": p.Name, "description": p.Description, "type": scpType, "awsManaged": false},
		"content": p.Content}}
	return policyOut(p), nil
}

func (o *Org) deletePolicy(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	p := o.policyLocked(in.PolicyID)
	if p == nil {
		return nil, errPolicyNotFound()
	}
	if p.AWSManaged {
		return nil, orgErr("AccessDeniedException", "You don't have permissions to access this resource.")
	}
	for _, ids := range o.attached {
		if slices.Contains(ids, p.ID) {
			return nil, orgErr("PolicyInUseException", "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.")
		}
	}
	o.policies = slices.DeleteFunc(o.policies, func(q *scp) bool { return q == p })
	return struct{}{}, nil
}

func (o *Org) attachPolicy(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if o.policyLocked(in.PolicyID) == nil {
		return nil, errPolicyNotFound()
	}
	if _, _, _, ok := o.targetLocked(in.TargetID); !ok {
		return nil, errTargetNotFound()
	}
	if slices.Contains(o.attached[in.TargetID], in.PolicyID) {
		return nil, orgErr("DuplicatePolicyAttachmentException", "The selected policy is already attached to the specified target.")
	}
	o.attached[in.TargetID] = append(o.attached[in.TargetID], in.PolicyID)
	return struct{}{}, nil
}

func (o *Org) detachPolicy(r *Request) (any, error) {
	in, e := readOrgInput(r)
	if e != nil {
		return nil, e
	}
	if o.policyLocked(in.PolicyID) == nil {
		return nil, errPolicyNotFound()
	}
	if _, _, _, ok := o.targetLocked(in.TargetID); !ok {
		return nil, errTargetNotFound()
	}
	ids := o.attached[in.TargetID]
	if !slices.Contains(ids, in.PolicyID) {
		return nil, orgErr("PolicyNotAttachedException", "The policy isn't attached to the specified target in the specified root.")
	}
	if len(ids) == 1 {
		// Every root, OU and account keeps at least one SCP.
		return nil, orgErr("ConstraintViolationException", "You cannot remove the last service control policy from a target. Attach another policy first.")
	}
	o.attached[in.TargetID] = slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == in.PolicyID })
	return struct{}{}, nil
}
