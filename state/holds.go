package state

import (
	"github.com/warroom-ir/warroom/state/ctlog"
)

// Holds reports whether the table already holds r: a copy of its event
// with the same CopyFingerprint. It is Add's rule (Add would return
// changed == false) without changing the table, so that a producer can ask
// the process's one fold, rather than a set of its own, whether a record is
// to be journaled. A record with no identity (no event id, no raw bytes) is
// never held. Holds does not intern or index anything.
func (t *EventTable) Holds(r *ctlog.Record) bool {
	kind, key := identityOf(r)
	switch kind {
	case flagIDNone:
		return false
	case flagIDStr:
		v, ok := t.eid.lookup(r.EventID)
		if !ok || v == 0 {
			return false
		}
		key = strKey(v)
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
