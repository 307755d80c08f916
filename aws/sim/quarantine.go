package sim

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// AWS's own quarantine policies in the drill's managed-policy catalogue:
// the documents AWS publishes (their Deny lists are state's, which cites
// where they come from), so a user AWS quarantines is denied exactly what
// AWS would deny it.
func quarantineManagedPolicies() []managedPolicy {
	ids := map[string]string{"AWSCompromisedKeyQuarantineV2": "ANPAZKAPJZG4ALFBBNUVD", "AWSCompromisedKeyQuarantineV3": "ANPAZKAPJZG4JDYCXQPMQ"}
	var out []managedPolicy
	for _, p := range state.QuarantinePolicies {
		doc, _ := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": []any{
			map[string]any{"Effect": "Deny", "Action": p.Deny, "Resource": []string{"*"}}}})
		out = append(out, managedPolicy{Name: p.Name, ID: ids[p.Name], ARN: p.ARN, Document: string(doc)})
	}
	return out
}

// QuarantineIdentity is who CloudTrail shows attaching AWS's quarantine
// policy. AWS does it from its own side: the record's sourceIPAddress and
// userAgent are "AWS Internal" (what detection rules for this event key
// on); the identity is an AWS-owned role session outside the account. The
// exact principal AWS uses is not published; warroom never relies on it,
// only on the policy ARN and "AWS Internal".
const (
	quarantineAccount = "000000000000"
	quarantineSession = "AWSCompromisedKeyQuarantine"
)

// AWSQuarantine is AWS's move when it finds a key in public: it attaches
// the quarantine managed policy policyARN to user and CloudTrail records an
// iam:AttachUserPolicy made by AWS ("AWS Internal") in the account's event
// history and trails.
func (s *Sim) AWSQuarantine(user, policyARN string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.acct.users[user]
	if !ok {
		return fmt.Errorf("sim: no user %s", user)
	}
	if !state.IsAWSQuarantine(policyARN) || s.acct.policyByARN(policyARN) == nil {
		return fmt.Errorf("sim: %s is not one of AWS's quarantine policies", policyARN)
	}
	if !slices.Contains(u.Attached, policyARN) {
		u.Attached = append(u.Attached, policyARN)
	}
	now := s.clock.Now()
	rec := ctRecord{
		EventVersion: "1.09",
		UserIdentity: ctIdentity{Type: "AssumedRole", PrincipalID: "AROAQUARANTINEAWSINTERNAL:" + quarantineSession,
			ARN:       fmt.Sprintf("arn:aws:sts::%s:assumed-role/AWSCompromisedKeyQuarantineRole/%s", quarantineAccount, quarantineSession),
			AccountID: quarantineAccount},
		EventTime:          isoTime(now),
		EventSource:        "iam.amazonaws.com",
		EventName:          "AttachUserPolicy",
		AWSRegion:          HomeRegion,
		SourceIPAddress:    "AWS Internal",
		UserAgent:          "AWS Internal",
		RequestParameters:  map[string]any{"userName": user, "policyArn": policyARN},
		RequestID:          s.ids.uuid(),
		EventID:            s.ids.uuid(),
		EventType:          "AwsApiCall",
		ManagementEvent:    true,
		RecipientAccountID: s.acct.ID,
		EventCategory:      "Management",
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	ev := &event{account: s.acct.ID, seq: len(s.trail.events), raw: raw, time: now.Truncate(time.Second),
		visibleAt: now.Add(s.scaled(s.opts.DeliveryDelay)), region: HomeRegion, id: rec.EventID, name: rec.EventName,
		source: rec.EventSource, user: quarantineSession}
	s.addEventLocked(ev, rec.RequestID)
	return nil
}

// ThrottleOps makes every call of the named operations (IAM's
// "UpdateLoginProfile" …) answer the protocol's throttling error, as AWS
// does under a rate limit, until called again without them: the per-call
// knob error-path tests use where Options.ThrottleRate would throttle
// everything.
func (s *Sim) ThrottleOps(ops ...string) {
	m := map[string]bool{}
	for _, o := range ops {
		m[o] = true
	}
	s.throttleOps.Store(&m)
}

// throttledOp reports whether op is throttled by ThrottleOps.
func (s *Sim) throttledOp(op string) bool {
	m := s.throttleOps.Load()
	return m != nil && (*m)[op]
}
