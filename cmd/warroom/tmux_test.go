package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestTmuxDrillScript runs scripts/tmux-drill-test.sh: warroom drill in a
// detached tmux session, driven with keys and read back from the pane as
// a person sees it. It needs tmux (.ci/run installs it).
func TestTmuxDrillScript(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a drill in tmux")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed")
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "tmux-drill-test.sh"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "bash", script).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}
