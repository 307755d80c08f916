package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/contain"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newContainCmd) }

// containFlags are the flags every contain subcommand takes.
type containFlags struct {
	aws          awsFlags
	journal      string
	plan         bool
	yes          bool
	overrideSelf bool
	proceed      bool
	terminate    bool
	snapshot     bool
	wait, poll   time.Duration
	notBefore    string
	// The foothold actions' parameters.
	document, policyARN, inline string
	group                       string
	rules                       []string
	selectors                   string
	statementID, statement      string
	// undo runs the action's undo (account-scp --undo, sso-user --undo).
	undo bool
	// output is text or json (sso-user).
	output string
	// The role assumed in the member accounts a family reached.
	role orgFlags
}

func (f *containFlags) register(c *cobra.Command) {
	f.aws.register(c)
	journalFlag(c, &f.journal, "incident journal to record intents and results to (default: a new incident folder here)")
	c.Flags().BoolVar(&f.plan, "plan", false, "print the plan (the exact calls) and exit")
	c.Flags().BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	c.Flags().BoolVar(&f.overrideSelf, "override-self", false, "allow cutting off the credentials warroom itself runs on")
	c.Flags().BoolVar(&f.proceed, "proceed", false, "go ahead even if another responder is acting on the same target")
	// A family that reached other accounts is contained in each through
	// this role (account-scp spares it).
	c.Flags().StringVar(&f.role.roleName, "role-name", session.DefaultRoleName, "the role assumed in the other accounts of the organisation the family reached")
	c.Flags().StringVar(&f.role.externalID, "external-id", "", "the external id the role's trust asks for")
	c.Flags().StringVar(&f.role.mfaSerial, "mfa-serial", "", "the MFA device (serial or ARN) AssumeRole is called with; the code is asked on the terminal")
	f.aws.role = f.role.role
}

func newContainCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "contain",
		Short: "Contain a compromise: previewed, journaled and verified actions",
		Long: `contain runs one containment action, or the playbook that contains a leaked credential
and everything it made. Every action reads the target's current state first and shows
its plan: the exact AWS calls, in order, with the policy documents they send. It then
asks for confirmation (irreversible steps: type the target's name), journals its intent
(fsynced) before the first call, journals the result with AWS's request ids, and reads
the state back to verify it.

warroom refuses to cut off the credentials it runs on unless --override-self is given,
and asks before acting on a target another responder is acting on. An action whose
process died between intent and result is verified on the next start.

Exit status: 0 when every action holds, 1 when one failed or does not hold, 2 on
usage or I/O errors.`,
		Example: `  warroom contain credential AKIAIOSFODNN7EXAMPLE --journal incident/journal.jsonl --plan
  warroom contain deactivate-key AKIAIOSFODNN7EXAMPLE -j incident/journal.jsonl
  warroom contain revoke-sessions role/deploy -j incident/journal.jsonl --yes
  warroom contain terminate-instances i-0abc,i-0def --region ap-southeast-3 -j incident/journal.jsonl`,
	}
	for _, info := range contain.Actions {
		if info.Kinds[0] == contain.KindSourceIPs {
			continue // block-ip [--undo] takes addresses, not one target
		}
		c.AddCommand(newActionCmd(e, info))
	}
	c.AddCommand(newBlockIPCmd(e))
	c.AddCommand(newCredentialCmd(e, false), newCredentialCmd(e, true))
	return c
}

// containRun is what a contain subcommand holds while it runs.
type containRun struct {
	sess   *session.Session
	id     session.Identity
	rec    *state.Recorder
	path   string
	runner *contain.Runner
	in     *bufio.Reader
}

