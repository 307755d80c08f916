package trail

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"golang.org/x/time/rate"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// Health statuses, as state.StreamHealth.Status.
const (
	StatusBackfill  = "backfill"
	StatusOK        = "ok"
	StatusThrottled = "throttled"
	StatusDenied    = "denied"
	StatusDisabled  = "disabled"
	StatusError     = "error"
)

// poller reads one Region. Everything but wake is touched only by its own
// goroutine.
type poller struct {
	s      *Stream
	region string
	source string
	api    cloudtrail.LookupEventsAPIClient
	lim    *rate.Limiter
	seen   *state.SeenWindow // nil when the sink admits (Admitter)
	// admitter is the sink, when it decides which records are new.
	admitter Admitter
	wake     chan struct{}

	covered  time.Time            // end of the last general window read in full
	keys     map[string]time.Time // suspect key → end of its last window read in full
	newest   time.Time            // newest event time seen
	status   string
	errText  string
	sent     state.StreamHealth // the last health fact
	sentAt   time.Time
	fresh    int // events delivered since the last health fact
	failures int // consecutive failed windows
}

func newPoller(s *Stream, region string) *poller {
	p := &poller{s: s, region: region, source: "lookup:" + region, api: s.lookup(region),
		lim:  s.opts.Budget.Limiter(region),
		wake: make(chan struct{}, 1), keys: map[string]time.Time{}}
	if a, ok := s.sink.(Admitter); ok {
		p.admitter = a
	} else {
		p.seen = state.NewSeenWindow(s.opts.SeenMax)
	}
	return p
}

// admit reports whether r is to be delivered: the sink's rule when it has
// one, else the poller's own set.
func (p *poller) admit(r *ctlog.Record) bool {
	if p.admitter != nil {
		return p.admitter.Admit(r)
	}
	return p.seen.Add(r)
}

// errSink marks a Sink failure, which stops the stream.
type errSink struct{ err error }

func (e errSink) Error() string { return "trail: sink: " + e.err.Error() }
func (e errSink) Unwrap() error { return e.err }

// run backfills, then follows until ctx is done (or, with Once, returns).
func (p *poller) run(ctx context.Context) error {
	o := &p.s.opts
	p.status = StatusBackfill
	if err := p.health(ctx, true); err != nil {
		return err
	}
	// Backfill: one window from the start to now, paged newest first.
	// Suspect keys' filtered polls run between its pages.
	end := o.Now()
	upTo := end
	for {
		ok, frontier, err := p.window(ctx, "", p.s.start, upTo, true)
		if err != nil {
			return p.stopErr(ctx, err)
		}
		if ok {
			p.covered = end
			break
		}
		if !frontier.IsZero() {
			// Pages come newest first: what is newer than the frontier
			// was read. Events of the same second may straddle pages.
			upTo = frontier.Add(time.Second)
		}
		if o.Once {
			// The failure is reported; a one-shot read does not wait for
			// a Region that cannot be read.
			return nil
		}
		if err := p.sleep(ctx, p.failDelay()); err != nil {
			return p.stopErr(ctx, err)
		}
	}
	if err := p.suspectPolls(ctx); err != nil {
		return p.stopErr(ctx, err)
	}
	p.setStatus(StatusOK, "")
	if err := p.health(ctx, true); err != nil {
		return err
	}
	if o.Once {
		return nil
	}
	poll := time.NewTimer(o.PollEvery)
	defer poll.Stop()
	tick := time.NewTicker(o.HealthEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := p.health(ctx, false); err != nil {
				return p.stopErr(ctx, err)
			}
			continue
		case <-p.wake:
			if !poll.Stop() {
				select {
				case <-poll.C:
				default:
				}
			}
		case <-poll.C:
		}
		delay := o.PollEvery
		if err := p.follow(ctx); err != nil {
			return p.stopErr(ctx, err)
		}
		if p.failures > 0 {
			delay = p.failDelay()
		}
		poll.Reset(delay)
	}
}

// stopErr turns the error that ended a poller into Run's answer: nil when
// ctx is done, the Sink's error otherwise.
func (p *poller) stopErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// follow runs one poll: suspect keys first, then the general window from
// Overlap before the last one read in full.
func (p *poller) follow(ctx context.Context) error {
	o := &p.s.opts
	if err := p.suspectPolls(ctx); err != nil {
		return err
	}
	end := o.Now()
	from := p.covered.Add(-o.Overlap)
	from = maxTime(from, p.s.start)
	ok, _, err := p.window(ctx, "", from, end, false)
	if err != nil {
		return err
	}
	if ok {
		p.covered = end
		p.failures = 0
		p.setStatus(StatusOK, "")
		if p.seen != nil {
			p.seen.Prune(p.horizon())
		}
	}
	return p.health(ctx, false)
}

