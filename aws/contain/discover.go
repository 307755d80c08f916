package contain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"golang.org/x/time/rate"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sweep"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// Raw reads a CloudTrail record of the store from the journal.
type Raw = func(state.EventRef) ([]byte, error)

// Fold reads the journal's fold as it stands now (every fact appended so
// far, this process's and other writers'): it brings the fold up to date,
// then calls read with its store and a reader of raw records, the store
// held still while read runs, and returns read's error (or why the fold
// could not be brought up to date). read only reads: it calls no AWS API
// (in the console the screen waits while it runs) and keeps nothing of the
// store after it returns. The playbook plans from it, never from a copy it
// keeps.
type Fold func(read func(s *state.Store, raw Raw) error) error

// RefreshOptions tune Refresh.
type RefreshOptions struct {
	// Regions are the account's enabled Regions; empty: read them
	// (ec2:DescribeRegions).
	Regions []string
	// Since is how far back CloudTrail's event history is read for the
	// family's keys (zero: 24 hours; LookupEvents keeps 90 days).
	Since time.Time
	// Rate is LookupEvents calls per second per Region (zero: 1.8, under
	// CloudTrail's 2).
	Rate rate.Limit
	// Lookup is CloudTrail's client in a Region (nil: the session's).
	Lookup func(region string) cloudtrail.LookupEventsAPIClient
	// AccountID is the account, for the inventory.
	AccountID string
	// NoPull skips CloudTrail's event history (tests of the other reads).
	NoPull bool
}

// Refreshed is what a Refresh read and journaled.
type Refreshed struct {
	Regions []string
	// Events is how many CloudTrail records of the family the event
	// history held that the journal did not.
	Events int
	// Newest is, per Region, the newest event time LookupEvents returned
	// for the family (zero: none).
	Newest map[string]time.Time
	// Problems are reads that failed, each naming the call and Region;
	// the rest went on.
	Problems []string
}

