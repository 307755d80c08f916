package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// chunkSize is how much a lineReader reads at a time once warmed up. Its
// buffer starts small (reading a short file costs little) and doubles on
// each refill up to chunkSize, and beyond only to hold a longer line.
const (
	chunkSize    = 256 << 10
	firstBufSize = 4 << 10
)

// lineStatus says what lineReader.next found.
type lineStatus int

const (
	lineOK      lineStatus = iota // a complete line
	lineEOF                       // nothing more
	lineTorn                      // bytes without a newline at the end of input
	lineTooLong                   // more than maxLine bytes without a newline
)

// lineReader splits input into lines without copying them: a returned line
// is valid until the next call. It keeps one buffer (see chunkSize).
type lineReader struct {
	r     io.Reader
	buf   []byte
	start int   // first unread byte in buf
	end   int   // end of data in buf
	off   int64 // input offset of buf[start]
	err   error // first error from r (io.EOF at the end)
}

// reset points lr at a new input that begins at offset off, keeping the buffer.
func (lr *lineReader) reset(r io.Reader, off int64) {
	lr.r, lr.start, lr.end, lr.off, lr.err = r, 0, 0, off, nil
	if lr.buf == nil {
		lr.buf = make([]byte, firstBufSize)
	}
}

// next returns the next line (without its newline) and its offset. For
// lineTorn, line holds the trailing bytes. err is a read error only.
func (lr *lineReader) next() (line []byte, off int64, st lineStatus, err error) {
	scan := lr.start
	for {
		if k := bytes.IndexByte(lr.buf[scan:lr.end], '\n'); k >= 0 {
			stop := scan + k
			line, off = lr.buf[lr.start:stop], lr.off
			if len(line) > maxLine {
				return nil, off, lineTooLong, nil
			}
			lr.off += int64(stop + 1 - lr.start)
			lr.start = stop + 1
			return line, off, lineOK, nil
		}
		scan = lr.end
		if lr.end-lr.start > maxLine {
			return nil, lr.off, lineTooLong, nil
		}
		if lr.err != nil {
			if !errors.Is(lr.err, io.EOF) {
				return nil, lr.off, lineEOF, lr.err
			}
			if lr.end == lr.start {
				return nil, lr.off, lineEOF, nil
			}
			line, off = lr.buf[lr.start:lr.end], lr.off
			lr.off += int64(lr.end - lr.start)
			lr.start = lr.end
			return line, off, lineTorn, nil
		}
		if lr.start > 0 {
			n := copy(lr.buf, lr.buf[lr.start:lr.end])
			scan -= lr.start
			lr.start, lr.end = 0, n
		}
		if lr.end == len(lr.buf) || len(lr.buf) < chunkSize {
			grown := make([]byte, 2*len(lr.buf))
			copy(grown, lr.buf[:lr.end])
			lr.buf = grown
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		lr.end += n
		if err != nil {
			lr.err = err
		}
	}
}

// lastNewline returns the offset of the last '\n' before end, or -1 when
// there is none. It gives up with an error when that would make the line
// ending at end longer than limit bytes.
func lastNewline(r io.ReaderAt, end, limit int64) (int64, error) {
	tooFar := fmt.Errorf("no line start within %d bytes before offset %d", limit, end)
	var buf [64 << 10]byte
	for pos := end; pos > 0; {
		if end-pos > limit {
			return 0, tooFar
		}
		n := min(int64(len(buf)), pos)
		if err := readAt(r, buf[:n], pos-n); err != nil {
			return 0, err
		}
		if k := bytes.LastIndexByte(buf[:n], '\n'); k >= 0 {
			nl := pos - n + int64(k)
			if end-nl-1 > limit {
				return 0, tooFar
			}
			return nl, nil
		}
		pos -= n
	}
	if end > limit {
		return 0, tooFar
	}
	return -1, nil
}

// readAt fills p from offset off; an io.EOF with p filled is no error.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// lineEndingAt reads the line whose newline is at offset nl and returns it
// (without newline) with its offset.
func lineEndingAt(r io.ReaderAt, nl int64) ([]byte, int64, error) {
	prev, err := lastNewline(r, nl, int64(maxLine))
	if err != nil {
		return nil, 0, err
	}
	start := prev + 1
	line := make([]byte, nl-start)
	if err := readAt(r, line, start); err != nil {
		return nil, 0, err
	}
	return line, start, nil
}
