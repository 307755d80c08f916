package ctlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// Problem is one record (or, with Index -1, one whole file) that could not
// be ingested. Its Reason never quotes credential material.
type Problem struct {
	File   string // the file, as named by the caller
	Index  int    // 0-based record index within the file; -1: the file as a whole
	Line   int    // 1-based line where the record starts; 0 when unknown
	Reason string
	// Count, when above 1, says the problem stands for Count records (or
	// files) with the same kind of reason, past the cap on problems
	// listed one by one; it is the first of them.
	Count int
}

// Error formats the problem as "file:line: record N: reason".
func (p Problem) Error() string {
	var b []byte
	b = append(b, p.File...)
	if p.Line > 0 {
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(p.Line), 10)
	}
	b = append(b, ": "...)
	if p.Index >= 0 {
		b = append(b, "record "...)
		b = strconv.AppendInt(b, int64(p.Index), 10)
		if p.Count > 1 {
			b = append(b, " and "...)
			b = strconv.AppendInt(b, int64(p.Count-1), 10)
			b = append(b, " more like it (not listed one by one)"...)
		}
		b = append(b, ": "...)
	} else if p.Count > 1 {
		b = strconv.AppendInt(b, int64(p.Count), 10)
		b = append(b, " problems like this one (not listed one by one): "...)
	}
	b = append(b, p.Reason...)
	return string(b)
}

// docParser parses whole files: it finds their shape and hands every value
// that should be a record to a recParser. It keeps its buffers from file
// to file.
type docParser struct {
	rp   recParser
	rec  Record // the record being parsed
	gz   *gzip.Reader
	inf  inflater // nil until a file is gzip; nil when no C inflater loads
	buf  []byte   // decompressed data
	file []byte   // file contents as read

	// gate, when set (parallel runs), is where buf's and file's memory
	// is taken from; bufRes and fileRes are what they hold of it.
	gate            memGate
	bufRes, fileRes int64

	// Per file.
	name     string
	data     []byte
	index    int // next record index
	probs    []Problem
	sums     []summary // problems past MaxFileProblems
	emit     func(Record) error
	emitErr  error
	records  int
	lineOff  int // lineAt's memo: line lineNo starts at or before lineOff
	lineNo   int
	lineBase int  // the line being parsed, in line mode; else 0
	abandon  bool // the file is not a CloudTrail log: stop
}

var docParsers = sync.Pool{New: func() any { return new(docParser) }}

// errStop ends a document early; the reason is already recorded.
var errStop = errors.New("stop")

// ParseBytes parses one file's contents, gzip-compressed or not (told by
// its first bytes, not its name), in any of the shapes CloudTrail records
// come in: {"Records":[...]} (several concatenated are fine), a bare array
// of records, one record per line, or LookupEvents output
// ({"Events":[{"CloudTrailEvent":"<record>",...}],...} or its bare Events
// list). name is used in Problems only.
//
// emit is called for every good record in file order; Record.Raw is owned
// by the callee. Records that cannot be used are returned as Problems and
// the rest goes on. The error is non-nil only when emit returned one, and
// it is that error: parsing stopped there.
func ParseBytes(name string, data []byte, opt Options, emit func(Record) error) ([]Problem, error) {
	d := docParsers.Get().(*docParser)
	defer docParsers.Put(d)
	d.rp.opt = opt
	probs, _, err := d.parseBytes(name, data, emit)
	d.trim(maxRetainBytes)
	return probs, err
}

// parseBytes decompresses data when it is gzip and parses it. It returns
// the problems, the decompressed size and emit's error.
func (d *docParser) parseBytes(name string, data []byte, emit func(Record) error) ([]Problem, int64, error) {
	d.begin(name, emit)
	var gzErr error
	if isGzip(data) {
		data, gzErr = d.gunzip(data)
		if errors.Is(gzErr, errTooBig) {
			d.fileProblem(gzErr.Error())
			return d.problems(), 0, nil
		}
	} else if limit := d.rp.opt.maxFile(); int64(len(data)) > limit {
		d.fileProblem(fmt.Sprintf("file is %d bytes, over the limit of %d (MaxFileBytes)", len(data), limit))
		return d.problems(), 0, nil
	}
	// A damaged or truncated gzip stream: keep what came out of it.
	if len(data) > 0 || gzErr == nil {
		d.document(data)
		d.rec = Record{} // holds no file's memory past the call
	}
	if gzErr != nil {
		d.fileProblem(gzErr.Error())
	}
	return d.problems(), int64(len(data)), d.emitErr
}

