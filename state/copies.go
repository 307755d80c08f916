package state

import (
	"encoding/binary"
	"hash/maphash"
	"strings"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// CopyVerdict says what the table made of one copy of an event.
type CopyVerdict uint8

// Copy verdicts.
const (
	// CopyFirst is the first copy seen; shown until an addendum is applied.
	CopyFirst CopyVerdict = iota
	// CopyApplied is a copy with an addendum that CloudTrail's rules
	// allow: same event (eventID, eventTime, eventName, eventSource,
	// userIdentity), differing only in fields its updatedFields names. Its
	// fields are shown.
	CopyApplied
	// CopyOriginal is a copy without an addendum that differs from the
	// addendum shown only where that addendum says it corrected: the
	// original of a corrected event, arriving after the correction.
	CopyOriginal
	// CopyConflict differs where no addendum allows: kept as evidence,
	// marked (FlagConflict), never shown in place of the copy shown.
	CopyConflict
)

var verdictNames = [...]string{CopyFirst: "first", CopyApplied: "addendum applied", CopyOriginal: "original (corrected by the addendum)", CopyConflict: "conflict"}

// String names the verdict.
func (v CopyVerdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "verdict?"
}

// Copy is one distinct copy of an event: where its raw record is in the
// journal, what the table made of it, and the CloudTrail fields in which
// it differs from the copy shown when it arrived.
type Copy struct {
	Ref      EventRef
	Verdict  CopyVerdict
	Addendum bool     // the copy carries an addendum
	Reason   string   // the addendum's reason (DELIVERY_DELAY, UPDATED_DATA, SERVICE_OUTAGE)
	Differs  []string // field names, e.g. "sourceIPAddress", "responseElements"
}

// copySet is every distinct copy of one event and their fingerprints.
type copySet struct {
	copies []Copy
	fps    []uint64
	// fields are what fps hash, kept so that a checkpoint can be loaded
	// with another seed (fingerprints are seeded per table).
	fields []copyFields
}

// Copies returns every distinct copy of event id, in arrival order, or nil
// when the table has seen one copy only. A copy that repeats one already
// held (same fingerprint: see CopyFingerprint) is not listed again.
func (t *EventTable) Copies(id uint32) []Copy {
	if cs := t.copies[id]; cs != nil {
		return cs.copies
	}
	return nil
}

// copyFields is what tells copies of one event apart: every field the
// table keeps, the minted credential and the addendum.
type copyFields struct {
	time                              int64
	name, source, region, principal   string
	user, identityType, accessKey, ip string
	agent, errorCode, errorMessage    string
	readOnly                          ctlog.ReadOnly
	minted                            bool
	mintKey, mintRole, mintSession    string
	mintExp                           int64
	addendum                          bool
	reason, updated, origReq, origID  string
}

func recordFields(r *ctlog.Record, f *copyFields) {
	*f = copyFields{
		time: unixNanos(r.EventTime), name: r.EventName, source: r.EventSource, region: r.Region,
		principal: r.PrincipalARN, user: r.UserName, identityType: r.IdentityType, accessKey: r.AccessKeyID,
		ip: r.SourceIP, agent: r.UserAgent, errorCode: r.ErrorCode, errorMessage: r.ErrorMessage,
		readOnly: r.ReadOnly, minted: r.Minted != nil,
	}
	if m := r.Minted; m != nil && m.AccessKeyID != "" {
		f.mintKey, f.mintRole, f.mintSession, f.mintExp = m.AccessKeyID, m.RoleARN, m.SessionName, unixNanos(m.Expiration)
	}
	if a := r.Addendum; a != nil {
		f.addendum, f.reason, f.updated, f.origReq, f.origID = true, a.Reason, a.UpdatedFields, a.OriginalRequestID, a.OriginalEventID
	}
}

// shownFields is recordFields for the copy event id shows, from the table.
func (t *EventTable) shownFields(id uint32, f *copyFields) {
	e := t.Event(id)
	*f = copyFields{
		time: unixNanos(e.Time), name: e.Name, source: e.Source, region: e.Region,
		principal: e.Principal, user: e.User, identityType: e.IdentityType, accessKey: e.AccessKeyID,
		ip: e.SourceIP, agent: e.UserAgent, errorCode: e.ErrorCode, errorMessage: e.ErrorMessage,
		readOnly: e.ReadOnly, minted: e.Minted,
	}
	if i, ok := t.lineage.byEvent[id]; ok {
		m := t.lineage.links[i]
		f.mintKey, f.mintRole, f.mintSession, f.mintExp = t.cols[colKey].strs[m.child], m.role, m.session, m.expires
	}
	if a, ok := t.addenda[id]; ok {
		f.addendum, f.reason, f.updated, f.origReq, f.origID = true, a.Reason, a.UpdatedFields, a.OriginalRequestID, a.OriginalEventID
	}
}

// fingerprint hashes f with seed.
func (f *copyFields) fingerprint(seed maphash.Seed) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var b [8]byte
	num := func(n int64) {
		binary.LittleEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	str := func(s string) {
		num(int64(len(s)))
		h.WriteString(s)
	}
	num(f.time)
	for _, s := range [...]string{f.name, f.source, f.region, f.principal, f.user, f.identityType, f.accessKey,
		f.ip, f.agent, f.errorCode, f.errorMessage, f.mintKey, f.mintRole, f.mintSession,
		f.reason, f.updated, f.origReq, f.origID} {
		str(s)
	}
	bools := int64(f.readOnly) << 8
	if f.minted {
		bools |= 1
	}
	if f.addendum {
		bools |= 2
	}
	num(bools)
	num(f.mintExp)
	return h.Sum64()
}

// CopyFingerprint hashes what tells copies of one event apart (every
// field the event table keeps, the minted credential, the addendum), with
// seed. Two records of one eventID with the same fingerprint are the same
// copy; with different ones, distinct copies, all kept as evidence. The
// event table, Seen and the live poller's dedupe all decide with it.
func CopyFingerprint(seed maphash.Seed, r *ctlog.Record) uint64 {
	var f copyFields
	recordFields(r, &f)
	return f.fingerprint(seed)
}

// Field names used in Copy.Differs and matched in updatedFields.
const (
	fnTime      = "eventTime"
	fnName      = "eventName"
	fnSource    = "eventSource"
	fnIdentity  = "userIdentity"
	fnRegion    = "awsRegion"
	fnIP        = "sourceIPAddress"
	fnAgent     = "userAgent"
	fnErrCode   = "errorCode"
	fnErrMsg    = "errorMessage"
	fnReadOnly  = "readOnly"
	fnResponse  = "responseElements"
	fnRequest   = "requestParameters"
	fnAddendum  = "addendum"
	identityMax = 4 // Differs entries up to here (time, name, source, identity) may never change
)

// differs lists the fields in which n differs from s, the identity
// fields (which no addendum may change) first.
func differs(s, n *copyFields) []string {
	var d []string
	add := func(diff bool, name string) {
		if diff {
			d = append(d, name)
		}
	}
	add(s.time != n.time, fnTime)
	add(s.name != n.name, fnName)
	add(s.source != n.source, fnSource)
	add(s.principal != n.principal || s.user != n.user || s.identityType != n.identityType || s.accessKey != n.accessKey, fnIdentity)
	add(s.region != n.region, fnRegion)
	add(s.ip != n.ip, fnIP)
	add(s.agent != n.agent, fnAgent)
	add(s.errorCode != n.errorCode, fnErrCode)
	add(s.errorMessage != n.errorMessage, fnErrMsg)
	add(s.readOnly != n.readOnly, fnReadOnly)
	add(s.minted != n.minted || s.mintKey != n.mintKey || s.mintExp != n.mintExp, fnResponse)
	add(s.mintRole != n.mintRole || s.mintSession != n.mintSession, fnRequest)
	add(s.addendum != n.addendum || s.reason != n.reason || s.updated != n.updated || s.origReq != n.origReq || s.origID != n.origID, fnAddendum)
	return d
}

// judgeCopy decides what a new, distinct copy n of an event is, given the
// copy s the event shows. CloudTrail delivers an addendum for an event
// already logged: same eventID, the same call (eventTime, eventName,
// eventSource, userIdentity), with the fields named in updatedFields
// added or corrected (reason UPDATED_DATA), or none (DELIVERY_DELAY,
// SERVICE_OUTAGE: the same record, late). Anything else is a conflict.
func judgeCopy(s, n *copyFields) (CopyVerdict, []string) {
	d := differs(s, n)
	if s.mintKey != "" && n.mintKey != s.mintKey {
		// CloudTrail adds what was missing; it never takes back or
		// changes a credential it reported minted.
		return CopyConflict, d
	}
	for _, f := range d {
		switch f {
		case fnTime, fnName, fnSource, fnIdentity:
			return CopyConflict, d
		}
	}
	switch {
	case n.addendum && namesAll(n.updated, d):
		return CopyApplied, d
	case !n.addendum && s.addendum && namesAll(s.updated, d):
		return CopyOriginal, d
	}
	return CopyConflict, d
}

// namesAll reports whether updatedFields names every field of d but the
// addendum itself. Names are separated by commas, semicolons or white
// space, may be quoted or bracketed (a JSON list), match ignoring case,
// and a dotted name (responseElements.credentials) names its top field.
func namesAll(updatedFields string, d []string) bool {
	for _, f := range d {
		if f == fnAddendum {
			continue
		}
		found := false
		for name := range strings.FieldsFuncSeq(updatedFields, func(r rune) bool {
			return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '[' || r == ']' || r == '"' || r == '\''
		}) {
			top, _, _ := strings.Cut(name, ".")
			if strings.EqualFold(top, f) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// addCopy takes r, a copy of held event id found at ref, whose strings are
// rs. It reports whether r was a distinct copy (one the table did not hold
// yet): every distinct copy is kept (see Copies); an addendum the rules
// allow is shown in place of the copy shown; a conflicting copy marks the
// event. No copy ever removes what another added: a key any copy minted
// stays in the family, and the minted flag stays set.
func (t *EventTable) addCopy(id uint32, r *ctlog.Record, ref EventRef, rs *recStrings) bool {
	var n, s copyFields
	recordFields(r, &n)
	fp := n.fingerprint(t.seed)
	cs := t.copies[id]
	t.shownFields(id, &s)
	if cs == nil {
		first := s.fingerprint(t.seed)
		if first == fp {
			return false
		}
		if t.copies == nil {
			t.copies = map[uint32]*copySet{}
		}
		c := Copy{Ref: t.ref[id], Addendum: s.addendum, Reason: strings.Clone(s.reason)}
		cs = &copySet{copies: []Copy{c}, fps: []uint64{first}, fields: []copyFields{s}}
		t.copies[id] = cs
	} else {
		for _, f := range cs.fps {
			if f == fp {
				return false
			}
		}
	}
	v, d := judgeCopy(&s, &n)
	c := Copy{Ref: ref, Verdict: v, Addendum: n.addendum, Differs: d}
	if n.addendum {
		c.Reason = strings.Clone(n.reason)
	}
	cs.copies = append(cs.copies, c)
	cs.fps = append(cs.fps, fp)
	cs.fields = append(cs.fields, n)
	switch v {
	case CopyApplied:
		t.showCopy(id, r, ref, rs)
	case CopyConflict:
		t.setFlags(id, t.flags[id]|FlagConflict)
	}
	if r.Minted != nil {
		t.setFlags(id, t.flags[id]|FlagMinted)
		t.lineage.add(t, id, r)
	}
	return true
}

// showCopy makes event id show the copy r (an applied addendum), whose
// strings are rs, found at ref.
//
// An event the posting lists already hold moves between them here; one
// they do not hold yet is posted by the next settle, with its new values.
func (t *EventTable) showCopy(id uint32, r *ctlog.Record, ref EventRef, rs *recStrings) {
	if t.onChange != nil {
		t.onChange(id)
	}
	var vals [numCols]uint32
	t.values(rs, &vals)
	for c, v := range vals {
		if id < t.cols[c].posted {
			t.cols[c].set(id, v)
		} else {
			t.cols[c].vals[id] = v
		}
	}
	posted := id < t.indexed
	keep := t.flags[id] & (flagIDMask | FlagMinted | FlagConflict)
	fl := t.recordFlags(r, vals[colAgent]) | keep
	if posted {
		t.indexFlags(id, t.ro[id], t.flags[id], true)
		t.indexFlags(id, r.ReadOnly, fl, false)
	}
	t.ro[id], t.flags[id], t.ref[id] = r.ReadOnly, fl, ref
	if ts := unixNanos(r.EventTime); ts != t.time[id] {
		t.time[id] = ts
		t.reposition(id)
	}
	if fl&(FlagOurs|FlagImpersonation) != 0 {
		t.ours.claim(t, id)
	}
	if r.Addendum != nil {
		t.keepAddendum(id, r.Addendum)
	}
}

// keepAddendum remembers the addendum of the copy event id shows.
func (t *EventTable) keepAddendum(id uint32, a *ctlog.Addendum) {
	if t.addenda == nil {
		t.addenda = map[uint32]ctlog.Addendum{}
	}
	t.addenda[id] = ctlog.Addendum{
		Reason: strings.Clone(a.Reason), UpdatedFields: strings.Clone(a.UpdatedFields),
		OriginalRequestID: strings.Clone(a.OriginalRequestID), OriginalEventID: strings.Clone(a.OriginalEventID),
	}
}

// ShownAddendum returns the addendum of the copy event id shows.
func (t *EventTable) ShownAddendum(id uint32) (ctlog.Addendum, bool) {
	a, ok := t.addenda[id]
	return a, ok
}
