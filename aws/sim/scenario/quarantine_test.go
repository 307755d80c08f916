package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

// TestAWSQuarantinesTheLeakedUser plays the scenario until AWS quarantines
// the leaked key's user, then reads the account as an outside client: the
// policy is attached (ListAttachedUserPolicies), CloudTrail's event history
// holds AWS's attachment from "AWS Internal" (LookupEvents), and the
// attacker's later calls with the leaked key that the policy lists fail
// with an explicit deny, while it goes on with what the policy leaves.
func TestAWSQuarantinesTheLeakedUser(t *testing.T) {
	for _, seed := range []uint64{11, 4} {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			d := startDrill(t, seed, 2000)
			ctx := context.Background()
			var policy string
			var at time.Time
			waitFor(t, "AWS's quarantine", func() bool {
				policy, at = d.sc.Quarantine()
				return !at.IsZero()
			})
			att, err := iam.NewFromConfig(d.responder("us-east-1")).ListAttachedUserPolicies(ctx,
				&iam.ListAttachedUserPoliciesInput{UserName: aws.String(d.sc.LeakedUser())})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range att.AttachedPolicies {
				found = found || aws.ToString(p.PolicyArn) == policy
			}
			if !found || !strings.Contains(policy, "AWSCompromisedKeyQuarantineV") {
				t.Fatalf("%s not attached: %+v", policy, att.AttachedPolicies)
			}
			ct := cloudtrail.NewFromConfig(d.responder("us-east-1"))
			waitFor(t, "the attachment in the event history", func() bool {
				out, err := ct.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{
					{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("AttachUserPolicy")}}})
				if err != nil {
					return false
				}
				for _, e := range out.Events {
					s := aws.ToString(e.CloudTrailEvent)
					if strings.Contains(s, `"sourceIPAddress":"AWS Internal"`) && strings.Contains(s, policy) && strings.Contains(s, d.sc.LeakedUser()) {
						return true
					}
				}
				return false
			})
			// The attacker's later calls with the leaked key: ListUsers is
			// on the policy's list (denied), DescribeInstances is not.
			leaked := d.sc.LeakedKey()
			waitFor(t, "the attacker denied by the quarantine", func() bool {
				denied, allowed, after := false, false, false
				for _, r := range d.sim.Records() {
					// Records are in the order written: only those after
					// AWS's attachment count.
					if !after {
						after = r.EventName == "AttachUserPolicy" && strings.Contains(string(r.JSON), `"sourceIPAddress":"AWS Internal"`)
						continue
					}
					var rec struct {
						UserIdentity struct {
							AccessKeyID string `json:"accessKeyId"`
						} `json:"userIdentity"`
						ErrorCode    string `json:"errorCode"`
						ErrorMessage string `json:"errorMessage"`
					}
					if json.Unmarshal(r.JSON, &rec) != nil || rec.UserIdentity.AccessKeyID != leaked {
						continue
					}
					switch r.EventName {
					case "ListUsers":
						if rec.ErrorCode != "AccessDenied" || !strings.Contains(rec.ErrorMessage, "with an explicit deny in an identity-based policy") {
							t.Fatalf("ListUsers after the quarantine: %s %s", rec.ErrorCode, rec.ErrorMessage)
						}
						denied = true
					case "DescribeInstances":
						allowed = allowed || rec.ErrorCode == ""
					}
				}
				return denied && allowed
			})
		})
	}
}
