package journal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenRefusesSymlink: a writer never follows a symlink planted where
// the journal should be, neither to open nor to create.
func TestOpenRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	real, _ := makeJournal(t, dir, "real", 1)
	before := mustRead(t, real)
	link := filepath.Join(dir, "link.jsonl")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if w, err := Open(link, testActor); err == nil {
		w.Append(note("through the link", SyncNow))
		w.Close()
		t.Fatal("Open followed a symlink")
	} else if !strings.Contains(err.Error(), "symlink") {
		t.Fatalf("error %q does not say it is a symlink", err)
	}
	// Create through a dangling symlink would make a file elsewhere.
	target := filepath.Join(dir, "elsewhere")
	dangling := filepath.Join(dir, "dangling.jsonl")
	if err := os.Symlink(target, dangling); err != nil {
		t.Fatal(err)
	}
	if w, err := Create(dangling, "x", testActor, nil); err == nil {
		w.Close()
		t.Fatal("Create followed a symlink")
	}
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("Create made the symlink's target")
	}
	if !bytes.Equal(mustRead(t, real), before) {
		t.Fatal("the journal behind the link changed")
	}
}

// TestOpenRefusesLoosePermissions: a journal that group or other may read
// or write, or that another user owns, is refused with the fix in words.
func TestOpenRefusesLoosePermissions(t *testing.T) {
	dir := t.TempDir()
	path, _ := makeJournal(t, dir, "loose", 1)
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660, 0o606} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		w, err := Open(path, testActor)
		if err == nil {
			w.Close()
			t.Fatalf("mode %o: Open accepted it", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600") {
			t.Fatalf("mode %o: error %q does not say how to fix it", mode, err)
		}
	}
	// Create takes over an existing empty file only when it is private.
	empty := filepath.Join(dir, "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(empty, 0o666); err != nil {
		t.Fatal(err)
	}
	if w, err := Create(empty, "x", testActor, nil); err == nil {
		w.Close()
		t.Fatal("Create took over a world-writable file")
	}
	if err := checkOwner(os.Getuid()+1, 0o600, "j"); err == nil || !strings.Contains(err.Error(), "chown") {
		t.Fatalf("a file owned by another user: %v", err)
	}
}

// TestStrayLineIsQuarantined: a garbage line appended by anyone does not
// block the writers: the next one cuts it into a quarantine file, records a
// journal.repaired entry saying what it cut and why, and goes on.
func TestStrayLineIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	path, before := makeJournal(t, dir, "stray", 2)
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	good := mustRead(t, path)
	stray := "hello from mallory \x1b[31m\xff\n"
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(stray)
	f.Close()
	// A second writer opening now finds no head at the end; it must cope.
	w2, err := Open(path, testActor)
	if err != nil {
		t.Fatalf("Open after a stray line: %v", err)
	}
	w2.Close()
	es, err := w.Append(note("after the stray line", SyncNow))
	if err != nil {
		t.Fatalf("Append after a stray line: %v", err)
	}
	if len(es) != 2 || es[0].Kind != KindRepaired || es[1].Kind != "note" || es[0].Seq != before[len(before)-1].Seq+1 {
		t.Fatalf("appended %+v, want a %s entry and the note", es, KindRepaired)
	}
	var r Repair
	if err := json.Unmarshal(es[0].Data, &r); err != nil {
		t.Fatal(err)
	}
	if r.Action != RepairQuarantined || r.Offset != int64(len(good)) || r.Bytes != int64(len(stray)) || r.Lines != 1 || r.Reason == "" {
		t.Fatalf("repair %+v", r)
	}
	if cut, err := hex.DecodeString(r.CutHex); err != nil || string(cut) != stray {
		t.Fatalf("the fact keeps %q (%v), want the stray bytes", cut, err)
	}
	if q := mustRead(t, filepath.Join(dir, r.Quarantine)); string(q) != stray {
		t.Fatalf("quarantine file holds %q", q)
	}
	if fi, err := os.Stat(filepath.Join(dir, r.Quarantine)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("quarantine file: %v %v", fi, err)
	}
	got := readAll(t, path)
	if len(got) != len(before)+2 {
		t.Fatalf("%d entries, want %d", len(got), len(before)+2)
	}
}

