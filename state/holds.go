package state

import (
	"crypto/sha256"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// Holds reports whether the table already holds r: a copy of its event
// with the same CopyFingerprint. It is Add's rule (Add would return
// changed == false) without changing the table, so that a producer can ask
// the process's one fold, rather than a set of its own, whether a record is
// to be journaled. A record with no identity (no event id, no raw bytes) is
// never held. Holds does not intern or index anything.
func (t *EventTable) Holds(r *ctlog.Record) bool {
	var (
		kind uint8
		key  [16]byte
	)
	switch {
	case r.EventID != "":
		if u, ok := parseUUID(r.EventID); ok {
			kind, key = flagIDUUID, u
		} else {
			v, ok := t.eid.lookup(r.EventID)
			if !ok || v == 0 {
				return false
			}
			kind, key = flagIDStr, strKey(v)
		}
	case len(r.Raw) > 0:
		h := sha256.Sum256(r.Raw)
		copy(key[:], h[:16])
		kind = flagIDRaw
	default:
		return false
	}
	id, ok := t.findHashed(kind, &key, t.hashKey(kind, &key))
	if !ok {
		return false
	}
	fp := CopyFingerprint(t.seed, r)
	if cs := t.copies[id]; cs != nil {
		for _, f := range cs.fps {
			if f == fp {
				return true
			}
		}
		return false
	}
	var s copyFields
	t.shownFields(id, &s)
	return s.fingerprint(t.seed) == fp
}
