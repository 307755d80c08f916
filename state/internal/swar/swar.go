// Package swar finds, eight bytes at a time (sixteen with SSE2 on amd64),
// where a run of plain JSON string content ends. The CloudTrail scanner (ctlog) and the journal's
// check of compact data (journal) both scan strings with it.
package swar

import (
	"encoding/binary"
	"math/bits"
)

// SWAR constants: a byte repeated in every byte of a word.
const (
	lsb    = 0x0101010101010101
	msb    = 0x8080808080808080
	quote  = lsb * '"'
	bslash = lsb * '\\'
)

// Special returns a word whose bytes have their top bit set where w (read
// little-endian) holds a byte that ends a run of plain ASCII string
// content: '"', '\\', a control character or a non-ASCII byte. The lowest
// flagged byte is always a true one: a byte of (x - lsb) has its top bit
// set when the byte of x is zero or 0x81 and above, or when a borrow comes
// from a zero byte below, and non-ASCII bytes are flagged anyway (| w), so
// a false positive only ever sits above a true one.
func Special(w uint64) uint64 {
	return (((w ^ quote) - lsb) | ((w ^ bslash) - lsb) | (w - lsb*0x20) | w) & msb
}

// First returns the offset of the first byte Special flags in the eight
// bytes at b[i:], or 8 when there is none. b must hold them.
func First(b []byte, i int) int {
	if m := Special(binary.LittleEndian.Uint64(b[i:])); m != 0 {
		return bits.TrailingZeros64(m) >> 3
	}
	return 8
}

// Plain marks the bytes a JSON string may hold as they are, in ASCII:
// every byte from 0x20 to 0x7f but '"' and '\\'.
var Plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// runWords is Run eight bytes at a time, in portable Go.
func runWords(b []byte, i int) int {
	for i+8 <= len(b) {
		if m := Special(binary.LittleEndian.Uint64(b[i:])); m != 0 {
			return i + bits.TrailingZeros64(m)>>3
		}
		i += 8
	}
	for i < len(b) && Plain[b[i]] {
		i++
	}
	return i
}
