package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/sanitize"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// The hostile-output checks of issue 13 (point 7): attacker text planted in
// CloudTrail records, names and AWS messages, then every output path read
// back. A path "catches" a case when nothing a terminal acts on or a reader
// cannot see reaches it raw, what was hidden is shown (⟨U+200B⟩ on a
// terminal, \u200b in JSON, which reads back as the same string), and no
// markup or formula gets through. The tests below fail on any case that
// is not caught; TestRedTeam (build tag redteam, scripts/redteam.sh) prints
// the table.

// hostile is one payload of a class the issue names.
type hostile struct{ class, s string }

var hostilePayloads = []hostile{
	{"c1-csi", "ad\u009b31mmin"},
	{"c1-osc", "x\u009d0;pwned\u009cy"},
	{"esc-osc52", "x\x1b]52;c;ZXZpbA==\x07y"},
	{"esc-csi", "\x1b[2J\x1b[31mred"},
	{"c0", "a\x00b\x08c"},
	{"del", "ad\x7fmin"},
	{"bidi-rlo", "user\u202egnp.exe"},
	{"bidi-isolate", "\u2066adm\u2069in"},
	{"bidi-mark", "ad\u200fmin"},
	{"zero-width", "ad\u200bmin"},
	{"zwj", "ad\u200dmin"},
	{"bom", "\ufeffadmin"},
	{"tag-chars", "admin\U000e0041\U000e007f"},
	{"line-sep", "ad\u2028mi\u2029n"},
	{"formula", `=HYPERLINK("http://evil/","x")`},
	{"formula-at", "@SUM(1+1)*cmd|' /C calc'!A0"},
	{"formula-plus", "+cmd|' /C calc'!A0"},
	{"html", `<script>alert(1)</script><img src=x onerror=alert(1)>`},
	{"markdown", "a | b [x](http://evil) ![i](http://evil/i.png) **b** `c`"},
}

// overHTTP reports whether a payload can travel in an AWS answer or a
// request header: XML 1.0 and HTTP hold no C0 control but tab, newline and
// carriage return, and no DEL in a header.
func (h hostile) overHTTP() bool {
	for _, r := range h.s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// hiddenRunes lists the characters of s that must be shown visibly.
func hiddenRunes(s string) []rune {
	var out []rune
	for _, r := range s {
		if sanitize.Hidden(r) && r != '\t' && r != '\n' && r != '\r' {
			out = append(out, r)
		}
	}
	return out
}

// rawDanger returns a description of the first character in out that must
// never be printed raw, or "".
func rawDanger(out string) string {
	for i, r := range out {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || sanitize.Hidden(r) {
			lo := max(0, i-20)
			return fmt.Sprintf("raw %U at byte %d: %q", r, i, out[lo:min(len(out), i+20)])
		}
	}
	return ""
}

// checkTerminal checks human text (a table row, an error) that shows
// payload h: nothing raw, every hidden character in its visible form.
func checkTerminal(out string, h hostile, shown bool) string {
	if d := rawDanger(out); d != "" {
		return d
	}
	if shown {
		for _, r := range hiddenRunes(h.s) {
			// A Go-quoted value (an error's %q) shows it as \u200b: visible too.
			goq := strings.Trim(strconv.QuoteRune(r), "'")
			if !strings.Contains(out, sanitize.Visible(r)) && !strings.Contains(out, goq) {
				return fmt.Sprintf("%U not shown as %s", r, sanitize.Visible(r))
			}
		}
	}
	return ""
}

// jsonStrings collects every string (keys too) in a decoded JSON value.
func jsonStrings(v any, out *[]string) {
	switch v := v.(type) {
	case string:
		*out = append(*out, v)
	case []any:
		for _, e := range v {
			jsonStrings(e, out)
		}
	case map[string]any:
		for k, e := range v {
			*out = append(*out, k)
			jsonStrings(e, out)
		}
	}
}

// checkJSON checks JSON text (one document or one per line): valid, no
// raw character that must be escaped, and, when shown, some string in it
// holds want exactly (the payload reads back unchanged).
func checkJSON(out string, want string, shown bool, lines bool) string {
	if d := rawDanger(out); d != "" {
		return d
	}
	docs := []string{out}
	if lines {
		docs = strings.Split(strings.TrimSpace(out), "\n")
	}
	var all []string
	for _, d := range docs {
		var v any
		if err := json.Unmarshal([]byte(d), &v); err != nil {
			return fmt.Sprintf("not JSON: %v", err)
		}
		jsonStrings(v, &all)
	}
	if shown && !slices.ContainsFunc(all, func(s string) bool { return strings.Contains(s, want) }) {
		return fmt.Sprintf("%q does not read back", want)
	}
	return ""
}

// checkMarkup checks Markdown or HTML text for injected markup, links and
// formulas, raw characters, and hidden characters not shown.
// doc is the whole document out was cut from (its tables' headers).
func checkMarkup(out, doc, format string, h hostile, shown bool) string {
	if d := rawDanger(out); d != "" {
		return d
	}
	bads := []string{"<script", "<img"} // HTML: tags
	if format == "md" {
		bads = append(bads, "](http", "![", "**b**", "`c`")
	}
	for _, bad := range bads {
		if unescaped(out, bad) {
			return fmt.Sprintf("markup %q got through", bad)
		}
	}
	if format == "md" {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "| ") && strings.Count(l, "|")-strings.Count(l, `\|`) != tablePipes(doc, l) {
				return fmt.Sprintf("a table row has extra cells: %q", l)
			}
			for _, f := range []string{"| =", "| @", "| +", "| -"} {
				if strings.Contains(l, f) {
					return fmt.Sprintf("formula cell %q", l)
				}
			}
		}
	}
	if shown {
		for _, r := range hiddenRunes(h.s) {
			v := sanitize.Visible(r)
			if format == "md" {
				v = strings.ReplaceAll(v, "+", `\+`)
			}
			if !strings.Contains(out, v) {
				return fmt.Sprintf("%U not shown as %s", r, v)
			}
		}
	}
	return ""
}

