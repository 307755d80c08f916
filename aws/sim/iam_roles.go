package sim

import (
	"strconv"
	"strings"
)

// Roles an attacker creates, and trust policies it changes. The trust
// stored here is what sts:AssumeRole evaluates (trust.go).

// Role quotas, as IAM's defaults.
const (
	rolesPerAccount = 1000
	trustSizeQuota  = 2048
)

// roleRecord is a role as CloudTrail's responseElements show it: the trust
// document URL-encoded, as IAM returns it.
func roleRecord(ro *role) map[string]any {
	m := map[string]any{"path": ro.Path, "roleName": ro.Name, "roleId": ro.ID, "arn": ro.ARN,
		"createDate": ctExpiration(ro.Created), "assumeRolePolicyDocument": encodeDoc(ro.Trust)}
	if ro.Description != "" {
		m["description"] = ro.Description
	}
	if len(ro.Tags) > 0 {
		m["tags"] = tagsRecord(ro.Tags)
	}
	return m
}

func (s *Sim) iamCreateRole(r *Request) (any, error) {
	name := r.Param("RoleName")
	doc := decodeDoc(r.Param("AssumeRolePolicyDocument"))
	params := map[string]any{"roleName": name, "assumeRolePolicyDocument": doc}
	if p := r.Param("Path"); p != "" {
		params["path"] = p
	}
	if d := r.Param("Description"); d != "" {
		params["description"] = d
	}
	maxSession := int32(3600)
	if v := r.Param("MaxSessionDuration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3600 || n > 43200 {
			r.RequestParameters = params
			return nil, Errorf(400, "ValidationError", "1 validation error detected: Value '%s' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200", v)
		}
		maxSession = int32(n)
		params["maxSessionDuration"] = n
	}
	tags := iamTags(r)
	if len(tags) > 0 {
		params["tags"] = tagsRecord(tags)
	}
	r.RequestParameters = params
	if name == "" || len(name) > 64 {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value at 'roleName' failed to satisfy constraint: Member must have length between 1 and 64")
	}
	for _, ro := range s.acct.roles {
		if strings.EqualFold(ro.Name, name) {
			return nil, Errorf(409, "EntityAlreadyExists", "Role with name %s already exists.", name)
		}
	}
	if _, e := s.parseTrust(doc); e != nil {
		return nil, e
	}
	if policySize(doc) > trustSizeQuota {
		return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", trustSizeQuota)
	}
	if len(s.acct.roles) >= rolesPerAccount {
		return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for RolesPerAccount: %d", rolesPerAccount)
	}
	ro := s.addRoleLocked(name, r.Param("Path"), maxSession, r.Now)
	ro.Trust, ro.Description, ro.Tags = doc, r.Param("Description"), tags
	r.ResponseElements = map[string]any{"role": roleRecord(ro)}
	x := roleXML(ro, false)
	x.Tags = xTags(ro.Tags)
	return struct {
		Role xRole `xml:"Role"`
	}{x}, nil
}

func (s *Sim) iamDeleteRole(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	switch {
	case len(ro.Inline) > 0:
		return nil, Errorf(409, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	case len(ro.Attached) > 0:
		return nil, Errorf(409, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	}
	delete(s.acct.roles, ro.Name)
	// Sessions of a deleted role stop working, as at AWS.
	for _, c := range s.acct.keys {
		if c.Role == ro {
			c.Deleted = true
		}
	}
	return nil, nil
}

// iamUpdateAssumeRolePolicy replaces a role's trust policy. CloudTrail
// logs roleName and policyDocument (as sent, decoded).
func (s *Sim) iamUpdateAssumeRolePolicy(r *Request) (any, error) {
	doc := decodeDoc(r.Param("PolicyDocument"))
	r.RequestParameters = map[string]any{"roleName": r.Param("RoleName"), "policyDocument": doc}
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	if _, e := s.parseTrust(doc); e != nil {
		return nil, e
	}
	if policySize(doc) > trustSizeQuota {
		return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: %d", trustSizeQuota)
	}
	ro.Trust = doc
	return nil, nil
}
