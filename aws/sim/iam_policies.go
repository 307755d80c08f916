package sim

import (
	"fmt"
	"slices"
	"strings"
)

// Customer-managed policies: CreatePolicy, GetPolicy, GetPolicyVersion,
// DeletePolicy, and attaching them to roles. Containment falls back to a
// customer-managed policy when an inline one would exceed its size cap.
// Each policy has one version, v1, its default.

// iamPolicyOps adds the customer-managed policy operations to IAM.
func (s *Sim) iamPolicyOps() {
	svc := s.services["iam"]
	if svc == nil {
		return
	}
	svc.Ops["CreatePolicy"] = Op{Handle: s.iamCreatePolicy}
	svc.Ops["GetPolicy"] = Op{Handle: s.iamGetPolicy, ReadOnly: true}
	svc.Ops["GetPolicyVersion"] = Op{Handle: s.iamGetPolicyVersion, ReadOnly: true}
	svc.Ops["DeletePolicy"] = Op{Handle: s.iamDeletePolicy}
	svc.Ops["AttachRolePolicy"] = Op{Handle: s.iamAttachRolePolicy}
	svc.Ops["DetachRolePolicy"] = Op{Handle: s.iamDetachRolePolicy}
}

type xPolicy struct {
	PolicyName       string `xml:"PolicyName"`
	PolicyID         string `xml:"PolicyId"`
	Arn              string `xml:"Arn"`
	Path             string `xml:"Path"`
	DefaultVersionID string `xml:"DefaultVersionId"`
	AttachmentCount  int    `xml:"AttachmentCount"`
	IsAttachable     bool   `xml:"IsAttachable"`
	CreateDate       string `xml:"CreateDate"`
	UpdateDate       string `xml:"UpdateDate"`
}

func (s *Sim) policyXML(p *managedPolicy) xPolicy {
	n := 0
	for _, u := range s.acct.users {
		if slices.Contains(u.Attached, p.ARN) {
			n++
		}
	}
	for _, r := range s.acct.roles {
		if slices.Contains(r.Attached, p.ARN) {
			n++
		}
	}
	for _, g := range s.acct.groups {
		if slices.Contains(g.Attached, p.ARN) {
			n++
		}
	}
	return xPolicy{PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: "v1", AttachmentCount: n,
		IsAttachable: true, CreateDate: isoTime(p.Created), UpdateDate: isoTime(p.Created)}
}

func (s *Sim) iamCreatePolicy(r *Request) (any, error) {
	name, path := r.Param("PolicyName"), normPath(r.Param("Path"))
	doc := decodeDoc(r.Param("PolicyDocument"))
	r.RequestParameters = map[string]any{"policyName": name, "path": path, "policyDocument": doc}
	if name == "" || len(name) > 128 {
		return nil, Errorf(400, "ValidationError", "1 validation error detected: Value at 'policyName' failed to satisfy constraint: Member must have length between 1 and 128")
	}
	if _, err := parsePolicy(doc); err != nil {
		return nil, Errorf(400, "MalformedPolicyDocument", "Syntax errors in policy.")
	}
	if policySize(doc) > 6144 {
		return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for PolicySize: 6144")
	}
	arn := fmt.Sprintf("arn:aws:iam::%s:policy%s%s", s.acct.ID, path, name)
	for _, p := range s.acct.policies {
		if p.Name == name && !strings.Contains(p.ARN, ":iam::aws:") {
			return nil, Errorf(409, "EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
		}
	}
	p := &managedPolicy{Name: name, ID: s.ids.prefixed("ANPA"), ARN: arn, Path: path, Document: doc, Created: r.Now.UTC().Truncate(1e9)}
	s.acct.policies[arn] = p
	x := s.policyXML(p)
	r.ResponseElements = map[string]any{"policy": map[string]any{"policyName": name, "policyId": p.ID, "arn": arn, "path": path,
		"defaultVersionId": "v1", "attachmentCount": 0, "isAttachable": true, "createDate": ctExpiration(p.Created)}}
	return struct {
		Policy xPolicy `xml:"Policy"`
	}{x}, nil
}

// customerPolicy finds an account policy by the PolicyArn parameter.
func (s *Sim) customerPolicy(r *Request) (*managedPolicy, *Error) {
	arn := r.Param("PolicyArn")
	p := s.acct.policyByARN(arn)
	if p == nil {
		return nil, Errorf(404, "NoSuchEntity", "Policy %s does not exist or is not attachable.", arn)
	}
	return p, nil
}

func (s *Sim) iamGetPolicy(r *Request) (any, error) {
	p, e := s.customerPolicy(r)
	if e != nil {
		return nil, e
	}
	return struct {
		Policy xPolicy `xml:"Policy"`
	}{s.policyXML(p)}, nil
}

func (s *Sim) iamGetPolicyVersion(r *Request) (any, error) {
	p, e := s.customerPolicy(r)
	if e != nil {
		return nil, e
	}
	if v := r.Param("VersionId"); v != "v1" {
		return nil, Errorf(404, "NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", p.ARN, v)
	}
	type version struct {
		Document         string `xml:"Document"`
		VersionID        string `xml:"VersionId"`
		IsDefaultVersion bool   `xml:"IsDefaultVersion"`
		CreateDate       string `xml:"CreateDate"`
	}
	return struct {
		PolicyVersion version `xml:"PolicyVersion"`
	}{version{Document: encodeDoc(p.Document), VersionID: "v1", IsDefaultVersion: true, CreateDate: isoTime(p.Created)}}, nil
}

func (s *Sim) iamDeletePolicy(r *Request) (any, error) {
	p, e := s.customerPolicy(r)
	if e != nil {
		return nil, e
	}
	if strings.Contains(p.ARN, ":iam::aws:") {
		return nil, r.AccessDenied("iam:DeletePolicy", p.ARN)
	}
	if s.policyXML(p).AttachmentCount > 0 {
		return nil, Errorf(409, "DeleteConflict", "Cannot delete a policy attached to entities.")
	}
	delete(s.acct.policies, p.ARN)
	return nil, nil
}

func (s *Sim) iamAttachRolePolicy(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	p, e := s.customerPolicy(r)
	if e != nil {
		return nil, e
	}
	if !slices.Contains(ro.Attached, p.ARN) {
		if len(ro.Attached) >= 10 {
			return nil, Errorf(409, "LimitExceeded", "Cannot exceed quota for PoliciesPerRole: 10")
		}
		ro.Attached = append(ro.Attached, p.ARN)
	}
	return nil, nil
}

func (s *Sim) iamDetachRolePolicy(r *Request) (any, error) {
	ro, e := s.namedRole(r)
	if e != nil {
		return nil, e
	}
	arn := r.Param("PolicyArn")
	i := slices.Index(ro.Attached, arn)
	if i < 0 {
		return nil, Errorf(404, "NoSuchEntity", "Policy %s was not found.", arn)
	}
	ro.Attached = slices.Delete(ro.Attached, i, i+1)
	return nil, nil
}