// horizon is the oldest event time any later window of this poller asks
// for; nothing older needs remembering.
func (p *poller) horizon() time.Time {
	h := p.covered.Add(-p.s.opts.Overlap)
	for _, c := range p.keys {
		h = minTime(h, c.Add(-p.s.opts.Overlap))
	}
	return h.Add(-time.Minute)
}

// suspectPolls polls each suspect key's events since its last window.
func (p *poller) suspectPolls(ctx context.Context) error {
	keys := p.s.suspectKeys()
	for k := range p.keys {
		if !slices.Contains(keys, k) {
			delete(p.keys, k) // no longer suspect: its window no longer holds the horizon back
		}
	}
	for _, key := range keys {
		end := p.s.opts.Now()
		from := p.s.start
		if c, ok := p.keys[key]; ok {
			from = maxTime(from, c.Add(-p.s.opts.Overlap))
		}
		ok, _, err := p.window(ctx, key, from, end, false)
		if err != nil {
			return err
		}
		if ok {
			p.keys[key] = end
		}
	}
	return nil
}

// window reads every page of LookupEvents between from and to (for one
// access key id when key is set) and delivers the records not yet seen. It
// reports whether the window was read in full and, when it was not, the
// oldest event time of the pages read; a failed call is reported as
// health, and the error returned only for ctx or the Sink. During the
// backfill, suspect keys' polls run between pages.
func (p *poller) window(ctx context.Context, key string, from, to time.Time, backfill bool) (bool, time.Time, error) {
	var frontier time.Time
	in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(from), EndTime: aws.Time(to), MaxResults: aws.Int32(50)}
	if key != "" {
		in.LookupAttributes = []types.LookupAttribute{{AttributeKey: types.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key)}}
	}
	pages := cloudtrail.NewLookupEventsPaginator(p.api, in)
	for pages.HasMorePages() {
		if backfill && key == "" {
			if err := p.newSuspects(ctx); err != nil {
				return false, frontier, err
			}
		}
		out, err := p.page(ctx, pages)
		if err != nil {
			if ctx.Err() != nil {
				return false, frontier, ctx.Err()
			}
			p.failures++
			p.fail(ctx, err)
			return false, frontier, p.health(ctx, false)
		}
		for _, ev := range out.Events {
			if t := aws.ToTime(ev.EventTime); !t.IsZero() && (frontier.IsZero() || t.Before(frontier)) {
				frontier = t
			}
		}
		if err := p.deliver(ctx, out.Events); err != nil {
			return false, frontier, err
		}
	}
	return true, frontier, nil
}

// newSuspects runs the first filtered poll of keys marked suspect since
// the poller last looked.
func (p *poller) newSuspects(ctx context.Context) error {
	for _, key := range p.s.suspectKeys() {
		if _, ok := p.keys[key]; ok {
			continue
		}
		end := p.s.opts.Now()
		ok, _, err := p.window(ctx, key, p.s.start, end, false)
		if err != nil {
			return err
		}
		if ok {
			p.keys[key] = end
		}
	}
	return nil
}

// noRetry turns off the SDK's own retries for a page: the poller retries
// itself, within its limiter, so that each attempt counts against the
// Region's budget and a throttled Region shows in its health.
func noRetry(o *cloudtrail.Options) {
	o.Retryer = retry.AddWithMaxAttempts(o.Retryer, 1)
}

// page fetches the paginator's next page, waiting for the Region's budget
// before each attempt and backing off after a throttled or failed one. It
// gives up on other errors at once, and on those after PageAttempts.
func (p *poller) page(ctx context.Context, pages *cloudtrail.LookupEventsPaginator) (*cloudtrail.LookupEventsOutput, error) {
	o := &p.s.opts
	backoff := o.MinBackoff
	for attempt := 1; ; attempt++ {
		if err := p.lim.Wait(ctx); err != nil {
			return nil, err
		}
		p.s.requests.Add(1)
		out, err := pages.NextPage(ctx, noRetry)
		if err == nil {
			p.s.markWorked()
			if p.status == StatusThrottled || p.status == StatusError {
				p.setStatus(p.okStatus(), "")
			}
			return out, nil
		}
		err = session.Wrap("cloudtrail:LookupEvents", p.region, err)
		class := session.Classify(err)
		if ctx.Err() != nil || (class != session.ClassThrottled && class != session.ClassUnavailable) || attempt >= o.PageAttempts {
			return nil, err
		}
		p.fail(ctx, err)
		if herr := p.health(ctx, false); herr != nil {
			return nil, herr
		}
		// Full jitter: several Regions backing off do not retry in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		if err := p.sleep(ctx, wait); err != nil {
			return nil, err
		}
		backoff = min(2*backoff, o.MaxBackoff)
	}
}

