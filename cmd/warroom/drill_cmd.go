package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/scenario"
	"github.com/warroom-ir/warroom/incident"
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

	// Tests: the terminal, the dialogs' delay, a latency on every call,
	// and a hook that gets the drill once it runs.
	term         *tui.Terminal
	confirmDelay time.Duration
	latency      time.Duration
	started      func(*drillAccount)
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
the wall clock); the same --seed plays the same drill.`,
		Example: `  warroom drill
  warroom drill --speed 50 --seed 7 --journal /tmp/drill/journal.jsonl`,
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
	return c
}

func runDrill(ctx context.Context, e *env, a drillArgs) error {
	o := simOptions{listen: "127.0.0.1:0", scenario: a.scenario, seed: a.seed, speed: a.speed, latency: a.latency,
		disableRegion: slices.Clone(defaultDisabled), delay: sim.DefaultDeliveryDelay}
	if a.scenario == "none" {
		return usageErr(fmt.Errorf("unknown --scenario %q: a drill needs an incident (%s)", a.scenario, strings.Join(scenario.Names(), ", ")))
	}
	if err := o.check(); err != nil {
		return usageErr(err)
	}
	d, err := startDrill(ctx, o, nil)
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

	scCtx, stopScenario := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = d.sc.Run(scCtx)
	}()
	if a.started != nil {
		a.started(d)
	}
	// :debrief in the console shows what the exit prints, as it stands.
	check := drillCheck(sess, id, path, d)
	debriefCmd := tui.Command{Name: "debrief", Help: "the verdict read back from AWS; time from the first attacker call to each step; what the attacker holds",
		Run: func(ctx context.Context) (string, error) {
			var b strings.Builder
			problem, err := debriefNow(ctx, &b, path, d, check)
			if problem != nil {
				fmt.Fprintf(&b, "\nwarning: %s: %s\n", path, problem)
			}
			return b.String(), err
		}}
	err = runWired(ctx, e, consoleRun{sess: sess, id: id, rec: rec, actor: actor, pace: incident.DrillPacing(a.speed), fact: fact,
		theme: a.theme, term: a.term, confirmDelay: a.confirmDelay, commands: []tui.Command{debriefCmd}})
	stopScenario()
	<-done
	if err != nil {
		return err
	}
	problem, err := debriefNow(ctx, e.stdout, path, d, check)
	if problem != nil {
		fmt.Fprintf(e.stderr, "warning: %s: %s\n", path, problem)
	}
	if err != nil {
		return usageErr(err)
	}
	fmt.Fprintf(e.stdout, "\njournal: %s\n", path)
	return nil
}

// debriefNow folds the journal at path as it stands and writes the drill's
// debrief to w: at the end of the drill, and on :debrief while it runs (the
// journal is then still being written, and a line cut mid-write is the
// problem it returns). problem is what the journal's reading met; the rest
// was read.
func debriefNow(ctx context.Context, w io.Writer, path string, d *drillAccount, check func(context.Context) (state.Verdict, error)) (problem, err error) {
	var v *state.Verdict
	var verr error
	if check != nil {
		vv, err := check(ctx)
		v, verr = &vv, err
	}
	s, rep, err := state.Replay(path)
	if err != nil {
		return nil, err
	}
	if rep.Problem != nil {
		problem = rep.Problem
	}
	db := debriefOf(s, d.sc.LeakedKey(), d.sc.Attacker().Holds(), d.sc.Attacker().CallsSince(time.Time{}))
	db.Verdict, db.VerdictErr = v, verr
	db.Running = d.sc.Attacker().Running()
	return problem, writeDebrief(w, db)
}

// drillCheck is the verdict on the drill's leaked key, read back from the
// drill account by the one function the CLI and the report use
// (contain.Runner.Check), journaled through a recorder of its own.
func drillCheck(sess *session.Session, id session.Identity, path string, d *drillAccount) func(context.Context) (state.Verdict, error) {
	return func(ctx context.Context) (state.Verdict, error) {
		// A stalled account must not hold the debrief (or the exit) for
		// long: past this the verdict is "unsure", saying why.
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
		if err != nil {
			return state.Verdict{}, err
		}
		defer rec.Close()
		r := &contain.Runner{Env: contain.NewEnv(sess, id, incidentID(path)), Journal: rec, Path: path, Actor: state.LocalActor()}
		fold, closeRaw := contain.JournalFold(path)
		defer closeRaw()
		v, _, err := r.Check(ctx, fold, d.sc.LeakedKey(), contain.ContainOptions{Refresh: contain.RefreshOptions{AccountID: id.AccountID}})
		return v, err
	}
}

// debrief is what a drill comes to: how fast each containment step came
// after the attacker's first call, and what the attacker still held.
type debrief struct {
	Leaked string
	// FirstAttack is the attacker's first call: its CloudTrail event in
	// the journal, else (FromSim) the drill account's own record.
	FirstAttack time.Time
	FromSim     bool
	Steps       []debriefStep
	// Held lists the attacker's credentials, as the scenario knows them.
	Held []scenario.Held
	// After are the attacker's successful calls since the last step's
	// result (since the first attack when there was no step).
	After      []sim.Call
	AfterSince time.Time
	// Verdict is the verdict read back from AWS (the one the CLI and
	// the report show); VerdictErr says why there is none.
	Verdict    *state.Verdict
	VerdictErr error
	// Running is how many of the attacker's instances run, by the
	// drill's own record.
	Running int
}

// debriefStep is one containment action.
type debriefStep struct {
	At      time.Time // the intent
	Action  string
	Target  string
	Outcome state.Outcome
	Detail  string // the verification's detail, or the result's error
}

// debriefOf builds the debrief from the journal's fold and the scenario's
// record of the attacker's calls (every call, successful or not).
func debriefOf(s *state.Store, leaked string, held []scenario.Held, calls []sim.Call) debrief {
	d := debrief{Leaked: leaked, Held: held}
	keys := []string{leaked}
	for _, h := range held {
		if !slices.Contains(keys, h.AccessKeyID) {
			keys = append(keys, h.AccessKeyID)
		}
	}
	res := s.Events.Query(&state.Filter{Terms: []state.Term{{Field: state.FieldKey, Value: keys}}})
	for i := range res.Len() {
		if t := s.Events.Event(res.At(i)).Time; !t.IsZero() {
			d.FirstAttack = t
			break
		}
	}
	if d.FirstAttack.IsZero() && len(calls) > 0 {
		d.FirstAttack, d.FromSim = calls[0].Time, true
	}
	d.AfterSince = d.FirstAttack
	for _, a := range s.Actions {
		st := debriefStep{At: a.At, Action: a.Intent.Action, Target: a.Intent.Target, Outcome: a.Outcome()}
		switch {
		case len(a.Verifies) > 0:
			st.Detail = a.Verifies[len(a.Verifies)-1].Detail
		case a.Result != nil && a.Result.Error != "":
			st.Detail = a.Result.Error
		}
		d.Steps = append(d.Steps, st)
		if a.Result != nil && a.ResultAt.After(d.AfterSince) {
			d.AfterSince = a.ResultAt
		}
	}
	sort.SliceStable(d.Steps, func(i, j int) bool { return d.Steps[i].At.Before(d.Steps[j].At) })
	for _, c := range calls {
		if c.OK() && c.Operation != "GetCallerIdentity" && !c.Time.Before(d.AfterSince) && len(d.Steps) > 0 {
			d.After = append(d.After, c)
		}
	}
	return d
}

// writeDebrief prints the debrief. Every string from the journal or the
// drill's record goes through cell, sanitised for the terminal.
func writeDebrief(w io.Writer, d debrief) error {
	var b strings.Builder
	b.WriteString("\nDebrief\n\n")
	fmt.Fprintf(&b, "leaked key: %s\n", cell(d.Leaked, 40))
	if d.FirstAttack.IsZero() {
		b.WriteString("the attacker never called: nothing to contain yet\n")
	} else {
		src := "its CloudTrail event in the journal"
		if d.FromSim {
			src = "the drill account's record; its CloudTrail event never reached the journal"
		}
		fmt.Fprintf(&b, "first attacker call: %s (%s)\n", d.FirstAttack.UTC().Format(time.RFC3339), src)
	}
	b.WriteString("\ncontainment steps, time after the first attacker call:\n")
	if len(d.Steps) == 0 {
		b.WriteString("  none\n")
	}
	for _, st := range d.Steps {
		after := "—"
		if !d.FirstAttack.IsZero() {
			after = "+" + clock(st.At.Sub(d.FirstAttack))
		}
		fmt.Fprintf(&b, "  %-10s %-18s %-32s %s", after, cell(st.Action, 18), cell(st.Target, 32), outcomeWord(st.Outcome))
		if st.Detail != "" {
			fmt.Fprintf(&b, ": %s", cell(st.Detail, 100))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nwhat the attacker held:\n")
	live := 0
	for _, h := range d.Held {
		state := "still held"
		if h.Dead {
			state = "dead (it stopped working)"
		} else {
			live++
		}
		fmt.Fprintf(&b, "  %-18s %-22s %s\n", h.Kind, cell(h.AccessKeyID, 22), state)
	}
	if len(d.Steps) > 0 {
		fmt.Fprintf(&b, "\nthe attacker's successful calls after your last step (%s): %d\n", d.AfterSince.UTC().Format(time.RFC3339), len(d.After))
		counts := map[string]int{}
		for _, c := range d.After {
			counts[c.Service+":"+c.Operation]++
		}
		ops := make([]string, 0, len(counts))
		for op := range counts {
			ops = append(ops, op)
		}
		sort.Slice(ops, func(i, j int) bool {
			return counts[ops[i]] > counts[ops[j]] || counts[ops[i]] == counts[ops[j]] && ops[i] < ops[j]
		})
		for _, op := range ops {
			fmt.Fprintf(&b, "  %4d  %s\n", counts[op], cell(op, 60))
		}
	}
	fmt.Fprintf(&b, "\nthe drill's own record: %d of the attacker's credentials still work, %d of its instances run\n", live, d.Running)
	switch {
	case d.Verdict == nil && d.VerdictErr != nil:
		fmt.Fprintf(&b, "\nverdict: unsure — AWS could not be read back: %s\n", cell(d.VerdictErr.Error(), 200))
	case d.Verdict == nil:
		b.WriteString("\nverdict: unsure — not read back from AWS\n")
	default:
		v := *d.Verdict
		fmt.Fprintf(&b, "\nverdict (read back from AWS at %s): %s — %d of %d footholds neutralised\n", v.CheckedAt.UTC().Format(time.RFC3339), v.Word(), v.Held, v.Footholds)
		for _, o := range v.Open {
			fmt.Fprintf(&b, "  ✗ open: %s\n", cell(incident.FootholdLine(o), 150))
		}
		for _, o := range v.Unsure {
			fmt.Fprintf(&b, "  ? unsure: %s\n", cell(incident.FootholdLine(o), 150))
		}
		if v.Contained && (live > 0 || d.Running > 0 || len(d.After) > 0) {
			b.WriteString("  ! the drill disagrees: the attacker still holds something warroom did not find (a bug: please report it)\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
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
