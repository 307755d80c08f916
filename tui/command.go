package tui

import (
	"context"
	"slices"
	"strings"
	"unicode"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/themes"
)

// command is one command of the ':' line.
type command struct {
	name, args, desc string
	// dangerous commands are containment: absent in read-only mode.
	dangerous bool
	// journal commands need a journal to write to.
	journal bool
	// run is set for a command the program supplied (Options.Commands).
	run func(ctx context.Context) (string, error)
}

var commandList = []command{
	{name: "filter", args: "EXPR", desc: "filter the stream (the filter language)"},
	{name: "clear", desc: "clear the stream filter"},
	{name: "passwords", desc: "filter the stream to console passwords created or changed, and by whom (root included)"},
	{name: "note", args: "TEXT", desc: "add a note to the journal", journal: true},
	{name: "suspect", desc: "mark the selected key or principal suspect", journal: true},
	{name: "unsuspect", desc: "clear the selected item's suspect mark", journal: true},
	{name: "deactivate", desc: "plan: deactivate the selected access key", dangerous: true},
	{name: "revoke", desc: "plan: revoke the selection's temporary sessions", dangerous: true},
	{name: "quarantine", desc: "plan: deny all for the selection", dangerous: true},
	{name: "contain", desc: "plan: contain the selected suspect or account (its deny-all SCP)", dangerous: true},
	{name: "block-ip", args: "[IP|CIDR…] [--undo]", desc: "plan: deny requests from source IPs (default: the suspect families'); --undo lifts it", dangerous: true},
	{name: "password-reset", desc: "plan: require the selected user to choose a new console password at next sign-in", dangerous: true},
	{name: "impact", desc: "calls made with each contained key or session since, and when it is safe to delete"},
	{name: "hunt", args: "FILTER", desc: "hunt the organisation trail in Athena; what it finds is journaled"},
	{name: "focus", args: "PANE", desc: "focus stream, principals, regions or journal"},
	{name: "zoom", desc: "zoom the focused pane"},
	{name: "follow", desc: "follow the newest events and facts"},
	{name: "detail", desc: "open the selected item in full"},
	{name: "findings", desc: "GuardDuty's findings in full, the family's first, and where GuardDuty is not enabled"},
	{name: "copy", desc: "copy the selected id or ARN"},
	{name: "theme", args: "NAME", desc: "switch theme (" + strings.Join(themes.Names(), ", ") + ")"},
	{name: "help", desc: "show help"},
	{name: "quit", desc: "quit (asks first)"},
}

// commands returns the commands available now.
func (m *Model) commands() []command {
	var out []command
	for _, c := range commandList {
		if c.dangerous && m.opts.readOnly() || c.journal && m.opts.Journal == nil || c.name == "hunt" && m.opts.Hunt == nil {
			continue
		}
		out = append(out, c)
	}
	return append(out, m.extra...)
}

// extraCommands returns the usable commands of opts.Commands: a command
// without a name or Run, with a space or a control in its name, or named as a built-in
// or an earlier one is left out.
func extraCommands(cs []Command) []command {
	var out []command
	for _, c := range cs {
		taken := func(x command) bool { return x.name == c.Name }
		if c.Name == "" || c.Run == nil || strings.IndexFunc(c.Name, unicode.IsSpace) >= 0 || clean(c.Name) != c.Name ||
			slices.ContainsFunc(commandList, taken) || slices.ContainsFunc(out, taken) {
			continue
		}
		out = append(out, command{name: c.Name, desc: clean(c.Help), run: c.Run})
	}
	return out
}

// argChoices returns the completions of a command's argument.
func argChoices(name string) []string {
	switch name {
	case "focus":
		return paneNames[:]
	case "theme":
		return themes.Names()
	}
	return nil
}

// candidates returns the completions of what was typed: command names, or
// for a command that takes a known argument, its values.
func (m *Model) candidates(line string) (prefix string, cands []string) {
	name, arg, hasArg := strings.Cut(strings.TrimLeft(line, " "), " ")
	if !hasArg {
		for _, c := range m.commands() {
			if strings.HasPrefix(c.name, name) {
				cands = append(cands, c.name)
			}
		}
		return "", cands
	}
	for _, a := range argChoices(name) {
		if strings.HasPrefix(a, strings.TrimSpace(arg)) {
			cands = append(cands, a)
		}
	}
	return name + " ", cands
}

