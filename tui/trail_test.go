package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
)

// trailStore is the incident fixture with a trail validation journaled.
func trailStore(t *testing.T, ti state.TrailIntegrity) *state.Store {
	entries := incident(t)
	f := &facts{seq: entries[len(entries)-1].Seq, entries: entries}
	f.add(t, state.KindTrailIntegrity, t0, ti)
	return storeOf(t, f.entries)
}

var brokenTrail = state.TrailIntegrity{Source: "s3://trail-bucket", SignaturesChecked: true, Digests: 24, DigestsValid: 24, Logs: 2000, LogsValid: 1999,
	Problems: []state.TrailProblem{{What: "log", Bucket: "trail-bucket", Key: "AWSLogs/111122223333/CloudTrail/us-east-1/2026/12/01/111122223333_CloudTrail_us-east-1_20261201T0305Z_abc.json.gz",
		Status: "invalid", Why: "hash value doesn't match"}}}

// The console shows trail integrity beside the stream's health, at 80
// columns too: intact, broken with where, gaps, unsigned.
func TestStatusLineTrailIntegrity(t *testing.T) {
	gap := state.TrailIntegrity{Source: "/cases/trail-copy", Digests: 5, DigestsValid: 5,
		Gaps: []state.TrailGap{{Chain: "111122223333 us-east-1 trail main", From: time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), To: time.Date(2026, 12, 1, 4, 0, 0, 0, time.UTC)}}}
	hostile := brokenTrail
	hostile.Problems = []state.TrailProblem{{What: "log", Key: "a/b\x1b]0;pwn\x07.json.gz", Status: "missing"}}
	for _, tc := range []struct {
		name string
		ti   state.TrailIntegrity
		want string
	}{
		{"intact", state.TrailIntegrity{Source: "s3://b", Intact: true, SignaturesChecked: true, Digests: 24, DigestsValid: 24}, "trail ✓ intact"},
		{"broken", brokenTrail, "trail ✗ broken: log us-east-1_20261201T0305Z_abc invalid"},
		{"gaps", gap, "trail ! gap 12-01 03:00–04:00 (unsigned)"},
		{"hostile", hostile, "trail ✗ broken: log b⟨"},
		{"unchecked", state.TrailIntegrity{Source: "trails of account 1", Intact: true, Failed: "AccessDenied on s3:ListObjectsV2"}, "trail ? unchecked: AccessDenied"},
		{"unsure", state.TrailIntegrity{Source: "trails of account 1", Unsure: "no digest delivered yet"}, "trail ? unsure: no digest yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestModel(t, Options{Store: trailStore(t, tc.ti)}, 200, 40)
			status := strings.Split(screenOf(m), "\n")[0]
			if !strings.Contains(status, tc.want) {
				t.Errorf("status line %q lacks %q", status, tc.want)
			}
			m80, _ := newTestModel(t, Options{Store: trailStore(t, tc.ti)}, 80, 24)
			if s := strings.Split(screenOf(m80), "\n")[0]; !strings.Contains(s, "trail ") {
				t.Errorf("80 columns: status line %q has no trail integrity", s)
			}
			if bad := foreignControls(m.Render()); bad != "" {
				t.Errorf("frame holds %s", bad)
			}
		})
	}
}

// TestGoldenTrailIntegrity draws the stream with a broken trail.
func TestGoldenTrailIntegrity(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newTestModel(t, Options{Theme: "monochrome", Store: trailStore(t, brokenTrail)}, sz[0], sz[1])
			out := m.Render()
			checkFrame(t, out, sz[0], sz[1])
			golden.RequireEqual(t, out)
		})
	}
}

// unvouchedStore is the incident fixture with a validation that found
// every fourth event in a log file no valid digest vouches for.
func unvouchedStore(t *testing.T) *state.Store {
	t.Helper()
	plain := trailStore(t, state.TrailIntegrity{Source: "x", Intact: true})
	from := state.UnvouchedFrom{File: "s3://trail-bucket/planted.json.gz"}
	for i := 0; i < plain.Events.Len(); i += 4 {
		from.Events = append(from.Events, plain.Events.Event(uint32(i)).EventID)
	}
	ti := brokenTrail
	ti.UnvouchedFrom = []state.UnvouchedFrom{from}
	return trailStore(t, ti)
}

// TestStreamMarksUnvouchedEvents: the stream marks the events a validation
// found in files no digest vouches for (≠, legend in help), and the detail
// view names the file; the other events are not marked.
func TestStreamMarksUnvouchedEvents(t *testing.T) {
	m, _ := newTestModel(t, Options{Store: unvouchedStore(t)}, 200, 60)
	rows := strings.Split(screenOf(m), "\n")
	marked, plain := 0, 0
	for _, r := range rows[2:] {
		if len(r) > 3 && strings.Contains(r, ":") {
			if strings.Contains(r[:8], markUnvouched) {
				marked++
			} else {
				plain++
			}
		}
	}
	if marked == 0 || plain == 0 {
		t.Errorf("%d rows marked %s, %d not: want both\n%s", marked, markUnvouched, plain, strings.Join(rows, "\n"))
	}
	exec(m, press(m, key1('?')))
	if h := screenOf(m); !strings.Contains(h, markUnvouched+"  from a log file no valid digest vouches for") {
		t.Errorf("help has no legend for %s:\n%s", markUnvouched, h)
	}
	const said = "from a log file no valid digest vouches for: s3://trail-bucket/planted.json.gz"
	seen, unseen := false, false
	for down := 0; down < 8; down++ {
		m, _ := newTestModel(t, Options{Store: unvouchedStore(t)}, 200, 60)
		for range down {
			exec(m, press(m, keyDown))
		}
		exec(m, press(m, keyEnter))
		if strings.Contains(screenOf(m), said) {
			seen = true
		} else {
			unseen = true
		}
	}
	if !seen || !unseen {
		t.Errorf("detail said %q for some event %v, not for some %v", said, seen, unseen)
	}
}

// TestGoldenUnvouchedStream draws the stream with events marked unvouched.
func TestGoldenUnvouchedStream(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(t *testing.T) {
			m, _ := newTestModel(t, Options{Theme: "monochrome", Store: unvouchedStore(t)}, sz[0], sz[1])
			out := m.Render()
			checkFrame(t, out, sz[0], sz[1])
			golden.RequireEqual(t, out)
		})
	}
}
