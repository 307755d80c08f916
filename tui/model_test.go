package tui

import (
	"encoding/json"
	"image/color"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

func isQuit(c tea.Cmd) bool {
	if c == nil {
		return false
	}
	switch msg := c().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		for _, c := range msg {
			if isQuit(c) {
				return true
			}
		}
	}
	return false
}

// TestKeyRouting checks the routing order: ctrl+c, an open dialog, a
// focused text input, global keys, the focused pane.
func TestKeyRouting(t *testing.T) {
	tests := []struct {
		name    string
		keys    []tea.KeyPressMsg
		advance time.Duration // clock advance before the last key
		last    tea.KeyPressMsg
		quits   bool
		check   func(t *testing.T, m *Model)
	}{
		{name: "q asks before quitting", last: key1('q'), check: func(t *testing.T, m *Model) {
			if m.dialog == nil || m.dialog.kind != dialogQuit {
				t.Error("q did not open the quit dialog")
			}
		}},
		{name: "q is text in the filter", keys: []tea.KeyPressMsg{key1('/')}, last: key1('q'), check: func(t *testing.T, m *Model) {
			if m.dialog != nil || m.input.Value() != "q" {
				t.Errorf("dialog %v, input %q; want no dialog and q typed", m.dialog != nil, m.input.Value())
			}
		}},
		{name: "q is text in a note", keys: []tea.KeyPressMsg{key1('n'), key1('a')}, last: key1('q'), check: func(t *testing.T, m *Model) {
			if m.dialog != nil || m.input.Value() != "aq" {
				t.Errorf("dialog %v, input %q", m.dialog != nil, m.input.Value())
			}
		}},
		{name: "q is text in the command line", keys: []tea.KeyPressMsg{key1(':')}, last: key1('q'), check: func(t *testing.T, m *Model) {
			if m.dialog != nil || m.input.Value() != "q" {
				t.Errorf("dialog %v, input %q", m.dialog != nil, m.input.Value())
			}
		}},
		{name: "ctrl+c quits from a dialog", keys: []tea.KeyPressMsg{key1('q')}, last: keyCtrlC, quits: true},
		{name: "ctrl+c quits while typing", keys: []tea.KeyPressMsg{key1('/')}, last: keyCtrlC, quits: true},
		{name: "a new dialog ignores enter", keys: []tea.KeyPressMsg{key1('q'), keyTab}, last: keyEnter, check: func(t *testing.T, m *Model) {
			if m.dialog == nil || m.dialog.button != buttonCancel {
				t.Error("keys typed in the first moment acted on the dialog")
			}
		}},
		{name: "cancel is focused", keys: []tea.KeyPressMsg{key1('q')}, advance: time.Second, last: keyEnter, check: func(t *testing.T, m *Model) {
			if m.dialog != nil {
				t.Error("enter on the default button did not cancel")
			}
		}},
		{name: "esc leaves the filter unapplied", keys: append([]tea.KeyPressMsg{key1('/')}, runes("region:eu-west-1")...), last: keyEsc, check: func(t *testing.T, m *Model) {
			if m.inputKind != inputNone || m.stream.filter != nil {
				t.Error("esc applied the filter or left the input open")
			}
		}},
		{name: "tab focuses the next pane", last: keyTab, check: focusIs(panePrincipals)},
		{name: "shift+tab focuses the previous pane", last: keyShiftTab, check: focusIs(paneJournal)},
		{name: "3 focuses regions", last: key1('3'), check: focusIs(paneRegions)},
		{name: "digits are text in the filter", keys: []tea.KeyPressMsg{key1('/')}, last: key1('3'), check: focusIs(paneStream)},
		{name: "down moves the focused pane", keys: []tea.KeyPressMsg{key1('2')}, last: keyDown, check: func(t *testing.T, m *Model) {
			if m.principals.cur.sel != 1 || m.stream.cur.sel != 0 {
				t.Errorf("principals sel %d, stream sel %d", m.principals.cur.sel, m.stream.cur.sel)
			}
		}},
		{name: "z zooms and esc unzooms", keys: []tea.KeyPressMsg{key1('z')}, last: keyEsc, check: func(t *testing.T, m *Model) {
			if m.zoom {
				t.Error("still zoomed")
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, clk := newTestModel(t, Options{Journal: &recJournal{}}, 160, 50)
			for _, k := range tt.keys {
				exec(m, press(m, k))
			}
			clk.advance(tt.advance)
			c := press(m, tt.last)
			if got := isQuit(c); got != tt.quits {
				t.Errorf("quit = %v, want %v", got, tt.quits)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func focusIs(p paneID) func(t *testing.T, m *Model) {
	return func(t *testing.T, m *Model) {
		t.Helper()
		if m.focus != p {
			t.Errorf("focus = %s, want %s", paneNames[m.focus], paneNames[p])
		}
	}
}

func TestQuitConfirmed(t *testing.T) {
	m, clk := newTestModel(t, Options{}, 80, 24)
	press(m, key1('q'))
	clk.advance(500 * time.Millisecond)
	press(m, keyRight)
	if !isQuit(press(m, keyEnter)) {
		t.Error("Quit button did not quit")
	}
}

// TestContainmentDialog drives a plan from the keyboard: the dialog shows
// the exact calls, focuses Cancel, ignores early keys, and for an
// irreversible plan runs only once the target's name is typed.
func TestContainmentDialog(t *testing.T) {
	tests := []struct {
		name    string
		keys    []tea.KeyPressMsg
		typed   string
		wantRun bool
		shows   []string
	}{
		{name: "reversible plan runs after confirm", keys: []tea.KeyPressMsg{keyDown, keyDown, keyDown, keyDown, key1('D')},
			wantRun: true, shows: []string{"iam:UpdateAccessKey", "AccessKeyId: AKIAIOSFODNN7EXAMPLE", "Status: Inactive", "[Cancel]"}},
		{name: "irreversible plan refuses without the name", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, key1('Q')},
			wantRun: false, shows: []string{"iam:DeleteLoginProfile", "irreversible", "type ci-deploy to confirm", `"Effect": "Deny"`}},
		{name: "irreversible plan runs with the name", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, key1('Q')},
			typed: "ci-deploy", wantRun: true},
		{name: "wrong name does not run", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, key1('Q')},
			typed: "ci-deplo", wantRun: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &fakeContainment{}
			m, clk := newTestModel(t, Options{Containment: c}, 160, 50)
			for _, k := range tt.keys {
				exec(m, press(m, k))
			}
			if m.dialog == nil || m.dialog.kind != dialogPlan {
				t.Fatalf("no plan dialog; message %q", m.message)
			}
			screen := ansi.Strip(m.Render())
			for _, s := range tt.shows {
				if !strings.Contains(screen, s) {
					t.Errorf("dialog does not show %q", s)
				}
			}
			// Typed before the dialog is armed: ignored.
			press(m, runes(tt.typed)...)
			if m.dialog.typed.Value() != "" {
				t.Errorf("early keys reached the dialog: %q", m.dialog.typed.Value())
			}
			clk.advance(time.Second)
			press(m, runes(tt.typed)...)
			if tt.typed == "" {
				press(m, keyTab) // to the confirm button
			}
			exec(m, press(m, keyEnter))
			if got := len(c.runs) == 1; got != tt.wantRun {
				t.Errorf("ran = %v, want %v (message %q)", got, tt.wantRun, m.message)
			}
		})
	}
}

// TestReadOnly checks that read-only mode disables the containment keys
// and hides them from help and the command line.
func TestReadOnly(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "read-only mode", opts: Options{Mode: ModeReadOnly, Containment: &fakeContainment{}}},
		{name: "no containment engine", opts: Options{Mode: ModeLive}},
		{name: "replay", opts: Options{Mode: ModeReplay, Containment: &fakeContainment{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestModel(t, tt.opts, 160, 50)
			press(m, keyDown)
			if c := press(m, key1('D')); c != nil && exec(m, c) != nil || m.dialog != nil {
				t.Error("D did something in read-only mode")
			}
			press(m, key1('?'))
			help := ansi.Strip(m.Render())
			for _, s := range []string{"deactivate", "quarantine", "revoke", "contain everything"} {
				if strings.Contains(help, s) {
					t.Errorf("help shows %q", s)
				}
			}
			for _, c := range m.commands() {
				if c.dangerous {
					t.Errorf("command line offers %s", c.name)
				}
			}
		})
	}
	t.Run("live shows them", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Containment: &fakeContainment{}}, 160, 50)
		press(m, key1('?'))
		if !strings.Contains(ansi.Strip(m.Render()), "deactivate the access key") {
			t.Error("live help does not list containment")
		}
	})
}

