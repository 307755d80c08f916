package tui

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

var keyCtrlW = tea.KeyPressMsg{Code: 'w', Mod: tea.ModCtrl}

// screenOf renders m without styling.
func screenOf(m *Model) string { return ansi.Strip(m.Render()) }

// rowWith returns the first screen line holding s ("" when none).
func rowWith(screen, s string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// moreFacts continues the incident's journal with further facts.
func moreFacts(t *testing.T) (*facts, []journal.Entry) {
	t.Helper()
	base := incident(t)
	return &facts{seq: base[len(base)-1].Seq}, base
}

// Defect 3: the console's own deactivation held (result and verify
// journaled after the inventory), yet the principals pane said Active with
// no mark. It must show the key's state from the fold and the action.
func TestPrincipalsKeyStateFromFold(t *testing.T) {
	later := t0.Add(time.Minute)
	invAfter := func(status string) func(f *facts) {
		return func(f *facts) {
			f.add(t, state.KindInventory, later, state.Inventory{TakenAt: later, Users: []state.User{{Name: "ci-deploy", ARN: ciARN,
				Keys: []state.AccessKey{{ID: leaked, Status: status}}}}})
		}
	}
	tests := []struct {
		name       string
		more       func(f *facts)
		wantStatus string
		wantMark   string
	}{
		{name: "verified deactivation after the inventory", wantStatus: "Inactive", wantMark: "✓"},
		{name: "a fresher inventory agrees", more: invAfter("Inactive"), wantStatus: "Inactive", wantMark: "✓"},
		{name: "a fresher inventory says it was undone", more: invAfter("Active"), wantStatus: "Active", wantMark: "✗"},
		{name: "an action with no outcome yet", more: func(f *facts) {
			f.add(t, state.KindActionIntent, later, state.ActionIntent{ActionID: "act-3", Action: ActionDeactivateKey, Target: leaked + "@ci-deploy"})
		}, wantStatus: "Inactive", wantMark: "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, entries := moreFacts(t)
			if tt.more != nil {
				tt.more(f)
			}
			m, _ := newTestModel(t, Options{Store: storeOf(t, append(entries, f.entries...))}, 160, 50)
			press(m, key1('2'))
			row := rowWith(screenOf(m), leaked)
			if row == "" {
				t.Fatalf("no row for %s:\n%s", leaked, screenOf(m))
			}
			if tt.name == "an action with no outcome yet" {
				// The newest action on the key has no outcome: the inventory's
				// word stands (Active), marked unknown.
				tt.wantStatus = "Active"
			}
			if !strings.Contains(row, tt.wantStatus+" "+tt.wantMark) {
				t.Errorf("row %q: want status %q with mark %q", row, tt.wantStatus, tt.wantMark)
			}
		})
	}
}

// createUser is a CloudTrail CreateUser record signed with key.
func createUser(id, key, user string, at time.Time) json.RawMessage {
	rec := map[string]any{
		"eventVersion": "1.09", "eventID": id, "eventTime": at.UTC().Format(time.RFC3339),
		"eventName": "CreateUser", "eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1",
		"sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2", "eventType": "AwsApiCall",
		"recipientAccountId": "123456789012",
		"userIdentity":       map[string]any{"type": "IAMUser", "arn": ciARN, "accountId": "123456789012", "accessKeyId": key},
		"requestParameters":  map[string]any{"userName": user},
		"responseElements":   map[string]any{"user": map[string]any{"userName": user, "arn": "arn:aws:iam::123456789012:user/" + user}},
	}
	b, _ := json.Marshal(rec)
	return b
}

// Defect 8: the backdoor user a suspect family created during the
// incident had neither the new nor the suspect mark.
func TestBackdoorUserMarked(t *testing.T) {
	f, entries := moreFacts(t)
	made := t0.Add(-2 * time.Hour)
	f.add(t, state.KindEvents, t0, state.Events{Source: "lookup:us-east-1", Records: []json.RawMessage{
		createUser("0000000b-aaaa-4bbb-8ccc-0123456789ab", minted, "svc-backup", made)}})
	f.add(t, state.KindInventory, t0, state.Inventory{TakenAt: t0, Users: []state.User{
		{Name: "ci-deploy", ARN: ciARN, Created: t0.AddDate(-1, 0, 0), Keys: []state.AccessKey{{ID: leaked, Status: "Inactive"}}},
		{Name: "svc-backup", ARN: "arn:aws:iam::123456789012:user/svc-backup", Created: made},
		{Name: "svc-old", ARN: "arn:aws:iam::123456789012:user/svc-old", Created: t0.AddDate(-1, 0, 0)},
	}})
	m, _ := newTestModel(t, Options{Store: storeOf(t, append(entries, f.entries...))}, 160, 50)
	press(m, key1('2'))
	screen := screenOf(m)
	pane := func(row string) string { _, p, _ := strings.Cut(row, "││"); return p }
	row := pane(rowWith(screen, "svc-backup"))
	if !strings.HasPrefix(row, markSuspect+"+") {
		t.Errorf("backdoor user row %q: want the suspect and new marks", row)
	}
	if old := pane(rowWith(screen, "svc-old")); strings.Contains(old, markSuspect) || strings.Contains(old, "+ user") {
		t.Errorf("an old user is marked: %q", old)
	}
}