// unescaped reports whether out holds bad with no backslash before it
// (Markdown reads \< or \] as the character itself).
func unescaped(out, bad string) bool {
	for i := 0; ; {
		k := strings.Index(out[i:], bad)
		if k < 0 {
			return false
		}
		if i+k == 0 || out[i+k-1] != '\\' {
			return true
		}
		i += k + 1
	}
}

// tablePipes is the number of cell separators in the header of the
// Markdown table that holds line l.
func tablePipes(doc, l string) int {
	lines := strings.Split(doc, "\n")
	i := slices.Index(lines, l)
	for ; i > 0 && strings.HasPrefix(lines[i-1], "|"); i-- {
	}
	return strings.Count(lines[i], "|") - strings.Count(lines[i], `\|`)
}

// hostileFields are the record fields a payload is planted in, one record
// per payload and field.
var hostileFields = []string{"userName", "userAgent", "errorCode", "errorMessage", "resourceName"}

// hostileRecord is a CloudTrail record carrying h in field, made by the
// suspect key so that it is a significant event in the report. Its source
// IP (198.51.100.n) tells its row.
func hostileRecord(n int, field string, h hostile) map[string]any {
	user := "ci-deploy"
	if field == "userName" {
		user = h.s
	}
	rec := map[string]any{
		"eventVersion": "1.08", "eventID": fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		"eventTime": time.Date(2026, 11, 23, 4, 0, n%60, 0, time.UTC).Format(time.RFC3339), "eventName": "CreateUser",
		"eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1", "sourceIPAddress": fmt.Sprintf("198.51.100.%d", n%250),
		"userAgent": "aws-cli/2.15.0", "eventType": "AwsApiCall", "readOnly": false, "recipientAccountId": "123456789012",
		"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::123456789012:user/" + user,
			"accountId": "123456789012", "accessKeyId": hostileKey, "userName": user},
		"requestParameters": map[string]any{"userName": "backup"},
	}
	switch field {
	case "userAgent":
		rec["userAgent"] = h.s
	case "errorCode":
		rec["errorCode"] = h.s
	case "errorMessage":
		rec["errorCode"], rec["errorMessage"] = "AccessDenied", h.s
	case "resourceName":
		rec["requestParameters"] = map[string]any{"userName": h.s}
	}
	return rec
}

const hostileKey = "AKIAHOSTILEEXAMPLE01"

