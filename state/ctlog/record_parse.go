package ctlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// Defaults for Options.
const (
	DefaultMaxFileBytes   = 1 << 30 // 1 GiB decompressed per file
	DefaultMaxRecordBytes = 16 << 20
)

// SyntheticIDPrefix starts the EventID given to a record that has none:
// the prefix followed by 32 hex digits of the SHA-256 of the record's Raw.
// Raw is what the journal keeps, so replay derives the same id again.
const SyntheticIDPrefix = "synthetic-"

// Options tune parsing. The zero value is ready to use.
type Options struct {
	// MaxFileBytes caps a file's size after decompression (a gzip bomb
	// stops there with a Problem naming the file). Zero means
	// DefaultMaxFileBytes.
	MaxFileBytes int64
	// MaxRecordBytes caps one record's JSON. Zero means
	// DefaultMaxRecordBytes.
	MaxRecordBytes int64
	// Intern, when set, turns the low-cardinality string fields (event
	// name and source, type, region, source IP, user agent, error code,
	// account ids, identity type, principal ARN and id, user name, access
	// key id, invokedBy, session issuer ARN) into strings; the bytes are
	// valid only during the call. Without it every string field of a
	// record is cut from the same memory as its Raw.
	Intern func([]byte) string
	// Borrow makes emit's Record borrow the parser's memory: Raw and the
	// string fields are valid only until emit returns, and the parser
	// allocates nothing per record. For callers that look at every record
	// and keep few (filters, counters): clone what you keep. Without it
	// records own their memory, cut from 32 KiB blocks (see Record.Raw).
	Borrow bool
	// MaxFileProblems caps the problems of one file listed one by one;
	// past it they are counted by kind of reason (Problem.Count). Zero
	// means DefaultMaxFileProblems.
	MaxFileProblems int
	// MaxProblems caps the problems of a ParsePaths run listed one by
	// one, and then the per-file summaries; past both, problems are
	// counted by kind of reason across files. Zero means
	// DefaultMaxProblems.
	MaxProblems int
	// MaxInFlightBytes bounds the memory that the workers of a parallel
	// run hold at once in file and decompression buffers: a worker that
	// would go over it waits, except the one holding the file whose turn
	// it is to be emitted. Zero means DefaultMaxInFlightBytes.
	MaxInFlightBytes int64
	// Cancel, when closed, stops a ParsePaths run between files (and the
	// parallel runs before the next file is emitted): the run returns
	// ErrCanceled, every record emitted before it stands.
	Cancel <-chan struct{}
}

// ErrCanceled is returned by the ParsePaths functions when Options.Cancel
// was closed before every file was read.
var ErrCanceled = errors.New("canceled before every file was read")

// canceled reports whether o.Cancel is closed.
func (o *Options) canceled() bool {
	if o.Cancel == nil {
		return false
	}
	select {
	case <-o.Cancel:
		return true
	default:
		return false
	}
}

func (o Options) maxFile() int64 {
	if o.MaxFileBytes > 0 {
		return o.MaxFileBytes
	}
	return DefaultMaxFileBytes
}

func (o Options) maxRecord() int64 {
	if o.MaxRecordBytes > 0 {
		return o.MaxRecordBytes
	}
	return DefaultMaxRecordBytes
}

// recParser turns one JSON value into a Record. It owns the scratch
// buffers and is reused from record to record; it is not safe for
// concurrent use.
type recParser struct {
	opt    Options
	s      scanner
	lookup []byte // decoded CloudTrailEvent of a LookupEvents element
	fbID   string // a LookupEvents element's EventId
	fbTime time.Time
	slab   []byte // records' memory is cut from it
	// keep, when set (ParsePathsParallel with Borrow), holds what a
	// record cannot alias in the file's buffer, until the file's records
	// have all been emitted; stable says the scanner's input is that
	// buffer (not a decoded LookupEvents element).
	keep   *fileMem
	stable bool
}

