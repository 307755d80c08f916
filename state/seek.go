package state

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// Seek points let a replay reach any line from the checkpoint: the store
// as of line P is the checkpoint's (as of line S ≥ P) cut back. Event ids
// are given in arrival order and strings are interned in order, so the
// table as of P is a prefix of the table as of S — its first n events and
// the first strings of each column — but for events whose values changed
// after P (an addendum shown in place of a copy, a flag judged again).
// Open logs every such change with the old values (the change log); the
// values of event id as of P are those of the first change logged after P,
// else those at S. The store's facts other than events are small: a point
// keeps them as JSON, but for lists that only grow, which it keeps as
// lengths of the checkpoint's lists. The key lineage's links are such a
// list (nothing changes or removes a link), and its byEvent map, which
// only gains an event's first link as that link is added, is the
// checkpoint's less the links after the point: a point keeps neither.
//
// Open records a point every seekEvents events or seekLines lines, so a
// seek folds at most that much after the point it starts from.
var (
	seekEvents = 16 << 10
	seekLines  = 4 << 10
)

// eventRow is an event's values that can change after it was added.
type eventRow struct {
	vals  [numCols]uint32
	time  int64
	ref   EventRef
	ro    ctlog.ReadOnly
	flags uint8
}

// change is an event's values before line seq changed them.
type change struct {
	seq int64
	id  uint32
	row eventRow
}

// seekPoint is the store as of line seq, given the checkpoint.
type seekPoint struct {
	seq    int64
	events int
	strs   [numCols + 1]int // strings of each column (and eid)
	prefix [nPrefix]int     // lengths of the lists that only grow (see prefixLists)
	rest   []byte           // the other facts: ckStore JSON without those lists, deflated
}

// seeks is the change log and the seek points of a checkpoint.
type seeks struct {
	log    []change
	points []seekPoint
}

// seeker records seeks while a store is folded.
type seeker struct {
	seeks
	cur        int64 // the line being applied
	lastEvents int
	lastSeq    int64
}

// attach makes s's table log its changes into k.
func (k *seeker) attach(s *Store) {
	t := s.Events
	t.onChange = func(id uint32) {
		c := change{seq: k.cur, id: id, row: eventRow{time: t.time[id], ref: t.ref[id], ro: t.ro[id], flags: t.flags[id]}}
		for i, col := range t.cols {
			c.row.vals[i] = col.vals[id]
		}
		k.log = append(k.log, c)
	}
	k.lastEvents, k.lastSeq = t.Len(), s.Seq
}

func detach(s *Store) { s.Events.onChange = nil }

// wrap returns apply, which folds into s, with the change log kept and
// points recorded.
func (k *seeker) wrap(s *Store, apply func(journal.Entry) error) func(journal.Entry) error {
	return func(e journal.Entry) error {
		k.cur = e.Seq
		if err := apply(e); err != nil {
			return err
		}
		if s.Events.Len()-k.lastEvents >= seekEvents || s.Seq-k.lastSeq >= int64(seekLines) {
			return k.point(s)
		}
		return nil
	}
}

// nPrefix is how many lists prefixLists returns.
const nPrefix = 9

// prefixLists returns the lengths of the store's lists that only grow, in
// seekPoint order.
func prefixLists(r *ckStore) [nPrefix]int {
	return [nPrefix]int{len(r.Timeline), len(r.Skipped), len(r.Sessions), len(r.Ends), len(r.Notes), len(r.Repairs), len(r.Anchors), len(r.Problems),
		len(r.Lineage.Links)}
}

// point records a seek point as of s's last line.
func (k *seeker) point(s *Store) error {
	r := storeRest(s)
	p := seekPoint{seq: s.Seq, events: s.Events.Len(), prefix: prefixLists(r)}
	for i, c := range append(s.Events.cols[:], s.Events.eid) {
		p.strs[i] = len(c.strs)
	}
	r.Timeline, r.Skipped, r.Sessions, r.Ends, r.Notes, r.Repairs, r.Anchors, r.Problems = nil, nil, nil, nil, nil, nil, nil, nil
	r.Lineage.Links, r.Lineage.ByEvent = nil, nil
	// Deflated: the key lineage, kept whole at each point, grows with
	// the incident.
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err == nil {
		err = json.NewEncoder(zw).Encode(r)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return fmt.Errorf("seek point at line %d: %w", s.Seq, err)
	}
	p.rest = buf.Bytes()
	k.points = append(k.points, p)
	k.lastEvents, k.lastSeq = p.events, p.seq
	return nil
}

