package state

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
	"github.com/warroom-ir/warroom/state/journal"
)

// A checkpoint (format 3 on) ends with a section table, so that a query
// reads only what it needs: the header, the table, and the sections (or
// chunks of sections) its filter needs, each checked against its own
// SHA-256 in the table (or in a section of chunk sums), whose own SHA-256
// ends the file. A full open reads the body as before and checks the
// body's SHA-256, and the sections after it; the table restates the
// binding, which both check against the journal.
//
// In the body, a column's strings are section c and its values section
// secVals+c. After the body (format 5): each event's record (its EventRef
// and span), in time order, in chunks; then per column (not the event
// ids) its posting lists in ranks: where each value's list starts, and
// the lists, value after value, in chunks. A term of a column reads the
// column's strings, the starts, and the chunks of the lists of the
// values it matches; the answer's ranks read the chunks of their records.
// Then the table (the binding, the number of events, then per section its
// id, offset, length and SHA-256), the table's length (uint64) and its
// SHA-256.
const (
	secRef     = 100 // each event's EventRef: offset (uint64), index (uint32)
	secOrder   = 101 // the time order (uint32 event ids)
	secRecs    = 102 // each event's EventRef and span (uint64, see span), in time order, in chunks
	secRecSums = 103 // the SHA-256 of each chunk of secRecs

	secRows    = 104 // each event's rowCols values and time, in time order, in chunks of recChunk
	secRowSums = 105 // the SHA-256 of each chunk of secRows

	secVals     = 200 // + c: column c's values (uint32 per event id)
	secPostOff  = 300 // + c: where each value's posting list starts (uint32 per value, then their total)
	secPosts    = 400 // + c: the posting lists in ranks (uint32), in chunks of postChunk
	secPostSums = 500 // + c: the SHA-256 of each chunk of secPosts+c

	rowSize = 4*len(rowCols) + 8

	// recChunk is how many events' records (or rows) a chunk of secRecs
	// (secRows) holds.
	recChunk = 256
	recSize  = 8 + 4 + 8
	// postChunk is how many ranks a chunk of posting lists holds.
	postChunk = 2048

	ckTrailer = 8 + sha256.Size
)

// ckSection is where one section of a checkpoint is, and its SHA-256.
type ckSection struct {
	id  uint32
	off int64
	n   int64
	sum [32]byte
}

// ckTable is a checkpoint's section table.
type ckTable struct {
	b    binding
	n    int
	secs map[uint32]ckSection
}

// readTable reads and checks the section table of the checkpoint f, of
// size bytes.
func readTable(f io.ReaderAt, size int64) (*ckTable, error) {
	bad := func(format string, args ...any) (*ckTable, error) {
		return nil, fmt.Errorf("%w: %s", errCheckpoint, fmt.Sprintf(format, args...))
	}
	var head [checkpointHeader]byte
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return bad("header: %v", err)
	}
	k := len(checkpointMagic)
	if string(head[:k]) != checkpointMagic {
		return bad("not a warroom index")
	}
	if v := binary.LittleEndian.Uint32(head[k:]); v != checkpointVersion {
		return bad("format version %d, this warroom reads %d", v, checkpointVersion)
	}
	body := binary.LittleEndian.Uint64(head[k+4:])
	end := int64(checkpointHeader) + int64(min(body, 1<<62))
	if end+ckTrailer > size || end < 0 {
		return bad("no section table")
	}
	var tr [ckTrailer]byte
	if _, err := f.ReadAt(tr[:], size-ckTrailer); err != nil {
		return bad("section table: %v", err)
	}
	tl := binary.LittleEndian.Uint64(tr[:])
	if tl > uint64(size-ckTrailer-end) {
		return bad("no section table at its end (cut short?): a table of %d bytes", tl)
	}
	tab := make([]byte, tl)
	if _, err := f.ReadAt(tab, size-ckTrailer-int64(tl)); err != nil {
		return bad("section table: %v", err)
	}
	if sha256.Sum256(tab) != [32]byte(tr[8:]) {
		return bad("its section table's SHA-256 does not match: the file was damaged, changed or cut short")
	}
	t := &ckTable{secs: map[uint32]ckSection{}}
	u64 := func() uint64 {
		if len(tab) < 8 {
			tab = nil
			return 0
		}
		v := binary.LittleEndian.Uint64(tab)
		tab = tab[8:]
		return v
	}
	il := u64()
	if il > uint64(len(tab)) {
		return bad("section table: incident id")
	}
	t.b.Incident, tab = string(tab[:il]), tab[il:]
	t.b.Mark.Seq, t.b.Mark.Next = int64(u64()), int64(u64())
	if len(tab) < 32 {
		return bad("section table: line hash")
	}
	t.b.Mark.Hash, tab = hex.EncodeToString(tab[:32]), tab[32:]
	t.n = int(min(u64(), 1<<40))
	ns := u64()
	if ns > uint64(len(tab))/52 {
		return bad("section table: %d sections", ns)
	}
	for range ns {
		var c ckSection
		c.id = binary.LittleEndian.Uint32(tab)
		tab = tab[4:]
		c.off, c.n = int64(u64()), int64(u64())
		copy(c.sum[:], tab)
		tab = tab[32:]
		if c.off < int64(checkpointHeader) || c.n < 0 || c.n > size || c.off > size-ckTrailer-c.n {
			return bad("section %d out of the file", c.id)
		}
		t.secs[c.id] = c
	}
	if tab == nil || len(tab) != 0 {
		return bad("section table: %d bytes left", len(tab))
	}
	return t, nil
}

