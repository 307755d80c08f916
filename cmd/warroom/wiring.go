package main

import (
	"context"
	"slices"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/hunt"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

// The console's wiring is package incident: one Recorder, one fold, the
// producers, the follower, containment. What stays here is the crossing
// between the screen's types and the core's (tui must not import aws/,
// and incident must not import a UI library).

// tuiContainment is tui.Containment over the incident's containment.
type tuiContainment struct{ c *incident.Containment }

// Plan implements tui.Containment.
func (t tuiContainment) Plan(ctx context.Context, action string, tt tui.Target) (tui.Plan, error) {
	p, err := t.c.Plan(ctx, action, incident.Target{Kind: incident.TargetKind(tt.Kind), ID: tt.ID, ARN: tt.ARN,
		Region: tt.Region, Resource: tt.Resource, Name: tt.Name})
	if err != nil {
		return tui.Plan{}, err
	}
	out := tui.Plan{ID: p.ID, Action: p.Action, Title: p.Title, Calls: p.Calls, Irreversible: p.Irreversible,
		Confirm: p.Confirm, Impact: p.Impact, Undo: p.Undo, Warnings: p.Warnings, LeftAlone: p.LeftAlone, Unsure: p.Unsure,
		Target: tui.Target{Kind: tui.TargetKind(p.Target.Kind), ID: p.Target.ID, ARN: p.Target.ARN, Region: p.Target.Region,
			Resource: p.Target.Resource, Name: p.Target.Name}}
	for _, s := range p.Steps {
		why := s.Why
		if s.Account != "" {
			// The console's confirmation names the account and role too.
			why += " — in account " + s.Account + " through " + s.Role
		}
		out.Steps = append(out.Steps, tui.PlanStep{Name: s.Name, Why: why, Calls: slices.Clone(s.Calls), Err: s.Err})
	}
	return out, nil
}

// Run implements tui.Containment: the plan is known by its id.
func (t tuiContainment) Run(ctx context.Context, p tui.Plan) error {
	return t.c.Run(ctx, incident.Plan{ID: p.ID})
}

var _ tui.Containment = tuiContainment{}

// consoleHunt is tui.Options.Hunt: warroom hunt --athena's run, in the
// session's home Region, journaled through the core's sink (the fold's
// dedupe rule, the parsed records handed to the fold), so the results
// reach the screen through the journal like any other event.
func consoleHunt(cfg huntConfig, sess *session.Session, account string, sink hunt.Sink) func(context.Context, string, func(string)) (string, error) {
	return func(ctx context.Context, filter string, progress func(string)) (string, error) {
		f, err := state.ParseFilter(filter)
		if err != nil {
			return "", err
		}
		q, err := hunt.Compile(f, cfg.table, time.Now())
		if err != nil {
			return "", err
		}
		region := sess.HomeRegion()
		res, err := runHunt(ctx, cfg, q, sess.Athena(region), region, account, sink, progress)
		if err != nil {
			return "", err
		}
		return res.summary(), nil
	}
}
