package sim

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// IAM groups: membership and group policies, inline and attached. They
// take effect in policy evaluation (policiesOfLocked reads a user's
// groups), so a user put in a group holding AdministratorAccess is an
// administrator and taken out is not.

// Group quotas, as IAM's.
const (
	groupsPerAccount     = 300
	groupsPerUser        = 10
	policiesPerGroup     = 10
	groupInlineSizeQuota = 5120
)

// iamExtraOps adds the role, group and user operations that the footholds
// of a leaked administrator key use, and the clean-up calls containment
// makes.
func (s *Sim) iamExtraOps() {
	svc := s.services["iam"]
	if svc == nil {
		return
	}
	ro := func(h func(*Request) (any, error)) Op { return Op{Handle: h, ReadOnly: true} }
	rw := func(h func(*Request) (any, error)) Op { return Op{Handle: h} }
	for name, op := range map[string]Op{
		"CreateRole":                      rw(s.iamCreateRole),
		"DeleteRole":                      rw(s.iamDeleteRole),
		"UpdateAssumeRolePolicy":          rw(s.iamUpdateAssumeRolePolicy),
		"ListGroups":                      ro(s.iamListGroups),
		"GetGroup":                        ro(s.iamGetGroup),
		"CreateGroup":                     rw(s.iamCreateGroup),
		"DeleteGroup":                     rw(s.iamDeleteGroup),
		"AddUserToGroup":                  rw(s.iamAddUserToGroup),
		"ListGroupPolicies":               ro(s.iamListGroupPolicies),
		"GetGroupPolicy":                  ro(s.iamGetGroupPolicy),
		"PutGroupPolicy":                  rw(s.iamPutGroupPolicy),
		"DeleteGroupPolicy":               rw(s.iamDeleteGroupPolicy),
		"ListAttachedGroupPolicies":       ro(s.iamListAttachedGroupPolicies),
		"AttachGroupPolicy":               rw(s.iamAttachGroupPolicy),
		"DetachGroupPolicy":               rw(s.iamDetachGroupPolicy),
		"UpdateLoginProfile":              rw(s.iamUpdateLoginProfile),
		"DeleteSigningCertificate":        rw(s.iamDeleteSigningCertificate),
		"DeleteSSHPublicKey":              rw(s.iamDeleteSSHPublicKey),
		"DeleteServiceSpecificCredential": rw(s.iamDeleteServiceSpecificCredential),
		"DeleteUserPermissionsBoundary":   rw(s.iamDeleteUserPermissionsBoundary),
	} {
		svc.Ops[name] = op
	}
}

func noSuchGroup(name string) *Error {
	return Errorf(404, "NoSuchEntity", "The group with name %s cannot be found.", name)
}

// namedGroup is the group the GroupName parameter names.
func (s *Sim) namedGroup(r *Request) (*group, *Error) {
	name := r.Param("GroupName")
	g := s.acct.groups[name]
	if g == nil {
		return nil, noSuchGroup(name)
	}
	return g, nil
}

func groupXML(g *group) xGroup {
	return xGroup{Path: g.Path, GroupName: g.Name, GroupID: g.ID, Arn: g.ARN, CreateDate: isoTime(g.Created)}
}

// groupMembers returns the users in group name, by user name.
func (a *account) groupMembers(name string) []*user {
	var out []*user
	for _, u := range a.sortedUsers() {
		if slices.Contains(u.Groups, name) {
			out = append(out, u)
		}
	}
	return out
}

