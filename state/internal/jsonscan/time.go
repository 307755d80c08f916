package jsonscan

import "time"

// Time parses the UTC form of RFC 3339 that CloudTrail and the journal
// write, YYYY-MM-DDTHH:MM:SS[.fraction]Z with 1 to 9 fraction digits,
// without allocating. Whatever it accepts, time.Parse(time.RFC3339Nano, …)
// accepts as the same instant, in UTC; it refuses what time.Parse would
// refuse for that layout. It computes the instant itself rather than
// through time.Date: every record and every journal line has one.
func Time(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[len(b)-1] != 'Z' {
		return time.Time{}, false
	}
	d := (*[19]byte)(b)
	digits := true
	num2 := func(i int) int {
		hi, lo := d[i]-'0', d[i+1]-'0'
		digits = digits && hi <= 9 && lo <= 9
		return int(hi)*10 + int(lo)
	}
	year := num2(0)*100 + num2(2)
	month, day := num2(5), num2(8)
	hour, minute, sec := num2(11), num2(14), num2(17)
	if !digits || month < 1 || month > 12 || day < 1 || day > DaysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	nsec := 0
	if len(b) > 20 {
		frac := b[19 : len(b)-1]
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
			return time.Time{}, false
		}
		scale := 100000000
		for _, c := range frac[1:] {
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			nsec += int(c-'0') * scale
			scale /= 10
		}
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// daysSinceEpoch returns the days from 1970-01-01 to a date of the
// proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400
	if year < 0 {
		era = (year - 399) / 400
	}
	yoe := year - era*400                  // [0, 399]
	mp := (month + 9) % 12                 // March is 0
	doy := (153*mp+2)/5 + day - 1          // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era*146097 + doe - 719468)
}

// DaysIn returns the number of days in a month (1 to 12) of a year.
func DaysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
