package state

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// checkEvents compares decodeEvents with encoding/json on data: when the
// fast decoder answers, encoding/json must succeed with the same value.
func checkEvents(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	got, ok := decodeEvents(data)
	if !ok {
		return false
	}
	var want Events
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("decodeEvents accepted %q, encoding/json refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeEvents(%q) = %#v, encoding/json gives %#v", data, got, want)
	}
	return true
}

// checkHealth is checkEvents for decodeHealth.
func checkHealth(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	got, ok := decodeHealth(data, interner{})
	if !ok {
		return false
	}
	var want StreamHealth
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatalf("decodeHealth accepted %q, encoding/json refuses it: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeHealth(%q) = %#v, encoding/json gives %#v", data, got, want)
	}
	return true
}

func TestDecodeEvents(t *testing.T) {
	tests := []struct {
		name string
		data string
		fast bool // the fast decoder answers (else encoding/json decides)
	}{
		{"recorder's form", `{"source":"lookup:eu-west-1","records":[{"eventID":"a","n":[1,2.5e-3,{"x":null}]},{"eventID":"b"}]}`, true},
		{"white space everywhere", " {\n\"source\" : \"s\" ,\t\"records\" : [ {\"a\":1} , [ ] , \"x\" ] }\r\n", true},
		{"empty records", `{"source":"s","records":[]}`, true},
		{"no members", `{}`, true},
		{"records of every kind", `{"records":[1,-0,0.5,1E+9,true,false,null,"\u00e9\"",{},[]]}`, true},
		{"escaped source", `{"source":"a\nb","records":[]}`, false},
		{"invalid UTF-8 in source", "{\"source\":\"\xff\",\"records\":[]}", false},
		{"skipped", `{"source":"s","records":[],"skipped":[{"file":"f","index":1,"reason":"r"}]}`, false},
		{"key in another case", `{"Source":"s","records":[]}`, false},
		{"escaped key", `{"sourc\u0065":"s","records":[]}`, false},
		{"non-ASCII source", `{"source":"hôte","records":[]}`, true},
		{"duplicate key", `{"source":"a","source":"b"}`, false},
		{"null records", `{"source":"s","records":null}`, false},
		{"records not an array", `{"records":{}}`, false},
		{"source not a string", `{"source":1}`, false},
		{"trailing comma", `{"records":[1,]}`, false},
		{"leading zero", `{"records":[01]}`, false},
		{"bare fraction", `{"records":[1.]}`, false},
		{"bad escape", `{"records":["\x"]}`, false},
		{"short unicode escape", `{"records":["\u12"]}`, false},
		{"control character", "{\"records\":[\"a\tb\"]}", false},
		{"data after the object", `{"records":[]} x`, false},
		{"truncated", `{"records":[{"a":1}`, false},
		{"not an object", `[1]`, false},
		{"empty", ``, false},
		{"bad literal", `{"records":[tru]}`, false},
		{"missing colon", `{"records" []}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fast := checkEvents(t, []byte(tt.data)); fast != tt.fast {
				t.Errorf("fast = %v, want %v", fast, tt.fast)
			}
		})
	}
}

func TestDecodeEventsRecordsAreExact(t *testing.T) {
	data := []byte(`{"records":[ {"a" : 1} ,"s"]}`)
	ev, ok := decodeEvents(data)
	if !ok {
		t.Fatal("not decoded")
	}
	want := []string{`{"a" : 1}`, `"s"`}
	if len(ev.Records) != len(want) {
		t.Fatalf("%d records, want %d", len(ev.Records), len(want))
	}
	for i, w := range want {
		if !bytes.Equal(ev.Records[i], []byte(w)) {
			t.Errorf("record %d = %q, want %q", i, ev.Records[i], w)
		}
	}
}

func TestDecodeHealth(t *testing.T) {
	tests := []struct {
		name string
		data string
		fast bool
	}{
		{"recorder's form", `{"source":"lookup:eu-west-1","region":"eu-west-1","status":"ok","lag":"41s","delivered":12}`, true},
		{"every field", `{"source":"s3://b/k","status":"error","lag":"1h2m3.5s","newest_at":"2026-11-23T04:00:00.123Z","error":"AccessDenied","delivered":-3}`, true},
		{"no members", `{}`, true},
		{"bad lag", `{"lag":"soon"}`, false},
		{"bad time", `{"newest_at":"yesterday"}`, false},
		{"time with escape", `{"newest_at":"2026-11-23T04:00:00\u005a"}`, false},
		{"fractional count", `{"delivered":1.5}`, false},
		{"exponent count", `{"delivered":1e3}`, false},
		{"count overflows", `{"delivered":99999999999999999999}`, false},
		{"count as string", `{"delivered":"3"}`, false},
		{"null error", `{"error":null}`, false},
		{"unknown key", `{"source":"s","extra":1}`, false},
		{"duplicate key", `{"lag":"1s","lag":"2s"}`, false},
		{"escaped status", `{"status":"o\"k"}`, false},
		{"escaped key", `{"st\u0061tus":"ok"}`, false},
		{"non-ASCII status", "{\"status\":\"d\u00e9j\u00e0\"}", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if fast := checkHealth(t, []byte(tt.data)); fast != tt.fast {
				t.Errorf("fast = %v, want %v", fast, tt.fast)
			}
		})
	}
}

// FuzzFastDecode checks the fast decoders against encoding/json: whatever
// they accept, encoding/json accepts and decodes to the same value.
func FuzzFastDecode(f *testing.F) {
	for _, s := range []string{
		`{"source":"lookup:eu-west-1","records":[{"eventID":"a","n":[1,2.5e-3,{"x":null}]}]}`,
		`{"source":"s","records":[],"skipped":[]}`,
		`{"records":[1,-0,0.5,1E+9,true,false,null,"\u00e9\"",{},[]]}`,
		`{"source":"lookup:eu-west-1","region":"eu-west-1","status":"ok","lag":"41s","delivered":12}`,
		`{"newest_at":"2026-11-23T04:00:00.123Z","error":"x","lag":"-1.5h"}`,
		` { "records" : [ [ [ ] ] ] } `,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkEvents(t, data)
		checkHealth(t, data)
		// skipValue must agree with json.Valid on a whole value.
		i := jsonscan.SkipWS(data, 0)
		end, ok := skipValue(data, i, 0)
		if ok && jsonscan.SkipWS(data, end) == len(data) && !json.Valid(data) {
			t.Fatalf("skipValue accepts %q, json.Valid does not", data)
		}
		if json.Valid(data) && len(data) < 4096 {
			if !ok || jsonscan.SkipWS(data, end) != len(data) {
				t.Fatalf("json.Valid accepts %q, skipValue does not", data)
			}
		}
	})
}

// BenchmarkDecode compares the fast decoders with encoding/json on the
// payloads a long journal is mostly made of.
func BenchmarkDecode(b *testing.B) {
	health := []byte(`{"source":"lookup:eu-west-1","region":"eu-west-1","status":"ok","lag":"41s","delivered":12}`)
	events := []byte(`{"source":"lookup:eu-west-1","records":[{"eventVersion":"1.09","eventID":"00000010-aaaa-4bbb-8ccc-0123456789ab","eventTime":"2026-11-23T04:00:00.01Z","eventName":"DescribeInstances","eventSource":"ec2.amazonaws.com","awsRegion":"eu-west-1","userIdentity":{"type":"IAMUser","accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}]}`)
	in := interner{}
	b.Run("health/fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeHealth(health, in); !ok {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("health/encoding-json", func(b *testing.B) {
		for b.Loop() {
			var v StreamHealth
			if err := json.Unmarshal(health, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("events/fast", func(b *testing.B) {
		for b.Loop() {
			if _, ok := decodeEvents(events); !ok {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("events/encoding-json", func(b *testing.B) {
		for b.Loop() {
			var v Events
			if err := json.Unmarshal(events, &v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
