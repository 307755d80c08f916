package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

func init() { moreCommands = append(moreCommands, newReplayCmd) }

// The replay command is offline by construction: it opens the journal and
// nothing else. It must never load the AWS configuration or build a client
// (replay_cmd_test.go checks both the imports and a run with a hostile AWS
// environment).
func newReplayCmd(e *env) *cobra.Command {
	var at, frame, theme string
	c := &cobra.Command{
		Use:   "replay FILE",
		Short: "Replay an incident journal in the console, offline",
		Long: `replay verifies the journal's hash chain, then opens the console on it, read-only and
without AWS: the same panes, driven by a timeline. A journal that does not verify still
replays up to the break, under a banner that says where and why (and the command exits 1).

Keys: space plays or pauses (facts paced by their journal times, quiet spells compressed
to a second), > and < change the speed from 1x to 1000x, . and , step one fact, ] and [
jump to the next or previous action or note, t seeks to a time, a fact number, start or
end. The status line shows the "as of" time and the position (fact N of M). The stream
opens on -ours, as the console does (x shows everything).

--frame WxH prints the screen at --at as text instead of opening the console.`,
		Example: `  warroom replay incident/journal.jsonl
  warroom replay incident/journal.jsonl --at 04:31
  warroom replay incident/journal.jsonl --at end --frame 160x50 > screen.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			r, err := state.OpenReplayWith(path, state.OpenOptions{Warn: e.stderr})
			if err != nil {
				return usageErr(err)
			}
			defer r.Close()
			if b := r.Banner(); b != "" {
				fmt.Fprintf(e.stderr, "warning: %s: %s\n", path, sanitize.Terminal(b))
			}
			if r.Len() == 0 {
				fmt.Fprintf(e.stderr, "%s: nothing to replay\n", path)
				return &exitError{code: exitProblem, quiet: true}
			}
			pos := 1
			if at != "" {
				if pos, err = r.ParsePosition(at, r.Time(r.Len())); err != nil {
					return usageErr(fmt.Errorf("--at: %w", err))
				}
			}
			s, err := r.Fold(cmd.Context(), pos)
			if err != nil {
				return usageErr(err)
			}
			opts := tui.Options{
				Store: s, JournalPath: path, Replay: r, Mode: tui.ModeReplay, Filter: openFilter,
				Theme: theme, NoColor: os.Getenv("NO_COLOR") != "", Actor: state.LocalActor(),
			}
			if frame != "" {
				w, h, err := parseSize(frame)
				if err != nil {
					return usageErr(fmt.Errorf("--frame: %w", err))
				}
				fmt.Fprintln(e.stdout, tui.Frame(opts, w, h))
			} else {
				// A seek copies the checkpoint's arrays: the memory it
				// needs is made ready aside while the first frame shows.
				go r.Warm()
				if err := tui.Run(cmd.Context(), opts); err != nil {
					return usageErr(err)
				}
			}
			if !r.Report().OK() {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	c.Flags().StringVar(&at, "at", "", "where to start: start, end, a fact number, a time (15:04, RFC 3339) (default start)")
	c.Flags().StringVar(&frame, "frame", "", "print the screen at --at as WIDTHxHEIGHT text and exit")
	themeFlag(c, &theme)
	return c
}

// parseSize reads "WIDTHxHEIGHT".
func parseSize(s string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(strings.ToLower(s), "x")
	if ok {
		w, err = strconv.Atoi(ws)
		if err == nil {
			h, err = strconv.Atoi(hs)
		}
	}
	if !ok || err != nil || w < 20 || h < 6 || w > 1000 || h > 1000 {
		return 0, 0, errors.New("want WIDTHxHEIGHT, at least 20x6, such as 160x50")
	}
	return w, h, nil
}
