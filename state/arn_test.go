package state

import (
	"strings"
	"testing"
)

// TestParseARN reads the ARN shapes warroom meets, in every partition.
func TestParseARN(t *testing.T) {
	for _, c := range []struct {
		in      string
		ok      bool
		want    ARN
		typ, nm string
	}{
		{"arn:aws:iam::123456789012:user/alice", true, ARN{"aws", "iam", "", "123456789012", "user/alice"}, "user", "alice"},
		{"arn:aws:iam::123456789012:user/division/team/alice", true, ARN{"aws", "iam", "", "123456789012", "user/division/team/alice"}, "user", "alice"},
		{"arn:aws-us-gov:iam::123456789012:role/ops/Deploy", true, ARN{"aws-us-gov", "iam", "", "123456789012", "role/ops/Deploy"}, "role", "Deploy"},
		{"arn:aws-cn:sts::123456789012:assumed-role/Deploy/i-0abc", true, ARN{"aws-cn", "sts", "", "123456789012", "assumed-role/Deploy/i-0abc"}, "assumed-role", "i-0abc"},
		{"arn:aws:iam::123456789012:root", true, ARN{"aws", "iam", "", "123456789012", "root"}, "", "root"},
		{"arn:aws:iam::aws:policy/AdministratorAccess", true, ARN{"aws", "iam", "", "aws", "policy/AdministratorAccess"}, "policy", "AdministratorAccess"},
		{"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", true, ARN{"aws", "iam", "", "aws", "policy/job-function/ViewOnlyAccess"}, "policy", "ViewOnlyAccess"},
		{"arn:aws:cloudtrail:us-east-1:123456789012:trail/management", true, ARN{"aws", "cloudtrail", "us-east-1", "123456789012", "trail/management"}, "trail", "management"},
		{"arn:aws:lambda:eu-west-1:123456789012:function:exfil:3", true, ARN{"aws", "lambda", "eu-west-1", "123456789012", "function:exfil:3"}, "function", "exfil"},
		{"arn:aws:s3:::my-bucket", true, ARN{"aws", "s3", "", "", "my-bucket"}, "", "my-bucket"},
		{"arn:aws:sns:us-east-1:123456789012:alerts", true, ARN{"aws", "sns", "us-east-1", "123456789012", "alerts"}, "", "alerts"},
		{"arn:aws:iam::123456789012:mfa/alice", true, ARN{"aws", "iam", "", "123456789012", "mfa/alice"}, "mfa", "alice"},
		{"AKIAIOSFODNN7EXAMPLE", false, ARN{}, "", ""},
		{"arn:aws:iam::123456789012", false, ARN{}, "", ""},
		{"arn:aws:iam::123456789012:", false, ARN{}, "", ""},
		{"arn::iam::123456789012:user/x", false, ARN{}, "", ""},
		{"arn:aws:::123456789012:user/x", false, ARN{}, "", ""},
		{"ARN:aws:iam::123456789012:user/x", false, ARN{}, "", ""},
		{"", false, ARN{}, "", ""},
	} {
		a, ok := ParseARN(c.in)
		if ok != c.ok || a != c.want {
			t.Errorf("ParseARN(%q) = %+v, %v; want %+v, %v", c.in, a, ok, c.want, c.ok)
			continue
		}
		if !ok {
			continue
		}
		if a.String() != c.in {
			t.Errorf("ParseARN(%q).String() = %q", c.in, a.String())
		}
		if a.Type() != c.typ || a.Name() != c.nm {
			t.Errorf("ParseARN(%q): type %q name %q; want %q %q", c.in, a.Type(), a.Name(), c.typ, c.nm)
		}
	}
}

