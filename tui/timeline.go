package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// Replay timeline tuning.
const (
	// playInterval is how often play advances (ten frames a second).
	playInterval = 100 * time.Millisecond
	// maxGap is the longest pause play keeps between two facts, in wall
	// time at the current speed: longer quiet spells are compressed to it.
	maxGap = time.Second
	// maxPlayStep bounds the facts one play step applies, so the loop keeps
	// answering keys at 1000× through a flood of facts.
	maxPlayStep = 2000
	// maxApplySeek is the farthest forward seek applied on the update loop
	// from entries read in a Cmd; farther seeks, and every backward seek,
	// fold a new store in the background.
	maxApplySeek = 2000
)

// speeds are play's speeds, from real time to 1000×.
var speeds = []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000}

// timeline is the replay's position and play state.
type timeline struct {
	r       *state.Replayer
	pos     int // facts applied to the store
	playing bool
	speed   int   // index into speeds
	vclock  int64 // play's journal clock, unix nanoseconds
	last    time.Time
	// gen changes on every seek, step, play and pause: an answer carrying
	// an older gen is for a request since replaced, and is dropped.
	gen    int
	seekTo int // the target of a background fold, 0 when none
	// want is where the request in flight (facts read, a fold) takes the
	// timeline, 0 when none: keys pressed before it lands count from there.
	want   int
	cancel context.CancelFunc
	err    string
}

// playTickMsg advances play.
type playTickMsg struct{ gen int }

// replayMsg answers a timeline request: facts from+1.. to apply to the
// store, or a new store folded to position to.
type replayMsg struct {
	gen     int
	from    int
	entries []journal.Entry
	store   *state.Store
	to      int
	err     error
}

func newTimeline(r *state.Replayer, s *state.Store) *timeline {
	return &timeline{r: r, pos: int(s.Seq), speed: 3}
}

// speedX returns the play speed as a multiple of real time.
func (tl *timeline) speedX() int { return speeds[tl.speed] }

// target is the position the timeline is going to: where the request in
// flight lands, else the position. Steps, jumps and relative seeks count
// from it, so that keys typed faster than the journal is read are not lost.
func (tl *timeline) target() int {
	if tl.want > 0 {
		return tl.want
	}
	return tl.pos
}

// asOf is the journal time of the position, the replay's "now".
func (tl *timeline) asOf() time.Time { return tl.r.Time(tl.pos) }

// status is the timeline's part of the status line.
func (tl *timeline) status() string {
	s := fmt.Sprintf("fact %d of %d", tl.pos, tl.r.Len())
	if tl.playing {
		s = fmt.Sprintf("▶ %d× · %s", tl.speedX(), s)
	} else {
		s = fmt.Sprintf("⏸ %d× · %s", tl.speedX(), s)
	}
	if tl.seekTo > 0 {
		s += fmt.Sprintf(" · seeking to %d…", tl.seekTo)
	}
	if at := tl.asOf(); !at.IsZero() {
		s = "as of " + at.Format("2006-01-02 15:04:05") + " · " + s
	}
	return s
}

// bump starts a new generation, cancelling a fold in flight.
func (tl *timeline) bump() {
	tl.gen++
	tl.seekTo, tl.want = 0, 0
	if tl.cancel != nil {
		tl.cancel()
		tl.cancel = nil
	}
}

// timelineKey handles the replay keys; ok is false for other keys.
func (m *Model) timelineKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	tl, k := m.tl, &m.keys
	if tl == nil {
		return nil, false
	}
	switch {
	case key.Matches(msg, k.PlayPause):
		return m.playPause(), true
	case key.Matches(msg, k.Faster):
		tl.speed = min(tl.speed+1, len(speeds)-1)
	case key.Matches(msg, k.Slower):
		tl.speed = max(tl.speed-1, 0)
	case key.Matches(msg, k.StepForward):
		tl.playing = false
		return m.seek(tl.target() + 1), true
	case key.Matches(msg, k.StepBack):
		tl.playing = false
		return m.seek(tl.target() - 1), true
	case key.Matches(msg, k.NextMark):
		if n := tl.r.NextMark(tl.target()); n > 0 {
			return m.seek(n), true
		}
		m.flash("no action or note after this fact", true)
	case key.Matches(msg, k.PrevMark):
		if n := tl.r.PrevMark(tl.target()); n > 0 {
			return m.seek(n), true
		}
		m.flash("no action or note before this fact", true)
	case key.Matches(msg, k.Seek):
		m.openInput(inputSeek, "seek to:", "")
	default:
		return nil, false
	}
	return nil, true
}

// playPause starts or stops play. Play from the last fact starts over.
func (m *Model) playPause() tea.Cmd {
	tl := m.tl
	tl.bump()
	if tl.playing {
		tl.playing = false
		return nil
	}
	tl.playing = true
	if tl.pos >= tl.r.Len() {
		return m.seek(1)
	}
	return m.startPlay()
}

// startPlay sets play's journal clock to the position and arms the tick.
func (m *Model) startPlay() tea.Cmd {
	tl := m.tl
	tl.vclock = tl.r.Time(tl.pos).UnixNano()
	tl.last = m.opts.Now()
	gen := tl.gen
	return m.tick(gen)
}

