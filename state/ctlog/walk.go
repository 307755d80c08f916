package ctlog

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Stats sums up a ParsePaths run.
type Stats struct {
	Files   int   // files opened (whether or not they held good records)
	Records int   // records emitted
	Skipped int   // problems reported
	Bytes   int64 // bytes read from disk
	Decoded int64 // bytes parsed, after decompression
}

// ParseFile parses one file (see ParseBytes). A file that cannot be read,
// or is larger than MaxFileBytes, is one Problem with Index -1.
func ParseFile(path string, opt Options, emit func(Record) error) ([]Problem, error) {
	d := docParsers.Get().(*docParser)
	defer docParsers.Put(d)
	d.rp.opt = opt
	var st Stats
	probs, err := d.parseFile(path, emit, &st)
	d.trim(maxRetainBytes)
	return probs, err
}

// parseFile reads a file into the reused buffer and parses it.
func (d *docParser) parseFile(path string, emit func(Record) error, st *Stats) ([]Problem, error) {
	st.Files++
	fail := func(reason string) ([]Problem, error) {
		st.Skipped++
		return []Problem{{File: path, Index: -1, Reason: reason}}, nil
	}
	f, err := openFile(path)
	if err != nil {
		return fail(errText(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fail(errText(err))
	}
	if !fi.Mode().IsRegular() {
		return fail(notRegular(fi.Mode()))
	}
	limit := d.rp.opt.maxFile()
	if fi.Size() > limit {
		return fail(fmt.Sprintf("file is %d bytes, over the limit of %d (MaxFileBytes)", fi.Size(), limit))
	}
	// Read at most limit+1 bytes: the file may grow while we read.
	want := fi.Size() + 512
	if int64(cap(d.file)) < want {
		d.file = nil
		d.file = d.newBuf(nil, want, &d.fileRes)
	}
	buf := d.file[:0]
	r := io.LimitReader(f, limit+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			d.file = buf[:0]
			return fail(errText(err))
		}
	}
	d.file = buf[:0]
	if int64(len(buf)) > limit {
		return fail(fmt.Sprintf("file is over the limit of %d bytes (MaxFileBytes)", limit))
	}
	st.Bytes += int64(len(buf))
	probs, n, err := d.parseBytes(path, buf, emit)
	st.Decoded += n
	st.Records += d.records
	st.Skipped += countRecords(probs)
	return probs, err
}

// notRegular says what a path that is neither a regular file nor a
// directory is, and that it was skipped.
func notRegular(m fs.FileMode) string {
	kind := "not a regular file"
	switch t := m.Type(); {
	case t&fs.ModeNamedPipe != 0:
		kind = "a named pipe (FIFO)"
	case t&fs.ModeSocket != 0:
		kind = "a socket"
	case t&fs.ModeCharDevice != 0:
		kind = "a character device"
	case t&fs.ModeDevice != 0:
		kind = "a block device"
	case t&fs.ModeIrregular != 0:
		kind = "an irregular file"
	}
	return "skipped: " + kind + ", not a regular file: not read"
}

// errText is an OS error's text; it names the path already.
func errText(err error) string { return err.Error() }

// ParsePaths parses files and directories in the order given. Directories
// are walked depth first in name order (deterministic), skipping hidden
// entries (names starting with '.'), entries that are neither regular files
// nor directories, and CloudTrail digest files (CloudTrail-Digest folders,
// *_CloudTrail-Digest_* files: they list log files, they hold no records).
// Symbolic links are followed, each real directory at most once, so a
// link loop ends. A path given explicitly is always parsed.
//
// Problems carry the file they belong to; one bad file never stops the
// others. The error is non-nil only when emit returned one.
func ParsePaths(paths []string, opt Options, emit func(Record) error) (Stats, []Problem, error) {
	d := docParsers.Get().(*docParser)
	defer docParsers.Put(d)
	d.rp.opt = opt
	w := walker{d: d, emit: emit, seen: map[string]bool{}}
	w.probs.max = opt.maxProblems()
	err := w.walk(paths)
	return w.st, w.probs.list(), err
}

// walk visits paths in order (see ParsePaths).
func (w *walker) walk(paths []string) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			w.fileProblem(p, errText(err))
			continue
		}
		if fi.IsDir() {
			if err := w.dir(p); err != nil {
				return err
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			// Opening a FIFO blocks until a writer comes; a device may
			// never end. Neither is a log file: say so, never open it.
			w.fileProblem(p, notRegular(fi.Mode()))
			continue
		}
		if err := w.file(p); err != nil {
			return err
		}
	}
	return nil
}

// walker is one ParsePaths run.
type walker struct {
	d     *docParser
	emit  func(Record) error
	seen  map[string]bool // real paths of the directories walked
	st    Stats
	probs problemList
	// visit, when set, is handed each file to parse instead of parsing it
	// here (ParsePathsParallel), and problemAt each walk problem.
	visit     func(path string) error
	problemAt func(p Problem)
}

func (w *walker) fileProblem(path, reason string) {
	p := Problem{File: path, Index: -1, Reason: reason}
	if w.problemAt != nil {
		w.problemAt(p)
		return
	}
	w.st.Skipped++
	w.probs.add([]Problem{p})
}

func (w *walker) file(path string) error {
	if w.visit != nil {
		return w.visit(path)
	}
	if w.d.rp.opt.canceled() {
		return ErrCanceled
	}
	probs, err := w.d.parseFile(path, w.emit, &w.st)
	w.d.trim(maxRetainBytes) // a bomb's buffer is not kept for the next file
	w.probs.add(probs)
	return err
}

// isDigest reports a CloudTrail digest file or folder name.
func isDigest(name string) bool {
	return name == "CloudTrail-Digest" || strings.Contains(name, "_CloudTrail-Digest_")
}

// dir walks one directory.
func (w *walker) dir(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		w.fileProblem(path, errText(err))
		return nil
	}
	if real, err = filepath.Abs(real); err != nil {
		w.fileProblem(path, errText(err))
		return nil
	}
	if w.seen[real] {
		return nil
	}
	w.seen[real] = true
	entries, err := os.ReadDir(path)
	if err != nil {
		w.fileProblem(path, errText(err))
		// ReadDir returns what it read before the error: go on with it.
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || isDigest(name) {
			continue
		}
		p := filepath.Join(path, name)
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			fi, err := os.Stat(p)
			if err != nil {
				w.fileProblem(p, errText(err))
				continue
			}
			typ = fi.Mode().Type()
		}
		switch {
		case typ.IsDir():
			if err := w.dir(p); err != nil {
				return err
			}
		case typ.IsRegular():
			if err := w.file(p); err != nil {
				return err
			}
		default:
			w.fileProblem(p, notRegular(typ))
		}
	}
	return nil
}
