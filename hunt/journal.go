package hunt

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// Sink is where a hunt's records go: the one dedupe rule (Admit: is this
// record a copy the journal already holds?) and the journal (Events: one
// events fact). incident.Sink is one (the console's: the fold's rule, and
// the records handed to the fold); RecorderSink is the command line's.
type Sink interface {
	Admit(r *ctlog.Record) bool
	Events(ctx context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error
}

// RecorderSink journals through a Recorder, deduplicated by a state.Seen
// made from the journal's store (EventTable.Seen): what ingest does, and
// as ingest does, each admitted record's raw JSON is copied once into a
// batch (so the parser's memory is borrowed, not kept), and batches are
// written by one goroutine while the next page is parsed, in order.
type RecorderSink struct {
	Rec  *state.Recorder
	Seen *state.Seen

	batch  *state.EventsBatch
	queue  chan queued
	free   chan []byte // batch buffers the writer is done with
	done   chan struct{}
	err    error // the writer's first error, read once failed is set
	failed atomic.Bool
}

type queued struct {
	b       *state.EventsBatch
	skipped []state.Skipped
}

// Admit implements Sink.
func (s *RecorderSink) Admit(r *ctlog.Record) bool { return s.Seen.Add(r) }

// Events implements Sink.
func (s *RecorderSink) Events(_ context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error {
	_, _, err := s.Rec.RecordEvents(source, recs, skipped)
	return err
}

// start runs the writer.
func (s *RecorderSink) start() {
	s.queue, s.free, s.done = make(chan queued, 2), make(chan []byte, 3), make(chan struct{})
	go func() {
		defer close(s.done)
		for q := range s.queue {
			if s.failed.Load() {
				continue
			}
			if _, err := s.Rec.RecordBatch(q.b, q.skipped); err != nil {
				s.err = err
				s.failed.Store(true)
				continue
			}
			select {
			case s.free <- q.b.Buffer():
			default:
			}
		}
	}()
}

func (s *RecorderSink) newBatch(source string) {
	if s.queue == nil {
		s.start()
	}
	var buf []byte
	select {
	case buf = <-s.free:
	default:
	}
	s.batch = new(state.EventsBatch)
	s.batch.Reset(source, buf)
}

// add copies an admitted record into the batch.
func (s *RecorderSink) add(source string, r *ctlog.Record) {
	if s.batch == nil {
		s.newBatch(source)
	}
	s.batch.Add(r.Raw)
}

// pending is the number of records in the batch.
func (s *RecorderSink) pending() int {
	if s.batch == nil {
		return 0
	}
	return s.batch.Len()
}

// flush hands the batch to the writer.
func (s *RecorderSink) flush(source string, skipped []state.Skipped) error {
	if s.failed.Load() {
		return s.err
	}
	if s.pending() == 0 && len(skipped) == 0 {
		return nil
	}
	if s.batch == nil {
		s.newBatch(source)
	}
	s.queue <- queued{s.batch, skipped}
	s.batch = nil
	return nil
}

// wait returns once every batch handed over is journaled, with the
// writer's error.
func (s *RecorderSink) wait() error {
	if s.queue == nil {
		return nil
	}
	close(s.queue)
	<-s.done
	s.queue = nil
	if s.failed.Load() {
		return s.err
	}
	return nil
}

// batcher is a Sink that batches raw records itself (RecorderSink).
type batcher interface {
	add(source string, r *ctlog.Record)
	pending() int
	flush(source string, skipped []state.Skipped) error
	wait() error
}

// Source is the events facts' source for query id: "athena:" and the id,
// as ingest's facts say "file".
func Source(queryID string) string { return "athena:" + queryID }

// BatchRecords bounds one events fact, as ingest does.
const BatchRecords = 2000

// Journal turns the pages of a hunt's results into events facts: each row
// is rebuilt as a CloudTrail record (AppendRecord), parsed by ctlog (so
// its secrets are redacted as any record's), asked of the sink's dedupe
// rule, and journaled in batches.
type Journal struct {
	Sink   Sink
	Source string // the facts' source (Source(queryID))

	Found    int // rows read
	New      int // records journaled
	Held     int // records the journal already held
	Problems int // rows that could not be made into records

	page    int
	doc     []byte
	recs    []ctlog.Record
	skipped []state.Skipped
}

// maxSkipped bounds the problems one fact carries (ingest's bound).
const maxSkipped = 500

// Page journals one page of rows (one value per Column each, nil for
// NULL).
func (j *Journal) Page(ctx context.Context, rows [][]*string) error {
	j.page++
	name := j.Source + " page " + strconv.Itoa(j.page)
	j.doc = append(j.doc[:0], `{"Records":[`...)
	idx := make([]int, 0, len(rows)) // the row of each record in doc
	for i, row := range rows {
		j.Found++
		mark := len(j.doc)
		if len(idx) > 0 {
			j.doc = append(j.doc, ',')
		}
		var err error
		j.doc, err = AppendRecord(j.doc, row)
		if err != nil {
			j.doc = j.doc[:mark]
			j.problem(ctlog.Problem{File: name, Index: i, Reason: err.Error()})
			continue
		}
		idx = append(idx, i)
	}
	j.doc = append(j.doc, "]}"...)
	// A sink that batches raw records lets the parser lend its memory
	// (ingest's way); one that keeps the records (the console's, which
	// hands them to its fold) gets records that own theirs.
	b, raw := j.Sink.(batcher)
	probs, err := ctlog.ParseBytes(name, j.doc, ctlog.Options{Borrow: raw}, func(r ctlog.Record) error {
		if !j.Sink.Admit(&r) {
			j.Held++
			return nil
		}
		if raw {
			b.add(j.Source, &r)
			if n := b.pending(); n >= BatchRecords {
				if err := b.flush(j.Source, j.skipped); err != nil {
					return fmt.Errorf("journaling the hunt's records: %w", err)
				}
				j.New += n
				j.skipped = nil
			}
			return nil
		}
		j.recs = append(j.recs, r)
		if len(j.recs) >= BatchRecords {
			return j.Flush(ctx)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range probs {
		if p.Index >= 0 && p.Index < len(idx) {
			p.Index = idx[p.Index] // the row, not the record
		}
		j.problem(p)
	}
	return nil
}

func (j *Journal) problem(p ctlog.Problem) {
	j.Problems += p.Records()
	if len(j.skipped) < maxSkipped {
		j.skipped = append(j.skipped, state.SkippedOf([]ctlog.Problem{p})...)
	}
}

// Flush journals the records not journaled yet.
func (j *Journal) Flush(ctx context.Context) error {
	if b, ok := j.Sink.(batcher); ok {
		n := b.pending()
		err := b.flush(j.Source, j.skipped)
		if werr := b.wait(); err == nil {
			err = werr
		}
		if err != nil {
			return fmt.Errorf("journaling the hunt's records: %w", err)
		}
		j.New += n
		j.skipped = nil
		return nil
	}
	if len(j.recs) == 0 && len(j.skipped) == 0 {
		return nil
	}
	if err := j.Sink.Events(ctx, j.Source, j.recs, j.skipped); err != nil {
		return fmt.Errorf("journaling the hunt's records: %w", err)
	}
	j.New += len(j.recs)
	j.recs, j.skipped = nil, nil
	return nil
}