// Refresh reads the account afresh for a suspect key's family and
// journals what it read, so that the next fold holds it: the enabled
// Regions, a fresh inventory of principals and keys (who exists now, with
// which keys, passwords, MFA devices, policies and trust policies), a
// fresh sweep of every enabled Region (what exists now), and CloudTrail's
// event history for every key of the family in every Region (LookupEvents
// by access key, within the per-Region rate), for what the stream has not
// delivered yet. The family is re-read from the fold after the pull, and
// the pull repeated for keys it adds, so a key created by a key the
// journal had not seen is followed too.
func Refresh(ctx context.Context, env *Env, j Journal, fold Fold, key string, o RefreshOptions) (*Refreshed, error) {
	out := &Refreshed{Newest: map[string]time.Time{}}
	regs := o.Regions
	if len(regs) == 0 {
		list, err := regions.List(ctx, env.Sess.EC2(sweepHome), sweepHome)
		if err != nil {
			return out, fmt.Errorf("refresh: %w", err)
		}
		if _, err := j.Record(state.KindRegions, state.Regions{Regions: list}); err != nil {
			return out, err
		}
		regs = regions.Enabled(list)
	}
	out.Regions = regs
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	problem := func(p string) {
		mu.Lock()
		out.Problems = append(out.Problems, p)
		mu.Unlock()
	}
	var since time.Time
	var root *state.Root
	_ = fold(func(s *state.Store, _ Raw) error {
		since = s.Incident.Began
		if s.Inventory != nil && s.Inventory.Root != nil {
			r := *s.Inventory.Root
			root = &r
		}
		return nil
	})
	wg.Add(2)
	go func() {
		defer wg.Done()
		// No credential report: generating one is a write, and the root
		// user's row is not a foothold a playbook can act on. The last
		// one the journal holds is kept.
		inv := inventory.Collect(ctx, env.Sess, inventory.Options{AccountID: o.AccountID, Since: since, Now: env.now, ReportWait: -1})
		if inv.Root == nil {
			inv.Root = root
		}
		for _, e := range inv.Errors {
			problem(fmt.Sprintf("%s %s: %s", e.Call, e.Target, e.Error))
		}
		if _, err := j.Record(state.KindInventory, inv); err != nil {
			problem("journal inventory: " + err.Error())
		}
	}()
	go func() {
		defer wg.Done()
		sws, err := sweep.Run(ctx, env.Sess, regs, sweep.Options{Now: env.now})
		if err != nil {
			problem("sweep: " + err.Error())
			return
		}
		for _, sw := range sws {
			if sw.Error != nil {
				problem(fmt.Sprintf("sweep %s in %s: %s", sw.Kind, sw.Region, sw.Error.Error))
			}
			if _, err := j.Record(state.KindSweep, sw); err != nil {
				problem("journal sweep: " + err.Error())
				return
			}
		}
	}()
	if !o.NoPull {
		pulled := map[string]bool{}
		// A Region's event history is an account's: each account the
		// family reached is read through its own session, in its own
		// window.
		hists := map[string]map[string]*regionHistory{}
		histOf := func(acct string) map[string]*regionHistory {
			if hists[acct] == nil {
				hists[acct] = map[string]*regionHistory{}
				for _, r := range regs {
					hists[acct][r] = &regionHistory{}
				}
			}
			return hists[acct]
		}
		unreachable := map[string]bool{}
		acct := env.keyAccount(ctx, key)
		for round := 0; round < 4; round++ {
			var (
				keys  []string
				seen  *heldEvents
				where map[string]string // key → account ("": the root's)
				root  string
			)
			err := fold(func(s *state.Store, raw Raw) error {
				// The playbook's family: minted, created, and the sessions
				// an outside account minted on a role the family opened.
				fam := findFamily(s, raw, key, acct)
				where, root = fam.KeyAccount, fam.Account
				for _, k := range fam.Keys {
					if !pulled[k] {
						keys = append(keys, k)
					}
				}
				if len(fam.Trusts) > 0 && !pulled["AssumeRole"] {
					// A role the family opened to another account: that
					// account's AssumeRole calls name no key of ours, so
					// they are read by name (once).
					pulled["AssumeRole"] = true
					keys = append(keys, "AssumeRole")
				}
				if len(keys) > 0 {
					seen = eventsHeld(s, keys)
				}
				return nil
			})
			if err != nil {
				wg.Wait()
				return out, err
			}
			if len(keys) == 0 {
				break
			}
			byAcct := map[string][]string{}
			for _, k := range keys {
				pulled[k] = true
				a, ok := where[k]
				if !ok {
					a = root
				}
				byAcct[a] = append(byAcct[a], k)
			}
			n := 0
			for _, acct := range sortedKeys(byAcct) {
				aenv, err := env.ForAccount(ctx, acct)
				if err != nil {
					if !unreachable[acct] {
						unreachable[acct] = true
						problem("CloudTrail of account " + acct + " not read: " + err.Error())
					}
					continue
				}
				ao := o
				if aenv != env {
					ao.Lookup = nil // the member's own CloudTrail
				}
				m, err := pullEvents(ctx, aenv, j, seen, byAcct[acct], regs, ao, out, problem, histOf(acct))
				if err != nil {
					wg.Wait()
					return out, err
				}
				n += m
			}
			out.Events += n
			if n == 0 {
				break
			}
		}
	}
	// The other accounts the family reached: their inventory and sweep,
	// read through the role assumed there and journaled with the account.
	var accts []string
	_ = fold(func(s *state.Store, raw Raw) error {
		if s.Home() == "" {
			// No session names the journal's own account: a member's
			// inventory would fold over the home account's.
			return nil
		}
		f := findFamily(s, raw, key, env.keyAccount(ctx, key))
		for _, a := range f.Accounts() {
			if a != "" && !env.Home(a) {
				accts = append(accts, a)
			}
		}
		return nil
	})
	for _, acct := range accts {
		aenv, err := env.ForAccount(ctx, acct)
		if err != nil {
			continue // said by the pull, and by the plan
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			readAccount(ctx, aenv, j, acct, regs, problem)
		}()
	}
	wg.Wait()
	sort.Strings(out.Problems)
	return out, nil
}