// TestParsePrincipal reads every kind of IAM identity ARN, with paths and
// in every partition, and refuses ARNs of other things.
func TestParsePrincipal(t *testing.T) {
	for _, c := range []struct {
		in                  string
		ok                  bool
		kind                PrincipalKind
		path, name, session string
	}{
		{"arn:aws:iam::123456789012:user/alice", true, PrincipalUser, "/", "alice", ""},
		{"arn:aws:iam::123456789012:user/division/team/alice", true, PrincipalUser, "/division/team/", "alice", ""},
		{"arn:aws-us-gov:iam::123456789012:user/bob", true, PrincipalUser, "/", "bob", ""},
		{"arn:aws:iam::123456789012:group/admins", true, PrincipalGroup, "/", "admins", ""},
		{"arn:aws:iam::123456789012:role/OrganizationAccountAccessRole", true, PrincipalRole, "/", "OrganizationAccountAccessRole", ""},
		{"arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123", true, PrincipalRole, "/aws-reserved/sso.amazonaws.com/eu-west-1/", "AWSReservedSSO_Admin_0123", ""},
		{"arn:aws-cn:iam::123456789012:role/service-role/Deploy", true, PrincipalRole, "/service-role/", "Deploy", ""},
		{"arn:aws:sts::123456789012:assumed-role/Deploy/ci-run-42", true, PrincipalAssumedRole, "", "Deploy", "ci-run-42"},
		{"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123/alice@example.com", true, PrincipalAssumedRole, "", "AWSReservedSSO_Admin_0123", "alice@example.com"},
		{"arn:aws-us-gov:sts::123456789012:assumed-role/Deploy/i-0abc1234def567890", true, PrincipalAssumedRole, "", "Deploy", "i-0abc1234def567890"},
		{"arn:aws:sts::123456789012:federated-user/Bob", true, PrincipalFederatedUser, "", "Bob", ""},
		{"arn:aws:iam::123456789012:root", true, PrincipalRoot, "", "root", ""},
		{"arn:aws-cn:iam::123456789012:root", true, PrincipalRoot, "", "root", ""},
		// Not principals, or not whole ones.
		{"arn:aws:iam::aws:policy/AdministratorAccess", false, "", "", "", ""},
		{"arn:aws:iam::123456789012:mfa/alice", false, "", "", "", ""},
		{"arn:aws:iam::123456789012:user/", false, "", "", "", ""},
		{"arn:aws:iam::123456789012:user", false, "", "", "", ""},
		{"arn:aws:sts::123456789012:assumed-role", false, "", "", "", ""},
		{"arn:aws:sts::123456789012:assumed-role//session", false, "", "", "", ""},
		{"arn:aws:sts::123456789012:root", false, "", "", "", ""},
		{"arn:aws:s3:::user/alice", false, "", "", "", ""},
		{"arn:aws:iam::123456789012:user:alice", false, "", "", "", ""},
		{"user/alice", false, "", "", "", ""},
		{"AKIAIOSFODNN7EXAMPLE", false, "", "", "", ""},
	} {
		p, ok := ParsePrincipal(c.in)
		if ok != c.ok || p.Kind != c.kind || p.Path != c.path || p.Name != c.name || p.Session != c.session {
			t.Errorf("ParsePrincipal(%q) = %+v, %v; want %s path %q name %q session %q, %v", c.in, p, ok, c.kind, c.path, c.name, c.session, c.ok)
		}
		if ok && p.ARN.String() != c.in {
			t.Errorf("ParsePrincipal(%q).ARN = %q", c.in, p.ARN)
		}
		if p.Role() != (c.kind == PrincipalRole || c.kind == PrincipalAssumedRole) {
			t.Errorf("ParsePrincipal(%q).Role() = %v", c.in, p.Role())
		}
	}
}

// FuzzParseARN checks that whatever parses writes back to itself, that no
// field but the resource holds a colon, and that a principal's name is a
// segment of its resource.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::123456789012:user/division/alice",
		"arn:aws-us-gov:sts::123456789012:assumed-role/Deploy/session",
		"arn:aws-cn:sts::123456789012:federated-user/Bob",
		"arn:aws:iam::123456789012:root",
		"arn:aws:lambda:eu-west-1:123456789012:function:f:1",
		"arn:aws:s3:::bucket/key/x",
		"arn:::::", "arn:a:b:c:d:", "AKIAIOSFODNN7EXAMPLE",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := ParseARN(s)
		if !ok {
			if a != (ARN{}) {
				t.Fatalf("ParseARN(%q) refused but returned %+v", s, a)
			}
			if _, ok := ParsePrincipal(s); ok {
				t.Fatalf("ParsePrincipal(%q) accepted what ParseARN refused", s)
			}
			return
		}
		if a.String() != s {
			t.Fatalf("ParseARN(%q).String() = %q", s, a.String())
		}
		for _, f := range []string{a.Partition, a.Service, a.Region, a.Account} {
			if strings.Contains(f, ":") {
				t.Fatalf("ParseARN(%q): field %q holds a colon", s, f)
			}
		}
		if a.Partition == "" || a.Service == "" || a.Resource == "" {
			t.Fatalf("ParseARN(%q) = %+v: an empty required field", s, a)
		}
		if !strings.HasPrefix(a.Resource, a.Type()) || !strings.Contains(a.Resource, a.Name()) {
			t.Fatalf("ParseARN(%q): type %q, name %q not of resource %q", s, a.Type(), a.Name(), a.Resource)
		}
		p, ok := ParsePrincipal(s)
		if !ok {
			return
		}
		if p.ARN != a || p.Name == "" || strings.Contains(p.Name, "/") || string(p.Kind) != a.Type() && p.Kind != PrincipalRoot {
			t.Fatalf("ParsePrincipal(%q) = %+v", s, p)
		}
		switch p.Kind {
		case PrincipalUser, PrincipalGroup, PrincipalRole:
			if p.ARN.Resource != string(p.Kind)+p.Path+p.Name {
				t.Fatalf("ParsePrincipal(%q) = %+v: path and name are not the resource", s, p)
			}
		case PrincipalAssumedRole:
			if a.Resource != "assumed-role/"+p.Name+"/"+p.Session && a.Resource != "assumed-role/"+p.Name {
				t.Fatalf("ParsePrincipal(%q) = %+v: role and session are not the resource", s, p)
			}
		}
	})
}
