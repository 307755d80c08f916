package contain

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// benchJournal writes a journal of n CloudTrail records (in batches of 50,
// as LookupEvents pages come) made by keys families of 20, with an action
// intent, result and verification after every 100 batches. It returns the
// path and the first family's root key.
func benchJournal(b *testing.B, n int) (string, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{ID: "wr-bench"}, state.LocalActor())
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	t0 := time.Date(2026, 11, 23, 1, 0, 0, 0, time.UTC)
	key := func(fam, i int) string { return fmt.Sprintf("ASIA%04d%012d", fam, i) }
	var batch []ctlog.Record
	for i := 0; i < n; i++ {
		fam, member := (i/20)%500, i%20
		signer := fmt.Sprintf("AKIA%04d%012d", fam, 0)
		if member > 0 {
			signer = key(fam, member-1)
		}
		name, resp := "DescribeInstances", "null"
		switch {
		case member < 19 && i%7 == 0:
			name = "GetSessionToken"
			resp = fmt.Sprintf(`{"credentials":{"accessKeyId":"%s","expiration":"Nov 24, 2026, 1:00:00 AM","sessionToken":"x"}}`, key(fam, member))
		case i%11 == 0:
			name = "RunInstances"
			resp = fmt.Sprintf(`{"instancesSet":{"items":[{"instanceId":"i-%017x"}]}}`, i)
		case i%13 == 0:
			name = "CreateUser"
		}
		raw := fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/u%d","accountId":"123456789012","accessKeyId":"%s","userName":"u%d"},"eventTime":"%s","eventSource":"ec2.amazonaws.com","eventName":"%s","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.%d","userAgent":"Boto3/1.9.201","requestParameters":{"userName":"backdoor%d"},"responseElements":%s,"requestID":"%08x-0000-4000-8000-000000000000","eventID":"%08x-1111-4000-8000-000000000000","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"123456789012"}`,
			fam, signer, fam, t0.Add(time.Duration(i)*time.Second).Format(time.RFC3339), name, i%250, i, resp, i, i)
		r, err := ctlog.ParseRecord([]byte(raw))
		if err != nil {
			b.Fatal(err)
		}
		batch = append(batch, r)
		if len(batch) == 50 || i == n-1 {
			if _, _, err := rec.RecordEvents("lookup:eu-west-1", batch, nil); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
		if i%5000 == 4999 {
			id := NewActionID(t0)
			in := state.ActionIntent{ActionID: id, Action: "deactivate-key", Target: signer, Plan: []state.Call{call("iam:UpdateAccessKey", "", "AccessKeyId", signer, "Status", "Inactive")}}
			for _, f := range []struct {
				k state.Kind
				v any
			}{{state.KindActionIntent, in}, {state.KindActionResult, state.ActionResult{ActionID: id, OK: true, Calls: []state.CallResult{{API: "iam:UpdateAccessKey", RequestID: "r"}}}},
				{state.KindActionVerify, state.ActionVerify{ActionID: id, Holds: true, Detail: "inactive"}}} {
				if _, err := rec.Record(f.k, f.v); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return path, "AKIA0000000000000000"
}

// BenchmarkReadLedger is the busy check each action makes before it runs:
// reading every responder's action facts from a journal of 100,000 events.
func BenchmarkReadLedger(b *testing.B) {
	path, _ := benchJournal(b, 100_000)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	for b.Loop() {
		l, err := ReadLedger(path)
		if err != nil || len(l.Actions) != 20 {
			b.Fatalf("%v, %d actions", err, len(l.Actions))
		}
	}
}

// BenchmarkFindFamily walks a key's family and reads what it created from
// a store of 100,000 events.
func BenchmarkFindFamily(b *testing.B) {
	path, key := benchJournal(b, 100_000)
	s, rep, err := state.Replay(path)
	if err != nil || !rep.OK() {
		b.Fatal(err, rep.Problem)
	}
	raw := state.NewRawReader(path)
	b.ReportAllocs()
	for b.Loop() {
		f := FindFamily(s, raw.Raw, key)
		if len(f.Keys) < 2 || len(f.Instances["eu-west-1"]) == 0 {
			b.Fatalf("family %v, instances %v", f.Keys, f.Instances)
		}
	}
}

// BenchmarkBusyCheck is the busy check before an action once the Runner
// has read the journal: one other responder's fact appended since, on a
// journal of 100,000 events.
func BenchmarkBusyCheck(b *testing.B) {
	path, key := benchJournal(b, 100_000)
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		b.Fatal(err)
	}
	defer rec.Close()
	r := &Runner{Path: path, Actor: state.LocalActor()}
	p := &Plan{Action: "deactivate-key", Target: Target{Kind: KindKey, ID: key}}
	if err := r.checkBusy(p, RunOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rec.Record(state.KindNote, state.Note{Text: "another responder's note"}); err != nil {
			b.Fatal(err)
		}
		if err := r.checkBusy(p, RunOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
