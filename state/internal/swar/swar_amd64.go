//go:build !purego

package swar

// Run returns the offset of the first byte at or after i that is not
// plain ASCII string content ('"', '\\', a control character, non-ASCII),
// or len(b).
func Run(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	_ = b[i] // i < 0 panics, as in the portable scan
	return run(b, i)
}

// run is Run for 0 <= i < len(b), in assembly.
//
//go:noescape
func run(b []byte, i int) int
