package incident

import (
	"context"
	"sync"

	"github.com/warroom-ir/warroom/state/journal"
)

// FollowFeed tails the journal at path from offset from (just past the last
// line already folded) and delivers each new entry, for a screen that folds
// them itself (warroom follow: a process that writes nothing and reads no
// AWS, whose one fold is the screen's). The feed closes when ctx ends or
// the chain breaks; done then returns why (nil when ctx ended, or the feed
// is still open).
func FollowFeed(ctx context.Context, path string, from int64) (<-chan []journal.Entry, func() error) {
	out := make(chan []journal.Entry, 256)
	var (
		mu   sync.Mutex
		ferr error
	)
	go func() {
		defer close(out)
		for e, err := range journal.Follow(ctx, path, from) {
			if err != nil {
				mu.Lock()
				ferr = err
				mu.Unlock()
				return
			}
			select {
			case out <- []journal.Entry{e}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, func() error {
		mu.Lock()
		defer mu.Unlock()
		return ferr
	}
}
