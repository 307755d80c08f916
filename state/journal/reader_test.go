package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tamperFixture is two small journals: the one tampered with (line 1 and 5
// notes) and another incident's, to splice from.
type tamperFixture struct {
	lines, other [][]byte
	head         string // hash of the last line of lines
	forged       [][]byte
}

func newTamperFixture(t *testing.T) tamperFixture {
	dir := t.TempDir()
	path, entries := makeJournal(t, dir, "inc-a", 5)
	otherPath, _ := makeJournal(t, dir, "inc-b", 5)
	fx := tamperFixture{
		lines: splitLines(mustRead(t, path)),
		other: splitLines(mustRead(t, otherPath)),
		head:  entries[len(entries)-1].Hash,
	}
	// A rewritten tail: the first 4 lines, then two new, well-chained ones.
	rewrite := filepath.Join(dir, "rewrite")
	if err := os.WriteFile(rewrite, bytes.Join(fx.lines[:4], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(rewrite, testActor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(note("nothing happened", SyncGroup), note("really", SyncGroup)); err != nil {
		t.Fatal(err)
	}
	w.Close()
	fx.forged = splitLines(mustRead(t, rewrite))
	return fx
}

func clone(lines [][]byte) [][]byte {
	out := make([][]byte, len(lines))
	for i, l := range lines {
		out[i] = append([]byte(nil), l...)
	}
	return out
}

func TestTamperCases(t *testing.T) {
	fx := newTamperFixture(t)
	// The line that follows line 2 when it says it is incident.opened.
	reopened := func() []byte {
		prev := sha256.Sum256(bytes.TrimSuffix(fx.lines[1], []byte("\n")))
		line := appendLine(nil, 3, time.Now().UTC(), []byte(`{}`), []byte(`"incident.opened"`), []byte(`{"id":"inc-a"}`), &prev)
		return append(line, '\n')
	}
	cases := []struct {
		name   string
		mutate func(l [][]byte) [][]byte
		head   bool
		kind   ProblemKind // 0: no problem
		line   int
		reason string
	}{
		{"intact", func(l [][]byte) [][]byte { return l }, false, 0, 0, ""},
		{"intact with head", func(l [][]byte) [][]byte { return l }, true, 0, 0, ""},
		{"line deleted", func(l [][]byte) [][]byte { return append(l[:2], l[3:]...) }, false, ProblemSeq, 3, "deleted"},
		{"lines swapped", func(l [][]byte) [][]byte { l[2], l[3] = l[3], l[2]; return l }, false, ProblemSeq, 3, "deleted or moved"},
		{"line duplicated", func(l [][]byte) [][]byte {
			return append(l[:4], append([][]byte{l[3]}, l[4:]...)...)
		}, false, ProblemSeq, 5, "duplicated"},
		{"line spliced from another journal", func(l [][]byte) [][]byte { l[3] = fx.other[3]; return l }, false, ProblemChain, 4, "spliced"},
		{"line 1 from another journal", func(l [][]byte) [][]byte { l[0] = fx.other[0]; return l }, false, ProblemChain, 2, "line 1 was altered"},
		{"incident id changed", func(l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(`"id":"inc-a"`), []byte(`"id":"inc-z"`), 1)
			return l
		}, false, ProblemFirstLine, 1, "SHA-256 of incident id"},
		{"first line deleted", func(l [][]byte) [][]byte { return l[1:] }, false, ProblemSeq, 1, "first line"},
		{"first line not incident.opened", func(l [][]byte) [][]byte {
			l[0] = bytes.Replace(l[0], []byte(KindOpened), []byte("note"), 1)
			return l
		}, false, ProblemFirstLine, 1, "not incident.opened"},
		{"incident.opened after line 1", func(l [][]byte) [][]byte { return append(l[:2], reopened()) }, false, ProblemFirstLine, 3, "after line 1"},
		{"byte flipped in a note", func(l [][]byte) [][]byte { l[2] = bytes.Replace(l[2], []byte("note 2"), []byte("note 9"), 1); return l }, false, ProblemChain, 4, "line 3 was altered"},
		{"seq edited", func(l [][]byte) [][]byte {
			l[3] = bytes.Replace(l[3], []byte(`"seq":4`), []byte(`"seq":40`), 1)
			return l
		}, false, ProblemSeq, 4, "seq 40 where 4"},
		{"invalid JSON", func(l [][]byte) [][]byte { l[3] = []byte("{\"seq\":4,\n"); return l }, false, ProblemInvalid, 4, "invalid JSON"},
		{"JSON but not an entry", func(l [][]byte) [][]byte { l[3] = []byte("{\"hello\":\"world\"}\n"); return l }, false, ProblemInvalid, 4, "not a journal entry"},
		{"keys reordered", func(l [][]byte) [][]byte {
			l[3] = bytes.Replace(l[3], []byte(`"kind":"note","data":`), []byte(`"data":`), 1)
			l[3] = bytes.Replace(l[3], []byte(`,"prev"`), []byte(`,"kind":"note","prev"`), 1)
			return l
		}, false, ProblemInvalid, 4, "not a journal entry"},
		{"invalid UTF-8", func(l [][]byte) [][]byte { l[3] = bytes.Replace(l[3], []byte("note"), []byte("n\xffte"), 1); return l }, false, ProblemInvalid, 4, "UTF-8"},
		{"CRLF line end", func(l [][]byte) [][]byte { l[3] = append(bytes.TrimSuffix(l[3], []byte("\n")), "\r\n"...); return l }, false, ProblemInvalid, 4, "after the end"},
		{"blank line", func(l [][]byte) [][]byte { return append(l[:3], append([][]byte{[]byte("\n")}, l[3:]...)...) }, false, ProblemInvalid, 4, "invalid JSON"},
		{"torn tail", func(l [][]byte) [][]byte { l[5] = l[5][:len(l[5])/2]; return l }, false, ProblemTorn, 6, "no newline"},
		{"last newline removed", func(l [][]byte) [][]byte { l[5] = bytes.TrimSuffix(l[5], []byte("\n")); return l }, false, ProblemTorn, 6, "no newline"},
		{"torn tail, head found", func(l [][]byte) [][]byte { return append(l, []byte(`{"seq":7,`)) }, true, ProblemTorn, 7, "no newline"},
		{"cut at a line boundary, no head: undetectable", func(l [][]byte) [][]byte { return l[:4] }, false, 0, 0, ""},
		{"cut at a line boundary, with head", func(l [][]byte) [][]byte { return l[:4] }, true, ProblemHeadNotFound, 5, "truncated or rewritten"},
		{"cut and torn, with head", func(l [][]byte) [][]byte { l[3] = l[3][:10]; return l[:4] }, true, ProblemHeadNotFound, 4, "truncated or rewritten"},
		{"tail rewritten, with head", func([][]byte) [][]byte { return clone(fx.forged) }, true, ProblemHeadNotFound, 7, "head " + fx.head + " not found"},
		{"appended to, with head", func(l [][]byte) [][]byte { return l }, true, 0, 0, ""},
		{"empty file", func([][]byte) [][]byte { return nil }, false, ProblemInvalid, 1, "empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Join(c.mutate(clone(fx.lines)), nil)
			head := ""
			if c.head {
				head = fx.head
			}
			rep := verifyBytes(t, b, head)
			p := rep.Problem
			if c.kind == 0 {
				if p != nil {
					t.Fatalf("unexpected problem: %v", p)
				}
				return
			}
			if p == nil {
				t.Fatalf("no problem found, want %v at line %d", c.kind, c.line)
			}
			if p.Kind != c.kind || p.Line != c.line || !strings.Contains(p.Reason, c.reason) {
				t.Fatalf("got %v\nwant %v at line %d, reason containing %q", p, c.kind, c.line, c.reason)
			}
			if rep.Lines != c.line-1 {
				t.Errorf("%d good lines before a problem at line %d", rep.Lines, c.line)
			}
			if p.Tampered() != (c.kind != ProblemTorn) {
				t.Errorf("Tampered() = %v", p.Tampered())
			}
		})
	}
}

// TestFlipEveryByte changes every byte of a small journal, several ways,
// and checks that Verify catches each change: always with the published
// head; without it, everywhere but in the last line (which no later line
// vouches for).
func TestFlipEveryByte(t *testing.T) {
	path, entries := makeJournal(t, t.TempDir(), "flip", 4)
	orig := mustRead(t, path)
	head := entries[len(entries)-1].Hash
	lastStart := int(entries[len(entries)-1].Offset)
	lineOf := func(pos int) int {
		n := 0
		for _, e := range entries {
			if int(e.Offset) <= pos {
				n++
			}
		}
		return n
	}
	masks := []struct {
		name string
		flip func(byte) byte
	}{
		{"low bit", func(c byte) byte { return c ^ 0x01 }},
		{"case bit", func(c byte) byte { return c ^ 0x20 }},
		{"high bit", func(c byte) byte { return c ^ 0x80 }},
		{"all bits", func(c byte) byte { return ^c }},
		{"newline", func(c byte) byte {
			if c == '\n' {
				return ' '
			}
			return '\n'
		}},
	}
	for _, m := range masks {
		t.Run(m.name, func(t *testing.T) {
			b := make([]byte, len(orig))
			for pos := range orig {
				copy(b, orig)
				b[pos] = m.flip(b[pos])
				line := lineOf(pos)
				rep := verifyBytes(t, b, "")
				if pos < lastStart {
					p := rep.Problem
					if p == nil {
						t.Fatalf("byte %d (line %d) changed, not caught", pos, line)
					}
					if p.Line != line && p.Line != line+1 {
						t.Fatalf("byte %d of line %d changed, reported at %v", pos, line, p)
					}
				}
				if rep := verifyBytes(t, b, head); rep.Problem == nil {
					t.Fatalf("byte %d (line %d) changed, not caught with the head", pos, line)
				}
			}
		})
	}
}

func TestReadAt(t *testing.T) {
	path, entries := makeJournal(t, t.TempDir(), "readat", 5)
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, e := range entries {
		got, err := f.ReadAt(e.Offset)
		if err != nil {
			t.Fatal(err)
		}
		if !equalEntry(got, e) {
			t.Fatalf("ReadAt(%d) = %+v, want %+v", e.Offset, got, e)
		}
	}
	// A torn tail to read past.
	w, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	w.WriteString(`{"seq":7,"at":`)
	w.Close()
	size := int64(len(mustRead(t, path)))
	bad := []struct {
		name   string
		offset int64
		reason string
	}{
		{"mid-line", entries[2].Offset + 3, "not the start of a line"},
		{"negative", -1, "negative"},
		{"past the end", size + 10, "EOF"},
		{"torn tail", entries[5].Offset + int64(len(splitLines(mustRead(t, path))[5])), "no newline"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := f.ReadAt(c.offset); err == nil || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("err %v, want one saying %q", err, c.reason)
			}
		})
	}
	if e, err := ReadAt(path, entries[3].Offset); err != nil || !equalEntry(e, entries[3]) {
		t.Fatalf("ReadAt by path: %+v, %v", e, err)
	}
}

