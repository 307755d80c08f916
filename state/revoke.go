package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// PolicyDocument is an IAM policy document, parsed leniently: IAM accepts a
// single statement or a list, and a string or a list wherever a list of
// actions, resources or principals is expected. Every string in it may have
// been written by an attacker.
type PolicyDocument struct {
	Version   string
	Statement []Statement
}

// Statement is one statement of a policy document.
type Statement struct {
	Sid         string
	Effect      string   // Allow or Deny
	Action      []string // empty when the statement uses NotAction
	NotAction   []string
	Resource    []string
	NotResource []string
	// Principal maps a principal type ("AWS", "Service", "Federated",
	// "CanonicalUser") to its values; a bare "*" is {"*": ["*"]}.
	Principal    map[string][]string
	NotPrincipal map[string][]string
	// Condition maps an operator ("DateLessThan") to keys ("aws:TokenIssueTime")
	// and their values.
	Condition map[string]map[string][]string
}

// ParsePolicy parses a policy document. It accepts the URL-encoded form the
// IAM API returns as well as plain JSON.
func ParsePolicy(doc string) (*PolicyDocument, error) {
	doc = strings.TrimSpace(doc)
	if doc != "" && doc[0] != '{' {
		if d, err := url.QueryUnescape(doc); err == nil {
			doc = strings.TrimSpace(d)
		}
	}
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	p := &PolicyDocument{Version: raw.Version}
	var stmts []json.RawMessage
	switch s := bytes.TrimSpace(raw.Statement); {
	case len(s) == 0 || string(s) == "null":
	case s[0] == '[':
		if err := json.Unmarshal(s, &stmts); err != nil {
			return nil, fmt.Errorf("policy document: Statement: %w", err)
		}
	default:
		stmts = []json.RawMessage{s}
	}
	for i, s := range stmts {
		st, err := parseStatement(s)
		if err != nil {
			return nil, fmt.Errorf("policy document: statement %d: %w", i, err)
		}
		p.Statement = append(p.Statement, st)
	}
	return p, nil
}

