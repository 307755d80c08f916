package sweep

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// drill is a drill account served over real HTTP on loopback.
type drill struct {
	sim      *sim.Sim
	clock    *sim.ManualClock
	endpoint string
}

func newDrill(tb testing.TB, opts sim.Options) *drill {
	tb.Helper()
	clock := sim.NewManualClock(time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC))
	opts.Clock = clock
	if opts.Seed == 0 {
		opts.Seed = 23
	}
	s := sim.New(opts)
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	return &drill{sim: s, clock: clock, endpoint: srv.URL}
}

// session is a warroom session signing as the responder. attempts 0 keeps
// the session's default retries.
func (d *drill) session(tb testing.TB, attempts int) *session.Session {
	tb.Helper()
	c := d.sim.Responder()
	s, err := session.Load(context.Background(), session.Options{
		Endpoint:    d.endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""),
		MaxAttempts: attempts,
		MaxBackoff:  10 * time.Millisecond,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (d *drill) cfg(c sim.Credentials, region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint: aws.String(d.endpoint),
	}
}

const pubKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl attacker@box"

// made is what the attacker made, by Region and kind.
type made map[state.SweepKey][]string

// attack does, with the leaked key, what a miner does with one: in each
// Region it imports a key pair, launches an instance (the first with
// termination protection), opens a persistent spot request, and in the
// first Region creates a Lambda function. It returns the ids it made (key
// pairs by name, functions by name).
func attack(tb testing.TB, d *drill, leaked sim.Credentials, regionsUsed []string) made {
	tb.Helper()
	ctx := context.Background()
	m := made{}
	add := func(region, kind, id string) {
		k := state.SweepKey{Region: region, Kind: kind}
		m[k] = append(m[k], id)
	}
	for i, region := range regionsUsed {
		e := ec2.NewFromConfig(d.cfg(leaked, region))
		kp, err := e.ImportKeyPair(ctx, &ec2.ImportKeyPairInput{KeyName: aws.String("kali"), PublicKeyMaterial: []byte(pubKey)})
		if err != nil {
			tb.Fatalf("%s ImportKeyPair: %v", region, err)
		}
		add(region, "ec2:key-pair", aws.ToString(kp.KeyPairId))
		run, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"), InstanceType: ec2types.InstanceTypeP316xlarge,
			KeyName: aws.String("kali"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DisableApiTermination: aws.Bool(i == 0)})
		if err != nil {
			tb.Fatalf("%s RunInstances: %v", region, err)
		}
		add(region, "ec2:instance", aws.ToString(run.Instances[0].InstanceId))
		spot, err := e.RequestSpotInstances(ctx, &ec2.RequestSpotInstancesInput{Type: ec2types.SpotInstanceTypePersistent, InstanceCount: aws.Int32(1),
			LaunchSpecification: &ec2types.RequestSpotLaunchSpecification{ImageId: aws.String("ami-0abcdef1234567890"),
				InstanceType: ec2types.InstanceTypeG4dn12xlarge, KeyName: aws.String("kali")}})
		if err != nil {
			tb.Fatalf("%s RequestSpotInstances: %v", region, err)
		}
		add(region, "ec2:spot-request", aws.ToString(spot.SpotInstanceRequests[0].SpotInstanceRequestId))
		if i == 0 {
			fn := "log-shipper"
			_, err := lambda.NewFromConfig(d.cfg(leaked, region)).CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String(fn),
				Runtime: ltypes.RuntimePython312, Role: aws.String(fmt.Sprintf("arn:aws:iam::%s:role/IncidentResponse", d.sim.AccountID())),
				Handler: aws.String("index.handler"), Code: &ltypes.FunctionCode{ZipFile: []byte("PK\x03\x04 not really")}})
			if err != nil {
				tb.Fatalf("%s CreateFunction: %v", region, err)
			}
			add(region, "lambda:function", fn)
		}
	}
	return m
}

