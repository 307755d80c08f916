// Package tui is warroom's console: one root bubbletea model that owns
// Update, four imperative panes (stream, principals, regions, journal), a
// detail view, dialogs, a command line, and a key map that is data.
//
// The screen is a fold over the journal: entries arrive through a Feed and
// are applied to the store on the update loop; everything drawn is read
// from the store. Update never does I/O: journaling a note, reading a raw
// record, planning or running a containment action all happen in a
// tea.Cmd whose answer comes back in one envelope type, resultMsg.
package tui

import (
	"context"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
	"github.com/warroom-ir/warroom/themes"
)

// defaultConfirmDelay is how long a new dialog ignores keys.
const defaultConfirmDelay = 400 * time.Millisecond

// inputKind is which text input has the keyboard.
type inputKind int

const (
	inputNone inputKind = iota
	inputFilter
	inputCommand
	inputNote
	inputSeek
	inputPaneFilter
)

// taskKind is what an asynchronous task was for.
type taskKind int

const (
	taskNote taskKind = iota + 1
	taskSuspect
	taskPlan
	taskRun
	taskRaw
	taskCommand
	taskHunt
	taskReach // reach.go
)

// resultMsg is the one envelope every asynchronous answer comes back in.
// ID is the request it answers, so a late answer to an old request (a plan
// for a selection since changed, a raw record for a closed detail view) is
// recognised and dropped.
type resultMsg struct {
	ID    int
	Kind  taskKind
	Pane  paneID
	Entry journal.Entry // note, suspect: the entry journaled
	Plan  Plan          // plan
	Ref   state.EventRef
	Raw   []byte // raw: the record
	Name  string // command: its name
	Text  string // command: what it returned
	Err   error
}

// feedMsg carries one or more coalesced batches from the Feed.
type feedMsg struct {
	entries []journal.Entry
	closed  bool
}

// tickMsg redraws the clock and countdowns.
type tickMsg time.Time

// maxCoalesce bounds how many ready batches one feed message takes, so the
// loop keeps answering keys during a flood.
const maxCoalesce = 256

// waitFeed reads one batch from the feed, plus any batches already waiting,
// and returns them as one message. It captures only the channel.
func waitFeed(f Feed) tea.Cmd {
	return func() tea.Msg {
		b, ok := <-f
		if !ok {
			return feedMsg{closed: true}
		}
		var out []journal.Entry
		for n := 0; n < maxCoalesce; n++ {
			select {
			case more, ok := <-f:
				if out == nil {
					out = append(make([]journal.Entry, 0, len(b)+len(more)), b...)
				}
				out = append(out, more...)
				if !ok {
					return feedMsg{entries: out, closed: true}
				}
				continue
			default:
			}
			break
		}
		if out == nil {
			out = b
		}
		return feedMsg{entries: out}
	}
}

// Model is the console's root model. It owns Update; the panes, the detail
// view and the dialogs are plain structs it drives.
type Model struct {
	opts  Options
	ctx   context.Context
	store *state.Store
	theme themes.Theme
	keys  KeyMap
	// autoTheme: pick dark or light when the terminal reports its background.
	autoTheme bool
	themeErr  string

	width, height int
	lay           layout
	focus         paneID
	zoom          bool
	panes         [numPanes]pane
	stream        *streamPane
	principals    *principalsPane
	regions       *regionsPane
	journal       *journalPane
	detail        *detailView
	help          bool
	helpTop       int
	// text shows what a program-supplied command returned (nil: closed).
	text *textView
	// extra are the program's commands (Options.Commands), checked.
	extra []command

	input     lineInput
	inputKind inputKind
	inputHint string // the filter's parse error, completion candidates

	dialog *dialog

	// wide shows every column (ctrl+w); copyFor and copyIdx are the
	// selection Y last copied a field of, and which.
	wide    bool
	copyFor string
	copyIdx int

	message    string
	messageErr bool

	lastID  int
	planReq int
	// runs are the confirmed plans still running, oldest first: the status
	// line says so until each returns (a key press does not hide it).
	runs    []runState
	textReq int // the command whose text is awaited (0: none)
	hunt    huntState
	sus     *state.SuspectSet
	susSeq  int64
	closed  bool // the feed ended
	feedErr string

	// tl is the replay timeline, nil unless replaying.
	tl *timeline
	// ticker, when set, replaces play's timer (tests step play by hand).
	ticker func(gen int) tea.Cmd
	// gd caches the status line's GuardDuty part (guardduty.go).
	gd gdCache
}

