package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// equalEntry compares entries, times by instant.
func equalEntry(a, b Entry) bool {
	if !a.At.Equal(b.At) {
		return false
	}
	a.At, b.At = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

type repairedFact struct {
	Offset int64  `json:"offset"`
	Bytes  int64  `json:"bytes"`
	Torn   string `json:"torn_sha256"`
}

// repairedData is the data a writer must record for a torn tail.
func repairedData(off int64, torn []byte) repairedFact {
	sum := sha256.Sum256(torn)
	return repairedFact{Offset: off, Bytes: int64(len(torn)), Torn: hex.EncodeToString(sum[:])}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inc.journal")
	opened := json.RawMessage(`{"id":"inc-7", "title":"leaked key AKIA…", "opened_at":"2026-03-01T10:00:00Z"}`)
	w, err := Create(path, "inc-7", testActor, opened)
	if err != nil {
		t.Fatal(err)
	}
	var appended []Entry
	batches := [][]Draft{
		{note("first", SyncNow)},
		{{Kind: "events", Data: json.RawMessage(`{"source":"file:x.json","records":[{"eventName":"GetCallerIdentity"}]}`), Sync: SyncGroup},
			{Kind: "events", Data: json.RawMessage(` [1, 2.5e3, true, null, "\u00e9\n"] `), Sync: SyncGroup}},
		{{Kind: "action.intent", Data: json.RawMessage(`{"action":"deactivate-key","target":"AKIAEXAMPLE"}`)}},
		{{Kind: "odd \"kind\" <&>", Data: json.RawMessage(`"just a string"`), Sync: SyncGroup}},
	}
	for _, b := range batches {
		es, err := w.Append(b...)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(b) {
			t.Fatalf("appended %d drafts, got %d entries", len(b), len(es))
		}
		appended = append(appended, es...)
	}
	seq, head := w.Head()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	got := readAll(t, path)
	if len(got) != 1+len(appended) {
		t.Fatalf("read %d entries, want %d", len(got), 1+len(appended))
	}
	first := got[0]
	if first.Seq != 1 || first.Kind != KindOpened || first.Prev != hex.EncodeToString(sha256Sum("inc-7")) || first.By != testActor {
		t.Fatalf("line 1: %+v", first)
	}
	if string(first.Data) != `{"id":"inc-7","title":"leaked key AKIA…","opened_at":"2026-03-01T10:00:00Z"}` {
		t.Fatalf("line 1 data not compacted as is: %s", first.Data)
	}
	for i, e := range appended {
		if !equalEntry(e, got[i+1]) {
			t.Errorf("entry %d: appended %+v, read back %+v", i, e, got[i+1])
		}
		if e.Prev != got[i].Hash {
			t.Errorf("entry %d: prev %s, want the previous hash %s", i, e.Prev, got[i].Hash)
		}
	}
	if string(got[3].Data) != `[1,2.5e3,true,null,"\u00e9\n"]` {
		t.Errorf("data not compacted: %s", got[3].Data)
	}
	rep, err := Verify(path, VerifyOptions{Head: head})
	if err != nil {
		t.Fatal(err)
	}
	last := got[len(got)-1]
	if !rep.OK() || rep.Lines != len(got) || rep.Seq != seq || rep.Head != last.Hash || rep.IncidentID != "inc-7" || rep.HeadLine != len(got) {
		t.Fatalf("report %+v, problem %v", rep, rep.Problem)
	}
	if fi, _ := os.Stat(path); rep.Bytes != fi.Size() {
		t.Fatalf("report covers %d bytes of %d", rep.Bytes, fi.Size())
	}
	// The bytes on disk are the documented envelope, keys in order.
	lines := splitLines(mustRead(t, path))
	for i, line := range lines {
		var e Entry
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		prefix := `{"seq":` + strconvItoa(i+1) + `,"at":"`
		if !bytes.HasPrefix(line, []byte(prefix)) || !bytes.HasSuffix(line, []byte(`,"prev":"`+got[i].Prev+"\"}\n")) {
			t.Fatalf("line %d is not in the documented form: %s", i+1, line)
		}
		if h := sha256.Sum256(bytes.TrimSuffix(line, []byte("\n"))); hex.EncodeToString(h[:]) != got[i].Hash {
			t.Fatalf("line %d: hash is not the SHA-256 of the line", i+1)
		}
	}
}

func sha256Sum(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func strconvItoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestCreateModesAndFolders(t *testing.T) {
	old := umask(0o022)
	defer umask(old)
	root := t.TempDir()
	path := filepath.Join(root, "a", "b", "inc.journal")
	w, err := Create(path, "inc-1", testActor, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	for _, c := range []struct {
		name string
		path string
		mode fs.FileMode
	}{
		{"file", path, 0o600},
		{"parent", filepath.Join(root, "a", "b"), fs.ModeDir | 0o700},
		{"grandparent", filepath.Join(root, "a"), fs.ModeDir | 0o700},
	} {
		t.Run(c.name, func(t *testing.T) {
			fi, err := os.Stat(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != c.mode {
				t.Fatalf("mode %v, want %v", fi.Mode(), c.mode)
			}
		})
	}
}

func TestCreateExisting(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name    string
		content string
		mode    fs.FileMode
		wantErr bool
	}{
		{"empty private file is taken over", "", 0o600, false},
		{"non-empty file is refused", "something\n", 0o600, true},
		{"torn first line is refused", `{"seq":1,"at"`, 0o600, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strconvItoa(i))
			if err := os.WriteFile(path, []byte(c.content), c.mode); err != nil {
				t.Fatal(err)
			}
			w, err := Create(path, "inc", testActor, nil)
			if c.wantErr {
				if !errors.Is(err, fs.ErrExist) {
					t.Fatalf("err %v, want fs.ErrExist", err)
				}
				if string(mustRead(t, path)) != c.content {
					t.Fatal("the existing file was changed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			if fi, _ := os.Stat(path); fi.Mode() != 0o600 {
				t.Fatalf("mode %v, want 0600", fi.Mode())
			}
			readAll(t, path)
		})
	}
}

func TestCreateRejects(t *testing.T) {
	cases := []struct {
		name   string
		id     string
		opened string
	}{
		{"empty id", "", ""},
		{"id mismatch", "inc-1", `{"id":"inc-2"}`},
		{"no id", "inc-1", `{"title":"x"}`},
		{"not an object", "inc-1", `["inc-1"]`},
		{"invalid JSON", "inc-1", `{"id":"inc-1"`},
		{"invalid UTF-8 id", "inc-\xff", ""},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "j")
			var opened json.RawMessage
			if c.opened != "" {
				opened = json.RawMessage(c.opened)
			}
			if w, err := Create(path, c.id, testActor, opened); err == nil {
				w.Close()
				t.Fatal("Create accepted it")
			}
			if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
				t.Fatal("something was written")
			}
		})
	}
}

