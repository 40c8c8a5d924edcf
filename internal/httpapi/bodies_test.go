package httpapi

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"reflect"
	"strings"
	"testing"
)

// decodedTypes returns the name of every type this package's handlers
// decode a request body into: the type of the second argument of each call
// of decode, read from the package's source. The imports are not loaded
// (they are not needed for the package's own types, and loading ent from
// source would take long); the type checker's complaints about them are
// ignored.
func decodedTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, e.Name(), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}}
	conf := types.Config{
		Importer: importerFunc(func(string) (*types.Package, error) { return nil, errors.New("not loaded") }),
		Error:    func(error) {},
	}
	_, _ = conf.Check("httpapi", fset, files, info) // errors are the imports'
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "decode" || len(call.Args) != 2 {
				return true
			}
			ptr, ok := info.TypeOf(call.Args[1]).(*types.Pointer)
			if !ok {
				t.Errorf("%s: decode into %T, want a pointer to a named type", fset.Position(call.Pos()), info.TypeOf(call.Args[1]))
				return true
			}
			named, ok := ptr.Elem().(*types.Named)
			if !ok {
				t.Errorf("%s: decode into %s, want a named type", fset.Position(call.Pos()), ptr.Elem())
				return true
			}
			if name := named.Obj().Name(); !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
			return true
		})
	}
	return out
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }

// TestRequestTypesListEveryBody: requestTypes, whose fields
// TestRequestLimits checks for a length limit, is every type a handler
// decodes a body into. A new body missing from it would have its strings
// and id lists unchecked, without a word.
func TestRequestTypesListEveryBody(t *testing.T) {
	decoded := decodedTypes(t)
	if len(decoded) < 5 {
		t.Fatalf("found only %v decoded: the test reads the source wrongly", decoded)
	}
	listed := map[string]bool{}
	for _, v := range requestTypes {
		listed[reflect.TypeOf(v).Name()] = true
	}
	for _, name := range decoded {
		if !listed[name] {
			t.Errorf("handlers decode a %s, which requestTypes (limits_test.go) does not list: its limits are not checked", name)
		}
	}
}
