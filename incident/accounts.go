package incident

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/org"
	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sweep"
	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// Members is the organisation mode of a Core: the member accounts it reads
// through their role (session.Session.ForAccount), each with its own
// producers: access, Regions, inventory, the Region sweep and the stream
// (a LookupEvents poller per account × Region, each pair within its own
// 2 req/s budget, polling the suspect keys first).
type Members struct {
	// Accounts are the accounts to read; the home account (the core's
	// own) is skipped, its producers run as before.
	Accounts []org.Account
	// Concurrency bounds the accounts whose first read (access, Regions,
	// inventory, sweep) runs at once (default DefaultMemberConcurrency).
	Concurrency int
	// RetryMin and RetryMax bound the backoff before an account whose
	// role failed is tried again (default 30 s and 15 min).
	RetryMin, RetryMax time.Duration
	// NoStream leaves the members' CloudTrail unread (the read commands).
	NoStream bool
}

// DefaultMemberConcurrency is how many members are read at once. Each
// member's own calls are bounded already (16 sweeps, 8 IAM reads in
// flight) and AWS limits each account apart, so the members' reads are
// latency-bound: 16 at once left 100 members in seven waves.
const DefaultMemberConcurrency = 64

// SetMembers puts the core in organisation mode; call it before Start.
func (c *Core) SetMembers(m Members) { c.members = &m }

