package state

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// A checkpoint is the store at journal line S, written beside the journal
// (J.index) so that a reader loads it and folds only the lines after S.
// It is derived data: deleting it loses nothing, and one that does not
// match its journal is ignored (see Open).
//
// Layout: the magic, the format version (uint32), the body's length
// (uint64) and its SHA-256, then the body. The body opens with what binds
// it to the journal (the incident id, S, the offset after line S and line
// S's hash), then the replay marks of lines 1..S, the store's facts other
// than events as JSON, and the event table's columns in binary. Integers
// are little-endian. Everything the table can rebuild from what is written
// (posting lists, ranks, the dedupe set, the string maps, the hot indexes,
// the lower-cased strings) is rebuilt, not written.
const (
	checkpointMagic   = "warroom-index\n"
	checkpointVersion = 13 // 13: Access Advisor reports and Config histories (Store.Reaches, ConfigHistories); 12: the IAM Identity Center read (Store.IdentityCenter); 11: the impact watch's judgements (Store.Impacts); 10: GuardDuty (Store.GuardDuty); 9: a seek point keeps the lineage's links as a length; 8: a minted key's link names its issuer when any copy does; 7: member accounts (Store.Accounts); 6: the account column, posting lists in ranks, records and rows in time order; 4: the trails' integrity (Store.Integrity)
	checkpointHeader  = len(checkpointMagic) + 4 + 8 + sha256.Size
)

// binding is what ties a checkpoint to its journal.
type binding struct {
	Incident string
	Mark     journal.Mark
}

// ckStore is the store's state other than the event table's columns, as
// JSON: facts are few next to events.
type ckStore struct {
	Incident        IncidentOpened
	Seq             int64
	Head            string
	At              time.Time
	Skipped         []Skipped
	Sessions        []Dated[SessionStarted]
	Ends            []Dated[SessionEnded]
	Notes           []Dated[Note]
	Suspects        map[string]Dated[Suspect]
	Regions         []Region
	RegionsAt       time.Time
	Health          map[string]Dated[StreamHealth]
	Inventory       *Inventory
	InventorySeq    int64
	Sweeps          []Dated[Sweep]
	Actions         []*Action
	Repairs         []Dated[JournalRepaired]
	Anchors         []Dated[Anchor]
	KeyInfos        map[string]Dated[KeyInfo]
	Impacts         map[string]Dated[ImpactJudgement]
	Verdicts        map[string]Dated[Verdict]
	Integrity       map[string]Dated[TrailIntegrity]
	GuardDuty       map[string]Dated[GuardDutyRegion]
	IdentityCenter  *Dated[IdentityCenter]          `json:",omitempty"`
	Reaches         map[string]Dated[Reach]         `json:",omitempty"`
	ConfigHistories map[string]Dated[ConfigHistory] `json:",omitempty"`
	Trusts          map[string][]Dated[string]
	Accounts        map[string]ckAccount
	Timeline        []TimelineItem
	Problems        []FactProblem
	Ours            []ckOurs
	OursActor       journal.Actor

	Lineage ckLineage
	Creds   []ckCred
	Claimed []uint32
	Pending []uint32
	PendMin int64
	Copies  map[uint32]ckCopySet
	Addenda map[uint32]ctlog.Addendum
}

// ckAccount is a member account's facts, its sweeps as a list (SweepKey
// is no JSON object key).
type ckAccount struct {
	Access       *Dated[AccountAccess]
	Regions      []Region
	RegionsAt    time.Time
	Inventory    *Inventory
	InventorySeq int64
	Health       map[string]Dated[StreamHealth]
	Sweeps       []Dated[Sweep]
}

type ckOurs struct {
	Actor journal.Actor
	Idx   []int
}

type ckLineage struct {
	Links    []ckMint
	ByChild  map[uint32]int
	ByEvent  map[uint32]int
	Children map[uint32][]uint32
	Users    map[string][2]uint32 // key, event
	Pending  map[string][]ckPending
}

type ckMint struct {
	Parent, Child, Ev uint32
	Expires           int64
	Role, Session     string
	Created           bool
	User              string
}

type ckPending struct {
	Ev uint32
	ID string
}

type ckCred struct {
	Key, ARN string
	From, To int64
}

type ckCopySet struct {
	Copies []Copy
	Fields []ckCopyFields
}

// ckCopyFields is a copyFields: its strings and numbers in field order.
type ckCopyFields struct {
	S [18]string
	N [3]int64 // time, mintExp, readOnly
	B [2]bool  // minted, addendum
}

func ckFields(f *copyFields) ckCopyFields {
	return ckCopyFields{
		S: [18]string{f.name, f.source, f.region, f.principal, f.user, f.identityType, f.accessKey, f.ip,
			f.agent, f.errorCode, f.errorMessage, f.mintKey, f.mintRole, f.mintSession, f.reason, f.updated, f.origReq, f.origID},
		N: [3]int64{f.time, f.mintExp, int64(f.readOnly)},
		B: [2]bool{f.minted, f.addendum},
	}
}

