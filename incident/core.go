// Package incident is warroom's application: one incident core per
// process, over one journal. It owns the Recorder every producer writes
// through, the producers (the CloudTrail stream, the Region watcher, the
// inventory and sweep loops, the anchor timer, the trails' integrity
// check), the one fold of the
// journal (Fold) that the screen draws and containment plans from, the
// journal follower that brings the fold up to date and tells the screen,
// the containment runner (resumed on start), and the suspect list the
// stream polls for first.
//
// Where a fact enters, is stored and is drawn:
//
//	AWS ─► trail poller (parse) ─► Sink.Admit (the one dedupe rule, asked
//	of the Fold) ─► Sink.Events ─► Recorder ─► journal file ─► follower
//	(journal.Follow) ─► Fold.Apply (the records handed over, not parsed
//	again) ─► Feed ─► the screen, which draws the Fold under its lock.
//
// The commands in cmd/warroom are thin: flags, help, and the tui adapter.
// This package imports state, sanitize, report and aws/*, never a UI
// library (boundaries_test.go).
package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/aws/anchor"
	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sweep"
	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Pacing is how often the producers read AWS.
type Pacing struct {
	Since     time.Duration // how far back the CloudTrail backfill reaches
	Poll      time.Duration // LookupEvents polls of a Region
	Health    time.Duration // periodic stream health facts
	Regions   time.Duration // re-reads of the Region list
	Inventory time.Duration // inventory snapshots
	Sweeps    time.Duration // Region sweeps
	Anchor    time.Duration // anchors of the journal's head in CloudTrail
	GuardDuty time.Duration // reads of GuardDuty's findings in every Region (guardduty.go); none when zero
	// Integrity is how often the trails' log files are validated against
	// their digests; IntegrityWindow how far back a check reaches at least
	// (from the incident's start when that is earlier); DigestEvery how
	// often CloudTrail writes a digest (no digest for two periods is
	// broken, not "not yet").
	Integrity, IntegrityWindow, DigestEvery time.Duration
	// ContainWait is how long the console's playbook keeps reading back
	// and containing before it journals a verdict that is not
	// "contained"; ContainPoll the time between its rounds.
	ContainWait, ContainPoll time.Duration
}

// RealPacing is the pacing against a real account.
func RealPacing() Pacing {
	return Pacing{Since: trail.DefaultSince, Poll: trail.DefaultPollEvery, Health: trail.DefaultHealthEvery,
		Regions: regions.DefaultEvery, Inventory: 5 * time.Minute, Sweeps: 5 * time.Minute, Anchor: 10 * time.Minute, GuardDuty: 5 * time.Minute,
		Integrity: time.Hour, IntegrityWindow: 6 * time.Hour, DigestEvery: time.Hour,
		ContainWait: 15 * time.Minute, ContainPoll: 5 * time.Second}
}

// DrillPacing is RealPacing compressed by the drill's speed, within bounds
// that keep the journal readable and the sim's budget respected.
func DrillPacing(speed float64) Pacing {
	p := RealPacing()
	scale := func(d, lo time.Duration) time.Duration {
		return min(max(time.Duration(float64(d)/speed), lo), d)
	}
	p.Since = time.Hour
	p.Poll = scale(p.Poll, 5*time.Second)
	p.Health = scale(p.Health, 5*time.Second)
	p.Regions = scale(p.Regions, 10*time.Second)
	p.Inventory = scale(p.Inventory, 10*time.Second)
	p.Sweeps = scale(p.Sweeps, 10*time.Second)
	p.GuardDuty = scale(p.GuardDuty, 10*time.Second)
	p.Anchor = scale(p.Anchor, 30*time.Second)
	// The drill's trail writes a digest every drill hour (whole seconds,
	// as aws/sim does); checked every half of one, so a tamper shows
	// within a drill hour.
	p.DigestEvery = max(time.Duration(float64(time.Hour)/speed).Truncate(time.Second), time.Second)
	p.Integrity = min(max(p.DigestEvery/2, 10*time.Second), time.Hour)
	p.IntegrityWindow = 6 * p.DigestEvery
	// CloudTrail's delivery is compressed by the speed too: the playbook's
	// verdict comes in drill time, not after fifteen wall minutes.
	p.ContainWait = scale(p.ContainWait, 90*time.Second)
	p.ContainPoll = scale(p.ContainPoll, time.Second)
	return p
}

