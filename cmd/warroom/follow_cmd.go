package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

func init() { moreCommands = append(moreCommands, newFollowCmd) }

// openFilter is the stream filter every console opens on, live, following
// or replaying: warroom's own calls would bury the attacker's. x clears it.
const openFilter = "-ours"

// Like replay, follow is offline: it reads the journal another process
// writes and never touches AWS.
func newFollowCmd(e *env) *cobra.Command {
	var theme string
	c := &cobra.Command{
		Use:   "follow FILE",
		Short: "Watch a journal another warroom is writing, read-only",
		Long: `follow opens the console, read-only and without AWS, on a journal that another warroom
process is writing: a second screen in a shared tmux session, or a lead watching from another
terminal. It folds what is already there, then shows each new fact as it is appended (the
journal is polled every 50 ms). Facts from every writer appear, so two consoles on one
journal see each other's notes, marks and actions. The stream opens on -ours, as the console
does (x shows everything); when the console driving the incident quits, the status line says
so. A chain that breaks while following stops the view with a banner that says where and why.`,
		Example: `  warroom follow incident/journal.jsonl`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			s, rep, err := state.Open(path, state.OpenOptions{Warn: e.stderr})
			if err != nil {
				return usageErr(err)
			}
			if p := rep.Problem; p != nil && p.Tampered() {
				fmt.Fprintf(e.stderr, "%s: NOT intact, cannot follow: %s\n", path, sanitize.Terminal(p.Error()))
				return &exitError{code: exitProblem, quiet: true}
			}
			// A torn last line is a writer mid-write: follow waits for it.
			feed, done := incident.FollowFeed(cmd.Context(), path, rep.Bytes)
			err = tui.Run(cmd.Context(), followOptions(s, path, feed, done, theme))
			if err != nil {
				return usageErr(err)
			}
			if err := done(); err != nil {
				fmt.Fprintf(e.stderr, "%s: follow stopped: %s\n", path, sanitize.Terminal(err.Error()))
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	themeFlag(c, &theme)
	return c
}

// followOptions are the console's options for following the journal at
// path, folded into s so far.
func followOptions(s *state.Store, path string, feed tui.Feed, done func() error, theme string) tui.Options {
	return tui.Options{
		Store: s, JournalPath: path, Feed: feed, FeedDone: done, Mode: tui.ModeFollow, Filter: openFilter,
		Theme: theme, NoColor: os.Getenv("NO_COLOR") != "", Actor: state.LocalActor(),
	}
}
