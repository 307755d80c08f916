package state

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state/journal"
)

// notesJournal writes a journal of n facts: the opening line, then notes.
func notesJournal(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notes.jsonl")
	w, err := journal.Create(path, "wr-fold", journal.Actor{User: "alice", Host: "jump1"}, json.RawMessage(`{"id":"wr-fold","opened_at":"2026-11-23T04:00:00Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	var drafts []journal.Draft
	for i := 2; i <= n; i++ {
		drafts = append(drafts, journal.Draft{Kind: "note", Data: json.RawMessage(fmt.Sprintf(`{"text":"note %d"}`, i)), Sync: journal.SyncGroup})
	}
	if _, err := w.Append(drafts...); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestFold folds across several of the reader's batches, and checks that a
// fold stops with a clear error when it is cancelled or the journal changed
// after it was opened.
func TestFold(t *testing.T) {
	const n = 2*foldBatch + 5
	tests := []struct {
		name   string
		to     int
		cancel bool
		change func(b []byte) []byte // rewrites the journal after opening
		err    string                // "" for success
	}{
		{name: "one fact", to: 1},
		{name: "a batch exactly", to: foldBatch},
		{name: "past two batches", to: 2*foldBatch + 1},
		{name: "the end", to: n},
		{name: "cancelled", to: n, cancel: true, err: context.Canceled.Error()},
		{
			name:   "cut short",
			to:     n,
			change: func(b []byte) []byte { return b[:bytes.Index(b, []byte(`"note 100"`))] },
			err:    "ends after 99 facts",
		},
		{
			name: "rewritten",
			to:   n,
			// The last line: its own hash no longer matches the index.
			change: func(b []byte) []byte {
				return bytes.Replace(b, fmt.Appendf(nil, `"note %d"`, n), fmt.Appendf(nil, `"NOTE %d"`, n), 1)
			},
			err: "changed since the replay opened it",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := notesJournal(t, n)
			r, err := OpenReplay(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if tt.change != nil {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tt.change(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				cancel()
			}
			s, err := r.Fold(ctx, tt.to)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || s != nil {
					t.Fatalf("Fold = %v, %v; want no store and an error with %q", s != nil, err, tt.err)
				}
				if tt.cancel && !errors.Is(err, context.Canceled) {
					t.Errorf("error %v is not context.Canceled", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Seq != int64(tt.to) || len(s.Timeline) != tt.to || len(s.Notes) != tt.to-1 {
				t.Fatalf("store at seq %d with %d timeline items and %d notes, want %d", s.Seq, len(s.Timeline), len(s.Notes), tt.to)
			}
			if tt.to > 1 {
				if got, want := s.Notes[len(s.Notes)-1].V.Text, fmt.Sprintf("note %d", tt.to); got != want {
					t.Errorf("last note %q, want %q", got, want)
				}
			}
		})
	}
}
