package incident

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/state"
)

// identityCenterLoop reads the home account's IAM Identity Center (in the
// session's Region) every Pacing.Inventory, journaling an identitycenter
// fact when it changes: its users and their access, "not enabled", or
// "not readable" with AWS's reason. A failure is a fact, never an end.
func (c *Core) identityCenterLoop(ctx context.Context) error {
	t := time.NewTicker(c.pace.Inventory)
	defer t.Stop()
	var last []byte
	for {
		ic := inventory.IdentityCenter(ctx, c.sess, c.sess.HomeRegion(), c.id.AccountID)
		if ctx.Err() != nil {
			return nil
		}
		cmp := ic
		cmp.TakenAt = time.Time{}
		b, _ := json.Marshal(cmp)
		if !bytes.Equal(b, last) {
			if _, err := c.rec.Record(state.KindIdentityCenter, ic); err != nil {
				return err
			}
			last = b
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// TargetSSOUser is an IAM Identity Center user, by user name.
const TargetSSOUser TargetKind = "sso-user"

// planSSOUser plans the containment of an Identity Center user (sso-user)
// or, when it is contained already (read just now), its undo,
// restore-sso-user, with the backup the journal's last sso-user result
// kept.
func (c *Containment) planSSOUser(ctx context.Context, action string, t Target) (Plan, error) {
	if action != ActionContainAll {
		return Plan{}, fmt.Errorf("%s applies to an IAM principal, not an Identity Center user: on its row, contain (C) plans sso-user", action)
	}
	var a contain.Action = &contain.ContainSSOUser{User: t.ID, Region: t.Region}
	p, err := c.runner.Plan(ctx, a)
	if err != nil {
		return Plan{}, err
	}
	name := "sso-user"
	if p.Already {
		ledger, _, err := state.ReadActions(c.path)
		if err != nil {
			return Plan{}, err
		}
		ru, err := contain.RestoreFromLedger(ledger, t.ID, t.Region)
		if err != nil {
			return Plan{}, err
		}
		a, name = ru, "restore-sso-user"
		if p, err = c.runner.Plan(ctx, a); err != nil {
			return Plan{}, err
		}
	}
	id := contain.NewActionID(time.Now())
	c.mu.Lock()
	c.pending[id] = pendingPlan{action: a, plan: p}
	c.mu.Unlock()
	t.Name = t.ID
	tp := Plan{ID: id, Action: name, Target: t, Title: p.Title, Calls: p.Calls, Irreversible: p.HasIrreversible(), Undo: p.Undo,
		Warnings: slices.Clone(p.Warnings)}
	for _, f := range p.Findings {
		tp.Warnings = append(tp.Warnings, "preflight: "+f)
	}
	if name == "sso-user" {
		tp.Undo = p.Undo + " — C on this user's row again"
	}
	return tp, nil
}