// startContain opens the session and the journal, and hands them to
// incident.OpenContain: the session journaled, the runner built, and the
// actions an earlier process left without a result verified (said here).
func startContain(ctx context.Context, e *env, f *containFlags) (*containRun, error) {
	sess, id, err := f.aws.session(ctx, e)
	if err != nil {
		return nil, err
	}
	rec, err := openIncident(e, f.journal)
	if err != nil {
		return nil, err
	}
	runner, resumed, err := incident.OpenContain(ctx, sess, id, rec, state.LocalActor(), sessionFact("contain", sess, id))
	if err != nil {
		rec.Close()
		return nil, usageErr(err)
	}
	for _, rs := range resumed {
		in := rs.Action.Intent
		if rs.Err != nil {
			fmt.Fprintf(e.stderr, "! %s %s: outcome unknown and cannot be verified: %s\n", in.Action, term(in.Target), term(rs.Err.Error()))
			continue
		}
		fmt.Fprintf(e.stderr, "! %s %s (%s): outcome was unknown; verified: %s %s\n", in.Action, term(in.Target), in.ActionID,
			holdsMark(rs.Verify.Holds), term(rs.Verify.Detail))
	}
	return &containRun{sess: sess, id: id, rec: rec, path: rec.Path(), runner: runner, in: bufio.NewReader(e.stdin)}, nil
}

// term makes attacker-controlled text safe for the terminal.
func term(s string) string { return sanitize.Terminal(s) }

func holdsMark(b bool) string {
	if b {
		return "✓ holds:"
	}
	return "✗ does not hold:"
}

// ask prints a question and reads one line.
func (r *containRun) ask(e *env, question string) (string, error) {
	fmt.Fprint(e.stderr, question)
	line, err := r.in.ReadString('\n')
	if err != nil && line == "" {
		if errors.Is(err, io.EOF) {
			return "", usageErr(errors.New("no answer on standard input (use --yes to run without asking)"))
		}
		return "", usageErr(err)
	}
	return strings.TrimSpace(line), nil
}

// confirm asks for confirmation: the typed name for irreversible plans,
// "yes" for the rest.
func (r *containRun) confirm(e *env, irreversible bool, name string) error {
	want := "yes"
	q := "Run this plan? Type yes to go ahead: "
	if irreversible {
		want = name
		q = fmt.Sprintf("✗ This cannot be undone. Type %s to go ahead: ", term(name))
	}
	got, err := r.ask(e, q)
	if err != nil {
		return err
	}
	if got != want {
		return &exitError{code: exitProblem, err: errors.New("not confirmed: nothing was done")}
	}
	return nil
}

