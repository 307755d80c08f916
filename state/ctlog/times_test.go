package ctlog

import (
	"strings"
	"testing"
	"time"
)

// TestOutOfRangeTimesRejected: a time the event table cannot hold in int64
// nanoseconds is a problem quoting the value, never a time clamped to
// 1677 or 2262 (a 9999 record would otherwise sort as the newest event).
func TestOutOfRangeTimesRejected(t *testing.T) {
	rec := func(member string) []byte {
		return []byte(`{"eventVersion":"1.08","eventID":"e1",` + member + `,"eventName":"ListUsers","eventSource":"iam.amazonaws.com"}`)
	}
	for _, tc := range []struct {
		name, member, want string
	}{
		{"year 9999", `"eventTime":"9999-12-31T23:59:59Z"`, `eventTime "9999-12-31T23:59:59Z" is out of range`},
		{"year 0000", `"eventTime":"0000-01-01T00:00:00Z"`, `eventTime "0000-01-01T00:00:00Z" is out of range`},
		{"just past 2262", `"eventTime":"2262-04-11T23:47:17Z"`, `is out of range`},
		{"offset form", `"eventTime":"9000-01-01T00:00:00+02:00"`, `is out of range`},
		{"@timestamp", `"@timestamp":"3000-01-01T00:00:00Z"`, `@timestamp "3000-01-01T00:00:00Z" is out of range`},
		{"epoch seconds", `"eventTime":99999999999`, `is out of range`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRecord(rec(tc.member))
			if err == nil {
				t.Fatalf("accepted, EventTime %v", r.EventTime)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("problem %q, want it to contain %q", err, tc.want)
			}
		})
	}
	// The edges that fit are kept as they are.
	for _, ok := range []string{"2262-04-11T23:47:16Z", "1677-09-21T00:12:44Z", "2024-05-01T10:00:00Z"} {
		r, err := ParseRecord(rec(`"eventTime":"` + ok + `"`))
		if err != nil {
			t.Errorf("%s: %v", ok, err)
			continue
		}
		if got := r.EventTime.Format(time.RFC3339); got != ok {
			t.Errorf("%s stored as %s", ok, got)
		}
	}
}
