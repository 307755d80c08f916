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
// and short, after every start, for Run and for the portable runWords.
func TestRunMatchesNaive(t *testing.T) {
	for c := range 256 {
		for n := range 40 {
			for at := range n {
				// A quote past the end must not be seen.
				b := append(bytes.Repeat([]byte("a"), n), '"')[:n]
				b[at] = byte(c)
				for i := range n + 1 {
					want := naive(b, i)
					if got := Run(b, i); got != want {
						t.Fatalf("byte %#x at %d of %d, from %d: Run %d, want %d", c, at, n, i, got, want)
					}
					if got := runWords(b, i); got != want {
						t.Fatalf("byte %#x at %d of %d, from %d: runWords %d, want %d", c, at, n, i, got, want)
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
		want := naive(b, i)
		if got := Run(b, i); got != want {
			t.Fatalf("Run(%q, %d) = %d, want %d", b, i, got, want)
		}
		if got := runWords(b, i); got != want {
			t.Fatalf("runWords(%q, %d) = %d, want %d", b, i, got, want)
		}
	})
}
