package tui

import (
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// Frame renders the console once at width×height, in monochrome and without
// escape sequences: the screen as plain text, for `warroom replay --frame`
// and anything else that wants to print what a person would see.
func Frame(opts Options, width, height int) string {
	opts.Theme, opts.NoColor, opts.NoTick = "monochrome", true, true
	m := New(opts)
	m.Update(tea.WindowSizeMsg{Width: width, Height: height})
	return ansi.Strip(m.Render())
}
