package sim

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// policyDoc is an IAM policy document, as much of it as the sim evaluates.
type policyDoc struct {
	Version   string          `json:"Version"`
	Statement oneOrMany[stmt] `json:"Statement"`
}

// stmt is one policy statement.
type stmt struct {
	Sid       string                                  `json:"Sid,omitempty"`
	Effect    string                                  `json:"Effect"`
	Action    oneOrMany[string]                       `json:"Action,omitempty"`
	NotAction oneOrMany[string]                       `json:"NotAction,omitempty"`
	Resource  oneOrMany[string]                       `json:"Resource,omitempty"`
	Condition map[string]map[string]oneOrMany[string] `json:"Condition,omitempty"`
}

// oneOrMany is a JSON value that may be a single item or an array of them.
type oneOrMany[T any] []T

// UnmarshalJSON accepts a single value or an array.
func (o *oneOrMany[T]) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '[' {
		var many []T
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*o = many
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*o = []T{one}
	return nil
}

// parsePolicy parses a policy document. IAM takes documents URL-encoded
// or not; both are accepted.
func parsePolicy(doc string) (*policyDoc, error) {
	s := strings.TrimSpace(doc)
	if strings.HasPrefix(s, "%7B") || strings.HasPrefix(s, "%7b") {
		if u, err := url.QueryUnescape(s); err == nil {
			s = u
		}
	}
	var p policyDoc
	if err := json.Unmarshal([]byte(s), &p); err != nil {
		return nil, fmt.Errorf("policy document is not valid JSON: %v", err)
	}
	if len(p.Statement) == 0 {
		return nil, fmt.Errorf("policy document has no statement")
	}
	for i, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("statement %d: Effect must be Allow or Deny", i)
		}
		if len(st.Action) == 0 && len(st.NotAction) == 0 {
			return nil, fmt.Errorf("statement %d: no Action", i)
		}
	}
	return &p, nil
}

// evalContext is what conditions may test.
type evalContext struct {
	// TokenIssued is the issue time of the caller's temporary credential;
	// zero for long-term keys (aws:TokenIssueTime is then absent).
	TokenIssued time.Time
	Now         time.Time
	// Strings are the string condition keys known for the request, by
	// lower-case name (sts:externalid, aws:principalarn …).
	Strings map[string]string
	// SourceIP is aws:SourceIp: the address the request came from (the
	// drill's actors each bind their own loopback address, so it is the
	// connection's remote address). Empty: the key is absent.
	SourceIP string
}

// denies reports whether the document has a Deny statement that applies to
// action in ctx. A Deny whose conditions use operators or keys the sim
// does not know is treated as not applying. Resources are not evaluated:
// every statement is taken to name the resource.
func (p *policyDoc) denies(action string, ctx evalContext) bool {
	return p.has("Deny", action, ctx)
}

// allows reports whether the document has an Allow statement that applies
// to action in ctx (Options.ImplicitDeny). An Allow whose conditions the
// sim does not know does not apply.
func (p *policyDoc) allows(action string, ctx evalContext) bool {
	return p.has("Allow", action, ctx)
}

// has reports whether a statement with effect applies to action.
func (p *policyDoc) has(effect, action string, ctx evalContext) bool {
	for _, st := range p.Statement {
		if st.Effect != effect {
			continue
		}
		matched := false
		if len(st.Action) > 0 {
			for _, a := range st.Action {
				if actionMatch(a, action) {
					matched = true
					break
				}
			}
		} else {
			matched = true
			for _, a := range st.NotAction {
				if actionMatch(a, action) {
					matched = false
					break
				}
			}
		}
		if matched && conditionsHold(st.Condition, ctx) {
			return true
		}
	}
	return false
}

