package ctlog

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// problemBomb is a small gzip file holding n records that each are a
// problem: {"Records":[{},{},…]}. A million make 2,981 bytes.
func problemBomb(t testing.TB, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write([]byte(`{"Records":[{}`))
	chunk := bytes.Repeat([]byte(`,{}`), 4096)
	for left := n - 1; left > 0; left -= 4096 {
		zw.Write(chunk[:3*min(left, 4096)])
	}
	zw.Write([]byte(`]}`))
	zw.Close()
	return b.Bytes()
}

// runBoth runs a ParsePaths-like function sequentially and on 3 workers.
func runBoth(t *testing.T, paths []string, opt Options, check func(t *testing.T, st Stats, probs []Problem, ids []string, err error)) {
	for _, workers := range []int{1, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			var ids []string
			st, probs, err := ParsePathsParallel(paths, opt, workers, func(r Record) error {
				ids = append(ids, r.EventID)
				return nil
			})
			check(t, st, probs, ids, err)
		})
	}
}

// TestProblemBombBounded: a file of a million unusable records costs a
// bounded list of problems (the first ones listed, the rest counted by
// kind of reason), and the good files around it are read whole.
func TestProblemBombBounded(t *testing.T) {
	dir := t.TempDir()
	const n = 1_000_000
	bomb := problemBomb(t, n)
	t.Logf("bomb: %d records in %d bytes of gzip", n, len(bomb))
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.json", `{"Records":[`+rec("a1")+`,`+rec("a2")+`]}`)
	b := write("b.json.gz", string(bomb))
	c := write("c.json", rec("c1"))
	runBoth(t, []string{a, b, c}, Options{}, func(t *testing.T, st Stats, probs []Problem, ids []string, err error) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(ids, ",") != "a1,a2,c1" {
			t.Errorf("records %v, want a1,a2,c1", ids)
		}
		if len(probs) > DefaultMaxFileProblems+maxReasonKinds {
			t.Fatalf("%d problems listed for one bomb, want at most %d", len(probs), DefaultMaxFileProblems+maxReasonKinds)
		}
		if got := countRecords(probs); got != n {
			t.Errorf("problems stand for %d records, want %d", got, n)
		}
		if st.Skipped != n || st.Records != 3 {
			t.Errorf("stats %+v", st)
		}
		last := probs[len(probs)-1]
		if last.Count != n-DefaultMaxFileProblems || !strings.Contains(last.Error(), "more like it") || last.File != b {
			t.Errorf("summary %+v: %s", last, last.Error())
		}
	})

	// Across many files, the run lists at most MaxProblems one by one,
	// then per-file summaries up to MaxProblems, then one summary per
	// kind of reason.
	var paths []string
	for i := range 30 {
		paths = append(paths, write(fmt.Sprintf("m%02d.json", i), `{"Records":[{},{},{},{},{}]}`))
	}
	paths = append(paths, c)
	opt := Options{MaxFileProblems: 2, MaxProblems: 10}
	runBoth(t, paths, opt, func(t *testing.T, st Stats, probs []Problem, ids []string, err error) {
		if err != nil || strings.Join(ids, ",") != "c1" {
			t.Fatalf("records %v, error %v", ids, err)
		}
		if got := countRecords(probs); got != 150 {
			t.Errorf("problems stand for %d records, want 150", got)
		}
		if len(probs) > 10+10+maxReasonKinds {
			t.Errorf("%d problems listed, want at most %d", len(probs), 10+10+maxReasonKinds)
		}
		if last := probs[len(probs)-1]; !strings.Contains(last.Reason, "and later files") {
			t.Errorf("no summary across files: %s", last.Error())
		}
	})
}

// TestNonRegularFilesNotOpened: a FIFO given as an argument or found in a
// folder is named as skipped and never opened (opening a FIFO for reading
// waits for a writer: the run would hang).
func TestNonRegularFilesNotOpened(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no fifo: %v", err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(sub, "inner.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(sub, "z.json")
	if err := os.WriteFile(good, []byte(rec("g1")), 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runBoth(t, []string{fifo, sub}, Options{}, func(t *testing.T, st Stats, probs []Problem, ids []string, err error) {
			if err != nil || strings.Join(ids, ",") != "g1" {
				t.Errorf("records %v, error %v", ids, err)
			}
			if len(probs) != 2 || !strings.Contains(probs[0].Error(), "pipe.json: skipped: a named pipe (FIFO)") ||
				!strings.Contains(probs[1].Error(), "inner.json: skipped: a named pipe (FIFO)") {
				t.Errorf("problems %v", probs)
			}
		})
		if _, err := ParseFile(fifo, Options{}, func(Record) error { return nil }); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// Unblock the opener so the test ends, then fail.
		for _, p := range []string{fifo, filepath.Join(sub, "inner.json")} {
			if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
		t.Fatal("parsing blocked on a FIFO")
	}
}

// TestCancelStopsRun: once Options.Cancel is closed, no further file is
// emitted and the run says it was canceled; what was emitted stands.
func TestCancelStopsRun(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 50 {
		p := filepath.Join(dir, fmt.Sprintf("%02d.json", i))
		if err := os.WriteFile(p, []byte(rec(fmt.Sprint(i))), 0o600); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, workers := range []int{1, 3} {
		cancel := make(chan struct{})
		n := 0
		_, _, err := ParsePathsParallel(paths, Options{Cancel: cancel}, workers, func(r Record) error {
			n++
			if n == 5 {
				close(cancel)
			}
			return nil
		})
		if !errors.Is(err, ErrCanceled) || n >= 50 || n < 5 {
			t.Errorf("workers=%d: %d records, error %v; want the run canceled after 5", workers, n, err)
		}
	}
}
