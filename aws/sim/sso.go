package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// IAM Identity Center: the sso-admin API (JSON 1.1, X-Amz-Target
// SWBExternalService.*, signing name "sso", CloudTrail eventSource
// sso.amazonaws.com) and the identity store's (JSON 1.1, AWSIdentityStore.*,
// identitystore.amazonaws.com), over one instance in the drill account's
// home Region (EnableIdentityCenter). Its permission sets are provisioned
// into the drill account as roles AWSReservedSSO_<name>_<16 hex> under
// /aws-reserved/sso.amazonaws.com/, holding the permission set's inline
// policy (AwsSSOInlinePolicy) and managed policies; SignInSSO mints a user's
// session on such a role, as the access portal does, with the user's
// identity store id (identitystore:UserId) and session name (aws:userid
// ROLEID:USERNAME) for conditions. As at AWS, PutInlinePolicyToPermissionSet
// changes the roles only once ProvisionPermissionSet runs, deleting an
// assignment does not end sessions already issued, and account-assignment
// and provisioning requests answer IN_PROGRESS (the Describe…Status
// operations then say SUCCEEDED: the drill completes them at once). A
// Region without the instance lists no instances ("not enabled").

// ssoRolePath is the path of the roles Identity Center provisions.
const ssoRolePath = "/aws-reserved/sso.amazonaws.com/"

// ssoInlinePolicyName is the role's inline policy a permission set's
// inline policy is provisioned as.
const ssoInlinePolicyName = "AwsSSOInlinePolicy"

type ssoUser struct {
	ID, UserName, DisplayName, Email string
}

type ssoGroup struct {
	ID, Name string
	// Members maps a member's user id to the membership id.
	Members map[string]string
}

type ssoPermSet struct {
	ARN, Name, Description string
	Inline                 string
	Managed                []string
	Created                time.Time
	role                   string // the role name provisioned in the account ("" before)
}

type ssoAssignment struct {
	PermissionSetARN, PrincipalType, PrincipalID, AccountID string
}

type ssoRequest struct {
	ID, Status, Kind string
	Assignment       ssoAssignment
	PermissionSetARN string
	Created          time.Time
}

type ssoState struct {
	instanceARN, storeID, region string
	created                      time.Time
	users                        []*ssoUser
	groups                       []*ssoGroup
	permSets                     []*ssoPermSet
	assignments                  []ssoAssignment
	requests                     map[string]*ssoRequest
}

func (s *Sim) ssoStateLocked() *ssoState {
	return s.State("sso", func() any { return &ssoState{requests: map[string]*ssoRequest{}} }).(*ssoState)
}

// ssoOp wraps a handler: the JSON body decoded into in, the request's
// parameters recorded in lowerCamelCase (values named by hide replaced as
// CloudTrail hides identity store attributes), and the instance checked.
func (s *Sim) ssoOp(readOnly bool, h func(r *Request, st *ssoState, in map[string]any) (any, error)) Op {
	return Op{ReadOnly: readOnly, Handle: func(r *Request) (any, error) {
		in := map[string]any{}
		if len(r.Body) > 0 {
			if err := json.Unmarshal(r.Body, &in); err != nil {
				return nil, Errorf(400, "SerializationException", "Cannot parse the request body")
			}
		}
		params := map[string]any{}
		for k, v := range in {
			if k == "NextToken" || k == "MaxResults" {
				continue
			}
			params[lowerFirst(k)] = ssoHide(k, v)
		}
		if len(params) > 0 {
			r.RequestParameters = params
		}
		return h(r, s.ssoStateLocked(), in)
	}}
}

// ssoHide replaces the identity store attribute values CloudTrail does not
// show (user names, e-mail addresses in filters and alternate identifiers).
func ssoHide(k string, v any) any {
	switch k {
	case "AlternateIdentifier", "Filters":
		return "HIDDEN_DUE_TO_SECURITY_REASONS"
	}
	return v
}

