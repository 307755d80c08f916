package state

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestFamilyAccounts: the accounts the suspect families touched are those
// of the principals their keys' events ran as and of the roles their
// minted credentials belong to — a role assumed in another account counts
// before any of its session's events arrive —, and of a principal marked
// suspect; an unrelated key's account is not one, and with no suspect
// there are none.
func TestFamilyAccounts(t *testing.T) {
	const (
		leak  = "AKIALEAKEDKEY0000001"
		other = "AKIAUNRELATED0000001"
		sessA = "ASIAPIVOTSESSION0001"
		tok   = "ASIASESSIONTOKEN0001"
	)
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	n := 0
	raw := func(name, key, principal, roleARN, minted string) json.RawMessage {
		n++
		r := map[string]any{"eventVersion": "1.09", "eventID": fmt.Sprintf("%08d-aaaa-4bbb-8ccc-0123456789ab", n),
			"eventTime": at.Add(time.Duration(n) * time.Minute).Format(time.RFC3339), "eventName": name, "eventSource": "sts.amazonaws.com",
			"awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2", "eventType": "AwsApiCall",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": principal, "accessKeyId": key}}
		if roleARN != "" {
			r["requestParameters"] = map[string]any{"roleArn": roleARN, "roleSessionName": "pivot"}
		}
		if minted != "" {
			r["responseElements"] = map[string]any{"credentials": map[string]any{"accessKeyId": minted, "expiration": "Jun 1, 2026, 11:00:00 PM"}}
		}
		b, _ := json.Marshal(r)
		return b
	}
	events := Events{Source: "lookup:us-east-1", Records: []json.RawMessage{
		raw("GetCallerIdentity", leak, "arn:aws:iam::"+homeAcct+":user/ci", "", ""),
		raw("GetSessionToken", leak, "arn:aws:iam::"+homeAcct+":user/ci", "", tok),
		raw("AssumeRole", tok, "arn:aws:iam::"+homeAcct+":user/ci", "arn:aws:iam::"+acctA+":role/deploy-cross", sessA),
		raw("GetCallerIdentity", other, "arn:aws:iam::"+acctB+":user/someone-else", "", ""),
	}}
	fold := func(suspects ...Suspect) *Store {
		path := filepath.Join(t.TempDir(), "j")
		rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1"})
		if err != nil {
			t.Fatal(err)
		}
		facts := []struct {
			k Kind
			v any
		}{{KindSessionStarted, SessionStarted{Command: "console", Mode: ModeReadOnly, AccountID: homeAcct}}, {KindEvents, events}}
		for _, s := range suspects {
			facts = append(facts, struct {
				k Kind
				v any
			}{KindSuspect, s})
		}
		for _, f := range facts {
			if _, err := rec.Record(f.k, f.v); err != nil {
				t.Fatal(err)
			}
		}
		rec.Close()
		return mustFold(t, path)
	}
	for _, c := range []struct {
		name     string
		suspects []Suspect
		want     []string
	}{
		{"no suspect", nil, nil},
		{"the leaked key: its account and the role it pivoted to", []Suspect{{AccessKeyID: leak}}, []string{homeAcct, acctA}},
		{"a principal marked suspect too", []Suspect{{AccessKeyID: leak}, {PrincipalARN: "arn:aws:iam::444444444444:user/evil"}},
			[]string{homeAcct, acctA, "444444444444"}},
		{"the unrelated key alone", []Suspect{{AccessKeyID: other}}, []string{acctB}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := fold(c.suspects...).FamilyAccounts(); !slices.Equal(got, c.want) {
				t.Errorf("FamilyAccounts = %v, want %v", got, c.want)
			}
		})
	}
}
