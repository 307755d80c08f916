//go:build !amd64 || purego

package swar

// Run returns the offset of the first byte at or after i that is not
// plain ASCII string content ('"', '\\', a control character, non-ASCII),
// or len(b).
func Run(b []byte, i int) int { return runWords(b, i) }
