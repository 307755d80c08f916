package sim

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/sim/awscli"
	"github.com/warroom-ir/warroom/aws/sim/gen"
)

func (e *testEnv) athena(c Credentials, region string) *athena.Client {
	return athena.NewFromConfig(e.cfg(c, region))
}

// runAthena runs sql to its end and returns the final execution.
func runAthena(t testing.TB, a *athena.Client, sql, db, output string) *athenatypes.QueryExecution {
	t.Helper()
	ctx := context.Background()
	in := &athena.StartQueryExecutionInput{QueryString: aws.String(sql),
		ResultConfiguration: &athenatypes.ResultConfiguration{OutputLocation: aws.String(output)}}
	if db != "" {
		in.QueryExecutionContext = &athenatypes.QueryExecutionContext{Database: aws.String(db), Catalog: aws.String("AwsDataCatalog")}
	}
	out, err := a.StartQueryExecution(ctx, in)
	if err != nil {
		t.Fatalf("StartQueryExecution: %v", err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		g, err := a.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: out.QueryExecutionId})
		if err != nil {
			t.Fatalf("GetQueryExecution: %v", err)
		}
		switch g.QueryExecution.Status.State {
		case athenatypes.QueryExecutionStateSucceeded, athenatypes.QueryExecutionStateFailed, athenatypes.QueryExecutionStateCancelled:
			return g.QueryExecution
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s still %s", *out.QueryExecutionId, g.QueryExecution.Status.State)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustSucceed fails the test unless the query succeeded.
func mustSucceed(t testing.TB, q *athenatypes.QueryExecution) *athenatypes.QueryExecution {
	t.Helper()
	if q.Status.State != athenatypes.QueryExecutionStateSucceeded {
		t.Fatalf("query %q: %s: %s", aws.ToString(q.Query), q.Status.State, aws.ToString(q.Status.StateChangeReason))
	}
	return q
}

// athenaResults reads every page of a query's results: the column
// metadata, the header row, and the data rows (nil for NULL).
func athenaResults(t testing.TB, a *athena.Client, id string, pageSize int32) ([]athenatypes.ColumnInfo, []string, [][]*string, int) {
	t.Helper()
	var cols []athenatypes.ColumnInfo
	var header []string
	var rows [][]*string
	pages := 0
	var token *string
	for {
		in := &athena.GetQueryResultsInput{QueryExecutionId: aws.String(id), NextToken: token}
		if pageSize > 0 {
			in.MaxResults = aws.Int32(pageSize)
		}
		out, err := a.GetQueryResults(context.Background(), in)
		if err != nil {
			t.Fatalf("GetQueryResults: %v", err)
		}
		if pageSize > 0 && len(out.ResultSet.Rows) > int(pageSize) {
			t.Fatalf("page of %d rows, asked for %d", len(out.ResultSet.Rows), pageSize)
		}
		for i, r := range out.ResultSet.Rows {
			vals := make([]*string, len(r.Data))
			for k, d := range r.Data {
				vals[k] = d.VarCharValue
			}
			if pages == 0 && i == 0 {
				cols = out.ResultSet.ResultSetMetadata.ColumnInfo
				for _, v := range vals {
					header = append(header, aws.ToString(v))
				}
				continue
			}
			rows = append(rows, vals)
		}
		pages++
		if out.NextToken == nil {
			return cols, header, rows, pages
		}
		token = out.NextToken
	}
}

// orgBucket fills the drill's bucket with an organisation trail's log
// files: gen's records for each account, under
// AWSLogs/ORG/ACCOUNT/CloudTrail/REGION/Y/M/D/, uploaded through the
// SDK. It returns the records by S3 key.
var orgSizes = map[string]int64{}

func orgBucket(t testing.TB, env *testEnv, org string, accounts []string, events int, end time.Time) map[string][]map[string]any {
	t.Helper()
	s3c := env.s3(env.sim.Responder())
	out := map[string][]map[string]any{}
	for i, acct := range accounts {
		dir := t.TempDir()
		// a dense hour of activity on each of three days
		for d := range 3 {
			if _, err := gen.Write(dir, gen.Options{Events: events / 3, Seed: uint64(100 + 10*i + d), AccountID: acct,
				End: end.Add(-time.Duration(d) * 24 * time.Hour), Rate: float64(events/3) / 3600,
				Regions: []string{"us-east-1", "eu-west-1"}, PerFile: 200}); err != nil {
				t.Fatal(err)
			}
		}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join(dir, "AWSLogs"), p)
			key := "AWSLogs/" + org + "/" + filepath.ToSlash(rel)
			if len(out) < 3 {
				// a few through S3's API, the rest put in place (thousands
				// of PutObject calls would take the test's time)
				if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(env.sim.TrailBucket()),
					Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
					return err
				}
			} else {
				env.sim.putObject(key, body)
			}
			out[key] = decodeLog(t, body)
			orgSizes[key] = int64(len(body))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func decodeLog(t testing.TB, gz []byte) []map[string]any {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Records []map[string]any }
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Records
}

func str(v any, path ...string) (string, bool) {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		v = m[p]
	}
	s, ok := v.(string)
	return s, ok
}

