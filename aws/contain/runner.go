package contain

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Journal records facts. *state.Recorder implements it; Record of an
// action fact is on disk (fsynced) when it returns.
type Journal interface {
	Record(kind state.Kind, payload any) (journal.Entry, error)
}

// Runner carries actions through their lifecycle: plan (read just now) →
// intent fact (fsynced) → the calls → result fact with AWS request ids →
// verification fact. Confirmation is the caller's: it shows a Plan and
// runs only what the responder confirmed.
type Runner struct {
	Env     *Env
	Journal Journal
	// Path is the journal's path. Before acting, the Runner re-reads it
	// for other responders' intents on the same target. Empty: no check.
	Path string
	// Actor is who this process is: an intent by any other actor is
	// another responder's.
	Actor journal.Actor
	// Logf, when set, gets one line per step (never a secret), one
	// call at a time (a playbook runs Regions' steps side by side).
	Logf  func(format string, args ...any)
	logMu sync.Mutex
	// parent is the Runner In made this one from: it logs.
	parent *Runner
	// VerifyWait is how long a verification that does not hold yet is
	// retried (IAM is eventually consistent: a policy just put may read
	// back late). Zero reads back once.
	VerifyWait time.Duration

	// Test hooks: called after the intent is journaled, and after the
	// calls were made but before the result is journaled.
	afterIntent func(actionID string)
	afterCalls  func(actionID string)

	// actions reads the journal's action facts for the busy check before
	// each action: only what was appended since the last check.
	actionsOnce sync.Once
	actions     *state.ActionLog
}

// RunOptions are the responder's answers.
type RunOptions struct {
	// OverrideSelf lets an action cut off the console's own credentials.
	OverrideSelf bool
	// Proceed goes ahead although another responder is acting on the
	// same target (the answer to a BusyError).
	Proceed bool
	// Confirmed is the plan the responder confirmed. When the plan read
	// just before running needs an irreversible call it did not show, Run
	// refuses with ErrPlanChanged. Nil: the caller confirmed the action as
	// such (a CLI run with --yes).
	Confirmed *Plan
	// PlaybookID groups the facts of one playbook run.
	PlaybookID string
}

// Outcome is what running an action did.
type Outcome struct {
	ActionID string
	Plan     *Plan
	Result   state.ActionResult
	Verify   *state.ActionVerify
	// NewKey is the key a rotation created. Its secret is here only: it
	// is never journaled or logged. Show it once and drop it.
	NewKey *NewKey
}

// observer is an action that wants the calls' outputs (rotate-key takes
// the new key from CreateAccessKey's answer).
type observer interface {
	observe(c state.Call, out any, o *Outcome)
}

// binder is an action whose later calls take a value an earlier call
// returned (account-scp attaches the policy CreatePolicy made): bind
// returns the call to send.
type binder interface {
	bind(c state.Call) state.Call
}

// NewActionID returns a fresh action id.
func NewActionID(now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "act-" + now.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}

func (r *Runner) logf(format string, args ...any) {
	if r.parent != nil {
		r.parent.logf(format, args...) // one log, one lock
		return
	}
	if r.Logf != nil {
		r.logMu.Lock()
		defer r.logMu.Unlock()
		r.Logf(format, args...)
	}
}

// Plan reads the target's current state and plans a.
func (r *Runner) Plan(ctx context.Context, a Action) (*Plan, error) {
	return a.Plan(ctx, r.Env)
}

// Run carries a out. It plans afresh (the state may have changed since the
// responder saw the plan), refuses to cut off the console's own
// credentials without OverrideSelf, returns a *BusyError when another
// responder has an action on the same target in flight (unless Proceed),
// and then journals the intent, makes the calls, journals the result and
// the verification. A failed call ends the action (later calls depend on
// it) and is in the result; the error return is for failures to start or
// to journal.
func (r *Runner) Run(ctx context.Context, a Action, opts RunOptions) (*Outcome, error) {
	if r.Env.Mut == nil {
		return nil, ErrReadOnly
	}
	p, err := a.Plan(ctx, r.Env)
	if err != nil {
		return nil, err
	}
	if p.Self && !opts.OverrideSelf {
		return &Outcome{Plan: p}, fmt.Errorf("%s %s: %w", p.Action, p.Target, ErrSelf)
	}
	if err := r.checkBusy(p, opts); err != nil {
		return &Outcome{Plan: p}, err
	}
	if opts.Confirmed != nil && !confirms(opts.Confirmed, p) {
		return &Outcome{Plan: p}, ErrPlanChanged
	}
	return r.execute(ctx, a, p, opts)
}