func newActionCmd(e *env, info contain.ActionInfo) *cobra.Command {
	var f containFlags
	c := &cobra.Command{
		Use:   info.Name + " " + info.Target,
		Short: info.Short,
		Long: info.Short + ".\n\nUndo: " + info.Undo + ".\n\nThe plan shows the exact calls; --plan prints it and exits. An EC2 or Lambda target not in\n" +
			"--region (or given without it) is looked for where the journal saw it, then in every enabled Region;\n" +
			"the plan says where it was found. A target found nowhere, or that does not exist, is an error.",
		Example: actionExample(info.Name),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if f.output != "" && f.output != "text" && f.output != "json" {
				return usageErr(errOutputFormat)
			}
			opts := contain.Options{Snapshot: f.snapshot}
			if f.notBefore != "" {
				t, err := parseNotBefore(f.notBefore, time.Now())
				if err != nil {
					return usageErr(err)
				}
				opts.NotBefore = t
			}
			if err := f.actionOptions(e, &opts); err != nil {
				return usageErr(err)
			}
			r, err := startContain(ctx, e, &f)
			if err != nil {
				return err
			}
			defer r.rec.Close()
			// Without --region, a Regional action finds its resource's
			// Region (the journal's, then every enabled one) and says so.
			info := info
			if f.undo {
				// --undo runs the undoing action on the same target.
				if u, ok := contain.Info(info.Undo); ok {
					info = u
				}
			}
			t, err := contain.ParseArg(info.Name, args[0], f.aws.region)
			if err != nil {
				return usageErr(err)
			}
			if t.Region == "" && homeRegionActions[info.Name] {
				// These act in the Region given and fail naming it when
				// the resource is not there: without --region, the
				// session's.
				t.Region = r.sess.HomeRegion()
			}
			if info.Name == "undo-password-reset" {
				// The flag goes back to what the latest password-reset
				// found before it acted, as its result in the journal says.
				if led, _, err := state.ReadActions(r.path); err == nil {
					opts.PriorReset, opts.PriorResetKnown = contain.PriorReset(led.Actions, t.ID)
				}
			}
			a, err := contain.New(info.Name, t, opts)
			if err != nil {
				return usageErr(err)
			}
			if a, err = ssoUndoFromJournal(r.path, a); err != nil {
				return &exitError{code: exitProblem, err: err}
			}
			p, err := r.runner.Plan(ctx, a)
			if err != nil {
				// Say which action failed first: an error that starts with
				// the call ("iam:GetRole: …") reads badly once the error
				// box has capitalised it.
				if !strings.HasPrefix(err.Error(), info.Name+" ") {
					err = fmt.Errorf("%s %s: %w", info.Name, term(t.String()), err)
				}
				return &exitError{code: exitProblem, err: err}
			}
			if f.output == "json" {
				return r.runActionJSON(ctx, e, &f, a, p, t.Name())
			}
			printPlan(e.stdout, p, "")
			if f.plan {
				return nil
			}
			if p.Self && !f.overrideSelf {
				return &exitError{code: exitProblem, err: contain.ErrSelf}
			}
			if !f.yes && !p.Already {
				if err := r.confirm(e, p.HasIrreversible(), t.Name()); err != nil {
					return err
				}
			}
			o, err := r.run(ctx, e, &f, a, p)
			if err != nil {
				return err
			}
			return printOutcome(e.stdout, o)
		},
	}
	f.register(c)
	switch info.Name {
	case "terminate-instances":
		c.Flags().BoolVar(&f.snapshot, "snapshot", false, "snapshot the instances' EBS volumes for evidence first")
	case "revoke-sessions":
		c.Flags().StringVar(&f.notBefore, "not-before", "", `an existing revoke counts only if its cutoff is at or after this time ("now", RFC 3339, or a duration back)`)
	case "restore-trust":
		c.Flags().StringVar(&f.document, "document", "", "the known-good trust policy: a JSON file, or - for standard input (required)")
	case "detach-policy", "restore-policy":
		c.Flags().StringVar(&f.policyARN, "policy-arn", "", "the managed policy's ARN")
		c.Flags().StringVar(&f.inline, "inline", "", "the inline policy's name")
		c.MarkFlagsMutuallyExclusive("policy-arn", "inline")
		c.MarkFlagsOneRequired("policy-arn", "inline")
		if info.Name == "restore-policy" {
			c.Flags().StringVar(&f.document, "document", "", "with --inline: the policy document, a JSON file or - for standard input")
		}
	case "remove-from-group", "add-to-group":
		c.Flags().StringVar(&f.group, "group", "", "the group (required)")
		_ = c.MarkFlagRequired("group")
	case "revoke-ingress", "authorize-ingress":
		c.Flags().StringArrayVar(&f.rules, "rule", nil, `an ingress rule PROTO:PORT[-PORT]:CIDR ("tcp:22:0.0.0.0/0", "tcp:22:::/0", "all::10.0.0.0/8"); repeat for more (required)`)
		_ = c.MarkFlagRequired("rule")
	case "restore-event-selectors":
		c.Flags().StringVar(&f.selectors, "selectors", "", "the known-good EventSelectors list as put-event-selectors takes it: a JSON file, or - for standard input (default: every management event, read and write)")
	case "password-reset":
		c.Flags().BoolVar(&f.undo, "undo", false, "put the user's password-reset flag back to what the journal's latest password-reset found (undo-password-reset)")
	case "account-scp":
		c.Flags().BoolVar(&f.undo, "undo", false, "detach and delete the deny SCP warroom attached to the account (remove-account-scp)")
	case "sso-user", "restore-sso-user":
		if info.Name == "sso-user" {
			c.Flags().BoolVar(&f.undo, "undo", false, "lift warroom's deny on the user and create the account assignments the journal backed up again (restore-sso-user)")
		}
		c.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	case "remove-function-permission":
		c.Flags().StringVar(&f.statementID, "statement-id", "", "the Sid of the policy statement to remove (required)")
		_ = c.MarkFlagRequired("statement-id")
	case "add-function-permission":
		c.Flags().StringVar(&f.statement, "statement", "", "the policy statement as lambda get-policy shows it: a JSON file, or - for standard input (required)")
		_ = c.MarkFlagRequired("statement")
	}
	return c
}

