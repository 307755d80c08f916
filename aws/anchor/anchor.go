// Package anchor records a journal's head in the account's own CloudTrail,
// outside the machine the incident is worked from: a harmless, read-only
// cloudtrail:LookupEvents call whose one lookup attribute carries the head
// (journal.AnchorValue). CloudTrail records the call with its
// requestParameters, lookupAttributes included, as a management read event;
// its digest files then vouch for the record, and an attacker on the jump
// host can neither remove it from event history nor rewrite it in the trail
// bucket without breaking the digests. `warroom journal verify --cloudtrail`
// checks every anchor it finds there against the chain. See ARCHITECTURE.md,
// "Tamper evidence", for why this call.
package anchor

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Call is the API an anchor uses.
const Call = "cloudtrail:LookupEvents"

// AttributeKey is the lookup attribute that carries the value: an event
// name no real event has, so the lookup finds nothing and costs nothing.
const AttributeKey = cttypes.LookupAttributeKeyEventName

// API is the one call anchoring needs (a *cloudtrail.Client has it).
type API interface {
	LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error)
}

// Head makes the anchor call for line seq (hash head) of incident in
// region and returns the Anchor fact to journal. The lookup asks for one
// event in the last minute with an event name no event has: it reads
// nothing and changes nothing. The call counts against LookupEvents' 2
// requests per second per Region: anchor every few minutes, not per fact.
func Head(ctx context.Context, api API, region, incident string, seq int64, head string, now time.Time) (state.Anchor, error) {
	value := journal.AnchorValue(incident, seq, head)
	a := state.Anchor{Seq: seq, Head: head, Call: Call, Region: region, Value: value, At: now.UTC()}
	out, err := api.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: AttributeKey, AttributeValue: aws.String(value)}},
		StartTime:        aws.Time(now.Add(-time.Minute)),
		EndTime:          aws.Time(now),
		MaxResults:       aws.Int32(1),
	})
	if err != nil {
		return a, session.Wrap(Call, region, err)
	}
	if id, ok := awsmw.GetRequestIDMetadata(out.ResultMetadata); ok {
		a.RequestID = id
	}
	return a, nil
}

// Journal anchors the recorder's current head in region and journals the
// Anchor fact. The fact itself becomes the new head: the next anchor
// covers it.
func Journal(ctx context.Context, api API, region string, rec *state.Recorder, now time.Time) (state.Anchor, error) {
	incident, seq, head := rec.Head()
	a, err := Head(ctx, api, region, incident, seq, head, now)
	if err != nil {
		return a, err
	}
	if _, err := rec.Record(state.KindAnchor, a); err != nil {
		return a, err
	}
	return a, nil
}
