// Package sweep builds the region map: every enabled Region's resources of
// every kind an attacker with a leaked key likes to create (EC2 instances,
// spot requests, key pairs, security groups, Lambda functions), each Region
// × kind as one state.Sweep fact.
//
// Kinds are a registry: a new kind is one file with a type implementing
// Kind and an init function that calls Register. Sweeps run with bounded
// concurrency across Regions and kinds; a denied or disabled Region is a
// Sweep with its Error set, and the rest goes on. A Watcher re-sweeps
// periodically and hands on only the sweeps that changed.
package sweep

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
)

// Kind is one resource kind the sweep reads.
type Kind interface {
	// Name is the kind's name in facts: "ec2:instance", "lambda:function" ….
	Name() string
	// Sweep reads every resource of the kind in region. An error means the
	// Region or API could not be read; the resources are then ignored.
	Sweep(ctx context.Context, sess *session.Session, region string) ([]state.Resource, error)
}

var (
	regMu    sync.Mutex
	registry = map[string]Kind{}
)

// Register adds a kind to the registry. Kinds register themselves in an
// init function; registering a name twice is a programming error.
func Register(k Kind) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[k.Name()]; dup {
		panic("sweep: kind " + k.Name() + " registered twice")
	}
	registry[k.Name()] = k
}

