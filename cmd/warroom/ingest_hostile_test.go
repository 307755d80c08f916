package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// goodRecord is one CloudTrail record with the event id id.
func goodRecord(id string) string {
	return `{"eventVersion":"1.08","eventID":"` + id + `","eventTime":"2026-11-23T01:02:03Z","eventName":"ListUsers","eventSource":"iam.amazonaws.com","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accessKeyId":"AKIAEXAMPLE"}}`
}

// ingestJournaled returns the event ids and the skipped entries in a journal.
func ingestJournaled(t *testing.T, j string) (ids []string, skipped []state.Skipped, maxLine int) {
	t.Helper()
	if _, err := journal.Read(j, func(e journal.Entry) error {
		maxLine = max(maxLine, len(e.Data))
		if e.Kind != string(state.KindEvents) {
			return nil
		}
		var ev state.Events
		if err := json.Unmarshal(e.Data, &ev); err != nil {
			return err
		}
		for _, r := range ev.Records {
			var m struct {
				EventID string `json:"eventID"`
			}
			if err := json.Unmarshal(r, &m); err != nil {
				return err
			}
			ids = append(ids, m.EventID)
		}
		skipped = append(skipped, ev.Skipped...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids, skipped, maxLine
}

// TestIngestProblemBomb: a 3 KB gzip file of a million unusable records,
// between good files, costs a bounded list of problems; the good records
// are journaled, the problem is summarised, and the exit status says some
// input could not be used (1), not that nothing could be read (2).
func TestIngestProblemBomb(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write([]byte(`{"Records":[{}` + strings.Repeat(`,{}`, 999_999) + `]}`))
	zw.Close()
	files := map[string]string{
		"a.json":    `{"Records":[` + goodRecord("a1") + `,` + goodRecord("a2") + `]}`,
		"b.json.gz": b.String(),
		"c.json":    goodRecord("c1"),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("bomb: %d bytes", b.Len())
	j := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, errOut := warroom(t, "ingest", "-j", j, dir)
	if code != exitProblem {
		t.Fatalf("exit %d, want %d\n%s\n%.2000s", code, exitProblem, out, errOut)
	}
	ids, skipped, maxLine := ingestJournaled(t, j)
	if strings.Join(ids, ",") != "a1,a2,c1" {
		t.Errorf("journaled %v, want a1,a2,c1", ids)
	}
	n := 0
	for _, s := range skipped {
		n += s.Records()
	}
	if n != 1_000_000 || len(skipped) > 200 {
		t.Errorf("%d skipped entries standing for %d records, want at most 200 for 1,000,000", len(skipped), n)
	}
	if maxLine > 1<<20 {
		t.Errorf("a journal line of %d bytes", maxLine)
	}
	if !strings.Contains(errOut, "more like it") || strings.Count(errOut, "\n") > 200 {
		t.Errorf("stderr does not summarise the bomb in few lines: %.1000s", errOut)
	}
	if !strings.Contains(out, "3 written") || !strings.Contains(out, "1000000 problems") {
		t.Errorf("summary: %s", out)
	}
	if code, out, _ := warroom(t, "journal", "verify", j); code != 0 {
		t.Errorf("verify: exit %d %s", code, out)
	}
}

// TestIngestExitStatus: nothing found (0) and nothing could be read (2)
// are told apart, and both from some input bad (1, above).
func TestIngestExitStatus(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	bad := filepath.Join(dir, "bad")
	for _, d := range []string{empty, bad} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bad, "x.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := warroom(t, "ingest", "-j", filepath.Join(dir, "j1.jsonl"), empty)
	if code != exitOK || !strings.Contains(errOut, "nothing found") {
		t.Errorf("empty folder: exit %d, %s", code, errOut)
	}
	code, _, errOut = warroom(t, "ingest", "-j", filepath.Join(dir, "j2.jsonl"), bad)
	if code != exitUsage || !strings.Contains(errOut, "nothing could be read") {
		t.Errorf("only bad input: exit %d, %s", code, errOut)
	}
}

// TestIngestFIFO: a FIFO given as an argument or inside a folder is named
// as skipped; ingest neither opens nor waits on it.
func TestIngestFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pipe.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no fifo: %v", err)
	}
	sub := filepath.Join(dir, "logs")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(sub, "inner.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "good.json"), []byte(goodRecord("g1")), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		code        int
		out, errOut string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := warroom(t, "ingest", "-j", filepath.Join(dir, "j.jsonl"), fifo, sub)
		done <- result{code, out, errOut}
	}()
	select {
	case r := <-done:
		if r.code != exitProblem || !strings.Contains(r.errOut, "pipe.json: skipped: a named pipe (FIFO)") ||
			!strings.Contains(r.errOut, "inner.json: skipped: a named pipe (FIFO)") || !strings.Contains(r.out, "1 written") {
			t.Errorf("exit %d\n%s\n%s", r.code, r.out, r.errOut)
		}
	case <-time.After(20 * time.Second):
		for _, p := range []string{fifo, filepath.Join(sub, "inner.json")} {
			if f, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				f.Close()
			}
		}
		t.Fatal("ingest blocked on a FIFO")
	}
}

// TestIngestInterrupted: a canceled context (what SIGINT and SIGTERM
// cancel) stops the run between files; the records read until then are
// journaled and the journal is intact.
func TestIngestInterrupted(t *testing.T) {
	dir := t.TempDir()
	for i := range 40 {
		recs := make([]string, 100)
		for k := range recs {
			recs[k] = goodRecord("f" + string(rune('A'+i)) + "-" + string(rune('a'+k%26)) + string(rune('a'+k/26)))
		}
		if err := os.WriteFile(filepath.Join(dir, "f"+string(rune('A'+i))+".json"), []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int64
	ingestRecordHook = func() {
		if n.Add(1) == 250 {
			cancel()
		}
	}
	defer func() { ingestRecordHook = nil }()
	j := filepath.Join(t.TempDir(), "journal.jsonl")
	var out, errb bytes.Buffer
	code := run(ctx, []string{"ingest", "-j", j, dir}, strings.NewReader(""), &out, &errb)
	if code != exitInterrupted || !strings.Contains(errb.String(), "interrupted") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	ids, _, _ := ingestJournaled(t, j)
	if len(ids) < 250 || len(ids) >= 4000 || len(ids)%100 != 0 {
		t.Errorf("%d records journaled: want the whole files read before the interrupt", len(ids))
	}
	if code, out, _ := warroom(t, "journal", "verify", j); code != 0 {
		t.Errorf("verify: exit %d %s", code, out)
	}
}

// TestIngestSignalHelper is the process TestIngestSIGTERM signals.
func TestIngestSignalHelper(t *testing.T) {
	args := os.Getenv("WARROOM_INGEST_HELPER")
	if args == "" {
		t.Skip("helper process only")
	}
	ingestRecordHook = func() { time.Sleep(2 * time.Millisecond) }
	os.Exit(run(context.Background(), strings.Split(args, "\x1f"), strings.NewReader(""), os.Stdout, os.Stderr))
}

// TestIngestSIGTERM: a real SIGTERM stops a slow ingest within a second
// or two, with what was read journaled.
func TestIngestSIGTERM(t *testing.T) {
	dir := t.TempDir()
	for i := range 20 {
		recs := make([]string, 200)
		for k := range recs {
			recs[k] = goodRecord(string(rune('A'+i)) + "-" + string(rune('a'+k%26)) + string(rune('a'+k/26)))
		}
		if err := os.WriteFile(filepath.Join(dir, string(rune('A'+i))+".json"), []byte(`{"Records":[`+strings.Join(recs, ",")+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	j := filepath.Join(t.TempDir(), "journal.jsonl")
	c := exec.Command(os.Args[0], "-test.run=^TestIngestSignalHelper$")
	c.Env = append(os.Environ(), "WARROOM_INGEST_HELPER=ingest\x1f-j\x1f"+j+"\x1f"+dir)
	var outb bytes.Buffer
	c.Stdout, c.Stderr = &outb, &outb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // 4,000 records at 2 ms each: 8 s
	sent := time.Now()
	if err := c.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
		c.Process.Kill()
		t.Fatal("SIGTERM did not stop ingest within 5 s")
	}
	t.Logf("stopped %v after SIGTERM: %s", time.Since(sent).Round(time.Millisecond), outb.String())
	if code := c.ProcessState.ExitCode(); code != exitInterrupted {
		t.Errorf("exit %d, want %d: %s", code, exitInterrupted, outb.String())
	}
	ids, _, _ := ingestJournaled(t, j)
	if len(ids) == 0 || len(ids) == 4000 || len(ids)%200 != 0 {
		t.Errorf("%d records journaled", len(ids))
	}
}

// TestIngestGzipBombFlag: a gzip bomb over --max-file-bytes is named and
// skipped; the good file beside it is journaled (exit 1).
func TestIngestGzipBombFlag(t *testing.T) {
	dir := t.TempDir()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(bytes.Repeat([]byte(" "), 8<<20))
	zw.Close()
	if err := os.WriteFile(filepath.Join(dir, "bomb.json.gz"), b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.json"), []byte(goodRecord("g1")), 0o600); err != nil {
		t.Fatal(err)
	}
	j := filepath.Join(t.TempDir(), "journal.jsonl")
	code, out, errOut := warroom(t, "ingest", "-j", j, "--max-file-bytes", "1048576", "--max-memory-bytes", "4194304", dir)
	if code != exitProblem || !strings.Contains(errOut, "bomb.json.gz: decompressed size is over the limit of 1048576 bytes") || !strings.Contains(out, "1 written") {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
}
