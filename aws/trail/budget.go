package trail

import (
	"sync"

	"golang.org/x/time/rate"
)

// Budget is each Region's LookupEvents request budget. AWS counts the
// limit per account and Region, so everything in the process that calls
// LookupEvents (streams started one after another, lookups for one key)
// should share one Budget. It is safe for concurrent use.
type Budget struct {
	rate  rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// NewBudget returns a Budget of r requests per second and burst per Region
// (DefaultRate and 1 when zero).
func NewBudget(r rate.Limit, burst int) *Budget {
	if r <= 0 {
		r = DefaultRate
	}
	if burst <= 0 {
		burst = 1
	}
	return &Budget{rate: r, burst: burst, m: map[string]*rate.Limiter{}}
}

// Limiter returns region's limiter.
func (b *Budget) Limiter(region string) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	l, ok := b.m[region]
	if !ok {
		l = rate.NewLimiter(b.rate, b.burst)
		b.m[region] = l
	}
	return l
}
