package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// TestGuardDutySection: the family's findings apart from the others,
// where GuardDuty is not enabled and where it could not be read, in every
// format, the attacker's title escaped for each.
func TestGuardDutySection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{Title: "t"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	hostile := "Recon by <script>alert(1)</script>|x`y\x1b[31m=cmd"
	facts := []struct {
		k state.Kind
		v any
	}{
		{state.KindSuspect, state.Suspect{AccessKeyID: "AKIAFAMILY"}},
		{state.KindGuardDuty, state.GuardDuty{ReadAt: at, Regions: []state.GuardDutyRegion{
			{Region: "us-east-1", Status: state.GuardDutyEnabled, Findings: []state.GuardDutyFinding{
				{ID: "f1", Region: "us-east-1", Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 5, Title: hostile, AccessKeyID: "AKIAFAMILY", Count: 3},
				{ID: "f2", Region: "us-east-1", Type: "Discovery:IAMUser/AnomalousBehavior", Severity: 2, AccessKeyID: "AKIAOTHER"},
			}},
			{Region: "ap-east-1", Status: state.GuardDutyNotEnabled},
			{Region: "eu-west-1", Status: state.GuardDutyDenied, Error: "guardduty:ListDetectors in eu-west-1: AccessDeniedException"},
		}}},
	}
	for _, f := range facts {
		if _, err := rec.Record(f.k, f.v); err != nil {
			t.Fatal(err)
		}
	}
	rec.Close()
	st, rep, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	r := Build(st, rep, Options{})
	g := r.GuardDuty
	if g == nil || len(g.Family) != 1 || g.Family[0].ID != "f1" || len(g.Others) != 1 || len(g.NotEnabled) != 1 || len(g.Unread) != 1 {
		t.Fatalf("section %+v", g)
	}
	md, page, js := render1(t, r, FormatMarkdown), render1(t, r, FormatHTML), render1(t, r, FormatJSON)
	for name, out := range map[string]string{"md": md, "html": page} {
		for _, want := range []string{"GuardDuty is not enabled in ap-east-1", "Findings tied to the family", "key AKIAFAMILY", "5 medium", "Not read: eu-west-1 denied"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
		if strings.Contains(strings.ReplaceAll(out, "\\<", ""), "<script") || strings.Contains(out, "\x1b") {
			t.Errorf("%s holds the hostile title raw", name)
		}
	}
	var back struct {
		GuardDuty *GuardDuty `json:"guardduty"`
	}
	if err := json.Unmarshal([]byte(js), &back); err != nil || back.GuardDuty == nil || back.GuardDuty.Family[0].Title != hostile {
		t.Errorf("json: %v %+v", err, back.GuardDuty)
	}
	if strings.Contains(js, "\x1b") {
		t.Error("json holds a raw escape")
	}
	r2, _ := build(t, plain)
	if strings.Contains(render1(t, r2, FormatMarkdown), "## GuardDuty") {
		t.Error("a GuardDuty section with GuardDuty never read")
	}
}
