package trail

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// lookupCall is one LookupEvents call a poller made.
type lookupCall struct {
	region string
	key    string // AccessKeyId attribute, if any
}

// watchedLookup records the calls made through a Lookup.
type watchedLookup struct {
	next  Lookup
	mu    sync.Mutex
	calls []lookupCall
}

type watchedClient struct {
	w      *watchedLookup
	region string
	api    cloudtrail.LookupEventsAPIClient
}

func (w *watchedLookup) lookup(region string) cloudtrail.LookupEventsAPIClient {
	return &watchedClient{w: w, region: region, api: w.next(region)}
}

func (c *watchedClient) LookupEvents(ctx context.Context, in *cloudtrail.LookupEventsInput, opts ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	call := lookupCall{region: c.region}
	for _, a := range in.LookupAttributes {
		if a.AttributeKey == "AccessKeyId" {
			call.key = aws.ToString(a.AttributeValue)
		}
	}
	c.w.mu.Lock()
	c.w.calls = append(c.w.calls, call)
	c.w.mu.Unlock()
	return c.api.LookupEvents(ctx, in, opts...)
}

func (w *watchedLookup) called(region, key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.calls {
		if c.region == region && c.key == key {
			return true
		}
	}
	return false
}

func TestSuspectKeyPolledFirstInEveryRegion(t *testing.T) {
	env := startSim(t, sim.Options{})
	a := newAttacker(t, env, "leaked")
	noise := newAttacker(t, env, "busy-app")
	// The suspect key's calls are the oldest: a general backfill, newest
	// first, would reach them last (the noise fills three pages).
	a.whoami(a.key, "eu-west-1")
	a.whoami(a.key, "eu-west-1")
	for range 120 {
		noise.whoami(noise.key, "eu-west-1")
	}
	second := newAttacker(t, env, "second")

	w := &watchedLookup{next: SessionLookup(env.session(t, static(env.sim.Responder())))}
	sink := newMemSink()
	st := New(w.lookup, sink, fast(Options{Regions: []string{"eu-west-1"}, Now: env.clock.Now}))
	st.AddSuspectKey(a.key.AccessKeyID)
	stop := run(t, st)
	want := a.records()
	sink.waitFor(t, "the suspect key's events", func() bool { return sink.has(want) })

	// Its events came in eu-west-1's first batch, before any noise.
	sink.mu.Lock()
	var first []ctlog.Record
	for _, b := range sink.batches {
		if b.source == "lookup:eu-west-1" {
			first = b.recs
			break
		}
	}
	sink.mu.Unlock()
	for _, r := range first {
		if r.AccessKeyID != a.key.AccessKeyID {
			t.Errorf("eu-west-1's first batch holds %s by %s: the suspect key was not polled first", r.EventName, r.AccessKeyID)
			break
		}
	}

	// A key marked while following is polled at once in every Region.
	sink.waitFor(t, "the backfill", func() bool {
		_, ok := sink.healthWith("eu-west-1", StatusOK)
		return ok
	})
	second.whoami(second.key, "eu-west-1")
	st.AddSuspectKey(second.key.AccessKeyID)
	want2 := second.records()
	sink.waitFor(t, "the second key's events", func() bool { return sink.has(want2) })
	sink.waitFor(t, "the second key's filtered poll in us-east-1", func() bool { return w.called(GlobalRegion, second.key.AccessKeyID) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"eu-west-1", GlobalRegion} {
		for _, k := range []string{a.key.AccessKeyID, second.key.AccessKeyID} {
			if !w.called(r, k) {
				t.Errorf("no filtered poll for %s in %s", k, r)
			}
		}
	}
	all := a.records()
	for id, r := range noise.records() {
		all[id] = r
	}
	sink.checkDelivered(t, all)
	if n := lookupThrottles(env.sim); n != 0 {
		t.Errorf("filtered polls went over the Region's budget: %d throttled", n)
	}
}

func TestStreamFaults(t *testing.T) {
	regions := []string{"eu-west-1", "ap-southeast-2", "ap-east-1"}
	tests := []struct {
		name string
		opts sim.Options
		// bad is a Region that cannot be read, and the status it shows.
		bad, status, errText string
		// seen is a status some Region must have shown on the way.
		seen string
	}{
		{name: "throttling", opts: sim.Options{ThrottleRate: 0.4}, seen: StatusThrottled},
		{name: "5xx", opts: sim.Options{ErrorRate: 0.4}, seen: StatusError},
		{name: "slow calls", opts: sim.Options{Latency: 150 * time.Millisecond}, seen: StatusOK},
		{name: "denied Region", opts: sim.Options{DeniedRegions: []string{"ap-southeast-2"}},
			bad: "ap-southeast-2", status: StatusDenied, errText: "cloudtrail:LookupEvents in ap-southeast-2: AccessDenied"},
		{name: "disabled Region", opts: sim.Options{DisabledRegions: []string{"ap-east-1"}},
			bad: "ap-east-1", status: StatusDisabled, errText: "cloudtrail:LookupEvents in ap-east-1: UnrecognizedClientException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := startSim(t, tt.opts)
			a := newAttacker(t, env, "leaked")
			for i := range 4 {
				for _, r := range regions {
					if r == tt.bad {
						continue
					}
					a.whoami(a.key, r)
				}
				if i%2 == 0 {
					a.listUsers()
				}
			}
			want := a.records()
			sink := newMemSink()
			st := New(SessionLookup(env.session(t, static(env.sim.Responder()))), sink,
				fast(Options{Regions: regions, Once: true, PageAttempts: 30, Now: env.clock.Now}))
			if err := st.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			sink.checkDelivered(t, want)
			if tt.seen != "" {
				found := false
				for _, r := range append(regions, GlobalRegion) {
					if _, ok := sink.healthWith(r, tt.seen); ok {
						found = true
					}
				}
				if !found {
					t.Errorf("no Region showed %s", tt.seen)
				}
			}
			for _, r := range append(regions, GlobalRegion) {
				_, ok := sink.healthWith(r, StatusOK)
				if ok == (r == tt.bad) {
					t.Errorf("%s: ok health %v", r, ok)
				}
			}
			if tt.bad != "" {
				h, ok := sink.healthWith(tt.bad, tt.status)
				if !ok {
					t.Fatalf("no %s health for %s: %+v", tt.status, tt.bad, sink.health)
				}
				if !strings.Contains(h.Error, tt.errText) {
					t.Errorf("health error %q does not say %q", h.Error, tt.errText)
				}
			}
		})
	}
}

