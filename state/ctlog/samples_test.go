package ctlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// samplesDir holds real CloudTrail samples recorded by others; the
// repository is cloned with shared/ beside it.
const samplesDir = "../../../shared/testdata/cloudtrail"

func needSamples(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(samplesDir); err != nil {
		t.Skipf("real CloudTrail samples not found at %s (clone shared/ beside the repository): %v", samplesDir, err)
	}
}

// independentRecords decodes a sample with encoding/json alone, not with
// the parser under test, and returns its records as generic values. ok is
// false for files that are not CloudTrail logs.
func independentRecords(t *testing.T, path string) (recs []map[string]any, ok bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || (trimmed[0] != '{' && trimmed[0] != '[') {
		return nil, false
	}
	var whole any
	if err := json.Unmarshal(trimmed, &whole); err != nil {
		// One record per line.
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) == 0 {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("%s: a line is not JSON: %v", path, err)
			}
			recs = append(recs, m)
		}
		return recs, true
	}
	var elems []any
	switch w := whole.(type) {
	case []any:
		elems = w
	case map[string]any:
		switch {
		case w["Records"] != nil:
			elems = w["Records"].([]any)
		case w["Events"] != nil:
			elems = w["Events"].([]any)
		default:
			return []map[string]any{w}, true
		}
	}
	for _, e := range elems {
		m := e.(map[string]any)
		if ct, ok := m["CloudTrailEvent"].(string); ok {
			m = nil
			if err := json.Unmarshal([]byte(ct), &m); err != nil {
				t.Fatal(err)
			}
		}
		recs = append(recs, m)
	}
	return recs, true
}

// secretsIn collects every sessionToken and secretAccessKey string in v.
func secretsIn(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && (strings.EqualFold(k, "sessionToken") || strings.EqualFold(k, "secretAccessKey")) {
				*out = append(*out, s)
			}
			secretsIn(x, out)
		}
	case []any:
		for _, x := range v {
			secretsIn(x, out)
		}
	}
}

// recordStrings returns every string field of a record, Minted and
// Addendum included.
func recordStrings(r Record) []string {
	var out []string
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			out = append(out, v.String())
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Struct:
			for i := range v.NumField() {
				walk(v.Field(i))
			}
		}
	}
	walk(reflect.ValueOf(r))
	return append(out, string(r.Raw))
}

func marker(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "REDACTED sha256:" + hex.EncodeToString(sum[:])
}

