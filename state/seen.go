package state

import (
	"crypto/sha256"
	"strings"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// Seen answers the one question ingest asks of every record: is it a copy
// of an event already held, or should it be journaled? It applies the
// event table's rule (see EventTable.Add: a copy is new only when it
// carries an addendum and the held copy has none or differs), without the
// table's columns and indexes, which cost a quarter of ingest's time only
// to be thrown away.
type Seen struct {
	ids map[seenKey]seenEntry
	str map[string]seenEntry // event ids that are not UUIDs
}

// seenKey is an event's identity as EventTable keys it: a canonical UUID,
// or a hash of the raw record when it has no event id.
type seenKey struct {
	kind uint8 // flagIDUUID or flagIDRaw
	key  [16]byte
}

// seenEntry is what Seen keeps of the held copy of an event.
type seenEntry struct {
	addendum *copyFields // nil unless the held copy carries an addendum
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{ids: map[seenKey]seenEntry{}, str: map[string]seenEntry{}}
}

// Seen returns the set of the events t holds, as Seen.Add would have made
// it from the same records.
func (t *EventTable) Seen() *Seen {
	s := NewSeen()
	for id := range uint32(len(t.time)) {
		var e seenEntry
		if t.flags[id]&FlagAddendum != 0 {
			f := eventFields(t.Event(id))
			e.addendum = &f
		}
		switch kind := t.flags[id] & flagIDMask; kind {
		case flagIDStr:
			s.str[t.eid.strs[t.eid.vals[id]]] = e
		case flagIDUUID, flagIDRaw:
			s.ids[seenKey{kind, t.uuid[id]}] = e
		}
	}
	return s
}

// Add records r and reports whether it is new: not a copy of an event
// already held, or a copy that replaces it (EventTable.Add's changed).
func (s *Seen) Add(r *ctlog.Record) bool {
	var e seenEntry
	if r.Addendum != nil {
		f := recordFields(r)
		e.addendum = &f
	}
	if r.EventID != "" {
		if u, ok := parseUUID(r.EventID); ok {
			return s.put(seenKey{flagIDUUID, u}, e)
		}
		old, held := s.str[r.EventID]
		if !held || replacesHeld(old, e) {
			s.str[strings.Clone(r.EventID)] = e
			return true
		}
		return false
	}
	if len(r.Raw) == 0 {
		return true // no identity: never deduplicated
	}
	h := sha256.Sum256(r.Raw)
	var k seenKey
	k.kind = flagIDRaw
	copy(k.key[:], h[:16])
	return s.put(k, e)
}

func (s *Seen) put(k seenKey, e seenEntry) bool {
	old, held := s.ids[k]
	if held && !replacesHeld(old, e) {
		return false
	}
	s.ids[k] = e
	return true
}

// Len is the number of events held.
func (s *Seen) Len() int { return len(s.ids) + len(s.str) }

// replacesHeld is EventTable.replaces for Seen's entries.
func replacesHeld(old, e seenEntry) bool {
	if e.addendum == nil {
		return false
	}
	return old.addendum == nil || *old.addendum != *e.addendum
}

// copyFields is what tells two addendum-carrying copies of one event
// apart: a re-delivery of the same corrected record changes nothing; a
// differing one is a further correction. EventTable.replaces and Seen
// both compare these.
type copyFields struct {
	time                              int64
	name, source, region, principal   string
	user, identityType, accessKey, ip string
	agent, errorCode, errorMessage    string
	readOnly                          ctlog.ReadOnly
	minted                            bool
}

func recordFields(r *ctlog.Record) copyFields {
	return copyFields{
		time: unixNanos(r.EventTime), name: r.EventName, source: r.EventSource, region: r.Region,
		principal: r.PrincipalARN, user: r.UserName, identityType: r.IdentityType, accessKey: r.AccessKeyID,
		ip: r.SourceIP, agent: r.UserAgent, errorCode: r.ErrorCode, errorMessage: r.ErrorMessage,
		readOnly: r.ReadOnly, minted: r.Minted != nil,
	}
}

func eventFields(e Event) copyFields {
	return copyFields{
		time: unixNanos(e.Time), name: e.Name, source: e.Source, region: e.Region,
		principal: e.Principal, user: e.User, identityType: e.IdentityType, accessKey: e.AccessKeyID,
		ip: e.SourceIP, agent: e.UserAgent, errorCode: e.ErrorCode, errorMessage: e.ErrorMessage,
		readOnly: e.ReadOnly, minted: e.Minted,
	}
}
