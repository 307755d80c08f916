package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// TargetKind is what a containment action is aimed at (the screen's
// selection, tui.TargetKind, by the same names).
type TargetKind string

// Target kinds.
const (
	TargetKey      TargetKind = "key"
	TargetUser     TargetKind = "user"
	TargetRole     TargetKind = "role"
	TargetRoot     TargetKind = "root"
	TargetResource TargetKind = "resource"
	// TargetAccount is a member account of the organisation: the
	// organisation-level step (account-scp) acts on it.
	TargetAccount TargetKind = "account"
)

// Target is what the responder selected.
type Target struct {
	Kind   TargetKind
	ID     string // key id, user/role name, resource id
	ARN    string // principal ARN, when known
	Region string // for resources
	// Resource is a resource's kind as the sweep names it ("ec2:instance").
	Resource string
	Name     string // what the responder types to confirm an irreversible plan
}

// Action names, as the console's keys name them.
const (
	ActionDeactivateKey  = "deactivate-key"
	ActionRevokeSessions = "revoke-sessions"
	ActionQuarantine     = "quarantine"
	ActionContainAll     = "contain-all"
	// ActionPasswordReset: PasswordResetRequired on a user (contain.PasswordReset).
	ActionPasswordReset = "password-reset"
)

// Plan is what an action will do, shown in full before it runs.
type Plan struct {
	ID           string
	Action       string
	Target       Target
	Title        string
	Calls        []state.Call
	Irreversible bool
	// Confirm asks for Target.Name typed, as an irreversible plan does,
	// for a plan that can be undone but stops what it targets meanwhile
	// (account-scp: an account's applications).
	Confirm bool
	// Impact is what the plan stops, in a sentence, shown above its calls.
	Impact    string
	Undo      string
	Warnings  []string
	Steps     []PlanStep
	LeftAlone []string
	Unsure    []string
}

// PlanStep is one action of a playbook.
type PlanStep struct {
	Name  string
	Why   string
	Calls []state.Call
	Err   string
	// Account and Role: the member account the step acts in and the role
	// assumed there (empty: the account warroom acts from).
	Account, Role string
}

// Containment is the incident's containment over aws/contain: plans come
// from the containment engine (read from AWS just now, with the exact
// calls), and runs go through the Runner, which journals intent, result
// and verification through the core's one Recorder.
type Containment struct {
	runner *contain.Runner
	fold   *Fold
	path   string
	// wrote is the journal the runner writes through, which keeps the
	// seq of the newest fact it journaled: what the planner waits for the
	// fold to hold.
	wrote *seqJournal

	mu      sync.Mutex
	pending map[string]pendingPlan // by Plan.ID
	running sync.WaitGroup
	// Wait and Poll tune the playbook's rounds after the first (the drill
	// compresses them with its clock).
	Wait, Poll time.Duration
}

// pendingPlan is a plan shown to the responder, waiting for a confirm.
type pendingPlan struct {
	action contain.Action
	plan   *contain.Plan
	book   *contain.Playbook
}

// NewContainment returns the containment of the incident whose fold is
// fold, acting through runner (whose Journal it wraps, to know what the
// fold must hold before the planner reads it).
func NewContainment(runner *contain.Runner, fold *Fold) *Containment {
	wrote := &seqJournal{Journal: runner.Journal}
	runner.Journal = wrote
	return &Containment{runner: runner, fold: fold, path: runner.Path, wrote: wrote, pending: map[string]pendingPlan{},
		Wait: 15 * time.Minute, Poll: 5 * time.Second}
}

// seqJournal is a contain.Journal that keeps the seq of the newest fact
// written through it.
type seqJournal struct {
	contain.Journal
	seq atomic.Int64
}

func (j *seqJournal) Record(kind state.Kind, payload any) (journal.Entry, error) {
	e, err := j.Journal.Record(kind, payload)
	if err == nil {
		for {
			old := j.seq.Load()
			if e.Seq <= old || j.seq.CompareAndSwap(old, e.Seq) {
				break
			}
		}
	}
	return e, err
}

