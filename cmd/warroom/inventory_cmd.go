package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newInventoryCmd) }

// awsRead is what the commands that read AWS share: the session, who it
// is, and the journal they record what they read to.
type awsRead struct {
	sess *session.Session
	id   session.Identity
	rec  *state.Recorder
}

// startRead checks the AWS credentials, then opens (or creates) the
// journal and records who attached. Nothing is created when the
// credentials do not work.
func startRead(ctx context.Context, e *env, f *awsFlags, path, command string) (*awsRead, error) {
	sess, id, err := f.session(ctx, e)
	if err != nil {
		return nil, err
	}
	rec, err := openIncident(e, path)
	if err != nil {
		return nil, err
	}
	if err := incident.Attach(sess, rec, sessionFact(command, sess, id)); err != nil {
		rec.Close()
		return nil, usageErr(err)
	}
	return &awsRead{sess: sess, id: id, rec: rec}, nil
}

// finish syncs and closes the journal.
func (a *awsRead) finish() error {
	if err := a.rec.Close(); err != nil {
		return usageErr(err)
	}
	return nil
}

// checkOutput validates --output.
func checkOutput(o string) error {
	if o != "table" && o != "json" {
		return usageErr(fmt.Errorf("--output must be table or json, not %q", o))
	}
	return nil
}

// writeJSON writes v as indented JSON with every character that a terminal
// acts on or a reader cannot see escaped (encoding/json leaves C1 controls,
// DEL, bidi and zero-width characters raw): every JSON output goes through
// it or through sanitize.AppendEscapedJSON.
func writeJSON(w io.Writer, v any) error {
	jw := sanitize.NewJSONWriter(w)
	enc := json.NewEncoder(jw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return jw.Flush()
}

// cell makes attacker-controlled text safe for a terminal table cell.
func cell(s string, n int) string { return sanitize.Truncate(sanitize.Terminal(s), n) }

// when formats a time for a table, "-" when unknown.
func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.DateTime)
}

// mark returns word when b, else "".
func mark(b bool, word string) string {
	if b {
		return word
	}
	return ""
}

// parseSince reads --since: a duration back from now ("24h") or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("--since %q: a duration back from now must be positive", s)
		}
		return now.Add(-d).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", time.DateTime, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: give a duration (24h) or a time (2026-11-23T04:00:00Z)", s)
}

// familyView is one key's temporary-credential family with, for each
// member, whether a revoke already covers it.
type familyView struct {
	Key    string         `json:"key"`
	User   string         `json:"user"`
	Family []lineageEntry `json:"family"`
}

type lineageEntry struct {
	Key         string           `json:"key"`
	Issuer      string           `json:"issuer,omitempty"`
	Depth       int              `json:"depth"`
	Call        string           `json:"call,omitempty"`
	Role        string           `json:"role,omitempty"`
	SessionName string           `json:"session_name,omitempty"`
	Issued      time.Time        `json:"issued,omitzero"`
	Expires     time.Time        `json:"expires,omitzero"`
	Revocation  state.Revocation `json:"revocation"`
}

// families returns the key lineage of every access key in inv that minted
// temporary credentials, from the CloudTrail events in s.
func families(inv *state.Inventory, s *state.Store) []familyView {
	var out []familyView
	for _, u := range inv.Users {
		for _, k := range u.Keys {
			fam := s.Events.Family(k.ID)
			if len(fam) < 2 {
				continue
			}
			fv := familyView{Key: k.ID, User: u.Name}
			for _, lg := range fam {
				fv.Family = append(fv.Family, lineageEntry{
					Key: lg.Key, Issuer: lg.Issuer, Depth: lg.Depth, Call: lg.Call, Role: lg.RoleARN, SessionName: lg.SessionName,
					Issued: lg.MintedAt, Expires: lg.Expires, Revocation: state.RevokeCoverage(inv, lg),
				})
			}
			out = append(out, fv)
		}
	}
	return out
}