// failingStore is an incident whose every Region's LookupEvents is denied
// (but one disabled Region), with no events.
func failingStore(t *testing.T) *state.Store {
	f := &facts{}
	f.add(t, state.KindIncidentOpened, t0, state.IncidentOpened{ID: "wr-fail", OpenedAt: t0})
	for _, r := range []string{"us-east-1", "eu-west-1", "ap-southeast-3"} {
		f.add(t, state.KindStreamHealth, t0, state.StreamHealth{Source: "lookup:" + r, Region: r, Status: "denied", Error: "AccessDeniedException"})
	}
	f.add(t, state.KindStreamHealth, t0, state.StreamHealth{Source: "lookup:af-south-1", Region: "af-south-1", Status: "disabled"})
	return storeOf(t, f.entries)
}

// Defect 4: when LookupEvents fails in every Region the stream said "no
// events match the filter", and the header spent its width on disabled
// Regions.
func TestStreamFailureIsSaid(t *testing.T) {
	m, _ := newTestModel(t, Options{Store: failingStore(t), Filter: "source:iam"}, 80, 24)
	screen := screenOf(m)
	if !strings.Contains(screen, "the stream failed in every Region: 3 denied (AccessDeniedException)") {
		t.Errorf("the stream does not say it failed:\n%s", screen)
	}
	if strings.Contains(screen, "no events match the filter") {
		t.Errorf("the stream blames the filter:\n%s", screen)
	}
	status := strings.Split(screen, "\n")[0]
	if strings.Contains(status, "af-south-1") || strings.Contains(status, "disabled") {
		t.Errorf("the status line spends width on a disabled Region: %q", status)
	}
	if !strings.Contains(status, "3 Regions failing (3 denied)") {
		t.Errorf("the status line does not show the failing Regions at 80 columns: %q", status)
	}
}

// Defect 4, the lag: the real CloudTrail lag shows at 80 columns, before
// the incident's name.
func TestStatusLineLagAt80(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 80, 24)
	status := strings.Split(screenOf(m), "\n")[0]
	if !strings.Contains(status, "eu-west-1 ! throttled · lag 42s") {
		t.Errorf("status line %q", status)
	}
}

// Defect 7: key and source ip are not the first columns to go; a failed
// call has its own mark and colour.
func TestStreamColumns(t *testing.T) {
	has := func(cols []streamCol, id colID) bool {
		for _, c := range cols {
			if c.id == id {
				return true
			}
		}
		return false
	}
	for _, w := range []int{78, 90, 94, 100, 118, 160, 198} {
		cols := streamColumns(w, false)
		if !has(cols, colKey) || !has(cols, colIP) || !has(cols, colPrincipal) {
			t.Errorf("at %d cells the stream lost key, source ip or principal: %+v", w, cols)
		}
		if has(cols, colError) && (!has(cols, colRegion) && w >= 118) {
			t.Errorf("at %d cells error is kept over region", w)
		}
		used := -1
		for _, c := range cols {
			used += c.w + 1
			// An empty error column beside a principal cut to
			// "user/ci-depl…" (the stream at 160 columns).
			if c.id == colPrincipal && c.w < principalRoom && has(cols, colError) {
				t.Errorf("at %d cells the principal gets %d while error has a column", w, c.w)
			}
		}
		if used > w {
			t.Errorf("at %d cells the columns take %d", w, used)
		}
	}
	if wide := streamColumns(78, true); !has(wide, colAgent) || !has(wide, colEventID) || !has(wide, colRegion) {
		t.Errorf("wide mode lacks columns: %+v", wide)
	}

	m, _ := newTestModel(t, Options{}, 80, 24)
	screen := screenOf(m)
	failed, ok := rowWith(screen, "ListUsers"), rowWith(screen, "GetCallerIdent")
	if !strings.Contains(failed, markFailed) || strings.Contains(ok, markFailed) {
		t.Errorf("failed row %q, successful row %q: want ✗ on the failed one only", failed, ok)
	}
	for _, l := range strings.Split(m.Render(), "\n") {
		if strings.Contains(ansi.Strip(l), "ListUsers") && !strings.Contains(l, m.theme.Styles.Danger.Render(markFailed)) {
			t.Errorf("the ✗ of a failed call is not in the danger colour: %q", l)
		}
	}
}