// TestPivot filters the stream on the selected event's key, principal or IP
// with one key press.
func TestPivot(t *testing.T) {
	tests := []struct {
		name       string
		key        rune
		wantFilter string
		wantN      int
	}{
		{name: "key", key: 'a', wantFilter: "key:" + leaked, wantN: 4},
		{name: "principal", key: 'p', wantFilter: "principal:" + ciARN, wantN: 6},
		{name: "ip", key: 'i', wantFilter: "ip:203.0.113.7", wantN: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := newTestModel(t, Options{}, 160, 50)
			press(m, keyDown, keyDown, keyDown, keyDown) // CreateAccessKey
			press(m, key1(tt.key))
			if m.stream.filterText != tt.wantFilter {
				t.Errorf("filter = %q, want %q", m.stream.filterText, tt.wantFilter)
			}
			if n := m.stream.res.Len(); n != tt.wantN {
				t.Errorf("%d events match, want %d", n, tt.wantN)
			}
			press(m, key1('x'))
			if m.stream.filter != nil || m.stream.res.Len() != 8 {
				t.Error("x did not clear the filter")
			}
		})
	}
}

func TestFilterErrorInline(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 120, 40)
	press(m, key1('/'))
	press(m, runes("regoin:eu-west-1")...)
	press(m, keyEnter)
	if m.inputKind != inputFilter {
		t.Fatal("a bad filter closed the input")
	}
	footer := ansi.Strip(strings.Split(m.Render(), "\n")[39])
	if !strings.Contains(footer, "column 1") || !strings.Contains(footer, "regoin") {
		t.Errorf("footer does not show the error with its column: %q", footer)
	}
	for range len("regoin:eu-west-1") {
		press(m, keyBack)
	}
	press(m, runes("region:eu-west-1")...)
	press(m, keyEnter)
	if m.inputKind != inputNone || m.stream.res.Len() != 2 {
		t.Errorf("good filter: input %d, %d events", m.inputKind, m.stream.res.Len())
	}
}

