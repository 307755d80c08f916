package tui

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// drillJournal writes the journal of a drill (warroom drill --speed 50
// --seed 7: a note, a suspect mark, a key deactivated and verified, a
// second note, the verdict at quit), kept gzipped in testdata, to dir and
// returns its path.
func drillJournal(t testing.TB, dir string) string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "drill-journal.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "drill.jsonl")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// seekKeys are the keys that seek to the position typed.
func seekKeys(to string) []tea.KeyPressMsg {
	return append(append([]tea.KeyPressMsg{key1('t')}, runes(to)...), keyEnter)
}

// freshView is the frame a replay opened at position pos shows, at the
// given play speed.
func freshView(t testing.TB, path, filter string, pos, speed, w, h int) string {
	t.Helper()
	m, _ := replayModelFiltered(t, path, pos, w, h, filter)
	m.tl.speed = speed
	return m.Render()
}

// replaySizes are the sizes every replay screen is checked at.
var replaySizes = []struct{ w, h int }{{80, 24}, {120, 40}, {200, 60}}

// TestReplaySeekBack is defect 1 of issue 14: a seek back by more than one
// step folded a shorter store, and the journal pane kept the rows it had
// built over the longer one; the next frame indexed past the timeline's
// end. Each case ends on a frame equal to a fresh replay's at that fact.
func TestReplaySeekBack(t *testing.T) {
	dir := t.TempDir()
	timed := filepath.Join(dir, "timed.jsonl")
	timedIncident(t, timed)
	drill := drillJournal(t, dir)
	cases := []struct {
		name  string
		path  string
		start int
		keys  []tea.KeyPressMsg
		want  int
	}{
		{name: "next mark then step back", path: timed, start: 1, keys: []tea.KeyPressMsg{key1(']'), key1(',')}, want: 1},
		{name: "at end then seek start", path: timed, start: 8, keys: seekKeys("start"), want: 1},
		{name: "drill: t 500 then t 100", path: drill, start: 1, keys: append(seekKeys("500"), seekKeys("100")...), want: 100},
		{name: "drill: at end then seek start", path: drill, start: 1 << 20, keys: seekKeys("start"), want: 1},
		{name: "drill: previous mark from the end", path: drill, start: 1 << 20, keys: []tea.KeyPressMsg{key1('['), key1('['), key1('[')}},
	}
	for _, c := range cases {
		for _, sz := range replaySizes {
			t.Run(fmt.Sprintf("%s/%dx%d", c.name, sz.w, sz.h), func(t *testing.T) {
				m, _ := replayModel(t, c.path, c.start, sz.w, sz.h)
				m.Render()
				for _, k := range c.keys {
					exec(m, press(m, k))
					m.Render()
				}
				if c.want != 0 && m.tl.pos != c.want {
					t.Fatalf("at fact %d, want %d", m.tl.pos, c.want)
				}
				got := m.Render()
				checkFrame(t, got, sz.w, sz.h)
				if want := freshView(t, c.path, "", m.tl.pos, m.tl.speed, sz.w, sz.h); got != want {
					t.Errorf("fact %d after seeking differs from a fresh replay at %d:\n%s", m.tl.pos, m.tl.pos, diffLines(want, got))
				}
			})
		}
	}
}

// TestReplayBadSeekKeepsPrompt is the replay part of defect 12 of issue 14:
// a position that does not parse left the prompt closed, and the keys typed
// next (meant to correct it) reached the console as commands.
func TestReplayBadSeekKeepsPrompt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	timedIncident(t, path)
	m, _ := replayModel(t, path, 3, 120, 40)
	exec(m, press(m, seekKeys("yesterday")...))
	if m.inputKind != inputSeek {
		t.Fatal("a bad seek closed the prompt")
	}
	foot := lastLine(m.Render())
	for _, want := range []string{"seek to:", "yesterday", "✗", "not a position"} {
		if !strings.Contains(foot, want) {
			t.Errorf("footer %q lacks %q", foot, want)
		}
	}
	// The next keys edit the text: q does not ask to quit, . does not step.
	exec(m, press(m, key1('q'), key1('.')))
	if m.dialog != nil || m.tl.pos != 3 || m.input.Value() != "yesterdayq." {
		t.Fatalf("keys after a bad seek reached the console: dialog %v, fact %d, input %q", m.dialog != nil, m.tl.pos, m.input.Value())
	}
	if strings.Contains(lastLine(m.Render()), "not a position") {
		t.Error("the error stays after the text was edited")
	}
	// Corrected, it seeks and closes.
	for range len("yesterdayq.") {
		press(m, keyBack)
	}
	exec(m, press(m, append(runes("#7"), keyEnter)...))
	if m.inputKind != inputNone || m.tl.pos != 7 {
		t.Errorf("a good seek after a bad one: prompt open %v, at fact %d", m.inputKind != inputNone, m.tl.pos)
	}
	// esc still gives up on a bad one.
	exec(m, press(m, seekKeys("nowhere")...))
	press(m, keyEsc)
	if m.inputKind != inputNone || m.tl.pos != 7 {
		t.Errorf("esc after a bad seek: prompt open %v, at fact %d", m.inputKind != inputNone, m.tl.pos)
	}
}