// Defect 7: the principals pane shows dates whole and last use to the hour.
func TestPrincipalsDatesAndLastUse(t *testing.T) {
	for _, sz := range sizes {
		m, _ := newTestModel(t, Options{}, sz[0], sz[1])
		press(m, key1('2'))
		screen := screenOf(m)
		if strings.Contains(screen, "created 20") || strings.Contains(screen, "15m00s ago") {
			t.Errorf("%dx%d: a cut date or a minute-precise last use:\n%s", sz[0], sz[1], screen)
		}
		if sz[0] >= 200 && (!strings.Contains(screen, "≤1h ago") || !strings.Contains(screen, "May 2026")) {
			t.Errorf("%dx%d: want ≤1h ago and May 2026:\n%s", sz[0], sz[1], screen)
		}
	}
	for _, tt := range []struct {
		ago  time.Duration
		want string
	}{{15 * time.Minute, "≤1h ago"}, {time.Hour, "≤1h ago"}, {90 * time.Minute, "≤2h ago"}, {72 * time.Hour, "Nov 20"}} {
		if got := lastUsed(t0, t0.Add(-tt.ago)); got != tt.want {
			t.Errorf("lastUsed(%v ago) = %q, want %q", tt.ago, got, tt.want)
		}
	}
}

// The k9s habits: o sorts by the next column (shown in the title and the
// header), O reverses; / filters the focused pane; x clears it; ctrl+w
// shows every column; y copies the key id, Y the other fields.
func TestListHabits(t *testing.T) {
	t.Run("o sorts the stream by event", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 200, 60)
		press(m, key1('o'))
		screen := screenOf(m)
		if !strings.Contains(screen, "sort event ↑") || !strings.Contains(screen, "event↑") {
			t.Errorf("no sort shown:\n%s", screen)
		}
		if got := m.stream.id(0); m.store.Events.Event(got).Name != "ConsoleLogin" {
			t.Errorf("first row %s, want ConsoleLogin", m.store.Events.Event(got).Name)
		}
		press(m, key1('O'))
		if got := m.stream.id(0); m.store.Events.Event(got).Name != "StopLogging" {
			t.Errorf("reversed first row %s, want StopLogging", m.store.Events.Event(got).Name)
		}
	})
	t.Run("o sorts the principals by name", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		press(m, key1('2'), key1('o'))
		if m.principals.rows[0].label != leaked {
			t.Errorf("first row %q, want %s", m.principals.rows[0].label, leaked)
		}
		if !strings.Contains(m.principals.Title(m.vctx()), "sort name ↑") {
			t.Error("the sort is not in the title")
		}
	})
	t.Run("o sorts the regions by resources", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		press(m, key1('3'), key1('o'), key1('O'))
		if m.regions.regions[0] != "eu-west-1" {
			t.Errorf("regions %v, want eu-west-1 (2 resources) first", m.regions.regions)
		}
	})
	t.Run("/ filters the principals, x clears", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		press(m, key1('2'), key1('/'))
		press(m, runes("kind:role")...)
		press(m, keyEnter)
		if len(m.principals.rows) != 1 || m.principals.rows[0].kind != "role" || m.stream.filter != nil || m.focus != panePrincipals {
			t.Errorf("rows %+v, focus %s", m.principals.rows, paneNames[m.focus])
		}
		press(m, key1('x'))
		if len(m.principals.rows) < 5 {
			t.Errorf("x left %d rows", len(m.principals.rows))
		}
	})
	t.Run("/ filters the journal", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		press(m, key1('4'), key1('/'))
		press(m, runes("deactivate")...)
		press(m, keyEnter)
		if len(m.journal.rows) != 3 {
			t.Errorf("%d journal rows, want the 3 facts of the deactivation", len(m.journal.rows))
		}
	})
	t.Run("/ filters the regions", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		press(m, key1('3'), key1('/'))
		press(m, runes("eu-")...)
		press(m, keyEnter)
		if len(m.regions.regions) != 1 || m.regions.regions[0] != "eu-west-1" {
			t.Errorf("regions %v", m.regions.regions)
		}
	})
	t.Run("y copies the key id, Y the other fields", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 160, 50)
		press(m, keyDown, keyDown) // StopLogging, by the minted key
		if c := press(m, key1('y')); c == nil || !strings.Contains(m.message, "copied "+minted) {
			t.Errorf("y: %q", m.message)
		}
		press(m, key1('Y'))
		if !strings.Contains(m.message, "copied "+ciARN+" (principal ARN") {
			t.Errorf("Y: %q", m.message)
		}
		press(m, key1('Y'))
		if !strings.Contains(m.message, "(event id") {
			t.Errorf("Y again: %q", m.message)
		}
	})
	t.Run("ctrl+w shows every column", func(t *testing.T) {
		m, _ := newTestModel(t, Options{}, 200, 60)
		press(m, keyCtrlW)
		if s := screenOf(m); !strings.Contains(s, "service") {
			t.Errorf("wide mode:\n%s", s)
		}
		press(m, tea.KeyPressMsg{Code: tea.KeyRight}, tea.KeyPressMsg{Code: tea.KeyRight}, tea.KeyPressMsg{Code: tea.KeyRight}, tea.KeyPressMsg{Code: tea.KeyRight}, tea.KeyPressMsg{Code: tea.KeyRight}, tea.KeyPressMsg{Code: tea.KeyRight})
		if s := screenOf(m); !strings.Contains(s, "user agent") || !strings.Contains(s, "aws-cli/2.15.0") {
			t.Errorf("→ in wide mode does not scroll to the user agent:\n%s", s)
		}
		press(m, keyCtrlW)
		if s := screenOf(m); strings.Contains(s, "user agent") {
			t.Error("ctrl+w again kept every column")
		}
	})
}

