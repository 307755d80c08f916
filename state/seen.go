package state

import (
	"crypto/sha256"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// Seen answers the one question ingest asks of every record: is it a copy
// of an event already held, or should it be journaled? It applies the
// event table's rule (see EventTable.Add: a record is new when no copy of
// its event is held, or when it is a distinct copy, by CopyFingerprint),
// without the table's columns and indexes, which cost a quarter of
// ingest's time only to be thrown away. Every distinct copy is journaled:
// the journal is the evidence, and the table judges the copies.
type Seen struct {
	seed maphash.Seed
	ids  map[seenKey]uint64 // the first copy's fingerprint
	str  map[string]uint64  // event ids that are not UUIDs
	// more holds the fingerprints of further distinct copies, of the few
	// events seen in more than one.
	more map[seenKey][]uint64
}

// seenKey is an event's identity as EventTable keys it: a canonical UUID,
// a hash of the raw record when it has no event id, or (kind flagIDStr,
// for more alone) a hash of a string event id.
type seenKey struct {
	kind uint8 // flagIDUUID, flagIDRaw or flagIDStr
	key  [16]byte
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed: maphash.MakeSeed(), ids: map[seenKey]uint64{}, str: map[string]uint64{}, more: map[seenKey][]uint64{}}
}

// Seen returns the set of the events t holds, with every distinct copy,
// as Seen.Add would have made it from the same records.
func (t *EventTable) Seen() *Seen {
	s := NewSeen()
	s.seed = t.seed // the copies' fingerprints are the table's
	var f copyFields
	for id := range uint32(len(t.time)) {
		var fps []uint64
		if cs := t.copies[id]; cs != nil {
			fps = cs.fps
		} else {
			t.shownFields(id, &f)
			fps = []uint64{f.fingerprint(s.seed)}
		}
		var k seenKey
		switch kind := t.flags[id] & flagIDMask; kind {
		case flagIDStr:
			eid := t.eid.strs[t.eid.vals[id]]
			s.str[eid] = fps[0]
			k = strSeenKey(eid)
		case flagIDUUID, flagIDRaw:
			k = seenKey{kind, t.uuid[id]}
			s.ids[k] = fps[0]
		default:
			continue
		}
		if len(fps) > 1 {
			s.more[k] = slices.Clone(fps[1:])
		}
	}
	return s
}

// strSeenKey is the key under which more holds a string event id.
func strSeenKey(eid string) seenKey {
	h := sha256.Sum256([]byte(eid))
	k := seenKey{kind: flagIDStr}
	copy(k.key[:], h[:16])
	return k
}

// Add records r and reports whether it is new: no copy of its event is
// held, or r is a distinct copy (EventTable.Add's changed).
func (s *Seen) Add(r *ctlog.Record) bool {
	fp := CopyFingerprint(s.seed, r)
	if r.EventID != "" {
		if u, ok := parseUUID(r.EventID); ok {
			return s.put(seenKey{flagIDUUID, u}, fp)
		}
		old, held := s.str[r.EventID]
		if !held {
			s.str[strings.Clone(r.EventID)] = fp
			return true
		}
		return s.another(strSeenKey(r.EventID), old, fp)
	}
	if len(r.Raw) == 0 {
		return true // no identity: never deduplicated
	}
	h := sha256.Sum256(r.Raw)
	var k seenKey
	k.kind = flagIDRaw
	copy(k.key[:], h[:16])
	return s.put(k, fp)
}

func (s *Seen) put(k seenKey, fp uint64) bool {
	old, held := s.ids[k]
	if !held {
		s.ids[k] = fp
		return true
	}
	return s.another(k, old, fp)
}

// another reports whether fp is a copy of event k not seen yet (the first
// copy's fingerprint is first), and remembers it.
func (s *Seen) another(k seenKey, first, fp uint64) bool {
	if fp == first || slices.Contains(s.more[k], fp) {
		return false
	}
	s.more[k] = append(s.more[k], fp)
	return true
}

// Len is the number of events held.
func (s *Seen) Len() int { return len(s.ids) + len(s.str) }
