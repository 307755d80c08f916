package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
	"github.com/warroom-ir/warroom/tui"
)

func init() { moreCommands = append(moreCommands, newConsoleCmd) }

// consoleArgs are the flags of warroom console (and of warroom alone).
type consoleArgs struct {
	aws   awsFlags
	org   orgFlags
	path  string
	theme string
	since time.Duration
	hunt  huntFlags // :hunt's table and workgroup
}

// register adds the console's flags to c.
func (a *consoleArgs) register(c *cobra.Command) {
	a.aws.register(c)
	a.org.register(c, &a.aws)
	journalFlag(c, &a.path, "incident journal to open or create (default: a new incident folder here)")
	themeFlag(c, &a.theme)
	c.Flags().DurationVar(&a.since, "since", 0, "how far back the CloudTrail backfill reaches (default 24h, at most 90 days)")
	c.Flags().StringVar(&a.hunt.database, "hunt-database", "warroom", ":hunt's Athena database")
	c.Flags().StringVar(&a.hunt.table, "hunt-table", "cloudtrail_org", ":hunt's table (the organisation trail's; warroom hunt --create-table makes it)")
	c.Flags().StringVar(&a.hunt.workgroup, "hunt-workgroup", "primary", ":hunt's Athena workgroup")
	c.Flags().StringVar(&a.hunt.outputLocation, "hunt-output-location", "", ":hunt's s3:// location for query results (default: the workgroup's)")
}

const consoleLong = `console opens the incident console on the AWS account your credentials reach (the SDK's
chain: --profile, environment, SSO cache, instance role): the live CloudTrail stream of every
Region, the principals and keys, the Region map and the incident journal, with containment
actions on keybindings, each previewed, confirmed, journaled and verified.

Everything seen and done goes into the incident journal first, and the screen is a fold over
it: a second responder running warroom on the same journal sees the same incident.
--read-only builds no client that could change anything; containment keys are then absent.
Without credentials it says so: try warroom drill, a built-in compromised account.`

func newConsoleCmd(e *env) *cobra.Command {
	var a consoleArgs
	c := &cobra.Command{
		Use:   "console",
		Short: "Open the incident console on the account your AWS credentials reach (also: warroom alone)",
		Long:  consoleLong,
		Example: `  warroom console --profile prod-admin --journal incident/journal.jsonl
  warroom --read-only
  warroom drill            # practise first, on a built-in compromised account`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runConsole(cmd.Context(), e, &a)
		},
	}
	a.register(c)
	return c
}

// rootConsole makes warroom without a subcommand open the console.
func rootConsole(root *cobra.Command, e *env) {
	var a consoleArgs
	a.register(root)
	root.Args = cobra.NoArgs
	root.RunE = func(cmd *cobra.Command, _ []string) error {
		return runConsole(cmd.Context(), e, &a)
	}
}

func runConsole(ctx context.Context, e *env, a *consoleArgs) error {
	if a.since < 0 || a.since > 90*24*time.Hour {
		return usageErr(fmt.Errorf("--since must be between 0 and 90 days (2160h), not %s", a.since))
	}
	sess, id, err := a.aws.session(ctx, e)
	if err != nil {
		return err
	}
	pace := incident.RealPacing()
	if a.since > 0 {
		pace.Since = a.since
	}
	hc, err := a.hunt.config()
	if err != nil {
		return usageErr(err)
	}
	members, err := a.org.members(ctx, sess)
	if err != nil {
		return err
	}
	rec, actor, err := openConsoleJournal(e, a.path, state.IncidentOpened{}, id)
	if err != nil {
		return err
	}
	return runWired(ctx, e, consoleRun{sess: sess, id: id, rec: rec, actor: actor, pace: pace,
		fact: sessionFact("console", sess, id), theme: a.theme, hunt: &hc, members: members})
}

// openConsoleJournal opens (or creates, with opened as line 1) the journal
// at path, or a new incident folder here when path is empty, writing as the
// local user acting as id.
func openConsoleJournal(e *env, path string, opened state.IncidentOpened, id session.Identity) (*state.Recorder, journal.Actor, error) {
	actor := state.LocalActor()
	actor.AWS = id.ARN
	rec, err := openIncidentAs(e, path, opened, actor)
	return rec, actor, err
}

