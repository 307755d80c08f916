package state

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/warroom-ir/warroom/state/journal"
)

// Replayer is a journal opened for replay: its chain verified once, and
// every line the chain vouches for indexed (offset, time, kind, hash) so
// that the console (and the report) can fold the journal to any position. It keeps no payloads: a position is reached
// by folding the lines again, with the same reducer the live console uses,
// so a replay shows exactly what the live console showed.
//
// Positions count facts: position n is the store after facts 1..n (fact 1
// is the incident.opened line). Position 0 is the empty store.
type Replayer struct {
	path   string
	file   *journal.File
	marks  []mark
	report journal.Report
	// end is the store at the last position, as opened (handed to the
	// first Fold that asks for it); from is the line the journal's
	// checkpoint covered when it was opened (0: none).
	end  *Store
	from int64
	// ck is the checkpoint as decoded to open the journal (or by the
	// first seek that read it), and ckInfo its file's when it was: seeks
	// build from a copy of it rather than decoding the file again (see
	// checkpoint), until the end store, which shares its arrays, changes
	// one in place (ckFile.shared).
	ck     *ckFile
	ckInfo os.FileInfo
	// seekBytes is what a seek's arrays take at most (see Warm), and warm
	// the memory Warm made ready for the next seek (under warmMu: Warm
	// runs aside).
	seekBytes int
	warmMu    sync.Mutex
	warm      *arena
}

// mark is one indexed journal line.
type mark struct {
	off  int64
	at   int64 // unix nanoseconds
	hash [32]byte
	kind markKind
}

// markKind classifies a fact for the timeline's jumps.
type markKind uint8

const (
	markOther  markKind = iota
	markAction          // action.intent, action.result, action.verify
	markNote            // note
)

func markOf(kind string) markKind {
	switch Kind(kind) {
	case KindActionIntent, KindActionResult, KindActionVerify:
		return markAction
	case KindNote:
		return markNote
	}
	return markOther
}

// errStop ends a journal.Read early; it never leaves this file.
var errStop = errors.New("stop")

// OpenReplay opens the journal at path for replay (OpenReplayWith, with
// no warnings shown).
func OpenReplay(path string) (*Replayer, error) { return OpenReplayWith(path, OpenOptions{}) }

// OpenReplayWith opens the journal at path for replay through Open, by
// the rule Replay follows (readVouched): from its checkpoint when it has a
// good one (lines up to it are indexed from the checkpoint, the rest read
// and verified), else read whole, which writes the checkpoint. A broken
// chain is not an error: the replay holds the lines before the break (less
// the line before a broken link), and Report says where and why it broke.
// The error is for I/O.
func OpenReplayWith(path string, opts OpenOptions) (*Replayer, error) {
	opts.keep = true
	o, err := open(path, opts)
	if err != nil {
		return nil, err
	}
	f, err := journal.OpenFile(path)
	if err != nil {
		return nil, err
	}
	r := &Replayer{path: path, file: f, marks: o.marks, report: o.rep, end: o.store, from: o.from}
	if o.ck != nil && o.from == o.ck.b.Mark.Seq {
		// The checkpoint as decoded to open: seeks build from it.
		r.ck, r.ckInfo = o.ck, o.ckInfo
		// Every array a seek carves (ckFile.cloneIn), each aligned.
		r.seekBytes = (o.ck.n+2*seekEvents)*seekEventBytes + 32*(numCols+6)
	}
	return r, nil
}

// seekEventBytes is what a seek's store holds of each event of the
// checkpoint it copies (ckFile.cloneIn): a value per column and the event
// id, the time, the UUID, the ref, readOnly and the flags.
const seekEventBytes = 4*(numCols+1) + 8 + 16 + int(unsafe.Sizeof(EventRef{})) + 1 + 1

