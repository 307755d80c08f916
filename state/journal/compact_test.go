package journal

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestCompactData checks both paths of compactData: compact data is checked
// strictly and kept as is; other data is compacted; invalid data is refused
// on either path.
func TestCompactData(t *testing.T) {
	tests := []struct {
		name, in, want, err string
	}{
		{"compact object", `{"a":[1,2,{"b":"c d"}],"e":null}`, `{"a":[1,2,{"b":"c d"}],"e":null}`, ""},
		{"space in strings only", `{"t":"a b\tc"}`, `{"t":"a b\tc"}`, ""},
		{"pretty", "{\n  \"a\": [\n    1,\n    2\n  ]\n}\n", `{"a":[1,2]}`, ""},
		{"spaces on one line", `{ "a" : [ 1 , 2 ] }`, `{"a":[1,2]}`, ""},
		{"leading and trailing space", ` [1, 2.5e3, true, null, "\u00e9\n"] `, `[1,2.5e3,true,null,"\u00e9\n"]`, ""},
		{"carriage return", "{\"a\":1,\r\"b\":2}", `{"a":1,"b":2}`, ""},
		{"raw newline in a string", "{\"a\":\"x\ny\"}", "", "not valid JSON"},
		{"bad literal, compact", `{"a":tru}`, "", "not valid JSON"},
		{"trailing text, compact", `{"a":1}x`, "", "not valid JSON"},
		{"two values, compact", `{}{}`, "", "not valid JSON"},
		{"bad number, compact", `{"a":01}`, "", "not valid JSON"},
		{"bad escape, compact", `{"a":"\q"}`, "", "not valid JSON"},
		{"unterminated, compact", `{"a":"b`, "", "not valid JSON"},
		{"bad literal, loose", `{ "a" : tru }`, "", "not valid JSON"},
		{"invalid utf-8", "{\"a\":\"\xff\"}", "", "UTF-8"},
		{"empty", ``, "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := compactData(json.RawMessage(tt.in))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("compactData(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || string(got) != tt.want {
				t.Fatalf("compactData(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}