// isGzip reports gzip's magic bytes.
func isGzip(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// errTooBig is a file over MaxFileBytes after decompression.
var errTooBig = errors.New("over the size limit")

// gunzip decompresses all gzip members of data into d.buf, stopping at
// MaxFileBytes.
func (d *docParser) gunzip(data []byte) ([]byte, error) {
	limit := d.rp.opt.maxFile()
	if out, ok := d.gunzipWhole(data, limit); ok {
		return out, nil
	}
	var err error
	if d.gz == nil {
		d.gz, err = gzip.NewReader(bytes.NewReader(data))
	} else {
		err = d.gz.Reset(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("not a valid gzip stream: %v", err)
	}
	hint := sizeHint(data, limit)
	buf := d.buf[:0]
	if int64(cap(buf)) < hint {
		d.buf = nil
		buf = d.newBuf(nil, hint, &d.bufRes)
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				d.buf = buf[:0]
				return nil, fmt.Errorf("decompressed size is over the limit of %d bytes (MaxFileBytes): %w", limit, errTooBig)
			}
			n := min(int64(cap(buf))*2, limit+1)
			d.buf = nil
			buf = d.newBuf(buf, n, &d.bufRes)
		}
		n, rerr := d.gz.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			d.buf = buf[:0]
			return nil, fmt.Errorf("decompressed size is over the limit of %d bytes (MaxFileBytes): %w", limit, errTooBig)
		}
		if rerr == io.EOF {
			d.buf = buf
			return buf, nil
		}
		if rerr != nil {
			d.buf = buf
			if errors.Is(rerr, io.ErrUnexpectedEOF) {
				return buf, errors.New("gzip stream is truncated")
			}
			// flate's offset depends on how much it had buffered, which
			// depends on the buffers earlier files left: leave it out, so
			// that one file is always reported in the same words.
			var (
				ce flate.CorruptInputError
				ie flate.InternalError // what some corrupt streams cause, depending on the same
			)
			if errors.As(rerr, &ce) || errors.As(rerr, &ie) {
				return buf, errors.New("gzip stream is damaged: corrupt deflate data")
			}
			return buf, fmt.Errorf("gzip stream is damaged: %v", rerr)
		}
	}
}

// begin resets the per-file state.
func (d *docParser) begin(name string, emit func(Record) error) {
	d.name = name
	d.data = nil
	d.index = 0
	d.probs = nil
	d.sums = d.sums[:0]
	d.emit = emit
	d.emitErr = nil
	d.records = 0
	d.lineOff, d.lineNo, d.lineBase = 0, 1, 0
	d.abandon = false
}

// fileProblem records a problem with the file as a whole.
func (d *docParser) fileProblem(reason string) {
	d.add(Problem{File: d.name, Index: -1, Reason: reason})
}

// problem records a problem with the record at index that starts at off.
func (d *docParser) problem(index, off int, reason string) {
	if d.full() {
		d.sums = fold(d.sums, Problem{File: d.name, Index: index, Reason: reason})
		return
	}
	d.probs = append(d.probs, Problem{File: d.name, Index: index, Line: d.lineAt(off), Reason: reason})
}

// full reports that the file's problems listed one by one are at the cap.
func (d *docParser) full() bool { return len(d.probs) >= d.rp.opt.maxFileProblems() }

// add records a problem, or counts it past the cap.
func (d *docParser) add(p Problem) {
	if d.full() {
		d.sums = fold(d.sums, p)
		return
	}
	d.probs = append(d.probs, p)
}

// problems returns the file's problems, the summaries last.
func (d *docParser) problems() []Problem {
	if len(d.sums) > 0 {
		d.probs = appendSummaries(d.probs, d.sums)
		d.sums = d.sums[:0]
	}
	return d.probs
}

// lineAt returns the 1-based line of offset off in d.data.
func (d *docParser) lineAt(off int) int {
	if d.lineBase > 0 {
		return d.lineBase
	}
	if off < d.lineOff {
		d.lineOff, d.lineNo = 0, 1
	}
	d.lineNo += bytes.Count(d.data[d.lineOff:off], []byte{'\n'})
	d.lineOff = off
	return d.lineNo
}

// document parses a whole (decompressed) file.
func (d *docParser) document(data []byte) {
	d.data = data
	pos := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		pos = 3
	}
	pos = jsonscan.SkipWS(data, pos)
	if pos == len(data) {
		d.fileProblem("file is empty: no CloudTrail records")
		return
	}
	if c := data[pos]; c != '{' && c != '[' {
		d.fileProblem(fmt.Sprintf("not a CloudTrail log: not JSON (starts with %q)", rune(c)))
		return
	}
	if data[pos] == '{' {
		if ok, eol := d.lineOriented(data, pos); ok {
			d.lines(data, pos, eol)
			return
		}
	}
	d.stream(data, pos, len(data))
}

