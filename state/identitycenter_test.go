package state

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestIdentityCenterFold: an identitycenter fact folds into
// Store.IdentityCenter, survives an open from the checkpoint, and
// SSOSessions maps AWSReservedSSO_ sessions named after a user (its name
// or e-mail) to it, not other roles' sessions nor unknown names.
func TestIdentityCenterFold(t *testing.T) {
	path := eventsJournal(t, 3, 60)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	ic := IdentityCenter{Region: "us-east-1", Status: IdentityCenterOK, InstanceARN: "arn:aws:sso:::instance/ssoins-1", StoreID: "d-1",
		Users: []SSOUser{{ID: "u-1", UserName: "alice", Emails: []string{"alice@example.com"}, Access: []string{"AdministratorAccess"}}, {ID: "u-2", UserName: "bob"}}}
	var recs []json.RawMessage
	for _, arn := range []string{
		"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice",
		"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_fedcba9876543210/Alice@Example.com",
		"arn:aws:sts::123456789012:assumed-role/deploy/alice",
		"arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_ReadOnly_fedcba9876543210/mallory",
	} {
		b, _ := json.Marshal(map[string]any{"eventVersion": "1.09", "eventID": "ev-" + arn[len(arn)-8:], "eventTime": "2026-11-23T03:00:00Z",
			"eventName": "ListBuckets", "eventSource": "s3.amazonaws.com", "awsRegion": "us-east-1",
			"userIdentity": map[string]any{"type": "AssumedRole", "arn": arn, "accessKeyId": "ASIAEXAMPLE00000" + arn[len(arn)-4:]}})
		recs = append(recs, b)
	}
	if _, err := rec.Record(KindEvents, Events{Source: "lookup:us-east-1", Records: recs}); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(KindIdentityCenter, ic); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	s := mustFold(t, path)
	if s.IdentityCenter == nil || !reflect.DeepEqual(s.IdentityCenter.V, ic) {
		t.Fatalf("folded %+v", s.IdentityCenter)
	}
	ss := s.SSOSessions(s.IdentityCenter.V)
	if len(ss["alice"]) != 2 || len(ss["bob"]) != 0 || len(ss) != 1 {
		t.Fatalf("sessions %+v", ss)
	}
	openIndexed(t, path)
	o, warn := openIndexed(t, path)
	if warn != "" || o.from != o.store.Seq {
		t.Fatalf("not opened from the checkpoint: warned %q", warn)
	}
	if o.store.IdentityCenter == nil || !reflect.DeepEqual(o.store.IdentityCenter.V, ic) {
		t.Fatalf("after the checkpoint: %+v", o.store.IdentityCenter)
	}
	if (IdentityCenter{Status: IdentityCenterUnreadable, Reason: "AccessDenied"}).Summary() != "Identity Center not readable: AccessDenied" {
		t.Error("summary of a refused read")
	}
}

// BenchmarkSSOSessions1M maps Identity Center sessions over a million
// corpus events (none of them AWSReservedSSO_ sessions: the principals
// pane pays this on every refresh).
func BenchmarkSSOSessions1M(b *testing.B) {
	tb := loadCorpus(1_000_000)
	s := &Store{Events: tb}
	ic := IdentityCenter{Status: IdentityCenterOK, Users: []SSOUser{{UserName: "alice", Emails: []string{"alice@example.com"}}}}
	for b.Loop() {
		_ = s.SSOSessions(ic)
	}
}
