package journal

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestGroupSyncDoesNotBlockAppends: the group-commit fsync runs without
// the writer's lock. An Append made while it is stuck returns; the lines
// it wrote stay dirty, so the next fsync (Sync here) covers them; and a
// failed group fsync still stops the writer.
func TestGroupSyncDoesNotBlockAppends(t *testing.T) {
	w, err := Create(filepath.Join(t.TempDir(), "j.journal"), "wr-test", testActor, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	entered, release := make(chan struct{}), make(chan error)
	syncs := 0
	w.mu.Lock()
	w.fsync = func(f *os.File) error {
		syncs++
		if syncs == 1 { // the group commit's
			close(entered)
			if err := <-release; err != nil {
				return err
			}
		}
		return f.Sync()
	}
	w.mu.Unlock()

	if _, err := w.Append(note("first", SyncGroup)); err != nil {
		t.Fatal(err)
	}
	<-entered // the timer's fsync is under way, and stuck
	if _, err := w.Append(note("second", SyncGroup)); err != nil {
		t.Fatalf("append during a group fsync: %v", err)
	}
	release <- nil
	// The stuck fsync began before "second": the writer must still be
	// dirty, and an explicit Sync must fsync again.
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	n, dirty := syncs, w.dirty
	w.mu.Unlock()
	if n < 2 || dirty {
		t.Errorf("after Sync: %d fsyncs, dirty=%v; want a second fsync and a clean writer", n, dirty)
	}

	// A group fsync that fails stops the writer.
	entered2, release2 := make(chan struct{}), make(chan struct{})
	w.mu.Lock()
	w.fsync = func(*os.File) error {
		close(entered2)
		<-release2
		return errors.New("disk gone")
	}
	w.mu.Unlock()
	if _, err := w.Append(note("third", SyncGroup)); err != nil {
		t.Fatal(err)
	}
	<-entered2
	close(release2)
	for {
		w.mu.Lock()
		err := w.err
		w.mu.Unlock()
		if err != nil {
			break
		}
		runtime.Gosched()
	}
	if _, err := w.Append(note("fourth", SyncGroup)); err == nil {
		t.Error("append after a failed group fsync succeeded")
	}
}
