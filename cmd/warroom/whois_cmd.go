package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/aws/inventory"
	"github.com/warroom-ir/warroom/state"
)

func init() { moreCommands = append(moreCommands, newWhoisKeyCmd) }

func newWhoisKeyCmd(e *env) *cobra.Command {
	var (
		f            awsFlags
		path, output string
	)
	c := &cobra.Command{
		Use:   "whois-key ACCESS_KEY_ID",
		Short: "Say which account owns an access key, and, if it is ours, whose it is",
		Long: `whois-key asks STS which account owns an access key id (sts:GetAccessKeyInfo works
for any key, ours or not, and needs no permission on it). When the key belongs to the
account warroom is running in, iam:GetAccessKeyLastUsed names the user that owns it and
when, where and with which service it was last used.

It is a read-only lookup: it creates no incident folder. With --journal (or
$WARROOM_JOURNAL) the answer is journaled there as a key.info fact. The exit code is 1
when a call failed.`,
		Example: `  # Which account owns this key? Nothing is written.
  warroom whois-key AKIAIOSFODNN7EXAMPLE

  # The same, journaled in the incident
  warroom whois-key AKIAIOSFODNN7EXAMPLE --journal incident/journal.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			if !inventory.ValidKeyID(args[0]) {
				return usageErr(fmt.Errorf("%q is not an access key id (AKIA… or ASIA…, upper-case letters and digits)", cell(args[0], 140)))
			}
			ctx := cmd.Context()
			ki, err := whoisKey(ctx, e, &f, path, args[0])
			if err != nil {
				return err
			}
			if output == "json" {
				err = writeJSON(e.stdout, ki)
			} else {
				err = printKeyInfo(e.stdout, ki)
			}
			if err != nil {
				return usageErr(err)
			}
			if len(ki.Errors) > 0 {
				return &exitError{code: exitProblem, quiet: true}
			}
			return nil
		},
	}
	f.register(c)
	journalFlag(c, &path, "journal to record the answer to (default: none, the answer is only printed)")
	c.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return c
}

// whoisKey asks who owns keyID and, when a journal is named, records the
// session and the answer there. Without one nothing is written anywhere.
func whoisKey(ctx context.Context, e *env, f *awsFlags, path, keyID string) (state.KeyInfo, error) {
	if path == "" {
		sess, id, err := f.session(ctx, e)
		if err != nil {
			return state.KeyInfo{}, err
		}
		ki, err := inventory.Whois(ctx, sess, keyID, id.AccountID)
		if err != nil {
			return state.KeyInfo{}, usageErr(err)
		}
		return ki, nil
	}
	a, err := startRead(ctx, e, f, path, "whois-key")
	if err != nil {
		return state.KeyInfo{}, err
	}
	ki, err := inventory.Whois(ctx, a.sess, keyID, a.id.AccountID)
	if err != nil {
		a.finish()
		return state.KeyInfo{}, usageErr(err)
	}
	if _, err := a.rec.Record(state.KindKeyInfo, ki); err != nil {
		a.finish()
		return state.KeyInfo{}, usageErr(err)
	}
	return ki, a.finish()
}

// printKeyInfo writes the answer in a few plain lines.
func printKeyInfo(w io.Writer, ki state.KeyInfo) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	kind := ""
	if ki.KeyType != "" {
		kind = " (" + ki.KeyType + ")"
	}
	switch {
	case ki.Account == "":
		p("%s%s: owning account unknown\n", ki.AccessKeyID, kind)
	case ki.Ours:
		p("%s%s: ✓ OURS — account %s\n", ki.AccessKeyID, kind, ki.Account)
	default:
		p("%s%s: ✗ NOT OURS — it belongs to account %s (this is %s)\n", ki.AccessKeyID, kind, ki.Account, ki.CallerAccount)
	}
	if ki.UserName != "" {
		p("  user:      %s\n", cell(ki.UserName, 128))
	}
	if ki.Ours && ki.KeyType != "temporary" && len(ki.Errors) == 0 {
		if ki.LastUsed.IsZero() {
			p("  last used: never\n")
		} else {
			p("  last used: %s", when(ki.LastUsed))
			if ki.LastService != "" {
				p(" by %s", cell(ki.LastService, 60))
			}
			if ki.LastRegion != "" {
				p(" in %s", cell(ki.LastRegion, 30))
			}
			p("\n")
		}
	}
	for _, ce := range ki.Errors {
		p("  ✗ %s failed (%s): %s\n", ce.Call, ce.Class, cell(ce.Error, 200))
	}
	return err
}
