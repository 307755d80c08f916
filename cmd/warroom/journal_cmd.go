package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// journalFlag registers the --journal flag, defaulting to $WARROOM_JOURNAL.
// usage may end in its own "(default: …)", what happens without a journal;
// the help says both in one parenthesis. The environment's value is not the
// flag's printed default: the help says $WARROOM_JOURNAL once, whatever it
// holds.
func journalFlag(c *cobra.Command, p *string, usage string) {
	if head, dflt, ok := strings.Cut(usage, " (default: "); ok {
		usage = head + " (default: $WARROOM_JOURNAL, else " + dflt
	} else {
		usage += " (default: $WARROOM_JOURNAL)"
	}
	c.Flags().StringVarP(p, "journal", "j", os.Getenv("WARROOM_JOURNAL"), usage)
	c.Flags().Lookup("journal").DefValue = ""
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
// store still holds every line the chain vouches for (state.Replay's rule).
func replayJournal(e *env, path string) (*state.Store, journal.Report, error) {
	return openJournal(e, path, state.OpenOptions{Warn: e.stderr})
}

// openJournal is replayJournal with its options.
func openJournal(e *env, path string, opts state.OpenOptions) (*state.Store, journal.Report, error) {
	s, rep, err := state.Open(path, opts)
	if err != nil {
		return nil, rep, usageErr(err)
	}
	if rep.Problem != nil {
		fmt.Fprintf(e.stderr, "warning: %s: %s; showing the %d entries the chain vouches for\n", path, rep.Problem, rep.Lines)
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
	c.AddCommand(newJournalVerifyCmd(e), newJournalHeadCmd(e), newJournalShowCmd(e),
		newJournalKeygenCmd(e), newJournalSignCmd(e), newJournalAnchorCmd(e))
	return c
}

func newJournalVerifyCmd(e *env) *cobra.Command {
	var (
		head, headsPath string
		noHeads         bool
		keys            []string
		trails          []string
	)
	c := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a journal's hash chain, signed heads and anchors",
		Long: `verify reads the whole journal and checks every line's hash chain, sequence, incident id
and times (a line's time may not go back more than 5 minutes before an earlier line's: a
back-dated fact). It exits 0 when the journal is intact, 1 when it is not (the first bad line
and why on stderr), and 2 on usage or I/O errors.

A chain alone cannot show a journal rewritten with its hashes recomputed, cut back at a line
boundary, or with its last line edited. Heads kept outside it can:
  --head HASH      a head published earlier (a ticket, a chat message) must be in the chain;
  signed heads     FILE.heads (or --heads PATH), written by "warroom journal sign", is read when
                   present: every record's Ed25519 signature must hold and the line it names
                   must have its hash. With --key, only records signed by those keys count
                   (without it, the fingerprints of the signing keys are printed: compare them);
  --cloudtrail F   CloudTrail files or LookupEvents output: every head warroom anchored in the
                   account's CloudTrail for this incident must be in the chain.`,
		Example: `  warroom journal verify incident/journal.jsonl
  warroom journal verify incident/journal.jsonl --head "$(cat published-head.txt)"
  warroom journal verify incident/journal.jsonl --key ~/.warroom/responder.key.pub
  warroom journal verify incident/journal.jsonl --cloudtrail trail/AWSLogs/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if noHeads && headsPath != "" {
				return usageErr(errors.New("--heads and --no-heads do not go together"))
			}
			sv, err := loadSignedHeads(path, headsPath, noHeads, keys)
			if err != nil {
				return usageErr(err)
			}
			pins := sv.pins
			var av *anchorCheck
			if len(trails) > 0 {
				if av, err = loadAnchors(cmd.Context(), path, trails); err != nil {
					return usageErr(err)
				}
				pins = append(pins, av.pins...)
			}
			rep, err := journal.Verify(path, journal.VerifyOptions{Head: head, Pins: pins})
			if err != nil {
				return usageErr(err)
			}
			bad := sv.problems
			for _, id := range sv.incidents {
				if rep.IncidentID != "" && id != rep.IncidentID {
					bad = append(bad, fmt.Sprintf("a signed head is for incident %q, not this journal's %q", id, rep.IncidentID))
				}
			}
			if av != nil {
				bad = append(bad, av.problems(rep)...)
			}
			if rep.Problem != nil {
				fmt.Fprintf(e.stderr, "%s: NOT intact: %s\n", path, sanitize.Terminal(rep.Problem.Error()))
			}
			for _, b := range bad {
				fmt.Fprintf(e.stderr, "%s: NOT intact: %s\n", path, sanitize.Terminal(b))
			}
			if rep.Problem != nil || len(bad) > 0 {
				return &exitError{code: exitProblem, quiet: true}
			}
			fmt.Fprintf(e.stdout, "%s: intact, %d entries, incident %s, head %s\n", path, rep.Lines, sanitize.Terminal(rep.IncidentID), rep.Head)
			if n := len(sv.pins); n > 0 {
				fmt.Fprintf(e.stdout, "%d signed head(s) hold, signed by %s", n, strings.Join(sv.fingerprints, ", "))
				if len(keys) == 0 {
					fmt.Fprint(e.stdout, " (not checked against a key you trust: give --key, or compare the fingerprints)")
				}
				fmt.Fprintln(e.stdout)
			}
			if av != nil {
				fmt.Fprintf(e.stdout, "%d CloudTrail anchor(s) hold (%s)\n", len(av.pins), av.summary())
			}
			return nil
		},
	}
	c.Flags().StringVar(&head, "head", "", "a head hash published earlier that must be in the chain")
	c.Flags().StringVar(&headsPath, "heads", "", "signed heads file (default FILE"+journal.HeadsSuffix+" when it exists)")
	c.Flags().BoolVar(&noHeads, "no-heads", false, "do not read signed heads")
	c.Flags().StringArrayVar(&keys, "key", nil, "public key file whose signatures count (repeatable); a private key file works too")
	c.Flags().StringArrayVar(&trails, "cloudtrail", nil, "CloudTrail file or folder to check the journal's anchors against (repeatable)")
	return c
}

// signedHeads is what verify found in a heads file.
type signedHeads struct {
	pins         []journal.Pin
	incidents    []string
	fingerprints []string
	problems     []string
}

// loadSignedHeads reads and checks the signed heads for the journal at path.
func loadSignedHeads(path, headsPath string, none bool, keyFiles []string) (signedHeads, error) {
	var sv signedHeads
	if none {
		return sv, nil
	}
	var trusted []ed25519.PublicKey
	for _, k := range keyFiles {
		b, err := os.ReadFile(k)
		if err != nil {
			return sv, fmt.Errorf("--key: %w", err)
		}
		pub, err := journal.ParsePublicKey(b)
		if err != nil {
			return sv, fmt.Errorf("--key %s: %w", sanitize.Terminal(k), err)
		}
		trusted = append(trusted, pub)
	}
	explicit := headsPath != ""
	if !explicit {
		headsPath = path + journal.HeadsSuffix
	}
	f, err := os.Open(headsPath)
	switch {
	case err != nil && !explicit && errors.Is(err, fs.ErrNotExist):
		if len(trusted) > 0 {
			sv.problems = append(sv.problems, fmt.Sprintf("--key given but there is no signed heads file %s: it was removed, or heads were never signed", headsPath))
		}
		return sv, nil
	case err != nil:
		return sv, fmt.Errorf("signed heads: %w", err)
	}
	defer f.Close()
	hs, err := journal.ReadSignedHeads(f)
	if err != nil {
		return sv, fmt.Errorf("%s: %w", sanitize.Terminal(headsPath), err)
	}
	if len(hs) == 0 && len(trusted) > 0 {
		sv.problems = append(sv.problems, fmt.Sprintf("%s holds no signed head", headsPath))
	}
	seen := map[string]bool{}
	for i, h := range hs {
		where := fmt.Sprintf("signed head %d of %s (line %d)", i+1, headsPath, h.Seq)
		if err := h.CheckSignature(); err != nil {
			sv.problems = append(sv.problems, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		pub, _ := h.PublicKey()
		fp := journal.KeyFingerprint(pub)
		if len(trusted) > 0 && !slices.ContainsFunc(trusted, func(k ed25519.PublicKey) bool { return k.Equal(pub) }) {
			sv.problems = append(sv.problems, fmt.Sprintf("%s is signed by %s, not one of --key", where, fp))
			continue
		}
		if !seen[fp] {
			seen[fp] = true
			sv.fingerprints = append(sv.fingerprints, fp)
		}
		sv.incidents = append(sv.incidents, h.Incident)
		sv.pins = append(sv.pins, journal.Pin{Seq: h.Seq, Hash: h.Head, Source: where + " by " + fp})
	}
	return sv, nil
}

func newJournalKeygenCmd(e *env) *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "keygen KEYFILE",
		Short: "Make an Ed25519 key for signing journal heads",
		Long: `keygen writes a new Ed25519 private key to KEYFILE (mode 0600, never over an existing
file unless --force, never over a journal or through a symlink) and its public half to
KEYFILE.pub, and prints the public key's fingerprint. Keep the private key off the machine the
incident is worked from if you can (a laptop, a hardware-backed store): whoever holds it can
sign heads. Give the public key to whoever will verify.`,
		Example: `  warroom journal keygen ~/.warroom/responder.key`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, key, err := journal.GenerateKey()
			if err != nil {
				return usageErr(err)
			}
			if err := writeOutput(args[0], journal.MarshalPrivateKey(key), force); err != nil {
				return usageErr(err)
			}
			if err := writeOutput(args[0]+".pub", journal.MarshalPublicKey(pub), force); err != nil {
				return usageErr(err)
			}
			fmt.Fprintf(e.stdout, "private key %s\npublic key  %s.pub\nfingerprint %s\n", sanitize.Terminal(args[0]), sanitize.Terminal(args[0]), journal.KeyFingerprint(pub))
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "replace existing key files")
	return c
}

func newJournalSignCmd(e *env) *cobra.Command {
	var keyPath, headsPath string
	c := &cobra.Command{
		Use:   "sign FILE --key KEYFILE",
		Short: "Sign a journal's head with your key",
		Long: `sign verifies the journal and signs its head (the seq and hash of its last intact line)
with the Ed25519 private key in KEYFILE (see "warroom journal keygen"). The signed head record
is appended to FILE.heads (or --heads PATH) and printed: paste it into the ticket or chat as
well. "warroom journal verify" checks every signed head it finds: a journal later rewritten
(even with its hashes recomputed), cut back, or with its last line edited no longer holds the
signed line and fails. Sign as the incident runs (every few minutes, after each action).

A journal that does not verify is not signed (exit 1).`,
		Example: `  warroom journal sign incident/journal.jsonl --key ~/.warroom/responder.key`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if keyPath == "" {
				return usageErr(errors.New("--key KEYFILE is required (make one with warroom journal keygen)"))
			}
			b, err := os.ReadFile(keyPath)
			if err != nil {
				return usageErr(fmt.Errorf("--key: %w", err))
			}
			key, err := journal.ParsePrivateKey(b)
			clear(b)
			if err != nil {
				return usageErr(fmt.Errorf("--key %s: %w", sanitize.Terminal(keyPath), err))
			}
			rep, err := journal.Verify(path, journal.VerifyOptions{})
			if err != nil {
				return usageErr(err)
			}
			if p := rep.Problem; p != nil && p.Tampered() {
				fmt.Fprintf(e.stderr, "%s: NOT intact, not signing: %s\n", path, sanitize.Terminal(p.Error()))
				return &exitError{code: exitProblem, quiet: true}
			}
			h, err := journal.SignHead(key, rep.IncidentID, rep.Seq, rep.Head, time.Now())
			if err != nil {
				return usageErr(err)
			}
			if headsPath == "" {
				headsPath = path + journal.HeadsSuffix
			}
			if err := appendOutput(headsPath, h.Marshal(), path); err != nil {
				return usageErr(err)
			}
			pub := key.Public().(ed25519.PublicKey)
			fmt.Fprintf(e.stderr, "signed head of %s: line %d, %s, key %s; appended to %s\n", path, h.Seq, h.Head, journal.KeyFingerprint(pub), sanitize.Terminal(headsPath))
			_, err = e.stdout.Write(h.Marshal())
			return err
		},
	}
	c.Flags().StringVar(&keyPath, "key", "", "the Ed25519 private key file")
	c.Flags().StringVar(&headsPath, "heads", "", "signed heads file to append to (default FILE"+journal.HeadsSuffix+")")
	return c
}

func newJournalHeadCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "head FILE",
		Short: "Print a journal's head hash",
		Long: `head prints the SHA-256 of the journal's last intact line. Publish it (a ticket, a
chat message) so that anyone can later check that the journal was not cut short:
warroom journal verify FILE --head HASH. When the chain breaks at line n, line n-1
is not vouched for (it may be the altered one): head prints line n-2's hash, says
where the chain breaks, and exits 1.`,
		Example: `  warroom journal head incident/journal.jsonl`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			rep, err := state.Vouched(path)
			if err != nil {
				return usageErr(err)
			}
			p := rep.Problem
			switch {
			case p == nil:
			case rep.Lines == 0:
				fmt.Fprintf(e.stderr, "%s: %s; no line is vouched for: there is no head to print\n", path, p)
			case p.Kind == journal.ProblemChain:
				fmt.Fprintf(e.stderr, "%s: %s; the chain breaks at line %d, so line %d is not vouched for: head is of line %d, the last one a later link vouches for\n",
					path, p, p.Line, p.Line-1, rep.Lines)
			default:
				fmt.Fprintf(e.stderr, "%s: %s (head is of the last intact line %d)\n", path, p, rep.Lines)
			}
			if rep.Lines > 0 {
				fmt.Fprintln(e.stdout, rep.Head)
			}
			if p != nil {
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
