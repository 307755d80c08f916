package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/warroom-ir/warroom/state"
)

// TestReplayBrokenChainMatchesTheCLI: a journal whose action intent (line
// 5) was altered breaks at line 6. The console's replay and the CLI's fold
// (state.Replay: journal show, follow, contain) follow one rule, so both
// hold lines 1-4 and nothing of the altered intent, and the banner says
// where it broke. The CLI's fold used to show line 5.
func TestReplayBrokenChainMatchesTheCLI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j.jsonl")
	timedIncident(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	altered := strings.Replace(string(b), `"target":"`+leaked+`"`, `"target":"AKIAFORGEDFORGEDFORG"`, 1)
	if altered == string(b) {
		t.Fatal("the fixture has no intent to alter")
	}
	if err := os.WriteFile(path, []byte(altered), 0o600); err != nil {
		t.Fatal(err)
	}
	cli, rep, err := state.Replay(path)
	if err != nil {
		t.Fatal(err)
	}
	if p := rep.Problem; p == nil || p.Line != 6 || cli.Seq != 4 || len(cli.Actions) != 0 {
		t.Fatalf("state.Replay: problem %v, store at %d with %d actions; want a break at line 6 and lines 1-4", p, cli.Seq, len(cli.Actions))
	}
	m, _ := replayModel(t, path, 100, 120, 40)
	if m.tl.r.Len() != 4 || m.tl.pos != 4 {
		t.Fatalf("the console replays %d facts, at %d; want 4", m.tl.r.Len(), m.tl.pos)
	}
	if got, want := storeDigest(t, m.store), storeDigest(t, cli); got != want {
		t.Errorf("the console's store differs from the CLI's:\n%s", diffLines(want, got))
	}
	out := m.Render()
	checkFrame(t, out, 120, 40)
	if top := strings.Split(out, "\n")[1]; !strings.Contains(top, "replaying facts 1-4 only; line 6") || !strings.Contains(top, "chain broken") {
		t.Errorf("banner %q does not say where the chain broke", top)
	}
	if strings.Contains(out, "FORGED") || strings.Contains(out, "intent") {
		t.Errorf("the altered intent is shown:\n%s", out)
	}
}
