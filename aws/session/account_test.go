package session

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestForAccount: a member session assumes the role through the SDK's
// provider once (cached), acts as the role in that account with the role
// session name and app id marking warroom, keeps the read-only guard, and a
// role that cannot be assumed is shown as denied, the call named.
func TestForAccount(t *testing.T) {
	endpoint, resp, s := drill(t)
	if err := s.AddRole(DefaultRoleName, time.Hour); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	base, err := Load(ctx, Options{
		Endpoint: endpoint, ReadOnly: true,
		Credentials: StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken),
		Role:        Role{ExternalID: "ir-2026"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var told []string
	var toldMu sync.Mutex
	base.OnNewKey(func(k string) { toldMu.Lock(); told = append(told, k); toldMu.Unlock() })
	acct := s.AccountID()
	m, err := base.ForAccount(acct)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := base.ForAccount(acct); again != m {
		t.Error("ForAccount is not cached per account")
	}
	if m.Account() != acct || m.RoleARN() != "arn:aws:iam::"+acct+":role/"+DefaultRoleName || m.Base() != base {
		t.Errorf("member session: account %q role %q", m.Account(), m.RoleARN())
	}
	if a, err := m.Probe(ctx); a != AccessOK || err != nil {
		t.Fatalf("Probe: %s %v", a, err)
	}
	id, err := m.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := "assumed-role/" + DefaultRoleName + "/" + DefaultRoleSessionName; !strings.HasSuffix(id.ARN, want) || id.AccountID != acct {
		t.Errorf("member identity %s, want …%s in %s", id.ARN, want, acct)
	}
	if !strings.HasPrefix(id.KeyID, "ASIA") {
		t.Errorf("member key %q, want a temporary key", id.KeyID)
	}
	// The role session's key is ours too: told to the base session's
	// OnNewKey, which journals it (session.key), or the member account's
	// calls by warroom are judged impersonations (seen playing the drill
	// organisation: its own LookupEvents marked @ in the stream).
	toldMu.Lock()
	if !slices.Contains(told, id.KeyID) {
		t.Errorf("the member key %s was not told to the base session's OnNewKey (told %v)", id.KeyID, told)
	}
	toldMu.Unlock()
	var assumes int
	for _, c := range s.Calls() {
		if c.Operation == "AssumeRole" {
			assumes++
			if !c.OK() || !strings.Contains(c.UserAgent, "app/warroom") {
				t.Errorf("AssumeRole call %+v", c)
			}
		}
	}
	if assumes != 1 {
		t.Errorf("%d AssumeRole calls, want 1 (credentials cached)", assumes)
	}
	var sawExternal bool
	for _, r := range s.Records() {
		if r.EventName == "AssumeRole" && strings.Contains(string(r.JSON), `"externalId":"ir-2026"`) &&
			strings.Contains(string(r.JSON), `"roleSessionName":"warroom"`) {
			sawExternal = true
		}
	}
	if !sawExternal {
		t.Error("no AssumeRole record with the external id and warroom's role session name")
	}
	before := len(s.Calls())
	if _, err := m.IAM().DeleteUser(ctx, nil); !errors.Is(err, ErrReadOnly) {
		t.Errorf("DeleteUser through a read-only member session: %v", err)
	}
	if _, err := m.Mutators(); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Mutators of a read-only member: %v", err)
	}
	if n := len(s.Calls()) - before; n != 0 {
		t.Errorf("%d calls reached the drill", n)
	}

	// A role that does not exist: AWS (and the drill) answer AccessDenied.
	other, err := Load(ctx, Options{Endpoint: endpoint,
		Credentials: StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, resp.SessionToken),
		Role:        Role{Name: "NoSuchRole"}})
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := other.ForAccount(acct)
	a, err := bad.Probe(ctx)
	if a != AccessDenied || err == nil || !strings.Contains(err.Error(), "sts:AssumeRole") || !strings.Contains(err.Error(), acct) {
		t.Errorf("Probe of a missing role: %s %v", a, err)
	}
	if _, err := base.ForAccount("12345"); err == nil {
		t.Error("ForAccount accepted a bad account id")
	}
}

func TestClassifyAccess(t *testing.T) {
	for _, c := range []struct {
		msg  string
		want Access
	}{
		{"api error AccessDenied: User: x is not authorized to perform: iam:ListUsers with an explicit deny in a service control policy", AccessSCP},
		{"AccountSuspendedException: the account is suspended", AccessSuspended},
		{"NoSuchEntity: The role with name X cannot be found.", AccessMissingRole},
		{"dial tcp: connection refused", AccessError},
	} {
		if got := ClassifyAccess(errors.New(c.msg)); got != c.want {
			t.Errorf("%q: %s, want %s", c.msg, got, c.want)
		}
	}
	if ClassifyAccess(nil) != AccessOK {
		t.Error("nil is not ok")
	}
}

func TestParseAccountIDs(t *testing.T) {
	ids, err := ParseAccountIDs("111111111111, 222222222222,111111111111")
	if err != nil || len(ids) != 2 || ids[1] != "222222222222" {
		t.Errorf("%v %v", ids, err)
	}
	if _, err := ParseAccountIDs("111111111111,abc"); err == nil || !strings.Contains(err.Error(), "account 2") {
		t.Errorf("bad entry: %v", err)
	}
	if _, err := ParseAccountIDs(" , "); err == nil {
		t.Error("empty list accepted")
	}
}
