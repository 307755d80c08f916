package inventory

import (
	"strings"

	"github.com/warroom-ir/warroom/state"
)

// adminManaged are AWS-managed policies (by name, any partition) that grant
// administrator access or the power to grant it to oneself.
var adminManaged = map[string]bool{
	"AdministratorAccess":                     true,
	"IAMFullAccess":                           true,
	"AdministratorAccess-Amplify":             true,
	"AdministratorAccess-AWSElasticBeanstalk": true,
}

// AdminManagedARN reports whether arn names an AWS-managed policy that is
// admin-equivalent (AdministratorAccess, IAMFullAccess and the like).
func AdminManagedARN(arn string) bool {
	a, ok := awsManaged(arn)
	return ok && adminManaged[a.Name()]
}

// awsManaged reads arn as an AWS-managed policy's:
// arn:PARTITION:iam::aws:policy[/path]/NAME.
func awsManaged(arn string) (state.ARN, bool) {
	a, ok := state.ParseARN(arn)
	return a, ok && a.Service == "iam" && a.Region == "" && a.Account == "aws" && strings.HasPrefix(a.Resource, "policy/")
}

// AdminDocument reports whether a policy document is admin-equivalent: it
// allows every action, or every IAM action (which lets its holder grant
// itself everything), on every resource. Allow statements with NotAction
// count when the actions they leave out do not include IAM. Conditions are
// not judged: a conditional grant of everything is still flagged, because a
// responder must look at it. Deny statements do not clear the flag.
func AdminDocument(doc *state.PolicyDocument) bool {
	for _, st := range doc.Statement {
		if !strings.EqualFold(st.Effect, "Allow") || !state.MatchesAll(st.Resource) {
			continue
		}
		if len(st.Action) > 0 && grantsIAM(st.Action) {
			return true
		}
		if len(st.NotAction) > 0 && !excludesIAM(st.NotAction) {
			return true
		}
	}
	return false
}

// grantsIAM reports whether actions holds "*", "iam:*" or a pattern that
// covers every IAM action ("iam:*", "i*:*", "*:*").
func grantsIAM(actions []string) bool {
	for _, a := range actions {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "*" || a == "*:*" || a == "iam:*" {
			return true
		}
		svc, op, ok := strings.Cut(a, ":")
		if ok && op == "*" && wildMatch(svc, "iam") {
			return true
		}
	}
	return false
}

// excludesIAM reports whether a NotAction list leaves out every IAM
// permission that lets a principal escalate (i.e. excludes "iam:*" or "*").
func excludesIAM(notActions []string) bool {
	for _, a := range notActions {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "*" || a == "iam:*" || a == "*:*" {
			return true
		}
		if svc, op, ok := strings.Cut(a, ":"); ok && op == "*" && wildMatch(svc, "iam") {
			return true
		}
	}
	return false
}

// wildMatch matches s against a pattern with * and ? wildcards.
func wildMatch(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildMatch(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildMatch(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && wildMatch(pattern[1:], s[1:])
}

// ExternalPrincipals lists the principals a role's trust policy lets in
// that are outside account: "*" (anyone), other accounts and their
// principals, and every federated principal (SAML, OIDC, web identity).
// Service principals are not listed: they act for the account.
func ExternalPrincipals(doc *state.PolicyDocument, account string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, st := range doc.Statement {
		if !strings.EqualFold(st.Effect, "Allow") {
			continue
		}
		for typ, vals := range st.Principal {
			switch {
			case typ == "*":
				add("*")
			case strings.EqualFold(typ, "AWS"):
				for _, v := range vals {
					if v == "*" || accountOf(v) != account {
						add(v)
					}
				}
			case strings.EqualFold(typ, "Federated"):
				for _, v := range vals {
					add("federated:" + v)
				}
			case strings.EqualFold(typ, "CanonicalUser"):
				for _, v := range vals {
					add("canonical:" + v)
				}
			}
		}
		for typ, vals := range st.NotPrincipal {
			// Allow with NotPrincipal trusts everyone but the listed.
			_ = vals
			add("* (NotPrincipal " + typ + ")")
		}
	}
	return out
}

// accountOf returns the account id of an AWS principal: a bare 12-digit id
// or the account field of an ARN.
func accountOf(p string) string {
	if !strings.HasPrefix(p, "arn:") {
		return p
	}
	a, _ := state.ParseARN(p)
	return a.Account
}

// serviceLinked reports whether a role is service-linked (AWS creates them
// under /aws-service-role/; they cannot take a revoke policy).
func serviceLinked(path string) bool { return strings.HasPrefix(path, "/aws-service-role/") }

// identityCenter reports whether a role is one IAM Identity Center made for
// a permission set.
func identityCenter(path, name string) bool {
	return strings.HasPrefix(path, "/aws-reserved/sso.amazonaws.com/") || strings.HasPrefix(name, "AWSReservedSSO_")
}
