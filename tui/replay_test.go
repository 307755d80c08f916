package tui

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// storeDigest renders everything a store holds, through its exported
// fields and query methods, as text that two equal stores share: the event
// table in time order with every field, each key's family, and each
// action as its id finds it.
func storeDigest(t testing.TB, s *state.Store) string {
	t.Helper()
	var sb strings.Builder
	// Every exported field, so that a field added later is compared too;
	// the table and the sweeps (keyed by a struct) through their methods.
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if !f.IsExported() || f.Name == "Events" || f.Name == "Sweeps" {
			continue
		}
		b, err := json.Marshal(v.Field(i).Interface())
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		fmt.Fprintf(&sb, "%s: %s\n", f.Name, b)
	}
	sweeps, err := json.Marshal(s.SweepList())
	if err != nil {
		t.Fatal(err)
	}
	sb.Write(sweeps)
	keys := map[string]bool{}
	for _, id := range s.Events.Query(nil).IDs() {
		e := s.Events.Event(id)
		fmt.Fprintf(&sb, "\n%+v", e)
		keys[e.AccessKeyID] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		fmt.Fprintf(&sb, "\nfamily %s %+v", k, s.Events.Family(k))
	}
	for _, a := range s.Actions {
		b, _ := json.Marshal(s.Action(a.Intent.ActionID))
		fmt.Fprintf(&sb, "\naction %s %s", a.Intent.ActionID, b)
	}
	return sb.String()
}

// recordLive journals the fixture incident through a Recorder as a live
// console does (the entry Record returns applied with Apply, event batches
// parsed once and applied with ApplyEvents), and returns the journal's
// path and the live store's digest after each fact (index 0: fact 1).
func recordLive(t testing.TB, dir string) (string, []string) {
	t.Helper()
	path := filepath.Join(dir, "journal.jsonl")
	all := incident(t)
	// More facts: a batch with a copy of an event already seen, a record
	// that cannot be parsed, and a late event; a cleared suspect mark.
	more := &facts{seq: int64(len(all))}
	more.add(t, state.KindEvents, t0, state.Events{Source: "lookup:eu-west-1", Records: []json.RawMessage{
		ev{id: "00000005-aaaa-4bbb-8ccc-0123456789ab", name: "RunInstances", source: "ec2.amazonaws.com", region: "eu-west-1", key: minted, arn: ciARN, user: "ci-deploy", ip: "198.51.100.23", at: t0.Add(-4*time.Hour + 30*time.Minute)}.raw(),
		ev{id: "00000010-aaaa-4bbb-8ccc-0123456789ab", name: "DeleteTrail", source: "cloudtrail.amazonaws.com", key: minted, arn: ciARN, ip: "198.51.100.23", at: t0.Add(-5 * time.Hour)}.raw(),
	}})
	more.add(t, state.KindSuspect, t0, state.Suspect{AccessKeyID: leaked, Clear: true})
	more.add(t, state.KindActionResult, t0, state.ActionResult{ActionID: "act-2", OK: false, Error: "AccessDenied", Calls: []state.CallResult{{API: "iam:PutUserPolicy", RequestID: "req-2", Error: "AccessDenied"}}})
	all = append(all, more.entries...)

	var opened state.IncidentOpened
	if err := json.Unmarshal(all[0].Data, &opened); err != nil {
		t.Fatal(err)
	}
	rec, err := state.OpenRecorder(path, opened, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	live := state.NewStore()
	var digests []string
	first, err := journal.ReadAt(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := live.Apply(first); err != nil {
		t.Fatal(err)
	}
	digests = append(digests, storeDigest(t, live))
	for _, f := range all[1:] {
		var e journal.Entry
		if state.Kind(f.Kind) == state.KindEvents {
			var ev state.Events
			if err := json.Unmarshal(f.Data, &ev); err != nil {
				t.Fatal(err)
			}
			var recs []ctlog.Record
			for _, raw := range ev.Records {
				r, err := ctlog.ParseRecord(raw)
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, r)
			}
			skipped := []state.Skipped{{File: "AWSLogs/x.json.gz", Index: 3, Reason: "not an object"}}
			var pev state.Events
			e, pev, err = rec.RecordEvents(ev.Source, recs, skipped)
			if err != nil {
				t.Fatal(err)
			}
			if err := live.ApplyEvents(e, pev, recs); err != nil {
				t.Fatal(err)
			}
		} else {
			if e, err = rec.Record(state.Kind(f.Kind), f.Data); err != nil {
				t.Fatal(err)
			}
			if err := live.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		digests = append(digests, storeDigest(t, live))
	}
	return path, digests
}

// replayModel opens path for replay in a model at position pos.
func replayModel(t testing.TB, path string, pos int, w, h int) (*Model, *clockAt) {
	t.Helper()
	return replayModelFiltered(t, path, pos, w, h, "")
}

// replayModelFiltered is replayModel with the stream's first filter (warroom
// replay opens on "-ours").
func replayModelFiltered(t testing.TB, path string, pos int, w, h int, filter string) (*Model, *clockAt) {
	t.Helper()
	r, err := state.OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	s, err := r.Fold(context.Background(), pos)
	if err != nil {
		t.Fatal(err)
	}
	m, clk := newTestModel(t, Options{Store: s, Replay: r, Mode: ModeReplay, JournalPath: path, Filter: filter}, w, h)
	m.ticker = func(gen int) tea.Cmd { return func() tea.Msg { return playTickMsg{gen: gen} } }
	return m, clk
}

// TestReplayEquivalence checks that replay reproduces the live store
// exactly at every point: a fresh fold to each position, and the console
// stepped forward fact by fact, then back, then seeking.
func TestReplayEquivalence(t *testing.T) {
	path, live := recordLive(t, t.TempDir())
	r, err := state.OpenReplay(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Report().OK() || r.Len() != len(live) {
		t.Fatalf("replay has %d facts (%v), live had %d", r.Len(), r.Report().Problem, len(live))
	}
	for n := 1; n <= r.Len(); n++ {
		s, err := r.Fold(context.Background(), n)
		if err != nil {
			t.Fatal(err)
		}
		if got := storeDigest(t, s); got != live[n-1] {
			t.Fatalf("fold to fact %d differs from the live store:\n%s", n, diffLines(live[n-1], got))
		}
	}

	m, _ := replayModel(t, path, 1, 160, 50)
	check := func(how string) {
		t.Helper()
		pos := m.tl.pos
		if pos < 1 || int(m.store.Seq) != pos {
			t.Fatalf("%s: position %d, store at %d", how, pos, m.store.Seq)
		}
		if got := storeDigest(t, m.store); got != live[pos-1] {
			t.Fatalf("%s to fact %d: the console's store differs from the live one:\n%s", how, pos, diffLines(live[pos-1], got))
		}
	}
	for n := 2; n <= r.Len(); n++ {
		exec(m, press(m, key1('.')))
		if m.tl.pos != n {
			t.Fatalf("step forward reached %d, want %d", m.tl.pos, n)
		}
		check("step forward")
	}
	exec(m, press(m, key1('.')))
	if m.tl.pos != r.Len() {
		t.Errorf("step past the end moved to %d", m.tl.pos)
	}
	for n := r.Len() - 1; n >= 1; n-- {
		exec(m, press(m, key1(',')))
		if m.tl.pos != n {
			t.Fatalf("step back reached %d, want %d", m.tl.pos, n)
		}
		check("step back")
	}
	for _, to := range []string{"end", "#7", "3", "start", fmt.Sprint(r.Len() - 1)} {
		exec(m, press(m, append(append([]tea.KeyPressMsg{key1('t')}, runes(to)...), keyEnter)...))
		check("seek " + to)
	}
}

// diffLines shows the first line where two digests differ.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\nwant %s\ngot  %s", i+1, a, b)
		}
	}
	return "(equal)"
}

