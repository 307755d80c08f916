//go:build darwin || linux || openbsd

package journal

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// haveWritev says that writeVecAt writes pieces with pwritev(2), so Append
// need not copy a big draft's data into its buffer.
const haveWritev = true

// maxIovecs is how many pieces one pwritev takes (IOV_MAX is 1024 on every
// system this file builds for).
const maxIovecs = 1024

// writeVecAt writes the pieces back to back at offset off, as WriteAt would
// write their concatenation: with one pwritev when there are at most
// maxIovecs of them and the system writes it whole, and going on after a
// short write until all is written or an error stops it. It reslices the
// elements of pieces as it goes, never the bytes they hold.
func writeVecAt(f *os.File, pieces [][]byte, off int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	err = rc.Write(func(fd uintptr) bool {
		for {
			for len(pieces) > 0 && len(pieces[0]) == 0 {
				pieces = pieces[1:]
			}
			if len(pieces) == 0 {
				return true
			}
			n, err := unix.Pwritev(int(fd), pieces[:min(len(pieces), maxIovecs)], off)
			switch {
			case errors.Is(err, unix.EINTR):
				continue
			case err != nil:
				werr = err
				return true
			case n == 0:
				werr = io.ErrShortWrite
				return true
			}
			off += int64(n)
			for n > 0 {
				k := min(n, len(pieces[0]))
				pieces[0] = pieces[0][k:]
				n -= k
				if len(pieces[0]) == 0 {
					pieces = pieces[1:]
				}
			}
		}
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return &os.PathError{Op: "pwritev", Path: f.Name(), Err: err}
	}
	return nil
}
