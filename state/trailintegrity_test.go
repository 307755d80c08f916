package state

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

func entryOf(t *testing.T, seq int64, kind Kind, v any) journal.Entry {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return journal.Entry{Seq: seq, At: time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC), Kind: string(kind), Data: data}
}

func TestTrailIntegrityFold(t *testing.T) {
	s := NewStore()
	if err := s.Apply(entryOf(t, 1, KindIncidentOpened, IncidentOpened{ID: "wr-x"})); err != nil {
		t.Fatal(err)
	}
	apply := func(seq int64, ti TrailIntegrity) {
		t.Helper()
		e := entryOf(t, seq, KindTrailIntegrity, ti)
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	apply(2, TrailIntegrity{Source: "/cases/copy", Digests: 3, DigestsValid: 3, Logs: 4, LogsValid: 4,
		Problems:        []TrailProblem{{What: "unvouched", Bucket: "b", Key: "AWSLogs/1/CloudTrail/us-east-1/2026/12/01/x.json.gz", Status: "unvouched"}},
		Unvouched:       []string{"b/AWSLogs/1/CloudTrail/us-east-1/2026/12/01/x.json.gz"},
		UnvouchedEvents: []string{"evt-1"}})
	ti := s.Integrity["/cases/copy"].V
	if ti.Word() != "broken" || !s.UnvouchedFile("/cases/copy/b/AWSLogs/1/CloudTrail/us-east-1/2026/12/01/x.json.gz") ||
		!s.UnvouchedFile("/sync/AWSLogs/1/CloudTrail/us-east-1/2026/12/01/x.json.gz") || !s.UnvouchedFile("s3://b/AWSLogs/1/CloudTrail/us-east-1/2026/12/01/x.json.gz") ||
		s.UnvouchedFile("/cases/copy/b/AWSLogs/1/CloudTrail/us-east-1/2026/12/01/y.json.gz") || !s.UnvouchedEvent("evt-1") || s.UnvouchedEvent("evt-2") {
		t.Fatalf("fold: %+v", ti)
	}
	// A later validation of the same source that vouches for everything clears the marks.
	apply(3, TrailIntegrity{Source: "/cases/copy", Intact: true, SignaturesChecked: true, Digests: 4, DigestsValid: 4})
	if s.UnvouchedFile("/sync/AWSLogs/1/CloudTrail/us-east-1/2026/12/01/x.json.gz") || s.UnvouchedEvent("evt-1") || s.Integrity["/cases/copy"].V.Word() != "intact" {
		t.Fatal("a later intact validation left the marks")
	}
	if got := s.Timeline[len(s.Timeline)-1].Summary; got != "trail /cases/copy intact: 4/4 digests, 0/0 log files valid, 0 gaps" {
		t.Errorf("summary = %q", got)
	}
}

// TestTrailIntegrityWords: a check that could not be made or found no
// digest yet is never intact, and a problem found outranks both.
func TestTrailIntegrityWords(t *testing.T) {
	cases := []struct {
		name string
		ti   TrailIntegrity
		word string
	}{
		{"intact", TrailIntegrity{Intact: true, Digests: 1, DigestsValid: 1}, "intact"},
		{"gaps only", TrailIntegrity{Gaps: []TrailGap{{Chain: "c"}}}, "gaps"},
		{"denied", TrailIntegrity{Failed: "AccessDenied"}, "unchecked"},
		{"failed is not intact even if marked so", TrailIntegrity{Intact: true, Failed: "no trail"}, "unchecked"},
		{"no digest yet", TrailIntegrity{Intact: true, Unsure: "no digest delivered yet"}, "unsure"},
		{"a problem outranks a failure", TrailIntegrity{Failed: "x", Problems: []TrailProblem{{What: "log", Status: "missing"}}}, "broken"},
		{"nothing said", TrailIntegrity{}, "broken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.ti.Word(); got != tc.word {
				t.Errorf("Word() = %q, want %q", got, tc.word)
			}
		})
	}
	if got := (TrailIntegrity{Source: "trails of account 1", Failed: "AccessDenied"}).Summary(); got != "trail trails of account 1 unchecked: AccessDenied" {
		t.Errorf("summary = %q", got)
	}
}

// TestUnvouchedEventFile: the store names the file an unvouched event was
// read from, and forgets it when a later validation of the source does.
func TestUnvouchedEventFile(t *testing.T) {
	s := NewStore()
	apply := func(seq int64, ti TrailIntegrity) {
		t.Helper()
		if err := s.Apply(entryOf(t, seq, KindTrailIntegrity, ti)); err != nil {
			t.Fatal(err)
		}
	}
	apply(1, TrailIntegrity{Source: "a", UnvouchedFrom: []UnvouchedFrom{{File: "s3://b/k.json.gz", Events: []string{"e1", "e2"}}},
		UnvouchedEvents: []string{"e1", "e2", "e3"}})
	if f, ok := s.UnvouchedEventFile("e2"); !ok || f != "s3://b/k.json.gz" {
		t.Errorf("e2: %q %v", f, ok)
	}
	if f, ok := s.UnvouchedEventFile("e3"); !ok || f != "" || !s.UnvouchedEvent("e3") {
		t.Errorf("e3 (no file said): %q %v", f, ok)
	}
	if s.UnvouchedEvent("e4") {
		t.Error("e4 is not unvouched")
	}
	apply(2, TrailIntegrity{Source: "a", Intact: true})
	if _, ok := s.UnvouchedEventFile("e1"); ok || s.UnvouchedEvent("e1") {
		t.Error("a later intact validation left e1 marked")
	}
}