// leakedKey adds the developer whose key leaked.
func leakedKey(tb testing.TB, d *drill) sim.Credentials {
	tb.Helper()
	if err := d.sim.AddUser("ci-deploy"); err != nil {
		tb.Fatal(err)
	}
	if err := d.sim.AttachUserPolicy("ci-deploy", "arn:aws:iam::aws:policy/AdministratorAccess"); err != nil {
		tb.Fatal(err)
	}
	k, err := d.sim.AddKey("ci-deploy")
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// creators builds the event table from the drill account's CloudTrail and
// finds who created what.
func creators(t *testing.T, d *drill) *state.Creators {
	t.Helper()
	recs := d.sim.Records()
	tbl := state.NewEventTable()
	parsed := make([]ctlog.Record, len(recs))
	for i, r := range recs {
		p, err := ctlog.ParseRecord(r.JSON)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		parsed[i] = p
		tbl.Add(&parsed[i], state.EventRef{Offset: 1, Index: uint32(i)})
	}
	c, problems := state.FindCreators(tbl, func(ref state.EventRef) ([]byte, error) { return parsed[ref.Index].Raw, nil })
	if len(problems) > 0 {
		t.Fatalf("problems reading creators: %v", problems)
	}
	return c
}

func enabledRegions(t *testing.T, d *drill, sess *session.Session) []string {
	t.Helper()
	list, err := regions.List(context.Background(), sess.EC2(session.DefaultRegion), session.DefaultRegion)
	if err != nil {
		t.Fatal(err)
	}
	return regions.Enabled(list)
}

func byKey(sweeps []state.Sweep) map[state.SweepKey]state.Sweep {
	m := map[state.SweepKey]state.Sweep{}
	for _, s := range sweeps {
		m[state.SweepKey{Region: s.Region, Kind: s.Kind}] = s
	}
	return m
}

func TestRegistry(t *testing.T) {
	want := []string{"ec2:instance", "ec2:key-pair", "ec2:security-group", "ec2:spot-request", "lambda:function"}
	if got := KindNames(); !slices.Equal(got, want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
	if _, err := Run(context.Background(), nil, []string{"eu-west-1"}, Options{Kinds: []string{"ec2:nat-gateway"}}); err == nil {
		t.Error("an unknown kind was accepted")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a kind twice did not panic")
		}
	}()
	Register(instances{})
}

// TestRegionMapLeakedKey: the region map finds every instance, spot
// request, key pair and function the attacker made, in every Region, with
// the leaked key as their creator; the responder's own resources are not
// attributed to it.
func TestRegionMapLeakedKey(t *testing.T) {
	d := newDrill(t, sim.Options{DisabledRegions: []string{"me-south-1"}})
	leaked := leakedKey(t, d)
	d.clock.Advance(time.Hour)
	began := d.clock.Now()
	d.clock.Advance(time.Minute)
	used := []string{"ap-east-1", "eu-west-1", "sa-east-1", "ap-southeast-2"}
	m := attack(t, d, leaked, used)

	sess := d.session(t, 0)
	regs := enabledRegions(t, d, sess)
	if slices.Contains(regs, "me-south-1") || !slices.Contains(regs, "ap-east-1") {
		t.Fatalf("enabled Regions %v", regs)
	}
	sweeps, err := Run(context.Background(), sess, regs, Options{Now: d.sim.Now})
	if err != nil {
		t.Fatal(err)
	}
	if len(sweeps) != len(regs)*len(Kinds()) {
		t.Fatalf("%d sweeps, want %d Regions × %d kinds", len(sweeps), len(regs), len(Kinds()))
	}
	for _, s := range sweeps {
		if s.Error != nil {
			t.Errorf("%s %s failed on a healthy account: %+v", s.Region, s.Kind, s.Error)
		}
	}
	got := byKey(sweeps)
	c := creators(t, d)
	for k, ids := range m {
		sw := got[k]
		for _, id := range ids {
			i := slices.IndexFunc(sw.Resources, func(r state.Resource) bool { return r.ID == id || r.Name == id })
			if i < 0 {
				t.Errorf("%s %s: %s not found in %+v", k.Region, k.Kind, id, sw.Resources)
				continue
			}
			r := sw.Resources[i]
			cr, ok := c.Of(k.Region, r)
			if !ok || cr.AccessKeyID != leaked.AccessKeyID {
				t.Errorf("%s %s %s: creator %+v (found %v), want the leaked key", k.Region, k.Kind, id, cr, ok)
			}
			if !state.NewSince(began, r, cr, ok) {
				t.Errorf("%s %s %s not new since the incident began", k.Region, k.Kind, id)
			}
		}
	}
	t.Run("protection flags", func(t *testing.T) {
		first := got[state.SweepKey{Region: used[0], Kind: "ec2:instance"}]
		second := got[state.SweepKey{Region: used[1], Kind: "ec2:instance"}]
		if len(first.Resources) == 0 || len(second.Resources) == 0 {
			t.Fatal("instances missing")
		}
		id := m[state.SweepKey{Region: used[0], Kind: "ec2:instance"}][0]
		i := slices.IndexFunc(first.Resources, func(r state.Resource) bool { return r.ID == id })
		if a := first.Resources[i].Attrs; a["termination_protection"] != "true" || a["stop_protection"] != "false" || a["key_pair"] != "kali" || a["type"] != "p3.16xlarge" {
			t.Errorf("protected instance attrs %v", a)
		}
		for _, r := range second.Resources {
			if r.ID == m[state.SweepKey{Region: used[1], Kind: "ec2:instance"}][0] && r.Attrs["termination_protection"] != "false" {
				t.Errorf("unprotected instance attrs %v", r.Attrs)
			}
		}
	})
	t.Run("spot instance attributed through its request", func(t *testing.T) {
		sw := got[state.SweepKey{Region: used[2], Kind: "ec2:instance"}]
		n := 0
		for _, r := range sw.Resources {
			if r.Attrs["spot_request"] == "" {
				continue
			}
			n++
			if cr, ok := c.Of(used[2], r); !ok || cr.AccessKeyID != leaked.AccessKeyID {
				t.Errorf("spot instance %s: creator %+v", r.ID, cr)
			}
		}
		if n != 1 {
			t.Errorf("%d spot instances in %s, want 1", n, used[2])
		}
	})
	t.Run("untouched Regions hold only the default security group", func(t *testing.T) {
		for _, s := range sweeps {
			if slices.Contains(used, s.Region) {
				continue
			}
			want := 0
			if s.Kind == "ec2:security-group" {
				want = 1
			}
			if len(s.Resources) != want {
				t.Errorf("%s %s: %d resources, want %d", s.Region, s.Kind, len(s.Resources), want)
			}
			for _, r := range s.Resources {
				if _, ok := c.Of(s.Region, r); ok {
					t.Errorf("%s %s %s attributed to a creator", s.Region, s.Kind, r.ID)
				}
			}
		}
	})
}

// TestSweepFaults: with throttling, 5xx, slow calls, denied and disabled
// Regions, every Region × kind still gets a Sweep, the fault is visible in
// it, and every other Region is read.
func TestSweepFaults(t *testing.T) {
	target := []string{"eu-west-1", "us-west-2", "ap-northeast-1", "me-south-1"}
	tests := []struct {
		name     string
		opts     sim.Options
		attempts int
		timeout  time.Duration
		// faulty Regions must fail with class; others must succeed.
		faulty []string
		class  session.Class
		// some: at least one sweep must fail with class, and every sweep
		// either succeeds or fails with it.
		some bool
	}{
		{name: "denied Region", opts: sim.Options{DeniedRegions: []string{"ap-northeast-1"}}, faulty: []string{"ap-northeast-1"}, class: session.ClassDenied},
		{name: "disabled Region", opts: sim.Options{DisabledRegions: []string{"me-south-1"}}, faulty: []string{"me-south-1"}, class: session.ClassRegionDisabled},
		{name: "throttled without retries", opts: sim.Options{ThrottleRate: 0.3}, attempts: 1, some: true, class: session.ClassThrottled},
		// With retries, 10 attempts: at 30% injected faults a call fails all
		// of 5 (the default) once in 400, and a sweep makes hundreds.
		{name: "throttled with retries", opts: sim.Options{ThrottleRate: 0.3}, attempts: 10},
		{name: "5xx without retries", opts: sim.Options{ErrorRate: 0.3}, attempts: 1, some: true, class: session.ClassUnavailable},
		{name: "5xx with retries", opts: sim.Options{ErrorRate: 0.3}, attempts: 10},
		{name: "slow calls past the deadline", opts: sim.Options{Latency: 2 * time.Second}, timeout: 100 * time.Millisecond,
			faulty: target, class: session.ClassCanceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDrill(t, tt.opts)
			leaked := leakedKey(t, d)
			var m made
			ctx := context.Background()
			if tt.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.timeout)
				defer cancel()
			} else if tt.opts.ThrottleRate == 0 && tt.opts.ErrorRate == 0 {
				// Injected faults would hit the attacker's calls too; where
				// there are none, the attacker's resources must be found.
				m = attack(t, d, leaked, []string{"eu-west-1"})
			}
			sweeps, err := Run(ctx, d.session(t, tt.attempts), target, Options{Now: d.sim.Now})
			if err != nil {
				t.Fatal(err)
			}
			if len(sweeps) != len(target)*len(Kinds()) {
				t.Fatalf("%d sweeps, want %d", len(sweeps), len(target)*len(Kinds()))
			}
			failed := 0
			for _, s := range sweeps {
				switch {
				case slices.Contains(tt.faulty, s.Region):
					if s.Error == nil || s.Error.Class != string(tt.class) || s.Error.Region != s.Region {
						t.Errorf("%s %s: error %+v, want class %s", s.Region, s.Kind, s.Error, tt.class)
					}
				case tt.some:
					if s.Error != nil {
						failed++
						if s.Error.Class != string(tt.class) {
							t.Errorf("%s %s: error %+v, want class %s", s.Region, s.Kind, s.Error, tt.class)
						}
					}
				default:
					if s.Error != nil {
						t.Errorf("%s %s failed: %+v", s.Region, s.Kind, s.Error)
					}
				}
				if s.Error != nil && len(s.Resources) != 0 {
					t.Errorf("%s %s: resources beside an error", s.Region, s.Kind)
				}
			}
			if tt.some && failed == 0 {
				t.Error("no sweep shows the injected fault")
			}
			got := byKey(sweeps)
			for k, ids := range m {
				if n := len(got[k].Resources); n < len(ids) {
					t.Errorf("%s %s: %d resources, want the attacker's %d", k.Region, k.Kind, n, len(ids))
				}
			}
		})
	}
}

