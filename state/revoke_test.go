package state

import (
	"net/url"
	"testing"
	"time"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name       string
		doc        string
		wantErr    bool
		statements int
		check      func(t *testing.T, p *PolicyDocument)
	}{
		{"single statement object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, false, 1,
			func(t *testing.T, p *PolicyDocument) {
				if st := p.Statement[0]; st.Action[0] != "*" || st.Resource[0] != "*" || st.Effect != "Allow" {
					t.Errorf("statement %+v", st)
				}
			}},
		{"lists and principal map", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","444455556666"],"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole"]}]}`, false, 1,
			func(t *testing.T, p *PolicyDocument) {
				if got := p.Statement[0].Principal["AWS"]; len(got) != 2 || got[1] != "444455556666" {
					t.Errorf("AWS principals %v", got)
				}
				if got := p.Statement[0].Principal["Service"]; len(got) != 1 {
					t.Errorf("Service principals %v", got)
				}
			}},
		{"bare star principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`, false, 1,
			func(t *testing.T, p *PolicyDocument) {
				if got := p.Statement[0].Principal["*"]; len(got) != 1 {
					t.Errorf("principal %v", p.Statement[0].Principal)
				}
			}},
		{"url-encoded as IAM returns it", url.QueryEscape(`{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`), false, 1, nil},
		{"condition values of every type", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":false},"NumericLessThan":{"aws:MultiFactorAuthAge":[3600]}}}]}`, false, 1,
			func(t *testing.T, p *PolicyDocument) {
				c := p.Statement[0].Condition
				if c["Bool"]["aws:MultiFactorAuthPresent"][0] != "false" || c["NumericLessThan"]["aws:MultiFactorAuthAge"][0] != "3600" {
					t.Errorf("condition %v", c)
				}
			}},
		{"no statement", `{"Version":"2012-10-17"}`, false, 0, nil},
		{"not json", `Allow everything`, true, 0, nil},
		{"action of the wrong type", `{"Statement":[{"Effect":"Allow","Action":{"a":1},"Resource":"*"}]}`, true, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.doc)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(p.Statement) != tt.statements {
				t.Fatalf("%d statements, want %d", len(p.Statement), tt.statements)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func revokeDoc(cutoff string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"` + cutoff + `"}}}]}`
}

func TestRevokeCutoff(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		want   time.Time
		wantOK bool
	}{
		{"revoke", revokeDoc("2026-11-23T04:20:00Z"), time.Date(2026, 11, 23, 4, 20, 0, 0, time.UTC), true},
		{"fractional seconds", revokeDoc("2026-11-23T04:20:00.500Z"), time.Date(2026, 11, 23, 4, 20, 0, 5e8, time.UTC), true},
		{"offset time", revokeDoc("2026-11-23T06:20:00+02:00"), time.Date(2026, 11, 23, 4, 20, 0, 0, time.UTC), true},
		{"the latest of several", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":["2026-01-01T00:00:00Z","2026-06-01T00:00:00Z"]}}}]}`,
			time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{"deny-all without condition is not a revoke", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, time.Time{}, false},
		{"allow with the condition", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}]}`, time.Time{}, false},
		{"deny of one action", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2026-01-01T00:00:00Z"}}}]}`, time.Time{}, false},
		{"other condition key", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2026-01-01T00:00:00Z"}}}]}`, time.Time{}, false},
		{"unreadable date", revokeDoc("yesterday"), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePolicy(tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := RevokeCutoff(p)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("RevokeCutoff = %v, %v; want %v, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRevokeCoverage(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	roleARN := "arn:aws:iam::111122223333:role/Deploy"
	inv := &Inventory{
		Users: []User{
			{Name: "ci", ARN: "arn:aws:iam::111122223333:user/ci", Keys: []AccessKey{{ID: "AKIACI"}},
				Policies: []Policy{{Name: "AWSRevokeOlderSessions", Inline: true, Document: revokeDoc("2026-11-23T04:30:00Z")}}},
			{Name: "dev", ARN: "arn:aws:iam::111122223333:user/dev", Keys: []AccessKey{{ID: "AKIADEV"}},
				Policies: []Policy{{Name: "ReadOnly", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}}},
			{Name: "grouped", ARN: "arn:aws:iam::111122223333:user/grouped", Keys: []AccessKey{{ID: "AKIAGRP"}},
				Policies: []Policy{{Name: "revoke", Inline: true, Group: "ops", Document: revokeDoc("2026-11-23T05:00:00Z")}}},
		},
		Roles: []Role{
			{Name: "Deploy", ARN: roleARN, Policies: []Policy{{Name: "revoke", ARN: "arn:aws:iam::111122223333:policy/revoke", Document: revokeDoc("2026-11-23T04:10:00Z")}}},
			{Name: "AWSServiceRoleForSupport", ARN: "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport", ServiceLinked: true},
		},
	}
	tests := []struct {
		name        string
		lg          Lineage
		covered     bool
		reason      string
		principal   string
		policySuffx string
	}{
		{"long-term root of the family", Lineage{Key: "AKIACI"}, false, "long-term key or minting event unknown", "", ""},
		{"session token before the user's revoke", Lineage{Key: "ASIA1", Issuer: "AKIACI", Minted: true, MintedAt: t0, Call: "GetSessionToken"},
			true, "", "arn:aws:iam::111122223333:user/ci", "AWSRevokeOlderSessions"},
		{"session token after the user's revoke", Lineage{Key: "ASIA2", Issuer: "AKIACI", Minted: true, MintedAt: t0.Add(time.Hour), Call: "GetSessionToken"},
			false, "revoke predates the credential", "arn:aws:iam::111122223333:user/ci", "AWSRevokeOlderSessions"},
		{"token issued exactly at the cutoff is not denied", Lineage{Key: "ASIA3", Issuer: "AKIACI", Minted: true, MintedAt: t0.Add(30 * time.Minute)},
			false, "revoke predates the credential", "arn:aws:iam::111122223333:user/ci", ""},
		{"user without a revoke", Lineage{Key: "ASIA4", Issuer: "AKIADEV", Minted: true, MintedAt: t0, Call: "GetFederationToken"},
			false, "no revoke policy", "arn:aws:iam::111122223333:user/dev", ""},
		{"revoke through a group", Lineage{Key: "ASIA5", Issuer: "AKIAGRP", Minted: true, MintedAt: t0},
			true, "", "arn:aws:iam::111122223333:user/grouped", "(group ops)"},
		{"assumed role with a managed revoke", Lineage{Key: "ASIA6", Issuer: "ASIA1", Minted: true, MintedAt: t0, Call: "AssumeRole", RoleARN: roleARN},
			true, "", roleARN, ":policy/revoke"},
		{"assumed role after its revoke", Lineage{Key: "ASIA7", Issuer: "ASIA1", Minted: true, MintedAt: t0.Add(20 * time.Minute), Call: "AssumeRole", RoleARN: roleARN},
			false, "revoke predates the credential", roleARN, ""},
		{"service-linked role", Lineage{Key: "ASIA8", Minted: true, MintedAt: t0, RoleARN: "arn:aws:iam::111122223333:role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"},
			false, "service-linked role cannot take a revoke policy", "", ""},
		{"unknown role", Lineage{Key: "ASIA9", Minted: true, MintedAt: t0, RoleARN: "arn:aws:iam::999999999999:role/Elsewhere"},
			false, "assumed role not in the inventory", "", ""},
		{"unknown issuer", Lineage{Key: "ASIA10", Issuer: "AKIAGONE", Minted: true, MintedAt: t0},
			false, "issuing user not in the inventory", "", ""},
		{"issue time unknown", Lineage{Key: "ASIA11", Issuer: "AKIACI", Minted: true}, false, "issue time unknown", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RevokeCoverage(inv, tt.lg)
			if got.Covered != tt.covered {
				t.Fatalf("Covered = %v (%+v), want %v", got.Covered, got, tt.covered)
			}
			if got.Reason != tt.reason {
				t.Errorf("Reason = %q, want %q", got.Reason, tt.reason)
			}
			if tt.principal != "" && got.Principal != tt.principal {
				t.Errorf("Principal = %q, want %q", got.Principal, tt.principal)
			}
			if tt.policySuffx != "" && !hasSuffix(got.Policy, tt.policySuffx) {
				t.Errorf("Policy = %q, want …%q", got.Policy, tt.policySuffx)
			}
			if got.Covered && got.Cutoff.IsZero() {
				t.Error("covered without a cutoff")
			}
		})
	}
	if got := RevokeCoverage(nil, Lineage{Minted: true, MintedAt: t0}); got.Covered || got.Reason != "no inventory" {
		t.Errorf("nil inventory: %+v", got)
	}
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

// FuzzParsePolicy: any policy document (they are attacker-written) parses
// or fails cleanly, and what parses can be judged without a panic.
func FuzzParsePolicy(f *testing.F) {
	f.Add(revokeDoc("2026-11-23T04:20:00Z"))
	f.Add(`{"Statement":{"Effect":"Allow","Principal":"*","Action":["*"],"Resource":"*","Condition":{"Bool":{"k":[true,1]}}}}`)
	f.Add(url.QueryEscape(`{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`))
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := ParsePolicy(doc)
		if err != nil {
			return
		}
		if cut, ok := RevokeCutoff(p); ok && cut.IsZero() {
			t.Fatal("a revoke with a zero cutoff")
		}
		inv := &Inventory{Users: []User{{Name: "u", ARN: "arn:aws:iam::1:user/u", Keys: []AccessKey{{ID: "AKIA1"}},
			Policies: []Policy{{Name: "p", Document: doc}}}}}
		RevokeCoverage(inv, Lineage{Key: "ASIA1", Issuer: "AKIA1", Minted: true, MintedAt: time.Unix(1, 0)})
	})
}
