package ctlog

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/warroom-ir/warroom/state/internal/jsonscan"
)

// parseTime parses an event time: RFC 3339 (with or without fraction, Z or
// an offset). The common form, "2006-01-02T15:04:05Z" with an optional
// fraction, is parsed without allocating. Times are returned in UTC.
func parseTime(b []byte) (time.Time, bool) {
	if t, ok := jsonscan.Time(b); ok {
		return t, true
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// parseEpoch parses a number of seconds since 1970 (fractions allowed), as
// LookupEvents returns EventTime. Values too large to be seconds are taken
// as milliseconds.
func parseEpoch(b []byte) (time.Time, bool) {
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return time.Time{}, false
	}
	if v >= 1e11 { // later than year 5138 in seconds: milliseconds
		v /= 1000
	}
	if v >= 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(v)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), true
}

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// javaDate parses CloudTrail's usual expiration form without allocating:
// "Nov 30, 2024, 8:43:17 PM" (older records have no comma after the year;
// newer Java versions put a narrow no-break space before PM). It is UTC.
func javaDate(b []byte) (time.Time, bool) {
	if len(b) < 4 || b[3] != ' ' {
		return time.Time{}, false
	}
	month := 0
	for i, m := range months {
		if string(b[:3]) == m {
			month = i + 1
		}
	}
	if month == 0 {
		return time.Time{}, false
	}
	p := 4
	num := func(maxDigits int) int {
		v, n := 0, 0
		for p < len(b) && n < maxDigits && b[p] >= '0' && b[p] <= '9' {
			v = v*10 + int(b[p]-'0')
			p++
			n++
		}
		if n == 0 {
			return -1
		}
		return v
	}
	lit := func(s string) bool {
		if len(b)-p >= len(s) && string(b[p:p+len(s)]) == s {
			p += len(s)
			return true
		}
		return false
	}
	space := func() bool { return lit(" ") || lit("\u202f") || lit("\u00a0") }
	day := num(2)
	if day < 1 || !lit(", ") {
		return time.Time{}, false
	}
	year := num(4)
	if year < 0 {
		return time.Time{}, false
	}
	lit(",")
	if !space() {
		return time.Time{}, false
	}
	hour := num(2)
	if hour < 1 || hour > 12 || !lit(":") {
		return time.Time{}, false
	}
	minute := num(2)
	if minute < 0 || minute > 59 || !lit(":") {
		return time.Time{}, false
	}
	sec := num(2)
	if sec < 0 || sec > 59 || !space() {
		return time.Time{}, false
	}
	switch {
	case lit("AM"):
		if hour == 12 {
			hour = 0
		}
	case lit("PM"):
		if hour != 12 {
			hour += 12
		}
	default:
		return time.Time{}, false
	}
	if p != len(b) || day > jsonscan.DaysIn(month, year) {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

// expirationLayouts are the forms responseElements.credentials.expiration
// takes in real records: CloudTrail writes a Java-style English date in UTC
// ("Nov 30, 2024, 8:43:17 PM", older records without the second comma).
var expirationLayouts = []string{
	"Jan 2, 2006, 3:04:05 PM",
	"Jan 2, 2006 3:04:05 PM",
	"Jan 2, 2006, 15:04:05",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

// parseExpiration parses a minted credential's expiration in any of the
// forms seen: a Java-style date, RFC 3339, or epoch seconds (a JSON number
// or a numeric string). It returns the zero time when it cannot tell.
func parseExpiration(kind uint8, b []byte) time.Time {
	switch kind {
	case vNumber:
		t, _ := parseEpoch(b)
		return t
	case vString:
	default:
		return time.Time{}
	}
	if t, ok := javaDate(b); ok {
		return t
	}
	if len(b) > 0 && b[0] >= '0' && b[0] <= '9' {
		if t, ok := parseTime(b); ok {
			return t
		}
		if t, ok := parseEpoch(b); ok {
			return t
		}
	}
	// Newer Java versions put a narrow no-break space before AM/PM.
	b = bytes.ReplaceAll(b, []byte("\u202f"), []byte(" "))
	b = bytes.ReplaceAll(b, []byte("\u00a0"), []byte(" "))
	s := string(b)
	for _, layout := range expirationLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// The instants an int64 count of nanoseconds since 1970 can hold: the event
// table stores times that way, and a time outside would be clamped to an
// edge silently (9999-12-31 would sort as 2262-04-11, the newest event).
var (
	minTime = time.Unix(0, math.MinInt64+1).UTC() // MinInt64 itself is the table's "unknown"
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// timeRange says in a problem what representable means.
var timeRange = "times must lie between " + minTime.Format(time.RFC3339) + " and " + maxTime.Format(time.RFC3339)

// representable reports whether t is the zero time or fits in int64
// nanoseconds since 1970 without clamping.
func representable(t time.Time) bool {
	if t.IsZero() {
		return true
	}
	// Within 2^33 seconds (272 years) of 1970, it fits: the usual case.
	if sec := t.Unix(); sec > -1<<33 && sec < 1<<33 {
		return true
	}
	return !t.Before(minTime) && !t.After(maxTime)
}
