package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/state"
)

// The IAM Identity Center user action's command-line side: `warroom
// contain sso-user USER [--undo] [--output json]`. --undo finds, in the
// journal, the backup (the user's account assignments) of the last
// sso-user run on the user, so the undo creates them again.

// ssoUndoFromJournal gives a restore-sso-user action the backup the
// journal's last sso-user result on the same user kept. Without one the
// undo still lifts the deny statements (its plan says the assignments
// cannot be recreated).
func ssoUndoFromJournal(path string, a contain.Action) (contain.Action, error) {
	ru, ok := a.(*contain.RestoreSSOUser)
	if !ok {
		return a, nil
	}
	ledger, _, err := state.ReadActions(path)
	if err != nil {
		return a, fmt.Errorf("reading the journal's actions for the backup: %w", err)
	}
	return contain.RestoreFromLedger(ledger, ru.User, ru.Region)
}

// jsonPlan is a plan as `--output json` prints it.
type jsonPlan struct {
	Action   string       `json:"action"`
	Target   string       `json:"target"`
	Region   string       `json:"region,omitempty"`
	Title    string       `json:"title"`
	Already  bool         `json:"already"`
	Warnings []string     `json:"warnings,omitempty"`
	Findings []string     `json:"findings,omitempty"`
	Calls    []state.Call `json:"calls"`
	Undo     string       `json:"undo"`
	Backup   any          `json:"backup,omitempty"`
}

// jsonOutcome is a run as `--output json` prints it.
type jsonOutcome struct {
	Plan     jsonPlan            `json:"plan"`
	ActionID string              `json:"action_id,omitempty"`
	Result   *state.ActionResult `json:"result,omitempty"`
	Verify   *state.ActionVerify `json:"verify,omitempty"`
	Holds    *bool               `json:"holds,omitempty"`
}

// planJSONOf is planJSON for a plan that may be missing (nil).
func planJSONOf(p *contain.Plan) *jsonPlan {
	if p == nil {
		return nil
	}
	j := planJSON(p)
	return &j
}

func planJSON(p *contain.Plan) jsonPlan {
	calls := p.Calls
	if calls == nil {
		calls = []state.Call{}
	}
	return jsonPlan{Action: p.Action, Target: p.Target.String(), Region: p.Target.Region, Title: p.Title, Already: p.Already,
		Warnings: p.Warnings, Findings: p.Findings, Calls: calls, Undo: p.Undo, Backup: p.Prior}
}

// runActionJSON is an action's run with --output json: the plan (and, unless
// --plan, the result with its request ids and the verification) as one JSON
// document on standard output; questions go to standard error.
func (r *containRun) runActionJSON(ctx context.Context, e *env, f *containFlags, a contain.Action, p *contain.Plan, name string) error {
	out := jsonOutcome{Plan: planJSON(p)}
	if f.plan {
		return writeJSON(e.stdout, out)
	}
	if p.Self && !f.overrideSelf {
		return &exitError{code: exitProblem, err: contain.ErrSelf}
	}
	if !f.yes && !p.Already {
		if err := r.confirm(e, p.HasIrreversible(), name); err != nil {
			return err
		}
	}
	o, err := r.run(ctx, e, f, a, p)
	if err != nil {
		return err
	}
	res := o.Result
	out.ActionID, out.Result, out.Verify = o.ActionID, &res, o.Verify
	holds := res.OK && o.Verify != nil && o.Verify.Holds
	out.Holds = &holds
	if err := writeJSON(e.stdout, out); err != nil {
		return err
	}
	if !holds {
		return &exitError{code: exitProblem, quiet: true}
	}
	return nil
}

// errOutputFormat is a bad --output.
var errOutputFormat = errors.New("--output: want text or json")
