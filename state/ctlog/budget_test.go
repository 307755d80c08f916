package ctlog

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gzipBomb writes a small gzip file that decompresses to size bytes of
// white space.
func gzipBomb(t testing.TB, path string, size int) {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for left := size; left > 0; left -= len(chunk) {
		zw.Write(chunk[:min(left, len(chunk))])
	}
	zw.Close()
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// peakHeap samples the heap while fn runs and returns the most it grew.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak.Load() {
				peak.Store(ms.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

// TestGzipBombsBounded: bombs parsed by many workers at once cost the
// shared budget plus one file, not one file per worker; each bomb is named
// as over the limit, and the good file after them is read.
func TestGzipBombsBounded(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	dir := t.TempDir()
	const (
		limit  = 32 << 20 // MaxFileBytes and MaxInFlightBytes
		bombs  = 16
		inflat = 48 << 20 // each bomb's decompressed size
	)
	var paths []string
	for i := range bombs {
		p := filepath.Join(dir, fmt.Sprintf("bomb%d.json.gz", i))
		gzipBomb(t, p, inflat)
		paths = append(paths, p)
	}
	good := filepath.Join(dir, "z.json")
	if err := os.WriteFile(good, []byte(rec("g1")), 0o600); err != nil {
		t.Fatal(err)
	}
	paths = append(paths, good)
	for _, workers := range []int{4, 8} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			var (
				st    Stats
				probs []Problem
				err   error
				ids   []string
			)
			opt := Options{MaxFileBytes: limit, MaxInFlightBytes: limit, Borrow: true}
			peak := peakHeap(func() {
				st, probs, err = ParsePathsParallel(paths, opt, workers, func(r Record) error {
					ids = append(ids, strings.Clone(r.EventID))
					return nil
				})
			})
			t.Logf("peak heap growth %d MiB (budget %d MiB, file limit %d MiB)", peak>>20, limit>>20, limit>>20)
			if err != nil || len(ids) != 1 || ids[0] != "g1" {
				t.Fatalf("records %v, error %v", ids, err)
			}
			if len(probs) != bombs {
				t.Fatalf("problems %v", probs)
			}
			for _, p := range probs {
				if !strings.Contains(p.Error(), "bomb") || !strings.Contains(p.Reason, "over the limit") {
					t.Errorf("problem %s", p.Error())
				}
			}
			_ = st
			// The budget, one file overdrawing it (with the copy made
			// while its buffer doubles), and garbage the collector has
			// not reached yet. Without the budget: 192 MiB and more.
			if bound := uint64(4 * limit); peak > bound {
				t.Errorf("peak heap growth %d MiB, want at most %d MiB", peak>>20, bound>>20)
			}
		})
	}
}