func ssoStr(in map[string]any, k string) string {
	v, _ := in[k].(string)
	return v
}

func ssoAdminService(s *Sim) *Service {
	return &Service{Name: "sso", EventSource: "sso.amazonaws.com", Protocol: ProtoJSON,
		Ops: map[string]Op{
			"ListInstances":                           s.ssoOp(true, s.ssoListInstances),
			"ListPermissionSets":                      s.ssoOp(true, s.ssoListPermissionSets),
			"DescribePermissionSet":                   s.ssoOp(true, s.ssoDescribePermissionSet),
			"GetInlinePolicyForPermissionSet":         s.ssoOp(true, s.ssoGetInlinePolicy),
			"PutInlinePolicyToPermissionSet":          s.ssoOp(false, s.ssoPutInlinePolicy),
			"DeleteInlinePolicyFromPermissionSet":     s.ssoOp(false, s.ssoDeleteInlinePolicy),
			"ProvisionPermissionSet":                  s.ssoOp(false, s.ssoProvision),
			"DescribePermissionSetProvisioningStatus": s.ssoOp(true, s.ssoDescribeRequest("PermissionSetProvisioningStatus", "ProvisionPermissionSet")),
			"ListAccountAssignments":                  s.ssoOp(true, s.ssoListAccountAssignments),
			"ListAccountAssignmentsForPrincipal":      s.ssoOp(true, s.ssoListAssignmentsForPrincipal),
			"CreateAccountAssignment":                 s.ssoOp(false, s.ssoAssign(true)),
			"DeleteAccountAssignment":                 s.ssoOp(false, s.ssoAssign(false)),
			"DescribeAccountAssignmentCreationStatus": s.ssoOp(true, s.ssoDescribeRequest("AccountAssignmentCreationStatus", "CreateAccountAssignment")),
			"DescribeAccountAssignmentDeletionStatus": s.ssoOp(true, s.ssoDescribeRequest("AccountAssignmentDeletionStatus", "DeleteAccountAssignment")),
		}}
}

func identityStoreService(s *Sim) *Service {
	return &Service{Name: "identitystore", EventSource: "identitystore.amazonaws.com", Protocol: ProtoJSON,
		Ops: map[string]Op{
			"GetUserId":                     s.ssoOp(true, s.idsGetUserID),
			"DescribeUser":                  s.ssoOp(true, s.idsDescribeUser),
			"ListUsers":                     s.ssoOp(true, s.idsListUsers),
			"ListGroupMembershipsForMember": s.ssoOp(true, s.idsListMemberships),
			"DescribeGroup":                 s.ssoOp(true, s.idsDescribeGroup),
			"ListGroupMemberships":          s.ssoOp(true, s.idsListGroupMemberships),
		}}
}

// EnableIdentityCenter makes the account's IAM Identity Center instance
// in its home Region (idempotent) and returns its ARN and identity store id.
func (s *Sim) EnableIdentityCenter() (instanceARN, identityStoreID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ssoStateLocked()
	if st.instanceARN == "" {
		st.instanceARN = "arn:aws:sso:::instance/ssoins-" + s.ids.str(lowerHex, 16)
		st.storeID = "d-" + s.ids.str(lowerHex, 10)
		st.region = HomeRegion
		st.created = s.clock.Now().UTC().Truncate(time.Second)
	}
	return st.instanceARN, st.storeID
}

// AddSSOUser adds a user to the identity store and returns its id.
func (s *Sim) AddSSOUser(userName, displayName, email string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ssoStateLocked()
	if st.instanceARN == "" {
		return "", fmt.Errorf("sim: Identity Center is not enabled")
	}
	if st.user(userName) != nil {
		return "", fmt.Errorf("sim: Identity Center user %s exists", userName)
	}
	u := &ssoUser{ID: st.storeID[2:12] + "-" + s.ids.uuid()[9:], UserName: userName, DisplayName: displayName, Email: email}
	st.users = append(st.users, u)
	return u.ID, nil
}

