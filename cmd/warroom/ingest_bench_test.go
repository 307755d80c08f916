package main

// The budgets of the spine's ingest path, measured on the same generated S3
// delivery files (gzip {"Records":[...]}, the drill account's generator):
//
//	go test ./cmd/warroom -run '^$' -bench 'Pipeline' -benchtime 3x -cpu 1
//	go test ./cmd/warroom -run '^$' -bench 'Pipeline/(parse.index-cores|ingest)$' -benchtime 5x -cpu 2 -count 5
//
// Each reports MB/s of decompressed CloudTrail, records/s and the CPU time
// an iteration used, so the rows compare directly:
//
//   - parse+index against plain gunzip on one core (budget: at least half
//     its speed). Three gunzip rows set the bar: klauspost/compress (Go),
//     the standard library's compress/gzip, and GNU `gzip -dc` (one
//     process for all files; skipped when gzip is not installed). warroom
//     itself decompresses with libdeflate when the machine has it
//     (ctlog.Inflater), else with klauspost/compress.
//   - parse+index-cores (files parsed on every core, indexed in order)
//     against jq selecting one key's records (budget: 10× faster);
//   - a whole `warroom ingest`, journal writes included, against the same
//     jq (budget: 5× faster).
//
// Those two rows run jq before each of their iterations, off their clock,
// and report x-jq: jq's time over theirs. jq is given the records already
// decompressed, in one file: the most favourable setting for it. The jq
// row times it alone; the jq-gz row runs it as a responder would over the
// same .gz files, `gzip -dc FILES | jq …`, for reference.

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

const benchRecords = 100_000

var (
	benchOnce  sync.Once
	benchDir   string
	benchFiles []string
	benchRaw   int64 // decompressed bytes
	benchErr   error
)

// benchCorpus writes the corpus once per test binary.
func benchCorpus(b *testing.B) ([]string, int64) {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "warroom-bench-")
		if benchErr != nil {
			return
		}
		if _, benchErr = gen.Write(benchDir, gen.Options{Events: benchRecords, Seed: 7, End: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)}); benchErr != nil {
			return
		}
		benchErr = filepath.WalkDir(benchDir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") {
				benchFiles = append(benchFiles, p)
			}
			return err
		})
		for _, f := range benchFiles {
			n, err := gunzipFile(f, io.Discard)
			if err != nil {
				benchErr = err
				return
			}
			benchRaw += n
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchFiles, benchRaw
}

// gunzipStd is gunzipFile with the standard library's compress/gzip.
func gunzipStd(path string, w io.Writer) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := stdgzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	return io.Copy(w, zr)
}

