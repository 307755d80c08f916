package trail

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// offsetClock is the wall clock moved by an offset a test can change: the
// sim's rate limiter needs time to pass, and expiry tests need a jump.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().UTC().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// simEnv is a drill account served over real HTTP on loopback.
type simEnv struct {
	sim      *sim.Sim
	clock    *offsetClock
	endpoint string
}

func startSim(t testing.TB, opts sim.Options) *simEnv {
	t.Helper()
	clock := &offsetClock{}
	opts.Clock = clock
	if opts.Seed == 0 {
		opts.Seed = 11
	}
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &simEnv{sim: s, clock: clock, endpoint: srv.URL}
}

// session is warroom's own session on the drill account, signing with p.
func (e *simEnv) session(t testing.TB, p aws.CredentialsProvider) *session.Session {
	t.Helper()
	s, err := session.Load(context.Background(), session.Options{Endpoint: e.endpoint, Credentials: p, Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func static(c sim.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
}

// cfg is an SDK configuration for the test's own traffic (the attacker):
// with retries, since the sim's injected faults hit it too.
func (e *simEnv) cfg(c sim.Credentials, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  static(c),
		BaseEndpoint: aws.String(e.endpoint),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 20
				o.MaxBackoff = 20 * time.Millisecond
				o.RateLimiter = noRateLimit{}
			})
		},
	}
}

// noRateLimit turns off the SDK's client-side retry quota for test traffic.
type noRateLimit struct{}

func (noRateLimit) GetToken(context.Context, uint) (func() error, error) {
	return func() error { return nil }, nil
}
func (noRateLimit) AddTokens(uint) error { return nil }

// attacker makes calls with a leaked key and remembers its key ids.
type attacker struct {
	t    testing.TB
	env  *simEnv
	user string
	arn  string
	key  sim.Credentials
	mu   sync.Mutex
	keys []string
}

func newAttacker(t testing.TB, env *simEnv, user string) *attacker {
	t.Helper()
	if err := env.sim.AddUser(user); err != nil {
		t.Fatal(err)
	}
	key, err := env.sim.AddKey(user)
	if err != nil {
		t.Fatal(err)
	}
	return &attacker{t: t, env: env, user: user, key: key, keys: []string{key.AccessKeyID},
		arn: "arn:aws:iam::" + env.sim.AccountID() + ":user/" + user}
}

// whoami calls sts:GetCallerIdentity in region: regional STS records it there.
func (a *attacker) whoami(c sim.Credentials, region string) {
	a.t.Helper()
	if _, err := sts.NewFromConfig(a.env.cfg(c, region)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		a.t.Errorf("attacker GetCallerIdentity in %s: %v", region, err)
	}
}

// listUsers calls iam:ListUsers (recorded in us-east-1; denied: the user has no policy).
func (a *attacker) listUsers() {
	_, _ = iam.NewFromConfig(a.env.cfg(a.key, "us-east-1")).ListUsers(context.Background(), &iam.ListUsersInput{})
}

// mint gets a session token in region and returns it.
func (a *attacker) mint(region string) sim.Credentials {
	a.t.Helper()
	out, err := sts.NewFromConfig(a.env.cfg(a.key, region)).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{})
	if err != nil {
		a.t.Fatalf("GetSessionToken: %v", err)
	}
	c := sim.Credentials{AccessKeyID: aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey), SessionToken: aws.ToString(out.Credentials.SessionToken)}
	a.mu.Lock()
	a.keys = append(a.keys, c.AccessKeyID)
	a.mu.Unlock()
	return c
}

// records returns the sim's records made with the attacker's keys, by event id.
func (a *attacker) records() map[string]ctlog.Record {
	a.mu.Lock()
	keys := slices.Clone(a.keys)
	a.mu.Unlock()
	out := map[string]ctlog.Record{}
	for _, r := range a.env.sim.Records() {
		rec, err := ctlog.ParseRecord(r.JSON)
		if err != nil {
			a.t.Fatalf("sim record %s: %v", r.EventID, err)
		}
		if slices.Contains(keys, rec.AccessKeyID) {
			out[rec.EventID] = rec
		}
	}
	return out
}

// memSink collects what a stream delivers.
type memSink struct {
	mu      sync.Mutex
	batches []batch
	count   map[string]int // event id → times delivered
	health  []state.StreamHealth
	skipped []state.Skipped
	changed chan struct{}
}

type batch struct {
	source string
	recs   []ctlog.Record
}

func newMemSink() *memSink { return &memSink{count: map[string]int{}, changed: make(chan struct{}, 1)} }

func (m *memSink) Events(_ context.Context, source string, recs []ctlog.Record, skipped []state.Skipped) error {
	m.mu.Lock()
	m.batches = append(m.batches, batch{source, slices.Clone(recs)})
	for _, r := range recs {
		m.count[r.EventID]++
	}
	m.skipped = append(m.skipped, skipped...)
	m.mu.Unlock()
	m.poke()
	return nil
}

func (m *memSink) Health(_ context.Context, h state.StreamHealth) error {
	m.mu.Lock()
	m.health = append(m.health, h)
	m.mu.Unlock()
	m.poke()
	return nil
}

func (m *memSink) poke() {
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// has reports whether every event id in want was delivered.
func (m *memSink) has(want map[string]ctlog.Record) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range want {
		if m.count[id] == 0 {
			return false
		}
	}
	return true
}