func newInventoryCmd(e *env) *cobra.Command {
	var (
		f             awsFlags
		of            orgFlags
		path, output  string
		since         string
		concurrency   int
		skipReport    bool
		reportTimeout time.Duration
	)
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Read the account's users, keys, roles and root, and journal them",
		Long: `inventory reads every IAM user with each access key (status, created, last used),
console password, MFA devices, groups and policies (admin-equivalent ones flagged),
every role with its trust policy (principals outside the account flagged), and the
root user from the credential report. Principals, keys and MFA devices created after
the incident began (--since, else the journal's incident start) are marked NEW.
With --read-only the credential report IAM already holds is read, never generated
(CloudTrail records GenerateCredentialReport as a write): without one, root is unknown.

When the journal holds CloudTrail events, each key that minted temporary credentials
is shown with its family (GetSessionToken, GetFederationToken, AssumeRole, role
chaining), with issue and expiry times and whether a revoke policy already covers each.

The snapshot is journaled as an inventory fact. A call that fails is listed with why,
and the rest of the snapshot goes on; the exit code is then 1.`,
		Example: `  warroom inventory --journal incident/journal.jsonl
  warroom inventory --since 6h --output json | jq '.inventory.users[] | select(.admin)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			sinceT, err := parseSince(since, time.Now())
			if err != nil {
				return usageErr(err)
			}
			ctx := cmd.Context()
			a, err := startRead(ctx, e, &f, path, "inventory")
			if err != nil {
				return err
			}
			s, _, err := replayJournal(e, a.rec.Path())
			if err != nil {
				a.finish()
				return err
			}
			if sinceT.IsZero() {
				sinceT = s.Incident.Began
			}
			opts := inventory.Options{Since: sinceT, AccountID: a.id.AccountID, Concurrency: concurrency, ReportWait: reportTimeout}
			if skipReport {
				opts.ReportWait = -1
			}
			inv := inventory.Collect(ctx, a.sess, opts)
			if _, err := a.rec.Record(state.KindInventory, inv); err != nil {
				a.finish()
				return usageErr(err)
			}
			if err := readMembers(ctx, e.stderr, a, &of); err != nil {
				a.finish()
				return err
			}
			if err := a.finish(); err != nil {
				return err
			}
			fams := families(&inv, s)
			if output == "json" {
				err = writeJSON(e.stdout, struct {
					Inventory state.Inventory `json:"inventory"`
					Lineage   []familyView    `json:"lineage,omitempty"`
				}{inv, fams})
			} else {
				err = printInventory(e.stdout, &inv, fams)
			}
			if err != nil {
				return usageErr(err)
			}
			if len(inv.Errors) > 0 {
				fmt.Fprintf(e.stderr, "%d AWS calls failed: the inventory is partial\n", len(inv.Errors))
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	of.register(c, &f)
	journalFlag(c, &path, "journal to record to (default: a new incident folder here)")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	c.Flags().StringVar(&since, "since", "", "mark what was created after this as NEW: a duration back from now (6h) or a time (default: the incident's start)")
	c.Flags().IntVar(&concurrency, "concurrency", 8, "per-user and per-role calls in flight")
	c.Flags().BoolVar(&skipReport, "no-credential-report", false, "do not generate and read the credential report (root user)")
	c.Flags().DurationVar(&reportTimeout, "report-timeout", 30*time.Second, "how long to wait for the credential report")
	return c
}

// printInventory writes the inventory as tables: users, keys, roles, root,
// key lineage, failed calls.
func printInventory(w io.Writer, inv *state.Inventory, fams []familyView) error {
	var errs []error
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	flush := func() {
		errs = append(errs, tw.Flush())
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "account %s, taken %s", inv.AccountID, when(inv.TakenAt))
	if !inv.Since.IsZero() {
		fmt.Fprintf(w, ", NEW = created after %s", when(inv.Since))
	}
	fmt.Fprint(w, "\n\n")

	users := append([]state.User(nil), inv.Users...)
	sort.SliceStable(users, func(i, j int) bool {
		if users[i].New != users[j].New {
			return users[i].New
		}
		if users[i].Admin != users[j].Admin {
			return users[i].Admin
		}
		return users[i].Name < users[j].Name
	})
	fmt.Fprintln(tw, "USER\tFLAGS\tCREATED\tKEYS\tPASSWORD\tMFA\tGROUPS\tPOLICIES")
	for _, u := range users {
		var pols []string
		for _, p := range u.Policies {
			n := p.Name
			if p.Admin {
				n = "▲" + n
			}
			pols = append(pols, n)
		}
		pw := "-"
		if u.ConsolePassword {
			pw = "yes, last used " + when(u.PasswordLastUsed)
		}
		flags := strings.TrimSpace(mark(u.New, "NEW ") + mark(u.Admin, "ADMIN ") + mark(u.Boundary != "", "boundary"))
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\t%s\t%s\n", cell(u.Name, 40), flags, when(u.Created), len(u.Keys), pw, len(u.MFA),
			cell(strings.Join(u.Groups, ","), 40), cell(strings.Join(pols, ","), 80))
	}
	flush()

	fmt.Fprintln(tw, "ACCESS KEY\tUSER\tSTATUS\tFLAGS\tCREATED\tLAST USED\tSERVICE\tREGION")
	for _, u := range users {
		for _, k := range u.Keys {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(k.ID, 32), cell(u.Name, 40), cell(k.Status, 10), mark(k.New, "NEW"),
				when(k.Created), when(k.LastUsed), cell(k.LastService, 30), cell(k.LastRegion, 20))
		}
		for _, m := range u.MFA {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\t\t\n", cell(m.Serial, 60), cell(u.Name, 40), "MFA", mark(m.New, "NEW"), when(m.Enabled))
		}
	}
	flush()

	fmt.Fprintln(tw, "ROLE\tFLAGS\tCREATED\tLAST USED\tMAX SESSION\tEXTERNAL TRUST")
	for _, r := range inv.Roles {
		flags := strings.TrimSpace(mark(r.New, "NEW ") + mark(r.Admin, "ADMIN ") + mark(r.ServiceLinked, "service-linked ") +
			mark(r.IdentityCenter, "identity-center"))
		ext := "-"
		if len(r.External) > 0 {
			ext = "! " + strings.Join(r.External, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(r.Name, 60), flags, when(r.Created), when(r.LastUsed),
			time.Duration(r.MaxSession)*time.Second, cell(ext, 100))
	}
	flush()

	if inv.Root != nil {
		mfa := "✗ no MFA"
		if inv.Root.MFA {
			mfa = "✓ MFA"
		}
		fmt.Fprintf(w, "root: %s, %d active access keys, password last used %s, key last used %s\n\n",
			mfa, inv.Root.AccessKeys, when(inv.Root.PasswordLastUsed), when(inv.Root.KeyLastUsed))
	} else {
		for _, ce := range inv.Errors {
			if ce.Call == "iam:GetCredentialReport" || ce.Call == "iam:GenerateCredentialReport" {
				fmt.Fprintf(w, "root: unknown: %s\n\n", cell(ce.Error, 200))
				break
			}
		}
	}

	for _, fv := range fams {
		fmt.Fprintf(w, "lineage of %s (%s):\n", cell(fv.Key, 32), cell(fv.User, 40))
		fmt.Fprintln(tw, "  KEY\tCALL\tISSUED\tEXPIRES\tREVOKED")
		for _, le := range fv.Family[1:] {
			rv := "✗ " + le.Revocation.Reason
			if le.Revocation.Covered {
				rv = "✓ by " + le.Revocation.Policy
			}
			call := le.Call
			if le.Role != "" {
				call += " " + le.Role
			}
			fmt.Fprintf(tw, "  %s%s\t%s\t%s\t%s\t%s\n", strings.Repeat("  ", le.Depth-1), cell(le.Key, 32), cell(call, 80),
				when(le.Issued), when(le.Expires), cell(rv, 80))
		}
		flush()
	}

	if len(inv.Errors) > 0 {
		fmt.Fprintln(tw, "FAILED CALL\tON\tCLASS\tERROR")
		for _, ce := range inv.Errors {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ce.Call, cell(ce.Target, 60), ce.Class, cell(ce.Error, 120))
		}
		flush()
	}
	return errors.Join(errs...)
}