// AddSSOGroup adds a group with the named users as members.
func (s *Sim) AddSSOGroup(name string, members ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ssoStateLocked()
	if st.instanceARN == "" {
		return fmt.Errorf("sim: Identity Center is not enabled")
	}
	g := &ssoGroup{ID: st.storeID[2:12] + "-" + s.ids.uuid()[9:], Name: name, Members: map[string]string{}}
	for _, m := range members {
		u := st.user(m)
		if u == nil {
			return fmt.Errorf("sim: no Identity Center user %s", m)
		}
		g.Members[u.ID] = s.ids.uuid()
	}
	st.groups = append(st.groups, g)
	return nil
}

// AddPermissionSet makes a permission set with an inline policy (may be
// empty) and managed policy ARNs, and returns its ARN.
func (s *Sim) AddPermissionSet(name, inline string, managed ...string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ssoStateLocked()
	if st.instanceARN == "" {
		return "", fmt.Errorf("sim: Identity Center is not enabled")
	}
	ps := &ssoPermSet{ARN: "arn:aws:sso:::permissionSet/" + strings.TrimPrefix(st.instanceARN, "arn:aws:sso:::instance/") + "/ps-" + s.ids.str(lowerHex, 16),
		Name: name, Inline: inline, Managed: managed, Created: s.clock.Now().UTC().Truncate(time.Second)}
	st.permSets = append(st.permSets, ps)
	return ps.ARN, nil
}

// AssignSSO assigns a permission set (by name) to a user or group (by
// name) in the drill account, provisioning its role.
func (s *Sim) AssignSSO(principal, permissionSet string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ssoStateLocked()
	ps := st.permSetByName(permissionSet)
	if ps == nil {
		return fmt.Errorf("sim: no permission set %s", permissionSet)
	}
	a := ssoAssignment{PermissionSetARN: ps.ARN, AccountID: s.acct.ID}
	if u := st.user(principal); u != nil {
		a.PrincipalType, a.PrincipalID = "USER", u.ID
	} else if g := st.group(principal); g != nil {
		a.PrincipalType, a.PrincipalID = "GROUP", g.ID
	} else {
		return fmt.Errorf("sim: no Identity Center user or group %s", principal)
	}
	if !slices.Contains(st.assignments, a) {
		st.assignments = append(st.assignments, a)
	}
	s.ssoProvisionLocked(st, ps)
	return nil
}

// SSORoleName returns the name of the role a permission set is provisioned
// as in the drill account ("" when it is not).
func (s *Sim) SSORoleName(permissionSet string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ps := s.ssoStateLocked().permSetByName(permissionSet); ps != nil {
		return ps.role
	}
	return ""
}

