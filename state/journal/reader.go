package journal

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// VerifyOptions tunes Verify.
type VerifyOptions struct {
	// Head is a line hash (64 lower-case hex digits) published earlier, for
	// example in a ticket or a chat message. When set, the chain must hold
	// a line with that hash; otherwise the journal was cut back or rewritten
	// and the report says so (a cut at a line boundary leaves a valid chain,
	// so only a published head can show it).
	Head string
	// Pins are lines vouched for from outside the file (SignedHead records,
	// CloudTrail anchors): line Seq must be in the chain with hash Hash.
	// A different hash means the journal was rewritten after the pin was
	// made; a chain that ends before Seq means it was cut back.
	Pins []Pin
}

// Verify checks a whole journal file: every line's shape, seq and link to
// the line before, line 1's tie to its incident id, a torn tail, and, with
// opts.Head, that the chain still reaches a published head. What it finds
// is in the Report; the error is for I/O errors (and a malformed
// opts.Head) only. Verify never modifies the file.
func Verify(path string, opts VerifyOptions) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	rep, err := verifyReader(f, opts, nil)
	if err != nil {
		return rep, fmt.Errorf("journal: verify %s: %w", path, err)
	}
	return rep, nil
}

// Read verifies a journal as Verify does and calls fn with every good
// entry, in order, up to the first problem (which is in the Report). Each
// entry is handed to fn as soon as its own line and its link to the line
// before have been checked, so the line a later problem points at (a break
// at line n can mean line n-1 was altered) may already have been handed
// over. An error from fn stops the reading and is returned as is.
func Read(path string, fn func(Entry) error) (Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return Report{}, err
	}
	defer f.Close()
	return verifyReader(f, VerifyOptions{}, fn)
}

// verifyReader reads a journal from r. With fn nil it only verifies, which
// allocates nothing per line.
func verifyReader(r io.Reader, opts VerifyOptions, fn func(Entry) error) (Report, error) {
	return verifyChain(r, &chain{}, opts, fn)
}

// verifyChain is verifyReader going on from c: r starts at c.next.
func verifyChain(r io.Reader, c *chain, opts VerifyOptions, fn func(Entry) error) (Report, error) {
	var want [32]byte
	if opts.Head != "" {
		if len(opts.Head) != 64 || !decodeHex(want[:], []byte(opts.Head)) {
			return Report{}, fmt.Errorf("journal: head %q is not a SHA-256 in lower-case hex", opts.Head)
		}
	}
	var pins map[int64]pinWant
	var lastPin int64
	if len(opts.Pins) > 0 {
		pins = make(map[int64]pinWant, len(opts.Pins))
		for _, p := range opts.Pins {
			var h [32]byte
			if len(p.Hash) != 64 || !decodeHex(h[:], []byte(p.Hash)) || p.Seq < 1 {
				return Report{}, fmt.Errorf("journal: pin %d %q (%s) is not a seq and a SHA-256 in lower-case hex", p.Seq, p.Hash, p.Source)
			}
			if old, ok := pins[p.Seq]; ok && old.hash != h {
				return Report{}, fmt.Errorf("journal: %s and %s vouch for different hashes of line %d", old.source, p.Source, p.Seq)
			}
			pins[p.Seq] = pinWant{h, p.Source}
			lastPin = max(lastPin, p.Seq)
		}
	}
	var (
		lr   lineReader
		rep  Report
		prob *Problem
		e    Entry
		ep   *Entry
	)
	if fn != nil {
		ep = &e
	}
	lr.reset(r, c.next)
loop:
	for {
		line, off, st, err := lr.next()
		if err != nil {
			return c.report(rep), err
		}
		switch st {
		case lineEOF:
			if c.lines == 0 {
				prob = &Problem{Kind: ProblemInvalid, Line: 1, Reason: "the file is empty: no incident.opened line"}
			}
			break loop
		case lineTooLong:
			prob = &Problem{Kind: ProblemTooLong, Line: c.lines + 1, Offset: off,
				Reason: fmt.Sprintf("longer than %d bytes without a newline", maxLine)}
			break loop
		case lineTorn:
			prob = &Problem{Kind: ProblemTorn, Line: c.lines + 1, Offset: off,
				Reason: fmt.Sprintf("the last %d bytes have no newline: a writer stopped in the middle of a line (a crash); the next writer cuts them", len(line))}
			break loop
		}
		if prob = c.add(line, off, ep); prob != nil {
			break
		}
		if opts.Head != "" && rep.HeadLine == 0 && c.head == want {
			rep.HeadLine = c.lines
		}
		if pins != nil {
			if p, ok := pins[c.seq]; ok {
				if p.hash != c.head {
					prob = &Problem{Kind: ProblemPinned, Line: c.lines, Offset: off,
						Reason: fmt.Sprintf("line %d's hash is %s, but %s vouches for %s: the journal was rewritten after that", c.seq, hexString(c.head), p.source, hexString(p.hash))}
					break
				}
				rep.Pinned++
			}
		}
		if fn != nil {
			if err := fn(e); err != nil {
				return c.report(rep), err
			}
		}
	}
	if opts.Head != "" && rep.HeadLine == 0 && (prob == nil || prob.Kind == ProblemTorn) {
		prob = &Problem{Kind: ProblemHeadNotFound, Line: c.lines + 1, Offset: c.next,
			Reason: fmt.Sprintf("head %s not found: journal was truncated or rewritten", opts.Head)}
	}
	if lastPin > c.seq && (prob == nil || prob.Kind == ProblemTorn) {
		prob = &Problem{Kind: ProblemHeadNotFound, Line: c.lines + 1, Offset: c.next,
			Reason: fmt.Sprintf("%s vouches for line %d, but the chain ends at line %d: the journal was truncated or rewritten", pins[lastPin].source, lastPin, c.seq)}
	}
	rep.Problem = prob
	return c.report(rep), nil
}

// pinWant is a Pin decoded.
type pinWant struct {
	hash   [32]byte
	source string
}

// report fills in what the chain knows.
func (c *chain) report(rep Report) Report {
	rep.Lines = c.lines
	rep.Bytes = c.next
	rep.Seq = c.seq
	rep.IncidentID = c.id
	if c.lines > 0 {
		rep.Head = hex.EncodeToString(c.head[:])
	}
	return rep
}
