package report

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// TestAfterContainment: the section lists the calls since the key was
// deactivated, the owner's application apart from the attacker, with the
// attacker's text escaped in every format.
func TestAfterContainment(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	rec := func(i int, at time.Time, name, ip, agent, code string) json.RawMessage {
		r := map[string]any{"eventVersion": "1.09", "eventID": "0000000" + string(rune('0'+i)) + "-aaaa-4bbb-8ccc-0123456789ab",
			"eventTime": at.Format(time.RFC3339), "eventName": name, "eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1",
			"sourceIPAddress": ip, "userAgent": agent, "recipientAccountId": account,
			"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::" + account + ":user/ci", "accountId": account, "accessKeyId": leaked, "userName": "ci"}}
		if code != "" {
			r["errorCode"] = code
		}
		b, _ := json.Marshal(r)
		return b
	}
	app, evil := "reporting/1.0", hostile.agent+" | forged | <script>"
	events := []json.RawMessage{
		rec(1, t0.Add(-2*time.Hour), "GetAccountSummary", "198.51.100.10", app, ""),
		rec(2, t0.Add(-50*time.Minute), "CreateUser", "=1+1", evil, ""),
		rec(3, t0.Add(30*time.Minute), "GetAccountSummary", "198.51.100.10", app, "InvalidClientTokenId"),
		rec(4, t0.Add(31*time.Minute), "ListUsers", "=1+1", evil, "InvalidClientTokenId"),
	}
	id := "wr-20261123-0100-1mpact"
	lines := []line{
		{t0, state.KindIncidentOpened, state.IncidentOpened{ID: id, OpenedAt: t0}},
		{t0.Add(20 * time.Minute), state.KindActionIntent, state.ActionIntent{ActionID: "a", Action: "deactivate-key", Target: leaked + "@ci"}},
		{t0.Add(20 * time.Minute), state.KindActionResult, state.ActionResult{ActionID: "a", OK: true}},
		{t0.Add(40 * time.Minute), state.KindEvents, state.Events{Source: "sim", Records: events}},
	}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	writeJournal(t, path, id, lines)
	st, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %v", err, rep.Problem)
	}
	r := Build(st, rep, Options{})
	if len(r.AfterContainment) != 1 || len(r.AfterContainment[0].Groups) != 2 {
		t.Fatalf("after containment: %+v", r.AfterContainment)
	}
	md, page, js := render1(t, r, FormatMarkdown), render1(t, r, FormatHTML), render1(t, r, FormatJSON)
	for _, want := range []string{"## After containment", "matches use before the incident", "| new |", "NOT YET SAFE TO DELETE"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q", want)
		}
	}
	sec := md[strings.Index(md, "## After containment"):]
	for i, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "|") && len(splitCells(l)) != len(splitCells(headerOf(sec, i))) {
			t.Errorf("a forged column: %s", l)
		}
		if strings.Contains(l, "| =1+1") || strings.Contains(l, "\x1b") || strings.Contains(strings.ReplaceAll(l, "\\<", ""), "<script") {
			t.Errorf("unescaped: %q", l)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "\x1b") || !strings.Contains(page, "After containment") {
		t.Error("HTML holds a raw tag or escape, or lacks the section")
	}
	if strings.Contains(js, "\x1b") || strings.Contains(js, "<script") {
		t.Error("JSON holds a raw escape or tag")
	}
}