// planFold is the fold the planner reads: the process's one fold, once it
// has applied every fact the runner journaled (Refresh's fresh reads), held
// still only while the planner reads it, never across an AWS call.
func (c *Containment) planFold(ctx context.Context) (fold contain.Fold, closeRaw func() error) {
	raw := state.NewRawReader(c.path)
	return func(read func(*state.Store, contain.Raw) error) error {
		if err := c.fold.Through(ctx, c.wrote.seq.Load()); err != nil {
			return err
		}
		var err error
		c.fold.Read(func(s *state.Store) { err = read(s, raw.Raw) })
		return err
	}, raw.Close
}

// Plan returns the plan of action for t, or why the action does not apply.
func (c *Containment) Plan(ctx context.Context, action string, t Target) (Plan, error) {
	if action == ActionContainAll && t.Kind == TargetKey {
		return c.planCredential(ctx, t)
	}
	if t.Kind == TargetAccount {
		return c.planAccount(ctx, action, t)
	}
	if t.Kind == TargetIPs {
		return c.planBlockIP(ctx, action, t)
	}
	if t.Kind == TargetSSOUser {
		return c.planSSOUser(ctx, action, t)
	}
	name, ct, err := c.target(action, t)
	if err != nil {
		return Plan{}, err
	}
	a, err := contain.New(name, ct, contain.Options{})
	if err != nil {
		return Plan{}, err
	}
	p, err := c.runner.Plan(ctx, a)
	if err != nil {
		return Plan{}, err
	}
	return c.offer(a, p, name, t), nil
}

// offer keeps a plan for the responder's confirm and returns it as the
// console shows it: the preflight's findings and the state it found among
// its warnings.
func (c *Containment) offer(a contain.Action, p *contain.Plan, name string, t Target) Plan {
	id := contain.NewActionID(time.Now())
	c.mu.Lock()
	c.pending[id] = pendingPlan{action: a, plan: p}
	c.mu.Unlock()
	tp := Plan{ID: id, Action: name, Target: t, Title: p.Title, Calls: p.Calls, Irreversible: p.HasIrreversible(),
		Undo: p.Undo, Warnings: slices.Clone(p.Warnings)}
	if p.Self && !slices.ContainsFunc(tp.Warnings, func(s string) bool { return strings.Contains(s, "own") }) {
		tp.Warnings = append(tp.Warnings, "these are the console's own credentials: warroom will refuse to cut them off")
	}
	if p.Already {
		tp.Warnings = append(tp.Warnings, "already in effect: running it changes nothing")
	}
	for _, f := range p.Findings {
		tp.Warnings = append(tp.Warnings, "preflight: "+f)
	}
	return tp
}

// planAccount plans the organisation-level step for a member account:
// account-scp, the deny-all SCP sparing the response roles, or — when
// Organizations, read just now, shows warroom's SCP attached to the
// account — its undo, remove-account-scp. The engine refuses the
// management account and the account warroom acts from, saying why.
func (c *Containment) planAccount(ctx context.Context, action string, t Target) (Plan, error) {
	if action != ActionContainAll {
		return Plan{}, fmt.Errorf("%s applies to a principal, not an account: on an account, contain (C) plans account-scp, the deny-all SCP", action)
	}
	ct := contain.Target{Kind: contain.KindAccount, ID: t.ID}
	a, err := contain.New("account-scp", ct, contain.Options{})
	if err != nil {
		return Plan{}, err
	}
	p, err := c.runner.Plan(ctx, a)
	if err != nil {
		return Plan{}, err
	}
	name := "account-scp"
	if p.Already {
		// Contained already: what the console offers is the undo.
		a, name = &contain.RemoveAccountSCP{Account: t.ID}, "remove-account-scp"
		if p, err = c.runner.Plan(ctx, a); err != nil {
			return Plan{}, err
		}
	}
	id := contain.NewActionID(time.Now())
	c.mu.Lock()
	c.pending[id] = pendingPlan{action: a, plan: p}
	c.mu.Unlock()
	t.Name = t.ID
	tp := Plan{ID: id, Action: name, Target: t, Title: p.Title, Calls: p.Calls, Irreversible: p.HasIrreversible(), Undo: p.Undo}
	for _, w := range p.Warnings {
		if rest, ok := strings.CutPrefix(w, "IMPACT: "); ok {
			tp.Impact = rest
			continue
		}
		tp.Warnings = append(tp.Warnings, w)
	}
	hasCreate := slices.ContainsFunc(p.Calls, func(c state.Call) bool { return c.API == "organizations:CreatePolicy" })
	for _, f := range p.Findings {
		if hasCreate && strings.HasPrefix(f, "the policy document: ") {
			continue // CreatePolicy's Content shows it, indented
		}
		tp.Warnings = append(tp.Warnings, "preflight: "+f)
	}
	if name == "account-scp" {
		// Undoable, but it stops an account: typed like an irreversible step.
		tp.Confirm = true
		tp.Undo = p.Undo + " — C on this account's row again, or warroom contain account-scp " + t.ID + " --undo"
	} else {
		tp.Impact = "the deny SCP comes off account " + t.ID + ": its principals get back what their own policies allow (the attacker's too, if any is still open there)"
		tp.Undo = p.Undo + " — C on this account's row again"
	}
	return tp, nil
}

