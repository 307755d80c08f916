package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Kinds the journal itself writes. They mirror state.KindIncidentOpened and
// state.KindJournalRepaired; this package cannot import state (state's
// replay imports it), so the names are repeated here.
const (
	// KindOpened is the kind of line 1. Its data is an object with an "id".
	KindOpened = "incident.opened"
	// KindRepaired is the kind of the line a writer adds after repairing
	// the end of the file (a torn tail cut, a missing newline added, stray
	// lines quarantined). Its data is a Repair.
	KindRepaired = "journal.repaired"
)

// MaxLine is the longest line, in bytes without its newline, that the journal
// writes or reads. An event batch can be several megabytes; this bound only
// keeps a corrupt file from making a reader buffer it whole.
const MaxLine = 64 << 20

// maxLine is MaxLine, a variable so that tests can lower it.
var maxLine = MaxLine

// GroupDelay bounds how long a SyncGroup entry waits for its fsync: the
// writer starts one at most GroupDelay after the Append that wrote it.
const GroupDelay = 100 * time.Millisecond

// PollInterval is how often Follow looks for new lines.
const PollInterval = 50 * time.Millisecond

// SyncMode says when an appended entry must reach stable storage.
type SyncMode int

const (
	// SyncNow entries are fsynced before Append returns. It is the zero
	// value, so a Draft that says nothing is durable. Use it for action
	// intents, results and verifications.
	SyncNow SyncMode = iota
	// SyncGroup entries are group-committed: written to the file before
	// Append returns (so readers, other writers and a restarted process see
	// them: a crash of the process loses nothing written), and fsynced
	// together with the entries around them. The first Append that leaves
	// unsynced lines arms a writer-owned timer; its fsync starts GroupDelay
	// later (plus scheduling, and any Append in progress on the same Writer,
	// which holds its lock). Sync, Close and any later SyncNow append on the
	// same Writer fsync at once. A crash of the machine (power, kernel)
	// before that fsync can lose them. Use it for CloudTrail event batches.
	SyncGroup
)

// Draft is an entry to append. The writer fills in seq, time, actor and prev.
type Draft struct {
	// Kind names the fact's type (see state.Kind). It may not be empty,
	// KindOpened or KindRepaired: the journal writes those itself.
	Kind string
	// Data is the fact's payload as JSON. Append compacts it and rejects
	// anything that is not a single valid UTF-8 JSON value (an empty Data
	// included), so nothing is written when any draft of a call is bad.
	// Data must not change while Append runs (compact data is checked,
	// hashed and written from the caller's bytes); the Writer keeps no
	// reference to it afterwards, but the returned Entry's Data may be
	// Data itself.
	Data json.RawMessage
	// Sync is the durability the caller needs; the zero value is SyncNow.
	Sync SyncMode
}

// ErrClosed is returned by a Writer's methods after Close.
var ErrClosed = errors.New("journal: writer is closed")

// ProblemKind classifies what broke a journal's chain.
type ProblemKind int

// Problem kinds. Every kind but ProblemTorn means the file is not what its
// writers wrote: it was altered, cut or assembled from other files.
const (
	// ProblemTorn: the last line has no newline. It is what a crash in the
	// middle of a write leaves; the next writer cuts it and records that.
	ProblemTorn ProblemKind = iota + 1
	// ProblemInvalid: a line is not valid JSON (or not valid UTF-8), or it
	// is JSON but not a journal line (keys missing, out of order, wrong
	// types), or the file is empty.
	ProblemInvalid
	// ProblemTooLong: a line is longer than MaxLine.
	ProblemTooLong
	// ProblemSeq: a line's seq is not one more than the line before it:
	// a line was deleted, duplicated or moved.
	ProblemSeq
	// ProblemChain: a line's prev is not the hash of the line before it:
	// that line was altered, or this one was spliced in.
	ProblemChain
	// ProblemFirstLine: line 1 is not an incident.opened line whose prev is
	// the SHA-256 of its incident id, or such a line appears later.
	ProblemFirstLine
	// ProblemHeadNotFound: VerifyOptions.Head was given and no line of the
	// chain has that hash: the journal was truncated or rewritten.
	ProblemHeadNotFound
	// ProblemTime: a line's at is more than AtTolerance before the latest
	// at above it: a back-dated or forged line.
	ProblemTime
	// ProblemPinned: a line vouched for from outside (VerifyOptions.Pins)
	// has another hash: the journal was rewritten after the pin was made.
	ProblemPinned
)

var problemNames = map[ProblemKind]string{
	ProblemTorn:         "torn tail",
	ProblemInvalid:      "invalid line",
	ProblemTooLong:      "line too long",
	ProblemSeq:          "seq out of order",
	ProblemChain:        "chain broken",
	ProblemFirstLine:    "bad first line",
	ProblemHeadNotFound: "head not found",
	ProblemTime:         "time goes back",
	ProblemPinned:       "pinned line differs",
}

// String names the kind.
func (k ProblemKind) String() string {
	if s, ok := problemNames[k]; ok {
		return s
	}
	return fmt.Sprintf("ProblemKind(%d)", int(k))
}

// Problem is the first thing wrong with a journal. It is an error so that
// Follow and the Writer can hand it on.
type Problem struct {
	Kind ProblemKind
	// Line is the 1-based line where the problem was found. A change to
	// line n shows at line n when it breaks that line's shape, and at line
	// n+1 when it only changes n's hash (n+1's prev no longer matches).
	// For ProblemHeadNotFound it is the line after the last good one.
	Line int
	// Offset is the byte offset where Line begins.
	Offset int64
	// Reason says what is wrong in words. Text taken from the file is quoted.
	Reason string
}

// Error describes the problem with its line number.
func (p *Problem) Error() string {
	return fmt.Sprintf("journal: line %d (offset %d): %s: %s", p.Line, p.Offset, p.Kind, p.Reason)
}

// Tampered reports whether the problem means the file was changed by
// something other than a crashing writer (every kind but ProblemTorn).
func (p *Problem) Tampered() bool { return p.Kind != ProblemTorn }

// Report is what reading or verifying a journal found.
type Report struct {
	// Lines is the number of good lines: lines 1..Lines form a valid chain.
	Lines int
	// Bytes is the offset just past the last good line's newline: the length
	// of the good prefix, and where Follow can pick up.
	Bytes int64
	// Seq is the last good line's seq (equal to Lines in a whole journal).
	Seq int64
	// Head is the SHA-256 (hex) of the last good line, "" when there is none.
	Head string
	// IncidentID is the id in line 1's data, "" when line 1 is bad.
	IncidentID string
	// HeadLine is the line whose hash is VerifyOptions.Head, 0 when no head
	// was asked for or it was not found.
	HeadLine int
	// Pinned is how many of VerifyOptions.Pins were found in the chain
	// with their hash.
	Pinned int
	// Problem is the first problem, nil when the whole file is a valid chain
	// (and holds the asked-for head). A break in the chain is reported in
	// preference to a missing head, and a missing head in preference to a
	// torn tail.
	Problem *Problem
}

// OK reports whether the journal verified without any problem.
func (r Report) OK() bool { return r.Problem == nil }
