package ctlog

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// seeds are inputs every fuzz target starts from (and that plain go test
// runs): the shapes, the tricky strings, the real samples.
func seeds(f *testing.F) {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	a := rec("a", `"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::1:role/r","userName":"r"},"attributes":{"mfaAuthenticated":"true","creationDate":"2024-05-01T09:00:00Z"}}}`)
	b := rec("b", `"eventName":"AssumeRole"`, `"requestParameters":{"roleArn":"x","roleSessionName":"y"}`,
		`"responseElements":{"credentials":{"accessKeyId":"ASIA1","sessionToken":"secret\/token","expiration":"Nov 30, 2024, 8:43:17 PM"}}`)
	for _, s := range []string{
		a, b,
		`{"Records":[` + a + `,` + b + `]}`,
		`[` + a + "," + b + `]`,
		a + "\n" + b + "\n",
		`{"Events":[{"EventId":"a","EventTime":1571956406.0,"CloudTrailEvent":` + q(a) + `}],"NextToken":"n"}`,
		`{"eventID":"\u0065\ud83d\ude00\ud800\udc00\ud800x\\\"\/","eventTime":"2024-05-01T10:00:00.5Z","userAgent":"\u00e9\xff\xfe"}`,
		`{"eventID":"x","eventTime":"2024-05-01T10:00:00Z","userIdentity":{"userName":"a"},"userIdentity":{"arn":"arn:x:y/z"}}`,
		`{"@timestamp":"2020-09-14T00:44:23.000Z","eventName":"ListBuckets","responseElements":{"credentials":{"SESSIONTOKEN":{"a":[1,2.5e3,true,null]}}}}`,
		`{"eventID":"x","eventTime":"2024-05-01T10:00:00Z","addendum":{"reason":"UPDATED_DATA","originalEventID":"y"}}`,
		"{\"eventID\":\"x\",\n\t\"eventTime\" : \"2024-05-01T10:00:00Z\" }",
		`[1,"x",null,{}]`, `{}`, `[]`, `{"a":`, `"\ud800"`, `-0.0e+1`, "",
	} {
		f.Add([]byte(s))
	}
	f.Add(gz(f, `{"Records":[`+a+`]}`, `{"Records":[`+b+`]}`))
	if files, err := filepath.Glob(filepath.Join(samplesDir, "*", "*.json*")); err == nil {
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil && len(data) < 64<<10 {
				f.Add(data)
			}
		}
	}
}

// checkRecord checks what every emitted record must satisfy.
func checkRecord(t *testing.T, r Record) {
	t.Helper()
	if !json.Valid(r.Raw) {
		t.Fatalf("Raw is not valid JSON: %q", r.Raw)
	}
	if r.EventID == "" || r.EventTime.IsZero() {
		t.Fatalf("record without id or time: %+v", r)
	}
	var v any
	if err := json.Unmarshal(r.Raw, &v); err != nil {
		t.Fatal(err)
	}
	if _, ok := v.(map[string]any); !ok {
		t.Fatalf("Raw is not an object: %q", r.Raw)
	}
	// No secret member keeps a value other than a marker or null.
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if isSecretKey([]byte(k)) {
					if s, ok := x.(string); x != nil && (!ok || !isMarker([]byte(s))) {
						t.Fatalf("secret member %q kept value %v in %q", k, x, r.Raw)
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	// Nor a secret's shape, anywhere (JSON in strings included).
	if path := secretIn(v, 0); path != "" {
		t.Fatalf("a secret survives at %s in %q", path, r.Raw)
	}
	again, err := ParseRecord(r.Raw)
	if err != nil {
		t.Fatalf("Raw does not parse again: %v\n%q", err, r.Raw)
	}
	if !reflect.DeepEqual(again, r) {
		t.Fatalf("parsing Raw again differs:\n%+v\n%+v", again, r)
	}
}

// FuzzParseBytes: arbitrary input never panics, every record emitted is
// sound, and every problem names its file and index.
func FuzzParseBytes(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{MaxFileBytes: 1 << 20, MaxRecordBytes: 1 << 16}
		var owned []Record
		probs, err := ParseBytes("fuzz.json", data, opt, func(r Record) error {
			checkRecord(t, r)
			owned = append(owned, r)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Borrowed records are the same while emit runs.
		opt.Borrow = true
		i := 0
		bprobs, _ := ParseBytes("fuzz.json", data, opt, func(r Record) error {
			if i >= len(owned) || !reflect.DeepEqual(r, owned[i]) {
				t.Fatalf("borrowed record %d differs", i)
			}
			i++
			return nil
		})
		if i != len(owned) || !reflect.DeepEqual(bprobs, probs) {
			t.Fatalf("borrowing: %d records of %d, problems %v and %v", i, len(owned), bprobs, probs)
		}
		for _, p := range probs {
			if p.File != "fuzz.json" || p.Index < -1 || p.Reason == "" || (p.Index >= 0 && p.Line < 1) {
				t.Fatalf("problem without file, index or line: %+v", p)
			}
		}
	})
}

// FuzzParseRecord: ParseRecord accepts exactly valid JSON objects (or
// fails), and what it accepts is sound.
func FuzzParseRecord(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := ParseRecord(raw)
		if err != nil {
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted invalid JSON %q", raw)
		}
		checkRecord(t, r)
	})
}

