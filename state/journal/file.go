package journal

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
)

// File reads single entries of a journal by offset: the store keeps each
// CloudTrail record's line offset instead of its JSON, and the detail pane
// reads it back. It is safe for concurrent use.
type File struct {
	f    *os.File
	path string
}

// OpenFile opens a journal for random reads. It never writes to it.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &File{f: f, path: path}, nil
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// ReadAt reads the entry whose line starts at offset (an Entry's Offset).
// It checks the line's shape and computes its Hash, but not its place in
// the chain: Verify or Read does that for the whole file.
func (f *File) ReadAt(offset int64) (Entry, error) {
	fail := func(format string, args ...any) (Entry, error) {
		return Entry{}, fmt.Errorf("journal: %s offset %d: %s", f.path, offset, fmt.Sprintf(format, args...))
	}
	if offset < 0 {
		return fail("negative offset")
	}
	if offset > 0 {
		var b [1]byte
		if err := readAt(f.f, b[:], offset-1); err != nil {
			return fail("%v", err)
		}
		if b[0] != '\n' {
			return fail("not the start of a line")
		}
	}
	buf := make([]byte, 4096)
	have := 0
	for {
		n, err := f.f.ReadAt(buf[have:], offset+int64(have))
		if k := bytes.IndexByte(buf[have:have+n], '\n'); k >= 0 {
			line := buf[:have+k]
			var rl rawLine
			if err := parseLine(line, &rl, nil); err != nil {
				return fail("not a journal entry: %v", err)
			}
			var by Actor
			if err := decodeActor(rl.by, &by); err != nil {
				return fail("not a journal entry: %v", err)
			}
			e := decodeEntry(&rl, by, offset, sha256.Sum256(line))
			e.DataAt = dataAt(line, rl.data)
			return e, nil
		}
		have += n
		switch {
		case have > maxLine:
			return fail("no line end within %d bytes", maxLine)
		case errors.Is(err, io.EOF):
			return fail("the line has no newline (a torn tail, or offset is past the end)")
		case err != nil:
			return fail("%v", err)
		}
		if have == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
	}
}

// ReadAt opens the journal at path, reads the entry whose line starts at
// offset, and closes it. Use a File to read many.
func ReadAt(path string, offset int64) (Entry, error) {
	f, err := OpenFile(path)
	if err != nil {
		return Entry{}, err
	}
	defer f.Close()
	return f.ReadAt(offset)
}
