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
	"strings"
	"syscall"

	"github.com/charmbracelet/fang"
	"github.com/spf13/cobra"

	"github.com/warroom-ir/warroom/sanitize"
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
	opts := []fang.Option{
		fang.WithErrorHandler(func(w io.Writer, styles fang.Styles, err error) {
			var xe *exitError
			if errors.As(err, &xe) && xe.quiet {
				return
			}
			fang.DefaultErrorHandler(w, styles, shownError{err})
		}),
	}
	if version != "" {
		opts = append(opts, fang.WithVersion(version))
	}
	err := fang.Execute(ctx, root, opts...)
	if err == nil {
		return exitOK
	}
	var xe *exitError
	if errors.As(err, &xe) {
		return xe.code
	}
	// Everything cobra itself rejects (unknown flags, wrong argument
	// counts) is a usage error; so is anything a command did not classify.
	return exitUsage
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "warroom",
		Short: "A terminal console for the first hours after an AWS key is compromised",
		Long: `warroom shows the live CloudTrail stream from every Region, the account's principals
and keys, and a Region-by-Region resource map, contains a leaked credential from the
keyboard, and records every fact seen and every action taken in an append-only,
hash-chained incident journal that anyone can replay offline.`,
		Example: `  # Parse CloudTrail files into a new incident journal and query it
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

// moreCommands holds the constructors of commands defined in their own files
// (each adds itself in an init function), so that adding a command touches
// only its own file.
var moreCommands []func(*env) *cobra.Command