// fieldPaths says where each captured field is in a record.
var fieldPaths = map[field][]string{
	fEventID: {"eventID"}, fEventTime: {"eventTime"}, fTimestamp: {"@timestamp"},
	fEventName: {"eventName"}, fEventSource: {"eventSource"}, fEventType: {"eventType"},
	fRegion: {"awsRegion"}, fSourceIP: {"sourceIPAddress"}, fUserAgent: {"userAgent"},
	fErrorCode: {"errorCode"}, fErrorMessage: {"errorMessage"}, fReadOnly: {"readOnly"},
	fRequestID: {"requestID"}, fRecipient: {"recipientAccountId"}, fAddendum: {"addendum"},
	fCloudTrailEvent: {"CloudTrailEvent"}, fLookupTime: {"EventTime"}, fLookupID: {"EventId"},
	fRecords: {"Records"}, fEvents: {"Events"},
	fIdType: {"userIdentity", "type"}, fIdARN: {"userIdentity", "arn"},
	fIdPrincipal: {"userIdentity", "principalId"}, fIdAccount: {"userIdentity", "accountId"},
	fIdUser: {"userIdentity", "userName"}, fIdKey: {"userIdentity", "accessKeyId"},
	fIdInvokedBy: {"userIdentity", "invokedBy"},
	fMFA:         {"userIdentity", "sessionContext", "attributes", "mfaAuthenticated"},
	fCreation:    {"userIdentity", "sessionContext", "attributes", "creationDate"},
	fIssuerARN:   {"userIdentity", "sessionContext", "sessionIssuer", "arn"},
	fIssuerUser:  {"userIdentity", "sessionContext", "sessionIssuer", "userName"},
	fRoleARN:     {"requestParameters", "roleArn"}, fRoleSession: {"requestParameters", "roleSessionName"},
	fName:    {"requestParameters", "name"},
	fCredKey: {"responseElements", "credentials", "accessKeyId"}, fCredExp: {"responseElements", "credentials", "expiration"},
	fAddReason: {"addendum", "reason"}, fAddFields: {"addendum", "updatedFields"},
	fAddRequestID: {"addendum", "originalRequestID"}, fAddEventID: {"addendum", "originalEventID"},
}

// hasSecret reports whether v holds something the scanner redacts: a
// secret member, or a string with a secret's shape (JSON in strings
// included).
func hasSecret(v any) bool {
	return secretIn(v, 0) != "" || hasSecretMember(v)
}

