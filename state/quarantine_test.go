package state

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// iamRecord returns a CloudTrail record in the real shape.
func iamRecord(id int, at time.Time, identity, source, name, ip, errCode, params string) string {
	errField := ""
	if errCode != "" {
		errField = fmt.Sprintf(`"errorCode":%q,"errorMessage":"denied",`, errCode)
	}
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1",`+
		`"sourceIPAddress":%q,"userAgent":"aws-cli/2.15.0",%s"requestParameters":%s,"responseElements":null,"requestID":"r-%d",`+
		`"eventID":"00000000-0000-4000-8000-%012d","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
		identity, at.UTC().Format(time.RFC3339), source, name, ip, errField, params, id, id)
}

const (
	attackerIdentity = `{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/legacy-reporting","accountId":"111122223333","accessKeyId":"AKIALEAKED","userName":"legacy-reporting"}`
	awsIdentity      = `{"type":"AssumedRole","principalId":"AROAEXAMPLE:AWSCompromisedKeyQuarantine","arn":"arn:aws:sts::000000000000:assumed-role/AWSQuarantine/AWSCompromisedKeyQuarantine","accountId":"000000000000"}`
	rootIdentity     = `{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}`
)

func tableOf(t *testing.T, raws []string) (*EventTable, func(EventRef) ([]byte, error)) {
	t.Helper()
	tbl := NewEventTable()
	recs := make([]ctlog.Record, len(raws))
	for i, raw := range raws {
		r, err := ctlog.ParseRecord([]byte(raw))
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		recs[i] = r
		tbl.Add(&recs[i], EventRef{Offset: 1, Index: uint32(i)})
	}
	return tbl, func(ref EventRef) ([]byte, error) { return recs[ref.Index].Raw, nil }
}

func TestQuarantineCatalogue(t *testing.T) {
	for _, p := range QuarantinePolicies {
		if len(p.Deny) != 89 {
			t.Errorf("%s: %d actions, AWS's document lists 89", p.Name, len(p.Deny))
		}
	}
	v3, ok := QuarantinePolicyOf("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3")
	if !ok {
		t.Fatal("V3 not known")
	}
	for _, c := range []struct {
		action string
		want   bool
	}{
		{"ec2:RunInstances", true}, {"EC2:runinstances", true}, {"iam:CreateAccessKey", true},
		{"lightsail:CreateInstances", true}, {"lightsail:GetInstances", false},
		{"sts:AssumeRole", false}, {"iam:CreatePolicy", false}, {"ec2:AuthorizeSecurityGroupIngress", false},
		{"cloudtrail:StopLogging", false}, {"cloudtrail:LookupEvents", true}, {"iam:ListUsers", true},
	} {
		if got := v3.Denies(c.action); got != c.want {
			t.Errorf("V3 denies %s = %v, want %v", c.action, got, c.want)
		}
	}
	if !IsAWSQuarantine("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV4") || IsAWSQuarantine("arn:aws:iam::111122223333:policy/AWSCompromisedKeyQuarantineV3") {
		t.Error("IsAWSQuarantine: a later AWS version is one, an account's look-alike is not")
	}
	c := CoverActions("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2", []string{"iam:UpdateAccessKey", "sts:AssumeRole", "ec2:RunInstances", "sts:AssumeRole"})
	if !slices.Equal(c.Denied, []string{"ec2:RunInstances", "iam:UpdateAccessKey"}) || !slices.Equal(c.NotDenied, []string{"sts:AssumeRole"}) {
		t.Errorf("coverage %+v", c)
	}
	if s := c.String(); !strings.Contains(s, "NOT denied: sts:AssumeRole") {
		t.Errorf("coverage line %q", s)
	}
	// A version warroom does not hold denies nothing it can vouch for.
	u := CoverActions("arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV4", []string{"ec2:RunInstances"})
	if u.Known || len(u.Denied) != 0 || !strings.Contains(u.String(), "not in warroom's catalogue") {
		t.Errorf("unknown version: %+v %q", u, u.String())
	}
}

func TestFindQuarantines(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	tbl, read := tableOf(t, []string{
		iamRecord(1, t0, awsIdentity, "iam.amazonaws.com", "AttachUserPolicy", "AWS Internal", "",
			`{"userName":"legacy-reporting","policyArn":"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}`),
		// Someone else attaching it is a sighting, not AWS's.
		iamRecord(2, t0.Add(time.Minute), attackerIdentity, "iam.amazonaws.com", "AttachUserPolicy", "203.0.113.9", "",
			`{"userName":"alice","policyArn":"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"}`),
		// Another policy, a failed attachment: none.
		iamRecord(3, t0.Add(2*time.Minute), attackerIdentity, "iam.amazonaws.com", "AttachUserPolicy", "203.0.113.9", "",
			`{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`),
		iamRecord(4, t0.Add(3*time.Minute), attackerIdentity, "iam.amazonaws.com", "AttachUserPolicy", "203.0.113.9", "AccessDenied",
			`{"userName":"bob","policyArn":"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}`),
	})
	got, problems := FindQuarantines(tbl, read)
	if len(problems) != 0 || len(got) != 2 {
		t.Fatalf("got %+v, problems %v", got, problems)
	}
	if g := got[0]; g.User != "legacy-reporting" || !g.ByAWS || g.By != "AWS" || g.Policy != "AWSCompromisedKeyQuarantineV3" || !g.Known {
		t.Errorf("AWS's sighting %+v", g)
	}
	if g := got[1]; g.User != "alice" || g.ByAWS || !strings.HasSuffix(g.By, "user/legacy-reporting") {
		t.Errorf("the attacker's sighting %+v", g)
	}
	// A record that cannot be read is reported and the rest are read.
	_, problems = FindQuarantines(tbl, func(ref EventRef) ([]byte, error) {
		if ref.Index == 0 {
			return nil, errors.New("gone")
		}
		return read(ref)
	})
	if len(problems) != 1 {
		t.Errorf("problems %v", problems)
	}
}

func TestInventoryQuarantines(t *testing.T) {
	s := NewStore()
	s.Inventory = &Inventory{TakenAt: time.Unix(100, 0).UTC(), Users: []User{
		{Name: "legacy-reporting", Policies: []Policy{{Name: "AdministratorAccess", ARN: "arn:aws:iam::aws:policy/AdministratorAccess"},
			{Name: "AWSCompromisedKeyQuarantineV3", ARN: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}}},
		{Name: "alice", Policies: []Policy{{Name: "AWSCompromisedKeyQuarantineV3", Inline: true}}},
	}}
	got := s.InventoryQuarantines()
	if len(got) != 1 || got[0].User != "legacy-reporting" || got[0].Source != "inventory" || !got[0].Known {
		t.Errorf("got %+v", got)
	}
}

func TestFindPasswordChanges(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	tbl, read := tableOf(t, []string{
		iamRecord(1, t0.Add(-time.Hour), attackerIdentity, "iam.amazonaws.com", "CreateLoginProfile", "203.0.113.9", "",
			`{"userName":"before","passwordResetRequired":false}`),
		iamRecord(2, t0, attackerIdentity, "iam.amazonaws.com", "CreateLoginProfile", "203.0.113.9", "",
			`{"userName":"backdoor","passwordResetRequired":false}`),
		iamRecord(3, t0.Add(time.Minute), attackerIdentity, "iam.amazonaws.com", "UpdateLoginProfile", "203.0.113.9", "",
			`{"userName":"alice"}`),
		iamRecord(4, t0.Add(2*time.Minute), attackerIdentity, "iam.amazonaws.com", "ChangePassword", "203.0.113.9", "", `null`),
		iamRecord(5, t0.Add(3*time.Minute), rootIdentity, "signin.amazonaws.com", "PasswordUpdated", "203.0.113.9", "", `null`),
		iamRecord(6, t0.Add(4*time.Minute), attackerIdentity, "iam.amazonaws.com", "UpdateLoginProfile", "203.0.113.9", "NoSuchEntity",
			`{"userName":"ghost"}`),
		// An event of that name from another source is not a password change.
		iamRecord(7, t0.Add(5*time.Minute), attackerIdentity, "example.amazonaws.com", "PasswordUpdated", "203.0.113.9", "", `null`),
	})
	got, problems := FindPasswordChanges(tbl, t0, time.Time{}, read)
	if len(problems) != 0 {
		t.Fatal(problems)
	}
	var users []string
	for _, c := range got {
		users = append(users, c.User+"/"+c.Event)
	}
	want := []string{"backdoor/CreateLoginProfile", "alice/UpdateLoginProfile", "legacy-reporting/ChangePassword", "root/PasswordUpdated"}
	if !slices.Equal(users, want) {
		t.Fatalf("got %v, want %v", users, want)
	}
	if !got[3].Root || got[3].ByType != "Root" || got[0].ResetRequired == nil || *got[0].ResetRequired {
		t.Errorf("details: %+v %+v", got[3], got[0])
	}
	if !strings.HasSuffix(got[1].By, "user/legacy-reporting") || got[1].SourceIP != "203.0.113.9" {
		t.Errorf("by whom: %+v", got[1])
	}
}

func TestAWSQuarantineSeen(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	s := NewStore()
	s.Events, _ = tableOf(t, []string{
		iamRecord(1, t0, awsIdentity, "iam.amazonaws.com", "AttachUserPolicy", "AWS Internal", "",
			`{"userName":"legacy-reporting","policyArn":"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}`),
		iamRecord(2, t0, attackerIdentity, "iam.amazonaws.com", "AttachUserPolicy", "203.0.113.9", "",
			`{"userName":"x","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`),
	})
	if sg, n := s.AWSQuarantineSeen(); len(sg) != 0 || n != 1 {
		t.Errorf("before an inventory: %v %d", sg, n)
	}
	s.Inventory = &Inventory{Users: []User{{Name: "legacy-reporting", Policies: []Policy{{ARN: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"}}}}}
	if sg, n := s.AWSQuarantineSeen(); len(sg) != 1 || n != 1 {
		t.Errorf("with an inventory: %v %d", sg, n)
	}
}

// BenchmarkAWSQuarantineSeen1M is the console's per-frame check for AWS's
// quarantine over a million corpus events (the status line draws it on
// every frame), with an inventory of 500 users.
func BenchmarkAWSQuarantineSeen1M(b *testing.B) {
	s := NewStore()
	s.Events = loadCorpus(1_000_000)
	inv := &Inventory{}
	for i := range 500 {
		inv.Users = append(inv.Users, User{Name: fmt.Sprintf("user-%04d", i), Policies: []Policy{
			{Name: "ReadOnlyAccess", ARN: "arn:aws:iam::aws:policy/ReadOnlyAccess"}, {Name: "inline", Inline: true}}})
	}
	inv.Users[42].Policies = append(inv.Users[42].Policies, Policy{Name: "AWSCompromisedKeyQuarantineV3", ARN: "arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"})
	s.Inventory = inv
	var n int
	for b.Loop() {
		sg, _ := s.AWSQuarantineSeen()
		n = len(sg)
	}
	if n != 1 {
		b.Fatalf("%d sightings", n)
	}
}
