package trail

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
)

// rawRecord is a CloudTrail record; addendum is empty or a reason.
func rawRecord(id string, at time.Time, name, addendum string) string {
	add := ""
	if addendum != "" {
		add = fmt.Sprintf(`,"addendum":{"reason":%q,"originalEventID":%q}`, addendum, id)
	}
	return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/x","accessKeyId":"AKIAEXAMPLE"},`+
		`"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","eventID":%q%s}`,
		at.UTC().Format(time.RFC3339), name, id, add)
}

func parsed(t *testing.T, raw string) ctlog.Record {
	t.Helper()
	r, err := ctlog.ParseRecord([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSeenSetAdmit(t *testing.T) {
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	const id = "3b7c1a8e-0d2f-4e55-9a51-2f7e1c0d9b11"
	steps := []struct {
		name string
		raw  string
		want bool
	}{
		{"first copy", rawRecord(id, at, "CreateUser", ""), true},
		{"same copy again", rawRecord(id, at, "CreateUser", ""), false},
		{"copy without addendum differing: kept as evidence", rawRecord(id, at, "DeleteUser", ""), true},
		{"that copy again", rawRecord(id, at, "DeleteUser", ""), false},
		{"late copy with addendum", rawRecord(id, at, "CreateUser", "DELIVERY_DELAY"), true},
		{"same addendum copy again", rawRecord(id, at, "CreateUser", "DELIVERY_DELAY"), false},
		{"further correction", rawRecord(id, at.Add(time.Second), "CreateUser", "UPDATED_DATA"), true},
		{"plain copy after corrections", rawRecord(id, at, "CreateUser", ""), false},
		{"other event", rawRecord("9d0e2f4a-1b3c-4d5e-8f60-718293a4b5c6", at, "CreateUser", ""), true},
	}
	s := state.NewSeenWindow(100)
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			r := parsed(t, st.raw)
			if got := s.Add(&r); got != st.want {
				t.Errorf("admit = %v, want %v", got, st.want)
			}
		})
	}
}

func TestSeenSetBounded(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		events int
		prune  time.Duration // prune before start+prune; 0: none
		atMost int
	}{
		{"cap halves the set", 64, 1000, 0, 64},
		{"prune forgets old events", 10000, 1000, 500 * time.Second, 500},
	}
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := state.NewSeenWindow(tt.max)
			for i := range tt.events {
				r := parsed(t, rawRecord(fmt.Sprintf("00000000-0000-4000-8000-%012d", i), start.Add(time.Duration(i)*time.Second), "X", ""))
				if !s.Add(&r) {
					t.Fatalf("event %d not admitted", i)
				}
			}
			if tt.prune > 0 {
				s.Prune(start.Add(tt.prune))
			}
			if s.Len() > tt.atMost {
				t.Errorf("%d remembered, want at most %d", s.Len(), tt.atMost)
			}
			// The newest event is still remembered.
			r := parsed(t, rawRecord(fmt.Sprintf("00000000-0000-4000-8000-%012d", tt.events-1), start.Add(time.Duration(tt.events-1)*time.Second), "X", ""))
			if s.Add(&r) {
				t.Error("newest event forgotten")
			}
		})
	}
}

// scriptedLookup answers LookupEvents from a script of pages, one per call
// (pages of a window are chained by NextToken), then empty pages.
type scriptedLookup struct {
	calls  int
	script [][]string // raw records per call
	inputs []cloudtrail.LookupEventsInput
}

func (s *scriptedLookup) LookupEvents(_ context.Context, in *cloudtrail.LookupEventsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.LookupEventsOutput, error) {
	s.inputs = append(s.inputs, *in)
	out := &cloudtrail.LookupEventsOutput{}
	if s.calls < len(s.script) {
		for _, raw := range s.script[s.calls] {
			out.Events = append(out.Events, types.Event{CloudTrailEvent: aws.String(raw)})
		}
	}
	s.calls++
	return out, nil
}

func TestPollerPassesAddendumReplacement(t *testing.T) {
	now := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	const id = "3b7c1a8e-0d2f-4e55-9a51-2f7e1c0d9b11"
	plain := rawRecord(id, now.Add(-time.Minute), "CreateUser", "")
	late := rawRecord(id, now.Add(-time.Minute), "CreateUser", "DELIVERY_DELAY")
	api := &scriptedLookup{script: [][]string{
		{plain},               // backfill
		{plain},               // overlap: a duplicate
		{plain, late, "{bad"}, // the corrected copy, and a broken record
		{late, plain},         // both again
	}}
	sink := newMemSink()
	st := New(func(string) cloudtrail.LookupEventsAPIClient { return api }, sink, Options{Rate: 1000, Now: func() time.Time { return now }})
	st.start = now.Add(-time.Hour)
	p := newPoller(st, GlobalRegion)
	ctx := context.Background()
	if ok, _, err := p.window(ctx, "", st.start, now, true); !ok || err != nil {
		t.Fatalf("backfill: %v %v", ok, err)
	}
	p.covered = now
	for range 3 {
		if err := p.follow(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, b := range sink.batches {
		for _, r := range b.recs {
			reason := ""
			if r.Addendum != nil {
				reason = r.Addendum.Reason
			}
			got = append(got, r.EventID+"/"+reason)
		}
	}
	want := []string{id + "/", id + "/DELIVERY_DELAY"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	if len(sink.skipped) != 1 || sink.skipped[0].File != "lookup:us-east-1" || sink.skipped[0].Index != 2 {
		t.Errorf("skipped %+v, want the broken record at index 2 of lookup:us-east-1", sink.skipped)
	}
	// Every follow window reaches back Overlap before the last one read.
	for i, in := range api.inputs[1:] {
		if got := aws.ToTime(in.StartTime); !got.Equal(now.Add(-DefaultOverlap)) {
			t.Errorf("follow %d starts at %v, want %v", i, got, now.Add(-DefaultOverlap))
		}
	}
}

// nopSink discards what it is given.
type nopSink struct{}

func (nopSink) Events(context.Context, string, []ctlog.Record, []state.Skipped) error { return nil }
func (nopSink) Health(context.Context, state.StreamHealth) error                      { return nil }

func TestFailDelay(t *testing.T) {
	tests := []struct {
		name     string
		every    time.Duration
		failures int
		want     time.Duration
	}{
		{"first failure", 15 * time.Second, 1, 15 * time.Second},
		{"second", 15 * time.Second, 2, 30 * time.Second},
		{"grows to 8 polls", 15 * time.Second, 4, 2 * time.Minute},
		{"stays at 8 polls", 15 * time.Second, 20, 2 * time.Minute},
		{"never over 5 minutes", time.Minute, 20, 5 * time.Minute},
		{"slow polls are not shortened", 10 * time.Minute, 3, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := New(nil, nopSink{}, Options{PollEvery: tt.every})
			p := &poller{s: st, failures: tt.failures}
			if got := p.failDelay(); got != tt.want {
				t.Errorf("failDelay = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestLagBand(t *testing.T) {
	tests := []struct {
		lag  time.Duration
		band int
	}{
		{0, 0}, {40 * time.Second, 0}, {time.Minute, 1}, {4 * time.Minute, 1},
		{5 * time.Minute, 2}, {14 * time.Minute, 2}, {15 * time.Minute, 3}, {3 * time.Hour, 3},
	}
	for _, tt := range tests {
		if got := lagBand(state.Duration(tt.lag)); got != tt.band {
			t.Errorf("lagBand(%v) = %d, want %d", tt.lag, got, tt.band)
		}
	}
}