// orgTableDDL is the organisation trail's table with partition
// projection on account, Region and day.
func orgTableDDL(bucket, org string, accounts []string) string {
	ddl, err := os.ReadFile("testdata/athena/cloudtrail_logs_pp.sql")
	if err != nil {
		panic(err)
	}
	s := string(ddl)
	s = strings.Replace(s, "cloudtrail_logs_pp(", "org_trail(", 1)
	s = strings.Replace(s, "PARTITIONED BY (\n   `timestamp` string)", "PARTITIONED BY (account string COMMENT 'the member account', region string, `timestamp` string)", 1)
	s = strings.Replace(s, "LOCATION\n  's3://bucket/AWSLogs/account-id/CloudTrail/aws-region'", "LOCATION 's3://"+bucket+"/AWSLogs/"+org+"/'", 1)
	s = strings.Replace(s, "'projection.enabled'='true', ", "'projection.enabled'='true', 'projection.account.type'='enum', 'projection.account.values'='"+
		strings.Join(accounts, ",")+"', 'projection.region.type'='enum', 'projection.region.values'='us-east-1,eu-west-1,us-west-2',", 1)
	s = strings.Replace(s, "'s3://bucket/AWSLogs/account-id/CloudTrail/aws-region/${timestamp}'", "'s3://"+bucket+"/AWSLogs/"+org+"/${account}/CloudTrail/${region}/${timestamp}'", 1)
	return s
}