// timelineDriver plays a replay model as bubbletea would, but with the
// order of answers in the test's hands: every Cmd the model returns waits
// in pending until the test delivers it, so a fold can land after the keys
// that made it stale, and play's ticks come when the test says.
type timelineDriver struct {
	t       testing.TB
	m       *Model
	clk     *clockAt
	path    string
	filter  string
	w, h    int
	pending []tea.Cmd
	log     []string
}

func (d *timelineDriver) queue(c tea.Cmd) {
	if c != nil {
		d.pending = append(d.pending, c)
	}
}

func (d *timelineDriver) send(msg tea.Msg) {
	_, c := d.m.Update(msg)
	d.queue(c)
	d.m.Render() // bubbletea may draw after any message
}

func (d *timelineDriver) keys(ks ...tea.KeyPressMsg) {
	for _, k := range ks {
		d.send(k)
	}
}

// deliver runs pending Cmd i and hands the model what it returns.
func (d *timelineDriver) deliver(i int) {
	c := d.pending[i]
	d.pending = append(d.pending[:i], d.pending[i+1:]...)
	switch msg := c().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.queue(c)
		}
	default:
		d.send(msg)
	}
}

// settle pauses play and delivers every answer still pending, then checks
// that the screen is what a replay opened at the position shows.
func (d *timelineDriver) settle() {
	d.t.Helper()
	if d.m.inputKind != inputNone {
		d.t.Fatalf("a prompt is open: %q\n%s", d.m.input.Value(), strings.Join(d.log, "\n"))
	}
	if d.m.tl.playing {
		d.keys(key1(' '))
	}
	for n := 0; len(d.pending) > 0; n++ {
		if n > 10000 {
			d.t.Fatalf("answers keep coming after a pause (%d pending)\n%s", len(d.pending), strings.Join(d.log, "\n"))
		}
		d.deliver(0)
	}
	m := d.m
	if int(m.store.Seq) != m.tl.pos || m.tl.seekTo != 0 {
		d.t.Fatalf("settled at fact %d with the store at %d, seeking to %d\n%s", m.tl.pos, m.store.Seq, m.tl.seekTo, strings.Join(d.log, "\n"))
	}
	m.message = "" // a flash from a key (no mark after this fact) is not the position's
	got := m.Render()
	checkFrame(d.t, got, d.w, d.h)
	if want := freshView(d.t, d.path, d.filter, m.tl.pos, m.tl.speed, d.w, d.h); got != want {
		d.t.Fatalf("at fact %d the screen differs from a replay opened there:\n%s\nops:\n%s", m.tl.pos, diffLines(want, got), strings.Join(d.log, "\n"))
	}
}

