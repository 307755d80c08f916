package sim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Role trust policies: parsed and checked when a role is created or its
// trust is updated (MalformedPolicyDocument as IAM answers), and evaluated
// by sts:AssumeRole, so that a trust an attacker widens lets the principal
// it names in, and the trust restored keeps it out.

// trustDoc is a role's trust policy.
type trustDoc struct {
	Version   string               `json:"Version"`
	Statement oneOrMany[trustStmt] `json:"Statement"`
}

// trustStmt is one statement of a trust policy.
type trustStmt struct {
	Sid          string                                  `json:"Sid,omitempty"`
	Effect       string                                  `json:"Effect"`
	Action       oneOrMany[string]                       `json:"Action,omitempty"`
	NotAction    oneOrMany[string]                       `json:"NotAction,omitempty"`
	Principal    *principalSpec                          `json:"Principal,omitempty"`
	NotPrincipal *principalSpec                          `json:"NotPrincipal,omitempty"`
	Resource     json.RawMessage                         `json:"Resource,omitempty"`
	Condition    map[string]map[string]oneOrMany[string] `json:"Condition,omitempty"`
}

// principalSpec is a statement's Principal: "*" or a map of kinds (AWS,
// Service, Federated, CanonicalUser) to one or many values.
type principalSpec struct {
	Any   bool
	Kinds map[string]oneOrMany[string]
}

// UnmarshalJSON accepts "*" or an object.
func (p *principalSpec) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if s != "*" {
			return fmt.Errorf("principal %q: only \"*\" may be given as a string", s)
		}
		p.Any = true
		return nil
	}
	return json.Unmarshal(b, &p.Kinds)
}

