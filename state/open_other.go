//go:build !unix

package state

import "os"

// openNoFollow opens path for reading (no O_NOFOLLOW here).
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }
