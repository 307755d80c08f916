package athenasql

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"io"
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// A loader turns CloudTrail log files into rows of one table's columns
// (without the partition keys). It reads each file once, front to back,
// keeping only the fields the table declares: strings are slices of the
// file's text, structs, arrays and maps are written as JSON with their
// declared fields under lower-case names. What it produces is what
// columnValue gives for each field of a file json.Unmarshal accepts (the
// reference, used here for the rare shapes the fast path leaves to it: a
// struct naming a field twice, a key or string with escapes or
// non-ASCII bytes, an object where a string is declared).
type loader struct {
	t    *Table
	cols map[string]int           // column index by lower-case name
	flds map[*Type]map[string]int // struct field index by lower-case name
}

func newLoader(t *Table) *loader {
	l := &loader{t: t, cols: map[string]int{}, flds: map[*Type]map[string]int{}}
	for i, f := range t.Columns {
		l.cols[strings.ToLower(f.Name)] = i
		l.index(f.Type)
	}
	return l
}

func (l *loader) index(ty *Type) {
	switch ty.Kind {
	case "struct":
		if _, ok := l.flds[ty]; ok {
			return
		}
		m := make(map[string]int, len(ty.Fields))
		for i, f := range ty.Fields {
			if _, dup := m[strings.ToLower(f.Name)]; !dup {
				m[strings.ToLower(f.Name)] = i
			}
			l.index(f.Type)
		}
		l.flds[ty] = m
	case "array":
		l.index(ty.Elem)
	case "map":
		l.index(ty.Elem)
	}
}

// maxDepth is encoding/json's nesting limit.
const maxDepth = 10000

// fileDecoder is one file's decoding: src is its text, out the JSON
// written for struct, array and map values (src and out are only read
// once the rows are made, so cells can be slices of them).
type fileDecoder struct {
	l     *loader
	src   string
	i     int
	depth int
	bad   bool
	out   []byte
	fix   []fixup
	keyb  [64]byte
}

// fixup is a cell whose text is out[a:b], once out is final.
type fixup struct {
	row, col int
	a, b     int
}

// decode reads a CloudTrail log file ({"Records":[…]}, gzipped or not);
// anything else (a digest, a CSV, a damaged file) gives no rows, as
// CloudTrailInputFormat reads it.
func (l *loader) decode(body []byte) [][]any {
	var src string
	if len(body) > 2 && body[0] == 0x1f && body[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil
		}
		// the gzip trailer's size (mod 2³²) of the last member, believed
		// only within reason
		b := bytes.NewBuffer(make([]byte, 0, gzipSize(body)))
		if _, err := io.Copy(b, zr); err != nil {
			return nil
		}
		// the buffer is the decoder's alone and never written again:
		// its text is the file's without a copy
		raw := b.Bytes()
		src = unsafe.String(unsafe.SliceData(raw), len(raw))
	} else {
		src = string(body)
	}
	d := &fileDecoder{l: l, src: src}
	rows := d.file()
	if d.bad {
		return nil
	}
	if len(d.fix) > 0 {
		out := string(d.out)
		for _, f := range d.fix {
			rows[f.row][f.col] = out[f.a:f.b]
		}
	}
	return rows
}

// gzipSize is the room to make for a gzip file's text: its trailer's
// ISIZE when that is plausible (at most 1,032 times the compressed size,
// deflate's limit, and 1 GiB), else 8 times the compressed size.
func gzipSize(body []byte) int {
	guess := 8 * len(body)
	if len(body) < 18 {
		return guess
	}
	n := int(binary.LittleEndian.Uint32(body[len(body)-4:]))
	if n <= 0 || n > 1032*len(body) || n > 1<<30 {
		return guess
	}
	return n + bytes.MinRead
}

// file reads the top-level object and its Records.
func (d *fileDecoder) file() [][]any {
	var rows [][]any
	d.ws()
	if d.peek() != '{' {
		// null gives no rows; anything else is not a log file
		d.skip()
		return nil
	}
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
	} else {
		for !d.bad {
			key, ok := d.key()
			if !ok {
				return nil
			}
			// encoding/json matches the field name case-insensitively
			if strings.EqualFold(key, "Records") {
				rows = d.records()
			} else {
				d.skip()
			}
			if !d.next('}') {
				break
			}
		}
	}
	d.ws()
	if d.i != len(d.src) {
		d.bad = true
	}
	return rows
}