// lineOriented reports whether a file that starts with '{' holds one JSON
// value per line: its first value ends on the first line, or (the first
// line being broken) its second non-blank line starts with '{' too: in a
// pretty-printed object it starts with a member name or '}'. A first line
// that ends with an opening bracket or a separator ({"Records":[ with one
// record per line after it) starts a document that spans lines. eol is
// where the first line ends: its newline, or len(data).
func (d *docParser) lineOriented(data []byte, pos int) (ok bool, eol int) {
	nl := bytes.IndexByte(data[pos:], '\n')
	if nl < 0 {
		return true, len(data)
	}
	eol = pos + nl
	if first := bytes.TrimRight(data[pos:eol], " \t\r"); len(first) > 0 {
		switch first[len(first)-1] {
		case '[', '{', ',', ':':
			return false, eol
		}
	}
	rest := jsonscan.SkipWS(data, eol)
	if rest == len(data) || data[rest] == '{' {
		return true, eol
	}
	if nl > 1<<20 { // not worth scanning twice
		return false, eol
	}
	s := &d.rp.s
	s.reset(data[:eol], pos)
	_, err := s.value(pos, ctxNone)
	return err == nil, eol
}

// lines parses one value (or several) per line, the first line ending at
// eol. A line that is not valid JSON is one problem, and the next line
// goes on.
func (d *docParser) lines(data []byte, pos, eol int) {
	line := 1 + bytes.Count(data[:pos], []byte{'\n'})
	for end := eol; pos < len(data); end = -1 {
		if end < 0 {
			end = len(data)
			if i := bytes.IndexByte(data[pos:], '\n'); i >= 0 {
				end = pos + i
			}
		}
		if jsonscan.SkipWS(data[:end], pos) < end {
			d.lineBase = line
			d.stream(data[:end], pos, end)
			if d.emitErr != nil || d.abandon {
				break
			}
		}
		pos = end + 1
		line++
	}
	d.lineBase = 0
}

// stream parses the values of data[pos:end] one after the other: objects
// (a wrapper or a record) and arrays (of records or LookupEvents elements).
// A syntax error ends the stream: past it, where records begin is unknown.
func (d *docParser) stream(data []byte, pos, end int) {
	first := d.index == 0 && len(d.probs) == 0
	for {
		pos = jsonscan.SkipWS(data[:end], pos)
		if pos >= end || d.emitErr != nil {
			return
		}
		var err error
		switch data[pos] {
		case '{':
			pos, err = d.object(data[:end], pos, first)
		case '[':
			pos, err = d.array(data[:end], pos, first)
		default:
			d.problem(d.index, pos, fmt.Sprintf("invalid JSON at byte %d: unexpected character %q between values", pos, rune(data[pos])))
			d.index++
			return
		}
		if err != nil {
			return
		}
		first = false
	}
}

// object parses an object at data[pos]: a {"Records":[...]} or
// {"Events":[...]} wrapper, or a single record.
func (d *docParser) object(data []byte, pos int, first bool) (int, error) {
	if k := firstKey(data, pos); k == "Records" || k == "Events" {
		return d.wrapper(data, pos)
	}
	end, reason, serr := d.rp.one(data, pos, &d.rec)
	if serr != nil {
		d.syntax(d.index, pos, serr)
		return end, errStop
	}
	f := &d.rp.s.fields
	looksLikeRecord := f[fEventID].kind|f[fEventTime].kind|f[fTimestamp].kind|f[fEventName].kind|f[fEventSource].kind|f[fCloudTrailEvent].kind != vAbsent
	if !looksLikeRecord && (f[fRecords].kind == vArray || f[fEvents].kind == vArray) {
		return d.wrapper(data, pos)
	}
	if first && !looksLikeRecord {
		d.fileProblem("not a CloudTrail log: no Records or Events array, and the first object has no eventID, eventTime or eventName")
		d.abandon = true
		return end, errStop
	}
	return end, d.deliver(pos, reason)
}

// firstKey returns the first member name of the object at data[pos] when
// it has no escapes, else "".
func firstKey(data []byte, pos int) string {
	pos = jsonscan.SkipWS(data, pos+1)
	if pos >= len(data) || data[pos] != '"' {
		return ""
	}
	end := bytes.IndexByte(data[pos+1:], '"')
	if end < 0 || end > 16 {
		return ""
	}
	k := data[pos+1 : pos+1+end]
	if bytes.IndexByte(k, '\\') >= 0 {
		return ""
	}
	return string(k)
}

