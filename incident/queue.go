package incident

import (
	"context"
	"sync"

	"github.com/warroom-ir/warroom/state/journal"
)

// entryQueue is an unbounded FIFO of journal entries between a reader that
// must never wait and a consumer that takes everything ready at once.
type entryQueue struct {
	mu     sync.Mutex
	items  []journal.Entry
	closed bool
	ready  chan struct{}
}

func newEntryQueue() *entryQueue { return &entryQueue{ready: make(chan struct{}, 1)} }

func (q *entryQueue) put(e journal.Entry) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	q.signal()
}

func (q *entryQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *entryQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for entries and returns all of them; false once the queue is
// closed and empty, or ctx is done.
func (q *entryQueue) take(ctx context.Context) ([]journal.Entry, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			b := q.items
			q.items = nil
			q.mu.Unlock()
			return b, true
		}
		closed := q.closed
		q.mu.Unlock()
		if closed {
			return nil, false
		}
		select {
		case <-q.ready:
		case <-ctx.Done():
			return nil, false
		}
	}
}
