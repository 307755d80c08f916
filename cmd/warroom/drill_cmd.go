package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/org"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/hunt"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

func init() { moreCommands = append(moreCommands, newDrillCmd) }

// defaultDrillSpeed makes the drill's first attacker events show within a
// minute: the scenario's pacing and CloudTrail's delivery delay are divided
// by it.
const defaultDrillSpeed = 10

// drillArgs are warroom drill's flags, and the knobs tests turn.
type drillArgs struct {
	speed    float64
	seed     uint64
	scenario string
	path     string
	theme    string
	readOnly bool
	// orgAccounts > 0 plays the drill in an organisation of that many
	// accounts (the management account and orgAccounts-1 members).
	orgAccounts int

	// Tests: the terminal, the dialogs' delay, a latency on every call,
	// and a hook that gets the drill once it runs.
	term         *tui.Terminal
	confirmDelay time.Duration
	latency      time.Duration
	started      func(*drillAccount)
	// containWait, when set, replaces the pacing's ContainWait: a test
	// that wants the playbook's first verdict, not its last.
	containWait time.Duration
}

func newDrillCmd(e *env) *cobra.Command {
	a := drillArgs{}
	c := &cobra.Command{
		Use:   "drill",
		Short: "Practise: open the console on a built-in AWS account whose key has just leaked",
		Long: `drill starts the drill account in this process — a local AWS (IAM, STS, EC2, CloudTrail,
Lambda, S3) with a company's people, pipelines and roles — and plays an incident on it: after
a few rounds of normal activity an attacker starts using a leaked access key, digs in
(a backdoor user, more keys, temporary credentials, miners in far Regions, the trail
stopped) and reacts to what you do. The console opens on it in LIVE mode, exactly as it
would on a real account: find the key, mark it suspect, contain it.

When you quit (and on :debrief in the console, while it runs), a debrief says how long
after the attacker's first call each containment step came, and what the attacker still held. The incident journal stays, to replay.
--speed divides the scenario's pacing and CloudTrail's delivery delay (event times stay on
the wall clock); the same --seed plays the same drill.

--org-accounts N plays it in a drill organisation of N accounts (the management account and
N-1 members): the key leaks in one member and the attacker pivots into another through a
role that trusts it. The console reads every member through OrganizationAccountAccessRole,
as warroom console --org does; the debrief measures what is still open in every account.`,
		Example: `  warroom drill
  warroom drill --speed 50 --seed 7 --journal /tmp/drill/journal.jsonl
  warroom drill --org-accounts 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDrill(cmd.Context(), e, a)
		},
	}
	f := c.Flags()
	f.Float64Var(&a.speed, "speed", defaultDrillSpeed, "how much faster than real time the incident plays")
	f.Uint64Var(&a.seed, "seed", 1, "seed for names, ids and the attacker's choices (same seed, same drill)")
	f.StringVar(&a.scenario, "scenario", scenario.DefaultScenario, "the incident to play: "+strings.Join(scenario.Names(), ", "))
	journalFlag(c, &a.path, "incident journal to write (default: a new incident folder here)")
	themeFlag(c, &a.theme)
	f.BoolVar(&a.readOnly, "read-only", false, "watch only: no containment")
	f.IntVar(&a.orgAccounts, "org-accounts", 0, "play it in a drill organisation of N accounts (management + N-1 members, 3 or more): the key leaks in one member and pivots into another")
	return c
}

func runDrill(ctx context.Context, e *env, a drillArgs) error {
	o := simOptions{listen: "127.0.0.1:0", scenario: a.scenario, seed: a.seed, speed: a.speed, latency: a.latency,
		disableRegion: slices.Clone(defaultDisabled), delay: sim.DefaultDeliveryDelay, orgAccounts: a.orgAccounts}
	if a.scenario == "none" {
		return usageErr(fmt.Errorf("unknown --scenario %q: a drill needs an incident (%s)", a.scenario, strings.Join(scenario.Names(), ", ")))
	}
	if err := o.check(); err != nil {
		return usageErr(err)
	}
	start := startDrill
	if o.orgAccounts > 0 {
		start = startDrillOrg
	}
	d, err := start(ctx, o, nil)
	if err != nil {
		return usageErr(err)
	}
	defer func() { _ = d.Close() }()
	resp := d.sim.Responder()
	sess, err := session.Load(ctx, session.Options{Region: sim.HomeRegion, Endpoint: d.endpoint, ReadOnly: a.readOnly,
		Credentials: session.StaticCredentials(resp.AccessKeyID, resp.SecretAccessKey, ""), AppVersion: version})
	if err != nil {
		return usageErr(err)
	}
	// The drill knows who the responder is: no call is needed (and none
	// can stall the console's start when the drill is told to be slow).
	id := session.Identity{AccountID: d.sim.AccountID(), Partition: "aws", KeyID: resp.AccessKeyID,
		ARN: "arn:aws:iam::" + d.sim.AccountID() + ":user/incident-responder"}
	began := time.Now().UTC()
	rec, actor, err := openConsoleJournal(e, a.path, state.IncidentOpened{Title: "drill: " + a.scenario, Began: began}, id)
	if err != nil {
		return err
	}
	path := rec.Path()
	fact := sessionFact("drill", sess, id)
	fact.Drill = true
	// In an organisation, every member is read through its role, as
	// console --org reads them: the accounts listed by Organizations.
	var members *incident.Members
	var hc *huntConfig
	if d.org != nil {
		lctx, cancel := context.WithTimeout(ctx, time.Minute)
		list, err := org.List(lctx, sess.Organizations())
		cancel()
		if err != nil {
			_ = rec.Close()
			return usageErr(fmt.Errorf("listing the drill organisation's accounts: %w", err))
		}
		members = &incident.Members{Accounts: list}
		hc = drillHunt(d.org, list, began)
	}

	scCtx, stopScenario := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if d.osc != nil {
			_ = d.osc.Run(scCtx)
			return
		}
		_ = d.sc.Run(scCtx)
	}()
	if a.started != nil {
		a.started(d)
	}
	// :debrief in the console shows what the exit prints, as it stands.
	drill := incident.Drill{Sess: sess, ID: id, Path: path, Scenario: d.sc, Org: d.osc}
	debriefCmd := tui.Command{Name: "debrief", Help: "the verdict read back from AWS; time from the first attacker call to each step; what the attacker holds",
		Run: func(ctx context.Context) (string, error) {
			var b strings.Builder
			banner, err := debriefNow(ctx, &b, drill)
			if banner != "" {
				fmt.Fprintf(&b, "\nwarning: %s: %s\n", path, term(banner))
			}
			return b.String(), err
		}}
	pace := incident.DrillPacing(a.speed)
	if a.containWait > 0 {
		pace.ContainWait = a.containWait
	}
	err = runWired(ctx, e, consoleRun{sess: sess, id: id, rec: rec, actor: actor, pace: pace, fact: fact,
		theme: a.theme, term: a.term, confirmDelay: a.confirmDelay, commands: []tui.Command{debriefCmd}, members: members, hunt: hc,
		// The drill compresses time by its speed: a day's quiet is a day divided by it.
		impactQuiet: time.Duration(float64(state.DefaultQuietFor) / max(a.speed, 1))})
	stopScenario()
	<-done
	if err != nil {
		return err
	}
	banner, err := debriefNow(ctx, e.stdout, drill)
	if banner != "" {
		fmt.Fprintf(e.stderr, "warning: %s: %s\n", path, term(banner))
	}
	if err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(e.stdout, "\njournal: %s\n", path)
	return nil
}

// drillHunt is the organisation drill's :hunt: the organisation trail's
// table over the drill's org trail bucket, every account of it in the
// account partition, made on first use; results written beside the trail.
func drillHunt(o *sim.Org, accounts []org.Account, began time.Time) *huntConfig {
	table := hunt.Table{Database: "warroom", Name: "cloudtrail_org"}
	ids := make([]string, 0, len(accounts))
	for _, a := range accounts {
		ids = append(ids, a.ID)
	}
	return &huntConfig{table: table, workgroup: "primary", outputLocation: "s3://" + o.OrgTrailBucket() + "/athena/", create: true,
		spec: hunt.TableSpec{Table: table, Bucket: o.OrgTrailBucket(), OrgID: o.ID(), Accounts: ids, Regions: defaultTableRegions,
			From: began.AddDate(0, 0, -1)}}
}

// startDrillOrg serves the drill organisation o describes (o.orgAccounts
// accounts) until ctx is done or Close, and sets its organisation scenario
// up (not yet running): the drill's account is the management account.
func startDrillOrg(ctx context.Context, o simOptions, logf func(format string, args ...any)) (*drillAccount, error) {
	og := sim.NewOrg(sim.OrgOptions{Options: sim.Options{Seed: o.seed, Speed: o.speed, Latency: o.latency, ThrottleRate: o.throttleRate,
		ErrorRate: o.errorRate, DeniedRegions: o.denyRegions, DisabledRegions: o.disableRegion, DeliveryDelay: o.delay},
		Members: o.orgAccounts - 1})
	endpoint, err := og.StartAt(ctx, o.listen)
	if err != nil {
		return nil, err
	}
	osc, err := scenario.NewOrg(o.scenario, og, endpoint, scenario.Options{Seed: o.seed, Logf: logf})
	if err != nil {
		_ = og.Close()
		return nil, err
	}
	return &drillAccount{sim: og.Management(), endpoint: endpoint, sc: osc.Scenario, org: og, osc: osc}, nil
}

// debriefNow builds the drill's debrief as the journal and the account
// stand (incident.Drill.Debrief) and writes it to w; banner is what the
// journal's reading met (the rest was read).
func debriefNow(ctx context.Context, w io.Writer, d incident.Drill) (banner string, err error) {
	db, banner, checkErr, err := d.Debrief(ctx)
	if err != nil {
		return banner, err
	}
	if hook := debriefed; hook != nil {
		hook(db, checkErr)
	}
	return banner, writeDebrief(w, db, checkErr)
}

// debriefed, when set (by tests), gets every debrief the drill builds, and
// why its verdict could not be read back.
var debriefed func(db report.Debrief, checkErr error)

// writeDebrief prints the debrief; checkErr is why the verdict could not be
// read back just now. Every string from the journal or the drill's record
// goes through cell, sanitised for the terminal.
func writeDebrief(w io.Writer, d report.Debrief, checkErr error) error {
	var b strings.Builder
	b.WriteString("\nDebrief\n\n")
	fmt.Fprintf(&b, "leaked key: %s\n", cell(d.Leaked, 40))
	if d.FirstCall.IsZero() {
		b.WriteString("the attacker never called: nothing to contain yet\n")
	} else {
		fmt.Fprintf(&b, "first attacker call: %s (the drill account's record)\n", d.FirstCall.UTC().Format(time.RFC3339))
	}
	if f := d.Report.Summary.FirstAttackerEvent; f != nil {
		fmt.Fprintf(&b, "first suspect event in the journal: %s %s by %s\n", f.Time.UTC().Format(time.RFC3339), cell(f.Name, 40), cell(f.Key, 22))
	} else {
		b.WriteString("first suspect event in the journal: none (no suspect marked, or none of its events journaled)\n")
	}
	b.WriteString("\ncontainment steps, time after the first attacker call:\n")
	if len(d.Steps) == 0 {
		b.WriteString("  none\n")
	}
	for _, st := range d.Steps {
		after := "—"
		if !d.FirstCall.IsZero() {
			after = "+" + clock(st.SinceFirstCall)
		}
		fmt.Fprintf(&b, "  %-10s %-18s %-32s %s", after, cell(st.Action, 18), cell(st.Target, 32), outcomeWord(state.Outcome(st.Outcome)))
		if st.Detail != "" {
			fmt.Fprintf(&b, ": %s", cell(st.Detail, 100))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nwhat the attacker held (the drill's record; the report's fate):\n")
	for _, h := range d.Held {
		held := "works now"
		switch {
		case h.Dead:
			held = "dead (it stopped working)"
		case !h.Works:
			held = "refused now"
		}
		fate := "not in the journal's suspect family"
		if h.Member != nil {
			fate = h.Member.Fate
		}
		fmt.Fprintf(&b, "  %-18s %-22s %-26s %s\n", h.Kind, cell(h.Key, 22), held, cell(fate, 100))
	}
	if len(d.Steps) > 0 {
		fmt.Fprintf(&b, "\nthe attacker's successful calls after your last step (%s): %d\n", d.AfterSince.UTC().Format(time.RFC3339), d.AfterTotal)
		for _, op := range d.After {
			fmt.Fprintf(&b, "  %4d  %s\n", op.Count, cell(op.Op, 60))
		}
	}
	fmt.Fprintf(&b, "\nthe drill's own record: %d of the attacker's credentials still work in the drill's accounts (ec2:DescribeInstances would be allowed now), %d of its instances run\n", d.Live, d.Running)
	switch v := d.Verdict; {
	case v == nil && checkErr != nil:
		fmt.Fprintf(&b, "\nverdict: unsure — AWS could not be read back: %s\n", cell(checkErr.Error(), 200))
	case v == nil:
		b.WriteString("\nverdict: unsure — not read back from AWS\n")
	default:
		if checkErr != nil {
			fmt.Fprintf(&b, "\nAWS could not be read back just now (%s): the last verdict journaled follows\n", cell(checkErr.Error(), 200))
		}
		fmt.Fprintf(&b, "\nverdict (read back from AWS at %s): %s — %d of %d footholds neutralised\n", v.CheckedAt.UTC().Format(time.RFC3339), v.Word, v.Held, v.Footholds)
	}
	if len(d.Open) > 0 {
		b.WriteString("still open (the report's list):\n")
	}
	for _, o := range d.Open {
		fmt.Fprintf(&b, "  %s %s\n", openMark[o.Source], cell(openLine(o), 150))
	}
	if d.Disagrees {
		b.WriteString("  ! the drill disagrees: the attacker still holds something warroom did not find (a bug: please report it)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// openMark marks a Still open line by where it comes from.
var openMark = map[string]string{"verdict": "✗ open:", "unsure": "? unsure:", "journal": "· in the journal, not read back:"}

// openLine is one Still open line, as incident.FootholdLine words a foothold.
func openLine(o report.Open) string {
	return incident.FootholdLine(state.OpenFoothold{Kind: o.Kind, ID: o.ID, Region: o.Region, Detail: o.Detail})
}

// outcomeWord gives an outcome a glyph as well as a word.
func outcomeWord(o state.Outcome) string {
	switch o {
	case state.OutcomeVerified:
		return "✓ " + string(o)
	case state.OutcomeFailed, state.OutcomeBroken:
		return "✗ " + string(o)
	}
	return "• " + string(o)
}

// clock formats a duration as h:mm:ss or m:ss.
func clock(d time.Duration) string {
	neg := ""
	if d < 0 {
		neg, d = "-", -d
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	if h > 0 {
		return fmt.Sprintf("%s%d:%02d:%02d", neg, h, m, s)
	}
	return fmt.Sprintf("%s%d:%02d", neg, m, s)
}