// collect runs one poll of a follower and returns what it yielded.
func collect(t *testing.T, fl *follower) ([]Entry, bool, error) {
	t.Helper()
	var got []Entry
	var gotErr error
	more := fl.poll(func(e Entry, err error) bool {
		if err != nil {
			gotErr = err
			return false
		}
		got = append(got, e)
		return true
	})
	return got, more, gotErr
}

// TestFollowerPolls drives Follow's poll step by step against a file
// written by hand: a partial line is waited for, a repaired one is
// followed, a forged one stops it.
func TestFollowerPolls(t *testing.T) {
	dir := t.TempDir()
	refPath, _ := makeJournal(t, dir, "ref", 5)
	refLines := splitLines(mustRead(t, refPath))
	path := filepath.Join(dir, "followed")
	if err := os.WriteFile(path, bytes.Join(refLines[:3], nil), 0o600); err != nil {
		t.Fatal(err)
	}
	appendBytes := func(b []byte) {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	fl := &follower{path: path}
	if err := fl.open(0); err != nil {
		t.Fatal(err)
	}
	defer fl.f.Close()
	steps := []struct {
		name  string
		act   func()
		kinds []string // what the poll yields
		seqs  []int64
		err   string // a final error
	}{
		{"the first lines", func() {}, []string{KindOpened, "note", "note"}, []int64{1, 2, 3}, ""},
		{"nothing new", func() {}, nil, nil, ""},
		{"half a line is waited for", func() { appendBytes(refLines[3][:40]) }, nil, nil, ""},
		{"still half", func() {}, nil, nil, ""},
		{"the line completed", func() { appendBytes(refLines[3][40:]) }, []string{"note"}, []int64{4}, ""},
		{"a writer died mid-line", func() { appendBytes(refLines[4][:25]) }, nil, nil, ""},
		{"the next writer repairs", func() {
			w, err := Open(path, testActor)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.Append(note("after", SyncNow)); err != nil {
				t.Fatal(err)
			}
		}, []string{KindRepaired, "note"}, []int64{5, 6}, ""},
		{"a forged line stops it", func() { appendBytes(refLines[5]) }, nil, nil, "seq 6 where 7"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			s.act()
			got, more, err := collect(t, fl)
			var kinds []string
			var seqs []int64
			for _, e := range got {
				kinds, seqs = append(kinds, e.Kind), append(seqs, e.Seq)
			}
			if strings.Join(kinds, ",") != strings.Join(s.kinds, ",") || len(seqs) != len(s.seqs) {
				t.Fatalf("yielded %v %v, want %v %v", kinds, seqs, s.kinds, s.seqs)
			}
			for i := range seqs {
				if seqs[i] != s.seqs[i] {
					t.Fatalf("seqs %v, want %v", seqs, s.seqs)
				}
			}
			if s.err == "" {
				if err != nil || !more {
					t.Fatalf("stopped: %v", err)
				}
				return
			}
			var p *Problem
			if !errors.As(err, &p) || !strings.Contains(p.Reason, s.err) || more {
				t.Fatalf("err %v, want a problem saying %q", err, s.err)
			}
		})
	}
}

