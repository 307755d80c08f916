//go:build !(darwin || linux || openbsd)

package journal

import (
	"bytes"
	"os"
)

// haveWritev says that there is no pwritev(2) here: Append copies every
// draft's data into its buffer and writes that with WriteAt.
const haveWritev = false

// writeVecAt writes the pieces back to back at offset off. It is not called
// when haveWritev is false; it concatenates them for WriteAt.
func writeVecAt(f *os.File, pieces [][]byte, off int64) error {
	_, err := f.WriteAt(bytes.Join(pieces, nil), off)
	return err
}