// resourceActions are the actions "contain everything" takes on a
// resource, by the sweep's kind of it.
var resourceActions = map[string]struct {
	action string
	kind   contain.Kind
}{
	"ec2:instance":     {"stop-instances", contain.KindInstances},
	"ec2:spot-request": {"cancel-spot", contain.KindSpot},
}

// target maps the console's action and selection onto the engine's.
func (c *Containment) target(action string, t Target) (string, contain.Target, error) {
	principal := func() (contain.Target, error) {
		switch t.Kind {
		case TargetUser:
			return contain.Target{Kind: contain.KindUser, ID: t.ID}, nil
		case TargetRole:
			return contain.Target{Kind: contain.KindRole, ID: t.ID}, nil
		case TargetKey:
			// A key's sessions and permissions are its owner's.
			var owner string
			c.fold.Read(func(s *state.Store) {
				if u := state.KeyOwner(s.Inventory, t.ID); u != nil {
					owner = u.Name
				}
			})
			if p, ok := state.ParsePrincipal(t.ARN); owner == "" && ok && p.Kind == state.PrincipalUser {
				owner = p.Name
			}
			if owner != "" {
				return contain.Target{Kind: contain.KindUser, ID: owner}, nil
			}
			return contain.Target{}, fmt.Errorf("the owner of %s is not known yet (no inventory holds it): select its user", t.ID)
		}
		return contain.Target{}, fmt.Errorf("%s applies to a user or a role, not a %s", action, t.Kind)
	}
	switch action {
	case ActionDeactivateKey:
		if t.Kind != TargetKey {
			return "", contain.Target{}, fmt.Errorf("deactivate applies to an access key, not a %s: select a key", t.Kind)
		}
		return "deactivate-key", contain.Target{Kind: contain.KindKey, ID: t.ID}, nil
	case ActionRevokeSessions, ActionQuarantine:
		ct, err := principal()
		return action, ct, err
	case ActionPasswordReset:
		ct, err := principal()
		if err == nil && ct.Kind != contain.KindUser {
			err = fmt.Errorf("a password reset applies to a user, not a %s: select a user (or one of its keys)", ct.Kind)
		}
		return action, ct, err
	case ActionContainAll:
		if t.Kind == TargetResource {
			if ra, ok := resourceActions[t.Resource]; ok {
				return ra.action, contain.Target{Kind: ra.kind, IDs: []string{t.ID}, Region: t.Region}, nil
			}
		}
		return "", contain.Target{}, fmt.Errorf("contain everything applies to a suspect access key (or an instance or spot request), not a %s", t.Kind)
	}
	return "", contain.Target{}, fmt.Errorf("unknown action %q", action)
}

