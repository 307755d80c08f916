package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newImpactCmd) }

// impactOpts are impact's flags.
type impactOpts struct {
	path, key, output, leakAt string
	quietFor                  time.Duration
	check                     bool
	aws                       awsFlags
}

func newImpactCmd(e *env) *cobra.Command {
	var o impactOpts
	c := &cobra.Command{
		Use:   "impact",
		Short: "Show what still calls with each credential warroom contained, and when it is safe to delete",
		Long: `impact is the watch after deactivation the write-ups ask for: deactivate a leaked key
first, watch for the applications that break, delete it later. For every key warroom
deactivated (deactivate-key, rotate-key) and every user or role whose sessions it revoked
(revoke-sessions), it lists each call made with the credential since, from the journal's
CloudTrail events (a deactivated key's calls fail with InvalidClientTokenId or AuthFailure and
are recorded with the key; a revoked session's fail with AccessDenied), grouped by source
address and user agent. A group whose address and agent used the credential before the
incident "matches use before the incident": likely its owner's application, which must be
given a new credential before the old one goes. Any other group is "new": likely the
attacker. The incident's start is the journal's (the incident's "began"), --leak-at, or the
first call from the address and agent that made the credential's first call of note.

A credential is safe to delete once it has been watched for --quiet-for and nothing matching
its use before the incident called within that time (with no use before the incident to
compare with: nothing at all), and IAM does not say it was used successfully after it was
contained. --check reads that from AWS now (iam:GetAccessKeyLastUsed, which counts only
calls that authenticated), journaled as key.info facts, and judges by the account's clock; a read that fails is shown and the rest
goes on from CloudTrail. Each judgement is journaled as an impact.judgement fact when it
changes.

The exit code is 0 when every contained credential was listed, 1 when none was contained
yet or a --check read failed, 2 when the journal could not be read.`,
		Example: `  warroom impact -j incident/journal.jsonl
  warroom impact -j incident/journal.jsonl --key AKIAIOSFODNN7EXAMPLE --quiet-for 72h --check
  warroom impact -j incident/journal.jsonl --output json | jq '.[] | {credential, safe_to_delete}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(o.output); err != nil {
				return err
			}
			if o.quietFor <= 0 {
				return usageErr(fmt.Errorf("--quiet-for %s: want a positive duration such as 24h", o.quietFor))
			}
			if err := requireJournal(o.path); err != nil {
				return err
			}
			return runImpact(cmd.Context(), e, &o)
		},
	}
	journalFlag(c, &o.path, "journal to read and to record the judgements in")
	c.Flags().StringVar(&o.key, "key", "", "only this credential: an access key id, or user/NAME or role/NAME for revoked sessions")
	c.Flags().DurationVar(&o.quietFor, "quiet-for", state.DefaultQuietFor, "how long nothing matching the use before the incident may have called before deleting is safe")
	c.Flags().StringVar(&o.leakAt, "leak-at", "", "when the incident began (RFC 3339), if known better than the journal says")
	c.Flags().BoolVar(&o.check, "check", false, "read each key's last use from IAM now (iam:GetAccessKeyLastUsed), journaled")
	c.Flags().StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	o.aws.register(c)
	return c
}

// runImpact folds the journal, reads last use when asked, judges, journals
// the judgements that changed and prints.
func runImpact(ctx context.Context, e *env, o *impactOpts) error {
	opts := state.ImpactOptions{Credential: o.key, QuietFor: o.quietFor}
	if o.leakAt != "" {
		t, err := time.Parse(time.RFC3339, o.leakAt)
		if err != nil {
			return usageErr(fmt.Errorf("--leak-at %q: want an RFC 3339 time such as 2026-12-01T08:00:00Z", cell(o.leakAt, 60)))
		}
		opts.LeakAt = t
	}
	s, err := foldJournal(ctx, e, o.path)
	if err != nil {
		return err
	}
	raw := state.NewRawReader(o.path)
	defer raw.Close()
	opts.Raw = raw.Raw
	opts.Now = time.Now().UTC()
	im := s.Impact(opts)
	if len(im) == 0 {
		what := "no credential"
		if o.key != "" {
			what = cell(o.key, 140)
		}
		fmt.Fprintf(e.stderr, "nothing found: %s was deactivated or had its sessions revoked by warroom in %s\n", what, o.path)
		return &exitError{code: exitProblem, quiet: true}
	}
	failed := false
	var rec *state.Recorder
	if o.check {
		a, err := startRead(ctx, e, &o.aws, o.path, "impact")
		if err != nil {
			return err
		}
		rec = a.rec
		var now time.Time
		for _, x := range im {
			if x.Kind != "key" {
				continue
			}
			if x.Account != "" && x.Account != a.id.AccountID {
				// IAM answers for its own account's keys only.
				fmt.Fprintf(e.stderr, "%s is in account %s: its last use is not read from %s\n", x.Credential, x.Account, a.id.AccountID)
				continue
			}
			ki := inventory.LastUsed(ctx, a.sess, x.Credential)
			failed = failed || len(ki.Errors) > 0
			if len(ki.Errors) == 0 && ki.CheckedAt.After(now) {
				now = ki.CheckedAt
			}
			if _, err := rec.Record(state.KindKeyInfo, ki); err != nil {
				a.finish()
				return usageErr(err)
			}
		}
		if err := rec.Sync(); err != nil {
			a.finish()
			return usageErr(err)
		}
		if s, err = foldJournal(ctx, e, o.path); err != nil {
			a.finish()
			return err
		}
		// The account's clock, which CloudTrail's times run on, when IAM
		// answered.
		if opts.Now = time.Now().UTC(); !now.IsZero() {
			opts.Now = now
		}
		im = s.Impact(opts)
	} else {
		if rec, err = state.OpenRecorder(o.path, state.IncidentOpened{}, state.LocalActor()); err != nil {
			return usageErr(err)
		}
	}
	for _, x := range im {
		j := x.Judgement()
		if prev, ok := s.Impacts[j.Account+"|"+j.Credential]; ok && prev.V.SafeToDelete == j.SafeToDelete && prev.V.Why == j.Why {
			continue
		}
		if _, err := rec.Record(state.KindImpact, j); err != nil {
			rec.Close()
			return usageErr(err)
		}
	}
	if err := rec.Close(); err != nil {
		return usageErr(err)
	}
	if o.output == "json" {
		err = writeJSON(e.stdout, im)
	} else {
		err = printImpact(e.stdout, im)
	}
	if err != nil {
		return usageErr(err)
	}
	if failed {
		return &exitError{code: exitProblem, quiet: true}
	}
	return nil
}

// foldJournal folds the journal at path as report does: up to the first
// problem, which is said on stderr.
func foldJournal(ctx context.Context, e *env, path string) (*state.Store, error) {
	rp, err := state.OpenReplayWith(path, state.OpenOptions{Warn: e.stderr})
	if err != nil {
		return nil, usageErr(err)
	}
	defer rp.Close()
	if b := rp.Banner(); b != "" {
		fmt.Fprintf(e.stderr, "warning: %s: %s\n", path, sanitize.Terminal(b))
	}
	s, err := rp.Fold(ctx, rp.Len())
	if err != nil {
		return nil, usageErr(err)
	}
	return s, nil
}

// printImpact writes each watch as Impact.Lines says it, every line
// stripped of terminal controls.
func printImpact(w io.Writer, im []state.Impact) error {
	var b strings.Builder
	for i := range im {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, l := range im[i].Lines() {
			b.WriteString(sanitize.Terminal(l) + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