// TestWatcherJournalsDifferences: a re-sweep hands on only the Region ×
// kind sweeps that changed.
func TestWatcherJournalsDifferences(t *testing.T) {
	d := newDrill(t, sim.Options{})
	leaked := leakedKey(t, d)
	regs := []string{"eu-west-1", "us-east-2"}
	w := &Watcher{Session: d.session(t, 0), Regions: func() []string { return regs }, Options: Options{Now: d.sim.Now}}
	ctx := context.Background()
	steps := []struct {
		name   string
		before func()
		want   []state.SweepKey
	}{
		{"first pass hands on everything", nil, allKeys(regs)},
		{"nothing changed", nil, nil},
		{"an instance launched in one Region", func() {
			e := ec2.NewFromConfig(d.cfg(leaked, "us-east-2"))
			if _, err := e.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String("ami-0abcdef1234567890"),
				InstanceType: ec2types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}); err != nil {
				t.Fatal(err)
			}
		}, []state.SweepKey{{Region: "us-east-2", Kind: "ec2:instance"}}},
		{"time passes, nothing changes", func() { d.clock.Advance(time.Hour) }, nil},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.before != nil {
				st.before()
			}
			changed, err := w.Once(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []state.SweepKey
			for _, s := range changed {
				got = append(got, state.SweepKey{Region: s.Region, Kind: s.Kind})
			}
			if !slices.Equal(got, st.want) {
				t.Errorf("changed %v, want %v", got, st.want)
			}
		})
	}
}