// point returns the index of the last seek point at or before line n, or
// -1 when there is none.
func (sk *seeks) before(n int64) int {
	k := -1
	for i, p := range sk.points {
		if p.seq <= n {
			k = i
		}
	}
	return k
}

// restoreAt fills in the store as of seek point k of f (see seeks), from
// f's table, which it cuts back.
func (s *Store) restoreAt(f *ckFile, k int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: seek point %d: %s", errCheckpoint, k, fmt.Sprintf(format, args...))
	}
	if k >= len(f.seeks.points) {
		return bad("no such point")
	}
	p := f.seeks.points[k]
	t := s.Events
	n := p.events
	if p.seq < 1 || p.seq >= f.b.Mark.Seq || n > f.n || (k > 0 && p.seq <= f.seeks.points[k-1].seq) {
		return bad("line %d, %d events, in a checkpoint at line %d of %d events", p.seq, n, f.b.Mark.Seq, f.n)
	}
	cols := append(t.cols[:], t.eid)
	for i, c := range cols {
		if p.strs[i] < 1 || p.strs[i] > len(c.strs) {
			return bad("column %d: %d strings of %d", i, p.strs[i], len(c.strs))
		}
	}
	done := map[uint32]bool{}
	for _, c := range f.seeks.log {
		if c.seq <= p.seq || int(c.id) >= n || done[c.id] {
			continue
		}
		done[c.id] = true
		for i, col := range t.cols {
			col.vals[c.id] = c.row.vals[i]
		}
		t.time[c.id], t.ref[c.id], t.ro[c.id], t.flags[c.id] = c.row.time, c.row.ref, c.row.ro, c.row.flags
	}
	for i, c := range cols {
		c.strs = c.strs[:p.strs[i]:p.strs[i]]
		c.vals = cutBack(c.vals, n, f.owned)
	}
	t.time, t.uuid, t.ref = cutBack(t.time, n, f.owned), cutBack(t.uuid, n, f.owned), cutBack(t.ref, n, f.owned)
	t.ro, t.flags = cutBack(t.ro, n, f.owned), cutBack(t.flags, n, f.owned)
	// The time order of the first n events, their times as of the point:
	// the order at S less the later events and those whose values changed
	// since the point, which are sorted by their times then and merged in.
	var moved []bool
	if len(done) > 0 {
		moved = make([]bool, n)
		for id := range done {
			moved[id] = true
			t.late = append(t.late, id)
		}
	}
	order := make([]uint32, 0, cap(t.time))
	for _, id := range t.order {
		if int(id) < n && (moved == nil || !moved[id]) {
			order = append(order, id)
		}
	}
	if len(order)+len(t.late) != n {
		return bad("the time order at line %d is not a permutation of its events", f.b.Mark.Seq)
	}
	if len(t.late) > 0 {
		late := t.sortLate()
		merged := make([]uint32, 0, cap(order))
		i := 0
		for _, id := range late {
			for i < len(order) && t.less(order[i], id) {
				merged = append(merged, order[i])
				i++
			}
			merged = append(merged, id)
		}
		order = append(merged, order[i:]...)
	}
	t.order, t.late = order, nil

	// A deflated stream may claim to hold much more than it does: what
	// is read is capped at 64 times its size.
	js, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(p.rest)), 64*int64(len(p.rest))+1<<20))
	if err != nil {
		return bad("facts: %v", err)
	}
	var r ckStore
	if err := json.Unmarshal(js, &r); err != nil {
		return bad("facts: %v", err)
	}
	end := &f.rest
	have := prefixLists(end)
	for i, l := range p.prefix {
		if l > have[i] {
			return bad("list %d: %d items of %d", i, l, have[i])
		}
	}
	r.Timeline, r.Skipped, r.Sessions, r.Ends = cut(end.Timeline, p.prefix[0]), cut(end.Skipped, p.prefix[1]), cut(end.Sessions, p.prefix[2]), cut(end.Ends, p.prefix[3])
	r.Notes, r.Repairs, r.Anchors, r.Problems = cut(end.Notes, p.prefix[4]), cut(end.Repairs, p.prefix[5]), cut(end.Anchors, p.prefix[6]), cut(end.Problems, p.prefix[7])
	links := p.prefix[8]
	r.Lineage.Links = cut(end.Lineage.Links, links)
	r.Lineage.ByEvent = make(map[uint32]int, len(end.Lineage.ByEvent))
	for e, i := range end.Lineage.ByEvent {
		if i < links {
			r.Lineage.ByEvent[e] = i
		}
	}
	b := binding{Incident: f.b.Incident, Mark: journal.Mark{Seq: p.seq, Hash: hex.EncodeToString(f.marks[p.seq-1].hash[:]), Next: f.marks[p.seq].off}}
	return s.restore(&r, b, n)
}

