package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

func init() { moreCommands = append(moreCommands, newStreamCmd) }

// streamArgs are warroom stream's flags.
type streamArgs struct {
	aws          awsFlags
	path         string
	filter       string
	output       string
	bucket       string
	once         bool
	since        time.Duration
	pollEvery    time.Duration
	regionsEvery time.Duration
}

func newStreamCmd(e *env) *cobra.Command {
	var a streamArgs
	c := &cobra.Command{
		Use:   "stream",
		Short: "Follow the CloudTrail stream of every Region into the journal",
		Long: `stream reads the account's CloudTrail events from every enabled Region (and us-east-1,
where IAM and global STS record) with LookupEvents: a backfill from --since ago, then
polls that reach back over late deliveries, within CloudTrail's 2 requests per second per
Region. Events of keys marked suspect in the journal are asked for first. With
--trail-bucket it also reads the trail's log files in S3 (--trail-bucket auto finds the
bucket with DescribeTrails).

Everything read is journaled: the session, the Region list, the events (deduplicated
against the journal) and each source's health. The events matching --filter (the
language of warroom events) are printed as they arrive; with --once, after the backfill.
Health changes ("lookup:ap-east-1: denied") go to stderr.`,
		Example: `  warroom stream --once --since 2h --filter 'key:AKIAEXAMPLE'
  warroom stream -j incident/journal.jsonl --output json | jq .eventName
  warroom stream --trail-bucket s3://org-trail-logs/prefix --since 72h --once`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStream(cmd.Context(), e, &a)
		},
	}
	a.aws.register(c)
	journalFlag(c, &a.path, "journal to append to (default: a new incident folder)")
	c.Flags().StringVarP(&a.filter, "filter", "f", "", "print only the events matching this filter (see warroom events)")
	c.Flags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	c.Flags().StringVar(&a.bucket, "trail-bucket", "", "also read the trail's log files from s3://BUCKET[/PREFIX], or auto")
	c.Flags().BoolVar(&a.once, "once", false, "backfill, print and exit instead of following")
	c.Flags().DurationVar(&a.since, "since", trail.DefaultSince, "how far back the backfill reaches (at most 90 days)")
	c.Flags().DurationVar(&a.pollEvery, "poll", trail.DefaultPollEvery, "time between polls of a Region")
	c.Flags().DurationVar(&a.regionsEvery, "regions-every", regions.DefaultEvery, "time between reads of the Region list")
	_ = c.Flags().MarkHidden("poll")
	_ = c.Flags().MarkHidden("regions-every")
	return c
}

func runStream(ctx context.Context, e *env, a *streamArgs) error {
	f, err := state.ParseFilter(a.filter)
	if err != nil {
		return usageErr(fmt.Errorf("--filter: %w", err))
	}
	if a.output != "table" && a.output != "json" {
		return usageErr(fmt.Errorf("--output must be table or json, not %q", a.output))
	}
	if a.since <= 0 || a.since > trail.MaxSince {
		return usageErr(fmt.Errorf("--since must be more than 0 and at most 90 days (2160h), not %s", a.since))
	}
	var bucket, prefix string
	if a.bucket != "" && a.bucket != "auto" {
		if bucket, prefix, err = trail.ParseBucketURL(a.bucket); err != nil {
			return usageErr(err)
		}
	}
	sess, id, err := a.aws.session(ctx, e)
	if err != nil {
		return err
	}
	// The fold holds the journal as it stands: what is already in it is
	// not journaled again (the sink's one dedupe rule asks it), and the
	// output is what the stream pane shows.
	fold := incident.NewFold()
	if fi, err := os.Stat(a.path); a.path != "" && err == nil && fi.Size() > 0 {
		store, _, err := replayJournal(e, a.path)
		if err != nil {
			return err
		}
		fold = incident.FoldOf(store)
	}
	store := fold.Store()
	rec, err := openIncident(e, a.path)
	if err != nil {
		return err
	}
	defer rec.Close()
	k := &streamSink{Sink: &incident.Sink{Rec: rec, Fold: fold, Direct: true}, e: e, store: store, filter: f,
		json: a.output == "json", live: !a.once, printed: map[uint32]bool{}, shown: map[string]string{}}
	if err := k.record(state.KindSessionStarted, sessionFact("stream", sess, id)); err != nil {
		return err
	}
	incident.JournalNewKeys(sess, rec)
	if k.live {
		// Follow: first what the journal already holds, then what arrives.
		if err := k.printNew(); err != nil {
			return usageErr(err)
		}
	}

	home := sess.HomeRegion()
	list, err := regions.List(ctx, sess.EC2(home), home)
	var enabled []string
	if err != nil {
		fmt.Fprintf(e.stderr, "warning: %s; reading only %s and %s\n", sanitize.Terminal(err.Error()), trail.GlobalRegion, home)
		enabled = []string{home}
	} else {
		if err := k.regions(list); err != nil {
			return err
		}
		enabled = regions.Enabled(list)
	}
	opts := trail.Options{Regions: enabled, Since: a.since, Once: a.once, PollEvery: a.pollEvery}
	st := trail.New(trail.SessionLookup(sess), k, opts)
	if list != nil {
		if err := st.SetRegions(ctx, list); err != nil {
			return usageErr(err)
		}
	}
	for key, s := range store.Suspects {
		if s.V.AccessKeyID != "" {
			st.AddSuspectKey(key)
		}
	}

	var src *trail.S3Source
	if a.bucket == "auto" {
		if bucket, prefix, err = trail.DiscoverBucket(ctx, sess.CloudTrail(home), home); err != nil {
			fmt.Fprintf(e.stderr, "warning: no trail bucket: %s\n", sanitize.Terminal(err.Error()))
		}
	}
	if bucket != "" {
		src = trail.NewS3Source(sess.S3(home), k, trail.S3Options{Bucket: bucket, Prefix: prefix, AccountID: id.AccountID,
			Regions: enabled, Since: a.since, Once: a.once, BucketRegion: home})
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	launch := func(run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel()
			}
		}()
	}
	launch(st.Run)
	if src != nil {
		launch(src.Run)
	}
	if k.live && list != nil {
		w := &regions.Watcher{API: sess.EC2(home), Region: home, Every: a.regionsEvery,
			OnChange: func(ctx context.Context, cur []state.Region, changes []regions.Change) error {
				if len(regions.Diff(list, cur)) == 0 {
					return nil // the first read repeats the list read above
				}
				list = cur
				for _, c := range changes {
					fmt.Fprintf(e.stderr, "Region %s\n", sanitize.Terminal(c.String()))
				}
				if err := k.regions(cur); err != nil {
					return err
				}
				return st.SetRegions(ctx, cur)
			},
			OnError: func(_ context.Context, err error) {
				fmt.Fprintf(e.stderr, "warning: %s\n", sanitize.Terminal(err.Error()))
			}}
		launch(w.Run)
	}
	wg.Wait()
	if len(errs) > 0 {
		return usageErr(fmt.Errorf("writing %s: %w", rec.Path(), errors.Join(errs...)))
	}
	if err := rec.Sync(); err != nil {
		return usageErr(err)
	}
	if !k.live {
		res := store.Events.Query(f)
		if k.json {
			err = printEventsJSON(e, rec.Path(), store, res, 0)
		} else {
			err = printEventsTable(e, store, res, 0)
		}
		if err != nil {
			return usageErr(err)
		}
	}
	return nil
}

