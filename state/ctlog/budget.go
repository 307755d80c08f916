package ctlog

import "runtime/debug"

// A gzip bomb of a few megabytes decompresses to the per-file limit
// (MaxFileBytes, 1 GiB by default). Each of a parallel run's workers holds
// up to two files, so without a shared bound N bombs cost N GiB at once,
// more with more cores, and each parser kept its largest buffer for the
// next file. So the buffers files are read and decompressed into are
// taken from a budget the run's workers share (MaxInFlightBytes):
//
//   - a worker that needs more than is left waits, unless its file is the
//     one whose turn it is to be emitted: that one may overdraw (waiting
//     for later files to be emitted would never end), so a run holds at
//     most MaxInFlightBytes plus one file's buffers;
//   - a worker waiting for memory emits its own earlier file when its turn
//     comes, so no worker waits on itself;
//   - after a file is emitted, its parser keeps its buffers for the next
//     file only when they are small (retainBytes): a bomb's gigabyte goes
//     back at once.

// DefaultMaxInFlightBytes is the default of Options.MaxInFlightBytes.
const DefaultMaxInFlightBytes = 1 << 30

// maxRetainBytes is the most a parser keeps of a buffer between files.
const maxRetainBytes = 16 << 20

// freeAfterBytes: dropping a buffer this large frees the memory at once
// (a garbage collection, and the pages back to the system). Left to the
// collector's pacing, a bomb's gigabyte of garbage let the heap of the
// next one grow to twice its size first: 3.3 GB of RSS for four bombs
// that each hold 1 GiB at most. Files this large are rare; bombs are the
// usual case.
const freeAfterBytes = 128 << 20

func (o Options) maxInFlight() int64 {
	if o.MaxInFlightBytes > 0 {
		return o.MaxInFlightBytes
	}
	return DefaultMaxInFlightBytes
}

// memGate is where a parser takes and gives back buffer memory.
type memGate interface {
	take(n int64)
	give(n int64)
}

// newBuf returns a buffer of capacity n holding old's bytes, replacing the
// buffer whose capacity *res holds from the gate: both are held while old
// is copied, then only the new one.
func (d *docParser) newBuf(old []byte, n int64, res *int64) []byte {
	if len(old) == 0 && d.gate != nil {
		// Nothing to copy: give the old buffer back first (the caller
		// dropped it), and a large one to the system at once.
		big := *res >= freeAfterBytes
		d.gate.give(*res)
		*res = 0
		if big {
			debug.FreeOSMemory()
		}
	}
	if d.gate != nil {
		d.gate.take(n)
	}
	nb := make([]byte, len(old), n)
	copy(nb, old)
	if d.gate != nil {
		d.gate.give(*res)
		*res = n
	}
	return nb
}

// trim drops buffers over retain bytes once the file's records are gone,
// giving their memory back to the gate.
func (d *docParser) trim(retain int64) {
	big := max(cap(d.buf), cap(d.file)) >= freeAfterBytes
	defer func() {
		if big {
			debug.FreeOSMemory()
		}
	}()
	if int64(cap(d.buf)) > retain {
		d.buf = nil
		if d.gate != nil {
			d.gate.give(d.bufRes)
		}
		d.bufRes = 0
	}
	if int64(cap(d.file)) > retain {
		d.file = nil
		if d.gate != nil {
			d.gate.give(d.fileRes)
		}
		d.fileRes = 0
	}
}

// release gives back everything the parser holds from its gate (its
// buffers stay, small, for whoever uses the parser next) and leaves it.
func (d *docParser) release() {
	d.trim(maxRetainBytes)
	if d.gate != nil {
		d.gate.give(d.bufRes + d.fileRes)
	}
	d.bufRes, d.fileRes, d.gate = 0, 0, nil
}

// slotGate is one worker slot's view of its run's budget (turns.avail).
type slotGate struct {
	t   *turns
	seq int         // the file the slot is parsing
	own func() bool // emits the worker's earlier file when it is its turn; reports whether it did
}

func (g *slotGate) take(n int64) { g.t.take(n, g.seq, g.own) }
func (g *slotGate) give(n int64) { g.t.give(n) }

// take waits until n bytes are left in the budget, or file seq is the one
// whose turn it is, or the run stops; then takes them (the budget may go
// below zero).
func (t *turns) take(n int64, seq int, own func() bool) {
	t.mu.Lock()
	for t.avail < n && !t.now(seq) && !t.stopped.Load() && !t.opt.canceled() {
		t.mu.Unlock()
		if own != nil && own() {
			t.mu.Lock()
			continue
		}
		t.mu.Lock()
		// Re-check under the lock: a give or a pass in between has
		// broadcast already.
		if t.avail >= n || t.now(seq) || t.stopped.Load() {
			break
		}
		t.cond.Wait()
	}
	t.avail -= n
	t.mu.Unlock()
}

// give returns n bytes to the budget.
func (t *turns) give(n int64) {
	if n == 0 {
		return
	}
	t.mu.Lock()
	t.avail += n
	t.mu.Unlock()
	t.cond.Broadcast()
}