// okStatus is the status of a poller whose calls succeed.
func (p *poller) okStatus() string {
	if p.covered.IsZero() {
		return StatusBackfill
	}
	return StatusOK
}

// fail records err as the poller's status.
func (p *poller) fail(ctx context.Context, err error) {
	status, text := StatusError, err.Error()
	switch class := session.Classify(err); {
	case class == session.ClassThrottled:
		status = StatusThrottled
	case class == session.ClassDenied:
		status = StatusDenied
	case class == session.ClassRegionDisabled:
		status = StatusDisabled
	case class == session.ClassInvalidKey && p.region != GlobalRegion && p.s.keyWorks(ctx):
		// The key works elsewhere: the Region does not know it, which is
		// what AWS answers in a Region the account has not enabled.
		status = StatusDisabled
		text += "; the credentials work in other Regions: this Region is probably not enabled"
	}
	p.setStatus(status, text)
}

func (p *poller) setStatus(status, errText string) {
	p.status, p.errText = status, errText
}

// failDelay is the wait before retrying a window that failed: it grows
// with each consecutive failure, from PollEvery to 8 times that (at most
// 5 minutes), so that a denied Region costs little and refreshed
// credentials are used soon.
func (p *poller) failDelay() time.Duration {
	every := p.s.opts.PollEvery
	ceiling := max(every, min(8*every, 5*time.Minute))
	d := every
	for i := 1; i < p.failures && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}

// deliver parses, deduplicates and hands a page's events to the Sink.
func (p *poller) deliver(ctx context.Context, events []types.Event) error {
	var recs []ctlog.Record
	var skipped []state.Skipped
	for i, ev := range events {
		raw := aws.ToString(ev.CloudTrailEvent)
		if raw == "" {
			skipped = append(skipped, state.Skipped{File: p.source, Index: i,
				Reason: fmt.Sprintf("event %s has no CloudTrailEvent", aws.ToString(ev.EventId))})
			continue
		}
		r, err := ctlog.ParseRecord([]byte(raw))
		if err != nil {
			skipped = append(skipped, state.Skipped{File: p.source, Index: i,
				Reason: fmt.Sprintf("event %s: %v", aws.ToString(ev.EventId), err)})
			continue
		}
		if r.EventID == "" {
			r.EventID = aws.ToString(ev.EventId)
		}
		if !p.admit(&r) {
			continue
		}
		if r.EventTime.After(p.newest) {
			p.newest = r.EventTime
		}
		recs = append(recs, r)
	}
	if len(recs) == 0 && len(skipped) == 0 {
		return nil
	}
	p.fresh += len(recs)
	if err := p.s.sink.Events(ctx, p.source, recs, skipped); err != nil {
		return errSink{err}
	}
	return nil
}

// health sends a health fact when the status changed, or when force is
// set (periodic and milestone facts).
func (p *poller) health(ctx context.Context, force bool) error {
	now := p.s.opts.Now()
	h := state.StreamHealth{Source: p.source, Region: p.region, Status: p.status, Error: p.errText,
		NewestAt: p.newest, Delivered: p.fresh}
	// Lag is how far behind now the newest event seen is. Every poll is
	// itself recorded in the Region, so a working stream always has a
	// recent event; before any, it is how long ago the last full window
	// ended.
	switch {
	case !p.newest.IsZero():
		h.Lag = state.Duration(max(0, now.Sub(p.newest)).Round(time.Second))
	case !p.covered.IsZero():
		h.Lag = state.Duration(max(0, now.Sub(p.covered)).Round(time.Second))
	}
	if !force && !p.sentAt.IsZero() && h.Status == p.sent.Status && h.Error == p.sent.Error &&
		h.NewestAt.IsZero() == p.sent.NewestAt.IsZero() &&
		lagBand(h.Lag) == lagBand(p.sent.Lag) && now.Sub(p.sentAt) < healthKeepAlive {
		// Nothing a responder would act on changed: no fact. (The console
		// computes the live lag from NewestAt.)
		return nil
	}
	if err := p.s.sink.Health(ctx, h); err != nil {
		if errors.As(err, new(errSink)) {
			return err
		}
		return errSink{err}
	}
	p.sent, p.sentAt, p.fresh = h, now, 0
	return nil
}

// healthKeepAlive is the longest a healthy, unchanged stream goes without
// a health fact.
const healthKeepAlive = 5 * time.Minute

// lagBand buckets a lag into what a responder reads differently: current,
// minutes behind (normal delivery), well behind, far behind.
func lagBand(d state.Duration) int {
	switch lag := time.Duration(d); {
	case lag < time.Minute:
		return 0
	case lag < 5*time.Minute:
		return 1
	case lag < 15*time.Minute:
		return 2
	}
	return 3
}

// sleep waits d or until ctx is done.
func (p *poller) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
