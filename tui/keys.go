package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// KeyMap is every key binding of the console. Keys are data: the help
// screen, the short help line and the README's table are all generated from
// it.
type KeyMap struct {
	// Global.
	ForceQuit key.Binding
	Quit      key.Binding
	Help      key.Binding
	Command   key.Binding
	Filter    key.Binding
	Note      key.Binding
	NextPane  key.Binding
	PrevPane  key.Binding
	FocusPane key.Binding
	Zoom      key.Binding
	Detail    key.Binding
	Back      key.Binding
	Copy      key.Binding
	Suspect   key.Binding

	// Moving in a list.
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	HalfUp   key.Binding
	HalfDown key.Binding
	Top      key.Binding
	Bottom   key.Binding
	Follow   key.Binding
	// Sort cycles the focused list's sort column; SortReverse flips it.
	Sort        key.Binding
	SortReverse key.Binding
	// Wide shows every column of the lists (k9s ctrl+w).
	Wide key.Binding
	// ScrollLeft and ScrollRight move a wide table sideways.
	ScrollLeft  key.Binding
	ScrollRight key.Binding
	// CopyMore copies the selection's other fields, one more each press.
	CopyMore key.Binding

	// Routine shows or hides the journal's routine facts.
	Routine key.Binding

	// Stream pivots.
	PivotKey       key.Binding
	Reach          key.Binding
	PivotPrincipal key.Binding
	PivotIP        key.Binding
	ClearFilter    key.Binding

	// Containment: dangerous, disabled in read-only mode.
	Deactivate key.Binding
	Revoke     key.Binding
	Quarantine key.Binding
	ContainAll key.Binding
	// PasswordReset plans a forced password reset for a user.
	PasswordReset key.Binding

	// Replay timeline: enabled only when replaying a journal.
	PlayPause   key.Binding
	Faster      key.Binding
	Slower      key.Binding
	StepForward key.Binding
	StepBack    key.Binding
	NextMark    key.Binding
	PrevMark    key.Binding
	Seek        key.Binding

	// The mouse (no key press ever matches these: mouse.go handles them).
	Click key.Binding
	Wheel key.Binding

	// Dialogs and inputs.
	Confirm  key.Binding
	Cancel   key.Binding
	Switch   key.Binding
	Complete key.Binding
}

