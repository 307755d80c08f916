package journal

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSignedHeadsCatchRewrites: a journal rewritten with a recomputed chain,
// cut back at a line boundary, or with its last line edited and the chain
// recomputed verifies intact on its own; a head signed earlier shows each.
func TestSignedHeadsCatchRewrites(t *testing.T) {
	dir := t.TempDir()
	path, es := makeJournal(t, dir, "signed", 5)
	pub, key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)
	var heads bytes.Buffer
	for _, e := range []Entry{es[2], es[5]} {
		h, err := SignHead(key, "signed", e.Seq, e.Hash, at)
		if err != nil {
			t.Fatal(err)
		}
		heads.Write(h.Marshal())
	}
	hs, err := ReadSignedHeads(bytes.NewReader(heads.Bytes()))
	if err != nil || len(hs) != 2 {
		t.Fatalf("read back %d heads: %v", len(hs), err)
	}
	var pins []Pin
	for _, h := range hs {
		if err := h.CheckSignature(); err != nil {
			t.Fatal(err)
		}
		if k, _ := h.PublicKey(); KeyFingerprint(k) != KeyFingerprint(pub) {
			t.Fatal("the record names another key")
		}
		pins = append(pins, Pin{Seq: h.Seq, Hash: h.Head, Source: "signed head"})
	}
	if rep, err := Verify(path, VerifyOptions{Pins: pins}); err != nil || !rep.OK() || rep.Pinned != 2 {
		t.Fatalf("the signed journal: %+v %v", rep, err)
	}

	// A rewrite with a recomputed chain: same incident, other facts.
	forged := filepath.Join(dir, "forged")
	w, err := Create(forged, "signed", testActor, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		text := "note " + strconvItoa(i+1)
		if i == 1 {
			text = "nothing happened here"
		}
		w.Append(note(text, SyncNow))
	}
	w.Close()
	lines := splitLines(mustRead(t, path))
	cut := filepath.Join(dir, "cut")
	os.WriteFile(cut, bytes.Join(lines[:4], nil), 0o600)
	for _, c := range []struct {
		name, path string
		kind       ProblemKind
	}{
		{"rewritten", forged, ProblemPinned},
		{"cut back", cut, ProblemHeadNotFound},
	} {
		t.Run(c.name, func(t *testing.T) {
			if rep, _ := Verify(c.path, VerifyOptions{}); !rep.OK() {
				t.Fatalf("without pins it should verify (that is the hole): %v", rep.Problem)
			}
			rep, err := Verify(c.path, VerifyOptions{Pins: pins})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Problem == nil || rep.Problem.Kind != c.kind || !strings.Contains(rep.Problem.Reason, "signed head") {
				t.Fatalf("problem %v, want %v", rep.Problem, c.kind)
			}
		})
	}

	// A forged record: the head changed, or signed by another key.
	bad := hs[1]
	bad.Head = es[4].Hash
	if bad.CheckSignature() == nil {
		t.Fatal("an altered record passed")
	}
	_, other, _ := GenerateKey()
	mine, _ := SignHead(other, "signed", 6, es[5].Hash, at)
	if k, _ := mine.PublicKey(); mine.CheckSignature() != nil || KeyFingerprint(k) == KeyFingerprint(pub) {
		t.Fatal("another key's record: its signature is valid, and its key is not ours")
	}

	// Key files round-trip.
	k2, err := ParsePrivateKey(MarshalPrivateKey(key))
	if err != nil || !k2.Equal(key) {
		t.Fatalf("private key round trip: %v", err)
	}
	p2, err := ParsePublicKey(MarshalPublicKey(pub))
	if err != nil || !p2.Equal(pub) {
		t.Fatalf("public key round trip: %v", err)
	}
	if _, err := ParsePrivateKey(MarshalPublicKey(pub)); err == nil {
		t.Fatal("a public key parsed as a private one")
	}
}
