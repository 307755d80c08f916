package incident

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// Fold is the process's one fold of the journal: one state.Store, applied
// to in journal order by one goroutine (the Core's follower, or the
// command that records), and read by everyone else under its lock — the
// screen (tui.Options.Lock), the containment planner, the sink's dedupe.
//
// The records this process parsed before journaling them are handed to the
// fold with the entry's seq (Sink.Events), so that an events entry the
// process wrote is applied from the records already parsed, not parsed
// again from the journal (state.Store.ApplyEvents).
type Fold struct {
	mu sync.Mutex
	s  *state.Store

	// hand holds the parsed records of events entries this process
	// journaled and the fold has not applied yet, by seq. pending is the
	// dedupe rule's memory of records admitted and not yet in the store.
	hmu     sync.Mutex
	hand    map[int64]handed
	pending *state.Seen
	waiting int // records admitted and not journaled yet

	// applied is closed (and replaced) whenever Apply has applied
	// entries, or when the fold stops (stopped then says why): the signal
	// Through waits for. Both are guarded by mu.
	applied chan struct{}
	stopped error
}

// handed is an events entry as its writer had it: the fact, and its
// records parsed.
type handed struct {
	ev   state.Events
	recs []ctlog.Record
}

// NewFold returns the fold of an empty journal.
func NewFold() *Fold { return FoldOf(state.NewStore()) }

// FoldOf returns a fold that goes on from s, a fold of the journal so far
// (state.Replay).
func FoldOf(s *state.Store) *Fold {
	return &Fold{s: s, hand: map[int64]handed{}, pending: state.NewSeen(), applied: make(chan struct{})}
}

// errFoldStopped is why Through gives up when the fold stopped for no
// error of its own (its follower's context ended).
var errFoldStopped = errors.New("the journal's fold stopped: no new facts reach it")

// Through waits until the fold has applied the journal through line seq
// (a fact this process journaled), then returns; or returns why it never
// will (ctx ended, or the fold stopped: its follower found a problem).
// It holds no lock while it waits.
func (f *Fold) Through(ctx context.Context, seq int64) error {
	for {
		f.mu.Lock()
		have, ch, stopped := f.s.Seq, f.applied, f.stopped
		f.mu.Unlock()
		if have >= seq {
			return nil
		}
		if stopped != nil {
			return fmt.Errorf("waiting for line %d (the fold holds %d): %w", seq, have, stopped)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the fold to reach line %d (it holds %d): %w", seq, have, ctx.Err())
		}
	}
}

// Stop says no more entries will be applied, and why (nil: the follower's
// context ended): whoever waits in Through is told.
func (f *Fold) Stop(why error) {
	if why == nil {
		why = errFoldStopped
	} else {
		why = fmt.Errorf("the journal's fold stopped: %w", why)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped == nil {
		f.stopped = why
		close(f.applied)
	}
}

// Lock and Unlock hold the store: nothing is applied meanwhile. The screen
// holds it while it updates and draws (tui.Options.Lock).
func (f *Fold) Lock()   { f.mu.Lock() }
func (f *Fold) Unlock() { f.mu.Unlock() }

// Store is the fold's store. Read it only with the fold locked (Read).
func (f *Fold) Store() *state.Store { return f.s }

// Read calls fn with the store, which holds still while fn runs. fn must
// not do I/O: the screen waits for it.
func (f *Fold) Read(fn func(*state.Store)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f.s)
}

// Apply folds entries, which must follow the store's last one, into the
// store. An events entry this process journaled is applied from the
// records parsed before it was journaled. (Readers hold the same lock,
// not a shared one: a query may bring the table's indexes up to date.)
func (f *Fold) Apply(entries ...journal.Entry) error {
	// The hand-overs are taken first: a sink may be writing (holding the
	// hand-over lock), and the screen must not wait for its write.
	var hs []handed
	for i, e := range entries {
		if state.Kind(e.Kind) == state.KindEvents {
			if h, ok := f.take(e.Seq); ok {
				if hs == nil {
					hs = make([]handed, len(entries))
				}
				hs[i] = h
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	for i, e := range entries {
		if f.s.Seq != 0 && e.Seq <= f.s.Seq {
			continue
		}
		var aerr error
		if hs != nil && hs[i].recs != nil {
			aerr = f.s.ApplyEvents(e, hs[i].ev, hs[i].recs)
		} else {
			aerr = f.s.Apply(e)
		}
		if aerr != nil && err == nil {
			err = aerr
		}
	}
	if f.stopped == nil {
		close(f.applied)
		f.applied = make(chan struct{})
	}
	f.forgetPending()
	return err
}

// take returns and forgets what was handed over for seq.
func (f *Fold) take(seq int64) (handed, bool) {
	f.hmu.Lock()
	defer f.hmu.Unlock()
	h, ok := f.hand[seq]
	delete(f.hand, seq)
	return h, ok
}

// forgetPending drops the dedupe rule's memory of admitted records once
// every entry handed over is in the store (and with it, those records).
func (f *Fold) forgetPending() {
	f.hmu.Lock()
	defer f.hmu.Unlock()
	for seq := range f.hand {
		if seq <= f.s.Seq {
			delete(f.hand, seq) // applied some other way (never expected)
		}
	}
	if len(f.hand) == 0 && f.waiting == 0 && f.pending.Len() > 0 {
		f.pending = state.NewSeen()
	}
}

// Admit is the process's one dedupe rule on the way from AWS to the
// journal: r is new unless the store holds a copy of its event with the
// same fingerprint, or a record just like it was admitted and is not in
// the store yet. An admitted record is remembered until it is.
func (f *Fold) Admit(r *ctlog.Record) bool {
	f.mu.Lock()
	held := f.s.Events.Holds(r)
	f.mu.Unlock()
	if held {
		return false
	}
	f.hmu.Lock()
	defer f.hmu.Unlock()
	if !f.pending.Add(r) {
		return false
	}
	f.waiting++
	return true
}
