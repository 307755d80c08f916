//go:build !unix

package journal

import (
	"errors"
	"os"
)

// flock is not available here: the journal needs flock(2) to share a file
// between processes safely, so every lock attempt fails.
func flock(f *os.File, how int) error {
	return errors.New("journal: file locking is not supported on this system")
}

const (
	lockEx = 2
	lockSh = 1
	lockUn = 8
)

// oNoFollow: there is no O_NOFOLLOW here (the journal cannot be shared
// without flock anyway).
const oNoFollow = 0

// fileOwner is unknown here.
func fileOwner(fi os.FileInfo) (int, bool) { return 0, false }
