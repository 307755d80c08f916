package tui

import (
	"context"
	"sync"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Mode is how the console is attached, as the status line shows it.
type Mode string

// Modes.
const (
	ModeLive     Mode = "LIVE"      // reading AWS and able to act
	ModeReadOnly Mode = "READ-ONLY" // reading AWS; containment is disabled
	ModeReplay   Mode = "REPLAY"    // a journal read from disk, no AWS
	ModeFollow   Mode = "FOLLOW"    // tailing a journal another process writes
)

// Journal records facts the responder makes from the keyboard (notes,
// suspect marks). Record does I/O (an fsync, a lock): the console calls it
// only inside a tea.Cmd, never on the update loop. *state.Recorder
// implements it.
type Journal interface {
	Record(kind state.Kind, payload any) (journal.Entry, error)
}

// Feed delivers journal entries to the console in journal order, a batch at
// a time, including the entries the console itself caused (notes, suspect
// marks, action intents and results): the screen is a fold over the journal,
// so nothing is drawn that did not come through here. Closing it means no
// more entries will come (a replay that reached the end).
type Feed <-chan []journal.Entry

// TargetKind is what a containment action is aimed at.
type TargetKind string

// Target kinds.
const (
	TargetKey      TargetKind = "key"      // an access key id (AKIA… or ASIA…)
	TargetUser     TargetKind = "user"     // an IAM user
	TargetRole     TargetKind = "role"     // an IAM role
	TargetRoot     TargetKind = "root"     // the root user
	TargetResource TargetKind = "resource" // an instance, spot request … in a Region
	TargetAccount  TargetKind = "account"  // a member account (the organisation-level step)
	TargetSSOUser  TargetKind = "sso-user" // an IAM Identity Center user
)

// Target is what the selected row names, as handed to containment.
type Target struct {
	Kind   TargetKind
	ID     string // key id, user/role name, resource id
	ARN    string // principal ARN, when known
	Region string // for resources
	// Resource is a resource's kind, as the sweep names it
	// ("ec2:instance", "ec2:spot-request").
	Resource string
	// Name is what the responder types to confirm an irreversible plan.
	Name string
}

// Action names of the containment keys. The containment engine decides what
// each means for a target.
const (
	ActionDeactivateKey  = "deactivate-key"
	ActionRevokeSessions = "revoke-sessions"
	ActionQuarantine     = "quarantine"
	ActionContainAll     = "contain-all"
	// ActionPasswordReset requires a user's new console password at the
	// next sign-in (PasswordResetRequired), undoable.
	ActionPasswordReset = "password-reset"
)

// Plan is what a containment action will do, shown in full before it runs.
type Plan struct {
	ID     string // unique per plan; the action id its facts will carry
	Action string
	Target Target
	Title  string       // one line: "Deactivate access key AKIA…"
	Calls  []state.Call // the exact calls, policy documents included
	// Irreversible plans ask the responder to type Target.Name to confirm.
	Irreversible bool
	// Confirm asks for Target.Name typed too, for a plan that can be
	// undone but stops what it targets meanwhile (account-scp).
	Confirm bool
	// Impact is what the plan stops, in a sentence, shown above its calls.
	Impact   string
	Undo     string   // how to undo, or "cannot be undone"
	Warnings []string // e.g. "this key is the console's own"
	// Steps, for a playbook of several actions, are its actions in order,
	// shown numbered "[1/3]" as contain --plan prints them; Calls is then
	// every step's calls in order. Empty: the plan is one action.
	Steps []PlanStep
	// LeftAlone are footholds a playbook does not act on, each with why
	// (they stay open in the verdict); Unsure are what was made after the
	// leak by a creator CloudTrail does not name yet (not acted on).
	LeftAlone []string
	Unsure    []string
}

// PlanStep is one action of a playbook.
type PlanStep struct {
	Name  string       // the action: "deactivate-key"
	Why   string       // the foothold it neutralises
	Calls []state.Call // its calls, exactly as they will be sent
	Err   string       // why it could not be planned (it is skipped)
}

// Containment is what the console needs from the containment engine. Both
// methods may do I/O and are called only inside a tea.Cmd.
type Containment interface {
	// Plan returns the plan of action for target, or an error saying why
	// the action does not apply.
	Plan(ctx context.Context, action string, target Target) (Plan, error)
	// Run carries the plan out. Its intent, results and verification are
	// journaled and reach the console through the Feed; the error is for
	// failures to start.
	Run(ctx context.Context, plan Plan) error
}

// Options configure the console.
type Options struct {
	// Store is the fold the console draws and keeps applying entries to.
	// Nil starts an empty store.
	Store *state.Store
	// Lock, when set, guards Store, which another goroutine applies the
	// journal to (the process's one fold, shared with containment): the
	// console holds it while it updates and draws, and applies nothing
	// itself — the entries the Feed brings are already in Store.
	Lock sync.Locker
	// JournalPath is the journal the store came from; the detail view reads
	// raw CloudTrail records from it. Empty: no raw records.
	JournalPath string
	// Feed delivers new entries (nil for a finished replay).
	Feed Feed
	// Journal records notes and suspect marks (nil: they are disabled).
	Journal Journal
	// Filter is the stream's filter when the console opens, in the filter
	// language; empty shows every event. The live console opens on "-ours"
	// so that its own polling does not bury the attacker's calls; the title
	// shows the filter and x clears it.
	Filter string
	// Containment runs actions (nil: containment keys are disabled and
	// absent from help, as in read-only mode).
	Containment Containment
	Mode        Mode
	// Theme is a built-in theme name, a theme file's path, or "" / "auto".
	Theme string
	// NoColor is set when NO_COLOR is: the monochrome theme is used.
	NoColor bool
	// Actor is who is driving (OS user and host, AWS caller).
	Actor journal.Actor
	// Now is the clock (nil: time.Now). Tests pass a fixed one.
	Now func() time.Time
	// NoTick stops the one-second clock tick (tests).
	NoTick bool
	// ConfirmDelay is how long a new dialog ignores keys (0: 400 ms).
	ConfirmDelay time.Duration
	// Replay, when set, drives the console from a journal opened for
	// replay, with a timeline (play, pause, speed, step, jump, seek). Store
	// must then be a fold of its first facts (Replay.Fold), and Feed nil.
	Replay *state.Replayer
	// FeedDone, when set, is called once the Feed closes; a non-nil error
	// (a follow that met a broken chain) is shown in a banner.
	FeedDone func() error
	// Commands are ':' commands the program running the console adds
	// (warroom drill adds debrief). A command whose name is empty, holds a
	// space or a control, or is a built-in's is ignored, as is one without Run.
	Commands []Command
	// Hunt, when set, runs a hunt (the filter language compiled for
	// Athena, warroom hunt --athena) for the ':hunt FILTER' command; it
	// is called inside a tea.Cmd, tells its stages to progress, and
	// returns its summary. What it finds arrives through the journal
	// (the Feed), like any other event.
	Hunt func(ctx context.Context, filter string, progress func(string)) (string, error)
	// ImpactQuietFor is how long ':impact' wants no legitimate call before
	// it says a contained credential is safe to delete (0:
	// state.DefaultQuietFor; the drill divides it by its speed).
	ImpactQuietFor time.Duration
	// Advisor, when set, reads a principal's reach and a resource's
	// Config history for b (reach.go); nil: b says it needs AWS.
	Advisor Advisor
}

// Command is a ':' command supplied by the program that runs the console.
// Run is called inside a tea.Cmd, never on the update loop, so it may do
// I/O; the text it returns is sanitised and shown in a scrollable view
// (esc closes it), and its error in the footer. The command is completed
// on the command line and listed in help.
type Command struct {
	Name string // one word: what follows ':'
	Help string // one line, for completion hints and help
	Run  func(ctx context.Context) (string, error)
}

// readOnly reports whether containment is unavailable.
func (o Options) readOnly() bool {
	return o.Containment == nil || o.Mode != ModeLive
}
