package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/report"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newReportCmd) }

// Like replay, report is offline: it reads the journal and nothing else.
func newReportCmd(e *env) *cobra.Command {
	var format, out string
	var force bool
	c := &cobra.Command{
		Use:   "report FILE",
		Short: "Write the post-incident report from a journal",
		Long: `report folds the journal, offline, into the post-incident record: a summary (who, when,
account, the attacker's first event, time to each containment step), the timeline of
significant events (crediting the detection rules that flag them), every action with its
outcome and AWS request ids, the credential family and what became of each key, the
resources found per Region and what was done to them, the notes, what is still open, and the
journal's head hash and whether the chain verified. Text from CloudTrail is escaped for the
format: HTML-escaped in html; no markup, link or formula in md; JSON strings in json.

A journal that does not verify is reported up to the break, says so, and exits 1.

--output never writes over an existing file unless --force is given, never over an incident
journal (not even with --force), and never through a symlink.`,
		Example: `  warroom report incident/journal.jsonl -o incident/report.md
  warroom report incident/journal.jsonl --format html -o incident/report.html
  warroom report incident/journal.jsonl --format json | jq .summary`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			switch format {
			case report.FormatMarkdown, report.FormatHTML, report.FormatJSON:
			default:
				return usageErr(fmt.Errorf("--format %q: want md, html or json", format))
			}
			// The same fold as replay: up to the first problem, and
			// without the line before a broken link (either may have been
			// altered); the drill's debrief builds its report the same way.
			r, rep, banner, err := incident.Report(cmd.Context(), path, state.OpenOptions{Warn: e.stderr})
			if banner != "" {
				fmt.Fprintf(e.stderr, "warning: %s: %s\n", path, sanitize.Terminal(banner))
			}
			if err != nil {
				return usageErr(err)
			}
			var buf bytes.Buffer
			if err := report.Write(&buf, r, format); err != nil {
				return usageErr(err)
			}
			if out == "" || out == "-" {
				if _, err := e.stdout.Write(buf.Bytes()); err != nil {
					return usageErr(err)
				}
			} else {
				if err := writeOutput(out, buf.Bytes(), force, path); err != nil {
					return usageErr(err)
				}
				fmt.Fprintf(e.stderr, "report of %s (%d entries, head %s) written to %s\n", path, rep.Lines, rep.Head, sanitize.Terminal(out))
			}
			if !rep.OK() {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	c.Flags().StringVar(&format, "format", "md", "md, html or json")
	c.Flags().StringVarP(&out, "output", "o", "", "write to this new file (0600) instead of stdout; never over a journal or through a symlink")
	c.Flags().BoolVar(&force, "force", false, "replace the --output file if it exists (never a journal)")
	return c
}