// tick arms play's next step. Tests replace m.ticker to step play by hand.
func (m *Model) tick(gen int) tea.Cmd {
	if m.ticker != nil {
		return m.ticker(gen)
	}
	return tea.Tick(playInterval, func(time.Time) tea.Msg { return playTickMsg{gen: gen} })
}

// playTick advances play's journal clock by the wall time since the last
// tick times the speed, compressing quiet spells, and reads the facts that
// fell due.
func (m *Model) playTick(msg playTickMsg) tea.Cmd {
	tl := m.tl
	if tl == nil || msg.gen != tl.gen || !tl.playing {
		return nil
	}
	now := m.opts.Now()
	// A suspended terminal must not come back to a jump: at most a second
	// of wall time counts per tick.
	elapsed := min(max(now.Sub(tl.last), 0), time.Second)
	tl.last = now
	speed := int64(tl.speedX())
	if tl.pos >= tl.r.Len() {
		tl.playing = false
		return nil
	}
	// A quiet spell longer than maxGap at this speed is cut to maxGap.
	if next := tl.r.Time(tl.pos + 1).UnixNano(); next-tl.vclock > int64(maxGap)*speed {
		tl.vclock = next - int64(maxGap)*speed
	}
	tl.vclock += int64(elapsed) * speed
	to := tl.r.PlayTo(tl.pos, tl.vclock, maxPlayStep)
	gen := tl.gen
	if to == tl.pos {
		return m.tick(gen)
	}
	tl.want = to
	return readEntries(tl.r, gen, tl.pos, to)
}

// readEntries reads facts from+1..to in a Cmd.
func readEntries(r *state.Replayer, gen, from, to int) tea.Cmd {
	return func() tea.Msg {
		es, err := r.Entries(from, to)
		return replayMsg{gen: gen, from: from, entries: es, to: to, err: err}
	}
}

// seek moves the replay to position n: a short step forward applies the
// facts read in a Cmd; anything else folds a new store in the background
// while the screen keeps showing the current one.
func (m *Model) seek(n int) tea.Cmd {
	tl := m.tl
	n = tl.r.Clamp(n)
	tl.bump()
	if n == tl.pos {
		if tl.playing {
			return m.startPlay()
		}
		return nil
	}
	tl.want = n
	if n > tl.pos && n-tl.pos <= maxApplySeek {
		return readEntries(tl.r, tl.gen, tl.pos, n)
	}
	ctx, cancel := context.WithCancel(m.ctx)
	tl.cancel, tl.seekTo = cancel, n
	r, gen := tl.r, tl.gen
	return func() tea.Msg {
		s, err := r.Fold(ctx, n)
		cancel()
		return replayMsg{gen: gen, store: s, to: n, err: err}
	}
}

// replayed takes a timeline answer: facts to apply, or a new store.
func (m *Model) replayed(msg replayMsg) tea.Cmd {
	tl := m.tl
	if tl == nil || msg.gen != tl.gen {
		return nil // answers a request since replaced
	}
	tl.seekTo, tl.cancel, tl.want = 0, nil, 0
	if msg.err != nil {
		tl.playing = false
		tl.err = msg.err.Error()
		m.flash("replay: "+msg.err.Error(), true)
		return nil
	}
	switch {
	case msg.store != nil:
		// The position moves first: the panes count "5m ago" from its
		// time while they rebuild.
		tl.pos = msg.to
		m.replaceStore(msg.store)
	case msg.from == tl.pos:
		tl.pos = msg.from + len(msg.entries)
		m.apply(msg.entries)
	default:
		return nil
	}
	if int(m.store.Seq) != tl.pos {
		// A fact that did not apply: the store says where it is.
		tl.pos = int(m.store.Seq)
		m.replaceStore(m.store)
	}
	if !tl.playing {
		return nil
	}
	if tl.pos >= tl.r.Len() {
		tl.playing = false
		return nil
	}
	if msg.store != nil {
		return m.startPlay()
	}
	return m.tick(tl.gen)
}

// replaceStore puts a newly folded store in place of the current one. What
// the model and the panes derived from the old store is dropped with it:
// a seek back folds a shorter store, and anything kept (the journal pane's
// rows, the event the stream last drew, the suspect sets) would name facts
// and events that the new store does not have. The panes' cursors and
// modes (follow, filter, the Region listed) are the responder's and stay.
func (m *Model) replaceStore(s *state.Store) {
	m.store = s
	m.sus = nil
	m.stream.queried = false
	m.stream.drawnSet = false
	m.principals.built = false
	m.regions.built = false
	m.journal.built = false
	m.refresh()
}

// seekInput handles the position typed after the seek key. A position
// that does not parse leaves the prompt open, the text as typed and the
// error beside it, so that the keys typed next edit it rather than reach
// the console.
func (m *Model) seekInput(text string) tea.Cmd {
	n, err := m.tl.r.ParsePosition(text, m.tl.r.Time(m.tl.target()))
	if err != nil {
		m.inputHint = "✗ " + err.Error()
		return nil
	}
	m.inputKind = inputNone
	return m.seek(n)
}

// banner is the line above the panes: a journal that did not verify, or a
// follow that stopped. "" when there is nothing to say.
func (m *Model) banner() string {
	if m.feedErr != "" {
		return m.feedErr
	}
	if m.tl != nil {
		return m.tl.r.Banner()
	}
	return ""
}