// completeCommand completes what was typed as far as it is unambiguous.
func (m *Model) completeCommand(line string) string {
	prefix, cands := m.candidates(line)
	switch len(cands) {
	case 0:
		return line
	case 1:
		return prefix + cands[0] + " "
	}
	common := cands[0]
	for _, c := range cands[1:] {
		for !strings.HasPrefix(c, common) {
			common = common[:len(common)-1]
		}
	}
	if len(prefix+common) > len(line) {
		return prefix + common
	}
	return line
}

// commandHint shows what the command line could become.
func (m *Model) commandHint(line string) string {
	_, cands := m.candidates(line)
	name, _, hasArg := strings.Cut(strings.TrimLeft(line, " "), " ")
	if hasArg || len(cands) == 1 {
		for _, c := range m.commands() {
			if c.name == name || len(cands) == 1 && c.name == cands[0] {
				return c.name + suffix(" ", c.args) + " — " + c.desc
			}
		}
	}
	if len(cands) == 0 {
		return "✗ no such command"
	}
	return strings.Join(cands, " ")
}

// runCommand runs a command line.
func (m *Model) runCommand(line string) tea.Cmd {
	name, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	arg = strings.TrimSpace(arg)
	idx := slices.IndexFunc(m.commands(), func(c command) bool { return c.name == name })
	if idx < 0 {
		if name != "" {
			m.flash("no such command: "+name+" (tab completes)", true)
		}
		return nil
	}
	if c := m.commands()[idx]; c.run != nil {
		return m.runExtra(c)
	}
	m.text = nil // a built-in command shows its effect on the panes
	switch name {
	case "filter":
		f, err := state.ParseFilter(arg)
		if err != nil {
			m.flash("filter: "+err.Error(), true)
			return nil
		}
		if len(f.Terms) == 0 {
			f = nil
		}
		m.setFilter(arg, f)
	case "clear":
		m.setFilter("", nil)
	case "passwords":
		// The filter preset: every console password created or changed,
		// and by whom (root's at the sign-in page included).
		f, _ := state.ParseFilter(PasswordsFilter)
		m.setFilter(PasswordsFilter, f)
		m.flash("stream: console passwords created or changed (the principal column says by whom; enter shows whose)", false)
	case "hunt":
		return m.startHunt(arg)
	case "note":
		return m.recordNote(arg)
	case "suspect", "unsuspect":
		s, ok := m.selected()
		if !ok {
			m.flash(name+": nothing selected", true)
			return nil
		}
		k, a, ok := s.suspectMark()
		if !ok {
			m.flash(name+": select a key or a principal", true)
			return nil
		}
		if m.sus.IsMarked(k+a) != (name == "unsuspect") {
			m.flash(name+": "+clean(k+a)+" is already "+map[bool]string{true: "marked", false: "not marked"}[name == "suspect"], true)
			return nil
		}
		return m.toggleSuspect()
	case "deactivate":
		return m.requestPlan(ActionDeactivateKey)
	case "revoke":
		return m.requestPlan(ActionRevokeSessions)
	case "quarantine":
		return m.requestPlan(ActionQuarantine)
	case "contain":
		return m.requestPlan(ActionContainAll)
	case "block-ip":
		return m.requestBlockIP(arg)
	case "password-reset":
		return m.requestPlan(ActionPasswordReset)
	case "focus":
		i := slices.Index(paneNames[:], arg)
		if i < 0 {
			m.flash("focus: no pane "+arg, true)
			return nil
		}
		m.setFocus(paneID(i))
	case "zoom":
		m.zoom = !m.zoom
		m.applySizes()
	case "follow":
		m.stream.Follow()
		m.journal.Follow()
	case "detail":
		return m.openDetail()
	case "findings":
		m.text = newTextView("GuardDuty findings", findingsText(m.vctx()))
		m.applySizes()
	case "impact":
		m.openImpact()
	case "copy":
		return m.copySelection()
	case "theme":
		if err := m.setTheme(arg); err != nil {
			m.flash(err.Error(), true)
		}
	case "help":
		m.help, m.helpTop = true, 0
	case "quit":
		m.dialog = newQuitDialog(m.opts.Now(), m.opts.ConfirmDelay)
	}
	return nil
}

// runExtra runs a program-supplied command in a tea.Cmd; its text opens in
// the text view when it comes back (resultMsg, taskCommand).
func (m *Model) runExtra(c command) tea.Cmd {
	id := m.nextID()
	m.textReq = id
	m.flash(c.name+"…", false)
	run, ctx, name := c.run, m.ctx, c.name
	return func() tea.Msg {
		text, err := run(ctx)
		return resultMsg{ID: id, Kind: taskCommand, Name: name, Text: text, Err: err}
	}
}