// hostileJournal ingests the hostile records from a CloudTrail file into a
// new journal, then adds facts carrying every payload (a note, a swept
// resource, an action's failed call) and marks the key suspect.
func hostileJournal(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	var recs []map[string]any
	n := 0
	for _, h := range hostilePayloads {
		for _, f := range hostileFields {
			n++
			recs = append(recs, hostileRecord(n, f, h))
		}
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "123456789012_CloudTrail_us-east-1_20261123T0400Z_hostile.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	j := filepath.Join(dir, "inc", "journal.jsonl")
	var out, errb strings.Builder
	if code := run(t.Context(), []string{"ingest", "--journal", j, file}, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", code, out.String(), errb.String())
	}
	rec, err := state.OpenRecorder(j, state.IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	must := func(k state.Kind, v any) {
		if _, err := rec.Record(k, v); err != nil {
			t.Fatal(err)
		}
	}
	must(state.KindSuspect, state.Suspect{AccessKeyID: hostileKey, Reason: "planted"})
	for i, h := range hostilePayloads {
		must(state.KindNote, state.Note{Text: h.s})
		must(state.KindSweep, state.Sweep{Region: "eu-west-1", Kind: "ec2:instance", TakenAt: time.Now(),
			Resources: []state.Resource{{ID: fmt.Sprintf("i-%017d", i), Name: h.s, State: "running"}}})
		id := fmt.Sprintf("act-%d", i)
		must(state.KindActionIntent, state.ActionIntent{ActionID: id, Action: "deactivate-key", Target: hostileKey})
		must(state.KindActionResult, state.ActionResult{ActionID: id, Error: h.s,
			Calls: []state.CallResult{{API: "iam:UpdateAccessKey", RequestID: fmt.Sprintf("req-%d", i), Error: h.s}}})
	}
	return j
}

// caseResult is one case of one output path.
type caseResult struct {
	path, class, field, problem string
}

// hostileCases runs every offline output path over the hostile journal.
func hostileCases(t *testing.T, j string) []caseResult {
	t.Helper()
	var res []caseResult
	add := func(path string, h hostile, field, problem string) {
		res = append(res, caseResult{path, h.class, field, problem})
	}
	// rowOf returns the lines that hold a record's source IP.
	rowOf := func(out string, n int) string {
		var rows []string
		ip := fmt.Sprintf("198.51.100.%d", n%250)
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, ip+" ") || strings.Contains(l, ip+"\t") || strings.HasSuffix(l, ip) || strings.Contains(l, `"`+ip+`"`) || strings.Contains(l, "| "+ip+" |") || strings.Contains(l, "<td>"+ip+"</td>") {
				rows = append(rows, l)
			}
		}
		return strings.Join(rows, "\n")
	}

	code, table, errOut := warroom(t, "events", "-j", j)
	if code != 0 {
		t.Fatalf("events: exit %d: %s", code, errOut)
	}
	code, jsonOut, errOut := warroom(t, "events", "-j", j, "-o", "json")
	if code != 0 {
		t.Fatalf("events -o json: exit %d: %s", code, errOut)
	}
	reports := map[string]string{}
	for _, format := range []string{"md", "html", "json"} {
		out := filepath.Join(filepath.Dir(j), "report."+format)
		if code, _, errOut := warroom(t, "report", j, "--format", format, "-o", out); code != 0 {
			t.Fatalf("report %s: exit %d: %s", format, code, errOut)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		reports[format] = string(b)
	}
	jsonLines := strings.Split(strings.TrimSpace(jsonOut), "\n")

	n := 0
	for _, h := range hostilePayloads {
		for _, f := range hostileFields {
			n++
			// events table: PRINCIPAL shows the user name, ERROR the code.
			row := rowOf(table, n)
			if row == "" {
				add("events (table)", h, f, "row not found")
			} else {
				add("events (table)", h, f, checkTerminal(row, h, f == "userName" || f == "errorCode"))
			}
			// events --output json: the record as journaled, every field.
			id := fmt.Sprintf("00000000-0000-4000-8000-%012d", n)
			line := ""
			for _, l := range jsonLines {
				if strings.Contains(l, id) {
					line = l
				}
			}
			if line == "" {
				add("events (json)", h, f, "line not found")
			} else {
				add("events (json)", h, f, checkJSON(line, h.s, true, false))
			}
			// report: the timeline shows principal (ARN) and error code.
			shown := f == "userName" || f == "errorCode"
			for _, format := range []string{"md", "html"} {
				row := rowOf(reports[format], n)
				if row == "" {
					add("report --format "+format, h, f, "row not found")
					continue
				}
				add("report --format "+format, h, f, checkMarkup(row, reports[format], format, h, shown))
			}
		}
		// Notes, resource names, action errors: in the whole report.
		for _, f := range []string{"note", "resource name", "action error"} {
			for _, format := range []string{"md", "html"} {
				add("report --format "+format, h, f, checkMarkup(reports[format], reports[format], format, h, true))
			}
			add("report --format json", h, f, checkJSON(reports["json"], h.s, true, false))
		}
	}
	for _, h := range hostilePayloads {
		for _, f := range []string{"userName", "errorCode"} {
			add("report --format json", h, f, checkJSON(reports["json"], h.s, true, false))
		}
	}
	return res
}

// failures returns the cases not caught.
func failures(res []caseResult) []caseResult {
	var out []caseResult
	for _, r := range res {
		if r.problem != "" {
			out = append(out, r)
		}
	}
	return out
}

// reportFailures fails t with the first few failures of each path.
func reportFailures(t *testing.T, res []caseResult) {
	t.Helper()
	per := map[string]int{}
	for _, r := range failures(res) {
		per[r.path]++
		if per[r.path] <= 3 {
			t.Errorf("%s, %s in %s: %s", r.path, r.class, r.field, r.problem)
		}
	}
	for p, n := range per {
		if n > 3 {
			t.Errorf("%s: %d more cases not caught", p, n-3)
		}
	}
}

// TestHostileOutputOffline: events (table and JSON) and the report (md,
// html, json) of a journal holding every payload in every field.
func TestHostileOutputOffline(t *testing.T) {
	j := hostileJournal(t)
	reportFailures(t, hostileCases(t, j))
}
