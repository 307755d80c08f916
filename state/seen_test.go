package state

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// TestSeenMatchesTable: for random streams of records (repeated ids of
// every kind, copies with and without addenda, corrections that differ in
// one field or none), Seen.Add says a record is new exactly when
// EventTable.Add does; and a Seen made from a table part way through
// (EventTable.Seen, as ingest makes it from a journal) goes on agreeing.
func TestSeenMatchesTable(t *testing.T) {
	ids := []string{
		"6a1b0c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d", "0f1e2d3c-4b5a-4968-8776-655443322110",
		"6A1B0C2D-3E4F-4A5B-8C6D-7E8F9A0B1C2D", // a UUID in capitals: another string
		"not-a-uuid", "synthetic-0123456789abcdef0123456789abcdef", "",
	}
	base := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	variants := []func(r *ctlog.Record){
		func(r *ctlog.Record) {},
		func(r *ctlog.Record) { r.EventTime = r.EventTime.Add(time.Second) },
		func(r *ctlog.Record) { r.EventTime = time.Time{} },
		func(r *ctlog.Record) { r.EventName = "PutUserPolicy" },
		func(r *ctlog.Record) { r.SourceIP = "203.0.113.9" },
		func(r *ctlog.Record) { r.ErrorCode = "AccessDenied" },
		func(r *ctlog.Record) { r.ReadOnly = ctlog.ReadOnlyFalse },
		func(r *ctlog.Record) { r.Minted = &ctlog.Minted{AccessKeyID: "ASIAEXAMPLE"} },
		func(r *ctlog.Record) { r.UserName = "mallory" },
	}
	record := func(rng *rand.Rand) ctlog.Record {
		r := ctlog.Record{
			EventID: ids[rng.IntN(len(ids))], EventTime: base, EventName: "ListUsers",
			EventSource: "iam.amazonaws.com", Region: "us-east-1", SourceIP: "198.51.100.1",
			UserName: "alice", ReadOnly: ctlog.ReadOnlyTrue,
		}
		variants[rng.IntN(len(variants))](&r)
		if rng.IntN(3) == 0 {
			r.Addendum = &ctlog.Addendum{Reason: "DELIVERY_DELAY"}
		}
		r.Raw = fmt.Appendf(nil, `{"eventID":%q,"eventName":%q,"sourceIPAddress":%q}`, r.EventID, r.EventName, r.SourceIP)
		return r
	}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		table, seen := NewEventTable(), NewSeen()
		var fromTable *Seen
		for i := range 60 {
			r := record(rng)
			_, want := table.Add(&r, EventRef{})
			if got := seen.Add(&r); got != want {
				t.Fatalf("seed %d, record %d (%s, addendum %v): Seen says new=%v, the table %v", seed, i, r.EventID, r.Addendum != nil, got, want)
			}
			if fromTable != nil {
				if got := fromTable.Add(&r); got != want {
					t.Fatalf("seed %d, record %d: a Seen made from the table says new=%v, the table %v", seed, i, got, want)
				}
			}
			if i == 30 {
				fromTable = table.Seen()
				if fromTable.Len() != table.Len() {
					t.Fatalf("seed %d: a Seen made from %d events holds %d", seed, table.Len(), fromTable.Len())
				}
			}
		}
		if seen.Len() != table.Len() {
			t.Fatalf("seed %d: Seen holds %d events, the table %d", seed, seen.Len(), table.Len())
		}
	}
}