// fileMem is the memory of one file's borrowed records that is not the
// file's own buffer: compacted or redacted raws and decoded strings, cut
// from recycled blocks that go back to the free list once every record of
// the file has been emitted.
type fileMem struct {
	free   freeList[*[]byte]
	blocks []*[]byte
	cur    []byte
}

// take returns an empty slice with room for n bytes that nothing else
// will write to until release.
func (m *fileMem) take(n int) []byte {
	if n > slabSize {
		return make([]byte, 0, n) // rare: not recycled
	}
	if cap(m.cur)-len(m.cur) < n {
		b := m.free.get(func() *[]byte { b := make([]byte, 0, slabSize); return &b })
		m.blocks = append(m.blocks, b)
		m.cur = (*b)[:0]
	}
	k := len(m.cur)
	m.cur = m.cur[:k+n]
	return m.cur[k : k : k+n]
}

// release returns the blocks to the free list: the records cut from them
// must be gone.
func (m *fileMem) release() {
	for _, b := range m.blocks {
		*b = (*b)[:0]
		m.free.put(b)
	}
	m.blocks, m.cur = m.blocks[:0], nil
}

// slabSize is how much memory records are cut from at once.
const slabSize = 32 << 10

var recParsers = sync.Pool{New: func() any { return new(recParser) }}

// ParseRecord parses one CloudTrail record: its JSON object as found in a
// trail file (surrounding whitespace allowed), or one LookupEvents element
// whose CloudTrailEvent holds the record as a string. Record.Raw is the
// compact record with secrets redacted; parsing a Raw again yields the
// same Record, which is how replay rebuilds the store.
func ParseRecord(raw []byte) (Record, error) {
	return ParseRecordWith(raw, Options{})
}

// ParseRecordWith is ParseRecord with options (MaxRecordBytes, Intern).
func ParseRecordWith(raw []byte, opt Options) (Record, error) {
	p := recParsers.Get().(*recParser)
	defer recParsers.Put(p)
	p.opt = opt
	pos := jsonscan.SkipWS(raw, 0)
	if pos == len(raw) {
		return Record{}, errors.New("empty input")
	}
	var rec Record
	end, reason, serr := p.one(raw, pos, &rec)
	if serr != nil {
		return Record{}, serr
	}
	if jsonscan.SkipWS(raw, end) != len(raw) {
		return Record{}, fmt.Errorf("invalid JSON at byte %d: data after the record", jsonscan.SkipWS(raw, end))
	}
	if reason != "" {
		return Record{}, errors.New(reason)
	}
	return rec, nil
}