func parseStatement(b json.RawMessage) (Statement, error) {
	var raw struct {
		Sid          string                                `json:"Sid"`
		Effect       string                                `json:"Effect"`
		Action       stringList                            `json:"Action"`
		NotAction    stringList                            `json:"NotAction"`
		Resource     stringList                            `json:"Resource"`
		NotResource  stringList                            `json:"NotResource"`
		Principal    principal                             `json:"Principal"`
		NotPrincipal principal                             `json:"NotPrincipal"`
		Condition    map[string]map[string]json.RawMessage `json:"Condition"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return Statement{}, err
	}
	st := Statement{Sid: raw.Sid, Effect: raw.Effect, Action: raw.Action, NotAction: raw.NotAction,
		Resource: raw.Resource, NotResource: raw.NotResource, Principal: raw.Principal, NotPrincipal: raw.NotPrincipal}
	if len(raw.Condition) > 0 {
		st.Condition = map[string]map[string][]string{}
		for op, keys := range raw.Condition {
			m := map[string][]string{}
			for k, v := range keys {
				var l stringList
				if err := l.UnmarshalJSON(v); err != nil {
					return Statement{}, fmt.Errorf("condition %s %s: %w", op, k, err)
				}
				m[k] = l
			}
			st.Condition[op] = m
		}
	}
	return st, nil
}

// stringList is a JSON string or list of strings (numbers and booleans,
// which conditions may hold, are kept as their JSON text).
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		*l = nil
		return nil
	}
	if b[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, err := scalar(it)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		*l = out
		return nil
	}
	s, err := scalar(b)
	if err != nil {
		return err
	}
	*l = []string{s}
	return nil
}

func scalar(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		return s, err
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "", err
	}
	switch v.(type) {
	case bool, float64:
		return string(b), nil
	}
	return "", fmt.Errorf("want a string or a list of strings, got %s", b)
}

// principal is a policy's Principal: "*" or {"AWS": "…"|[…], …}.
type principal map[string][]string

func (p *principal) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*p = principal{s: {s}}
		return nil
	}
	var m map[string]stringList
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	out := principal{}
	for k, v := range m {
		out[k] = v
	}
	*p = out
	return nil
}

// MatchesAll reports whether a list of actions or resources holds the
// wildcard "*".
func MatchesAll(list []string) bool {
	for _, s := range list {
		if strings.TrimSpace(s) == "*" {
			return true
		}
	}
	return false
}

// RevokeCutoff returns the time before which a revoke statement in doc
// denies every temporary credential: the latest DateLessThan
// aws:TokenIssueTime of a statement that denies every action on every
// resource. ok is false when doc has no such statement.
func RevokeCutoff(doc *PolicyDocument) (cutoff time.Time, ok bool) {
	for _, st := range doc.Statement {
		if !strings.EqualFold(st.Effect, "Deny") || !MatchesAll(st.Action) || !MatchesAll(st.Resource) {
			continue
		}
		for op, keys := range st.Condition {
			// DateLessThanEquals denies tokens issued at the cutoff too; the
			// difference is below CloudTrail's one-second resolution.
			if !strings.EqualFold(op, "DateLessThan") && !strings.EqualFold(op, "DateLessThanEquals") {
				continue
			}
			for k, vals := range keys {
				if !strings.EqualFold(k, "aws:TokenIssueTime") {
					continue
				}
				for _, v := range vals {
					if t, err := parsePolicyTime(v); err == nil && (!ok || t.After(cutoff)) {
						cutoff, ok = t, true
					}
				}
			}
		}
	}
	return cutoff, ok
}

// parsePolicyTime reads a policy date: RFC 3339 with or without fractions,
// a date alone, or epoch seconds, as IAM's date conditions accept.
func parsePolicyTime(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	var secs int64
	if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && fmt.Sprint(secs) == v {
		return time.Unix(secs, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not a policy date: %q", v)
}

// Revocation says whether a revoke policy already covers a temporary
// credential of a key's family.
type Revocation struct {
	// Covered is true when a revoke policy denies the credential.
	Covered bool
	// Principal is the user or role whose policies decide (its ARN, or its
	// name when the ARN is not known).
	Principal string
	// Policy names the revoke policy that covers the credential, or the
	// newest one that does not (its cutoff predates the issue).
	Policy string
	// Cutoff is that policy's DateLessThan aws:TokenIssueTime.
	Cutoff time.Time
	// Reason says why not, when not covered: "long-term key", "issue time
	// unknown", "issuing user not in the inventory", "no revoke policy",
	// "revoke predates the credential", "service-linked role cannot take a
	// revoke policy" ….
	Reason string
}

// RevokeCoverage judges whether a revoke policy in inv already covers the
// temporary credential lg. GetSessionToken and GetFederationToken
// credentials are covered by a revoke on the user owning the issuing key;
// AssumeRole credentials by a revoke on the assumed role. A long-term key
// (the family's root, or any key no minting event is known for) is never
// covered: revoking sessions does not touch it.
func RevokeCoverage(inv *Inventory, lg Lineage) Revocation {
	if !lg.Minted {
		return Revocation{Reason: "long-term key or minting event unknown"}
	}
	if lg.MintedAt.IsZero() {
		return Revocation{Reason: "issue time unknown"}
	}
	if inv == nil {
		return Revocation{Reason: "no inventory"}
	}
	var (
		who      string
		policies []Policy
	)
	if lg.RoleARN != "" {
		r := findRole(inv, lg.RoleARN)
		if r == nil {
			return Revocation{Principal: lg.RoleARN, Reason: "assumed role not in the inventory"}
		}
		who, policies = r.ARN, r.Policies
		switch {
		case r.ServiceLinked:
			return Revocation{Principal: who, Reason: "service-linked role cannot take a revoke policy"}
		case r.IdentityCenter:
			return Revocation{Principal: who, Reason: "Identity Center role cannot take a revoke policy"}
		}
	} else {
		u := userOfKey(inv, lg.Issuer)
		if u == nil {
			return Revocation{Reason: "issuing user not in the inventory"}
		}
		who, policies = u.ARN, u.Policies
	}
	rv := Revocation{Principal: who, Reason: "no revoke policy"}
	for _, p := range policies {
		if p.Document == "" {
			continue
		}
		doc, err := ParsePolicy(p.Document)
		if err != nil {
			continue
		}
		cut, ok := RevokeCutoff(doc)
		if !ok {
			continue
		}
		if lg.MintedAt.Before(cut) {
			return Revocation{Covered: true, Principal: who, Policy: policyLabel(p), Cutoff: cut}
		}
		if rv.Cutoff.IsZero() || cut.After(rv.Cutoff) {
			rv.Policy, rv.Cutoff, rv.Reason = policyLabel(p), cut, "revoke predates the credential"
		}
	}
	return rv
}

func policyLabel(p Policy) string {
	switch {
	case p.Group != "":
		return p.Name + " (group " + p.Group + ")"
	case p.ARN != "":
		return p.ARN
	}
	return p.Name
}

// findRole finds a role by ARN, or by its name when the ARN carries a path
// the inventory spells differently.
func findRole(inv *Inventory, arn string) *Role {
	var name string
	if p, ok := ParsePrincipal(arn); ok && p.Role() {
		name = p.Name
	}
	var byName *Role
	for i := range inv.Roles {
		r := &inv.Roles[i]
		if r.ARN == arn {
			return r
		}
		if name != "" && r.Name == name && byName == nil {
			byName = r
		}
	}
	return byName
}

// userOfKey finds the user owning access key id.
func userOfKey(inv *Inventory, key string) *User {
	if key == "" {
		return nil
	}
	for i := range inv.Users {
		for _, k := range inv.Users[i].Keys {
			if k.ID == key {
				return &inv.Users[i]
			}
		}
	}
	return nil
}

// KeyOwner returns the inventory's user that owns the access key id, or nil.
func KeyOwner(inv *Inventory, key string) *User {
	if inv == nil {
		return nil
	}
	return userOfKey(inv, key)
}
