package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

func TestTrailIntegritySection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{Title: "t"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	hostile := "AWSLogs/1/CloudTrail/<script>alert(1)</script>|x`y\x1b[31m.json.gz"
	_, err = rec.Record(state.KindTrailIntegrity, state.TrailIntegrity{Source: "s3://trail-bucket", Start: at, End: at.Add(24 * time.Hour),
		SignaturesChecked: true, Digests: 24, DigestsValid: 23, Logs: 2000, LogsValid: 1999,
		Gaps:     []state.TrailGap{{Chain: "111122223333 us-east-1 trail main", From: at.Add(3 * time.Hour), To: at.Add(4 * time.Hour)}},
		Problems: []state.TrailProblem{{What: "log", Bucket: "trail-bucket", Key: hostile, Status: "invalid", Why: "hash value doesn't match"}}})
	rec.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, rep, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	r := Build(st, rep, Options{})
	if len(r.Trails) != 1 || r.Trails[0].State != "broken" || r.Trails[0].Digests != "23/24 valid" {
		t.Fatalf("trails = %+v", r.Trails)
	}
	md, page, js := render1(t, r, FormatMarkdown), render1(t, r, FormatHTML), render1(t, r, FormatJSON)
	for name, out := range map[string]string{"md": md, "html": page} {
		if !strings.Contains(out, "CloudTrail log integrity") || !strings.Contains(out, "BROKEN") || !strings.Contains(out, "2026-12-01 03:00:00Z") {
			t.Errorf("%s lacks the section:\n%s", name, out)
		}
		if strings.Contains(strings.ReplaceAll(out, "\\<", ""), "<script") || strings.Contains(out, "\x1b") {
			t.Errorf("%s holds the hostile key raw", name)
		}
	}
	var back struct {
		Trails []Trail `json:"trail_integrity"`
	}
	if err := json.Unmarshal([]byte(js), &back); err != nil || len(back.Trails) != 1 || back.Trails[0].Problems[0].Key != hostile {
		t.Errorf("json: %v %+v", err, back.Trails)
	}
	if strings.Contains(js, "\x1b") {
		t.Error("json holds a raw escape")
	}
	// Without a validation, no section.
	r2, _ := build(t, plain)
	if strings.Contains(render1(t, r2, FormatMarkdown), "CloudTrail log integrity") {
		t.Error("a section with nothing validated")
	}
}
