package warroom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/warroom-ir/warroom"

// pkg is what `go list -json` says of a package, as far as the rules need.
type pkg struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
	Deps         []string
}

// Library families the rules speak of.
func isAWSSDK(p string) bool { return strings.HasPrefix(p, "github.com/aws/") }

// isUI reports the UI frameworks: bubbletea, lipgloss, bubbles (both module
// paths) and teatest. Charm's small helpers — x/ansi for display width,
// x/exp/golden for golden files — are not UI and may be used anywhere.
func isUI(p string) bool {
	if strings.HasPrefix(p, "charm.land/") {
		return true
	}
	for _, ui := range []string{"bubbletea", "lipgloss", "bubbles", "x/exp/teatest"} {
		if p == "github.com/charmbracelet/"+ui || strings.HasPrefix(p, "github.com/charmbracelet/"+ui+"/") {
			return true
		}
	}
	return false
}

func isFang(p string) bool { return strings.HasPrefix(p, "github.com/charmbracelet/fang") }

func under(p, dir string) bool {
	return p == module+"/"+dir || strings.HasPrefix(p, module+"/"+dir+"/")
}

// violations applies DESIGN.md's boundary table to a package list.
func violations(pkgs []pkg) []string {
	var out []string
	bad := func(p pkg, format string, args ...any) {
		out = append(out, p.ImportPath+": "+fmt.Sprintf(format, args...))
	}
	for _, p := range pkgs {
		tests := append(append([]string{}, p.TestImports...), p.XTestImports...)
		direct := append(append([]string{}, p.Imports...), tests...)
		for i, imp := range direct {
			isTest := i >= len(p.Imports)
			switch {
			case isAWSSDK(imp) && !under(p.ImportPath, "aws") && !(isTest && under(p.ImportPath, "cmd")):
				// cmd/'s tests may play an outside client of the drill
				// account (the attacker setting up a scene); its code may not.
				bad(p, "imports the AWS SDK (%s): only aws/ may", imp)
			case isUI(imp) && !under(p.ImportPath, "tui") && !under(p.ImportPath, "themes"):
				bad(p, "imports a UI library (%s): only tui/ and themes/ may", imp)
			case strings.HasPrefix(imp, "modernc.org/") && !under(p.ImportPath, "aws/sim"):
				bad(p, "imports %s: the SQL engine is the drill's own (aws/sim/athenasql)", imp)
			case isFang(imp) && !under(p.ImportPath, "cmd"):
				bad(p, "imports fang (%s): only cmd/ may", imp)
			case under(p.ImportPath, "aws") && (under(imp, "tui") || under(imp, "themes")):
				bad(p, "imports %s: aws/ must not depend on the UI", imp)
			case under(p.ImportPath, "tui") && under(imp, "aws"):
				bad(p, "imports %s: tui/ drives aws/ only through interfaces handed in by cmd/", imp)
			case under(p.ImportPath, "themes") && strings.HasPrefix(imp, module):
				bad(p, "imports %s: themes/ imports lipgloss and nothing of ours", imp)
			case under(p.ImportPath, "incident") && (under(imp, "tui") || under(imp, "themes") || under(imp, "cmd")):
				bad(p, "imports %s: incident is the application under the UI; the screen reaches it through cmd/", imp)
			case (under(p.ImportPath, "state") || under(p.ImportPath, "aws") || under(p.ImportPath, "report") ||
				under(p.ImportPath, "tui") || under(p.ImportPath, "sanitize")) && under(imp, "incident"):
				bad(p, "imports %s: only cmd/ drives the incident core", imp)
			case under(p.ImportPath, "report") && (under(imp, "aws") || under(imp, "tui") || under(imp, "themes") || under(imp, "cmd")):
				bad(p, "imports %s: report is built from a Store (state/) and nothing else of ours", imp)
			case under(p.ImportPath, "state") && (under(imp, "aws") || under(imp, "tui") || under(imp, "themes") || under(imp, "cmd")):
				bad(p, "imports %s: state/ is the bottom layer", imp)
			case under(p.ImportPath, "sanitize") && strings.Contains(strings.Split(imp, "/")[0], "."):
				bad(p, "imports %s: sanitize uses only the standard library", imp)
			case under(p.ImportPath, "hunt") && !isTest && strings.Contains(strings.Split(imp, "/")[0], ".") && !under(imp, "state"):
				// The compiler and the journaling are Athena's SQL and
				// state's records: aws/athena makes the calls.
				bad(p, "imports %s: hunt uses the standard library and state/ only", imp)
			case under(p.ImportPath, "trailcheck") && strings.Contains(strings.Split(imp, "/")[0], ".") &&
				!(isTest && (under(imp, "trailcheck") || under(imp, "aws/sim/gen"))) && !under(imp, "trailcheck"):
				// Its tests may build trails (trailtest) from aws/sim/gen's records.
				bad(p, "imports %s: trailcheck uses only the standard library", imp)
			}
		}
		// incident/ must not pull a UI library in even indirectly.
		if under(p.ImportPath, "incident") {
			for _, d := range p.Deps {
				if isUI(d) || isFang(d) {
					bad(p, "depends on %s (indirectly): incident imports no UI library", d)
				}
			}
		}
		// state/ must not pull the SDK or a UI library in even indirectly.
		if under(p.ImportPath, "state") || under(p.ImportPath, "sanitize") || under(p.ImportPath, "report") || under(p.ImportPath, "trailcheck") {
			for _, d := range p.Deps {
				if isAWSSDK(d) || isUI(d) || isFang(d) {
					bad(p, "depends on %s (indirectly): state/ imports neither the AWS SDK nor a UI library", d)
				}
			}
		}
		if under(p.ImportPath, "tui") || under(p.ImportPath, "themes") {
			for _, d := range p.Deps {
				if isAWSSDK(d) {
					bad(p, "depends on %s (indirectly): the UI never reaches the AWS SDK", d)
				}
			}
		}
	}
	return out
}

