//go:build unix

package journal

import (
	"errors"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// flock takes (how is unix.LOCK_EX or unix.LOCK_SH) or drops (unix.LOCK_UN)
// the whole-file lock on f. The lock belongs to f's open file description,
// so two Writers in one process exclude each other like two processes do.
func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var lockErr error
	err = rc.Control(func(fd uintptr) {
		for {
			lockErr = unix.Flock(int(fd), how)
			if !errors.Is(lockErr, unix.EINTR) {
				return
			}
		}
	})
	if err != nil {
		return err
	}
	if lockErr != nil {
		return &os.PathError{Op: "flock", Path: f.Name(), Err: lockErr}
	}
	return nil
}

const (
	lockEx = unix.LOCK_EX
	lockSh = unix.LOCK_SH
	lockUn = unix.LOCK_UN
)

// oNoFollow makes open fail on a symlink in the last path element.
const oNoFollow = unix.O_NOFOLLOW

// fileOwner returns the uid that owns the file fi describes.
func fileOwner(fi os.FileInfo) (int, bool) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), true
	}
	return 0, false
}