// line is one hand-made journal line.
type line struct {
	at      time.Time
	kind    state.Kind
	payload any
}

// writeJournal writes a journal with the given lines (line 1 must be the
// incident.opened fact), chained as warroom's writer chains them, at times
// of the test's choosing.
func writeJournal(t testing.TB, path, id string, lines []line) {
	t.Helper()
	prev := sha256.Sum256([]byte(id))
	var buf []byte
	for i, l := range lines {
		data, err := json.Marshal(l.payload)
		if err != nil {
			t.Fatal(err)
		}
		start := len(buf)
		buf = fmt.Appendf(buf, `{"seq":%d,"at":"%s","by":{"user":"alice","host":"jump1"},"kind":"%s","data":%s,"prev":"%s"}`,
			i+1, l.at.UTC().Format(time.RFC3339Nano), l.kind, data, hex.EncodeToString(prev[:]))
		prev = sha256.Sum256(buf[start:])
		buf = append(buf, '\n')
	}
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		t.Fatal(err)
	}
}

// timedIncident is a journal whose facts are spread in time: 1 s apart,
// then a ten-minute lull, with notes and actions among them.
func timedIncident(t testing.TB, path string) []line {
	t.Helper()
	base := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	id := "wr-20261123-0400-abcdef"
	lines := []line{
		{base, state.KindIncidentOpened, state.IncidentOpened{ID: id, Title: "timed", OpenedAt: base}},
		{base.Add(1 * time.Second), state.KindNote, state.Note{Text: "first note"}},
		{base.Add(2 * time.Second), state.KindStreamHealth, state.StreamHealth{Source: "lookup:us-east-1", Region: "us-east-1", Status: "ok"}},
		{base.Add(3 * time.Second), state.KindStreamHealth, state.StreamHealth{Source: "lookup:us-east-1", Region: "us-east-1", Status: "ok"}},
		{base.Add(10 * time.Minute), state.KindActionIntent, state.ActionIntent{ActionID: "a1", Action: ActionDeactivateKey, Target: leaked}},
		{base.Add(10*time.Minute + time.Second), state.KindActionResult, state.ActionResult{ActionID: "a1", OK: true}},
		{base.Add(10*time.Minute + 2*time.Second), state.KindStreamHealth, state.StreamHealth{Source: "lookup:us-east-1", Region: "us-east-1", Status: "ok"}},
		{base.Add(10*time.Minute + 3*time.Second), state.KindNote, state.Note{Text: "second note"}},
	}
	writeJournal(t, path, id, lines)
	return lines
}