func allKeys(regs []string) []state.SweepKey {
	var out []state.SweepKey
	for _, r := range regs {
		for _, k := range KindNames() {
			out = append(out, state.SweepKey{Region: r, Kind: k})
		}
	}
	return out
}

func TestChanged(t *testing.T) {
	base := state.Sweep{Region: "eu-west-1", Kind: "ec2:instance", TakenAt: time.Unix(1, 0),
		Resources: []state.Resource{{ID: "i-1", State: "running", Attrs: map[string]string{"type": "t3.micro"}}}}
	with := func(f func(*state.Sweep)) state.Sweep {
		s := base
		s.Resources = slices.Clone(base.Resources)
		s.Resources[0].Attrs = map[string]string{"type": "t3.micro"}
		f(&s)
		return s
	}
	tests := []struct {
		name string
		cur  state.Sweep
		want bool
	}{
		{"only the time", with(func(s *state.Sweep) { s.TakenAt = time.Unix(99, 0) }), false},
		{"state", with(func(s *state.Sweep) { s.Resources[0].State = "stopped" }), true},
		{"attribute", with(func(s *state.Sweep) { s.Resources[0].Attrs["termination_protection"] = "true" }), true},
		{"new resource", with(func(s *state.Sweep) { s.Resources = append(s.Resources, state.Resource{ID: "i-2"}) }), true},
		{"now an error", with(func(s *state.Sweep) {
			s.Resources = nil
			s.Error = &state.CallError{Call: "ec2:DescribeInstances", Class: "denied"}
		}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Changed(base, tt.cur); got != tt.want {
				t.Errorf("Changed = %v, want %v", got, tt.want)
			}
		})
	}
	e1 := with(func(s *state.Sweep) { s.Error = &state.CallError{Call: "x", Class: "throttled", Error: "a"} })
	e2 := with(func(s *state.Sweep) {
		s.Error = &state.CallError{Call: "x", Class: "throttled", Error: "b (request id 2)"}
	})
	if Changed(e1, e2) {
		t.Error("the same fault with another request id counts as a change")
	}
}

// BenchmarkSweep17Regions sweeps 17 Regions × 5 kinds with 100 ms of
// latency injected into every call (the bar: under 2 s).
func BenchmarkSweep17Regions(b *testing.B) {
	d := newDrill(b, sim.Options{Latency: 100 * time.Millisecond})
	leaked := leakedKey(b, d)
	regs := []string{"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
		"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2",
		"us-west-1", "us-west-2"}
	attack(b, d, leaked, regs[:4])
	sess := d.session(b, 0)
	b.ResetTimer()
	for b.Loop() {
		sweeps, err := Run(context.Background(), sess, regs, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range sweeps {
			if s.Error != nil {
				b.Fatalf("%s %s: %+v", s.Region, s.Kind, s.Error)
			}
		}
	}
}
