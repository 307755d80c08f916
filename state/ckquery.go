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
	"slices"
	"time"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
	"github.com/warroom-ir/warroom/state/journal"
)

// A checkpoint (format 3) ends with a section table, so that a query reads
// only what it needs: the header, the table, and the sections of the
// columns its filter names, the time order, the records' references and
// their spans, each checked against its own SHA-256 in the table, whose
// own SHA-256 ends the file. A full open reads the body as before and
// checks the body's SHA-256; the table restates the binding, which both
// check against the journal.
//
// Layout after the body: the spans section, the table (the binding, the
// number of events, then per section its id, offset, length and SHA-256),
// the table's length (uint64) and its SHA-256.
const (
	secRef     = 100 // each event's EventRef: offset (uint64), index (uint32)
	secOrder   = 101 // the time order (uint32 event ids)
	secRecs    = 102 // each event's EventRef and span (uint64, see span), in chunks
	secRecSums = 103 // the SHA-256 of each chunk of secRecs

	// recChunk is how many events' records a chunk of secRecs holds.
	recChunk = 256
	recSize  = 8 + 4 + 8

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

// records reads the chunks of secRecs that hold ids (all when ids is
// nil), each checked against its SHA-256, by chunk number.
func (t *ckTable) records(f io.ReaderAt, ids []uint32, n int) (map[uint32][]byte, error) {
	sums, err := t.read(f, secRecSums)
	if err != nil {
		return nil, err
	}
	c := t.secs[secRecs]
	chunks := (n + recChunk - 1) / recChunk
	if len(sums) != 32*chunks || c.n != int64(recSize*n) {
		return nil, fmt.Errorf("%w: records of %d events", errCheckpoint, n)
	}
	out := map[uint32][]byte{}
	get := func(k uint32) error {
		if _, ok := out[k]; ok {
			return nil
		}
		lo := int64(k) * recChunk * recSize
		b := make([]byte, min(int64(recChunk*recSize), c.n-lo))
		if _, err := f.ReadAt(b, c.off+lo); err != nil {
			return fmt.Errorf("%w: records: %v", errCheckpoint, err)
		}
		if sha256.Sum256(b) != [32]byte(sums[32*k:]) {
			return fmt.Errorf("%w: records of events %d on: their SHA-256 does not match: the file was damaged or changed", errCheckpoint, k*recChunk)
		}
		out[k] = b
		return nil
	}
	if ids == nil {
		for k := range chunks {
			if err := get(uint32(k)); err != nil {
				return nil, err
			}
		}
	}
	for _, id := range ids {
		if int(id) >= n {
			return nil, fmt.Errorf("%w: event %d of %d", errCheckpoint, id, n)
		}
		if err := get(id / recChunk); err != nil {
			return nil, err
		}
	}
	return out, nil
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
}

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
	t := NewEventTable()
	t.time = make([]int64, n) // only its length is read (a query's event count)
	for _, term := range f.Terms {
		c := colError
		if term.Field != FieldFailed {
			c = fields[term.Field].col
		}
		if len(t.cols[c].vals) == n && n > 0 {
			continue
		}
		sec, err := tab.read(mf, uint32(c))
		if err != nil {
			return nil, rep, err
		}
		if err := loadColumn(t.cols[c], sec, n); err != nil {
			return nil, rep, fmt.Errorf("%w: column %d: %v", errCheckpoint, c, err)
		}
	}
	order, err := tab.read(mf, secOrder)
	if err != nil {
		return nil, rep, err
	}
	if len(order) != 4*n {
		return nil, rep, fmt.Errorf("%w: the time order holds %d bytes for %d events", errCheckpoint, len(order), n)
	}
	t.order = make([]uint32, n)
	t.rank = make([]uint32, n)
	seen := make([]bool, n)
	for i := range n {
		id := binary.LittleEndian.Uint32(order[4*i:])
		if int(id) >= n || seen[id] {
			return nil, rep, fmt.Errorf("%w: the time order is not a permutation of the events", errCheckpoint)
		}
		seen[id] = true
		t.order[i], t.rank[id] = id, uint32(i)
	}
	t.room, t.indexed = n, uint32(n)
	res := t.QueryAt(f, time.Now())

	recs, err := tab.records(mf, res.IDs(), n)
	if err != nil {
		return nil, rep, err
	}
	a := &IndexedAnswer{path: path, Total: n, refs: make([]EventRef, res.Len()), spans: make([]span, res.Len())}
	for i, id := range res.IDs() {
		b := recs[id/recChunk][recSize*(id%recChunk):]
		a.refs[i] = EventRef{Offset: int64(binary.LittleEndian.Uint64(b)), Index: binary.LittleEndian.Uint32(b[8:])}
		a.spans[i] = binary.LittleEndian.Uint64(b[12:])
	}
	return a, rep, nil
}

// loadColumn fills c from its section: its strings, then its values.
func loadColumn(c *column, sec []byte, n int) error {
	if len(sec) < 8 {
		return errors.New("short")
	}
	ns := binary.LittleEndian.Uint64(sec)
	sec = sec[8:]
	if ns == 0 || ns > uint64(len(sec))/8 {
		return fmt.Errorf("%d strings", ns)
	}
	// Strings are not checked for duplicates here (restore does): the
	// section's SHA-256 matched, and matching (foldNew) copes with them.
	c.strs = make([]string, 0, ns)
	for range ns {
		if len(sec) < 8 {
			return errors.New("short")
		}
		l := binary.LittleEndian.Uint64(sec)
		if l > uint64(len(sec)-8) {
			return errors.New("short")
		}
		v := string(sec[8 : 8+l])
		sec = sec[8+l:]
		if (len(c.strs) == 0) != (v == "") {
			return fmt.Errorf("string %d: %q", len(c.strs), v)
		}
		c.strs = append(c.strs, v)
	}
	if len(sec) != 4*n {
		return fmt.Errorf("%d bytes of values for %d events", len(sec), n)
	}
	c.vals = make([]uint32, n)
	for i := range c.vals {
		v := binary.LittleEndian.Uint32(sec[4*i:])
		if int(v) >= len(c.strs) {
			return fmt.Errorf("value %d of %d", v, len(c.strs))
		}
		c.vals[i] = v
	}
	c.posts = make([][]uint32, len(c.strs))
	c.post(0, uint32(n))
	return nil
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