// planCredential plans the playbook "contain this credential" for a key:
// the account is read afresh for the key's family first (CloudTrail's
// event history for every key of it, every principal and key, every
// Region's resources; all journaled), so the plan does not wait for the
// stream to catch up.
func (c *Containment) planCredential(ctx context.Context, t Target) (Plan, error) {
	fold, closeRaw := c.planFold(ctx)
	defer closeRaw()
	if _, err := contain.Refresh(ctx, c.runner.Env, c.runner.Journal, fold, t.ID, contain.RefreshOptions{AccountID: c.runner.Env.Self.AccountID}); err != nil {
		return Plan{}, err
	}
	pb, err := contain.PlanCredentialFold(ctx, c.runner.Env, fold, t.ID, contain.CredentialOptions{})
	if err != nil {
		return Plan{}, err
	}
	c.mu.Lock()
	c.pending[pb.ID] = pendingPlan{book: pb}
	c.mu.Unlock()
	t.Name = t.ID
	tp := Plan{ID: pb.ID, Action: ActionContainAll, Target: t, Title: pb.Title, Calls: pb.Calls(),
		Irreversible: pb.Irreversible(), Warnings: slices.Clone(pb.Notes)}
	var undo []string
	for i, st := range pb.Steps {
		ps := PlanStep{Name: st.Action.Name(), Why: st.Why}
		if st.Env != nil {
			ps.Account, ps.Role = st.Env.Account, st.Env.Role
		}
		if st.Plan != nil {
			ps.Calls = st.Plan.Calls
		}
		if st.Err != nil {
			ps.Err = st.Err.Error()
		}
		tp.Steps = append(tp.Steps, ps)
		switch {
		case st.Err != nil:
			tp.Warnings = append(tp.Warnings, fmt.Sprintf("step %d (%s) cannot be planned: %v", i+1, st.Action.Name(), st.Err))
		case st.Plan != nil:
			tp.Warnings = append(tp.Warnings, st.Plan.Warnings...)
			if st.Plan.Self {
				tp.Warnings = append(tp.Warnings, fmt.Sprintf("step %d would cut off the console's own credentials: it will be refused", i+1))
			}
			undo = append(undo, fmt.Sprintf("%d. %s: %s", i+1, st.Plan.Title, st.Plan.Undo))
		}
	}
	for _, o := range pb.LeftAlone {
		tp.LeftAlone = append(tp.LeftAlone, FootholdLine(o))
	}
	for _, o := range pb.Unsure {
		tp.Unsure = append(tp.Unsure, FootholdLine(o))
	}
	tp.Warnings = append(tp.Warnings, "after these steps the playbook keeps reading the account back, containing what turns up in the same way, until the verdict is read back as contained (or 15 minutes pass); the verdict is journaled")
	tp.Undo = strings.Join(undo, "; ")
	return tp, nil
}

// Resume verifies, in the background, the actions a console that died
// left between intent and result (DESIGN: verified on start). Each
// verification is journaled and reaches the screen through the fold.
func (c *Containment) Resume(ctx context.Context) {
	c.running.Add(1)
	go func() {
		defer c.running.Done()
		_, _ = Resume(ctx, c.runner)
	}()
}

// Run carries out a plan the responder confirmed.
func (c *Containment) Run(ctx context.Context, p Plan) error {
	c.mu.Lock()
	pp, ok := c.pending[p.ID]
	delete(c.pending, p.ID)
	c.mu.Unlock()
	if !ok {
		return errors.New("this plan is no longer known: plan again")
	}
	c.running.Add(1)
	defer c.running.Done()
	if pp.book != nil {
		// The playbook runs to a verdict read back from AWS (journaled; the
		// status line and :debrief show it), in the background: the first
		// round is the plan the responder confirmed.
		var errs []error
		fold, closeRaw := c.planFold(ctx)
		defer closeRaw()
		_, _, err := c.runner.Contain(ctx, fold, pp.book.Family.Suspect, contain.ContainOptions{
			First: pp.book, Wait: c.Wait, Poll: c.Poll,
			Refresh: contain.RefreshOptions{AccountID: c.runner.Env.Self.AccountID},
			Progress: func(round int, o contain.StepOutcome) {
				if round == 0 && o.Err != nil {
					errs = append(errs, fmt.Errorf("step %d %s: %w", o.Index+1, o.Step.Action.Name(), o.Err))
				}
			}})
		if err != nil {
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("%d steps did not start (the others ran): %w", len(errs), errors.Join(errs...))
		}
		return nil
	}
	_, err := c.runner.Run(ctx, pp.action, contain.RunOptions{Confirmed: pp.plan})
	return err
}

// Idle returns when no run (and no resumed verification) is in flight.
func (c *Containment) Idle() { c.running.Wait() }

// FootholdLine is one open or unsure foothold, on one line.
func FootholdLine(o state.OpenFoothold) string {
	s := o.Kind + " " + o.ID
	if o.Region != "" {
		s += " in " + o.Region
	}
	if o.Account != "" && o.Account != o.ID {
		s += " in account " + o.Account
	}
	return s + ": " + o.Detail
}
