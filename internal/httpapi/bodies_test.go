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
// decode a request body into, read from the package's source: the type of
// the second argument of each call of decode, and, where that argument's
// type is a type parameter (decodeBody[B]), the type argument of every
// instantiation of the generic function that passes it on, followed through
// generic callers (idAndBody[B] calls decodeBody[B]). The imports are not
// loaded (they are not needed for the package's own types, and loading ent
// from source would take long); the type checker's complaints about them
// are ignored.
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
	info := &types.Info{
		Types:     map[ast.Expr]types.TypeAndValue{},
		Defs:      map[*ast.Ident]types.Object{},
		Uses:      map[*ast.Ident]types.Object{},
		Instances: map[*ast.Ident]types.Instance{},
	}
	conf := types.Config{
		Importer: importerFunc(func(string) (*types.Package, error) { return nil, errors.New("not loaded") }),
		Error:    func(error) {},
	}
	_, _ = conf.Check("httpapi", fset, files, info) // errors are the imports'
	seen := map[string]bool{}
	var out []string
	// decodes marks the type parameters (by function and index) whose type
	// arguments are decoded into.
	decodes := map[*types.Func]map[int]bool{}
	// found takes one type decoded into, at pos inside fn: a named type is
	// a body; a type parameter of fn marks fn. It says whether it marked.
	found := func(pos token.Pos, fn *types.Func, typ types.Type) bool {
		switch typ := typ.(type) {
		case *types.Named:
			if name := typ.Obj().Name(); !seen[name] {
				seen[name] = true
				out = append(out, name)
			}
		case *types.TypeParam:
			if fn == nil || decodes[fn][typ.Index()] {
				return false
			}
			if decodes[fn] == nil {
				decodes[fn] = map[int]bool{}
			}
			decodes[fn][typ.Index()] = true
			return true
		default:
			t.Errorf("%s: decode into %s, want a named type", fset.Position(pos), typ)
		}
		return false
	}
	// Generic helpers may call one another: walk until no new type
	// parameter is marked.
	for changed := true; changed; {
		changed = false
		for _, f := range files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				fn, _ := info.Defs[fd.Name].(*types.Func)
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					switch n := n.(type) {
					case *ast.CallExpr:
						if id, ok := n.Fun.(*ast.Ident); !ok || id.Name != "decode" || len(n.Args) != 2 {
							return true
						}
						ptr, ok := info.TypeOf(n.Args[1]).(*types.Pointer)
						if !ok {
							t.Errorf("%s: decode into %s, want a pointer", fset.Position(n.Pos()), info.TypeOf(n.Args[1]))
							return true
						}
						changed = found(n.Pos(), fn, ptr.Elem()) || changed
					case *ast.Ident:
						inst, ok := info.Instances[n]
						if !ok {
							return true
						}
						callee, _ := info.Uses[n].(*types.Func)
						for i := range decodes[callee] {
							changed = found(n.Pos(), fn, inst.TypeArgs.At(i)) || changed
						}
					}
					return true
				})
			}
		}
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
