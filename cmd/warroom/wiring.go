package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/aws/anchor"
	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sweep"
	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
	"github.com/warroom-ir/warroom/tui"
)

// The console's wiring: one writer, one fold.
//
// Every producer — the trail pollers, the Region watcher, the inventory and
// sweep loops, the containment runner, and the console's own notes and
// suspect marks — writes through one *state.Recorder. The console's Feed is
// journal.Follow of that same file: the screen is a fold over the journal,
// entries reach it in journal order, and a second responder's process
// appending to the same journal is seen too. Producers run in goroutines
// with the command's context; a failed AWS call is a fact (stream health,
// a CallError in an inventory or a sweep), never a crash, and nothing the
// AWS side does can block the update loop, which only reads the Feed.

// pacing is how often the producers read AWS.
type pacing struct {
	since     time.Duration // how far back the CloudTrail backfill reaches
	poll      time.Duration // LookupEvents polls of a Region
	health    time.Duration // periodic stream health facts
	regions   time.Duration // re-reads of the Region list
	inventory time.Duration // inventory snapshots
	sweeps    time.Duration // Region sweeps
	anchor    time.Duration // anchors of the journal's head in CloudTrail
}

// realPacing is the pacing against a real account.
func realPacing() pacing {
	return pacing{since: trail.DefaultSince, poll: trail.DefaultPollEvery, health: trail.DefaultHealthEvery,
		regions: regions.DefaultEvery, inventory: 5 * time.Minute, sweeps: 5 * time.Minute, anchor: 10 * time.Minute}
}

// drillPacing is realPacing compressed by the drill's speed, within bounds
// that keep the journal readable and the sim's budget respected.
func drillPacing(speed float64) pacing {
	p := realPacing()
	scale := func(d, lo time.Duration) time.Duration {
		return min(max(time.Duration(float64(d)/speed), lo), d)
	}
	p.since = time.Hour
	p.poll = scale(p.poll, 5*time.Second)
	p.health = scale(p.health, 5*time.Second)
	p.regions = scale(p.regions, 10*time.Second)
	p.inventory = scale(p.inventory, 10*time.Second)
	p.sweeps = scale(p.sweeps, 10*time.Second)
	p.anchor = scale(p.anchor, 30*time.Second)
	return p
}

// wiring connects one journal to AWS and to the console.
type wiring struct {
	sess *session.Session
	id   session.Identity
	rec  *state.Recorder
	pace pacing

	feed    chan []journal.Entry
	stream  *trail.Stream
	sink    *consoleSink
	planner *planner

	wg sync.WaitGroup

	mu       sync.Mutex
	enabled  []string // the Regions that can be called, as last read
	lastInv  []byte   // the last inventory journaled, without its time
	problems []error  // producers stopped by an error (the journal could not be written)
	feedErr  error    // why the feed stopped early (a broken chain)
}

// newWiring prepares the wiring; start runs it.
func newWiring(sess *session.Session, id session.Identity, rec *state.Recorder, pace pacing) *wiring {
	w := &wiring{sess: sess, id: id, rec: rec, pace: pace, feed: make(chan []journal.Entry),
		planner: newPlanner(), enabled: []string{sess.HomeRegion()}}
	w.sink = &consoleSink{rec: rec}
	w.stream = trail.New(trail.SessionLookup(sess), w.sink, trail.Options{Regions: []string{sess.HomeRegion()},
		Since: pace.since, PollEvery: pace.poll, HealthEvery: pace.health})
	return w
}

// Feed is what the console reads.
func (w *wiring) Feed() tui.Feed { return w.feed }

// start runs the feed and the producers until ctx is done.
func (w *wiring) start(ctx context.Context) {
	w.wg.Add(2)
	go func() { defer w.wg.Done(); w.follow(ctx) }()
	go func() { defer w.wg.Done(); w.planner.run(ctx) }()
	w.launch(ctx, w.produce)
}

// wait returns when every goroutine start began has stopped.
func (w *wiring) wait() { w.wg.Wait() }

// launch runs fn in a goroutine; an error other than ctx's is kept for
// the end of the session.
func (w *wiring) launch(ctx context.Context, fn func(context.Context) error) {
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := fn(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
			w.mu.Lock()
			w.problems = append(w.problems, err)
			w.mu.Unlock()
		}
	}()
}

// problem returns what stopped a part of the wiring early, if anything.
func (w *wiring) problem() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	errs := slices.Clone(w.problems)
	if w.feedErr != nil {
		errs = append(errs, fmt.Errorf("following the journal: %w", w.feedErr))
	}
	return errors.Join(errs...)
}

