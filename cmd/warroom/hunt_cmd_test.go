package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/warroom-ir/warroom/aws/sim"
	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// huntDrill serves the drill account with an organisation trail's files
// for two accounts in its bucket, and points the SDK's environment at it
// as the responder. It returns the endpoint, the bucket and the records.
func huntDrill(t *testing.T) (endpoint, bucket string, recs []ctlog.Record) {
	t.Helper()
	clock := sim.NewManualClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	s := sim.New(sim.Options{Seed: 5, Clock: clock})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	resp := s.Responder()
	t.Setenv("AWS_ACCESS_KEY_ID", resp.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", resp.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("WARROOM_JOURNAL", "")
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(resp.AccessKeyID, resp.SecretAccessKey, "")}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	for i, acct := range []string{"111111111111", "222222222222"} {
		dir := t.TempDir()
		if _, err := gen.Write(dir, gen.Options{Events: 600, Seed: uint64(40 + i), AccountID: acct, End: clock.Now().Add(-time.Hour),
			Rate: 600.0 / 86400, Regions: []string{"us-east-1", "eu-west-1"}}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ctlog.ParsePaths([]string{dir}, ctlog.Options{}, func(r ctlog.Record) error {
			recs = append(recs, r)
			return nil
		}); err != nil {
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
			_, err = s3c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(s.TrailBucket()),
				Key: aws.String("AWSLogs/o-drill0cmd01/" + filepath.ToSlash(rel)), Body: bytes.NewReader(body)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return srv.URL, s.TrailBucket(), recs
}

// warroom hunt --athena against the drill, as a responder runs it: the
// table made when asked, the SQL, the bytes and cost printed, the records
// journaled once (a second hunt finds them held), and the exit codes.
func TestHuntCmd(t *testing.T) {
	endpoint, bucket, recs := huntDrill(t)
	j := filepath.Join(t.TempDir(), "inc", "journal.jsonl")
	base := []string{"hunt", "--athena", "--endpoint-url", endpoint, "--output-location", "s3://" + bucket + "/athena/", "-j", j}
	var want []string
	for _, r := range recs {
		if r.RecipientAccountID == "222222222222" && strings.HasPrefix(r.EventName, "Describe") {
			want = append(want, r.EventID)
		}
	}
	slices.Sort(want)
	if len(want) < 10 {
		t.Fatalf("only %d records match: the data is thin", len(want))
	}
	filter := "account:222222222222 event:Describe*"

	// No table and no --create-table: said, with the call, Region and account.
	code, _, stderr := warroom(t, append(base, filter)...)
	if code != exitUsage || !strings.Contains(stderr, "athena:GetTableMetadata in us-east-1 (account ") || !strings.Contains(stderr, "--create-table") {
		t.Fatalf("without a table: exit %d, %s", code, stderr)
	}

	create := append(slices.Clone(base), "--create-table", "--bucket", bucket, "--org-id", "o-drill0cmd01",
		"--accounts", "111111111111,222222222222", "--table-regions", "us-east-1,eu-west-1", "--table-from", "2026-11-01")
	code, stdout, stderr := warroom(t, append(create, filter)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, w := range []string{"created table warroom.cloudtrail_org", "account IN ('222222222222')", "scanned", "$", "($5/TB, 10 MB minimum)",
		strconv.Itoa(len(want)) + " records found: " + strconv.Itoa(len(want)) + " journaled"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout)
		}
	}
	s, _, err := state.Replay(j)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range s.Events.Query(&state.Filter{}).IDs() {
		got = append(got, s.Events.Event(id).EventID)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the journal holds %d events, want %d", len(got), len(want))
	}

	// Again, as JSON: found, all already held, the table left alone.
	code, stdout, stderr = warroom(t, append(create, "--output", "json", filter)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res huntResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if res.Found != len(want) || res.New != 0 || res.Held != len(want) || res.TableCreated || !strings.HasPrefix(res.SQL, "SELECT") || res.CostUSD < 0.00005 {
		t.Errorf("second hunt: %+v", res)
	}

	// Nothing found: 1. A term SQL cannot say: 2, named.
	if code, _, stderr := warroom(t, append(base, "event:NoSuchCall")...); code != exitProblem || !strings.Contains(stderr, "nothing found") {
		t.Errorf("nothing found: exit %d, %s", code, stderr)
	}
	if code, _, stderr := warroom(t, append(base, "family:AKIA1")...); code != exitUsage || !strings.Contains(stderr, "family:AKIA1 cannot be hunted") {
		t.Errorf("family: exit %d, %s", code, stderr)
	}
	// --dry-run calls nothing: it works without an endpoint.
	code, stdout, _ = warroom(t, "hunt", "--athena", "--dry-run", "--endpoint-url", "http://127.0.0.1:1", filter)
	if code != 0 || !strings.Contains(stdout, "-- partitions: accounts 222222222222; Regions every Region; days every day") {
		t.Errorf("dry run: exit %d\n%s", code, stdout)
	}
}

// The hunt's table, made without --table-regions, has every Region the
// drill serves in its region partition, the opt-in ones too: the
// organisation test's attacker ran miners in ap-southeast-3 and
// eu-south-2, and a table of the 17 default Regions never read them.
func TestHuntTableRegionsOptIn(t *testing.T) {
	for _, r := range sim.New(sim.Options{}).Regions() {
		if !slices.Contains(defaultTableRegions, r.Name) {
			t.Errorf("the hunt's table leaves out %s (%s)", r.Name, r.OptInStatus)
		}
	}
}

// hunt --create-table --org: the account partition and the organisation
// id read from Organizations (the management account's responder), so
// that a member's calls in the organisation trail are found without
// naming every account.
func TestHuntCreateTableOrg(t *testing.T) {
	o, d := orgCLI(t)
	m := o.Members()[1]
	if err := m.AddUser("builder"); err != nil {
		t.Fatal(err)
	}
	k, err := m.AddKey("builder")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec2.NewFromConfig(d.cfg(k, "eu-west-1")).DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	d.clock.Advance(10 * time.Minute)
	code, stdout, stderr := warroom(t, "hunt", "--athena", "--endpoint-url", d.endpoint, "-j", d.journal, "--output", "json",
		"--output-location", "s3://"+o.OrgTrailBucket()+"/athena/", "--create-table", "--org", "--bucket", o.OrgTrailBucket(),
		"--table-from", d.clock.Now().Add(-24*time.Hour).Format("2006-01-02"), "account:"+m.AccountID()+" key:"+k.AccessKeyID)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	var res huntResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if !res.TableCreated || res.Found != 1 {
		t.Errorf("the member's call: %+v", res)
	}
}
