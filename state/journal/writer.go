package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// Writer appends entries to one journal file. Several Writers, in one
// process or many, may append to the same file: every Append takes an
// exclusive flock, first reads and checks whatever the others appended
// since, chains onto the newest line, and writes its own lines with one
// write. A Writer is safe for use by several goroutines.
type Writer struct {
	mu     sync.Mutex
	f      *os.File
	path   string
	by     Actor  // as it reads back from byJSON
	byJSON []byte // the "by" object, encoded once
	c      chain  // the newest line this writer knows of
	lr     lineReader
	buf    []byte   // the lines of one Append, but for big drafts' data
	holes  []hole   // where big drafts' data goes between buf's bytes
	pieces [][]byte // buf and the big data, in order, for writeVecAt

	dirty      bool        // written but not yet fsynced
	writes     uint64      // lines written so far, to tell whether a group fsync covered them all
	timer      *time.Timer // group commit
	timerArmed bool
	fsync      func(*os.File) error // (*os.File).Sync; tests slow it down
	err        error                // sticky: a failed fsync stops the writer
	closed     bool

	now func() time.Time
}

func newWriter(f *os.File, path string, by Actor) *Writer {
	byJSON, _ := json.Marshal(by) // cannot fail: strings and an int
	w := &Writer{f: f, path: path, byJSON: byJSON, now: time.Now, fsync: (*os.File).Sync}
	_ = json.Unmarshal(byJSON, &w.by) // so w.by is what a reader decodes
	return w
}

