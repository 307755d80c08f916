// Command warroom is a terminal console for the first hours after an AWS
// access key or account is compromised. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/themes"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes. Verification uses all three: intact, not intact, could not tell.
const (
	exitOK      = 0
	exitProblem = 1 // the command ran and found a problem (a broken chain, a failed check)
	exitUsage   = 2 // bad flags or arguments, or an I/O error
)

// exitError carries an exit code out of a command. When quiet, the command has
// already said what went wrong on stderr.
type exitError struct {
	code  int
	err   error
	quiet bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// shownError is an error as it is printed: its text made safe for a
// terminal line by line (an error can quote an AWS message, a name, a
// file's contents: attacker text). Hidden characters are shown, not acted on.
type shownError struct{ err error }

func (e shownError) Error() string {
	lines := strings.Split(e.err.Error(), "\n")
	for i, l := range lines {
		lines[i] = sanitize.Terminal(l)
	}
	return strings.Join(lines, "\n")
}

func (e shownError) Unwrap() error { return e.err }

// usageErr marks err as a usage or I/O problem (exit 2).
func usageErr(err error) error { return &exitError{code: exitUsage, err: err} }

// env is what a command may touch of the outside world; tests supply their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// run executes warroom with args and returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	root.Version = buildVersion()
	markUsageErrors(root)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	printError(stderr, cmd, err)
	var xe *exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	// Everything cobra itself rejects (unknown flags, wrong argument
	// counts) is a usage error; so is anything a command did not classify.
	return exitUsage
}

// Errors and help are printed by warroom itself, not by a CLI framework:
// an error's text is printed exactly as it was produced (an AWS action name
// such as iam:GetUser, a key id as typed, a flag name), with no re-casing,
// no wrapping and no box, to a terminal and to a file alike; help is
// cobra's plain template, which prints flag and command descriptions as
// written.

// printError writes err to w as "warroom: TEXT", made safe for a terminal
// line by line, and for a usage error a pointer to the command's help. A
// quiet exitError has already said what went wrong.
func printError(w io.Writer, cmd *cobra.Command, err error) {
	var xe *exitError
	if errors.As(err, &xe) && xe.quiet {
		return
	}
	fmt.Fprintf(w, "warroom: %s\n", shownError{err}.Error())
	var ue usageHint
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		name := "warroom"
		if cmd != nil {
			name = cmd.CommandPath()
		}
		fmt.Fprintf(w, "Run '%s --help' for usage.\n", name)
	}
}

// usageHint marks an error cobra raised about the command line (a flag or
// the arguments): printError points at --help after it.
type usageHint struct{ err error }

func (e usageHint) Error() string { return e.err.Error() }
func (e usageHint) Unwrap() error { return e.err }

// markUsageErrors makes the flag and argument errors of root and every
// command under it usageHints.
func markUsageErrors(root *cobra.Command) {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageHint{err} })
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if args := c.Args; args != nil {
			c.Args = func(c *cobra.Command, a []string) error {
				if err := args(c, a); err != nil {
					var xe *exitError
					if errors.As(err, &xe) {
						return err
					}
					return usageHint{err}
				}
				return nil
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// buildVersion is what --version prints: the version set at build time,
// else the module's version and commit from the build information.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Sum == "" {
		return "unknown (built from source)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 7 {
			v += " (" + s.Value[:7] + ")"
		}
	}
	return v
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "warroom",
		Short: "A terminal console for the first hours after an AWS key is compromised",
		Long: `warroom shows the live CloudTrail stream from every Region, the account's principals
and keys, and a Region-by-Region resource map, contains a leaked credential from the
keyboard, and records every fact seen and every action taken in an append-only,
hash-chained incident journal that anyone can replay offline.`,
		Example: `  # Practise first: the console on a built-in AWS account whose key has just leaked
  warroom drill

  # Open the console on the account your AWS credentials reach
  warroom --profile prod

  # Parse CloudTrail files into a new incident journal and query it
  warroom ingest --journal incident/journal.jsonl ./AWSLogs
  warroom events --journal incident/journal.jsonl --filter 'key:AKIAEXAMPLE -readonly'

  # Check that a journal is intact against a head hash published earlier
  warroom journal verify incident/journal.jsonl --head 3f1c…`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newIngestCmd(e),
		newEventsCmd(e),
		newNoteCmd(e),
		newSuspectCmd(e),
		newJournalCmd(e),
	)
	for _, mk := range moreCommands {
		root.AddCommand(mk(e))
	}
	rootConsole(root, e) // warroom alone opens the console
	return root
}

// themeFlag registers the --theme flag of every command that opens the
// console. The names it lists come from the theme registry, so the help
// and the names accepted cannot disagree.
func themeFlag(c *cobra.Command, p *string) {
	c.Flags().StringVar(p, "theme", "", "colour theme: "+themes.Help()+", or a theme file's path (default: dark or light by the terminal's background)")
}

// moreCommands holds the constructors of commands defined in their own files
// (each adds itself in an init function), so that adding a command touches
// only its own file.
var moreCommands []func(*env) *cobra.Command