// DefaultKeyMap returns the console's bindings. With readOnly the
// containment bindings are disabled: inert, and absent from help.
func DefaultKeyMap(readOnly bool) KeyMap {
	b := func(keys []string, help, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	k := KeyMap{
		ForceQuit: b([]string{"ctrl+c"}, "ctrl+c", "quit now"),
		Quit:      b([]string{"q"}, "q", "quit (asks first)"),
		Help:      b([]string{"?"}, "?", "help for what applies now"),
		Command:   b([]string{":"}, ":", "command line (tab completes)"),
		Filter:    b([]string{"/"}, "/", "filter the focused pane (stream: filter language; others: text, col:value)"),
		Note:      b([]string{"n"}, "n", "add a note to the journal"),
		NextPane:  b([]string{"tab"}, "tab", "next pane"),
		PrevPane:  b([]string{"shift+tab"}, "shift+tab", "previous pane"),
		FocusPane: b([]string{"1", "2", "3", "4"}, "1-4", "focus stream, principals, regions, journal"),
		Zoom:      b([]string{"z"}, "z", "zoom the pane full screen"),
		Detail:    b([]string{"enter"}, "enter", "open the selected item in full"),
		Back:      b([]string{"esc"}, "esc", "close, cancel, back"),
		Copy:      b([]string{"y"}, "y", "copy the key id or ARN (OSC 52)"),
		CopyMore:  b([]string{"Y"}, "Y", "copy another field (each press the next: event id, IP, …)"),
		Suspect:   b([]string{"s"}, "s", "mark or clear suspect"),
		Reach:     b([]string{"b"}, "b", "blast radius: Access Advisor of a principal, Config history of a resource"),

		Up:          b([]string{"up", "k"}, "↑/k", "up"),
		Down:        b([]string{"down", "j"}, "↓/j", "down"),
		PageUp:      b([]string{"pgup", "ctrl+b"}, "pgup", "page up"),
		PageDown:    b([]string{"pgdown", "ctrl+f"}, "pgdn", "page down"),
		Top:         b([]string{"home", "g"}, "g/home", "first row"),
		Bottom:      b([]string{"end", "G"}, "G/end", "last row"),
		HalfUp:      b([]string{"ctrl+u"}, "ctrl+u", "half a page up"),
		HalfDown:    b([]string{"ctrl+d"}, "ctrl+d", "half a page down"),
		Follow:      b([]string{"f"}, "f", "follow newest (stream, journal)"),
		Sort:        b([]string{"o"}, "o", "sort by the next column (shown in the title)"),
		SortReverse: b([]string{"O"}, "O", "reverse the sort"),
		Wide:        b([]string{"ctrl+w"}, "ctrl+w", "wide: every column (narrow: region and error go first, key, principal, source ip last)"),
		ScrollLeft:  b([]string{"left", "h"}, "←/h", "scroll a wide table left"),
		ScrollRight: b([]string{"right", "l"}, "→/l", "scroll a wide table right"),
		Routine:     b([]string{"e"}, "e", "show or hide routine facts (event batches, stream health, sweeps)"),

		PivotKey:       b([]string{"a"}, "a", "filter on this event's access key"),
		PivotPrincipal: b([]string{"p"}, "p", "filter on this event's principal"),
		PivotIP:        b([]string{"i"}, "i", "filter on this event's source IP"),
		ClearFilter:    b([]string{"x"}, "x", "clear the focused pane's filter (else the stream's)"),

		Deactivate:    b([]string{"D"}, "D", "plan: deactivate the access key"),
		Revoke:        b([]string{"R"}, "R", "plan: revoke temporary sessions"),
		Quarantine:    b([]string{"Q"}, "Q", "plan: quarantine (deny all)"),
		ContainAll:    b([]string{"C"}, "C", "plan: contain a suspect or an account"),
		PasswordReset: b([]string{"P"}, "P", "plan: require a new console password at next sign-in (user)"),

		PlayPause:   b([]string{"space"}, "space", "play or pause the replay"),
		Faster:      b([]string{">", "+"}, ">", "play faster (up to 1000×)"),
		Slower:      b([]string{"<", "-"}, "<", "play slower (down to 1×)"),
		StepForward: b([]string{"."}, ".", "step one fact forward"),
		StepBack:    b([]string{","}, ",", "step one fact back"),
		NextMark:    b([]string{"]"}, "]", "jump to the next action or note"),
		PrevMark:    b([]string{"["}, "[", "jump to the previous action or note"),
		Seek:        b([]string{"t"}, "t", "seek to a time, fact number, start or end"),

		Click: b([]string{"click"}, "click", "focus the pane and select the row; press a dialog button; pick a tab"),
		Wheel: b([]string{"wheel"}, "wheel", "scroll the list, help, view or plan under the pointer"),

		Confirm:  b([]string{"enter"}, "enter", "press the focused button"),
		Cancel:   b([]string{"esc"}, "esc", "cancel"),
		Switch:   b([]string{"tab", "shift+tab", "left", "right"}, "tab/←/→", "switch button"),
		Complete: b([]string{"tab"}, "tab", "complete a command"),
	}
	if readOnly {
		for _, c := range k.containment() {
			c.SetEnabled(false)
		}
	}
	return k
}

// replay returns pointers to the replay timeline's bindings.
func (k *KeyMap) replay() []*key.Binding {
	return []*key.Binding{&k.PlayPause, &k.Faster, &k.Slower, &k.StepForward, &k.StepBack, &k.NextMark, &k.PrevMark, &k.Seek}
}

// containment returns pointers to the dangerous bindings.
func (k *KeyMap) containment() []*key.Binding {
	return []*key.Binding{&k.Deactivate, &k.Revoke, &k.Quarantine, &k.ContainAll, &k.PasswordReset}
}

// KeyGroup is a named group of bindings, for help and the README.
type KeyGroup struct {
	Name      string
	Dangerous bool // containment: disabled in read-only mode
	Bindings  []key.Binding
}

// Groups returns every binding, grouped as help and the README show them.
func (k KeyMap) Groups() []KeyGroup {
	return []KeyGroup{
		{Name: "Anywhere", Bindings: []key.Binding{
			k.Help, k.Command, k.Filter, k.Note, k.NextPane, k.PrevPane, k.FocusPane, k.Zoom,
			k.Detail, k.Back, k.Copy, k.CopyMore, k.Suspect, k.Reach, k.Quit, k.ForceQuit,
		}},
		{Name: "Lists", Bindings: []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom, k.Follow, k.Sort, k.SortReverse, k.Wide, k.ScrollLeft, k.ScrollRight}},
		{Name: "Stream", Bindings: []key.Binding{k.PivotKey, k.PivotPrincipal, k.PivotIP, k.ClearFilter}},
		{Name: "Journal", Bindings: []key.Binding{k.Routine}},
		{Name: "Replay", Bindings: []key.Binding{k.PlayPause, k.Faster, k.Slower, k.StepForward, k.StepBack, k.NextMark, k.PrevMark, k.Seek}},
		{Name: "Containment", Dangerous: true, Bindings: []key.Binding{k.Deactivate, k.Revoke, k.Quarantine, k.ContainAll, k.PasswordReset}},
		{Name: "Mouse", Bindings: []key.Binding{k.Click, k.Wheel}},
		{Name: "Dialogs and inputs", Bindings: []key.Binding{k.Confirm, k.Cancel, k.Switch, k.Complete}},
	}
}

