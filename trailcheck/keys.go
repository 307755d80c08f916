package trailcheck

import "time"

// LogKeyTime is the delivery time a CloudTrail log file's key names
// (…/CloudTrail/REGION/Y/M/D/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_….json.gz),
// to the minute; false when key is not a log file's.
func LogKeyTime(key string) (time.Time, bool) { return logKeyTime(key) }
