package state

import (
	"crypto/sha256"
	"hash/maphash"
	"slices"
	"time"

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
	// more holds the fingerprints of further distinct copies, of the few
	// events seen in more than one.
	more map[seenKey][]uint64
}

// seenKey is an event's identity as the table's rule (identityOf) has it:
// a canonical UUID, a hash of the raw record when it has no event id, or
// a hash of an event id that is not a UUID.
type seenKey struct {
	kind uint8 // flagIDUUID, flagIDRaw or flagIDStr
	key  [16]byte
}

// identityOf is the one rule for what identifies an event, used by the
// table (EventTable.identify, Holds), Seen and SeenWindow: its event id —
// a UUID by its 16 bytes in any case, any other id as itself (kind
// flagIDStr: the caller keys the string) —, else the first 16 bytes of the
// SHA-256 of its raw record (flagIDRaw); flagIDNone when it has neither,
// and then it is never deduplicated.
func identityOf(r *ctlog.Record) (kind uint8, key [16]byte) {
	switch {
	case r.EventID != "":
		if u, ok := parseUUID(r.EventID); ok {
			return flagIDUUID, u
		}
		return flagIDStr, key
	case len(r.Raw) > 0:
		h := sha256.Sum256(r.Raw)
		copy(key[:], h[:16])
		return flagIDRaw, key
	}
	return flagIDNone, key
}

// copyOf is r's identity as the sets key it and its copy's fingerprint
// with seed; false when r has no identity (it is always new).
func copyOf(seed maphash.Seed, r *ctlog.Record) (seenKey, uint64, bool) {
	kind, key := identityOf(r)
	switch kind {
	case flagIDNone:
		return seenKey{}, 0, false
	case flagIDStr:
		return strSeenKey(r.EventID), CopyFingerprint(seed, r), true
	}
	return seenKey{kind, key}, CopyFingerprint(seed, r), true
}

// NewSeen returns an empty set.
func NewSeen() *Seen {
	return &Seen{seed: maphash.MakeSeed(), ids: map[seenKey]uint64{}, more: map[seenKey][]uint64{}}
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
			k = strSeenKey(t.eid.strs[t.eid.vals[id]])
		case flagIDUUID, flagIDRaw:
			k = seenKey{kind, t.uuid[id]}
		default:
			continue
		}
		s.ids[k] = fps[0]
		if len(fps) > 1 {
			s.more[k] = slices.Clone(fps[1:])
		}
	}
	return s
}

// strSeenKey is the key of an event id that is not a UUID.
func strSeenKey(eid string) seenKey {
	h := sha256.Sum256([]byte(eid))
	k := seenKey{kind: flagIDStr}
	copy(k.key[:], h[:16])
	return k
}

// Add records r and reports whether it is new: no copy of its event is
// held, or r is a distinct copy (EventTable.Add's changed).
func (s *Seen) Add(r *ctlog.Record) bool {
	k, fp, ok := copyOf(s.seed, r)
	if !ok {
		return true // no identity: never deduplicated
	}
	if old, held := s.ids[k]; !held {
		s.ids[k] = fp
	} else if fp == old || slices.Contains(s.more[k], fp) {
		return false
	} else {
		s.more[k] = append(s.more[k], fp)
	}
	return true
}

// Len is the number of events held.
func (s *Seen) Len() int { return len(s.ids) }

// SeenWindow is Seen for a stream that must forget: the live poller's
// memory of the events it passed on, so that overlapping windows and
// filtered polls deliver each copy once (the same rule: identityOf and
// CopyFingerprint). Memory is bounded: Prune forgets events older than the
// oldest window still asked, and past max the oldest half goes. An event
// forgotten and seen again is passed on again; the store dedupes it.
type SeenWindow struct {
	max  int
	seed maphash.Seed
	m    map[seenKey]windowEntry
}

type windowEntry struct {
	at  int64    // event time, unix seconds
	fps []uint64 // every distinct copy passed on
}

// NewSeenWindow returns an empty window that remembers about max events.
func NewSeenWindow(max int) *SeenWindow {
	return &SeenWindow{max: max, seed: maphash.MakeSeed(), m: map[seenKey]windowEntry{}}
}

// Add reports whether r is new (no copy of its event remembered, or a
// distinct copy), and remembers it.
func (w *SeenWindow) Add(r *ctlog.Record) bool {
	k, fp, ok := copyOf(w.seed, r)
	if !ok {
		return true
	}
	old := w.m[k]
	if slices.Contains(old.fps, fp) {
		return false
	}
	w.m[k] = windowEntry{at: r.EventTime.Unix(), fps: append(old.fps, fp)}
	if len(w.m) > w.max {
		w.shrink()
	}
	return true
}

// Len is the number of events remembered.
func (w *SeenWindow) Len() int { return len(w.m) }

// Prune forgets events older than before: no window still asked reaches
// them.
func (w *SeenWindow) Prune(before time.Time) {
	b := before.Unix()
	for k, e := range w.m {
		if e.at < b {
			delete(w.m, k)
		}
	}
}

// shrink forgets the older half.
func (w *SeenWindow) shrink() {
	times := make([]int64, 0, len(w.m))
	for _, e := range w.m {
		times = append(times, e.at)
	}
	slices.Sort(times)
	cut := times[len(times)/2]
	for k, e := range w.m {
		if e.at < cut || e.at == cut && len(w.m) > w.max/2 {
			delete(w.m, k)
		}
	}
}
