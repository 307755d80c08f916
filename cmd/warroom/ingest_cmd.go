package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// ingestBatch bounds one events fact: a journal line stays a few MB at most.
const (
	ingestBatchRecords = 2000
	ingestBatchBytes   = 4 << 20
)

func newIngestCmd(e *env) *cobra.Command {
	var (
		path  string
		title string
		caps  ingestCaps
	)
	c := &cobra.Command{
		Use:   "ingest PATH...",
		Short: "Parse CloudTrail files and folders into an incident journal",
		Long: `ingest reads CloudTrail records from files and folders (walked recursively) in every
shape they are found in: S3 delivery files (gzip or not), {"Records":[...]}, bare JSON
arrays, one record per line, and LookupEvents output. Gzip is detected by content, not
name. Records already in the journal (same event id) are not written again, except a
newer copy carrying an addendum. Session tokens minted by AssumeRole and its relatives
are replaced by their SHA-256 before anything is written.

Every record that cannot be used is printed on stderr with its file, line or index and
the reason, and the rest goes on: the first 100 problems of a file and 1,000 of a run are
listed one by one, the rest are counted by kind of reason. Named pipes, sockets and
devices are named as skipped, never opened. An interrupt (Ctrl-C, SIGTERM) stops the run
between files; the records read until then are journaled. Without --journal, a new
incident folder is made in the current directory.

Exit status: 0 when every input was read (even when it held no records: "nothing
found" is said on stderr); 1 when some input could not be used but everything else was
journaled; 2 when nothing could be read (every input had a problem and no record was
found), or for bad arguments and journal errors; 130 when interrupted.`,
		Example: `  warroom ingest --journal incident/journal.jsonl ./AWSLogs/123456789012/CloudTrail
  warroom ingest ./lookup-events.json ./trail.ndjson`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runIngest(cmd.Context(), e, path, title, caps, args)
		},
	}
	journalFlag(c, &path, "journal to append to; created when missing")
	c.Flags().StringVar(&title, "title", "", "incident title, when the journal is created")
	c.Flags().Int64Var(&caps.maxFile, "max-file-bytes", ctlog.DefaultMaxFileBytes,
		"largest file read, after decompression; a larger one (a gzip bomb) is named and skipped")
	c.Flags().Int64Var(&caps.inFlight, "max-memory-bytes", ctlog.DefaultMaxInFlightBytes,
		"file and decompression buffers held at once by all the parsing workers (one file may go over it)")
	return c
}

// ingestRecordHook, when set (tests only), is called for every record
// parsed, on the goroutine emitting it.
var ingestRecordHook func()

// exitInterrupted is ingest's status when a signal stopped it (128+SIGINT).
const exitInterrupted = 130

// ingestSkippedPerFact bounds the problems one events fact carries.
const ingestSkippedPerFact = 500

// ingestCaps are ingest's memory bounds.
type ingestCaps struct {
	maxFile, inFlight int64
}

