package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestTmuxFirstUserScript runs scripts/tmux-first-user.sh at 80x24 and
// 120x40: a newcomer's drill in tmux that presses only keys the screen
// advertises (hint bar, ? help), finds the attacker by the marks, marks it
// suspect, contains it with the playbook, and checks the verdict against
// the drill account read back with the AWS CLI. The two sizes run side by
// side on one build. It needs tmux, python3 and the aws CLI.
func TestTmuxFirstUserScript(t *testing.T) {
	if testing.Short() {
		t.Skip("plays a drill in tmux")
	}
	t.Parallel()
	for _, tool := range []string{"tmux", "aws", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "tmux-first-user.sh"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "warroom")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, size := range []string{"80x24", "120x40"} {
		t.Run(size, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", script)
			cmd.Env = append(os.Environ(), "SIZE="+size, "WARROOM_BIN="+bin)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s at %s: %v\n%s", script, size, err, out)
			}
			t.Logf("%s", out)
		})
	}
}