// readAccount reads a member account's inventory and sweep through its
// Env and journals them with the account's id (the store folds them in
// Store.Accounts).
func readAccount(ctx context.Context, env *Env, j Journal, acct string, regs []string, problem func(string)) {
	inv := inventory.Collect(ctx, env.Sess, inventory.Options{AccountID: acct, Now: env.now, ReportWait: -1})
	for _, e := range inv.Errors {
		problem(fmt.Sprintf("account %s: %s %s: %s", acct, e.Call, e.Target, e.Error))
	}
	if _, err := j.Record(state.KindInventory, inv); err != nil {
		problem("journal inventory: " + err.Error())
	}
	sws, err := sweep.Run(ctx, env.Sess, regs, sweep.Options{Now: env.now})
	if err != nil {
		problem("account " + acct + ": sweep: " + err.Error())
		return
	}
	for _, sw := range sws {
		sw.AccountID = acct
		if sw.Error != nil {
			problem(fmt.Sprintf("account %s: sweep %s in %s: %s", acct, sw.Kind, sw.Region, sw.Error.Error))
		}
		if _, err := j.Record(state.KindSweep, sw); err != nil {
			problem("journal sweep: " + err.Error())
			return
		}
	}
}

// regionHistory is what one Refresh read of a Region's event history in
// its window, kept for the keys the family adds in its later rounds.
type regionHistory struct {
	tried bool
	// covered: events hold every event of the window that can be a
	// foothold or a mint (everything, or every write and STS call).
	covered bool
	events  []cttypes.Event
}

// busyLevel is how a Region's event history is read (see pullEvents): 0
// a page of everything first, 1 writes and STS's events, 2 one look-up
// per key.
func (e *Env) busyLevel(region string) int {
	e.limMu.Lock()
	defer e.limMu.Unlock()
	return e.busy[region]
}

// setBusy raises region's level to level and returns it.
func (e *Env) setBusy(region string, level int) int {
	e.limMu.Lock()
	defer e.limMu.Unlock()
	if e.busy == nil {
		e.busy = map[string]int{}
	}
	e.busy[region] = max(e.busy[region], level)
	return e.busy[region]
}

// sweepHome is where Region-independent reads are sent.
const sweepHome = "us-east-1"

// heldEvents is what the fold holds of some keys' events: their event ids,
// the first one's time, and the incident's start.
type heldEvents struct {
	ids          map[string]bool
	first, began time.Time
}

// eventsHeld reads from s what pullEvents needs of keys' events.
func eventsHeld(s *state.Store, keys []string) *heldEvents {
	h := &heldEvents{ids: map[string]bool{}, began: s.Incident.Began}
	if f, err := state.ParseFilter("key:" + strings.Join(keys, ",")); err == nil {
		res := s.Events.Query(f)
		for i := range res.Len() {
			h.ids[s.Events.Event(res.At(i)).EventID] = true
		}
		if res.Len() > 0 {
			h.first = s.Events.Event(res.At(0)).Time
		}
	}
	return h
}

