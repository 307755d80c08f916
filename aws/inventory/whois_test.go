package inventory

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
)

func TestWhois(t *testing.T) {
	d := newDrill(t, sim.Options{})
	_, backdoorKeys, leaked := leak(t, d)
	ctx := context.Background()
	sess := d.session(t, d.sim.Responder())
	acct := d.sim.AccountID()
	tests := []struct {
		name     string
		key      string
		wantErr  bool
		ours     bool
		user     string
		service  string
		errCalls []string
	}{
		{name: "the leaked key, used for IAM", key: leaked.AccessKeyID, ours: true, user: "ci-deploy", service: "iam"},
		{name: "the backdoor's unused key", key: backdoorKeys[1], ours: true, user: "backup-svc"},
		{name: "someone else's key", key: "AKIAIOSFODNN7EXAMPLE", ours: false},
		{name: "lower case is not a key id", key: "akiaiosfodnn7example", wantErr: true},
		{name: "too short", key: "AKIA123", wantErr: true},
		{name: "terminal escape", key: "AKIA\x1b[2JAAAAAAAAAAAA", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ki, err := Whois(ctx, sess, tt.key, acct)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if ki.Ours != tt.ours || ki.UserName != tt.user || ki.LastService != tt.service || len(ki.Errors) != 0 {
				t.Errorf("KeyInfo %+v", ki)
			}
			if ki.Account == "" || (ki.Account == acct) != tt.ours {
				t.Errorf("account %q (ours %q)", ki.Account, acct)
			}
		})
	}

	// Denied GetAccessKeyLastUsed: the owning account is still answered,
	// and the failed call is in the answer.
	if err := d.sim.AddUser("auditor"); err != nil {
		t.Fatal(err)
	}
	auditor, err := d.sim.AddKey("auditor")
	if err != nil {
		t.Fatal(err)
	}
	deny := `{"Statement":[{"Effect":"Deny","Action":"iam:GetAccessKeyLastUsed","Resource":"*"}]}`
	if _, err := d.iam(d.sim.Responder()).PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("auditor"),
		PolicyName: aws.String("deny"), PolicyDocument: aws.String(deny)}); err != nil {
		t.Fatal(err)
	}
	ki, err := Whois(ctx, d.session(t, auditor), leaked.AccessKeyID, acct)
	if err != nil {
		t.Fatal(err)
	}
	if !ki.Ours || len(ki.Errors) != 1 || ki.Errors[0].Call != "iam:GetAccessKeyLastUsed" || ki.Errors[0].Class != string(session.ClassDenied) {
		t.Errorf("denied last-used: %+v", ki)
	}
	if strings.Contains(ki.Errors[0].Error, auditor.SecretAccessKey) {
		t.Error("a secret in an error")
	}
}