// TestJournalingFromKeys checks that notes and suspect marks are journaled
// through the Journal interface, in a Cmd.
func TestJournalingFromKeys(t *testing.T) {
	tests := []struct {
		name string
		keys []tea.KeyPressMsg
		want any
	}{
		{name: "note", keys: append(append([]tea.KeyPressMsg{key1('n')}, runes("rotated the CI secret")...), keyEnter),
			want: state.Note{Text: "rotated the CI secret"}},
		{name: "note from the command line", keys: append(append([]tea.KeyPressMsg{key1(':')}, runes("note paged Bob")...), keyEnter),
			want: state.Note{Text: "paged Bob"}},
		{name: "suspect a principal", keys: []tea.KeyPressMsg{key1('2'), keyDown, key1('s')},
			want: state.Suspect{PrincipalARN: aliceARN, Reason: "marked in the console"}},
		{name: "clear a suspect key", keys: []tea.KeyPressMsg{key1('2'), keyDown, keyDown, keyDown, key1('s')},
			want: state.Suspect{AccessKeyID: leaked, Clear: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := &recJournal{}
			m, _ := newTestModel(t, Options{Journal: j}, 160, 50)
			var cmds []tea.Cmd
			for _, k := range tt.keys {
				cmds = append(cmds, press(m, k))
			}
			if len(j.got) != 0 {
				t.Fatal("journaled during Update: I/O must happen in a Cmd")
			}
			for _, c := range cmds {
				exec(m, c)
			}
			if len(j.got) != 1 || j.got[0] != tt.want {
				t.Errorf("journaled %#v, want %#v", j.got, tt.want)
			}
		})
	}
	t.Run("disabled without a journal", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		press(m, key1('n'))
		if m.inputKind != inputNone {
			t.Error("n opened a note with nowhere to write it")
		}
	})
}

