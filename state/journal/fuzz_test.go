package journal

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// fuzzJournals returns a small valid journal with varied entries, and
// another incident's journal to splice from.
func fuzzJournals(f *testing.F) (base, other []byte, head string) {
	dir := f.TempDir()
	path, _ := makeJournal(f, dir, "fuzz-a", 2)
	w, err := Open(path, Actor{User: "o\"dd", AWS: "arn:aws:iam::111122223333:user/x"})
	if err != nil {
		f.Fatal(err)
	}
	es, err := w.Append(
		Draft{Kind: "events", Data: json.RawMessage(`{"records":[{"a":-1.5e-3,"b":[true,false,null]},"\u00e9\\\"\t"],"n":{}}`)},
		Draft{Kind: "k\u00e9", Data: json.RawMessage(`[]`)},
	)
	if err != nil {
		f.Fatal(err)
	}
	w.Close()
	otherPath, _ := makeJournal(f, dir, "fuzz-b", 3)
	return mustRead(f, path), mustRead(f, otherPath), es[len(es)-1].Hash
}

// FuzzRead feeds arbitrary bytes to the reader. It must not panic, Read and
// Verify must agree, and whatever it calls good must be a valid chain by an
// independent check built on encoding/json.
func FuzzRead(f *testing.F) {
	base, other, _ := fuzzJournals(f)
	f.Add(base)
	f.Add(other)
	f.Add(base[:len(base)-7])
	f.Add([]byte{})
	f.Add([]byte("\n"))
	f.Add([]byte(`{"seq":1}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var entries []Entry
		rep, err := verifyReader(bytes.NewReader(b), VerifyOptions{}, func(e Entry) error {
			entries = append(entries, e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		rep2, err := verifyReader(bytes.NewReader(b), VerifyOptions{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rep, rep2) {
			t.Fatalf("Read says %+v, Verify says %+v", rep, rep2)
		}
		if rep.Lines != len(entries) || rep.Bytes > int64(len(b)) {
			t.Fatalf("report %+v for %d entries of %d bytes", rep, len(entries), len(b))
		}
		if rep.Problem == nil && rep.Bytes != int64(len(b)) {
			t.Fatalf("no problem, but only %d of %d bytes are good", rep.Bytes, len(b))
		}
		if rep.Problem != nil && rep.Problem.Line != rep.Lines+1 {
			t.Fatalf("problem at line %d after %d good lines", rep.Problem.Line, rep.Lines)
		}
		checkChain(t, b[:rep.Bytes], entries)
	})
}

// checkChain verifies b, which the reader called good, line by line with
// encoding/json, and checks that the reader's entries say the same.
func checkChain(t *testing.T, b []byte, entries []Entry) {
	lines := splitLines(b)
	if len(lines) != len(entries) {
		t.Fatalf("%d lines, %d entries", len(lines), len(entries))
	}
	var prev [32]byte
	for i, line := range lines {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if !json.Valid(line) {
			t.Fatalf("line %d accepted but not valid JSON: %q", i+1, line)
		}
		var v struct {
			Seq  int64           `json:"seq"`
			At   time.Time       `json:"at"`
			By   map[string]any  `json:"by"`
			Kind string          `json:"kind"`
			Data json.RawMessage `json:"data"`
			Prev string          `json:"prev"`
		}
		// Numbers stay text: 1e700 is valid JSON, though no float64.
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("line %d accepted but encoding/json says %v: %q", i+1, err, line)
		}
		e := entries[i]
		if i == 0 {
			var d struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(v.Data, &d)
			prev = sha256.Sum256([]byte(d.ID))
			if v.Kind != KindOpened {
				t.Fatalf("line 1 is %q", v.Kind)
			}
		}
		if v.Seq != int64(i+1) || v.Prev != hex.EncodeToString(prev[:]) {
			t.Fatalf("line %d: seq %d prev %s, want %d %x", i+1, v.Seq, v.Prev, i+1, prev)
		}
		prev = sha256.Sum256(line)
		if e.Seq != v.Seq || !e.At.Equal(v.At) || e.Kind != v.Kind || !bytes.Equal(e.Data, v.Data) || e.Prev != v.Prev || e.Hash != hex.EncodeToString(prev[:]) {
			t.Fatalf("line %d: reader says %+v, encoding/json %+v", i+1, e, v)
		}
	}
}

// FuzzVerifyMutation applies a fuzzer-chosen change to a valid journal. With
// the published head, Verify must report a problem unless the bytes still
// hold the journal unchanged (possibly with more lines after it); without
// it, everything before the last line must still be the original's.
func FuzzVerifyMutation(f *testing.F) {
	base, other, head := fuzzJournals(f)
	baseLines, otherLines := splitLines(base), splitLines(other)
	for op := range uint8(10) {
		f.Add(op, uint32(100), uint16(3), []byte(`"x"`))
	}
	f.Fuzz(func(t *testing.T, op uint8, pos uint32, n uint16, val []byte) {
		b := mutate(base, baseLines, otherLines, op, int(pos), int(n), val)
		rep := verifyBytes(t, b, head)
		if rep.Problem == nil && !bytes.HasPrefix(b, base) {
			t.Fatalf("mutation %d not caught with the head:\n%q", op, b)
		}
		rep = verifyBytes(t, b, "")
		if rep.Problem == nil {
			lines := splitLines(b)
			vouched := bytes.Join(lines[:len(lines)-1], nil)
			if !bytes.HasPrefix(base, vouched) {
				t.Fatalf("mutation %d before the last line not caught:\n%q", op, b)
			}
		}
	})
}

// mutate returns a changed copy of base.
func mutate(base []byte, lines, other [][]byte, op uint8, pos, n int, val []byte) []byte {
	b := append([]byte(nil), base...)
	at := pos % len(b)
	li := pos % len(lines)
	lj := n % len(lines)
	switch op % 10 {
	case 0: // flip bits
		mask := byte(n)
		if mask == 0 {
			mask = 1
		}
		b[at] ^= mask
	case 1: // set a byte
		b[at] = byte(n)
	case 2: // insert bytes
		b = append(b[:at], append(append([]byte(nil), val...), base[at:]...)...)
	case 3: // delete bytes
		end := min(len(b), at+1+n%64)
		b = append(b[:at], base[end:]...)
	case 4: // overwrite bytes
		copy(b[at:], val)
	case 5: // truncate
		b = b[:at]
	case 6: // duplicate a line
		ls := clone(lines)
		ls = append(ls[:lj], append([][]byte{lines[li]}, ls[lj:]...)...)
		b = bytes.Join(ls, nil)
	case 7: // swap two lines
		ls := clone(lines)
		ls[li], ls[lj] = ls[lj], ls[li]
		b = bytes.Join(ls, nil)
	case 8: // delete a line
		ls := clone(lines)
		b = bytes.Join(append(ls[:li], ls[li+1:]...), nil)
	case 9: // a line from another journal
		ls := clone(lines)
		ls[li] = other[n%len(other)]
		b = bytes.Join(ls, nil)
	}
	return b
}