func (c *ckCopyFields) fields() copyFields {
	s := &c.S
	return copyFields{
		time: c.N[0], name: s[0], source: s[1], region: s[2], principal: s[3], user: s[4], identityType: s[5],
		accessKey: s[6], ip: s[7], agent: s[8], errorCode: s[9], errorMessage: s[10], readOnly: ctlog.ReadOnly(c.N[2]),
		minted: c.B[0], mintKey: s[11], mintRole: s[12], mintSession: s[13], mintExp: c.N[1],
		addendum: c.B[1], reason: s[14], updated: s[15], origReq: s[16], origID: s[17],
	}
}

// writeCheckpoint writes the checkpoint of s, bound to b, with the replay
// marks of lines 1..S, to w. The table is settled first.
func writeCheckpoint(w io.WriterAt, s *Store, b binding, marks []mark, sk *seeks) error {
	t := s.Events
	t.settle()
	h := sha256.New()
	bw := bufio.NewWriterSize(&offsetWriter{w: w, off: int64(checkpointHeader)}, 1<<20)
	e := &ckEnc{w: io.MultiWriter(bw, h)}
	e.str(b.Incident)
	e.u64(uint64(b.Mark.Seq))
	e.u64(uint64(b.Mark.Next))
	var lh [32]byte
	if _, err := hex.Decode(lh[:], []byte(b.Mark.Hash)); err != nil {
		return fmt.Errorf("checkpoint: line hash %q: %w", b.Mark.Hash, err)
	}
	e.raw(lh[:])
	e.u64(uint64(len(marks)))
	for _, m := range marks {
		e.u64(uint64(m.off))
		e.u64(uint64(m.at))
		e.raw(m.hash[:])
		e.raw([]byte{byte(m.kind)})
	}
	js, err := json.Marshal(storeRest(s))
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	e.u64(uint64(len(js)))
	e.raw(js)
	n := len(t.time)
	e.u64(uint64(n))
	var secs []ckSection
	// section hashes what fn encodes on its own too: a query reads and
	// checks only the sections it needs (see openQuery).
	section := func(id uint32, fn func()) {
		e.flush()
		start, w0, sh := e.n, e.w, sha256.New()
		e.w = io.MultiWriter(w0, sh)
		fn()
		e.flush()
		e.w = w0
		c := ckSection{id: id, off: int64(checkpointHeader) + start, n: e.n - start}
		sh.Sum(c.sum[:0])
		secs = append(secs, c)
	}
	for ci, c := range append(t.cols[:], t.eid) {
		section(uint32(ci), func() {
			e.u64(uint64(len(c.strs)))
			for _, s := range c.strs {
				e.str(s)
			}
		})
		section(secVals+uint32(ci), func() { e.u32s(c.vals[:n]) })
	}
	e.u64s(t.time)
	for _, u := range t.uuid {
		e.raw(u[:])
	}
	section(secRef, func() {
		for _, r := range t.ref {
			e.u64(uint64(r.Offset))
			e.u32(r.Index)
		}
	})
	for _, ro := range t.ro {
		e.buf = append(e.buf, byte(ro))
	}
	e.buf = append(e.buf, t.flags...)
	section(secOrder, func() { e.u32s(t.order) })
	var none seeks
	if sk == nil {
		sk = &none
	}
	e.u64(uint64(len(sk.log)))
	for _, c := range sk.log {
		e.u64(uint64(c.seq))
		e.u32(c.id)
		e.u32s(c.row.vals[:])
		e.u64(uint64(c.row.time))
		e.u64(uint64(c.row.ref.Offset))
		e.u32(c.row.ref.Index)
		e.raw([]byte{byte(c.row.ro), c.row.flags})
	}
	var points []seekPoint
	for _, p := range sk.points {
		if p.seq < b.Mark.Seq {
			points = append(points, p)
		}
	}
	e.u64(uint64(len(points)))
	for _, p := range points {
		e.u64(uint64(p.seq))
		e.u64(uint64(p.events))
		for _, v := range p.strs {
			e.u64(uint64(v))
		}
		for _, v := range p.prefix {
			e.u64(uint64(v))
		}
		e.u64(uint64(len(p.rest)))
		e.raw(p.rest)
	}
	e.flush()
	if e.err != nil {
		return e.err
	}
	body := e.n
	// After the body, which a full open reads and hashes whole: the
	// records' spans, then the section table and its trailer.
	e.w = bw
	// Each event's reference and span, in time order, in chunks of
	// recChunk events hashed one by one: a query reads the chunks of its
	// events alone.
	sums := chunked(e, secRecs, n, recChunk, func(lo, hi int) {
		for _, id := range t.order[lo:hi] {
			r := t.ref[id]
			e.u64(uint64(r.Offset))
			e.u32(r.Index)
			e.u64(t.spanOf(r))
		}
	}, section)
	section(secRecSums, func() { e.raw(sums) })
	// What a table row shows of each event (rowCols and its time), in
	// time order, in chunks as the records.
	sums = chunked(e, secRows, n, recChunk, func(lo, hi int) {
		for _, id := range t.order[lo:hi] {
			for _, c := range rowCols {
				e.u32(t.cols[c].vals[id])
			}
			e.u64(uint64(t.time[id]))
		}
	}, section)
	section(secRowSums, func() { e.raw(sums) })
	// Each column's posting lists, in ranks (time order): where each
	// value's list starts, then the lists, in chunks hashed one by one.
	for ci, c := range t.cols {
		off, ranks := postingRanks(c, t.order, n)
		section(secPostOff+uint32(ci), func() { e.u32s(off) })
		sums := chunked(e, secPosts+uint32(ci), len(ranks), postChunk, func(lo, hi int) { e.u32s(ranks[lo:hi]) }, section)
		section(secPostSums+uint32(ci), func() { e.raw(sums) })
	}
	e.flush()
	if e.err != nil {
		return e.err
	}
	var tb bytes.Buffer
	tab := &ckEnc{w: &tb}
	tab.str(b.Incident)
	tab.u64(uint64(b.Mark.Seq))
	tab.u64(uint64(b.Mark.Next))
	tab.raw(lh[:])
	tab.u64(uint64(n))
	tab.u64(uint64(len(secs)))
	for _, c := range secs {
		tab.u32(c.id)
		tab.u64(uint64(c.off))
		tab.u64(uint64(c.n))
		tab.raw(c.sum[:])
	}
	tab.flush()
	tsum := sha256.Sum256(tb.Bytes())
	tb.Write(binary.LittleEndian.AppendUint64(nil, uint64(tb.Len())))
	tb.Write(tsum[:])
	if _, err := bw.Write(tb.Bytes()); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	var head [checkpointHeader]byte
	k := copy(head[:], checkpointMagic)
	binary.LittleEndian.PutUint32(head[k:], checkpointVersion)
	binary.LittleEndian.PutUint64(head[k+4:], uint64(body))
	copy(head[k+12:], h.Sum(nil))
	_, err = w.WriteAt(head[:], 0)
	return err
}