// TestImportBoundaries fails when a package crosses DESIGN.md's import
// boundaries.
func TestImportBoundaries(t *testing.T) {
	cmd := exec.Command("go", "list", "-e", "-json", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("decoding go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 3 {
		t.Fatalf("go list found %d packages; expected the whole module", len(pkgs))
	}
	for _, v := range violations(pkgs) {
		t.Error(v)
	}
}

// TestViolationsCatchesCrossings checks the rule checker itself on packages
// that break each rule, so that TestImportBoundaries can fail.
func TestViolationsCatchesCrossings(t *testing.T) {
	tests := []struct {
		name string
		p    pkg
		want string
	}{
		{"state imports sqlite", pkg{ImportPath: module + "/state", Imports: []string{"modernc.org/sqlite"}}, "drill's own"},
		{"state imports SDK", pkg{ImportPath: module + "/state", Imports: []string{"github.com/aws/aws-sdk-go-v2/aws"}}, "AWS SDK"},
		{"state test imports bubbletea", pkg{ImportPath: module + "/state/journal", TestImports: []string{"charm.land/bubbletea/v2"}}, "UI library"},
		{"state depends on lipgloss", pkg{ImportPath: module + "/state", Deps: []string{"charm.land/lipgloss/v2"}}, "indirectly"},
		{"tui imports SDK", pkg{ImportPath: module + "/tui", Imports: []string{"github.com/aws/aws-sdk-go-v2/service/iam"}}, "AWS SDK"},
		{"tui imports aws/", pkg{ImportPath: module + "/tui", Imports: []string{module + "/aws/contain"}}, "interfaces"},
		{"aws imports lipgloss", pkg{ImportPath: module + "/aws/sim", Imports: []string{"charm.land/lipgloss/v2"}}, "UI library"},
		{"aws imports tui", pkg{ImportPath: module + "/aws/trail", Imports: []string{module + "/tui"}}, "must not depend on the UI"},
		{"cmd imports bubbletea", pkg{ImportPath: module + "/cmd/warroom", Imports: []string{"charm.land/bubbletea/v2"}}, "UI library"},
		{"themes imports state", pkg{ImportPath: module + "/themes", Imports: []string{module + "/state"}}, "nothing of ours"},
		{"state imports aws/", pkg{ImportPath: module + "/state", Imports: []string{module + "/aws/sim"}}, "bottom layer"},
		{"sanitize imports a module", pkg{ImportPath: module + "/sanitize", Imports: []string{"golang.org/x/text/width"}}, "standard library"},
		{"cmd code imports SDK", pkg{ImportPath: module + "/cmd/warroom", Imports: []string{"github.com/aws/aws-sdk-go-v2/service/iam"}}, "AWS SDK"},
		{"report test imports teatest", pkg{ImportPath: module + "/report", TestImports: []string{"github.com/charmbracelet/x/exp/teatest/v2"}}, "UI library"},
		{"incident imports tui", pkg{ImportPath: module + "/incident", Imports: []string{module + "/tui"}}, "application under the UI"},
		{"incident depends on bubbletea", pkg{ImportPath: module + "/incident", Deps: []string{"charm.land/bubbletea/v2"}}, "incident imports no UI library"},
		{"incident imports the SDK", pkg{ImportPath: module + "/incident", Imports: []string{"github.com/aws/aws-sdk-go-v2/aws"}}, "AWS SDK"},
		{"aws imports incident", pkg{ImportPath: module + "/aws/contain", Imports: []string{module + "/incident"}}, "only cmd/"},
		{"state imports incident", pkg{ImportPath: module + "/state", Imports: []string{module + "/incident"}}, "only cmd/"},
		{"report imports aws/", pkg{ImportPath: module + "/report", Imports: []string{module + "/aws/contain"}}, "built from a Store"},
		{"report imports tui", pkg{ImportPath: module + "/report", Imports: []string{module + "/tui"}}, "built from a Store"},
		{"report depends on the SDK", pkg{ImportPath: module + "/report", Deps: []string{"github.com/aws/aws-sdk-go-v2/aws"}}, "indirectly"},
		{"trailcheck imports the SDK", pkg{ImportPath: module + "/trailcheck", Imports: []string{"github.com/aws/aws-sdk-go-v2/service/s3"}}, "AWS SDK"},
		{"trailcheck imports a module", pkg{ImportPath: module + "/trailcheck", Imports: []string{"golang.org/x/crypto/ssh"}}, "standard library"},
		{"trailcheck imports state", pkg{ImportPath: module + "/trailcheck", Imports: []string{module + "/state"}}, "standard library"},
		{"tui test imports SDK", pkg{ImportPath: module + "/tui", TestImports: []string{"github.com/aws/aws-sdk-go-v2/aws"}}, "AWS SDK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := violations([]pkg{tt.p})
			if len(v) == 0 || !strings.Contains(strings.Join(v, "\n"), tt.want) {
				t.Errorf("violations = %q, want one mentioning %q", v, tt.want)
			}
		})
	}
	allowed := []pkg{
		{ImportPath: module + "/aws/sim", Imports: []string{"github.com/aws/aws-sdk-go-v2/aws", module + "/state"}},
		{ImportPath: module + "/tui", Imports: []string{"charm.land/bubbletea/v2", module + "/state", module + "/themes"}},
		{ImportPath: module + "/themes", Imports: []string{"charm.land/lipgloss/v2"}},
		{ImportPath: module + "/cmd/warroom", Imports: []string{"github.com/charmbracelet/fang", module + "/tui", module + "/aws/sim"}},
		{ImportPath: module + "/state", Imports: []string{"encoding/json"}, Deps: []string{"encoding/json"}},
		{ImportPath: module + "/cmd/warroom", TestImports: []string{"github.com/aws/aws-sdk-go-v2/service/iam"}},
		{ImportPath: module + "/report", Imports: []string{"github.com/charmbracelet/x/ansi"}, TestImports: []string{"github.com/charmbracelet/x/exp/golden"}},
		{ImportPath: module + "/incident", Imports: []string{module + "/state", module + "/aws/contain", module + "/aws/trail", module + "/report", module + "/sanitize"},
			Deps: []string{"github.com/aws/aws-sdk-go-v2/aws"}},
		{ImportPath: module + "/cmd/warroom", Imports: []string{module + "/incident", module + "/tui"}},
		{ImportPath: module + "/trailcheck", Imports: []string{"crypto/rsa"}, XTestImports: []string{module + "/trailcheck/trailtest", module + "/aws/sim/gen"}},
		{ImportPath: module + "/trailcheck/trailtest", Imports: []string{module + "/trailcheck"}},
	}
	if v := violations(allowed); len(v) != 0 {
		t.Errorf("allowed imports reported: %q", v)
	}
}