// SignInSSO is an Identity Center user signing in to the access portal and
// choosing a permission set of the drill account: it mints a session of the
// permission set's role named after the user, as the portal does (an hour),
// when the user is assigned the permission set in the account, directly or
// through a group; else it fails, as the portal offers nothing. The sign-in
// is recorded as sso.amazonaws.com's Federate.
func (s *Sim) SignInSSO(userName, permissionSet, sourceIP string) (Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.ssoStateLocked()
	u := st.user(userName)
	ps := st.permSetByName(permissionSet)
	if u == nil || ps == nil {
		return Credentials{}, fmt.Errorf("sim: no Identity Center user %s or permission set %s", userName, permissionSet)
	}
	if !st.reaches(u.ID, ps.ARN, s.acct.ID) {
		return Credentials{}, fmt.Errorf("sim: %s is not assigned %s in account %s", userName, permissionSet, s.acct.ID)
	}
	ro := s.acct.roles[ps.role]
	if ro == nil {
		return Credentials{}, fmt.Errorf("sim: %s is not provisioned in account %s", permissionSet, s.acct.ID)
	}
	now := s.clock.Now()
	c := &credential{ID: s.ids.prefixed("ASIA"), Secret: s.ids.secret(), Token: s.ids.token(), Kind: credRole, Role: ro,
		Session: userName, Status: "Active", Created: now.Truncate(time.Second), Expires: now.Truncate(time.Second).Add(time.Hour),
		SSOUserID: u.ID}
	s.acct.keys[c.ID] = c
	ro.LastUsed, ro.LastRegion = now, st.region
	rec := ctRecord{
		EventVersion: "1.08",
		UserIdentity: ctIdentity{Type: "Unknown", PrincipalID: st.storeID + "-" + u.ID, AccountID: s.acct.ID, UserName: userName},
		EventTime:    isoTime(now), EventSource: "sso.amazonaws.com", EventName: "Federate", AWSRegion: st.region,
		SourceIPAddress: sourceIP, UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
		RequestParameters: nil, ResponseElements: nil,
		AdditionalEventData: map[string]any{"AccountId": s.acct.ID, "RoleName": ps.Name},
		RequestID:           s.ids.uuid(), EventID: s.ids.uuid(), ReadOnly: false, EventType: "AwsServiceEvent",
		ManagementEvent: true, RecipientAccountID: s.acct.ID, EventCategory: "Management",
	}
	if raw, err := json.Marshal(rec); err == nil {
		s.addEventLocked(&event{account: s.acct.ID, seq: len(s.trail.events), raw: raw, time: now.Truncate(time.Second),
			visibleAt: now.Add(s.scaled(s.opts.DeliveryDelay)), region: st.region, id: rec.EventID, name: rec.EventName,
			source: rec.EventSource, user: userName}, rec.RequestID)
	}
	return Credentials{AccessKeyID: c.ID, SecretAccessKey: c.Secret, SessionToken: c.Token, Expires: c.Expires}, nil
}

// ssoFind returns the first of xs that ok accepts, or nil.
func ssoFind[T any](xs []*T, ok func(*T) bool) *T {
	for _, x := range xs {
		if ok(x) {
			return x
		}
	}
	return nil
}

func (st *ssoState) user(name string) *ssoUser {
	return ssoFind(st.users, func(u *ssoUser) bool { return u.UserName == name })
}

func (st *ssoState) userByID(id string) *ssoUser {
	return ssoFind(st.users, func(u *ssoUser) bool { return u.ID == id })
}

func (st *ssoState) group(name string) *ssoGroup {
	return ssoFind(st.groups, func(g *ssoGroup) bool { return g.Name == name })
}

func (st *ssoState) groupByID(id string) *ssoGroup {
	return ssoFind(st.groups, func(g *ssoGroup) bool { return g.ID == id })
}

func (st *ssoState) permSetByName(name string) *ssoPermSet {
	return ssoFind(st.permSets, func(p *ssoPermSet) bool { return p.Name == name })
}

func (st *ssoState) permSet(arn string) *ssoPermSet {
	return ssoFind(st.permSets, func(p *ssoPermSet) bool { return p.ARN == arn })
}

// reaches reports whether user id is assigned permission set psARN in
// account, directly or through a group.
func (st *ssoState) reaches(id, psARN, account string) bool {
	for _, a := range st.assignments {
		if a.PermissionSetARN != psARN || a.AccountID != account {
			continue
		}
		if a.PrincipalType == "USER" && a.PrincipalID == id {
			return true
		}
		if a.PrincipalType == "GROUP" {
			for _, g := range st.groups {
				if _, ok := g.Members[id]; ok && g.ID == a.PrincipalID {
					return true
				}
			}
		}
	}
	return false
}

