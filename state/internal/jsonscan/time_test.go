package jsonscan

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestTimeMatchesTimeParse sweeps dates across leap years, century
// and era boundaries, every day a month may or may not have, and the edges
// of the clock: whatever Time accepts, time.Parse accepts as the
// same instant, and every well-formed time takes the fast path.
func TestTimeMatchesTimeParse(t *testing.T) {
	years := []int{0, 1, 3, 4, 99, 100, 399, 400, 401, 1600, 1900, 1969, 1970, 1971, 2000, 2023, 2024, 2100, 2400, 9999}
	clocks := []string{"00:00:00", "23:59:59", "12:34:56", "24:00:00", "23:60:00", "23:59:60", "1a:00:00"}
	fracs := []string{"", ".5", ".000", ".123456789", ".1234567890", ".", ".1x"}
	n := 0
	for _, y := range years {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				check(t, fmt.Sprintf("%04d-%02d-%02dT12:34:56Z", y, m, d))
				n++
			}
		}
	}
	for _, date := range []string{"1969-12-31", "1970-01-01", "2024-02-29", "0000-01-01", "9999-12-31"} {
		for _, c := range clocks {
			for _, f := range fracs {
				check(t, date+"T"+c+f+"Z")
			}
		}
	}
	for _, s := range []string{
		"2024-05-01T10:00:00+00:00", "2024-05-01 10:00:00Z", "2024-5-01T10:00:00Z",
		"2024-05-01T10:00:00z", "-024-05-01T10:00:00Z", "2024-05-01T10:00:00.Z", "",
	} {
		check(t, s)
	}
	if n == 0 {
		t.Fatal("nothing checked")
	}
}

func check(t *testing.T, s string) {
	t.Helper()
	got, ok := Time([]byte(s))
	want, err := time.Parse(time.RFC3339Nano, s)
	if ok {
		if err != nil {
			t.Fatalf("%q: fast path accepts %v, time.Parse rejects: %v", s, got, err)
		}
		if want = want.UTC(); !reflect.DeepEqual(got, want) || got.Location() != time.UTC {
			t.Fatalf("%q: fast path %v (%#v), time.Parse %v (%#v)", s, got, got, want, want)
		}
		return
	}
	// What time.Parse takes in this form, the fast path takes too.
	if err == nil && len(s) >= 20 && len(s) <= 30 && s[len(s)-1] == 'Z' && s[10] == 'T' {
		t.Fatalf("%q: time.Parse accepts %v, the fast path does not", s, want)
	}
}

func TestDaysSinceEpoch(t *testing.T) {
	for y := -1000; y <= 3000; y += 7 {
		for _, md := range [][2]int{{1, 1}, {2, 28}, {2, 29}, {3, 1}, {12, 31}} {
			want := time.Date(y, time.Month(md[0]), md[1], 0, 0, 0, 0, time.UTC).Unix() / 86400
			if md[1] > DaysIn(md[0], y) {
				continue
			}
			if got := daysSinceEpoch(y, md[0], md[1]); got != want {
				t.Fatalf("%04d-%02d-%02d: %d days, want %d", y, md[0], md[1], got, want)
			}
		}
	}
}