// streamSink is the incident's sink (the one dedupe rule, the journal,
// the fold, applied as each fact is journaled) and, when following, prints
// the new events that match the filter and the sources' health changes.
type streamSink struct {
	*incident.Sink
	e      *env
	filter *state.Filter
	json   bool
	live   bool

	mu      sync.Mutex // printing; the store is read with the fold locked
	store   *state.Store
	printed map[uint32]bool
	header  bool
	shown   map[string]string // source → last status printed
}

// record journals a fact and applies it to the fold.
func (k *streamSink) record(kind state.Kind, v any) error {
	if err := k.Record(kind, v); err != nil {
		return usageErr(err)
	}
	return nil
}

// regions journals the Region list when it differs from the journal's.
func (k *streamSink) regions(list []state.Region) error {
	var same bool
	k.Fold.Read(func(s *state.Store) { same = slices.Equal(s.Regions, list) })
	if same {
		return nil
	}
	return k.record(state.KindRegions, state.Regions{Regions: list})
}

// Events journals the records their source admitted.
func (k *streamSink) Events(ctx context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error {
	for _, s := range skipped {
		p := ctlog.Problem{File: s.File, Index: s.Index, Line: s.Line, Reason: s.Reason}
		fmt.Fprintf(k.e.stderr, "skipped: %s\n", sanitize.Terminal(p.Error()))
	}
	if err := k.Sink.Events(ctx, source, recs, skipped); err != nil {
		return err
	}
	if k.live {
		return k.printNew()
	}
	return nil
}

// Health journals a source's health and prints it when its status changed.
func (k *streamSink) Health(ctx context.Context, h state.StreamHealth) error {
	if err := k.Sink.Health(ctx, h); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if status := h.Status + "|" + h.Error; k.shown[h.Source] != status {
		k.shown[h.Source] = status
		line := h.Source + ": " + h.Status
		if h.Lag > 0 {
			line += fmt.Sprintf(", %s behind", time.Duration(h.Lag))
		}
		if h.Error != "" {
			line += ": " + h.Error
		}
		fmt.Fprintln(k.e.stderr, sanitize.Terminal(line))
	}
	return nil
}

func (k *streamSink) printNew() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var err error
	k.Fold.Read(func(*state.Store) { err = k.printNewLocked() })
	return err
}

// printNewLocked prints the matching events not printed yet, oldest first.
func (k *streamSink) printNewLocked() error {
	var ids []uint32
	for _, id := range k.store.Events.Query(k.filter).IDs() {
		if !k.printed[id] {
			k.printed[id] = true
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if k.json {
		raws := state.NewRawReader(k.Rec.Path())
		defer raws.Close()
		w := bufio.NewWriter(k.e.stdout)
		if err := writeEventsJSON(w, raws, k.store, ids); err != nil {
			return err
		}
		return w.Flush()
	}
	tw := tabwriter.NewWriter(k.e.stdout, 0, 0, 2, ' ', 0)
	if !k.header {
		k.header = true
		fmt.Fprintln(tw, eventsTableHeader)
	}
	writeEventRows(tw, k.store, ids)
	return tw.Flush()
}

// interface check: the sink is what the trail package writes to.
var _ trail.Admitter = (*streamSink)(nil)