// records reads the Records array (null: none).
func (d *fileDecoder) records() [][]any {
	d.fix = d.fix[:0]
	d.out = d.out[:0]
	switch d.peek() {
	case 'n':
		d.literal("null")
		return nil
	case '[':
	default:
		d.bad = true
		return nil
	}
	d.i++
	d.ws()
	rows := make([][]any, 0, 256)
	if d.peek() == ']' {
		d.i++
		return rows
	}
	for !d.bad {
		d.ws()
		row := make([]any, len(d.l.t.Columns))
		switch d.peek() {
		case 'n':
			d.literal("null")
		case '{':
			d.record(len(rows), row)
		default:
			d.bad = true
			return nil
		}
		rows = append(rows, row)
		if !d.next(']') {
			break
		}
	}
	return rows
}

// record reads one record into row.
func (d *fileDecoder) record(n int, row []any) {
	d.i++
	d.ws()
	if d.peek() == '}' {
		d.i++
		return
	}
	for !d.bad {
		col, ok := d.column()
		if !ok {
			return
		}
		if col < 0 {
			d.skip()
		} else {
			// named twice: the last one counts, as in a map
			for k := len(d.fix) - 1; k >= 0 && d.fix[k].row == n; k-- {
				if d.fix[k].col == col {
					d.fix = append(d.fix[:k], d.fix[k+1:]...)
					break
				}
			}
			row[col] = d.value(n, col, d.l.t.Columns[col].Type)
		}
		if !d.next('}') {
			return
		}
	}
}

// column reads a record's key and the colon after it: the column it
// names, -1 for none.
func (d *fileDecoder) column() (int, bool) {
	a, b, simple := d.str()
	if d.bad || !d.colon() {
		return 0, false
	}
	if simple {
		k, ok := d.lower(a+1, b-1)
		if ok {
			if c, ok := d.l.cols[string(k)]; ok {
				return c, true
			}
			return -1, true
		}
	}
	var key string
	if json.Unmarshal([]byte(d.src[a:b]), &key) != nil {
		d.bad = true
		return 0, false
	}
	if c, ok := d.l.cols[strings.ToLower(key)]; ok {
		return c, true
	}
	return -1, true
}