// follow tails the journal into the feed, a batch of what is ready at a
// time, and tells the trail pollers of every key marked suspect. It never
// drops an entry: a slow console only makes the batches bigger.
func (w *wiring) follow(ctx context.Context) {
	q := newEntryQueue()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(w.feed)
		for {
			batch, ok := q.take(ctx)
			if !ok {
				return
			}
			select {
			case w.feed <- batch:
			case <-ctx.Done():
				return
			}
		}
	}()
	for e, err := range journal.Follow(ctx, w.rec.Path(), 0) {
		if err != nil {
			w.mu.Lock()
			w.feedErr = err
			w.mu.Unlock()
			break
		}
		w.observe(e)
		w.planner.q.put(e)
		q.put(e)
	}
	q.close()
	<-done
}

// observe acts on the facts the wiring itself must follow: a key marked
// suspect (by this console, another responder, or before a restart) is
// polled for first by every Region's poller.
func (w *wiring) observe(e journal.Entry) {
	if state.Kind(e.Kind) != state.KindSuspect {
		return
	}
	var s state.Suspect
	if json.Unmarshal(e.Data, &s) != nil || s.AccessKeyID == "" {
		return
	}
	if s.Clear {
		w.stream.RemoveSuspectKey(s.AccessKeyID)
	} else {
		w.stream.AddSuspectKey(s.AccessKeyID)
	}
}