// step applies one operation decoded from op and arg.
func (d *timelineDriver) step(op, arg byte) {
	n := d.m.tl.r.Len()
	var what string
	switch op % 12 {
	case 0:
		what = "space"
		d.keys(key1(' '))
	case 1:
		what = "."
		d.keys(key1('.'))
	case 2:
		what = ","
		d.keys(key1(','))
	case 3:
		what = "]"
		d.keys(key1(']'))
	case 4:
		what = "["
		d.keys(key1('['))
	case 5:
		// Seek to a fact number, forward or back, near or far.
		to := fmt.Sprint(int(arg)*(n-1)/255 + 1)
		what = "t " + to
		d.keys(seekKeys(to)...)
	case 6:
		to := [...]string{"start", "end", "-1m", "+1m", "-10s", "+10s", "#1", "nonsense"}[arg%8]
		what = "t " + to
		d.keys(seekKeys(to)...)
		if d.m.inputKind != inputNone {
			d.keys(keyEsc) // a bad position keeps the prompt open
		}
	case 7:
		what = ">"
		d.keys(key1('>'))
	case 8:
		what = "<"
		d.keys(key1('<'))
	case 9, 10:
		// Time passes and the oldest answer (a tick, facts, a fold) lands.
		dt := time.Duration(arg) * 10 * time.Millisecond
		what = fmt.Sprintf("+%v, answer", dt)
		d.clk.advance(dt)
		if len(d.pending) > 0 {
			d.deliver(0)
		}
	case 11:
		// An answer lands out of order: the newest first.
		what = "newest answer"
		if len(d.pending) > 0 {
			d.deliver(len(d.pending) - 1)
		}
	}
	d.log = append(d.log, fmt.Sprintf("%s → fact %d, %d pending", what, d.m.tl.pos, len(d.pending)))
}

// replayJournals are the journals the timeline is fuzzed over, made once.
type replayJournals struct{ paths []string }

func newReplayJournals(t testing.TB) *replayJournals {
	dir := t.TempDir()
	live, _ := recordLive(t, dir)
	timed := filepath.Join(dir, "timed.jsonl")
	timedIncident(t, timed)
	return &replayJournals{paths: []string{drillJournal(t, dir), live, timed}}
}

// run plays the operations in b (the first two bytes pick the journal, the
// size and the stream's filter, then one operation per two bytes) and checks the screen at
// every settle point (op byte 255) and at the end.
func (j *replayJournals) run(t testing.TB, b []byte) {
	if len(b) < 2 {
		return
	}
	path := j.paths[int(b[0])%len(j.paths)]
	sz := replaySizes[int(b[1])%len(replaySizes)]
	filter := ""
	if b[1]/3%2 == 1 {
		filter = "-ours" // as warroom replay opens
	}
	m, clk := replayModelFiltered(t, path, 1, sz.w, sz.h, filter)
	d := &timelineDriver{t: t, m: m, clk: clk, path: path, filter: filter, w: sz.w, h: sz.h}
	ops := b[2:]
	for i := 0; i+1 < len(ops) && i < 2*64; i += 2 {
		if ops[i] == 255 {
			d.settle()
			continue
		}
		d.step(ops[i], ops[i+1])
	}
	d.settle()
}

// FuzzReplayTimeline drives the replay timeline with random sequences of
// play, step, jump and seek, forward and back, over journals of a drill
// and of the fixture incident, with answers landing late and out of order.
// Nothing may panic, and wherever the timeline settles the screen must be
// the one a replay opened at that fact shows.
func FuzzReplayTimeline(f *testing.F) {
	j := newReplayJournals(f)
	f.Add([]byte{0, 0, 5, 200, 9, 0, 5, 30, 9, 0})              // t 500, t 100 on the drill
	f.Add([]byte{1, 1, 3, 0, 9, 0, 2, 0, 9, 0})                 // ] then ,
	f.Add([]byte{2, 2, 6, 1, 9, 0, 6, 0, 9, 0})                 // end then start
	f.Add([]byte{0, 2, 0, 0, 7, 0, 9, 100, 9, 0, 9, 100, 9, 0}) // play faster
	f.Add([]byte{0, 1, 6, 1, 2, 0, 5, 10, 11, 0, 9, 0, 255, 0, 4, 0, 9, 0})
	f.Fuzz(func(t *testing.T, b []byte) { j.run(t, b) })
}

// TestReplayTimelineProperty is the fuzz target's property over a fixed
// set of random sequences, so that every go test run checks it.
func TestReplayTimelineProperty(t *testing.T) {
	j := newReplayJournals(t)
	rng := rand.New(rand.NewPCG(14, 1))
	runs := 24
	if testing.Short() {
		runs = 6
	}
	for i := range runs {
		b := make([]byte, 2+2*(8+rng.IntN(40)))
		for k := range b {
			b[k] = byte(rng.IntN(256))
		}
		b[0], b[1] = byte(i%3), byte(i/3%6)
		// Settle now and then, mid-sequence.
		for k := 2; k < len(b); k += 2 {
			if rng.IntN(8) == 0 {
				b[k] = 255
			} else if b[k] == 255 {
				b[k] = 0
			}
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { j.run(t, b) })
	}
}

