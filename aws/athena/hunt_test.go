package athena_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkathena "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/athena"
	"github.com/warroom-ir/warroom/aws/session"
	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/hunt"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// drill is the drill account with an organisation trail's log files in
// its bucket, as an outside client sees it.
type drill struct {
	sim      *sim.Sim
	cfg      aws.Config
	org      string
	accounts []string
	dir      string // the same files, on disk, for ingest
	end      time.Time
}

const testOrg = "o-drill0hunt1"

// newDrill starts the drill and fills its bucket with gen's records for
// three accounts (seed picks them), uploaded through the SDK under
// AWSLogs/o-…/ACCOUNT/CloudTrail/REGION/Y/M/D/.
func newDrill(t testing.TB, seed uint64, events int) *drill {
	t.Helper()
	clock := sim.NewManualClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	s := sim.New(sim.Options{Seed: seed, Clock: clock})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c := s.Responder()
	d := &drill{sim: s, org: testOrg, accounts: []string{"111111111111", "222222222222", "333333333333"},
		dir: t.TempDir(), end: clock.Now().Add(-time.Hour)}
	// The SDK does not retry: warroom's client does (and is tested so).
	d.cfg = aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: session.NewHTTPClient(),
		RetryMaxAttempts: 1, Retryer: func() aws.Retryer { return aws.NopRetryer{} },
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)}
	s3c := s3.NewFromConfig(d.cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for i, acct := range d.accounts {
		tmp := t.TempDir()
		if _, err := gen.Write(tmp, gen.Options{Events: events, Seed: seed*10 + uint64(i), AccountID: acct, End: d.end,
			Rate: float64(events) / (3 * 86400), Regions: []string{"us-east-1", "eu-west-1"}, PerFile: 1000}); err != nil {
			t.Fatal(err)
		}
		err := filepath.WalkDir(tmp, func(p string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			body, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join(tmp, "AWSLogs"), p)
			key := "AWSLogs/" + d.org + "/" + filepath.ToSlash(rel)
			if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.TrailBucket()),
				Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
				return err
			}
			local := filepath.Join(d.dir, filepath.FromSlash(key))
			if err := os.MkdirAll(filepath.Dir(local), 0o700); err != nil {
				return err
			}
			return os.WriteFile(local, body, 0o600)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// client is warroom's Athena client on the drill.
func (d *drill) client(region string) *athena.Client {
	cfg := d.cfg.Copy()
	cfg.Region = region
	return &athena.Client{API: sdkathena.NewFromConfig(cfg), Region: region, Account: d.sim.AccountID(),
		OutputLocation: "s3://" + d.sim.TrailBucket() + "/athena-results/", Poll: 5 * time.Millisecond, MaxPoll: 50 * time.Millisecond}
}

var testTable = hunt.Table{Database: "warroom", Name: "cloudtrail_org"}

// createTable makes the table with warroom's DDL, as --create-table does.
func (d *drill) createTable(t testing.TB, c *athena.Client) {
	t.Helper()
	ctx := context.Background()
	if ok, err := c.TableExists(ctx, testTable.Database, testTable.Name); err != nil || ok {
		t.Fatalf("before: exists %v, %v", ok, err)
	}
	db, _ := hunt.CreateDatabase(testTable)
	ddl, err := hunt.CreateTable(hunt.TableSpec{Table: testTable, Bucket: d.sim.TrailBucket(), OrgID: d.org,
		Accounts: d.accounts, Regions: []string{"us-east-1", "eu-west-1", "us-west-2"}, From: d.end.Add(-10 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{db, ddl} {
		id, err := c.Start(ctx, stmt, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Wait(ctx, id); err != nil {
			t.Fatalf("%v\n%s", err, stmt)
		}
	}
	if ok, err := c.TableExists(ctx, testTable.Database, testTable.Name); err != nil || !ok {
		t.Fatalf("after: exists %v, %v", ok, err)
	}
}

// hunt runs f in the drill's Athena and journals what it finds into a
// fresh journal; it returns the journal's store.
func (d *drill) hunt(t testing.TB, c *athena.Client, f *state.Filter, now time.Time) (*state.Store, *hunt.Journal, athena.Stats) {
	t.Helper()
	q, err := hunt.Compile(f, testTable, now)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	j := &hunt.Journal{Sink: &hunt.RecorderSink{Rec: rec, Seen: state.NewSeen()}}
	ctx := context.Background()
	id, err := c.Start(ctx, q.SQL, "")
	if err != nil {
		t.Fatal(err)
	}
	j.Source = hunt.Source(id)
	st, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatalf("%s: %v\n%s", f, err, q.SQL)
	}
	if err := c.Results(ctx, id, func(rows [][]*string) error { return j.Page(ctx, rows) }); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	s, _, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, j, st
}

// eventIDs are the event ids of f's matches in t, sorted.
func eventIDs(tb *state.EventTable, f *state.Filter, now time.Time) []string {
	res := tb.QueryAt(f, now)
	var out []string
	for _, id := range res.IDs() {
		out = append(out, tb.Event(id).EventID)
	}
	slices.Sort(out)
	return out
}

// ingest is the local store over the same files, and its records.
func (d *drill) ingest(t testing.TB) (*state.Store, []ctlog.Record) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "local.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	var recs []ctlog.Record
	if _, _, err := ctlog.ParsePaths([]string{d.dir}, ctlog.Options{}, func(r ctlog.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := rec.RecordEvents("file", recs, nil); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	s, _, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	return s, recs
}

// sameRecords checks that every row of query id, rebuilt, is the record
// the bucket holds: every field the table has, resources included.
func sameRecords(t *testing.T, c *athena.Client, id string, recs []ctlog.Record) {
	t.Helper()
	byID := map[string][]byte{}
	for _, r := range recs {
		byID[r.EventID] = r.Raw
	}
	n := 0
	err := c.Results(context.Background(), id, func(rows [][]*string) error {
		for _, row := range rows {
			raw, err := hunt.AppendRecord(nil, row)
			if err != nil {
				return err
			}
			back, err := ctlog.ParseRecord(raw)
			if err != nil {
				return err
			}
			var got, want map[string]any
			if err := json.Unmarshal(back.Raw, &got); err != nil {
				return err
			}
			if err := json.Unmarshal(byID[back.EventID], &want); err != nil {
				return err
			}
			// Fields the table does not have (managementEvent…) are
			// not asked for; a JSON null is a NULL, as absent.
			for k, v := range want {
				if _, ok := got[k]; !ok && v != nil && !slices.Contains([]string{"managementEvent"}, k) {
					t.Errorf("%s: %s lost on the way through Athena", back.EventID, k)
				}
			}
			for k, v := range got {
				if !reflect.DeepEqual(v, want[k]) {
					t.Errorf("%s: %s is %v through Athena, %v in the bucket", back.EventID, k, v, want[k])
				}
			}
			n++
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("%d rows: %v", n, err)
	}
}

// The same filter gives the same events through the drill's Athena (the
// SQL warroom compiles, run by the drill's SQL engine over its bucket)
// and through the local store (state's filter over a journal ingested
// from the same files), over filters of every term SQL has, two seeds.
func TestHuntDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the drill's Athena")
	}
	for _, seed := range []uint64{1, 2} {
		t.Run("seed"+string(rune('0'+seed)), func(t *testing.T) {
			d := newDrill(t, seed, 1500)
			c := d.client("us-east-1")
			d.createTable(t, c)
			local, recs := d.ingest(t)
			now := d.end.Add(time.Hour)
			// Values the records hold, so that filters match something.
			var some state.Event
			for _, id := range local.Events.QueryAt(&state.Filter{}, now).IDs()[100:] {
				if e := local.Events.Event(id); e.AccessKeyID != "" && e.SourceIP != "" && e.User != "" && e.Principal != "" {
					some = e
					break
				}
			}
			day := some.Time.UTC().Format("2006-01-02")
			filters := []string{
				"",
				"account:" + d.accounts[1],
				"account:" + d.accounts[0] + "," + d.accounts[2] + " region:eu-west-1",
				"key:" + some.AccessKeyID,
				"user:" + some.User,
				"user:" + strings.ToUpper(some.User[:1]) + "*",
				"principal:" + some.Principal,
				"type:AssumedRole -region:us-east-1",
				"event:Describe*,GetCallerIdentity",
				"source:iam",
				"source:ec2 -readonly",
				"readonly",
				"error:*",
				"-failed region:eu-west-1",
				"failed account:" + d.accounts[2],
				"error:AccessDenied,UnauthorizedOperation",
				"msg:authorized",
				"agent:boto3",
				"-agent:aws-cli",
				"ip:" + some.SourceIP,
				"ip:" + some.SourceIP[:3] + "*",
				"id:" + some.EventID + "," + strings.ToUpper(some.EventID),
				"since:" + day + "T06:00:00Z until:" + day + "T18:00:00Z",
				"since:30h",
				"-until:2d",
				strings.ToLower(some.Name),
				`"` + some.User + `"`,
				"-" + some.Region,
			}
			for _, expr := range filters {
				f, err := state.ParseFilter(expr)
				if err != nil {
					t.Fatal(err)
				}
				want := eventIDs(local.Events, f, now)
				s, j, st := d.hunt(t, c, f, now)
				got := eventIDs(s.Events, &state.Filter{}, now)
				if !slices.Equal(got, want) {
					t.Errorf("%q: Athena found %d events, the local store %d (scanned %d bytes)", expr, len(got), len(want), st.BytesScanned)
					continue
				}
				if expr != "" && len(want) == 0 {
					t.Errorf("%q matches nothing: the test says little", expr)
				}
				if j.Held != 0 || j.Problems != 0 {
					t.Errorf("%q: held %d, problems %d", expr, j.Held, j.Problems)
				}
				if expr == "" {
					sameRecords(t, c, strings.TrimPrefix(j.Source, "athena:"), recs)
				}
			}
		})
	}
}

// countingAPI is the SDK's client, counting the throttled answers.
type countingAPI struct {
	athena.API
	throttled int
}

func (c *countingAPI) StartQueryExecution(ctx context.Context, in *sdkathena.StartQueryExecutionInput, o ...func(*sdkathena.Options)) (*sdkathena.StartQueryExecutionOutput, error) {
	out, err := c.API.StartQueryExecution(ctx, in, o...)
	if err != nil && strings.Contains(err.Error(), "TooManyRequestsException") {
		c.throttled++
	}
	return out, err
}

// The drill's Athena throttles StartQueryExecution as Athena's limits
// do: a hunt waits and goes on; a throttling that lasts is reported with
// the call, Region and account. A query Athena fails is reported with
// its reason.
func TestHuntThrottledAndFailing(t *testing.T) {
	d := newDrill(t, 3, 200)
	c := d.client("us-east-1")
	api := &countingAPI{API: c.API}
	c.API = api
	d.createTable(t, c)
	ctx := context.Background()
	f, _ := state.ParseFilter("account:" + d.accounts[0])
	q, err := hunt.Compile(f, testTable, d.end)
	if err != nil {
		t.Fatal(err)
	}
	d.sim.SetAthenaStartLimit(10, 1) // one start per 100 ms
	for range 3 {
		if _, err := c.Start(ctx, q.SQL, ""); err != nil {
			t.Fatal(err)
		}
	}
	if api.throttled == 0 {
		t.Error("three starts at once were never throttled: the test says nothing")
	}
	d.sim.SetAthenaStartLimit(0.001, 1)
	if _, err := c.Start(ctx, q.SQL, ""); err != nil { // the one start allowed
		t.Fatal(err)
	}
	c.Throttled = 4
	_, err = c.Run(ctx, q.SQL, "", func([][]*string) error { return nil })
	var ae *athena.Error
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "athena:StartQueryExecution in us-east-1 (account "+d.sim.AccountID()+")") ||
		!strings.Contains(err.Error(), "still throttled after 4 tries") {
		t.Errorf("a lasting throttle: %v", err)
	}
	d.sim.SetAthenaStartLimit(0, 0)

	_, err = c.Run(ctx, `SELECT nosuchcolumn FROM "warroom"."cloudtrail_org"`, "", func([][]*string) error { return nil })
	if !errors.As(err, &ae) || ae.State != "FAILED" || !strings.Contains(err.Error(), "COLUMN_NOT_FOUND") ||
		!strings.Contains(err.Error(), "athena:GetQueryExecution in us-east-1 (account "+d.sim.AccountID()+")") {
		t.Errorf("a failing query: %v", err)
	}
}

// BenchmarkHuntFromDrill is a hunt's results read from the drill's Athena
// (GetQueryResults pages of 1,000 rows) and journaled: records/s of the
// whole path, the drill's engine serving the pages included. The query
// runs once; each iteration reads and journals its results again.
func BenchmarkHuntFromDrill(b *testing.B) {
	d := newDrill(b, 4, 20000)
	c := d.client("us-east-1")
	d.createTable(b, c)
	ctx := context.Background()
	q, err := hunt.Compile(&state.Filter{}, testTable, d.end)
	if err != nil {
		b.Fatal(err)
	}
	id, err := c.Start(ctx, q.SQL, "")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Wait(ctx, id); err != nil {
		b.Fatal(err)
	}
	n := 0
	var pageTime time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		rec, err := state.OpenRecorder(filepath.Join(b.TempDir(), "journal.jsonl"), state.IncidentOpened{}, state.LocalActor())
		if err != nil {
			b.Fatal(err)
		}
		j := &hunt.Journal{Sink: &hunt.RecorderSink{Rec: rec, Seen: state.NewSeen()}, Source: hunt.Source(id)}
		b.StartTimer()
		err = c.Results(ctx, id, func(rows [][]*string) error {
			t0 := time.Now()
			defer func() { pageTime += time.Since(t0) }()
			return j.Page(ctx, rows)
		})
		if err == nil {
			err = j.Flush(ctx)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		n += j.Found
		rec.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(n)/pageTime.Seconds(), "journal-records/s")
}
