package journal

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"iter"
	"os"
	"time"
)

// Follow reads a journal that another process may be writing, and yields
// its entries as they are appended, verified and chained on one another,
// until ctx is cancelled (then the sequence just ends) or a problem is
// found (then it yields one last pair: a zero Entry and the error, a
// *Problem for a break in the chain, and ends).
//
// from is where to start: 0 for the whole journal from line 1, or the
// offset just past a complete line, such as Report.Bytes from an earlier
// Read; then the entries after it are chained onto that line, which is
// trusted as is. A last line without a newline is waited for, not reported:
// a writer may be finishing it, and if that writer died, the next one cuts
// it and appends a KindRepaired entry, which Follow then yields. New lines
// are seen within PollInterval. Follow never modifies the file.
//
// When the path stops naming the file Follow opened (another file was
// renamed over it, or it was removed), Follow yields an error saying the
// journal was replaced and ends: it never goes on silently showing a file
// no one writes.
//
// Breaking out of the range loop stops Follow too.
func Follow(ctx context.Context, path string, from int64) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		fl := &follower{path: path}
		if err := fl.open(from); err != nil {
			yield(Entry{}, err)
			return
		}
		defer fl.f.Close()
		tick := time.NewTicker(PollInterval)
		defer tick.Stop()
		for {
			if ctx.Err() != nil {
				return
			}
			if !fl.poll(yield) {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}
}

// follower is Follow's state between polls.
type follower struct {
	path     string
	f        *os.File
	c        chain
	lr       lineReader
	lastSize int64
	partial  bool // the last poll ended on a line without a newline
}

func (fl *follower) open(from int64) error {
	f, err := os.Open(fl.path)
	if err != nil {
		return fmt.Errorf("journal: follow: %w", err)
	}
	fl.f = f
	fl.lastSize = -1
	if from < 0 {
		f.Close()
		return fmt.Errorf("journal: follow %s: negative offset %d", fl.path, from)
	}
	if from == 0 {
		return nil
	}
	line, _, err := lineEndingAt(f, from-1)
	if err == nil {
		var b [1]byte
		if err = readAt(f, b[:], from-1); err == nil && b[0] != '\n' {
			err = fmt.Errorf("offset %d is not the end of a line", from)
		}
	}
	var rl rawLine
	if err == nil {
		err = parseLine(line, &rl, nil)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("journal: follow %s from %d: %w", fl.path, from, err)
	}
	fl.c.startAfter(rl.seq, sha256.Sum256(line), from, rl.at)
	return nil
}

// poll reads what was appended since the last poll and yields it. It
// returns false when Follow must stop.
func (fl *follower) poll(yield func(Entry, error) bool) bool {
	fi, err := fl.f.Stat()
	if err != nil {
		yield(Entry{}, fmt.Errorf("journal: follow %s: %w", fl.path, err))
		return false
	}
	// The file open is the journal only while the path still names it: a
	// rename over it, or its removal, would leave this view silently stale.
	if cur, err := os.Stat(fl.path); err != nil || !os.SameFile(fi, cur) {
		why := "another file was renamed over it"
		if err != nil {
			why = fmt.Sprintf("the path no longer names it (%v)", err)
		}
		yield(Entry{}, fmt.Errorf("journal: follow %s: the journal was replaced: %s; what is shown is the old file, which no writer appends to any more; follow the path again", fl.path, why))
		return false
	}
	size := fi.Size()
	if size < fl.c.next {
		yield(Entry{}, fmt.Errorf("journal: follow %s: the file shrank to %d bytes, below the %d already read: it was cut back", fl.path, size, fl.c.next))
		return false
	}
	// A partial line is read again on every poll rather than kept: if its
	// writer died, the next writer replaces it.
	if size == fl.lastSize && !fl.partial {
		return true
	}
	fl.lastSize = size
	fl.partial = false
	fl.lr.reset(io.NewSectionReader(fl.f, fl.c.next, size-fl.c.next), fl.c.next)
	var e Entry
	for {
		line, off, st, err := fl.lr.next()
		if err != nil {
			yield(Entry{}, fmt.Errorf("journal: follow %s: %w", fl.path, err))
			return false
		}
		switch st {
		case lineEOF:
			return true
		case lineTorn:
			fl.partial = true
			return true
		case lineTooLong:
			yield(Entry{}, &Problem{Kind: ProblemTooLong, Line: fl.c.lines + 1, Offset: off,
				Reason: fmt.Sprintf("longer than %d bytes without a newline", maxLine)})
			return false
		}
		if p := fl.c.add(line, off, &e); p != nil {
			yield(Entry{}, p)
			return false
		}
		if !yield(e, nil) {
			return false
		}
	}
}

// Tail reads a journal a piece at a time, in one goroutine: each Read
// verifies and hands over the complete lines appended since the last one,
// chained onto those before, with Follow's checks (a last line without a
// newline is left for the next Read; a file replaced, cut back, or whose
// chain breaks is an error). Once a Read fails, every later one returns the
// same error.
type Tail struct {
	fl  follower
	err error
}

// OpenTail opens the journal at path for Read, which starts at line 1.
func OpenTail(path string) (*Tail, error) {
	t := &Tail{fl: follower{path: path}}
	if err := t.fl.open(0); err != nil {
		return nil, err
	}
	return t, nil
}

// Read calls fn with every line appended since the last Read, in order.
// An error from fn stops the reading and is returned (and kept).
func (t *Tail) Read(fn func(Entry) error) error {
	if t.err != nil {
		return t.err
	}
	t.fl.poll(func(e Entry, err error) bool {
		if err == nil {
			err = fn(e)
		}
		t.err = err
		return err == nil
	})
	return t.err
}

// Offset is where the next Read starts: just past the last line handed
// over.
func (t *Tail) Offset() int64 { return t.fl.c.next }

// Close closes the file.
func (t *Tail) Close() error { return t.fl.f.Close() }
