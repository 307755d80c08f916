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