// TestFeed applies entries as they arrive; while the responder scrolls the
// stream the rows stay put, in follow mode the newest is selected.
func TestFeed(t *testing.T) {
	all := incident(t)
	f := &facts{seq: int64(len(all))}
	f.add(t, state.KindEvents, t0, state.Events{Source: "lookup:eu-west-1", Records: []json.RawMessage{
		ev{id: "00000009-aaaa-4bbb-8ccc-0123456789ab", name: "DeleteTrail", source: "cloudtrail.amazonaws.com", key: minted, arn: ciARN, ip: "198.51.100.23", at: t0.Add(-time.Minute)}.raw(),
	}})
	f.add(t, state.KindNote, t0, state.Note{Text: "trail deleted"})

	t.Run("follow", func(t *testing.T) {
		ch := make(chan []journal.Entry, 4)
		m, _ := newTestModel(t, Options{Feed: ch}, 160, 50)
		ch <- f.entries[:1]
		ch <- f.entries[1:]
		msgs := exec(m, waitFeed(ch))
		if len(msgs) != 1 || len(msgs[0].(feedMsg).entries) != 2 {
			t.Fatalf("the two ready batches were not coalesced: %+v", msgs)
		}
		s, _ := m.selected()
		if s.event.Name != "DeleteTrail" {
			t.Errorf("selected %q, want the newest event", s.event.Name)
		}
		if m.store.Notes[len(m.store.Notes)-1].V.Text != "trail deleted" {
			t.Error("note not applied")
		}
	})
	t.Run("paused", func(t *testing.T) {
		ch := make(chan []journal.Entry, 4)
		m, _ := newTestModel(t, Options{Feed: ch}, 160, 50)
		press(m, keyDown, keyDown)
		before, _ := m.selected()
		ch <- f.entries
		exec(m, waitFeed(ch))
		after, _ := m.selected()
		if after.event.EventID != before.event.EventID || m.stream.follow {
			t.Errorf("selection moved from %s to %s while paused", before.event.Name, after.event.Name)
		}
		press(m, key1('f'))
		if s, _ := m.selected(); s.event.Name != "DeleteTrail" {
			t.Errorf("f did not resume follow: %s", s.event.Name)
		}
	})
	t.Run("entries seen twice are skipped", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		m.apply(all[len(all)-3:])
		if m.message != "" {
			t.Errorf("replaying old entries gave %q", m.message)
		}
	})
	t.Run("closed feed stops", func(t *testing.T) {
		ch := make(chan []journal.Entry)
		close(ch)
		m, _ := newTestModel(t, Options{Feed: ch}, 160, 50)
		_, c := m.Update(waitFeed(ch)())
		if c != nil || !m.closed {
			t.Error("a closed feed was re-armed")
		}
	})
}

