package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/themes"
)

// Run opens the console on the terminal and returns when the responder
// quits or ctx is done. cmd/warroom calls it with the store (or a replayed
// journal's), the feed, the journal writer and the containment engine (nil
// when read-only or offline).
func Run(ctx context.Context, opts Options) error {
	if _, err := themes.Select(opts.Theme, opts.NoColor, true); err != nil {
		return err
	}
	m := New(opts)
	m.ctx = ctx
	_, err := tea.NewProgram(m, tea.WithContext(ctx)).Run()
	return err
}