// Core is one incident's application: one writer, one fold.
//
// Every producer — the trail pollers, the Region watcher, the inventory and
// sweep loops, the containment runner, and the console's own notes and
// suspect marks — writes through one *state.Recorder. The follower is
// journal.Follow of that same file: entries reach the fold, and then the
// screen, in journal order, and a second responder's process appending to
// the same journal is seen too. Producers run in goroutines with Start's
// context; a failed AWS call is a fact (stream health, a CallError in an
// inventory or a sweep), never a crash, and nothing the AWS side does can
// block the screen, which only reads the Feed and the Fold.
type Core struct {
	sess *session.Session
	id   session.Identity
	rec  *state.Recorder
	pace Pacing

	fold   *Fold
	sink   *Sink
	cont   *Containment
	stream *trail.Stream
	feed   chan []journal.Entry
	// caughtUp is closed once the fold holds the journal as it stood when
	// Start was called (or the follower stopped).
	caughtUp chan struct{}

	wg sync.WaitGroup

	mu       sync.Mutex
	enabled  []string // the Regions that can be called, as last read
	lastInv  []byte   // the last inventory journaled, without its time
	problems []error  // producers stopped by an error (the journal could not be written)
	feedErr  error    // why the follower stopped early (a broken chain)
	suspects map[string]bool
	// from is where the follower starts: past the lines Open folded.
	from int64

	// members is the organisation mode (accounts.go); nil reads the
	// home account alone. memberStreams are the members' streams.
	members       *Members
	memberStreams []*trail.Stream
}

// New prepares the core of the incident rec journals, reading AWS through
// sess as id; Start runs it.
func New(sess *session.Session, id session.Identity, rec *state.Recorder, pace Pacing) *Core {
	c := &Core{sess: sess, id: id, rec: rec, pace: pace, fold: NewFold(), feed: make(chan []journal.Entry),
		caughtUp: make(chan struct{}), suspects: map[string]bool{}}
	c.sink = &Sink{Rec: rec, Fold: c.fold}
	var lookup trail.Lookup
	home := ""
	if sess != nil {
		lookup, home = trail.SessionLookup(sess), sess.HomeRegion()
		c.enabled = []string{home}
	}
	c.stream = trail.New(lookup, c.sink, trail.Options{Regions: c.enabled,
		Since: pace.Since, PollEvery: pace.Poll, HealthEvery: pace.Health})
	return c
}

// Open folds the journal as it stands through state.Open (from its
// checkpoint when it has a good one, which it refreshes) before Start, so
// that the follower reads only the lines written since. A journal that
// does not verify is left to the follower, which stops where it breaks.
// Call it before Start and before anything reads the fold.
func (c *Core) Open(warn io.Writer) error {
	s, rep, err := state.Open(c.rec.Path(), state.OpenOptions{Warn: warn})
	if err != nil {
		return err
	}
	if p := rep.Problem; p != nil && p.Tampered() {
		return nil
	}
	c.fold.mu.Lock()
	c.fold.s = s
	c.fold.mu.Unlock()
	c.from = rep.Bytes
	for _, id := range slices.Sorted(maps.Keys(s.Suspects)) {
		if id != "" && id == s.Suspects[id].V.AccessKeyID {
			c.suspects[id] = true
			c.stream.AddSuspectKey(id)
		}
	}
	return nil
}

// Fold is the process's one fold of the journal.
func (c *Core) Fold() *Fold { return c.fold }

// Sink is the core's CloudTrail sink: the fold's dedupe rule and the
// hand-over of parsed records, for other sources of records (a hunt).
func (c *Core) Sink() *Sink { return c.sink }

// Recorder is the incident's one writer.
func (c *Core) Recorder() *state.Recorder { return c.rec }

// Feed delivers, in journal order, the entries the follower has applied
// to the Fold, a batch of what is ready at a time: the screen's signal to
// draw the Fold again. Their Data is dropped: what they said is in the
// Fold. It closes when the follower stops.
func (c *Core) Feed() <-chan []journal.Entry { return c.feed }

// Containment returns the incident's containment (nil for a read-only
// session): plans read from AWS just now, runs journaled through the core's
// Recorder by a Runner acting as actor, the key's owner read from the fold.
// Call it before Start: Start resumes what a process that died left between
// intent and result (DESIGN: verified on start, the verification
// journaled), and Wait waits for its runs.
func (c *Core) Containment(actor journal.Actor) *Containment {
	if c.cont != nil || c.sess == nil || c.sess.ReadOnly() {
		return c.cont
	}
	// The runner's Locate reads the journal file, on the first question an
	// action asks: the fold is not held while the file is read.
	c.cont = NewContainment(NewRunner(c.sess, c.id, c.rec, actor), c.fold)
	if c.pace.ContainWait > 0 {
		c.cont.Wait = c.pace.ContainWait
	}
	if c.pace.ContainPoll > 0 {
		c.cont.Poll = c.pace.ContainPoll
	}
	return c.cont
}