// Create makes a new journal at path whose line 1 is an incident.opened
// entry for incidentID, written and fsynced before Create returns. opened
// is that line's data: a JSON object whose "id" is incidentID (for
// instance a marshalled state.IncidentOpened); nil means {"id":incidentID}.
// Missing parent folders are created with mode 0700; the file gets mode
// 0600. A symlink at path is never followed, and an existing file must
// belong to the user and be closed to group and other. Create fails (with an error matching fs.ErrExist) when the file
// exists and is not empty; an existing empty file is taken over.
func Create(path, incidentID string, by Actor, opened json.RawMessage) (*Writer, error) {
	fail := func(err error) (*Writer, error) { return nil, fmt.Errorf("journal: create %s: %w", path, err) }
	if incidentID == "" {
		return fail(errors.New("empty incident id"))
	}
	if !utf8.ValidString(incidentID) {
		return fail(errors.New("incident id is not valid UTF-8"))
	}
	var data []byte
	if len(opened) == 0 {
		data, _ = json.Marshal(struct {
			ID string `json:"id"`
		}{incidentID})
	} else {
		var err error
		if data, err = compactData(opened); err != nil {
			return fail(fmt.Errorf("opened data: %w", err))
		}
		if id := openedID(data); id != incidentID {
			return fail(fmt.Errorf("opened data has id %q, want %q", id, incidentID))
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fail(err)
	}
	f, err := openPrivate(path, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return fail(err)
	}
	w := newWriter(f, path, by)
	if err := w.create(incidentID, data); err != nil {
		f.Close()
		return fail(err)
	}
	return w, nil
}

func (w *Writer) create(id string, data []byte) error {
	if err := flock(w.f, lockEx); err != nil {
		return err
	}
	defer flock(w.f, lockUn)
	fi, err := w.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > 0 {
		return fmt.Errorf("%w and is not empty (%d bytes)", fs.ErrExist, fi.Size())
	}
	// The mode given to OpenFile only applies to a new file, and only
	// through the umask: set it exactly.
	if err := w.f.Chmod(0o600); err != nil {
		return err
	}
	prev := sha256.Sum256([]byte(id))
	kindJSON, _ := json.Marshal(KindOpened)
	line := appendLine(nil, 1, w.now().UTC().Round(0), w.byJSON, kindJSON, data, &prev)
	if len(line) > maxLine {
		return fmt.Errorf("line 1 would be %d bytes, more than %d", len(line), maxLine)
	}
	if p := w.c.add(line, 0, nil); p != nil {
		return p // a bug: the writer made a line its reader rejects
	}
	if _, err := w.f.WriteAt(append(line, '\n'), 0); err != nil {
		_ = w.f.Truncate(0)
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	syncDir(filepath.Dir(w.path))
	return nil
}

// syncDir fsyncs a folder so that a new file's name is durable too. It is
// best effort: some file systems refuse to fsync a folder.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Open opens an existing journal to append to it. It checks line 1 and
// finds the newest complete line (the head) without reading the lines in
// between; each Append then checks what it chains onto. A torn tail is left
// for the first Append to cut.
//
// Open refuses a symlink at path (it never follows one), a file another
// user owns, and a file group or other may read or write, saying how to
// fix it.
func Open(path string, by Actor) (*Writer, error) {
	f, err := openPrivate(path, os.O_RDWR)
	if err != nil {
		return nil, fmt.Errorf("journal: open: %w", err)
	}
	w := newWriter(f, path, by)
	if err := w.findHead(); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: open %s: %w", path, err)
	}
	return w, nil
}

func (w *Writer) findHead() error {
	if err := flock(w.f, lockSh); err != nil {
		return err
	}
	defer flock(w.f, lockUn)
	fi, err := w.f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size == 0 {
		return errors.New("the file is empty: not a journal (Create makes one)")
	}
	w.lr.reset(io.NewSectionReader(w.f, 0, size), 0)
	line, _, st, err := w.lr.next()
	switch {
	case err != nil:
		return err
	case st == lineTooLong:
		return fmt.Errorf("line 1 is longer than %d bytes", maxLine)
	case st != lineOK:
		return errors.New("line 1 is incomplete: not a journal, or its creation was cut short")
	}
	if p := w.c.add(line, 0, nil); p != nil {
		return p
	}
	nl, err := lastNewline(w.f, size, int64(maxLine))
	if err != nil {
		return err
	}
	if nl+1 <= w.c.next {
		return nil // line 1 is the newest complete line
	}
	line, off, err := lineEndingAt(w.f, nl)
	if err != nil {
		return err
	}
	var rl rawLine
	if err := parseLine(line, &rl, nil); err != nil {
		// Not a journal line: something else appended to the file. The
		// first Append reads the chain from line 2 to find where it
		// stops, and quarantines the rest.
		_ = off
		return nil
	}
	w.c.startAfter(rl.seq, sha256.Sum256(line), nl+1, rl.at)
	return nil
}

// catchUp reads and checks the lines other writers appended since w last
// looked. It is called with the exclusive lock held, so a line without a
// newline at the end is either a torn tail (its writer died in the middle
// of it) or a complete line that lost only its newline; and a line that
// does not chain was not written by a journal writer. What it finds after
// the last good line, if anything, is the tail Append repairs.
func (w *Writer) catchUp() (*tail, error) {
	fi, err := w.f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	switch {
	case size < w.c.next:
		return nil, fmt.Errorf("journal: %s is %d bytes, shorter than the %d this writer has seen: something other than a journal writer cut it", w.path, size, w.c.next)
	case size == w.c.next:
		return nil, nil
	}
	w.lr.reset(io.NewSectionReader(w.f, w.c.next, size-w.c.next), w.c.next)
	for {
		line, off, st, err := w.lr.next()
		if err != nil {
			return nil, err
		}
		switch st {
		case lineEOF:
			return nil, nil
		case lineTorn:
			if w.c.add(line, off, nil) == nil {
				// w.c now counts the line: give it its newline at once,
				// so that the file agrees with w.c whatever happens next.
				if _, err := w.f.WriteAt([]byte{'\n'}, size); err != nil {
					return nil, fmt.Errorf("journal: complete the last line of %s: %w", w.path, err)
				}
				return &tail{kind: tailCompleted, off: off, end: size + 1, bytes: len(line)}, nil
			}
			return &tail{kind: tailTorn, off: off, end: size, bytes: len(line), sum: sha256.Sum256(line),
				reason: "the last line has no newline and is not a journal line chained onto the one before: a writer stopped in the middle of it"}, nil
		case lineTooLong:
			return &tail{kind: tailQuarantined, off: off, end: size,
				reason: fmt.Sprintf("line %d is longer than %d bytes", w.c.lines+1, maxLine)}, nil
		}
		if p := w.c.add(line, off, nil); p != nil {
			return &tail{kind: tailQuarantined, off: off, end: size, reason: p.Error()}, nil
		}
	}
}

// bigData is the size from which Append writes a draft's data straight from
// the caller's slice (writeVecAt) rather than copying it into its buffer:
// event batches of megabytes were copied once more only to be written.
const bigData = 64 << 10

// hole is a big draft's data, written after buf[:at] (see bigData).
type hole struct {
	at   int
	data []byte
}

// prepared is a draft checked and encoded outside the lock.
type prepared struct {
	kind     string
	kindJSON []byte
	data     []byte
	now      bool
}

// compactData checks and compacts a draft's data. Data that is already
// compact — event batches built from compacted records, the bulk of every
// journal — is proved so in one pass (validCompact, UTF-8 included) and not
// copied: re-compacting it was most of an ingest's cost. Anything else takes
// the slow path below, which alone decides the result and the error: the
// fast check only ever accepts what it would return unchanged.
func compactData(data json.RawMessage) ([]byte, error) {
	if len(data) == 0 {
		return nil, errors.New("data is empty, not JSON")
	}
	b := []byte(data)
	if validCompact(b, 1) { // the envelope is one level of nesting
		return b, nil
	}
	end, err := jsonscan.Value(b, 0, 1, true)
	if err == nil && end == len(b) {
		if !utf8.Valid(b) {
			return nil, errors.New("data is not valid UTF-8")
		}
		return b, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return nil, fmt.Errorf("data is not valid JSON: %w", err)
	}
	b = buf.Bytes()
	if !utf8.Valid(b) {
		return nil, errors.New("data is not valid UTF-8")
	}
	if end, err := skipValue(b, 0, 1); err != nil || end != len(b) {
		if err == nil {
			err = errAt(end, "text after the value")
		}
		return nil, fmt.Errorf("data is not valid JSON: %v", err)
	}
	return b, nil
}

func prepare(i int, d Draft) (prepared, error) {
	switch {
	case d.Kind == "":
		return prepared{}, fmt.Errorf("journal: draft %d: empty kind", i)
	case d.Kind == KindOpened || d.Kind == KindRepaired:
		return prepared{}, fmt.Errorf("journal: draft %d: kind %q is written by the journal itself", i, d.Kind)
	case !utf8.ValidString(d.Kind):
		return prepared{}, fmt.Errorf("journal: draft %d: kind %q is not valid UTF-8", i, d.Kind)
	case d.Sync != SyncNow && d.Sync != SyncGroup:
		return prepared{}, fmt.Errorf("journal: draft %d: unknown sync mode %d", i, d.Sync)
	}
	data, err := compactData(d.Data)
	if err != nil {
		return prepared{}, fmt.Errorf("journal: draft %d (%q): %w", i, d.Kind, err)
	}
	kindJSON, _ := json.Marshal(d.Kind)
	return prepared{kind: d.Kind, kindJSON: kindJSON, data: data, now: d.Sync == SyncNow}, nil
}

// Append writes drafts as consecutive entries and returns them as written,
// with Seq, At, By, Prev, Offset and Hash set. Either every draft is
// written or, when any is invalid, none is.
//
// When the file does not end with the last good line, Append first repairs
// it and writes a KindRepaired entry (its data is a Repair) saying what it
// found and did: a torn line (a writer crashed mid-write) is cut; a
// complete, chained last line that lost only its newline gets it back;
// complete lines that do not chain (a stray line someone appended, a
// forged one) are cut. Whatever is cut is first kept, byte for byte, in a
// quarantine file beside the journal, and inline in the entry when short.
// The KindRepaired entry is then the first of the returned entries, and
// the append is fsynced whatever the drafts asked for.
//
// Durability follows the drafts' Sync: if any is SyncNow, every line
// written is fsynced before Append returns; otherwise see SyncGroup. If the
// lines were written but the fsync failed, Append returns them with the
// error, and the Writer refuses further work: what reached the disk is
// unknown.
func (w *Writer) Append(drafts ...Draft) ([]Entry, error) {
	if len(drafts) == 0 {
		return nil, nil
	}
	prep := make([]prepared, 0, len(drafts)+1)
	for i, d := range drafts {
		p, err := prepare(i, d)
		if err != nil {
			return nil, err
		}
		prep = append(prep, p)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	if w.err != nil {
		return nil, w.err
	}
	if err := flock(w.f, lockEx); err != nil {
		return nil, fmt.Errorf("journal: lock %s: %w", w.path, err)
	}
	defer flock(w.f, lockUn)
	t, err := w.catchUp()
	if err != nil {
		return nil, err
	}
	if t != nil {
		var r Repair
		switch t.kind {
		case tailCompleted:
			r = Repair{Offset: t.off, Bytes: int64(t.bytes), Action: RepairCompleted,
				Reason: "the last line was complete and chained but had no newline"}
		default:
			if r, err = w.quarantine(t); err != nil {
				return nil, err
			}
		}
		data, _ := json.Marshal(r)
		kindJSON, _ := json.Marshal(KindRepaired)
		prep = append([]prepared{{kind: KindRepaired, kindJSON: kindJSON, data: data, now: true}}, prep...)
	}
	// An entry's at never goes back before the line it follows: a writer
	// whose clock is behind another's would otherwise write lines that
	// look back-dated (see AtTolerance).
	at := w.now().UTC().Round(0)
	if at.Before(w.c.maxAt) {
		at = w.c.maxAt
	}
	seq, head, off := w.c.seq, w.c.head, w.c.next
	syncNow := false
	entries := make([]Entry, 0, len(prep))
	w.buf = w.buf[:0]
	defer w.forgetData()
	for i, p := range prep {
		start := len(w.buf)
		big := haveWritev && len(p.data) >= bigData
		var n, mid int // the line's length; where its data starts in buf
		if big {
			w.buf = appendHead(w.buf, seq+1, at, w.byJSON, p.kindJSON)
			mid = len(w.buf)
			w.buf = appendTail(w.buf, &head)
			n = len(w.buf) - start + len(p.data)
		} else {
			w.buf = appendLine(w.buf, seq+1, at, w.byJSON, p.kindJSON, p.data, &head)
			n = len(w.buf) - start
		}
		if n > maxLine {
			return nil, fmt.Errorf("journal: draft %d (%q): the line would be %d bytes, more than %d", i, p.kind, n, maxLine)
		}
		prev := head
		if big {
			// The line is hashed as write will write it: head, the
			// caller's data, tail.
			h := sha256.New()
			h.Write(w.buf[start:mid])
			h.Write(p.data)
			h.Write(w.buf[mid:])
			h.Sum(head[:0])
			w.holes = append(w.holes, hole{at: mid, data: p.data})
		} else {
			head = sha256.Sum256(w.buf[start:])
		}
		seq++
		entries = append(entries, Entry{
			Seq: seq, At: at, By: w.by, Kind: p.kind, Data: p.data,
			Prev: hex.EncodeToString(prev[:]), Offset: off, Hash: hex.EncodeToString(head[:]),
			DataAt: n - len(p.data) - (len(keyPrev) + 2*len(prev) + len(endLine)),
		})
		w.buf = append(w.buf, '\n')
		off += int64(n) + 1
		syncNow = syncNow || p.now
	}
	switch {
	case t == nil:
	case t.kind == tailCompleted: // catchUp wrote the newline
	default:
		if err := w.f.Truncate(t.off); err != nil {
			return nil, fmt.Errorf("journal: cut the tail of %s: %w", w.path, err)
		}
	}
	if err := w.write(); err != nil {
		// Leave no partial line behind for the next writer to repair.
		_ = w.f.Truncate(w.c.next)
		return nil, fmt.Errorf("journal: append to %s: %w", w.path, err)
	}
	w.c.lines += len(prep)
	w.c.seq, w.c.head, w.c.next, w.c.maxAt = seq, head, off, at
	w.dirty = true
	w.writes++
	if syncNow {
		if err := w.syncLocked(); err != nil {
			return entries, err
		}
	} else if !w.timerArmed {
		w.timerArmed = true
		if w.timer == nil {
			w.timer = time.AfterFunc(GroupDelay, w.groupSync)
		} else {
			w.timer.Reset(GroupDelay)
		}
	}
	return entries, nil
}

// write writes the lines Append built at the end of the file, as one
// write: buf alone, or buf with the holes' data in between. w.mu is held.
func (w *Writer) write() error {
	if len(w.holes) == 0 {
		_, err := w.f.WriteAt(w.buf, w.c.next)
		return err
	}
	w.pieces = w.pieces[:0]
	from := 0
	for _, h := range w.holes {
		w.pieces = append(w.pieces, w.buf[from:h.at], h.data)
		from = h.at
	}
	w.pieces = append(w.pieces, w.buf[from:])
	return writeVecAt(w.f, w.pieces, w.c.next)
}

// forgetData drops the references to callers' data that Append took for
// write: a Writer keeps nothing of a draft after Append returns.
func (w *Writer) forgetData() {
	clear(w.holes)
	clear(w.pieces)
	w.holes, w.pieces = w.holes[:0], w.pieces[:0]
}

// groupSync is the group-commit timer's work. It fsyncs without holding
// w.mu, so that appends go on while the disk catches up (a 10 ms fsync
// held every writer up, and with it whatever fed them); lines written
// meanwhile are left dirty, and their Append armed the next timer.
func (w *Writer) groupSync() {
	w.mu.Lock()
	w.timerArmed = false
	if w.closed || !w.dirty || w.err != nil {
		w.mu.Unlock()
		return
	}
	covered := w.writes
	w.mu.Unlock()
	// A Close meanwhile waits for this fsync: the file's descriptor is
	// released only when its last operation returns.
	err := w.fsync(w.f)
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		if w.err == nil && !w.closed {
			w.err = fsyncErr(w.path, err) // kept for the next call
		}
		return
	}
	if w.writes == covered {
		w.dirty = false
	}
}

// syncLocked fsyncs the file; w.mu is held.
func (w *Writer) syncLocked() error {
	if err := w.fsync(w.f); err != nil {
		w.err = fsyncErr(w.path, err)
		return w.err
	}
	w.dirty = false
	return nil
}

func fsyncErr(path string, err error) error {
	return fmt.Errorf("journal: fsync %s: %w (entries since the last fsync may be lost; this writer stops)", path, err)
}

// Sync fsyncs every entry this Writer has written. After it returns nil
// they are on stable storage.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return ErrClosed
	case w.err != nil:
		return w.err
	case w.dirty:
		return w.syncLocked()
	}
	return nil
}

// Close fsyncs what is not yet synced and closes the file. Closing twice
// is harmless.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.timer != nil {
		w.timer.Stop()
	}
	err := w.err
	if err == nil && w.dirty {
		err = w.syncLocked()
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("journal: close %s: %w", w.path, cerr)
	}
	return err
}

// IncidentID returns the id from line 1.
func (w *Writer) IncidentID() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.id
}

// Head returns the seq and hash (hex) of the newest line this Writer has
// written or read. Published somewhere safe, the hash lets Verify show
// later that the journal was not cut back (VerifyOptions.Head).
func (w *Writer) Head() (seq int64, hash string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.c.seq, hex.EncodeToString(w.c.head[:])
}
