package incident

import (
	"testing"
	"time"

	"github.com/warroom-ir/warroom/state"
)

// TestIntegrityNext: after a check that could not say (no digest yet, or
// the trails unreadable) the next comes soon, not an hour later (played:
// the console said "unsure: no digest yet" for its whole first hour).
func TestIntegrityNext(t *testing.T) {
	for _, tc := range []struct {
		every time.Duration
		last  state.TrailIntegrity
		want  time.Duration
	}{
		{time.Hour, state.TrailIntegrity{Intact: true}, time.Hour},
		{time.Hour, state.TrailIntegrity{Unsure: "no digest delivered yet"}, 5 * time.Minute},
		{time.Hour, state.TrailIntegrity{Failed: "AccessDenied"}, 5 * time.Minute},
		{90 * time.Second, state.TrailIntegrity{Unsure: "no digest delivered yet"}, 10 * time.Second},
		{5 * time.Second, state.TrailIntegrity{Unsure: "no digest delivered yet"}, 5 * time.Second},
	} {
		if got := integrityNext(tc.every, tc.last); got != tc.want {
			t.Errorf("every %s after %+v: next in %s, want %s", tc.every, tc.last, got, tc.want)
		}
	}
}
