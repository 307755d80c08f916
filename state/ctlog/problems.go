package ctlog

import "strconv"

// A hostile file can hold a million bad records in a few kilobytes of gzip
// (a million "{}" in a Records array): listed one by one, its problems
// alone would outweigh every good record of the run, and a journal line
// holding them would be over the journal's limit. So problems are bounded:
// the first ones are kept in detail, per file and in total, and the rest
// are counted, per file and kind of reason, in summary problems (Count > 1).

// Defaults for the problem caps of Options.
const (
	DefaultMaxFileProblems = 100  // problems listed one by one per file
	DefaultMaxProblems     = 1000 // problems listed one by one per run
)

// maxReasonKinds bounds the summaries of one file: past it, every other
// kind of reason goes into the last one.
const maxReasonKinds = 16

func (o Options) maxFileProblems() int {
	if o.MaxFileProblems > 0 {
		return o.MaxFileProblems
	}
	return DefaultMaxFileProblems
}

func (o Options) maxProblems() int {
	if o.MaxProblems > 0 {
		return o.MaxProblems
	}
	return DefaultMaxProblems
}

// Records is how many records (or files) the problem stands for: Count,
// or 1 for a problem listed on its own.
func (p Problem) Records() int { return max(p.Count, 1) }

// countRecords sums Records over probs.
func countRecords(probs []Problem) int {
	n := 0
	for i := range probs {
		n += probs[i].Records()
	}
	return n
}

// reasonKind is what problems are grouped by in a summary: the reason with
// numbers and quoted values left out, so that "record is 17 bytes…" and
// "record is 18 bytes…", or two bad eventTime values, group together.
func reasonKind(reason string) string {
	b := make([]byte, 0, 64)
	quoted := false
	for i := 0; i < len(reason) && len(b) < 64; i++ {
		c := reason[i]
		switch {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
			if quoted {
				b = append(b, "…"...)
			}
		case quoted || '0' <= c && c <= '9':
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// summary is one kind of reason past the cap.
type summary struct {
	kind  string
	first Problem // the first problem of the kind past the cap
	n     int
}

// fold counts p into sums, the summaries of one file (or of a run's tail).
func fold(sums []summary, p Problem) []summary {
	k := reasonKind(p.Reason)
	for i := range sums {
		if sums[i].kind == k {
			sums[i].n += p.Records()
			return sums
		}
	}
	if len(sums) == maxReasonKinds {
		last := &sums[len(sums)-1]
		if last.kind != "" {
			last.kind, last.first.Reason = "", "other reasons, the first: "+last.first.Reason
		}
		last.n += p.Records()
		return sums
	}
	return append(sums, summary{kind: k, first: p, n: p.Records()})
}

// appendSummaries appends one Problem per summary: the first problem of
// its kind, standing for all of them.
func appendSummaries(dst []Problem, sums []summary) []Problem {
	for _, s := range sums {
		p := s.first
		if s.n > 1 {
			p.Count = s.n
		}
		dst = append(dst, p)
	}
	return dst
}

// problemList is a run's problems: the first MaxProblems listed one by
// one, then each file's summarised by kind of reason (one Problem per file
// and kind), and once there are MaxProblems of those too, the rest of the
// run's summarised by kind, across files.
type problemList struct {
	max      int
	probs    []Problem
	listed   int       // problems kept one by one
	summed   int       // per-file summaries kept
	tail     []summary // past both: across files
	tailFile string    // the first file in tail
}

// add adds one file's problems (or one walk problem).
func (l *problemList) add(ps []Problem) {
	var sums []summary
	for _, p := range ps {
		if p.Count <= 1 && l.listed < l.max {
			l.probs = append(l.probs, p)
			l.listed++
			continue
		}
		sums = fold(sums, p)
	}
	for _, s := range sums {
		if l.summed < l.max {
			l.probs = appendSummaries(l.probs, []summary{s})
			l.summed++
			continue
		}
		if len(l.tail) == 0 {
			l.tailFile = s.first.File
		}
		p := s.first
		p.Count = s.n
		l.tail = fold(l.tail, p)
	}
}

// list returns the problems, the run's tail last.
func (l *problemList) list() []Problem {
	if len(l.tail) == 0 {
		return l.probs
	}
	out := l.probs
	for _, s := range l.tail {
		p := s.first
		p.Count = s.n
		p.Index, p.Line = -1, 0
		p.Reason = "in " + strconv.Quote(l.tailFile) + " and later files: " + p.Reason
		p.File = l.tailFile
		out = append(out, p)
	}
	l.tail = nil
	l.probs = out
	return out
}