// read reads section id of the checkpoint f and checks its SHA-256.
func (t *ckTable) read(f io.ReaderAt, id uint32) ([]byte, error) {
	c, ok := t.secs[id]
	if !ok {
		return nil, fmt.Errorf("%w: no section %d", errCheckpoint, id)
	}
	b := make([]byte, c.n)
	if _, err := f.ReadAt(b, c.off); err != nil {
		return nil, fmt.Errorf("%w: section %d: %v", errCheckpoint, id, err)
	}
	if sha256.Sum256(b) != c.sum {
		return nil, fmt.Errorf("%w: section %d: its SHA-256 does not match: the file was damaged or changed", errCheckpoint, id)
	}
	return b, nil
}

// rowCols are the columns a row of the events table shows.
var rowCols = [...]int{colRegion, colSource, colEvent, colPrincipal, colUser, colKey, colIP, colError}

// records reads the chunks of secRecs that hold the records of ranks
// (all when ranks is nil), each checked against its SHA-256, by chunk
// number.
func (t *ckTable) records(f io.ReaderAt, ranks []uint32, n int) (map[uint32][]byte, error) {
	return t.chunks(f, secRecs, secRecSums, recSize, ranks, n)
}

// chunks reads the chunks of section id (of size bytes an event, in time
// order, in chunks of recChunk events, their sums in section sumsID) that
// hold ranks (all when ranks is nil), each checked against its SHA-256,
// by chunk number.
func (t *ckTable) chunks(f io.ReaderAt, id, sumsID uint32, size int, ranks []uint32, n int) (map[uint32][]byte, error) {
	sums, err := t.read(f, sumsID)
	if err != nil {
		return nil, err
	}
	c := t.secs[id]
	if len(sums) != 32*((n+recChunk-1)/recChunk) || c.n != int64(size*n) {
		return nil, fmt.Errorf("%w: section %d of %d events", errCheckpoint, id, n)
	}
	out := map[uint32][]byte{}
	get := func(k uint32) error {
		if _, ok := out[k]; ok {
			return nil
		}
		b, err := t.chunk(f, id, sums, int64(k), int64(recChunk*size))
		if err != nil {
			what := "records"
			if id == secRows {
				what = "rows"
			}
			return fmt.Errorf("%s of events %d on: %w", what, k*recChunk, err)
		}
		out[k] = b
		return nil
	}
	if ranks == nil {
		for k := range len(sums) / 32 {
			if err := get(uint32(k)); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range ranks {
		if int(r) >= n {
			return nil, fmt.Errorf("%w: event %d of %d", errCheckpoint, r, n)
		}
		if err := get(r / recChunk); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// chunk reads chunk k, of size bytes (the last may be shorter), of
// section id, and checks it against its SHA-256 in sums.
func (t *ckTable) chunk(f io.ReaderAt, id uint32, sums []byte, k, size int64) ([]byte, error) {
	c := t.secs[id]
	lo := k * size
	if k < 0 || 32*(k+1) > int64(len(sums)) || lo >= c.n {
		return nil, fmt.Errorf("%w: section %d: no chunk %d", errCheckpoint, id, k)
	}
	b := make([]byte, min(size, c.n-lo))
	if _, err := f.ReadAt(b, c.off+lo); err != nil {
		return nil, fmt.Errorf("%w: section %d: %v", errCheckpoint, id, err)
	}
	if sha256.Sum256(b) != [32]byte(sums[32*k:]) {
		return nil, fmt.Errorf("%w: section %d, chunk %d: its SHA-256 does not match: the file was damaged or changed", errCheckpoint, id, k)
	}
	return b, nil
}

// IndexedAnswer is a query answered from the checkpoint alone (see
// QueryIndexed): the matching events in time order, where their records
// are, and how many events the journal holds.
type IndexedAnswer struct {
	path  string
	refs  []EventRef
	spans []span
	// Total is the number of events in the journal.
	Total int
	// spanned counts the records Records read alone (for tests).
	spanned int
	// ranks are the events' places in the time order, and tab the
	// section table they were read with, when answered from the index.
	ranks []uint32
	tab   *ckTable
	// damaged is why Events could not read the rows: a part of the file
	// that did not match its SHA-256 (see Damaged).
	damaged error
}

// Events returns the matching events from the start-th on, with what a
// row of the events table shows (Time, Region, Source, Name, Principal,
// User, AccessKeyID, SourceIP, ErrorCode) and Ref: from the checkpoint's
// rows and the strings of those columns, each chunk and section checked
// against its SHA-256, when the answer came from it and its file still
// has the same section table; else ok is false.
func (a *IndexedAnswer) Events(start int) (evs []Event, ok bool) {
	if a.tab == nil {
		return nil, false
	}
	start = max(0, min(start, len(a.ranks)))
	f, err := journal.OpenPrivate(IndexPath(a.path))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false
	}
	tab, err := readTable(f, fi.Size())
	if err != nil || tab.b != a.tab.b || tab.n != a.tab.n || !maps.Equal(tab.secs, a.tab.secs) {
		return nil, false
	}
	ranks := a.ranks[start:]
	rows, err := tab.chunks(f, secRows, secRowSums, rowSize, ranks, tab.n)
	if err != nil {
		a.damaged = err
		return nil, false
	}
	var strs [len(rowCols)][]string
	for i, c := range rowCols {
		sec, err := tab.read(f, uint32(c))
		if err != nil {
			a.damaged = err
			return nil, false
		}
		if strs[i], err = loadStrings(sec); err != nil {
			a.damaged = fmt.Errorf("%w: column %d: %v", errCheckpoint, c, err)
			return nil, false
		}
	}
	evs = make([]Event, len(ranks))
	for i, r := range ranks {
		b := rows[r/recChunk][rowSize*int(r%recChunk):]
		var v [len(rowCols)]string
		for j := range rowCols {
			x := binary.LittleEndian.Uint32(b[4*j:])
			if int(x) >= len(strs[j]) {
				a.damaged = fmt.Errorf("%w: a row names string %d of column %d, which holds %d", errCheckpoint, x, rowCols[j], len(strs[j]))
				return nil, false
			}
			v[j] = strs[j][x]
		}
		evs[i] = Event{
			Time: timeOf(int64(binary.LittleEndian.Uint64(b[4*len(rowCols):]))), Region: v[0], Source: v[1], Name: v[2],
			Principal: v[3], User: v[4], AccessKeyID: v[5], SourceIP: v[6], ErrorCode: v[7], Ref: a.refs[start+i],
		}
	}
	return evs, true
}

// Damaged is why Events last failed on a part of the checkpoint that did
// not match its SHA-256 or its sizes (nil: it did not, or it failed
// because the file was replaced since): as AnswerIndexed's error, for
// OpenOptions.Rebuild.
func (a *IndexedAnswer) Damaged() error { return a.damaged }

// Len returns the number of matching events.
func (a *IndexedAnswer) Len() int { return len(a.refs) }

// Ref returns where the i-th matching event's record is.
func (a *IndexedAnswer) Ref(i int) EventRef { return a.refs[i] }

// errNotIndexed says the fast path cannot answer: Open must.
var errNotIndexed = errors.New("not answerable from the index")

// indexedField is whether a term can be answered from its column alone:
// a column's value set, not a value the store derives (ours, suspect,
// family, flags, time, free text over every column).
func indexedField(t Term) bool {
	switch t.Field {
	case FieldKey, FieldPrincipal, FieldUser, FieldType, FieldIP, FieldEvent, FieldSource,
		FieldRegion, FieldError, FieldMessage, FieldAgent, FieldFailed, FieldAccount:
		return true
	}
	return false
}

// QueryIndexed answers f from the journal's checkpoint without loading the
// store, when it can: every term of f names a column (key:, principal:,
// user:, type:, ip:, event:, source:, region:, error:, msg:, agent:,
// account:, failed) and at least one is not negated; the checkpoint's section table,
// and every section read, match their SHA-256; its binding holds (line 1
// is its incident's, line S still has its hash, as Open checks); and the
// lines after S verify (chained onto line S, as Open reads them) and hold
// no events, so that the table at S is the table now. ok is false when it
// cannot: the caller opens the journal (Open), which says why a checkpoint
// is refused. The answer is the one Open's store gives.
func QueryIndexed(path string, f *Filter) (a *IndexedAnswer, rep journal.Report, ok bool) {
	a, rep, err := queryIndexed(path, f)
	return a, rep, err == nil
}

// AnswerIndexed is QueryIndexed saying why it could not answer. When
// IndexDamaged(err), a part of the checkpoint it read did not match its
// SHA-256 (or the file is not one this warroom reads): the caller opens
// the journal with OpenOptions.Rebuild set to err, so that the file is
// written again rather than refused by every query after.
func AnswerIndexed(path string, f *Filter) (*IndexedAnswer, journal.Report, error) {
	return queryIndexed(path, f)
}

// IndexDamaged is whether err says a checkpoint cannot be used as it is.
func IndexDamaged(err error) bool { return errors.Is(err, errCheckpoint) }

func queryIndexed(path string, f *Filter) (*IndexedAnswer, journal.Report, error) {
	var rep journal.Report
	if f == nil || len(f.Terms) == 0 {
		return nil, rep, errNotIndexed
	}
	pos := false
	for _, t := range f.Terms {
		if !indexedField(t) {
			return nil, rep, errNotIndexed
		}
		pos = pos || !t.Neg
	}
	if !pos {
		return nil, rep, errNotIndexed
	}
	ck, err := journal.OpenPrivate(IndexPath(path))
	if err != nil {
		return nil, rep, err
	}
	defer ck.Close()
	fi, err := ck.Stat()
	if err != nil {
		return nil, rep, err
	}
	mf := ck
	tab, err := readTable(mf, fi.Size())
	if err != nil {
		return nil, rep, err
	}
	b := tab.b
	if err := checkIncident(path, b); err != nil {
		return nil, rep, err
	}
	// Line S still has its hash (ReadAfter checks it first, as CheckMark
	// does), and the lines after it verify, as Open reads them; any
	// problem, or any events, and Open answers.
	rep, err = journal.ReadAfter(path, b.Mark, b.Incident, func(e journal.Entry) error {
		if Kind(e.Kind) == KindEvents {
			return errNotIndexed
		}
		return nil
	})
	if err != nil {
		return nil, rep, err
	}
	if rep.Problem != nil {
		return nil, rep, errNotIndexed
	}
	if rep.Lines == int(b.Mark.Seq) && rep.Seq == 0 {
		rep.Seq, rep.Head, rep.Bytes = b.Mark.Seq, b.Mark.Hash, b.Mark.Next
	}

	n := tab.n
	var ranks []uint32
	var negs [][]uint32
	have := false
	cols := map[int]*ckPostings{}
	for _, term := range f.Terms {
		c := colError
		if term.Field != FieldFailed {
			c = fields[term.Field].col
		}
		p := cols[c]
		if p == nil {
			if p, err = tab.postings(mf, c, n); err != nil {
				return nil, rep, err
			}
			cols[c] = p
		}
		var vals []uint32
		if term.Field == FieldFailed {
			vals = matchStrs(p.strs, newGlob("*", false), p.live)
		} else {
			info := fields[term.Field]
			for _, v := range term.Value {
				vals = append(vals, matchStrs(p.strs, newGlob(v, info.substr), p.live)...)
			}
		}
		hits, err := p.ranks(vals)
		if err != nil {
			return nil, rep, err
		}
		switch {
		case term.Neg:
			negs = append(negs, hits)
		case !have:
			ranks, have = hits, true
		default:
			ranks = intersect(ranks, hits)
		}
	}
	for _, hits := range negs {
		ranks = minus(ranks, hits)
	}
	a, err := tab.answer(mf, path, ranks, n)
	return a, rep, err
}

// answer reads the records of ranks, the matching events in time order,
// from the checkpoint f.
func (t *ckTable) answer(f io.ReaderAt, path string, ranks []uint32, n int) (*IndexedAnswer, error) {
	recs, err := t.records(f, ranks, n)
	if err != nil {
		return nil, err
	}
	a := &IndexedAnswer{path: path, Total: n, refs: make([]EventRef, len(ranks)), spans: make([]span, len(ranks)), ranks: ranks, tab: t}
	for i, r := range ranks {
		b := recs[r/recChunk][recSize*(r%recChunk):]
		if len(b) < recSize {
			return nil, fmt.Errorf("%w: record of event %d of %d", errCheckpoint, r, n)
		}
		a.refs[i] = EventRef{Offset: int64(binary.LittleEndian.Uint64(b)), Index: binary.LittleEndian.Uint32(b[8:])}
		a.spans[i] = binary.LittleEndian.Uint64(b[12:])
	}
	return a, nil
}

// ckPostings is one column's posting lists in a checkpoint: its strings
// and where each value's list starts read, the lists' chunks read (and
// checked) when a value's list is asked for.
type ckPostings struct {
	f      io.ReaderAt
	t      *ckTable
	c      int
	n      int
	strs   []string
	off    []uint32
	sums   []byte
	chunks map[int64][]uint32
}

// postings reads column c's strings and where its values' lists start.
func (t *ckTable) postings(f io.ReaderAt, c, n int) (*ckPostings, error) {
	bad := func(format string, args ...any) (*ckPostings, error) {
		return nil, fmt.Errorf("%w: column %d: %s", errCheckpoint, c, fmt.Sprintf(format, args...))
	}
	p := &ckPostings{f: f, t: t, c: c, n: n, chunks: map[int64][]uint32{}}
	sec, err := t.read(f, uint32(c))
	if err != nil {
		return nil, err
	}
	if p.strs, err = loadStrings(sec); err != nil {
		return bad("%v", err)
	}
	offs, err := t.read(f, secPostOff+uint32(c))
	if err != nil {
		return nil, err
	}
	if len(offs) != 4*(len(p.strs)+1) {
		return bad("%d bytes of list starts for %d values", len(offs), len(p.strs))
	}
	p.off = make([]uint32, len(p.strs)+1)
	for i := range p.off {
		p.off[i] = binary.LittleEndian.Uint32(offs[4*i:])
		if (i == 0 && p.off[0] != 0) || (i > 0 && p.off[i] < p.off[i-1]) {
			return bad("list %d starts before the one before it", i)
		}
	}
	total := int64(p.off[len(p.off)-1])
	if total > int64(n) || t.secs[secPosts+uint32(c)].n != 4*total {
		return bad("%d postings of %d events", total, n)
	}
	if p.sums, err = t.read(f, secPostSums+uint32(c)); err != nil {
		return nil, err
	}
	if int64(len(p.sums)) != 32*((total+postChunk-1)/postChunk) {
		return bad("%d bytes of chunk sums for %d postings", len(p.sums), total)
	}
	return p, nil
}

// live is whether value v has events (match leaves the others out).
func (p *ckPostings) live(v uint32) bool { return p.off[v+1] > p.off[v] }

// chunk returns chunk k of the lists, read and checked once.
func (p *ckPostings) chunk(k int64) ([]uint32, error) {
	if c, ok := p.chunks[k]; ok {
		return c, nil
	}
	b, err := p.t.chunk(p.f, secPosts+uint32(p.c), p.sums, k, 4*postChunk)
	if err != nil {
		return nil, err
	}
	c := make([]uint32, len(b)/4)
	for i := range c {
		if c[i] = binary.LittleEndian.Uint32(b[4*i:]); int(c[i]) >= p.n {
			return nil, fmt.Errorf("%w: column %d: rank %d of %d events", errCheckpoint, p.c, c[i], p.n)
		}
	}
	p.chunks[k] = c
	return c, nil
}

// ranks returns the ranks of the events carrying any of vals, ascending.
func (p *ckPostings) ranks(vals []uint32) ([]uint32, error) {
	var out []uint32
	for _, v := range vals {
		lo, hi := int64(p.off[v]), int64(p.off[v+1])
		start := len(out)
		for i := lo; i < hi; {
			k := i / postChunk
			c, err := p.chunk(k)
			if err != nil {
				return nil, err
			}
			j := min(hi, (k+1)*postChunk)
			out = append(out, c[i-k*postChunk:j-k*postChunk]...)
			i = j
		}
		for i := start + 1; i < len(out); i++ {
			if out[i] <= out[i-1] {
				return nil, fmt.Errorf("%w: column %d: value %d's list is not ascending", errCheckpoint, p.c, v)
			}
		}
	}
	if len(vals) > 1 {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out, nil
}

// matchStrs is column.match over a column's strings alone, without the
// maps match builds (a query matches a column once): the ids of the values
// live says events carry whose text matches p, case-insensitively.
func matchStrs(strs []string, p *glob, live func(uint32) bool) []uint32 {
	var out []uint32
	for v := 1; v < len(strs); v++ {
		if !live(uint32(v)) {
			continue
		}
		if p.exact && !lowerEq(strs[v], p.parts[0]) || !p.exact && !p.match(strings.ToLower(strs[v])) {
			continue
		}
		out = append(out, uint32(v))
	}
	return out
}

// lowerEq is strings.ToLower(s) == low, without lower-casing an ASCII s.
func lowerEq(s, low string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return strings.ToLower(s) == low
		}
	}
	if len(s) != len(low) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != low[i] {
			return false
		}
	}
	return true
}

// intersect returns the ranks in both a and b, both ascending.
func intersect(a, b []uint32) []uint32 {
	out := a[:0:0]
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}

// minus returns the ranks of a not in b, both ascending.
func minus(a, b []uint32) []uint32 {
	out := a[:0:0]
	j := 0
	for _, r := range a {
		for j < len(b) && b[j] < r {
			j++
		}
		if j == len(b) || b[j] != r {
			out = append(out, r)
		}
	}
	return out
}

// loadStrings reads a column's strings from its section.
func loadStrings(sec []byte) ([]string, error) {
	if len(sec) < 8 {
		return nil, errors.New("short")
	}
	ns := binary.LittleEndian.Uint64(sec)
	sec = sec[8:]
	if ns == 0 || ns > uint64(len(sec))/8 {
		return nil, fmt.Errorf("%d strings", ns)
	}
	// Strings are not checked for duplicates here (restore does): the
	// section's SHA-256 matched, and matching (foldNew) copes with them.
	strs := make([]string, 0, ns)
	for range ns {
		if len(sec) < 8 {
			return nil, errors.New("short")
		}
		l := binary.LittleEndian.Uint64(sec)
		if l > uint64(len(sec)-8) {
			return nil, errors.New("short")
		}
		v := string(sec[8 : 8+l])
		sec = sec[8+l:]
		if (len(strs) == 0) != (v == "") {
			return nil, fmt.Errorf("string %d: %q", len(strs), v)
		}
		strs = append(strs, v)
	}
	if len(sec) != 0 {
		return nil, fmt.Errorf("%d bytes after the strings", len(sec))
	}
	return strs, nil
}

// checkBinding checks that b still binds a checkpoint to the journal at
// path: line 1 is its incident's, and line S is where it was, with the
// same hash.
func checkBinding(path string, b binding) error {
	if err := checkIncident(path, b); err != nil {
		return err
	}
	if err := journal.CheckMark(path, b.Mark); err != nil {
		return fmt.Errorf("%w: line %d: %v", errCheckpoint, b.Mark.Seq, err)
	}
	return nil
}

// checkIncident checks that line 1 of the journal at path is b's incident.
func checkIncident(path string, b binding) error {
	first, err := journal.ReadAt(path, 0)
	if err != nil {
		return fmt.Errorf("%w: line 1: %v", errCheckpoint, err)
	}
	var v IncidentOpened
	if json.Unmarshal(first.Data, &v) != nil || v.ID != b.Incident {
		return fmt.Errorf("%w: made for incident %q, the journal is incident %q", errCheckpoint, b.Incident, v.ID)
	}
	return nil
}

// Records calls fn with each matching event's record from the start-th
// on, as journaled, in the answer's order. A record whose span is known is
// read alone, and must sit in the file as one JSON object of the array of
// its events line (the byte before it '[' or ',', the one after ',' or
// ']', no newline in it); else, or when it does not, its whole line is
// read (RawReader). Records are read in journal order, each line at most
// once.
func (a *IndexedAnswer) Records(start int, fn func(i int, raw []byte) error) error {
	start = max(0, min(start, len(a.refs)))
	jf, err := openNoFollow(a.path)
	if err != nil {
		return err
	}
	defer jf.Close()

	raws := NewRawReader(a.path)
	defer raws.Close()
	byRef := make([]int, 0, len(a.refs)-start)
	for i := start; i < len(a.refs); i++ {
		byRef = append(byRef, i)
	}
	slices.SortFunc(byRef, func(x, y int) int {
		if c := cmp.Compare(a.refs[x].Offset, a.refs[y].Offset); c != 0 {
			return c
		}
		return cmp.Compare(a.refs[x].Index, a.refs[y].Index)
	})
	recs := make([][]byte, len(a.refs)-start)
	// Records close to each other are read with one pread.
	var win []byte
	winAt := int64(-1)
	read := func(at, n int64) []byte {
		if winAt < 0 || at < winAt || at+n > winAt+int64(len(win)) {
			want := max(n, 64<<10)
			if cap(win) < int(want) {
				win = make([]byte, want)
			}
			k, _ := jf.ReadAt(win[:want], at)
			win, winAt = win[:k], at
			if int64(k) < n {
				return nil
			}
		}
		return win[at-winAt : at-winAt+n]
	}
	for _, i := range byRef {
		ref := a.refs[i]
		if sp := a.spans[i]; sp != 0 {
			at, n := ref.Offset+int64(sp>>32), int64(uint32(sp))
			if b := read(at-1, n+2); b != nil {
				r := b[1 : n+1]
				if (b[0] == '[' || b[0] == ',') && (b[n+1] == ',' || b[n+1] == ']') && r[0] == '{' && bytes.IndexByte(r, '\n') < 0 {
					if end, e := jsonscan.Value(r, 0, 3, false); e == nil && end == len(r) {
						recs[i-start] = bytes.Clone(r)
						a.spanned++
						continue
					}
				}
			}
		}
		raw, err := raws.Raw(ref)
		if err != nil {
			return err
		}
		recs[i-start] = raw
	}
	for k, r := range recs {
		if err := fn(start+k, r); err != nil {
			return err
		}
	}
	return nil
}

// Answer returns res, a result of this table's, as an IndexedAnswer of the
// journal at path: its records read back as QueryIndexed's are.
func (t *EventTable) Answer(path string, res Result) *IndexedAnswer {
	a := &IndexedAnswer{path: path, Total: t.Len(), refs: make([]EventRef, res.Len()), spans: make([]span, res.Len())}
	for i, id := range res.IDs() {
		a.refs[i] = t.ref[id]
		a.spans[i] = t.spanOf(a.refs[i])
	}
	return a
}