// TestValidLineWithoutNewlineIsCompleted: a complete, chained last line
// that lost only its newline is a fact, not a torn tail: the next writer
// adds the newline instead of cutting it.
func TestValidLineWithoutNewlineIsCompleted(t *testing.T) {
	path, before := makeJournal(t, t.TempDir(), "nonl", 3)
	b := mustRead(t, path)
	if err := os.WriteFile(path, b[:len(b)-1], 0o600); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	es, err := w.Append(note("next", SyncNow))
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, path)
	last := before[len(before)-1]
	if len(got) < len(before)+1 || got[len(before)-1].Hash != last.Hash {
		t.Fatalf("the last fact (hash %s) was lost: %d entries now", last.Hash, len(got))
	}
	if es[0].Prev != last.Hash {
		t.Fatalf("appended onto %s, want %s", es[0].Prev, last.Hash)
	}
	if es[0].Kind == KindRepaired {
		var r Repair
		json.Unmarshal(es[0].Data, &r)
		if r.Action != RepairCompleted {
			t.Fatalf("repair %+v", r)
		}
	}
}

// TestFollowSeesReplacement: a journal replaced by rename (or removed)
// while followed stops Follow with an error, not a silent stale view.
func TestFollowSeesReplacement(t *testing.T) {
	dir := t.TempDir()
	path, _ := makeJournal(t, dir, "followed", 2)
	other, _ := makeJournal(t, dir, "other", 5)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	n := 0
	var ferr error
	for e, err := range Follow(ctx, path, 0) {
		if err != nil {
			ferr = err
			break
		}
		n++
		if e.Seq == 3 {
			if err := os.Rename(other, path); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ctx.Err() != nil {
		t.Fatal("Follow went on silently after the journal was replaced")
	}
	if ferr == nil || !strings.Contains(ferr.Error(), "replaced") {
		t.Fatalf("error %v, want one saying the journal was replaced", ferr)
	}
}

// TestBackdatedLine: a line whose at goes back more than AtTolerance
// before an earlier line is a problem Verify reports, even when it chains.
func TestBackdatedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "backdated")
	w, err := Create(path, "bd", testActor, nil)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 11, 23, 4, 20, 0, 0, time.UTC)
	w.now = func() time.Time { return base }
	w.Append(note("one", SyncNow))
	// Skew within the tolerance is accepted.
	w.now = func() time.Time { return base.Add(-AtTolerance + time.Second) }
	w.Append(note("skewed", SyncNow))
	w.Close()
	if rep, _ := Verify(path, VerifyOptions{}); rep.Problem != nil {
		t.Fatalf("skew within tolerance: %v", rep.Problem)
	}
	// A forger who can chain (the hashes are public) writes a back-dated
	// fact under another name.
	b := mustRead(t, path)
	lines := splitLines(b)
	last := bytes.TrimSuffix(lines[len(lines)-1], []byte("\n"))
	prev := sha256hex(last)
	forged := fmt.Sprintf(`{"seq":%d,"at":"%s","by":{"user":"root","host":"jump-1"},"kind":"note","data":{"text":"I was here first"},"prev":"%s"}`+"\n",
		len(lines)+1, base.Add(-2*time.Hour).Format(time.RFC3339Nano), prev)
	if err := os.WriteFile(path, append(b, forged...), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(path, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.Problem; p == nil || p.Kind != ProblemTime || p.Line != len(lines)+1 || !p.Tampered() {
		t.Fatalf("problem %v, want a time problem at line %d", p, len(lines)+1)
	}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
