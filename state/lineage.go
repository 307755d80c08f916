package state

import (
	"encoding/json"
	"slices"
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
	// Created is set for a long-term key the family created
	// (iam:CreateAccessKey by a family key, or for a user a family key
	// created): Call is then CreateAccessKey and Expires is zero.
	Created bool
	User    string // the user a created key belongs to
}

// mint is one minting link: parent key minted child key in event ev.
type mint struct {
	parent, child uint32 // value ids in the key column (parent 0 = none)
	ev            uint32
	expires       int64 // unix nanoseconds; timeUnknown when not said
	role, session string
	created       bool   // iam:CreateAccessKey: a long-term key, not a minted one
	user          string // created: the key's user
}

// lineage is the table's key-minting graph. Keys are value ids of the key
// column, so a family resolves to posting lists directly.
type lineage struct {
	links    []mint              // every link, by index
	byChild  map[uint32]int      // child key → its link (the first event that minted it)
	byEvent  map[uint32]int      // minting event → its first link (the first copy's)
	children map[uint32][]uint32 // parent key → child keys, in minting order
	// users maps a user name to the key that created the user
	// (iam:CreateUser), so a key later created for that user, by anyone,
	// joins the creator's family; pending holds keys created for a user
	// before its CreateUser record arrived (records arrive out of order).
	users   map[string]userLink
	pending map[string][]pendingKey // user → keys created for it
}

// pendingKey is a key created (event ev) for a user not yet known.
type pendingKey struct {
	ev uint32
	id string
}

// userLink is a CreateUser: the creating key and the event.
type userLink struct {
	key uint32
	ev  uint32
}

func (l *lineage) init() {
	l.byChild = map[uint32]int{}
	l.byEvent = map[uint32]int{}
	l.children = map[uint32][]uint32{}
	l.users = map[string]userLink{}
	l.pending = map[string][]pendingKey{}
}

// add records that event ev (record r, which has Minted set) minted a key.
// A key minted by two events keeps its first link: key ids are unique, so a
// second claim is a duplicate or a forgery, and the first is the evidence —
// except that a link naming no minting key (a cross-account AssumeRole as
// the role's account records it) gives way to the first that names one.
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
	if child == parent {
		return
	}
	if j, ok := l.byChild[child]; ok && (l.links[j].parent != 0 || parent == 0) {
		return
	}
	// The first link, or the first to name the key that minted it: the
	// recipient account's copy of a cross-account AssumeRole names no
	// caller key (userIdentity AWSAccount), the caller's copy does, and
	// either may be read first (a member's stream before the other's).
	l.byChild[child] = i
	if parent != 0 {
		l.children[parent] = append(l.children[parent], child)
	}
}

// Family membership beyond minting: the one definition of a credential's
// family (used by the console, the Region map, the playbook and the
// report) is the key, every key it minted, every long-term key it created
// (iam:CreateAccessKey, on any user), every key created for a user it
// created (iam:CreateUser), and the same of each of those, recursively.

// createdKey is the part of a CreateAccessKey or CreateUser record the
// lineage reads; the table keeps no response elements.
type createdKey struct {
	RequestParameters *struct {
		UserName string `json:"userName"`
	} `json:"requestParameters"`
	ResponseElements *struct {
		AccessKey *struct {
			UserName    string `json:"userName"`
			AccessKeyID string `json:"accessKeyId"`
		} `json:"accessKey"`
		User *struct {
			UserName string `json:"userName"`
		} `json:"user"`
	} `json:"responseElements"`
}

// creates reports whether a record may add a created-key link: a
// successful CreateAccessKey or CreateUser from IAM.
func creates(r *ctlog.Record) bool {
	return r.ErrorCode == "" && len(r.Raw) > 0 && (r.EventName == "CreateAccessKey" || r.EventName == "CreateUser") &&
		(r.EventSource == "" || r.EventSource == "iam.amazonaws.com")
}

// addCreated records what a CreateAccessKey or CreateUser event (creates
// is true) adds to the families: the created key as a child of the key
// that created it, or of the key that created its user; a created user
// for the keys created for it later (or earlier, out of order).
func (l *lineage) addCreated(t *EventTable, ev uint32, r *ctlog.Record) {
	var c createdKey
	if json.Unmarshal(r.Raw, &c) != nil || c.ResponseElements == nil {
		return
	}
	parent := t.cols[colKey].vals[ev]
	if parent == 0 {
		return
	}
	switch {
	case r.EventName == "CreateUser" && c.ResponseElements.User != nil:
		name := c.ResponseElements.User.UserName
		if name == "" && c.RequestParameters != nil {
			name = c.RequestParameters.UserName
		}
		if name == "" {
			return
		}
		if _, ok := l.users[name]; ok {
			return // the first CreateUser is the evidence
		}
		l.users[name] = userLink{key: parent, ev: ev}
		for _, p := range l.pending[name] {
			l.linkCreated(t, p.ev, parent, p.id, name)
		}
		delete(l.pending, name)
	case r.EventName == "CreateAccessKey" && c.ResponseElements.AccessKey != nil:
		user, id := c.ResponseElements.AccessKey.UserName, c.ResponseElements.AccessKey.AccessKeyID
		if id == "" {
			return
		}
		id = strings.Clone(id)
		l.linkCreated(t, ev, parent, id, user)
		if u, ok := l.users[user]; ok && u.key != parent {
			// Created by someone outside the family for a user the
			// family created: it joins the user's creator's family.
			l.linkCreated(t, ev, u.key, id, user)
		} else if !ok && user != "" {
			l.pending[user] = append(l.pending[user], pendingKey{ev: ev, id: id})
		}
	}
}

// linkCreated links the key CreateAccessKey event ev created to parent.
// The key may already be linked (the signer's own link wins; a key created
// for a backdoor user by an outsider gets a second parent).
func (l *lineage) linkCreated(t *EventTable, ev, parent uint32, id, user string) {
	child := t.cols[colKey].intern(id)
	if child == parent {
		return
	}
	if i, ok := l.byChild[child]; ok {
		if l.links[i].parent == parent {
			return
		}
		if !slices.Contains(l.children[parent], child) {
			l.children[parent] = append(l.children[parent], child)
		}
		return
	}
	l.links = append(l.links, mint{parent: parent, child: child, ev: ev, expires: timeUnknown, created: true, user: strings.Clone(user)})
	// Not in byEvent: that maps minting events (what a copy of the event
	// minted is part of its identity); a created key is not minted.
	l.byChild[child] = len(l.links) - 1
	l.children[parent] = append(l.children[parent], child)
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
	lg.Created, lg.User = m.created, m.user
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

// UserCreator returns the access key whose iam:CreateUser made the user
// called name (the first such record is the evidence), when the table has
// seen it. A user a family key created belongs to that family: the
// console marks it with the family's suspect mark.
func (t *EventTable) UserCreator(name string) (key string, ok bool) {
	u, ok := t.lineage.users[name]
	if !ok || u.key == 0 {
		return "", false
	}
	return t.cols[colKey].strs[u.key], true
}
