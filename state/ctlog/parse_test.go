package ctlog

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rec builds a small record; extra members are spliced in verbatim.
func rec(id string, extra ...string) string {
	m := []string{`"eventVersion":"1.08"`}
	if id != "" {
		m = append(m, `"eventID":"`+id+`"`)
	}
	m = append(m, `"eventTime":"2024-05-01T10:00:00Z"`, `"eventName":"ListUsers"`,
		`"eventSource":"iam.amazonaws.com"`, `"awsRegion":"us-east-1"`)
	m = append(m, extra...)
	return "{" + strings.Join(m, ",") + "}"
}

func gz(t testing.TB, parts ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, p := range parts { // one gzip member per part
		w := gzip.NewWriter(&b)
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// parse runs ParseBytes and returns the ids emitted and the problems.
func parse(t *testing.T, data []byte, opt Options) ([]Record, []Problem) {
	t.Helper()
	var recs []Record
	probs, err := ParseBytes("f.json", data, opt, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, probs
}

func ids(recs []Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.EventID)
	}
	return out
}

func TestShapes(t *testing.T) {
	a, b, c := rec("a"), rec("b"), rec("c")
	pretty, _ := json.MarshalIndent(json.RawMessage(`{"Records":[`+a+`,`+b+`]}`), "", "  ")
	prettyArr, _ := json.MarshalIndent(json.RawMessage(`[`+a+`,`+b+`]`), "", "\t")
	prettyOne, _ := json.MarshalIndent(json.RawMessage(a), "", "  ")
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	lookup := `{"Events":[{"EventId":"a","EventName":"ListUsers","CloudTrailEvent":` + q(a) + `},{"EventId":"b","CloudTrailEvent":` + q(b) + `}],"NextToken":"tok"}`
	lookupPretty, _ := json.MarshalIndent(json.RawMessage(lookup), "", "    ")
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"records wrapper", []byte(`{"Records":[` + a + `,` + b + `]}`), []string{"a", "b"}},
		{"records wrapper pretty", pretty, []string{"a", "b"}},
		{"records wrapper gzip", gz(t, `{"Records":[`+a+`,`+b+`]}`), []string{"a", "b"}},
		{"concatenated gzip members", gz(t, `{"Records":[`+a+`]}`, `{"Records":[`+b+`,`+c+`]}`), []string{"a", "b", "c"}},
		{"concatenated wrappers", []byte(`{"Records":[` + a + `]}{"Records":[` + b + `]}` + "\n"), []string{"a", "b"}},
		{"wrapper with a member before Records", []byte(`{"x":[1,{"y":null}],"Records":[` + a + `]}`), []string{"a"}},
		{"empty records", []byte(`{"Records":[]}`), []string{}},
		{"records wrapper one per line", []byte("{\"Records\":[\n" + a + ",\n" + b + "\n]}\n"), []string{"a", "b"}},
		{"records wrapper one per line crlf", []byte("{\"Records\": [\r\n" + a + ",\r\n" + b + "\r\n]}"), []string{"a", "b"}},
		{"bare array", []byte(`[` + a + `,` + b + `]`), []string{"a", "b"}},
		{"bare array pretty", prettyArr, []string{"a", "b"}},
		{"ndjson", []byte(a + "\n" + b + "\n\n  \n" + c + "\n"), []string{"a", "b", "c"}},
		{"ndjson crlf no final newline", []byte(a + "\r\n" + b + "\r\n" + c), []string{"a", "b", "c"}},
		{"ndjson gzip", gz(t, a+"\n"+b+"\n"), []string{"a", "b"}},
		{"single record pretty", prettyOne, []string{"a"}},
		{"byte order mark", []byte("\xef\xbb\xbf" + a), []string{"a"}},
		{"lookup events output", []byte(lookup), []string{"a", "b"}},
		{"lookup events pretty", lookupPretty, []string{"a", "b"}},
		{"lookup events list", []byte(`[{"EventId":"a","CloudTrailEvent":` + q(a) + `}]`), []string{"a"}},
		{"lookup events NextToken first", []byte(`{"NextToken":"x","Events":[{"CloudTrailEvent":` + q(a) + `}]}`), []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, probs := parse(t, tt.data, Options{})
			if len(probs) != 0 {
				t.Errorf("problems: %v", probs)
			}
			if got := ids(recs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			for _, r := range recs {
				if !json.Valid(r.Raw) || bytes.ContainsAny(r.Raw, " \n\t") {
					t.Errorf("Raw is not compact JSON: %s", r.Raw)
				}
			}
		})
	}
}