// homeRegionActions act on a Regional resource in the Region given, the
// session's when none is: they do not search other Regions.
var homeRegionActions = map[string]bool{
	"revoke-ingress": true, "authorize-ingress": true, "start-logging": true, "stop-logging": true,
	"restore-event-selectors": true, "remove-function-permission": true, "add-function-permission": true,
}

// actionOptions reads the foothold actions' flags into o: documents from
// their files (or standard input for -), rules parsed.
func (f *containFlags) actionOptions(e *env, o *contain.Options) error {
	usedStdin := false
	read := func(flag, v string) (string, error) {
		if v == "" {
			return "", nil
		}
		if v == "-" {
			if usedStdin {
				return "", fmt.Errorf("--%s -: standard input is already read for another flag", flag)
			}
			if !f.yes {
				return "", fmt.Errorf("--%s -: a document on standard input needs --yes (the confirmation is read from standard input too)", flag)
			}
			usedStdin = true
			b, err := io.ReadAll(io.LimitReader(e.stdin, 1<<20))
			if err != nil {
				return "", fmt.Errorf("--%s -: %w", flag, err)
			}
			return string(b), nil
		}
		b, err := os.ReadFile(v)
		if err != nil {
			return "", fmt.Errorf("--%s: %w", flag, err)
		}
		return string(b), nil
	}
	var err error
	if o.Document, err = read("document", f.document); err != nil {
		return err
	}
	if o.Selectors, err = read("selectors", f.selectors); err != nil {
		return err
	}
	if o.Statement, err = read("statement", f.statement); err != nil {
		return err
	}
	o.PolicyARN, o.Inline, o.Group, o.StatementID = f.policyARN, f.inline, f.group, f.statementID
	for _, s := range f.rules {
		r, err := contain.ParseIngressRule(s)
		if err != nil {
			return err
		}
		o.Rules = append(o.Rules, r)
	}
	return nil
}

// actionExamples are example targets, one per action.
var actionExamples = map[string]string{
	"deactivate-key": "AKIAIOSFODNN7EXAMPLE", "reactivate-key": "AKIAIOSFODNN7EXAMPLE", "delete-key": "AKIAIOSFODNN7EXAMPLE",
	"rotate-key": "AKIAIOSFODNN7EXAMPLE", "revoke-sessions": "role/deploy", "unrevoke-sessions": "user/ci-deploy",
	"quarantine": "user/svc-monitoring", "unquarantine": "user/svc-monitoring", "delete-login-profile": "user/svc-monitoring",
	"password-reset": "user/alice.smith", "undo-password-reset": "user/alice.smith",
	"remove-mfa": "mfa/svc-monitoring:arn:aws:iam::123456789012:mfa/phone", "teardown-user": "user/svc-monitoring",
	"stop-instances": "i-0abc1234def567890 --region ap-southeast-3", "terminate-instances": "i-0abc1234def567890,i-0def --region ap-southeast-3 --snapshot",
	"cancel-spot": "sir-abcd1234 --region me-central-1", "delete-key-pair": "kali --region ap-southeast-3",
	"delete-function": "log-forwarder --region ap-southeast-3", "tag": "i-0abc1234def567890,sir-abcd1234 --region ap-southeast-3",
	"restore-trust": "role/deploy --document trust.json", "detach-policy": "group/admins --policy-arn arn:aws:iam::aws:policy/AdministratorAccess",
	"restore-policy": "user/eve --inline ops --document ops.json", "remove-from-group": "user/carol --group admins",
	"add-to-group": "user/carol --group admins", "revoke-ingress": "sg-0abc1234 --region eu-central-1 --rule tcp:22:0.0.0.0/0 --rule tcp:22:::/0",
	"authorize-ingress": "sg-0abc1234 --region eu-central-1 --rule tcp:443:0.0.0.0/0", "start-logging": "trail/management-events --region us-east-1",
	"stop-logging": "trail/management-events --region us-east-1", "restore-event-selectors": "trail/management-events --region us-east-1",
	"remove-function-permission": "function/log-forwarder --statement-id public --region ap-northeast-3",
	"add-function-permission":    "function/log-forwarder --statement statement.json --region ap-northeast-3",
	"account-scp":                "222222222222", "remove-account-scp": "222222222222",
	"sso-user": "alice --region us-east-1", "restore-sso-user": "alice --region us-east-1",
}