// healthWith reports whether a health fact for region had status.
func (m *memSink) healthWith(region, status string) (state.StreamHealth, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, h := range m.health {
		if h.Region == region && h.Status == status {
			return h, true
		}
	}
	return state.StreamHealth{}, false
}

// waitFor waits until cond holds; the bound is generous, it only keeps a
// broken stream from hanging the test.
func (m *memSink) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("gave up waiting for %s", what)
		case <-m.changed:
		case <-tick.C:
		}
	}
}

// checkDelivered checks that every wanted record arrived exactly once,
// from its own Region's poller, attributed as the sim recorded it, and
// that no event at all arrived twice.
func (m *memSink) checkDelivered(t *testing.T, want map[string]ctlog.Record) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, n := range m.count {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	got := map[string]batchRec{}
	for _, b := range m.batches {
		for _, r := range b.recs {
			got[r.EventID] = batchRec{b.source, r}
		}
	}
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("event %s (%s in %s) not delivered", id, w.EventName, w.Region)
			continue
		}
		if g.source != "lookup:"+w.Region {
			t.Errorf("event %s from %s, want lookup:%s", id, g.source, w.Region)
		}
		if g.rec.AccessKeyID != w.AccessKeyID || g.rec.PrincipalARN != w.PrincipalARN || g.rec.EventName != w.EventName ||
			!g.rec.EventTime.Equal(w.EventTime) {
			t.Errorf("event %s delivered as %s by %s/%s at %v, want %s by %s/%s at %v", id,
				g.rec.EventName, g.rec.PrincipalARN, g.rec.AccessKeyID, g.rec.EventTime,
				w.EventName, w.PrincipalARN, w.AccessKeyID, w.EventTime)
		}
	}
}

type batchRec struct {
	source string
	rec    ctlog.Record
}

// lookupThrottles counts LookupEvents calls the sim throttled.
func lookupThrottles(s *sim.Sim) int {
	n := 0
	for _, c := range s.Calls() {
		if c.Operation == "LookupEvents" && c.ErrorCode == "ThrottlingException" {
			n++
		}
	}
	return n
}

// fast are stream options for tests: short polls and backoffs.
func fast(o Options) Options {
	o.PollEvery = 150 * time.Millisecond
	o.HealthEvery = 500 * time.Millisecond
	o.MinBackoff = 20 * time.Millisecond
	o.MaxBackoff = 200 * time.Millisecond
	if o.Overlap == 0 {
		o.Overlap = 10 * time.Second
	}
	if o.Since == 0 {
		o.Since = time.Hour
	}
	return o
}

// run starts the stream and returns a function that stops it and returns
// Run's error.
func run(t *testing.T, st *Stream) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

func TestStreamFollowsAllRegions(t *testing.T) {
	// Records become visible 1.5 s after the call: every window the
	// pollers ask first misses them, and only the overlap finds them.
	env := startSim(t, sim.Options{DeliveryDelay: 1500 * time.Millisecond})
	a := newAttacker(t, env, "leaked")
	regions := []string{"eu-west-1", "ap-southeast-2", "sa-east-1"}
	// Before the stream starts: the backfill must find these.
	for _, r := range regions {
		a.whoami(a.key, r)
	}
	a.listUsers()

	sink := newMemSink()
	st := New(SessionLookup(env.session(t, static(env.sim.Responder()))), sink,
		fast(Options{Regions: regions, Now: env.clock.Now, Overlap: 5 * time.Second}))
	stop := run(t, st)

	// While it follows: more calls, and a temporary key used elsewhere.
	tmp := a.mint("eu-west-1")
	for i := range 6 {
		a.whoami(a.key, regions[i%len(regions)])
		a.whoami(tmp, regions[(i+1)%len(regions)])
		time.Sleep(100 * time.Millisecond)
	}
	a.listUsers()
	want := a.records()
	sink.waitFor(t, "the attacker's events", func() bool { return sink.has(want) })
	// Keep polling a while longer: overlapping windows see the same
	// events again, and must not deliver them again.
	time.Sleep(time.Second)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(want) < 17 {
		t.Fatalf("only %d attacker records: the test made too little traffic", len(want))
	}
	sink.checkDelivered(t, want)
	if n := lookupThrottles(env.sim); n != 0 {
		t.Errorf("the sim throttled %d LookupEvents calls at default settings", n)
	}
	// Health: on change (backfill, then ok), carrying the newest event
	// seen, from which the console computes the live lag. A lag that stays
	// in one band (1.5 s here) journals no periodic fact.
	sink.mu.Lock()
	n, newest := 0, false
	for _, h := range sink.health {
		if h.Region == "eu-west-1" {
			n++
			newest = newest || h.Status == StatusOK && !h.NewestAt.IsZero()
		}
	}
	sink.mu.Unlock()
	if n < 2 || !newest {
		t.Errorf("%d health facts for eu-west-1 (want backfill and ok); one with the newest event time: %v", n, newest)
	}
	for _, r := range append(regions, GlobalRegion) {
		h, ok := sink.healthWith(r, StatusOK)
		if !ok {
			t.Errorf("no ok health for %s", r)
			continue
		}
		if h.Source != "lookup:"+r || h.Error != "" {
			t.Errorf("health %+v", h)
		}
	}
}
