package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// TestReportQuarantineAndPasswords: AWS's quarantine (CloudTrail and the
// inventory) and the passwords changed are sections of the report in every
// format, with hostile names escaped.
func TestReportQuarantineAndPasswords(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	hostile := "evil|<script>\x1b[2J"
	recs := []string{
		`{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::000000000000:assumed-role/Q/AWSCompromisedKeyQuarantine","accountId":"000000000000"},"eventTime":"2026-11-23T04:01:00Z","eventSource":"iam.amazonaws.com","eventName":"AttachUserPolicy","awsRegion":"us-east-1","sourceIPAddress":"AWS Internal","userAgent":"AWS Internal","requestParameters":{"userName":"legacy-reporting","policyArn":"arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV2"},"responseElements":null,"requestID":"r1","eventID":"e1","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
		`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/legacy-reporting","accountId":"111122223333","accessKeyId":"AKIALEAKED","userName":"legacy-reporting"},"eventTime":"2026-11-23T04:02:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateLoginProfile","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"x","requestParameters":{"userName":` + jsonString(hostile) + `,"passwordResetRequired":false},"responseElements":null,"requestID":"r2","eventID":"e2","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
	}
	s := state.NewStore()
	s.Incident.Began = t0
	s.At = t0.Add(time.Hour)
	parsed := make([]ctlog.Record, len(recs))
	for i, r := range recs {
		p, err := ctlog.ParseRecord([]byte(r))
		if err != nil {
			t.Fatal(err)
		}
		parsed[i] = p
		s.Events.Add(&parsed[i], state.EventRef{Offset: 1, Index: uint32(i)})
	}
	raw := func(ref state.EventRef) ([]byte, error) { return parsed[ref.Index].Raw, nil }
	r := Build(s, journal.Report{}, Options{Raw: raw})
	if len(r.AWSQuarantine) != 1 || !r.AWSQuarantine[0].Sighting.ByAWS || len(r.Passwords) != 1 || r.Passwords[0].User != hostile {
		t.Fatalf("quarantine %+v passwords %+v", r.AWSQuarantine, r.Passwords)
	}
	for _, format := range []string{"md", "html", "json"} {
		var b bytes.Buffer
		if err := Write(&b, r, format); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "\x1b") || strings.Contains(out, "<script>") {
			t.Errorf("%s: hostile text not escaped", format)
		}
		if format != "json" && (!strings.Contains(out, "AWS's quarantine") || !strings.Contains(out, "NOT denied: ") || !strings.Contains(out, "Console passwords")) {
			t.Errorf("%s: sections missing:\n%s", format, out)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
