package inventory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// ValidKeyID reports whether id looks like an access key id: 16 to 128
// upper-case letters and digits (AKIA…, ASIA…, AIDA… for ids IAM shows).
func ValidKeyID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}
	return true
}

// Whois answers "is this key ours?": sts:GetAccessKeyInfo names the
// account that owns any key id; when it is the caller's account,
// iam:GetAccessKeyLastUsed names the owning user and when, where and with
// which service the key was last used. A failed call is in the answer's
// Errors; only an invalid key id is an error.
func Whois(ctx context.Context, sess *session.Session, keyID, ourAccount string) (state.KeyInfo, error) {
	keyID = strings.TrimSpace(keyID)
	if !ValidKeyID(keyID) {
		return state.KeyInfo{}, fmt.Errorf("%q is not an access key id (AKIA… or ASIA…, 16 or more upper-case letters and digits)", keyID)
	}
	ki := state.KeyInfo{AccessKeyID: keyID, CheckedAt: time.Now().UTC(), CallerAccount: ourAccount}
	switch {
	case strings.HasPrefix(keyID, "AKIA"):
		ki.KeyType = "long-term"
	case strings.HasPrefix(keyID, "ASIA"):
		ki.KeyType = "temporary"
	}
	out, err := sess.STS("").GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: &keyID})
	if err != nil {
		ki.Errors = append(ki.Errors, callErr("sts:GetAccessKeyInfo", sess.HomeRegion(), keyID, err))
	} else {
		ki.Account = aws.ToString(out.Account)
	}
	ki.Ours = ki.Account != "" && ki.Account == ourAccount
	// Temporary keys have no IAM record: GetAccessKeyLastUsed knows long-term keys only.
	if !ki.Ours || ki.KeyType == "temporary" {
		return ki, nil
	}
	lu, err := sess.IAM().GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: &keyID})
	if err != nil {
		ki.Errors = append(ki.Errors, callErr("iam:GetAccessKeyLastUsed", "", keyID, err))
		return ki, nil
	}
	ki.UserName = aws.ToString(lu.UserName)
	if l := lu.AccessKeyLastUsed; l != nil {
		ki.LastUsed = aws.ToTime(l.LastUsedDate).UTC()
		ki.LastService = naEmpty(aws.ToString(l.ServiceName))
		ki.LastRegion = naEmpty(aws.ToString(l.Region))
	}
	return ki, nil
}

// callErr turns a failed call into the journal's form.
func callErr(call, region, target string, err error) state.CallError {
	ce := state.CallError{Call: call, Region: region, Target: target, Class: string(session.Classify(err)), Error: err.Error()}
	var se *session.Error
	if errors.As(session.Wrap(call, region, err), &se) {
		ce = se.CallError()
		ce.Target = target
	}
	return ce
}
