package state

import (
	"errors"
	"fmt"

	"github.com/warroom-ir/warroom/state/journal"
)

// Replay rebuilds a store from a journal file with the same reducer the live
// console uses. It verifies the chain while reading: the store holds every
// line the chain vouches for (readVouched: up to the first problem, less
// the line before a broken link), and the report says where reading
// stopped and why. The error is for I/O failures only.
func Replay(path string) (*Store, journal.Report, error) {
	s := NewStore()
	rep, err := readVouched(path, s.Apply)
	return s, rep, err
}

// Vouched reads the journal at path as every reader that shows its facts
// does (readVouched) and returns the report of what they show: after a
// broken link at line n, its Lines, Seq and Head are line n-2's, the last
// line a later link vouches for. What `journal head` prints.
func Vouched(path string) (journal.Report, error) {
	return readVouched(path, func(journal.Entry) error { return nil })
}

// readVouched is the one rule for reading a journal that may not verify,
// used by every reader that shows or acts on its facts (Replay,
// OpenReplay, ReadActions). It reads as journal.Read does and hands fn the
// good lines in order, up to the first problem, with one exception: when
// the problem is a broken link (line n's prev is not the hash of line n-1),
// line n-1 is not handed over. Nothing vouches for it: its own link to line
// n-2 holds, but its content is exactly what an edit that recomputed its
// hash would change, and the break says that either n-1 was altered or n
// was spliced in. So the responder sees every line whose hash a following
// link confirms, and the report says where the chain broke.
//
// The report's Lines, Bytes, Seq and Head describe the lines handed over
// (after a broken link: up to line n-2); its Problem is the journal's.
// An error from fn stops the reading and is returned as is.
func readVouched(path string, fn func(journal.Entry) error) (journal.Report, error) {
	return vouched(func(fn func(journal.Entry) error) (journal.Report, error) { return journal.Read(path, fn) }, fn)
}

// vouched is readVouched's rule over any reader of verified lines (read
// hands fn the lines it verified, as journal.Read does).
func vouched(read func(func(journal.Entry) error) (journal.Report, error), fn func(journal.Entry) error) (journal.Report, error) {
	// Each line is handed over once the next one has verified, or the
	// reading has ended without a broken link.
	var held, before journal.Entry
	have := false
	rep, err := read(func(e journal.Entry) error {
		if have {
			if err := fn(held); err != nil {
				return err
			}
		}
		before, held, have = held, e, true
		return nil
	})
	if err != nil || !have {
		return rep, err
	}
	if p := rep.Problem; p == nil || p.Kind != journal.ProblemChain {
		return rep, fn(held)
	}
	// held is line n-1 of a break at line n; before is line n-2 (or
	// nothing when held is line 1).
	rep.Lines--
	rep.Bytes = held.Offset
	rep.Seq, rep.Head = before.Seq, before.Hash
	return rep, nil
}

// ReplayTail is Replay kept up to date: one store, and each CatchUp folds
// into it only the lines appended since the last one, read from the offset
// that one reached (journal.Tail), with the same checks. A broken chain, a
// file replaced or cut back is an error, from then on: nothing past a
// problem is folded, and no store is handed out. A last line without a
// newline is waited for (its writer may be finishing it). Not safe for
// concurrent use.
type ReplayTail struct {
	path  string
	t     *journal.Tail
	s     *Store
	lines int64
	err   error
}

// NewReplayTail returns the ReplayTail of the journal at path, which has
// read nothing yet.
func NewReplayTail(path string) *ReplayTail { return &ReplayTail{path: path, s: NewStore()} }

// CatchUp folds the lines appended since the last call and returns the
// store, which holds every complete line of the journal.
func (rt *ReplayTail) CatchUp() (*Store, error) {
	if rt.err != nil {
		return nil, rt.err
	}
	if rt.t == nil {
		t, err := journal.OpenTail(rt.path)
		if err != nil {
			return nil, err // not kept: the file may appear
		}
		rt.t = t
	}
	err := rt.t.Read(func(e journal.Entry) error {
		rt.lines++
		return rt.s.Apply(e)
	})
	if err != nil {
		var p *journal.Problem
		if errors.As(err, &p) {
			err = fmt.Errorf("%s: %w", rt.path, err)
		}
		rt.err = err
		return nil, err
	}
	return rt.s, nil
}

// Lines is how many lines CatchUp has folded in all: each line once.
func (rt *ReplayTail) Lines() int64 { return rt.lines }

// Close releases the file.
func (rt *ReplayTail) Close() error {
	if rt.t == nil {
		return nil
	}
	return rt.t.Close()
}
