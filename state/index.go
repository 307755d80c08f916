package state

import (
	"math"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// Result is the answer to a query: event ids in event-time order, oldest
// first (ties in arrival order). It is a snapshot: later additions to the
// table do not change it, and its ids stay valid.
type Result struct {
	ids []uint32
}

// Len returns the number of matching events.
func (r Result) Len() int { return len(r.ids) }

// At returns the id of the i-th matching event, oldest first.
func (r Result) At(i int) uint32 { return r.ids[i] }

// IDs returns all matching ids, oldest first. The slice is shared: do not
// modify it.
func (r Result) IDs() []uint32 { return r.ids }

// Newest returns the ids of the newest n matching events (fewer when there
// are fewer), oldest first: the rows a screen anchored at the bottom draws.
// It does not copy.
func (r Result) Newest(n int) []uint32 {
	n = max(0, min(n, len(r.ids)))
	return r.ids[len(r.ids)-n:]
}

// Query returns the events matching f (nil or empty: every event) in
// event-time order. Durations in since:/until: count back from time.Now.
func (t *EventTable) Query(f *Filter) Result {
	return t.QueryAt(f, time.Now())
}

// QueryAt is Query with durations in since:/until: counted back from now.
// Replay passes the journal's time so an old incident reads as it did.
//
// Each term is compiled once per query: the distinct strings of its column
// are matched (each string once), giving a set of value ids whose posting
// lists are the term's candidates. The positive term with the fewest
// candidates drives (a time term drives by its range of ranks):
//   - few candidates: each is checked against the other terms in O(1) (the
//     event's value id against the term's value-id bitset) and the ranks of
//     the survivors are sorted;
//   - more: the survivors' ranks are marked in a bitset read off in order;
//   - many, or only negated terms: candidates are marked in a bitset over
//     event ids, every other term clears its misses 64 events at a time in
//     a branch-free pass over its column, and the time order is read off
//     against the bitset.
//
// No result is sorted by time as such: time order comes from the ranks.
func (t *EventTable) QueryAt(f *Filter, now time.Time) Result {
	if f == nil || len(f.Terms) == 0 {
		// Every event: the time order alone, the posting lists left
		// for a query that reads them.
		t.settleOrder()
		return Result{ids: slices.Clone(t.order)}
	}
	t.settle()
	n := len(t.order)
	preds := make([]*pred, 0, len(f.Terms))
	drive := -1
	for _, term := range f.Terms {
		p := t.compile(term, now)
		if !p.neg && (drive < 0 || p.size < preds[drive].size) {
			drive = len(preds)
		}
		preds = append(preds, p)
	}
	if drive >= 0 && preds[drive].size == 0 {
		return Result{}
	}
	var check []*pred // the terms other than the driver
	for i, p := range preds {
		if i != drive {
			check = append(check, p)
		}
	}
	ok := func(id uint32) bool {
		for _, p := range check {
			if p.has(t, id) == p.neg {
				return false
			}
		}
		return true
	}
	d := (*pred)(nil)
	if drive >= 0 {
		d = preds[drive]
	}
	switch {
	case d != nil && d.kind == predTime:
		// The time order itself is the walk: no reordering needed.
		var out []uint32
		for _, id := range t.order[d.lo:d.hi] {
			if ok(id) {
				out = append(out, id)
			}
		}
		return Result{ids: out}
	case d != nil && d.size < n/512:
		// Few candidates: collect their ranks and sort them.
		ranks := make([]uint32, 0, d.size)
		d.each(t, func(id uint32) {
			if ok(id) {
				ranks = append(ranks, t.rank[id])
			}
		})
		slices.Sort(ranks)
		ranks = slices.Compact(ranks)
		for i, r := range ranks {
			ranks[i] = t.order[r]
		}
		return Result{ids: ranks}
	case d != nil && d.size < n/64:
		// More: mark the ranks of those that pass in a bitset, read it off.
		set := make([]uint64, (n+63)/64)
		count := 0
		d.each(t, func(id uint32) {
			if ok(id) {
				r := t.rank[id]
				if set[r/64]&(1<<(r%64)) == 0 {
					set[r/64] |= 1 << (r % 64)
					count++
				}
			}
		})
		out := make([]uint32, 0, count)
		for w, word := range set {
			for ; word != 0; word &= word - 1 {
				out = append(out, t.order[w*64+bits.TrailingZeros64(word)])
			}
		}
		return Result{ids: out}
	}
	// Many candidates (or none to drive): mark them in a bitset over ids
	// (it fits in cache), check the other terms in id order, which walks
	// the columns sequentially, then read the survivors off in time order.
	set := make([]uint64, (n+63)/64)
	if d == nil {
		for i := range set {
			set[i] = ^uint64(0)
		}
		if n%64 != 0 {
			set[len(set)-1] = 1<<(n%64) - 1
		}
	} else {
		d.each(t, func(id uint32) { set[id/64] |= 1 << (id % 64) })
	}
	for _, p := range check {
		p.filter(t, set)
	}
	count := 0
	for _, word := range set {
		count += bits.OnesCount64(word)
	}
	// Branch-free: write every id, advance only past the ones that match.
	out := make([]uint32, count+1)
	k := 0
	for _, id := range t.order {
		out[k] = id
		k += int(set[id/64] >> (id % 64) & 1)
	}
	return Result{ids: out[:count:count]}
}

// predicate kinds.
const (
	predCols = iota // value sets over one or more columns
	predTime        // a rank range
	predIDs         // an explicit, sorted list of event ids
	predRO          // readOnly is true
	predFlag        // a flag bit is set
)

// pred is a compiled term.
type pred struct {
	kind int
	neg  bool
	size int // candidates if this term drives

	cols [numCols]colSet // predCols: columns with a non-nil member set
	used []int           // predCols: those columns
	lo   int             // predTime: ranks [lo, hi)
	hi   int
	ids  []uint32 // predIDs
	bit  uint8    // predFlag
}

// colSet is the set of a column's value ids a term accepts.
type colSet struct {
	vals   []uint32 // the accepted value ids
	member []uint64 // bitset over value ids; nil when the column is not used
}

func (p *pred) has(t *EventTable, id uint32) bool {
	switch p.kind {
	case predCols:
		for _, c := range p.used {
			m := p.cols[c].member
			v := t.cols[c].vals[id]
			if int(v/64) < len(m) && m[v/64]&(1<<(v%64)) != 0 {
				return true
			}
		}
		return false
	case predTime:
		r := int(t.rank[id])
		return r >= p.lo && r < p.hi
	case predIDs:
		i := sort.Search(len(p.ids), func(i int) bool { return p.ids[i] >= id })
		return i < len(p.ids) && p.ids[i] == id
	case predRO:
		return t.ro[id] == ctlog.ReadOnlyTrue
	case predFlag:
		return t.flags[id]&p.bit != 0
	}
	return false
}

// filter clears from set (a bitset over event ids) the events that fail
// the term, 64 events at a time, reading the columns in id order.
func (p *pred) filter(t *EventTable, set []uint64) {
	var neg uint64
	if p.neg {
		neg = ^uint64(0)
	}
	n := len(t.time)
	for w := range set {
		if set[w] == 0 {
			continue
		}
		lo, hi := w*64, min(w*64+64, n)
		var m uint64
		switch p.kind {
		case predCols:
			for _, c := range p.used {
				mem, vals := p.cols[c].member, t.cols[c].vals[lo:hi]
				for b, v := range vals {
					if int(v/64) < len(mem) {
						m |= (mem[v/64] >> (v % 64) & 1) << b
					}
				}
			}
		// The loops below are branch-free: the outcomes are often close to
		// random (readOnly is), and mispredicted branches would dominate.
		case predTime:
			// r is in [lo, hi) exactly when uint32(r-lo) < hi-lo.
			base, span := uint32(p.lo), uint64(p.hi-p.lo)
			for b, r := range t.rank[lo:hi] {
				m |= (uint64(r-base) - span) >> 63 << b
			}
		case predRO:
			// ReadOnlyTrue is 1, ReadOnlyFalse 2, ReadOnlyUnknown 0.
			for b, ro := range t.ro[lo:hi] {
				x := uint64(uint8(ro))
				m |= (x &^ (x >> 1) & 1) << b
			}
		case predFlag:
			shift := uint(bits.TrailingZeros8(p.bit))
			for b, f := range t.flags[lo:hi] {
				m |= (uint64(f) >> shift & 1) << b
			}
		case predIDs:
			for _, id := range p.ids {
				if int(id) >= lo && int(id) < hi {
					m |= 1 << (int(id) - lo)
				}
			}
		}
		set[w] &= m ^ neg
	}
}

// each calls fn for every candidate of a driving term (possibly twice for
// free text, which spans columns).
func (p *pred) each(t *EventTable, fn func(uint32)) {
	switch p.kind {
	case predCols:
		for c := range p.cols {
			for _, v := range p.cols[c].vals {
				for _, id := range t.cols[c].posts[v] {
					fn(id)
				}
			}
		}
	case predTime:
		for _, id := range t.order[p.lo:p.hi] {
			fn(id)
		}
	case predIDs:
		for _, id := range p.ids {
			fn(id)
		}
	case predRO:
		for _, id := range t.roPost {
			fn(id)
		}
	case predFlag:
		for _, id := range t.flagPost[bits.TrailingZeros8(p.bit)] {
			fn(id)
		}
	}
}

// compile turns a term into a predicate over this table's current contents.
func (t *EventTable) compile(term Term, now time.Time) *pred {
	p := &pred{neg: term.Neg}
	// The columns the term reads are posted first.
	if term.Field == FieldText {
		all := make([]int, numCols)
		for c := range all {
			all[c] = c
		}
		t.postCols(all...)
	} else if term.Field < numFields && fields[term.Field].col >= 0 {
		t.postCols(fields[term.Field].col)
	}
	switch term.Field {
	case FieldSince, FieldUntil:
		p.kind = predTime
		at := term.at
		if term.rel {
			at = now.Add(-term.ago)
		}
		// A time in a filter is never "unknown", even the year 1: events
		// without a time sort before every time, so since: never matches
		// them and until: always does.
		ns := max(unixNanos(at), timeUnknown+1)
		if term.Field == FieldSince {
			p.lo, p.hi = t.rankAtOrAfter(ns), len(t.order)
		} else {
			p.lo, p.hi = 0, t.rankAfter(ns)
		}
		p.size = p.hi - p.lo
	case FieldID:
		p.kind = predIDs
		for _, v := range term.Value {
			if id, ok := t.lookupEventID(v); ok {
				p.ids = append(p.ids, id)
			}
		}
		slices.Sort(p.ids)
		p.ids = slices.Compact(p.ids)
		p.size = len(p.ids)
	case FieldReadOnly:
		p.kind, p.size = predRO, len(t.roPost)
	case FieldOurs, FieldMinted, FieldImpersonation, FieldConflict:
		p.kind, p.bit = predFlag, flagOfField[term.Field]
		p.size = len(t.flagPost[bits.TrailingZeros8(p.bit)])
	case FieldFailed:
		t.addCol(p, colError, t.cols[colError].match(newGlob("*", false), false))
	case FieldText:
		g := newGlob(term.Value[0], true)
		for c := range t.cols {
			t.addCol(p, c, t.cols[c].match(g, false))
		}
	case FieldFamily:
		var roots []uint32
		for _, v := range term.Value {
			roots = append(roots, t.cols[colKey].match(newGlob(v, false), true)...)
		}
		t.addCol(p, colKey, t.familyKeys(roots))
	default:
		info := fields[term.Field]
		var vals []uint32
		for _, v := range term.Value {
			vals = append(vals, t.cols[info.col].match(newGlob(v, info.substr), false)...)
		}
		t.addCol(p, info.col, vals)
	}
	return p
}

// flagOfField maps the flag words of the filter language to their bits.
var flagOfField = map[Field]uint8{
	FieldOurs: FlagOurs, FieldMinted: FlagMinted, FieldImpersonation: FlagImpersonation, FieldConflict: FlagConflict,
}

// addCol adds the accepted value ids vals of column c to predicate p.
func (t *EventTable) addCol(p *pred, c int, vals []uint32) {
	p.kind = predCols
	cs := &p.cols[c]
	if cs.member == nil {
		cs.member = make([]uint64, (len(t.cols[c].strs)+63)/64)
		p.used = append(p.used, c)
	}
	for _, v := range vals {
		if cs.member[v/64]&(1<<(v%64)) != 0 {
			continue
		}
		cs.member[v/64] |= 1 << (v % 64)
		cs.vals = append(cs.vals, v)
		p.size += len(t.cols[c].posts[v])
	}
}

// rankAtOrAfter returns the first rank whose time is at or after ns.
func (t *EventTable) rankAtOrAfter(ns int64) int {
	return sort.Search(len(t.order), func(i int) bool { return t.time[t.order[i]] >= ns })
}

// rankAfter returns the first rank whose time is after ns.
func (t *EventTable) rankAfter(ns int64) int {
	if ns == math.MaxInt64 {
		return len(t.order)
	}
	return t.rankAtOrAfter(ns + 1)
}

// lookupEventID finds the event with CloudTrail eventID s. Hex digits of a
// UUID match in either case; other ids match exactly.
func (t *EventTable) lookupEventID(s string) (uint32, bool) {
	if u, ok := parseUUID(strings.ToLower(s)); ok {
		if id, ok := t.find(flagIDUUID, u, 0); ok {
			return id, true
		}
	}
	if v, ok := t.eid.lookup(s); ok && v != 0 {
		return t.find(flagIDStr, [16]byte{}, v)
	}
	return 0, false
}

// Count is one value of a field and how many events carry it.
type Count struct {
	Value string
	N     int
}

// Counts returns the values of field among the events matching f (nil: all
// events), most frequent first (ties by value), for pivots such as "which
// Regions did this key touch". Events where the field is absent are not
// counted. Fields that are not strings of the event (since, until, id and
// the flag words) give nil; family counts access key ids.
func (t *EventTable) Counts(field Field, f *Filter) []Count {
	return t.CountsAt(field, f, time.Now())
}

// CountsAt is Counts with durations counted back from now.
func (t *EventTable) CountsAt(field Field, f *Filter, now time.Time) []Count {
	if field >= numFields || field == FieldText || fields[field].col < 0 || fields[field].flag {
		return nil
	}
	c := t.cols[fields[field].col]
	n := make([]int, len(c.strs))
	for _, id := range t.QueryAt(f, now).ids {
		n[c.vals[id]]++
	}
	var out []Count
	for v := 1; v < len(n); v++ {
		if n[v] > 0 {
			out = append(out, Count{Value: c.strs[v], N: n[v]})
		}
	}
	slices.SortFunc(out, func(a, b Count) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return strings.Compare(a.Value, b.Value)
	})
	return out
}