// Warm makes the next seek about as quick as the ones after it. A seek
// copies the checkpoint's arrays into memory of its own; memory the
// process has never used costs a page fault every 4 KB, which on a virtual
// machine costs more than the copy (a first seek on a million events:
// 320-370 ms and 12,000-30,000 faults without it). Warm makes that memory
// ready (an arena, every page written once) and the next seek copies into
// it. The interactive replay runs it aside while the first frame is looked
// at (a replay that prints one frame does not); it does nothing when the
// journal was not opened from a checkpoint, or when memory is ready.
func (r *Replayer) Warm() {
	if r.seekBytes <= 0 {
		return
	}
	r.warmMu.Lock()
	ready := r.warm != nil
	r.warmMu.Unlock()
	if ready {
		return
	}
	a := newArena(r.seekBytes)
	r.warmMu.Lock()
	r.warm = a
	r.warmMu.Unlock()
}

// takeWarm returns the memory Warm made ready, once.
func (r *Replayer) takeWarm() *arena {
	r.warmMu.Lock()
	defer r.warmMu.Unlock()
	a := r.warm
	r.warm = nil
	return a
}

// Close releases the journal file.
func (r *Replayer) Close() error { return r.file.Close() }

// Path returns the journal's path.
func (r *Replayer) Path() string { return r.path }

// Len returns the number of facts that can be replayed: the good lines.
func (r *Replayer) Len() int { return len(r.marks) }

// Report returns what verifying the journal found.
func (r *Replayer) Report() journal.Report { return r.report }

// Time returns the journal time of fact n (1-based).
func (r *Replayer) Time(n int) time.Time {
	if n < 1 || n > len(r.marks) {
		return time.Time{}
	}
	return time.Unix(0, r.marks[n-1].at).UTC()
}

// Clamp limits a position to the replayable range.
func (r *Replayer) Clamp(n int) int {
	return max(min(n, len(r.marks)), min(1, len(r.marks)))
}

// foldBatch is how many entries Fold's reader hands its applier at a time.
const foldBatch = 4096

// Fold returns a new store holding facts 1..n, read and verified from the
// journal again (the chain up to n must still be the one indexed). ctx
// cancels a fold that a newer seek made useless.
//
// Reading (which verifies every line's hash) and applying take about as
// long as each other, so they run side by side: this goroutine reads and
// hands batches of entries to another that applies them, in order.
func (r *Replayer) Fold(ctx context.Context, n int) (*Store, error) {
	n = max(min(n, len(r.marks)), 0)
	if end := r.end; end != nil {
		r.end = nil
		if n == len(r.marks) && end.Seq == int64(n) && n > 0 && ctx.Err() == nil {
			// The line it ends on must still be there, as indexed; if it
			// is not, the fold below says what changed.
			if e, err := r.file.ReadAt(r.marks[n-1].off); err == nil && r.check(n, e) == nil {
				return end, nil
			}
		}
	}
	if r.from > 0 && n > 0 {
		if s, err := r.foldIndexed(ctx, n); err == nil {
			return s, nil
		} else if ctx.Err() != nil {
			return nil, err
		}
		// The checkpoint changed or went: fold from the start.
	}
	s := NewStore()
	if n == 0 {
		return s, nil
	}
	s.Grow(n)
	batches := make(chan []journal.Entry, 4)
	applied := make(chan error, 1)
	go func() {
		var err error
		for b := range batches {
			for i := 0; i < len(b) && err == nil; i++ {
				if i&1023 == 0 && ctx.Err() != nil {
					err = ctx.Err()
					break
				}
				err = s.Apply(b[i])
			}
			// After an error, keep draining so that the reader never
			// blocks on a send.
		}
		applied <- err
	}()
	i := 0
	batch := make([]journal.Entry, 0, foldBatch)
	_, err := journal.Read(r.path, func(e journal.Entry) error {
		if i&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		batch = append(batch, e)
		i++
		if i == n {
			// The chain is verified from line 1, so line n's hash
			// vouches for every line before it.
			if err := r.check(n, e); err != nil {
				return err
			}
			return errStop
		}
		if len(batch) == foldBatch {
			batches <- batch
			batch = make([]journal.Entry, 0, foldBatch)
		}
		return nil
	})
	if errors.Is(err, errStop) {
		batches <- batch
	}
	close(batches)
	// An apply error is about an entry read before whatever stopped the
	// reader, so it comes first.
	if aerr := <-applied; aerr != nil {
		return nil, aerr
	}
	switch {
	case errors.Is(err, errStop):
		return s, nil
	case err != nil:
		return nil, err
	}
	return nil, fmt.Errorf("journal %s: ends after %d facts, %d were indexed: it changed since it was opened", r.path, i, len(r.marks))
}