// actionExample is the --help example of an action.
func actionExample(name string) string {
	t := actionExamples[name]
	if t == "" {
		t = "TARGET"
	}
	return "  warroom contain " + name + " " + t + " -j incident/journal.jsonl --plan\n" +
		"  warroom contain " + name + " " + t + " -j incident/journal.jsonl"
}

// run carries the action out, asking before acting on a target another
// responder is acting on.
func (r *containRun) run(ctx context.Context, e *env, f *containFlags, a contain.Action, p *contain.Plan) (*contain.Outcome, error) {
	opts := contain.RunOptions{Confirmed: p, OverrideSelf: f.overrideSelf, Proceed: f.proceed}
	o, err := r.runner.Run(ctx, a, opts)
	var busy *contain.BusyError
	if errors.As(err, &busy) && !f.yes {
		ans, aerr := r.ask(e, term(busy.Error())+"\nGo ahead anyway? [y/N] ")
		if aerr != nil {
			return nil, aerr
		}
		if ans != "y" && ans != "yes" {
			return nil, &exitError{code: exitProblem, err: errors.New("not confirmed: nothing was done")}
		}
		opts.Proceed = true
		o, err = r.runner.Run(ctx, a, opts)
	}
	switch {
	case errors.Is(err, contain.ErrReadOnly):
		return nil, &exitError{code: exitProblem, err: errors.New("read-only session: nothing can be changed (drop --read-only to act)")}
	case err != nil:
		return nil, &exitError{code: exitProblem, err: err}
	}
	return o, nil
}

// parseNotBefore reads --not-before: "now", a time, or a duration back.
func parseNotBefore(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	return parseSince(s, now)
}

// printPlan writes a plan: title, warnings, findings, calls with their
// parameters (policy documents in full), undo.
func printPlan(w io.Writer, p *contain.Plan, indent string) {
	fmt.Fprintf(w, "%s%s\n", indent, term(p.Title))
	for _, s := range p.Warnings {
		fmt.Fprintf(w, "%s  ! %s\n", indent, term(s))
	}
	for _, s := range p.Findings {
		fmt.Fprintf(w, "%s  · %s\n", indent, term(s))
	}
	if p.Already {
		fmt.Fprintf(w, "%s  ✓ already in effect: no call to make\n", indent)
	}
	for i, c := range p.Calls {
		mark := ""
		if c.Irreversible {
			mark = "  ✗ irreversible"
		}
		where := ""
		if c.Region != "" {
			where = " in " + c.Region
		}
		fmt.Fprintf(w, "%s  %d. %s%s%s\n", indent, i+1, term(c.API), term(where), mark)
		for _, k := range sortedParams(c.Params) {
			fmt.Fprintf(w, "%s       %s: %s\n", indent, k, term(c.Params[k]))
		}
	}
	if p.Undo != "" {
		fmt.Fprintf(w, "%s  undo: %s\n", indent, term(p.Undo))
	}
}

