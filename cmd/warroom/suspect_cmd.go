package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/state"
)

// newSuspectCmd marks (or clears) a suspect key or principal in the
// journal: the same fact the console's `s` writes, so that an incident
// handled from the command line reports its suspects and their families.
func newSuspectCmd(e *env) *cobra.Command {
	var (
		path, reason string
		clear        bool
	)
	c := &cobra.Command{
		Use:   "suspect ACCESS_KEY_ID|PRINCIPAL_ARN",
		Short: "Mark a key or principal as suspect in the journal (or clear the mark)",
		Long: `suspect journals a suspect mark, as the console's s key does: the key's family (every key
it minted or created, and the keys of users it created, recursively) is then the attacker's
in the console, the Region map (regions --suspect), the playbook and the report.
contain credential marks its key itself. The journal must exist.`,
		Example: `  warroom suspect -j incident/journal.jsonl AKIAIOSFODNN7EXAMPLE --reason "found on a public repo"
  warroom suspect -j incident/journal.jsonl arn:aws:iam::123456789012:user/backdoor
  warroom suspect -j incident/journal.jsonl AKIAIOSFODNN7EXAMPLE --clear`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireJournal(path); err != nil {
				return err
			}
			id := strings.TrimSpace(args[0])
			v := state.Suspect{Reason: reason, Clear: clear}
			switch {
			case strings.HasPrefix(id, "arn:"):
				v.PrincipalARN = id
			case isKeyID(id):
				v.AccessKeyID = id
			default:
				return usageErr(fmt.Errorf("%q is neither an access key id (AKIA…, ASIA…) nor an ARN", term(id)))
			}
			rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
			if err != nil {
				return usageErr(err)
			}
			entry, err := rec.Record(state.KindSuspect, v)
			if cerr := rec.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return usageErr(err)
			}
			what := "marked suspect"
			if clear {
				what = "no longer suspect"
			}
			fmt.Fprintf(e.stdout, "%s %s (fact %d in %s)\n", term(id), what, entry.Seq, path)
			return nil
		},
	}
	journalFlag(c, &path, "journal to append to")
	c.Flags().StringVar(&reason, "reason", "", "why (shown in the journal and the report)")
	c.Flags().BoolVar(&clear, "clear", false, "clear the mark instead")
	return c
}

// isKeyID reports whether s looks like an access key id.
func isKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	if !strings.HasPrefix(s, "AKIA") && !strings.HasPrefix(s, "ASIA") {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
