package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/advisor"
	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
	"github.com/warroom-ir/warroom/tui"
)

func init() { moreCommands = append(moreCommands, newAdvisorCmd, newConfigHistoryCmd) }

// reachReader reads principals' Access Advisor reports and resources'
// Config histories and journals each as a fact (when it has a journal).
// The console's Advisor and the two commands share it.
type reachReader struct {
	sess    *session.Session
	account string
	// rec journals the facts; nil prints only.
	rec interface {
		Record(state.Kind, any) (journal.Entry, error)
	}
	// read reads the journal's fold (the inventory, the key lineage);
	// nil when there is none.
	read func(func(*state.Store))
	opt  advisor.Options
}

// principals resolves what the responder named — a user or role ARN (a
// role session's ARN is its role's), or an access key id — to the IAM
// principals to report on; with family, every user and role the key's
// family acts as (state.Store.FamilyPrincipals; a principal's family is
// its keys' families).
func (r reachReader) principals(ctx context.Context, target string, family bool) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(arns ...string) {
		for _, a := range arns {
			if a != "" && !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	if p, ok := state.ParsePrincipal(target); ok {
		arn := target
		switch p.Kind {
		case state.PrincipalUser, state.PrincipalRole:
		case state.PrincipalAssumedRole:
			arn = fmt.Sprintf("arn:%s:iam::%s:role/%s", p.ARN.Partition, p.ARN.Account, p.Name)
		default:
			return nil, fmt.Errorf("%s is a %s: Access Advisor reports on users and roles", target, p.Kind)
		}
		add(arn)
		if family && r.read != nil {
			r.read(func(s *state.Store) {
				if s.Inventory == nil {
					return
				}
				for _, u := range s.Inventory.Users {
					if u.ARN == arn {
						for _, k := range u.Keys {
							add(s.FamilyPrincipals(k.ID)...)
						}
					}
				}
			})
		}
		return out, nil
	}
	if !inventory.ValidKeyID(target) {
		return nil, fmt.Errorf("%q is neither a user or role ARN nor an access key id", cell(target, 140))
	}
	if r.read != nil {
		r.read(func(s *state.Store) {
			fam := s.FamilyPrincipals(target)
			if len(fam) > 0 && !family {
				fam = fam[:1]
			}
			add(fam...)
		})
	}
	if len(out) == 0 && strings.HasPrefix(target, "AKIA") {
		ki, err := inventory.Whois(ctx, r.sess, target, r.account)
		if err != nil {
			return nil, err
		}
		if ki.UserName == "" {
			return nil, fmt.Errorf("cannot tell whose key %s is: %s", target, whoisWhy(ki))
		}
		add(fmt.Sprintf("arn:aws:iam::%s:user/%s", ki.Account, ki.UserName))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("cannot tell which user or role key %s acts as: the journal holds no inventory or lineage of it (name the principal's ARN)", target)
	}
	return out, nil
}

func whoisWhy(ki state.KeyInfo) string {
	if len(ki.Errors) > 0 {
		return ki.Errors[0].Error
	}
	if !ki.Ours {
		return "it is not this account's"
	}
	return "IAM did not name its user"
}

// reach reads and journals the report of each principal target names.
// Every report is returned, failed ones with their Error; err is set when
// none could be named or the journal failed.
func (r reachReader) reach(ctx context.Context, target string, family bool) ([]state.Reach, error) {
	arns, err := r.principals(ctx, target, family)
	if err != nil {
		return nil, err
	}
	var out []state.Reach
	for _, arn := range arns {
		rp, _ := advisor.Reach(ctx, r.sess.IAM(), arn, r.opt)
		if !inventory.ValidKeyID(target) {
			rp.Key = ""
		} else {
			rp.Key = target
		}
		if p, ok := state.ParsePrincipal(arn); ok && p.ARN.Account != r.account {
			rp.AccountID = p.ARN.Account
		}
		if r.rec != nil {
			if _, err := r.rec.Record(state.KindReach, rp); err != nil {
				return out, err
			}
		}
		out = append(out, rp)
	}
	return out, nil
}

// history reads and journals a resource's Config history in region (the
// home Region for IAM's global resources when region is empty).
func (r reachReader) history(ctx context.Context, region, typ, ref string) (state.ConfigHistory, error) {
	if typ == "" {
		typ = advisor.TypeOf(ref)
	}
	if typ == "" {
		return state.ConfigHistory{}, fmt.Errorf("cannot tell %q's AWS Config resource type: give --type (AWS::EC2::Instance, AWS::EC2::SecurityGroup, AWS::IAM::User, AWS::IAM::Role, …)", cell(ref, 140))
	}
	if region == "" {
		region = r.sess.HomeRegion()
	}
	id, name, err := advisor.ConfigID(ctx, r.sess.IAM(), typ, ref)
	var h state.ConfigHistory
	if err != nil {
		h = state.ConfigHistory{Region: region, ResourceType: typ, ResourceID: ref}
		var we *session.Error
		if errors.As(err, &we) {
			ce := we.CallError()
			h.Error = &ce
		}
	} else {
		h, err = advisor.History(ctx, r.sess.ConfigService(region), region, typ, id)
		h.Name = name
	}
	if r.rec != nil {
		if _, rerr := r.rec.Record(state.KindConfigHistory, h); rerr != nil {
			return h, rerr
		}
	}
	return h, err
}

// consoleAdvisor is tui.Advisor over a reachReader: b on a key reads its
// family's users and roles, on a principal that principal, on a resource
// its Config history in its Region.
type consoleAdvisor struct{ r reachReader }

func (a consoleAdvisor) Reach(ctx context.Context, t tui.Target) (string, error) {
	target, family := t.ARN, false
	if t.Kind == tui.TargetKey {
		target, family = t.ID, true
	}
	if target == "" {
		return "", fmt.Errorf("no ARN known for %s", t.ID)
	}
	got, err := a.r.reach(ctx, target, family)
	if err != nil {
		return "", err
	}
	failed := 0
	for _, rp := range got {
		if rp.Error != nil {
			failed++
		}
	}
	msg := fmt.Sprintf("reach of %s journaled", state.Plural(len(got), "principal"))
	if failed > 0 {
		return "", fmt.Errorf("%s, %d could not be read (the detail view says why)", msg, failed)
	}
	return msg, nil
}

func (a consoleAdvisor) ConfigHistory(ctx context.Context, t tui.Target) (string, error) {
	typ := advisor.ResourceTypes[t.Resource]
	if typ == "" {
		typ = advisor.TypeOf(t.ID)
	}
	h, err := a.r.history(ctx, t.Region, typ, t.ID)
	if err != nil {
		return "", err
	}
	return h.Summary(), nil
}

func newAdvisorCmd(e *env) *cobra.Command {
	var (
		f                   awsFlags
		path, output        string
		family, serviceOnly bool
		wait                time.Duration
	)
	c := &cobra.Command{
		Use:   "advisor PRINCIPAL_ARN|ACCESS_KEY_ID",
		Short: "Show what a principal or key's family could reach and what it used (IAM Access Advisor)",
		Long: `advisor asks IAM Access Advisor (iam:GenerateServiceLastAccessedDetails, then
iam:GetServiceLastAccessedDetails polled until the job is done) which services a user's or
role's policies allow and which it actually used, when, from which Region and as which entity:
the blast radius of a leaked credential before you decide what to contain.

Name a user or role ARN (a role session's ARN means its role), or an access key id: the key's
user (from the journal's inventory, else iam:GetAccessKeyLastUsed). With --family and a
journal, every user and role the key's family acts as (the roles it assumed, the users it
made keys for) is reported too. A job still IN_PROGRESS after --wait is reported as such.

With --journal (or $WARROOM_JOURNAL) each report is journaled as a principal.reach fact, for
the console's detail view and the report. Exit 0 every report read, 2 one could not be read
(each printed with the call, its class and AWS's words) or nothing could be named.`,
		Example: `  warroom advisor arn:aws:iam::123456789012:user/ci-deploy
  warroom advisor AKIAIOSFODNN7EXAMPLE --family --journal incident/journal.jsonl --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			r, done, err := openReachReader(ctx, e, &f, path, "advisor")
			if err != nil {
				return err
			}
			r.opt.ServiceLevel, r.opt.MaxWait = serviceOnly, wait
			got, err := r.reach(ctx, args[0], family)
			if derr := done(); err == nil {
				err = derr
			}
			if err != nil && len(got) == 0 {
				return usageErr(err)
			}
			if output == "json" {
				err = writeJSON(e.stdout, got)
			} else {
				err = printReach(e.stdout, got)
			}
			if err != nil {
				return usageErr(err)
			}
			for _, rp := range got {
				if rp.Error != nil {
					return &exitError{code: exitUsage, quiet: true}
				}
			}
			return nil
		},
	}
	f.register(c)
	journalFlag(c, &path, "journal to record the reports to and to read the key's family from (default: none, the reports are only printed)")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	c.Flags().BoolVar(&family, "family", false, "report on every user and role of the key's family (needs a journal)")
	c.Flags().BoolVar(&serviceOnly, "service-level", false, "services only (default: the actions AWS tracks too)")
	c.Flags().DurationVar(&wait, "wait", 0, "how long to wait for Access Advisor's job (default 1m)")
	return c
}

func newConfigHistoryCmd(e *env) *cobra.Command {
	var (
		f                 awsFlags
		path, output, typ string
	)
	c := &cobra.Command{
		Use:   "config-history RESOURCE",
		Short: "Show a resource's AWS Config history in its Region, or that Config is not recording there",
		Long: `config-history reads a resource's configuration items from AWS Config
(config:GetResourceConfigHistory, every page, newest first) in the Region given by --region
(the session's Region when absent; IAM users and roles are global resources, recorded in the
Region that records them). It first asks config:DescribeConfigurationRecorderStatus whether a
recorder records there, and says "AWS Config is not recording here" when none does.

RESOURCE is an instance id (i-…), a security group id (sg-…), a user or role ARN or name (with
--type), or any id with --type. With --journal (or $WARROOM_JOURNAL) the history is journaled as
a config.history fact. Exit 0 history found, 1 nothing found (Config not recording there, or the
resource never discovered), 2 could not read (the call, Region and class printed).`,
		Example: `  warroom config-history i-0abc1234def567890 --region eu-west-1
  warroom config-history arn:aws:iam::123456789012:user/backdoor --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			if typ == "" {
				if p, ok := state.ParsePrincipal(args[0]); ok && p.Kind == state.PrincipalRole {
					typ = "AWS::IAM::Role"
				}
			}
			r, done, err := openReachReader(ctx, e, &f, path, "config-history")
			if err != nil {
				return err
			}
			h, err := r.history(ctx, f.region, typ, args[0])
			if derr := done(); err == nil && derr != nil {
				return usageErr(derr)
			}
			if err != nil && h.ResourceType == "" {
				return usageErr(err)
			}
			if output == "json" {
				err = writeJSON(e.stdout, h)
			} else {
				err = printConfigHistory(e.stdout, h)
			}
			if err != nil {
				return usageErr(err)
			}
			switch {
			case h.Error != nil:
				return &exitError{code: exitUsage, quiet: true}
			case h.Recording != state.ConfigRecording || h.NotDiscovered || len(h.Items) == 0:
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	journalFlag(c, &path, "journal to record the history to (default: none, it is only printed)")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	c.Flags().StringVar(&typ, "type", "", "AWS Config resource type (default: from the id: i- instance, sg- security group, a user or role ARN)")
	return c
}

// openReachReader opens what a reach read needs: a session and, with a
// journal, its recorder (the session attached) and its fold.
func openReachReader(ctx context.Context, e *env, f *awsFlags, path, command string) (reachReader, func() error, error) {
	opt := advisor.Options{}
	if path == "" {
		sess, id, err := f.session(ctx, e)
		if err != nil {
			return reachReader{}, nil, err
		}
		return reachReader{sess: sess, account: id.AccountID, opt: opt}, func() error { return nil }, nil
	}
	a, err := startRead(ctx, e, f, path, command)
	if err != nil {
		return reachReader{}, nil, err
	}
	s, _, err := state.Open(path, state.OpenOptions{ReadOnly: true, Warn: e.stderr})
	if err != nil {
		a.finish()
		return reachReader{}, nil, usageErr(err)
	}
	read := func(fn func(*state.Store)) { fn(s) }
	return reachReader{sess: a.sess, account: a.id.AccountID, rec: a.rec, read: read, opt: opt}, a.finish, nil
}

// printReach writes each principal's services: used ones with when and
// where, then the allowed ones never used.
func printReach(w io.Writer, rs []state.Reach) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, r := range rs {
		if i > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintf(tw, "%s\n", cell(r.Principal, 200))
		switch {
		case r.Error != nil:
			fmt.Fprintf(tw, "  ✗ %s failed (%s): %s\n", r.Error.Call, r.Error.Class, cell(r.Error.Error, 300))
			continue
		case r.Status != state.JobCompleted:
			fmt.Fprintf(tw, "  ! job %s %s\n", r.JobID, r.Status)
			continue
		}
		fmt.Fprintf(tw, "  %d services allowed, %d used\n", len(r.Services), r.UsedCount())
		fmt.Fprintf(tw, "  SERVICE\tUSED\tLAST USED (UTC)\tREGION\tENTITY\tACTIONS\n")
		for _, s := range r.Services {
			used, last := "no", "-"
			if s.Used() {
				used, last = "yes", s.LastUsed.UTC().Format("2006-01-02 15:04:05")
			}
			var acts []string
			for _, a := range s.Actions {
				if !a.LastUsed.IsZero() {
					acts = append(acts, a.Name)
				}
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\n", cell(s.Namespace, 40), used, last, cell(s.Region, 30), cell(s.Entity, 120), cell(strings.Join(acts, ","), 200))
		}
	}
	return tw.Flush()
}

// printConfigHistory writes a history, newest item first.
func printConfigHistory(w io.Writer, h state.ConfigHistory) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("%s %s in %s\n", h.ResourceType, cell(h.ResourceID, 200), h.Region)
	switch {
	case h.Error != nil:
		p("  ✗ %s failed (%s): %s\n", h.Error.Call, h.Error.Class, cell(h.Error.Error, 300))
	case h.Recording != state.ConfigRecording:
		p("  AWS Config is not recording here (%s)\n", h.Recording)
	case h.NotDiscovered:
		p("  not discovered by AWS Config\n")
	case len(h.Items) == 0:
		p("  no configuration items\n")
	}
	for _, it := range h.Items {
		p("  %s UTC  %-20s %s\n", it.CaptureTime.UTC().Format("2006-01-02 15:04:05"), it.Status, cell(it.Configuration, 160))
	}
	return err
}