// consoleRun is everything a console session needs.
type consoleRun struct {
	sess  *session.Session
	id    session.Identity
	rec   *state.Recorder
	actor journal.Actor
	pace  incident.Pacing
	fact  state.SessionStarted
	theme string
	// term replaces the terminal (tests drive the real program through a
	// pipe); confirmDelay replaces the dialogs' 400 ms.
	term         *tui.Terminal
	confirmDelay time.Duration
	// commands are ':' commands added to the console (the drill's debrief).
	commands []tui.Command
	// hunt, when set, is :hunt's Athena table and workgroup.
	hunt *huntConfig
	// members, when set, are the member accounts read too (--org, --accounts).
	members *incident.Members
	// impactQuiet is ':impact''s quiet period (0: state.DefaultQuietFor).
	impactQuiet time.Duration
}

// runWired journals who attached, wires the journal to AWS and to the
// console, runs the console until the responder quits or ctx is done, and
// then stops every producer and closes the journal.
func runWired(ctx context.Context, e *env, r consoleRun) (err error) {
	defer func() {
		if cerr := r.rec.Close(); cerr != nil && err == nil {
			err = usageErr(cerr)
		}
	}()
	if err := incident.Attach(r.sess, r.rec, r.fact); err != nil {
		return usageErr(err)
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	core := incident.New(r.sess, r.id, r.rec, r.pace)
	if r.members != nil {
		core.SetMembers(*r.members)
	}
	if err := core.Open(e.stderr); err != nil {
		return usageErr(err)
	}
	// The screen draws the core's fold, the one the planner reads too.
	opts := tui.Options{Store: core.Fold().Store(), Lock: core.Fold(), JournalPath: r.rec.Path(), Feed: core.Feed(),
		Journal: r.rec, Mode: tui.ModeLive, Theme: r.theme, Filter: openFilter,
		NoColor: os.Getenv("NO_COLOR") != "", Actor: r.actor, ConfirmDelay: r.confirmDelay, Commands: r.commands,
		ImpactQuietFor: r.impactQuiet}
	if r.hunt != nil {
		opts.Hunt = consoleHunt(*r.hunt, r.sess, r.id.AccountID, core.Sink())
	}
	// b: the blast radius and Config history (advisor_cmd.go), reads only.
	opts.Advisor = consoleAdvisor{reachReader{sess: r.sess, account: r.id.AccountID, rec: r.rec, read: core.Fold().Read}}
	if r.sess.ReadOnly() {
		opts.Mode = tui.ModeReadOnly
	} else {
		opts.Containment = tuiContainment{core.Containment(r.actor)}
	}
	// Start resumes the actions a console that died left unfinished.
	core.Start(ctx)
	var uiErr error
	if r.term != nil {
		uiErr = tui.RunOn(ctx, opts, *r.term)
	} else {
		uiErr = tui.Run(ctx, opts)
	}
	cancel()
	core.Wait()
	// The last fact of the session: a follower sees that the driver left.
	if _, err := r.rec.Record(state.KindSessionEnded, sessionEnd(r.fact.Command, parent, uiErr)); err != nil {
		fmt.Fprintf(e.stderr, "warning: could not journal the end of the session: %s\n", err)
	}
	if uiErr != nil && !errors.Is(uiErr, context.Canceled) {
		return usageErr(uiErr)
	}
	if perr := core.Problem(); perr != nil {
		fmt.Fprintf(e.stderr, "warning: part of the console stopped early: %s\n", perr)
	}
	return nil
}

// sessionEnd is the session.ended fact of a console that returned uiErr,
// run under parent (done when a signal stopped the program).
func sessionEnd(command string, parent context.Context, uiErr error) state.SessionEnded {
	switch {
	case parent.Err() != nil:
		return state.SessionEnded{Command: command, Reason: state.EndInterrupted}
	case uiErr != nil && !errors.Is(uiErr, context.Canceled):
		return state.SessionEnded{Command: command, Reason: state.EndFailed, Error: uiErr.Error()}
	}
	return state.SessionEnded{Command: command, Reason: state.EndQuit}
}
