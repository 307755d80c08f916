package journal

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// smallFact is the data of a typical small fact (a stream health report).
var smallFact = json.RawMessage(`{"source":"lookup:eu-west-1","region":"eu-west-1","status":"ok","lag":"41s","delivered":12}`)

func benchAppend(b *testing.B, perAppend int, mode SyncMode) {
	path, _ := makeJournal(b, b.TempDir(), "bench", 0)
	w, err := Open(path, testActor)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	drafts := make([]Draft, perAppend)
	for i := range drafts {
		drafts[i] = Draft{Kind: "stream.health", Data: smallFact, Sync: mode}
	}
	es, err := w.Append(drafts...)
	if err != nil {
		b.Fatal(err)
	}
	last := es[len(es)-1]
	b.SetBytes(last.Offset + int64(len(mustRead(b, path))) - last.Offset - es[0].Offset) // bytes one Append writes
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.Append(drafts...); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*perAppend)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*perAppend), "cpu-ns/entry")
}

// BenchmarkAppendGroup appends batches of 100 small SyncGroup entries.
func BenchmarkAppendGroup(b *testing.B) { benchAppend(b, 100, SyncGroup) }

// BenchmarkAppendNow appends single SyncNow entries, each fsynced.
func BenchmarkAppendNow(b *testing.B) { benchAppend(b, 1, SyncNow) }

// makeBig writes a journal of n lines of small facts.
func makeBig(b *testing.B, n int) string {
	path := filepath.Join(b.TempDir(), "big.journal")
	w, err := Create(path, "bench-big", testActor, nil)
	if err != nil {
		b.Fatal(err)
	}
	const batch = 10000
	drafts := make([]Draft, batch)
	for i := range drafts {
		drafts[i] = Draft{Kind: "stream.health", Data: smallFact, Sync: SyncGroup}
	}
	for left := n - 1; left > 0; left -= batch {
		if _, err := w.Append(drafts[:min(batch, left)]...); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkVerify1M verifies a journal of 1,000,000 small facts.
func BenchmarkVerify1M(b *testing.B) { benchRead(b, false) }

// BenchmarkRead1M reads (verifies and decodes) 1,000,000 small facts.
func BenchmarkRead1M(b *testing.B) { benchRead(b, true) }

func benchRead(b *testing.B, decode bool) {
	const n = 1_000_000
	path := makeBig(b, n)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		var rep Report
		if decode {
			rep, err = Read(path, func(Entry) error { return nil })
		} else {
			rep, err = Verify(path, VerifyOptions{})
		}
		if err != nil || !rep.OK() || rep.Lines != n {
			b.Fatal(fmt.Sprint(rep.Lines, err, rep.Problem))
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "lines/s")
	// The machine is shared: CPU time says what wall time cannot.
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// eventsPayload returns the data of an events fact of about size bytes, shaped
// like the ones ingest writes: compact CloudTrail records, one in eight with
// non-ASCII text and one in four with escapes.
func eventsPayload(size int) []byte {
	buf := []byte(`{"source":"file","records":[`)
	for i := 0; len(buf) < size; i++ {
		if i > 0 {
			buf = append(buf, ',')
		}
		key, agent, errMsg := "reports/2026/summary-"+fmt.Sprint(i)+".pdf", "aws-cli/2.15.0 Python/3.11.6 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/s3.cp", ""
		if i%8 == 3 {
			key, agent = "berichte/Übersicht-"+fmt.Sprint(i)+"-日本語.pdf", "Boto3/1.34 Python/3.12 Linux/6.5 Botocore/1.34 — café"
		}
		if i%4 == 1 {
			errMsg = `,"errorCode":"AccessDenied","errorMessage":"User: arn:aws:iam::111122223333:user/alice is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::acme-logs\" \u003cdenied\u003e"`
		}
		buf = fmt.Appendf(buf, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE%06d","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"alice"},"eventTime":"2026-11-23T04:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.%d","userAgent":%q,"requestParameters":{"bucketName":"acme-logs","key":%q,"Host":"acme-logs.s3.eu-west-1.amazonaws.com"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":%d}%s,"requestID":"R%015X","eventID":"%08x-0f1e-4d2c-8b3a-%012x","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::acme-logs/%s"},{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::acme-logs"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"acme-logs.s3.eu-west-1.amazonaws.com"}}`,
			i, i/60%60, i%60, i%250, agent, key, i*37%100000, errMsg, i*7919, i, i*104729, key)
	}
	return append(buf, "]}"...)
}

// BenchmarkAppendEvents appends one 4 MB events entry per op, the shape and
// size of an ingest batch: checking the data, building, hashing and writing
// the line. The journal is started afresh every 32 appends, off the clock,
// so that the file stays small.
//
//	go test ./state/journal -run '^$' -bench 'AppendEvents' -count 5
func BenchmarkAppendEvents(b *testing.B) {
	data := eventsPayload(4 << 20)
	if !json.Valid(data) {
		b.Fatal("the payload is not valid JSON")
	}
	dir := b.TempDir()
	var w *Writer
	fresh := func() {
		if w != nil {
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		}
		path := filepath.Join(dir, "events.journal")
		if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		var err error
		if w, err = Create(path, "bench-events", testActor, nil); err != nil {
			b.Fatal(err)
		}
	}
	fresh()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var cpu time.Duration
	n := 0
	for b.Loop() {
		if n%32 == 31 {
			b.StopTimer()
			fresh()
			b.StartTimer()
		}
		cpu0 := cpuTime()
		if _, err := w.Append(Draft{Kind: "events", Data: data, Sync: SyncGroup}); err != nil {
			b.Fatal(err)
		}
		cpu += cpuTime() - cpu0
		n++
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	// The machine is shared: CPU time says what wall time cannot.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/op")
}
