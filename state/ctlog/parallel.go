package ctlog

import (
	"errors"
	"sync"
	"sync/atomic"
)

// errStopped ends a walk whose consumer has stopped.
var errStopped = errors.New("stopped")

// freeList recycles memory. Unlike a sync.Pool, which every garbage
// collection empties (several times a second while a caller builds a big
// index), it keeps what it holds until it is dropped: reallocating,
// zeroing and faulting in megabytes of buffers after each collection cost
// more than the collections.
type freeList[T any] chan T

func (f freeList[T]) get(make func() T) T {
	select {
	case v := <-f:
		return v
	default:
		return make()
	}
}

func (f freeList[T]) put(v T) {
	select {
	case f <- v:
	default:
	}
}

// job is one file to parse, or one walk problem, with its place in the
// order ParsePaths would emit them.
type job struct {
	seq   int
	path  string    // "" for a walk problem
	probs []Problem // the walk problem
}

// turns lets the workers emit in walk order: the records of the file
// numbered seq are emitted once every earlier file's have been. The fields
// after next are the run's results, written only by the worker whose turn
// it is.
type turns struct {
	mu   sync.Mutex
	cond sync.Cond
	next atomic.Int64 // the seq whose turn it is; written under mu

	st    Stats
	probs problemList
	err   error // emit's, or a file's fatal error: the run stops

	avail int64 // what is left of the memory budget (see budget.go); under mu

	stopped atomic.Bool   // err is set: what is left is skipped
	stop    chan struct{} // closed when stopped is set: ends the walk
	opt     *Options      // its Cancel ends the run too
}

// now reports whether it is seq's turn.
func (t *turns) now(seq int) bool { return t.next.Load() == int64(seq) }

func (t *turns) wait(seq int) {
	if t.now(seq) {
		return
	}
	t.mu.Lock()
	for !t.now(seq) {
		t.cond.Wait()
	}
	t.mu.Unlock()
}

func (t *turns) pass() {
	t.mu.Lock()
	t.next.Add(1)
	t.mu.Unlock()
	t.cond.Broadcast()
}

// heldFile is one job's outcome, held by the worker that parsed it until its
// turn. Its docParser's buffers (and, with Borrow, mem's blocks) are what
// its records alias.
type heldFile struct {
	seq   int
	d     *docParser
	gate  slotGate
	keep  int64 // the buffer capacity its parser keeps between files
	mem   *fileMem
	recs  []Record
	st    Stats
	probs []Problem
	err   error
}

// run parses job j into p, unless the run has stopped.
func (p *heldFile) run(j job, t *turns) {
	p.seq, p.st, p.probs, p.err = j.seq, Stats{}, j.probs, nil
	p.gate.seq = j.seq
	if j.path == "" || t.stopped.Load() || t.opt.canceled() {
		p.st.Skipped = len(j.probs)
		return
	}
	p.probs, p.err = p.d.parseFile(j.path, func(rec Record) error {
		p.recs = append(p.recs, rec)
		return nil
	}, &p.st)
}

// emit waits for p's turn, emits its records and results, passes the turn
// on and makes p ready for another job.
func (p *heldFile) emit(t *turns, emit func([]Record) error) {
	t.wait(p.seq)
	if !t.stopped.Load() && t.opt.canceled() {
		// Nothing from this file on is emitted: the files before it
		// were, whole.
		t.err = ErrCanceled
		t.stopped.Store(true)
		close(t.stop)
	}
	if !t.stopped.Load() {
		t.st.Files += p.st.Files
		t.st.Records += p.st.Records
		t.st.Skipped += p.st.Skipped
		t.st.Bytes += p.st.Bytes
		t.st.Decoded += p.st.Decoded
		t.probs.add(p.probs)
		if len(p.recs) > 0 {
			t.err = emit(p.recs)
		}
		if t.err == nil {
			t.err = p.err
		}
		if t.err != nil {
			t.stopped.Store(true)
			close(t.stop)
		}
	}
	t.pass()
	clear(p.recs) // drop the references to the file's memory
	p.recs, p.probs = p.recs[:0], nil
	if p.mem != nil {
		p.mem.release()
	}
	p.d.trim(p.keep)
}

