package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/state"
)

func newNoteCmd(e *env) *cobra.Command {
	var path string
	c := &cobra.Command{
		Use:   "note TEXT...",
		Short: "Add a responder's note to the journal",
		Long: `note appends free text to the incident journal, signed with who wrote it (OS user,
host, SSH client) and when. Notes show in the console's journal pane, in replays and in
the report. The journal must exist.`,
		Example: `  warroom note -j incident/journal.jsonl "Called the key owner: not them. Deactivating."`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireJournal(path); err != nil {
				return err
			}
			text := strings.TrimSpace(strings.Join(args, " "))
			if text == "" {
				return usageErr(errors.New("the note is empty"))
			}
			rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
			if err != nil {
				return usageErr(err)
			}
			entry, err := rec.Record(state.KindNote, state.Note{Text: text})
			if cerr := rec.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(e.stdout, "note %d added to %s\n", entry.Seq, path)
			return nil
		},
	}
	journalFlag(c, &path, "journal to append to")
	return c
}
