package contain

import (
	"testing"

	"github.com/warroom-ir/warroom/aws/session"
)

// TestParseArgARN reads principals given by ARN on the command line. An
// assumed-role ARN (a role session, as CloudTrail and GetCallerIdentity
// show it) names its role: it was read as a user named after the session.
func TestParseArgARN(t *testing.T) {
	for _, c := range []struct {
		arg  string
		want Target
	}{
		{"arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42", Target{Kind: KindRole, ID: "Deploy"}},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com", Target{Kind: KindRole, ID: "AWSReservedSSO_Admin_0123"}},
		{"arn:aws:iam::123456789012:role/service-role/Deploy", Target{Kind: KindRole, ID: "Deploy"}},
		{"arn:aws-cn:iam::123456789012:user/division/ci-deploy", Target{Kind: KindUser, ID: "ci-deploy"}},
		{"arn:aws:iam::123456789012:group/admins", Target{Kind: KindGroup, ID: "admins"}},
		{"arn:aws:iam::123456789012:root", Target{Kind: KindRoot, ID: "root"}},
		{"user/ci-deploy", Target{Kind: KindUser, ID: "ci-deploy"}},
		{"Deploy", Target{Kind: KindUser, ID: "Deploy"}},
	} {
		got, err := ParseArg("revoke-sessions", c.arg, "")
		if err != nil || got.Kind != c.want.Kind || got.ID != c.want.ID {
			t.Errorf("ParseArg(revoke-sessions, %q) = %+v, %v; want %+v", c.arg, got, err, c.want)
		}
	}
}

// TestSelfPrincipal reads the console's own user or assumed role from its
// caller ARN, paths and partitions included.
func TestSelfPrincipal(t *testing.T) {
	for _, c := range []struct{ arn, user, role string }{
		{"arn:aws:iam::123456789012:user/responder", "responder", ""},
		{"arn:aws-us-gov:iam::123456789012:user/ir/responder", "responder", ""},
		{"arn:aws:sts::123456789012:assumed-role/IncidentResponse/alice", "", "IncidentResponse"},
		{"arn:aws-cn:sts::123456789012:assumed-role/IncidentResponse/alice", "", "IncidentResponse"},
		{"arn:aws:sts::123456789012:federated-user/Bob", "", ""},
		{"arn:aws:iam::123456789012:root", "", ""},
	} {
		env := &Env{Self: session.Identity{ARN: c.arn}}
		if u, r := selfUser(env), selfRole(env); u != c.user || r != c.role {
			t.Errorf("%s: user %q role %q, want %q %q", c.arn, u, r, c.user, c.role)
		}
	}
}