// ReadMembers reads every member account once, journaling each one's
// access, Regions, inventory and sweeps with its account id, and returns
// when all are read (the read commands, and the benchmark).
func (c *Core) ReadMembers(ctx context.Context, m Members, began time.Time) error {
	m.NoStream = true
	var wg sync.WaitGroup
	sem := make(chan struct{}, cmp.Or(m.Concurrency, DefaultMemberConcurrency))
	errs := make(chan error, len(m.Accounts))
	for _, a := range m.Accounts {
		if a.ID == c.id.AccountID {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			mr := c.member(a, m)
			if _, err := mr.enter(ctx, time.Time{}); err != nil {
				errs <- err
				return
			}
			if mr.sess != nil {
				if err := mr.readOnce(ctx, began); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// memberReader is one member account's producers.
type memberReader struct {
	c    *Core
	acct org.Account
	m    Members
	sess *session.Session // nil until the role let warroom in
	last state.AccountAccess
	inv  []byte
	sw   *sweep.Watcher
	rmu  sync.Mutex
	regs []string
}

func (c *Core) member(a org.Account, m Members) *memberReader {
	return &memberReader{c: c, acct: a, m: m}
}

// membersLoop runs every member's producers until ctx is done.
func (c *Core) membersLoop(ctx context.Context, began time.Time) error {
	m := *c.members
	sem := make(chan struct{}, cmp.Or(m.Concurrency, DefaultMemberConcurrency))
	var wg sync.WaitGroup
	errs := make(chan error, len(m.Accounts))
	for _, a := range m.Accounts {
		if a.ID == c.id.AccountID {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.member(a, m).run(ctx, began, sem); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// run gets into the account (retrying with backoff while the role fails),
// reads it once under the semaphore, then keeps its stream, sweeps and
// inventory going.
func (r *memberReader) run(ctx context.Context, began time.Time, sem chan struct{}) error {
	wait := cmp.Or(r.m.RetryMin, 30*time.Second)
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		ok, err := r.enter(ctx, time.Now().Add(wait))
		if err == nil && ok {
			err = r.readOnce(ctx, began)
		}
		<-sem
		if err != nil || ctx.Err() != nil {
			return err
		}
		if ok {
			break
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil
		}
		wait = min(2*wait, cmp.Or(r.m.RetryMax, 15*time.Minute))
	}
	c := r.c
	var wg sync.WaitGroup
	var first error
	var once sync.Once
	launch := func(fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				once.Do(func() { first = err })
			}
		}()
	}
	if !r.m.NoStream {
		st := trail.New(trail.SessionLookup(r.sess), accountSink{c.sink, r.acct.ID}, trail.Options{Regions: r.regions(),
			Since: c.pace.Since, PollEvery: c.pace.Poll, HealthEvery: c.pace.Health})
		for _, k := range c.SuspectKeys() {
			st.AddSuspectKey(k)
		}
		c.addMemberStream(st)
		launch(st.Run)
	}
	// Not sw.Run: it sweeps at once, and readOnce has just swept.
	launch(func(ctx context.Context) error {
		return every(ctx, cmp.Or(c.pace.Sweeps, 5*time.Minute), func() error {
			changed, err := r.sw.Once(ctx)
			if err != nil {
				return nil // cut short: ctx is done
			}
			return r.sw.OnSweep(ctx, changed)
		})
	})
	launch(func(ctx context.Context) error {
		return every(ctx, c.pace.Inventory, func() error { return r.inventory(ctx, began) })
	})
	wg.Wait()
	if first == context.Canceled {
		return nil
	}
	return first
}

// every calls fn each period, the first a period from now, until ctx is
// done (nil) or fn fails.
func every(ctx context.Context, period time.Duration, fn func() error) error {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := fn(); err != nil {
			return err
		}
	}
}

// enter probes the account through its role and journals its access when
// it changed. ok is whether warroom got in; retry is when warroom tries
// again if not (zero: it does not), journaled with a failed access.
func (r *memberReader) enter(ctx context.Context, retry time.Time) (ok bool, err error) {
	c := r.c
	sess, err := c.sess.ForAccount(r.acct.ID)
	if err != nil {
		return false, err
	}
	acc := state.AccountAccess{AccountID: r.acct.ID, Name: r.acct.Name, RoleARN: sess.RoleARN()}
	var perr error
	if !r.acct.Active() {
		acc.Status, acc.Error = state.AccessSuspended, "the account's status in Organizations is "+r.acct.Status
	} else {
		var a session.Access
		a, perr = sess.Probe(ctx)
		if ctx.Err() != nil {
			return false, nil
		}
		acc.Status = string(a)
		if perr != nil {
			acc.Error = perr.Error()
		}
	}
	if !acc.OK() && !retry.IsZero() {
		acc.Retry = retry.UTC().Truncate(time.Second)
	}
	if acc != r.last {
		if _, err := c.rec.Record(state.KindAccountAccess, acc); err != nil {
			return false, err
		}
		r.last = acc
	}
	if !acc.OK() {
		return false, nil
	}
	r.sess = sess
	return true, nil
}

// readOnce reads the account's Regions, inventory and sweep once.
func (r *memberReader) readOnce(ctx context.Context, began time.Time) error {
	c := r.c
	list, err := regions.List(ctx, r.sess.EC2(r.sess.HomeRegion()), r.sess.HomeRegion())
	if err != nil {
		h := FailedHealth("regions", r.sess.HomeRegion(), err)
		h.AccountID = r.acct.ID
		if err := c.recordHealth(h); err != nil {
			return err
		}
		list = []state.Region{{Name: r.sess.HomeRegion(), OptInStatus: "opt-in-not-required"}}
	} else if _, err := c.rec.Record(state.KindRegions, state.Regions{Regions: list, AccountID: r.acct.ID}); err != nil {
		return err
	}
	r.rmu.Lock()
	r.regs = regions.Enabled(list)
	r.rmu.Unlock()
	// The inventory (IAM, global) and the sweep (every Region) need
	// nothing of each other: read side by side, the account takes the
	// longer of the two, not their sum.
	invErr := make(chan error, 1)
	go func() { invErr <- r.inventory(ctx, began) }()
	r.sw = &sweep.Watcher{Session: r.sess, Interval: c.pace.Sweeps, Regions: r.regions,
		OnSweep: func(_ context.Context, changed []state.Sweep) error {
			for _, s := range changed {
				s.AccountID = r.acct.ID
				if _, err := c.rec.Record(state.KindSweep, s); err != nil {
					return err
				}
			}
			return nil
		}}
	changed, err := r.sw.Once(ctx)
	if ierr := <-invErr; ierr != nil {
		return ierr
	}
	if err != nil {
		return nil // cut short: ctx is done
	}
	return r.sw.OnSweep(ctx, changed)
}

func (r *memberReader) regions() []string {
	r.rmu.Lock()
	defer r.rmu.Unlock()
	return append([]string(nil), r.regs...)
}

// inventory journals the account's principals and keys when they changed.
func (r *memberReader) inventory(ctx context.Context, began time.Time) error {
	inv := inventory.Collect(ctx, r.sess, inventory.Options{Since: began, AccountID: r.acct.ID})
	if ctx.Err() != nil {
		return nil
	}
	inv.AccountID = r.acct.ID
	cmpInv := inv
	cmpInv.TakenAt = time.Time{}
	b, _ := json.Marshal(cmpInv)
	if bytes.Equal(b, r.inv) {
		return nil
	}
	r.inv = b
	_, err := r.c.rec.Record(state.KindInventory, inv)
	return err
}

// accountSink is the core's Sink for a member account's stream: health
// facts carry the account, event batches name it in their source.
type accountSink struct {
	*Sink
	account string
}

// Events implements trail.Sink.
func (k accountSink) Events(ctx context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error {
	return k.Sink.Events(ctx, source+"@"+k.account, recs, skipped)
}

// Health implements trail.Sink.
func (k accountSink) Health(ctx context.Context, h state.StreamHealth) error {
	h.AccountID = k.account
	return k.Sink.Health(ctx, h)
}

// addMemberStream keeps a member's stream so that suspect marks reach it.
func (c *Core) addMemberStream(st *trail.Stream) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.memberStreams = append(c.memberStreams, st)
}
