package state

import (
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
)

// FuzzAddendumMerge adds a minting event and then copies of it built from
// the fuzzer's bytes, and checks what must hold whatever the copies say:
// the minted key stays in the family, the event stays found by its id and
// by minted, the same copy twice is never new, the shown copy's call
// (time, name, source, key) never changes, and Seen agrees with the
// table on which copies are new.
func FuzzAddendumMerge(f *testing.F) {
	f.Add(uint8(1), "UPDATED_DATA", "responseElements", "ASIAOTHER", "eu-west-1", "1.2.3.4", uint8(0))
	f.Add(uint8(0), "DELIVERY_DELAY", "", "", "us-east-1", "203.0.113.7", uint8(1))
	f.Add(uint8(2), "UPDATED_DATA", "eventName,userIdentity", "ASIA2", "us-east-1", "203.0.113.7", uint8(2))
	f.Add(uint8(3), "", "sourceIPAddress", "ASIA2", "x", "", uint8(3))
	f.Fuzz(func(t *testing.T, mode uint8, reason, updated, mint, region, ip string, change uint8) {
		tb := NewEventTable()
		seen := NewSeen()
		orig := mintRec(4, 4, "ASIA1", "AssumeRole", "ASIA2", roleA)
		tb.Add(orig, EventRef{})
		seen.Add(orig)
		var cps []*ctlog.Record
		for i := range 3 {
			c := mintRec(4, 4, "ASIA1", "AssumeRole", "ASIA2", roleA)
			if mode&1 != 0 || i > 0 {
				c.Addendum = &ctlog.Addendum{Reason: reason, UpdatedFields: updated}
			}
			if mode&2 != 0 {
				c.Minted = &ctlog.Minted{AccessKeyID: mint}
			}
			if mint == "" && mode&4 != 0 {
				c.Minted = nil
			}
			c.Region, c.SourceIP = region, ip
			switch (change + uint8(i)) % 4 {
			case 1:
				c.EventName = "GetSessionToken"
			case 2:
				c.EventTime = c.EventTime.Add(time.Duration(change) * time.Second)
			case 3:
				c.AccessKeyID = mint
			}
			cps = append(cps, c)
		}
		for i, c := range cps {
			_, changed := tb.Add(c, EventRef{Offset: int64(i + 1)})
			if s := seen.Add(c); s != changed {
				t.Fatalf("copy %d: Seen says new %v, the table %v", i, s, changed)
			}
			if _, again := tb.Add(c, EventRef{Offset: 99}); again {
				t.Fatalf("copy %d twice was new", i)
			}
		}
		id, ok := tb.lookupEventID(uuidOf(4))
		if !ok || tb.Len() != 1 {
			t.Fatalf("event lost: %v, Len %d", ok, tb.Len())
		}
		e := tb.Event(id)
		if e.Name != "AssumeRole" || e.AccessKeyID != "ASIA1" || !e.Time.Equal(orig.EventTime) || !e.Minted {
			t.Fatalf("the call changed: %+v", e)
		}
		fam := tb.Family("ASIA1")
		if len(fam) < 2 || fam[1].Key != "ASIA2" {
			t.Fatalf("family lost ASIA2: %+v", fam)
		}
		for _, w := range []string{"minted", "event:AssumeRole", "key:ASIA1", "id:" + uuidOf(4)} {
			flt, _ := ParseFilter(w)
			if tb.QueryAt(flt, t0).Len() != 1 {
				t.Fatalf("%s lost the event", w)
			}
		}
		if n := len(tb.Copies(id)); n > 0 && n > len(cps)+1 {
			t.Fatalf("%d copies of %d records", n, len(cps)+1)
		}
		if s := tb.Seen(); s.Add(orig) {
			t.Fatal("the table's Seen takes the first copy as new")
		}
	})
}