func TestAppendRejectsBadDrafts(t *testing.T) {
	path, before := makeJournal(t, t.TempDir(), "rejects", 2)
	size := len(mustRead(t, path))
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cases := []struct {
		name  string
		draft Draft
	}{
		{"invalid JSON", Draft{Kind: "note", Data: json.RawMessage(`{"text":`)}},
		{"two values", Draft{Kind: "note", Data: json.RawMessage(`{} {}`)}},
		{"empty data", Draft{Kind: "note"}},
		{"bare word", Draft{Kind: "note", Data: json.RawMessage(`hello`)}},
		{"invalid UTF-8 in data", Draft{Kind: "note", Data: json.RawMessage("\"\xff\"")}},
		{"nested too deeply", Draft{Kind: "note", Data: json.RawMessage(strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth))}},
		{"empty kind", Draft{Kind: "", Data: json.RawMessage(`{}`)}},
		{"incident.opened", Draft{Kind: KindOpened, Data: json.RawMessage(`{"id":"x"}`)}},
		{"journal.repaired", Draft{Kind: KindRepaired, Data: json.RawMessage(`{}`)}},
		{"invalid UTF-8 kind", Draft{Kind: "no\xfe", Data: json.RawMessage(`{}`)}},
		{"unknown sync mode", Draft{Kind: "note", Data: json.RawMessage(`{}`), Sync: 7}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// A good draft beside the bad one is not written either.
			es, err := w.Append(note("fine", SyncNow), c.draft)
			if err == nil {
				t.Fatalf("accepted, wrote %+v", es)
			}
			if got := len(mustRead(t, path)); got != size {
				t.Fatalf("file grew from %d to %d bytes", size, got)
			}
		})
	}
	es, err := w.Append(note("still works", SyncNow))
	if err != nil {
		t.Fatal(err)
	}
	if es[0].Seq != int64(len(before))+1 {
		t.Fatalf("seq %d after rejected drafts, want %d", es[0].Seq, len(before)+1)
	}
}