// chunked writes section id of count items, fn(lo, hi) encoding items lo
// to hi-1, in chunks of per items, and returns the SHA-256 of each chunk.
func chunked(e *ckEnc, id uint32, count, per int, fn func(lo, hi int), section func(uint32, func())) []byte {
	var sums []byte
	section(id, func() {
		for lo := 0; lo < count; lo += per {
			e.flush()
			w0, ch := e.w, sha256.New()
			e.w = io.MultiWriter(w0, ch)
			fn(lo, min(lo+per, count))
			e.flush()
			e.w = w0
			sums = ch.Sum(sums)
		}
	})
	return sums
}

// postingRanks returns column c's posting lists in ranks, given the time
// order: off[v] is where value v's list starts in ranks (off[len(c.strs)]
// is their total), each list ascending. The empty value has none.
func postingRanks(c *column, order []uint32, n int) (off, ranks []uint32) {
	off = make([]uint32, len(c.strs)+1)
	for _, v := range c.vals[:n] {
		if v != 0 {
			off[v+1]++
		}
	}
	for v := 1; v < len(off); v++ {
		off[v] += off[v-1]
	}
	ranks = make([]uint32, off[len(c.strs)])
	at := slices.Clone(off[:len(c.strs)])
	for r, id := range order {
		if v := c.vals[id]; v != 0 {
			ranks[at[v]] = uint32(r)
			at[v]++
		}
	}
	return off, ranks
}

// storeRest is s's state other than the table's columns.
func storeRest(s *Store) *ckStore {
	t := s.Events
	r := &ckStore{
		Incident: s.Incident, Seq: s.Seq, Head: s.Head, At: s.At, Skipped: s.Skipped,
		Sessions: s.Sessions, Ends: s.Ends, Notes: s.Notes, Suspects: s.Suspects,
		Regions: s.Regions, RegionsAt: s.RegionsAt, Health: s.Health,
		Inventory: s.Inventory, InventorySeq: s.InventorySeq, Sweeps: s.SweepList(),
		Actions: s.Actions, Repairs: s.Repairs, Anchors: s.Anchors, KeyInfos: s.KeyInfos, Impacts: s.Impacts,
		Verdicts: s.Verdicts, Integrity: s.Integrity, GuardDuty: s.GuardDuty, IdentityCenter: s.IdentityCenter,
		Reaches: s.Reaches, ConfigHistories: s.ConfigHistories, Trusts: s.Trusts, Timeline: s.Timeline, Problems: s.Problems,
		OursActor: s.oursActor,
		Claimed:   t.ours.claimed, Pending: t.ours.pending, PendMin: t.ours.pendingMin,
		Copies: map[uint32]ckCopySet{}, Addenda: t.addenda,
	}
	for _, a := range slices.SortedFunc(maps.Keys(s.ours), compareActors) {
		r.Ours = append(r.Ours, ckOurs{a, s.ours[a]})
	}
	for id, m := range s.Accounts {
		if r.Accounts == nil {
			r.Accounts = map[string]ckAccount{}
		}
		r.Accounts[id] = ckAccount{Access: m.Access, Regions: m.Regions, RegionsAt: m.RegionsAt, Inventory: m.Inventory,
			InventorySeq: m.InventorySeq, Health: m.Health, Sweeps: sweepList(m.Sweeps)}
	}
	l := &t.lineage
	r.Lineage = ckLineage{ByChild: l.byChild, ByEvent: l.byEvent, Children: l.children,
		Users: map[string][2]uint32{}, Pending: map[string][]ckPending{}}
	for _, m := range l.links {
		r.Lineage.Links = append(r.Lineage.Links, ckMint{m.parent, m.child, m.ev, m.expires, m.role, m.session, m.created, m.user})
	}
	for k, u := range l.users {
		r.Lineage.Users[k] = [2]uint32{u.key, u.ev}
	}
	for k, ps := range l.pending {
		for _, p := range ps {
			r.Lineage.Pending[k] = append(r.Lineage.Pending[k], ckPending{p.ev, p.id})
		}
	}
	for _, c := range t.ours.creds {
		r.Creds = append(r.Creds, ckCred{c.key, c.arn, c.from, c.to})
	}
	for id, cs := range t.copies {
		c := ckCopySet{Copies: cs.copies}
		for i := range cs.fields {
			c.Fields = append(c.Fields, ckFields(&cs.fields[i]))
		}
		r.Copies[id] = c
	}
	return r
}

