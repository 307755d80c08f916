package state

import (
	"sort"
	"strings"
)

// column is one interned string field of the event table: a string table
// (value id → string, id 0 is always the empty string, meaning "absent"),
// the lower-cased form of each string for case-insensitive matching, the
// per-event value ids, and a posting list per value (the ids of the events
// that carry it, ascending). The empty value has no posting list: no filter
// term can match an absent field positively (globs and substrings never
// match the empty string), so it would only cost memory.
type column struct {
	strs []string          // value id → string
	ids  map[string]uint32 // string → value id
	// low, fold and foldDup serve matching, and are brought up to date
	// by match (see foldNew), not by intern: a table that is only loaded
	// (warroom ingest) never matches, and new values cost half as much.
	low  []string          // value id → strings.ToLower(string)
	fold map[string]uint32 // lower-cased string → value id
	// foldDup is set once two strings differ only in case: fold then
	// holds only one of them and exact matches must scan.
	foldDup bool
	vals    []uint32   // event id → value id
	posts   [][]uint32 // value id → event ids (ascending)
	// posted is how many events (ids below it) posts holds: a column is
	// posted when a query first reads it (EventTable.postCols).
	posted uint32
	// hot finds value ids faster than ids, which it stands in front of.
	hot hotIndex
}

func newColumn() *column {
	return &column{
		strs:  []string{""},
		low:   []string{""},
		ids:   map[string]uint32{"": 0},
		fold:  map[string]uint32{"": 0},
		posts: [][]uint32{nil},
		hot:   newHotIndex(),
	}
}

// intern returns the value id of s, adding it when new. The string is
// cloned so that the table never pins the buffer a record was parsed from.
func (c *column) intern(s string) uint32 {
	return c.internHashed(s, quickHash(s))
}

// internHashed is intern given h, quickHash(s).
func (c *column) internHashed(s string, h uint64) uint32 {
	if s == "" {
		return 0
	}
	if id, ok := c.hot.find(c.strs, s, h); ok {
		return id
	}
	id := c.internMiss(s)
	c.hot.add(c.strs, id, h)
	return id
}

// internMiss is intern without the hot cache.
func (c *column) internMiss(s string) uint32 {
	if id, ok := c.ids[s]; ok {
		return id
	}
	s = strings.Clone(s)
	id := uint32(len(c.strs))
	c.strs = append(c.strs, s)
	c.ids[s] = id
	c.posts = append(c.posts, nil)
	return id
}

// foldNew adds the values interned since it last ran to low and fold, in
// value id order, so that fold keeps the first of the strings that differ
// only in case.
func (c *column) foldNew() {
	for id := len(c.low); id < len(c.strs); id++ {
		low := strings.ToLower(c.strs[id])
		c.low = append(c.low, low)
		if _, dup := c.fold[low]; dup {
			c.foldDup = true
		} else {
			c.fold[low] = uint32(id)
		}
	}
}

// lookup returns the value id of s without adding it.
func (c *column) lookup(s string) (uint32, bool) {
	id, ok := c.ids[s]
	return id, ok
}

// post adds events lo to hi-1, whose values are set and which are newer
// than every event posted so far, to their values' posting lists. A batch
// large next to the column's values is counted first, so that each list
// grows at most once and the ids are then written in place; a small one is
// appended event by event.
func (c *column) post(lo, hi uint32) {
	vals := c.vals[lo:hi]
	if len(vals) < len(c.strs)/4 {
		for i, v := range vals {
			if v != 0 {
				c.posts[v] = appendID(c.posts[v], lo+uint32(i))
			}
		}
		return
	}
	// at counts each value's new events, then holds where the next of
	// them goes in its list.
	at := make([]uint32, len(c.strs))
	for _, v := range vals {
		at[v]++
	}
	for v := 1; v < len(at); v++ {
		n := int(at[v])
		if n == 0 {
			continue
		}
		p := c.posts[v]
		if len(p)+n > cap(p) {
			// A list made here (a bulk load) gets an eighth more, so
			// that the events folded next rarely copy it.
			p = growTo(p, max(len(p)+n+n/8*btoi(len(p) == 0), 2*len(p)))
		}
		c.posts[v] = p[:len(p)+n]
		at[v] = uint32(len(p))
	}
	for i, v := range vals {
		if v != 0 {
			c.posts[v][at[v]] = lo + uint32(i)
			at[v]++
		}
	}
}

// appendID appends id to the posting list s, doubling its capacity when
// it is full (append alone grows long lists by a quarter at a time).
func appendID(s []uint32, id uint32) []uint32 {
	if len(s) == cap(s) {
		s = growTo(s, 2*len(s)+1)
	}
	return append(s, id)
}

// set changes the value of an existing event that the posting lists hold,
// moving it between them. Used when a newer copy of an event replaces an
// older one.
func (c *column) set(ev uint32, v uint32) {
	old := c.vals[ev]
	if old == v {
		return
	}
	c.vals[ev] = v
	if old != 0 {
		c.posts[old] = removeSorted(c.posts[old], ev)
	}
	if v != 0 {
		c.posts[v] = insertSorted(c.posts[v], ev)
	}
}

// match returns the ids of the values (never the empty one) whose text
// matches pattern p, case-insensitively, each distinct string tested once.
// Values that no event carries (any more) are left out unless all is set.
func (c *column) match(p *glob, all bool) []uint32 {
	c.foldNew()
	if p.exact {
		// A whole value is one lookup, unless two strings of the column
		// differ only in case (then the scan below finds them all).
		if !c.foldDup {
			if v, ok := c.fold[p.parts[0]]; ok && v != 0 && (all || len(c.posts[v]) > 0) {
				return []uint32{v}
			}
			return nil
		}
	}
	var out []uint32
	for v := 1; v < len(c.low); v++ {
		if (all || len(c.posts[v]) > 0) && p.match(c.low[v]) {
			out = append(out, uint32(v))
		}
	}
	return out
}

// insertSorted inserts x into the ascending list s (if absent).
func insertSorted(s []uint32, x uint32) []uint32 {
	i := sort.Search(len(s), func(i int) bool { return s[i] >= x })
	if i < len(s) && s[i] == x {
		return s
	}
	s = append(s, 0)
	copy(s[i+1:], s[i:])
	s[i] = x
	return s
}

// removeSorted removes x from the ascending list s (if present).
func removeSorted(s []uint32, x uint32) []uint32 {
	i := sort.Search(len(s), func(i int) bool { return s[i] >= x })
	if i < len(s) && s[i] == x {
		return append(s[:i], s[i+1:]...)
	}
	return s
}

// glob is a compiled, lower-cased pattern where '*' matches any run of
// characters (including none). A glob never matches the empty string: an
// absent field is not "any value".
type glob struct {
	parts []string // the pattern split at '*'
	exact bool     // no '*' at all
}

// newGlob compiles pattern p for case-insensitive matching. With substr set
// the pattern matches anywhere in the text (as if wrapped in '*').
func newGlob(p string, substr bool) *glob {
	p = strings.ToLower(p)
	if substr {
		p = "*" + p + "*"
	}
	return &glob{parts: strings.Split(p, "*"), exact: !strings.Contains(p, "*")}
}

// match reports whether the lower-cased text s matches.
func (g *glob) match(s string) bool {
	if s == "" {
		return false
	}
	if g.exact {
		return s == g.parts[0]
	}
	first, last := g.parts[0], g.parts[len(g.parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, mid := range g.parts[1 : len(g.parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, last)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
