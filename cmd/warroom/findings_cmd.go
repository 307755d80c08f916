package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/findings"
	"github.com/warroom-ir/warroom/aws/regions"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newFindingsCmd) }

// findingsView is what `warroom findings` prints: each Region's answer,
// where GuardDuty is not enabled, and every finding with its ties.
type findingsView struct {
	ReadAt     time.Time               `json:"read_at"`
	Since      time.Time               `json:"since,omitzero"`
	Regions    []state.GuardDutyRegion `json:"regions"`
	NotEnabled []string                `json:"not_enabled"`
	Unread     []string                `json:"unread,omitempty"`
	Findings   []findingRow            `json:"findings"`
}

// findingRow is one finding in the output, with its severity's word and
// whether it belongs to a suspect family.
type findingRow struct {
	state.TiedFinding
	SeverityWord string `json:"severity_word"`
	Family       bool   `json:"family"`
}

func newFindingsCmd(e *env) *cobra.Command {
	var (
		f            awsFlags
		path, output string
		since        string
		suspects     []string
		regionsFlag  []string
		familyOnly   bool
		concurrency  int
	)
	c := &cobra.Command{
		Use:   "findings",
		Short: "Read GuardDuty's findings in every enabled Region, tie them to the suspect family, and journal them",
		Long: `findings reads Amazon GuardDuty in every enabled Region (or --regions): each Region's
detectors (ListDetectors), their findings updated since the incident began (--since,
else the journal's incident start; ListFindings page by page) and the findings
themselves (GetFindings, fifty at a time). A Region with no detector is said plainly:
GuardDuty is not enabled there, and it sees nothing the attacker does in it.

Each finding is tied to what of the incident it names: a key of a suspect family
(marked in the journal, or --suspect), a suspect principal, an instance a family key
launched, an address a family key called from (from the CloudTrail events in the
journal). The read is journaled as a guardduty fact, which the console and the report
show.

A Region that is denied, throttled or fails is named with AWS's error, and the rest
are read on. Exit 0 findings found, 1 none found (every Region read), 2 a Region could
not be read or nothing could run.`,
		Example: `  warroom findings --journal incident/journal.jsonl
  warroom findings --suspect AKIAEXAMPLE --family --output json | jq '.findings[] | {type, severity, ties}'`,
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
			a, err := startRead(ctx, e, &f, path, "findings")
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
			list := regionsFlag
			if len(list) == 0 {
				home := a.sess.HomeRegion()
				all, err := regions.List(ctx, a.sess.EC2(home), home)
				if err != nil {
					a.finish()
					return usageErr(err)
				}
				list = regions.Enabled(all)
			}
			gd := findings.Read(ctx, findings.SessionClient(a.sess), findings.Options{Regions: list, Since: sinceT,
				Concurrency: concurrency})
			if _, err := a.rec.Record(state.KindGuardDuty, gd); err != nil {
				a.finish()
				return usageErr(err)
			}
			if err := a.finish(); err != nil {
				return err
			}
			// The journal as it stands now, the read included: its events
			// say what each finding names of the family.
			s, _, err = replayJournal(e, a.rec.Path())
			if err != nil {
				return err
			}
			raws := state.NewRawReader(a.rec.Path())
			defer raws.Close()
			creators, problems := state.FindCreators(s.Events, raws.Raw)
			for _, p := range problems {
				fmt.Fprintf(e.stderr, "warning: creator not read: %s\n", cell(p.Error(), 200))
			}
			v := findingsView{ReadAt: gd.ReadAt, Since: gd.Since, Regions: gd.Regions, NotEnabled: []string{}, Findings: []findingRow{}}
			for _, r := range gd.Regions {
				switch r.Status {
				case state.GuardDutyNotEnabled:
					v.NotEnabled = append(v.NotEnabled, r.Region)
				case state.GuardDutyEnabled:
				default:
					v.Unread = append(v.Unread, r.Region+" "+r.Status)
				}
			}
			for _, t := range s.TiedFindings(s.SuspectSet(suspects...), creators) {
				if familyOnly && !t.Family() {
					continue
				}
				v.Findings = append(v.Findings, findingRow{TiedFinding: t, SeverityWord: t.SeverityWord(), Family: t.Family()})
			}
			if output == "json" {
				err = writeJSON(e.stdout, v)
			} else {
				err = printFindings(e.stdout, v)
			}
			if err != nil {
				return usageErr(err)
			}
			for _, r := range gd.Regions {
				if r.Error != "" {
					fmt.Fprintf(e.stderr, "GuardDuty %s in %s: %s\n", r.Status, r.Region, cell(r.Error, 300))
				}
			}
			switch {
			case len(v.Unread) > 0:
				return &exitError{code: exitUsage, quiet: true}
			case len(v.Findings) == 0:
				fmt.Fprintln(e.stderr, "nothing found")
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	journalFlag(c, &path, "journal to record to (default: a new incident folder here)")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	c.Flags().StringVar(&since, "since", "", "findings updated since: a duration back from now (6h) or a time (default: the incident's start; every finding when unknown)")
	c.Flags().StringSliceVar(&suspects, "suspect", nil, "also tie findings to this key's family or this principal ARN (repeatable)")
	c.Flags().StringSliceVar(&regionsFlag, "regions", nil, "read only these Regions (default: every enabled Region)")
	c.Flags().BoolVar(&familyOnly, "family", false, "list only the findings tied to a suspect family")
	c.Flags().IntVar(&concurrency, "concurrency", 4, "Regions read at once")
	return c
}

// printFindings writes the Regions' answers, then the findings, most
// severe first. Titles and names may be the attacker's: every cell is
// made safe for the terminal.
func printFindings(w io.Writer, v findingsView) error {
	enabled := 0
	for _, r := range v.Regions {
		if r.Status == state.GuardDutyEnabled {
			enabled++
		}
	}
	fmt.Fprintf(w, "GuardDuty read %s: enabled in %s", when(v.ReadAt), state.Plural(enabled, "Region"))
	if !v.Since.IsZero() {
		fmt.Fprintf(w, ", findings updated since %s", when(v.Since))
	}
	fmt.Fprintln(w)
	if len(v.NotEnabled) > 0 {
		fmt.Fprintf(w, "! GuardDuty is not enabled in %s: it sees nothing there\n", strings.Join(v.NotEnabled, ", "))
	}
	for _, r := range v.Unread {
		fmt.Fprintf(w, "✗ GuardDuty could not be read in %s\n", r)
	}
	fmt.Fprintln(w)
	if len(v.Findings) == 0 {
		fmt.Fprintln(w, "no findings")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SEV\tTYPE\tREGION\tKEY / INSTANCE\tREMOTE IP\tCOUNT\tLAST SEEN\tTIED\tTITLE")
	for _, r := range v.Findings {
		what := r.AccessKeyID
		if what == "" {
			what = r.InstanceID
		}
		var ties []string
		for _, t := range r.Ties {
			ties = append(ties, t.What)
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", strconv.FormatFloat(r.Severity, 'f', -1, 64), r.SeverityWord,
			cell(r.Type, 70), cell(r.Region, 20), cell(what, 32), cell(r.RemoteIP, 40), r.Count, when(r.LastSeen),
			cell(strings.Join(ties, ","), 30), cell(r.Title, 100))
	}
	return tw.Flush()
}
