package state

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// brokenJournal writes a journal of n facts (notesJournal: the opening
// line, then notes "note 2" … "note n") and alters the note on line k, so that the chain
// breaks at line k+1. It returns the path and the entries as written.
func brokenJournal(t *testing.T, n, k int) (string, []journal.Entry) {
	t.Helper()
	path := notesJournal(t, n)
	var written []journal.Entry
	if _, err := journal.Read(path, func(e journal.Entry) error { written = append(written, e); return nil }); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	from := fmt.Appendf(nil, `"note %d"`, k)
	if k == 1 {
		from = []byte(`"opened_at":"2026-11-23T04:00:00Z"`)
	}
	to := bytes.ToUpper(from)
	if !bytes.Contains(b, from) {
		t.Fatalf("no %s in the journal", from)
	}
	if err := os.WriteFile(path, bytes.Replace(b, from, to, 1), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, written
}

// TestBrokenChainRule: when line k+1's prev is not the hash of line k,
// line k may be the altered one, so no reader shows it: Replay (the CLI's
// fold: journal show, report, contain), OpenReplay (the console's replay)
// and ReadActions hold lines 1..k-1, their reports describe those lines,
// and the problem names line k+1. Replay used to show line k.
func TestBrokenChainRule(t *testing.T) {
	for _, k := range []int{5, 2, 1} {
		t.Run(fmt.Sprintf("line %d altered", k), func(t *testing.T) {
			const n = 9
			path, written := brokenJournal(t, n, k)
			good := k - 1
			checkReport := func(how string, rep journal.Report) {
				t.Helper()
				p := rep.Problem
				if p == nil || p.Kind != journal.ProblemChain || p.Line != k+1 || p.Offset != written[k].Offset {
					t.Fatalf("%s: problem %v, want a broken chain at line %d", how, p, k+1)
				}
				wantHead, wantBytes := "", int64(0)
				if good > 0 {
					wantHead, wantBytes = written[good-1].Hash, written[good].Offset
				}
				if rep.Lines != good || rep.Seq != int64(good) || rep.Head != wantHead || rep.Bytes != wantBytes {
					t.Errorf("%s: report of %d lines (seq %d, head %.8s, %d bytes), want %d lines, head %.8s, %d bytes",
						how, rep.Lines, rep.Seq, rep.Head, rep.Bytes, good, wantHead, wantBytes)
				}
			}

			s, rep, err := Replay(path)
			if err != nil {
				t.Fatal(err)
			}
			checkReport("Replay", rep)
			if s.Seq != int64(good) || len(s.Timeline) != good {
				t.Errorf("Replay: store at seq %d with %d facts, want %d", s.Seq, len(s.Timeline), good)
			}
			for _, it := range s.Timeline {
				if strings.Contains(it.Summary, "NOTE") || strings.Contains(it.Summary, fmt.Sprintf("note %d", k)) {
					t.Errorf("Replay shows the line before the break: %q", it.Summary)
				}
			}

			r, err := OpenReplay(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			checkReport("OpenReplay", r.Report())
			if r.Len() != good {
				t.Errorf("OpenReplay: %d facts, want %d", r.Len(), good)
			}
			if b := r.Banner(); !strings.Contains(b, fmt.Sprintf("replaying facts 1-%d only; line %d", good, k+1)) || !strings.Contains(b, "chain broken") {
				t.Errorf("banner %q does not say what is replayed and where the chain broke", b)
			}
			fs, err := r.Fold(t.Context(), r.Len())
			if err != nil {
				t.Fatal(err)
			}
			if fs.Seq != s.Seq || fs.Head != s.Head || len(fs.Notes) != len(s.Notes) {
				t.Errorf("the console's fold (seq %d) and Replay's (seq %d) differ", fs.Seq, s.Seq)
			}

			_, rep, err = ReadActions(path)
			if err != nil {
				t.Fatal(err)
			}
			checkReport("ReadActions", rep)
		})
	}
}

// TestReadVouchedKeepsOtherProblems: only a broken link holds back the line
// before it; after a deleted line or a torn tail, every good line is shown.
func TestReadVouchedKeepsOtherProblems(t *testing.T) {
	path, written := brokenJournal(t, 6, 6) // the last line altered: nothing follows to break
	s, rep, err := Replay(path)
	if err != nil || !rep.OK() || s.Seq != 6 {
		t.Fatalf("an edited last line leaves a valid chain: %v %v, seq %d", err, rep.Problem, s.Seq)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Line 4 deleted: line 5 is out of sequence (and its prev does not match).
	cut := append(bytes.Clone(b[:written[3].Offset]), b[written[4].Offset:]...)
	if err := os.WriteFile(path, cut, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, rep, _ = Replay(path); rep.Problem == nil || rep.Problem.Kind != journal.ProblemSeq || s.Seq != 3 || rep.Lines != 3 {
		t.Errorf("a deleted line 4: %v, store at %d, report of %d lines; want lines 1-3", rep.Problem, s.Seq, rep.Lines)
	}
	// A torn tail: the complete lines are all shown.
	if err := os.WriteFile(path, b[:len(b)-5], 0o600); err != nil {
		t.Fatal(err)
	}
	if s, rep, _ = Replay(path); rep.Problem == nil || rep.Problem.Kind != journal.ProblemTorn || s.Seq != 5 || rep.Lines != 5 {
		t.Errorf("a torn line 6: %v, store at %d, report of %d lines; want lines 1-5", rep.Problem, s.Seq, rep.Lines)
	}
}
