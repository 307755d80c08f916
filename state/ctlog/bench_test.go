package ctlog

import (
	"bytes"
	stdgzip "compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
)

// Benchmarks. Run on one core, e.g.
//
//	go test ./state/ctlog -run '^$' -bench . -cpu 1 -benchtime 3x
//
// Gunzip/* is the baseline: decompressing the corpus into a reused buffer
// and nothing else. Parse/* decompresses (klauspost, as the parser does)
// and parses every record into a Record. The budget: Parse at least half
// as fast as Gunzip/klauspost.

func corpusBytes(files []genFile) (plain int64, records int) {
	for _, f := range files {
		plain += int64(len(f.plain))
		records += f.records
	}
	return plain, records
}

// perRecord reports throughput and allocation per record. Besides wall
// time it reports throughput per CPU second of the process (cpu-MB/s,
// cpu-records/s): on a shared machine wall time measures the neighbours
// too, while with -cpu 1 the process's CPU time is the one core's work.
type perRecord struct {
	b       *testing.B
	records int
	bytes   int64
	ms0     runtime.MemStats
	cpu0    time.Duration
}

func startPerRecord(b *testing.B, records int, bytes int64) *perRecord {
	p := &perRecord{b: b, records: records, bytes: bytes}
	runtime.GC()
	runtime.ReadMemStats(&p.ms0)
	p.cpu0 = cpuTime()
	b.ResetTimer()
	return p
}

// cpuTime is the user and system CPU time of this process and of the
// children it has waited for (jq).
func cpuTime() time.Duration {
	var t time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			return 0
		}
		t += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return t
}

func (p *perRecord) stop() {
	p.b.StopTimer()
	cpu := (cpuTime() - p.cpu0).Seconds()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	n := float64(p.records) * float64(p.b.N)
	p.b.ReportMetric(n/p.b.Elapsed().Seconds(), "records/s")
	if cpu > 0 {
		p.b.ReportMetric(float64(p.bytes)*float64(p.b.N)/1e6/cpu, "cpu-MB/s")
		p.b.ReportMetric(n/cpu, "cpu-records/s")
	}
	p.b.ReportMetric(float64(ms.TotalAlloc-p.ms0.TotalAlloc)/n, "B/record")
	p.b.ReportMetric(float64(ms.Mallocs-p.ms0.Mallocs)/n, "allocs/record")
}

func BenchmarkGunzip(b *testing.B) {
	files := benchCorpus()
	plain, records := corpusBytes(files)
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(plain)
		var zr *kgzip.Reader
		buf := make([]byte, 0, 4<<20)
		p := startPerRecord(b, records, plain)
		for b.Loop() {
			for _, f := range files {
				if zr == nil {
					zr, _ = kgzip.NewReader(bytes.NewReader(f.gz))
				} else if err := zr.Reset(bytes.NewReader(f.gz)); err != nil {
					b.Fatal(err)
				}
				buf = readAll(b, zr, buf)
			}
		}
		p.stop()
	})
	b.Run("stdlib", func(b *testing.B) {
		b.SetBytes(plain)
		var zr *stdgzip.Reader
		buf := make([]byte, 0, 4<<20)
		p := startPerRecord(b, records, plain)
		for b.Loop() {
			for _, f := range files {
				if zr == nil {
					zr, _ = stdgzip.NewReader(bytes.NewReader(f.gz))
				} else if err := zr.Reset(bytes.NewReader(f.gz)); err != nil {
					b.Fatal(err)
				}
				buf = readAll(b, zr, buf)
			}
		}
		p.stop()
	})
}

// readAll reads r into buf's storage, growing it as needed.
func readAll(b *testing.B, r io.Reader, buf []byte) []byte {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	files := benchCorpus()
	plain, records := corpusBytes(files)
	run := func(b *testing.B, opt Options, data func(genFile) []byte) {
		b.SetBytes(plain)
		n := 0
		emit := func(Record) error { n++; return nil }
		p := startPerRecord(b, records, plain)
		for b.Loop() {
			for _, f := range files {
				probs, err := ParseBytes(f.name, data(f), opt, emit)
				if err != nil || len(probs) != 0 {
					b.Fatal(err, probs)
				}
			}
		}
		p.stop()
		if n != records*b.N {
			b.Fatalf("%d records, want %d", n, records*b.N)
		}
	}
	b.Run("gzip", func(b *testing.B) { run(b, Options{}, func(f genFile) []byte { return f.gz }) })
	b.Run("plain", func(b *testing.B) { run(b, Options{}, func(f genFile) []byte { return f.plain }) })
	b.Run("gzip-borrow", func(b *testing.B) { run(b, Options{Borrow: true}, func(f genFile) []byte { return f.gz }) })
}

// BenchmarkParseRecord is replay's path: one compact record at a time.
func BenchmarkParseRecord(b *testing.B) {
	var raws [][]byte
	var size int64
	for _, f := range benchCorpus()[:20] {
		ParseBytes(f.name, f.plain, Options{}, func(r Record) error {
			raws = append(raws, r.Raw)
			size += int64(len(r.Raw))
			return nil
		})
	}
	b.SetBytes(size)
	p := startPerRecord(b, len(raws), size)
	for b.Loop() {
		for _, raw := range raws {
			if _, err := ParseRecord(raw); err != nil {
				b.Fatal(err)
			}
		}
	}
	p.stop()
}

