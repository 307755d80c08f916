package journal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Signed heads: a head (seq and hash of a line) signed with an Ed25519 key
// the responder holds. A head published by hand pins the journal's length
// only if someone kept it; a signed head can be kept anywhere, even next to
// the journal, because no one without the key can make one: verify then
// shows a rewrite (the line at that seq has another hash), a truncation
// (the chain ends before that seq) or an edit of the last line. The
// signature covers Message, a fixed text naming every field.

// SignedHead is one signed head record, one JSON line in a heads file.
type SignedHead struct {
	Incident string    `json:"incident"` // the journal's incident id
	Seq      int64     `json:"seq"`      // the line's seq
	Head     string    `json:"head"`     // the line's SHA-256, lower-case hex
	At       time.Time `json:"at"`       // when it was signed
	Key      string    `json:"key"`      // the Ed25519 public key, base64
	Sig      string    `json:"sig"`      // the signature of Message, base64
}

// HeadsSuffix is what a journal's heads file adds to its path.
const HeadsSuffix = ".heads"

// Message is the exact bytes the signature covers.
func (h SignedHead) Message() []byte {
	return fmt.Appendf(nil, "warroom journal head v1\nincident %s\nseq %d\nhead %s\nat %s\n",
		strconv.Quote(h.Incident), h.Seq, h.Head, h.At.UTC().Format(time.RFC3339Nano))
}

// SignHead signs the head (seq, hash) of the journal of incident id.
func SignHead(key ed25519.PrivateKey, incident string, seq int64, head string, at time.Time) (SignedHead, error) {
	if len(key) != ed25519.PrivateKeySize {
		return SignedHead{}, errors.New("journal: sign head: not an Ed25519 private key")
	}
	if !isHash(head) {
		return SignedHead{}, fmt.Errorf("journal: sign head: %q is not a SHA-256 in lower-case hex", head)
	}
	h := SignedHead{Incident: incident, Seq: seq, Head: head, At: at.UTC().Round(0),
		Key: base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))}
	h.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(key, h.Message()))
	return h, nil
}

// PublicKey returns the key the record says signed it.
func (h SignedHead) PublicKey() (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(h.Key)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("key is not a base64 Ed25519 public key")
	}
	return ed25519.PublicKey(b), nil
}

// CheckSignature checks that Sig is the signature of Message by Key, and
// that the fields are well formed. It says nothing about whether Key is one
// to trust: compare KeyFingerprint with the responder's.
func (h SignedHead) CheckSignature() error {
	pub, err := h.PublicKey()
	if err != nil {
		return err
	}
	if !isHash(h.Head) || h.Seq < 1 {
		return errors.New("seq or head is malformed")
	}
	sig, err := base64.StdEncoding.DecodeString(h.Sig)
	if err != nil || !ed25519.Verify(pub, h.Message(), sig) {
		return fmt.Errorf("the signature does not match (key %s): the record was altered or forged", KeyFingerprint(pub))
	}
	return nil
}

// KeyFingerprint names a public key: "ed25519:" and the first 16 bytes of
// its SHA-256 in hex.
func KeyFingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "ed25519:" + hex.EncodeToString(sum[:16])
}

// ReadSignedHeads reads a heads file: one SignedHead JSON object per line;
// blank lines are skipped. A malformed line is an error naming it.
func ReadSignedHeads(r io.Reader) ([]SignedHead, error) {
	var hs []SignedHead
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var h SignedHead
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&h); err != nil {
			return hs, fmt.Errorf("signed heads line %d: %v", n, err)
		}
		hs = append(hs, h)
	}
	return hs, sc.Err()
}

// Marshal returns the record as one JSON line with its newline.
func (h SignedHead) Marshal() []byte {
	b, _ := json.Marshal(h) // strings, an int and a time
	return append(b, '\n')
}

// Key files. A private key file holds one line,
// "warroom-ed25519-private <base64 seed>"; a public key file
// "warroom-ed25519 <base64 key> <fingerprint>".
const (
	privateKeyTag = "warroom-ed25519-private"
	publicKeyTag  = "warroom-ed25519"
)

// GenerateKey makes a new Ed25519 key pair for signing heads.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// MarshalPrivateKey encodes a private key file.
func MarshalPrivateKey(key ed25519.PrivateKey) []byte {
	return fmt.Appendf(nil, "%s %s\n", privateKeyTag, base64.StdEncoding.EncodeToString(key.Seed()))
}

// MarshalPublicKey encodes a public key file.
func MarshalPublicKey(pub ed25519.PublicKey) []byte {
	return fmt.Appendf(nil, "%s %s %s\n", publicKeyTag, base64.StdEncoding.EncodeToString(pub), KeyFingerprint(pub))
}

// ParsePrivateKey decodes a private key file.
func ParsePrivateKey(b []byte) (ed25519.PrivateKey, error) {
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] != privateKeyTag {
		return nil, fmt.Errorf("not a warroom private key (want a line %q)", privateKeyTag+" <base64>")
	}
	seed, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errors.New("private key: not a base64 Ed25519 seed")
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// ParsePublicKey decodes a public key file (or the key's base64 alone).
// A private key file is accepted too: its public half is used.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	f := strings.Fields(string(b))
	switch {
	case len(f) >= 2 && f[0] == publicKeyTag:
		f = f[1:2]
	case len(f) == 2 && f[0] == privateKeyTag:
		k, err := ParsePrivateKey(b)
		if err != nil {
			return nil, err
		}
		return k.Public().(ed25519.PublicKey), nil
	}
	if len(f) != 1 {
		return nil, fmt.Errorf("not a warroom public key (want a line %q)", publicKeyTag+" <base64>")
	}
	k, err := base64.StdEncoding.DecodeString(f[0])
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, errors.New("public key: not a base64 Ed25519 key")
	}
	return ed25519.PublicKey(k), nil
}

func isHash(s string) bool {
	var b [32]byte
	return len(s) == 64 && decodeHex(b[:], []byte(s))
}

// Pin is a line the chain must hold: line Seq with hash Hash. Verify checks
// pins from outside the file (signed heads, CloudTrail anchors); Source
// says where one came from, for the report.
type Pin struct {
	Seq    int64
	Hash   string
	Source string
}

// AnchorPrefix begins every value warroom anchors a head with.
const AnchorPrefix = "warroom-anchor/v1/"

// AnchorValue is the text an anchor call carries for line seq (hash head)
// of incident: "warroom-anchor/v1/<incident>/<seq>/<head>". Incident ids
// are warroom's own ("wr-…"); one with a slash is escaped as %2F.
func AnchorValue(incident string, seq int64, head string) string {
	return AnchorPrefix + strings.ReplaceAll(strings.ReplaceAll(incident, "%", "%25"), "/", "%2F") + "/" + strconv.FormatInt(seq, 10) + "/" + head
}

// ParseAnchorValue undoes AnchorValue. ok is false for anything else.
func ParseAnchorValue(v string) (incident string, seq int64, head string, ok bool) {
	rest, found := strings.CutPrefix(v, AnchorPrefix)
	if !found {
		return "", 0, "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !isHash(parts[2]) {
		return "", 0, "", false
	}
	seq, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || seq < 1 {
		return "", 0, "", false
	}
	incident = strings.ReplaceAll(strings.ReplaceAll(parts[0], "%2F", "/"), "%25", "%")
	return incident, seq, parts[2], true
}