// kindName names a JSON value kind for messages.
func kindName(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// one scans the value at in[pos] (not whitespace) as one record, into
// rec. A syntax error means the value's extent is unknown; a reason means
// the value was valid JSON but is not a usable record, and end is past it.
func (p *recParser) one(in []byte, pos int, rec *Record) (end int, reason string, serr *syntaxError) {
	s := &p.s
	s.reset(in, pos)
	end, serr = s.value(pos, ctxTop)
	if serr != nil {
		return end, "", serr
	}
	if in[pos] != '{' {
		return end, "record is " + kindName(in[pos]) + ", not an object", nil
	}
	if limit := p.opt.maxRecord(); int64(end-pos) > limit {
		return end, fmt.Sprintf("record is %d bytes, over the limit of %d (MaxRecordBytes)", end-pos, limit), nil
	}
	if s.fields[fCloudTrailEvent].kind == vAbsent {
		p.fbID, p.fbTime = "", time.Time{}
		p.stable = true
		return end, p.build(pos, end, rec), nil
	}
	reason = p.lookupElement()
	if reason == "" {
		p.stable = false
		reason = p.build(p.lookupStart(), len(p.lookup), rec)
	}
	return end, reason, nil
}

// lookupStart is where the decoded CloudTrailEvent's value begins.
func (p *recParser) lookupStart() int { return jsonscan.SkipWS(p.lookup, 0) }

// lookupElement handles a LookupEvents element: it keeps the element's
// EventId and EventTime as fallbacks, decodes the CloudTrailEvent string
// and scans it, leaving the scanner on the inner record.
func (p *recParser) lookupElement() string {
	s := &p.s
	ct := s.fields[fCloudTrailEvent]
	if ct.kind != vString {
		return "CloudTrailEvent is " + kindName(s.in[ct.start]) + ", not a string"
	}
	p.fbID = ""
	if id := s.text(fLookupID); len(id) > 0 {
		p.fbID = string(id)
	}
	p.fbTime = time.Time{}
	switch lt := s.fields[fLookupTime]; lt.kind {
	case vNumber:
		p.fbTime, _ = parseEpoch(s.in[lt.start:lt.end])
	case vString:
		b := s.text(fLookupTime)
		var ok bool
		if p.fbTime, ok = parseTime(b); !ok {
			p.fbTime, _ = parseEpoch(b)
		}
	}
	body := s.in[ct.start:ct.end]
	if ct.esc {
		p.lookup = jsonscan.Unquote(p.lookup[:0], body)
	} else {
		p.lookup = append(p.lookup[:0], body...)
	}
	if limit := p.opt.maxRecord(); int64(len(p.lookup)) > limit {
		return fmt.Sprintf("CloudTrailEvent is %d bytes, over the limit of %d (MaxRecordBytes)", len(p.lookup), limit)
	}
	start := p.lookupStart()
	if start == len(p.lookup) {
		return "CloudTrailEvent is empty"
	}
	s.reset(p.lookup, start)
	end, serr := s.value(start, ctxTop)
	if serr != nil {
		return "CloudTrailEvent: " + serr.Error()
	}
	if jsonscan.SkipWS(p.lookup, end) != len(p.lookup) {
		return fmt.Sprintf("CloudTrailEvent: invalid JSON at byte %d: data after the record", jsonscan.SkipWS(p.lookup, end))
	}
	if p.lookup[start] != '{' {
		return "CloudTrailEvent holds " + kindName(p.lookup[start]) + ", not an object"
	}
	p.lookup = p.lookup[:end]
	return p.carryFallbacks(start)
}

// carryFallbacks adds to a LookupEvents record that has no eventID or no
// time of its own the element's EventId and EventTime that stand in for
// them, as its last members (the last of duplicates wins), and scans it
// again: its Raw then carries what the Record was built from, and parsing
// that Raw again (replay) gives the same Record.
func (p *recParser) carryFallbacks(start int) string {
	s := &p.s
	var extra []string
	if s.fields[fEventTime].kind == vAbsent && s.fields[fTimestamp].kind == vAbsent && !p.fbTime.IsZero() {
		extra = append(extra, `"eventTime":"`+p.fbTime.Format(time.RFC3339Nano)+`"`)
	}
	if id := s.fields[fEventID]; p.fbID != "" && (id.kind == vAbsent || id.kind == vNull || id.kind == vString && id.start == id.end) {
		q, err := json.Marshal(p.fbID) // valid UTF-8: decoded by text
		if err != nil {
			return "EventId: " + err.Error()
		}
		extra = append(extra, `"eventID":`+string(q))
	}
	if len(extra) == 0 {
		return ""
	}
	last := len(p.lookup) - 1 // the closing brace
	body := bytes.TrimRight(p.lookup[:last], " \t\r\n")
	p.lookup = p.lookup[:len(body)]
	if body[len(body)-1] != '{' {
		p.lookup = append(p.lookup, ',')
	}
	p.lookup = append(p.lookup, strings.Join(extra, ",")...)
	p.lookup = append(p.lookup, '}')
	s.reset(p.lookup, start)
	end, serr := s.value(start, ctxTop)
	if serr != nil || end != len(p.lookup) {
		return "CloudTrailEvent: cannot carry EventId or EventTime" // cannot happen
	}
	return ""
}

// internable lists the fields that go through Options.Intern.
var internable = [numFields]bool{
	fEventName: true, fEventSource: true, fEventType: true, fRegion: true,
	fSourceIP: true, fUserAgent: true, fErrorCode: true, fRecipient: true,
	fIdType: true, fIdARN: true, fIdPrincipal: true, fIdAccount: true,
	fIdUser: true, fIdKey: true, fIdInvokedBy: true, fIssuerARN: true,
	fIssuerUser: true,
}

// stringFields are the captured strings that become Record fields.
var stringFields = [...]field{
	fEventID, fEventName, fEventSource, fEventType, fRegion, fSourceIP,
	fUserAgent, fErrorCode, fErrorMessage, fRequestID, fRecipient,
	fIdType, fIdARN, fIdPrincipal, fIdAccount, fIdUser, fIdKey,
	fIdInvokedBy, fIssuerARN, fIssuerUser, fRoleARN, fRoleSession, fName,
	fCredKey, fAddReason, fAddFields, fAddRequestID, fAddEventID,
}

// take returns room for n bytes that no later record will write to: from
// the file's recycled blocks (keep), else from the parser's slab.
func (p *recParser) take(n int) []byte {
	if p.keep != nil {
		return p.keep.take(n)
	}
	if cap(p.slab)-len(p.slab) < n {
		p.slab = make([]byte, 0, max(slabSize, n))
	}
	k := len(p.slab)
	p.slab = p.slab[:k+n]
	return p.slab[k : k : k+n]
}

// build makes rec the Record of the scanned object in[start:end], or
// says why it cannot.
func (p *recParser) build(start, end int, rec *Record) string {
	s := &p.s
	*rec = Record{}

	// Time first: without one the record cannot be placed.
	var ok bool
	switch {
	case s.fields[fEventTime].kind != vAbsent:
		if rec.EventTime, ok = p.timeOf(fEventTime); !ok {
			return "eventTime " + p.quoted(fEventTime) + " is not a time"
		}
		if !representable(rec.EventTime) {
			return "eventTime " + p.quoted(fEventTime) + " is out of range: " + timeRange
		}
	case s.fields[fTimestamp].kind != vAbsent:
		if rec.EventTime, ok = p.timeOf(fTimestamp); !ok {
			return "@timestamp " + p.quoted(fTimestamp) + " is not a time"
		}
		if !representable(rec.EventTime) {
			return "@timestamp " + p.quoted(fTimestamp) + " is out of range: " + timeRange
		}
	case !p.fbTime.IsZero():
		if !representable(p.fbTime) {
			return "EventTime " + strconv.Quote(p.fbTime.Format(time.RFC3339Nano)) + " is out of range: " + timeRange
		}
		rec.EventTime = p.fbTime
	default:
		if k := s.fields[fEventID].kind; k == vAbsent || k == vNull {
			return "no eventID, eventTime or @timestamp: not a CloudTrail record"
		}
		return "no eventTime or @timestamp"
	}
	switch s.fields[fEventID].kind {
	case vAbsent, vNull, vString:
	default:
		return "eventID is " + kindName(s.in[s.fields[fEventID].start]) + ", not a string"
	}

	// Raw and every string field share one allocation. When Raw is the
	// input as it was (compact, nothing redacted or replaced), a string
	// that needed no decoding is cut from Raw itself; the others are
	// appended past Raw's capacity, where nothing can write to them.
	raw := s.compact(start, end)
	inRaw := !s.dirty
	// Usually every string is cut from Raw as it is, at its own offset.
	plain := inRaw && !s.escaped && p.opt.Intern == nil
	var offs [numFields][2]int32
	s.arena = s.arena[:0]
	for _, f := range stringFields {
		if plain {
			break
		}
		sp := s.fields[f]
		if sp.kind != vString || sp.start == sp.end || (internable[f] && p.opt.Intern != nil) {
			continue
		}
		switch {
		case s.redMask&(1<<f) != 0:
			a := int32(len(raw) + len(s.arena))
			s.arena = append(s.arena, s.redField[f]...)
			offs[f] = [2]int32{a, int32(len(raw) + len(s.arena))}
		case inRaw && !sp.esc:
			offs[f] = [2]int32{int32(sp.start - start), int32(sp.end - start)}
		case sp.esc:
			a := int32(len(raw) + len(s.arena))
			s.arena = jsonscan.Unquote(s.arena, s.in[sp.start:sp.end])
			offs[f] = [2]int32{a, int32(len(raw) + len(s.arena))}
		default:
			a := int32(len(raw) + len(s.arena))
			s.arena = append(s.arena, s.in[sp.start:sp.end]...)
			offs[f] = [2]int32{a, int32(len(raw) + len(s.arena))}
		}
	}
	var rawStr, arenaStr string
	if p.opt.Borrow && (p.keep == nil || inRaw && p.stable) {
		// Raw stays where it is: the input, or (plain Borrow) the
		// scanner's output. With keep, the file's buffer outlives the
		// record and only decoded strings need room of their own.
		rec.Raw = raw[:len(raw):len(raw)]
		rawStr = unsafe.String(unsafe.SliceData(raw), len(raw))
		a := s.arena
		if p.keep != nil && len(a) > 0 {
			a = append(p.take(len(a)), a...)
		}
		if len(a) > 0 {
			arenaStr = unsafe.String(unsafe.SliceData(a), len(a))
		}
	} else {
		need := len(raw) + len(s.arena)
		buf := append(append(p.take(need), raw...), s.arena...)
		rec.Raw = buf[:len(raw):len(raw)]
		all := unsafe.String(unsafe.SliceData(buf), len(buf))
		rawStr, arenaStr = all[:len(raw)], all[len(raw):]
	}
	// Every captured string, cut once from where it now lives.
	var strs [numFields]string
	for _, f := range stringFields {
		if plain {
			break
		}
		o := offs[f]
		switch {
		case o[1] == 0:
			if internable[f] && p.opt.Intern != nil {
				if t := s.text(f); len(t) > 0 {
					strs[f] = p.opt.Intern(t)
				}
			}
		case int(o[0]) >= len(raw):
			strs[f] = arenaStr[int(o[0])-len(raw) : int(o[1])-len(raw)]
		default:
			strs[f] = rawStr[o[0]:o[1]]
		}
	}
	str := func(f field) string {
		if !plain {
			return strs[f]
		}
		if sp := &s.fields[f]; sp.kind == vString {
			return rawStr[sp.start-start : sp.end-start]
		}
		return ""
	}

	rec.EventID = str(fEventID)
	if rec.EventID == "" {
		rec.EventID = p.fbID
	}
	if rec.EventID == "" {
		sum := sha256.Sum256(rec.Raw)
		rec.EventID = SyntheticIDPrefix + hex.EncodeToString(sum[:16])
	}
	rec.EventName = str(fEventName)
	rec.EventSource = str(fEventSource)
	rec.EventType = str(fEventType)
	rec.Region = str(fRegion)
	rec.SourceIP = str(fSourceIP)
	rec.UserAgent = str(fUserAgent)
	rec.ErrorCode = str(fErrorCode)
	rec.ErrorMessage = str(fErrorMessage)
	rec.RequestID = str(fRequestID)
	rec.RecipientAccountID = str(fRecipient)
	rec.ReadOnly = p.readOnly()

	rec.IdentityType = str(fIdType)
	rec.PrincipalARN = str(fIdARN)
	rec.PrincipalID = str(fIdPrincipal)
	rec.AccountID = str(fIdAccount)
	rec.AccessKeyID = str(fIdKey)
	rec.InvokedBy = str(fIdInvokedBy)
	rec.SessionIssuerARN = str(fIssuerARN)
	rec.MFAAuthenticated = p.isTrue(fMFA)
	if s.fields[fCreation].kind == vString {
		rec.SessionIssuedAt, _ = parseTime(s.text(fCreation))
		if !representable(rec.SessionIssuedAt) {
			rec.SessionIssuedAt = time.Time{} // unknown rather than clamped
		}
	}
	rec.UserName = str(fIdUser)
	if rec.UserName == "" {
		rec.UserName = str(fIssuerUser)
	}
	if rec.UserName == "" {
		rec.UserName = lastSegment(rec.PrincipalARN)
	}

	if key := str(fCredKey); key != "" {
		m := &Minted{AccessKeyID: key, RoleARN: str(fRoleARN), SessionName: str(fRoleSession)}
		if m.SessionName == "" && rec.EventName == "GetFederationToken" {
			m.SessionName = str(fName)
		}
		if exp := s.fields[fCredExp]; exp.kind == vString {
			m.Expiration = parseExpiration(vString, s.text(fCredExp))
		} else if exp.kind == vNumber {
			m.Expiration = parseExpiration(vNumber, s.in[exp.start:exp.end])
		}
		if !representable(m.Expiration) {
			m.Expiration = time.Time{} // unknown rather than clamped
		}
		rec.Minted = m
	}
	if s.fields[fAddendum].kind == vObject {
		rec.Addendum = &Addendum{
			Reason:            str(fAddReason),
			UpdatedFields:     str(fAddFields),
			OriginalRequestID: str(fAddRequestID),
			OriginalEventID:   str(fAddEventID),
		}
	}
	return ""
}

// timeOf parses a time member: an RFC 3339 string or epoch seconds.
func (p *recParser) timeOf(f field) (time.Time, bool) {
	s := &p.s
	switch sp := s.fields[f]; sp.kind {
	case vString:
		return parseTime(s.text(f))
	case vNumber:
		return parseEpoch(s.in[sp.start:sp.end])
	}
	return time.Time{}, false
}

// quoted shows a member's value in a message: Go-quoted (so no control
// character reaches a terminal) and cut short.
func (p *recParser) quoted(f field) string {
	s := &p.s
	sp := s.fields[f]
	var b []byte
	if sp.kind == vString {
		b = s.text(f)
	} else {
		b = s.in[sp.start:min(sp.end, sp.start+64)]
		if sp.kind == vObject || sp.kind == vArray {
			return kindName(s.in[sp.start])
		}
	}
	if len(b) > 64 {
		return fmt.Sprintf("%q…", b[:64])
	}
	return fmt.Sprintf("%q", b)
}

// readOnly reads readOnly: a boolean, or "true"/"false" as text in older
// records.
func (p *recParser) readOnly() ReadOnly {
	s := &p.s
	switch s.fields[fReadOnly].kind {
	case vTrue:
		return ReadOnlyTrue
	case vFalse:
		return ReadOnlyFalse
	case vString:
		t := s.text(fReadOnly)
		switch {
		case bytes.EqualFold(t, []byte("true")):
			return ReadOnlyTrue
		case bytes.EqualFold(t, []byte("false")):
			return ReadOnlyFalse
		}
	}
	return ReadOnlyUnknown
}

// isTrue reads a flag that is true or "true".
func (p *recParser) isTrue(f field) bool {
	switch p.s.fields[f].kind {
	case vTrue:
		return true
	case vString:
		return bytes.EqualFold(p.s.text(f), []byte("true"))
	}
	return false
}

// lastSegment returns what follows an ARN's last '/', or its last ':'
// when it has no '/' ("arn:aws:iam::123456789012:root" → "root").
func lastSegment(arn string) string {
	if arn == "" {
		return ""
	}
	if i := strings.LastIndexByte(arn, '/'); i >= 0 {
		return arn[i+1:]
	}
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		return arn[i+1:]
	}
	return ""
}
