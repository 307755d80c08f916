package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteVecAt(t *testing.T) {
	many := make([][]byte, 2*maxIovecs+7) // more than one pwritev takes
	for i := range many {
		many[i] = []byte{byte('a' + i%26)}
	}
	tests := []struct {
		name   string
		pieces [][]byte
	}{
		{"one piece", [][]byte{[]byte("hello")}},
		{"empty pieces between", [][]byte{nil, []byte("a"), {}, []byte("bc"), nil}},
		{"only empty pieces", [][]byte{nil, {}}},
		{"big piece", [][]byte{[]byte("head"), bytes.Repeat([]byte("x"), 3<<20), []byte("tail")}},
		{"more pieces than one call takes", many},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(path, []byte("0123456789"), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte("0123"), bytes.Join(tt.pieces, nil)...)
			if len(want) < 10 {
				want = append(want, "0123456789"[len(want):]...)
			}
			err = writeVecAt(f, append([][]byte(nil), tt.pieces...), 4)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got := mustRead(t, path); !bytes.Equal(got, want) {
				t.Fatalf("file holds %.60q (%d bytes), want %.60q (%d bytes)", got, len(got), want, len(want))
			}
			if !bytes.Equal(bytes.Join(tt.pieces, nil), want[4:4+len(bytes.Join(tt.pieces, nil))]) {
				t.Fatal("the pieces' bytes changed")
			}
		})
	}
}

// TestAppendBigData appends big drafts (written from the caller's slice)
// between small ones (copied) in one call, and checks every line on disk
// is the one appendLine builds, hashed as written, and that the Writer keeps
// nothing of the callers' data.
func TestAppendBigData(t *testing.T) {
	path, _ := makeJournal(t, t.TempDir(), "big-data", 1)
	w, err := Open(path, testActor)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	big := eventsPayload(3 * bigData)
	drafts := []Draft{
		note("before", SyncGroup),
		{Kind: "events", Data: big, Sync: SyncGroup},
		{Kind: "events", Data: big[:0:0], Sync: SyncGroup}, // refused below: empty
	}
	if _, err := w.Append(drafts...); err == nil {
		t.Fatal("an empty draft was accepted")
	}
	exact := []byte(`{"pad":"` + strings.Repeat("é", (bigData-10)/2) + `"}`)
	drafts = []Draft{
		note("before", SyncGroup),
		{Kind: "events", Data: big, Sync: SyncGroup},
		{Kind: "events", Data: exact, Sync: SyncGroup},
		note("after", SyncNow),
		{Kind: "events", Data: big, Sync: SyncGroup},
	}
	if len(exact) < bigData {
		t.Fatalf("the exact draft is %d bytes, less than %d", len(exact), bigData)
	}
	es, err := w.Append(drafts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range w.holes[:cap(w.holes)] {
		if h.data != nil {
			t.Fatal("the Writer kept a draft's data")
		}
	}
	for _, p := range w.pieces[:cap(w.pieces)] {
		if p != nil {
			t.Fatal("the Writer kept a piece of a write")
		}
	}
	got := readAll(t, path)
	lines := splitLines(mustRead(t, path))
	if len(got) != 2+len(drafts) || len(lines) != len(got) {
		t.Fatalf("%d entries, %d lines; want %d", len(got), len(lines), 2+len(drafts))
	}
	for i, e := range es {
		k := 2 + i
		if !equalEntry(e, got[k]) {
			t.Fatalf("entry %d: appended %+v, read back %+v", i, e, got[k])
		}
		var prev [32]byte
		if _, err := hex.Decode(prev[:], []byte(e.Prev)); err != nil {
			t.Fatal(err)
		}
		want := appendLine(nil, e.Seq, e.At, w.byJSON, []byte(`"`+e.Kind+`"`), drafts[i].Data, &prev)
		if line := bytes.TrimSuffix(lines[k], []byte("\n")); !bytes.Equal(line, want) {
			t.Fatalf("line %d is not the line appendLine builds", k+1)
		}
		if h := sha256.Sum256(want); hex.EncodeToString(h[:]) != e.Hash {
			t.Fatalf("entry %d: hash is not the SHA-256 of the line", i)
		}
	}
	rep, err := Verify(path, VerifyOptions{Head: es[len(es)-1].Hash})
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v, %+v", err, rep.Problem)
	}
}
