package inventory

import (
	"slices"
	"testing"

	"github.com/warroom-ir/warroom/state"
)

func mustParse(t *testing.T, doc string) *state.PolicyDocument {
	t.Helper()
	p, err := state.ParsePolicy(doc)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAdminDocument(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"star on star", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true},
		{"iam star on star", `{"Statement":{"Effect":"Allow","Action":["s3:GetObject","iam:*"],"Resource":["*"]}}`, true},
		{"IAM in upper case", `{"Statement":{"Effect":"Allow","Action":"IAM:*","Resource":"*"}}`, true},
		{"wildcard service covering iam", `{"Statement":{"Effect":"Allow","Action":"i*:*","Resource":"*"}}`, true},
		{"conditional grant is still flagged", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`, true},
		{"NotAction leaving iam in", `{"Statement":{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"*"}}`, true},
		{"PowerUserAccess shape", `{"Statement":[{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}]}`, false},
		{"star on one bucket", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/*"}}`, false},
		{"s3 star on star", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, false},
		{"one iam action", `{"Statement":{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"}}`, false},
		{"deny all", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*"}}`, false},
		{"revoke policy", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AdminDocument(mustParse(t, tt.doc)); got != tt.want {
				t.Errorf("AdminDocument = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAdminManagedARN(t *testing.T) {
	tests := []struct {
		arn  string
		want bool
	}{
		{"arn:aws:iam::aws:policy/AdministratorAccess", true},
		{"arn:aws-us-gov:iam::aws:policy/AdministratorAccess", true},
		{"arn:aws-cn:iam::aws:policy/IAMFullAccess", true},
		{"arn:aws:iam::aws:policy/IAMFullAccess", true},
		{"arn:aws:iam::aws:policy/PowerUserAccess", false},
		{"arn:aws:iam::aws:policy/ReadOnlyAccess", false},
		{"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess", false},
		// A customer policy named like AWS's is judged by its document, not its name.
		{"arn:aws:iam::111122223333:policy/AdministratorAccess", false},
		{"AdministratorAccess", false},
	}
	for _, tt := range tests {
		t.Run(tt.arn, func(t *testing.T) {
			if got := AdminManagedARN(tt.arn); got != tt.want {
				t.Errorf("AdminManagedARN = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestExternalPrincipals(t *testing.T) {
	const acct = "111122223333"
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"own account root", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`, nil},
		{"service", `{"Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, nil},
		{"other account by id and arn", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["444455556666","arn:aws:iam::777788889999:user/x","arn:aws:iam::111122223333:role/r"]},"Action":"sts:AssumeRole"}]}`,
			[]string{"444455556666", "arn:aws:iam::777788889999:user/x"}},
		{"anyone", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, []string{"*"}},
		{"AWS star", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`, []string{"*"}},
		{"federated", `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`,
			[]string{"federated:arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}},
		{"deny is not trust", `{"Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRole"}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExternalPrincipals(mustParse(t, tt.doc), acct)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("ExternalPrincipals = %q, want %q", got, want)
			}
		})
	}
}

func TestRoleKinds(t *testing.T) {
	tests := []struct {
		name, path, role string
		linked, sso      bool
	}{
		{"service-linked", "/aws-service-role/support.amazonaws.com/", "AWSServiceRoleForSupport", true, false},
		{"identity center", "/aws-reserved/sso.amazonaws.com/eu-west-1/", "AWSReservedSSO_Admin_0123456789abcdef", false, true},
		{"identity center by name", "/", "AWSReservedSSO_ReadOnly_01", false, true},
		{"ordinary", "/", "Deploy", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if serviceLinked(tt.path) != tt.linked || identityCenter(tt.path, tt.role) != tt.sso {
				t.Errorf("serviceLinked %v identityCenter %v", serviceLinked(tt.path), identityCenter(tt.path, tt.role))
			}
		})
	}
}
