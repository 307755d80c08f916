package state

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

// gdJournal journals a suspect key's call from 203.0.113.7, the key
// marked, and two GuardDuty reads: the first answers in us-east-1 (two
// findings) and says GuardDuty is off in eu-north-1; the second is
// throttled in us-east-1 and denied in eu-west-1.
func gdJournal(t *testing.T) string {
	t.Helper()
	rec, path := newJournal(t)
	at := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	raw, _ := json.Marshal(map[string]any{
		"eventVersion": "1.08", "eventID": "11111111-1111-1111-1111-111111111111", "eventTime": at.Format(time.RFC3339),
		"eventName": "ListUsers", "eventSource": "iam.amazonaws.com", "awsRegion": "us-east-1",
		"sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.0",
		"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice", "accessKeyId": "AKIAFAMILY", "userName": "alice"},
	})
	facts := []struct {
		k Kind
		v any
	}{
		{KindEvents, Events{Source: "sim", Records: []json.RawMessage{raw}}},
		{KindSuspect, Suspect{AccessKeyID: "AKIAFAMILY"}},
		{KindGuardDuty, GuardDuty{ReadAt: at, Regions: []GuardDutyRegion{
			{Region: "us-east-1", Status: GuardDutyEnabled, Detectors: []string{"d1"}, Findings: []GuardDutyFinding{
				{ID: "f-key", Region: "us-east-1", Type: "Recon:IAMUser/MaliciousIPCaller", Severity: 5, AccessKeyID: "AKIAFAMILY", UserName: "alice", RemoteIP: "203.0.113.7"},
				{ID: "f-other", Region: "us-east-1", Type: "Discovery:IAMUser/AnomalousBehavior", Severity: 2, AccessKeyID: "AKIAOTHER", UserName: "bob", RemoteIP: "192.0.2.1"},
				{ID: "f-miner", Region: "us-east-1", Type: "CryptoCurrency:EC2/BitcoinTool.B!DNS", Severity: 8, InstanceID: "i-1"},
			}},
			{Region: "eu-north-1", Status: GuardDutyNotEnabled},
		}}},
		{KindGuardDuty, GuardDuty{ReadAt: at.Add(time.Minute), Regions: []GuardDutyRegion{
			{Region: "us-east-1", Status: GuardDutyThrottled, Error: "guardduty:ListFindings in us-east-1: TooManyRequestsException"},
			{Region: "eu-west-1", Status: GuardDutyDenied, Error: "guardduty:ListDetectors in eu-west-1: AccessDeniedException"},
			{Region: "eu-north-1", Status: GuardDutyNotEnabled},
		}}},
	}
	for _, f := range facts {
		if _, err := rec.Record(f.k, f.v); err != nil {
			t.Fatal(err)
		}
	}
	rec.Close()
	return path
}

// TestGuardDutyFold: a Region whose read failed keeps the findings read
// before and says why; where GuardDuty is off is listed; findings are
// most severe first; each is tied to what of the family it names.
func TestGuardDutyFold(t *testing.T) {
	s := mustFold(t, gdJournal(t))
	if got := s.GuardDutyOff(); !slices.Equal(got, []string{"eu-north-1"}) {
		t.Errorf("off %v", got)
	}
	if got := s.GuardDutyUnread(); !slices.Equal(got, []string{"eu-west-1 denied", "us-east-1 throttled"}) {
		t.Errorf("unread %v", got)
	}
	fs := s.GuardDutyFindings()
	if len(fs) != 3 || fs[0].ID != "f-miner" || fs[1].ID != "f-key" || fs[2].ID != "f-other" {
		t.Fatalf("findings after a throttled read: %+v", fs)
	}
	if s.GuardDuty["us-east-1"].V.Error == "" {
		t.Error("the throttled read's error is lost")
	}
	x := s.SuspectSet()
	cr := &Creators{byID: map[creatorKey]Creator{{"us-east-1", "i-1"}: {AccessKeyID: "AKIAFAMILY"}}}
	for _, tc := range []struct {
		f    GuardDutyFinding
		want []FindingTie
	}{
		{fs[1], []FindingTie{{"key", "AKIAFAMILY"}, {"ip", "203.0.113.7"}}},
		{fs[0], []FindingTie{{"instance", "i-1"}}},
		{fs[2], nil},
		{GuardDutyFinding{RemoteIP: "203.0.113.7"}, []FindingTie{{"ip", "203.0.113.7"}}},
	} {
		if got := s.FindingTies(tc.f, x, cr); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: ties %v, want %v", tc.f.ID, got, tc.want)
		}
	}
	if got := s.FindingTies(fs[0], x, nil); got != nil {
		t.Errorf("instance tied without creators: %v", got)
	}
	// A principal marked suspect ties a finding naming its user.
	s.Suspects["arn:aws:iam::123456789012:user/bob"] = Dated[Suspect]{V: Suspect{PrincipalARN: "arn:aws:iam::123456789012:user/bob"}}
	if got := s.FindingTies(fs[2], s.SuspectSet(), nil); len(got) != 1 || got[0].What != "principal" {
		t.Errorf("principal tie %v", got)
	}
}

// TestCheckpointKeepsGuardDuty: the findings survive an open from the
// checkpoint.
func TestCheckpointKeepsGuardDuty(t *testing.T) {
	path := gdJournal(t)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump"})
	if err != nil {
		t.Fatal(err)
	}
	rec.Close()
	openIndexed(t, path)
	o, _ := openIndexed(t, path)
	if o.from != o.store.Seq {
		t.Fatalf("not opened from the checkpoint: from %d of %d", o.from, o.store.Seq)
	}
	if !reflect.DeepEqual(o.store.GuardDuty, mustFold(t, path).GuardDuty) || len(o.store.GuardDutyFindings()) != 3 {
		t.Fatalf("GuardDuty after the checkpoint: %+v", o.store.GuardDuty)
	}
}

// BenchmarkTiedFindings: the console's status line and `:findings` tie
// every finding to the family on each draw; 300 findings over a journal
// of tens of thousands of events, their addresses the events' own.
func BenchmarkTiedFindings(b *testing.B) {
	s, _, err := Replay(eventsJournal(b, 3, 4000))
	if err != nil {
		b.Fatal(err)
	}
	var fs []GuardDutyFinding
	for i := range 300 {
		fs = append(fs, GuardDutyFinding{ID: strconv.Itoa(i), Region: "us-east-1", Type: "Recon:IAMUser/MaliciousIPCaller", Severity: float64(i % 9),
			AccessKeyID: poolKey[i%len(poolKey)], RemoteIP: poolIP[i%len(poolIP)], UserName: "alice"})
	}
	s.GuardDuty = map[string]Dated[GuardDutyRegion]{"us-east-1": {V: GuardDutyRegion{Region: "us-east-1", Status: GuardDutyEnabled, Findings: fs}}}
	x := s.SuspectSet()
	for b.Loop() {
		if len(s.TiedFindings(x, nil)) != 300 {
			b.Fatal("findings lost")
		}
	}
	b.ReportMetric(float64(s.Events.Len()), "events")
}
