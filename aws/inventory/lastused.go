package inventory

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// LastUsed reads a long-term key's last successful use from IAM now
// (iam:GetAccessKeyLastUsed): the impact watch's truth check, since IAM
// counts only calls that authenticated, a key it says was used after it
// was deactivated is active again. CheckedAt is the account's clock (the
// answer's Date, the clock CloudTrail's times run on), the local one when
// the call failed. A failed call (access denied, throttled after the
// SDK's retries) is in Errors, never an error of its own.
func LastUsed(ctx context.Context, sess *session.Session, keyID string) state.KeyInfo {
	ki := state.KeyInfo{AccessKeyID: keyID, CheckedAt: time.Now().UTC(), KeyType: "long-term"}
	out, err := sess.IAM().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: &keyID})
	if err != nil {
		ki.Errors = append(ki.Errors, callErr("iam:GetAccessKeyLastUsed", "", keyID, err))
		return ki
	}
	if t, ok := awsmw.GetServerTime(out.ResultMetadata); ok && !t.IsZero() {
		ki.CheckedAt = t.UTC()
	}
	// IAM answers only for a key of the caller's account.
	ki.Ours, ki.UserName = true, aws.ToString(out.UserName)
	if l := out.AccessKeyLastUsed; l != nil {
		ki.LastUsed = aws.ToTime(l.LastUsedDate).UTC()
		ki.LastService = naEmpty(aws.ToString(l.ServiceName))
		ki.LastRegion = naEmpty(aws.ToString(l.Region))
	}
	return ki
}
