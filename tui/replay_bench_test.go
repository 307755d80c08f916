package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// bigJournal writes a journal of n facts like a long live session's: stream
// health reports, one event batch in ten (one record each), a note in a
// thousand.
func bigJournal(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "big.jsonl")
	w, err := journal.Create(path, "wr-bench", journal.Actor{User: "alice", Host: "jump1"}, json.RawMessage(`{"id":"wr-bench","opened_at":"2026-11-23T04:00:00Z"}`))
	if err != nil {
		b.Fatal(err)
	}
	health := json.RawMessage(`{"source":"lookup:eu-west-1","region":"eu-west-1","status":"ok","lag":"41s","delivered":12}`)
	var drafts []journal.Draft
	for i := 1; i < n; i++ {
		d := journal.Draft{Kind: "stream.health", Data: health, Sync: journal.SyncGroup}
		switch {
		case i%1000 == 0:
			d = journal.Draft{Kind: "note", Data: json.RawMessage(fmt.Sprintf(`{"text":"note %d"}`, i)), Sync: journal.SyncGroup}
		case i%10 == 0:
			rec := fmt.Sprintf(`{"eventVersion":"1.09","eventID":"%08x-aaaa-4bbb-8ccc-0123456789ab","eventTime":"%s","eventName":"DescribeInstances","eventSource":"ec2.amazonaws.com","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/ci","accessKeyId":"AKIAIOSFODNN7EXAMPLE"}}`,
				i, time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano))
			d = journal.Draft{Kind: "events", Data: json.RawMessage(`{"source":"lookup:eu-west-1","records":[` + rec + `]}`), Sync: journal.SyncGroup}
		}
		drafts = append(drafts, d)
		if len(drafts) == 10000 {
			if _, err := w.Append(drafts...); err != nil {
				b.Fatal(err)
			}
			drafts = drafts[:0]
		}
	}
	if _, err := w.Append(drafts...); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// cpuTime is the CPU time this process has used: the machine is shared,
// and CPU time says what wall time cannot.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkReplay1M opens a 1,000,000-fact journal for replay (verify and
// index) and seeks in it: to the first fact, to the middle, and one fact
// back from the end, the worst case (every seek folds from the start).
// Run with -benchtime=1x.
func BenchmarkReplay1M(b *testing.B) {
	const n = 1_000_000
	path := bigJournal(b, n)
	ctx := context.Background()
	var r *state.Replayer
	steps := []struct {
		name string
		run  func() error
	}{
		{"open", func() (err error) { r, err = state.OpenReplay(path); return err }},
		{"seek-start", func() error { _, err := r.Fold(ctx, 1); return err }},
		{"seek-middle", func() error { _, err := r.Fold(ctx, n/2); return err }},
		{"seek-end-minus-1", func() error { _, err := r.Fold(ctx, n-1); return err }},
	}
	for b.Loop() {
		for _, s := range steps {
			start, cpu0 := time.Now(), cpuTime()
			if err := s.run(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(start).Seconds(), s.name+"-s")
			b.ReportMetric((cpuTime() - cpu0).Seconds(), s.name+"-cpu-s")
		}
		if r.Len() != n {
			b.Fatalf("indexed %d facts, want %d", r.Len(), n)
		}
		r.Close()
	}
}
