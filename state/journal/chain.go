package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unsafe"
)

// chain is the verifier's state: what the last good line was. Reader,
// Follow and Writer all feed lines through the same add.
type chain struct {
	lines     int       // good lines so far; line numbers are lines+1 onwards
	seq       int64     // seq of the last good line
	head      [32]byte  // hash of the last good line (or of the incident id before line 1)
	next      int64     // offset just past the last good line's newline
	maxAt     time.Time // the latest "at" of the good lines
	maxAtLine int       // the line that has it
	id        string    // incident id, once line 1 was read
	rl        rawLine   // scratch, so that add does not allocate

	// by is the last "by" object checked, and actor its decoding when
	// actorOK: lines from one writer repeat it, and are spared the work.
	by      []byte
	actor   Actor
	actorOK bool
	// kindTok and kind are the last kind token decoded; hashHex the hex
	// hash of line hashLine, which is the next line's Prev.
	kindTok  []byte
	kind     string
	hashHex  string
	hashLine int
}

// startAfter makes c continue after a line that is trusted without being
// verified (a writer opening a file, Follow starting mid-file): its seq and
// hash, and the offset after it.
func (c *chain) startAfter(seq int64, hash [32]byte, next int64, at time.Time) {
	c.lines = int(seq)
	c.seq = seq
	c.head = hash
	c.next = next
	c.maxAt, c.maxAtLine = at, c.lines
}

// add verifies one line (without its newline) found at off, and on success
// makes it the chain's head and, when e is not nil, decodes it into e.
func (c *chain) add(line []byte, off int64, e *Entry) *Problem {
	n := c.lines + 1
	fail := func(kind ProblemKind, format string, args ...any) *Problem {
		return &Problem{Kind: kind, Line: n, Offset: off, Reason: fmt.Sprintf(format, args...)}
	}
	rl := &c.rl
	if err := parseLine(line, rl, c.by); err != nil {
		if !json.Valid(line) {
			return fail(ProblemInvalid, "invalid JSON %v", err)
		}
		return fail(ProblemInvalid, "not a journal entry: %v", err)
	}
	if !rl.byKnown {
		if err := decodeActor(rl.by, nil); err != nil {
			return fail(ProblemInvalid, "not a journal entry: %v", err)
		}
		c.by = append(c.by[:0], rl.by...)
		c.actorOK = false
	}
	if n == 1 {
		if rl.seq != 1 {
			return fail(ProblemSeq, "seq %d where 1 was expected: the first line was deleted or replaced", rl.seq)
		}
		if !tokenIs(rl.kind, KindOpened) {
			return fail(ProblemFirstLine, "line 1 is a %q entry, not %s", unquote(rl.kind), KindOpened)
		}
		id := openedID(rl.data)
		if id == "" {
			return fail(ProblemFirstLine, "line 1's data has no string \"id\"")
		}
		if rl.prev != sha256.Sum256([]byte(id)) {
			return fail(ProblemFirstLine, "prev is not the SHA-256 of incident id %q: line 1 was altered or comes from another journal", id)
		}
		c.id = id
	} else {
		want := c.seq + 1
		linked := rl.prev == c.head
		also := ""
		if !linked {
			also = fmt.Sprintf(", and prev does not match the hash of line %d", n-1)
		}
		switch {
		case rl.seq < want:
			return fail(ProblemSeq, "seq %d where %d was expected%s: a line was duplicated or moved", rl.seq, want, also)
		case rl.seq > want:
			return fail(ProblemSeq, "seq %d where %d was expected%s: a line was deleted or moved", rl.seq, want, also)
		case !linked:
			return fail(ProblemChain, "prev does not match the hash of line %d: line %d was altered after it was written, or this line was spliced in from elsewhere", n-1, n-1)
		case tokenIs(rl.kind, KindOpened):
			return fail(ProblemFirstLine, "%s after line 1", KindOpened)
		case c.maxAt.Sub(rl.at) > AtTolerance:
			return fail(ProblemTime, "at %s is %s before line %d's %s, more than the %s allowed for clock skew between writers: a back-dated or forged line",
				rl.at.UTC().Format(time.RFC3339), c.maxAt.Sub(rl.at).Round(time.Second), c.maxAtLine, c.maxAt.UTC().Format(time.RFC3339), AtTolerance)
		}
	}
	if n == 1 || rl.at.After(c.maxAt) {
		c.maxAt, c.maxAtLine = rl.at, n
	}
	c.head = sha256.Sum256(line)
	c.lines = n
	c.seq = rl.seq
	c.next = off + int64(len(line)) + 1
	if e != nil {
		*e = c.entry(line, off)
	}
	return nil
}

// entry decodes the line add just accepted (rl holds its fields).
func (c *chain) entry(line []byte, off int64) Entry {
	if !c.actorOK {
		c.actor = Actor{}
		_ = decodeActor(c.by, &c.actor) // checked in add
		c.actorOK = true
	}
	rl := &c.rl
	if !bytes.Equal(rl.kind, c.kindTok) {
		c.kindTok = append(c.kindTok[:0], rl.kind...)
		c.kind = unquote(rl.kind)
	}
	prev := ""
	if c.hashLine == c.lines-1 && c.lines > 1 {
		prev = c.hashHex
	} else {
		prev = hexString(rl.prev)
	}
	c.hashHex, c.hashLine = hexString(c.head), c.lines
	return Entry{
		Seq:    rl.seq,
		At:     rl.at,
		By:     c.actor,
		Kind:   c.kind,
		Data:   append(json.RawMessage(nil), rl.data...),
		Prev:   prev,
		Offset: off,
		Hash:   c.hashHex,
		DataAt: dataAt(line, rl.data),
	}
}

// dataAt is where data, a part of line, starts in it (0 when it is not
// a part of it).
func dataAt(line, data []byte) int {
	if len(data) == 0 || len(line) == 0 {
		return 0
	}
	d := uintptr(unsafe.Pointer(&data[0])) - uintptr(unsafe.Pointer(&line[0]))
	if d == 0 || d >= uintptr(len(line)) || d+uintptr(len(data)) > uintptr(len(line)) {
		return 0
	}
	return int(d)
}

// hexString is hex.EncodeToString for a hash, with one allocation.
func hexString(h [32]byte) string {
	var buf [64]byte
	hex.Encode(buf[:], h[:])
	return string(buf[:])
}

// decodeEntry builds an Entry from a parsed line and its decoded actor. It
// copies what it keeps, so the line may be reused afterwards.
func decodeEntry(rl *rawLine, by Actor, off int64, hash [32]byte) Entry {
	return Entry{
		Seq:    rl.seq,
		At:     rl.at,
		By:     by,
		Kind:   unquote(rl.kind),
		Data:   append(json.RawMessage(nil), rl.data...),
		Prev:   hexString(rl.prev),
		Offset: off,
		Hash:   hexString(hash),
	}
}
