package contain

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// TestBackdoorSessionsAreTheRolesAccounts: the family opened the trust of
// OrganizationAccountAccessRole in member A; the sessions another account
// minted on that role since are the family's — but not warroom's own
// (its member session, a session.key of the journal), nor sessions of the
// role of the same name in other members. Found by TestOrgIncidentEndToEnd
// (seed 23): the playbook took warroom's own member sessions for the
// attacker's and detached the revoke policy it had just put.
func TestBackdoorSessionsAreTheRolesAccounts(t *testing.T) {
	const (
		a, b, mgmt, outside = "111111111111", "222222222222", "999999999999", "444455556666"
		role                = "OrganizationAccountAccessRole"
		leaked              = "AKIALEAKLEAKLEAK0001"
	)
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	n := 0
	record := func(at time.Time, recipient, identity, name, params, response string) ctlog.Record {
		n++
		js := fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":%q,"eventSource":"%s","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2","requestParameters":%s,"responseElements":%s,"requestID":"r-%d","eventID":"e-%d","eventType":"AwsApiCall","recipientAccountId":%q}`,
			identity, at.Format(time.RFC3339), map[bool]string{true: "iam.amazonaws.com", false: "sts.amazonaws.com"}[name == "UpdateAssumeRolePolicy"], name, params, response, n, n, recipient)
		r, err := ctlog.ParseRecord([]byte(js))
		if err != nil {
			t.Fatalf("record %d: %v", n, err)
		}
		return r
	}
	user := fmt.Sprintf(`{"type":"IAMUser","principalId":"AIDALEAK","arn":"arn:aws:iam::%s:user/legacy","accountId":%q,"accessKeyId":%q,"userName":"legacy"}`, a, a, leaked)
	from := func(acct string) string {
		return fmt.Sprintf(`{"type":"AWSAccount","principalId":"AIDAX","accountId":%q}`, acct)
	}
	assume := func(acct, key string) (string, string) {
		return fmt.Sprintf(`{"roleArn":"arn:aws:iam::%s:role/%s","roleSessionName":"s"}`, acct, role),
			fmt.Sprintf(`{"credentials":{"accessKeyId":%q,"expiration":"Dec 7, 2026, 2:00:00 AM","sessionToken":"x"},"assumedRoleUser":{"arn":"arn:aws:sts::%s:assumed-role/%s/s","assumedRoleId":"AROAX:s"}}`, key, acct, role)
	}
	var recs []ctlog.Record
	recs = append(recs, record(t0, a, user, "UpdateAssumeRolePolicy",
		fmt.Sprintf(`{"roleName":%q,"policyDocument":"{\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::%s:root\"},\"Action\":\"sts:AssumeRole\"}]}"}`, role, outside), "null"))
	p, r := assume(a, "ASIAATTACKER00000001") // the attacker's outside account, in A
	recs = append(recs, record(t0.Add(time.Minute), a, from(outside), "AssumeRole", p, r))
	p, r = assume(a, "ASIAWARROOM000000001") // warroom's own member session in A
	recs = append(recs, record(t0.Add(2*time.Minute), a, from(mgmt), "AssumeRole", p, r))
	p, r = assume(b, "ASIAWARROOMB00000001") // the role of the same name in B
	recs = append(recs, record(t0.Add(3*time.Minute), b, from(mgmt), "AssumeRole", p, r))

	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{ID: "wr-test"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(state.KindSessionStarted, state.SessionStarted{Command: "contain", CallerKeyID: "AKIARESPONDER0000001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(state.KindSessionKey, state.SessionKey{KeyID: "ASIAWARROOM000000001"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rec.RecordEvents("test", recs, nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	s, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %v", err, rep.Problem)
	}
	raw := state.NewRawReader(path)
	defer raw.Close()
	f := findFamily(s, raw.Raw, leaked, a)
	got := backdoorSessions(s, raw.Raw, f)
	if !slices.Equal(got, []string{"ASIAATTACKER00000001"}) {
		t.Errorf("backdoor sessions = %v, want only the outside account's session in A (not warroom's, not B's role of the same name)", got)
	}
}
