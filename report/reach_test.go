package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// TestBlastRadiusSection: Access Advisor reports and Config histories are
// in the report (used services with when and where, the never used ones,
// a failed read, a Region Config does not record), hostile text escaped in
// every format; without them, no section.
func TestBlastRadiusSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{Title: "t"}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	hostile := "arn:aws:iam::123456789012:user/<script>x</script>|`\x1b[31m"
	ci := "arn:aws:iam::123456789012:user/ci-deploy"
	for _, f := range []struct {
		k state.Kind
		v any
	}{
		{state.KindReach, state.Reach{Principal: ci, Key: "AKIAEXAMPLE", Status: state.JobCompleted, TakenAt: at, Services: []state.ServiceReach{
			{Namespace: "ec2", LastUsed: at.Add(-time.Hour), Region: "eu-west-1", Entity: ci, Actions: []state.ActionReach{{Name: "RunInstances", LastUsed: at.Add(-time.Hour)}}},
			{Namespace: "s3"}}}},
		{state.KindReach, state.Reach{Principal: hostile, Status: state.JobFailed, TakenAt: at,
			Error: &state.CallError{Call: "iam:GenerateServiceLastAccessedDetails", Class: "denied", Error: "AccessDenied <b>"}}},
		{state.KindConfigHistory, state.ConfigHistory{Region: "us-east-1", ResourceType: "AWS::IAM::User", ResourceID: "AIDAEXAMPLE", Name: "backup-svc", TakenAt: at,
			Recording: state.ConfigRecording, Items: []state.ConfigItem{{CaptureTime: at, Status: "OK", StateID: "2", Configuration: "{}"}, {CaptureTime: at.Add(-time.Hour), Status: "ResourceDiscovered", StateID: "1"}}}},
		{state.KindConfigHistory, state.ConfigHistory{Region: "eu-west-1", ResourceType: "AWS::EC2::Instance", ResourceID: "i-1", TakenAt: at, Recording: state.ConfigNoRecorder}},
	} {
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
	if len(r.BlastRadius) != 2 || len(r.ConfigHistory) != 2 || st.ConfigHistories[state.ConfigKey("us-east-1", "AWS::IAM::User", "AIDAEXAMPLE")].V.Items[0].Configuration != "{}" {
		t.Fatalf("report %+v %+v (the store's items must stay whole)", r.BlastRadius, r.ConfigHistory)
	}
	md, page, js := render1(t, r, FormatMarkdown), render1(t, r, FormatHTML), render1(t, r, FormatJSON)
	for name, out := range map[string]string{"md": md, "html": page} {
		for _, want := range []string{"Blast radius", "2 services allowed, 1 used", "2026-11-30 23:00:00Z", "eu-west-1", "RunInstances",
			"Allowed, never used: s3.", "Not read at", "Configuration history", "backup-svc", "ResourceDiscovered", "AWS Config is not recording here"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s lacks %q:\n%s", name, want, out)
			}
		}
		if strings.Contains(strings.ReplaceAll(out, "\\<", ""), "<script") || strings.Contains(out, "<b>") || strings.Contains(out, "\x1b") {
			t.Errorf("%s holds hostile text raw:\n%s", name, out)
		}
	}
	var back struct {
		BlastRadius []Reach `json:"blast_radius"`
	}
	if err := json.Unmarshal([]byte(js), &back); err != nil || len(back.BlastRadius) != 2 || strings.Contains(js, "\x1b") {
		t.Errorf("json: %v %+v", err, back)
	}
	r2, _ := build(t, plain)
	if out := render1(t, r2, FormatMarkdown); strings.Contains(out, "Blast radius") || strings.Contains(out, "Configuration history") {
		t.Error("a section with nothing read")
	}
}