func hasSecretMember(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if isSecretKey([]byte(k)) || hasSecretMember(x) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasSecretMember(x) {
				return true
			}
		}
	}
	return false
}

// scanResult is everything one scan of a value tells.
type scanResult struct {
	end     int
	err     string
	fields  [numFields]span
	texts   [numFields]string
	compact string
}

// scanWith scans the value in raw with s, leaving s on it.
func scanWith(s *scanner, raw []byte) scanResult {
	var r scanResult
	pos := jsonscan.SkipWS(raw, 0)
	s.reset(raw, pos)
	if pos == len(raw) {
		r.err = "empty"
		return r
	}
	end, serr := s.value(pos, ctxTop)
	r.end = end
	if serr != nil {
		r.err = serr.Error()
		return r
	}
	r.fields = s.fields
	for f := range numFields {
		r.texts[f] = string(s.text(f))
	}
	r.compact = string(s.compact(pos, end))
	return r
}

// differential checks the scanner against encoding/json on one value:
// the same validity, the same value for every captured field, and a
// compact form that decodes to the same value (secrets aside). Member
// prediction changes nothing: the value scanned again by the scanner that
// learned its order, and by one that predicts nothing, tells the same.
func differential(t *testing.T, raw []byte) {
	var s scanner
	first := scanWith(&s, raw)
	if again := scanWith(&s, raw); again != first {
		t.Fatalf("scanning again with the order learned differs:\n%+v\n%+v\ninput %q", again, first, raw)
	}
	fixed := scanner{learned: true, fixed: true}
	if ref := scanWith(&fixed, raw); ref != first {
		t.Fatalf("scanning without prediction differs:\n%+v\n%+v\ninput %q", ref, first, raw)
	}
	ok := first.err == "" && jsonscan.SkipWS(raw, first.end) == len(raw)
	if valid := json.Valid(raw); ok != valid {
		t.Fatalf("scanner says valid=%v (%v), encoding/json says %v: %q", ok, first.err, valid, raw)
	}
	if !ok {
		return
	}
	if n := countNames(t, raw); fixed.scanned != n {
		t.Fatalf("without prediction, %d of %d names scanned in %q", fixed.scanned, n, raw)
	}
	var ref any
	if err := decodeNumbers(raw, &ref); err != nil {
		t.Fatal(err)
	}
	compact := []byte(first.compact)
	var got any
	if err := decodeNumbers(compact, &got); err != nil {
		t.Fatalf("compact form %q: %v", compact, err)
	}
	if !json.Valid(compact) || bytes.ContainsAny(compact, "\n\r\t") {
		t.Fatalf("compact form is not compact JSON: %q", compact)
	}
	if !hasSecret(ref) && !reflect.DeepEqual(got, ref) {
		t.Fatalf("compact form %q decodes to %v, input to %v", compact, got, ref)
	}
	top, isObj := ref.(map[string]any)
	for f, path := range fieldPaths {
		var v any = top
		present := isObj
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				present = false
				break
			}
			if v, ok = m[k]; !ok {
				present = false
				break
			}
		}
		sp := first.fields[f]
		want := vAbsent
		if present {
			switch x := v.(type) {
			case string:
				want = vString
				if got := first.texts[f]; sp.kind == vString && got != x && !hasSecret(x) {
					t.Fatalf("field %v %v: scanner %q, encoding/json %q (input %q)", f, path, got, x, raw)
				}
			case json.Number:
				want = vNumber
			case bool:
				want = vFalse
				if x {
					want = vTrue
				}
			case nil:
				want = vNull
			case map[string]any:
				want = vObject
			case []any:
				want = vArray
			}
		}
		if sp.kind != want {
			t.Fatalf("field %v %v: scanner kind %d, encoding/json %d (%v) in %q", f, path, sp.kind, want, v, raw)
		}
	}
}

