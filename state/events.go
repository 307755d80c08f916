package state

import (
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// EventRef locates an event's raw JSON in the journal: the byte offset of
// the journal line holding the batch, and the record's index in the batch.
// The table keeps only this reference; the detail pane reads the record on
// demand.
type EventRef struct {
	Offset int64
	Index  uint32
}

// Event flag bits, kept in one byte per event.
const (
	// FlagOurs marks the console's own calls: signed with a credential a
	// warroom session ran on, within that session's time window, and
	// claiming warroom in the user agent (see EventTable.AddOurs).
	FlagOurs uint8 = 1 << 0
	// FlagMinted marks an event that minted a temporary credential.
	FlagMinted uint8 = 1 << 1
	// FlagAddendum marks an event whose copy carries an addendum.
	FlagAddendum uint8 = 1 << 2
	// FlagImpersonation marks an event whose user agent claims warroom
	// (app/warroom) but that was not signed with a credential a warroom
	// session ran on, within its time window.
	FlagImpersonation uint8 = 1 << 5
	// FlagConflict marks an event of which the table holds two or more
	// copies that differ where CloudTrail's addendum rules do not allow
	// (see EventTable.Copies).
	FlagConflict uint8 = 1 << 6

	// Bits 3 and 4 hold how the event is identified (flagIDMask).
	// Bit 7 is reserved.

	// postedFlags are the flags with a posting list.
	postedFlags = FlagOurs | FlagMinted | FlagAddendum | FlagImpersonation | FlagConflict

	flagIDMask  uint8 = 3 << 3
	flagIDUUID  uint8 = 0 << 3        // eventID is a canonical UUID, held in uuid
	flagIDStr   uint8 = 1 << 3        // eventID is another string, interned in eid (uuid holds strKey)
	flagIDRaw   uint8 = 2 << 3        // no eventID: uuid holds a hash of the raw record
	flagIDNone  uint8 = 3 << 3        // no eventID and no raw record: never deduped
	oursMarker        = "app/warroom" // matched ignoring case
	timeUnknown int64 = math.MinInt64
)

// Columns of interned strings. Their order is the order Field values map to.
const (
	colEvent = iota
	colSource
	colRegion
	colPrincipal
	colUser
	colType
	colKey
	colIP
	colAgent
	colError
	colMessage
	colAccount // recipientAccountId: the account the event happened in
	numCols
)

// EventTable holds every CloudTrail event the incident has seen, compactly:
// interned strings, integer times, flags, and a reference to the raw record
// in the journal. Events are deduplicated on their event ID, kept in arrival
// order (an event's id never changes) and in event-time order, and indexed
// by posting lists so that filters are lookups, not scans.
//
// An EventTable is not safe for concurrent use. It is mutated only from the
// UI's update loop (one goroutine), which is also where it is queried, so it
// takes no locks. A Result it returned stays valid after later mutations.
type EventTable struct {
	cols [numCols]*column
	eid  *column // non-UUID event ids (not searchable as text)

	time  []int64    // event time, unix nanoseconds; timeUnknown when absent
	uuid  [][16]byte // parsed UUID event id, or raw-record hash (see flags)
	ref   []EventRef
	ro    []ctlog.ReadOnly
	flags []uint8

	// roPost holds the events whose readOnly is true; flagPost the events
	// with each of postedFlags (indexed by bit number).
	roPost   []uint32
	flagPost [8][]uint32

	// indexed is how many events (ids below it) roPost and flagPost
	// hold (a column's own posting lists: column.posted). Add writes only
	// an event's values; settle posts the events added since, in bulk
	// (see indexPosts), and a query the columns its terms read (postCols).
	indexed uint32

	// dedupe is an open-addressing hash set of event ids, keyed by the
	// event's identity. A slot holds the id+1 in its low 32 bits (0 =
	// empty) and the high 32 bits of the identity's hash in its high ones,
	// so that a probe past another event rarely reads that event's
	// identity. It costs about 16 bytes per event where a Go map keyed by
	// [16]byte would cost about 40. A hash's top bits pick its first slot
	// (dedupeShift is 64 minus log2 of the slots), so the bits a slot holds
	// place it again when the set doubles: growing reads no identities.
	dedupe      []uint64
	dedupeShift uint
	nDedup      int
	// onChange, when set, is called before an event's per-event values
	// (columns, time, ref, readOnly, flags) change after it was added:
	// Open logs them to rebuild the table as of an earlier line.
	onChange func(id uint32)
	// dedupeStale is set when the table was loaded from a checkpoint:
	// the set (keyed by this process's seed) is built on first use.
	dedupeStale bool
	// dedupeBase, when set, is the table whose dedupe set t reads in
	// place of its own (see borrowDedupe): a seek's table, which holds a
	// prefix of that table's events.
	dedupeBase *EventTable
	// dedupeWait, when set, builds dedupeBase's set, which may not be
	// built yet (see borrowDedupeLater).
	dedupeWait func()
	seed       maphash.Seed
	touched    uint64 // sink of AddBatch's early reads of dedupe slots

	// order lists event ids sorted by (time, id); rank is its inverse.
	// Events appended in time order extend both directly; others wait in
	// late until the next query merges them in (see settle).
	order []uint32
	rank  []uint32
	late  []uint32
	moved map[uint32]bool // ids in order whose time changed: drop on settle

	lineage lineage

	// room is how many events every per-event array (time, uuid, ref, ro,
	// flags, rank, order and the columns' vals) holds without reallocating.
	room int

	// claims caches, per value id of the user agent column, whether the
	// agent claims to be warroom's (1), not (2), or is unknown (0).
	claims []uint8
	// ours is what the table knows of warroom's own credentials and the
	// events that claim to be warroom's (see ours.go).
	ours ourCreds
	// copies holds, for the few events seen in two or more distinct
	// copies, every copy (see copies.go).
	copies map[uint32]*copySet
	// addenda holds the addendum of each event whose shown copy has one.
	addenda map[uint32]ctlog.Addendum
	// spans holds where each record of an events line is in it, by the
	// line's offset (see keepSpans); written to the checkpoint so that a
	// query reads back a record rather than its whole line.
	spans map[int64][]uint64
}

// NewEventTable returns an empty table.
func NewEventTable() *EventTable {
	t := &EventTable{eid: newColumn(), seed: maphash.MakeSeed()}
	for i := range t.cols {
		t.cols[i] = newColumn()
	}
	t.lineage.init()
	return t
}

// Len returns the number of distinct events held.
func (t *EventTable) Len() int { return len(t.time) }

// Add adds record r, found at ref in the journal, and returns its id.
// changed is false when r is a copy of an event already held that the
// table holds already (the same CopyFingerprint). A distinct copy is kept
// (see Copies) and judged by CloudTrail's addendum rules (see judgeCopy):
// an addendum for the same call that changes only the fields it names is
// shown in place of the held copy, in the same slot and with every index
// updated; any other differing copy marks the event FlagConflict and is
// not shown. No copy takes a minted key out of a family or clears
// FlagMinted.
func (t *EventTable) Add(r *ctlog.Record, ref EventRef) (id uint32, changed bool) {
	x := t.identify(r)
	return t.add(r, ref, &x)
}

// AddBatch adds the records of one journal batch, found at base and the
// indexes after it (rs[i] at base.Index+i), as Add does one at a time,
// except that records without an EventID are skipped: a failed parse
// leaves them. It returns how many changed the table. It is quicker than
// Add in a loop: a record's dedupe slot is seldom in cache, and the slots
// of a run of records are read together, before any of them is needed.
func (t *EventTable) AddBatch(rs []ctlog.Record, base EventRef) (added int) {
	const run = 16
	var ids [run]identity
	for lo := 0; lo < len(rs); lo += run {
		n := min(run, len(rs)-lo)
		for i := range n {
			if rs[lo+i].EventID != "" {
				ids[i] = t.identify(&rs[lo+i])
			}
		}
		// A loop of nothing but the reads, so that the processor has them
		// all in flight at once.
		if d := t.dedupeSet(); t.dedupeWait == nil && len(d.dedupe) > 0 {
			var sink uint64
			for i := range n {
				sink ^= d.dedupe[ids[i].h>>d.dedupeShift]
			}
			t.touched ^= sink // the reads must not be optimised away
		}
		for i := range n {
			if rs[lo+i].EventID == "" {
				continue
			}
			ref := base
			ref.Index += uint32(lo + i)
			if _, changed := t.add(&rs[lo+i], ref, &ids[i]); changed {
				added++
			}
		}
	}
	return added
}

// identity is how an event is told from others: the kind of its id (see
// flagIDMask), the key the dedupe set holds and its hash, and for an id
// that is not a UUID, its value in the eid column.
type identity struct {
	kind uint8
	key  [16]byte
	eidv uint32
	h    uint64
}

// identify works out r's identity, interning a non-UUID event id.
func (t *EventTable) identify(r *ctlog.Record) identity {
	var x identity
	x.kind, x.key = identityOf(r)
	if x.kind == flagIDStr {
		x.eidv = t.eid.intern(r.EventID)
		x.key = strKey(x.eidv)
	}
	if x.kind != flagIDNone {
		x.h = t.hashKey(x.kind, &x.key)
	}
	return x
}

// add is Add once r's identity is known.
func (t *EventTable) add(r *ctlog.Record, ref EventRef, x *identity) (id uint32, changed bool) {
	kind, key, eidv, h := x.kind, x.key, x.eidv, x.h
	// Hashed here, early, though a copy that is ignored needs no hashes:
	// see recordStrings.
	var strs recStrings
	recordStrings(r, &strs)
	if kind != flagIDNone {
		if old, ok := t.findHashed(kind, &key, h); ok {
			return old, t.addCopy(old, r, ref, &strs)
		}
	}
	id = uint32(len(t.time))
	if len(t.time) >= t.room {
		t.reserve(max(minRoom, 2*len(t.time)+1))
	}
	var vals [numCols]uint32
	t.values(&strs, &vals)
	for c, v := range vals {
		t.cols[c].vals = append(t.cols[c].vals, v)
	}
	t.eid.vals = append(t.eid.vals, eidv)
	ts := unixNanos(r.EventTime)
	t.time = append(t.time, ts)
	t.uuid = append(t.uuid, key)
	t.ref = append(t.ref, ref)
	t.ro = append(t.ro, r.ReadOnly)
	fl := t.recordFlags(r, vals[colAgent]) | kind
	t.flags = append(t.flags, fl)
	if kind != flagIDNone {
		t.insertDedupe(id, h)
	}
	t.placeNew(id)
	if fl&(FlagImpersonation|FlagOurs) != 0 {
		t.ours.claim(t, id)
	}
	if r.Minted != nil {
		t.lineage.add(t, id, r)
	} else if creates(r) {
		t.lineage.addCreated(t, id, r)
	}
	if r.Addendum != nil {
		t.keepAddendum(id, r.Addendum)
	}
	return id, true
}

// recStrings holds a record's string fields, in column order, and their
// quickHash values.
type recStrings struct {
	s [numCols]string
	h [numCols]uint64
}

// recordStrings gathers r's string fields and hashes them. The hashes are
// the first reads of the strings' bytes, which are seldom in this core's
// cache (a record is parsed on another core, or long before): Add asks for
// them right after it parses the event id, so that all those reads, which
// do not wait on one another, wait for memory together.
func recordStrings(r *ctlog.Record, rs *recStrings) {
	rs.s = [numCols]string{
		colEvent: r.EventName, colSource: r.EventSource, colRegion: r.Region,
		colPrincipal: r.PrincipalARN, colUser: r.UserName, colType: r.IdentityType,
		colKey: r.AccessKeyID, colIP: r.SourceIP, colAgent: r.UserAgent,
		colError: r.ErrorCode, colMessage: r.ErrorMessage, colAccount: r.RecipientAccountID,
	}
	for c := range rs.s {
		rs.h[c] = quickHash(rs.s[c])
	}
}

// values interns a record's strings, in column order, into v. Most are
// found at their first slot of the column's hot index, which is tried
// here, inline; the rest go to internHashed.
func (t *EventTable) values(rs *recStrings, v *[numCols]uint32) {
	for c := range rs.s {
		s, h := rs.s[c], rs.h[c]
		if s == "" {
			v[c] = 0
			continue
		}
		col := t.cols[c]
		x := &col.hot
		if slot := x.slots[(h>>x.shift)&uint64(len(x.slots)-1)]; slot>>32 == h&(1<<32-1) && slot != 0 {
			if id := uint32(slot); int(id) < len(col.strs) && col.strs[id] == s {
				v[c] = id
				continue
			}
		}
		v[c] = col.internHashed(s, h)
	}
}

// Grow makes room for n more events, so that adding them does not
// reallocate the table's per-event arrays or its dedupe set. Like
// slices.Grow, it is only a hint: a table grows by itself when it must.
func (t *EventTable) Grow(n int) {
	if n <= 0 {
		return
	}
	t.reserve(len(t.time) + n)
	t.freshDedupe()
	if b := t.dedupeBase; b != nil {
		if len(t.time)+n <= b.Len() {
			return // the events to come are the base's
		}
		t.ownDedupe()
	}
	size := max(1024, len(t.dedupe))
	for (t.nDedup+n)*4 >= size*3 {
		size *= 2
	}
	t.resizeDedupe(size)
}

// minRoom is the fewest events the per-event arrays are first made for.
const minRoom = 256

// reserve makes every per-event array hold at least n events without
// reallocating. Add reserves twice the events held whenever they are full:
// append alone grows large slices by a quarter at a time, which copies
// each array about four times over as the table fills.
func (t *EventTable) reserve(n int) {
	if n <= t.room {
		return
	}
	for _, c := range t.cols {
		c.vals = growTo(c.vals, n)
	}
	t.eid.vals = growTo(t.eid.vals, n)
	t.time = growTo(t.time, n)
	t.uuid = growTo(t.uuid, n)
	t.ref = growTo(t.ref, n)
	t.ro = growTo(t.ro, n)
	t.flags = growTo(t.flags, n)
	t.order = growTo(t.order, n)
	t.rank = growTo(t.rank, n)
	t.room = n
}

// growTo returns s with a capacity of at least n. When it reallocates and
// n is over twice len(s), the new capacity is n rounded up to a size class:
// the runtime allocates exactly what is asked only when that is more than
// double the old capacity (else it steps up a quarter at a time past n), so
// the old capacity is hidden from it.
func growTo[E any](s []E, n int) []E {
	if n <= cap(s) {
		return s
	}
	return slices.Grow(s[:len(s):len(s)], n-len(s))
}

// recordFlags returns r's flag bits; agent is the value id of its user
// agent, whose claim to be warroom's is worked out once per distinct
// agent. An agent that claims it is ours or an impersonation: see
// ourCreds.judge, which the few claiming events alone pay for.
func (t *EventTable) recordFlags(r *ctlog.Record, agent uint32) uint8 {
	var f uint8
	if int(agent) >= len(t.claims) {
		t.claims = append(t.claims, make([]uint8, int(agent)+1-len(t.claims))...)
	}
	if t.claims[agent] == 0 {
		t.claims[agent] = 2
		if claimsWarroom(t.cols[colAgent].strs[agent]) {
			t.claims[agent] = 1
		}
	}
	if t.claims[agent] == 1 {
		f |= t.ours.judge(r.AccessKeyID, r.PrincipalARN, unixNanos(r.EventTime))
	}
	if r.Minted != nil {
		f |= FlagMinted
	}
	if r.Addendum != nil {
		f |= FlagAddendum
	}
	return f
}

// claimsWarroom reports whether a user agent claims to be warroom's: it
// holds app/warroom, in any case (an attacker may spell it either way).
func claimsWarroom(agent string) bool {
	for i := 0; i+len(oursMarker) <= len(agent); i++ {
		if strings.EqualFold(agent[i:i+len(oursMarker)], oursMarker) {
			return true
		}
	}
	return false
}

// indexFlags adds event id to (or, with remove, removes it from) the
// posting lists of its readOnly value and flags.
func (t *EventTable) indexFlags(id uint32, ro ctlog.ReadOnly, fl uint8, remove bool) {
	edit := func(s []uint32) []uint32 {
		if remove {
			return removeSorted(s, id)
		}
		if n := len(s); n == 0 || s[n-1] < id {
			return appendID(s, id)
		}
		return insertSorted(s, id)
	}
	if ro == ctlog.ReadOnlyTrue {
		t.roPost = edit(t.roPost)
	}
	for b := range t.flagPost {
		if fl&postedFlags&(1<<b) != 0 {
			t.flagPost[b] = edit(t.flagPost[b])
		}
	}
}

// setFlags changes event id's flags to fl (its identity bits kept),
// moving it between the posting lists that already hold it.
func (t *EventTable) setFlags(id uint32, fl uint8) {
	fl = fl&^flagIDMask | t.flags[id]&flagIDMask
	old := t.flags[id]
	if old == fl {
		return
	}
	if t.onChange != nil {
		t.onChange(id)
	}
	if id < t.indexed {
		t.indexFlags(id, ctlog.ReadOnlyUnknown, old&^fl, true)
		t.indexFlags(id, ctlog.ReadOnlyUnknown, fl&^old, false)
	}
	t.flags[id] = fl
}

// Event returns event id with its strings resolved. It panics if id is not
// one the table returned.
func (t *EventTable) Event(id uint32) Event {
	s := func(c int) string { return t.cols[c].strs[t.cols[c].vals[id]] }
	fl := t.flags[id]
	return Event{
		ID:            id,
		EventID:       t.eventID(id),
		Time:          timeOf(t.time[id]),
		Name:          s(colEvent),
		Source:        s(colSource),
		Region:        s(colRegion),
		Principal:     s(colPrincipal),
		User:          s(colUser),
		IdentityType:  s(colType),
		AccessKeyID:   s(colKey),
		SourceIP:      s(colIP),
		UserAgent:     s(colAgent),
		ErrorCode:     s(colError),
		ErrorMessage:  s(colMessage),
		Account:       s(colAccount),
		ReadOnly:      t.ro[id],
		Ours:          fl&FlagOurs != 0,
		Minted:        fl&FlagMinted != 0,
		Addendum:      fl&FlagAddendum != 0,
		Impersonation: fl&FlagImpersonation != 0,
		Conflict:      fl&FlagConflict != 0,
		Flags:         fl &^ flagIDMask,
		Ref:           t.ref[id],
	}
}

// eventID returns the CloudTrail eventID of event id ("" when it had none).
func (t *EventTable) eventID(id uint32) string {
	switch t.flags[id] & flagIDMask {
	case flagIDUUID:
		return formatUUID(t.uuid[id])
	case flagIDStr:
		return t.eid.strs[t.eid.vals[id]]
	}
	return ""
}

// Event is one event of the table with its strings resolved. Every string
// comes from CloudTrail and may be chosen by an attacker.
type Event struct {
	ID           uint32    // the table's id: arrival order, stable
	EventID      string    // CloudTrail eventID; empty when the record had none
	Time         time.Time // eventTime (UTC); zero when unknown
	Name         string    // eventName
	Source       string    // eventSource
	Region       string    // awsRegion
	Principal    string    // userIdentity.arn
	User         string    // user name
	IdentityType string    // userIdentity.type
	AccessKeyID  string    // userIdentity.accessKeyId
	SourceIP     string    // sourceIPAddress, as text
	UserAgent    string    // userAgent
	ErrorCode    string    // errorCode; empty on success
	ErrorMessage string    // errorMessage
	Account      string    // recipientAccountId: the account the event happened in
	ReadOnly     ctlog.ReadOnly
	Ours         bool // the console's own call (see FlagOurs)
	Minted       bool // minted a temporary credential (any copy did)
	Addendum     bool // the copy shown carries an addendum
	// Impersonation: the user agent claims warroom, the credentials or
	// the time do not (see FlagImpersonation).
	Impersonation bool
	// Conflict: copies of the event differ where an addendum may not
	// change them (see FlagConflict and EventTable.Copies).
	Conflict bool
	Flags    uint8    // the Flag bits: FlagOurs | FlagMinted | FlagAddendum | FlagImpersonation | FlagConflict
	Ref      EventRef // where the shown copy's raw record is in the journal
}

// unixNanos converts t to unix nanoseconds, clamping times outside the
// int64 range, and maps the zero time to timeUnknown (sorted first).
func unixNanos(t time.Time) int64 {
	if t.IsZero() {
		return timeUnknown
	}
	// Within 2^33 seconds (272 years) of 1970, UnixNano cannot overflow.
	if sec := t.Unix(); sec > -1<<33 && sec < 1<<33 {
		return t.UnixNano()
	}
	lo, hi := time.Unix(0, math.MinInt64+1), time.Unix(0, math.MaxInt64)
	switch {
	case t.Before(lo):
		return math.MinInt64 + 1
	case t.After(hi):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func timeOf(ns int64) time.Time {
	if ns == timeUnknown {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// parseUUID parses a canonical lower-case UUID (8-4-4-4-12 hex digits).
// Other spellings are kept as strings so that the id reads back exactly.
func parseUUID(s string) (u [16]byte, ok bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	// The 32 digits, eight at a time: dashes sit at fixed places, so a
	// dash anywhere else is a bad digit.
	a, okA := hex8(load64(s))
	b, okB := hex8(uint64(load32(s[9:])) | uint64(load32(s[14:]))<<32)
	c, okC := hex8(uint64(load32(s[19:])) | uint64(load32(s[24:]))<<32)
	d, okD := hex8(load64(s[28:]))
	binary.BigEndian.PutUint32(u[0:], a)
	binary.BigEndian.PutUint32(u[4:], b)
	binary.BigEndian.PutUint32(u[8:], c)
	binary.BigEndian.PutUint32(u[12:], d)
	return u, okA && okB && okC && okD
}

// hex8 decodes eight lower-case hex digits, loaded little-endian into x
// (the first digit in the low byte), into the number they spell, and
// reports whether all eight are lower-case hex digits. It works on the
// eight bytes at once: a byte b below 0x80 plus 0x80-k has its high bit
// set exactly when b >= k, and no sum carries into the next byte.
func hex8(x uint64) (uint32, bool) {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	ge := func(k uint64) uint64 { return (x + (0x80-k)*ones) & highs }
	digit := ge('0') &^ ge('9'+1)
	letter := ge('a') &^ ge('f'+1)
	ok := x&highs == 0 && digit|letter == highs
	// A digit's value is its low nibble; a letter's is its low nibble + 9.
	n := x&(0x0f*ones) + letter>>7*9
	// Pair the nibbles into bytes (the first digit is the high nibble),
	// then gather the four bytes, the first digit's most significant.
	n = (n<<4 | n>>8) & 0x00ff00ff00ff00ff
	n = (n | n>>8) & 0x0000ffff0000ffff
	n = (n | n>>16) & 0xffffffff
	return bits.ReverseBytes32(uint32(n)), ok
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// --- dedupe hash set ---

// identity returns the bytes that identify event id for deduplication.
func (t *EventTable) identity(id uint32) (uint8, *[16]byte) {
	return t.flags[id] & flagIDMask, &t.uuid[id]
}

// hashKey hashes an identity with the table's random seed: event ids are
// chosen by whoever wrote the record, and must not be able to pile up in
// one run of slots.
func (t *EventTable) hashKey(kind uint8, key *[16]byte) uint64 {
	return maphash.Bytes(t.seed, key[:]) ^ uint64(kind)*0x9e3779b97f4a7c15
}

// strKey is the identity of an event whose id is the interned string eidv.
func strKey(eidv uint32) [16]byte {
	return [16]byte{byte(eidv), byte(eidv >> 8), byte(eidv >> 16), byte(eidv >> 24)}
}

// find looks up the event with the given identity (for flagIDStr, the
// interned event id eidv).
func (t *EventTable) find(kind uint8, key [16]byte, eidv uint32) (uint32, bool) {
	if kind == flagIDStr {
		key = strKey(eidv)
	}
	return t.findHashed(kind, &key, t.hashKey(kind, &key))
}

// findHashed is find given the identity's hash h.
func (t *EventTable) findHashed(kind uint8, key *[16]byte, h uint64) (uint32, bool) {
	if t.dedupeWait != nil {
		if b, m := t.dedupeBase, len(t.time); kind != flagIDStr && m < len(b.flags) && b.flags[m]&flagIDMask == kind && b.uuid[m] == *key {
			return 0, false // base's next event (see borrowDedupeLater)
		}
		t.baseReady()
	}
	t.freshDedupe()
	d := t.dedupeSet()
	if len(d.dedupe) == 0 {
		return 0, false
	}
	mask := uint64(len(d.dedupe) - 1)
	tag := h &^ (1<<32 - 1)
	for i := h >> d.dedupeShift; ; i = (i + 1) & mask {
		slot := d.dedupe[i]
		if slot == 0 {
			return 0, false
		}
		if slot&^(1<<32-1) != tag {
			continue
		}
		id := uint32(slot) - 1
		if int(id) >= len(t.time) {
			continue // a borrowed set's event that t does not hold
		}
		if k, u := t.identity(id); k == kind && *u == *key {
			return id, true
		}
	}
}

// dedupeSet is the table whose dedupe set t reads: t's, or the one it
// borrows.
func (t *EventTable) dedupeSet() *EventTable {
	if t.dedupeBase != nil {
		return t.dedupeBase
	}
	return t
}

// borrowDedupeLater makes t (loaded from a checkpoint, as of its first
// events: a seek point) read base's dedupe set rather than build its own:
// base is the checkpoint's table, of the same seed, its set built by
// ready when first read (once, from any goroutine: seeks share base). A
// fold from the point adds base's next events again, with the same ids
// and identities, which the set holds already: a lookup skips the events
// t does not hold yet, and an insert that the set holds is done. The
// first event the set does not hold as added (one after base's) makes t
// take a copy of it less the events it does not hold (ownDedupe).
//
// Until a lookup needs the set, a fold that adds base's next events needs
// none: an event whose identity is that of base's next event (the one
// with t's next id) is held by none of t's events, which are base's first
// ones, each with base's identity (base holds each identity once) — but
// an identity written as an interned string, whose value id t may give
// to another string. Anything else builds the set.
func (t *EventTable) borrowDedupeLater(base *EventTable, ready func()) bool {
	if t.seed != base.seed || t.Len() > base.Len() {
		return false
	}
	t.dedupe, t.dedupeShift, t.nDedup = nil, 0, 0
	t.dedupeBase, t.dedupeStale, t.dedupeWait = base, false, ready
	return true
}

// baseReady builds the borrowed set if it is not yet (borrowDedupeLater);
// a base that cannot lend one makes t build its own.
func (t *EventTable) baseReady() {
	w := t.dedupeWait
	if w == nil {
		return
	}
	t.dedupeWait = nil
	w()
	if b := t.dedupeBase; b.dedupeShift < 32 || len(b.dedupe) == 0 || b.dedupeStale {
		t.dedupeBase, t.dedupeStale = nil, true
		t.freshDedupe()
	}
}

// ownDedupe gives a table that borrows a dedupe set its own copy.
func (t *EventTable) ownDedupe() {
	t.baseReady()
	base := t.dedupeBase
	if base == nil {
		return
	}
	t.dedupeBase = nil
	if !t.cutDedupe(base, len(t.time)) {
		t.dedupeStale = true
		t.freshDedupe()
	}
}

// holdsSlot reports whether t's own dedupe set holds event id, whose
// identity hashes to h.
func (t *EventTable) holdsSlot(id uint32, h uint64) bool {
	mask := uint64(len(t.dedupe) - 1)
	want := h&^(1<<32-1) | uint64(id+1)
	for i := h >> t.dedupeShift; ; i = (i + 1) & mask {
		switch t.dedupe[i] {
		case want:
			return true
		case 0:
			return false
		}
	}
}

// freshDedupe builds the dedupe set of a table loaded from a checkpoint,
// once: every identified event, in id order, as add placed them.
func (t *EventTable) freshDedupe() {
	if !t.dedupeStale {
		return
	}
	t.dedupeStale = false
	n := 0
	for id := range t.flags {
		if t.flags[id]&flagIDMask != flagIDNone {
			n++
		}
	}
	size := 1024
	for n*4 >= size*3 {
		size *= 2
	}
	t.resizeDedupe(size)
	// Placed in the order of their first slots (stable: in id order for
	// the same first slot), so that placing walks the set once rather
	// than jumping about it: the same set as placing them in id order, as
	// each event has its own identity.
	type idHash struct {
		id uint32
		h  uint64
	}
	hs := make([]idHash, 0, n)
	for id := range t.flags {
		if k, u := t.identity(uint32(id)); k != flagIDNone {
			hs = append(hs, idHash{uint32(id), t.hashKey(k, u)})
		}
	}
	// Buckets by the hash's top bits, which a first slot is a prefix of
	// (or has as a prefix).
	const buckets, shift = 1 << 12, 64 - 12
	var at [buckets + 1]int
	for _, x := range hs {
		at[x.h>>shift+1]++
	}
	for b := 1; b <= buckets; b++ {
		at[b] += at[b-1]
	}
	sorted := make([]idHash, len(hs))
	for _, x := range hs {
		b := x.h >> shift
		sorted[at[b]] = x
		at[b]++
	}
	for _, x := range sorted {
		t.insertDedupe(x.id, x.h)
	}
}

// cutDedupe gives t (loaded from a checkpoint, as of its first n events:
// a seek point) base's dedupe set less its events from n on, rather than
// building its own: base is the checkpoint's table, of the same seed, its
// set built once (baseDedupe). It is worth it when few events are cut.
func (t *EventTable) cutDedupe(base *EventTable, n int) bool {
	if t.seed != base.seed || base.dedupeShift < 32 || len(base.dedupe) == 0 {
		return false
	}
	t.dedupe, t.dedupeShift, t.nDedup = slices.Clone(base.dedupe), base.dedupeShift, base.nDedup
	for id := n; id < len(base.flags); id++ {
		if k, u := base.identity(uint32(id)); k != flagIDNone && !t.dropDedupe(uint32(id), base.hashKey(k, u)) {
			t.dedupe, t.dedupeShift, t.nDedup = nil, 0, 0
			return false
		}
	}
	t.dedupeStale = false
	return true
}

// dropDedupe takes event id, whose identity hashes to h, out of the set,
// moving back the slots after it that may (linear probing's deletion).
func (t *EventTable) dropDedupe(id uint32, h uint64) bool {
	mask := uint64(len(t.dedupe) - 1)
	want := h&^(1<<32-1) | uint64(id+1)
	i := h >> t.dedupeShift
	for t.dedupe[i] != want {
		if t.dedupe[i] == 0 {
			return false
		}
		i = (i + 1) & mask
	}
	for j := i; ; {
		j = (j + 1) & mask
		slot := t.dedupe[j]
		if slot == 0 {
			break
		}
		// Its first slot, from the hash bits it holds (dedupeShift ≥ 32).
		home := slot >> t.dedupeShift
		// It stays when its first slot is in (i, j], cyclically.
		if i < j && i < home && home <= j || j < i && (i < home || home <= j) {
			continue
		}
		t.dedupe[i] = slot
		i = j
	}
	t.dedupe[i] = 0
	t.nDedup--
	return true
}

// insertDedupe adds event id, whose identity hashes to h.
func (t *EventTable) insertDedupe(id uint32, h uint64) {
	if b := t.dedupeBase; b != nil && t.dedupeWait != nil {
		// The set, once built, holds base's event id: is it t's?
		if int(id) < len(b.flags) && b.flags[id]&flagIDMask == t.flags[id]&flagIDMask && t.flags[id]&flagIDMask != flagIDStr && b.uuid[id] == t.uuid[id] {
			return
		}
		t.baseReady()
	}
	if b := t.dedupeBase; b != nil {
		if b.holdsSlot(id, h) {
			return
		}
		t.ownDedupe()
	}
	if (t.nDedup+1)*4 >= len(t.dedupe)*3 {
		t.resizeDedupe(max(1024, 2*len(t.dedupe)))
	}
	t.placeDedupe(id, h)
	t.nDedup++
}

// resizeDedupe rebuilds the set with n slots (a power of two), unless it
// has that many already.
func (t *EventTable) resizeDedupe(n int) {
	if n <= len(t.dedupe) {
		return
	}
	old := t.dedupe
	t.dedupe = make([]uint64, n)
	t.dedupeShift = uint(64 - bits.TrailingZeros(uint(n)))
	for _, slot := range old {
		if slot == 0 {
			continue
		}
		// The slot holds the top 32 bits of its hash: all a set of up to
		// 1<<32 slots needs to place it, read in order (old slots are in
		// order of their first slot, but for a run that wraps around).
		h := slot &^ (1<<32 - 1)
		if t.dedupeShift < 32 {
			h = t.hashKey(t.identity(uint32(slot) - 1))
		}
		t.placeSlot(slot, h)
	}
}

// placeDedupe puts event id, whose identity hashes to h, in the set.
func (t *EventTable) placeDedupe(id uint32, h uint64) {
	t.placeSlot(h&^(1<<32-1)|uint64(id+1), h)
}

// placeSlot puts slot, for an identity hashing to h, in the first free
// slot from h's.
func (t *EventTable) placeSlot(slot, h uint64) {
	mask := uint64(len(t.dedupe) - 1)
	i := h >> t.dedupeShift
	for t.dedupe[i] != 0 {
		i = (i + 1) & mask
	}
	t.dedupe[i] = slot
}

// --- event-time order ---

// less orders events by (time, id).
func (t *EventTable) less(a, b uint32) bool {
	ta, tb := t.time[a], t.time[b]
	return ta < tb || ta == tb && a < b
}

// placeNew puts new event id into the time order: appended when it sorts
// after everything ordered so far, else queued for the next settle.
func (t *EventTable) placeNew(id uint32) {
	t.rank = append(t.rank, 0)
	if len(t.late) == 0 && (len(t.order) == 0 || t.less(t.order[len(t.order)-1], id)) {
		t.rank[id] = uint32(len(t.order))
		t.order = append(t.order, id)
		return
	}
	t.late = append(t.late, id)
}

// reposition queues id, already in order, to move after its time changed.
func (t *EventTable) reposition(id uint32) {
	if t.moved == nil {
		t.moved = map[uint32]bool{}
	}
	if !t.moved[id] {
		t.moved[id] = true
		t.late = append(t.late, id)
	}
}

// Settle brings every index of the table up to date now: the posting lists
// take in the events added since they were last brought up to date, and
// late arrivals take their place in the time order. A query does this
// itself, first; a bulk load calls Settle to pay for it up front, so that
// the first query after the load is as quick as any other.
func (t *EventTable) Settle() {
	t.settle()
	all := make([]int, numCols)
	for c := range all {
		all[c] = c
	}
	t.postCols(all...)
}

// settle posts the events added since it last ran (indexPosts) and merges
// queued late arrivals into the time order (settleOrder).
func (t *EventTable) settle() {
	t.indexPosts()
	t.settleOrder()
}

// indexPosts adds the events from indexed on to roPost and flagPost.
func (t *EventTable) indexPosts() {
	lo, hi := t.indexed, uint32(len(t.time))
	for id := lo; id < hi; id++ {
		if t.ro[id] == ctlog.ReadOnlyTrue {
			t.roPost = appendID(t.roPost, id)
		}
		if fl := t.flags[id]; fl&postedFlags != 0 {
			for b := range t.flagPost {
				if fl&postedFlags&(1<<b) != 0 {
					t.flagPost[b] = appendID(t.flagPost[b], id)
				}
			}
		}
	}
	t.indexed = hi
}

// postCols adds the events not yet posted to the posting lists of
// columns cs, a column at a time: each pass reads one column's values in
// order and appends to that column's lists alone, which stay in cache,
// rather than every Add writing to eleven lists scattered over the heap.
// Ids only grow, so appending keeps the lists sorted. A column no query
// reads is never posted (a frame of a million events reads two or three).
func (t *EventTable) postCols(cs ...int) {
	hi := uint32(len(t.time))
	var bulk []*column
	for _, c := range cs {
		col := t.cols[c]
		switch lo := col.posted; {
		case lo == hi:
		case hi-lo >= 1<<16:
			if !slices.Contains(bulk, col) {
				bulk = append(bulk, col)
			}
		default:
			col.post(lo, hi)
			col.posted = hi
		}
	}
	if len(bulk) == 1 {
		bulk[0].post(bulk[0].posted, hi)
		bulk[0].posted = hi
		return
	}
	// A bulk load (a checkpoint's table): the columns are posted side by
	// side, each by one goroutine that alone touches it.
	var wg sync.WaitGroup
	for _, col := range bulk {
		wg.Go(func() { col.post(col.posted, hi); col.posted = hi })
	}
	wg.Wait()
}

// settleOrder merges queued late arrivals into the time order: the late ids are
// sorted (O(m log m)) and merged into the ordered ones in place, from the
// back (O(n+m) at worst, O(m + distance) for events that are only a little
// late); ranks are rewritten from the first position that changed. A bulk
// load of out-of-order events therefore costs one sort, on the first query.
func (t *EventTable) settleOrder() {
	if len(t.late) == 0 {
		return
	}
	// An event replaced before it was ever placed can be queued twice.
	late := slices.Compact(t.sortLate())
	order := t.order
	low := len(order) // the lowest position whose content changes
	if len(t.moved) > 0 {
		k := 0
		for i, id := range order {
			if t.moved[id] {
				low = min(low, i)
				continue
			}
			order[k] = id
			k++
		}
		order = order[:k]
		t.moved = nil
	}
	n := len(order)
	order = slices.Grow(order, len(late))[:n+len(late)]
	i, k := n-1, n+len(late)-1
	for j := len(late) - 1; j >= 0; k-- {
		if i >= 0 && t.less(late[j], order[i]) {
			order[k] = order[i]
			i--
		} else {
			order[k] = late[j]
			j--
		}
	}
	low = min(low, i+1)
	for r := low; r < len(order); r++ {
		t.rank[order[r]] = uint32(r)
	}
	t.order = order
	t.late = late[:0]
}

// sortLate sorts the late ids by (time, id). It sorts (time, id) pairs
// rather than ids with a comparison that looks times up: a bulk load sorts
// a million of them, and the pairs keep the sort in cache.
//
// Late ids mostly come in long sorted runs (a bulk load reads one log file
// after another, each in time order, and they interleave): when there are
// few runs, they are merged, in O(n log runs), else the pairs are sorted.
func (t *EventTable) sortLate() []uint32 {
	ps := make([]timeID, len(t.late))
	runs := 1
	for i, id := range t.late {
		ps[i] = timeID{t.time[id], id}
		if i > 0 && ps[i].less(ps[i-1]) {
			runs++
		}
	}
	switch {
	case runs == 1:
	case runs <= len(ps)/16:
		ps = mergeRuns(ps)
	default:
		slices.SortFunc(ps, func(a, b timeID) int {
			if a.less(b) {
				return -1
			}
			if b.less(a) {
				return 1
			}
			return 0
		})
	}
	for i, p := range ps {
		t.late[i] = p.id
	}
	return t.late
}

// timeID is an event's place in the time order.
type timeID struct {
	ns int64
	id uint32
}

func (a timeID) less(b timeID) bool {
	return a.ns < b.ns || a.ns == b.ns && a.id < b.id
}

// mergeRuns sorts ps by merging its ascending runs, pairwise, until one is
// left. It returns the sorted pairs, in ps or in a buffer of its size.
func mergeRuns(ps []timeID) []timeID {
	// bounds holds where each run starts, and len(ps) last.
	bounds := []int{0}
	for i := 1; i < len(ps); i++ {
		if ps[i].less(ps[i-1]) {
			bounds = append(bounds, i)
		}
	}
	bounds = append(bounds, len(ps))
	buf := make([]timeID, len(ps))
	for len(bounds) > 2 {
		next := bounds[:1]
		for r := 0; r+1 < len(bounds); r += 2 {
			lo, mid := bounds[r], bounds[r+1]
			if r+2 >= len(bounds) {
				// An odd run out: copied as it is.
				copy(buf[lo:mid], ps[lo:mid])
				next = append(next, mid)
				break
			}
			hi := bounds[r+2]
			mergeTwo(buf[lo:hi], ps[lo:mid], ps[mid:hi])
			next = append(next, hi)
		}
		bounds = next
		ps, buf = buf, ps
	}
	return ps
}

// mergeTwo merges the ascending a and b into out (len(a)+len(b) long).
func mergeTwo(out, a, b []timeID) {
	i, j := 0, 0
	for k := range out {
		if j == len(b) || i < len(a) && !b[j].less(a[i]) {
			out[k] = a[i]
			i++
		} else {
			out[k] = b[j]
			j++
		}
	}
}
