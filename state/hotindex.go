package state

import "math/bits"

// hotIndex finds a column's value ids by a cheap hash of their strings
// (quickHash), in front of the column's map: a cheap hash and one string
// comparison cost less than the map's hash of the whole string and its
// probe, and most records carry values the column already holds.
//
// quickHash is not seeded and collisions are easy to make, so the index is
// only ever a shortcut: a lookup probes at most hotProbes slots, and a
// string it does not find there goes to the map (and is added to the index
// when a slot within reach is free). Strings chosen to collide cost a few
// comparisons each, never a long search.
type hotIndex struct {
	// slots holds, per slot, the value id in the low 32 bits and the low
	// 32 bits of the string's hash in the high ones, so that a probe
	// compares strings only when the hashes agree; 0 is a free slot (the
	// empty string, value id 0, is never held: intern answers it first).
	slots []uint64
	shift uint // 64 - log2(len(slots)): a hash's top bits pick its slot
	n     int  // slots in use
}

// Sizes of a hotIndex, as powers of two. It starts small and doubles when
// half full; at the largest size, once half full, it is emptied and fills
// again with the strings seen from then on.
const (
	minHotBits = 6
	maxHotBits = 16 // 512 KiB
	hotProbes  = 8
)

func newHotIndex() hotIndex {
	return hotIndex{slots: make([]uint64, 1<<minHotBits), shift: 64 - minHotBits}
}

// find returns the value id of s, whose quickHash is h, if the index holds
// it. strs resolves value ids.
func (x *hotIndex) find(strs []string, s string, h uint64) (uint32, bool) {
	mask := uint64(len(x.slots) - 1)
	tag := h << 32
	i := h >> x.shift
	for range hotProbes {
		slot := x.slots[i]
		if slot == 0 {
			break
		}
		if slot&^(1<<32-1) == tag && strs[uint32(slot)] == s {
			return uint32(slot), true
		}
		i = (i + 1) & mask
	}
	return 0, false
}

// add adds value id (not 0) whose string's quickHash is h, if a slot is
// free within reach, growing the index first when it is half full.
func (x *hotIndex) add(strs []string, id uint32, h uint64) {
	if 2*(x.n+1) > len(x.slots) {
		x.grow(strs)
	}
	x.place(id, h)
}

// place puts id in the first free slot within reach of h's, if any.
func (x *hotIndex) place(id uint32, h uint64) {
	mask := uint64(len(x.slots) - 1)
	i := h >> x.shift
	for range hotProbes {
		if x.slots[i] == 0 {
			x.slots[i] = h<<32 | uint64(id)
			x.n++
			return
		}
		i = (i + 1) & mask
	}
}

// grow doubles the index and adds every string held again; at the
// largest size it empties the index instead.
func (x *hotIndex) grow(strs []string) {
	if x.shift <= 64-maxHotBits {
		clear(x.slots)
		x.n = 0
		return
	}
	x.shift--
	x.slots = make([]uint64, 1<<(64-x.shift))
	x.n = 0
	for id := 1; id < len(strs); id++ {
		x.place(uint32(id), quickHash(strs[id]))
	}
}

// quickHash hashes s from its length and at most 24 of its bytes (the
// first, middle and last eight), which it reads in three loads: enough to
// tell the values of a column apart (see hotIndex).
func quickHash(s string) uint64 {
	n := len(s)
	var x uint64
	switch {
	case n >= 8:
		x = load64(s) ^ load64(s[(n-8)/2:])*0xff51afd7ed558ccd ^ bits.RotateLeft64(load64(s[n-8:]), 29)
	case n >= 4:
		x = uint64(load32(s)) | uint64(load32(s[n-4:]))<<32
	case n > 0:
		x = uint64(s[0]) | uint64(s[n/2])<<8 | uint64(s[n-1])<<16
	}
	x = (x ^ uint64(n)) * 0x9e3779b97f4a7c15
	return x ^ x>>29
}

// load64 reads the first eight bytes of s, little-endian.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// load32 reads the first four bytes of s, little-endian.
func load32(s string) uint32 {
	_ = s[3]
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}