// TestReplayPlay steps play by hand with a fake clock: facts fall due at
// their journal times times the speed, a lull is compressed to a second,
// and play stops at the end.
func TestReplayPlay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	timedIncident(t, path)
	m, clk := replayModel(t, path, 1, 160, 50)
	// Drive play one message at a time, as bubbletea would.
	var next tea.Cmd
	step := func() {
		t.Helper()
		if next == nil {
			t.Fatal("play stopped")
		}
		_, next = m.Update(next())
	}
	press(m, key1('<'), key1('<'), key1('<')) // 10× to 1×
	if m.tl.speedX() != 1 {
		t.Fatalf("speed %d×, want 1×", m.tl.speedX())
	}
	next = press(m, key1(' '))
	if !m.tl.playing {
		t.Fatal("space did not start play")
	}
	steps := []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{name: "not yet due", advance: 500 * time.Millisecond, want: 1},
		{name: "one second at 1x", advance: 500 * time.Millisecond, want: 2},
		{name: "the next second", advance: time.Second, want: 3},
		{name: "at most a second counts per tick", advance: time.Hour, want: 4},
		{name: "lull compressed: not before a second", advance: 500 * time.Millisecond, want: 4},
		{name: "lull compressed to a second", advance: 500 * time.Millisecond, want: 5},
	}
	for _, s := range steps {
		clk.advance(s.advance)
		step() // the tick
		if m.tl.pos < s.want {
			step() // the facts it read
		}
		if m.tl.pos != s.want {
			t.Fatalf("%s: at fact %d, want %d", s.name, m.tl.pos, s.want)
		}
	}
	press(m, key1('>'), key1('>'), key1('>'), key1('>'), key1('>'), key1('>'), key1('>'), key1('>'), key1('>'), key1('>'))
	if m.tl.speedX() != 1000 {
		t.Fatalf("speed %d×, want the 1000× top", m.tl.speedX())
	}
	clk.advance(100 * time.Millisecond) // 100 s of journal time at 1000×
	step()
	step()
	if m.tl.pos != m.tl.r.Len() || m.tl.playing || next != nil {
		t.Errorf("play did not stop at the end: fact %d of %d, playing %v", m.tl.pos, m.tl.r.Len(), m.tl.playing)
	}
	if !strings.Contains(m.Render(), "fact 8 of 8") {
		t.Errorf("status line lacks the position:\n%s", m.Render())
	}
	// Play at the end starts over; space again pauses, and a stale tick
	// from before the pause is dropped.
	next = press(m, key1(' '))
	step()
	if m.tl.pos != 1 || !m.tl.playing {
		t.Errorf("play at the end did not start over: fact %d", m.tl.pos)
	}
	stale := next
	press(m, key1(' '))
	clk.advance(time.Hour)
	if _, c := m.Update(stale()); c != nil || m.tl.pos != 1 {
		t.Errorf("a tick from before the pause moved play to %d", m.tl.pos)
	}
}

// TestReplayJumps checks the jumps to actions and notes, and seeks by time.
func TestReplayJumps(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	lines := timedIncident(t, path)
	m, _ := replayModel(t, path, 1, 160, 50)
	for i, want := range []int{2, 5, 6, 8, 8} {
		exec(m, press(m, key1(']')))
		if m.tl.pos != want {
			t.Fatalf("jump %d: at fact %d, want %d", i+1, m.tl.pos, want)
		}
	}
	for i, want := range []int{6, 5, 2, 2} {
		exec(m, press(m, key1('[')))
		if m.tl.pos != want {
			t.Fatalf("jump back %d: at fact %d, want %d", i+1, m.tl.pos, want)
		}
	}
	cases := []struct {
		name, typed string
		want        int
	}{
		{name: "time of day", typed: "04:05", want: 4},
		{name: "exact time of a fact", typed: lines[5].at.Format(time.RFC3339), want: 6},
		{name: "before the first fact", typed: "2026-11-22 23:00", want: 1},
		{name: "relative", typed: "+10m", want: 5},
		{name: "fact number", typed: "#7", want: 7},
		{name: "end", typed: "end", want: 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exec(m, press(m, append(append([]tea.KeyPressMsg{key1('t')}, runes(c.typed)...), keyEnter)...))
			if m.tl.pos != c.want {
				t.Errorf("seek %q: at fact %d, want %d", c.typed, m.tl.pos, c.want)
			}
		})
	}
	before := m.tl.pos
	press(m, append(append([]tea.KeyPressMsg{key1('t')}, runes("yesterday")...), keyEnter)...)
	if m.tl.pos != before || m.inputKind != inputSeek || !strings.Contains(m.inputHint, "not a position") {
		t.Errorf("a bad seek moved to %d or said %q", m.tl.pos, m.inputHint)
	}
	press(m, keyEsc)
}

