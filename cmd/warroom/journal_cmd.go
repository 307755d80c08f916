package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// journalFlag registers the --journal flag, defaulting to $WARROOM_JOURNAL.
func journalFlag(c *cobra.Command, p *string, usage string) {
	c.Flags().StringVarP(p, "journal", "j", os.Getenv("WARROOM_JOURNAL"), usage+" (default $WARROOM_JOURNAL)")
}

// requireJournal checks that a journal was named and exists.
func requireJournal(path string) error {
	if path == "" {
		return usageErr(errors.New("no journal: give --journal FILE or set WARROOM_JOURNAL"))
	}
	if _, err := os.Stat(path); err != nil {
		return usageErr(fmt.Errorf("journal %s: %w", path, err))
	}
	return nil
}

// newIncidentPath returns the journal path of a new incident folder under dir.
func newIncidentPath(dir string, id string) string {
	return filepath.Join(dir, id, "journal.jsonl")
}

// replayJournal rebuilds the store and reports a broken chain on stderr. The
// store still holds everything up to the break.
func replayJournal(e *env, path string) (*state.Store, journal.Report, error) {
	s, rep, err := state.Replay(path)
	if err != nil {
		return nil, rep, usageErr(err)
	}
	if rep.Problem != nil {
		fmt.Fprintf(e.stderr, "warning: %s: %s; showing the %d entries before it\n", path, rep.Problem, rep.Lines)
	}
	return s, rep, nil
}

func newJournalCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "journal",
		Short: "Verify, inspect and print incident journals",
		Long: `An incident journal is an append-only file of JSON lines, each carrying the SHA-256 of
the line before it. These commands check that chain and print what it holds.`,
	}
	c.AddCommand(newJournalVerifyCmd(e), newJournalHeadCmd(e), newJournalShowCmd(e))
	return c
}

func newJournalVerifyCmd(e *env) *cobra.Command {
	var head string
	c := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a journal's hash chain",
		Long: `verify reads the whole journal and checks every line's hash chain, sequence and
incident id. It exits 0 when the journal is intact, 1 when it is not (the first bad line
and why on stderr), and 2 on usage or I/O errors. With --head, a head hash published
earlier must still be in the chain: that catches a journal cut short.`,
		Example: `  warroom journal verify incident/journal.jsonl
  warroom journal verify incident/journal.jsonl --head "$(cat published-head.txt)"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := journal.Verify(args[0], journal.VerifyOptions{Head: head})
			if err != nil {
				return usageErr(err)
			}
			if rep.Problem != nil {
				fmt.Fprintf(e.stderr, "%s: NOT intact: %s\n", args[0], rep.Problem)
				return &exitError{code: exitProblem, quiet: true}
			}
			fmt.Fprintf(e.stdout, "%s: intact, %d entries, incident %s, head %s\n", args[0], rep.Lines, sanitize.Terminal(rep.IncidentID), rep.Head)
			return nil
		},
	}
	c.Flags().StringVar(&head, "head", "", "a head hash published earlier that must be in the chain")
	return c
}

func newJournalHeadCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "head FILE",
		Short: "Print a journal's head hash",
		Long: `head prints the SHA-256 of the journal's last intact line. Publish it (a ticket, a
chat message) so that anyone can later check that the journal was not cut short:
warroom journal verify FILE --head HASH.`,
		Example: `  warroom journal head incident/journal.jsonl`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := journal.Verify(args[0], journal.VerifyOptions{})
			if err != nil {
				return usageErr(err)
			}
			if rep.Problem != nil {
				fmt.Fprintf(e.stderr, "%s: %s (head is of the last intact line %d)\n", args[0], rep.Problem, rep.Lines)
			}
			fmt.Fprintln(e.stdout, rep.Head)
			if rep.Problem != nil {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
}

func newJournalShowCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "show FILE",
		Short: "Print a journal as a readable timeline",
		Long: `show prints every fact in the journal, one line each: sequence number, time (UTC),
who recorded it, its kind and a summary. Text from CloudTrail is stripped of terminal
control sequences.`,
		Example: `  warroom journal show incident/journal.jsonl | less`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, rep, err := replayJournal(e, args[0])
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
			for _, it := range s.Timeline {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", it.Seq, it.At.UTC().Format(time.RFC3339), sanitize.Terminal(it.By), it.Kind, sanitize.Terminal(it.Summary))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if rep.Problem != nil {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
}
