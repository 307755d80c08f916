package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// AtTolerance is how far a line's "at" may go back before the latest "at"
// of the lines above it. Writers on several hosts append to one journal and
// their clocks disagree a little; five minutes covers an unsynchronised
// jump host without letting a forged fact claim to be from much earlier.
// Writers never go back at all (an Append's at is at least the head's), so
// only old journals and foreign writers need the slack.
const AtTolerance = 5 * time.Minute

// Repair actions (Repair.Action).
const (
	// RepairTorn: a last line without a newline that is not a journal
	// line chained onto the head (a writer died mid-write) was cut. Older
	// journals leave Action empty for this.
	RepairTorn = "torn"
	// RepairCompleted: a last line that was complete and chained but had
	// lost its newline got one; nothing was cut.
	RepairCompleted = "completed"
	// RepairQuarantined: complete lines that are not part of the chain (a
	// stray line appended by another program or person, a forged line)
	// were cut from the journal and kept, byte for byte, in a quarantine
	// file beside it.
	RepairQuarantined = "quarantined"
)

// Repair is the data of a KindRepaired entry: what a writer found at the end
// of the journal and did before appending.
type Repair struct {
	Offset int64  `json:"offset"` // where the bytes in question begin
	Bytes  int64  `json:"bytes"`  // how many (cut, or completed)
	Action string `json:"action,omitempty"`
	// TornSHA256 is the hash of a cut torn tail (RepairTorn).
	TornSHA256 string `json:"torn_sha256,omitempty"`
	// CutSHA256 is the hash of quarantined bytes (RepairQuarantined).
	CutSHA256 string `json:"cut_sha256,omitempty"`
	// Reason says why the bytes were not part of the chain: the problem
	// the first of them had.
	Reason string `json:"reason,omitempty"`
	// Lines is how many lines were cut (a last one without a newline
	// counts).
	Lines int `json:"lines,omitempty"`
	// Quarantine is the name, in the journal's folder, of the file that
	// holds the cut bytes exactly, when they were kept.
	Quarantine string `json:"quarantine,omitempty"`
	// CutHex is the cut bytes in hex, when there are at most
	// MaxInlineCut of them: the evidence travels with the journal.
	CutHex string `json:"cut_hex,omitempty"`
}

// MaxInlineCut is the most cut bytes a Repair carries inline (CutHex).
const MaxInlineCut = 4 << 10

// checkOwner refuses a journal file another user owns (uid) or that group
// or other may read or write (mode): a file someone else pre-created in a
// shared folder would let them read the incident, or rewrite it. uid < 0
// means unknown.
func checkOwner(uid int, mode fs.FileMode, path string) error {
	if !mode.IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s)", path, mode.Type())
	}
	if me := os.Getuid(); uid >= 0 && me >= 0 && uid != me {
		return fmt.Errorf("%s is owned by uid %d, not by you (uid %d): another user created it and may read or rewrite it; "+
			"do not use it: start a new journal elsewhere, or if it is really yours, take it over with "+
			"`sudo chown %d %s && chmod 600 %s`", path, uid, me, me, path, path)
	}
	if p := mode.Perm(); p&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o: group or other may read or write it (an incident journal holds what the attacker did "+
			"and what you did about it); fix with `chmod 600 %s`", path, p, path)
	}
	return nil
}

// openPrivate opens a journal file for writing without following a
// symlink, and checks that it is a regular file the user owns and no one
// else may use.
func openPrivate(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|oNoFollow, 0o600)
	if err != nil {
		if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, fmt.Errorf("%s is a symlink: warroom never follows one to a journal (one planted in a shared folder would "+
				"send the incident elsewhere); give the real path: %w", path, err)
		}
		return nil, err
	}
	return checkOpened(f, path)
}