// pullEvents reads CloudTrail's event history for keys in every Region
// and journals the records the journal does not hold yet (held: what the
// fold held of them before).
func pullEvents(ctx context.Context, env *Env, j Journal, held *heldEvents, keys, regs []string, o RefreshOptions, out *Refreshed, problem func(string), hist map[string]*regionHistory) (int, error) {
	known := held.ids
	since := o.Since
	if since.IsZero() {
		// From a little before the family's first known event, or the
		// incident's start, whichever is earlier; a day when neither is
		// known.
		first := held.first
		if b := held.began; !b.IsZero() && (first.IsZero() || b.Before(first)) {
			first = b
		}
		since = env.now().Add(-24 * time.Hour)
		if !first.IsZero() && first.Add(-time.Hour).After(since) {
			since = first.Add(-time.Hour)
		}
	}
	lim := o.Rate
	if lim == 0 {
		lim = 1.8
	}
	lookup := o.Lookup
	if lookup == nil {
		lookup = func(region string) cloudtrail.LookupEventsAPIClient { return env.Sess.CloudTrail(region) }
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
		fail  error
	)
	for _, region := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lm := env.lookupLimiter(region, lim)
			var raws []json.RawMessage
			var skipped []state.Skipped
			newest := time.Time{}
			want := map[string]bool{}
			for _, k := range keys {
				want[k] = true
			}
			seen := map[string]bool{}
			take := func(pg *cloudtrail.LookupEventsOutput, filter bool) {
				for i, ev := range pg.Events {
					raw := aws.ToString(ev.CloudTrailEvent)
					if id := aws.ToString(ev.EventId); raw == "" || known[id] || seen[id] {
						continue
					}
					if filter && !want[aws.ToString(ev.AccessKeyId)] && !(want["AssumeRole"] && aws.ToString(ev.EventName) == "AssumeRole" && aws.ToString(ev.AccessKeyId) == "") {
						continue
					}
					if !filter && aws.ToString(ev.EventName) == "AssumeRole" && aws.ToString(ev.AccessKeyId) != "" && !want[aws.ToString(ev.AccessKeyId)] {
						continue // read by name: only another account's
					}
					r, err := ctlog.ParseRecord([]byte(raw))
					if err != nil {
						skipped = append(skipped, state.Skipped{File: "lookup:" + region, Index: i, Reason: fmt.Sprintf("event %s: %v", aws.ToString(ev.EventId), err)})
						continue
					}
					if filter && !want[r.AccessKeyID] && !(want["AssumeRole"] && r.EventName == "AssumeRole" && r.AccessKeyID == "") {
						continue
					}
					seen[aws.ToString(ev.EventId)] = true
					if r.EventTime.After(newest) {
						newest = r.EventTime
					}
					raws = append(raws, r.Raw)
				}
			}
			end := env.now().Add(time.Minute)
			// read reads the window's pages for attr (nil: everything),
			// max at most (negative: all); complete says whether it
			// reached the end, failed whether a call failed (named in
			// the problems).
			read := func(attr *cttypes.LookupAttribute, max int) (evs []cttypes.Event, complete, failed bool) {
				in := &cloudtrail.LookupEventsInput{StartTime: aws.Time(since), EndTime: aws.Time(end)}
				if attr != nil {
					in.LookupAttributes = []cttypes.LookupAttribute{*attr}
				}
				pages := cloudtrail.NewLookupEventsPaginator(lookup(region), in)
				for n := 0; pages.HasMorePages(); n++ {
					if n == max {
						return evs, false, false
					}
					if err := lm.Wait(ctx); err != nil {
						return evs, false, true
					}
					pg, err := retryThrottled(ctx, func() (*cloudtrail.LookupEventsOutput, error) { return pages.NextPage(ctx) })
					if err != nil {
						what := "everything"
						if attr != nil {
							what = string(attr.AttributeKey) + "=" + aws.ToString(attr.AttributeValue)
						}
						problem(session.Wrap("cloudtrail:LookupEvents", region, err).Error() + " (" + what + ")")
						return evs, false, true
					}
					evs = append(evs, pg.Events...)
				}
				return evs, true, false
			}
			h := hist[region]
			if !h.tried {
				// LookupEvents takes one attribute a call, so a family
				// of k keys costs k look-ups a Region, and the home
				// Region (IAM's and STS's events, the console's own
				// reads) is the one with the least budget to spare. So
				// a Region's window is read whole once a Refresh and
				// kept for the family's later keys: one page of
				// everything where it fits (a quiet Region); else every
				// write (every foothold is one) and every STS call (the
				// mints, which CloudTrail marks read-only) where those
				// fit a few pages; else one look-up per key.
				h.tried = true
				level := env.busyLevel(region)
				failed := false
				if level == 0 {
					evs, complete, f := read(nil, 1)
					h.events, failed = evs, f
					switch {
					case complete:
						h.covered = true
					case !f:
						level = env.setBusy(region, 1)
					}
				}
				if !h.covered && !failed && level == 1 {
					writes, completeW, fW := read(&cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyReadOnly, AttributeValue: aws.String("false")}, 3)
					var mints []cttypes.Event
					completeS, fS := false, false
					if completeW {
						mints, completeS, fS = read(&cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("sts.amazonaws.com")}, 2)
					}
					h.events = append(append(h.events, writes...), mints...)
					switch {
					case completeW && completeS:
						h.covered = true
					case !fW && !fS:
						env.setBusy(region, 2)
					}
				}
			}
			take(&cloudtrail.LookupEventsOutput{Events: h.events}, true)
			if !h.covered {
				for _, k := range keys {
					attr := cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(k)}
					if k == "AssumeRole" {
						attr = cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String(k)}
					}
					evs, _, _ := read(&attr, -1)
					take(&cloudtrail.LookupEventsOutput{Events: evs}, false)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if newest.After(out.Newest[region]) {
				out.Newest[region] = newest
			}
			if len(raws) == 0 && len(skipped) == 0 {
				return
			}
			if _, err := j.Record(state.KindEvents, state.Events{Source: "lookup:" + region, Records: raws, Skipped: skipped}); err != nil && fail == nil {
				fail = fmt.Errorf("journal events: %w", err)
			}
			total += len(raws)
		}()
	}
	wg.Wait()
	return total, fail
}

