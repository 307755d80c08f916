package incident

import (
	"context"
	"sync"

	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// Sink is where the CloudTrail sources (the LookupEvents pollers, the S3
// trail source) deliver: it is the one dedupe rule on the way to the
// journal (Admit, asked of the fold by the sources themselves, see
// trail.Admitter), journals what they read through the one Recorder, and
// hands the parsed records to the fold, which applies them without
// parsing them again.
type Sink struct {
	Rec  *state.Recorder
	Fold *Fold
	// Direct applies each fact to the fold as soon as it is journaled, for
	// a process with no follower (warroom stream): the fold is then the
	// journal as this process wrote it.
	Direct bool
	// Recorded, when set, is called after each fact is journaled (and,
	// with Direct, applied), with the fold unlocked.
	Recorded func(e journal.Entry)

	mu sync.Mutex // with Direct: a fact is journaled and applied before the next
}

// Admit implements trail.Admitter: the fold's rule.
func (k *Sink) Admit(r *ctlog.Record) bool { return k.Fold.Admit(r) }

// Events implements trail.Sink: recs were admitted by their source.
func (k *Sink) Events(_ context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error {
	if len(recs) == 0 && len(skipped) == 0 {
		return nil
	}
	if k.Direct {
		k.mu.Lock()
		defer k.mu.Unlock()
	}
	// The hand-over must be in place before the follower can read the
	// entry: the fold's hand-over lock is held across the write.
	k.Fold.hmu.Lock()
	e, ev, err := k.Rec.RecordEvents(source, recs, skipped)
	if err != nil {
		k.Fold.hmu.Unlock()
		return err
	}
	k.Fold.hand[e.Seq] = handed{ev: ev, recs: recs}
	k.Fold.waiting = max(0, k.Fold.waiting-len(recs))
	k.Fold.hmu.Unlock()
	return k.done(e)
}

// Health implements trail.Sink.
func (k *Sink) Health(_ context.Context, h state.StreamHealth) error {
	return k.Record(state.KindStreamHealth, h)
}

// Record journals a fact through the sink's recorder.
func (k *Sink) Record(kind state.Kind, v any) error {
	if k.Direct {
		k.mu.Lock()
		defer k.mu.Unlock()
	}
	e, err := k.Rec.Record(kind, v)
	if err != nil {
		return err
	}
	return k.done(e)
}

func (k *Sink) done(e journal.Entry) error {
	if k.Direct {
		if err := k.Fold.Apply(e); err != nil {
			return err
		}
	}
	if k.Recorded != nil {
		k.Recorded(e)
	}
	return nil
}

var _ trail.Admitter = (*Sink)(nil)
