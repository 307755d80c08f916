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
	var want [32]byte
	if opts.Head != "" {
		if len(opts.Head) != 64 || !decodeHex(want[:], []byte(opts.Head)) {
			return Report{}, fmt.Errorf("journal: head %q is not a SHA-256 in lower-case hex", opts.Head)
		}
	}
	var (
		c    chain
		lr   lineReader
		rep  Report
		prob *Problem
		e    Entry
		ep   *Entry
	)
	if fn != nil {
		ep = &e
	}
	lr.reset(r, 0)
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
	rep.Problem = prob
	return c.report(rep), nil
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