// New returns the console's root model.
func New(opts Options) *Model {
	if opts.Store == nil {
		opts.Store = state.NewStore()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ConfirmDelay == 0 {
		opts.ConfirmDelay = defaultConfirmDelay
	}
	if opts.Mode == "" {
		opts.Mode = ModeReplay
	}
	if opts.Lock != nil {
		opts.Lock.Lock()
		defer opts.Lock.Unlock()
	}
	m := &Model{
		opts:       opts,
		ctx:        context.Background(),
		store:      opts.Store,
		keys:       DefaultKeyMap(opts.readOnly()),
		stream:     newStreamPane(),
		principals: newPrincipalsPane(),
		regions:    newRegionsPane(),
		journal:    newJournalPane(),
		extra:      extraCommands(opts.Commands),
	}
	m.panes = [numPanes]pane{m.stream, m.principals, m.regions, m.journal}
	m.autoTheme = !opts.NoColor && (opts.Theme == "" || opts.Theme == themes.Auto)
	th, err := themes.Select(opts.Theme, opts.NoColor, true)
	if err != nil {
		m.themeErr = err.Error()
		th = themes.Dark()
	}
	m.theme = th
	if m.themeErr != "" {
		m.flash(m.themeErr, true)
	}
	if opts.Journal == nil {
		m.keys.Note.SetEnabled(false)
		m.keys.Suspect.SetEnabled(false)
	}
	if opts.Replay != nil {
		m.tl = newTimeline(opts.Replay, opts.Store)
	} else {
		for _, b := range m.keys.replay() {
			b.SetEnabled(false)
		}
	}
	if opts.Filter != "" {
		if f, err := state.ParseFilter(opts.Filter); err != nil {
			m.flash("initial filter: "+err.Error(), true)
		} else {
			m.stream.SetFilter(f.String(), f)
		}
	}
	m.stream.Focus()
	m.refresh()
	return m
}

// ThemeError returns why the requested theme could not be used ("" when it
// could); the console then uses the dark theme.
func (m *Model) ThemeError() string { return m.themeErr }

// Init implements tea.Model: start reading the feed, the clock, and ask the
// terminal for its background colour when the theme is automatic.
func (m *Model) Init() tea.Cmd {
	var cmds []tea.Cmd
	if m.opts.Feed != nil {
		cmds = append(cmds, waitFeed(m.opts.Feed))
	}
	if !m.opts.NoTick {
		cmds = append(cmds, tick())
	}
	if m.autoTheme {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// vctx builds the context panes draw with.
func (m *Model) vctx() *viewCtx {
	now := m.opts.Now()
	if m.tl != nil {
		// A replay reads as it did then: "5m ago" counts from the fact.
		if at := m.tl.asOf(); !at.IsZero() {
			now = at
		}
	}
	return &viewCtx{store: m.store, st: &m.theme.Styles, now: now, sus: m.sus}
}

// refresh recomputes what depends on the store after it changed.
func (m *Model) refresh() {
	if m.sus == nil || m.susSeq != m.store.Seq {
		m.sus = m.store.SuspectSet()
		m.susSeq = m.store.Seq
	}
	v := m.vctx()
	for _, p := range m.panes {
		p.Refresh(v)
	}
}

// Update implements tea.Model. It never blocks: I/O happens in Cmds.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if l := m.opts.Lock; l != nil {
		l.Lock()
		defer l.Unlock()
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
	case tea.BackgroundColorMsg:
		if m.autoTheme {
			th, _ := themes.Select(themes.Auto, false, msg.IsDark())
			m.theme = th
		}
	case tickMsg:
		return m, tick()
	case feedMsg:
		m.apply(msg.entries)
		m.refreshDetail(msg.entries)
		if msg.closed {
			m.closed = true
			if m.opts.FeedDone != nil {
				if err := m.opts.FeedDone(); err != nil {
					m.feedErr = "✗ " + string(m.opts.Mode) + " stopped: " + err.Error()
					m.resize(m.width, m.height)
				}
			}
			return m, nil
		}
		return m, waitFeed(m.opts.Feed)
	case resultMsg:
		return m, m.result(msg)
	case huntProgressMsg:
		return m, m.huntProgress(msg)
	case playTickMsg:
		return m, m.playTick(msg)
	case replayMsg:
		return m, m.replayed(msg)
	case tea.PasteMsg:
		if m.inputKind != inputNone {
			m.input.Paste(msg.Content)
			m.inputChanged()
		} else if m.dialog != nil && m.dialog.typesName() && m.dialog.armed(m.opts.Now()) {
			m.dialog.typed.Paste(msg.Content)
			m.dialog.typedChanged()
		}
	case tea.MouseClickMsg:
		return m, m.click(msg)
	case tea.MouseWheelMsg:
		m.wheel(msg)
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

// apply folds entries into the store. Entries already applied (the console
// may have applied its own entry before the feed brought it) are skipped.
func (m *Model) apply(entries []journal.Entry) {
	for _, e := range entries {
		if m.store.Seq != 0 && e.Seq <= m.store.Seq {
			continue
		}
		if err := m.store.Apply(e); err != nil {
			m.flash("journal: "+err.Error(), true)
		}
	}
	if len(entries) > 0 {
		m.refresh()
	}
}

// flash shows a one-line message in the footer until the next key.
func (m *Model) flash(s string, isErr bool) {
	m.message, m.messageErr = clean(s), isErr
}

func (m *Model) nextID() int {
	m.lastID++
	return m.lastID
}

// result handles an asynchronous answer.
func (m *Model) result(r resultMsg) tea.Cmd {
	switch r.Kind {
	case taskNote, taskSuspect:
		if r.Err != nil {
			m.flash("could not journal: "+r.Err.Error(), true)
			return nil
		}
		if m.opts.Feed == nil && r.Entry.Seq == m.store.Seq+1 {
			m.apply([]journal.Entry{r.Entry})
		}
		if r.Kind == taskNote {
			m.flash("note journaled", false)
		} else {
			m.flash("suspect mark journaled", false)
		}
	case taskPlan:
		if r.ID != m.planReq {
			return nil // an answer to a request since replaced
		}
		m.planReq = 0
		if r.Err != nil {
			m.flash("no plan: "+r.Err.Error(), true)
			return nil
		}
		m.message = ""
		m.dialog = newPlanDialog(r.Plan, m.opts.Now(), m.opts.ConfirmDelay)
	case taskRun:
		m.runs = slices.DeleteFunc(m.runs, func(x runState) bool { return x.id == r.ID })
		if r.Err != nil {
			m.flash("action failed to start: "+r.Err.Error(), true)
		} else {
			m.flash("plan sent: its intent, results and verification appear in the journal", false)
		}
	case taskRaw:
		if m.detail != nil && m.detail.req == r.ID {
			m.detail.setRaw(r.Raw, r.Err)
		}
	case taskHunt:
		m.huntDone(r)
	case taskReach:
		m.reachDone(r)
	case taskCommand:
		if r.ID != m.textReq {
			return nil // a command run again since
		}
		m.textReq = 0
		if r.Err != nil {
			m.flash(r.Name+": "+r.Err.Error(), true)
			return nil
		}
		m.message = ""
		m.text = newTextView(r.Name, r.Text)
		m.applySizes()
	}
	return nil
}

// key routes a key press: ctrl+c, then an open dialog, then a focused text
// input, then global keys, then the focused pane.
func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	if key.Matches(msg, k.ForceQuit) {
		return tea.Quit
	}
	if m.dialog != nil {
		return m.dialogKey(msg)
	}
	if m.inputKind != inputNone {
		return m.inputKey(msg)
	}
	m.message = ""
	if m.help {
		switch {
		case key.Matches(msg, k.Help, k.Back):
			m.help = false
		case key.Matches(msg, k.Quit):
			m.dialog = newQuitDialog(m.opts.Now(), m.opts.ConfirmDelay)
		case m.navigate(msg, m.helpNavigate):
		default:
			m.flash(keyName(msg)+": not a key in help (esc or ? closes it)", true)
		}
		return nil
	}
	if m.text != nil {
		switch {
		case key.Matches(msg, k.Back):
			m.text = nil
		case key.Matches(msg, k.Command):
			m.openInput(inputCommand, ":", "")
		case key.Matches(msg, k.Quit):
			m.dialog = newQuitDialog(m.opts.Now(), m.opts.ConfirmDelay)
		case m.navigate(msg, m.text.Navigate):
		default:
			m.flash(keyName(msg)+": not a key here (esc closes this view)", true)
		}
		return nil
	}
	if cmd, ok := m.timelineKey(msg); ok {
		return cmd
	}
	if b, ok := m.disabledKey(msg); ok {
		m.flash(m.refusal(b), true)
		return nil
	}
	switch {
	case key.Matches(msg, k.Quit):
		m.dialog = newQuitDialog(m.opts.Now(), m.opts.ConfirmDelay)
	case key.Matches(msg, k.Help):
		m.help, m.helpTop = true, 0
	case key.Matches(msg, k.Command):
		m.openInput(inputCommand, ":", "")
	case key.Matches(msg, k.Filter) && m.focus != paneStream && m.detail == nil:
		m.openPaneFilter()
	case key.Matches(msg, k.Filter):
		// The current filter, ready to refine: a typed term is ANDed.
		value := m.stream.filterText
		if value != "" {
			value += " "
		}
		m.openInput(inputFilter, "/", value)
	case key.Matches(msg, k.Note):
		m.openInput(inputNote, "note:", "")
	case key.Matches(msg, k.NextPane):
		m.setFocus((m.focus + 1) % numPanes)
	case key.Matches(msg, k.PrevPane):
		m.setFocus((m.focus + numPanes - 1) % numPanes)
	case key.Matches(msg, k.FocusPane):
		m.setFocus(paneID(msg.Text[0] - '1'))
	case key.Matches(msg, k.Zoom):
		m.zoom = !m.zoom
		m.applySizes()
	case key.Matches(msg, k.Back):
		m.back()
	case key.Matches(msg, k.Detail):
		return m.openDetail()
	case key.Matches(msg, k.Copy):
		return m.copySelection()
	case key.Matches(msg, k.CopyMore):
		return m.copyMore()
	case key.Matches(msg, k.Sort, k.SortReverse):
		m.sortFocused(key.Matches(msg, k.SortReverse))
	case key.Matches(msg, k.Wide):
		m.toggleWide()
	case key.Matches(msg, k.ScrollLeft, k.ScrollRight) && m.detail == nil:
		n := 8
		if key.Matches(msg, k.ScrollLeft) {
			n = -8
		}
		m.scrollFocused(n)
	case key.Matches(msg, k.Suspect):
		return m.toggleSuspect()
	case key.Matches(msg, k.Reach):
		return m.requestReach()
	case key.Matches(msg, k.Deactivate):
		return m.requestPlan(ActionDeactivateKey)
	case key.Matches(msg, k.Revoke):
		return m.requestPlan(ActionRevokeSessions)
	case key.Matches(msg, k.Quarantine):
		return m.requestPlan(ActionQuarantine)
	case key.Matches(msg, k.ContainAll):
		return m.requestPlan(ActionContainAll)
	case key.Matches(msg, k.PasswordReset):
		return m.requestPlan(ActionPasswordReset)
	case key.Matches(msg, k.PivotKey, k.PivotPrincipal, k.PivotIP):
		m.pivot(msg)
	case key.Matches(msg, k.ClearFilter):
		if !m.clearPaneFilter() {
			m.setFilter("", nil)
		}
	case key.Matches(msg, k.Follow):
		m.stream.Follow()
		m.journal.Follow()
	case key.Matches(msg, k.Routine):
		if m.focus != paneJournal {
			m.flash("e shows routine facts in the journal pane: press 4 first", true)
			return nil
		}
		m.journal.ToggleRoutine()
		m.refresh()
	case m.detail != nil && m.navigate(msg, m.detail.Navigate):
	case m.detail == nil && m.navigate(msg, m.panes[m.focus].Navigate):
	default:
		if unbound(msg) {
			m.flash(keyName(msg)+": not a key here (? lists the keys that apply)", true)
		}
	}
	return nil
}

// navigate moves with to for a movement key and reports whether msg was
// one; half pages are as many single steps as half the visible rows.
func (m *Model) navigate(msg tea.KeyPressMsg, to func(nav)) bool {
	k := &m.keys
	steps, n := 1, navUp
	switch {
	case key.Matches(msg, k.Up):
	case key.Matches(msg, k.Down):
		n = navDown
	case key.Matches(msg, k.PageUp):
		n = navPageUp
	case key.Matches(msg, k.PageDown):
		n = navPageDown
	case key.Matches(msg, k.Top):
		n = navTop
	case key.Matches(msg, k.Bottom):
		n = navBottom
	case key.Matches(msg, k.HalfUp):
		steps = m.halfPage()
	case key.Matches(msg, k.HalfDown):
		steps, n = m.halfPage(), navDown
	default:
		return false
	}
	for range steps {
		to(n)
	}
	return true
}

// halfPage is half the rows of the focused pane or view.
func (m *Model) halfPage() int {
	s := m.lay.panes[m.focus]
	if m.lay.compact || m.zoom || m.detail != nil || m.text != nil || m.help {
		s = m.lay.single
	}
	return max((s.h-2)/2, 1)
}

// helpNavigate scrolls the help screen.
func (m *Model) helpNavigate(n nav) {
	switch n {
	case navUp:
		m.helpTop--
	case navDown:
		m.helpTop++
	case navPageUp:
		m.helpTop -= max(m.lay.single.h-3, 1)
	case navPageDown:
		m.helpTop += max(m.lay.single.h-3, 1)
	case navTop:
		m.helpTop = 0
	case navBottom:
		m.helpTop = 1 << 20
	}
	m.helpTop = max(m.helpTop, 0)
}

// back closes what is open, innermost first.
func (m *Model) back() {
	switch {
	case m.detail != nil:
		m.detail = nil
	case m.focus == paneRegions && m.regions.Back():
	case m.zoom:
		m.zoom = false
		m.applySizes()
	}
}

func (m *Model) setFocus(p paneID) {
	if p < 0 || p >= numPanes {
		return
	}
	m.panes[m.focus].Blur()
	m.focus = p
	m.panes[p].Focus()
	m.detail = nil
	m.applySizes()
}

// selected returns the selection of the detail view or the focused pane.
func (m *Model) selected() (selection, bool) {
	if m.detail != nil {
		return m.detail.sel, true
	}
	return m.panes[m.focus].Selected(m.vctx())
}

// openInput gives the keyboard to a text input.
func (m *Model) openInput(kind inputKind, prompt, value string) {
	m.inputKind = kind
	m.input = lineInput{prompt: prompt}
	m.input.SetValue(value)
	m.inputChanged()
}

// inputChanged updates the live hint under an input.
func (m *Model) inputChanged() {
	m.inputHint = ""
	switch m.inputKind {
	case inputFilter:
		if _, err := state.ParseFilter(m.input.Value()); err != nil {
			m.inputHint = "✗ " + err.Error()
		} else {
			// What a newcomer cannot guess: the fields it knows.
			names, flags := state.FilterFields()
			m.inputHint = "fields: " + strings.Join(names, ": ") + ": · " + strings.Join(flags, " ") + " · -term excludes"
		}
	case inputCommand:
		m.inputHint = m.commandHint(m.input.Value())
	}
}

// inputKey handles a key while a text input has the keyboard: q and every
// other printable key are text here.
func (m *Model) inputKey(msg tea.KeyPressMsg) tea.Cmd {
	switch msg.String() {
	case "esc":
		m.inputKind = inputNone
		return nil
	case "enter":
		kind, text := m.inputKind, m.input.Value()
		if kind == inputFilter {
			f, err := state.ParseFilter(text)
			if err != nil {
				m.inputHint = "✗ " + err.Error()
				return nil // stay open, error shown inline
			}
			m.inputKind = inputNone
			if len(f.Terms) == 0 {
				f = nil
			}
			m.setFilter(text, f)
			return nil
		}
		if kind == inputSeek {
			return m.seekInput(text) // a bad position keeps the prompt open
		}
		m.inputKind = inputNone
		switch kind {
		case inputCommand:
			return m.runCommand(text)
		case inputNote:
			return m.recordNote(text)
		case inputPaneFilter:
			m.setPaneFilter(text)
		}
		return nil
	case "tab":
		if m.inputKind == inputCommand {
			m.input.SetValue(m.completeCommand(m.input.Value()))
			m.inputChanged()
		}
		return nil
	}
	if m.input.Key(msg) {
		m.inputChanged()
	}
	return nil
}

// setFilter applies a stream filter and shows the stream.
func (m *Model) setFilter(text string, f *state.Filter) {
	m.stream.SetFilter(text, f)
	m.stream.Refresh(m.vctx())
	if m.focus != paneStream {
		m.setFocus(paneStream)
	}
}

// pivot filters the stream on the selection's key, principal or IP.
func (m *Model) pivot(msg tea.KeyPressMsg) {
	s, ok := m.selected()
	if !ok {
		return
	}
	keyID, arn, ip := s.key, s.arn, ""
	if s.kind == selEvent {
		keyID, arn, ip = s.event.AccessKeyID, s.event.Principal, s.event.SourceIP
	}
	var t state.Term
	switch {
	case key.Matches(msg, m.keys.PivotKey) && keyID != "":
		t = state.Term{Field: state.FieldKey, Value: []string{keyID}}
	case key.Matches(msg, m.keys.PivotPrincipal) && arn != "":
		t = state.Term{Field: state.FieldPrincipal, Value: []string{arn}}
	case key.Matches(msg, m.keys.PivotIP) && ip != "":
		t = state.Term{Field: state.FieldIP, Value: []string{ip}}
	default:
		m.flash("nothing to pivot on here", true)
		return
	}
	f := &state.Filter{Terms: []state.Term{t}}
	m.detail = nil
	m.setFilter(f.String(), f)
}

// openDetail opens the selection in full; in the Regions grid, enter lists
// the Region's resources instead.
func (m *Model) openDetail() tea.Cmd {
	if m.detail != nil {
		return nil
	}
	v := m.vctx()
	if m.focus == paneRegions && m.regions.Enter(v) {
		return nil
	}
	s, ok := m.panes[m.focus].Selected(v)
	if !ok {
		m.flash("nothing selected to open: the "+paneNames[m.focus]+" pane is empty", true)
		return nil
	}
	m.detail = newDetail(v, s)
	m.applySizes()
	if s.kind != selEvent || m.opts.JournalPath == "" {
		return nil
	}
	id := m.nextID()
	m.detail.req = id
	m.detail.rawNote = "reading the raw record…"
	path, ref := m.opts.JournalPath, s.event.Ref
	return func() tea.Msg {
		raw, err := state.NewRawReader(path).Raw(ref)
		return resultMsg{ID: id, Kind: taskRaw, Ref: ref, Raw: raw, Err: err}
	}
}

// copySelection copies the selection's id or ARN through OSC 52 (y).
func (m *Model) copySelection() tea.Cmd { return m.copyField(false) }

// copyMore copies the selection's next field (Y): the first press after y
// copies the second field, and so on round.
func (m *Model) copyMore() tea.Cmd { return m.copyField(true) }

// copyField copies the selection's first field, or with next the one after
// the field copied last from the same selection.
func (m *Model) copyField(next bool) tea.Cmd {
	s, ok := m.selected()
	if !ok {
		m.flash("nothing selected to copy", true)
		return nil
	}
	fs := s.copyFields()
	if len(fs) == 0 {
		m.flash("the selected row has no id to copy", true)
		return nil
	}
	if id := fs[0].value; !next || id != m.copyFor {
		m.copyFor, m.copyIdx = id, 0
		if next {
			m.copyIdx = 1 % len(fs)
		}
	} else {
		m.copyIdx = (m.copyIdx + 1) % len(fs)
	}
	f := fs[m.copyIdx]
	text := clean(f.value)
	more := ""
	switch {
	case next:
		more = "; Y: the next field"
	case len(fs) > 1:
		more = "; Y copies the other fields"
	}
	m.flash("copied "+text+" ("+f.name+more+")", false)
	return tea.SetClipboard(text)
}

// toggleSuspect journals a suspect mark for the selection, or clears it.
func (m *Model) toggleSuspect() tea.Cmd {
	if m.opts.Journal == nil {
		m.flash(m.refusal(m.keys.Suspect), true)
		return nil
	}
	s, ok := m.selected()
	if !ok {
		m.flash("nothing selected to mark: select a key or a principal", true)
		return nil
	}
	keyID, arn, ok := s.suspectMark()
	if !ok {
		m.flash("select a key or a principal to mark", true)
		return nil
	}
	mark := state.Suspect{AccessKeyID: keyID, PrincipalARN: arn, Reason: "marked in the console"}
	if m.sus.IsMarked(keyID + arn) {
		mark = state.Suspect{AccessKeyID: keyID, PrincipalARN: arn, Clear: true}
	}
	j, id := m.opts.Journal, m.nextID()
	return func() tea.Msg {
		e, err := j.Record(state.KindSuspect, mark)
		return resultMsg{ID: id, Kind: taskSuspect, Entry: e, Err: err}
	}
}

// recordNote journals a note.
func (m *Model) recordNote(text string) tea.Cmd {
	text = strings.TrimSpace(text)
	if m.opts.Journal == nil {
		m.flash(m.refusal(m.keys.Note), true)
		return nil
	}
	if text == "" {
		m.flash("empty note: nothing journaled", true)
		return nil
	}
	j, id := m.opts.Journal, m.nextID()
	note := state.Note{Text: text}
	return func() tea.Msg {
		e, err := j.Record(state.KindNote, note)
		return resultMsg{ID: id, Kind: taskNote, Entry: e, Err: err}
	}
}

// requestPlan asks the containment engine for a plan for the selection.
func (m *Model) requestPlan(action string) tea.Cmd {
	if m.opts.readOnly() {
		m.flash(m.refusal(m.keys.Deactivate), true)
		return nil
	}
	s, ok := m.selected()
	if !ok {
		m.flash("nothing selected to contain", true)
		return nil
	}
	t, ok := s.target()
	if !ok {
		m.flash("nothing here to contain", true)
		return nil
	}
	id := m.nextID()
	m.planReq = id
	m.flash("planning "+action+" for "+t.ID+"…", false)
	c, ctx := m.opts.Containment, m.ctx
	return func() tea.Msg {
		p, err := c.Plan(ctx, action, t)
		return resultMsg{ID: id, Kind: taskPlan, Plan: p, Err: err}
	}
}

// dialogKey handles a key while a dialog is open. Every key says what it
// did or why it did nothing: a cancel is never silent.
func (m *Model) dialogKey(msg tea.KeyPressMsg) tea.Cmd {
	d, k := m.dialog, &m.keys
	if !d.armed(m.opts.Now()) {
		// Keys typed for the screen before must not act here.
		m.flash("the dialog ignores keys for a moment after it opens: read it first", true)
		return nil
	}
	m.message = ""
	switch {
	case key.Matches(msg, k.Cancel):
		m.cancelDialog()
	case key.Matches(msg, k.Confirm):
		return m.pressButton(d.button)
	case key.Matches(msg, k.Switch):
		d.button = 1 - d.button
	case d.kind == dialogPlan && !(d.typesName() && msg.Text != "") && m.navigate(msg, d.navigate):
	case d.typesName() && d.typed.Key(msg):
		d.typedChanged()
	default:
		m.flash(keyName(msg)+": not a key in this dialog (tab switches, enter presses the focused button, esc cancels)", true)
	}
	return nil
}

// pressButton acts as the dialog's button b does.
func (m *Model) pressButton(b int) tea.Cmd {
	d := m.dialog
	if b == buttonCancel {
		m.cancelDialog()
		return nil
	}
	if d.kind == dialogQuit {
		return tea.Quit
	}
	if !d.canConfirm() {
		d.button = buttonOK
		m.flash(d.refusal(), true)
		return nil
	}
	m.dialog = nil
	return m.runPlan(d.plan)
}

// cancelDialog closes the dialog and says so.
func (m *Model) cancelDialog() {
	d := m.dialog
	m.dialog = nil
	if d.kind == dialogQuit {
		m.flash("quit cancelled", false)
		return
	}
	m.flash("cancelled: "+d.what()+" was not run; nothing was sent to AWS or journaled", false)
}

// runPlan carries a confirmed plan out.
func (m *Model) runPlan(p Plan) tea.Cmd {
	if m.opts.readOnly() {
		return nil
	}
	c, ctx, id := m.opts.Containment, m.ctx, m.nextID()
	m.flash("running "+p.Title+"…", false)
	m.runs = append(m.runs, runState{id: id, title: p.Title, since: m.opts.Now(), seq: m.store.Seq})
	return func() tea.Msg {
		return resultMsg{ID: id, Kind: taskRun, Err: c.Run(ctx, p)}
	}
}

// The root model is the help.KeyMap: help shows what applies now.
var _ help.KeyMap = (*Model)(nil)

// ShortHelp implements help.KeyMap: the keys that apply now.
func (m *Model) ShortHelp() []key.Binding {
	k := m.keys
	switch {
	case m.dialog != nil:
		return []key.Binding{k.Switch, k.Confirm, k.Cancel}
	case m.inputKind != inputNone:
		b := []key.Binding{k.Confirm, k.Cancel}
		if m.inputKind == inputCommand {
			b = append(b, k.Complete)
		}
		return b
	case m.help:
		return []key.Binding{k.Back, k.PageDown, k.PageUp, k.Down, k.Up}
	case m.text != nil:
		return m.text.ShortHelp(k)
	case m.detail != nil:
		return hintOrder(append([]key.Binding{k.Help, k.Back, k.Suspect, k.Deactivate, k.ContainAll}, m.detail.ShortHelp(k)...))
	}
	// Most important first: the footer drops from the end what does not fit.
	b := []key.Binding{k.Help}
	if m.tl != nil {
		b = append(b, k.PlayPause, k.StepForward, k.StepBack, k.NextMark, k.Seek)
	}
	b = append(b, k.Suspect, k.Deactivate, k.ContainAll)
	b = append(b, m.panes[m.focus].ShortHelp(k)...)
	return hintOrder(append(b, k.Command, k.NextPane, k.Zoom, k.Quit))
}

// hintOrder drops the later repeats of a binding (by its help key).
func hintOrder(bs []key.Binding) []key.Binding {
	seen := map[string]bool{}
	out := bs[:0:0]
	for _, b := range bs {
		if h := b.Help().Key; !seen[h] {
			seen[h] = true
			out = append(out, b)
		}
	}
	return out
}

// FullHelp implements help.KeyMap: the focused pane's keys, then the global
// groups (containment only when it is enabled).
func (m *Model) FullHelp() [][]key.Binding {
	out := m.panes[m.focus].FullHelp(m.keys)
	for _, g := range m.keys.Groups() {
		if g.Name == "Lists" || g.Name == "Stream" {
			continue
		}
		out = append(out, g.Bindings)
	}
	return out
}