// decodeNumbers is json.Unmarshal into v with numbers kept as text, so
// that numbers no float64 holds (1e700) are valid JSON too.
func decodeNumbers(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// countNames counts the member names in the JSON value raw, as
// encoding/json reads them.
func countNames(t *testing.T, raw []byte) int {
	d := json.NewDecoder(bytes.NewReader(raw))
	// Numbers as text: 1e700 is valid JSON too.
	d.UseNumber()
	type level struct{ obj, name bool } // name: a member name comes next
	var st []level
	n := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if k := len(st) - 1; k >= 0 && st[k].name && tok != json.Delim('}') {
			n++
			st[k].name = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			st = append(st, level{obj: true, name: true})
			continue
		case json.Delim('['):
			st = append(st, level{})
			continue
		case json.Delim('}'), json.Delim(']'):
			st = st[:len(st)-1]
		}
		// A value is complete: in an object, a name comes next.
		if k := len(st) - 1; k >= 0 && st[k].obj {
			st[k].name = true
		}
	}
}

// FuzzScannerDifferential compares the scanner with encoding/json on the
// same input, field by field.
func FuzzScannerDifferential(f *testing.F) {
	seeds(f)
	f.Fuzz(differential)
}

func TestScannerDifferential(t *testing.T) {
	tests := []struct{ name, in string }{
		{"escapes", `{"eventID":"\"\\\/\b\f\n\r\t\u0041\u00e9\u20ac"}`},
		{"surrogate pair", `{"userAgent":"\ud83d\ude00 \uD83D\uDE00"}`},
		{"lone high surrogate", `{"userAgent":"\ud83dx"}`},
		{"lone low surrogate", `{"userAgent":"\ude00"}`},
		{"high then high", `{"userAgent":"\ud83d\ud83d\ude00"}`},
		{"high then escape", `{"userAgent":"\ud83d\n"}`},
		{"invalid UTF-8", "{\"userAgent\":\"a\xffb\xc3(\xed\xa0\x80\"}"},
		{"valid UTF-8", "{\"userAgent\":\"h\u00e9llo \u4e16\u754c \U0001F600\"}"},
		{"escaped names", `{"event\u0049D":"a","user\u0049dentity":{"\u0074ype":"t"}}`},
		{"duplicate wins", `{"eventName":"a","eventName":"b","userIdentity":{"type":"x","arn":"y"},"userIdentity":{"type":"z"}}`},
		{"wrong types", `{"eventID":1,"eventTime":true,"userIdentity":"x","requestParameters":[1],"readOnly":"true"}`},
		{"case differs", `{"EventID":"a","eventid":"b","eventID":"c"}`},
		{"numbers", `{"n":[0,-0,1.5,-1e10,1E+2,2e-3,123456789012345678901234567890]}`},
		{"deep", `{"a":[[[[{"b":{"c":[{}]}}]]]]}`},
		{"whitespace", " \t\n{ \"eventID\" :\r\n \"a\" , \"x\" : [ 1 , { } ] } \n"},
		{"bad: leading zero", `{"n":01}`},
		{"bad: trailing comma", `{"a":1,}`},
		{"bad: control char", "{\"a\":\"\x01\"}"},
		{"bad: bad escape", `{"a":"\q"}`},
		{"bad: short unicode", `{"a":"\u12"}`},
		{"bad: single quote", `{'a':1}`},
		{"bad: nothing after minus", `[-]`},
		{"bad: exponent", `[1e]`},
		{"bad: dot", `[1.]`},
		{"bad: literal", `[tru]`},
		{"bad: two values", `{} {}`},
		{"bad: unclosed", `{"a":[1,2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { differential(t, []byte(tt.in)) })
	}
}

func TestSecretKeyNames(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"sessionToken", true}, {"SessionToken", true}, {"SESSIONTOKEN", true},
		{"secretAccessKey", true}, {"SecretAccessKey", true},
		{"sessionTokens", false}, {"accessKeyId", false}, {"token", false}, {"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isSecretKey([]byte(tt.name)); got != tt.want {
				t.Errorf("got %v", got)
			}
		})
	}
}