func TestOpenFindsHead(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 5} {
		t.Run(strconvItoa(n)+" entries", func(t *testing.T) {
			path, before := makeJournal(t, dir, "open-"+strconvItoa(n), n)
			w, err := Open(path, testActor)
			if err != nil {
				t.Fatal(err)
			}
			seq, head := w.Head()
			last := before[len(before)-1]
			if seq != last.Seq || head != last.Hash || w.IncidentID() != "open-"+strconvItoa(n) {
				t.Fatalf("head %d %s, want %d %s", seq, head, last.Seq, last.Hash)
			}
			es, err := w.Append(note("more", SyncNow))
			if err != nil {
				t.Fatal(err)
			}
			w.Close()
			if es[0].Seq != last.Seq+1 || es[0].Prev != last.Hash {
				t.Fatalf("appended %+v onto %+v", es[0], last)
			}
			readAll(t, path)
		})
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	good, _ := makeJournal(t, dir, "good", 1)
	goodBytes := mustRead(t, good)
	cases := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"torn line 1", string(goodBytes[:20])},
		{"not a journal", "hello\nworld\n"},
		{"line 1 from nowhere", strings.Replace(string(goodBytes), `"good"`, `"bad!"`, 1)},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad"+strconvItoa(i))
			if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if w, err := Open(path, testActor); err == nil {
				w.Close()
				t.Fatal("Open accepted it")
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing"), testActor); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestAppendRefusesBrokenChain: a writer does not chain onto lines another
// program added: it quarantines them, says why, and chains onto the last
// good line; a file cut below what the writer has seen stops it.
func TestAppendRefusesBrokenChain(t *testing.T) {
	path, _ := makeJournal(t, t.TempDir(), "refuse", 2)
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b := mustRead(t, path)
	lines := splitLines(b)
	forged := append(append([]byte{}, b...), lines[2]...) // a duplicated line
	if err := os.WriteFile(path, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	es, err := w.Append(note("x", SyncNow))
	if err != nil {
		t.Fatal(err)
	}
	var r Repair
	if len(es) != 2 || es[0].Kind != KindRepaired || json.Unmarshal(es[0].Data, &r) != nil ||
		r.Action != RepairQuarantined || !strings.Contains(r.Reason, "line 4") || !strings.Contains(r.Reason, "seq") ||
		r.Offset != int64(len(b)) || r.Bytes != int64(len(lines[2])) || es[0].Prev != sha256hex(bytes.TrimSuffix(lines[2], []byte("\n"))) {
		t.Fatalf("appended %+v (repair %+v), want the duplicated line 4 quarantined for its seq", es, r)
	}
	readAll(t, path)
	b = mustRead(t, path)
	lines = splitLines(b)
	if err := os.WriteFile(path, b[:len(b)-len(lines[2])], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(note("x", SyncNow)); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Fatalf("err %v, want the file to be found cut", err)
	}
}

// TestGroupCommitTimer: SyncGroup entries get fsynced without any call to
// Sync; the timer does it.
func TestGroupCommitTimer(t *testing.T) {
	path, _ := makeJournal(t, t.TempDir(), "group", 0)
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Append(note("grouped", SyncGroup)); err != nil {
		t.Fatal(err)
	}
	// Wait for the timer; the test's own deadline bounds a broken one.
	for pending := true; pending; {
		w.mu.Lock()
		pending = w.dirty
		w.mu.Unlock()
		time.Sleep(GroupDelay / 4)
	}
	if _, err := w.Append(note("now", SyncNow)); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	dirty := w.dirty
	w.mu.Unlock()
	if dirty {
		t.Fatal("a SyncNow append left the file unsynced")
	}
}

func TestClosed(t *testing.T) {
	path, _ := makeJournal(t, t.TempDir(), "closed", 0)
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(note("pending", SyncGroup)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Append(note("late", SyncNow)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if err := w.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close: %v", err)
	}
	if got := readAll(t, path); len(got) != 2 {
		t.Fatalf("%d entries, want 2", len(got))
	}
}

func TestLargeLines(t *testing.T) {
	defer func(old int) { maxLine = old }(maxLine)
	maxLine = 1 << 20
	path, _ := makeJournal(t, t.TempDir(), "large", 1)
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := `{"pad":"` + strings.Repeat("a", maxLine-400) + `"}`
	es, err := w.Append(Draft{Kind: "events", Data: json.RawMessage(big)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(Draft{Kind: "events", Data: json.RawMessage(`{"pad":"` + strings.Repeat("a", maxLine) + `"}`)}); err == nil {
		t.Fatal("a line over the limit was written")
	}
	got := readAll(t, path)
	if len(got) != 3 || string(got[2].Data) != big {
		t.Fatalf("%d entries; the big one did not read back", len(got))
	}
	e, err := ReadAt(path, es[0].Offset)
	if err != nil || string(e.Data) != big {
		t.Fatalf("ReadAt: %v", err)
	}

	// A reader meets a line over the limit.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(bytes.Repeat([]byte("b"), maxLine+10))
	f.Write([]byte("\n"))
	f.Close()
	rep, err := Verify(path, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Problem == nil || rep.Problem.Kind != ProblemTooLong || rep.Problem.Line != 4 {
		t.Fatalf("problem %v, want a too-long line 4", rep.Problem)
	}
}