func runIngest(ctx context.Context, e *env, path, title string, caps ingestCaps, paths []string) error {
	if caps.maxFile < 0 || caps.inFlight < 0 {
		return usageErr(errors.New("--max-file-bytes and --max-memory-bytes must not be negative"))
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return usageErr(err)
		}
	}
	// seen holds every event the journal will hold, and applies the event
	// table's rule to decide what is a duplicate: the rule the store
	// applies on replay.
	seen := state.NewSeen()
	if path == "" {
		path = newIncidentPath(".", state.NewIncidentID(time.Now()))
	} else if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		s, _, err := replayJournal(e, path)
		if err != nil {
			return err
		}
		seen = s.Events.Seen()
	}
	by := state.LocalActor()
	rec, err := state.OpenRecorder(path, state.IncidentOpened{Title: title}, by)
	if err != nil {
		return usageErr(err)
	}
	defer rec.Close()
	if rec.Created {
		fmt.Fprintf(e.stderr, "created journal %s\n", path)
	}
	if _, err := rec.Record(state.KindSessionStarted, state.SessionStarted{Command: "ingest", Mode: state.ModeOffline, Version: version}); err != nil {
		return usageErr(err)
	}
	// Folders with CloudTrail digests are validated first (trail_cmd.go).
	if err := ingestTrailCheck(ctx, e, rec, paths); err != nil {
		return err
	}

	// Batches are written by one goroutine while the next is parsed, in
	// the order they were made. Only it touches rec until it is done.
	// Each record is copied once, from the parser's buffers into its
	// batch; a batch's buffer comes back for another once it is written.
	type pending struct {
		batch   *state.EventsBatch
		skipped []state.Skipped
	}
	var (
		queue      = make(chan pending, 2)
		free       = make(chan []byte, 4) // batch buffers the writer is done with
		written    int
		journalErr error
		failed     atomic.Bool
		done       = make(chan struct{})
	)
	go func() {
		defer close(done)
		for p := range queue {
			if journalErr != nil {
				continue
			}
			if _, err := rec.RecordBatch(p.batch, p.skipped); err != nil {
				journalErr = err
				failed.Store(true)
				continue
			}
			written += p.batch.Len()
			select {
			case free <- p.batch.Buffer():
			default:
			}
		}
	}()
	var (
		batch      *state.EventsBatch
		skipped    []state.Skipped
		total, dup int
	)
	next := func() *state.EventsBatch {
		var buf []byte
		select {
		case buf = <-free:
		default:
			buf = make([]byte, 0, ingestBatchBytes+ingestBatchBytes/4)
		}
		b := new(state.EventsBatch)
		b.Reset("file", buf)
		return b
	}
	batch = next()
	flush := func() {
		if batch.Len() == 0 && len(skipped) == 0 {
			return
		}
		queue <- pending{batch, skipped}
		batch, skipped = next(), nil
	}
	errStopped := errors.New("journal write failed")
	emit := func(r ctlog.Record) error {
		if failed.Load() {
			return errStopped
		}
		if ingestRecordHook != nil {
			ingestRecordHook()
		}
		total++
		// A plain duplicate (overlapping files, a re-run) is not journaled
		// twice; a newer copy with an addendum is, and replaces the old one.
		if !seen.Add(&r) {
			dup++
			return nil
		}
		batch.Add(r.Raw)
		if batch.Len() >= ingestBatchRecords || batch.Bytes() >= ingestBatchBytes {
			flush()
		}
		return nil
	}
	// Files are decompressed and parsed on every core; records still come
	// in path order, so the journal is the same whatever the core count.
	// Records borrow the parser's buffers: seen copies what it keeps, and
	// the batch the raw record.
	// An interrupt stops the run between files: what was read is kept.
	opt := ctlog.Options{Borrow: true, Cancel: ctx.Done(), MaxFileBytes: caps.maxFile, MaxInFlightBytes: caps.inFlight}
	stats, problems, err := ctlog.ParsePathsParallel(paths, opt, runtime.GOMAXPROCS(0), emit)
	interrupted := errors.Is(err, ctlog.ErrCanceled)
	if interrupted {
		err = nil
	}
	// The records first, in their own facts: the problems can never keep
	// them out of the journal. ctlog bounds the problems (the first ones
	// listed, the rest counted); they follow in facts of their own.
	flush()
	all := state.SkippedOf(problems)
	for len(all) > 0 {
		n := min(len(all), ingestSkippedPerFact)
		skipped = all[:n:n]
		all = all[n:]
		flush()
	}
	close(queue)
	<-done
	for _, p := range problems {
		fmt.Fprintf(e.stderr, "skipped: %s\n", sanitize.Terminal(p.Error()))
	}
	if journalErr != nil {
		return usageErr(fmt.Errorf("writing %s: %w (%d records were written before it)", path, journalErr, written))
	}
	if err != nil {
		return usageErr(err)
	}
	if err := rec.Sync(); err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(e.stdout, "%s: %d files, %d records: %d written, %d already in the journal, %d problems\n",
		path, stats.Files, total, written, dup, stats.Skipped)
	switch {
	case interrupted:
		fmt.Fprintf(e.stderr, "interrupted: the %d records read until then are journaled; the rest of the input was not read\n", written)
		return &exitError{code: exitInterrupted, quiet: true}
	case stats.Skipped == 0 && total == 0:
		fmt.Fprintln(e.stderr, "nothing found: the input holds no CloudTrail records")
		return nil
	case stats.Skipped == 0:
		return nil
	case total == 0:
		fmt.Fprintf(e.stderr, "nothing could be read: %d problems, no CloudTrail record\n", stats.Skipped)
		return &exitError{code: exitUsage, quiet: true}
	}
	fmt.Fprintf(e.stderr, "some input could not be used (%d problems); the %d records read are journaled\n", stats.Skipped, total)
	return &exitError{code: exitProblem, quiet: true}
}
