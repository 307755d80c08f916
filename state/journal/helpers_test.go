package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestMain lets the test binary play a child process for the tests that
// need a second OS process (see process_test.go): with JOURNAL_TEST_CHILD
// set it runs that role and exits instead of running tests.
func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		os.Exit(runChild(role))
	}
	os.Exit(m.Run())
}

var testActor = Actor{User: "alice", Host: "jump-1", SSH: "203.0.113.7 52114 22", PID: 4242}

// note is a note draft with the given text.
func note(text string, mode SyncMode) Draft {
	data, _ := json.Marshal(map[string]string{"text": text})
	return Draft{Kind: "note", Data: data, Sync: mode}
}

// makeJournal writes a journal with line 1 and n notes, and returns its path
// and every entry as Read gives it back.
func makeJournal(t testing.TB, dir, id string, n int) (string, []Entry) {
	t.Helper()
	path := filepath.Join(dir, id+".journal")
	w, err := Create(path, id, testActor, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := w.Append(note(fmt.Sprintf("note %d", i+1), SyncGroup)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path, readAll(t, path)
}

// readAll reads a journal that must verify and returns its entries.
func readAll(t testing.TB, path string) []Entry {
	t.Helper()
	var got []Entry
	rep, err := Read(path, func(e Entry) error { got = append(got, e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem != nil {
		t.Fatalf("%s does not verify: %v", path, rep.Problem)
	}
	return got
}

// splitLines splits journal bytes into lines, each with its newline.
func splitLines(b []byte) [][]byte {
	var lines [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, b)
			break
		}
		lines = append(lines, b[:i+1])
		b = b[i+1:]
	}
	return lines
}

// verifyBytes verifies a journal held in memory.
func verifyBytes(t testing.TB, b []byte, head string) Report {
	t.Helper()
	rep, err := verifyReader(bytes.NewReader(b), VerifyOptions{Head: head}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// umask sets the process's umask and returns the old one.
func umask(mask int) int { return syscall.Umask(mask) }