// lower is src[a:b] in ASCII lower case, in the decoder's key buffer.
func (d *fileDecoder) lower(a, b int) ([]byte, bool) {
	if b-a > len(d.keyb) {
		return nil, false
	}
	k := d.keyb[:b-a]
	for j := range k {
		c := d.src[a+j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		k[j] = c
	}
	return k, true
}

// key reads an object's key (unescaped) and the colon after it.
func (d *fileDecoder) key() (string, bool) {
	a, b, simple := d.str()
	if d.bad || !d.colon() {
		return "", false
	}
	if simple {
		return d.src[a+1 : b-1], true
	}
	var key string
	if json.Unmarshal([]byte(d.src[a:b]), &key) != nil {
		d.bad = true
		return "", false
	}
	return key, true
}

// value reads a column's value at d.i as the column holds it (see
// columnValue); struct, array and map values are fixed up later.
func (d *fileDecoder) value(row, col int, ty *Type) any {
	d.ws()
	start := d.i
	c := d.peek()
	if c == 'n' {
		d.literal("null")
		return nil
	}
	switch ty.Kind {
	case "string":
		if c == '"' {
			a, b, simple := d.str()
			if simple {
				return d.src[a+1 : b-1]
			}
			var s string
			if d.bad || json.Unmarshal([]byte(d.src[a:b]), &s) != nil {
				return nil
			}
			return s
		}
		d.skip()
		return d.src[start:d.i]
	case "struct", "array", "map":
		if ty.Kind == "array" && c != '[' || ty.Kind != "array" && c != '{' {
			d.skip()
			return nil
		}
		a := len(d.out)
		if !d.emit(ty) {
			// a shape left to the reference
			d.out = d.out[:a]
			v := columnValue(ty, json.RawMessage(d.src[start:d.i]))
			if d.bad {
				return nil
			}
			return v
		}
		d.fix = append(d.fix, fixup{row: row, col: col, a: a, b: len(d.out)})
		return nil
	}
	d.skip()
	if d.bad {
		return nil
	}
	return columnValue(ty, json.RawMessage(d.src[start:d.i]))
}

// emit writes the value at d.i to out as normalize and json.Marshal
// would write it (fields in the record's order); false leaves the
// value, read to its end, to the reference.
func (d *fileDecoder) emit(ty *Type) bool {
	d.ws()
	c := d.peek()
	if c == 'n' {
		d.literal("null")
		d.out = append(d.out, "null"...)
		return true
	}
	switch ty.Kind {
	case "struct", "array":
		open, read := byte('{'), d.object
		if ty.Kind == "array" {
			open, read = '[', d.array
		}
		if c != open {
			d.skip()
			d.out = append(d.out, "null"...)
			return true
		}
		return read(ty)
	case "map":
		// keys kept as they are, sorted by json.Marshal: the reference's
		d.skip()
		return false
	case "string":
		switch c {
		case '"':
			return d.appendString()
		case '{', '[':
			d.skip()
			return false
		}
		// true, false or a number: its text, as a string
		a := d.i
		d.skip()
		d.out = append(d.out, '"')
		d.out = append(d.out, d.src[a:d.i]...)
		d.out = append(d.out, '"')
		return !d.bad
	}
	// other scalars are kept as the record has them
	switch c {
	case '{', '[':
		d.skip()
		return false
	case '"':
		return d.appendString()
	}
	a := d.i
	d.skip()
	d.out = append(d.out, d.src[a:d.i]...)
	return !d.bad
}

// appendString writes the string at d.i: as it is when it is plain,
// else re-encoded as json.Marshal writes it.
func (d *fileDecoder) appendString() bool {
	a, b, simple := d.str()
	if d.bad {
		return false
	}
	if simple {
		d.out = append(d.out, d.src[a:b]...)
		return true
	}
	var s string
	if json.Unmarshal([]byte(d.src[a:b]), &s) != nil {
		d.bad = true
		return false
	}
	enc, _ := json.Marshal(s)
	d.out = append(d.out, enc...)
	return true
}

// object writes a struct's declared fields.
func (d *fileDecoder) object(ty *Type) bool {
	d.i++
	d.depth++
	if d.depth > maxDepth {
		d.bad = true
		return false
	}
	defer func() { d.depth-- }()
	fields := d.l.flds[ty]
	if len(ty.Fields) > 64 {
		d.i--
		d.skip()
		return false
	}
	var seen uint64
	d.out = append(d.out, '{')
	first := true
	d.ws()
	if d.peek() == '}' {
		d.i++
		d.out = append(d.out, '}')
		return true
	}
	ok := true
	for !d.bad {
		a, b, simple := d.str()
		if d.bad || !d.colon() {
			return false
		}
		f := -1
		if simple {
			if k, kok := d.lower(a+1, b-1); kok {
				if x, found := fields[string(k)]; found {
					f = x
				}
			} else {
				ok = false
			}
		} else {
			ok = false
		}
		switch {
		case !ok:
			d.skip()
		case f < 0:
			d.skip()
		case seen&(1<<f) != 0:
			// named twice: the last one counts, as in a map
			ok = false
			d.skip()
		default:
			seen |= 1 << f
			if !first {
				d.out = append(d.out, ',')
			}
			first = false
			d.out = strconv.AppendQuote(d.out, strings.ToLower(ty.Fields[f].Name))
			d.out = append(d.out, ':')
			if !d.emit(ty.Fields[f].Type) {
				ok = false
			}
		}
		if !d.next('}') {
			break
		}
	}
	d.out = append(d.out, '}')
	return ok && !d.bad
}

// array writes an array's elements.
func (d *fileDecoder) array(ty *Type) bool {
	d.i++
	d.depth++
	if d.depth > maxDepth {
		d.bad = true
		return false
	}
	defer func() { d.depth-- }()
	d.out = append(d.out, '[')
	d.ws()
	if d.peek() == ']' {
		d.i++
		d.out = append(d.out, ']')
		return true
	}
	ok := true
	for n := 0; !d.bad; n++ {
		if n > 0 {
			d.out = append(d.out, ',')
		}
		if !d.emit(ty.Elem) {
			ok = false
		}
		if !d.next(']') {
			break
		}
	}
	d.out = append(d.out, ']')
	return ok && !d.bad
}

// The scanner: every byte it passes over is checked as encoding/json
// checks it; a fault sets bad, and the file gives no rows.

func (d *fileDecoder) peek() byte {
	if d.i < len(d.src) {
		return d.src[d.i]
	}
	d.bad = true
	return 0
}

func (d *fileDecoder) ws() {
	for d.i < len(d.src) {
		switch d.src[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *fileDecoder) colon() bool {
	d.ws()
	if d.peek() != ':' {
		d.bad = true
		return false
	}
	d.i++
	d.ws()
	return true
}

// next reads the comma after a member or element (true: another
// follows) or the closing byte (false).
func (d *fileDecoder) next(close byte) bool {
	d.ws()
	switch d.peek() {
	case ',':
		d.i++
		d.ws()
		return true
	case close:
		d.i++
		return false
	}
	d.bad = true
	return false
}

func (d *fileDecoder) literal(lit string) {
	if !strings.HasPrefix(d.src[d.i:], lit) {
		d.bad = true
		return
	}
	d.i += len(lit)
}

// str reads a string at d.i: [a, b) includes its quotes; simple means
// no escapes and only ASCII, so that the text between the quotes is
// the string.
func (d *fileDecoder) str() (a, b int, simple bool) {
	if d.peek() != '"' {
		d.bad = true
		return 0, 0, false
	}
	a = d.i
	simple = true
	s := d.src
	for j := a + 1; j < len(s); j++ {
		c := s[j]
		switch {
		case c == '"':
			d.i = j + 1
			return a, j + 1, simple
		case c < 0x20:
			d.bad = true
			return 0, 0, false
		case c == '\\':
			simple = false
			j++
			if j >= len(s) {
				d.bad = true
				return 0, 0, false
			}
			switch s[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if j+4 >= len(s) {
					d.bad = true
					return 0, 0, false
				}
				for _, h := range []byte(s[j+1 : j+5]) {
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						d.bad = true
						return 0, 0, false
					}
				}
				j += 4
			default:
				d.bad = true
				return 0, 0, false
			}
		case c >= 0x80:
			simple = false
		}
	}
	d.bad = true
	return 0, 0, false
}

// number reads a JSON number at d.i.
func (d *fileDecoder) number() bool {
	s, j := d.src, d.i
	digits := func() bool {
		k := j
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case !digits():
		d.bad = true
		return false
	}
	if j < len(s) && s[j] == '.' {
		j++
		if !digits() {
			d.bad = true
			return false
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if !digits() {
			d.bad = true
			return false
		}
	}
	d.i = j
	return true
}

// skip reads any value, checking it.
func (d *fileDecoder) skip() {
	d.ws()
	switch c := d.peek(); {
	case c == '"':
		d.str()
	case c == '{' || c == '[':
		close := byte('}')
		if c == '[' {
			close = ']'
		}
		d.i++
		d.depth++
		if d.depth > maxDepth {
			d.bad = true
			return
		}
		d.ws()
		if d.peek() == close {
			d.i++
		} else {
			for !d.bad {
				if c == '{' {
					d.str()
					if d.bad || !d.colon() {
						break
					}
				}
				d.skip()
				if !d.next(close) {
					break
				}
			}
		}
		d.depth--
	case c == 't':
		d.literal("true")
	case c == 'f':
		d.literal("false")
	case c == 'n':
		d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		d.number()
	default:
		d.bad = true
	}
}

// insertRows is how many rows one INSERT carries (fewer when the table
// is so wide that SQLite's limit of 32766 parameters is reached).
const insertRows = 32

// load decodes objs in parallel (GOMAXPROCS at a time, a few ahead of
// the inserts) and inserts their rows, in objs' order, in tx with
// multi-row INSERTs; it returns what st.loaded is to hold for each.
func (e *Engine) load(ctx context.Context, tx *sql.Tx, st *store, t *Table, objs []partObject) ([]loadedObj, error) {
	l := newLoader(t)
	width := 1 + len(t.Columns) + len(t.PartitionKeys)
	per := max(1, min(insertRows, 32766/width))
	prepare := func(n int) (*sql.Stmt, error) {
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
		return tx.PrepareContext(ctx, "INSERT INTO "+quoteIdent(st.sqlName)+" VALUES "+strings.TrimSuffix(strings.Repeat(row+", ", n), ", "))
	}
	full, err := prepare(per)
	if err != nil {
		return nil, err
	}
	defer full.Close()

	workers := runtime.GOMAXPROCS(0)
	done := make(chan struct{})
	defer close(done)
	ahead := make(chan struct{}, 4*workers)
	next := make(chan int)
	slots := make([]chan [][]any, len(objs))
	for i := range slots {
		slots[i] = make(chan [][]any, 1)
	}
	go func() {
		defer close(next)
		for i := range objs {
			select {
			case ahead <- struct{}{}:
			case <-done:
				return
			}
			select {
			case next <- i:
			case <-done:
				return
			}
		}
	}()
	for range workers {
		go func() {
			for i := range next {
				slots[i] <- l.decode(objs[i].obj.Body)
			}
		}()
	}

	args := make([]any, 0, per*width)
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		s := full
		if n < per {
			if s, err = prepare(n); err != nil {
				return err
			}
			defer s.Close()
		}
		_, err := s.ExecContext(ctx, args...)
		args, n = args[:0], 0
		return err
	}
	out := make([]loadedObj, len(objs))
	for i, po := range objs {
		var rows [][]any
		select {
		case rows = <-slots[i]:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		<-ahead
		st.nextID++
		id := st.nextID
		part := stringsToAny(po.values)
		for _, row := range rows {
			args = append(args, id)
			args = append(args, row...)
			args = append(args, part...)
			if n++; n == per {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
		out[i] = loadedObj{id: id, etag: po.obj.ETag}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}