// ssoProvisionLocked makes or updates the permission set's role in the
// account from the permission set as it is now.
func (s *Sim) ssoProvisionLocked(st *ssoState, ps *ssoPermSet) {
	if ps.role == "" {
		sum := sha256.Sum256([]byte(ps.ARN + s.acct.ID))
		ps.role = "AWSReservedSSO_" + ps.Name + "_" + hex.EncodeToString(sum[:8])
	}
	ro := s.acct.roles[ps.role]
	if ro == nil {
		ro = s.addRoleLocked(ps.role, ssoRolePath, 3600, s.clock.Now())
		ro.Trust = fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::%s:saml-provider/AWSSSO_%s_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`,
			s.acct.ID, st.storeID[2:])
	}
	ro.Inline = nil
	if ps.Inline != "" {
		ro.Inline = []namedPolicy{{Name: ssoInlinePolicyName, Document: ps.Inline}}
	}
	ro.Attached = slices.Clone(ps.Managed)
}

// ssoInstanceErr checks the InstanceArn of a request.
func (st *ssoState) instanceErr(r *Request, in map[string]any) *Error {
	arn := ssoStr(in, "InstanceArn")
	if arn == "" {
		return Errorf(400, "ValidationException", "1 validation error detected: Value null at 'instanceArn' failed to satisfy constraint: Member must not be null")
	}
	if st.instanceARN == "" || arn != st.instanceARN || r.Region != st.region {
		return Errorf(400, "ResourceNotFoundException", "Instance %s does not exist", arn)
	}
	return nil
}

func (st *ssoState) psErr(in map[string]any) (*ssoPermSet, *Error) {
	ps := st.permSet(ssoStr(in, "PermissionSetArn"))
	if ps == nil {
		return nil, Errorf(400, "ResourceNotFoundException", "Could not find PermissionSet with id %s", ssoStr(in, "PermissionSetArn"))
	}
	return ps, nil
}

// ssoList is a list operation's answer: one page of items under key, and
// NextToken when more follow.
func ssoList[T any](in map[string]any, key string, items []T) (any, error) {
	page, next, e := ssoPage(in, items)
	if e != nil {
		return nil, e
	}
	out := map[string]any{key: page}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

// ssoPage cuts items to a page of MaxResults (default 100) from the offset
// NextToken names.
func ssoPage[T any](in map[string]any, items []T) ([]T, string, *Error) {
	max := 100
	if v, ok := in["MaxResults"].(float64); ok {
		if v < 1 || v > 100 {
			return nil, "", Errorf(400, "ValidationException", "1 validation error detected: Value '%v' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100", v)
		}
		max = int(v)
	}
	from := 0
	if t := ssoStr(in, "NextToken"); t != "" {
		if _, err := fmt.Sscanf(t, "ssotok-%d", &from); err != nil || from < 0 || from > len(items) {
			return nil, "", Errorf(400, "ValidationException", "Invalid NextToken")
		}
	}
	end := min(from+max, len(items))
	next := ""
	if end < len(items) {
		next = fmt.Sprintf("ssotok-%d", end)
	}
	return items[from:end], next, nil
}

func (s *Sim) ssoListInstances(r *Request, st *ssoState, in map[string]any) (any, error) {
	var out []map[string]any
	if st.instanceARN != "" && r.Region == st.region {
		out = append(out, map[string]any{"InstanceArn": st.instanceARN, "IdentityStoreId": st.storeID, "OwnerAccountId": s.acct.ID,
			"Status": "ACTIVE", "CreatedDate": float64(st.created.Unix())})
	}
	return map[string]any{"Instances": out}, nil
}

func (s *Sim) ssoListPermissionSets(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	var arns []string
	for _, p := range st.permSets {
		arns = append(arns, p.ARN)
	}
	return ssoList(in, "PermissionSets", arns)
}

func (s *Sim) ssoDescribePermissionSet(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	ps, e := st.psErr(in)
	if e != nil {
		return nil, e
	}
	return map[string]any{"PermissionSet": map[string]any{"Name": ps.Name, "PermissionSetArn": ps.ARN, "Description": ps.Description,
		"CreatedDate": float64(ps.Created.Unix()), "SessionDuration": "PT1H"}}, nil
}

func (s *Sim) ssoGetInlinePolicy(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	ps, e := st.psErr(in)
	if e != nil {
		return nil, e
	}
	return map[string]any{"InlinePolicy": ps.Inline}, nil
}

func (s *Sim) ssoPutInlinePolicy(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	ps, e := st.psErr(in)
	if e != nil {
		return nil, e
	}
	doc := ssoStr(in, "InlinePolicy")
	if _, err := parsePolicy(doc); err != nil {
		return nil, Errorf(400, "ValidationException", "The policy document is not valid: %v", err)
	}
	ps.Inline = doc
	return map[string]any{}, nil
}

func (s *Sim) ssoDeleteInlinePolicy(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	ps, e := st.psErr(in)
	if e != nil {
		return nil, e
	}
	ps.Inline = ""
	return map[string]any{}, nil
}

func (s *Sim) ssoProvision(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	ps, e := st.psErr(in)
	if e != nil {
		return nil, e
	}
	switch tt := ssoStr(in, "TargetType"); tt {
	case "ALL_PROVISIONED_ACCOUNTS":
	case "AWS_ACCOUNT":
		if ssoStr(in, "TargetId") != s.acct.ID {
			return nil, Errorf(400, "ValidationException", "Account %s is not a member of the organization", ssoStr(in, "TargetId"))
		}
	default:
		return nil, Errorf(400, "ValidationException", "1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT, ALL_PROVISIONED_ACCOUNTS]", tt)
	}
	if ps.role != "" {
		s.ssoProvisionLocked(st, ps)
	}
	req := &ssoRequest{ID: s.ids.uuid(), Status: "SUCCEEDED", Kind: "ProvisionPermissionSet", PermissionSetARN: ps.ARN, Created: r.Now}
	st.requests[req.ID] = req
	status := map[string]any{"RequestId": req.ID, "Status": "IN_PROGRESS", "PermissionSetArn": ps.ARN, "CreatedDate": float64(r.Now.Unix())}
	if ps.role != "" {
		status["AccountId"] = s.acct.ID
	}
	r.ResponseElements = map[string]any{"permissionSetProvisioningStatus": lowerKeys(status)}
	return map[string]any{"PermissionSetProvisioningStatus": status}, nil
}

func (s *Sim) ssoDescribeRequest(field, kind string) func(*Request, *ssoState, map[string]any) (any, error) {
	idKey := map[string]string{"ProvisionPermissionSet": "ProvisionPermissionSetRequestId",
		"CreateAccountAssignment": "AccountAssignmentCreationRequestId", "DeleteAccountAssignment": "AccountAssignmentDeletionRequestId"}[kind]
	return func(r *Request, st *ssoState, in map[string]any) (any, error) {
		if e := st.instanceErr(r, in); e != nil {
			return nil, e
		}
		req := st.requests[ssoStr(in, idKey)]
		if req == nil || req.Kind != kind {
			return nil, Errorf(400, "ResourceNotFoundException", "Request %s does not exist", ssoStr(in, idKey))
		}
		status := map[string]any{"RequestId": req.ID, "Status": req.Status, "CreatedDate": float64(req.Created.Unix())}
		if kind == "ProvisionPermissionSet" {
			status["PermissionSetArn"] = req.PermissionSetARN
		} else {
			a := req.Assignment
			status["PermissionSetArn"], status["PrincipalType"], status["PrincipalId"] = a.PermissionSetARN, a.PrincipalType, a.PrincipalID
			status["TargetId"], status["TargetType"] = a.AccountID, "AWS_ACCOUNT"
		}
		return map[string]any{field: status}, nil
	}
}

func assignmentOut(a ssoAssignment) map[string]any {
	return map[string]any{"AccountId": a.AccountID, "PermissionSetArn": a.PermissionSetARN, "PrincipalType": a.PrincipalType, "PrincipalId": a.PrincipalID}
}

func (s *Sim) ssoListAccountAssignments(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	if _, e := st.psErr(in); e != nil {
		return nil, e
	}
	var out []map[string]any
	for _, a := range st.assignments {
		if a.AccountID == ssoStr(in, "AccountId") && a.PermissionSetARN == ssoStr(in, "PermissionSetArn") {
			out = append(out, assignmentOut(a))
		}
	}
	return ssoList(in, "AccountAssignments", out)
}

func (s *Sim) ssoListAssignmentsForPrincipal(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.instanceErr(r, in); e != nil {
		return nil, e
	}
	pt, pid := ssoStr(in, "PrincipalType"), ssoStr(in, "PrincipalId")
	if pt != "USER" && pt != "GROUP" {
		return nil, Errorf(400, "ValidationException", "1 validation error detected: Value '%s' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]", pt)
	}
	var out []map[string]any
	for _, a := range st.assignments {
		if a.PrincipalType == pt && a.PrincipalID == pid {
			out = append(out, map[string]any{"AccountId": a.AccountID, "PermissionSetArn": a.PermissionSetARN, "PrincipalType": pt, "PrincipalId": pid})
		}
	}
	return ssoList(in, "AccountAssignments", out)
}

// ssoAssign serves CreateAccountAssignment (create) and
// DeleteAccountAssignment: the change is made at once, the answer says
// IN_PROGRESS as AWS's does. Creating provisions the permission set's role.
func (s *Sim) ssoAssign(create bool) func(*Request, *ssoState, map[string]any) (any, error) {
	return func(r *Request, st *ssoState, in map[string]any) (any, error) {
		if e := st.instanceErr(r, in); e != nil {
			return nil, e
		}
		ps, e := st.psErr(in)
		if e != nil {
			return nil, e
		}
		a := ssoAssignment{PermissionSetARN: ps.ARN, PrincipalType: ssoStr(in, "PrincipalType"), PrincipalID: ssoStr(in, "PrincipalId"), AccountID: ssoStr(in, "TargetId")}
		if ssoStr(in, "TargetType") != "AWS_ACCOUNT" {
			return nil, Errorf(400, "ValidationException", "1 validation error detected: Value '%s' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT]", ssoStr(in, "TargetType"))
		}
		if a.AccountID != s.acct.ID {
			return nil, Errorf(400, "ValidationException", "Account %s is not a member of the organization", a.AccountID)
		}
		known := (a.PrincipalType == "USER" && st.userByID(a.PrincipalID) != nil) || (a.PrincipalType == "GROUP" && st.groupByID(a.PrincipalID) != nil)
		if !known {
			return nil, Errorf(400, "ResourceNotFoundException", "Principal %s does not exist", a.PrincipalID)
		}
		i := slices.Index(st.assignments, a)
		kind, field := "DeleteAccountAssignment", "AccountAssignmentDeletionStatus"
		if create {
			kind, field = "CreateAccountAssignment", "AccountAssignmentCreationStatus"
			if i < 0 {
				st.assignments = append(st.assignments, a)
			}
			s.ssoProvisionLocked(st, ps)
		} else {
			if i < 0 {
				return nil, Errorf(400, "ResourceNotFoundException", "Account assignment does not exist")
			}
			st.assignments = slices.Delete(st.assignments, i, i+1)
		}
		req := &ssoRequest{ID: s.ids.uuid(), Status: "SUCCEEDED", Kind: kind, Assignment: a, Created: r.Now}
		st.requests[req.ID] = req
		status := map[string]any{"RequestId": req.ID, "Status": "IN_PROGRESS", "PermissionSetArn": a.PermissionSetARN, "PrincipalType": a.PrincipalType,
			"PrincipalId": a.PrincipalID, "TargetId": a.AccountID, "TargetType": "AWS_ACCOUNT", "CreatedDate": float64(r.Now.Unix())}
		r.ResponseElements = map[string]any{lowerFirst(field): lowerKeys(status)}
		return map[string]any{field: status}, nil
	}
}

// storeErr checks the IdentityStoreId of an identity store request.
func (st *ssoState) storeErr(r *Request, in map[string]any) *Error {
	id := ssoStr(in, "IdentityStoreId")
	if st.storeID == "" || id != st.storeID || r.Region != st.region {
		return Errorf(400, "ResourceNotFoundException", "Identity store %s does not exist", id)
	}
	return nil
}

func ssoUserOut(st *ssoState, u *ssoUser) map[string]any {
	out := map[string]any{"UserId": u.ID, "IdentityStoreId": st.storeID, "UserName": u.UserName, "DisplayName": u.DisplayName}
	if u.Email != "" {
		out["Emails"] = []map[string]any{{"Value": u.Email, "Type": "work", "Primary": true}}
	}
	return out
}

func (s *Sim) idsGetUserID(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.storeErr(r, in); e != nil {
		return nil, e
	}
	alt, _ := in["AlternateIdentifier"].(map[string]any)
	ua, _ := alt["UniqueAttribute"].(map[string]any)
	path, _ := ua["AttributePath"].(string)
	val, _ := ua["AttributeValue"].(string)
	for _, u := range st.users {
		if (strings.EqualFold(path, "userName") && u.UserName == val) || (strings.EqualFold(path, "emails.value") && u.Email == val) {
			return map[string]any{"UserId": u.ID, "IdentityStoreId": st.storeID}, nil
		}
	}
	return nil, Errorf(400, "ResourceNotFoundException", "USER not found.")
}

func (s *Sim) idsDescribeUser(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.storeErr(r, in); e != nil {
		return nil, e
	}
	u := st.userByID(ssoStr(in, "UserId"))
	if u == nil {
		return nil, Errorf(400, "ResourceNotFoundException", "USER not found.")
	}
	return ssoUserOut(st, u), nil
}

func (s *Sim) idsListUsers(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.storeErr(r, in); e != nil {
		return nil, e
	}
	var out []map[string]any
	for _, u := range st.users {
		out = append(out, ssoUserOut(st, u))
	}
	return ssoList(in, "Users", out)
}

func (s *Sim) idsListMemberships(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.storeErr(r, in); e != nil {
		return nil, e
	}
	mid, _ := in["MemberId"].(map[string]any)
	uid, _ := mid["UserId"].(string)
	var out []map[string]any
	for _, g := range st.groups {
		if m, ok := g.Members[uid]; ok {
			out = append(out, map[string]any{"IdentityStoreId": st.storeID, "MembershipId": m, "GroupId": g.ID, "MemberId": map[string]any{"UserId": uid}})
		}
	}
	return ssoList(in, "GroupMemberships", out)
}

func (s *Sim) idsDescribeGroup(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.storeErr(r, in); e != nil {
		return nil, e
	}
	if g := st.groupByID(ssoStr(in, "GroupId")); g != nil {
		return map[string]any{"GroupId": g.ID, "DisplayName": g.Name, "IdentityStoreId": st.storeID}, nil
	}
	return nil, Errorf(400, "ResourceNotFoundException", "GROUP not found.")
}

func (s *Sim) idsListGroupMemberships(r *Request, st *ssoState, in map[string]any) (any, error) {
	if e := st.storeErr(r, in); e != nil {
		return nil, e
	}
	g := st.groupByID(ssoStr(in, "GroupId"))
	if g == nil {
		return nil, Errorf(400, "ResourceNotFoundException", "GROUP not found.")
	}
	var out []map[string]any
	for _, u := range st.users { // in the store's order
		if m, ok := g.Members[u.ID]; ok {
			out = append(out, map[string]any{"IdentityStoreId": st.storeID, "MembershipId": m, "GroupId": g.ID, "MemberId": map[string]any{"UserId": u.ID}})
		}
	}
	return ssoList(in, "GroupMemberships", out)
}
