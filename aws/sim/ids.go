package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
)

// ids hands out identifiers that look like AWS's and are deterministic for
// a seed (given the same order of calls).
type ids struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newIDs(seed uint64) *ids {
	return &ids{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	lowerHex   = "0123456789abcdef"
	base64ish  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	digits     = "0123456789"
)

// str returns n characters drawn from alphabet.
func (g *ids) str(alphabet string, n int) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var b strings.Builder
	b.Grow(n)
	for range n {
		b.WriteByte(alphabet[g.rng.IntN(len(alphabet))])
	}
	return b.String()
}

// float returns a number in [0, 1).
func (g *ids) float() float64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rng.Float64()
}

// uuid returns a version-4-shaped UUID.
func (g *ids) uuid() string {
	h := g.str(lowerHex, 32)
	return fmt.Sprintf("%s-%s-4%s-%c%s-%s", h[0:8], h[8:12], h[13:16], "89ab"[int(h[16])%4], h[17:20], h[20:32])
}

// prefixed returns prefix followed by enough characters to make an id of
// AWS's length for that prefix: 20 for keys (AKIA, ASIA), 21 for unique ids
// (AIDA, AROA, ANPA, AGPA).
func (g *ids) prefixed(prefix string) string {
	n := 21
	if prefix == "AKIA" || prefix == "ASIA" {
		n = 20
	}
	return prefix + g.str(upperAlnum, n-len(prefix))
}

// secret returns a 40-character secret access key.
func (g *ids) secret() string { return g.str(base64ish, 40) }

// token returns a session token shaped like STS's.
func (g *ids) token() string { return "IQoJb3JpZ2luX2Vj" + g.str(base64ish, 340) }

// hexID returns prefix-<n hex digits>, the shape of EC2 resource ids.
func (g *ids) hexID(prefix string, n int) string { return prefix + "-" + g.str(lowerHex, n) }