// produce reads what the journal already holds (so nothing is journaled
// twice), then starts the readers of AWS.
func (w *wiring) produce(ctx context.Context) error {
	prior, _, err := state.Replay(w.rec.Path())
	if err != nil {
		prior = state.NewStore()
	}
	w.sink.setSeen(prior.Events)
	regionsRead := make(chan struct{})
	var once sync.Once
	last := prior.Regions
	home := w.sess.HomeRegion()
	rw := &regions.Watcher{API: w.sess.EC2(home), Region: home, Every: w.pace.regions,
		OnChange: func(ctx context.Context, list []state.Region, _ []regions.Change) error {
			if len(last) == 0 || len(regions.Diff(last, list)) > 0 {
				if _, err := w.rec.Record(state.KindRegions, state.Regions{Regions: list}); err != nil {
					return err
				}
				last = list
			}
			w.mu.Lock()
			w.enabled = regions.Enabled(list)
			w.mu.Unlock()
			if err := w.stream.SetRegions(ctx, list); err != nil {
				return err
			}
			once.Do(func() { close(regionsRead) })
			return w.recordHealth(state.StreamHealth{Source: "regions", Status: "ok"})
		},
		OnError: func(ctx context.Context, err error) {
			_ = w.recordHealth(failedHealth("regions", home, err))
		}}
	w.launch(ctx, rw.Run)
	w.launch(ctx, w.stream.Run)
	w.launch(ctx, func(ctx context.Context) error { return w.inventoryLoop(ctx, prior.Incident.Began) })
	sw := &sweep.Watcher{Session: w.sess, Interval: w.pace.sweeps, Regions: w.enabledRegions,
		OnSweep: func(_ context.Context, changed []state.Sweep) error {
			for _, s := range changed {
				if _, err := w.rec.Record(state.KindSweep, s); err != nil {
					return err
				}
			}
			return nil
		}}
	var known []state.Sweep
	for _, s := range prior.SweepList() {
		known = append(known, s.V)
	}
	sw.Seed(known)
	// The journal's head, anchored outside this machine as the incident
	// runs (ARCHITECTURE.md, "Tamper evidence"): a read that CloudTrail
	// records, whose parameters carry the head; read-only too.
	w.launch(ctx, func(ctx context.Context) error { return w.anchorLoop(ctx, home) })
	w.launch(ctx, func(ctx context.Context) error {
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

// enabledRegions returns the Regions the sweeps read now.
func (w *wiring) enabledRegions() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.enabled)
}

// inventoryLoop takes a snapshot of the principals and keys every
// pace.inventory, journaling it when it differs from the last one.
func (w *wiring) inventoryLoop(ctx context.Context, began time.Time) error {
	t := time.NewTicker(w.pace.inventory)
	defer t.Stop()
	for {
		inv := inventory.Collect(ctx, w.sess, inventory.Options{Since: began, AccountID: w.id.AccountID})
		if ctx.Err() != nil {
			return nil
		}
		if w.inventoryChanged(inv) {
			if _, err := w.rec.Record(state.KindInventory, inv); err != nil {
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
func (w *wiring) inventoryChanged(inv state.Inventory) bool {
	inv.TakenAt = time.Time{}
	b, err := json.Marshal(inv)
	if err != nil {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if bytes.Equal(b, w.lastInv) {
		return false
	}
	w.lastInv = b
	return true
}

// recordHealth journals a source's health.
func (w *wiring) recordHealth(h state.StreamHealth) error {
	_, err := w.rec.Record(state.KindStreamHealth, h)
	return err
}

// failedHealth is the health fact of a read that failed.
func failedHealth(source, region string, err error) state.StreamHealth {
	status := "error"
	switch session.Classify(err) {
	case session.ClassDenied:
		status = "denied"
	case session.ClassThrottled:
		status = "throttled"
	}
	return state.StreamHealth{Source: source, Region: region, Status: status, Error: err.Error()}
}

// consoleSink journals what the trail pollers read, skipping records the
// journal already holds (from before a restart, or another responder's).
type consoleSink struct {
	rec *state.Recorder

	mu   sync.Mutex
	seen *state.EventTable
}

func (k *consoleSink) setSeen(t *state.EventTable) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.seen = t
}

// Events implements trail.Sink.
func (k *consoleSink) Events(_ context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.seen == nil {
		k.seen = state.NewEventTable()
	}
	fresh := recs[:0:0]
	for i := range recs {
		if _, changed := k.seen.Add(&recs[i], state.EventRef{}); changed {
			fresh = append(fresh, recs[i])
		}
	}
	if len(fresh) == 0 && len(skipped) == 0 {
		return nil
	}
	_, _, err := k.rec.RecordEvents(source, fresh, skipped)
	return err
}

// Health implements trail.Sink.
func (k *consoleSink) Health(_ context.Context, h state.StreamHealth) error {
	_, err := k.rec.Record(state.KindStreamHealth, h)
	return err
}

var _ trail.Sink = (*consoleSink)(nil)

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

// planner keeps a fold of the journal of its own for containment to plan
// from (the console's store belongs to its update loop). Its goroutine
// applies entries as they come; planning holds the store while it reads
// AWS, which delays only this fold, never the console's feed.
type planner struct {
	q     *entryQueue
	mu    sync.Mutex
	store *state.Store
}

func newPlanner() *planner { return &planner{q: newEntryQueue(), store: state.NewStore()} }

func (p *planner) run(ctx context.Context) {
	for {
		select {
		case <-p.q.ready:
		case <-ctx.Done():
			return
		}
		p.mu.Lock()
		p.drainLocked()
		p.mu.Unlock()
	}
}

// drainLocked applies the entries read so far. Entries are taken from the
// queue only with p.mu held, so they are applied in journal order.
func (p *planner) drainLocked() {
	p.q.mu.Lock()
	pending := p.q.items
	p.q.items = nil
	p.q.mu.Unlock()
	for _, e := range pending {
		_ = p.store.Apply(e) // a fact that cannot be applied is in the store's Problems
	}
}

// with calls fn with the store, up to date with what the follower has read.
func (p *planner) with(fn func(*state.Store) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drainLocked()
	return fn(p.store)
}

// consoleContainment is tui.Containment over aws/contain: plans come from
// the containment engine (read from AWS just now, with the exact calls),
// and runs go through the Runner, which journals intent, result and
// verification through the wiring's one Recorder.
type consoleContainment struct {
	runner  *contain.Runner
	planner *planner
	path    string

	mu      sync.Mutex
	pending map[string]pendingPlan // by tui.Plan.ID
	running sync.WaitGroup
	// wait and poll tune the playbook's rounds after the first (the
	// drill compresses them with its clock).
	wait, poll time.Duration
}

// pendingPlan is a plan shown to the responder, waiting for a confirm.
type pendingPlan struct {
	action contain.Action
	plan   *contain.Plan
	book   *contain.Playbook
}

func newConsoleContainment(runner *contain.Runner, p *planner, path string) *consoleContainment {
	return &consoleContainment{runner: runner, planner: p, path: path, pending: map[string]pendingPlan{}, wait: 15 * time.Minute, poll: 5 * time.Second}
}

// Plan implements tui.Containment.
func (c *consoleContainment) Plan(ctx context.Context, action string, t tui.Target) (tui.Plan, error) {
	if action == tui.ActionContainAll && t.Kind == tui.TargetKey {
		return c.planCredential(ctx, t)
	}
	name, ct, err := c.target(action, t)
	if err != nil {
		return tui.Plan{}, err
	}
	a, err := contain.New(name, ct, contain.Options{})
	if err != nil {
		return tui.Plan{}, err
	}
	p, err := c.runner.Plan(ctx, a)
	if err != nil {
		return tui.Plan{}, err
	}
	id := contain.NewActionID(time.Now())
	c.mu.Lock()
	c.pending[id] = pendingPlan{action: a, plan: p}
	c.mu.Unlock()
	tp := tui.Plan{ID: id, Action: name, Target: t, Title: p.Title, Calls: p.Calls, Irreversible: p.HasIrreversible(),
		Undo: p.Undo, Warnings: slices.Clone(p.Warnings)}
	if p.Self && !slices.ContainsFunc(tp.Warnings, func(s string) bool { return strings.Contains(s, "own") }) {
		tp.Warnings = append(tp.Warnings, "these are the console's own credentials: warroom will refuse to cut them off")
	}
	if p.Already {
		tp.Warnings = append(tp.Warnings, "already in effect: running it changes nothing")
	}
	for _, f := range p.Findings {
		tp.Warnings = append(tp.Warnings, "preflight: "+f)
	}
	return tp, nil
}

// target maps the console's action and selection onto the engine's.
func (c *consoleContainment) target(action string, t tui.Target) (string, contain.Target, error) {
	principal := func() (contain.Target, error) {
		switch t.Kind {
		case tui.TargetUser:
			return contain.Target{Kind: contain.KindUser, ID: t.ID}, nil
		case tui.TargetRole:
			return contain.Target{Kind: contain.KindRole, ID: t.ID}, nil
		case tui.TargetKey:
			// A key's sessions and permissions are its owner's.
			var owner string
			_ = c.planner.with(func(s *state.Store) error {
				if u := state.KeyOwner(s.Inventory, t.ID); u != nil {
					owner = u.Name
				}
				return nil
			})
			if p, ok := state.ParsePrincipal(t.ARN); owner == "" && ok && p.Kind == state.PrincipalUser {
				owner = p.Name
			}
			if owner != "" {
				return contain.Target{Kind: contain.KindUser, ID: owner}, nil
			}
			return contain.Target{}, fmt.Errorf("the owner of %s is not known yet (no inventory holds it): select its user", t.ID)
		}
		return contain.Target{}, fmt.Errorf("%s applies to a user or a role, not a %s", action, t.Kind)
	}
	switch action {
	case tui.ActionDeactivateKey:
		if t.Kind != tui.TargetKey {
			return "", contain.Target{}, fmt.Errorf("deactivate applies to an access key, not a %s: select a key", t.Kind)
		}
		return "deactivate-key", contain.Target{Kind: contain.KindKey, ID: t.ID}, nil
	case tui.ActionRevokeSessions, tui.ActionQuarantine:
		ct, err := principal()
		return action, ct, err
	case tui.ActionContainAll:
		if t.Kind == tui.TargetResource {
			switch {
			case strings.HasPrefix(t.ID, "i-"):
				return "stop-instances", contain.Target{Kind: contain.KindInstances, IDs: []string{t.ID}, Region: t.Region}, nil
			case strings.HasPrefix(t.ID, "sir-"):
				return "cancel-spot", contain.Target{Kind: contain.KindSpot, IDs: []string{t.ID}, Region: t.Region}, nil
			}
		}
		return "", contain.Target{}, fmt.Errorf("contain everything applies to a suspect access key (or an instance or spot request), not a %s", t.Kind)
	}
	return "", contain.Target{}, fmt.Errorf("unknown action %q", action)
}

// planCredential plans the playbook "contain this credential" for a key:
// the account is read afresh for the key's family first (CloudTrail's
// event history for every key of it, every principal and key, every
// Region's resources; all journaled), so the plan does not wait for the
// stream to catch up.
func (c *consoleContainment) planCredential(ctx context.Context, t tui.Target) (tui.Plan, error) {
	fold, closeRaw := contain.JournalFold(c.path)
	defer closeRaw()
	if _, err := contain.Refresh(ctx, c.runner.Env, c.runner.Journal, fold, t.ID, contain.RefreshOptions{AccountID: c.runner.Env.Self.AccountID}); err != nil {
		return tui.Plan{}, err
	}
	s, raw, err := fold()
	if err != nil {
		return tui.Plan{}, err
	}
	pb, err := contain.PlanCredential(ctx, c.runner.Env, s, raw, t.ID, contain.CredentialOptions{})
	if err != nil {
		return tui.Plan{}, err
	}
	c.mu.Lock()
	c.pending[pb.ID] = pendingPlan{book: pb}
	c.mu.Unlock()
	t.Name = t.ID
	tp := tui.Plan{ID: pb.ID, Action: tui.ActionContainAll, Target: t, Title: pb.Title, Calls: pb.Calls(),
		Irreversible: pb.Irreversible(), Warnings: slices.Clone(pb.Notes)}
	var undo []string
	for i, st := range pb.Steps {
		ps := tui.PlanStep{Name: st.Action.Name(), Why: st.Why}
		if st.Plan != nil {
			ps.Calls = st.Plan.Calls
		}
		if st.Err != nil {
			ps.Err = st.Err.Error()
		}
		tp.Steps = append(tp.Steps, ps)
		switch {
		case st.Err != nil:
			tp.Warnings = append(tp.Warnings, fmt.Sprintf("step %d (%s) cannot be planned: %v", i+1, st.Action.Name(), st.Err))
		case st.Plan != nil:
			tp.Warnings = append(tp.Warnings, st.Plan.Warnings...)
			if st.Plan.Self {
				tp.Warnings = append(tp.Warnings, fmt.Sprintf("step %d would cut off the console's own credentials: it will be refused", i+1))
			}
			undo = append(undo, fmt.Sprintf("%d. %s: %s", i+1, st.Plan.Title, st.Plan.Undo))
		}
	}
	for _, o := range pb.LeftAlone {
		tp.LeftAlone = append(tp.LeftAlone, footholdLine(o))
	}
	for _, o := range pb.Unsure {
		tp.Unsure = append(tp.Unsure, footholdLine(o))
	}
	tp.Warnings = append(tp.Warnings, "after these steps the playbook keeps reading the account back, containing what turns up in the same way, until the verdict is read back as contained (or 15 minutes pass); the verdict is journaled")
	tp.Undo = strings.Join(undo, "; ")
	return tp, nil
}

// resume verifies, in the background, the actions a console that died
// left between intent and result (DESIGN: verified on start).
func (c *consoleContainment) resume(ctx context.Context) {
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		_, _ = c.runner.Resume(ctx, false) // each verification is journaled and reaches the screen
	}()
}

// Run implements tui.Containment: it runs a plan the responder confirmed.
func (c *consoleContainment) Run(ctx context.Context, p tui.Plan) error {
	c.mu.Lock()
	pp, ok := c.pending[p.ID]
	delete(c.pending, p.ID)
	c.mu.Unlock()
	if !ok {
		return errors.New("this plan is no longer known: plan again")
	}
	c.running.Add(1)
	defer c.running.Done()
	if pp.book != nil {
		// The playbook runs to a verdict read back from AWS (journaled; the
		// status line and :debrief show it), in the background: the first
		// round is the plan the responder confirmed.
		var errs []error
		fold, closeRaw := contain.JournalFold(c.path)
		defer closeRaw()
		_, _, err := c.runner.Contain(ctx, fold, pp.book.Family.Suspect, contain.ContainOptions{
			First: pp.book, Wait: c.wait, Poll: c.poll,
			Refresh: contain.RefreshOptions{AccountID: c.runner.Env.Self.AccountID},
			Progress: func(round int, o contain.StepOutcome) {
				if round == 0 && o.Err != nil {
					errs = append(errs, fmt.Errorf("step %d %s: %w", o.Index+1, o.Step.Action.Name(), o.Err))
				}
			}})
		if err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d steps did not start (the others ran): %w", len(errs), errors.Join(errs...))
		}
		return nil
	}
	_, err := c.runner.Run(ctx, pp.action, contain.RunOptions{Confirmed: pp.plan})
	return err
}

// idle returns when no run is in flight.
func (c *consoleContainment) idle() { c.running.Wait() }

var _ tui.Containment = (*consoleContainment)(nil)

// anchorLoop anchors the journal's head in the account's CloudTrail every
// pace.anchor. A failed anchor is a health fact; the console goes on.
func (w *wiring) anchorLoop(ctx context.Context, home string) error {
	if w.pace.anchor <= 0 {
		return nil
	}
	t := time.NewTicker(w.pace.anchor)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if _, err := anchor.Journal(ctx, w.sess.CloudTrail(home), home, w.rec, time.Now()); err != nil && ctx.Err() == nil {
			_ = w.recordHealth(failedHealth("anchor", home, err))
		}
	}
}