var (
	accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)
	iamARNPattern    = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::([0-9]{12}):(root|user/.+|role/.+|assumed-role/.+|federated-user/.+)$`)
)

// parseTrust checks a trust policy as IAM does on CreateRole and
// UpdateAssumeRolePolicy, and returns it parsed. Principals in this
// account must exist.
func (s *Sim) parseTrust(doc string) (*trustDoc, *Error) {
	bad := func(format string, args ...any) *Error {
		return Errorf(400, "MalformedPolicyDocument", format, args...)
	}
	var t trustDoc
	if err := json.Unmarshal([]byte(strings.TrimSpace(decodeDoc(doc))), &t); err != nil {
		return nil, bad("This policy contains invalid Json")
	}
	if len(t.Statement) == 0 {
		return nil, bad("Syntax errors in policy.")
	}
	for _, st := range t.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, bad("Syntax errors in policy.")
		}
		if len(st.Resource) > 0 {
			return nil, bad("Has prohibited field Resource")
		}
		if len(st.Action) == 0 && len(st.NotAction) == 0 {
			return nil, bad("Missing required field Action")
		}
		for _, a := range st.Action {
			if !strings.HasPrefix(strings.ToLower(a), "sts:") && a != "*" {
				return nil, bad("AssumeRole policy may only specify STS AssumeRole actions.")
			}
		}
		spec := st.Principal
		if spec == nil {
			spec = st.NotPrincipal
		}
		if spec == nil {
			return nil, bad("Missing required field Principal")
		}
		for kind, vals := range spec.Kinds {
			for _, v := range vals {
				if e := s.checkPrincipal(kind, v); e != nil {
					return nil, e
				}
			}
		}
	}
	return &t, nil
}

// checkPrincipal answers MalformedPolicyDocument for a principal IAM would
// not accept: a malformed AWS principal, or one of this account's users or
// roles that does not exist.
func (s *Sim) checkPrincipal(kind, v string) *Error {
	invalid := Errorf(400, "MalformedPolicyDocument", "Invalid principal in policy: \"%s\":\"%s\"", kind, v)
	switch kind {
	case "AWS":
		if v == "*" || accountIDPattern.MatchString(v) {
			return nil
		}
		m := iamARNPattern.FindStringSubmatch(v)
		if m == nil {
			return invalid
		}
		if m[2] != s.acct.ID {
			return nil
		}
		switch res := m[3]; {
		case strings.HasPrefix(res, "user/"):
			if !s.userARNExists(v) {
				return invalid
			}
		case strings.HasPrefix(res, "role/"):
			if !s.roleARNExists(v) {
				return invalid
			}
		}
		return nil
	case "Service", "Federated", "CanonicalUser":
		if v == "" {
			return invalid
		}
		return nil
	}
	return invalid
}

func (s *Sim) userARNExists(arn string) bool {
	for _, u := range s.acct.users {
		if u.ARN == arn {
			return true
		}
	}
	return false
}

func (s *Sim) roleARNExists(arn string) bool {
	for _, r := range s.acct.roles {
		if r.ARN == arn {
			return true
		}
	}
	return false
}

// principalMatches reports whether spec names the caller: "*", the
// caller's account (its id or root ARN), or the caller's own ARN (a user,
// a role for its sessions, or the session's ARN).
func (id *Identity) principalMatches(spec *principalSpec) bool {
	if spec == nil {
		return false
	}
	if spec.Any {
		return true
	}
	arns := []string{id.ARN}
	if c := id.cred; c != nil {
		if c.Kind == credRole && c.Role != nil {
			arns = append(arns, c.Role.ARN)
		}
		if (c.Kind == credLongTerm || c.Kind == credSession) && c.User != nil {
			arns = append(arns, c.User.ARN)
		}
	}
	for _, v := range spec.Kinds["AWS"] {
		if v == "*" || v == id.AccountID || v == "arn:aws:iam::"+id.AccountID+":root" {
			return true
		}
		for _, a := range arns {
			if v == a {
				return true
			}
		}
	}
	return false
}

// allowsAssume evaluates a trust policy for sts:AssumeRole by caller: an
// explicit Deny that applies wins, then any Allow that applies. The
// conditions the sim knows are evaluated (dates, sts:ExternalId,
// aws:PrincipalArn, aws:PrincipalAccount); a statement with others does
// not apply.
func (t *trustDoc) allowsAssume(caller *Identity, ctx evalContext) bool {
	applies := func(st trustStmt) bool {
		matched := len(st.Action) == 0
		for _, a := range st.Action {
			if actionMatch(a, "sts:AssumeRole") {
				matched = true
			}
		}
		for _, a := range st.NotAction {
			if actionMatch(a, "sts:AssumeRole") {
				matched = false
			}
		}
		if !matched {
			return false
		}
		if st.Principal != nil && !caller.principalMatches(st.Principal) {
			return false
		}
		if st.NotPrincipal != nil && caller.principalMatches(st.NotPrincipal) {
			return false
		}
		return conditionsHold(st.Condition, ctx)
	}
	allowed := false
	for _, st := range t.Statement {
		if !applies(st) {
			continue
		}
		if st.Effect == "Deny" {
			return false
		}
		allowed = true
	}
	return allowed
}

// trustAllows evaluates ro's trust policy for the caller of r. A trust
// that no longer parses lets no one in.
func (s *Sim) trustAllows(r *Request, ro *role) bool {
	var t trustDoc
	if err := json.Unmarshal([]byte(decodeDoc(ro.Trust)), &t); err != nil {
		return false
	}
	ctx := evalContext{Now: r.Now, SourceIP: r.SourceIP, Strings: map[string]string{
		"aws:principalarn":     r.Caller.ARN,
		"aws:principalaccount": r.Caller.AccountID,
	}}
	if c := r.Caller.cred; c != nil && c.Kind != credLongTerm {
		ctx.TokenIssued = c.Created
		// aws:MultiFactorAuthPresent is present only for temporary
		// credentials: a long-term key's request does not carry it.
		ctx.Strings["aws:multifactorauthpresent"] = fmt.Sprint(c.MFA)
	}
	if ext := r.Param("ExternalId"); ext != "" {
		ctx.Strings["sts:externalid"] = ext
	}
	return t.allowsAssume(r.Caller, ctx)
}
