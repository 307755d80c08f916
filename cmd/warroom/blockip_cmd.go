package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/state"
)

// blockIPOutput is what `contain block-ip --output json` prints.
type blockIPOutput struct {
	Action    string           `json:"action"` // block-ip or unblock-ip
	IPs       []string         `json:"ips"`
	Responder []string         `json:"responder_ips"`
	Networks  []contain.NetRef `json:"networks"`
	// LeftOut are the family's addresses left out of the default because
	// they called with its key before the incident began (its owner's
	// application, likely).
	LeftOut  []string            `json:"left_out_owner_ips,omitempty"`
	Plan     *jsonPlan           `json:"plan,omitempty"`
	ActionID string              `json:"action_id,omitempty"`
	Result   *state.ActionResult `json:"result,omitempty"`
	Verify   *state.ActionVerify `json:"verify,omitempty"`
	Error    string              `json:"error,omitempty"`
	Problems []string            `json:"problems,omitempty"`
}

// newBlockIPCmd is `contain block-ip IP... [--principal ARN...] [--undo]`.
func newBlockIPCmd(e *env) *cobra.Command {
	var f containFlags
	var principals, networks []string
	var output string
	c := &cobra.Command{
		Use:   "block-ip [IP|CIDR ...]",
		Short: "Deny requests from the attacker's source IPs (aws:SourceIp deny on users and roles, network ACL deny where it opened access)",
		Long: `block-ip denies every request from the given source addresses or CIDR blocks: an inline
policy ` + contain.DenyIPsPolicyName + ` (Deny * on * when aws:SourceIp is one of them) on the principals chosen
with --principal (default: every user and role of the account; service-linked and IAM
Identity Center roles cannot take an inline policy and are skipped, the plan says which), and,
on the VPCs where the suspect families opened security-group ingress or launched instances
(or those given with --network), a network ACL deny entry for each address, in and out, at
the lowest free rule numbers. With no address given, it blocks the source addresses of the
suspect families' events in the journal (not AWS service names, not warroom's own).

It refuses — no override — an address or block that covers the responder's own: the
source address CloudTrail records for warroom's own calls (the journal's "ours" events and
CloudTrail's event history for the session's key). With its own address denied, warroom
could not act again, not even to undo the block. --undo lifts the block again.

Exit status: 0 when the block holds (read back), 1 when refused, failed or not holding,
2 on usage or I/O errors.`,
		Example: `  warroom contain block-ip -j incident/journal.jsonl --plan
  warroom contain block-ip 203.0.113.7 198.51.100.0/24 --principal user/legacy-reporting -j incident/journal.jsonl
  warroom contain block-ip 203.0.113.7 --undo -j incident/journal.jsonl --yes --output json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if output != "text" && output != "json" {
				return usageErr(fmt.Errorf("--output %q: want text or json", output))
			}
			name := "block-ip"
			if f.undo {
				name = "unblock-ip"
			}
			opts := contain.Options{}
			for _, p := range principals {
				t, err := contain.ParseArg("quarantine", p, "")
				if err != nil {
					return usageErr(err)
				}
				if t.Kind != contain.KindUser && t.Kind != contain.KindRole {
					return usageErr(fmt.Errorf("--principal %s: want a user or role (user/NAME, role/NAME or its ARN)", term(p)))
				}
				opts.Principals = append(opts.Principals, t)
			}
			for _, n := range networks {
				ref, err := contain.ParseNetRef(n)
				if err != nil {
					return usageErr(err)
				}
				opts.Networks = append(opts.Networks, ref)
			}
			var ips []string
			for _, a := range args {
				c, err := contain.ParseBlockIP(a)
				if err != nil {
					return usageErr(err)
				}
				ips = append(ips, c)
			}
			r, err := startContain(ctx, e, &f)
			if err != nil {
				return err
			}
			defer r.rec.Close()
			// The defaults, from the journal as it stands.
			fold, closeRaw := contain.JournalFold(r.path)
			var def contain.BlockDefaults
			ferr := fold(func(s *state.Store, raw contain.Raw) error { def = contain.DefaultsFromFold(s, raw); return nil })
			_ = closeRaw()
			if ferr != nil {
				return usageErr(fmt.Errorf("journal %s: %w", term(r.path), ferr))
			}
			var leftOut []string
			if len(ips) == 0 {
				ips, leftOut = def.IPs, def.Owners
			}
			if len(networks) == 0 {
				opts.Networks = def.Networks
			}
			opts.Responder = def.Responder
			out := blockIPOutput{Action: name, IPs: ips, Responder: def.Responder, Networks: opts.Networks, LeftOut: leftOut, Problems: def.Problems}
			if out.IPs == nil {
				out.IPs = []string{}
			}
			if out.Networks == nil {
				out.Networks = []contain.NetRef{}
			}
			fail := func(err error) error {
				if output == "json" {
					out.Error = err.Error()
					if werr := writeJSON(e.stdout, out); werr != nil {
						return usageErr(werr)
					}
					return &exitError{code: exitProblem, quiet: true}
				}
				return &exitError{code: exitProblem, err: err}
			}
			if len(ips) == 0 {
				return fail(errors.New(name + ": no IP given, and the journal's suspect families show no source address but AWS services' and warroom's own"))
			}
			a, err := contain.New(name, contain.Target{Kind: contain.KindSourceIPs, IDs: ips}, opts)
			if err != nil {
				return usageErr(err)
			}
			p, err := r.runner.Plan(ctx, a)
			if err != nil {
				return fail(err)
			}
			out.Plan = planJSONOf(p)
			if output == "text" {
				printPlan(e.stdout, p, "")
				if len(leftOut) > 0 {
					fmt.Fprintf(e.stdout, "  left out: %s called with the key before the incident began, likely its owner's application (name an address to block it anyway)\n", term(strings.Join(leftOut, ", ")))
				}
				for _, pr := range def.Problems {
					fmt.Fprintf(e.stdout, "  ? %s\n", term(pr))
				}
			}
			if f.plan {
				if output == "json" {
					return writeJSON(e.stdout, out)
				}
				return nil
			}
			if !f.yes && !p.Already {
				if err := r.confirm(e, p.HasIrreversible(), ""); err != nil {
					return err
				}
			}
			o, err := r.run(ctx, e, &f, a, p)
			if err != nil {
				var xe *exitError
				if errors.As(err, &xe) && xe.err != nil {
					return fail(xe.err)
				}
				return err
			}
			if output == "text" {
				return printOutcome(e.stdout, o)
			}
			out.ActionID, out.Result, out.Verify, out.Plan = o.ActionID, &o.Result, o.Verify, planJSONOf(o.Plan)
			if err := writeJSON(e.stdout, out); err != nil {
				return usageErr(err)
			}
			if !o.Result.OK || o.Verify == nil || !o.Verify.Holds {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().StringArrayVar(&principals, "principal", nil, "a user or role to put the deny on (user/NAME, role/NAME or an ARN); repeat for more (default: every user and role)")
	c.Flags().StringArrayVar(&networks, "network", nil, "REGION/sg-…, REGION/i-… or REGION/vpc-…: deny on that VPC's network ACLs; repeat for more (default: where the suspect families opened ingress or launched instances)")
	c.Flags().BoolVar(&f.undo, "undo", false, "lift the block (unblock-ip): take the addresses out of the policies and delete the deny entries")
	c.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return c
}