// Delivered reports, per Region, whether CloudTrail's event history has
// caught up with t: it holds an event of the console's own key (self) at
// or after t. The console reads every Region when it verifies, so once
// its own calls made after t are visible, the attacker's calls made
// before t are too (delivery is not strictly ordered at AWS: this is a
// strong sign, not a proof, and the verdict says so when it is missing).
// Regions not yet caught up are returned.
func Delivered(ctx context.Context, env *Env, lookup func(region string) cloudtrail.LookupEventsAPIClient, regs []string, self string, t time.Time) (behind []string, problems []string) {
	if lookup == nil {
		lookup = func(region string) cloudtrail.LookupEventsAPIClient { return env.Sess.CloudTrail(region) }
	}
	behind, problems = delivered(ctx, env, lookup, regs, self, t)
	if len(behind) > 0 && ctx.Err() == nil {
		// The look-ups just made are the console's own calls after t in
		// every Region: when delivery is quick, a second look finds them.
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
		behind, problems = delivered(ctx, env, lookup, behind, self, t)
	}
	return behind, problems
}

func delivered(ctx context.Context, env *Env, lookup func(region string) cloudtrail.LookupEventsAPIClient, regs []string, self string, t time.Time) (behind []string, problems []string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, region := range regs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lm := env.lookupLimiter(region, 1.8)
			out, err := retryThrottled(ctx, func() (*cloudtrail.LookupEventsOutput, error) {
				if err := lm.Wait(ctx); err != nil {
					return nil, err
				}
				return lookup(region).LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(t), EndTime: aws.Time(env.now().Add(time.Minute)),
					MaxResults: aws.Int32(1), LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(self)}}})
			})
			if err == nil && len(out.Events) == 0 {
				// Nothing of ours there since t yet: make a call there
				// now (a read CloudTrail records), so that a later look
				// has one to find once delivery has caught up.
				_, _ = env.Sess.EC2(region).DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{region}})
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				problems = append(problems, session.Wrap("cloudtrail:LookupEvents", region, err).Error())
				behind = append(behind, region)
			case len(out.Events) == 0:
				behind = append(behind, region)
			}
		}()
	}
	wg.Wait()
	slices.Sort(behind)
	slices.Sort(problems)
	return behind, problems
}

// errNoFold is returned when a playbook is asked to refresh without a fold.
var errNoFold = errors.New("playbook: no journal fold to plan from")

// lookupLimiter is the one budget of LookupEvents calls in region that
// every look-up of this Env shares (CloudTrail allows 2 a second per
// account and Region).
func (e *Env) lookupLimiter(region string, r rate.Limit) *rate.Limiter {
	e.limMu.Lock()
	defer e.limMu.Unlock()
	if e.lookupLim == nil {
		e.lookupLim = map[string]*rate.Limiter{}
	}
	l := e.lookupLim[region]
	if l == nil {
		l = rate.NewLimiter(r, 1)
		e.lookupLim[region] = l
	}
	return l
}