// confirms reports whether the confirmed plan covers every irreversible
// call of the fresh one (same API and parameters).
func confirms(confirmed, fresh *Plan) bool {
	for _, c := range fresh.Calls {
		if !c.Irreversible {
			continue
		}
		if !slices.ContainsFunc(confirmed.Calls, func(k state.Call) bool {
			return k.API == c.API && k.Region == c.Region && fmt.Sprint(k.Params) == fmt.Sprint(c.Params)
		}) {
			return false
		}
	}
	return true
}

func (r *Runner) execute(ctx context.Context, a Action, p *Plan, opts RunOptions) (*Outcome, error) {
	o := &Outcome{ActionID: NewActionID(r.Env.now()), Plan: p}
	intent := state.ActionIntent{ActionID: o.ActionID, PlaybookID: opts.PlaybookID, Action: p.Action, Target: p.Target.String(),
		Region: p.Target.Region, Plan: p.Calls, Undo: p.Undo, Account: r.Env.Account, Role: r.Env.Role}
	if intent.Plan == nil {
		intent.Plan = []state.Call{}
	}
	if _, err := r.Journal.Record(state.KindActionIntent, intent); err != nil {
		return o, fmt.Errorf("journal intent: %w", err)
	}
	r.logf("intent %s %s %s: %d calls", o.ActionID, p.Action, p.Target, len(p.Calls))
	if r.afterIntent != nil {
		r.afterIntent(o.ActionID)
	}
	res := state.ActionResult{ActionID: o.ActionID, OK: true, Calls: []state.CallResult{}, Account: r.Env.Account, Role: r.Env.Role}
	if p.Already || len(p.Calls) == 0 {
		res.Already = true
	}
	obs, _ := a.(observer)
	bnd, _ := a.(binder)
	for _, c := range p.Calls {
		if bnd != nil {
			c = bnd.bind(c)
		}
		out, reqID, err := do(ctx, r.Env.Mut, c, false)
		cr := state.CallResult{API: c.API, Region: c.Region, RequestID: reqID}
		if err != nil {
			cr.Error = err.Error()
			if !alreadyDone(c, err) {
				res.Calls = append(res.Calls, cr)
				res.OK, res.Error = false, err.Error()
				r.logf("call %s failed: %v", c.API, err)
				break
			}
			cr.Error = "already in effect: " + cr.Error
		}
		res.Calls = append(res.Calls, cr)
		if obs != nil && err == nil {
			obs.observe(c, out, o)
		}
	}
	if r.afterCalls != nil {
		r.afterCalls(o.ActionID)
	}
	if p.Prior != nil {
		if b, err := json.Marshal(p.Prior); err == nil {
			res.Prior = b
		}
	}
	o.Result = res
	if _, err := r.Journal.Record(state.KindActionResult, res); err != nil {
		return o, fmt.Errorf("journal result: %w", err)
	}
	v := r.verify(ctx, a, o.ActionID, "")
	for wait, delay := r.VerifyWait, 250*time.Millisecond; !v.Holds && res.OK && wait > 0 && ctx.Err() == nil; delay *= 2 {
		delay = min(delay, wait)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
		}
		wait -= delay
		v = r.verify(ctx, a, o.ActionID, "")
	}
	o.Verify = &v
	if _, err := r.Journal.Record(state.KindActionVerify, v); err != nil {
		return o, fmt.Errorf("journal verification: %w", err)
	}
	r.logf("verify %s: holds=%v %s", o.ActionID, v.Holds, v.Detail)
	return o, nil
}

// verify reads back a's state; a failed read is a verification that does
// not hold, saying why.
func (r *Runner) verify(ctx context.Context, a Action, id, prefix string) state.ActionVerify {
	v, err := a.Verify(ctx, r.Env)
	if err != nil {
		return state.ActionVerify{ActionID: id, Holds: false, Detail: prefix + "could not verify: " + err.Error(), Account: r.Env.Account, Role: r.Env.Role}
	}
	return state.ActionVerify{ActionID: id, Holds: v.Holds, Detail: prefix + v.Detail, Account: r.Env.Account, Role: r.Env.Role}
}

// Ledger is the containment actions of a journal, as every responder
// writing to it recorded them: the state package's action fold.
type Ledger = state.ActionLedger

