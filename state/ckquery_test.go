package state

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// TestQueryIndexed is the fast path's differential test: random filters
// answered from the checkpoint's sections alone give the events, in the
// order, and the records, byte for byte, that the fold gives; a filter
// the sections cannot answer, or a journal with events after the
// checkpoint, is left to Open.
func TestQueryIndexed(t *testing.T) {
	path := eventsJournal(t, 5, 250)
	openIndexed(t, path)
	// A line after S that holds no events: the table at S is the table.
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Record(KindNote, Note{Text: "after the checkpoint"}); err != nil {
		t.Fatal(err)
	}
	rec.Close()
	check(t, path, 400)
	queryIndexedRefusals(t, path)
}

// check compares rounds random filters answered from the index with the
// fold's answers.
func check(t *testing.T, path string, rounds int) {
	t.Helper()
	want := mustFold(t, path)
	raws := NewRawReader(path)
	defer raws.Close()
	r := rand.New(rand.NewPCG(3, uint64(rounds)))
	answered, matched := 0, 0
	for i := range rounds {
		src := randomIndexFilter(r)
		f, err := ParseFilter(src)
		if err != nil {
			continue
		}
		a, rep, ok := QueryIndexed(path, f)
		if !ok {
			continue
		}
		answered++
		if rep.Problem != nil || rep.Seq != want.Seq {
			t.Fatalf("filter %q: report %+v, journal at line %d", src, rep, want.Seq)
		}
		res := want.Events.Query(f)
		if a.Len() != res.Len() || a.Total != want.Events.Len() {
			t.Fatalf("filter %d %q: %d of %d events from the index, %d of %d from the fold", i, src, a.Len(), a.Total, res.Len(), want.Events.Len())
		}
		for k, id := range res.IDs() {
			if a.Ref(k) != want.Events.Event(id).Ref {
				t.Fatalf("filter %q: event %d at %+v, want %+v", src, k, a.Ref(k), want.Events.Event(id).Ref)
			}
		}
		start := r.IntN(a.Len() + 1)
		n := 0
		if err := a.Records(start, func(k int, raw []byte) error {
			w, err := raws.Raw(a.Ref(k))
			if err != nil {
				return err
			}
			if k != start+n || !bytes.Equal(raw, w) {
				t.Fatalf("filter %q: record %d:\n%s\nwant\n%s", src, k, raw, w)
			}
			n++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != a.Len()-start || a.spanned != n {
			t.Fatalf("filter %q: %d records from %d, %d of them read alone, of %d", src, n, start, a.spanned, a.Len())
		}
		// The table's rows: what Event gives of each, from the index.
		evs, ok := a.Events(start)
		if !ok || len(evs) != a.Len()-start {
			t.Fatalf("filter %q: no rows from the index (%v, %d of %d)", src, ok, len(evs), a.Len()-start)
		}
		for k, ev := range evs {
			w := want.Events.Event(res.At(start + k))
			g := Event{Time: w.Time, Region: w.Region, Source: w.Source, Name: w.Name, Principal: w.Principal,
				User: w.User, AccessKeyID: w.AccessKeyID, SourceIP: w.SourceIP, ErrorCode: w.ErrorCode, Ref: w.Ref}
			if !ev.Time.Equal(g.Time) {
				t.Fatalf("filter %q: row %d at %v, want %v", src, start+k, ev.Time, g.Time)
			}
			ev.Time = g.Time
			if ev != g {
				t.Fatalf("filter %q: row %d\n%+v\nwant\n%+v", src, start+k, ev, g)
			}
		}
		if a.Len() > 0 {
			matched++
		}
	}
	if answered < rounds/5 || matched < rounds/13 {
		t.Fatalf("%d filters answered from the index, %d matched anything: the test tests little", answered, matched)
	}
}

func queryIndexedRefusals(t *testing.T, path string) {
	// Derived fields are the store's: Open answers.
	for _, src := range []string{"ours", "family:AKIA*", "readonly key:AKIA*", "-key:AKIA*", "since:2h", "alice"} {
		f, err := ParseFilter(src)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := QueryIndexed(path, f); ok {
			t.Fatalf("%q answered from the index", src)
		}
	}
	f, _ := ParseFilter("event:*")
	if _, _, ok := QueryIndexed(path, f); !ok {
		t.Fatal("event:* not answered from the index")
	}

	// A byte of the key column's section, of the section table, of a
	// span: refused.
	ck := readFile(t, IndexPath(path))
	size := int64(len(ck))
	fh, err := os.Open(IndexPath(path))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := readTable(fh, size)
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	tl := int(binary.LittleEndian.Uint64(ck[size-ckTrailer:]))
	for _, at := range []int64{tab.secs[colKey].off + tab.secs[colKey].n - 1, size - ckTrailer - int64(tl) + 3, tab.secs[secRecs].off + 5, tab.secs[secRecs].off + tab.secs[secRecs].n - 3, tab.secs[secRecSums].off, tab.secs[secPostOff+colKey].off + 4, tab.secs[secPosts+colKey].off + 1, tab.secs[secPosts+colKey].off + tab.secs[secPosts+colKey].n - 1, tab.secs[secPostSums+colKey].off + 7} {
		b := bytes.Clone(ck)
		b[at] ^= 0x20
		writeFile(t, IndexPath(path), b)
		f, _ := ParseFilter("key:AKIA*")
		if _, _, ok := QueryIndexed(path, f); ok {
			t.Fatalf("byte %d of %d changed: answered from the index", at, size)
		}
	}
	// A byte of a row: the rows are refused, not the answer.
	b := bytes.Clone(ck)
	b[tab.secs[secRows].off+3] ^= 0x20
	writeFile(t, IndexPath(path), b)
	if a, _, ok := QueryIndexed(path, f); !ok {
		t.Fatal("a row changed: not answered")
	} else if _, ok := a.Events(0); ok {
		t.Fatal("a row changed: rows read from the index")
	}
	writeFile(t, IndexPath(path), ck)
	if _, _, ok := QueryIndexed(path, f); !ok {
		t.Fatal("restored: not answered")
	}

	// Events after the checkpoint: Open answers.
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2"})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, rec, rand.New(rand.NewPCG(6, 7)), &gen{}, 1)
	rec.Close()
	if _, _, ok := QueryIndexed(path, f); ok {
		t.Fatal("events after the checkpoint: answered from the index")
	}

	// A checkpoint refreshed from this one carries its spans: every
	// record is still read alone (check).
	rec, err = OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2"})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, rec, rand.New(rand.NewPCG(8, 7)), &gen{}, 260)
	rec.Close()
	if o, warn := openIndexed(t, path); warn != "" || o.from != o.store.Seq {
		t.Fatalf("not refreshed (%q): from %d, at %d", warn, o.from, o.store.Seq)
	}
	check(t, path, 200)
}

// TestReplayerKeepsCheckpoint: seeks build from the checkpoint decoded by
// the first, until its file changes; a changed one is checked again (and
// here refused), and the seek still gives the fold.
func TestReplayerKeepsCheckpoint(t *testing.T) {
	defer func(e, l int) { seekEvents, seekLines = e, l }(seekEvents, seekLines)
	seekEvents, seekLines = 60, 7
	path := eventsJournal(t, 12, 60)
	openIndexed(t, path)
	r, err := OpenReplayWith(path, OpenOptions{MinEvents: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := t.Context()
	if _, err := r.Fold(ctx, r.Len()/2); err != nil {
		t.Fatal(err)
	}
	kept := r.ck
	if kept == nil {
		t.Fatal("the checkpoint was not kept")
	}
	for _, n := range []int{r.Len() / 3, r.Len() - 1, r.Len() / 2} {
		got, err := r.Fold(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if r.ck != kept {
			t.Fatalf("seek to %d decoded the checkpoint again", n)
		}
		if !bytes.Equal(snapshot(t, got), snapshot(t, foldTo(t, path, n))) {
			t.Fatalf("seek to %d: not the fold", n)
		}
	}
	b := readFile(t, IndexPath(path))
	b[checkpointHeader+10] ^= 1
	writeFile(t, IndexPath(path), b)
	got, err := r.Fold(ctx, r.Len()/2)
	if err != nil {
		t.Fatal(err)
	}
	if r.ck != nil {
		t.Fatal("a changed checkpoint was kept")
	}
	if !bytes.Equal(snapshot(t, got), snapshot(t, foldTo(t, path, r.Len()/2))) {
		t.Fatal("not the fold")
	}
}

func foldTo(t *testing.T, path string, n int) *Store {
	t.Helper()
	want := NewStore()
	if _, err := readVouched(path, func(e journal.Entry) error {
		if e.Seq > int64(n) {
			return errStop
		}
		return want.Apply(e)
	}); err != nil && err != errStop {
		t.Fatal(err)
	}
	return want
}

// TestReplayerSharesCheckpoint: a Replayer seeks from the checkpoint it
// decoded to open the journal, whose arrays its end store shares; once the
// end store changes an event in place, that copy is spoiled and the next
// seek decodes the file again. Either way a seek is the fold, and the end
// store is too.
func TestReplayerSharesCheckpoint(t *testing.T) {
	defer func(e, l int) { seekEvents, seekLines = e, l }(seekEvents, seekLines)
	seekEvents, seekLines = 60, 7
	path := eventsJournal(t, 13, 60)
	openIndexed(t, path)
	r, err := OpenReplayWith(path, OpenOptions{MinEvents: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	kept := r.ck
	if kept == nil || kept.tainted() {
		t.Fatal("the checkpoint decoded to open was not kept")
	}
	ctx := t.Context()
	end, err := r.Fold(ctx, r.Len())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{r.Len() - 1, r.Len() / 2} {
		got, err := r.Fold(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if r.ck != kept {
			t.Fatalf("seek to %d decoded the checkpoint again", n)
		}
		if !bytes.Equal(snapshot(t, got), snapshot(t, foldTo(t, path, n))) {
			t.Fatalf("seek to %d: not the fold", n)
		}
	}
	if end.Events.onChange == nil {
		t.Fatal("the end store does not report its changes")
	}
	end.Events.onChange(0) // as showCopy and setFlags do before a change
	got, err := r.Fold(ctx, r.Len()-1)
	if err != nil {
		t.Fatal(err)
	}
	if r.ck == kept || r.ck == nil || r.ck.tainted() {
		t.Fatal("a spoiled checkpoint was used")
	}
	if !bytes.Equal(snapshot(t, got), snapshot(t, foldTo(t, path, r.Len()-1))) {
		t.Fatal("not the fold")
	}
	if !bytes.Equal(snapshot(t, end), snapshot(t, foldTo(t, path, r.Len()))) {
		t.Fatal("the end store is not the fold")
	}
}

// TestSeekCutsDedupe: a seek to a point near the checkpoint takes the
// checkpoint's dedupe set less the events it cuts (built once), rather
// than build its own; every event it holds is found by its identity, no
// event cut is, and the seek is the fold (whose later events are told
// from duplicates by that set).
func TestSeekCutsDedupe(t *testing.T) {
	defer func(e, l int) { seekEvents, seekLines = e, l }(seekEvents, seekLines)
	seekEvents, seekLines = 60, 7
	path := eventsJournal(t, 12, 60)
	openIndexed(t, path)
	r, err := OpenReplayWith(path, OpenOptions{MinEvents: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for n := r.Len() - 1; n > r.Len()-15; n-- {
		got, err := r.Fold(t.Context(), n)
		if err != nil {
			t.Fatal(err)
		}
		base := r.ck.t
		tb := got.Events
		for id := range uint32(base.Len()) {
			k, u := base.identity(id)
			if k == flagIDNone {
				continue
			}
			found, ok := tb.findHashed(k, u, tb.hashKey(k, u))
			if in := int(id) < tb.Len(); in != ok || ok && found != id {
				t.Fatalf("seek to %d: event %d (of %d held): found %v, as %d", n, id, tb.Len(), ok, found)
			}
		}
		// Looking up an event held builds the set the seek borrows.
		if base.dedupe == nil || tb.dedupeBase != base {
			t.Fatalf("seek to %d: the checkpoint's dedupe set was not built and borrowed", n)
		}
		if !bytes.Equal(snapshot(t, got), snapshot(t, foldTo(t, path, n))) {
			t.Fatalf("seek to %d: not the fold", n)
		}
	}
}