// TestReplayTampered replays journals that do not verify: a line altered
// in the middle, and a torn last line. Each replays up to the break with a
// banner naming where and why.
func TestReplayTampered(t *testing.T) {
	cases := []struct {
		name   string
		damage func(b []byte) []byte
		facts  int
		banner []string
	}{
		{name: "note altered", damage: func(b []byte) []byte {
			return []byte(strings.Replace(string(b), "first note", "FIRST NOTE", 1))
		}, facts: 1, banner: []string{"NOT intact: replaying facts 1-1 only; line 3", "chain broken"}},
		{name: "line deleted", damage: func(b []byte) []byte {
			ls := strings.SplitAfter(string(b), "\n")
			return []byte(strings.Join(append(ls[:4:4], ls[5:]...), ""))
		}, facts: 4, banner: []string{"NOT intact: replaying facts 1-4 only; line 5", "seq out of order"}},
		{name: "torn tail", damage: func(b []byte) []byte { return b[:len(b)-10] },
			facts: 7, banner: []string{"torn (a crash mid-write): replaying the 7 complete facts; line 8"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "j.jsonl")
			timedIncident(t, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, c.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}
			m, _ := replayModel(t, path, 100, 120, 40)
			if m.tl.r.Len() != c.facts || m.tl.pos != c.facts {
				t.Fatalf("replays %d facts, at %d; want %d", m.tl.r.Len(), m.tl.pos, c.facts)
			}
			out := m.Render()
			checkFrame(t, out, 120, 40)
			top := strings.Split(out, "\n")[1]
			for _, want := range c.banner {
				if !strings.Contains(top, want) {
					t.Errorf("banner %q lacks %q", top, want)
				}
			}
			// Stepping back and forward works within the good prefix.
			exec(m, press(m, key1(','), key1('.')))
			if m.tl.pos != c.facts || m.message != "" && m.messageErr {
				t.Errorf("after a step back and forth: fact %d, %q", m.tl.pos, m.message)
			}
		})
	}
}

// TestReplayChangedUnderfoot checks that a journal rewritten after the
// replay indexed it is refused, not shown.
func TestReplayChangedUnderfoot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	timedIncident(t, path)
	m, _ := replayModel(t, path, 1, 160, 50)
	b, _ := os.ReadFile(path)
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), "second note", "SECOND NOTE", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	exec(m, press(m, key1('t'), key1('8'), keyEnter))
	if m.tl.pos != 1 || !strings.Contains(m.message, "changed since") {
		t.Errorf("seek into a rewritten journal: fact %d, message %q", m.tl.pos, m.message)
	}
	exec(m, press(m, key1('.')))
	if m.tl.pos != 2 {
		t.Errorf("the unchanged prefix no longer steps: at %d", m.tl.pos)
	}
}

// TestReplayKeysOnlyInReplay checks that the timeline keys are inert and
// absent from help outside a replay.
func TestReplayKeysOnlyInReplay(t *testing.T) {
	m, _ := newTestModel(t, Options{}, 160, 50)
	seq := m.store.Seq
	press(m, key1(' '), key1('.'), key1(','), key1(']'), key1('t'))
	if m.store.Seq != seq || m.inputKind != inputNone {
		t.Error("timeline keys acted outside a replay")
	}
	press(m, key1('?'))
	if strings.Contains(m.Render(), "play or pause") {
		t.Error("help lists the timeline outside a replay")
	}

	path := filepath.Join(t.TempDir(), "j.jsonl")
	timedIncident(t, path)
	rm, _ := replayModel(t, path, 3, 160, 50)
	press(rm, key1('?'))
	if !strings.Contains(rm.Render(), "play or pause") {
		t.Error("help lacks the timeline in a replay")
	}
	press(rm, keyEsc)
	if !strings.Contains(rm.Render(), "as of 2026-11-23 04:00:02 · ⏸ 10× · fact 3 of 8") {
		t.Errorf("status line:\n%s", strings.Split(rm.Render(), "\n")[0])
	}
}