func TestSetRegionsSkipsDisabledRegions(t *testing.T) {
	env := startSim(t, sim.Options{DisabledRegions: []string{"me-south-1"}})
	w := &watchedLookup{next: SessionLookup(env.session(t, static(env.sim.Responder())))}
	sink := newMemSink()
	st := New(w.lookup, sink, fast(Options{Once: true, Now: env.clock.Now}))
	list := []state.Region{{Name: "eu-west-1", OptInStatus: "opt-in-not-required"},
		{Name: "me-south-1", OptInStatus: "not-opted-in"}, {Name: "us-east-1", OptInStatus: "opt-in-not-required"}}
	if err := st.SetRegions(context.Background(), list); err != nil {
		t.Fatal(err)
	}
	if err := st.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h, ok := sink.healthWith("me-south-1", StatusDisabled); !ok || !strings.Contains(h.Error, "not-opted-in") {
		t.Errorf("me-south-1 health %+v %v", h, ok)
	}
	if w.called("me-south-1", "") {
		t.Error("a Region that is not enabled was polled")
	}
	if !w.called("eu-west-1", "") || !w.called(GlobalRegion, "") {
		t.Error("enabled Regions were not polled")
	}
}

// rotatingCreds hands out whatever credentials the test last set, and asks
// to be asked again soon, as a refreshing provider (SSO, a role) would.
type rotatingCreds struct {
	mu sync.Mutex
	c  sim.Credentials
}

func (r *rotatingCreds) set(c sim.Credentials) {
	r.mu.Lock()
	r.c = c
	r.mu.Unlock()
}

func (r *rotatingCreds) Retrieve(context.Context) (aws.Credentials, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return aws.Credentials{AccessKeyID: r.c.AccessKeyID, SecretAccessKey: r.c.SecretAccessKey, SessionToken: r.c.SessionToken,
		CanExpire: true, Expires: time.Now().Add(50 * time.Millisecond)}, nil
}

func TestCredentialsExpireMidRun(t *testing.T) {
	env := startSim(t, sim.Options{})
	a := newAttacker(t, env, "leaked")
	mint := func() sim.Credentials {
		out, err := sts.NewFromConfig(env.cfg(env.sim.Responder(), "us-east-1")).GetSessionToken(context.Background(),
			&sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
		if err != nil {
			t.Fatal(err)
		}
		return sim.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId),
			SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
	}
	creds := &rotatingCreds{}
	creds.set(mint())
	a.whoami(a.key, "eu-west-1")
	sink := newMemSink()
	st := New(SessionLookup(env.session(t, creds)), sink,
		fast(Options{Regions: []string{"eu-west-1"}, Now: env.clock.Now, Overlap: time.Hour}))
	stop := run(t, st)
	before := a.records()
	sink.waitFor(t, "the first events", func() bool { return sink.has(before) })

	// The console's session token expires; the attacker goes on.
	env.clock.Advance(16 * time.Minute)
	a.whoami(a.key, "eu-west-1")
	a.listUsers()
	sink.waitFor(t, "expired credentials to show", func() bool {
		h, ok := sink.healthWith("eu-west-1", StatusError)
		return ok && strings.Contains(h.Error, "ExpiredTokenException")
	})
	// The responder signs in again: the stream catches up, losing nothing.
	creds.set(mint())
	want := a.records()
	sink.waitFor(t, "the events made while expired", func() bool { return sink.has(want) })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	sink.checkDelivered(t, want)
}
