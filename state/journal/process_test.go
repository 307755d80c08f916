package journal

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Child process roles, run by TestMain when childEnv is set. The journal's
// path is in JOURNAL_TEST_PATH.
const (
	childEnv = "JOURNAL_TEST_CHILD"
	// roleAppend appends JOURNAL_TEST_N entries, one Append each, with
	// data {"writer":JOURNAL_TEST_NAME,"i":i}, SyncGroup.
	roleAppend = "append"
	// roleCrash appends SyncNow entries until it is killed, printing
	// "ack SEQ" for each one Append has returned.
	roleCrash = "crash"
	// roleHalfLine appends 3 entries, writes half of a fourth line straight
	// to the file, and kills itself.
	roleHalfLine = "halfline"
)

// halfLine is what roleHalfLine leaves at the end of the file.
const halfLine = `{"seq":5,"at":"2026-01-02T03:04:05Z","by":{"user":"bob"},"ki`

func runChild(role string) int {
	path := os.Getenv("JOURNAL_TEST_PATH")
	w, err := Open(path, Actor{User: "child", PID: os.Getpid()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch role {
	case roleAppend:
		n, _ := strconv.Atoi(os.Getenv("JOURNAL_TEST_N"))
		name := os.Getenv("JOURNAL_TEST_NAME")
		for i := range n {
			data := fmt.Appendf(nil, `{"writer":%q,"i":%d}`, name, i)
			if _, err := w.Append(Draft{Kind: "note", Data: data, Sync: SyncGroup}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
	case roleCrash:
		// Large entries widen the window in which the kill lands mid-write.
		pad := strings.Repeat("x", 64<<10)
		out := bufio.NewWriter(os.Stdout)
		for i := 0; ; i++ {
			data := fmt.Appendf(nil, `{"i":%d,"pad":%q}`, i, pad)
			es, err := w.Append(Draft{Kind: "action.intent", Data: data, Sync: SyncNow})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			fmt.Fprintf(out, "ack %d\n", es[len(es)-1].Seq)
			out.Flush()
		}
	case roleHalfLine:
		for i := range 3 {
			if _, err := w.Append(note(fmt.Sprint("before the crash ", i), SyncNow)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := f.WriteString(halfLine); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the kill arrives
	default:
		fmt.Fprintln(os.Stderr, "unknown role", role)
		return 2
	}
	if err := w.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// child returns a command that runs this test binary in a child role.
func child(ctx context.Context, role, path string, env ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role, "JOURNAL_TEST_PATH="+path)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

func TestTwoProcessesAppend(t *testing.T) {
	const perWriter = 10000
	path, _ := makeJournal(t, t.TempDir(), "two-writers", 0)
	ctx := t.Context()
	var cmds []*exec.Cmd
	for _, name := range []string{"a", "b"} {
		cmd := child(ctx, roleAppend, path, "JOURNAL_TEST_N="+strconv.Itoa(perWriter), "JOURNAL_TEST_NAME="+name)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
	entries := readAll(t, path) // verifies the whole chain
	if got, want := len(entries), 1+2*perWriter; got != want {
		t.Fatalf("got %d entries, want %d (line 1 and %d from each writer)", got, want, perWriter)
	}
	next := map[string]int{}
	for i, e := range entries {
		if e.Seq != int64(i+1) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
		if i == 0 {
			continue
		}
		var d struct {
			Writer string `json:"writer"`
			I      int    `json:"i"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.I != next[d.Writer] {
			t.Fatalf("seq %d: writer %q entry %d, want %d", e.Seq, d.Writer, d.I, next[d.Writer])
		}
		next[d.Writer]++
	}
	if next["a"] != perWriter || next["b"] != perWriter {
		t.Fatalf("entries per writer: %v", next)
	}
}

func TestGoroutinesAndWritersInOneProcess(t *testing.T) {
	const writers, goroutines, each = 3, 4, 200
	path, _ := makeJournal(t, t.TempDir(), "goroutines", 0)
	var wg sync.WaitGroup
	errs := make(chan error, writers*goroutines)
	for range writers {
		w, err := Open(path, testActor)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Close()
		for range goroutines {
			wg.Go(func() {
				for i := range each {
					mode := SyncGroup
					if i%50 == 0 {
						mode = SyncNow
					}
					if _, err := w.Append(note("hello", mode), note("again", mode)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, want := len(readAll(t, path)), 1+writers*goroutines*each*2; got != want {
		t.Fatalf("got %d entries, want %d", got, want)
	}
}

// TestCrashKeepsAcknowledgedEntries kills a writer at a random point while it
// appends SyncNow entries, and checks that every entry it acknowledged is in
// the journal, which verifies or has only a torn tail the next writer cuts.
func TestCrashKeepsAcknowledgedEntries(t *testing.T) {
	const acksBeforeKill = 40
	path, _ := makeJournal(t, t.TempDir(), "crash", 0)
	cmd := child(t.Context(), roleCrash, path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []int64
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		seq, err := strconv.ParseInt(strings.TrimPrefix(sc.Text(), "ack "), 10, 64)
		if err != nil {
			t.Fatalf("child said %q", sc.Text())
		}
		acked = append(acked, seq)
		if len(acked) == acksBeforeKill {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = cmd.Wait() // killed
	if len(acked) < acksBeforeKill {
		t.Fatalf("child acknowledged only %d entries", len(acked))
	}

	rep, err := Verify(path, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem != nil {
		if rep.Problem.Kind != ProblemTorn {
			t.Fatalf("after the crash: %v", rep.Problem)
		}
		t.Logf("the kill left a torn tail: %v", rep.Problem)
		w, err := Open(path, testActor)
		if err != nil {
			t.Fatal(err)
		}
		es, err := w.Append(note("after the crash", SyncNow))
		if err != nil {
			t.Fatal(err)
		}
		if es[0].Kind != KindRepaired {
			t.Fatalf("first entry after a torn tail is %q, want %q", es[0].Kind, KindRepaired)
		}
		w.Close()
	}
	have := map[int64]bool{}
	for _, e := range readAll(t, path) {
		have[e.Seq] = true
	}
	for _, seq := range acked {
		if !have[seq] {
			t.Errorf("acknowledged seq %d is missing", seq)
		}
	}
}

// TestHalfLineThenRepair: a writer dies after writing half a line; readers
// report a torn tail (not tampering) and the next writer cuts it, records
// what it cut, and the journal verifies again.
func TestHalfLineThenRepair(t *testing.T) {
	path, _ := makeJournal(t, t.TempDir(), "half", 0)
	if err := child(t.Context(), roleHalfLine, path).Run(); err == nil {
		t.Fatal("the child was to kill itself")
	}
	rep, err := Verify(path, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := rep.Problem
	if p == nil || p.Kind != ProblemTorn || p.Tampered() || p.Line != 5 || p.Offset != rep.Bytes || rep.Lines != 4 {
		t.Fatalf("report %+v, problem %v; want a torn line 5 after 4 good lines", rep, p)
	}

	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	es, err := w.Append(note("first words after the crash", SyncGroup))
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Kind != KindRepaired || es[0].Seq != 5 || es[1].Kind != "note" || es[1].Seq != 6 {
		t.Fatalf("appended %+v, want a %s entry (seq 5) and the note (seq 6)", es, KindRepaired)
	}
	var repaired struct {
		Offset int64  `json:"offset"`
		Bytes  int64  `json:"bytes"`
		Torn   string `json:"torn_sha256"`
	}
	if err := json.Unmarshal(es[0].Data, &repaired); err != nil {
		t.Fatal(err)
	}
	want := repairedData(rep.Bytes, []byte(halfLine))
	if repaired != want {
		t.Fatalf("repaired %+v, want %+v", repaired, want)
	}
	got := readAll(t, path)
	if len(got) != 6 {
		t.Fatalf("%d entries after the repair, want 6", len(got))
	}
}

// TestFollowAnotherProcess follows a journal while a child process appends.
func TestFollowAnotherProcess(t *testing.T) {
	const n = 300
	path, _ := makeJournal(t, t.TempDir(), "follow", 0)
	// The bound only keeps a broken Follow from hanging the test.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := child(t.Context(), roleAppend, path, "JOURNAL_TEST_N="+strconv.Itoa(n), "JOURNAL_TEST_NAME=w")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var got []Entry
	for e, err := range Follow(ctx, path, 0) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
		if len(got) == 1+n {
			cancel()
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1+n {
		t.Fatalf("followed %d entries, want %d", len(got), 1+n)
	}
	want := readAll(t, path)
	for i := range got {
		if !equalEntry(got[i], want[i]) {
			t.Fatalf("entry %d: followed %+v, file has %+v", i, got[i], want[i])
		}
	}
}