func TestAthenaCloudTrailTable(t *testing.T) {
	env := newEnv(t, Options{})
	a := env.athena(env.sim.Responder(), "us-east-1")
	bucket := env.sim.TrailBucket()
	out := "s3://" + bucket + "/athena-results/"
	org := "o-drill0test1"
	accounts := []string{"111111111111", "222222222222", "333333333333"}
	end := env.sim.Now().Add(-time.Hour).UTC()
	t0 := time.Now()
	files := orgBucket(t, env, org, accounts, 3000, end)
	t.Logf("%d files uploaded in %v", len(files), time.Since(t0))

	mustSucceed(t, runAthena(t, a, "CREATE DATABASE IF NOT EXISTS trail", "", out))
	mustSucceed(t, runAthena(t, a, "CREATE DATABASE IF NOT EXISTS trail", "", out))
	// The guide's DDL, verbatim but for its placeholders.
	ddl, err := os.ReadFile("testdata/athena/cloudtrail_logs_pp.sql")
	if err != nil {
		t.Fatal(err)
	}
	single := strings.NewReplacer("bucket", bucket, "account-id", env.sim.AccountID(), "aws-region", "us-east-1").Replace(string(ddl))
	mustSucceed(t, runAthena(t, a, single, "trail", out))
	mustSucceed(t, runAthena(t, a, orgTableDDL(bucket, org, accounts), "trail", out))

	md, err := a.GetTableMetadata(context.Background(), &athena.GetTableMetadataInput{CatalogName: aws.String("AwsDataCatalog"),
		DatabaseName: aws.String("trail"), TableName: aws.String("org_trail")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, k := range md.TableMetadata.PartitionKeys {
		keys = append(keys, aws.ToString(k.Name))
	}
	if !slices.Equal(keys, []string{"account", "region", "timestamp"}) {
		t.Errorf("partition keys %v", keys)
	}
	if md.TableMetadata.Columns[1].Type == nil || !strings.HasPrefix(*md.TableMetadata.Columns[1].Type, "struct<type:string,principalid:string") {
		t.Errorf("useridentity type %v", aws.ToString(md.TableMetadata.Columns[1].Type))
	}

	// The hunt: struct access, IN, LIKE, an eventtime range, partitions.
	day := end.Add(-24 * time.Hour)
	from, to := day.Add(-6*time.Hour).Format("2006-01-02T15:04:05Z"), day.Add(6*time.Hour).Format("2006-01-02T15:04:05Z")
	names := []string{"AssumeRole", "DescribeInstances", "GetCallerIdentity", "RunInstances"}
	sql := `SELECT eventid, eventname, useridentity.sessioncontext.sessionissuer.arn AS issuer, account, region, "timestamp"
FROM org_trail
WHERE account IN ('111111111111', '333333333333') AND region = 'us-east-1'
  AND "timestamp" BETWEEN '` + day.Add(-24*time.Hour).Format("2006/01/02") + `' AND '` + day.Add(24*time.Hour).Format("2006/01/02") + `'
  AND eventname IN ('AssumeRole', 'DescribeInstances', 'GetCallerIdentity', 'RunInstances')
  AND (useridentity.arn LIKE '%:user/%' OR useridentity.sessioncontext.sessionissuer.arn LIKE 'arn:aws:iam::%:role/%')
  AND eventtime >= '` + from + `' AND eventtime < '` + to + `'
ORDER BY eventid`
	t0 = time.Now()
	q := mustSucceed(t, runAthena(t, a, sql, "trail", out))
	t.Logf("query in %v (engine %d ms)", time.Since(t0), aws.ToInt64(q.Statistics.EngineExecutionTimeInMillis))
	cols, header, rows, _ := athenaResults(t, a, *q.QueryExecutionId, 0)
	if !slices.Equal(header, []string{"eventid", "eventname", "issuer", "account", "region", "timestamp"}) {
		t.Fatalf("header %v", header)
	}
	if aws.ToString(cols[0].Type) != "varchar" {
		t.Errorf("column type %s", aws.ToString(cols[0].Type))
	}
	// What the bucket holds, filtered here.
	var want []string
	for key, recs := range files {
		parts := strings.Split(key, "/") // AWSLogs/org/acct/CloudTrail/region/Y/M/D/file
		acct, region := parts[2], parts[4]
		pday := strings.Join(parts[5:8], "/")
		if acct != "111111111111" && acct != "333333333333" || region != "us-east-1" ||
			pday < day.Add(-24*time.Hour).Format("2006/01/02") || pday > day.Add(24*time.Hour).Format("2006/01/02") {
			continue
		}
		for _, r := range recs {
			name, _ := str(r, "eventName")
			et, _ := str(r, "eventTime")
			uarn, _ := str(r, "userIdentity", "arn")
			iarn, _ := str(r, "userIdentity", "sessionContext", "sessionIssuer", "arn")
			if !slices.Contains(names, name) || et < from || et >= to {
				continue
			}
			if !strings.Contains(uarn, ":user/") && !(strings.HasPrefix(iarn, "arn:aws:iam::") && strings.Contains(iarn, ":role/")) {
				continue
			}
			id, _ := str(r, "eventID")
			want = append(want, id)
		}
	}
	sort.Strings(want)
	var got []string
	for _, r := range rows {
		got = append(got, *r[0])
	}
	if len(want) < 20 {
		t.Fatalf("the filter keeps only %d records: the test data is too thin", len(want))
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d rows, want %d", len(got), len(want))
	}
	t.Logf("%d rows, %d bytes scanned", len(got), aws.ToInt64(q.Statistics.DataScannedInBytes))
}

// TestAthenaNestedStrings: the string fields of userIdentity's structs
// that the drill used to answer as the text "null" (their values look
// like JSON: an account id, a date, a boolean), selected by their paths
// through the SDK over records put in the bucket, with Trino's duplicate
// result names (both accountids are "accountid").
func TestAthenaNestedStrings(t *testing.T) {
	env := newEnv(t, Options{})
	a := env.athena(env.sim.Responder(), "us-east-1")
	bucket := env.sim.TrailBucket()
	out := "s3://" + bucket + "/athena-results/"
	acct := env.sim.AccountID()
	day := env.sim.Now().UTC()
	logFile := `{"Records":[
{"eventVersion":"1.08","eventID":"e1","eventTime":"` + day.Format(time.RFC3339) + `","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:s",
 "arn":"arn:aws:sts::111111111111:assumed-role/r/s","accountId":"111111111111","accessKeyId":"ASIAEXAMPLE",
 "sessionContext":{"attributes":{"mfaAuthenticated":"false","creationDate":"2026-11-20T10:00:00Z"},
  "sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::222222222222:role/r","accountId":"222222222222","userName":"r"}}}},
{"eventVersion":"1.08","eventID":"e2","eventTime":"` + day.Format(time.RFC3339) + `","userIdentity":{"type":"IAMUser","accountId":"012345678901",
 "sessionContext":{"attributes":{"mfaAuthenticated":"true","creationDate":"2026-11-19T23:59:59Z"}}}},
{"eventVersion":"1.08","eventID":"e3","eventTime":"` + day.Format(time.RFC3339) + `","userIdentity":{"type":"Root","accountId":"333333333333"}}]}`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(logFile))
	zw.Close()
	key := "AWSLogs/" + acct + "/CloudTrail/us-east-1/" + day.Format("2006/01/02") + "/" + acct + "_CloudTrail_us-east-1_test.json.gz"
	if _, err := env.s3(env.sim.Responder()).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
		Key: aws.String(key), Body: bytes.NewReader(gz.Bytes())}); err != nil {
		t.Fatal(err)
	}
	ddl, err := os.ReadFile("testdata/athena/cloudtrail_logs_pp.sql")
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, runAthena(t, a, strings.NewReplacer("bucket", bucket, "account-id", acct, "aws-region", "us-east-1").Replace(string(ddl)), "default", out))
	q := mustSucceed(t, runAthena(t, a, `SELECT eventid,
  useridentity.accountid,
  useridentity.sessioncontext.attributes.mfaauthenticated,
  useridentity.sessioncontext.attributes.creationdate,
  useridentity.sessioncontext.sessionissuer.accountid,
  useridentity.type,
  useridentity.sessioncontext.sessionissuer.type
FROM cloudtrail_logs_pp ORDER BY eventid`, "default", out))
	cols, header, rows, _ := athenaResults(t, a, *q.QueryExecutionId, 0)
	if want := []string{"eventid", "accountid", "mfaauthenticated", "creationdate", "accountid", "type", "type"}; !slices.Equal(header, want) {
		t.Errorf("header %v, want %v", header, want)
	}
	for _, c := range cols {
		if aws.ToString(c.Type) != "varchar" {
			t.Errorf("column %s is %s, want varchar", aws.ToString(c.Name), aws.ToString(c.Type))
		}
	}
	want := [][]string{
		{"e1", "111111111111", "false", "2026-11-20T10:00:00Z", "222222222222", "AssumedRole", "Role"},
		{"e2", "012345678901", "true", "2026-11-19T23:59:59Z", "NULL", "IAMUser", "NULL"},
		{"e3", "333333333333", "NULL", "NULL", "NULL", "Root", "NULL"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		got := make([]string, len(r))
		for k, v := range r {
			got[k] = "NULL"
			if v != nil {
				got[k] = *v
			}
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("row %d: %q, want %q", i, got, want[i])
		}
	}
}