// KeysMarkdown renders the key map as the README's Markdown table. It lists
// every binding, enabled or not, and marks the dangerous ones.
func KeysMarkdown(k KeyMap) string {
	var sb strings.Builder
	sb.WriteString("| keys | what it does | where |\n|---|---|---|\n")
	esc := func(s string) string {
		s = strings.ReplaceAll(s, "|", `\|`)
		return s
	}
	for _, g := range k.Groups() {
		where := g.Name
		if g.Dangerous {
			where += " (previews a plan and asks to confirm; disabled in read-only mode)"
		}
		for _, b := range g.Bindings {
			keys := make([]string, len(b.Keys()))
			for i, s := range b.Keys() {
				keys[i] = "`" + esc(s) + "`"
			}
			sb.WriteString("| " + strings.Join(keys, " ") + " | " + esc(b.Help().Desc) + " | " + esc(where) + " |\n")
		}
	}
	return sb.String()
}

// keyName is how a key press is named in the flash line.
func keyName(msg tea.KeyPressMsg) string {
	if s := msg.String(); s != "" {
		return s
	}
	return "that key"
}

// unbound reports whether an unbound key press is worth a word: printable
// keys and chords, not a lone modifier or a key the terminal sends unasked.
func unbound(msg tea.KeyPressMsg) bool {
	return msg.Text != "" || msg.Mod&(tea.ModCtrl|tea.ModAlt) != 0
}

// disabledKey returns the disabled binding msg would have pressed.
func (m *Model) disabledKey(msg tea.KeyPressMsg) (key.Binding, bool) {
	s := msg.String()
	for _, g := range m.keys.Groups() {
		for _, b := range g.Bindings {
			if !b.Enabled() && slices.Contains(b.Keys(), s) {
				return b, true
			}
		}
	}
	return key.Binding{}, false
}

// refusal says why a disabled binding does nothing now, short enough
// for the footer at 80 columns.
func (m *Model) refusal(b key.Binding) string {
	h := b.Help()
	k := &m.keys
	mode := m.opts.Mode
	same := func(c *key.Binding) bool { return c.Help().Key == h.Key }
	switch {
	case slices.ContainsFunc(k.containment(), same):
		switch mode {
		case ModeFollow:
			return h.Key + ": off in follow mode — contain from the console that drives"
		case ModeReplay:
			return h.Key + ": off in a replay — it cannot act on AWS"
		case ModeReadOnly:
			return h.Key + ": off in read-only mode — start without --read-only to contain"
		}
		return h.Key + ": off — this console has no containment engine"
	case same(&k.Note) || same(&k.Suspect):
		if mode == ModeFollow {
			return h.Key + ": off in follow mode — a follower does not write the journal"
		}
		return h.Key + ": off — there is no journal to write to"
	case slices.ContainsFunc(k.replay(), same):
		return h.Key + ": works only in a replay (warroom replay JOURNAL)"
	}
	return h.Key + ": off here"
}

// hintWords are the footer's short words for bindings, by description,
// used when the full descriptions do not fit the width.
var hintWords = map[string]string{
	"help for what applies now":                 "help",
	"mark or clear suspect":                     "suspect",
	"plan: deactivate the access key":           "deactivate",
	"plan: contain a suspect or an account":     "contain",
	"plan: revoke temporary sessions":           "revoke",
	"plan: quarantine (deny all)":               "quarantine",
	"command line (tab completes)":              "commands",
	"filter the stream":                         "filter",
	"next pane":                                 "pane",
	"zoom the pane full screen":                 "zoom",
	"quit (asks first)":                         "quit",
	"open the selected item in full":            "open",
	"copy the id or ARN (OSC 52)":               "copy",
	"filter on this event's access key":         "key",
	"filter on this event's principal":          "principal",
	"filter on this event's source IP":          "ip",
	"follow newest (stream, journal)":           "follow",
	"add a note to the journal":                 "note",
	"close, cancel, back":                       "back",
	"play or pause the replay":                  "play",
	"step one fact forward":                     "step",
	"step one fact back":                        "back",
	"jump to the next action or note":           "next mark",
	"seek to a time, fact number, start or end": "seek",
	"press the focused button":                  "press",
	"switch button":                             "switch",
	"show or hide routine facts (event batches, stream health, sweeps)": "routine",
	"complete a command": "complete",
}

// hintWord is a binding's short word for the footer.
func hintWord(desc string) string {
	if w, ok := hintWords[desc]; ok {
		return w
	}
	if i := strings.IndexByte(desc, ' '); i > 0 {
		return desc[:i]
	}
	return desc
}