func TestFollowFrom(t *testing.T) {
	path, entries := makeJournal(t, t.TempDir(), "from", 4)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var got []Entry
	for e, err := range Follow(ctx, path, entries[3].Offset) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
		if len(got) == 2 {
			cancel() // the sequence must end now
		}
	}
	if len(got) != 2 || !equalEntry(got[0], entries[3]) || !equalEntry(got[1], entries[4]) {
		t.Fatalf("followed %+v, want the last two entries", got)
	}
	for _, from := range []int64{entries[2].Offset + 5, -1} {
		for e, err := range Follow(t.Context(), path, from) {
			if err == nil {
				t.Fatalf("Follow from %d yielded %+v, want an error", from, e)
			}
		}
	}
	for e, err := range Follow(t.Context(), filepath.Join(t.TempDir(), "missing"), 0) {
		if err == nil {
			t.Fatalf("Follow of a missing file yielded %+v", e)
		}
	}
}

// TestFollowCutBack: a journal cut below what Follow read is an error.
func TestFollowCutBack(t *testing.T) {
	path, entries := makeJournal(t, t.TempDir(), "cut", 3)
	fl := &follower{path: path}
	if err := fl.open(0); err != nil {
		t.Fatal(err)
	}
	defer fl.f.Close()
	if got, _, err := collect(t, fl); err != nil || len(got) != 4 {
		t.Fatalf("%d entries, %v", len(got), err)
	}
	if err := os.Truncate(path, entries[2].Offset); err != nil {
		t.Fatal(err)
	}
	if _, more, err := collect(t, fl); err == nil || more || !strings.Contains(err.Error(), "cut back") {
		t.Fatalf("err %v, want the cut noticed", err)
	}
}
