package swar

import (
	"bytes"
	"testing"
)

// naive is Run byte by byte.
func naive(b []byte, i int) int {
	for i < len(b) && b[i] >= 0x20 && b[i] < 0x80 && b[i] != '"' && b[i] != '\\' {
		i++
	}
	return i
}

// TestRunMatchesNaive puts every byte value at every offset of runs long
// and short, after every start.
func TestRunMatchesNaive(t *testing.T) {
	for c := range 256 {
		for n := range 20 {
			for at := range n {
				b := bytes.Repeat([]byte("a"), n)
				b[at] = byte(c)
				for i := range n + 1 {
					if got, want := Run(b, i), naive(b, i); got != want {
						t.Fatalf("byte %#x at %d of %d, from %d: Run %d, want %d", c, at, n, i, got, want)
					}
				}
			}
		}
	}
}

// FuzzRun holds Run to the naive scan.
func FuzzRun(f *testing.F) {
	f.Add([]byte(`abc"def`), 0)
	f.Add([]byte("\x00\xff\\ab"), 1)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		if got, want := Run(b, i), naive(b, i); got != want {
			t.Fatalf("Run(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}
