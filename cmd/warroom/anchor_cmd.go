package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/anchor"
	"github.com/warroom-ir/warroom/sanitize"
)

func newJournalAnchorCmd(e *env) *cobra.Command {
	var f awsFlags
	c := &cobra.Command{
		Use:   "anchor FILE",
		Short: "Record the journal's head in the account's own CloudTrail",
		Long: `anchor records the journal's head outside this machine, in the account's CloudTrail: it
makes one harmless, read-only cloudtrail:LookupEvents call whose lookup attribute carries
"warroom-anchor/v1/<incident>/<seq>/<head hash>" (it finds nothing and changes nothing), and
journals a journal.anchor fact with the call's request id. CloudTrail records the call with its
parameters; its digest files vouch for the record, and no one on this machine can take it back.
Later, "warroom journal verify FILE --cloudtrail TRAIL" checks every anchor of the incident
found in CloudTrail against the chain: a journal rewritten, cut back or with its last line
edited after an anchor fails. The journal must exist and verify.

Anchor every few minutes while the incident runs, and after each containment action. The
call counts against LookupEvents' 2 requests per second in the home Region.`,
		Example: `  warroom journal anchor incident/journal.jsonl
  warroom journal verify incident/journal.jsonl --cloudtrail trail/AWSLogs/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if err := requireJournal(path); err != nil {
				return err
			}
			ctx := cmd.Context()
			a, err := startRead(ctx, e, &f, path, "journal anchor")
			if err != nil {
				return err
			}
			region := a.sess.HomeRegion()
			an, err := anchor.Journal(ctx, a.sess.CloudTrail(region), region, a.rec, time.Now())
			if err != nil {
				a.finish()
				return usageErr(err)
			}
			if err := a.finish(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "anchored line %d (%s) in CloudTrail: %s in %s, request %s\n", an.Seq, an.Head, an.Call, region, sanitize.Terminal(an.RequestID))
			return nil
		},
	}
	f.register(c)
	return c
}