func compareActors(a, b journal.Actor) int {
	if c := bytes.Compare([]byte(a.User+"\x00"+a.Host+"\x00"+a.SSH+"\x00"+a.AWS), []byte(b.User+"\x00"+b.Host+"\x00"+b.SSH+"\x00"+b.AWS)); c != 0 {
		return c
	}
	return a.PID - b.PID
}

// offsetWriter writes to w from off on.
type offsetWriter struct {
	w   io.WriterAt
	off int64
}

func (o *offsetWriter) Write(p []byte) (int, error) {
	n, err := o.w.WriteAt(p, o.off)
	o.off += int64(n)
	return n, err
}

// ckEnc encodes into w through a small buffer, counting bytes.
type ckEnc struct {
	w   io.Writer
	buf []byte
	n   int64
	err error
}

func (e *ckEnc) flush() {
	if e.err == nil && len(e.buf) > 0 {
		_, e.err = e.w.Write(e.buf)
	}
	e.n += int64(len(e.buf))
	e.buf = e.buf[:0]
}

func (e *ckEnc) room() {
	if len(e.buf) >= 64<<10 {
		e.flush()
	}
}

func (e *ckEnc) u32(v uint32) { e.buf = binary.LittleEndian.AppendUint32(e.buf, v); e.room() }
func (e *ckEnc) u64(v uint64) { e.buf = binary.LittleEndian.AppendUint64(e.buf, v); e.room() }
func (e *ckEnc) raw(b []byte) { e.buf = append(e.buf, b...); e.room() }
func (e *ckEnc) str(s string) { e.u64(uint64(len(s))); e.buf = append(e.buf, s...); e.room() }

func (e *ckEnc) u32s(v []uint32) {
	for _, x := range v {
		e.buf = binary.LittleEndian.AppendUint32(e.buf, x)
		if len(e.buf) >= 64<<10 {
			e.flush()
		}
	}
}

func (e *ckEnc) u64s(v []int64) {
	for _, x := range v {
		e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(x))
		if len(e.buf) >= 64<<10 {
			e.flush()
		}
	}
}

// errCheckpoint marks a checkpoint that cannot be used.
var errCheckpoint = errors.New("checkpoint")

// ckDec decodes a checkpoint body from r, of which left bytes remain, and
// hashes what it reads. No count it reads allocates more than the bytes
// left could hold.
type ckDec struct {
	r    *bufio.Reader
	h    hash.Hash
	left int64
	err  error
	// tmp and tmp2 take turns holding what was read: one is hashed
	// while the other is decoded.
	tmp, tmp2 []byte
	hc        chan []byte
	hdone     chan struct{}
	pending   bool
}

func (d *ckDec) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", errCheckpoint, fmt.Sprintf(format, args...))
	}
}

// take reads n bytes into a scratch buffer valid until the next call.
func (d *ckDec) take(n int64) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.left {
		d.fail("%d bytes wanted where %d are left", n, d.left)
		return nil
	}
	d.tmp, d.tmp2 = d.tmp2, d.tmp
	if int64(cap(d.tmp)) < n {
		d.tmp = make([]byte, n)
	}
	b := d.tmp[:n]
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("%v", err)
		return nil
	}
	d.hash(b)
	d.left -= n
	return b
}

// hash hashes b, which stays untouched until the next call: on another
// core when the decoder has one (hashing and decoding take about as long
// as each other).
func (d *ckDec) hash(b []byte) {
	if d.hc == nil {
		d.h.Write(b)
		return
	}
	if d.pending {
		<-d.hdone
	}
	d.hc <- b
	d.pending = true
}

// stop waits for the hashing aside to catch up and ends it.
func (d *ckDec) stop() {
	if d.hc != nil {
		if d.pending {
			<-d.hdone
			d.pending = false
		}
		close(d.hc)
		d.hc = nil
	}
}

// hashAside starts hashing on another goroutine.
func (d *ckDec) hashAside() {
	d.hc, d.hdone = make(chan []byte), make(chan struct{})
	go func(h hash.Hash, in <-chan []byte, done chan<- struct{}) {
		for b := range in {
			h.Write(b)
			done <- struct{}{}
		}
	}(d.h, d.hc, d.hdone)
}

