package state

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/warroom-ir/warroom/state/journal"
)

// IndexPath is where the checkpoint of the journal at path is kept.
func IndexPath(path string) string { return path + ".index" }

// DefaultIndexMin is the fewest events a journal holds before Open writes
// a checkpoint for it: below that, folding it is quicker than the file.
const DefaultIndexMin = 20000

// OpenOptions tunes Open.
type OpenOptions struct {
	// NoIndex folds the whole journal, and neither reads nor writes its
	// checkpoint.
	NoIndex bool
	// ReadOnly reads the checkpoint but never writes one.
	ReadOnly bool
	// Warn gets one line when a checkpoint is ignored or cannot be
	// written; nil discards it.
	Warn io.Writer
	// MinEvents is the fewest events a store holds before a checkpoint is
	// written for it (0: DefaultIndexMin).
	MinEvents int
	// Rebuild, when set, is why the checkpoint must not be used (a query
	// found a part of it that a full open does not read damaged: see
	// AnswerIndexed): Open ignores it, says so with this reason, folds the
	// journal whole and writes a new one.
	Rebuild error
	// keep keeps the checkpoint decoded (opened.ck), for a Replayer's
	// seeks: the store shares its arrays.
	keep bool
}

// opened is a journal opened by open: the store of every line the chain
// vouches for, the report, the replay marks of those lines, and the line
// the checkpoint used covered (0 when none was).
type opened struct {
	store *Store
	rep   journal.Report
	marks []mark
	from  int64
	// fromEvents is how many events the checkpoint held, bind its binding.
	fromEvents int
	bind       binding
	// seeks are the checkpoint's seek points and change log, with those
	// of the lines folded since.
	seeks seeks
	// ck is the checkpoint decoded, and ckInfo its file's, when
	// OpenOptions.keep asked for it and it was used.
	ck     *ckFile
	ckInfo os.FileInfo
}

// Open rebuilds the store of the journal at path, as Replay does (every
// line the chain vouches for, with the same reducer), from its checkpoint
// when it has a good one: the checkpoint's store at line S is loaded and
// only the lines after S are read, verified (chained onto line S) and
// folded. A checkpoint is used only when its SHA-256 matches its body, its
// format is this warroom's, and the journal's line S, read back at the
// offset the checkpoint names, still has the hash it was made from; else
// it is ignored (one line to opts.Warn) and rebuilt. Open then writes a
// fresh checkpoint when the journal grew well past it (see OpenOptions).
//
// What an opened checkpoint proves: the journal still ends line S where
// it did, with the same hash, so the chain of lines 1..S is the one the
// checkpoint's writer read, verified and folded. It does not re-verify
// lines 1..S (journal verify does), and it cannot prove that the file's
// store is that fold: anyone who can write the journal's folder as its
// owner can write a checkpoint that lies (see ARCHITECTURE.md).
func Open(path string, opts OpenOptions) (*Store, journal.Report, error) {
	o, err := open(path, opts)
	if err != nil {
		return nil, o.rep, err
	}
	return o.store, o.rep, nil
}

func (opts OpenOptions) warn(format string, args ...any) {
	if opts.Warn != nil {
		fmt.Fprintf(opts.Warn, "warning: "+format+"\n", args...)
	}
}