// TestLateAnswerDropped checks that an answer to a replaced request is
// recognised by its id and dropped.
func TestLateAnswerDropped(t *testing.T) {
	m, _ := newTestModel(t, Options{Containment: &fakeContainment{}}, 160, 50)
	press(m, keyDown, keyDown, keyDown, keyDown)
	first := press(m, key1('D'))
	second := press(m, key1('D'))
	m.Update(first())
	if m.dialog != nil {
		t.Fatal("the answer to the first, replaced request opened a dialog")
	}
	m.Update(second())
	if m.dialog == nil {
		t.Fatal("the current answer did not open the dialog")
	}
}

func TestCommandCompletion(t *testing.T) {
	tests := []struct{ typed, want string }{
		{"qu", "qu"}, // quarantine, quit
		{"qui", "quit "},
		{"foc", "focus "},
		{"focus pr", "focus principals "},
		{"theme mono", "theme monochrome "},
		{"de", "de"}, // deactivate, detail: ambiguous, no common extension
		{"dea", "deactivate "},
		{"zzz", "zzz"},
	}
	for _, tt := range tests {
		t.Run(tt.typed, func(t *testing.T) {
			m, _ := newTestModel(t, Options{Containment: &fakeContainment{}}, 160, 50)
			press(m, key1(':'))
			press(m, runes(tt.typed)...)
			press(m, keyTab)
			if got := m.input.Value(); got != tt.want {
				t.Errorf("completed %q to %q, want %q", tt.typed, got, tt.want)
			}
		})
	}
}

func TestCommands(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 160, 50)
	press(m, key1(':'))
	press(m, runes("focus regions")...)
	press(m, keyEnter)
	if m.focus != paneRegions {
		t.Error(":focus regions did not focus the Regions pane")
	}
	press(m, key1(':'))
	press(m, runes("theme light")...)
	press(m, keyEnter)
	if m.ThemeName() != "light" {
		t.Errorf("theme = %s", m.ThemeName())
	}
}

func TestCopy(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 160, 50)
	press(m, key1('2'), keyDown, keyDown, keyDown)
	if c := press(m, key1('y')); c == nil {
		t.Fatal("y returned no clipboard command")
	}
	if !strings.Contains(m.message, "copied "+leaked) {
		t.Errorf("message %q", m.message)
	}
}

func TestThemeSelection(t *testing.T) {
	t.Run("background decides when automatic", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Theme: "auto"}, 80, 24)
		m.Update(tea.BackgroundColorMsg{Color: color.RGBA{R: 250, G: 250, B: 250, A: 255}})
		if m.ThemeName() != "light" {
			t.Errorf("light background gave %s", m.ThemeName())
		}
	})
	t.Run("an explicit theme stays", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Theme: "high-contrast"}, 80, 24)
		m.Update(tea.BackgroundColorMsg{Color: color.RGBA{R: 250, G: 250, B: 250, A: 255}})
		if m.ThemeName() != "high-contrast" {
			t.Errorf("got %s", m.ThemeName())
		}
	})
	t.Run("NO_COLOR", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Theme: "dark", NoColor: true}, 80, 24)
		if m.ThemeName() != "monochrome" {
			t.Errorf("got %s", m.ThemeName())
		}
	})
	t.Run("bad theme file is reported", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Theme: "/nonexistent/x.theme"}, 80, 24)
		if m.ThemeError() == "" || m.ThemeName() != "dark" {
			t.Errorf("error %q theme %s", m.ThemeError(), m.ThemeName())
		}
	})
}

// TestResize checks every size from tiny to huge keeps the frame's shape.
func TestResize(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 80, 24)
	for _, sz := range [][2]int{{10, 3}, {40, 12}, {80, 24}, {119, 29}, {120, 30}, {133, 41}, {300, 100}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
		checkFrame(t, m.Render(), sz[0], sz[1])
	}
}