// The verdict, read back from AWS, is on the status line at 80 columns
// (it came after the incident id and the account, and was cut off).
func TestStatusLineVerdictAt80(t *testing.T) {
	entries := incident(t)
	f := &facts{seq: entries[len(entries)-1].Seq, entries: entries}
	f.add(t, state.KindVerdict, t0, state.Verdict{Key: "AKIAIOSFODNN7EXAMPLE", CheckedAt: t0, Contained: true, Footholds: 3, Held: 3})
	m, _ := newTestModel(t, Options{Store: storeOf(t, f.entries)}, 80, 24)
	if status := strings.Split(screenOf(m), "\n")[0]; !strings.Contains(status, "✓ contained") {
		t.Errorf("status line %q: no verdict", status)
	}
	// With many failing Regions the health grows long: it is cut short,
	// and the incident id and account go, before the verdict does.
	for i, r := range []string{"ap-south-1", "ca-central-1", "me-central-1", "sa-east-1", "eu-north-1"} {
		status := "access denied"
		if i%2 == 0 {
			status = "throttled"
		}
		f.add(t, state.KindStreamHealth, t0, state.StreamHealth{Source: "lookup:" + r, Region: r, Status: status})
	}
	m, _ = newTestModel(t, Options{Store: storeOf(t, f.entries)}, 80, 24)
	status := strings.Split(screenOf(m), "\n")[0]
	if !strings.Contains(status, "✓ contained") || !strings.Contains(status, "Regions failing") {
		t.Errorf("status line %q: the verdict or the failing Regions are cut off", status)
	}
	if strings.Contains(status, "wr-2026") {
		t.Errorf("status line %q: the incident id stayed while the health was cut", status)
	}
}

// "1 resources" (defect 12): counts of one are singular in titles and
// journal lines.
func TestOneIsSingular(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 200, 60)
	for _, k := range []tea.KeyPressMsg{key1('3'), keyDown, keyDown, keyEnter} {
		m.Update(k)
	}
	screen := screenOf(m)
	for _, want := range []string{"us-east-1 · 1 resource ", "1 key,", "(1 call)"} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q", want)
		}
	}
	for _, bad := range []string{"1 resources", "1 keys", "1 calls"} {
		if strings.Contains(screen, bad) {
			t.Errorf("screen says %q", bad)
		}
	}
}

// The stream's filter prompt names the fields a newcomer cannot guess
// (first-time user's note: "/" opened with "-ours" and no hint).
func TestFilterPromptNamesFields(t *testing.T) {
	for _, w := range []int{80, 200} {
		m, _ := newTestModel(t, Options{}, w, 40)
		m.Update(key1('/'))
		lines := strings.Split(screenOf(m), "\n")
		if last := lines[len(lines)-1]; !strings.Contains(last, "fields: ") || !strings.Contains(last, "key:") {
			t.Errorf("at %d columns the filter prompt says %q", w, last)
		}
	}
}
