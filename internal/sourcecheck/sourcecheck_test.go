// Package scopegate_test checks properties of the repository's source that
// no single package's tests can see: privacy is never bypassed, and ent's
// runtime is imported in exactly one place.
package scopegate_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

const module = "github.com/scopegate/scopegate"

// decisionContextAllowlist names the functions ("path/to/file.go:Func") that
// may call privacy.DecisionContext. It is empty: the project never bypasses
// privacy (docs/design.md section 10 (f)). It may never hold more than one entry.
var decisionContextAllowlist = map[string]bool{}

// runtimeImporter is the one file that imports ent/runtime.
const runtimeImporter = "internal/database/database.go"

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(b), "module "+module+"\n")
	return root
}

// sourceFile is one parsed Go file of the repository.
type sourceFile struct {
	rel  string // slash-separated, relative to the root
	file *ast.File
	fset *token.FileSet
}

// walkSources parses every .go file of the repository, skipping .git,
// vendor, testdata and ent's generated code (ent/schema is hand-written
// and kept).
func walkSources(t *testing.T) []sourceFile {
	t.Helper()
	root := repoRoot(t)
	var out []sourceFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			switch {
			case rel == ".":
				return nil
			case d.Name() == ".git", d.Name() == "vendor", d.Name() == "testdata", d.Name() == "node_modules":
				return filepath.SkipDir
			case rel == "ent/schema":
				return nil
			case rel == "ent":
				return nil // its files are generated; its subdirectories are decided one by one
			case strings.HasPrefix(rel, "ent/"):
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") {
			return nil
		}
		if path.Dir(rel) == "ent" && rel != "ent/generate.go" && rel != "ent/entc.go" {
			return nil // generated
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		out = append(out, sourceFile{rel: rel, file: f, fset: fset})
		return nil
	})
	require.NoError(t, err)
	return out
}

// privacyNames returns the local names under which f imports a privacy
// package (ent's or the generated one), and whether it dot-imports one.
func privacyNames(f *ast.File) (names map[string]bool, dot bool) {
	names = map[string]bool{}
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p != "entgo.io/ent/privacy" && p != module+"/ent/privacy" {
			continue
		}
		switch {
		case imp.Name == nil:
			names["privacy"] = true
		case imp.Name.Name == ".":
			dot = true
		case imp.Name.Name != "_":
			names[imp.Name.Name] = true
		}
	}
	return names, dot
}

// decisionContextCalls returns "file:Func" for every reference to
// DecisionContext of a privacy package in f (a call, or the function taken
// as a value).
func decisionContextCalls(sf sourceFile) []string {
	names, dot := privacyNames(sf.file)
	var out []string
	for _, decl := range sf.file.Decls {
		fn := "<package level>"
		if fd, ok := decl.(*ast.FuncDecl); ok {
			fn = fd.Name.Name
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				fn = exprString(fd.Recv.List[0].Type) + "." + fn
			}
		}
		ast.Inspect(decl, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && names[id.Name] && x.Sel.Name == "DecisionContext" {
					out = append(out, sf.rel+":"+fn+" ("+sf.fset.Position(x.Pos()).String()+")")
				}
			case *ast.Ident:
				if dot && x.Name == "DecisionContext" {
					out = append(out, sf.rel+":"+fn+" ("+sf.fset.Position(x.Pos()).String()+")")
				}
			}
			return true
		})
	}
	return out
}

func exprString(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.StarExpr:
		return "*" + exprString(x.X)
	case *ast.Ident:
		return x.Name
	case *ast.IndexExpr:
		return exprString(x.X)
	}
	return "?"
}

func TestSourceWalkSeesTheRepository(t *testing.T) {
	files := walkSources(t)
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.rel] = true
	}
	for _, want := range []string{runtimeImporter, "internal/rules/rules.go", "ent/schema/job.go", "internal/scope/scope.go"} {
		assert.True(t, seen[want], "the walk did not see %s", want)
	}
	for rel := range seen {
		assert.False(t, strings.HasPrefix(rel, "ent/") && !strings.HasPrefix(rel, "ent/schema/") &&
			rel != "ent/generate.go" && rel != "ent/entc.go", "generated file %s was walked", rel)
	}
}

// TestPrivacyIsNeverBypassed: privacy.DecisionContext skips every privacy
// rule, the no-scope check included; nothing outside the allowlist may call
// it.
func TestPrivacyIsNeverBypassed(t *testing.T) {
	require.LessOrEqual(t, len(decisionContextAllowlist), 1, "at most one function may bypass privacy")
	var found []string
	for _, f := range walkSources(t) {
		for _, call := range decisionContextCalls(f) {
			fn := call[:strings.Index(call, " (")]
			if !decisionContextAllowlist[fn] {
				found = append(found, call)
			}
		}
	}
	assert.Empty(t, found, "privacy.DecisionContext used outside the allowlist")
}

// TestDecisionContextDetector makes sure the detector finds what it must,
// under every import spelling, so that an empty result above means
// something.
func TestDecisionContextDetector(t *testing.T) {
	srcs := map[string]string{
		"plain": `package p
import "github.com/scopegate/scopegate/ent/privacy"
func F(ctx context.Context) { _ = privacy.DecisionContext(ctx, privacy.Allow) }`,
		"entgo": `package p
import "entgo.io/ent/privacy"
func (s *S) G(ctx context.Context) { _ = privacy.DecisionContext(ctx, privacy.Allow) }`,
		"alias": `package p
import pv "github.com/scopegate/scopegate/ent/privacy"
var bypass = pv.DecisionContext`,
		"dot": `package p
import . "entgo.io/ent/privacy"
func H(ctx context.Context) { _ = DecisionContext(ctx, Allow) }`,
	}
	for name, src := range srcs {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, name+".go", src, 0)
		require.NoError(t, err)
		assert.Len(t, decisionContextCalls(sourceFile{rel: name + ".go", file: f, fset: fset}), 1, name)
	}
	// Mentions that are not references do not count.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "x.go", `package p