func sortedParams(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// printOutcome prints what an action did; a failure or a state that does
// not hold is exit 1.
func printOutcome(w io.Writer, o *contain.Outcome) error {
	res := o.Result
	for _, c := range res.Calls {
		st := "✓"
		if c.Error != "" {
			st = "✗"
			if strings.HasPrefix(c.Error, "already in effect") {
				st = "✓"
			}
		}
		fmt.Fprintf(w, "  %s %s request %s", st, term(c.API), term(c.RequestID))
		if c.Error != "" {
			fmt.Fprintf(w, ": %s", term(c.Error))
		}
		fmt.Fprintln(w)
	}
	if o.NewKey != nil {
		// The one place a secret is shown: here, once, never journaled.
		fmt.Fprintf(w, "\n  New access key for %s (shown once; it is not in the journal — hand it over now):\n", term(o.NewKey.User))
		fmt.Fprintf(w, "    AccessKeyId:     %s\n    SecretAccessKey: %s\n\n", o.NewKey.AccessKeyID, o.NewKey.SecretAccessKey)
	}
	switch {
	case !res.OK:
		fmt.Fprintf(w, "✗ %s failed: %s (action %s)\n", o.Plan.Action, term(res.Error), o.ActionID)
	case res.Already:
		fmt.Fprintf(w, "✓ already in effect (action %s)\n", o.ActionID)
	default:
		fmt.Fprintf(w, "✓ done (action %s)\n", o.ActionID)
	}
	if o.Verify != nil {
		fmt.Fprintf(w, "%s %s\n", holdsMark(o.Verify.Holds), term(o.Verify.Detail))
	}
	if !res.OK || o.Verify == nil || !o.Verify.Holds {
		return &exitError{code: exitProblem, quiet: true}
	}
	return nil
}

// newCredentialCmd is the credential playbook, or with rolesOnly the
// "revoke-roles" action: revoke on every role the key's family assumed.
func newCredentialCmd(e *env, rolesOnly bool) *cobra.Command {
	var f containFlags
	c := &cobra.Command{
		Use:   "credential ACCESS_KEY_ID",
		Short: "Playbook: contain a leaked credential and everything its family made",
		Long: `credential plans, in one go, the containment of a suspect access key and its family
(the temporary keys it minted, recursively, and the keys it created), from the events
in the journal: deactivate the key and the keys it created; quarantine the users it
created; revoke the older sessions of its owner and of every role it assumed; delete
the console passwords it set and the MFA devices it enabled; cancel its spot requests
(then terminate their instances) and stop (--terminate: terminate) its instances in
every Region; tag what was touched with the incident id.

One confirmation covers the whole plan (type the key id when a step cannot be undone).
Steps run in order; a step that fails is shown and the others go on. The plan is built
from the journal's events and, read just now, CloudTrail's event history for every key of
the family in every Region, every principal and key, and every Region's resources; what
was made after the leak by someone CloudTrail does not name yet is listed as unsure. The
playbook then keeps reading the account back (--wait), containing what turns up, until
CloudTrail has delivered past its changes and every foothold reads back as neutralised.
Run it again at any time: every step is read back from AWS; one that someone undid is run
again and journaled as reverted.

Exit 0: the verdict, read back from AWS, is "contained". Exit 1: not contained or unsure
(what is open is listed). Exit 2: usage, or AWS or the journal could not be read.`,
		Example: `  warroom contain credential AKIAIOSFODNN7EXAMPLE -j incident/journal.jsonl --plan
  warroom contain credential AKIAIOSFODNN7EXAMPLE -j incident/journal.jsonl --terminate`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			key := args[0]
			if !strings.HasPrefix(key, "AKIA") && !strings.HasPrefix(key, "ASIA") {
				return usageErr(fmt.Errorf("%q is not an access key id (AKIA… or ASIA…)", term(key)))
			}
			if err := requireJournal(f.journal); err != nil {
				return usageErr(errors.New("the playbook reads the key's family from the journal's events: give --journal FILE"))
			}
			r, err := startContain(ctx, e, &f)
			if err != nil {
				return err
			}
			defer r.rec.Close()
			if err := markSuspect(r.rec, r.path, key, "contain credential"); err != nil {
				return err
			}
			fold, closeRaw := contain.JournalFold(r.path)
			defer closeRaw()
			opts := contain.ContainOptions{
				Credential: contain.CredentialOptions{Terminate: f.terminate, Snapshot: f.snapshot, RolesOnly: rolesOnly},
				Refresh:    contain.RefreshOptions{AccountID: r.id.AccountID},
				Run:        contain.RunOptions{OverrideSelf: f.overrideSelf, Proceed: f.proceed},
				Wait:       f.wait,
				Poll:       f.poll,
			}
			opts.Plan = func(round int, pb *contain.Playbook) {
				if round == 0 {
					printPlaybook(e.stdout, pb)
					return
				}
				fmt.Fprintf(e.stdout, "\nround %d: read the account again: %d steps, %d unsure\n", round+1, len(pb.Steps), len(pb.Unsure))
			}
			opts.Confirm = func(pb *contain.Playbook) bool {
				if f.plan {
					return false
				}
				if !f.yes {
					if err := r.confirm(e, pb.Irreversible(), key); err != nil {
						fmt.Fprintln(e.stderr, err)
						return false
					}
				}
				return true
			}
			opts.Progress = func(round int, so contain.StepOutcome) {
				if round > 0 && !so.Acted() && so.Reverted == "" && so.Err == nil && so.Holds() {
					return // later rounds print what changed
				}
				printStep(e.stdout, so)
			}
			v, _, err := r.runner.Contain(ctx, fold, key, opts)
			if errors.Is(err, contain.ErrNotConfirmed) {
				if f.plan {
					return nil
				}
				return &exitError{code: exitProblem, err: err}
			}
			if err != nil {
				return &exitError{code: exitProblem, err: err}
			}
			writeVerdict(e.stdout, v)
			if !v.Contained {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().DurationVar(&f.wait, "wait", 15*time.Minute, "keep reading the account back, and containing what turns up, until the verdict is \"contained\" or this long has passed (CloudTrail delivers about 5 minutes late)")
	c.Flags().DurationVar(&f.poll, "poll", 5*time.Second, "pause between rounds")
	if rolesOnly {
		c.Use = "revoke-roles ACCESS_KEY_ID"
		c.Short = "Revoke the older sessions of every role a key and its family assumed"
		c.Long = `revoke-roles finds, in the journal's events, every role the key and the temporary keys
it minted (recursively) assumed, and puts the revoke policy AWSRevokeOlderSessions on each:
role sessions issued before now are denied everything. One confirmation covers all roles.`
		c.Example = `  warroom contain revoke-roles AKIAIOSFODNN7EXAMPLE -j incident/journal.jsonl --plan
  warroom contain revoke-roles AKIAIOSFODNN7EXAMPLE -j incident/journal.jsonl`
		return c
	}
	c.Flags().BoolVar(&f.terminate, "terminate", false, "terminate the family's instances instead of stopping them")
	c.Flags().BoolVar(&f.snapshot, "snapshot", false, "with --terminate: snapshot EBS volumes for evidence first")
	return c
}

// printPlaybook writes every step's plan, and what is left alone.
func printPlaybook(w io.Writer, pb *contain.Playbook) {
	fam := pb.Family
	fmt.Fprintf(w, "%s — %d steps\n", term(pb.Title), len(pb.Steps))
	fmt.Fprintf(w, "  family: %s; owner %s; roles %s\n", term(strings.Join(fam.Keys, ", ")), term(orDash(fam.Owner)), term(orDash(strings.Join(fam.Roles, ", "))))
	for _, n := range pb.Notes {
		fmt.Fprintf(w, "  · %s\n", term(n))
	}
	accounts := pb.Family.Members != nil || slices.ContainsFunc(pb.Steps, func(st *contain.Step) bool { return st.Env != nil })
	if accounts {
		fmt.Fprintf(w, "  accounts: %s\n", term(strings.Join(pb.Family.Accounts(), ", ")))
	}
	for i, st := range pb.Steps {
		fmt.Fprintf(w, "\n[%d/%d] %s — %s\n", i+1, len(pb.Steps), st.Action.Name(), term(st.Why))
		if accounts {
			fmt.Fprintf(w, "  %s\n", term(stepWhere(st)))
		}
		if st.Err != nil {
			fmt.Fprintf(w, "  ✗ cannot plan: %s\n", term(st.Err.Error()))
			continue
		}
		printPlan(w, st.Plan, "  ")
	}
	if len(pb.LeftAlone) > 0 {
		fmt.Fprintln(w, "\nleft alone (stays open in the verdict):")
		for _, o := range pb.LeftAlone {
			fmt.Fprintf(w, "  ✗ %s\n", term(incident.FootholdLine(o)))
		}
	}
	if len(pb.Unsure) > 0 {
		fmt.Fprintln(w, "\nunsure: made after the leak, creator not yet in CloudTrail (not acted on; the verdict waits for CloudTrail):")
		for _, o := range pb.Unsure {
			fmt.Fprintf(w, "  ? %s\n", term(incident.FootholdLine(o)))
		}
	}
	if pb.Irreversible() {
		fmt.Fprintln(w, "\n✗ some steps cannot be undone")
	}
}

// stepWhere says which account a step acts in and with which role.
func stepWhere(st *contain.Step) string {
	if st.Env == nil {
		return "in the account warroom acts from, with its own credentials"
	}
	return "in account " + st.Env.Account + " through role " + st.Env.Role
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// printStep prints one playbook step's outcome.
func printStep(w io.Writer, so contain.StepOutcome) {
	head := fmt.Sprintf("[%d] %s %s", so.Index+1, so.Step.Action.Name(), term(so.Step.Action.Target().String()))
	if r := so.Step.Action.Target().Region; r != "" {
		head += " in " + r
	}
	if e := so.Step.Env; e != nil {
		head += " (account " + e.Account + ")"
	}
	switch {
	case so.Held != "":
		fmt.Fprintf(w, "%s: ✓ %s\n", head, term(so.Held))
		return
	case so.Reverted != "":
		fmt.Fprintf(w, "%s: ! %s; running it again\n", head, term(so.Reverted))
	}
	switch {
	case so.Err != nil:
		fmt.Fprintf(w, "%s: ✗ %s\n", head, term(so.Err.Error()))
	case !so.Outcome.Result.OK:
		fmt.Fprintf(w, "%s: ✗ failed: %s\n", head, term(so.Outcome.Result.Error))
	case so.Outcome.Verify != nil && !so.Outcome.Verify.Holds:
		fmt.Fprintf(w, "%s: ✗ does not hold: %s\n", head, term(so.Outcome.Verify.Detail))
	default:
		what := "✓ done"
		if so.Outcome.Result.Already {
			what = "✓ already in effect (read back now)"
		}
		detail := ""
		if so.Outcome.Verify != nil {
			detail = so.Outcome.Verify.Detail
		}
		fmt.Fprintf(w, "%s: %s; %s\n", head, what, term(detail))
	}
}

// writeVerdict prints a verdict read back from AWS.
func writeVerdict(w io.Writer, v state.Verdict) {
	fmt.Fprintf(w, "\nverdict: %s — %d of %d footholds read back as neutralised at %s\n", v.Word(), v.Held, v.Footholds, v.CheckedAt.UTC().Format(time.RFC3339))
	for _, o := range v.Open {
		fmt.Fprintf(w, "  ✗ open: %s\n", term(incident.FootholdLine(o)))
	}
	for _, o := range v.Unsure {
		fmt.Fprintf(w, "  ? unsure: %s\n", term(incident.FootholdLine(o)))
	}
}

// markSuspect journals key as suspect unless the journal marks it already.
func markSuspect(rec *state.Recorder, path, key, reason string) error {
	if s, _, err := state.Replay(path); err == nil {
		if _, ok := s.Suspects[key]; ok {
			return nil
		}
	}
	if _, err := rec.Record(state.KindSuspect, state.Suspect{AccessKeyID: key, Reason: reason}); err != nil {
		return usageErr(err)
	}
	return nil
}
