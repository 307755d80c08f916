package state

import (
	"time"
)

// OursSkew is how far an event's time may lie outside a session's window
// and still count as that session's: CloudTrail's clock is AWS's, the
// journal's is the responder's machine's.
const OursSkew = 5 * time.Minute

// ourCred is one credential a warroom session ran on, and the window in
// which the session used it: from its session.started fact to the last
// fact of the same actor (see Store).
type ourCred struct {
	key, arn string
	from, to int64 // unix nanoseconds
}

// ourCreds is what the table knows of warroom's own credentials, and the
// events that claim to be warroom's (their user agent says app/warroom).
// An event is ours when it claims so, was signed with one of the keys,
// by the session's principal, inside the session's window; one that
// claims so and is not is an impersonation. Only claiming events are
// judged, so the common path pays nothing.
type ourCreds struct {
	creds []ourCred
	byKey map[string][]int
	// claimed lists every event that claims to be warroom's, for a new
	// credential to judge again.
	claimed []uint32
	// pending lists impersonations signed with one of our keys, later
	// than the key's window reached when they were judged: a window that
	// grows past them (pendingMin is the earliest) judges them again.
	pending    []uint32
	pendingMin int64
}

// judge returns FlagOurs or FlagImpersonation for a claiming event
// signed with key by arn at ns.
func (o *ourCreds) judge(key, arn string, ns int64) uint8 {
	if key == "" || ns == timeUnknown {
		return FlagImpersonation
	}
	skew := int64(OursSkew)
	for _, i := range o.byKey[key] {
		c := &o.creds[i]
		if (c.arn == "" || arn == "" || arn == c.arn) && ns >= c.from-skew && ns <= c.to+skew {
			return FlagOurs
		}
	}
	return FlagImpersonation
}

// claim notes that event id claims to be warroom's.
func (o *ourCreds) claim(t *EventTable, id uint32) {
	o.claimed = append(o.claimed, id)
	o.maybePending(t, id)
}

// maybePending puts id, just judged, among the pending events when a
// window of its key may still grow to hold it.
func (o *ourCreds) maybePending(t *EventTable, id uint32) {
	if t.flags[id]&FlagImpersonation == 0 {
		return
	}
	key := t.cols[colKey].strs[t.cols[colKey].vals[id]]
	ns := t.time[id]
	for _, i := range o.byKey[key] {
		if ns > o.creds[i].to+int64(OursSkew) {
			if len(o.pending) == 0 || ns < o.pendingMin {
				o.pendingMin = ns
			}
			o.pending = append(o.pending, id)
			return
		}
	}
}

// rejudge judges event id again and updates its flags. An event whose
// shown copy no longer claims to be warroom's (an addendum changed its
// user agent) is neither.
func (t *EventTable) rejudge(id uint32) {
	if a := t.cols[colAgent].vals[id]; int(a) >= len(t.claims) || t.claims[a] != 1 {
		t.setFlags(id, t.flags[id]&^(FlagOurs|FlagImpersonation))
		return
	}
	s := func(c int) string { return t.cols[c].strs[t.cols[c].vals[id]] }
	fl := t.ours.judge(s(colKey), s(colPrincipal), t.time[id])
	t.setFlags(id, t.flags[id]&^(FlagOurs|FlagImpersonation)|fl)
}

// OurKey is whether keyID is an access key id a warroom session signed
// with (its session.started or a session.key fact).
func (t *EventTable) OurKey(keyID string) bool {
	_, ok := t.ours.byKey[keyID]
	return ok && keyID != ""
}

// AddOurs records a credential a warroom session runs on: the access key
// id it signs with (never the secret) and its caller ARN, from the
// session's start. Events already held that claim to be warroom's are
// judged again. It returns the credential's index for ExtendOurs.
func (t *EventTable) AddOurs(keyID, arn string, from time.Time) int {
	o := &t.ours
	if o.byKey == nil {
		o.byKey = map[string][]int{}
	}
	ns := unixNanos(from)
	o.creds = append(o.creds, ourCred{key: keyID, arn: arn, from: ns, to: ns})
	i := len(o.creds) - 1
	o.byKey[keyID] = append(o.byKey[keyID], i)
	o.pending = o.pending[:0]
	for _, id := range o.claimed {
		if t.cols[colKey].strs[t.cols[colKey].vals[id]] == keyID {
			t.rejudge(id)
		}
		o.maybePending(t, id)
	}
	return i
}

// ExtendOurs extends credential i's window (see AddOurs) to at: the
// session's actor journaled a fact then.
func (t *EventTable) ExtendOurs(i int, at time.Time) {
	o := &t.ours
	ns := unixNanos(at)
	if i < 0 || i >= len(o.creds) || ns <= o.creds[i].to {
		return
	}
	o.creds[i].to = ns
	if len(o.pending) == 0 || o.pendingMin > ns+int64(OursSkew) {
		return
	}
	old := o.pending
	o.pending = nil
	for _, id := range old {
		t.rejudge(id)
		o.maybePending(t, id)
	}
}

// OurCredential is a credential a warroom session ran on, as the table
// holds it.
type OurCredential struct {
	AccessKeyID string
	ARN         string
	From, To    time.Time // the session's window (before OursSkew)
}

// OurCredentials lists the credentials AddOurs recorded, in order.
func (t *EventTable) OurCredentials() []OurCredential {
	out := make([]OurCredential, len(t.ours.creds))
	for i, c := range t.ours.creds {
		out[i] = OurCredential{AccessKeyID: c.key, ARN: c.arn, From: timeOf(c.from), To: timeOf(c.to)}
	}
	return out
}