// deliver emits the record in d.rec or records its problem, and counts
// it.
func (d *docParser) deliver(off int, reason string) error {
	idx := d.index
	d.index++
	if reason != "" {
		d.problem(idx, off, reason)
		return nil
	}
	d.records++
	if err := d.emit(d.rec); err != nil {
		d.emitErr = err
		return errStop
	}
	return nil
}

// syntax records invalid JSON in the record at index starting at off.
func (d *docParser) syntax(index, off int, serr *syntaxError) {
	d.index++
	if d.full() {
		d.sums = fold(d.sums, Problem{File: d.name, Index: index, Reason: "invalid JSON: " + serr.msg})
		return
	}
	d.probs = append(d.probs, Problem{File: d.name, Index: index, Line: d.lineAt(off),
		Reason: fmt.Sprintf("invalid JSON at byte %d (line %d): %s", serr.off, d.lineAt(serr.off), serr.msg)})
}

// wrapper parses {"Records":[...]} or {"Events":[...]} (other members,
// such as NextToken, are checked and skipped).
func (d *docParser) wrapper(data []byte, pos int) (int, error) {
	s := &d.rp.s
	pos = jsonscan.SkipWS(data, pos+1)
	if pos < len(data) && data[pos] == '}' {
		return pos + 1, nil
	}
	for {
		if pos >= len(data) || data[pos] != '"' {
			d.syntax(d.index, pos, &syntaxError{pos, "expected member name"})
			return pos, errStop
		}
		s.reset(data, pos)
		kend, esc, serr := s.str(pos)
		if serr != nil {
			d.syntax(d.index, pos, serr)
			return kend, errStop
		}
		key := data[pos+1 : kend-1]
		if esc {
			key = jsonscan.Unquote(nil, key)
		}
		pos = jsonscan.SkipWS(data, kend)
		if pos >= len(data) || data[pos] != ':' {
			d.syntax(d.index, pos, &syntaxError{pos, "expected ':' after member name"})
			return pos, errStop
		}
		pos = jsonscan.SkipWS(data, pos+1)
		if (string(key) == "Records" || string(key) == "Events") && pos < len(data) && data[pos] == '[' {
			var err error
			if pos, err = d.array(data, pos, false); err != nil {
				return pos, err
			}
		} else {
			s.reset(data, pos)
			end, serr := s.value(pos, ctxNone)
			if serr != nil {
				d.syntax(d.index, pos, serr)
				return end, errStop
			}
			pos = end
		}
		var (
			more bool
			err  error
		)
		if pos, more, err = d.after(data, pos, '}', "expected ',' or '}' after object member"); !more {
			return pos, err
		}
	}
}

// after reads what follows a member or an element ending at data[pos]: a
// comma (more: pos is past it and its white space) or closer (pos is past
// it). Anything else is invalid JSON, recorded with msg.
func (d *docParser) after(data []byte, pos int, closer byte, msg string) (next int, more bool, err error) {
	pos = jsonscan.SkipWS(data, pos)
	if pos >= len(data) {
		d.syntax(d.index, pos, &syntaxError{pos, "unexpected end of input"})
		return pos, false, errStop
	}
	switch data[pos] {
	case ',':
		return jsonscan.SkipWS(data, pos+1), true, nil
	case closer:
		return pos + 1, false, nil
	}
	d.syntax(d.index, pos, &syntaxError{pos, msg})
	return pos, false, errStop
}

// array parses an array of records or LookupEvents elements.
func (d *docParser) array(data []byte, pos int, first bool) (int, error) {
	pos = jsonscan.SkipWS(data, pos+1)
	if pos < len(data) && data[pos] == ']' {
		return pos + 1, nil
	}
	for {
		if pos >= len(data) {
			d.syntax(d.index, pos, &syntaxError{pos, "unexpected end of input"})
			return pos, errStop
		}
		end, reason, serr := d.rp.one(data, pos, &d.rec)
		if serr != nil {
			d.syntax(d.index, pos, serr)
			return end, errStop
		}
		if first {
			f := &d.rp.s.fields
			if reason != "" && f[fEventID].kind|f[fEventTime].kind|f[fTimestamp].kind|f[fEventName].kind|f[fEventSource].kind|f[fCloudTrailEvent].kind == vAbsent {
				d.fileProblem("not a CloudTrail log: the first array element has no eventID, eventTime or eventName")
				d.abandon = true
				return end, errStop
			}
			first = false
		}
		if err := d.deliver(pos, reason); err != nil {
			return end, err
		}
		var (
			more bool
			err  error
		)
		if pos, more, err = d.after(data, end, ']', "expected ',' or ']' after array element"); !more {
			return pos, err
		}
	}
}
