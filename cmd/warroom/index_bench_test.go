package main

// The budgets of issue 16 (a journal's checkpoint, J.index), on an
// event-heavy journal made by `warroom ingest` of generated S3 delivery
// files (aws/sim/gen):
//
//	go test ./cmd/warroom -run '^$' -bench Checkpoint -benchtime 1x
//
// WARROOM_BENCH_EVENTS sets the journal's size (default 1,000,000). The
// files and the journal are cached under os.TempDir(), keyed by size and
// seed: generating and ingesting a million records takes a while on a
// small machine. Rows that run a command run the real program (this
// package's binary, built once into the cache) and report its peak RSS
// (its own, through GNU time: see runTimed) and CPU time;
// the "before" rows run main's binary when WARROOM_BENCH_BEFORE names
// one (a build of the commit before the checkpoint), for the same
// figures without it. The jq row selects the same key's records from the
// same files, as a responder would without warroom. events-indexed is
// the query answered from the checkpoint's section table alone
// (state.QueryIndexed: a key: filter, nothing journaled since); the seek
// rows share one Replayer, in the order listed: the first (end) is the
// store opened, the first seek elsewhere (end-minus-1) copies the
// checkpoint's arrays into memory the process has not touched yet, the
// others build from the copy the Replayer keeps, and end-again is the end
// rebuilt from the checkpoint's facts (the opened store was handed out).
// No row builds the checkpoint's dedupe set (a fold after a seek point
// adds the checkpoint's next events again: state.borrowDedupeLater) or a
// seek's posting lists (built by the first query with terms).

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/incident"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/tui"
)

// cpuMS is the CPU time of the programs runTimed ran since the last row.
var cpuMS float64

// indexBench is the cached corpus: the .gz files, the journal, the
// program, and a key to filter on.
type indexBench struct {
	dir, files, journal, bin, key string
	events                        int
}