// ParsePathsParallel is ParsePaths with up to workers files read,
// decompressed and parsed at once. Records are still emitted in the order
// ParsePaths emits them, one call at a time (each returns before the next
// begins), so the result is the same; but the calls come from the
// workers' goroutines, not the caller's. With workers ≤ 1 it is
// ParsePaths.
//
// A worker emits the records of the files it parsed itself, once every
// earlier file's have been emitted: they are still in its core's cache,
// and nothing passes from one goroutine to another but the turn. Each
// worker parses a file ahead while it waits for its turn, so at most
// 2×workers files are held in memory at a time. With opt.Borrow, as with
// ParsePaths, a record is valid only until emit returns; in exchange
// nothing is allocated per record: records alias the worker's buffers,
// reused once their file has been emitted. It is the fastest way to read
// files.
func ParsePathsParallel(paths []string, opt Options, workers int, emit func(Record) error) (Stats, []Problem, error) {
	if workers <= 1 {
		return ParsePaths(paths, opt, emit)
	}
	return parseParallel(paths, opt, workers, func(recs []Record) error {
		for i := range recs {
			if err := emit(recs[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// ParsePathsBatches is ParsePathsParallel with each file's records handed
// to emit at once, as one slice (a file without records is not emitted),
// for callers that work on records in runs: state.EventTable.AddBatch
// reads the dedupe slots of a run together. The slice, and with Borrow
// its records, are valid only until emit returns. With workers ≤ 1, one
// worker parses while the walk goes on.
func ParsePathsBatches(paths []string, opt Options, workers int, emit func([]Record) error) (Stats, []Problem, error) {
	return parseParallel(paths, opt, max(workers, 1), emit)
}

// parseParallel is ParsePathsParallel and ParsePathsBatches.
func parseParallel(paths []string, opt Options, workers int, emit func([]Record) error) (Stats, []Problem, error) {
	// Jobs are queued well ahead: the walker seldom waits for a worker,
	// nor a worker for the walker.
	jobs := make(chan job, 16*workers)
	t := &turns{stop: make(chan struct{}), opt: &opt, avail: opt.maxInFlight()}
	t.probs.max = opt.maxProblems()
	// Buffers kept between files count against the budget: together
	// they keep at most half of it.
	keep := min(maxRetainBytes, opt.maxInFlight()/int64(8*workers))
	if opt.Cancel != nil {
		// A worker waiting for memory wakes to see the run canceled.
		go func() {
			select {
			case <-opt.Cancel:
				t.cond.Broadcast()
			case <-t.stop:
			}
		}()
	}
	t.cond.L = &t.mu

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Two of everything: one file waiting for its turn, one
			// being parsed.
			var slots [2]heldFile
			// held lists the slots parsed and not yet emitted, oldest
			// first.
			held := make([]*heldFile, 0, 2)
			// own emits the worker's earlier file, when its turn has
			// come, for a slot waiting for memory.
			own := func() bool {
				if len(held) == 0 || !t.now(held[0].seq) {
					return false
				}
				held[0].emit(t, emit)
				held = append(held[:0], held[1:]...)
				return true
			}
			for i := range slots {
				d := docParsers.Get().(*docParser)
				d.rp.opt = opt
				slots[i].gate = slotGate{t: t, own: own}
				slots[i].keep = keep
				d.gate = &slots[i].gate
				if opt.Borrow {
					// What records cannot alias in the file's buffers
					// is cut from blocks kept until it is emitted.
					slots[i].mem = &fileMem{free: make(freeList[*[]byte], 64)}
					d.rp.keep = slots[i].mem
				}
				slots[i].d = d
			}
			defer func() {
				for i := range slots {
					slots[i].d.rp.keep = nil
					slots[i].d.release()
					docParsers.Put(slots[i].d)
				}
			}()
			for j := range jobs {
				p := &slots[0]
				if len(held) == 1 && held[0] == p {
					p = &slots[1]
				}
				p.run(j, t)
				held = append(held, p)
				// Emit now what it is the turn of; wait only with both
				// slots full.
				for len(held) == 2 || len(held) > 0 && t.now(held[0].seq) {
					held[0].emit(t, emit)
					held = append(held[:0], held[1:]...)
				}
			}
			for _, p := range held {
				p.emit(t, emit)
			}
		}()
	}

	// The walker lists files in ParsePaths order and hands them out in
	// that order, numbered.
	w := walker{seen: map[string]bool{}}
	seq := 0
	send := func(j job) error {
		j.seq = seq
		select {
		case jobs <- j:
			seq++
			return nil
		case <-t.stop:
			return errStopped
		case <-opt.Cancel:
			return ErrCanceled
		}
	}
	w.problemAt = func(p Problem) { _ = send(job{probs: []Problem{p}}) }
	w.visit = func(path string) error { return send(job{path: path}) }
	werr := w.walk(paths)
	close(jobs)
	wg.Wait()
	if t.err == nil && werr == ErrCanceled {
		t.err = ErrCanceled
	}
	return t.st, t.probs.list(), t.err
}
