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