func TestBadRecords(t *testing.T) {
	good := rec("good")
	type prob struct {
		index, line int
		reason      string // a part of the reason
	}
	tests := []struct {
		name  string
		data  string
		want  []string
		probs []prob
	}{
		{"not an object", `[` + good + `,"x",3,` + rec("z") + `]`, []string{"good", "z"},
			[]prob{{1, 1, "record is a string, not an object"}, {2, 1, "record is a number"}}},
		{"no id and no time", `[` + good + `,{"eventName":"X","eventSource":"s"}]`, []string{"good"},
			[]prob{{1, 1, "no eventID, eventTime or @timestamp"}}},
		{"no time", `[` + good + `,{"eventID":"x","eventName":"X"}]`, []string{"good"},
			[]prob{{1, 1, "no eventTime or @timestamp"}}},
		{"bad time", "[\n" + good + ",\n" + `{"eventID":"x","eventTime":"yesterday \u001b[31m"}` + "\n]", []string{"good"},
			[]prob{{1, 3, `eventTime "yesterday \x1b[31m" is not a time`}}},
		{"time out of range", `[{"eventID":"x","eventTime":"2024-02-30T00:00:00Z"}]`, []string{},
			[]prob{{0, 1, "is not a time"}}},
		{"id not a string", `[` + good + `,{"eventID":7,"eventTime":"2024-05-01T10:00:00Z"}]`, []string{"good"},
			[]prob{{1, 1, "eventID is a number, not a string"}}},
		{"ndjson bad line", good + "\n{\"eventID\":\"x\",\n" + rec("after") + "\n", []string{"good", "after"},
			[]prob{{1, 2, "invalid JSON"}}},
		{"ndjson garbage line", good + "\nnot json\n" + rec("after") + "\n", []string{"good", "after"},
			[]prob{{1, 2, "unexpected character 'n'"}}},
		{"ndjson record not an object", good + "\n[1]\n" + rec("after") + "\n", []string{"good", "after"},
			[]prob{{1, 2, "record is a number"}}},
		{"truncated array", "[\n" + good + ",\n" + rec("cut")[:40], []string{"good"},
			[]prob{{1, 3, "invalid JSON at byte 201 (line 3): unterminated string"}}},
		{"lookup element with bad inner JSON", `{"Events":[{"CloudTrailEvent":"{\"eventID\":"},{"CloudTrailEvent":` + strings.ReplaceAll(fmt.Sprintf("%q", good), `\"`, `\"`) + `}]}`,
			[]string{"good"}, []prob{{0, 1, "CloudTrailEvent: invalid JSON"}}},
		{"lookup element not a string", `{"Events":[{"CloudTrailEvent":{}}]}`, []string{},
			[]prob{{0, 1, "CloudTrailEvent is an object, not a string"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, probs := parse(t, []byte(tt.data), Options{})
			if got := ids(recs); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records %v, want %v", got, tt.want)
			}
			if len(probs) != len(tt.probs) {
				t.Fatalf("problems %v, want %d", probs, len(tt.probs))
			}
			for i, p := range probs {
				w := tt.probs[i]
				if p.File != "f.json" || p.Index != w.index || p.Line != w.line || !strings.Contains(p.Reason, w.reason) {
					t.Errorf("problem %d = %+v, want %+v", i, p, w)
				}
			}
		})
	}
}