// privacy.DecisionContext( is forbidden
import "github.com/scopegate/scopegate/ent/privacy"
var s = "privacy.DecisionContext("
var _ = privacy.Allow`, parser.ParseComments)
	require.NoError(t, err)
	assert.Empty(t, decisionContextCalls(sourceFile{rel: "x.go", file: f, fset: fset}))
}

// TestEntRuntimeIsImportedOnce: the generated runtime registers policies,
// hooks and defaults; it is imported by the database package and nowhere
// else, so that there is one client constructor and it always has policies.
func TestEntRuntimeIsImportedOnce(t *testing.T) {
	var importers []string
	for _, f := range walkSources(t) {
		for _, imp := range f.file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasSuffix(p, "ent/runtime") {
				importers = append(importers, f.rel)
			}
		}
	}
	assert.Equal(t, []string{runtimeImporter}, importers)
}

// driverImporters are the packages that may import lib/pq: the seam to the
// driver, which classifies its errors once for everything above it
// (repositories, HTTP), and the migrations, which create and drop
// databases by quoted name. Tests and the integration helpers may use it
// to drive a server.
var driverImporters = map[string]bool{"internal/database": true, "internal/migration": true}

// TestDriverStaysBelowTheSeam: no package above internal/database reads
// lib/pq's error codes (or anything else of lib/pq): the repositories ask
// database.RowRefused and the like, and the HTTP API the repositories'
// kinds.
func TestDriverStaysBelowTheSeam(t *testing.T) {
	var found []string
	for _, f := range walkSources(t) {
		if strings.HasSuffix(f.rel, "_test.go") || strings.HasPrefix(f.rel, "integration/") || driverImporters[path.Dir(f.rel)] {
			continue
		}
		for _, imp := range f.file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/lib/pq" || strings.HasPrefix(p, "github.com/lib/pq/") {
				found = append(found, f.rel)
			}
		}
	}
	assert.Empty(t, found, "lib/pq imported above internal/database")
}

// TestOnlyTheRepositoriesRedact: redaction is the repositories' guarantee.
// Every repository method that returns an entity returns its redaction;
// a handler (or anything else) calling policy.Redact itself would be a
// second place to forget it.
func TestOnlyTheRepositoriesRedact(t *testing.T) {
	var found []string
	for _, f := range walkSources(t) {
		dir := path.Dir(f.rel)
		if strings.HasSuffix(f.rel, "_test.go") || dir == "internal/repo" || dir == "internal/policy" {
			continue
		}
		name := ""
		for _, imp := range f.file.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == module+"/internal/policy" {
				name = "policy"
				if imp.Name != nil {
					name = imp.Name.Name
				}
			}
		}
		if name == "" {
			continue
		}
		ast.Inspect(f.file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Redact" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == name {
					found = append(found, f.fset.Position(sel.Pos()).String())
				}
			}
			return true
		})
	}
	assert.Empty(t, found, "policy.Redact called outside internal/repo")
}

// TestOpenBuildsAClientWithWorkingPolicies: a client built by database.Open
// answers a user scope, and refuses a missing scope with scope.ErrNoScope,
// not with ent's "uninitialized Policy" (which would mean ent/runtime was
// not linked in).
func TestOpenBuildsAClientWithWorkingPolicies(t *testing.T) {
	check := func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		sysScope, err := scope.System("sourcecheck: " + t.Name()).Scope()
		require.NoError(t, err)
		sys := scope.NewContext(ctx, sysScope)
		var member *ent.User
		require.NoError(t, database.WithTx(sys, db.Client, func(tx *ent.Tx) error {
			org, err := tx.Organization.Create().SetName("A").SetSlug("a").Save(sys)
			if err != nil {
				return err
			}
			member, err = tx.User.Create().SetOrgID(org.ID).SetEmail("m@a.test").SetName("m").SetRole(user.RoleMember).Save(sys)
			return err
		}))
		s, err := scope.ForUser(scope.User{ID: member.ID, OrgID: member.OrgID, Role: scope.RoleMember})
		require.NoError(t, err)
		users, err := db.User.Query().All(scope.NewContext(ctx, s))
		require.NoError(t, err)
		require.Len(t, users, 1)

		_, err = db.User.Query().All(ctx)
		require.ErrorIs(t, err, scope.ErrNoScope)
		assert.NotContains(t, err.Error(), "uninitialized", "policies are not registered")
		err = db.User.Create().SetOrgID(member.OrgID).SetEmail("x@a.test").SetName("x").SetRole(user.RoleMember).Exec(ctx)
		require.ErrorIs(t, err, scope.ErrNoScope)
	}

	t.Run("sqlite", func(t *testing.T) {
		db, err := database.Open(context.Background(), filepath.Join(t.TempDir(), "policies.db"), database.Options{})
		require.NoError(t, err)
		defer db.Close()
		require.NoError(t, db.Schema.Create(context.Background()))
		check(t, db)
	})
	t.Run("postgres", func(t *testing.T) {
		if os.Getenv(pgtest.EnvURL) == "" {
			t.Skipf("%s is not set", pgtest.EnvURL)
		}
		pg := pgtest.New(t) // migrated, through database.Open
		db, err := database.Open(context.Background(), pg.URL, database.Options{})
		require.NoError(t, err)
		defer db.Close()
		check(t, db)
	})
}