// cutBack returns the first n items of s: with the room after them when
// the store owns s (a clone's), else with none (appending copies).
func cutBack[E any](s []E, n int, owned bool) []E {
	if owned {
		return s[:n]
	}
	return s[:n:n]
}

// cut returns the first n items of s (nil for none, as a fold leaves an
// empty list), with no room to append into s.
func cut[E any](s []E, n int) []E {
	if n == 0 {
		return nil
	}
	return s[:n:n]
}

// clone returns a copy of f that build(k) may cut and a fold may change
// without changing f: the table's arrays are copied (for a seek point,
// only its events), with room for the events a seek folds after its
// point, its strings shared (never changed in place, and with no room to
// append into), the facts decoded again when the store is the checkpoint's
// own (k < 0; a seek point's are its own, and it reads f's lists only to
// cut them), the spans left out (a replay reads no record back).
func (f *ckFile) clone(k int) (*ckFile, error) { return f.cloneIn(k, nil) }

// cloneIn is clone, its arrays carved from a when it has room (see arena).
func (f *ckFile) cloneIn(k int, a *arena) (*ckFile, error) {
	c := *f
	n := f.n
	if k < 0 {
		// The facts but the lineage's links, which the store copies
		// (restore) and nothing changes: f's, decoded from the same bytes.
		js := f.restJS
		if f.small != nil {
			f.small.Do(func() { f.small.js = withoutLinks(f.restJS) })
			if f.small.js != nil {
				js = f.small.js
			}
		}
		c.rest = ckStore{}
		if err := json.Unmarshal(js, &c.rest); err != nil {
			return nil, fmt.Errorf("%w: facts: %v", errCheckpoint, err)
		}
		if len(js) != len(f.restJS) {
			c.rest.Lineage.Links = f.rest.Lineage.Links
		}
	} else if k < len(f.seeks.points) {
		n = max(0, min(n, f.seeks.points[k].events))
	}
	room := 2 * seekEvents
	t := NewEventTable()
	dst := append(t.cols[:], t.eid)
	src := append(f.t.cols[:], f.t.eid)
	// The arena is carved first, then the copies made side by side: the
	// columns', and the other arrays.
	vals := make([][]uint32, len(src))
	for i := range src {
		vals[i] = carve[uint32](a, n+room)
	}
	t.time, t.uuid, t.ref = carve[int64](a, n+room), carve[[16]byte](a, n+room), carve[EventRef](a, n+room)
	t.ro, t.flags = carve[ctlog.ReadOnly](a, n+room), carve[uint8](a, n+room)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i, col := range src {
			dst[i].strs, dst[i].vals = slices.Clip(col.strs), fill(vals[i], col.vals[:n], room)
		}
	})
	t.time, t.uuid, t.ref = fill(t.time, f.t.time[:n], room), fill(t.uuid, f.t.uuid[:n], room), fill(t.ref, f.t.ref[:n], room)
	t.ro, t.flags = fill(t.ro, f.t.ro[:n], room), fill(t.flags, f.t.flags[:n], room)
	wg.Wait()
	if k < 0 {
		t.order = grown(f.t.order, room)
	} else {
		t.order = f.t.order // read by restoreAt, which makes the point's
	}
	if k >= 0 && f.dedupeOnce != nil {
		// The dedupe set: f's (built once, when a seek first needs it),
		// borrowed (see borrowDedupeLater).
		once, base := f.dedupeOnce, f.t
		c.ready = func() {
			once.Do(func() {
				base.dedupeStale = true
				base.freshDedupe()
			})
		}
		t.seed = f.t.seed
		c.cut, c.base = true, f.t
	}
	c.t, c.owned = t, true
	return &c, nil
}