func TestMissingIDIsSynthesized(t *testing.T) {
	data := []byte(`[` + rec("") + `,` + rec("", `"x":1`) + `]`)
	recs, probs := parse(t, data, Options{})
	if len(probs) != 0 || len(recs) != 2 {
		t.Fatalf("records %d, problems %v", len(recs), probs)
	}
	if !strings.HasPrefix(recs[0].EventID, SyntheticIDPrefix) || len(recs[0].EventID) != len(SyntheticIDPrefix)+32 {
		t.Errorf("id %q", recs[0].EventID)
	}
	if recs[0].EventID == recs[1].EventID {
		t.Error("different records got the same synthesized id")
	}
	again, err := ParseRecord(recs[0].Raw)
	if err != nil || again.EventID != recs[0].EventID {
		t.Errorf("replay gives id %q (%v), want %q", again.EventID, err, recs[0].EventID)
	}
}

func TestNotCloudTrail(t *testing.T) {
	tests := []struct {
		name, data, reason string
	}{
		{"other JSON object", `{"name":"warroom","version":"1"}`, "not a CloudTrail log"},
		{"other NDJSON", "{\"level\":\"info\"}\n{\"level\":\"warn\"}\n", "not a CloudTrail log"},
		{"array of numbers", `[1,2,3]`, "not a CloudTrail log"},
		{"digest file", `{"awsAccountId":"1","digestStartTime":"2024-01-01T00:00:00Z","logFiles":[]}`, "not a CloudTrail log"},
		{"text", "hello", "not JSON"},
		{"binary", "\x00\x01\x02", "not JSON"},
		{"empty", "  \n", "empty"},
		{"not gzip after magic", "\x1f\x8bxxxxxxxxxxxxxxxxxxxxx", "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, probs := parse(t, []byte(tt.data), Options{})
			if len(recs) != 0 || len(probs) != 1 || probs[0].Index != -1 || !strings.Contains(probs[0].Reason, tt.reason) {
				t.Errorf("records %d, problems %v; want one file problem with %q", len(recs), probs, tt.reason)
			}
		})
	}
}

