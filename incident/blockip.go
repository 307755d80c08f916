package incident

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/state"
)

// TargetIPs is block-ip's target: source addresses or CIDR blocks, space
// or comma separated in Target.ID; empty means the suspect families'
// (contain.DefaultsFromFold).
const TargetIPs TargetKind = "ips"

// ActionBlockIP and ActionUnblockIP are the console's :block-ip and
// :block-ip --undo.
const (
	ActionBlockIP   = "block-ip"
	ActionUnblockIP = "unblock-ip"
)

// planBlockIP plans block-ip (or its undo) from the fold: the addresses
// given, or the suspect families'; the networks they opened; the
// responder's own addresses (ours), which the engine refuses to block.
func (c *Containment) planBlockIP(ctx context.Context, action string, t Target) (Plan, error) {
	if action != ActionBlockIP && action != ActionUnblockIP {
		return Plan{}, fmt.Errorf("%s does not apply to source IPs: block-ip does", action)
	}
	fold, closeRaw := c.planFold(ctx)
	defer closeRaw()
	var def contain.BlockDefaults
	if err := fold(func(s *state.Store, raw contain.Raw) error { def = contain.DefaultsFromFold(s, raw); return nil }); err != nil {
		return Plan{}, err
	}
	ips := strings.FieldsFunc(t.ID, func(r rune) bool { return r == ' ' || r == ',' })
	defaulted := len(ips) == 0
	if defaulted {
		ips = def.IPs
	}
	if len(ips) == 0 {
		return Plan{}, errors.New(action + ": no IP given, and the suspect families show no source address but AWS services' and warroom's own")
	}
	a, err := contain.New(action, contain.Target{Kind: contain.KindSourceIPs, IDs: ips},
		contain.Options{Networks: def.Networks, Responder: def.Responder})
	if err != nil {
		return Plan{}, err
	}
	p, err := c.runner.Plan(ctx, a)
	if err != nil {
		return Plan{}, err
	}
	t.ID = strings.Join(a.Target().IDs, " ")
	tp := c.offer(a, p, action, t)
	if defaulted && len(def.Owners) > 0 {
		tp.Warnings = append(tp.Warnings, "left out: "+strings.Join(def.Owners, ", ")+" called with the key before the incident began, likely its owner's application (give an address to block it anyway)")
	}
	for _, pr := range def.Problems {
		tp.Warnings = append(tp.Warnings, "journal: "+pr)
	}
	return tp, nil
}