// count reads a count of items of size bytes each that must fit in what is left.
func (d *ckDec) count(size int64) int {
	n := d.u64()
	if d.err == nil && (n > uint64(d.left)/uint64(size)) {
		d.fail("%d items of %d bytes where %d bytes are left", n, size, d.left)
		return 0
	}
	return int(n)
}

func (d *ckDec) u64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

func (d *ckDec) str() string {
	n := d.count(1)
	return string(d.take(int64(n)))
}

func (d *ckDec) u32s(n int) []uint32 {
	if littleEndian {
		out := make([]uint32, n)
		if n > 0 && d.direct(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*n)) {
			return out
		}
		return out[:0]
	}
	out := make([]uint32, 0, n)
	for len(out) < n && d.err == nil {
		k := min(n-len(out), 16<<10)
		b := d.take(int64(4 * k))
		for i := 0; i < len(b); i += 4 {
			out = append(out, binary.LittleEndian.Uint32(b[i:]))
		}
	}
	return out
}

// littleEndian is whether this machine lays integers out as the file
// does: then arrays are read straight into their memory.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// direct reads len(b) bytes into b, which the caller keeps (so the
// hashing aside may read it as long as it needs), and hashes them. The
// caller made sure that len(b) fits in what is left (count).
func (d *ckDec) direct(b []byte) bool {
	if d.err != nil {
		return false
	}
	if int64(len(b)) > d.left {
		d.fail("%d bytes wanted where %d are left", len(b), d.left)
		return false
	}
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail("%v", err)
		return false
	}
	d.hash(b)
	d.left -= int64(len(b))
	return true
}

// readCheckpoint reads a checkpoint from r, of size bytes, and returns its
// binding; load, when the binding is to be trusted, decodes the rest.
// check is called with the binding before the bulk of the body is
// decoded; an error from it is returned as is. The body's SHA-256 is
// checked at the end, before anything decoded is returned.
func readCheckpoint(r io.Reader, size int64, check func(binding) error) (*Store, []mark, binding, error) {
	f, err := decodeCheckpoint(r, size, check)
	if err != nil {
		return nil, nil, f.b, err
	}
	s, err := f.build(-1)
	if err != nil {
		return nil, nil, f.b, err
	}
	return s, f.marks, f.b, nil
}

// ckFile is a checkpoint decoded: the store's parts at line S, not yet put
// together (build does), and the seek points.
type ckFile struct {
	b     binding
	marks []mark
	rest  ckStore
	// restJS is rest as read, decoded again by clone.
	restJS []byte
	// owned is set on a clone: its table's arrays are its own.
	owned bool
	t     *EventTable // columns, time, uuid, ref, ro, flags, order: raw
	n     int
	seeks seeks
	// taint is set when a store sharing t's arrays changed one in place
	// (see shared).
	taint *atomic.Bool
	// dedupeOnce builds t's dedupe set, which a clone for a seek point
	// borrows rather than build its own (cut: see clone, build).
	dedupeOnce *sync.Once
	// small is restJS less the lineage's links, for clone (nil: none).
	small *restSmall
	cut   bool
	base  *EventTable
	ready func() // builds base's dedupe set (see clone)
}

// decodeCheckpoint is readCheckpoint without building the store.
func decodeCheckpoint(r io.Reader, size int64, check func(binding) error) (*ckFile, error) {
	f, err := decodeBody(r, size, check)
	if f == nil {
		f = &ckFile{}
	}
	return f, err
}

