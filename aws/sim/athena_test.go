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
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	athenatypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
func orgBucket(t testing.TB, env *testEnv, org string, accounts []string, events int, end time.Time) map[string][]map[string]any {
	t.Helper()
	s3c := env.s3(env.sim.Responder())
	out := map[string][]map[string]any{}
	for i, acct := range accounts {
		dir := t.TempDir()
		if _, err := gen.Write(dir, gen.Options{Events: events, Seed: uint64(100 + i), AccountID: acct, End: end,
			Rate: float64(events) / (3 * 86400), Regions: []string{"us-east-1", "eu-west-1"}, PerFile: 200}); err != nil {
			t.Fatal(err)
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
			if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(env.sim.TrailBucket()),
				Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
				return err
			}
			out[key] = decodeLog(t, body)
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
	files := orgBucket(t, env, org, accounts, 3000, end)

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
	q := mustSucceed(t, runAthena(t, a, sql, "trail", out))
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