// putObject stores an object in the trail bucket as PutObject would.
func (s *Sim) putObject(key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.trail.objects[key] = &s3Object{Key: key, Body: body, Modified: s.clock.Now().UTC().Truncate(time.Second), ETag: etagOf(body),
		ContentType: "application/octet-stream"}
}

// TestAthenaHunt: pagination, bytes scanned by partition, SQL that
// fails as Athena's does, tables without projection, results in S3,
// idempotence, and the calls in CloudTrail.
func TestAthenaHunt(t *testing.T) {
	env := newEnv(t, Options{})
	a := env.athena(env.sim.Responder(), "us-east-1")
	ctx := context.Background()
	bucket := env.sim.TrailBucket()
	out := "s3://" + bucket + "/athena-results/"
	org := "o-drill0test2"
	accounts := []string{"111111111111", "222222222222"}
	end := env.sim.Now().Add(-time.Hour).UTC()
	clear(orgSizes)
	files := orgBucket(t, env, org, accounts, 1800, end)
	mustSucceed(t, runAthena(t, a, "CREATE DATABASE trail", "", out))
	mustSucceed(t, runAthena(t, a, orgTableDDL(bucket, org, accounts), "trail", out))

	total := 0
	var all int64
	for k, recs := range files {
		total += len(recs)
		all += orgSizes[k]
	}

	t.Run("pagination", func(t *testing.T) {
		q := mustSucceed(t, runAthena(t, a, "SELECT eventid FROM org_trail", "trail", out))
		_, header, rows, pages := athenaResults(t, a, *q.QueryExecutionId, 1000)
		if len(rows) != total || len(rows) <= 1000 {
			t.Fatalf("%d rows, want %d (> 1000)", len(rows), total)
		}
		if want := (total + 1 + 999) / 1000; pages != want || !slices.Equal(header, []string{"eventid"}) {
			t.Fatalf("%d pages (want %d), header %v", pages, want, header)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			if r[0] == nil || seen[*r[0]] || *r[0] == "eventid" {
				t.Fatalf("row %v repeated, null or a second header", r)
			}
			seen[*r[0]] = true
		}
		if aws.ToInt64(q.Statistics.DataScannedInBytes) != all {
			t.Errorf("scanned %d bytes without a partition filter, the table holds %d", aws.ToInt64(q.Statistics.DataScannedInBytes), all)
		}
		_, err := a.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: q.QueryExecutionId, MaxResults: aws.Int32(1001)})
		if errCode(t, err) != "InvalidRequestException" {
			t.Errorf("MaxResults 1001: %v", err)
		}
	})

	t.Run("partitions scan less", func(t *testing.T) {
		day := end.Format("2006/01/02")
		q := mustSucceed(t, runAthena(t, a, "SELECT count(*) AS n FROM org_trail WHERE account = '222222222222' AND region = 'eu-west-1' AND \"timestamp\" = '"+day+"' AND eventname <> 'x'", "trail", out))
		var want int64
		n := 0
		for k, recs := range files {
			if strings.HasPrefix(k, "AWSLogs/"+org+"/222222222222/CloudTrail/eu-west-1/"+day+"/") {
				want += orgSizes[k]
				n += len(recs)
			}
		}
		got := aws.ToInt64(q.Statistics.DataScannedInBytes)
		if got != want || got == 0 || got >= all {
			t.Fatalf("scanned %d bytes, the partition holds %d, the table %d", got, want, all)
		}
		cols, _, rows, _ := athenaResults(t, a, *q.QueryExecutionId, 0)
		if aws.ToString(cols[0].Type) != "bigint" || len(rows) != 1 || *rows[0][0] != strconv.Itoa(n) {
			t.Fatalf("count: %v %v, want %d", aws.ToString(cols[0].Type), *rows[0][0], n)
		}
		// the same filter in an OR is not a partition filter
		q2 := mustSucceed(t, runAthena(t, a, "SELECT count(*) FROM org_trail WHERE account = '222222222222' OR eventname = 'x'", "trail", out))
		if aws.ToInt64(q2.Statistics.DataScannedInBytes) != all {
			t.Errorf("an OR pruned partitions: %d of %d bytes", aws.ToInt64(q2.Statistics.DataScannedInBytes), all)
		}
	})

	t.Run("failures", func(t *testing.T) {
		for sql, prefix := range map[string]string{
			"SELEC eventid FROM org_trail":                    "SYNTAX_ERROR: line 1:1: ",
			"SELECT nosuch FROM org_trail":                    "COLUMN_NOT_FOUND: line 1:8: ",
			"SELECT useridentity.nosuch FROM org_trail":       "COLUMN_NOT_FOUND: line 1:8: ",
			"SELECT eventid FROM nosuch":                      "TABLE_NOT_FOUND: line 1:21: Table 'awsdatacatalog.trail.nosuch' does not exist",
			"SELECT eventid FROM org_trail WHERE 'x":          "SYNTAX_ERROR: line 1:37: ",
			"SELECT no_such_fn(eventid) FROM org_trail":       "FUNCTION_NOT_FOUND: ",
			"SELECT regexp_like(eventid, '(') FROM org_trail": "INVALID_FUNCTION_ARGUMENT: ",
		} {
			q := runAthena(t, a, sql, "trail", out)
			if q.Status.State != athenatypes.QueryExecutionStateFailed || !strings.HasPrefix(aws.ToString(q.Status.StateChangeReason), prefix) {
				t.Errorf("%s: %s %q, want FAILED %q", sql, q.Status.State, aws.ToString(q.Status.StateChangeReason), prefix)
				continue
			}
			_, err := a.GetQueryResults(ctx, &athena.GetQueryResultsInput{QueryExecutionId: q.QueryExecutionId})
			if errCode(t, err) != "InvalidRequestException" {
				t.Errorf("results of a failed query: %v", err)
			}
		}
		_, err := a.GetQueryExecution(ctx, &athena.GetQueryExecutionInput{QueryExecutionId: aws.String("00000000-0000-0000-0000-000000000000")})
		if errCode(t, err) != "InvalidRequestException" {
			t.Errorf("unknown id: %v", err)
		}
		q := runAthena(t, a, "SELECT 1", "trail", "s3://no-such-bucket-here/x/")
		if q.Status.State != athenatypes.QueryExecutionStateFailed || !strings.Contains(aws.ToString(q.Status.StateChangeReason), "Unable to verify/create output bucket no-such-bucket-here") {
			t.Errorf("missing output bucket: %s %s", q.Status.State, aws.ToString(q.Status.StateChangeReason))
		}
		_, err = a.StartQueryExecution(ctx, &athena.StartQueryExecutionInput{QueryString: aws.String("SELECT 1")})
		if errCode(t, err) != "InvalidRequestException" {
			t.Errorf("no output location: %v", err)
		}
	})

	t.Run("no projection, no partitions", func(t *testing.T) {
		ddl := strings.NewReplacer("org_trail(", "manual_trail(", "'projection.enabled'='true'", "'projection.enabled'='false'").Replace(orgTableDDL(bucket, org, accounts))
		mustSucceed(t, runAthena(t, a, ddl, "trail", out))
		count := func() string {
			q := mustSucceed(t, runAthena(t, a, "SELECT count(*) FROM manual_trail", "trail", out))
			_, _, rows, _ := athenaResults(t, a, *q.QueryExecutionId, 0)
			return *rows[0][0]
		}
		if n := count(); n != "0" {
			t.Fatalf("a partitioned table without partitions counts %s", n)
		}
		day := end.Format("2006/01/02")
		mustSucceed(t, runAthena(t, a, "ALTER TABLE manual_trail ADD PARTITION (account='111111111111', region='us-east-1', `timestamp`='"+day+
			"') LOCATION 's3://"+bucket+"/AWSLogs/"+org+"/111111111111/CloudTrail/us-east-1/"+day+"/'", "trail", out))
		n := 0
		for k, recs := range files {
			if strings.HasPrefix(k, "AWSLogs/"+org+"/111111111111/CloudTrail/us-east-1/"+day+"/") {
				n += len(recs)
			}
		}
		if got := count(); got != strconv.Itoa(n) || n == 0 {
			t.Fatalf("after ADD PARTITION: %s, want %d", got, n)
		}
		mustSucceed(t, runAthena(t, a, "DROP TABLE manual_trail", "trail", out))
		q := runAthena(t, a, "SELECT count(*) FROM manual_trail", "trail", out)
		if !strings.HasPrefix(aws.ToString(q.Status.StateChangeReason), "TABLE_NOT_FOUND") {
			t.Fatalf("after DROP TABLE: %s", aws.ToString(q.Status.StateChangeReason))
		}
	})

	t.Run("results in S3, idempotence, CloudTrail", func(t *testing.T) {
		q := mustSucceed(t, runAthena(t, a, "SELECT eventname, count(*) AS n, NULL AS nothing FROM org_trail GROUP BY eventname ORDER BY eventname", "trail", out))
		obj, err := env.s3(env.sim.Responder()).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("athena-results/" + *q.QueryExecutionId + ".csv")})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		_, _, rows, _ := athenaResults(t, a, *q.QueryExecutionId, 0)
		if lines[0] != `"eventname","n","nothing"` || len(lines) != len(rows)+1 || !strings.HasSuffix(lines[1], `",`) {
			t.Fatalf("CSV %q", lines[:2])
		}
		if rows[0][2] != nil {
			t.Errorf("NULL came back as %q", *rows[0][2])
		}
		token := "hunt-0000000000000000000000000000000001"
		in := &athena.StartQueryExecutionInput{QueryString: aws.String("SELECT 1"), ClientRequestToken: aws.String(token),
			ResultConfiguration: &athenatypes.ResultConfiguration{OutputLocation: aws.String(out)}}
		r1, err := a.StartQueryExecution(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := a.StartQueryExecution(ctx, in)
		if err != nil || *r1.QueryExecutionId != *r2.QueryExecutionId {
			t.Fatalf("same token, ids %s and %v (%v)", *r1.QueryExecutionId, r2, err)
		}
		in.QueryString = aws.String("SELECT 2")
		if _, err := a.StartQueryExecution(ctx, in); errCode(t, err) != "InvalidRequestException" {
			t.Errorf("same token, another query: %v", err)
		}
		var rec map[string]any
		for _, r := range env.sim.Records() {
			var m map[string]any
			_ = json.Unmarshal(r.JSON, &m)
			if m["eventSource"] == "athena.amazonaws.com" && m["eventName"] == "StartQueryExecution" {
				rec = m
			}
		}
		if rec == nil {
			t.Fatal("no StartQueryExecution record")
		}
		rp, _ := rec["requestParameters"].(map[string]any)
		re, _ := rec["responseElements"].(map[string]any)
		if rp["queryString"] != "SELECT 2" && rp["queryString"] != "SELECT 1" || rp["clientRequestToken"] != token || re != nil && re["queryExecutionId"] == nil {
			t.Errorf("record %v / %v", rp, re)
		}
		if rc, _ := rp["resultConfiguration"].(map[string]any); rc["outputLocation"] != out {
			t.Errorf("resultConfiguration recorded as %v", rp["resultConfiguration"])
		}
	})
}