// open is Open, keeping the replay marks.
func open(path string, opts OpenOptions) (opened, error) {
	if !opts.NoIndex && opts.Rebuild != nil {
		if _, err := os.Lstat(IndexPath(path)); err == nil {
			opts.warn("%s: ignored, rebuilt from the journal: %v", IndexPath(path), opts.Rebuild)
		}
	} else if !opts.NoIndex {
		f, fi, err := loadIndexInfo(path)
		var s *Store
		if err == nil {
			if opts.keep {
				s, err = f.shared().build(-1)
			} else {
				s, err = f.build(-1)
			}
		}
		switch {
		case err == nil:
			b := f.b
			o, ok, err := foldAfter(path, s, f.marks, b, f.seeks)
			if err != nil {
				return o, err
			}
			if ok {
				if opts.keep {
					// The store shares f's arrays: an event it changes
					// in place (the folded lines did, when they logged a
					// change) spoils f (see ckFile.shared).
					taint := f.taint
					if len(o.seeks.log) > len(f.seeks.log) {
						taint.Store(true)
					}
					s.Events.onChange = func(uint32) { taint.Store(true) }
					o.ck, o.ckInfo = f, fi
				}
				opts.refresh(path, &o)
				return o, nil
			}
			opts.warn("%s: the journal's chain breaks right after its index's line %d: reading it whole", IndexPath(path), b.Mark.Seq)
		case errors.Is(err, fs.ErrNotExist):
		default:
			opts.warn("%s: ignored, rebuilt from the journal: %v", IndexPath(path), err)
		}
	}
	o := opened{store: NewStore()}
	var k seeker
	k.attach(o.store)
	rep, err := readVouched(path, o.marking(k.wrap(o.store, o.store.Apply)))
	detach(o.store)
	o.rep, o.seeks = rep, k.seeks
	if err != nil {
		return o, err
	}
	if !opts.NoIndex {
		opts.refresh(path, &o)
	}
	return o, nil
}

// marking returns fn that also keeps each line's replay mark.
func (o *opened) marking(fn func(journal.Entry) error) func(journal.Entry) error {
	return func(e journal.Entry) error {
		m := mark{off: e.Offset, at: e.At.UnixNano(), kind: markOf(e.Kind)}
		if _, err := hex.Decode(m.hash[:], []byte(e.Hash)); err != nil {
			return fmt.Errorf("journal line %d: hash %q: %w", e.Seq, e.Hash, err)
		}
		o.marks = append(o.marks, m)
		return fn(e)
	}
}

// foldAfter folds the lines after the checkpoint's into s. ok is false
// when the chain breaks so near line S that the rule of readVouched (the
// line before a broken link is not shown) reaches back into the
// checkpoint: the caller reads the journal whole.
func foldAfter(path string, s *Store, marks []mark, b binding, sk seeks) (opened, bool, error) {
	o := opened{store: s, marks: marks, from: b.Mark.Seq, fromEvents: s.Events.Len(), bind: b}
	k := seeker{seeks: sk}
	k.attach(s)
	// Line S becomes a seek point of the next checkpoint, when there are
	// lines after it (else no checkpoint is written).
	if fi, err := os.Stat(path); err == nil && fi.Size() > b.Mark.Next {
		if err := k.point(s); err != nil {
			return o, false, err
		}
	}
	rep, err := vouched(func(fn func(journal.Entry) error) (journal.Report, error) {
		return journal.ReadAfter(path, b.Mark, b.Incident, fn)
	}, o.marking(k.wrap(s, s.Apply)))
	detach(s)
	o.rep, o.seeks = rep, k.seeks
	if err != nil {
		return o, false, err
	}
	if p := rep.Problem; p != nil && p.Kind == journal.ProblemChain && int64(p.Line) <= b.Mark.Seq+2 {
		return o, false, nil
	}
	if rep.Lines == int(b.Mark.Seq) && rep.Seq == 0 {
		// No line after S: the report describes line S.
		rep.Seq, rep.Head, rep.Bytes = b.Mark.Seq, b.Mark.Hash, b.Mark.Next
		o.rep = rep
	}
	return o, true, nil
}

// loadIndex reads the checkpoint of the journal at path, checking that it
// is bound to the journal as it is now before decoding its bulk.
func loadIndex(path string) (*ckFile, error) {
	ck, _, err := loadIndexInfo(path)
	return ck, err
}

// loadIndexInfo is loadIndex, also returning the file's information.
func loadIndexInfo(path string) (*ckFile, os.FileInfo, error) {
	f, err := journal.OpenPrivate(IndexPath(path))
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	ck, err := decodeCheckpoint(f, fi.Size(), func(b binding) error { return checkBinding(path, b) })
	if err != nil {
		return ck, fi, err
	}
	// The section table after the body must hold and restate it. The
	// chunked sections after the body (records, rows, posting lists) are
	// not read here: a full open never uses them, and whoever reads one
	// checks it against its SHA-256 first (a query finding one damaged
	// has Open rebuild the file: OpenOptions.Rebuild).
	tab, err := readTable(f, fi.Size())
	if err == nil && (tab.b != ck.b || tab.n != ck.n) {
		err = fmt.Errorf("%w: its section table does not match its body", errCheckpoint)
	}
	return ck, fi, err
}