func decodeBody(r io.Reader, size int64, check func(binding) error) (*ckFile, error) {
	var b binding
	br := bufio.NewReaderSize(r, 1<<20)
	var head [checkpointHeader]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return &ckFile{b: b}, fmt.Errorf("%w: header: %v", errCheckpoint, err)
	}
	k := len(checkpointMagic)
	if string(head[:k]) != checkpointMagic {
		return &ckFile{b: b}, fmt.Errorf("%w: not a warroom index", errCheckpoint)
	}
	if v := binary.LittleEndian.Uint32(head[k:]); v != checkpointVersion {
		return &ckFile{b: b}, fmt.Errorf("%w: format version %d, this warroom reads %d", errCheckpoint, v, checkpointVersion)
	}
	n := binary.LittleEndian.Uint64(head[k+4:])
	if n > uint64(size-int64(checkpointHeader)) {
		return &ckFile{b: b}, fmt.Errorf("%w: the body should be %d bytes, the file holds %d", errCheckpoint, n, size-int64(checkpointHeader))
	}
	d := &ckDec{r: br, h: sha256.New(), left: int64(n)}
	d.hashAside()
	defer d.stop()
	b.Incident = d.str()
	b.Mark.Seq = int64(d.u64())
	b.Mark.Next = int64(d.u64())
	b.Mark.Hash = hex.EncodeToString(d.take(32))
	if d.err != nil {
		return &ckFile{b: b}, d.err
	}
	if err := check(b); err != nil {
		return &ckFile{b: b}, err
	}
	nm := d.count(8 + 8 + 32 + 1)
	marks := make([]mark, nm)
	for i := range marks {
		bb := d.take(49)
		if bb == nil {
			break
		}
		m := &marks[i]
		m.off = int64(binary.LittleEndian.Uint64(bb))
		m.at = int64(binary.LittleEndian.Uint64(bb[8:]))
		copy(m.hash[:], bb[16:48])
		m.kind = markKind(bb[48])
	}
	var rest ckStore
	var restJS []byte
	if js := d.take(int64(d.count(1))); d.err == nil {
		if err := json.Unmarshal(js, &rest); err != nil {
			d.fail("facts: %v", err)
		}
		restJS = bytes.Clone(js)
	}
	t := NewEventTable()
	ne := d.count(4*12 + 8 + 16 + 12 + 2 + 4)
	for _, c := range append(t.cols[:], t.eid) {
		ns := d.count(8)
		c.strs = make([]string, 0, min(ns, 1<<16))
		for range ns {
			if d.err != nil {
				break
			}
			c.strs = append(c.strs, d.str())
		}
		c.vals = d.u32s(ne)
	}
	t.time = make([]int64, 0, ne)
	t.uuid = make([][16]byte, 0, ne)
	t.ref = make([]EventRef, 0, ne)
	t.ro = make([]ctlog.ReadOnly, 0, ne)
	if littleEndian && ne > 0 {
		t.time = make([]int64, ne)
		t.uuid = make([][16]byte, ne)
		if !d.direct(unsafe.Slice((*byte)(unsafe.Pointer(&t.time[0])), 8*ne)) || !d.direct(unsafe.Slice((*byte)(unsafe.Pointer(&t.uuid[0])), 16*ne)) {
			t.time, t.uuid = t.time[:0], t.uuid[:0]
		}
	}
	for len(t.time) < ne && d.err == nil {
		k := min(ne-len(t.time), 8<<10)
		bb := d.take(int64(8 * k))
		for i := 0; i < len(bb); i += 8 {
			t.time = append(t.time, int64(binary.LittleEndian.Uint64(bb[i:])))
		}
	}
	for len(t.uuid) < ne && d.err == nil {
		k := min(ne-len(t.uuid), 8<<10)
		bb := d.take(int64(16 * k))
		for i := 0; i < len(bb); i += 16 {
			t.uuid = append(t.uuid, [16]byte(bb[i:i+16]))
		}
	}
	for len(t.ref) < ne && d.err == nil {
		k := min(ne-len(t.ref), 8<<10)
		bb := d.take(int64(12 * k))
		for i := 0; i < len(bb); i += 12 {
			t.ref = append(t.ref, EventRef{Offset: int64(binary.LittleEndian.Uint64(bb[i:])), Index: binary.LittleEndian.Uint32(bb[i+8:])})
		}
	}
	for _, c := range d.take(int64(ne)) {
		t.ro = append(t.ro, ctlog.ReadOnly(int8(c)))
	}
	t.flags = append([]uint8(nil), d.take(int64(ne))...)
	t.order = d.u32s(ne)
	var sk seeks
	nl := d.count(8 + 4 + 4*numCols + 8 + 12 + 2)
	sk.log = make([]change, 0, nl)
	for range nl {
		if d.err != nil {
			break
		}
		var c change
		c.seq = int64(d.u64())
		bb := d.take(4 + 4*numCols + 8 + 12 + 2)
		if bb == nil {
			break
		}
		c.id = binary.LittleEndian.Uint32(bb)
		for i := range c.row.vals {
			c.row.vals[i] = binary.LittleEndian.Uint32(bb[4+4*i:])
		}
		bb = bb[4+4*numCols:]
		c.row.time = int64(binary.LittleEndian.Uint64(bb))
		c.row.ref = EventRef{Offset: int64(binary.LittleEndian.Uint64(bb[8:])), Index: binary.LittleEndian.Uint32(bb[16:])}
		c.row.ro, c.row.flags = ctlog.ReadOnly(int8(bb[20])), bb[21]
		sk.log = append(sk.log, c)
	}
	np := d.count(8 * (2 + numCols + 1 + nPrefix + 1))
	for range np {
		if d.err != nil {
			break
		}
		var p seekPoint
		p.seq = int64(d.u64())
		p.events = int(min(d.u64(), 1<<40))
		for i := range p.strs {
			p.strs[i] = int(min(d.u64(), 1<<40))
		}
		for i := range p.prefix {
			p.prefix[i] = int(min(d.u64(), 1<<40))
		}
		p.rest = append([]byte(nil), d.take(int64(d.count(1)))...)
		sk.points = append(sk.points, p)
	}
	if d.err == nil && d.left != 0 {
		d.fail("%d bytes after the end", d.left)
	}
	if d.err != nil {
		// A damaged file is reported as such, not by what its damage
		// made of the decoding.
		d.stop()
		rest, _ := io.Copy(d.h, io.LimitReader(br, d.left))
		var sum [32]byte
		if d.h.Sum(sum[:0]); rest == d.left && !bytes.Equal(sum[:], head[k+12:]) {
			return &ckFile{b: b}, fmt.Errorf("%w: its SHA-256 does not match its body: the file was damaged or changed", errCheckpoint)
		}
		return &ckFile{b: b}, d.err
	}
	d.stop()
	var sum [32]byte
	d.h.Sum(sum[:0])
	if !bytes.Equal(sum[:], head[k+12:]) {
		return &ckFile{b: b}, fmt.Errorf("%w: its SHA-256 does not match its body: the file was damaged or changed", errCheckpoint)
	}
	for i, m := range marks {
		if i > 0 && m.off <= marks[i-1].off {
			return &ckFile{b: b}, fmt.Errorf("%w: replay mark %d goes back", errCheckpoint, i+1)
		}
	}
	if int64(len(marks)) != b.Mark.Seq {
		return &ckFile{b: b}, fmt.Errorf("%w: %d replay marks for %d lines", errCheckpoint, len(marks), b.Mark.Seq)
	}
	return &ckFile{b: b, marks: marks, rest: rest, restJS: restJS, t: t, n: ne, seeks: sk, dedupeOnce: new(sync.Once), small: new(restSmall)}, nil
}