// checkOpened checks that f, just opened from path, is a regular file the
// user owns and no one else may use, and closes it when it is not.
func checkOpened(f *os.File, path string) (*os.File, error) {
	fi, err := f.Stat()
	if err == nil {
		uid, ok := fileOwner(fi)
		if !ok {
			uid = -1
		}
		err = checkOwner(uid, fi.Mode(), path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// tailKind says what catchUp found at the end of the file.
type tailKind int

const (
	tailTorn        tailKind = iota + 1 // bytes without a newline, not a chained line
	tailCompleted                       // a chained line without its newline
	tailQuarantined                     // complete lines (or a too-long one) that do not chain
)

// tail is what catchUp found after the last good line.
type tail struct {
	kind   tailKind
	off    int64 // where the bytes begin
	end    int64 // the file's size when found
	bytes  int   // tailTorn, tailCompleted: the line's length
	sum    [32]byte
	reason string
}

// LooksLikeJournal reports whether r begins like a journal: a first line
// that is an incident.opened entry (the chain check of the rest is
// Verify's). Outputs are never written over such a file.
func LooksLikeJournal(r io.ReaderAt) bool {
	var lr lineReader
	lr.reset(io.NewSectionReader(r, 0, 1<<30), 0)
	line, _, st, err := lr.next()
	if err != nil {
		return false
	}
	switch st {
	case lineOK, lineTorn:
	case lineTooLong:
		return true // no output begins with 64 MiB on one line; be safe
	default:
		return false
	}
	var rl rawLine
	if parseLine(line, &rl, nil) == nil {
		return tokenIs(rl.kind, KindOpened)
	}
	// A torn line 1, or one cut short: judge by the envelope's start.
	return bytes.HasPrefix(line, []byte(`{"seq":1,"at":"`))
}

// quarantine copies the bytes from t.off to the end of the file into a new
// file beside the journal (created 0600, never over an existing file or a
// symlink), fsyncs it, and returns the Repair that describes the cut.
func (w *Writer) quarantine(t *tail) (Repair, error) {
	r := Repair{Offset: t.off, Bytes: t.end - t.off, Reason: t.reason}
	switch t.kind {
	case tailTorn:
		r.Action = RepairTorn
		r.TornSHA256 = hex.EncodeToString(t.sum[:])
		r.Lines = 1
	case tailQuarantined:
		r.Action = RepairQuarantined
	}
	dir, base := filepath.Split(w.path)
	var q *os.File
	var name string
	for i := 0; ; i++ {
		name = base + ".quarantine-" + strconv.FormatInt(t.off, 10)
		if i > 0 {
			name += "-" + strconv.Itoa(i)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, 0o600)
		if err == nil {
			q = f
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 100 {
			return r, fmt.Errorf("journal: keep the bytes cut from %s: %w", w.path, err)
		}
	}
	h := sha256.New()
	lc := &lineCounter{h: h}
	var inline bytes.Buffer
	dst := io.MultiWriter(q, lc)
	src := io.NewSectionReader(w.f, t.off, t.end-t.off)
	if r.Bytes <= MaxInlineCut {
		dst = io.MultiWriter(dst, &inline)
	}
	_, err := io.Copy(dst, src)
	if err == nil {
		err = q.Sync()
	}
	if cerr := q.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(filepath.Join(dir, name))
		return r, fmt.Errorf("journal: keep the bytes cut from %s in %s: %w", w.path, name, err)
	}
	syncDir(dir)
	r.Quarantine = name
	if r.Bytes <= MaxInlineCut {
		r.CutHex = hex.EncodeToString(inline.Bytes())
	}
	if t.kind == tailQuarantined {
		r.CutSHA256 = hex.EncodeToString(h.Sum(nil))
		r.Lines = lc.lines
		if lc.partial {
			r.Lines++
		}
	}
	return r, nil
}

// lineCounter hashes and counts lines.
type lineCounter struct {
	h       hash.Hash
	lines   int
	partial bool
}

func (lc *lineCounter) Write(p []byte) (int, error) {
	lc.h.Write(p)
	if len(p) > 0 {
		lc.lines += bytes.Count(p, []byte{'\n'})
		lc.partial = p[len(p)-1] != '\n'
	}
	return len(p), nil
}
