package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state"
)

// TestIdentityCenterSection: the report lists Identity Center's users,
// what reaches them and their AWSReservedSSO_ sessions, hostile names
// escaped; a refused read says so; without a read, no section.
func TestIdentityCenterSection(t *testing.T) {
	hostile := "<script>alert(1)</script>|=cmd\x1b[31m"
	mk := func(ic state.IdentityCenter, recs ...json.RawMessage) *Report {
		path := filepath.Join(t.TempDir(), "journal.jsonl")
		rec, err := state.OpenRecorder(path, state.IncidentOpened{Title: "t"}, state.LocalActor())
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) > 0 {
			if _, err := rec.Record(state.KindEvents, state.Events{Source: "lookup:us-east-1", Records: recs}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := rec.Record(state.KindIdentityCenter, ic); err != nil {
			t.Fatal(err)
		}
		rec.Close()
		st, rep, err := state.Replay(path)
		if err != nil {
			t.Fatal(err)
		}
		return Build(st, rep, Options{})
	}
	ev, _ := json.Marshal(map[string]any{"eventVersion": "1.09", "eventID": "e1", "eventTime": "2026-11-23T03:00:00Z", "eventName": "ListBuckets",
		"eventSource": "s3.amazonaws.com", "awsRegion": "us-east-1",
		"userIdentity": map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_AdministratorAccess_0123456789abcdef/alice", "accessKeyId": "ASIAEXAMPLE000000001"}})
	r := mk(state.IdentityCenter{Region: "us-east-1", Status: state.IdentityCenterOK, Users: []state.SSOUser{
		{ID: "u-1", UserName: "alice", Access: []string{"AdministratorAccess"}}, {ID: "u-2", UserName: hostile}}}, ev)
	if r.IdentityCenter == nil || len(r.IdentityCenter.Users) != 2 || r.IdentityCenter.Users[0].Calls != 1 {
		t.Fatalf("identity center = %+v", r.IdentityCenter)
	}
	for name, out := range map[string]string{"md": render1(t, r, FormatMarkdown), "html": render1(t, r, FormatHTML)} {
		if !strings.Contains(out, "IAM Identity Center") || !strings.Contains(out, "0123456789abcdef/alice") {
			t.Errorf("%s lacks the section:\n%s", name, out)
		}
		if strings.Contains(strings.ReplaceAll(out, "\\<", ""), "<script") || strings.Contains(out, "\x1b") {
			t.Errorf("%s holds the hostile name raw", name)
		}
	}
	denied := mk(state.IdentityCenter{Region: "us-east-1", Status: state.IdentityCenterUnreadable, Reason: "AccessDenied"})
	if md := render1(t, denied, FormatMarkdown); !strings.Contains(md, "Identity Center not readable: AccessDenied") {
		t.Errorf("a refused read is not said:\n%s", md)
	}
	r2, _ := build(t, plain)
	if strings.Contains(render1(t, r2, FormatMarkdown), "IAM Identity Center") {
		t.Error("a section with nothing read")
	}
}