// build puts the store together: as of line S for point -1, else as of
// seek point k.
func (f *ckFile) build(k int) (*Store, error) {
	s := &Store{}
	*s = *NewStore()
	s.Events = f.t
	if k < 0 {
		return s, s.restore(&f.rest, f.b, f.n)
	}
	if err := s.restoreAt(f, k); err != nil {
		return nil, err
	}
	if f.cut && f.base != nil {
		s.Events.borrowDedupeLater(f.base, f.ready)
	}
	return s, nil
}

// restore fills in the store from what a checkpoint holds, checks every
// index it holds against the table's size (a checkpoint may have been
// written by anyone who can write the journal's folder: a bad index must
// be an error, never a panic), and rebuilds what the table derives.
func (s *Store) restore(r *ckStore, b binding, n int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", errCheckpoint, fmt.Sprintf(format, args...))
	}
	t := s.Events
	if r.Seq != b.Mark.Seq || r.Head != b.Mark.Hash || r.Incident.ID != b.Incident {
		return bad("the store is at line %d (%s) of incident %q, the binding at line %d (%s) of %q", r.Seq, r.Head, r.Incident.ID, b.Mark.Seq, b.Mark.Hash, b.Incident)
	}
	for ci, c := range append(t.cols[:], t.eid) {
		if len(c.strs) == 0 || c.strs[0] != "" {
			return bad("column %d does not start with the empty value", ci)
		}
		c.ids = make(map[string]uint32, len(c.strs))
		for i, v := range c.strs {
			if _, dup := c.ids[v]; dup {
				return bad("column %d holds %q twice", ci, v)
			}
			c.ids[v] = uint32(i)
		}
		for _, v := range c.vals {
			if int(v) >= len(c.strs) {
				return bad("column %d: value %d of %d", ci, v, len(c.strs))
			}
		}
		c.posts, c.posted = make([][]uint32, len(c.strs)), 0
	}
	seen := make([]bool, n)
	for _, id := range t.order {
		if int(id) >= n || seen[id] {
			return bad("the time order is not a permutation of the events")
		}
		seen[id] = true
	}
	for id := range n {
		if t.flags[id]&flagIDMask == flagIDStr && t.eid.vals[id] == 0 {
			return bad("event %d: no event id string", id)
		}
	}
	ev := func(id uint32) bool { return int(id) < n }
	key := func(v uint32) bool { return int(v) < len(t.cols[colKey].strs) }

	s.Incident, s.Seq, s.Head, s.At = r.Incident, r.Seq, r.Head, r.At
	s.Skipped, s.Sessions, s.Ends, s.Notes = r.Skipped, r.Sessions, r.Ends, r.Notes
	s.Regions, s.RegionsAt, s.Inventory, s.InventorySeq = r.Regions, r.RegionsAt, r.Inventory, r.InventorySeq
	s.Repairs, s.Anchors, s.Timeline, s.Problems = r.Repairs, r.Anchors, r.Timeline, r.Problems
	orEmpty(&s.Suspects, r.Suspects)
	orEmpty(&s.Health, r.Health)
	orEmpty(&s.KeyInfos, r.KeyInfos)
	orEmpty(&s.Impacts, r.Impacts)
	orEmpty(&s.Verdicts, r.Verdicts)
	orEmpty(&s.Integrity, r.Integrity)
	s.Reaches, s.ConfigHistories = r.Reaches, r.ConfigHistories
	s.noteUnvouched() // derived from Integrity
	s.GuardDuty = r.GuardDuty
	s.IdentityCenter = r.IdentityCenter
	orEmpty(&s.Trusts, r.Trusts)
	for _, sw := range r.Sweeps {
		s.Sweeps[SweepKey{sw.V.Region, sw.V.Kind}] = sw
	}
	for id, a := range r.Accounts {
		if s.Accounts == nil {
			s.Accounts = map[string]*AccountFacts{}
		}
		m := &AccountFacts{Access: a.Access, Regions: a.Regions, RegionsAt: a.RegionsAt, Inventory: a.Inventory,
			InventorySeq: a.InventorySeq, Health: map[string]Dated[StreamHealth]{}, Sweeps: map[SweepKey]Dated[Sweep]{}}
		orEmpty(&m.Health, a.Health)
		for _, sw := range a.Sweeps {
			m.Sweeps[SweepKey{sw.V.Region, sw.V.Kind}] = sw
		}
		s.Accounts[id] = m
	}
	for _, a := range r.Actions {
		if a == nil {
			return bad("a null action")
		}
		s.Actions = append(s.Actions, a)
		s.byID[a.Intent.ActionID] = a
	}

	o := &t.ours
	for _, c := range r.Creds {
		o.creds = append(o.creds, ourCred{c.Key, c.ARN, c.From, c.To})
		if o.byKey == nil {
			o.byKey = map[string][]int{}
		}
		o.byKey[c.Key] = append(o.byKey[c.Key], len(o.creds)-1)
	}
	for _, id := range append(slices.Clone(r.Claimed), r.Pending...) {
		if !ev(id) {
			return bad("our events: event %d of %d", id, n)
		}
	}
	o.claimed, o.pending, o.pendingMin = r.Claimed, r.Pending, r.PendMin
	for _, x := range r.Ours {
		for _, i := range x.Idx {
			if i < 0 || i >= len(o.creds) {
				return bad("session credential %d of %d", i, len(o.creds))
			}
		}
		s.ours[x.Actor] = x.Idx
	}
	s.oursActor = r.OursActor
	if len(s.ours) > 0 {
		s.oursIdx = s.ours[s.oursActor]
	} else {
		s.oursActor = journal.Actor{}
	}

	l := &t.lineage
	for _, m := range r.Lineage.Links {
		if !key(m.Parent) || !key(m.Child) || !ev(m.Ev) {
			return bad("lineage link out of range")
		}
		l.links = append(l.links, mint{m.Parent, m.Child, m.Ev, m.Expires, m.Role, m.Session, m.Created, m.User})
	}
	for c, i := range r.Lineage.ByChild {
		if !key(c) || i < 0 || i >= len(l.links) {
			return bad("lineage child out of range")
		}
		l.byChild[c] = i
	}
	for e, i := range r.Lineage.ByEvent {
		if !ev(e) || i < 0 || i >= len(l.links) {
			return bad("lineage event out of range")
		}
		l.byEvent[e] = i
	}
	for p, cs := range r.Lineage.Children {
		if !key(p) {
			return bad("lineage parent out of range")
		}
		for _, c := range cs {
			if !key(c) {
				return bad("lineage child out of range")
			}
		}
		l.children[p] = cs
	}
	for u, x := range r.Lineage.Users {
		if !key(x[0]) || !ev(x[1]) {
			return bad("lineage user out of range")
		}
		l.users[u] = userLink{x[0], x[1]}
	}
	for u, ps := range r.Lineage.Pending {
		for _, p := range ps {
			if !ev(p.Ev) {
				return bad("lineage pending key out of range")
			}
			l.pending[u] = append(l.pending[u], pendingKey{p.Ev, p.ID})
		}
	}
	for id, cs := range r.Copies {
		if !ev(id) || len(cs.Copies) != len(cs.Fields) {
			return bad("copies of event %d", id)
		}
		if t.copies == nil {
			t.copies = map[uint32]*copySet{}
		}
		set := &copySet{copies: cs.Copies}
		for i := range cs.Fields {
			f := cs.Fields[i].fields()
			set.fields = append(set.fields, f)
			set.fps = append(set.fps, f.fingerprint(t.seed))
		}
		t.copies[id] = set
	}
	for id, a := range r.Addenda {
		if !ev(id) {
			return bad("addendum of event %d", id)
		}
		if t.addenda == nil {
			t.addenda = map[uint32]ctlog.Addendum{}
		}
		t.addenda[id] = a
	}

	// Derived: ranks here; posting lists (settle posts every event) and
	// the dedupe set when first needed.
	// The room a clone's arrays have (see ckFile.clone), else none.
	room := min(cap(t.time), cap(t.uuid), cap(t.ref), cap(t.ro), cap(t.flags), cap(t.order))
	for _, c := range append(t.cols[:], t.eid) {
		room = min(room, cap(c.vals))
	}
	t.rank = make([]uint32, n, max(n, room))
	for r, id := range t.order {
		t.rank[id] = uint32(r)
	}
	// Whether each user agent claims to be warroom's: the fold works it
	// out for every agent an event shows, and judging again reads it.
	agents := t.cols[colAgent].strs
	t.claims = make([]uint8, len(agents))
	for v, a := range agents {
		t.claims[v] = 2
		if claimsWarroom(a) {
			t.claims[v] = 1
		}
	}
	t.room = max(n, room)
	// The posting lists are built when a query first needs them (settle,
	// postCols: a column when a term first reads it): a frame reads the
	// time order and rows, and events changed in place before then are
	// posted with their new values.
	t.indexed = 0
	t.dedupeStale = n > 0
	return nil
}

func orEmpty[M ~map[K]V, K comparable, V any](dst *M, src M) {
	if src != nil {
		*dst = src
	}
}