func gunzipFile(path string, w io.Writer) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	return io.Copy(w, zr)
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func BenchmarkPipeline(b *testing.B) {
	files, raw := benchCorpus(b)
	top := b
	// Besides wall-clock rates, each row reports the CPU time it used per
	// iteration (this process and its children: gzip, jq), which a busy
	// machine disturbs far less.
	var cpu0 time.Duration
	report := func(b *testing.B) {
		b.ReportMetric(float64(benchRecords)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		b.ReportMetric((cpuUsed()-cpu0).Seconds()*1000/float64(b.N), "cpu-ms/op")
	}

	// row runs op as a row's iterations.
	row := func(op func(b *testing.B)) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(raw)
			cpu0 = cpuUsed()
			for b.Loop() {
				op(b)
			}
			report(b)
		}
	}

	// jq is given the records already decompressed, in one file, made
	// once: it is measured on parsing and selecting alone.
	var (
		jqOnce  sync.Once
		jqPlain string
		jqProg  string
	)
	runJQ := func(b *testing.B) {
		b.Helper()
		jq := lookTool(b, "jq")
		jqOnce.Do(func() {
			jqProg = jqFilter(b, files)
			dir, err := os.MkdirTemp("", "warroom-jq-")
			if err != nil {
				b.Fatal(err)
			}
			top.Cleanup(func() { os.RemoveAll(dir) }) // once every row is done
			jqPlain = filepath.Join(dir, "all.json")
			out, err := os.Create(jqPlain)
			if err != nil {
				b.Fatal(err)
			}
			defer out.Close()
			for _, f := range files {
				if _, err := gunzipFile(f, out); err != nil {
					b.Fatal(err)
				}
			}
		})
		var n countWriter
		cmd := exec.Command(jq, "-c", jqProg, jqPlain)
		cmd.Stdout = &n
		if err := cmd.Run(); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatal("jq selected nothing")
		}
	}
	// pacedByJQ runs op as a row's iterations, and before each one, off
	// the row's clock and CPU count, runs jq: the row reports x-jq, its
	// speed as a multiple of jq's over the same minutes. A ratio of rows
	// run far apart would measure the machine's drift as much as the code
	// on a host whose speed changes from one minute to the next.
	pacedByJQ := func(op func(b *testing.B)) func(b *testing.B) {
		return func(b *testing.B) {
			if _, err := exec.LookPath("jq"); err != nil {
				row(op)(b) // no jq: no ratio
				return
			}
			b.SetBytes(raw)
			var jqTime, jqCPU time.Duration
			cpu0 = cpuUsed()
			for b.Loop() {
				b.StopTimer()
				t0, c0 := time.Now(), cpuUsed()
				runJQ(b)
				jqTime += time.Since(t0)
				jqCPU += cpuUsed() - c0
				b.StartTimer()
				op(b)
			}
			cpu0 += jqCPU
			report(b)
			b.ReportMetric(jqTime.Seconds()/b.Elapsed().Seconds(), "x-jq")
		}
	}

	b.Run("gunzip", func(b *testing.B) {
		b.SetBytes(raw)
		cpu0 = cpuUsed()
		for b.Loop() {
			for _, f := range files {
				if _, err := gunzipFile(f, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})

	b.Run("gunzip-stdlib", func(b *testing.B) {
		b.SetBytes(raw)
		cpu0 = cpuUsed()
		for b.Loop() {
			for _, f := range files {
				if _, err := gunzipStd(f, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		}
		report(b)
	})

	b.Run("gunzip-gnu", func(b *testing.B) {
		gz := lookTool(b, "gzip")
		b.SetBytes(raw)
		cpu0 = cpuUsed()
		for b.Loop() {
			var n countWriter
			cmd := exec.Command(gz, append([]string{"-dc"}, files...)...)
			cmd.Stdout = &n
			if err := cmd.Run(); err != nil {
				b.Fatal(err)
			}
			if int64(n) != raw {
				b.Fatalf("gzip -dc wrote %d bytes, want %d", n, raw)
			}
		}
		report(b)
	})

	b.Run("jq", func(b *testing.B) {
		runJQ(b) // makes its input, off the clock
		b.SetBytes(raw)
		cpu0 = cpuUsed()
		for b.Loop() {
			runJQ(b)
		}
		report(b)
	})

	// jq over the .gz files themselves, as a responder would run it:
	// `gzip -dc FILES | jq …`, the two processes on their own cores.
	b.Run("jq-gz", func(b *testing.B) {
		jq := lookTool(b, "jq")
		gz := lookTool(b, "gzip")
		filter := jqFilter(b, files)
		b.SetBytes(raw)
		cpu0 = cpuUsed()
		for b.Loop() {
			unzip := exec.Command(gz, append([]string{"-dc"}, files...)...)
			sel := exec.Command(jq, "-c", filter)
			pipe, err := unzip.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			var n countWriter
			sel.Stdin, sel.Stdout = pipe, &n
			if err := unzip.Start(); err != nil {
				b.Fatal(err)
			}
			if err := sel.Run(); err != nil {
				b.Fatal(err)
			}
			if err := unzip.Wait(); err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				b.Fatal("jq selected nothing")
			}
		}
		report(b)
	})

	parseIndex := func(opt ctlog.Options, workers int) func(b *testing.B) {
		return func(b *testing.B) {
			t := state.NewEventTable()
			// Given the folder, as a responder gives it to `warroom
			// ingest`: the walk lists its files (ParsePaths would stat each
			// one given by name).
			paths := []string{benchDir}
			var (
				probs []ctlog.Problem
				err   error
			)
			if workers <= 1 {
				_, probs, err = ctlog.ParsePaths(paths, opt, func(r ctlog.Record) error {
					t.Add(&r, state.EventRef{})
					return nil
				})
			} else {
				// A file's records at a time, as the store adds a
				// journal batch's.
				_, probs, err = ctlog.ParsePathsBatches(paths, opt, workers, func(recs []ctlog.Record) error {
					t.AddBatch(recs, state.EventRef{})
					return nil
				})
			}
			// Indexing is complete only once every index is built.
			t.Settle()
			if err != nil || len(probs) > 0 || t.Len() != benchRecords {
				b.Fatalf("parsed %d events, %d problems, %v", t.Len(), len(probs), err)
			}
		}
	}
	b.Run("parse+index", row(parseIndex(ctlog.Options{}, 1)))
	b.Run("parse+index-borrow", row(parseIndex(ctlog.Options{Borrow: true}, 1)))
	// Files parsed on every core (-cpu sets how many) and indexed in
	// order, each by the worker that parsed it, a file's records at a
	// time: records borrow the workers' buffers (the table copies what it
	// keeps).
	b.Run("parse+index-cores", pacedByJQ(parseIndex(ctlog.Options{Borrow: true}, runtime.GOMAXPROCS(0))))

	ingestDir := b.TempDir()
	ingests := 0
	b.Run("ingest", pacedByJQ(func(b *testing.B) {
		ingests++
		j := filepath.Join(ingestDir, strings.Repeat("j", ingests%3+1), "journal.jsonl")
		os.RemoveAll(filepath.Dir(j))
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"ingest", "-j", j, benchDir}, strings.NewReader(""), &out, &errb); code != 0 {
			b.Fatalf("ingest exit %d: %s", code, errb.String())
		}
	}))
}

// BenchmarkIndex measures the event table alone: the corpus is parsed once,
// and each iteration adds its records to a fresh table.
//
//	go test ./cmd/warroom -run '^$' -bench 'Index' -benchtime 10x -cpu 1 -count 5
func BenchmarkIndex(b *testing.B) {
	files, raw := benchCorpus(b)
	var recs []ctlog.Record
	if _, _, err := ctlog.ParsePaths(files, ctlog.Options{}, func(r ctlog.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(raw)
	for b.Loop() {
		t := state.NewEventTable()
		for i := range recs {
			t.Add(&recs[i], state.EventRef{})
		}
		t.Settle()
		if t.Len() != benchRecords {
			b.Fatalf("indexed %d events, want %d", t.Len(), benchRecords)
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// jqFilter returns the jq program the budgets compare with: the records
// of the first long-term access key in the corpus.
func jqFilter(b *testing.B, files []string) string {
	var key string
	_, _, err := ctlog.ParsePaths(files, ctlog.Options{}, func(r ctlog.Record) error {
		if strings.HasPrefix(r.AccessKeyID, "AKIA") {
			key = r.AccessKeyID
			return io.EOF // found: stop
		}
		return nil
	})
	if key == "" {
		b.Fatalf("no AKIA key in the corpus (%v)", err)
	}
	return `.Records[] | select(.userIdentity.accessKeyId=="` + key + `")`
}

// lookTool returns the path of a command the row compares with, or skips
// the row when the machine does not have it.
func lookTool(b *testing.B, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		b.Skip(name + " not installed")
	}
	return p
}

// countWriter counts the bytes written to it and keeps none.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}

// TestIndexGrow checks that a capacity hint changes nothing the table
// holds: the same records, added twice each, give the same events with or
// without Grow, whatever the hint.
func TestIndexGrow(t *testing.T) {
	dir := t.TempDir()
	if _, err := gen.Write(dir, gen.Options{Events: 3000, Seed: 3, End: time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	if _, probs, err := ctlog.ParsePaths([]string{dir}, ctlog.Options{}, func(r ctlog.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil || len(probs) > 0 {
		t.Fatalf("parsing the corpus: %d problems, %v", len(probs), err)
	}
	load := func(hint int) *state.EventTable {
		tb := state.NewEventTable()
		tb.Grow(hint)
		for pass := range 2 {
			for i := range recs {
				tb.Add(&recs[i], state.EventRef{Offset: int64(pass), Index: uint32(i)})
			}
		}
		return tb
	}
	want := load(0)
	if want.Len() != len(recs) {
		t.Fatalf("without a hint: %d events from %d distinct records", want.Len(), len(recs))
	}
	tests := []struct {
		name string
		hint int
	}{
		{"negative", -1},
		{"small", 10},
		{"exact", len(recs)},
		{"generous", 10 * len(recs)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := load(tc.hint)
			if got.Len() != want.Len() {
				t.Fatalf("Len = %d, want %d", got.Len(), want.Len())
			}
			for id := range uint32(got.Len()) {
				if g, w := got.Event(id), want.Event(id); g != w {
					t.Fatalf("event %d = %+v, want %+v", id, g, w)
				}
			}
		})
	}
}

// cpuUsed is the user and system time of this process and its waited-for
// children so far.
func cpuUsed() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}
