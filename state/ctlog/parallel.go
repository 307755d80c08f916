package ctlog

import (
	"errors"
	"sync"
)

// errStopped ends a walk whose consumer has stopped.
var errStopped = errors.New("stopped")

// freeList recycles memory within one ParsePathsParallel call. Unlike a
// sync.Pool, which every garbage collection empties (several times a
// second while a caller builds a big index), it keeps what it holds until
// the call ends: reallocating, zeroing and faulting in megabytes of file
// buffers after each collection cost more than the collections.
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

// recycling holds a call's free lists: per-file record slices (growing a
// fresh slice of 400-byte Records for every file cost more than parsing
// them), and with Borrow the file buffers and memory blocks that records
// alias.
type recycling struct {
	recs   freeList[*[]Record]
	bufs   freeList[[]byte]
	blocks freeList[*[]byte]
}

func newRecycling(workers int) *recycling {
	inFlight := 3*workers + 2 // queued, being parsed, being emitted
	return &recycling{
		recs:   make(freeList[*[]Record], inFlight),
		bufs:   make(freeList[[]byte], 2*inFlight),
		blocks: make(freeList[*[]byte], 8*inFlight),
	}
}

// fileResult is one file's (or one walk problem's) outcome, in walk order.
type fileResult struct {
	path string
	recs *[]Record // from the call's free list; nil for a walk problem
	// With Options.Borrow, the records alias these until emitted.
	mem   *fileMem
	bufs  [2][]byte // the file as read and decompressed
	probs []Problem
	st    Stats
	err   error
	done  chan struct{}
}

// ParsePathsParallel is ParsePaths with up to workers files read,
// decompressed and parsed at once. Records are still emitted in the order
// ParsePaths emits them, on the caller's goroutine, so the result is the
// same; at most about 2×workers files are held in memory at a time. With
// workers ≤ 1 it is ParsePaths.
//
// With opt.Borrow, as with ParsePaths, a record is valid only until emit
// returns; in exchange nothing is allocated per record: records alias the
// file's own (recycled) buffers. It is the fastest way to read files.
func ParsePathsParallel(paths []string, opt Options, workers int, emit func(Record) error) (Stats, []Problem, error) {
	if workers <= 1 {
		return ParsePaths(paths, opt, emit)
	}
	order := make(chan *fileResult, 2*workers)
	jobs := make(chan *fileResult)
	stop := make(chan struct{})
	rc := newRecycling(workers)

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := docParsers.Get().(*docParser)
			defer func() {
				d.rp.keep = nil
				docParsers.Put(d)
			}()
			d.rp.opt = opt
			for r := range jobs {
				if opt.Borrow {
					// The file's buffers go with its records.
					r.mem = &fileMem{free: rc.blocks}
					d.rp.keep = r.mem
					d.file, d.buf = rc.bufs.get(noBuf), rc.bufs.get(noBuf)
				}
				recs := rc.recs.get(func() *[]Record { return new([]Record) })
				r.probs, r.err = d.parseFile(r.path, func(rec Record) error {
					*recs = append(*recs, rec)
					return nil
				}, &r.st)
				r.recs = recs
				if opt.Borrow {
					r.bufs = [2][]byte{d.file, d.buf}
					d.file, d.buf = nil, nil
				}
				close(r.done)
			}
		}()
	}

	// The walker goroutine lists files in ParsePaths order and queues them.
	go func() {
		defer close(order)
		defer close(jobs)
		w := walker{seen: map[string]bool{}}
		queue := func(r *fileResult) error {
			select {
			case order <- r:
				return nil
			case <-stop:
				return errStopped
			}
		}
		w.problemAt = func(p Problem) {
			r := &fileResult{probs: []Problem{p}, st: Stats{Skipped: 1}, done: make(chan struct{})}
			close(r.done)
			_ = queue(r)
		}
		w.visit = func(path string) error {
			r := &fileResult{path: path, done: make(chan struct{})}
			if err := queue(r); err != nil {
				return err
			}
			select {
			case jobs <- r:
				return nil
			case <-stop:
				close(r.done) // queued but never parsed: let the drain pass it
				return errStopped
			}
		}
		_ = w.walk(paths)
	}()

	var (
		st    Stats
		probs []Problem
		err   error
	)
	for r := range order {
		<-r.done
		if err != nil {
			r.release(rc)
			continue // draining after emit failed
		}
		st.Files += r.st.Files
		st.Records += r.st.Records
		st.Skipped += r.st.Skipped
		st.Bytes += r.st.Bytes
		st.Decoded += r.st.Decoded
		probs = append(probs, r.probs...)
		if r.recs != nil {
			recs := *r.recs
			for i := range recs {
				if err = emit(recs[i]); err != nil {
					close(stop)
					break
				}
			}
			clear(recs) // drop the references to this file's blocks
			*r.recs = recs[:0]
			rc.recs.put(r.recs)
			r.recs = nil
		}
		r.release(rc)
		if err == nil && r.err != nil {
			err = r.err
			close(stop)
		}
	}
	wg.Wait()
	return st, probs, err
}

// noBuf makes an empty file buffer: parseFile sizes it.
func noBuf() []byte { return nil }

// release recycles the memory a file's borrowed records aliased.
func (r *fileResult) release(rc *recycling) {
	if r.mem != nil {
		r.mem.release()
		r.mem = nil
	}
	for i, b := range r.bufs {
		if b != nil {
			rc.bufs.put(b[:0])
		}
		r.bufs[i] = nil
	}
}
