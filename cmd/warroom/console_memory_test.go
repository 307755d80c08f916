package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

// consoleMemoryLimit is the bound on a console with a 1,000,000-event
// journal open and live.
const consoleMemoryLimit = 500 << 20

// TestConsoleMemory measures the console's memory with a journal of
// WARROOM_MEMORY_EVENTS CloudTrail events (aws/sim/gen, ingested by
// warroom ingest) open and live: the incident core following the journal
// into its one fold, and the screen (120x40, on a pipe) drawing it. The
// console runs in a child process (this test binary again), so that the
// figures are its own, not the generator's: its peak RSS (VmHWM) and its
// RSS once caught up (VmRSS), read from /proc. At 1,000,000 events or more
// the peak must stay within 500 MB.
//
//	WARROOM_MEMORY_EVENTS=1000000 go test ./cmd/warroom -run TestConsoleMemory -v -timeout 30m
//
// WARROOM_MEMORY_EXTRA_FOLDS=0,2 runs the console twice on the same
// journal, the second time holding the two more folds the console held
// before package incident (the figure to compare with; the bound is not
// checked on it).
func TestConsoleMemory(t *testing.T) {
	if path := os.Getenv("WARROOM_MEMORY_CHILD"); path != "" {
		consoleMemoryChild(t, path)
		return
	}
	n, _ := strconv.Atoi(os.Getenv("WARROOM_MEMORY_EVENTS"))
	if n <= 0 {
		t.Skip("set WARROOM_MEMORY_EVENTS (1000000 for the issue's figure)")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read RSS")
	}
	dir := t.TempDir()
	ct := filepath.Join(dir, "cloudtrail")
	start := time.Now()
	if _, err := gen.Write(ct, gen.Options{Events: n, Seed: 11, End: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "inc", "journal.jsonl")
	if code, _, errOut := warroom(t, "ingest", ct, "-j", path); code != 0 {
		t.Fatalf("ingest: exit %d: %s", code, errOut)
	}
	if err := os.RemoveAll(ct); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("journal of %d events: %d MB, made in %s", n, fi.Size()>>20, time.Since(start).Round(time.Second))

	runs := strings.Split(os.Getenv("WARROOM_MEMORY_EXTRA_FOLDS"), ",")
	for _, extra := range runs {
		consoleMemoryRun(t, path, n, strings.TrimSpace(extra))
	}
}

// consoleMemoryRun runs the console on the journal at path in a child
// process holding extra more folds ("" or "0": none), and reports it.
func consoleMemoryRun(t *testing.T, path string, n int, extra string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestConsoleMemory$", "-test.v")
	cmd.Env = append(os.Environ(), "WARROOM_MEMORY_CHILD="+path, "WARROOM_MEMORY_EXTRA_FOLDS="+extra)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("console: %v\n%s", err, out)
	}
	var events, hwm, rss, heap, tookMS int64
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "console-memory:"); i >= 0 {
			if _, err := fmt.Sscanf(line[i:], "console-memory: events=%d hwm=%d rss=%d heap=%d took=%d", &events, &hwm, &rss, &heap, &tookMS); err != nil {
				t.Fatalf("reading %q: %v", line, err)
			}
		}
	}
	if events == 0 {
		t.Fatalf("the console reported nothing:\n%s", out)
	}
	folds := "one fold"
	if extra != "" && extra != "0" {
		folds = "one fold and " + extra + " more (as before package incident)"
	}
	t.Logf("console with %d events open and live, %s: peak RSS %d MB, RSS %d MB, heap in use %d MB; caught up in %s",
		events, folds, hwm>>20, rss>>20, heap>>20, time.Duration(tookMS)*time.Millisecond)
	if events < int64(n) {
		t.Errorf("the fold holds %d events, want %d", events, n)
	}
	if n >= 1_000_000 && hwm > consoleMemoryLimit && (extra == "" || extra == "0") {
		t.Errorf("peak RSS %d MB, want at most %d MB", hwm>>20, consoleMemoryLimit>>20)
	}
}

// consoleMemoryChild is the console of TestConsoleMemory: the incident core
// (no AWS session: the follower and the fold) and the screen on a pipe.
func consoleMemoryChild(t *testing.T, path string) {
	start := time.Now()
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	core := incident.New(nil, session.Identity{}, rec, incident.Pacing{})
	pr, pw := io.Pipe()
	defer pw.Close()
	opts := tui.Options{Store: core.Fold().Store(), Lock: core.Fold(), JournalPath: path, Feed: core.Feed(), Mode: tui.ModeFollow,
		Filter: openFilter, NoColor: true, NoTick: true}
	ui := make(chan error, 1)
	core.Start(ctx)
	go func() { ui <- tui.RunOn(ctx, opts, tui.Terminal{In: pr, Out: io.Discard, Width: 120, Height: 40}) }()
	<-core.CaughtUp()
	took := time.Since(start)
	// WARROOM_MEMORY_EXTRA_FOLDS=2 holds what the console held before it
	// had one fold (the planner's store, the sink's dedupe table seeded from
	// a full state.Replay), for comparison.
	extra, _ := strconv.Atoi(os.Getenv("WARROOM_MEMORY_EXTRA_FOLDS"))
	var kept []*state.Store
	for range extra {
		s, _, err := state.Replay(path)
		if err != nil {
			t.Fatal(err)
		}
		kept = append(kept, s)
	}
	defer runtime.KeepAlive(kept)
	// Let the screen take the feed and draw what it folded.
	time.Sleep(2 * time.Second)
	var events int
	core.Fold().Read(func(s *state.Store) { events = s.Events.Len() })
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	hwm, rss := procStatus("VmHWM:"), procStatus("VmRSS:")
	fmt.Printf("console-memory: events=%d hwm=%d rss=%d heap=%d took=%d\n", events, hwm, rss, ms.HeapInuse, took.Milliseconds())
	cancel()
	<-ui
	core.Wait()
	if p := core.Problem(); p != nil {
		t.Fatal(p)
	}
}

// procStatus reads a size in kB from /proc/self/status, in bytes.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
