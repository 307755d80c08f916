package tui

import (
	"context"
	"io"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/themes"
)

// Terminal replaces the terminal the console runs on: a program that
// drives the real console with key bytes through a pipe (a test) gives its
// input, its output and its size, since a pipe cannot say how big it is.
type Terminal struct {
	In            io.Reader
	Out           io.Writer
	Width, Height int
}

// RunOn is Run on term instead of stdin and stdout.
func RunOn(ctx context.Context, opts Options, term Terminal) error {
	if _, err := themes.Select(opts.Theme, opts.NoColor, true); err != nil {
		return err
	}
	m := New(opts)
	m.ctx = ctx
	po := []tea.ProgramOption{tea.WithContext(ctx)}
	if term.In != nil {
		po = append(po, tea.WithInput(term.In))
	}
	if term.Out != nil {
		po = append(po, tea.WithOutput(term.Out))
	}
	if term.Width > 0 && term.Height > 0 {
		po = append(po, tea.WithWindowSize(term.Width, term.Height))
	}
	_, err := tea.NewProgram(m, po...).Run()
	return err
}
