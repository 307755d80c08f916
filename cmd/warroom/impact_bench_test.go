package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/warroom-ir/warroom/aws/sim/gen"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/ctlog"
	"github.com/warroom-ir/warroom/state/journal"
)

// BenchmarkImpact: the impact watch over 200,000 realistic records
// (aws/sim/gen) with the busiest access key deactivated half-way: what
// ':impact', 'warroom impact' and the report pay per call.
func BenchmarkImpact(b *testing.B) {
	dir := b.TempDir()
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	if _, err := gen.Write(dir, gen.Options{Events: 200_000, Seed: 3, End: end}); err != nil {
		b.Fatal(err)
	}
	s := state.NewStore()
	data, _ := json.Marshal(state.IncidentOpened{ID: "wr-bench"})
	if err := s.Apply(journal.Entry{Seq: 1, At: end, Kind: string(state.KindIncidentOpened), Data: data}); err != nil {
		b.Fatal(err)
	}
	uses := map[string]int{}
	var first, last time.Time
	if _, _, err := ctlog.ParsePaths([]string{dir}, ctlog.Options{}, func(r ctlog.Record) error {
		s.Events.Add(&r, state.EventRef{})
		uses[r.AccessKeyID]++
		if first.IsZero() || r.EventTime.Before(first) {
			first = r.EventTime
		}
		if r.EventTime.After(last) {
			last = r.EventTime
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	key, most := "", 0
	for k, n := range uses {
		if k != "" && n > most {
			key, most = k, n
		}
	}
	mid := first.Add(last.Sub(first) / 2)
	for i, v := range []any{
		state.ActionIntent{ActionID: "a", Action: "deactivate-key", Target: key},
		state.ActionResult{ActionID: "a", OK: true},
	} {
		kind := state.KindActionIntent
		if i == 1 {
			kind = state.KindActionResult
		}
		data, _ := json.Marshal(v)
		if err := s.Apply(journal.Entry{Seq: int64(2 + i), At: mid, Kind: string(kind), Data: data}); err != nil {
			b.Fatal(err)
		}
	}
	s.Events.Settle()
	b.ResetTimer()
	for b.Loop() {
		im := s.Impact(state.ImpactOptions{Now: last, LeakAt: first.Add(last.Sub(first) / 4)})
		if len(im) != 1 || len(im[0].Groups) == 0 {
			b.Fatalf("impact %+v", im)
		}
	}
	b.ReportMetric(float64(most), "key-calls")
}