// retryThrottled retries a look-up CloudTrail throttled (another client,
// the console's own stream, shares the budget), backing off, up to five
// times.
func retryThrottled(ctx context.Context, call func() (*cloudtrail.LookupEventsOutput, error)) (*cloudtrail.LookupEventsOutput, error) {
	wait := 500 * time.Millisecond
	for try := 0; ; try++ {
		out, err := call()
		if err == nil || try == 5 || session.Classify(err) != session.ClassThrottled {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// serverNow is the account's time (the Date of an answer, which is the
// clock CloudTrail's event times run on); the local clock when no answer
// says.
func (e *Env) serverNow(ctx context.Context) time.Time {
	out, err := e.Sess.EC2(sweepHome).DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{sweepHome}})
	if err == nil {
		if t, ok := awsmw.GetServerTime(out.ResultMetadata); ok && !t.IsZero() {
			return t
		}
	}
	return e.now()
}

// attribute reads CloudTrail's event history for the resources made after
// the leak that no record in the journal names a creator for (a page of
// look-ups by resource name, in each one's Region, at most 20), and
// journals what it finds: the next fold knows who made them, the family
// or the company.
func attribute(ctx context.Context, env *Env, j Journal, unsure []state.OpenFoothold, o RefreshOptions) int {
	lookup := o.Lookup
	if lookup == nil {
		lookup = func(region string) cloudtrail.LookupEventsAPIClient { return env.Sess.CloudTrail(region) }
	}
	lim := o.Rate
	if lim == 0 {
		lim = 1.8
	}
	n := 0
	for i, u := range unsure {
		if i == 20 || u.At.IsZero() || u.ID == "" {
			continue
		}
		region := u.Region
		if region == "" {
			region = sweepHome
		}
		// Made in another account: asked of that account's CloudTrail.
		aenv, look := env, lookup
		if u.Account != "" && !env.Home(u.Account) {
			var err error
			if aenv, err = env.ForAccount(ctx, u.Account); err != nil {
				continue
			}
			look = func(region string) cloudtrail.LookupEventsAPIClient { return aenv.Sess.CloudTrail(region) }
		}
		lm := aenv.lookupLimiter(region, lim)
		if lm.Wait(ctx) != nil {
			return n
		}
		out, err := retryThrottled(ctx, func() (*cloudtrail.LookupEventsOutput, error) {
			return look(region).LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(u.At.Add(-time.Hour)),
				LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyResourceName, AttributeValue: aws.String(u.ID)}}})
		})
		if err != nil {
			continue
		}
		var raws []json.RawMessage
		for _, ev := range out.Events {
			if r, err := ctlog.ParseRecord([]byte(aws.ToString(ev.CloudTrailEvent))); err == nil {
				raws = append(raws, r.Raw)
			}
		}
		if len(raws) > 0 {
			if _, err := j.Record(state.KindEvents, state.Events{Source: "lookup:" + region, Records: raws}); err == nil {
				n += len(raws)
			}
		}
	}
	return n
}

// JournalFold is a Fold over the journal at path for a process that holds
// no fold of its own (the CLI's contain): one store, and each call folds
// only the lines appended since the last (other writers' included), read
// at the offset the last one reached (state.ReplayTail). closeRaw releases
// the journal and the reader of raw records it hands out. Safe for
// concurrent use: a call holds the store still while read runs.
func JournalFold(path string) (fold Fold, closeRaw func() error) {
	raw := state.NewRawReader(path)
	rt := state.NewReplayTail(path)
	var mu sync.Mutex
	return func(read func(*state.Store, Raw) error) error {
			mu.Lock()
			defer mu.Unlock()
			s, err := rt.CatchUp()
			if err != nil {
				return err
			}
			return read(s, raw.Raw)
		}, func() error {
			mu.Lock()
			defer mu.Unlock()
			return errors.Join(rt.Close(), raw.Close())
		}
}