func TestAthenaThrottled(t *testing.T) {
	env := newEnv(t, Options{})
	a := env.athena(env.sim.Responder(), "us-east-1")
	out := "s3://" + env.sim.TrailBucket() + "/r/"
	env.sim.SetAthenaStartLimit(0.001, 2)
	in := &athena.StartQueryExecutionInput{QueryString: aws.String("SELECT 1"),
		ResultConfiguration: &athenatypes.ResultConfiguration{OutputLocation: aws.String(out)}}
	for i := range 3 {
		_, err := a.StartQueryExecution(context.Background(), in)
		if want := map[bool]string{true: "", false: "TooManyRequestsException"}[i < 2]; errCode(t, err) != want {
			t.Fatalf("call %d: %v, want %q", i, err, want)
		}
	}
	env.sim.SetAthenaStartLimit(0, 0)
	mustSucceed(t, runAthena(t, a, "SELECT 1", "", out))

	env2 := newEnv(t, Options{ThrottleRate: 1})
	_, err := env2.athena(env2.sim.Responder(), "us-east-1").GetQueryExecution(context.Background(),
		&athena.GetQueryExecutionInput{QueryExecutionId: aws.String("00000000-0000-0000-0000-000000000000")})
	if errCode(t, err) != "TooManyRequestsException" {
		t.Fatalf("ThrottleRate 1: %v", err)
	}
}

