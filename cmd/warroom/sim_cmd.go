package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
)

func init() { moreCommands = append(moreCommands, newSimCmd) }

// defaultDisabled are the opt-in Regions a typical account has not opted
// in to; the others in the sim's list are opted in.
var defaultDisabled = []string{"af-south-1", "ap-east-1", "me-south-1"}

// simOptions are the flags of warroom sim.
type simOptions struct {
	listen        string
	scenario      string
	seed          uint64
	speed         float64
	latency       time.Duration
	throttleRate  float64
	errorRate     float64
	denyRegions   []string
	disableRegion []string
	delay         time.Duration
	verbose       bool
	// orgAccounts > 0 serves a drill organisation of that many accounts
	// (the management account and orgAccounts-1 members).
	orgAccounts int
	// noReporting leaves the reporting job that owns the leaked key out
	// of the scenario (tests whose goldens count the key's calls).
	noReporting bool
	// noGuardDuty leaves GuardDuty's findings out (their counts follow the
	// race between its rounds and the attacker's): a golden test's drill.
	noGuardDuty bool
}

// check rejects flag values the sim cannot honour, naming the flag.
func (o *simOptions) check() error {
	o.disableRegion = slices.DeleteFunc(o.disableRegion, func(r string) bool { return strings.TrimSpace(r) == "" })
	host, _, err := net.SplitHostPort(o.listen)
	if err != nil {
		return fmt.Errorf("bad --listen %q: %v", o.listen, err)
	}
	// The drill prints an administrator's secret and serves plain HTTP:
	// it stays on this machine.
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing --listen %q: the drill account serves on a loopback address only (127.0.0.1, ::1, localhost)", o.listen)
	}
	if o.scenario != "none" && !slices.Contains(scenario.Names(), o.scenario) {
		return fmt.Errorf("unknown --scenario %q: known scenarios are %s, or none", o.scenario, strings.Join(scenario.Names(), ", "))
	}
	if o.speed <= 0 {
		return fmt.Errorf("bad --speed %v: must be more than 0", o.speed)
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"--throttle-rate", o.throttleRate}, {"--error-rate", o.errorRate}} {
		if r.v < 0 || r.v > 1 {
			return fmt.Errorf("bad %s %v: must be between 0 and 1", r.name, r.v)
		}
	}
	if o.orgAccounts != 0 && (o.orgAccounts < 2 || o.orgAccounts > 101) {
		return fmt.Errorf("bad --org-accounts %d: an organisation of 2 to 101 accounts (the management account and its members)", o.orgAccounts)
	}
	if o.orgAccounts == 2 && o.scenario != "none" {
		return fmt.Errorf("bad --org-accounts 2: the %s scenario pivots between two member accounts, so it needs 3 or more", o.scenario)
	}
	if o.latency < 0 || o.delay < 0 {
		return errors.New("neither --latency nor --delivery-delay can be negative")
	}
	known := map[string]string{}
	for _, r := range sim.New(sim.Options{}).Regions() {
		known[r.Name] = r.OptInStatus
	}
	for _, r := range o.denyRegions {
		if _, ok := known[r]; !ok {
			return fmt.Errorf("unknown --deny-region %q: not a Region the drill account knows", r)
		}
	}
	for _, r := range o.disableRegion {
		if st, ok := known[r]; !ok || st == "opt-in-not-required" {
			return fmt.Errorf("bad --disable-region %q: only opt-in Regions can be disabled (such as ap-east-1, me-south-1, af-south-1)", r)
		}
	}
	return nil
}