// shared returns a copy of f whose store build(-1) may fold into without
// copying f's arrays: the table's arrays are f's, with no room after
// them, so that an event appended reallocates them; an event changed in
// place (which the table's onChange announces before) must taint f (see
// open), whose next seek then decodes the file again rather than build
// from it. The facts are f's: f keeps them only for the lists a seek
// point cuts, which only grow.
func (f *ckFile) shared() *ckFile {
	if f.taint == nil {
		f.taint = new(atomic.Bool)
	}
	c := *f
	t := NewEventTable()
	dst := append(t.cols[:], t.eid)
	for i, col := range append(f.t.cols[:], f.t.eid) {
		dst[i].strs, dst[i].vals = slices.Clip(col.strs), slices.Clip(col.vals)
	}
	t.time, t.uuid, t.ref = slices.Clip(f.t.time), slices.Clip(f.t.uuid), slices.Clip(f.t.ref)
	t.ro, t.flags, t.order = slices.Clip(f.t.ro), slices.Clip(f.t.flags), slices.Clip(f.t.order)
	c.t, c.owned = t, false
	return &c
}

// tainted is whether a store sharing f's arrays changed one in place.
func (f *ckFile) tainted() bool { return f.taint != nil && f.taint.Load() }

// grown is a copy of s with room for extra more, in memory of just that
// size (appending to s would make the room a quarter of s, and clear it,
// touching memory no event may use). When s's array holds extra more
// items after it (a seek point's events, cut from the checkpoint's),
// they are copied too, into memory that is not cleared first: what is
// after s is never read, and appending writes over it. Else the memory
// is made (cleared, unless fresh from the system) and s copied into it.
func grown[E any](s []E, extra int) []E {
	n := len(s)
	if cap(s)-n >= extra {
		return append([]E(nil), s[:n+extra]...)[:n]
	}
	g := make([]E, n, n+extra)
	copy(g, s)
	return g
}

// fill is s copied into dst (memory carved for it, empty, of capacity at
// least len(s)+extra), or grown(s, extra) when there is none.
func fill[E any](dst, s []E, extra int) []E {
	if dst != nil {
		return append(dst, s...)
	}
	return grown(s, extra)
}

// restSmall is a checkpoint's facts as JSON with the lineage's links
// written as null (withoutLinks), made once.
type restSmall struct {
	sync.Once
	js []byte
}

// withoutLinks returns js, a checkpoint's facts, with the value of the
// lineage's Links written as null (most of the facts of an incident with
// many minted keys), or nil when it finds none. Decoding it gives what
// decoding js gives but for the links, which the caller takes from the
// decoding of js: any other member is decoded from the same bytes (were a
// key written twice, the links are still those of js).
func withoutLinks(js []byte) []byte {
	var out []byte
	eachMember(js, func(k, v []byte) bool {
		if string(k) != "Lineage" {
			return true
		}
		eachMember(v, func(k, v []byte) bool {
			if string(k) != "Links" {
				return true
			}
			at := cap(js) - cap(v) // v is a slice of js
			out = slices.Concat(js[:at], []byte("null"), js[at+len(v):])
			return false
		})
		return false
	})
	return out
}