// foldIndexed is Fold from the journal's checkpoint, which must still be
// the one at line r.from and match the journal.
func (r *Replayer) foldIndexed(ctx context.Context, n int) (*Store, error) {
	f, err := r.checkpoint()
	if err != nil {
		return nil, err
	}
	// The checkpoint itself, or the last seek point before n.
	k := -1
	if f.b.Mark.Seq > int64(n) {
		if k = f.seeks.before(int64(n)); k < 0 {
			return nil, fmt.Errorf("journal %s: no seek point before fact %d", r.path, n)
		}
	}
	c, err := f.cloneIn(k, r.takeWarm())
	if err == nil && f.tainted() {
		// The store opened from it changed an event in place while it
		// was copied: decode the file again.
		r.ck = nil
		if f, err = r.checkpoint(); err != nil {
			return nil, err
		}
		c, err = f.clone(k)
	}
	if err != nil {
		return nil, err
	}
	f = c
	if f.b.Mark.Seq < 1 || f.b.Mark.Seq > int64(len(r.marks)) || f.b.Mark.Hash != hex.EncodeToString(r.marks[f.b.Mark.Seq-1].hash[:]) {
		return nil, fmt.Errorf("journal %s: its checkpoint is not at a line of this replay", r.path)
	}
	s, err := f.build(k)
	if err != nil {
		return nil, err
	}
	b := binding{Incident: f.b.Incident, Mark: journal.Mark{Seq: s.Seq, Hash: s.Head, Next: f.b.Mark.Next}}
	if k >= 0 {
		b.Mark.Next = r.marks[s.Seq].off
	}
	if b.Mark.Seq == int64(n) {
		return s, nil
	}
	i := int(b.Mark.Seq)
	_, err = journal.ReadAfter(r.path, b.Mark, b.Incident, func(e journal.Entry) error {
		if i&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		i++
		if err := r.check(i, e); err != nil {
			return err
		}
		if err := s.Apply(e); err != nil {
			return err
		}
		if i == n {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) {
		if err == nil {
			err = fmt.Errorf("journal %s: ends after %d facts, %d were indexed: it changed since it was opened", r.path, i, len(r.marks))
		}
		return nil, err
	}
	return s, nil
}

// check reports whether e is still fact n as indexed.
func (r *Replayer) check(n int, e journal.Entry) error {
	want := hex.EncodeToString(r.marks[n-1].hash[:])
	if e.Hash != want || e.Seq != int64(n) {
		return fmt.Errorf("journal %s: fact %d (offset %d) changed since the replay opened it", r.path, n, r.marks[n-1].off)
	}
	return nil
}

// Entries reads facts from+1..to (1-based, inclusive), checking each
// against the index.
func (r *Replayer) Entries(from, to int) ([]journal.Entry, error) {
	from, to = max(from, 0), min(to, len(r.marks))
	if to <= from {
		return nil, nil
	}
	out := make([]journal.Entry, 0, to-from)
	for n := from + 1; n <= to; n++ {
		e, err := r.file.ReadAt(r.marks[n-1].off)
		if err != nil {
			return nil, err
		}
		if err := r.check(n, e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// NextMark returns the first position after pos whose fact is an action
// fact or a note, or 0 when there is none.
func (r *Replayer) NextMark(pos int) int {
	for n := max(pos+1, 1); n <= len(r.marks); n++ {
		if r.marks[n-1].kind != markOther {
			return n
		}
	}
	return 0
}

// PrevMark returns the last position before pos whose fact is an action
// fact or a note, or 0 when there is none.
func (r *Replayer) PrevMark(pos int) int {
	for n := min(pos-1, len(r.marks)); n >= 1; n-- {
		if r.marks[n-1].kind != markOther {
			return n
		}
	}
	return 0
}

// PositionAt returns the position "as of" t: the last fact, in journal
// order, before the first fact journaled after t. It is 1 (the opening
// line) when t is before every fact.
func (r *Replayer) PositionAt(t time.Time) int {
	ns := t.UnixNano()
	for i, m := range r.marks {
		if m.at > ns {
			return r.Clamp(i)
		}
	}
	return len(r.marks)
}

// PlayTo returns the position play reaches from pos when the journal clock
// stands at vclock: every following fact journaled at or before vclock, at
// most limit of them.
func (r *Replayer) PlayTo(pos int, vclock int64, limit int) int {
	n := pos
	for n < len(r.marks) && n-pos < limit && r.marks[n].at <= vclock {
		n++
	}
	return n
}

// ParsePosition reads a position typed by the responder (or given to
// warroom replay --at): "start", "end", a fact number ("1234" or "#1234"),
// a time (RFC 3339, "2006-01-02 15:04[:05]", or "15:04[:05]" on the day of
// cur, all UTC), or an offset from cur ("+5m", "-1h30m"). cur is the
// current "as of" time.
func (r *Replayer) ParsePosition(s string, cur time.Time) (int, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return 0, errors.New("say where: start, end, a fact number, a time (15:04, RFC 3339) or +/-duration")
	case "start", "begin", "first":
		return r.Clamp(1), nil
	case "end", "last":
		return len(r.marks), nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(s, "#")); err == nil {
		if n < 1 || n > len(r.marks) {
			return 0, fmt.Errorf("fact %d is outside 1..%d", n, len(r.marks))
		}
		return n, nil
	}
	if s[0] == '+' || s[0] == '-' {
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration like +5m or -1h30m", s)
		}
		return r.PositionAt(cur.Add(d)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return r.PositionAt(t), nil
		}
	}
	for _, layout := range []string{"15:04:05", "15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			c := cur.UTC()
			day := time.Date(c.Year(), c.Month(), c.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
			return r.PositionAt(day), nil
		}
	}
	return 0, fmt.Errorf("%q is not a position: start, end, a fact number, a time (15:04, RFC 3339) or +/-duration", s)
}

// Banner describes a journal that did not verify, for the line above the
// panes; "" when it verified.
func (r *Replayer) Banner() string {
	p := r.report.Problem
	if p == nil {
		return ""
	}
	if p.Tampered() {
		return fmt.Sprintf("✗ journal NOT intact: replaying facts 1-%d only; line %d (offset %d): %s: %s",
			len(r.marks), p.Line, p.Offset, p.Kind, p.Reason)
	}
	return fmt.Sprintf("! last line torn (a crash mid-write): replaying the %d complete facts; line %d (offset %d): %s",
		len(r.marks), p.Line, p.Offset, p.Reason)
}

// checkpoint returns the journal's checkpoint (not to be changed: build
// from a clone), decoded (and
// checked) once and kept while its file stays the same one, of the same
// size and time, and its binding still holds (line 1 is its incident's,
// line S still has its hash, checked again each time, as loadIndex does).
func (r *Replayer) checkpoint() (*ckFile, error) {
	fi, err := os.Stat(IndexPath(r.path))
	if err != nil {
		r.ck = nil
		return nil, err
	}
	if r.ck == nil || r.ck.tainted() || !os.SameFile(fi, r.ckInfo) || fi.Size() != r.ckInfo.Size() || !fi.ModTime().Equal(r.ckInfo.ModTime()) {
		r.ck = nil
		f, err := loadIndex(r.path)
		if err != nil {
			return nil, err
		}
		r.ck, r.ckInfo = f, fi
	} else if err := checkBinding(r.path, r.ck.b); err != nil {
		r.ck = nil
		return nil, err
	}
	return r.ck, nil
}