// ReadLedger reads the action facts of the journal at path (every writer's),
// verifying the chain as it goes (state.ReadActions). A journal that does
// not verify is an error, returned with the actions of the lines before
// the problem; a torn last line (a crash mid-write) is not.
func ReadLedger(path string) (*Ledger, error) {
	l, rep, err := state.ReadActions(path)
	if err != nil {
		return nil, err
	}
	if !rep.OK() && rep.Problem.Tampered() {
		return l, fmt.Errorf("journal %s: %w", path, rep.Problem)
	}
	return l, nil
}

// sameActor reports whether two actors are the same process.
func sameActor(a, b journal.Actor) bool {
	return a.PID == b.PID && a.Host == b.Host && a.User == b.User
}

// targetIDs returns the ids an intent target names, for overlap tests.
func targetIDs(target string) []string {
	target, _, _ = strings.Cut(target, "@")
	if rest, ok := strings.CutPrefix(target, "tag/"); ok {
		return splitList(rest)
	}
	if rest, ok := strings.CutPrefix(target, "mfa/"); ok {
		user, _, _ := strings.Cut(rest, ":")
		return []string{"user/" + user}
	}
	return splitList(target)
}

// overlaps reports whether two targets share an id in the same Region.
func overlaps(t1, r1, t2, r2 string) bool {
	if r1 != r2 {
		return false
	}
	ids := targetIDs(t2)
	return slices.ContainsFunc(targetIDs(t1), func(s string) bool { return slices.Contains(ids, s) })
}

// checkBusy re-reads the journal and returns a *BusyError when another
// responder has an action on the plan's target in flight.
func (r *Runner) checkBusy(p *Plan, opts RunOptions) error {
	if r.Path == "" || opts.Proceed {
		return nil
	}
	r.actionsOnce.Do(func() { r.actions = state.NewActionLog(r.Path) })
	unfinished, err := r.actions.Unfinished()
	if err != nil {
		return err
	}
	t := p.Target.String()
	for _, a := range unfinished {
		if sameActor(a.By, r.Actor) || a.Intent.Account != r.Env.Account || !overlaps(a.Intent.Target, a.Intent.Region, t, p.Target.Region) {
			continue
		}
		by := a.By.User + "@" + a.By.Host
		if a.By.PID != 0 {
			by += fmt.Sprintf(" pid %d", a.By.PID)
		}
		return &BusyError{Target: t, Action: a.Intent.Action, ActionID: a.Intent.ActionID, By: by, Since: a.At}
	}
	return nil
}

// Resumed is an action found in flight on start, and what verifying it
// showed.
type Resumed struct {
	Action *state.Action
	Verify state.ActionVerify
	// Err is set when the action could not be rebuilt from its intent.
	Err error
}

// Resume finds the actions whose process died between intent and result
// (outcome unknown) and verifies each, journaling the verification. An
// intent of a process still running on this host, or of this process, is
// left alone: it is in progress. Intents from other hosts are verified
// only with all set.
func (r *Runner) Resume(ctx context.Context, all bool) ([]Resumed, error) {
	if r.Path == "" {
		return nil, errors.New("resume: no journal path")
	}
	l, err := ReadLedger(r.Path)
	if err != nil {
		return nil, err
	}
	var out []Resumed
	for _, a := range l.Unfinished() {
		if sameActor(a.By, r.Actor) {
			continue
		}
		host, _ := os.Hostname()
		if a.By.Host == host && processAlive(a.By.PID) || a.By.Host != host && !all {
			continue
		}
		act, err := FromIntent(a.Intent)
		if err != nil {
			out = append(out, Resumed{Action: a, Err: err})
			continue
		}
		// Read back in the account it was taken in, through the role
		// assumed there now.
		in := r
		if a.Intent.Account != "" {
			env, err := r.Env.ForAccount(ctx, a.Intent.Account)
			if err != nil {
				out = append(out, Resumed{Action: a, Err: err})
				continue
			}
			in = r.In(env)
		}
		v := in.verify(ctx, act, a.Intent.ActionID, "outcome unknown (the process stopped between intent and result); read back: ")
		if _, err := r.Journal.Record(state.KindActionVerify, v); err != nil {
			return out, fmt.Errorf("journal verification: %w", err)
		}
		a.Verifies = append(a.Verifies, v)
		out = append(out, Resumed{Action: a, Verify: v})
		r.logf("resumed %s %s %s: holds=%v", a.Intent.ActionID, a.Intent.Action, a.Intent.Target, v.Holds)
	}
	return out, nil
}

// processAlive reports whether a process of this host with pid runs.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}
