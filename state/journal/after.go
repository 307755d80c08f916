package journal

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
)

// Mark is a line a reader already holds, to read the journal on from:
// its seq, its hash (hex) and Next, the offset just past its newline.
type Mark struct {
	Seq  int64
	Hash string
	Next int64
}

// ReadAfter reads a journal as Read does, but only the lines after m: the
// line ending just before m.Next is read back and must still be line m.Seq
// with hash m.Hash (else the error says what differs and nothing is read);
// the lines after it are verified as Read verifies them, chained onto it.
// The lines up to m are not verified again: m vouches for them only as far
// as whoever recorded m had verified them. The report counts every line up
// to the last good one (Lines is its seq) and carries id as IncidentID.
// A line after m whose time goes back is checked against line m's time,
// not against the latest time before it, as Follow does.
func ReadAfter(path string, m Mark, id string, fn func(Entry) error) (Report, error) {
	var want [32]byte
	if len(m.Hash) != 64 || !decodeHex(want[:], []byte(m.Hash)) || m.Seq < 1 || m.Next < 1 {
		return Report{}, fmt.Errorf("journal: %s: mark %d %q at %d is not a line", path, m.Seq, m.Hash, m.Next)
	}
	f, err := os.Open(path)
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	c, err := resumeAt(f, m, want)
	if err != nil {
		return Report{}, fmt.Errorf("journal: %s: %w", path, err)
	}
	c.id = id
	rep, err := verifyChain(io.NewSectionReader(f, m.Next, 1<<62), c, VerifyOptions{}, fn)
	rep.IncidentID = id
	return rep, err
}

// resumeAt checks that the line ending just before m.Next is line m.Seq
// with hash want, and returns a chain that goes on after it.
func resumeAt(f io.ReaderAt, m Mark, want [32]byte) (*chain, error) {
	var b [1]byte
	if err := readAt(f, b[:], m.Next-1); err != nil {
		return nil, fmt.Errorf("line %d should end at offset %d: %w (the journal was cut back)", m.Seq, m.Next, err)
	}
	if b[0] != '\n' {
		return nil, fmt.Errorf("offset %d is not the end of a line: line %d was rewritten", m.Next, m.Seq)
	}
	line, _, err := lineEndingAt(f, m.Next-1)
	if err != nil {
		return nil, err
	}
	var rl rawLine
	if err := parseLine(line, &rl, nil); err != nil {
		return nil, fmt.Errorf("the line ending at offset %d: %w", m.Next, err)
	}
	if h := sha256.Sum256(line); h != want || rl.seq != m.Seq {
		return nil, fmt.Errorf("the line ending at offset %d is line %d with hash %s, not line %d with hash %s: the journal was rewritten", m.Next, rl.seq, hexString(h), m.Seq, m.Hash)
	}
	c := &chain{}
	c.startAfter(rl.seq, want, m.Next, rl.at)
	return c, nil
}

// OpenPrivate opens a file beside a journal for reading, as writers open
// the journal: never through a symlink, and only when it is a regular file
// the user owns that group and other may not use.
func OpenPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return nil, err
	}
	return checkOpened(f, path)
}

// CheckMark reports whether the journal at path still holds m: the line
// ending just before m.Next is line m.Seq with hash m.Hash.
func CheckMark(path string, m Mark) error {
	var want [32]byte
	if len(m.Hash) != 64 || !decodeHex(want[:], []byte(m.Hash)) || m.Seq < 1 || m.Next < 1 {
		return fmt.Errorf("journal: %s: mark %d %q at %d is not a line", path, m.Seq, m.Hash, m.Next)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := resumeAt(f, m, want); err != nil {
		return fmt.Errorf("journal: %s: %w", path, err)
	}
	return nil
}