// actionMatch matches an action pattern ("iam:*", "*", "ec2:Describe*")
// against an action, case-insensitively as IAM does.
func actionMatch(pattern, action string) bool {
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// wildcardMatch matches s against pattern where '*' is any run and '?' any
// one character.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// conditionsHold evaluates a statement's conditions. Supported: the date
// operators on aws:TokenIssueTime and aws:CurrentTime, and StringEquals,
// StringNotEquals and StringLike (with their IgnoreCase forms), the ARN
// operators (ArnEquals, ArnLike, ArnNotEquals, ArnNotLike) and Bool on the
// keys in ctx.Strings, and IpAddress and NotIpAddress on aws:SourceIp. Any other operator or key makes the condition fail
// (a key absent from the request fails every operator, the Not forms too).
func conditionsHold(cond map[string]map[string]oneOrMany[string], ctx evalContext) bool {
	for op, kv := range cond {
		for key, vals := range kv {
			if strings.HasPrefix(op, "Arn") {
				// The ARN operators match as StringLike does (each
				// segment's wildcards included).
				have, ok := ctx.Strings[strings.ToLower(key)]
				sop := "StringLike"
				if op == "ArnNotEquals" || op == "ArnNotLike" {
					sop = "StringNotLike"
				} else if op != "ArnEquals" && op != "ArnLike" {
					return false
				}
				if !ok || !stringCondition(sop, have, vals) {
					return false
				}
				continue
			}
			if op == "Bool" {
				have, ok := ctx.Strings[strings.ToLower(key)]
				if !ok || !stringCondition("StringEqualsIgnoreCase", have, vals) {
					return false
				}
				continue
			}
			if op == "IpAddress" || op == "NotIpAddress" {
				// aws:SourceIp is the only address key the sim knows; a
				// request without one fails both operators, as at AWS.
				if strings.ToLower(key) != "aws:sourceip" || ctx.SourceIP == "" || !ipCondition(op, ctx.SourceIP, vals) {
					return false
				}
				continue
			}
			if strings.HasPrefix(op, "String") {
				have, ok := ctx.Strings[strings.ToLower(key)]
				if !ok || !stringCondition(op, have, vals) {
					return false
				}
				continue
			}
			var have time.Time
			switch strings.ToLower(key) {
			case "aws:tokenissuetime":
				have = ctx.TokenIssued
			case "aws:currenttime":
				have = ctx.Now
			default:
				return false
			}
			if have.IsZero() {
				// The key is absent: date operators do not match.
				return false
			}
			any := false
			for _, v := range vals {
				t, err := time.Parse(time.RFC3339, v)
				if err != nil {
					continue
				}
				var ok bool
				switch op {
				case "DateLessThan":
					ok = have.Before(t)
				case "DateLessThanEquals":
					ok = !have.After(t)
				case "DateGreaterThan":
					ok = have.After(t)
				case "DateGreaterThanEquals":
					ok = !have.Before(t)
				default:
					return false
				}
				if ok {
					any = true
				}
			}
			if !any {
				return false
			}
		}
	}
	return true
}

// ipCondition evaluates IpAddress or NotIpAddress: whether have is in one
// of the CIDR blocks (or addresses) vals lists. A value that is neither
// matches nothing.
func ipCondition(op, have string, vals []string) bool {
	ip, err := netip.ParseAddr(have)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	in := false
	for _, v := range vals {
		pfx, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				continue
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if pfx.Contains(ip) {
			in = true
		}
	}
	if op == "NotIpAddress" {
		return !in
	}
	return in
}

// stringCondition evaluates one string condition operator.
func stringCondition(op, have string, vals []string) bool {
	fold := strings.HasSuffix(op, "IgnoreCase")
	if fold {
		have = strings.ToLower(have)
	}
	match := func(v string) bool {
		if fold {
			v = strings.ToLower(v)
		}
		switch strings.TrimSuffix(op, "IgnoreCase") {
		case "StringEquals", "StringNotEquals":
			return v == have
		case "StringLike", "StringNotLike":
			return wildcardMatch(v, have)
		}
		return false
	}
	any := false
	for _, v := range vals {
		if match(v) {
			any = true
		}
	}
	switch strings.TrimSuffix(op, "IgnoreCase") {
	case "StringEquals", "StringLike":
		return any
	case "StringNotEquals", "StringNotLike":
		return !any
	}
	return false
}

// policiesOfLocked returns the documents that apply to a credential's
// principal: a user's inline, attached and group policies, or a role's.
func (s *Sim) policiesOfLocked(c *credential) []string {
	var docs []string
	addManaged := func(arns []string) {
		for _, a := range arns {
			if p := s.acct.policyByARN(a); p != nil {
				docs = append(docs, p.Document)
			}
		}
	}
	addInline := func(ps []namedPolicy) {
		for _, p := range ps {
			docs = append(docs, p.Document)
		}
	}
	switch {
	case c.Kind == credRole && c.Role != nil:
		addInline(c.Role.Inline)
		addManaged(c.Role.Attached)
	case c.User != nil:
		addInline(c.User.Inline)
		addManaged(c.User.Attached)
		for _, g := range c.User.Groups {
			if gr := s.acct.groups[g]; gr != nil {
				addInline(gr.Inline)
				addManaged(gr.Attached)
			}
		}
	}
	return docs
}

// authorizeLocked decides whether the caller may perform action. It
// applies the limits AWS puts on temporary credentials, then (when
// policies is set) explicit Deny statements, then, with
// Options.ImplicitDeny, requires an Allow; without it everything else is
// allowed.
func (s *Sim) authorizeLocked(req *Request, action string, policies bool) *Error {
	c := req.Caller.cred
	p := req.Service.Protocol
	svcPrefix, opName, _ := strings.Cut(action, ":")
	switch c.Kind {
	case credSession:
		// GetSessionToken credentials without MFA cannot call IAM, and
		// within STS only AssumeRole and GetCallerIdentity.
		if svcPrefix == "iam" && !c.MFA {
			return errUnknownKey(p)
		}
		if svcPrefix == "sts" && opName != "AssumeRole" && opName != "GetCallerIdentity" {
			return AccessDenied(p, req.Caller.ARN, action, "*", "because session credentials cannot call "+opName)
		}
	case credFederation:
		if svcPrefix == "iam" || (svcPrefix == "sts" && opName != "GetCallerIdentity") {
			return AccessDenied(p, req.Caller.ARN, action, "*", "because federated users cannot call "+svcPrefix)
		}
	case credRole:
		if opName == "GetSessionToken" || opName == "GetFederationToken" {
			return AccessDenied(p, req.Caller.ARN, action, "*", "because role sessions cannot call "+opName)
		}
	}
	if !policies || c.Account != "" {
		// An outside principal's identity policies live in its own
		// account; the role's trust policy decides (stsAssumeRole).
		return nil
	}
	ctx := evalContext{Now: req.Now, SourceIP: req.SourceIP}
	if c.Kind != credLongTerm {
		ctx.TokenIssued = c.Created
	}
	if c.Kind == credRole && c.Role != nil {
		// A role session's aws:userid is ROLEID:SESSION; an Identity
		// Center session's identitystore:UserId its user's id.
		ctx.Strings = map[string]string{"aws:userid": c.Role.ID + ":" + c.Session}
		if c.SSOUserID != "" {
			ctx.Strings["identitystore:userid"] = c.SSOUserID
		}
	}
	allowed := false
	for _, d := range s.policiesOfLocked(c) {
		doc, err := parsePolicy(d)
		if err != nil {
			continue
		}
		if doc.denies(action, ctx) {
			return req.AccessDenied(action, "*")
		}
		allowed = allowed || doc.allows(action, ctx)
	}
	if s.opts.ImplicitDeny && !allowed {
		return AccessDenied(p, req.Caller.ARN, action, "*", "because no identity-based policy allows the "+action+" action")
	}
	return nil
}