// loadSpans adds to t the records' spans the journal's checkpoint holds,
// when it is still the one bound by b (refresh carries them into the next
// checkpoint; a store opened only to be read never needs them). A span it
// cannot read is left unknown: the record is then read back with its line.
func loadSpans(path string, b binding, t *EventTable) {
	f, err := journal.OpenPrivate(IndexPath(path))
	if err != nil {
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return
	}
	tab, err := readTable(f, fi.Size())
	if err != nil || tab.b != b || tab.n > len(t.ref) {
		return
	}
	recs, err := tab.records(f, nil, tab.n)
	if err != nil {
		return
	}
	if t.spans == nil {
		t.spans = map[int64][]span{}
	}
	for id := range tab.n {
		rec := recs[uint32(id/recChunk)][recSize*(id%recChunk):]
		off, idx, v := int64(binary.LittleEndian.Uint64(rec)), binary.LittleEndian.Uint32(rec[8:]), binary.LittleEndian.Uint64(rec[12:])
		if v == 0 || idx >= 1<<20 || off > b.Mark.Next {
			continue
		}
		l := t.spans[off]
		for int(idx) >= len(l) {
			l = append(l, 0)
		}
		if l[idx] == 0 {
			l[idx] = v
		}
		t.spans[off] = l
	}
}

// refresh writes a checkpoint of o's store when it is worth one: the
// journal verified (or ends in a torn line, which a crash leaves), the
// store holds opts.MinEvents events, and there was no checkpoint or the
// lines folded after it hold a sixteenth of the events or 256 lines. A
// failure to write is a warning: the checkpoint is derived data.
func (opts OpenOptions) refresh(path string, o *opened) {
	s := o.store
	min := opts.MinEvents
	if min == 0 {
		min = DefaultIndexMin
	}
	if opts.ReadOnly || s.Seq == 0 || o.rep.Seq != s.Seq || (o.rep.Problem != nil && o.rep.Problem.Tampered()) ||
		s.Events.Len() < min || int64(len(o.marks)) != s.Seq {
		return
	}
	if o.from > 0 {
		since := s.Seq - o.from
		if since == 0 || since < 256 && s.Events.Len()-o.fromEvents < s.Events.Len()/16 {
			return
		}
	}
	if o.from > 0 {
		loadSpans(path, o.bind, s.Events)
	}
	b := binding{Incident: s.Incident.ID, Mark: journal.Mark{Seq: s.Seq, Hash: s.Head, Next: o.rep.Bytes}}
	if err := writeIndex(path, s, b, o.marks, &o.seeks); err != nil {
		opts.warn("%s: not written (the journal is read whole next time): %v", IndexPath(path), err)
		return
	}
	o.from, o.fromEvents, o.bind = s.Seq, s.Events.Len(), b
}

// writeIndex writes the checkpoint of s for the journal at path: to a new
// file (mode 0600) in the journal's folder, renamed over the old one, so
// that a reader sees the old checkpoint or the new, never half of one, and
// nothing is ever written through a symlink or into another file's inode
// (a rename replaces the name, whatever it named).
func writeIndex(path string, s *Store, b binding, marks []mark, sk *seeks) error {
	idx := IndexPath(path)
	if fi, err := os.Lstat(idx); err == nil && fi.Mode().IsRegular() {
		if jf, err := os.Stat(path); err == nil && os.SameFile(fi, jf) {
			return fmt.Errorf("%s is the journal itself", idx)
		}
		if f, err := os.Open(idx); err == nil {
			j := journal.LooksLikeJournal(f)
			f.Close()
			if j {
				return fmt.Errorf("%s looks like a journal: not replaced", idx)
			}
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(idx), filepath.Base(idx)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeCheckpoint(tmp, s, b, marks, sk); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), idx)
}