// TestPivotActsOnWhatWasDrawn: while following, an event that arrives after
// a frame was drawn moves row 0; a key pressed for "this event" must act on
// the event the responder saw selected, not on the newcomer.
func TestPivotActsOnWhatWasDrawn(t *testing.T) {
	all := incident(t)
	f := &facts{seq: int64(len(all))}
	f.add(t, state.KindEvents, t0, state.Events{Source: "lookup:us-east-1", Records: []json.RawMessage{
		ev{id: "0000000a-aaaa-4bbb-8ccc-0123456789ab", name: "GetCallerIdentity", source: "sts.amazonaws.com", key: "AKIANEWCOMER00000000", arn: "arn:aws:iam::123456789012:user/newcomer", ip: "198.51.100.99", at: t0.Add(time.Hour)}.raw(),
	}})
	ch := make(chan []journal.Entry, 1)
	m, _ := newTestModel(t, Options{Feed: ch}, 160, 50)
	m.Render()
	seen, _ := m.selected()
	if seen.event.EventID == "" || seen.event.Principal == "" {
		t.Fatalf("no event selected on screen: %+v", seen.event)
	}
	ch <- f.entries
	exec(m, waitFeed(ch))
	press(m, key1('p'))
	if want := "principal:" + seen.event.Principal; m.stream.filterText != want {
		t.Errorf("pivot filter %q, want %q (the event on screen, not the newcomer)", m.stream.filterText, want)
	}
	// Once the responder moves the cursor, the cursor is the selection.
	m.Render()
	press(m, key1('x'), keyDown)
	moved, _ := m.selected()
	if moved.event.ID != m.stream.id(1) {
		t.Errorf("after moving down, the selection is event %d, not row 1's %d", moved.event.ID, m.stream.id(1))
	}
}

// TestInitialFilter: the console can open on a filter (the live console
// hides its own calls), shown in the stream's title; a bad one is said.
func TestInitialFilter(t *testing.T) {
	m, _ := newTestModel(t, Options{Filter: "-ours"}, 160, 50)
	if m.stream.filterText != "-ours" {
		t.Fatalf("stream filter %q, want -ours", m.stream.filterText)
	}
	for i := 0; i < m.stream.res.Len(); i++ {
		if m.store.Events.Event(m.stream.res.At(i)).Ours {
			t.Fatal("one of the console's own calls is shown")
		}
	}
	if !strings.Contains(ansi.Strip(m.Render()), "/-ours") {
		t.Error("the title does not show the filter")
	}
	// / opens the filter ready to refine: a typed term is ANDed.
	press(m, key1('/'))
	press(m, runes("region:eu-west-1")...)
	press(m, keyEnter)
	if m.stream.filterText != "-ours region:eu-west-1" {
		t.Errorf("refined filter %q, want %q", m.stream.filterText, "-ours region:eu-west-1")
	}
	press(m, key1('x'))
	if m.stream.filter != nil {
		t.Error("x did not clear the initial filter")
	}
	bad, _ := newTestModel(t, Options{Filter: "colour:red"}, 160, 50)
	if bad.stream.filter != nil || !strings.Contains(ansi.Strip(bad.Render()), "colour") {
		t.Error("a bad initial filter was not reported")
	}
}

// TestJournalHidesRoutineFacts: the journal pane lists the incident's own
// facts; e shows the routine ones (event batches, health, sweeps) too.
func TestJournalHidesRoutineFacts(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 160, 50)
	press(m, key1('4'))
	shown := func() (routine, total int) {
		for _, i := range m.journal.rows {
			total++
			if isRoutine(m.store.Timeline[i].Kind) {
				routine++
			}
		}
		return
	}
	if r, n := shown(); r != 0 || n == 0 {
		t.Fatalf("default view: %d routine of %d rows, want none routine", r, n)
	}
	press(m, key1('e'))
	if r, n := shown(); r == 0 || n != len(m.store.Timeline) {
		t.Errorf("after e: %d routine of %d rows, want every one of %d facts", r, n, len(m.store.Timeline))
	}
	press(m, key1('1'), key1('e')) // e means nothing outside the journal pane
	if !m.journal.routine {
		t.Error("e outside the journal pane toggled it")
	}
}