func (a *account) sortedGroups() []*group {
	out := make([]*group, 0, len(a.groups))
	for _, g := range a.groups {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Sim) iamListGroups(r *Request) (any, error) {
	prefix := r.Param("PathPrefix")
	var groups []*group
	for _, g := range s.acct.sortedGroups() {
		if strings.HasPrefix(g.Path, prefix) {
			groups = append(groups, g)
		}
	}
	p, e := iamPage(r, len(groups))
	if e != nil {
		return nil, e
	}
	out := struct {
		Groups      []xGroup `xml:"Groups>member"`
		IsTruncated bool     `xml:"IsTruncated"`
		Marker      string   `xml:"Marker,omitempty"`
	}{IsTruncated: p.truncated, Marker: p.marker}
	for _, g := range groups[p.start:p.end] {
		out.Groups = append(out.Groups, groupXML(g))
	}
	return out, nil
}

func (s *Sim) iamGetGroup(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	members := s.acct.groupMembers(g.Name)
	p, e := iamPage(r, len(members))
	if e != nil {
		return nil, e
	}
	out := struct {
		Group       xGroup  `xml:"Group"`
		Users       []xUser `xml:"Users>member"`
		IsTruncated bool    `xml:"IsTruncated"`
		Marker      string  `xml:"Marker,omitempty"`
	}{Group: groupXML(g), IsTruncated: p.truncated, Marker: p.marker}
	for _, u := range members[p.start:p.end] {
		out.Users = append(out.Users, userXML(u, false))
	}
	return out, nil
}

func (s *Sim) iamCreateGroup(r *Request) (any, error) {
	name, path := r.Param("GroupName"), normPath(r.Param("Path"))
	params := map[string]any{"groupName": name}
	if r.Param("Path") != "" {
		params["path"] = path
	}
	r.RequestParameters = params
	if name == "" || len(name) > 128 {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value at 'groupName' failed to satisfy constraint: Member must have length between 1 and 128")
	}
	for _, g := range s.acct.groups {
		if strings.EqualFold(g.Name, name) {
			return nil, Errorf(409, "EntityAlreadyExists", "Group with name %s already exists.", name)
		}
	}
	if len(s.acct.groups) >= groupsPerAccount {
		return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for GroupsPerAccount: %d", groupsPerAccount)
	}
	g := &group{Name: name, Path: path, ID: s.ids.prefixed("AGPA"), ARN: fmt.Sprintf("arn:aws:iam::%s:group%s%s", s.acct.ID, path, name),
		Created: r.Now.UTC().Truncate(time.Second)}
	s.acct.groups[name] = g
	r.ResponseElements = map[string]any{"group": map[string]any{"path": g.Path, "groupName": g.Name, "groupId": g.ID, "arn": g.ARN,
		"createDate": ctExpiration(g.Created)}}
	return struct {
		Group xGroup `xml:"Group"`
	}{groupXML(g)}, nil
}

func (s *Sim) iamDeleteGroup(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	switch {
	case len(s.acct.groupMembers(g.Name)) > 0:
		return nil, Errorf(409, "DeleteConflict", "Cannot delete entity, must remove users from group first.")
	case len(g.Inline) > 0:
		return nil, Errorf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	case len(g.Attached) > 0:
		return nil, Errorf(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	delete(s.acct.groups, g.Name)
	return nil, nil
}

func (s *Sim) iamAddUserToGroup(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	u := s.acct.users[r.Param("UserName")]
	if u == nil {
		return nil, noSuchUser(r.Param("UserName"))
	}
	r.RequestParameters = map[string]any{"groupName": g.Name, "userName": u.Name}
	if slices.Contains(u.Groups, g.Name) {
		return nil, nil
	}
	if len(u.Groups) >= groupsPerUser {
		return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for GroupsPerUser: %d", groupsPerUser)
	}
	u.Groups = append(u.Groups, g.Name)
	return nil, nil
}

func (s *Sim) iamListGroupPolicies(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	return policyNames{PolicyNames: inlineNames(g.Inline)}, nil
}

func (s *Sim) iamGetGroupPolicy(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	name := r.Param("PolicyName")
	i := findInline(g.Inline, name)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "The group policy with name %s cannot be found.", name)
	}
	return struct {
		GroupName      string `xml:"GroupName"`
		PolicyName     string `xml:"PolicyName"`
		PolicyDocument string `xml:"PolicyDocument"`
	}{g.Name, name, encodeDoc(g.Inline[i].Document)}, nil
}

func (s *Sim) iamPutGroupPolicy(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	doc := decodeDoc(r.Param("PolicyDocument"))
	r.RequestParameters = map[string]any{"groupName": g.Name, "policyName": r.Param("PolicyName"), "policyDocument": doc}
	ps, e := putInline(g.Inline, r.Param("PolicyName"), doc, groupInlineSizeQuota, "group "+g.Name)
	if e != nil {
		return nil, e
	}
	g.Inline = ps
	return nil, nil
}

func (s *Sim) iamDeleteGroupPolicy(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	name := r.Param("PolicyName")
	i := findInline(g.Inline, name)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "The group policy with name %s cannot be found.", name)
	}
	g.Inline = slices.Delete(g.Inline, i, i+1)
	return nil, nil
}

