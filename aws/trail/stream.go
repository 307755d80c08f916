// Package trail reads the live CloudTrail stream: a LookupEvents poller per
// enabled Region (and us-east-1, where IAM and global STS record), each
// within CloudTrail's 2 requests per second per Region, with overlapping
// windows because delivery is late and out of order, deduplicated by event
// id, backfilled on start and then followed; filtered polls for suspect
// keys; and the trail's log files in S3. What it reads goes to a Sink as
// parsed records and as health facts.
package trail

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"golang.org/x/time/rate"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// Sink receives what the stream reads. cmd/ implements it by journaling
// through state.Recorder and forwarding to the console. Its methods are
// called from several goroutines at once. An error from it stops the
// stream: a journal that cannot be written must not be silently skipped.
type Sink interface {
	// Events receives a batch of new records from source ("lookup:REGION",
	// "s3://bucket/key"), and the records that could not be parsed.
	Events(ctx context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error
	// Health receives a source's state, on change and periodically.
	Health(ctx context.Context, h state.StreamHealth) error
}

// Admitter is a Sink that decides itself which records are new: the
// process's one dedupe rule, asked of the process's one fold (see package
// incident). A source whose sink is an Admitter asks it of every record
// before delivering it (a record it admits is remembered as delivered) and
// keeps no set of its own; Events then receives only admitted records.
type Admitter interface {
	Sink
	// Admit reports whether r is to be delivered: no copy of its event
	// with the same state.CopyFingerprint has been admitted or journaled.
	Admit(r *ctlog.Record) bool
}

// Lookup returns the LookupEvents client of a Region.
type Lookup func(region string) cloudtrail.LookupEventsAPIClient

// SessionLookup is Lookup over a session's cached per-Region clients.
func SessionLookup(s *session.Session) Lookup {
	return func(region string) cloudtrail.LookupEventsAPIClient { return s.CloudTrail(region) }
}

// Defaults for Options fields left zero.
const (
	DefaultSince     = 24 * time.Hour
	MaxSince         = 90 * 24 * time.Hour // LookupEvents keeps 90 days
	DefaultPollEvery = 15 * time.Second
	DefaultOverlap   = 15 * time.Minute // delivery is ~5 min late on average, not guaranteed
	// DefaultRate is a little under LookupEvents' 2 requests/s per account
	// per Region: calls spaced exactly 500 ms apart when sent arrive
	// closer together after network jitter, and would be throttled.
	DefaultRate        = rate.Limit(1.8)
	DefaultHealthEvery = 30 * time.Second
	DefaultMinBackoff  = 500 * time.Millisecond
	DefaultMaxBackoff  = 30 * time.Second
	DefaultSeenMax     = 1 << 18
	// GlobalRegion records IAM and global STS events.
	GlobalRegion = "us-east-1"
)

// Options configure a Stream. The zero value is usable.
type Options struct {
	// Regions to poll; GlobalRegion is always added.
	Regions []string
	// Since is how far back the backfill reaches (default 24 h, at most 90 days).
	Since time.Duration
	// Once stops each poller after its backfill.
	Once bool
	// PollEvery is the time between follow polls of a Region.
	PollEvery time.Duration
	// Overlap is how far before the end of the last window read each new
	// window starts, to catch records delivered late.
	Overlap time.Duration
	// Rate and Burst are each Region's request budget, shared by its
	// general and filtered polls. The default (1.8/s, burst 1) stays under
	// AWS's limit of 2/s. Budget, when set, is used instead: share one
	// between everything that calls LookupEvents.
	Rate   rate.Limit
	Burst  int
	Budget *Budget
	// HealthEvery is the time between periodic health facts.
	HealthEvery time.Duration
	// MinBackoff and MaxBackoff bound the wait after a throttled or
	// failed call.
	MinBackoff, MaxBackoff time.Duration
	// PageAttempts is how many times a throttled or failing page is tried
	// before the window is given up (and, unless Once, tried again at the
	// next poll). Zero means 8.
	PageAttempts int
	// SeenMax bounds each poller's memory of event ids.
	SeenMax int
	// Now tells the time (windows and lag); time.Now when nil.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Since <= 0 {
		o.Since = DefaultSince
	}
	o.Since = min(o.Since, MaxSince)
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	if o.Overlap <= 0 {
		o.Overlap = DefaultOverlap
	}
	if o.Budget == nil {
		o.Budget = NewBudget(o.Rate, o.Burst)
	}
	if o.HealthEvery <= 0 {
		o.HealthEvery = DefaultHealthEvery
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	if o.PageAttempts <= 0 {
		o.PageAttempts = 8
	}
	if o.SeenMax <= 0 {
		o.SeenMax = DefaultSeenMax
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Stream polls LookupEvents in every Region it is given. Its methods are
// safe for concurrent use.
type Stream struct {
	lookup Lookup
	sink   Sink
	opts   Options
	start  time.Time // the backfill's start

	// worked is set once any call succeeded: an unknown-key answer in one
	// Region while the key works in another means that Region is not
	// enabled.
	worked atomic.Bool
	// workedCh is closed when worked is first set.
	workedCh   chan struct{}
	workedOnce sync.Once
	// requests counts LookupEvents calls sent (for benchmarks and tests).
	requests atomic.Int64

	mu       sync.Mutex
	running  bool
	ctx      context.Context
	cancel   context.CancelCauseFunc
	wg       sync.WaitGroup
	pollers  map[string]*poller
	disabled map[string]bool
	suspects []string
	err      error
}

// New returns a stream that reads through lookup and writes to sink.
func New(lookup Lookup, sink Sink, opts Options) *Stream {
	opts.defaults()
	return &Stream{lookup: lookup, sink: sink, opts: opts, pollers: map[string]*poller{}, disabled: map[string]bool{},
		workedCh: make(chan struct{})}
}

// markWorked records that a call succeeded.
func (s *Stream) markWorked() {
	s.worked.Store(true)
	s.workedOnce.Do(func() { close(s.workedCh) })
}

// keyWorks waits (a short while) until some call succeeded, and reports
// whether one did: the credentials are good, so an unknown-key answer in a
// Region is about the Region.
func (s *Stream) keyWorks(ctx context.Context) bool {
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-s.workedCh:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return s.worked.Load()
}

// Requests returns how many LookupEvents calls the stream has sent.
func (s *Stream) Requests() int64 { return s.requests.Load() }

// Run backfills every Region and then follows them until ctx is done
// (with Once, until every backfill is done). It returns nil when it stops
// because ctx is done or the backfill is complete, and the first Sink
// error otherwise.
func (s *Stream) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("trail: stream already running")
	}
	s.running, s.ctx, s.cancel = true, ctx, cancel
	s.start = s.opts.Now().Add(-s.opts.Since)
	regions := append([]string{GlobalRegion}, s.opts.Regions...)
	for _, r := range regions {
		s.startLocked(r)
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
	return s.err
}

// startLocked starts region's poller unless it runs already.
func (s *Stream) startLocked(region string) {
	if region == "" || s.pollers[region] != nil || s.disabled[region] {
		return
	}
	p := newPoller(s, region)
	s.pollers[region] = p
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := p.run(s.ctx); err != nil && s.ctx.Err() == nil {
			s.mu.Lock()
			if s.err == nil {
				s.err = err
			}
			s.mu.Unlock()
			s.cancel(err)
		}
	}()
}

// SetRegions tells the stream the account's Regions as last read: a Region
// newly enabled gets a poller (with its own backfill), and a Region that is
// not enabled is reported as such instead of being polled. While the stream
// is not running it replaces Options.Regions.
func (s *Stream) SetRegions(ctx context.Context, list []state.Region) error {
	s.mu.Lock()
	var report []string
	var names []string
	for _, r := range list {
		if !r.Enabled() && r.Name != GlobalRegion {
			if !s.disabled[r.Name] && s.pollers[r.Name] == nil {
				report = append(report, r.Name)
			}
			s.disabled[r.Name] = true
			continue
		}
		delete(s.disabled, r.Name)
		names = append(names, r.Name)
		if s.running {
			s.startLocked(r.Name)
		}
	}
	if !s.running {
		s.opts.Regions = names
	}
	s.mu.Unlock()
	for _, name := range report {
		h := state.StreamHealth{Source: "lookup:" + name, Region: name, Status: "disabled",
			Error: name + " is not enabled for the account (opt-in status not-opted-in): not polled"}
		if err := s.sink.Health(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// AddSuspectKey makes every Region's poller also poll LookupEvents for the
// access key id, from the start of the backfill, before its general poll:
// the key's events arrive first. Each Region's filtered polls share its
// request budget.
func (s *Stream) AddSuspectKey(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "" || slices.Contains(s.suspects, id) {
		return
	}
	s.suspects = append(s.suspects, id)
	for _, p := range s.pollers {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// RemoveSuspectKey stops the filtered polls for id.
func (s *Stream) RemoveSuspectKey(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.suspects = slices.DeleteFunc(s.suspects, func(k string) bool { return k == id })
}

// suspectKeys returns the suspect key ids.
func (s *Stream) suspectKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.suspects)
}
