package tui

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	keysBegin = "<!-- keys:begin -->"
	keysEnd   = "<!-- keys:end -->"
)

// TestREADMEKeys fails when the README's keybinding table is not what the
// KeyMap generates. go test ./tui -run TestREADMEKeys -update rewrites it
// (the -update flag is the golden package's).
func TestREADMEKeys(t *testing.T) {
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, keysBegin), strings.Index(readme, keysEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %s … %s section", keysBegin, keysEnd)
	}
	want := "\n" + KeysMarkdown(DefaultKeyMap(false))
	got := readme[i+len(keysBegin) : j]
	if got == want {
		return
	}
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		readme = readme[:i+len(keysBegin)] + want + readme[j:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's key table is stale; run go test ./tui -run TestREADMEKeys -update\n--- README\n%s\n--- KeyMap\n%s", got, want)
}

func TestKeysMarkdown(t *testing.T) {
	md := KeysMarkdown(DefaultKeyMap(true))
	for _, want := range []string{"| `ctrl+c` | quit now |", "| `D` | plan: deactivate the access key | Containment (previews a plan", "`shift+tab`"} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	k := DefaultKeyMap(false)
	n := 0
	for _, g := range k.Groups() {
		n += len(g.Bindings)
	}
	if rows := strings.Count(md, "\n") - 2; rows != n {
		t.Errorf("table has %d rows for %d bindings", rows, n)
	}
}
