package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newPasswordsCmd, newQuarantineCmd) }

// passwordList is what `warroom passwords --output json` prints.
type passwordList struct {
	Since   time.Time              `json:"since,omitzero"`
	Changes []state.PasswordChange `json:"changes"`
	// Problems are records that could not be read (the rest were).
	Problems []string `json:"problems,omitempty"`
}

func newPasswordsCmd(e *env) *cobra.Command {
	var path, output, since string
	c := &cobra.Command{
		Use:   "passwords",
		Short: "List console passwords created or changed during the incident, and by whom (root included)",
		Long: `passwords reads the CloudTrail events in a journal and lists every console password
created or changed since the incident began (or --since), oldest first, with who did it:
iam CreateLoginProfile and UpdateLoginProfile (someone set a user's password, or its
reset flag), iam ChangePassword (a user changed their own), and signin PasswordUpdated
and PasswordRecoveryCompleted (the root user's password). warroom's own password resets
are marked ours. No password is ever in a record.

Exit status: 0 when none were found, 1 when some were (or a record could not be read),
2 when the journal could not be read.`,
		Example: `  warroom passwords -j incident/journal.jsonl
  warroom passwords -j incident/journal.jsonl --since 24h --output json | jq '.changes[] | select(.root)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireJournal(path); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			s, _, err := replayJournal(e, path)
			if err != nil {
				return err
			}
			from := s.Incident.Began
			if since != "" {
				t, err := parseNotBefore(since, time.Now())
				if err != nil {
					return usageErr(fmt.Errorf("--since: %w", err))
				}
				from = t
			}
			raws := state.NewRawReader(path)
			changes, problems := state.FindPasswordChanges(s.Events, from, time.Time{}, raws.Raw)
			l := passwordList{Since: from, Changes: changes}
			if l.Changes == nil {
				l.Changes = []state.PasswordChange{}
			}
			for _, p := range problems {
				l.Problems = append(l.Problems, p.Error())
			}
			if output == "json" {
				if err := writeJSON(e.stdout, l); err != nil {
					return usageErr(err)
				}
			} else {
				printPasswords(e, l)
			}
			if len(changes) > 0 || len(problems) > 0 {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	journalFlag(c, &path, "journal to read")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	c.Flags().StringVar(&since, "since", "", `list changes from this time ("now", RFC 3339, or a duration back; default: when the incident began, else everything)`)
	return c
}

func printPasswords(e *env, l passwordList) {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tUSER\tEVENT\tBY\tIP\tRESET AT NEXT SIGN-IN")
	for _, c := range l.Changes {
		reset := ""
		if c.ResetRequired != nil {
			reset = fmt.Sprint(*c.ResetRequired)
		}
		by := c.By
		if c.Ours {
			by += " (ours)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Time.UTC().Format(time.DateTime), term(c.User), term(c.Event), term(by), term(c.SourceIP), reset)
	}
	_ = tw.Flush()
	for _, p := range l.Problems {
		fmt.Fprintf(e.stderr, "! %s\n", term(p))
	}
	fmt.Fprintf(e.stderr, "%d password creations or changes\n", len(l.Changes))
}

// quarantineReport is what `warroom quarantine --output json` prints.
type quarantineReport struct {
	Sightings []state.QuarantineSighting `json:"sightings"`
	// Coverage is, per policy seen, what the footholds' actions it
	// denies and does not.
	Coverage []state.QuarantineCoverage `json:"coverage,omitempty"`
	Problems []string                   `json:"problems,omitempty"`
}

func newQuarantineCmd(e *env) *cobra.Command {
	var path, output string
	c := &cobra.Command{
		Use:   "quarantine",
		Short: "Show users AWS quarantined (AWSCompromisedKeyQuarantineV2/V3) and what that does and does not deny",
		Long: `quarantine reads a journal for AWS's own quarantine: a user with an
AWSCompromisedKeyQuarantine managed policy attached in the latest inventory, and the
iam:AttachUserPolicy that attached it in CloudTrail (AWS's own is made from "AWS Internal").
AWS attaches it when it finds a key in public; it denies a fixed list of actions, not
everything, so it is where containment starts. For each policy seen it says which of the
calls attackers use for footholds it already denies and which it does NOT (sts:AssumeRole,
ec2:AuthorizeSecurityGroupIngress, cloudtrail:StopLogging …).

Exit status: 0 when no quarantine was found, 1 when one was, 2 when the journal could
not be read.`,
		Example: `  warroom quarantine -j incident/journal.jsonl
  warroom quarantine -j incident/journal.jsonl --output json | jq '.coverage[].not_denied'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireJournal(path); err != nil {
				return err
			}
			if err := checkOutput(output); err != nil {
				return err
			}
			s, _, err := replayJournal(e, path)
			if err != nil {
				return err
			}
			r := buildQuarantineReport(s, state.NewRawReader(path).Raw)
			if output == "json" {
				if err := writeJSON(e.stdout, r); err != nil {
					return usageErr(err)
				}
			} else {
				printQuarantine(e, r)
			}
			if len(r.Sightings) > 0 || len(r.Problems) > 0 {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	journalFlag(c, &path, "journal to read")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return c
}

// buildQuarantineReport gathers the sightings (CloudTrail first, then the
// inventory) and each policy's coverage.
func buildQuarantineReport(s *state.Store, raw func(state.EventRef) ([]byte, error)) quarantineReport {
	ct, problems := state.FindQuarantines(s.Events, raw)
	r := quarantineReport{Sightings: append(ct, s.InventoryQuarantines()...)}
	if r.Sightings == nil {
		r.Sightings = []state.QuarantineSighting{}
	}
	for _, p := range problems {
		r.Problems = append(r.Problems, p.Error())
	}
	seen := map[string]bool{}
	for _, sg := range r.Sightings {
		if !seen[sg.ARN] {
			seen[sg.ARN] = true
			r.Coverage = append(r.Coverage, state.CoverActions(sg.ARN, state.FootholdActions()))
		}
	}
	return r
}

func printQuarantine(e *env, r quarantineReport) {
	if len(r.Sightings) == 0 {
		fmt.Fprintln(e.stdout, "No AWS quarantine policy seen in the journal's inventory or CloudTrail events.")
	}
	for _, sg := range r.Sightings {
		by := ""
		if sg.By != "" {
			by = " by " + sg.By
		}
		fmt.Fprintf(e.stdout, "▲ %s: %s attached%s (%s, %s)\n", term(sg.User), term(sg.Policy), term(by), sg.Source, sg.At.UTC().Format(time.DateTime))
	}
	for _, c := range r.Coverage {
		fmt.Fprintf(e.stdout, "  %s\n", term(c.String()))
	}
	if len(r.Sightings) > 0 {
		fmt.Fprintln(e.stdout, "  AWS's quarantine is not containment: run the credential playbook (warroom contain credential KEY).")
	}
	for _, p := range r.Problems {
		fmt.Fprintf(e.stderr, "! %s\n", term(p))
	}
}