// TestRealSamples parses every real sample and checks that no record is
// lost, that every record has its key fields, and that no session token
// survives anywhere.
func TestRealSamples(t *testing.T) {
	needSamples(t)
	got := map[string][]Record{}
	st, probs, err := ParsePaths([]string{samplesDir}, Options{}, func(r Record) error {
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Parse again file by file to group records by file.
	var files []string
	err = filepath.WalkDir(samplesDir, func(p string, e os.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	total, logs := 0, 0
	for _, f := range files {
		want, isLog := independentRecords(t, f)
		var recs []Record
		fprobs, err := ParseFile(f, Options{}, func(r Record) error { recs = append(recs, r); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if !isLog {
			if len(recs) != 0 || len(fprobs) != 1 || fprobs[0].Index != -1 {
				t.Errorf("%s: not a log, want one file problem, got %d records and %v", f, len(recs), fprobs)
			}
			continue
		}
		logs++
		got[filepath.Base(f)] = recs
		total += len(recs)
		if len(fprobs) != 0 {
			t.Errorf("%s: problems: %v", f, fprobs)
		}
		if len(recs) != len(want) {
			t.Errorf("%s: %d records, encoding/json counts %d", f, len(recs), len(want))
			continue
		}
		for i, r := range recs {
			if r.EventID == "" || r.EventTime.IsZero() || r.EventName == "" || r.EventSource == "" || r.Region == "" {
				t.Errorf("%s: record %d lacks a key field: id=%q time=%v name=%q source=%q region=%q",
					f, i, r.EventID, r.EventTime, r.EventName, r.EventSource, r.Region)
			}
			if r.EventID != want[i]["eventID"] || r.EventName != want[i]["eventName"] || r.SourceIP != want[i]["sourceIPAddress"] {
				t.Errorf("%s: record %d: got id=%q name=%q ip=%q, want %v %v %v", f, i, r.EventID, r.EventName, r.SourceIP,
					want[i]["eventID"], want[i]["eventName"], want[i]["sourceIPAddress"])
			}
			if !json.Valid(r.Raw) {
				t.Errorf("%s: record %d: Raw is not valid JSON", f, i)
			}
			var secrets []string
			secretsIn(want[i], &secrets)
			for _, sec := range secrets {
				for _, s := range recordStrings(r) {
					if strings.Contains(s, sec) {
						t.Errorf("%s: record %d: a session token survived", f, i)
					}
				}
				if !bytes.Contains(r.Raw, []byte(marker(sec))) {
					t.Errorf("%s: record %d: no redaction marker for a token", f, i)
				}
			}
			// Raw is a fixed point: parsing it again changes nothing.
			again, err := ParseRecord(r.Raw)
			if err != nil {
				t.Errorf("%s: record %d: Raw does not parse again: %v", f, i, err)
			} else if !reflect.DeepEqual(again, r) {
				t.Errorf("%s: record %d: parsing Raw again gives a different record", f, i)
			}
		}
	}
	if logs < 5 {
		t.Fatalf("only %d sample logs found", logs)
	}
	if st.Records != total {
		t.Errorf("ParsePaths emitted %d records, file by file %d", st.Records, total)
	}
	for _, p := range probs {
		if p.Index != -1 {
			t.Errorf("ParsePaths: unexpected record problem %v", p)
		}
	}

	find := func(file, id string) Record {
		t.Helper()
		for _, r := range got[file] {
			if r.EventID == id {
				return r
			}
		}
		t.Fatalf("%s: no record %s", file, id)
		return Record{}
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"lookup: event name", find("lookup-events-cli-output.json", "654ccbc0-ba0d-486a-9076-dbf7274677a7").EventName, "ConsoleLogin"},
		{"lookup: time from the record", find("lookup-events-cli-output.json", "654ccbc0-ba0d-486a-9076-dbf7274677a7").EventTime, utc("2016-01-26T21:42:12Z")},
		{"lookup: type", find("lookup-events-cli-output.json", "654ccbc0-ba0d-486a-9076-dbf7274677a7").EventType, "AwsConsoleSignIn"},
		{"lookup: user from session issuer", find("lookup-events-cli-output.json", "654ccbc0-ba0d-486a-9076-dbf7274677a7").UserName, "my-role"},
		{"lookup: issuer", find("lookup-events-cli-output.json", "654ccbc0-ba0d-486a-9076-dbf7274677a7").SessionIssuerARN, "arn:aws:iam::123456789012:role/my-role"},
		{"lookup: issued at", find("lookup-events-cli-output.json", "654ccbc0-ba0d-486a-9076-dbf7274677a7").SessionIssuedAt, utc("2016-01-26T21:42:12Z")},
		{"lookup: raw is the inner record", bytes.HasPrefix(find("lookup-events-cli-output.json", "654ccbc0-ba0d-486a-9076-dbf7274677a7").Raw, []byte(`{"eventVersion":"1.02","userIdentity":{"type":"AssumedRole"`)), true},
		{"otrf: @timestamp fallback", find("ec2_proxy_s3_exfiltration_2020-09-14011940.json", "fd4f1042-c7f6-4107-a6ee-d841d92596e7").EventTime, utc("2020-09-14T00:44:23Z")},
		{"otrf: user", find("ec2_proxy_s3_exfiltration_2020-09-14011940.json", "fd4f1042-c7f6-4107-a6ee-d841d92596e7").UserName, "pedro"},
		{"otrf: mfa", find("ec2_proxy_s3_exfiltration_2020-09-14011940.json", "fd4f1042-c7f6-4107-a6ee-d841d92596e7").MFAAuthenticated, true},
		{"otrf: key", find("ec2_proxy_s3_exfiltration_2020-09-14011940.json", "fd4f1042-c7f6-4107-a6ee-d841d92596e7").AccessKeyID, "ASIA5FLZVX4OI4ZDQJOL"},
		{"stratus: minted key", find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").Minted.AccessKeyID, "ASIASTJKC5GCM7ZE6LUP"},
		{"stratus: minted expiry", find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").Minted.Expiration, utc("2024-11-30T20:43:17Z")},
		{"stratus: federation name", find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").Minted.SessionName, "stratus_red_team"},
		{"stratus: parent key", find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").AccessKeyID, "AKIA6V1GNZTT65XQH36M"},
		{"stratus: leading-zero IP kept", find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").SourceIP, "255.090.254.5"},
		{"stratus: fake region kept", find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").Region, "ap-isob-east-1r"},
		{"stratus: read-only false", find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").ReadOnly, ReadOnlyFalse},
		{"stratus: read-only true", find("aws.persistence.sts-federation-token.json", "91529247-c4c4-4793-afc8-d70bbcfe9d19").ReadOnly, ReadOnlyTrue},
		{"stratus: federated user's issuer", find("aws.persistence.sts-federation-token.json", "91529247-c4c4-4793-afc8-d70bbcfe9d19").UserName, "stratus-red-team-user-federation-user"},
		{"stratus: token redacted", bytes.Contains(find("aws.persistence.sts-federation-token.json", "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70").Raw,
			[]byte(`"sessionToken":"REDACTED sha256:`)), true},
		{"trailscraper gz: assumed role", find("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", "b25ff7e3-f1cf-4b7f-883d-b09168c454d5").Minted.RoleARN, "arn:aws:iam::111111111111:role/someRole"},
		{"trailscraper gz: session", find("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", "b25ff7e3-f1cf-4b7f-883d-b09168c454d5").Minted.SessionName, "AutoScalingDescribeHandlerSession"},
		{"trailscraper gz: old expiry form", find("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", "b25ff7e3-f1cf-4b7f-883d-b09168c454d5").Minted.Expiration, utc("2017-11-18T01:21:51Z")},
		{"trailscraper gz: invoked by", find("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", "b25ff7e3-f1cf-4b7f-883d-b09168c454d5").InvokedBy, "config.amazonaws.com"},
		{"trailscraper gz: service as source IP", find("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", "b25ff7e3-f1cf-4b7f-883d-b09168c454d5").SourceIP, "config.amazonaws.com"},
		{"trailscraper gz: token hashed", bytes.Contains(find("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json.gz", "b25ff7e3-f1cf-4b7f-883d-b09168c454d5").Raw,
			[]byte(marker("someSessionToken"))), true},
		{"trailscraper: same as gz", find("111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json", "a0ed971f-389f-406a-9fcf-887c5ca6903a").UserName, "someRole"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}
