package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/state"
)

// hostileIncident is the test incident with s planted in every string an
// attacker controls: the event's fields, a user's name, a resource, a note.
func hostileIncident(t testing.TB, s string) *state.Store {
	entries := incident(t)
	f := &facts{seq: int64(len(entries)), entries: entries}
	e := ev{id: "0000000f-aaaa-4bbb-8ccc-0123456789ab", name: s, source: s, region: s, arn: "arn:aws:iam::123456789012:user/" + s,
		key: leaked, ip: s, code: s, agent: s, user: s, at: t0.Add(-time.Minute)}
	raw := e.raw()
	f.add(t, state.KindEvents, t0, state.Events{Source: s, Records: []json.RawMessage{raw}})
	f.add(t, state.KindInventory, t0, state.Inventory{TakenAt: t0, Users: []state.User{{Name: s, ARN: "arn:aws:iam::123456789012:user/" + s,
		Keys: []state.AccessKey{{ID: s, Status: s, LastService: s, LastRegion: s}}, Groups: []string{s}}},
		Roles: []state.Role{{Name: s, ARN: s, External: []string{s}, TrustPolicy: s}}})
	f.add(t, state.KindSweep, t0, state.Sweep{Region: s, Kind: s, TakenAt: t0, Resources: []state.Resource{{ID: s, Name: s, State: s, Attrs: map[string]string{s: s}}}})
	f.add(t, state.KindNote, t0, state.Note{Text: s})
	f.add(t, state.KindStreamHealth, t0, state.StreamHealth{Source: s, Region: s, Status: s, Error: s})
	f.add(t, state.KindSuspect, t0, state.Suspect{PrincipalARN: "arn:aws:iam::123456789012:user/" + s, Reason: s})
	st := state.NewStore()
	for _, e := range f.entries {
		if err := st.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// FuzzHostileText checks that hostile strings in events and facts never
// reach the frame (no escape sequence but our SGR, no C0/C1 control, no
// bidi override) and never break the layout (every line within the width).
func FuzzHostileText(f *testing.F) {
	for _, s := range []string{
		"\x1b]52;c;ZXZpbA==\x07",                            // OSC 52: write the clipboard
		"\x1b]0;pwned\x1b\\",                                // OSC 0: window title
		"\x1b]8;;https://evil.example\x07click\x1b]8;;\x07", // hyperlink
		"\x1b[2J\x1b[H\x1b[31mred",                          // clear screen, move, colour
		"\x9b31m\x9d0;title\x9c",                            // 8-bit CSI and OSC
		"user\u202eeulav\u202c",                             // right-to-left override
		"\u2066isolate\u2069\u200f",                         // bidi isolates and marks
		"ｗｉｄｅ漢字漢字漢字漢字漢字漢字漢字漢字漢字漢字", // wide characters
		"e\u0301\u0301\u0301\u0301",    // combining marks
		"🇺🇸🇺🇸🇺🇸👩\u200d👩\u200d👧❤\ufe0f", // flags, ZWJ, variation selector
		"tab\there\r\nnewline\x00nul\x7fdel",
		strings.Repeat("A", 500),
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st := hostileIncident(t, s)
		views := [][]tea.KeyPressMsg{
			nil,
			{key1('2')},
			{key1('2'), tea.KeyPressMsg{Code: tea.KeyEnd}, keyEnter},
			{key1('3'), keyEnter, keyEnter},
			{key1('4'), tea.KeyPressMsg{Code: tea.KeyEnd}, keyEnter},
			{keyEnter},
			{key1('2'), keyDown, key1('Q')},
		}
		for _, sz := range [][2]int{{80, 24}, {200, 60}} {
			for _, keys := range views {
				m, _ := newTestModel(t, Options{Store: st, Containment: &fakeContainment{}, Journal: &recJournal{}}, sz[0], sz[1])
				for _, k := range keys {
					exec(m, press(m, k))
				}
				checkFrame(t, m.Render(), sz[0], sz[1])
				if t.Failed() {
					t.Fatalf("at %dx%d after %v", sz[0], sz[1], keys)
				}
			}
		}
	})
}

// FuzzCell checks the primitive every table cell goes through: whatever the
// text and width, the cell is exactly w cells under both width measures and
// holds no control sequence.
func FuzzCell(f *testing.F) {
	for _, s := range []string{"\x1b]52;c;ZXZpbA==\x07", "🇺🇸🇺🇸", "漢字漢字", "e\u0301", "❤\ufe0f", "\u202e", "a\tb"} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, w int) {
		w = w%300 + 1
		if w < 1 {
			w += 300
		}
		c := cell(s, w)
		if gw, ww := ansi.StringWidth(c), ansi.StringWidthWc(c); gw != w && ww != w || gw > w || ww > w {
			t.Errorf("cell(%q, %d) = %q is %d/%d cells", s, w, c, gw, ww)
		}
		if bad := foreignControls(c); bad != "" {
			t.Errorf("cell(%q, %d) holds %s", s, w, bad)
		}
	})
}

// TestHiddenTextShown: a zero-width or bidi character in a name is shown
// in the console's visible form (sanitize.Visible), never dropped: the
// frame never reads "admin" for "ad\u200bmin".
func TestHiddenTextShown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ad\u200bmin", "ad⟨U+200B⟩min"},
		{"ad\u202emin", "ad⟨U+202E⟩min"},
		{"ad\U000e0041min", "ad⟨U+E0041⟩min"},
		{"ad\u009bmin", "ad⟨U+009B⟩min"},
	} {
		st := hostileIncident(t, tc.in)
		for _, keys := range [][]tea.KeyPressMsg{nil, {key1('2')}} {
			m, _ := newTestModel(t, Options{Store: st, Containment: &fakeContainment{}, Journal: &recJournal{}}, 200, 60)
			for _, k := range keys {
				exec(m, press(m, k))
			}
			frame := ansi.Strip(m.Render())
			if !strings.Contains(frame, tc.want) {
				t.Errorf("%q after %v: the frame does not show %q:\n%s", tc.in, keys, tc.want, frame)
			}
			if strings.Contains(frame, "admin") {
				t.Errorf("%q after %v: the frame reads admin", tc.in, keys)
			}
		}
	}
}
