package state

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

const creatorARN = "arn:aws:iam::111122223333:user/ci-deploy"

// creatingRecord returns a CloudTrail record in the real shape, signed by the leaked key.
func creatingRecord(id int, at time.Time, name, region, errCode, response string) string {
	errField := ""
	if errCode != "" {
		errField = fmt.Sprintf(`"errorCode":%q,"errorMessage":"denied",`, errCode)
	}
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":%q,"accountId":"111122223333","accessKeyId":"AKIALEAKED","userName":"ci-deploy"},`+
		`"eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":%q,"awsRegion":%q,"sourceIPAddress":"203.0.113.9","userAgent":"aws-cli/2.15.0",%s`+
		`"requestParameters":{},"responseElements":%s,"requestID":"r-%d","eventID":"00000000-0000-4000-8000-%012d","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
		creatorARN, at.UTC().Format(time.RFC3339), name, region, errField, response, id, id)
}

func TestFindCreators(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	raws := []string{
		creatingRecord(1, t0, "RunInstances", "eu-west-1", "", `{"requestId":"x","reservationId":"r-0a","ownerId":"111122223333","groupSet":{},"instancesSet":{"items":[{"instanceId":"i-0aaa","instanceType":"p3.16xlarge"},{"instanceId":"i-0bbb"}]}}`),
		creatingRecord(2, t0.Add(time.Minute), "RequestSpotInstances", "ap-south-1", "", `{"requestId":"x","spotInstanceRequestSet":{"items":[{"spotInstanceRequestId":"sir-0001","state":"open"}]}}`),
		creatingRecord(3, t0.Add(2*time.Minute), "ImportKeyPair", "eu-west-1", "", `{"requestId":"x","keyName":"backup","keyFingerprint":"aa:bb","keyPairId":"key-0123"}`),
		creatingRecord(4, t0.Add(3*time.Minute), "CreateSecurityGroup", "eu-west-1", "", `{"requestId":"x","_return":true,"groupId":"sg-0abc"}`),
		creatingRecord(5, t0.Add(4*time.Minute), "CreateFunction20150331", "us-east-2", "", `{"functionName":"miner","functionArn":"arn:aws:lambda:us-east-2:111122223333:function:miner","runtime":"python3.12"}`),
		// A denied launch created nothing.
		creatingRecord(6, t0.Add(5*time.Minute), "RunInstances", "eu-west-1", "Client.UnauthorizedOperation", `null`),
		// A record whose response is not the documented shape is reported, not fatal.
		creatingRecord(7, t0.Add(6*time.Minute), "RunInstances", "eu-west-1", "", `{"instancesSet":"surprise"}`),
		// A second claim on an id (a replayed or forged record) does not replace the first.
		creatingRecord(8, t0.Add(7*time.Minute), "RunInstances", "eu-west-1", "", `{"instancesSet":{"items":[{"instanceId":"i-0aaa"}]}}`),
		// Reads do not create.
		creatingRecord(9, t0.Add(8*time.Minute), "DescribeInstances", "eu-west-1", "", `null`),
		// The same instance id in another Region is another resource.
		creatingRecord(10, t0.Add(9*time.Minute), "RunInstances", "us-west-2", "", `{"instancesSet":{"items":[{"instanceId":"i-0aaa"}]}}`),
	}
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
	read := func(ref EventRef) ([]byte, error) { return recs[ref.Index].Raw, nil }
	c, problems := FindCreators(tbl, read)
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "00000000-0000-4000-8000-000000000007") {
		t.Errorf("problems %v, want the malformed record 7 named", problems)
	}
	tests := []struct {
		name, region, id string
		found            bool
		event            string
		at               time.Time
	}{
		{"first instance of a launch", "eu-west-1", "i-0aaa", true, "RunInstances", t0},
		{"second instance of a launch", "eu-west-1", "i-0bbb", true, "RunInstances", t0},
		{"spot request", "ap-south-1", "sir-0001", true, "RequestSpotInstances", t0.Add(time.Minute)},
		{"key pair by id", "eu-west-1", "key-0123", true, "ImportKeyPair", t0.Add(2 * time.Minute)},
		{"key pair by name", "eu-west-1", "backup", true, "ImportKeyPair", t0.Add(2 * time.Minute)},
		{"security group", "eu-west-1", "sg-0abc", true, "CreateSecurityGroup", t0.Add(3 * time.Minute)},
		{"function by name", "us-east-2", "miner", true, "CreateFunction20150331", t0.Add(4 * time.Minute)},
		{"function by arn", "us-east-2", "arn:aws:lambda:us-east-2:111122223333:function:miner", true, "CreateFunction20150331", t0.Add(4 * time.Minute)},
		{"same id in another Region", "us-west-2", "i-0aaa", true, "RunInstances", t0.Add(9 * time.Minute)},
		{"key pair in the wrong Region", "us-east-1", "backup", false, "", time.Time{}},
		{"unknown instance", "eu-west-1", "i-0zzz", false, "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, ok := c.Lookup(tt.region, tt.id)
			if ok != tt.found {
				t.Fatalf("found %v, want %v", ok, tt.found)
			}
			if !ok {
				return
			}
			if cr.Event != tt.event || !cr.Time.Equal(tt.at) || cr.Principal != creatorARN || cr.AccessKeyID != "AKIALEAKED" || cr.SourceIP != "203.0.113.9" {
				t.Errorf("creator %+v", cr)
			}
		})
	}

	t.Run("spot instance through its request", func(t *testing.T) {
		cr, ok := c.Of("ap-south-1", Resource{ID: "i-0spot", Attrs: map[string]string{"spot_request": "sir-0001"}})
		if !ok || cr.Event != "RequestSpotInstances" {
			t.Errorf("Of = %+v, %v", cr, ok)
		}
	})
	t.Run("unreadable raw records are reported", func(t *testing.T) {
		_, problems := FindCreators(tbl, func(EventRef) ([]byte, error) { return nil, errors.New("journal gone") })
		if len(problems) != 8 {
			t.Errorf("%d problems, want one per successful creating event (8): %v", len(problems), problems)
		}
	})
}

func TestNewSince(t *testing.T) {
	began := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		began   time.Time
		created time.Time
		cr      Creator
		known   bool
		want    bool
	}{
		{"created by an event after", began, time.Time{}, Creator{Time: began.Add(time.Minute)}, true, true},
		{"created by an event before", began, began.Add(time.Hour), Creator{Time: began.Add(-time.Minute)}, true, false},
		{"no event, launch time after", began, began.Add(time.Minute), Creator{}, false, true},
		{"no event, launch time before", began, began.Add(-time.Minute), Creator{}, false, false},
		{"no event, no time", began, time.Time{}, Creator{}, false, false},
		{"incident start unknown", time.Time{}, began, Creator{Time: began}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NewSince(tt.began, Resource{Created: tt.created}, tt.cr, tt.known); got != tt.want {
				t.Errorf("NewSince = %v, want %v", got, tt.want)
			}
		})
	}
}
