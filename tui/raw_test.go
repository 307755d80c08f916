package tui

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// TestDetailReadsRawRecord opens an event from a real journal: the raw
// record is read in a Cmd (not in Update) and shown pretty and sanitised.
func TestDetailReadsRawRecord(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{ID: "wr-test"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	hostile := ev{id: "00000001-aaaa-4bbb-8ccc-0123456789ab", name: "CreateUser", key: leaked, arn: ciARN, ip: "203.0.113.7",
		agent: "curl/8 \x1b]52;c;ZXZpbA==\x07 \u202eevil", at: t0}
	r, err := ctlog.ParseRecord(hostile.raw())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := rec.RecordEvents("test", []ctlog.Record{r}, nil); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	st, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %+v", err, rep)
	}
	m, _ := newTestModel(t, Options{Store: st, JournalPath: path, Mode: ModeReplay}, 120, 60)
	c := press(m, keyEnter)
	if m.detail == nil || c == nil {
		t.Fatal("enter did not open the detail view with a read command")
	}
	if len(m.detail.raw) != 0 {
		t.Fatal("the raw record was read inside Update")
	}
	exec(m, c)
	screen := m.Render()
	checkFrame(t, screen, 120, 60)
	plain := ansi.Strip(screen)
	for _, want := range []string{"raw record (sanitised):", `"eventName": "CreateUser"`, `"eventSource": "iam.amazonaws.com"`, "# persistence"} {
		if !strings.Contains(plain, want) {
			t.Errorf("detail lacks %q", want)
		}
	}
	t.Run("late answer for a closed view is dropped", func(t *testing.T) {
		m, _ := newTestModel(t, Options{Store: st, JournalPath: path, Mode: ModeReplay}, 120, 60)
		c := press(m, keyEnter)
		press(m, keyEsc)
		press(m, keyEnter)
		reopened := m.detail
		m.Update(c())
		if len(reopened.raw) != 0 {
			t.Error("the answer to the first request filled the second view")
		}
	})
}