// TestDrillJournalFixture checks that the drill journal in testdata is
// whole and holds what the timeline's jumps stop at.
func TestDrillJournalFixture(t *testing.T) {
	r, err := state.OpenReplay(drillJournal(t, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Report().OK() || r.Len() < 500 {
		t.Fatalf("drill journal: %d facts, %v", r.Len(), r.Report().Problem)
	}
	marks := 0
	for n := r.NextMark(0); n > 0; n = r.NextMark(n) {
		marks++
	}
	if marks < 4 {
		t.Errorf("drill journal has %d actions and notes, want at least 4", marks)
	}
	if _, err := r.Fold(context.Background(), r.Len()); err != nil {
		t.Fatal(err)
	}
}

// TestFollowShowsDriverLeft is defect 11 of issue 14: a console that quit
// journaled nothing, so a follower could not tell that the incident had
// lost its driver. The session.ended fact shows in the status line and the
// journal pane, at every size; a new console session clears it.
func TestFollowShowsDriverLeft(t *testing.T) {
	all := incident(t)
	f := &facts{seq: int64(len(all))}
	f.add(t, state.KindSessionEnded, t0.Add(-30*time.Second), state.SessionEnded{Command: "console", Reason: state.EndQuit})
	back := &facts{seq: f.seq}
	back.add(t, state.KindSessionStarted, t0, state.SessionStarted{Command: "console", Mode: state.ModeLive})
	for _, sz := range replaySizes {
		t.Run(fmt.Sprintf("%dx%d", sz.w, sz.h), func(t *testing.T) {
			ch := make(chan []journal.Entry, 4)
			m, _ := newTestModel(t, Options{Feed: ch, Mode: ModeFollow}, sz.w, sz.h)
			if strings.Contains(m.Render(), "left") {
				t.Fatalf("the driver left before the fact:\n%s", m.Render())
			}
			ch <- f.entries
			exec(m, waitFeed(ch))
			out := m.Render()
			checkFrame(t, out, sz.w, sz.h)
			status := ansi.Strip(strings.Split(out, "\n")[0])
			if !strings.Contains(status, "✕ driver alice@jump1 left 04:20:37 (quit)") {
				t.Errorf("status line: %q", status)
			}
			press(m, key1('4'), key1('z')) // the journal pane, whole
			if out := ansi.Strip(m.Render()); !strings.Contains(out, "✕ alice@jump1") || !strings.Contains(out, "console ended (quit)") {
				t.Errorf("the journal pane does not list the end:\n%s", out)
			}
			ch <- back.entries
			exec(m, waitFeed(ch))
			if status := ansi.Strip(strings.Split(m.Render(), "\n")[0]); strings.Contains(status, "left") {
				t.Errorf("a new console session still says the driver left: %q", status)
			}
		})
	}
}

// TestReplayKeysAheadOfAnswers: keys pressed faster than the journal is
// read (a held-down step key, a jump then a step) count from where the
// request in flight goes, not from the position last shown: no key is
// lost, and the screen ends where the keys say.
func TestReplayKeysAheadOfAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	timedIncident(t, path) // marks at facts 2, 5, 6, 8
	cases := []struct {
		name  string
		start int
		keys  string
		want  int
	}{
		{name: "three steps forward", start: 1, keys: "...", want: 4},
		{name: "two steps back", start: 8, keys: ",,", want: 6},
		{name: "jump then step back", start: 3, keys: "],", want: 4},
		{name: "two jumps", start: 1, keys: "]]", want: 5},
		{name: "jump back twice", start: 8, keys: "[[", want: 5},
		// 04:00:01 + 10m: fact 6 is at 04:10:01, fact 7 a second later.
		{name: "step then seek relative", start: 1, keys: ".t+10m\r", want: 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, clk := replayModel(t, path, c.start, 120, 40)
			d := &timelineDriver{t: t, m: m, clk: clk, path: path, w: 120, h: 40}
			for _, r := range c.keys {
				k := key1(r)
				if r == '\r' {
					k = keyEnter
				}
				d.keys(k) // every answer waits
			}
			d.settle()
			if m.tl.pos != c.want {
				t.Errorf("%q from fact %d: at %d, want %d", c.keys, c.start, m.tl.pos, c.want)
			}
		})
	}
}