func newSimCmd(e *env) *cobra.Command {
	o := simOptions{}
	c := &cobra.Command{
		Use:   "sim",
		Short: "Serve the drill account: a local AWS with a leaked key and a live attacker",
		Long: `sim serves the drill account on a loopback address until interrupted: IAM, STS, EC2,
CloudTrail, Lambda and S3 speaking the real wire protocols, so that warroom, the AWS CLI
and any SDK work against it unchanged. The scenario fills the account with people,
pipelines and roles, and after a few minutes of normal activity an attacker starts using
a leaked key and reacts to what the responder does.

It prints the responder's settings as shell lines (an administrator of the drill account;
this is the one place warroom prints a secret, and only for the drill) and the leaked
key's id. --speed compresses the scenario's pacing and CloudTrail's delivery delay;
event times stay on the wall clock.`,
		Example: `  # Serve the drill and point this shell's AWS tools at it
  eval "$(warroom sim --listen 127.0.0.1:4566 | grep ^export)"
  aws sts get-caller-identity

  # Ten times faster, with throttling, a denied Region and one not opted in
  warroom sim --speed 10 --throttle-rate 0.05 --deny-region eu-west-3 --disable-region ap-east-1

  # Just the account, no attacker
  warroom sim --scenario none`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return usageErr(err)
			}
			return runSim(cmd, e, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:4566", "loopback address and port to serve on (port 0 picks a free one)")
	f.StringVar(&o.scenario, "scenario", scenario.DefaultScenario, "the incident to play: "+strings.Join(scenario.Names(), ", ")+", or none")
	f.Uint64Var(&o.seed, "seed", 1, "seed for ids, names and the attacker's choices (same seed, same drill)")
	f.Float64Var(&o.speed, "speed", 1, "how much faster than real time the scenario and delivery run")
	f.DurationVar(&o.latency, "latency", 0, "added to every call before it is answered")
	f.Float64Var(&o.throttleRate, "throttle-rate", 0, "fraction of calls answered with the service's throttling error (0–1)")
	f.Float64Var(&o.errorRate, "error-rate", 0, "fraction of calls answered with a 5xx error (0–1)")
	f.StringSliceVar(&o.denyRegions, "deny-region", nil, "Region where every call is denied, as by an SCP (repeatable)")
	f.StringSliceVar(&o.disableRegion, "disable-region", defaultDisabled,
		"opt-in Region that is not opted in (repeatable; --disable-region '' for none)")
	f.DurationVar(&o.delay, "delivery-delay", sim.DefaultDeliveryDelay, "CloudTrail's delay before an event is visible (divided by --speed)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "narrate every actor's step on stderr")
	f.IntVar(&o.orgAccounts, "org-accounts", 0,
		"serve a drill organisation of N accounts (management + N-1 members) behind the one endpoint; the leaked key is in a member")
	c.AddCommand(newSimGenerateCmd(e))
	return c
}

// drillAccount is a drill account served in-process, with its scenario
// (nil for --scenario none).
type drillAccount struct {
	sim      *sim.Sim
	endpoint string
	sc       *scenario.Scenario
	// org and osc are the drill organisation and its scenario (drill
	// --org-accounts): sim is then its management account, sc osc's.
	org *sim.Org
	osc *scenario.OrgScenario
}

// startDrill serves the drill account o describes until ctx is done or
// Close, and sets its scenario up (not yet running). logf, when set, gets
// one line per actor step.
func startDrill(ctx context.Context, o simOptions, logf func(format string, args ...any)) (*drillAccount, error) {
	s := sim.New(sim.Options{Seed: o.seed, Speed: o.speed, Latency: o.latency, ThrottleRate: o.throttleRate,
		ErrorRate: o.errorRate, DeniedRegions: o.denyRegions, DisabledRegions: o.disableRegion, DeliveryDelay: o.delay})
	endpoint, err := s.StartAt(ctx, o.listen)
	if err != nil {
		return nil, err
	}
	d := &drillAccount{sim: s, endpoint: endpoint}
	if o.scenario != "none" {
		if d.sc, err = scenario.New(o.scenario, s, endpoint, scenario.Options{Seed: o.seed, Logf: logf, NoReporting: o.noReporting, NoGuardDuty: o.noGuardDuty}); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return d, nil
}

// Close stops serving.
func (d *drillAccount) Close() error {
	if d.org != nil {
		return d.org.Close()
	}
	return d.sim.Close()
}

func runSim(cmd *cobra.Command, e *env, o simOptions) error {
	ctx := cmd.Context()
	var logf func(string, ...any)
	if o.verbose {
		logf = func(format string, args ...any) {
			fmt.Fprintf(e.stderr, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, args...))
		}
	}
	if o.orgAccounts > 0 {
		return runSimOrg(ctx, e, o, logf)
	}
	d, err := startDrill(ctx, o, logf)
	if err != nil {
		return usageErr(err)
	}
	defer func() { _ = d.Close() }()
	s, sc := d.sim, d.sc
	if err := sim.WriteSettings(e.stdout, d.endpoint, sim.HomeRegion, s.Responder()); err != nil {
		return usageErr(err)
	}
	// AWS CLI v1 and older botocore read only AWS_DEFAULT_REGION.
	fmt.Fprintf(e.stdout, "export AWS_DEFAULT_REGION=%s\n", sim.HomeRegion)
	if sc != nil {
		fmt.Fprintf(e.stdout, "leaked key: %s\n", sc.LeakedKey())
	}
	fmt.Fprintf(e.stderr, "drill account %s serving at %s (scenario %s, seed %d, speed %g); interrupt to stop\n",
		s.AccountID(), d.endpoint, o.scenario, o.seed, o.speed)
	if sc != nil {
		_ = sc.Run(ctx)
	} else {
		<-ctx.Done()
	}
	return nil
}

// runSimOrg serves a drill organisation (--org-accounts): the management
// account's responder as the settings, then the organisation's id, its
// member accounts and the leaked key's account.
func runSimOrg(ctx context.Context, e *env, o simOptions, logf func(string, ...any)) error {
	org := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: o.seed, Speed: o.speed, Latency: o.latency, ThrottleRate: o.throttleRate,
		ErrorRate: o.errorRate, DeniedRegions: o.denyRegions, DisabledRegions: o.disableRegion, DeliveryDelay: o.delay},
		Members: o.orgAccounts - 1})
	endpoint, err := org.StartAt(ctx, o.listen)
	if err != nil {
		return usageErr(err)
	}
	defer func() { _ = org.Close() }()
	var sc *scenario.OrgScenario
	if o.scenario != "none" {
		if sc, err = scenario.NewOrg(o.scenario, org, endpoint, scenario.Options{Seed: o.seed, Logf: logf}); err != nil {
			return usageErr(err)
		}
	}
	if err := sim.WriteSettings(e.stdout, endpoint, sim.HomeRegion, org.Responder()); err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(e.stdout, "export AWS_DEFAULT_REGION=%s\n", sim.HomeRegion)
	fmt.Fprintf(e.stdout, "organization: %s\nmanagement account: %s\n", org.ID(), org.Management().AccountID())
	for _, m := range org.Members() {
		fmt.Fprintf(e.stdout, "member account: %s\n", m.AccountID())
	}
	if sc != nil {
		fmt.Fprintf(e.stdout, "leaked key: %s\nleaked key's account: %s\n", sc.LeakedKey(), sc.LeakedAccount())
	}
	fmt.Fprintf(e.stderr, "drill organisation %s (%d accounts) serving at %s (scenario %s, seed %d, speed %g); interrupt to stop\n",
		org.ID(), o.orgAccounts, endpoint, o.scenario, o.seed, o.speed)
	if sc != nil {
		_ = sc.Run(ctx)
	} else {
		<-ctx.Done()
	}
	return nil
}