// CaughtUp is closed once the fold holds the journal as it stood when
// Start was called (or the follower stopped before).
func (c *Core) CaughtUp() <-chan struct{} { return c.caughtUp }

// Start runs the follower and, when the core has a session, the producers,
// until ctx is done.
func (c *Core) Start(ctx context.Context) {
	_, seq, _ := c.rec.Head()
	c.wg.Add(1)
	go func() { defer c.wg.Done(); c.follow(ctx, seq) }()
	if c.sess != nil {
		c.launch(ctx, c.produce)
	}
	if c.cont != nil {
		c.cont.Resume(ctx)
	}
}

// Wait returns when every goroutine Start began has stopped, and no
// containment run is in flight.
func (c *Core) Wait() {
	if c.cont != nil {
		c.cont.Idle()
	}
	c.wg.Wait()
}

// launch runs fn in a goroutine; an error other than ctx's is kept for
// the end of the session.
func (c *Core) launch(ctx context.Context, fn func(context.Context) error) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			c.mu.Lock()
			c.problems = append(c.problems, err)
			c.mu.Unlock()
		}
	}()
}

// Problem returns what stopped a part of the core early, if anything.
func (c *Core) Problem() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs := slices.Clone(c.problems)
	if c.feedErr != nil {
		errs = append(errs, fmt.Errorf("following the journal: %w", c.feedErr))
	}
	return errors.Join(errs...)
}

// follow tails the journal into the fold and the feed, and keeps the
// suspect list. It never drops an entry: a slow screen only makes the
// batches bigger, and the entries it waits for carry no data.
func (c *Core) follow(ctx context.Context, startSeq int64) {
	q := newEntryQueue()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(c.feed)
		for {
			batch, ok := q.take(ctx)
			if !ok {
				return
			}
			select {
			case c.feed <- batch:
			case <-ctx.Done():
				return
			}
		}
	}()
	var once sync.Once
	caughtUp := func() { once.Do(func() { close(c.caughtUp) }) }
	var held int64
	c.fold.Read(func(s *state.Store) { held = s.Seq })
	if held >= startSeq {
		caughtUp() // Open folded the journal as it stood
	}
	for e, err := range journal.Follow(ctx, c.rec.Path(), c.from) {
		if err != nil {
			c.mu.Lock()
			c.feedErr = err
			c.mu.Unlock()
			break
		}
		if aerr := c.fold.Apply(e); aerr != nil {
			c.mu.Lock()
			c.feedErr = aerr
			c.mu.Unlock()
			break
		}
		c.observe(e)
		e.Data = nil
		q.put(e)
		if e.Seq >= startSeq {
			caughtUp()
		}
	}
	caughtUp()
	c.mu.Lock()
	ferr := c.feedErr
	c.mu.Unlock()
	c.fold.Stop(ferr)
	q.close()
	<-done
}

// observe keeps the suspect list: a key marked suspect (by this console,
// another responder, or before a restart) is polled for first by every
// Region's poller.
func (c *Core) observe(e journal.Entry) {
	if state.Kind(e.Kind) != state.KindSuspect {
		return
	}
	var s state.Suspect
	if json.Unmarshal(e.Data, &s) != nil || s.AccessKeyID == "" {
		return
	}
	c.mu.Lock()
	if s.Clear {
		delete(c.suspects, s.AccessKeyID)
	} else {
		c.suspects[s.AccessKeyID] = true
	}
	streams := append([]*trail.Stream{c.stream}, c.memberStreams...)
	c.mu.Unlock()
	for _, st := range streams {
		if s.Clear {
			st.RemoveSuspectKey(s.AccessKeyID)
		} else {
			st.AddSuspectKey(s.AccessKeyID)
		}
	}
}