func (s *Sim) iamListAttachedGroupPolicies(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	return attachedResult{AttachedPolicies: s.attachedXML(g.Attached)}, nil
}

func (s *Sim) iamAttachGroupPolicy(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	p, e := s.customerPolicy(r)
	if e != nil {
		return nil, e
	}
	if !slices.Contains(g.Attached, p.ARN) {
		if len(g.Attached) >= policiesPerGroup {
			return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerGroup: %d", policiesPerGroup)
		}
		g.Attached = append(g.Attached, p.ARN)
	}
	return nil, nil
}

func (s *Sim) iamDetachGroupPolicy(r *Request) (any, error) {
	g, e := s.namedGroup(r)
	if e != nil {
		return nil, e
	}
	arn := r.Param("PolicyArn")
	i := slices.Index(g.Attached, arn)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "Policy %s was not found.", arn)
	}
	g.Attached = slices.Delete(g.Attached, i, i+1)
	return nil, nil
}

// iamUpdateLoginProfile changes a user's console password or its reset
// flag. CloudTrail logs the user and the flag, never the password.
func (s *Sim) iamUpdateLoginProfile(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	params := map[string]any{"userName": u.Name}
	reset, hasReset := r.Form["PasswordResetRequired"]
	if hasReset {
		params["passwordResetRequired"] = len(reset) > 0 && reset[0] == "true"
	}
	r.RequestParameters = params
	if u.Login == nil {
		return nil, Errorf(404, "NoSuchEntity", "Login Profile for User %s cannot be found.", u.Name)
	}
	if pw, ok := r.Form["Password"]; ok && len(pw) > 0 && len(pw[0]) < 8 {
		return nil, Errorf(400, "PasswordPolicyViolation", "Password should have a minimum length of 8")
	}
	if hasReset {
		u.Login.ResetRequired = params["passwordResetRequired"].(bool)
	}
	return nil, nil
}

// deleteCounted removes one of a user's counted credentials (signing
// certificates, SSH keys, service-specific credentials), whose ids the
// list operations derive from their index.
func deleteCounted(n *int, id string, ids func(i int) string, what string) *Error {
	for i := range *n {
		if ids(i) == id {
			*n--
			return nil
		}
	}
	return Errorf(404, "NoSuchEntity", "The %s with id %s cannot be found.", what, id)
}

func (s *Sim) iamDeleteSigningCertificate(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	if e := deleteCounted(&u.SigningCerts, r.Param("CertificateId"), func(i int) string {
		return fmt.Sprintf("%s%02d", strings.Repeat("C", 30), i)
	}, "Signing Certificate"); e != nil {
		return nil, e
	}
	return nil, nil
}

func (s *Sim) iamDeleteSSHPublicKey(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	if e := deleteCounted(&u.SSHKeys, r.Param("SSHPublicKeyId"), func(i int) string { return fmt.Sprintf("APKA%016d", i) },
		"Public Key"); e != nil {
		return nil, e
	}
	return nil, nil
}

func (s *Sim) iamDeleteServiceSpecificCredential(r *Request) (any, error) {
	u, e := s.targetUser(r)
	if e != nil {
		return nil, e
	}
	if e := deleteCounted(&u.ServiceCreds, r.Param("ServiceSpecificCredentialId"), func(i int) string { return fmt.Sprintf("ACCA%016d", i) },
		"Service Specific Credential"); e != nil {
		return nil, e
	}
	return nil, nil
}

// iamDeleteUserPermissionsBoundary: the drill's users have no boundaries,
// so there is nothing to remove once the user is found.
func (s *Sim) iamDeleteUserPermissionsBoundary(r *Request) (any, error) {
	if _, e := s.targetUser(r); e != nil {
		return nil, e
	}
	return nil, nil
}