func indexCorpus(b *testing.B) indexBench {
	b.Helper()
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("WARROOM_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("warroom-bench-index-%d-seed7", n))
	c := indexBench{dir: dir, files: filepath.Join(dir, "files"), journal: filepath.Join(dir, "journal.jsonl"),
		bin: filepath.Join(dir, "warroom"), events: n}
	done := filepath.Join(dir, "done")
	if _, err := os.Stat(done); err != nil {
		os.RemoveAll(dir)
		if err := os.MkdirAll(c.files, 0o700); err != nil {
			b.Fatal(err)
		}
		if _, err := gen.Write(c.files, gen.Options{Events: n, Seed: 7, End: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)}); err != nil {
			b.Fatal(err)
		}
		var out, errb strings.Builder
		if code := run(context.Background(), []string{"ingest", "-j", c.journal, c.files}, strings.NewReader(""), &out, &errb); code != 0 {
			b.Fatalf("ingest exit %d: %s", code, errb.String())
		}
		if err := os.WriteFile(done, nil, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	// The program is built afresh each run: it is what is measured.
	if out, err := exec.Command("go", "build", "-o", c.bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	s, _, err := state.Open(c.journal, state.OpenOptions{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	// A key with events, but not most of them: an attacker's.
	counts := map[string]int{}
	for id := range s.Events.Len() {
		counts[s.Events.Event(uint32(id)).AccessKeyID]++
	}
	for k, v := range counts {
		if k != "" && v > 10 && v < 2000 && (c.key == "" || k < c.key) {
			c.key = k
		}
	}
	if c.key == "" {
		b.Fatal("no key with 10 to 2000 events")
	}
	return c
}

// runTimed runs the program and returns its peak RSS in MB (0 when it
// cannot be told), and adds the CPU time it used to cpuMS (the machine is
// shared: CPU time says what wall time cannot).
//
// The peak is the program's own, as GNU time reports it (%M, the
// program's ru_maxrss): not the child's ru_maxrss as this process reads
// it, which is at least this process's peak. Go starts a child with
// vfork (CLONE_VM): at exec, Linux records the peak RSS of the memory
// the child still shares with its parent as the child's (exec_mmap), and
// the benchmark's own process holds the store it opened to pick a key.
// GNU time forks its child (no CLONE_VM): that floor is its own few MB.
func runTimed(b *testing.B, bin string, args ...string) float64 {
	b.Helper()
	peak := filepath.Join(b.TempDir(), "peak")
	timed := gnuTime()
	cmd := exec.Command(bin, args...)
	if timed != "" {
		cmd = exec.Command(timed, append([]string{"-f", "%M", "-o", peak, bin}, args...)...)
	}
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			b.Fatalf("%s %v: %v: %s", bin, args, err, errb.String())
		}
	}
	// With time, its child's CPU time: time waited for it.
	cpuMS += float64((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Milliseconds())
	if timed == "" {
		return 0
	}
	out, err := os.ReadFile(peak)
	if err != nil {
		b.Fatal(err)
	}
	// The last line: GNU time writes "Command exited with non-zero
	// status 1" first when it did.
	f := strings.Fields(string(out))
	kb, err := strconv.ParseFloat(f[len(f)-1], 64)
	if err != nil {
		b.Fatalf("GNU time wrote %q: %v", out, err)
	}
	return kb / 1024
}

// gnuTime returns the path of GNU time, or "" (the command rows then
// report no peak RSS: see runTimed).
func gnuTime() string {
	p, err := exec.LookPath("time")
	if err != nil || p == "" {
		p = "/usr/bin/time"
	}
	if out, err := exec.Command(p, "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "GNU") {
		return ""
	}
	return p
}

// BenchmarkIndex measures the commands a responder repeats on a big
// journal, with and without its checkpoint.
func BenchmarkCheckpoint(b *testing.B) {
	c := indexCorpus(b)
	before := os.Getenv("WARROOM_BENCH_BEFORE")
	events := []string{"events", "-j", c.journal, "--filter", "key:" + c.key, "--output", "json"}
	replay := []string{"replay", c.journal, "--at", "end", "--frame", "120x40"}
	if gnuTime() == "" {
		b.Log("no GNU time: the command rows report no peak-MB (see runTimed)")
	}
	rss := func(b *testing.B, mb float64) {
		if mb > 0 {
			b.ReportMetric(mb, "peak-MB")
		}
		b.ReportMetric(cpuMS/float64(b.N), "cpu-ms/op")
		cpuMS = 0
	}
	noIndex := func() { os.Remove(state.IndexPath(c.journal)) }

	if before != "" {
		b.Run("events-before", func(b *testing.B) {
			var mb float64
			for b.Loop() {
				mb = runTimed(b, before, events...)
			}
			rss(b, mb)
		})
		b.Run("replay-end-before", func(b *testing.B) {
			var mb float64
			for b.Loop() {
				mb = runTimed(b, before, replay...)
			}
			rss(b, mb)
		})
	}
	b.Run("events-first-open", func(b *testing.B) {
		var mb float64
		for b.Loop() {
			b.StopTimer()
			noIndex()
			b.StartTimer()
			mb = runTimed(b, c.bin, events...)
		}
		rss(b, mb)
	})
	b.Run("events-indexed", func(b *testing.B) {
		runTimed(b, c.bin, events...)
		cpuMS = 0
		var mb float64
		for b.Loop() {
			mb = runTimed(b, c.bin, events...)
		}
		rss(b, mb)
	})
	b.Run("replay-end-indexed", func(b *testing.B) {
		runTimed(b, c.bin, events...)
		cpuMS = 0
		var mb float64
		for b.Loop() {
			mb = runTimed(b, c.bin, replay...)
		}
		rss(b, mb)
	})
	b.Run("seek", func(b *testing.B) {
		r, err := state.OpenReplay(c.journal)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		// As the replay command does while its first frame shows.
		r.Warm()
		ctx := context.Background()
		for _, at := range []struct {
			name string
			n    int
		}{{"end", r.Len()}, {"end-minus-1", r.Len() - 1}, {"middle", r.Len() / 2}, {"start", 1},
			{"quarter", r.Len() / 4}, {"end-minus-1-again", r.Len() - 1}, {"end-again", r.Len()}} {
			b.Run(at.name, func(b *testing.B) {
				c0, f0 := cpuUsed(), minorFaults()
				for b.Loop() {
					if _, err := r.Fold(ctx, at.n); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((cpuUsed()-c0).Seconds()*1000/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(minorFaults()-f0)/float64(b.N), "faults/op")
			})
		}
	})
	b.Run("console-first-frame", func(b *testing.B) {
		runTimed(b, c.bin, events...)
		cpuMS = 0
		c0 := cpuUsed()
		defer func() { b.ReportMetric((cpuUsed()-c0).Seconds()*1000/float64(b.N), "cpu-ms/op") }()
		for b.Loop() {
			rec, err := state.OpenRecorder(c.journal, state.IncidentOpened{}, state.LocalActor())
			if err != nil {
				b.Fatal(err)
			}
			core := incident.New(nil, session.Identity{}, rec, incident.Pacing{})
			if err := core.Open(nil); err != nil {
				b.Fatal(err)
			}
			frame := tui.Frame(tui.Options{Store: core.Fold().Store(), Lock: core.Fold(), JournalPath: c.journal, NoColor: true, Actor: state.LocalActor()}, 120, 40)
			if frame == "" {
				b.Fatal("no frame")
			}
			rec.Close()
		}
	})
	b.Run("jq", func(b *testing.B) {
		if _, err := exec.LookPath("jq"); err != nil {
			b.Skip("no jq")
		}
		script := fmt.Sprintf(`find %s -name '*.json.gz' -print0 | xargs -0 gzip -dc | jq -c '.Records[] | select(.userIdentity.accessKeyId == "%s")' > /dev/null`, c.files, c.key)
		for b.Loop() {
			if out, err := exec.Command("sh", "-c", script).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
}

// minorFaults is how many page faults the process took that needed no
// read from disk: memory it used for the first time.
func minorFaults() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Minflt
}