// SuspectKeys returns the access keys marked suspect and not cleared, as
// the journal says so far, sorted.
func (c *Core) SuspectKeys() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.suspects))
	for k := range c.suspects {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// produce waits until the fold holds what the journal already holds (so
// nothing is journaled twice), then starts the readers of AWS.
func (c *Core) produce(ctx context.Context) error {
	select {
	case <-c.caughtUp:
	case <-ctx.Done():
		return nil
	}
	var (
		last  []state.Region
		began time.Time
		known []state.Sweep
	)
	c.fold.Read(func(s *state.Store) {
		last = slices.Clone(s.Regions)
		began = s.Incident.Began
		for _, sw := range s.SweepList() {
			known = append(known, sw.V)
		}
	})
	regionsRead := make(chan struct{})
	var once sync.Once
	home := c.sess.HomeRegion()
	rw := &regions.Watcher{API: c.sess.EC2(home), Region: home, Every: c.pace.Regions,
		OnChange: func(ctx context.Context, list []state.Region, _ []regions.Change) error {
			if len(last) == 0 || len(regions.Diff(last, list)) > 0 {
				if _, err := c.rec.Record(state.KindRegions, state.Regions{Regions: list}); err != nil {
					return err
				}
				last = list
			}
			c.mu.Lock()
			c.enabled = regions.Enabled(list)
			c.mu.Unlock()
			if err := c.stream.SetRegions(ctx, list); err != nil {
				return err
			}
			once.Do(func() { close(regionsRead) })
			return c.recordHealth(state.StreamHealth{Source: "regions", Status: "ok"})
		},
		OnError: func(ctx context.Context, err error) {
			_ = c.recordHealth(FailedHealth("regions", home, err))
		}}
	c.launch(ctx, rw.Run)
	c.launch(ctx, c.stream.Run)
	c.launch(ctx, func(ctx context.Context) error { return c.inventoryLoop(ctx, began) })
	c.launch(ctx, c.identityCenterLoop)
	if c.members != nil {
		c.launch(ctx, func(ctx context.Context) error { return c.membersLoop(ctx, began) })
	}
	sw := &sweep.Watcher{Session: c.sess, Interval: c.pace.Sweeps, Regions: c.EnabledRegions,
		OnSweep: func(_ context.Context, changed []state.Sweep) error {
			for _, s := range changed {
				if _, err := c.rec.Record(state.KindSweep, s); err != nil {
					return err
				}
			}
			return nil
		}}
	sw.Seed(known)
	// The journal's head, anchored outside this machine as the incident
	// runs (ARCHITECTURE.md, "Tamper evidence"): a read that CloudTrail
	// records, whose parameters carry the head; read-only too.
	c.launch(ctx, func(ctx context.Context) error { return c.anchorLoop(ctx, home) })
	// CloudTrail's log files checked against its signed digests, now and
	// every Pacing.Integrity (integrity.go); read-only too.
	c.launch(ctx, func(ctx context.Context) error { return c.integrityLoop(ctx, home, began) })
	c.launch(ctx, func(ctx context.Context) error {
		// GuardDuty in every Region the account has (guardduty.go).
		select {
		case <-regionsRead:
		case <-ctx.Done():
			return nil
		}
		return c.guarddutyLoop(ctx, began)
	})
	c.launch(ctx, func(ctx context.Context) error {
		// Sweep the Regions the account has, not just the home one.
		select {
		case <-regionsRead:
		case <-ctx.Done():
			return nil
		}
		return sw.Run(ctx)
	})
	return nil
}

// EnabledRegions returns the Regions the sweeps read now.
func (c *Core) EnabledRegions() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.enabled)
}

// inventoryLoop takes a snapshot of the principals and keys every
// Pacing.Inventory, journaling it when it differs from the last one.
func (c *Core) inventoryLoop(ctx context.Context, began time.Time) error {
	t := time.NewTicker(c.pace.Inventory)
	defer t.Stop()
	for {
		inv := inventory.Collect(ctx, c.sess, inventory.Options{Since: began, AccountID: c.id.AccountID})
		if ctx.Err() != nil {
			return nil
		}
		if c.inventoryChanged(inv) {
			if _, err := c.rec.Record(state.KindInventory, inv); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// inventoryChanged reports whether inv differs from the last snapshot
// journaled, apart from when it was taken.
func (c *Core) inventoryChanged(inv state.Inventory) bool {
	inv.TakenAt = time.Time{}
	b, err := json.Marshal(inv)
	if err != nil {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if bytes.Equal(b, c.lastInv) {
		return false
	}
	c.lastInv = b
	return true
}

// recordHealth journals a source's health.
func (c *Core) recordHealth(h state.StreamHealth) error {
	_, err := c.rec.Record(state.KindStreamHealth, h)
	return err
}

// FailedHealth is the health fact of a read that failed.
func FailedHealth(source, region string, err error) state.StreamHealth {
	status := "error"
	switch session.Classify(err) {
	case session.ClassDenied:
		status = "denied"
	case session.ClassThrottled:
		status = "throttled"
	}
	return state.StreamHealth{Source: source, Region: region, Status: status, Error: err.Error()}
}

// anchorLoop anchors the journal's head in the account's CloudTrail every
// Pacing.Anchor. A failed anchor is a health fact; the console goes on.
func (c *Core) anchorLoop(ctx context.Context, home string) error {
	if c.pace.Anchor <= 0 {
		return nil
	}
	t := time.NewTicker(c.pace.Anchor)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := anchor.Journal(ctx, c.sess.CloudTrail(home), home, c.rec, time.Now()); err != nil && ctx.Err() == nil {
			_ = c.recordHealth(FailedHealth("anchor", home, err))
		}
	}
}
