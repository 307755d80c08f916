package incident

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

func record(t *testing.T, id, name, ip string) ctlog.Record {
	t.Helper()
	raw := fmt.Sprintf(`{"eventVersion":"1.08","eventID":%q,"eventTime":"2026-11-23T04:00:00Z","eventSource":"iam.amazonaws.com",`+
		`"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":%q,"userAgent":"aws-cli/2",`+
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/bob","accessKeyId":"AKIAEXAMPLE"}}`, id, name, ip)
	r, err := ctlog.ParseRecord([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func openRec(t *testing.T) *state.Recorder {
	t.Helper()
	rec, err := state.OpenRecorder(filepath.Join(t.TempDir(), "journal.jsonl"), state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	return rec
}

// TestHoldsIsAddsRule: EventTable.Holds says a record is held exactly when
// Add would not change the table, and changes nothing itself.
func TestHoldsIsAddsRule(t *testing.T) {
	a := record(t, "6f1e0c4e-0000-4000-8000-000000000001", "GetUser", "1.2.3.4")
	again := record(t, "6f1e0c4e-0000-4000-8000-000000000001", "GetUser", "1.2.3.4")
	copy2 := record(t, "6f1e0c4e-0000-4000-8000-000000000001", "GetUser", "5.6.7.8") // a distinct copy
	str := record(t, "not-a-uuid", "ListUsers", "1.2.3.4")
	other := record(t, "6f1e0c4e-0000-4000-8000-000000000002", "GetUser", "1.2.3.4")
	tab := state.NewEventTable()
	for _, r := range []*ctlog.Record{&a, &str} {
		if tab.Holds(r) {
			t.Fatalf("an empty table holds %s", r.EventID)
		}
		tab.Add(r, state.EventRef{})
	}
	n := tab.Len()
	for _, tc := range []struct {
		name string
		r    *ctlog.Record
		want bool
	}{
		{"the same record", &again, true},
		{"a string event id", &str, true},
		{"a distinct copy", &copy2, false},
		{"another event", &other, false},
	} {
		if got := tab.Holds(tc.r); got != tc.want {
			t.Errorf("%s: Holds = %v, want %v", tc.name, got, tc.want)
		}
		if _, changed := state.NewEventTable().Add(tc.r, state.EventRef{}); !changed {
			t.Fatalf("%s: a fresh table did not take it", tc.name)
		}
	}
	if tab.Len() != n {
		t.Errorf("Holds changed the table: %d events, then %d", n, tab.Len())
	}
	// Add agrees.
	if _, changed := tab.Add(&again, state.EventRef{}); changed {
		t.Error("Add took a record Holds said was held")
	}
	if _, changed := tab.Add(&copy2, state.EventRef{}); !changed {
		t.Error("Add ignored a distinct copy Holds said was new")
	}
}

// TestSinkDedupesOnce: the sink's Admit is the one rule between the
// pollers and the journal — a record is admitted once, before it is
// journaled and after (the fold holds it then), whichever source brings it;
// a distinct copy is admitted.
func TestSinkDedupesOnce(t *testing.T) {
	rec := openRec(t)
	f := NewFold()
	k := &Sink{Rec: rec, Fold: f, Direct: true}
	r := record(t, "6f1e0c4e-0000-4000-8000-000000000001", "GetUser", "1.2.3.4")
	if !k.Admit(&r) {
		t.Fatal("a new record was not admitted")
	}
	if k.Admit(&r) {
		t.Fatal("a record admitted and not yet journaled was admitted again (a second poller)")
	}
	if err := k.Events(context.Background(), "lookup:us-east-1", []ctlog.Record{r}, nil); err != nil {
		t.Fatal(err)
	}
	if k.Admit(&r) {
		t.Error("a record the fold holds was admitted again")
	}
	c := record(t, "6f1e0c4e-0000-4000-8000-000000000001", "GetUser", "5.6.7.8")
	if !k.Admit(&c) {
		t.Error("a distinct copy was not admitted")
	}
	f.Read(func(s *state.Store) {
		if s.Events.Len() != 1 {
			t.Errorf("the fold holds %d events, want 1", s.Events.Len())
		}
	})
}

// TestFoldAppliesHandedRecords: an events entry this process journaled is
// applied from the records parsed before it was journaled, not parsed
// again from the journal. The test hands over a record that differs from
// the one journaled: the fold shows the one handed over.
func TestFoldAppliesHandedRecords(t *testing.T) {
	rec := openRec(t)
	f := NewFold()
	k := &Sink{Rec: rec, Fold: f}
	journaled := record(t, "6f1e0c4e-0000-4000-8000-000000000001", "GetUser", "1.2.3.4")
	handed := journaled
	handed.EventName = "HandedOver" // what a second parse of the journal would not say
	// Journal the record as the sink does, then swap what is handed over.
	if err := k.Events(context.Background(), "lookup:us-east-1", []ctlog.Record{journaled}, nil); err != nil {
		t.Fatal(err)
	}
	f.hmu.Lock()
	for seq, h := range f.hand {
		h.recs = []ctlog.Record{handed}
		f.hand[seq] = h
	}
	f.hmu.Unlock()
	// Read the journal into the fold, as the core's follower does.
	if _, err := journal.Read(rec.Path(), func(e journal.Entry) error { return f.Apply(e) }); err != nil {
		t.Fatal(err)
	}
	f.Read(func(s *state.Store) {
		if s.Events.Len() != 1 || s.Events.Event(0).Name != "HandedOver" {
			t.Errorf("the fold parsed the journal again: %d events, first %+v", s.Events.Len(), s.Events.Event(0))
		}
	})
	f.hmu.Lock()
	defer f.hmu.Unlock()
	if len(f.hand) != 0 {
		t.Errorf("%d hand-overs left after the fold applied them", len(f.hand))
	}
}