// jqFiles writes the first n corpus files decompressed, once.
var (
	jqOnce  sync.Once
	jqDir   string
	jqPaths []string
)

const jqCorpusFiles = 40

func jqCorpus(b *testing.B) (paths []string, key string, plain int64, records int) {
	files := benchCorpus()[:jqCorpusFiles]
	jqOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ctlog-jq-")
		if err != nil {
			b.Fatal(err)
		}
		jqDir = dir
		for _, f := range files {
			p := filepath.Join(dir, f.name[:len(f.name)-len(".gz")])
			if err := os.WriteFile(p, f.plain, 0o600); err != nil {
				b.Fatal(err)
			}
			jqPaths = append(jqPaths, p)
		}
	})
	plain, records = corpusBytes(files)
	return jqPaths, files[0].keys[3], plain, records
}

// BenchmarkJQ compares the parser with jq selecting one access key's
// records from the same decompressed files. It skips when jq is absent.
func BenchmarkJQ(b *testing.B) {
	jq, err := exec.LookPath("jq")
	if err != nil {
		b.Skip("jq not installed")
	}
	paths, key, plain, records := jqCorpus(b)
	defer os.RemoveAll(jqDir)
	want := -1
	b.Run("jq", func(b *testing.B) {
		b.SetBytes(plain)
		p := startPerRecord(b, records, plain)
		for b.Loop() {
			args := append([]string{"-c", `.Records[] | select(.userIdentity.accessKeyId=="` + key + `")`}, paths...)
			out, err := exec.Command(jq, args...).Output()
			if err != nil {
				b.Fatal(err)
			}
			want = bytes.Count(out, []byte{'\n'})
		}
		p.stop()
	})
	for _, mode := range []struct {
		name string
		opt  Options
	}{{"ctlog", Options{}}, {"ctlog-borrow", Options{Borrow: true}}} {
		b.Run(mode.name, func(b *testing.B) {
			b.SetBytes(plain)
			p := startPerRecord(b, records, plain)
			var kept [][]byte
			for b.Loop() {
				kept = kept[:0]
				_, probs, err := ParsePaths(paths, mode.opt, func(r Record) error {
					if r.AccessKeyID == key {
						kept = append(kept, bytes.Clone(r.Raw)) // what jq prints
					}
					return nil
				})
				if err != nil || len(probs) != 0 {
					b.Fatal(err, probs)
				}
			}
			p.stop()
			if want >= 0 && len(kept) != want {
				b.Fatalf("ctlog selected %d records, jq %d", len(kept), want)
			}
		})
	}
}

// BenchmarkParseVsGunzip measures the budget directly: for every file in
// turn it decompresses it (klauspost, into a reused buffer) and then
// parses it from its gzip bytes (decompression included), so both see the
// same machine at the same moment. It reports each one's throughput by
// wall and by CPU time and the ratio parse/gunzip (the budget: ≥ 0.5).
func BenchmarkParseVsGunzip(b *testing.B) {
	b.Run("owned", func(b *testing.B) { parseVsGunzip(b, Options{}) })
	b.Run("borrow", func(b *testing.B) { parseVsGunzip(b, Options{Borrow: true}) })
}

func parseVsGunzip(b *testing.B, opt Options) {
	files := benchCorpus()
	plain, records := corpusBytes(files)
	var zr *kgzip.Reader
	buf := make([]byte, 0, 4<<20)
	emit := func(Record) error { return nil }
	var gzWall, gzCPU, pWall, pCPU time.Duration
	for b.Loop() {
		for _, f := range files {
			w0, c0 := time.Now(), cpuTime()
			if zr == nil {
				zr, _ = kgzip.NewReader(bytes.NewReader(f.gz))
			} else if err := zr.Reset(bytes.NewReader(f.gz)); err != nil {
				b.Fatal(err)
			}
			buf = readAll(b, zr, buf)
			w1, c1 := time.Now(), cpuTime()
			if probs, err := ParseBytes(f.name, f.gz, opt, emit); err != nil || len(probs) != 0 {
				b.Fatal(err, probs)
			}
			w2, c2 := time.Now(), cpuTime()
			gzWall += w1.Sub(w0)
			gzCPU += c1 - c0
			pWall += w2.Sub(w1)
			pCPU += c2 - c1
		}
	}
	n := float64(b.N)
	mb := float64(plain) * n / 1e6
	b.ReportMetric(mb/gzWall.Seconds(), "gunzip-MB/s")
	b.ReportMetric(mb/pWall.Seconds(), "parse-MB/s")
	b.ReportMetric(float64(records)*n/pWall.Seconds(), "parse-records/s")
	b.ReportMetric(gzWall.Seconds()/pWall.Seconds(), "ratio")
	if gzCPU > 0 && pCPU > 0 {
		b.ReportMetric(mb/gzCPU.Seconds(), "gunzip-cpu-MB/s")
		b.ReportMetric(mb/pCPU.Seconds(), "parse-cpu-MB/s")
		b.ReportMetric(gzCPU.Seconds()/pCPU.Seconds(), "cpu-ratio")
	}
}
