package state

import (
	"unsafe"
)

// An arena is memory made ready for a seek's arrays (Replayer.Warm): one
// allocation, every page of it written once, carved into the arrays of
// one store (ckFile.cloneIn). A seek copies a hundred megabytes of columns;
// into memory the process has never used, that costs a page fault every
// 4 KB, which on a virtual machine costs more than the copy itself. The
// arrays hold no pointers, so the arena is memory the collector never
// scans, kept alive by any array carved from it.
type arena struct {
	b   []byte
	off int
}

// newArena returns an arena of size bytes, each of its pages written.
func newArena(size int) *arena {
	a := &arena{b: make([]byte, size)}
	for i := 0; i < len(a.b); i += 4096 {
		a.b[i] = 1
	}
	return a
}

// carve returns a slice of n items of the arena's next free memory, of
// length 0 and capacity n, or nil when it does not hold that much. The
// arena's memory is not cleared again: the caller writes every item it
// reads (fill copies, and an append writes).
func carve[E any](a *arena, n int) []E {
	if a == nil || n <= 0 {
		return nil
	}
	size, align := int(unsafe.Sizeof(*new(E))), int(unsafe.Alignof(*new(E)))
	at := (a.off + align - 1) / align * align
	if size == 0 || at+n*size > len(a.b) {
		return nil
	}
	a.off = at + n*size
	return unsafe.Slice((*E)(unsafe.Pointer(&a.b[at])), n)[:0]
}
