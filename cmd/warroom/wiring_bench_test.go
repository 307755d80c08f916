package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/warroom-ir/warroom/aws/trail"
	"github.com/warroom-ir/warroom/state"
	"github.com/warroom-ir/warroom/state/journal"
)

// BenchmarkConsoleFeed measures the console's feed: journal.Follow of a
// journal of b.N facts, through the wiring's queue, to the channel the
// console reads (the planner's fold runs alongside, as in the console).
func BenchmarkConsoleFeed(b *testing.B) {
	path := filepath.Join(b.TempDir(), "journal.jsonl")
	rec, err := state.OpenRecorder(path, state.IncidentOpened{}, state.LocalActor())
	if err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		if _, err := rec.Record(state.KindNote, state.Note{Text: "note " + string(rune('a'+i%26))}); err != nil {
			b.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &wiring{rec: rec, feed: make(chan []journal.Entry), planner: newPlanner(),
		stream: trail.New(nil, nil, trail.Options{})}
	go w.follow(ctx)
	go w.planner.run(ctx)
	got := 0
	for got < b.N+1 { // the incident.opened line, then the notes
		got += len(<-w.feed)
	}
	b.ReportMetric(float64(got)/b.Elapsed().Seconds(), "entries/s")
}
