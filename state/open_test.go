package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// rawRecord writes r as a CloudTrail record, in the shape ctlog parses
// back into r (the fields the table keeps).
func rawRecord(r *ctlog.Record) json.RawMessage {
	m := map[string]any{
		"eventVersion": "1.09", "eventID": r.EventID, "eventName": r.EventName, "eventSource": r.EventSource,
		"awsRegion": r.Region, "sourceIPAddress": r.SourceIP, "userAgent": r.UserAgent,
		"userIdentity": map[string]any{"type": r.IdentityType, "arn": r.PrincipalARN, "accessKeyId": r.AccessKeyID, "userName": r.UserName},
	}
	if !r.EventTime.IsZero() {
		m["eventTime"] = r.EventTime.UTC().Format(time.RFC3339)
	}
	if r.ErrorCode != "" {
		m["errorCode"], m["errorMessage"] = r.ErrorCode, r.ErrorMessage
	}
	switch r.ReadOnly {
	case ctlog.ReadOnlyTrue:
		m["readOnly"] = true
	case ctlog.ReadOnlyFalse:
		m["readOnly"] = false
	}
	if r.Minted != nil {
		m["responseElements"] = map[string]any{"credentials": map[string]any{"accessKeyId": r.Minted.AccessKeyID, "expiration": "Nov 20, 2026 11:00:00 PM"}}
	}
	if a := r.Addendum; a != nil {
		m["addendum"] = map[string]any{"reason": a.Reason, "updatedFields": a.UpdatedFields}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// eventsJournal writes a journal of random events (copies, addenda,
// mints, warroom's own calls and impersonations among them) and facts,
// in lines batches, and returns its path.
func eventsJournal(t testing.TB, seed uint64, lines int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inc.journal")
	rec, err := OpenRecorder(path, IncidentOpened{ID: "wr-index", Title: "index"}, journal.Actor{User: "alice", Host: "jump1"})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	appendEvents(t, rec, rand.New(rand.NewPCG(seed, 7)), &gen{}, lines)
	return path
}

// appendEvents appends lines random lines through rec.
func appendEvents(t testing.TB, rec *Recorder, r *rand.Rand, g *gen, lines int) {
	t.Helper()
	for i := 0; i < lines; i++ {
		var err error
		switch r.IntN(12) {
		case 0:
			_, err = rec.Record(KindSessionStarted, SessionStarted{Command: "console", Mode: "live", CallerKeyID: pick(r, poolKey), CallerARN: "arn:aws:iam::111122223333:user/alice"})
		case 1:
			_, err = rec.Record(KindNote, Note{Text: fmt.Sprintf("note %d", i)})
		case 2:
			_, err = rec.Record(KindSuspect, Suspect{AccessKeyID: pick(r, poolKey[:7]), Reason: "seen", Clear: r.IntN(4) == 0})
		default:
			var raws []json.RawMessage
			for range 1 + r.IntN(40) {
				raws = append(raws, rawRecord(randomRecord(r, g)))
			}
			_, _, err = rec.RecordRawEvents(fmt.Sprintf("file:%d.json", i), raws, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// memFile is an io.WriterAt in memory.
type memFile struct{ b []byte }

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if need := int(off) + len(p); need > len(m.b) {
		m.b = append(m.b, make([]byte, need-len(m.b))...)
	}
	copy(m.b[off:], p)
	return len(p), nil
}

// snapshot is the checkpoint of s, as bytes: two stores with the same
// snapshot hold the same facts and events with the same indexes.
func snapshot(t testing.TB, s *Store) []byte {
	t.Helper()
	var m memFile
	b := binding{Incident: s.Incident.ID, Mark: journal.Mark{Seq: s.Seq, Hash: s.Head, Next: 1}}
	if err := writeCheckpoint(&m, s, b, nil, nil); err != nil {
		t.Fatal(err)
	}
	// The header and the body: what follows (the records' spans, where
	// the output reads them back, and the section table) is not the
	// store's state, and a replay's store does not keep spans.
	k := len(checkpointMagic) + 4
	return m.b[:checkpointHeader+int(binary.LittleEndian.Uint64(m.b[k:]))]
}

func openIndexed(t *testing.T, path string) (opened, string) {
	t.Helper()
	var warn strings.Builder
	o, err := open(path, OpenOptions{MinEvents: 1, Warn: &warn})
	if err != nil {
		t.Fatal(err)
	}
	return o, warn.String()
}

func mustFold(t *testing.T, path string) *Store {
	t.Helper()
	s, _, err := Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameStore fails unless got is the fold want is.
func sameStore(t *testing.T, got, want *Store) {
	t.Helper()
	if !bytes.Equal(snapshot(t, got), snapshot(t, want)) {
		t.Fatalf("store from the checkpoint differs from the fold: seq %d, %d events; want seq %d, %d events",
			got.Seq, got.Events.Len(), want.Seq, want.Events.Len())
	}
}

// TestOpenCheckpoint opens a journal, which writes its checkpoint, opens
// it again from the checkpoint, then again after lines were appended
// behind the checkpoint's back: each time the store is the journal's fold.
func TestOpenCheckpoint(t *testing.T) {
	path := eventsJournal(t, 1, 300)
	o, warn := openIndexed(t, path)
	if warn != "" || o.from != o.store.Seq {
		t.Fatalf("first open: warned %q, checkpoint at %d of %d", warn, o.from, o.store.Seq)
	}
	if _, err := os.Stat(IndexPath(path)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(IndexPath(path)); fi.Mode().Perm() != 0o600 {
		t.Errorf("index mode %v, want 0600", fi.Mode().Perm())
	}
	want := mustFold(t, path)
	sameStore(t, o.store, want)
	s := o.store.Seq

	o, warn = openIndexed(t, path)
	if warn != "" || o.from != s {
		t.Fatalf("second open: warned %q, from %d; want the checkpoint at %d", warn, o.from, s)
	}
	sameStore(t, o.store, want)
	if len(o.marks) != int(s) {
		t.Fatalf("%d marks for %d lines", len(o.marks), s)
	}

	// Appended behind the checkpoint's back: folded after it.
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2"})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, rec, rand.New(rand.NewPCG(2, 7)), &gen{}, 40)
	rec.Close()
	o, warn = openIndexed(t, path)
	if warn != "" || o.from < s {
		t.Fatalf("after appending: warned %q, from %d; want the checkpoint at %d or later", warn, o.from, s)
	}
	want = mustFold(t, path)
	sameStore(t, o.store, want)
	if o.rep.Seq != want.Seq || o.rep.Problem != nil {
		t.Fatalf("report %+v, want seq %d and no problem", o.rep, want.Seq)
	}
}

// TestOpenCheckpointRejected damages the checkpoint or the journal in
// each way that must make Open ignore the checkpoint (and say so in one
// line), fold the journal, and write a good checkpoint again.
func TestOpenCheckpointRejected(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, path string, o opened)
		warn   string
	}{
		{"byte flipped", func(t *testing.T, path string, o opened) {
			b := readFile(t, IndexPath(path))
			b[len(b)/2] ^= 0x20
			writeFile(t, IndexPath(path), b)
		}, "SHA-256 does not match"},
		{"cut short", func(t *testing.T, path string, o opened) {
			b := readFile(t, IndexPath(path))
			writeFile(t, IndexPath(path), b[:len(b)-10])
		}, "section table"},
		{"cut in its body", func(t *testing.T, path string, o opened) {
			b := readFile(t, IndexPath(path))
			writeFile(t, IndexPath(path), b[:checkpointHeader+100])
		}, "the body should be"},
		{"other version", func(t *testing.T, path string, o opened) {
			b := readFile(t, IndexPath(path))
			binary.LittleEndian.PutUint32(b[len(checkpointMagic):], 99)
			writeFile(t, IndexPath(path), b)
		}, "format version 99"},
		{"journal truncated below S", func(t *testing.T, path string, o opened) {
			b := readFile(t, path)
			writeFile(t, path, b[:o.marks[len(o.marks)-3].off])
		}, "cut back"},
		{"journal truncated to mid line S", func(t *testing.T, path string, o opened) {
			b := readFile(t, path)
			writeFile(t, path, b[:len(b)-1])
		}, "line"},
		{"line S rewritten", func(t *testing.T, path string, o opened) {
			b := readFile(t, path)
			i := bytes.LastIndex(b, []byte(`"last"`))
			b[i+2] = 'o' // the same length, another hash, a valid chain
			writeFile(t, path, b)
		}, "rewritten"},
		{"group may read it", func(t *testing.T, path string, o opened) {
			if err := os.Chmod(IndexPath(path), 0o640); err != nil {
				t.Fatal(err)
			}
		}, "mode 0640"},
		{"a symlink", func(t *testing.T, path string, o opened) {
			if err := os.Rename(IndexPath(path), path+".elsewhere"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(path+".elsewhere", IndexPath(path)); err != nil {
				t.Fatal(err)
			}
		}, "symbolic link"},
		{"another incident", func(t *testing.T, path string, o opened) {
			f, err := os.OpenFile(IndexPath(path), os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := binding{Incident: "wr-other", Mark: journal.Mark{Seq: o.store.Seq, Hash: o.store.Head, Next: o.rep.Bytes}}
			if err := writeCheckpoint(f, o.store, b, o.marks, &o.seeks); err != nil {
				t.Fatal(err)
			}
		}, `made for incident "wr-other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := eventsJournal(t, 3, 200)
			// The last line is a note, so that rewriting it breaks no link.
			rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "alice", Host: "jump1"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rec.Record(KindNote, Note{Text: "last"}); err != nil {
				t.Fatal(err)
			}
			rec.Close()
			o, _ := openIndexed(t, path)
			tt.change(t, path, o)
			o2, warn := openIndexed(t, path)
			if !strings.Contains(warn, tt.warn) || strings.Count(warn, "\n") != 1 || !strings.Contains(warn, "ignored, rebuilt") {
				t.Fatalf("warning %q, want one line with %q", warn, tt.warn)
			}
			if o2.from != o2.store.Seq && o2.store.Events.Len() > 0 {
				t.Fatalf("not rebuilt: from %d, seq %d", o2.from, o2.store.Seq)
			}
			sameStore(t, o2.store, mustFold(t, path))
			if _, warn = openIndexed(t, path); warn != "" {
				t.Fatalf("the rebuilt checkpoint is not used: %q", warn)
			}
		})
	}
}

// TestQueryFindsDamageOpenRebuilds: a byte changed in a part of the
// checkpoint after its body (records, rows, posting lists, their sums),
// which a full open never reads and so no longer checks: the full open
// uses the checkpoint and gives the fold; the query that reads the part
// finds it damaged; the open it hands that to (OpenOptions.Rebuild) says
// so and writes the file again, which the next query answers from.
func TestQueryFindsDamageOpenRebuilds(t *testing.T) {
	path := eventsJournal(t, 5, 400)
	openIndexed(t, path)
	ck := readFile(t, IndexPath(path))
	fh, err := os.Open(IndexPath(path))
	if err != nil {
		t.Fatal(err)
	}
	tab, err := readTable(fh, int64(len(ck)))
	fh.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := mustFold(t, path)
	key, err := ParseFilter("key:AKIA*")
	if err != nil {
		t.Fatal(err)
	}
	if a, _, err := AnswerIndexed(path, key); err != nil || a.Len() == 0 {
		t.Fatalf("before: %v (the test tests little)", err)
	}
	for _, at := range []struct {
		name string
		off  int64
		rows bool // found by Events, not by the query
	}{
		{"a span", tab.secs[secRecs].off + 3, false},
		{"a span's sum", tab.secs[secRecSums].off + 9, false},
		{"a posting list", tab.secs[secPosts+colKey].off + 1, false},
		{"a posting list's sum", tab.secs[secPostSums+colKey].off + 2, false},
		{"a row", tab.secs[secRows].off + 5, true},
		{"a row's sum", tab.secs[secRowSums].off + 30, true},
	} {
		t.Run(at.name, func(t *testing.T) {
			b := bytes.Clone(ck)
			b[at.off] ^= 0x10
			writeFile(t, IndexPath(path), b)
			o, warn := openIndexed(t, path)
			if warn != "" || o.from != o.store.Seq {
				t.Fatalf("a full open did not use the checkpoint: %q, from %d", warn, o.from)
			}
			sameStore(t, o.store, want)

			a, _, qerr := AnswerIndexed(path, key)
			if qerr == nil {
				if !at.rows {
					t.Fatal("answered from a damaged index")
				}
				if _, ok := a.Events(0); ok {
					t.Fatal("rows read from a damaged index")
				}
				qerr = a.Damaged()
			}
			if !IndexDamaged(qerr) {
				t.Fatalf("the query's error %v is not damage", qerr)
			}
			var w strings.Builder
			o, err := open(path, OpenOptions{MinEvents: 1, Warn: &w, Rebuild: qerr})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(w.String(), "ignored, rebuilt") || !strings.Contains(w.String(), "SHA-256 does not match") || strings.Count(w.String(), "\n") != 1 {
				t.Fatalf("warning %q", w.String())
			}
			if o.from != o.store.Seq {
				t.Fatalf("not rewritten: from %d, seq %d", o.from, o.store.Seq)
			}
			sameStore(t, o.store, want)
			a, _, qerr = AnswerIndexed(path, key)
			if qerr != nil {
				t.Fatalf("after the rebuild: %v", qerr)
			}
			if _, ok := a.Events(0); !ok {
				t.Fatalf("after the rebuild: rows not read: %v", a.Damaged())
			}
			if _, warn := openIndexed(t, path); warn != "" {
				t.Fatalf("the rebuilt checkpoint is not used: %q", warn)
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestOpenCheckpointNeverOverJournal: a checkpoint path that names the
// journal itself (a hard link) or a journal is never written over.
func TestOpenCheckpointNeverOverJournal(t *testing.T) {
	path := eventsJournal(t, 4, 50)
	if err := os.Link(path, IndexPath(path)); err != nil {
		t.Skip(err)
	}
	before := readFile(t, path)
	_, warn := openIndexed(t, path)
	if !strings.Contains(warn, "is the journal itself") {
		t.Fatalf("warning %q", warn)
	}
	if !bytes.Equal(readFile(t, path), before) {
		t.Fatal("the journal changed")
	}
}

// randomFilter makes a filter from the language's fields and words, with
// values from the generator's pools.
func randomIndexFilter(r *rand.Rand) string {
	names, flags := FilterFields()
	vals := map[string][]string{
		"key": poolKey, "family": poolKey, "event": poolEvent, "source": {"iam", "s3", "sts*", "*amazonaws.com"},
		"region": poolRegion, "user": poolUser, "type": poolType, "ip": poolIP, "agent": {"warroom", "aws-cli*", "boto3"},
		"error": {"*", "AccessDenied", "accessdenied", "Throttling*"}, "principal": {"arn:aws:iam::111122223333:user/alice", "*bob"},
	}
	var terms []string
	for range 1 + r.IntN(3) {
		neg := ""
		if r.IntN(4) == 0 {
			neg = "-"
		}
		if r.IntN(3) == 0 {
			terms = append(terms, neg+pick(r, flags))
			continue
		}
		f := pick(r, names)
		v := "x"
		if vs := vals[f]; len(vs) > 0 {
			v = pick(r, vs)
		}
		if v == "" {
			v = "alice"
		}
		terms = append(terms, neg+f+":"+v)
	}
	return strings.Join(terms, " ")
}

// TestOpenCheckpointQueries is the differential test: random filters give
// the same events, with the same fields, from the store opened through
// the checkpoint (with lines after it) as from the fold of the journal.
func TestOpenCheckpointQueries(t *testing.T) {
	path := eventsJournal(t, 5, 250)
	openIndexed(t, path)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2"})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, rec, rand.New(rand.NewPCG(6, 7)), &gen{}, 30)
	rec.Close()
	o, warn := openIndexed(t, path)
	if warn != "" || o.from == 0 {
		t.Fatalf("warned %q, from %d", warn, o.from)
	}
	want := mustFold(t, path)
	r := rand.New(rand.NewPCG(9, 9))
	matched := 0
	for i := range 400 {
		src := randomIndexFilter(r)
		f, err := ParseFilter(src)
		if err != nil {
			continue
		}
		a, b := o.store.Events.Query(f), want.Events.Query(f)
		if !reflect.DeepEqual(a.IDs(), b.IDs()) {
			t.Fatalf("filter %d %q: %d events from the checkpoint, %d from the fold", i, src, a.Len(), b.Len())
		}
		for _, id := range a.IDs() {
			if x, y := o.store.Events.Event(id), want.Events.Event(id); x != y {
				t.Fatalf("filter %q: event %d\n%+v\nwant\n%+v", src, id, x, y)
			}
		}
		if a.Len() > 0 {
			matched++
		}
	}
	if matched < 50 {
		t.Fatalf("only %d filters matched anything: the test tests little", matched)
	}
}

// FuzzCheckpoint feeds the decoder checkpoints changed at random, with
// their checksum made right again (so that changes reach the decoding
// behind it): it must never panic or allocate beyond the file's size, and
// a store it accepts must answer queries without panicking.
func FuzzCheckpoint(f *testing.F) {
	path := eventsJournal(f, 8, 4)
	s, _, err := Replay(path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(snapshot(f, s))
	f.Add(snapshot(f, NewStore()))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) >= checkpointHeader {
			k := len(checkpointMagic)
			binary.LittleEndian.PutUint64(b[k+4:], uint64(len(b)-checkpointHeader))
			sum := sha256Sum(b[checkpointHeader:])
			copy(b[k+12:], sum[:])
		}
		s, _, _, err := readCheckpoint(bytes.NewReader(b), int64(len(b)), func(binding) error { return nil })
		if err != nil {
			return
		}
		q, _ := ParseFilter("key:AKIA1")
		res := s.Events.Query(q)
		for _, id := range res.IDs() {
			s.Events.Event(id)
		}
		s.Events.Family("AKIA1")
		s.Events.Add(randomRecord(rand.New(rand.NewPCG(1, 1)), &gen{}), EventRef{})
	})
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// TestSeekPoints: with a seek point every few events, a replay opened on
// the checkpoint folds to every position from the point before it, and
// each store is the fold of the journal's first lines — also after lines
// were appended and the checkpoint refreshed (old points kept, the change
// log carried on).
func TestSeekPoints(t *testing.T) {
	defer func(e, l int) { seekEvents, seekLines = e, l }(seekEvents, seekLines)
	seekEvents, seekLines = 60, 7
	path := eventsJournal(t, 11, 120)
	openIndexed(t, path)
	check := func(t *testing.T) {
		r, err := OpenReplayWith(path, OpenOptions{MinEvents: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.from == 0 {
			t.Fatal("the replay did not open the checkpoint")
		}
		f, err := loadIndex(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.seeks.points) < 5 || len(f.seeks.log) == 0 {
			t.Fatalf("%d seek points, %d changes logged: the test tests little", len(f.seeks.points), len(f.seeks.log))
		}
		// The fold to compare with grows along with n (folding from line 1
		// for every position made this test quadratic: 217 s under -race).
		var lines []journal.Entry
		if _, err := readVouched(path, func(e journal.Entry) error {
			lines = append(lines, e)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want, applied := NewStore(), 0
		for n := 1; n <= r.Len(); n += 1 + n%5 {
			got, err := r.Fold(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			for ; applied < n; applied++ {
				if err := want.Apply(lines[applied]); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(snapshot(t, got), snapshot(t, want)) {
				t.Fatalf("position %d: the store from the seek point differs from the fold", n)
			}
		}
	}
	t.Run("first", check)
	rec, err := OpenRecorder(path, IncidentOpened{}, journal.Actor{User: "bob", Host: "jump2"})
	if err != nil {
		t.Fatal(err)
	}
	appendEvents(t, rec, rand.New(rand.NewPCG(12, 7)), &gen{}, 300)
	rec.Close()
	t.Run("refreshed", check)
}