func newSimGenerateCmd(e *env) *cobra.Command {
	var (
		o   gen.Options
		out string
	)
	c := &cobra.Command{
		Use:   "generate --events N --out DIR",
		Short: "Write N synthetic CloudTrail records as S3 delivery files",
		Long: `generate writes N records of a plausible account's everyday activity (people, pipelines,
role sessions and AWS services; reads, writes, some denied) under DIR, in the key layout
CloudTrail uses in S3 (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/…json.gz, each file
gzip of {"Records":[...]}). The same seed writes the same files. Use it to load and time
the rest of warroom.`,
		Example: `  # Half a million records for a benchmark, then ingest them
  warroom sim generate --events 500000 --out /tmp/trail
  warroom ingest --journal /tmp/inc/journal.jsonl /tmp/trail`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case o.Events <= 0:
				return usageErr(fmt.Errorf("bad --events %d: must be at least 1", o.Events))
			case out == "":
				return usageErr(errors.New("missing --out: the folder to write into"))
			case o.AccountID != "" && (len(o.AccountID) != 12 || strings.Trim(o.AccountID, "0123456789") != ""):
				return usageErr(fmt.Errorf("bad --account %q: an account id is 12 digits", o.AccountID))
			case o.Rate < 0:
				return usageErr(fmt.Errorf("bad --rate %v: cannot be negative", o.Rate))
			}
			start := time.Now()
			st, err := gen.Write(out, o)
			if err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(e.stdout, "%s: %d records in %d files (%d bytes compressed) in %s\n", out, st.Records, st.Files, st.Bytes,
				time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	f := c.Flags()
	f.IntVar(&o.Events, "events", 0, "number of records to write")
	f.StringVar(&out, "out", "", "folder to write the AWSLogs tree into")
	f.Uint64Var(&o.Seed, "seed", 1, "seed (same seed, same files)")
	f.StringVar(&o.AccountID, "account", "", "12-digit account id (default: derived from the seed)")
	f.Float64Var(&o.Rate, "rate", 2, "average records per second of account time; the newest record is now")
	f.StringSliceVar(&o.Regions, "regions", nil, "Regions with activity (default: six common ones)")
	return c
}
