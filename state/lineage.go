package state

import (
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// Lineage is one key of a credential family: the key, the key that minted
// it (empty for the family's root when nothing minted it), and the minting
// call's details. All strings come from CloudTrail.
type Lineage struct {
	Key         string    // access key id
	Issuer      string    // the key that minted Key; empty when unknown or none
	Depth       int       // 0 for the key Family was asked about, 1 for its children, …
	Minted      bool      // a minting event for Key is known (the fields below are set)
	MintedAt    time.Time // the minting event's time
	Expires     time.Time // the credential's expiry; zero when the record did not say
	Call        string    // the minting call: GetSessionToken, AssumeRole, …
	RoleARN     string    // the role assumed (AssumeRole*), else empty
	SessionName string    // role session name or federated user name
	EventID     string    // the minting event's CloudTrail eventID
	Event       uint32    // the minting event's id in the table
}

// mint is one minting link: parent key minted child key in event ev.
type mint struct {
	parent, child uint32 // value ids in the key column (parent 0 = none)
	ev            uint32
	expires       int64 // unix nanoseconds; timeUnknown when not said
	role, session string
}

// lineage is the table's key-minting graph. Keys are value ids of the key
// column, so a family resolves to posting lists directly.
type lineage struct {
	links    []mint              // every link, by index
	byChild  map[uint32]int      // child key → its link (the first event that minted it)
	byEvent  map[uint32]int      // minting event → its first link (the first copy's)
	children map[uint32][]uint32 // parent key → child keys, in minting order
}

func (l *lineage) init() {
	l.byChild = map[uint32]int{}
	l.byEvent = map[uint32]int{}
	l.children = map[uint32][]uint32{}
}

// add records that event ev (record r, which has Minted set) minted a key.
// A key minted by two events keeps its first link: key ids are unique, so a
// second claim is a duplicate or a forgery, and the first is the evidence.
// Every claim is kept as a link, and an event's first claim is found by
// byEvent, even when it names a key already minted. Nothing removes a
// link: a key that any copy of any event minted stays in its family.
func (l *lineage) add(t *EventTable, ev uint32, r *ctlog.Record) {
	m := r.Minted
	if m.AccessKeyID == "" {
		return
	}
	child := t.cols[colKey].intern(m.AccessKeyID)
	parent := t.cols[colKey].vals[ev]
	l.links = append(l.links, mint{
		parent: parent, child: child, ev: ev, expires: unixNanos(m.Expiration),
		role: strings.Clone(m.RoleARN), session: strings.Clone(m.SessionName),
	})
	i := len(l.links) - 1
	if _, ok := l.byEvent[ev]; !ok {
		l.byEvent[ev] = i
	}
	if _, ok := l.byChild[child]; ok || child == parent {
		return
	}
	l.byChild[child] = i
	if parent != 0 {
		l.children[parent] = append(l.children[parent], child)
	}
}

// family returns the key value ids of key and all keys it minted,
// recursively, in depth-first order with their depths. Cycles (which only a
// forged log could hold) are cut.
func (l *lineage) family(key uint32, visit func(k uint32, depth int)) {
	seen := map[uint32]bool{}
	var walk func(k uint32, d int)
	walk = func(k uint32, d int) {
		if seen[k] {
			return
		}
		seen[k] = true
		visit(k, d)
		for _, c := range l.children[k] {
			walk(c, d+1)
		}
	}
	walk(key, 0)
}

// Family returns key and every key it minted, recursively (role chaining:
// AKIA → ASIA by GetSessionToken → ASIA by AssumeRole → …), depth first,
// children in the order they were minted. The first element is key itself.
// It returns nil when the table has never seen key, neither as a signing key
// nor as a minted one.
func (t *EventTable) Family(key string) []Lineage {
	k, ok := t.cols[colKey].lookup(key)
	if !ok || k == 0 {
		return nil
	}
	var out []Lineage
	t.lineage.family(k, func(k uint32, depth int) {
		out = append(out, t.lineageOf(k, depth))
	})
	return out
}

func (t *EventTable) lineageOf(k uint32, depth int) Lineage {
	keys := t.cols[colKey].strs
	lg := Lineage{Key: keys[k], Depth: depth}
	i, ok := t.lineage.byChild[k]
	if !ok {
		return lg
	}
	m := t.lineage.links[i]
	lg.Issuer = keys[m.parent]
	lg.Minted = true
	lg.MintedAt = timeOf(t.time[m.ev])
	lg.Expires = timeOf(m.expires)
	lg.Call = t.cols[colEvent].strs[t.cols[colEvent].vals[m.ev]]
	lg.RoleARN = m.role
	lg.SessionName = m.session
	lg.EventID = t.eventID(m.ev)
	lg.Event = m.ev
	return lg
}

// familyKeys returns the key value ids of the families of the given keys.
func (t *EventTable) familyKeys(keys []uint32) []uint32 {
	var out []uint32
	seen := map[uint32]bool{}
	for _, k := range keys {
		t.lineage.family(k, func(k uint32, _ int) {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		})
	}
	return out
}