func TestGzipBomb(t *testing.T) {
	// 64 MiB of whitespace inside a record wrapper compresses to ~64 KiB.
	var b bytes.Buffer
	w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	w.Write([]byte(`{"Records":[` + rec("a")))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range 64 {
		w.Write(chunk)
	}
	w.Write([]byte(`]}`))
	w.Close()
	bomb := b.Bytes()

	dir := t.TempDir()
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("1-before.json", []byte(rec("before")))
	write("2-bomb.json.gz", bomb)
	write("3-after.json.gz", gz(t, `{"Records":[`+rec("after")+`]}`))

	var got []string
	st, probs, err := ParsePaths([]string{dir}, Options{MaxFileBytes: 8 << 20}, func(r Record) error {
		got = append(got, r.EventID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"before", "after"}) {
		t.Errorf("records %v", got)
	}
	if len(probs) != 1 || !strings.HasSuffix(probs[0].File, "2-bomb.json.gz") || probs[0].Index != -1 ||
		!strings.Contains(probs[0].Reason, "over the limit of 8388608 bytes (MaxFileBytes)") {
		t.Errorf("problems %v", probs)
	}
	if st.Files != 3 || st.Records != 2 || st.Skipped != 1 {
		t.Errorf("stats %+v", st)
	}
	// Under a larger cap the same file parses.
	recs, probs := parse(t, bomb, Options{MaxFileBytes: 128 << 20})
	if len(recs) != 1 || len(probs) != 0 {
		t.Errorf("with a larger cap: %d records, %v", len(recs), probs)
	}
}

func TestLimits(t *testing.T) {
	big := rec("big", `"pad":"`+strings.Repeat("x", 4000)+`"`)
	t.Run("record over MaxRecordBytes", func(t *testing.T) {
		recs, probs := parse(t, []byte(`[`+rec("a")+`,`+big+`,`+rec("b")+`]`), Options{MaxRecordBytes: 1000})
		if !reflect.DeepEqual(ids(recs), []string{"a", "b"}) || len(probs) != 1 || probs[0].Index != 1 ||
			!strings.Contains(probs[0].Reason, "over the limit of 1000 (MaxRecordBytes)") {
			t.Errorf("records %v, problems %v", ids(recs), probs)
		}
	})
	t.Run("plain file over MaxFileBytes", func(t *testing.T) {
		recs, probs := parse(t, []byte(big), Options{MaxFileBytes: 1000})
		if len(recs) != 0 || len(probs) != 1 || probs[0].Index != -1 {
			t.Errorf("records %v, problems %v", ids(recs), probs)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		deep := rec("deep", `"x":`+strings.Repeat("[", maxDepth+1)+strings.Repeat("]", maxDepth+1))
		recs, probs := parse(t, []byte(deep+"\n"+rec("ok")+"\n"), Options{})
		if !reflect.DeepEqual(ids(recs), []string{"ok"}) || len(probs) != 1 || !strings.Contains(probs[0].Reason, "nesting too deep") {
			t.Errorf("records %v, problems %v", ids(recs), probs)
		}
	})
}

func TestTruncatedGzip(t *testing.T) {
	// Flush after every record so that the first half of the stream
	// decompresses to whole records.
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(`{"Records":[` + rec("a")))
	for i := range 200 {
		fmt.Fprintf(w, ",%s", rec(fmt.Sprint(i)))
		w.Flush()
	}
	w.Write([]byte(`]}`))
	w.Close()
	full := b.Bytes()
	recs, probs := parse(t, full[:len(full)/2], Options{})
	if len(recs) == 0 || recs[0].EventID != "a" {
		t.Errorf("records before the cut were lost: %v", ids(recs))
	}
	var sawTrunc bool
	for _, p := range probs {
		sawTrunc = sawTrunc || (p.Index == -1 && strings.Contains(p.Reason, "truncated"))
	}
	if !sawTrunc {
		t.Errorf("problems %v", probs)
	}
}

func TestRedaction(t *testing.T) {
	const tok = "IQoJb3JpZ2luX2VjEOH//////////wEaCXVzLWVhc3QtMSJIMEYCIQ+abc=="
	m := marker(tok)
	tests := []struct {
		name    string
		member  string
		secrets []string // must not survive
		want    string   // must appear in Raw
	}{
		{"assume role", `"responseElements":{"credentials":{"accessKeyId":"ASIAX","expiration":"Nov 30, 2024, 8:43:17 PM","sessionToken":"` + tok + `"}}`,
			[]string{tok}, `"sessionToken":"` + m + `"`},
		{"secret access key", `"responseElements":{"credentials":{"accessKeyId":"ASIAX","secretAccessKey":"wJalrXUtnFEMI/K7MDENG","sessionToken":"` + tok + `"}}`,
			[]string{tok, "wJalrXUtnFEMI"}, `"secretAccessKey":"` + marker("wJalrXUtnFEMI/K7MDENG") + `"`},
		{"anywhere in the record", `"requestParameters":{"a":[{"b":{"SessionToken":"` + tok + `"}}]}`,
			[]string{tok}, `"SessionToken":"` + m + `"`},
		{"escaped member name", `"responseElements":{"credentials":{"session\u0054oken":"` + tok + `"}}`,
			[]string{tok}, `"session\u0054oken":"` + m + `"`},
		{"escaped token", `"responseElements":{"credentials":{"sessionToken":"IQoJb3JpZ2luX2VjEOH\/\/\/\/\/\/\/\/\/\/wEaCXVzLWVhc3QtMSJIMEYCIQ+abc=="}}`,
			[]string{"IQoJb3JpZ2luX2VjEOH"}, `"sessionToken":"` + m + `"`},
		{"token not a string", `"responseElements":{"credentials":{"sessionToken":{"v":"` + tok + `","n":[1, 2]}}}`,
			[]string{tok}, `"sessionToken":"` + marker(`{"v":"`+tok+`","n":[1,2]}`) + `"`},
		{"token a number", `"responseElements":{"credentials":{"sessionToken":12345}}`,
			[]string{"12345"}, `"sessionToken":"` + marker(`12345`) + `"`},
		{"null token kept", `"responseElements":{"credentials":{"sessionToken":null}}`,
			nil, `"sessionToken":null`},
		{"pretty-printed", "\"responseElements\" : {\n  \"credentials\" : {\n    \"sessionToken\" : \"" + tok + "\"\n  }\n}",
			[]string{tok}, `"responseElements":{"credentials":{"sessionToken":"` + m + `"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRecord([]byte(rec("a", tt.member)))
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range tt.secrets {
				for _, s := range recordStrings(r) {
					if strings.Contains(s, sec) {
						t.Errorf("secret %q survived in %q", sec, s)
					}
				}
			}
			if !bytes.Contains(r.Raw, []byte(tt.want)) {
				t.Errorf("Raw %s lacks %s", r.Raw, tt.want)
			}
			if !json.Valid(r.Raw) {
				t.Errorf("Raw is not JSON: %s", r.Raw)
			}
			again, err := ParseRecord(r.Raw)
			if err != nil || !bytes.Equal(again.Raw, r.Raw) {
				t.Errorf("redaction is not stable on replay: %s", again.Raw)
			}
		})
	}
	t.Run("lookup events element", func(t *testing.T) {
		inner := rec("a", `"responseElements":{"credentials":{"sessionToken":"`+tok+`"}}`)
		q, _ := json.Marshal(inner)
		recs, probs := parse(t, []byte(`{"Events":[{"EventId":"a","CloudTrailEvent":`+string(q)+`}]}`), Options{})
		if len(recs) != 1 || len(probs) != 0 {
			t.Fatalf("records %d, problems %v", len(recs), probs)
		}
		if bytes.Contains(recs[0].Raw, []byte(tok)) || !bytes.Contains(recs[0].Raw, []byte(m)) {
			t.Errorf("Raw %s", recs[0].Raw)
		}
	})
}

func TestFields(t *testing.T) {
	utc := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339Nano, s); return tm.UTC() }
	tests := []struct {
		name  string
		rec   string
		check func(r Record) (got, want any)
	}{
		{"user name from userIdentity", rec("a", `"userIdentity":{"type":"IAMUser","userName":"alice","arn":"arn:aws:iam::1:user/x/bob"}`),
			func(r Record) (any, any) { return r.UserName, "alice" }},
		{"user name from session issuer", rec("a", `"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"userName":"r"}}}`),
			func(r Record) (any, any) { return r.UserName, "r" }},
		{"user name from ARN", rec("a", `"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/role/sess"}`),
			func(r Record) (any, any) { return r.UserName, "sess" }},
		{"user name of root", rec("a", `"userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root"}`),
			func(r Record) (any, any) { return r.UserName, "root" }},
		{"last duplicate wins", rec("a", `"userIdentity":{"userName":"first","arn":"x"}`, `"userIdentity":{"type":"T"}`),
			func(r Record) (any, any) { return r.UserName + "|" + r.PrincipalARN + "|" + r.IdentityType, "||T" }},
		{"escapes decoded", rec("a", `"userAgent":"a\"b\\c\/d\n\u00e9\ud83d\ude00\ud800x"`),
			func(r Record) (any, any) { return r.UserAgent, "a\"b\\c/d\né😀\ufffdx" }},
		{"invalid UTF-8 replaced", rec("a", "\"userAgent\":\"a\xffb\""),
			func(r Record) (any, any) {
				return r.UserAgent + "|" + fmt.Sprint(bytes.HasSuffix(r.Raw, []byte(`"userAgent":"a\ufffdb"}`))), "a\ufffdb|true"
			}},
		{"leading-zero IP kept", rec("a", `"sourceIPAddress":"253.252.51.07"`),
			func(r Record) (any, any) { return r.SourceIP, "253.252.51.07" }},
		{"read-only as text", rec("a", `"readOnly":"true"`),
			func(r Record) (any, any) { return r.ReadOnly, ReadOnlyTrue }},
		{"read-only absent", rec("a"),
			func(r Record) (any, any) { return r.ReadOnly, ReadOnlyUnknown }},
		{"mfa", rec("a", `"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":"true","creationDate":"2024-05-01T09:00:00Z"}}}`),
			func(r Record) (any, any) {
				return fmt.Sprint(r.MFAAuthenticated, r.SessionIssuedAt), "true " + utc("2024-05-01T09:00:00Z").String()
			}},
		{"errors", rec("a", `"errorCode":"AccessDenied","errorMessage":"User: x is not authorized"`),
			func(r Record) (any, any) {
				return r.ErrorCode + "|" + r.ErrorMessage, "AccessDenied|User: x is not authorized"
			}},
		{"fractional time", `{"eventID":"a","eventTime":"2020-09-14T00:44:23.123Z"}`,
			func(r Record) (any, any) { return r.EventTime, utc("2020-09-14T00:44:23.123Z") }},
		{"time with offset", `{"eventID":"a","eventTime":"2021-11-18T09:41:02-08:00"}`,
			func(r Record) (any, any) { return r.EventTime, utc("2021-11-18T17:41:02Z") }},
		{"epoch time", `{"eventID":"a","eventTime":1571956406.5}`,
			func(r Record) (any, any) { return r.EventTime, utc("2019-10-24T22:33:26.5Z") }},
		{"eventTime beats @timestamp", `{"eventID":"a","@timestamp":"2020-01-01T00:00:00Z","eventTime":"2021-01-01T00:00:00Z"}`,
			func(r Record) (any, any) { return r.EventTime, utc("2021-01-01T00:00:00Z") }},
		{"addendum", rec("a", `"addendum":{"reason":"DELIVERY_DELAY","updatedFields":"x","originalRequestID":"rq","originalEventID":"ev"}`),
			func(r Record) (any, any) { return *r.Addendum, Addendum{"DELIVERY_DELAY", "x", "rq", "ev"} }},
		{"no addendum", rec("a", `"addendum":null`),
			func(r Record) (any, any) { return r.Addendum == nil, true }},
		{"assume role minted", rec("a", `"eventName":"AssumeRole"`, `"requestParameters":{"roleArn":"arn:aws:iam::1:role/r","roleSessionName":"s"}`,
			`"responseElements":{"credentials":{"accessKeyId":"ASIA1","expiration":"Jul 30, 2024, 9:46:15 PM","sessionToken":"t"}}`),
			func(r Record) (any, any) {
				return *r.Minted, Minted{"ASIA1", utc("2024-07-30T21:46:15Z"), "arn:aws:iam::1:role/r", "s"}
			}},
		{"federation minted", rec("a", `"eventName":"GetFederationToken"`, `"requestParameters":{"name":"bob"}`,
			`"responseElements":{"credentials":{"accessKeyId":"ASIA2","expiration":"2024-07-30T21:46:15Z"}}`),
			func(r Record) (any, any) { return *r.Minted, Minted{"ASIA2", utc("2024-07-30T21:46:15Z"), "", "bob"} }},
		{"name ignored outside federation", rec("a", `"requestParameters":{"name":"bob"}`,
			`"responseElements":{"credentials":{"accessKeyId":"ASIA3","expiration":1722375975}}`),
			func(r Record) (any, any) { return *r.Minted, Minted{"ASIA3", utc("2024-07-30T21:46:15Z"), "", ""} }},
		{"expiration with narrow space", rec("a", `"responseElements":{"credentials":{"accessKeyId":"ASIA4","expiration":"Jul 30, 2024, 9:46:15\u202fPM"}}`),
			func(r Record) (any, any) { return r.Minted.Expiration, utc("2024-07-30T21:46:15Z") }},
		{"expiration unknown", rec("a", `"responseElements":{"credentials":{"accessKeyId":"ASIA5","expiration":"soon"}}`),
			func(r Record) (any, any) { return r.Minted.Expiration.IsZero(), true }},
		{"no minted without a key", rec("a", `"responseElements":{"credentials":{"sessionToken":"t"}}`),
			func(r Record) (any, any) { return r.Minted == nil, true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRecord([]byte(tt.rec))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tt.check(r); !reflect.DeepEqual(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
}

func TestParseRecordErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "  ", "empty input"},
		{"trailing data", rec("a") + " x", "data after the record"},
		{"two records", rec("a") + rec("b"), "data after the record"},
		{"array", "[]", "not an object"},
		{"broken", `{"eventID":`, "unexpected end of input"},
		{"control character", "{\"eventID\":\"a\x01\"}", "control character"},
		{"bad escape", `{"eventID":"\x"}`, "invalid escape"},
		{"bad number", `{"eventID":"a","n":01}`, "expected ','"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRecord([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.json", Index: 3, Line: 7, Reason: "bad"}, "a.json:7: record 3: bad"},
		{Problem{File: "a.json", Index: 3, Reason: "bad"}, "a.json: record 3: bad"},
		{Problem{File: "a.json", Index: -1, Reason: "not JSON"}, "a.json: not JSON"},
		{Problem{File: "a.json", Index: 100, Reason: "bad", Count: 5}, "a.json: record 100 and 4 more like it (not listed one by one): bad"},
		{Problem{File: "a.json", Index: -1, Reason: "a FIFO", Count: 3}, "a.json: 3 problems like this one (not listed one by one): a FIFO"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.p.Error(); got != tt.want {
				t.Errorf("got %q", got)
			}
		})
	}
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("enough")
	n := 0
	_, err := ParseBytes("f", []byte(rec("a")+"\n"+rec("b")+"\n"+rec("c")), Options{}, func(Record) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("err %v after %d records", err, n)
	}
}

func TestIntern(t *testing.T) {
	seen := map[string]int{}
	opt := Options{Intern: func(b []byte) string { seen[string(b)]++; return string(b) }}
	r, err := ParseRecordWith([]byte(rec("a", `"userIdentity":{"accessKeyId":"AKIA1"}`)), opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.EventName != "ListUsers" || r.AccessKeyID != "AKIA1" || seen["ListUsers"] != 1 || seen["AKIA1"] != 1 || seen["a"] != 0 {
		t.Errorf("record %+v, interned %v", r, seen)
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	mk := func(p, data string) {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mk("b/2.json", rec("b2"))
	mk("b/10.json", rec("b10"))
	mk("a.json", rec("a"))
	mk("c/x.gz", rec("not-really-gzip")) // named .gz, plain JSON
	mk(".hidden.json", rec("hidden"))
	mk(".git/x.json", rec("hidden2"))
	mk("AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz", `{"digestStartTime":"x"}`)
	mk("notes.txt", "hello")
	if err := os.Symlink(dir, filepath.Join(dir, "b", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "a.json"), filepath.Join(dir, "c", "link.json")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		t.Logf("no fifo: %v", err)
	}
	var got []string
	st, probs, err := ParsePaths([]string{dir, filepath.Join(dir, "missing.json")}, Options{}, func(r Record) error {
		got = append(got, r.EventID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b10", "b2", "a", "not-really-gzip"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("records %v, want %v", got, want)
	}
	var names []string
	for _, p := range probs {
		names = append(names, filepath.Base(p.File))
	}
	// The FIFO is named, never opened (opening it would wait for a writer).
	if !reflect.DeepEqual(names, []string{"fifo", "notes.txt", "missing.json"}) || !strings.Contains(probs[0].Reason, "named pipe (FIFO)") {
		t.Errorf("problems %v", probs)
	}
	if st.Records != 5 || st.Files != 6 {
		t.Errorf("stats %+v", st)
	}
}

// TestBorrow checks that borrowed records carry the same values as owned
// ones while emit runs, on generated files and on the real samples.
func TestBorrow(t *testing.T) {
	g := newGen(7)
	inputs := map[string][]byte{"generated.json": g.file(300), "generated.json.gz": gz(t, string(g.file(50)))}
	if files, err := filepath.Glob(filepath.Join(samplesDir, "*", "*.json*")); err == nil {
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			inputs[filepath.Base(p)] = data
		}
	}
	for name, data := range inputs {
		t.Run(name, func(t *testing.T) {
			owned, probs := parse(t, data, Options{})
			if len(probs) != 0 {
				t.Fatalf("problems: %v", probs)
			}
			i := 0
			_, err := ParseBytes(name, data, Options{Borrow: true}, func(r Record) error {
				if i >= len(owned) || !reflect.DeepEqual(r, owned[i]) {
					t.Fatalf("borrowed record %d differs from owned", i)
				}
				i++
				return nil
			})
			if err != nil || i != len(owned) {
				t.Fatalf("%d borrowed records of %d, %v", i, len(owned), err)
			}
		})
	}
}

// TestRecordsDoNotOverlap checks that records cut from one block stay
// apart: growing one's Raw never writes into the next.
func TestRecordsDoNotOverlap(t *testing.T) {
	recs, probs := parse(t, []byte(`[`+rec("a", `"userAgent":"ua\u00e9"`)+`,`+rec("b", `"userAgent":"ub"`)+`]`), Options{})
	if len(recs) != 2 || len(probs) != 0 {
		t.Fatalf("records %d, problems %v", len(recs), probs)
	}
	want := bytes.Clone(recs[1].Raw)
	grown := append(recs[0].Raw, strings.Repeat("x", 4096)...)
	grown[0] = '!'
	if !bytes.Equal(recs[1].Raw, want) || recs[1].UserAgent != "ub" || recs[0].UserAgent != "ua\u00e9" || recs[0].Raw[0] != '{' {
		t.Errorf("records overlap: %q %q %q", recs[0].Raw, recs[1].Raw, recs[1].UserAgent)
	}
}

// TestLookupFallbacksReplay: a LookupEvents record that leans on its
// element's EventId or EventTime carries them in Raw, so that parsing Raw
// again (replay) gives the same Record; one with its own keeps Raw as is.
func TestLookupFallbacksReplay(t *testing.T) {
	tests := []struct {
		name, element string
		wantID        string
		wantTime      string
		rawHas        string
	}{
		{"no time, no id", `{"EventId":"x\"1","EventTime":1571956406.5,"CloudTrailEvent":"{\"eventName\":\"ListUsers\"}"}`,
			`x"1`, "2019-10-24T22:33:26.5Z", `"eventTime":"2019-10-24T22:33:26.5Z","eventID":"x\"1"}`},
		{"empty record, epoch zero", `{"EventTime":0,"CloudTrailEvent":"{}"}`,
			"", "1970-01-01T00:00:00Z", `{"eventTime":"1970-01-01T00:00:00Z"}`},
		{"null and empty ids", `{"EventId":"e","EventTime":"2024-05-01T10:00:00Z","CloudTrailEvent":"{ \"eventID\" : null ,\"eventID\":\"\" \n}"}`,
			"e", "2024-05-01T10:00:00Z", `"eventID":"","eventTime":"2024-05-01T10:00:00Z","eventID":"e"}`},
		{"own time and id", `{"EventId":"e","EventTime":0,"CloudTrailEvent":"{\"eventID\":\"own\",\"eventTime\":\"2024-05-01T10:00:00Z\"}"}`,
			"own", "2024-05-01T10:00:00Z", `{"eventID":"own","eventTime":"2024-05-01T10:00:00Z"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, probs := parse(t, []byte(`{"Events":[`+tt.element+`]}`), Options{})
			if len(recs) != 1 || len(probs) != 0 {
				t.Fatalf("records %d, problems %v", len(recs), probs)
			}
			r := recs[0]
			if tt.wantID != "" && r.EventID != tt.wantID {
				t.Errorf("EventID %q, want %q", r.EventID, tt.wantID)
			}
			if got := r.EventTime.Format(time.RFC3339Nano); got != tt.wantTime {
				t.Errorf("EventTime %s, want %s", got, tt.wantTime)
			}
			if !bytes.HasSuffix(r.Raw, []byte(tt.rawHas)) {
				t.Errorf("Raw %s does not end with %s", r.Raw, tt.rawHas)
			}
			again, err := ParseRecord(r.Raw)
			if err != nil || !reflect.DeepEqual(again, r) {
				t.Errorf("replay of %s differs: %v\n%+v\n%+v", r.Raw, err, again, r)
			}
		})
	}
}
