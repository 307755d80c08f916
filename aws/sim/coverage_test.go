package sim

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// sdkServicePrefix is the import path prefix of the SDK's service clients.
const sdkServicePrefix = "github.com/aws/aws-sdk-go-v2/service/"

// sdkCall is one AWS operation warroom's code calls, and where.
type sdkCall struct {
	Service, Op string
	Where       string // file:line of the first use
}

// moduleRoot finds the directory holding go.mod above the test's own.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// sdkCallsOf parses every non-test Go file of the module outside aws/sim
// itself (its subpackages, the scenario among them, are clients and count)
// and returns every operation named by a `<pkg>.<Op>Input` composite
// literal, `new(<pkg>.<Op>Input)`, a variable of that type, or a
// `<pkg>.New<Op>Paginator` call, where <pkg> imports an SDK service.
func sdkCallsOf(t *testing.T, root string) map[string]sdkCall {
	t.Helper()
	simDir := filepath.Join(root, "aws", "sim")
	found := map[string]sdkCall{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") || filepath.Dir(path) == simDir {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		// Local import name → service (the import path's last element).
		svcOf := map[string]string{}
		for _, im := range f.Imports {
			p, _ := strconv.Unquote(im.Path.Value)
			svc, ok := strings.CutPrefix(p, sdkServicePrefix)
			if !ok || strings.Contains(svc, "/") {
				continue // not a service client (or its types subpackage)
			}
			name := svc
			if im.Name != nil {
				name = im.Name.Name
			}
			svcOf[name] = svc
		}
		if len(svcOf) == 0 {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		note := func(pos token.Pos, svc, op string) {
			k := svc + ":" + op
			if _, ok := found[k]; !ok {
				found[k] = sdkCall{Service: svc, Op: op, Where: rel + ":" + strconv.Itoa(fset.Position(pos).Line)}
			}
		}
		// inputOf names the operation of a type expression pkg.OpInput.
		inputOf := func(e ast.Expr) (svc, op string, ok bool) {
			if st, isStar := e.(*ast.StarExpr); isStar {
				e = st.X
			}
			sel, isSel := e.(*ast.SelectorExpr)
			if !isSel {
				return "", "", false
			}
			pkg, isIdent := sel.X.(*ast.Ident)
			if !isIdent || svcOf[pkg.Name] == "" {
				return "", "", false
			}
			op, ok = strings.CutSuffix(sel.Sel.Name, "Input")
			return svcOf[pkg.Name], op, ok && op != ""
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if svc, op, ok := inputOf(n.Type); ok {
					note(n.Pos(), svc, op)
				}
			case *ast.ValueSpec:
				if n.Type != nil {
					if svc, op, ok := inputOf(n.Type); ok {
						note(n.Pos(), svc, op)
					}
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "new" && len(n.Args) == 1 {
					if svc, op, ok := inputOf(n.Args[0]); ok {
						note(n.Pos(), svc, op)
					}
				}
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if pkg, ok := sel.X.(*ast.Ident); ok && svcOf[pkg.Name] != "" {
						name := sel.Sel.Name
						if op, ok := strings.CutPrefix(name, "New"); ok {
							if op, ok = strings.CutSuffix(op, "Paginator"); ok && op != "" {
								note(n.Pos(), svcOf[pkg.Name], op)
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// apiVersionSuffix is the API version CloudTrail appends to some services'
// event names (Lambda: CreateFunction20150331, GetFunction20150331v2).
var apiVersionSuffix = regexp.MustCompile(`20\d{6}(v\d+)?$`)

// signingNames are the SigV4 names of the services whose SDK package is
// named otherwise.
var signingNames = map[string]string{"configservice": "config"}

// servedOps lists, per SigV4 service name, the operations the sim serves,
// by their API name (the version suffix of the CloudTrail name removed).
func servedOps(s *Sim) map[string]map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]bool{}
	for name, svc := range s.services {
		ops := map[string]bool{}
		for op := range svc.Ops {
			ops[apiVersionSuffix.ReplaceAllString(op, "")] = true
		}
		out[name] = ops
	}
	// Services whose SDK package is not named as they sign.
	out["ssoadmin"] = out["sso"]
	return out
}

// TestSimServesEveryCallWarroomMakes derives, from warroom's own code,
// every AWS operation it calls and fails when the drill account does not
// serve one: a drill that answers UnknownOperation to a call warroom makes
// hides a gap that only a real incident would find.
func TestSimServesEveryCallWarroomMakes(t *testing.T) {
	root := moduleRoot(t)
	calls := sdkCallsOf(t, root)
	if len(calls) < 20 {
		t.Fatalf("found only %d AWS operations in the module's code: the scan is broken", len(calls))
	}
	served := servedOps(New(Options{Seed: 1}))
	var missing []string
	for _, c := range calls {
		ops, ok := served[c.Service]
		if !ok {
			ops, ok = served[signingNames[c.Service]]
		}
		if !ok {
			missing = append(missing, c.Service+":"+c.Op+" (service not served) at "+c.Where)
			continue
		}
		if !ops[c.Op] {
			missing = append(missing, c.Service+":"+c.Op+" at "+c.Where)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the drill account does not serve %d of the %d AWS operations warroom calls:\n\t%s",
			len(missing), len(calls), strings.Join(missing, "\n\t"))
	}
}

// TestSDKCallScan checks the scan on the code it must find: a call site of
// each form it recognises.
func TestSDKCallScan(t *testing.T) {
	calls := sdkCallsOf(t, moduleRoot(t))
	for _, want := range []string{"iam:ListUsers", "cloudtrail:LookupEvents", "ec2:DescribeInstances", "sts:GetCallerIdentity"} {
		if _, ok := calls[want]; !ok {
			t.Errorf("scan missed %s", want)
		}
	}
	for k := range calls {
		if strings.HasPrefix(k, "types:") {
			t.Errorf("scan took a types package for a service: %s", k)
		}
	}
}
