package journal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// smallFact is the data of a typical small fact (a stream health report).
var smallFact = json.RawMessage(`{"source":"lookup:eu-west-1","region":"eu-west-1","status":"ok","lag":"41s","delivered":12}`)

func benchAppend(b *testing.B, perAppend int, mode SyncMode) {
	path, _ := makeJournal(b, b.TempDir(), "bench", 0)
	w, err := Open(path, testActor)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	drafts := make([]Draft, perAppend)
	for i := range drafts {
		drafts[i] = Draft{Kind: "stream.health", Data: smallFact, Sync: mode}
	}
	es, err := w.Append(drafts...)
	if err != nil {
		b.Fatal(err)
	}
	last := es[len(es)-1]
	b.SetBytes(last.Offset + int64(len(mustRead(b, path))) - last.Offset - es[0].Offset) // bytes one Append writes
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.Append(drafts...); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*perAppend)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*perAppend), "cpu-ns/entry")
}

// BenchmarkAppendGroup appends batches of 100 small SyncGroup entries.
func BenchmarkAppendGroup(b *testing.B) { benchAppend(b, 100, SyncGroup) }

// BenchmarkAppendNow appends single SyncNow entries, each fsynced.
func BenchmarkAppendNow(b *testing.B) { benchAppend(b, 1, SyncNow) }

// makeBig writes a journal of n lines of small facts.
func makeBig(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), "big.journal")
	w, err := Create(path, "bench-big", testActor, nil)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 10000
	drafts := make([]Draft, batch)
	for i := range drafts {
		drafts[i] = Draft{Kind: "stream.health", Data: smallFact, Sync: SyncGroup}
	}
	for left := n - 1; left > 0; left -= batch {
		if _, err := w.Append(drafts[:min(batch, left)]...); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkVerify1M verifies a journal of 1,000,000 small facts.
func BenchmarkVerify1M(b *testing.B) { benchRead(b, false) }

// BenchmarkRead1M reads (verifies and decodes) 1,000,000 small facts.
func BenchmarkRead1M(b *testing.B) { benchRead(b, true) }

func benchRead(b *testing.B, decode bool) {
	const n = 1_000_000
	path := makeBig(b, n)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var rep Report
		if decode {
			rep, err = Read(path, func(Entry) error { return nil })
		} else {
			rep, err = Verify(path, VerifyOptions{})
		}
		if err != nil || !rep.OK() || rep.Lines != n {
			b.Fatal(fmt.Sprint(rep.Lines, err, rep.Problem))
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lines/s")
	// The machine is shared: CPU time says what wall time cannot.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