// TestAthenaCLI runs a hunt end to end with the AWS CLI v1: the
// independent client checks Athena's wire format.
func TestAthenaCLI(t *testing.T) {
	var cli awscli.CLI
	for _, c := range awscli.Find() {
		if c.Name == "v1" {
			cli = c
		}
	}
	if cli.Bin == "" {
		t.Skip("AWS CLI v1 not installed")
	}
	if testing.Short() {
		t.Skip("the AWS CLI takes seconds per call")
	}
	env := newEnv(t, Options{})
	resp := env.sim.Responder()
	org := "o-drill0cli01"
	accounts := []string{"111111111111"}
	end := env.sim.Now().Add(-time.Hour).UTC()
	files := orgBucket(t, env, org, accounts, 300, end)
	a := env.athena(resp, "us-east-1")
	out := "s3://" + env.sim.TrailBucket() + "/cli/"
	mustSucceed(t, runAthena(t, a, orgTableDDL(env.sim.TrailBucket(), org, accounts), "default", out))
	run := func(args ...string) map[string]any {
		t.Helper()
		code, stdout, stderr := cli.Run(t, env.endpoint, resp.AccessKeyID, resp.SecretAccessKey, append(args, "--endpoint-url", env.endpoint, "--output", "json")...)
		if code != 0 {
			t.Fatalf("aws %v: exit %d: %s", args, code, stderr)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(stdout), &m); err != nil {
			t.Fatalf("aws %v: %v: %s", args, err, stdout)
		}
		return m
	}
	started := run("athena", "start-query-execution", "--query-string",
		"SELECT eventid, useridentity.arn FROM org_trail WHERE account = '111111111111' AND eventname = 'AssumeRole' ORDER BY eventid",
		"--query-execution-context", "Database=default,Catalog=AwsDataCatalog", "--result-configuration", "OutputLocation="+out, "--work-group", "primary")
	id, _ := started["QueryExecutionId"].(string)
	var state string
	for range 200 {
		qe := run("athena", "get-query-execution", "--query-execution-id", id)["QueryExecution"].(map[string]any)
		state = qe["Status"].(map[string]any)["State"].(string)
		if state == "SUCCEEDED" || state == "FAILED" {
			if _, ok := qe["Statistics"].(map[string]any)["DataScannedInBytes"]; !ok {
				t.Fatalf("no DataScannedInBytes: %v", qe)
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if state != "SUCCEEDED" {
		t.Fatalf("state %s", state)
	}
	res := run("athena", "get-query-results", "--query-execution-id", id)
	rows := res["ResultSet"].(map[string]any)["Rows"].([]any)
	want := 0
	for _, recs := range files {
		for _, r := range recs {
			if n, _ := str(r, "eventName"); n == "AssumeRole" {
				want++
			}
		}
	}
	if len(rows) != want+1 || want == 0 {
		t.Fatalf("%d rows, want a header and %d", len(rows), want)
	}
	hdr := rows[0].(map[string]any)["Data"].([]any)
	if hdr[0].(map[string]any)["VarCharValue"] != "eventid" || hdr[1].(map[string]any)["VarCharValue"] != "arn" {
		t.Fatalf("header %v", hdr)
	}
	tables := run("athena", "list-table-metadata", "--catalog-name", "AwsDataCatalog", "--database-name", "default")
	if l, _ := tables["TableMetadataList"].([]any); len(l) != 1 {
		t.Fatalf("tables %v", tables)
	}
}

// BenchmarkAthenaHunt: a selective hunt over an organisation trail of
// 200,000 records (gen's, 4 accounts × 2 Regions × 3 days): the first
// query loads the table, the next ones read the cached rows.
func BenchmarkAthenaHunt(b *testing.B) {
	env := newEnvB(b, Options{})
	a := env.athena(env.sim.Responder(), "us-east-1")
	org := "o-drillbench1"
	accounts := []string{"111111111111", "222222222222", "333333333333", "444444444444"}
	end := env.sim.Now().Add(-time.Hour).UTC()
	orgBucket(b, env, org, accounts, benchEvents, end)
	out := "s3://" + env.sim.TrailBucket() + "/bench/"
	mustSucceed(b, runAthena(b, a, orgTableDDL(env.sim.TrailBucket(), org, accounts), "default", out))
	sql := "SELECT eventid, eventtime FROM org_trail WHERE eventname = 'RunInstances' AND useridentity.type = 'AssumedRole' AND regexp_like(useridentity.arn, 'ci$')"
	t0, c0 := time.Now(), cpuTime()
	q := mustSucceed(b, runAthena(b, a, sql, "default", out))
	first, firstCPU := time.Since(t0), cpuTime()-c0
	b.ResetTimer()
	for b.Loop() {
		mustSucceed(b, runAthena(b, a, sql, "default", out))
	}
	b.ReportMetric(float64(first.Milliseconds()), "first-load-ms")
	// the process's CPU time (both cores) over the first query: a figure
	// other work on the machine changes less than the wall time
	b.ReportMetric(float64(firstCPU.Milliseconds()), "first-load-cpu-ms")
	b.ReportMetric(float64(aws.ToInt64(q.Statistics.DataScannedInBytes)), "scanned-bytes")
}

// benchEvents is each account's records in BenchmarkAthenaHunt.
var benchEvents = 50000