// Kinds returns the registered kinds, sorted by name.
func Kinds() []Kind {
	regMu.Lock()
	defer regMu.Unlock()
	out := slices.Collect(maps.Values(registry))
	slices.SortFunc(out, func(a, b Kind) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// KindNames returns the registered kinds' names, sorted.
func KindNames() []string {
	var out []string
	for _, k := range Kinds() {
		out = append(out, k.Name())
	}
	return out
}

// Options tune a sweep. The zero value sweeps every kind, 16 calls at once.
type Options struct {
	// Kinds limits the sweep to these kind names; empty means all.
	Kinds []string
	// Concurrency bounds the Region × kind sweeps in flight (default 16).
	Concurrency int
	// Now tells the time (default time.Now).
	Now func() time.Time
}

// Run sweeps every kind in every Region of regions and returns one Sweep per
// Region × kind, sorted by Region then kind. It never fails as a whole: a
// Region or API that could not be read is a Sweep with Error set.
func Run(ctx context.Context, sess *session.Session, regions []string, opts Options) ([]state.Sweep, error) {
	kinds, err := selectKinds(opts.Kinds)
	if err != nil {
		return nil, err
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	type job struct {
		region string
		kind   Kind
	}
	jobs := make([]job, 0, len(regions)*len(kinds))
	for _, r := range regions {
		for _, k := range kinds {
			jobs = append(jobs, job{r, k})
		}
	}
	out := make([]state.Sweep, len(jobs))
	sem := make(chan struct{}, opts.Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = sweepOne(ctx, sess, j.region, j.kind, opts.Now)
		}()
	}
	wg.Wait()
	markDisabled(out)
	return out, nil
}

// markDisabled reclassifies invalid-key failures in a Region as a disabled
// Region when the same credentials were accepted in another Region. AWS
// answers a call into a Region that is not enabled exactly as it answers an
// unknown key (AuthFailure, UnrecognizedClientException); credentials are
// global, so a key that works elsewhere is not the problem.
func markDisabled(sweeps []state.Sweep) {
	worked := false
	for _, s := range sweeps {
		if s.Error == nil {
			worked = true
			break
		}
	}
	if !worked {
		return
	}
	for i := range sweeps {
		if e := sweeps[i].Error; e != nil && e.Class == string(session.ClassInvalidKey) {
			e.Class = string(session.ClassRegionDisabled)
			e.Error += "; the same credentials work in other Regions, so this Region is probably not enabled"
		}
	}
}

// sweepOne runs one kind in one Region.
func sweepOne(ctx context.Context, sess *session.Session, region string, k Kind, now func() time.Time) state.Sweep {
	sw := state.Sweep{Region: region, Kind: k.Name()}
	var res []state.Resource
	err := ctx.Err()
	if err == nil {
		res, err = k.Sweep(ctx, sess, region)
	}
	sw.TakenAt = now().UTC()
	if err != nil {
		ce := callError(k.Name(), region, err)
		sw.Error = &ce
		return sw
	}
	sortResources(res)
	sw.Resources = res
	if sw.Resources == nil {
		sw.Resources = []state.Resource{}
	}
	return sw
}

// callError turns a kind's error into the journal's form.
func callError(kind, region string, err error) state.CallError {
	var se *session.Error
	if errors.As(err, &se) {
		return se.CallError()
	}
	return state.CallError{Call: kind, Region: region, Class: string(session.Classify(err)), Error: err.Error()}
}

func selectKinds(names []string) ([]Kind, error) {
	all := Kinds()
	if len(names) == 0 {
		return all, nil
	}
	var out []Kind
	for _, n := range names {
		i := slices.IndexFunc(all, func(k Kind) bool { return k.Name() == n })
		if i < 0 {
			return nil, fmt.Errorf("no resource kind %q (known: %s)", n, strings.Join(KindNames(), ", "))
		}
		out = append(out, all[i])
	}
	return out, nil
}

func sortResources(rs []state.Resource) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
}

// Changed reports whether cur differs from old in what a responder sees:
// the resources and their state, or the error. The time taken is ignored.
func Changed(old, cur state.Sweep) bool {
	if old.Region != cur.Region || old.Kind != cur.Kind {
		return true
	}
	if (old.Error == nil) != (cur.Error == nil) {
		return true
	}
	if old.Error != nil {
		return old.Error.Class != cur.Error.Class || old.Error.Call != cur.Error.Call
	}
	return !slices.EqualFunc(old.Resources, cur.Resources, sameResource)
}

func sameResource(a, b state.Resource) bool {
	return a.ID == b.ID && a.Name == b.Name && a.ARN == b.ARN && a.State == b.State && a.Created.Equal(b.Created) &&
		maps.Equal(a.Attrs, b.Attrs) && slices.Equal(a.Tags, b.Tags)
}

// Watcher re-sweeps periodically and hands on the sweeps that changed since
// the last one it handed on (all of them the first time), so the journal
// records the difference, not the same map again and again.
type Watcher struct {
	Session  *session.Session
	Interval time.Duration
	Options  Options
	// Regions returns the Regions to sweep now (the Region list changes
	// when an attacker enables one).
	Regions func() []string
	// OnSweep receives the changed sweeps, sorted. An error stops the watcher.
	OnSweep func(ctx context.Context, changed []state.Sweep) error

	last map[state.SweepKey]state.Sweep
}

// Seed tells the watcher what is already journaled (a resumed incident),
// so its first pass hands on only what changed since.
func (w *Watcher) Seed(known []state.Sweep) {
	w.last = map[state.SweepKey]state.Sweep{}
	for _, s := range known {
		w.last[state.SweepKey{Region: s.Region, Kind: s.Kind}] = s
	}
}

// Once sweeps once and returns the sweeps that changed since the last pass.
func (w *Watcher) Once(ctx context.Context) ([]state.Sweep, error) {
	if w.last == nil {
		w.last = map[state.SweepKey]state.Sweep{}
	}
	all, err := Run(ctx, w.Session, w.Regions(), w.Options)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		// A cut-short pass is not the account's state: remember none of it.
		return nil, err
	}
	var changed []state.Sweep
	for _, s := range all {
		k := state.SweepKey{Region: s.Region, Kind: s.Kind}
		if old, ok := w.last[k]; ok && !Changed(old, s) {
			continue
		}
		w.last[k] = s
		changed = append(changed, s)
	}
	return changed, nil
}

// Run sweeps every Interval until ctx is done or OnSweep fails.
func (w *Watcher) Run(ctx context.Context) error {
	interval := cmp.Or(w.Interval, 5*time.Minute)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		changed, err := w.Once(ctx)
		if err != nil {
			return err
		}
		if len(changed) > 0 {
			if err := w.OnSweep(ctx, changed); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
