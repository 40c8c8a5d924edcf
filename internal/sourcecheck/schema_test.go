package scopegate_test

import (
	"go/ast"
	"go/format"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
)

// The steps of adding an entity that nothing else would notice if forgotten
// (docs/extending.md): these tests read the schema and the design and fail
// until each is done.

// nonTenantTypes are the entities without TenantMixin, each with why. A new
// entity is tenant-owned unless it is named here.
var nonTenantTypes = map[string]string{
	ent.TypeOrganization: "it is the tenant",
	ent.TypeAuditEvent:   "its org_id is nullable: an all-tenant system action belongs to no tenant",
}

// schemaType is what the test reads of one ent/schema type.
type schemaType struct {
	mixins []string // as written: "BaseMixin{Entity: rules.Job}", "TenantMixin{Ref: \"jobs\"}"
	policy string   // the expression Policy returns: "rules.Roles(rules.Job)"
}

// schemaTypes parses ent/schema and returns every type that embeds
// ent.Schema, with its mixins and its policy.
func schemaTypes(t *testing.T) map[string]schemaType {
	t.Helper()
	out := map[string]schemaType{}
	var methods []*ast.FuncDecl
	fset := token.NewFileSet()
	for _, sf := range walkSources(t) {
		if filepath.ToSlash(filepath.Dir(sf.rel)) != "ent/schema" || strings.HasSuffix(sf.rel, "_test.go") {
			continue
		}
		for _, d := range sf.file.Decls {
			switch d := d.(type) {
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					ts, ok := spec.(*ast.TypeSpec)
					if !ok {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, f := range st.Fields.List {
						if sel, ok := f.Type.(*ast.SelectorExpr); ok && len(f.Names) == 0 && sel.Sel.Name == "Schema" && exprText(fset, sel.X) == "ent" {
							out[ts.Name.Name] = schemaType{}
						}
					}
				}
			case *ast.FuncDecl:
				if d.Recv != nil && len(d.Recv.List) == 1 {
					methods = append(methods, d)
				}
			}
		}
	}
	for _, m := range methods {
		typ := exprString(m.Recv.List[0].Type)
		st, ok := out[typ]
		if !ok || m.Body == nil || len(m.Body.List) != 1 {
			continue
		}
		ret, ok := m.Body.List[0].(*ast.ReturnStmt)
		if !ok || len(ret.Results) != 1 {
			continue
		}
		switch m.Name.Name {
		case "Mixin":
			if lit, ok := ret.Results[0].(*ast.CompositeLit); ok {
				for _, e := range lit.Elts {
					st.mixins = append(st.mixins, exprText(fset, e))
				}
			}
		case "Policy":
			st.policy = exprText(fset, ret.Results[0])
		}
		out[typ] = st
	}
	return out
}

func exprText(fset *token.FileSet, e ast.Expr) string {
	var b strings.Builder
	if err := format.Node(&b, fset, e); err != nil {
		return "?"
	}
	return b.String()
}

// TestEverySchemaHasTheScopePolicy: every entity of ent/schema starts its
// mixins with BaseMixin{Entity: rules.<Type>} (no scope, no SQL; the tenant
// filter; the link checks; the audit hook) and ends its policy with
// rules.Roles(rules.<Type>) (the role rules, then deny). A schema without
// them compiles, generates and runs: without Policy, every query of a
// signed-in user falls through to ent's implicit allow and sees the whole
// tenant; without BaseMixin, a query without a scope reads every tenant.
// And an entity is tenant-owned (TenantMixin) unless nonTenantTypes says
// why not.
func TestEverySchemaHasTheScopePolicy(t *testing.T) {
	types := schemaTypes(t)
	var names []string
	for name, st := range types {
		names = append(names, name)
		base := "BaseMixin{Entity: rules." + name + "}"
		if len(st.mixins) == 0 || st.mixins[0] != base {
			t.Errorf("ent/schema %s: Mixin must start with %s, has %v", name, base, st.mixins)
		}
		if want := "rules.Roles(rules." + name + ")"; st.policy != want {
			t.Errorf("ent/schema %s: Policy must return %s, returns %q", name, want, st.policy)
		}
		tenant := slices.ContainsFunc(st.mixins, func(m string) bool { return strings.HasPrefix(m, "TenantMixin{") })
		_, exempt := nonTenantTypes[name]
		switch {
		case !tenant && !exempt:
			t.Errorf("ent/schema %s: no TenantMixin; a tenant-owned row needs it (or name the type in nonTenantTypes with why)", name)
		case tenant && exempt:
			t.Errorf("ent/schema %s: has TenantMixin, but nonTenantTypes names it", name)
		}
	}
	assert.ElementsMatch(t, keys(ent.ScopeEdges), names, "the schema's types and the generated ones (run go generate ./...)")
}

// TestDesignDomainTableNamesTheSchema: the table of docs/design.md section
// 2 has a row for every entity, and its edges column names every edge of
// it, so that the design does not silently fall behind the schema.
func TestDesignDomainTableNamesTheSchema(t *testing.T) {
	rows := designTableRows(t, "2")
	require.NotEmpty(t, rows, "no table in docs/design.md section 2")
	for typ, edges := range ent.ScopeEdges {
		row, ok := rows[typ]
		if !ok {
			t.Errorf("docs/design.md section 2: no row for %s", typ)
			continue
		}
		cell := row[len(row)-1]
		for edge := range edges {
			if !regexp.MustCompile(`\b` + regexp.QuoteMeta(edge) + `\b`).MatchString(cell) {
				t.Errorf("docs/design.md section 2: the edges of %s (%q) do not name %s", typ, cell, edge)
			}
		}
	}
	for typ := range rows {
		if _, ok := ent.ScopeEdges[typ]; !ok {
			t.Errorf("docs/design.md section 2 has a row for %s, which the schema does not have", typ)
		}
	}
}

// designTableRows returns the rows of the first table of docs/design.md
// section n, by their first cell, each as its cells; the header row and
// the separator are left out.
func designTableRows(t *testing.T, n string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), designDoc))
	require.NoError(t, err)
	var section []string
	in := false
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.HasPrefix(line, "## "+n+". ")
			continue
		}
		if in {
			section = append(section, line)
		}
	}
	rows := map[string][]string{}
	header := true
	for _, line := range section {
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 || !header {
				break // the first table ended
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if header || strings.HasPrefix(cells[0], "---") {
			header = false
			continue
		}
		rows[cells[0]] = cells
	}
	return rows
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
