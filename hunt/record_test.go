package hunt

import (
	"bytes"
	"hash/maphash"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// genRecords parses n realistic records from aws/sim/gen.
func genRecords(t testing.TB, n int, seed uint64) []ctlog.Record {
	t.Helper()
	dir := t.TempDir()
	if _, err := gen.Write(dir, gen.Options{Events: n, Seed: seed, End: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	if _, _, err := ctlog.ParsePaths([]string{dir}, ctlog.Options{}, func(r ctlog.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return recs
}

// A record that went through Athena comes back the same copy: every field
// the store keeps, the minted credential, the addendum (CopyFingerprint),
// and the account. Otherwise a hunt would journal what the journal holds
// as new copies, and mark them conflicts.
func TestRecordRoundTrip(t *testing.T) {
	recs := genRecords(t, 3000, 7)
	extra := []string{
		`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROA:s","arn":"arn:aws:sts::111122223333:assumed-role/r/s","accountId":"111122223333","accessKeyId":"ASIAX","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA","arn":"arn:aws:iam::111122223333:role/r","accountId":"111122223333","userName":"r"},"attributes":{"creationDate":"2026-11-20T10:00:00Z","mfaAuthenticated":"true"}}},"eventTime":"2026-11-20T10:01:00Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2 \"quoted\" \\ \u0001","requestParameters":{"roleArn":"arn:aws:iam::444455556666:role/x","roleSessionName":"pivot"},"responseElements":{"credentials":{"accessKeyId":"ASIAMINTED","sessionToken":"SECRETTOKEN","expiration":"Nov 20, 2026, 11:01:00 AM"},"assumedRoleUser":{"arn":"arn:aws:sts::444455556666:assumed-role/x/pivot"}},"requestID":"r1","eventID":"0b0e6b0e-7f3a-4c58-9d3b-1a2b3c4d5e6f","readOnly":true,"resources":[{"accountId":"444455556666","type":"AWS::IAM::Role","ARN":"arn:aws:iam::444455556666:role/x"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","sharedEventID":"se","eventCategory":"Management","addendum":{"reason":"UPDATED_DATA","updatedFields":"sourceIPAddress","originalRequestID":"r0","originalEventID":"e0"},"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"sts.amazonaws.com"}}`,
		`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/o'brien","accessKeyId":"AKIAQ"},"eventTime":"2026-11-20T10:02:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","errorCode":"AccessDenied","errorMessage":"not authorized","requestParameters":null,"eventID":"custom-id","readOnly":false,"recipientAccountId":"444455556666"}`,
	}
	for _, e := range extra {
		r, err := ctlog.ParseRecord([]byte(e))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	seed := maphash.MakeSeed()
	for _, arrays := range []bool{false, true} {
		for i, r := range recs {
			raw, err := AppendRecord(nil, athenaRow(decodeRecord(r.Raw), arrays))
			if err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
			back, err := ctlog.ParseRecord(raw)
			if err != nil {
				t.Fatalf("record %d: %v\n%s", i, err, raw)
			}
			if state.CopyFingerprint(seed, &r) != state.CopyFingerprint(seed, &back) || back.RecipientAccountID != r.RecipientAccountID ||
				back.EventID != r.EventID || back.RequestID != r.RequestID || back.SessionIssuerARN != r.SessionIssuerARN ||
				back.MFAAuthenticated != r.MFAAuthenticated || !back.SessionIssuedAt.Equal(r.SessionIssuedAt) {
				t.Fatalf("record %d changed on the way through Athena:\n%s\n%s", i, r.Raw, back.Raw)
			}
		}
	}
	// The secret a minting call returned is redacted as ctlog redacts it.
	last, _ := AppendRecord(nil, athenaRow(decodeRecord([]byte(extra[0])), false))
	back, _ := ctlog.ParseRecord(last)
	if bytes.Contains(back.Raw, []byte("SECRETTOKEN")) || back.Minted == nil || back.Minted.AccessKeyID != "ASIAMINTED" {
		t.Errorf("minting record after the hunt: %s", back.Raw)
	}
}
