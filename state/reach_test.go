package state

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestReachFold: an Access Advisor report and a Config history fold into
// the store (a later one replacing the earlier for the same principal or
// resource), with the journal pane's words, and survive an open from the
// checkpoint.
func TestReachFold(t *testing.T) {
	path := eventsJournal(t, 3, 60)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)
	arn := "arn:aws:iam::123456789012:user/app"
	first := Reach{Principal: arn, Status: JobInProgress, TakenAt: at, Error: &CallError{Call: "iam:GetServiceLastAccessedDetails", Class: "other", Error: "job still IN_PROGRESS after 30s"}}
	second := Reach{Principal: arn, Status: JobCompleted, TakenAt: at.Add(time.Minute), Services: []ServiceReach{
		{Namespace: "ec2", LastUsed: at, Region: "eu-west-1", Entity: arn}, {Namespace: "s3"}}}
	hist := ConfigHistory{Region: "us-east-1", ResourceType: "AWS::EC2::Instance", ResourceID: "i-1", Recording: ConfigRecording,
		Items: []ConfigItem{{CaptureTime: at, Status: "ResourceDeleted"}, {CaptureTime: at.Add(-time.Hour), Status: "ResourceDiscovered"}}}
	bare := ConfigHistory{Region: "eu-west-1", ResourceType: "AWS::EC2::Instance", ResourceID: "i-1", Recording: ConfigNoRecorder}
	for _, f := range []struct {
		k Kind
		v any
	}{{KindReach, first}, {KindReach, second}, {KindConfigHistory, hist}, {KindConfigHistory, bare}} {
		if _, err := rec.Record(f.k, f.v); err != nil {
			t.Fatal(err)
		}
	}
	rec.Close()
	s := mustFold(t, path)
	if got := s.Reaches[arn].V; got.Status != JobCompleted || got.UsedCount() != 1 || len(s.Reaches) != 1 {
		t.Fatalf("reach %+v", got)
	}
	var sums []string
	for _, it := range s.Timeline[len(s.Timeline)-4:] {
		sums = append(sums, it.Summary)
	}
	want := []string{"reach of " + arn + ": other (job still IN_PROGRESS after 30s)", "reach of " + arn + ": 2 services allowed, 1 used",
		"config history of AWS::EC2::Instance i-1 in us-east-1: 2 items", "config history of AWS::EC2::Instance i-1 in eu-west-1: AWS Config is not recording here"}
	if !reflect.DeepEqual(sums, want) {
		t.Fatalf("timeline:\n%s\nwant\n%s", strings.Join(sums, "\n"), strings.Join(want, "\n"))
	}
	if got := s.ConfigHistoriesOf("i-1"); len(got) != 2 || got[0].V.Region != "eu-west-1" {
		t.Fatalf("histories of i-1: %+v", got)
	}
	openIndexed(t, path)
	o, warn := openIndexed(t, path)
	if warn != "" || o.from != o.store.Seq {
		t.Fatalf("not opened from the checkpoint: %q", warn)
	}
	if !reflect.DeepEqual(o.store.Reaches, s.Reaches) || !reflect.DeepEqual(o.store.ConfigHistories, s.ConfigHistories) {
		t.Fatalf("after the checkpoint: %+v %+v", o.store.Reaches, o.store.ConfigHistories)
	}
}
