package state

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// mintsJournal is eventsJournal with a line of minting calls after every
// ten lines of random ones (rounds of them): a key mints a chain of
// sessions, one of them minted again by a second copy of its event (a
// second link), so that the lineage grows all along the journal.
func mintsJournal(t *testing.T, seed uint64, rounds int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inc.journal")
	rec, err := OpenRecorder(path, IncidentOpened{ID: "wr-mints", Title: "mints"}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	rng, g := rand.New(rand.NewPCG(seed, 7)), &gen{}
	for i := range rounds {
		appendEvents(t, rec, rng, g, 10)
		var raws []json.RawMessage
		parent := pick(rng, poolKey[:7])
		for j := range 4 {
			child := fmt.Sprintf("ASIAMINT%02d%02d", i, j)
			rc := &ctlog.Record{EventID: uuidOf(5000 + 10*i + j), EventTime: t0.Add(time.Duration(rng.IntN(300)) * time.Minute),
				EventName: "AssumeRole", EventSource: "sts.amazonaws.com", Region: "us-east-1", AccessKeyID: parent,
				Minted: &ctlog.Minted{AccessKeyID: child}}
			raws = append(raws, rawRecord(rc))
			if j == 1 {
				// The same call recorded again, naming another key.
				rc2 := *rc
				rc2.Minted = &ctlog.Minted{AccessKeyID: child + "X"}
				raws = append(raws, rawRecord(&rc2))
			}
			parent = child
		}
		if _, _, err := rec.RecordRawEvents(fmt.Sprintf("mint:%d.json", i), raws, nil); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestSeekRandom: a replay seeks to random positions in random order —
// back to the end after others (the checkpoint's own store, built from
// its facts less the lineage's links: withoutLinks), one before it, and
// positions whose seek point keeps fewer of the lineage's links than the
// checkpoint — and each store is the fresh fold of the journal's first
// lines, built from the checkpoint.
func TestSeekRandom(t *testing.T) {
	defer func(e, l int) { seekEvents, seekLines = e, l }(seekEvents, seekLines)
	seekEvents, seekLines = 50, 6
	path := mintsJournal(t, 21, 15)
	openIndexed(t, path)
	f, err := loadIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	links := len(f.rest.Lineage.Links)
	cutLinks := 0
	for _, p := range f.seeks.points {
		if p.prefix[8] > 0 && p.prefix[8] < links {
			cutLinks++
		}
	}
	if links == 0 || cutLinks < 3 || len(f.rest.Lineage.ByEvent) == 0 {
		t.Fatalf("%d links, %d seek points keep part of them: the test tests little", links, cutLinks)
	}
	if js := withoutLinks(f.restJS); js == nil || len(js) >= len(f.restJS) {
		t.Fatal("withoutLinks found no links in the checkpoint's facts")
	}
	lines, r := replayLines(t, path)
	if r.from == 0 {
		t.Fatal("the replay did not open the checkpoint")
	}
	rng := rand.New(rand.NewPCG(21, 3))
	at := []int{r.Len(), r.Len() - 1, r.Len() / 2, r.Len(), 1, r.Len()}
	for range 25 {
		at = append(at, 1+rng.IntN(r.Len()))
	}
	at = append(at, r.Len())
	warmed := 0
	for i, n := range at {
		// foldIndexed, not Fold: Fold would hide a seek that failed by
		// folding from line 1.
		fold := r.foldIndexed
		if int64(n) < f.b.Mark.Seq && f.seeks.before(int64(n)) < 0 {
			fold = r.Fold // before the first point: from line 1
		}
		// Every other seek copies into memory Warm made ready (its
		// arrays carved from it, not cleared), some while Warm runs.
		var wg sync.WaitGroup
		switch i % 4 {
		case 1:
			r.Warm()
		case 3:
			wg.Go(r.Warm)
		}
		got, err := fold(context.Background(), n)
		wg.Wait()
		if err != nil {
			t.Fatalf("seek to %d: %v", n, err)
		}
		if i%4 == 1 && r.takeWarm() == nil {
			warmed++
		}
		want := NewStore()
		for _, e := range lines[:n] {
			if err := want.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(snapshot(t, got), snapshot(t, want)) {
			t.Fatalf("seek to %d of %d: the store differs from the fold", n, r.Len())
		}
		// A seek's store is the console's: it folds on from there.
		if n < r.Len() {
			if err := got.Apply(lines[n]); err != nil {
				t.Fatal(err)
			}
			if err := want.Apply(lines[n]); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(snapshot(t, got), snapshot(t, want)) {
				t.Fatalf("seek to %d then one more line: the store differs from the fold", n)
			}
		}
	}

	if warmed < 4 {
		t.Fatalf("%d seeks used the memory Warm made ready: the test tests little", warmed)
	}
	r.takeWarm()

	// A seek's table borrows the checkpoint's dedupe set; past the
	// checkpoint's events it takes its own. Both tell copies from new
	// events as the fold's table does.
	n := r.Len() - 3
	got, err := r.foldIndexed(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events.dedupeBase == nil {
		t.Fatal("the seek's table does not borrow the checkpoint's dedupe set")
	}
	want := NewStore()
	for _, e := range lines {
		if err := want.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, e := range lines[n:] {
		if err := got.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
	if got.Events.dedupeBase == nil {
		t.Fatal("the checkpoint's own events made the table copy the dedupe set")
	}
	var held uint32
	for held = 0; got.Events.Event(held).EventID == ""; held++ {
	}
	e := got.Events.Event(held)
	copied := &ctlog.Record{EventID: e.EventID, EventTime: e.Time, EventName: e.Name, EventSource: e.Source, Region: e.Region, AccessKeyID: e.AccessKeyID}
	fresh := &ctlog.Record{EventID: uuidOf(99999), EventTime: t0, EventName: "GetObject", EventSource: "s3.amazonaws.com", AccessKeyID: "AKIANEW"}
	for _, tb := range []*EventTable{got.Events, want.Events} {
		next := uint32(tb.Len())
		for i, rc := range []*ctlog.Record{copied, fresh, fresh, copied} {
			id, _ := tb.Add(rc, EventRef{Offset: 1, Index: uint32(i)})
			if wantID := map[bool]uint32{true: held, false: next}[rc == copied]; id != wantID {
				t.Fatalf("record %d added as event %d, want %d", i, id, wantID)
			}
		}
	}
	if got.Events.dedupeBase != nil {
		t.Fatal("a new event did not make the table take its own dedupe set")
	}
	if !bytes.Equal(snapshot(t, got), snapshot(t, want)) {
		t.Fatal("past the checkpoint's events, the seek's store differs from the fold")
	}
}

// TestSeekQueryLazy: a seek's store posts its events to the posting lists
// only when a query with terms first reads them (a frame of every event
// reads the time order alone), and then every filter gives the fold's
// answer: with the events changed in place and added after the point
// (folded after it, and one more line) posted with their values then.
func TestSeekQueryLazy(t *testing.T) {
	defer func(e, l int) { seekEvents, seekLines = e, l }(seekEvents, seekLines)
	seekEvents, seekLines = 50, 6
	path := mintsJournal(t, 22, 15)
	openIndexed(t, path)
	lines, r := replayLines(t, path)
	rng := rand.New(rand.NewPCG(22, 5))
	now := t0.Add(24 * time.Hour)
	for range 12 {
		n := 2 + rng.IntN(r.Len()-2)
		got, err := r.foldIndexed(context.Background(), n)
		if err != nil {
			t.Fatalf("seek to %d: %v", n, err)
		}
		if got.Events.indexed != 0 {
			t.Fatalf("seek to %d: %d events posted before any query", n, got.Events.indexed)
		}
		want := NewStore()
		for _, e := range lines[:n] {
			if err := want.Apply(e); err != nil {
				t.Fatal(err)
			}
		}
		if a, b := got.Events.Query(nil).IDs(), want.Events.Query(nil).IDs(); !slices.Equal(a, b) {
			t.Fatalf("seek to %d: every event: %d ids, the fold %d", n, len(a), len(b))
		}
		if got.Events.indexed != 0 {
			t.Fatalf("seek to %d: a query of every event posted %d events", n, got.Events.indexed)
		}
		if n < r.Len() && rng.IntN(2) == 0 {
			for _, s := range []*Store{got, want} {
				if err := s.Apply(lines[n]); err != nil {
					t.Fatal(err)
				}
			}
		}
		queried := 0
		for range 40 {
			expr := randomFilter(rng)
			f, err := ParseFilter(expr)
			if err != nil {
				t.Fatalf("%q: %v", expr, err)
			}
			a, b := got.Events.QueryAt(f, now).IDs(), want.Events.QueryAt(f, now).IDs()
			if !slices.Equal(a, b) {
				t.Fatalf("seek to %d, filter %q: %v, the fold %v", n, expr, a, b)
			}
			queried += len(b)
		}
		if queried == 0 {
			t.Fatalf("seek to %d: no filter matched an event: the test tests little", n)
		}
		if got.Events.indexed != uint32(got.Events.Len()) {
			t.Fatalf("seek to %d: %d of %d events posted after queries", n, got.Events.indexed, got.Events.Len())
		}
	}
}

// TestSeekDedupeLater: a seek whose fold after its point adds only the
// checkpoint's next events again (no copies) never builds the
// checkpoint's dedupe set; a copy of an event held, added after, builds
// it and is told from a new event as the fold tells it.
func TestSeekDedupeLater(t *testing.T) {
	defer func(e, l int) { seekEvents, seekLines = e, l }(seekEvents, seekLines)
	seekEvents, seekLines = 40, 5
	path := filepath.Join(t.TempDir(), "inc.journal")
	rec, err := OpenRecorder(path, IncidentOpened{ID: "wr-later", Title: "later"}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(23, 1))
	next := 0
	for i := range 40 {
		var raws []json.RawMessage
		for range 1 + rng.IntN(12) {
			next++
			rc := &ctlog.Record{EventID: uuidOf(next), EventTime: t0.Add(time.Duration(rng.IntN(600)) * time.Minute),
				EventName: pick(rng, []string{"GetObject", "ListBuckets", "CreateAccessKey"}), EventSource: "s3.amazonaws.com",
				Region: "us-east-1", AccessKeyID: pick(rng, poolKey)}
			raws = append(raws, rawRecord(rc))
		}
		if _, _, err := rec.RecordRawEvents(fmt.Sprintf("file:%d.json", i), raws, nil); err != nil {
			t.Fatal(err)
		}
	}
	rec.Close()
	openIndexed(t, path)
	_, r := replayLines(t, path)
	folded := 0
	for _, n := range []int{r.Len() - 1, r.Len() / 2, r.Len() - 3, 7, r.Len() / 3} {
		got, err := r.foldIndexed(context.Background(), n)
		if err != nil {
			t.Fatalf("seek to %d: %v", n, err)
		}
		if got.Events.dedupeBase == nil {
			t.Fatalf("seek to %d: the table does not borrow the checkpoint's dedupe set", n)
		}
		if got.Seq > r.ck.seeks.points[r.ck.seeks.before(int64(n))].seq {
			folded++
		}
		if !bytes.Equal(snapshot(t, got), snapshot(t, foldTo(t, path, n))) {
			t.Fatalf("seek to %d: not the fold", n)
		}
	}
	if folded == 0 {
		t.Fatal("no seek folded after its point: the test tests little")
	}
	if r.ck.t.dedupe != nil {
		t.Fatal("seeks that added no copy built the checkpoint's dedupe set")
	}
	n := r.Len() / 2
	got, err := r.foldIndexed(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	want := foldTo(t, path, n)
	e := got.Events.Event(3)
	copied := &ctlog.Record{EventID: e.EventID, EventTime: e.Time, EventName: e.Name, EventSource: e.Source, Region: e.Region, AccessKeyID: e.AccessKeyID}
	fresh := &ctlog.Record{EventID: uuidOf(99999), EventTime: t0, EventName: "GetObject", EventSource: "s3.amazonaws.com", AccessKeyID: "AKIANEW"}
	for _, tb := range []*EventTable{got.Events, want.Events} {
		held := uint32(tb.Len())
		for i, rc := range []*ctlog.Record{copied, fresh, fresh, copied} {
			id, _ := tb.Add(rc, EventRef{Offset: 1, Index: uint32(i)})
			if wantID := map[bool]uint32{true: 3, false: held}[rc == copied]; id != wantID {
				t.Fatalf("record %d added as event %d, want %d", i, id, wantID)
			}
		}
	}
	if r.ck.t.dedupe == nil {
		t.Fatal("a copy was looked up without the checkpoint's dedupe set")
	}
	if !bytes.Equal(snapshot(t, got), snapshot(t, want)) {
		t.Fatal("after a copy and a new event, the seek's store differs from the fold")
	}
}

// replayLines returns the journal's lines as read and vouched for, and the
// journal opened for replay (closed when the test ends).
func replayLines(t *testing.T, path string) ([]journal.Entry, *Replayer) {
	t.Helper()
	var lines []journal.Entry
	if _, err := readVouched(path, func(e journal.Entry) error {
		lines = append(lines, e)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r, err := OpenReplayWith(path, OpenOptions{MinEvents: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return lines, r
}
