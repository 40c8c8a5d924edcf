package rules

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/internal/scope"
)

func entDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "ent"))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "client.go"))
	require.NoError(t, err, "generated ent package not found at %s", dir)
	return dir
}

// stringConsts returns the string constants of file whose names start with
// prefix.
func stringConsts(t *testing.T, file, prefix string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	require.NoError(t, err)
	out := map[string]string{}
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, prefix) || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					out[n.Name] = v
				}
			}
		}
	}
	return out
}

func pascal(s string) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}

// generatedEdges reads, from ent's own generated code, every edge of every
// type and the type it points to: the types are the Type* constants of
// ent/mutation.go, the edges of each the Edge* constants of its package,
// and an edge's target the type its Query<Edge> method returns. Read, not
// written down, so that a new entity or edge needs no edit here.
func generatedEdges(t *testing.T) map[string]map[string]string {
	t.Helper()
	dir := entDir(t)
	clientT := reflect.TypeOf(ent.Client{})
	out := map[string]map[string]string{}
	for _, typ := range stringConsts(t, filepath.Join(dir, "mutation.go"), "Type") {
		pkg := strings.ToLower(typ)
		field, ok := clientT.FieldByName(typ)
		require.True(t, ok, "ent.Client.%s", typ)
		out[typ] = map[string]string{}
		for _, e := range stringConsts(t, filepath.Join(dir, pkg, pkg+".go"), "Edge") {
			m, ok := field.Type.MethodByName("Query" + pascal(e))
			require.True(t, ok, "%s.Query%s", field.Type, pascal(e))
			out[typ][e] = strings.TrimSuffix(m.Type.Out(0).Elem().Name(), "Query")
		}
	}
	require.Contains(t, out, ent.TypeJob, "no generated types read from %s", dir)
	require.Contains(t, out[ent.TypeJob], job.EdgeManagers, "no generated edges read from ent/job")
	return out
}

// TestScopeEdgesCoverEveryEdge: the link, clear and write rules read edges
// from ent.ScopeEdges, which Scopegate's template (ent/template/
// scopegraph.tmpl) builds from the schema. An edge missing there is denied
// at run time (fail closed) but must fail here first: ScopeEdges must list
// exactly the types and edges of ent's own generated code, with the same
// targets.
func TestScopeEdgesCoverEveryEdge(t *testing.T) {
	gen := generatedEdges(t)
	assert.ElementsMatch(t, keysOf(gen), keysOf(ent.ScopeEdges), "types")
	for typ, edges := range gen {
		for edge, target := range edges {
			got, ok := ent.ScopeEdges[typ][edge]
			if assert.True(t, ok, "ent.ScopeEdges has no %s.%s", typ, edge) {
				assert.Equal(t, target, got.Target, "target of %s.%s", typ, edge)
			}
		}
	}
	for typ, edges := range ent.ScopeEdges {
		for edge := range edges {
			_, ok := gen[typ][edge]
			assert.True(t, ok, "ent.ScopeEdges lists %s.%s, which ent's generated code does not have", typ, edge)
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func userCtx(t *testing.T, u scope.User) context.Context {
	t.Helper()
	s, err := scope.ForUser(u)
	require.NoError(t, err)
	return scope.NewContext(context.Background(), s)
}

func systemCtx(t *testing.T, org int) context.Context {
	t.Helper()
	b := scope.System("unit test")
	if org > 0 {
		b = b.InOrg(org)
	}
	s, err := b.Scope()
	require.NoError(t, err)
	return scope.NewContext(context.Background(), s)
}

func authCtx(t *testing.T) context.Context {
	t.Helper()
	s, err := scope.Authenticator(scope.AuthLookup{Email: "a@a.test"})
	require.NoError(t, err)
	return scope.NewContext(context.Background(), s)
}

func TestErrNoScopeIsADenial(t *testing.T) {
	assert.ErrorIs(t, ErrNoScope, scope.ErrNoScope)
	assert.ErrorIs(t, ErrNoScope, privacy.Deny)
	assert.NotErrorIs(t, ErrNoScope, privacy.Allow)
	assert.NotErrorIs(t, ErrNoScope, privacy.Skip)
}

func TestDenyIfNoScope(t *testing.T) {
	rule := DenyIfNoScope()
	for name, ctx := range map[string]context.Context{
		"empty":      context.Background(),
		"zero scope": scope.NewContext(context.Background(), scope.Scope{}),
	} {
		err := rule.EvalQuery(ctx, nil)
		assert.ErrorIs(t, err, scope.ErrNoScope, name)
		assert.ErrorIs(t, err, privacy.Deny, name)
		err = rule.EvalMutation(ctx, nil)
		assert.ErrorIs(t, err, scope.ErrNoScope, name)
	}
	for name, ctx := range map[string]context.Context{
		"user":          userCtx(t, scope.User{ID: 1, OrgID: 1, Role: scope.RoleMember}),
		"system":        systemCtx(t, 0),
		"authenticator": authCtx(t),
	} {
		assert.ErrorIs(t, rule.EvalQuery(ctx, nil), privacy.Skip, name)
	}
}

func TestAllowIfSystem(t *testing.T) {
	rule := AllowIfSystem()
	assert.ErrorIs(t, rule.EvalQuery(systemCtx(t, 0), nil), privacy.Allow)
	assert.ErrorIs(t, rule.EvalQuery(systemCtx(t, 3), nil), privacy.Allow)
	for name, ctx := range map[string]context.Context{
		"none":          context.Background(),
		"user":          userCtx(t, scope.User{ID: 1, OrgID: 1, Role: scope.RoleAdmin}),
		"authenticator": authCtx(t),
	} {
		err := rule.EvalQuery(ctx, nil)
		assert.NotErrorIs(t, err, privacy.Allow, name)
	}
}

func TestTenantOrg(t *testing.T) {
	org, ok := tenantOrg(scope.Scope{})
	assert.False(t, ok)
	assert.Zero(t, org)
	s, _ := scope.FromContext(userCtx(t, scope.User{ID: 1, OrgID: 4, Role: scope.RoleMember}))
	org, ok = tenantOrg(s)
	assert.True(t, ok)
	assert.Equal(t, 4, org)
	s, _ = scope.FromContext(systemCtx(t, 6))
	org, ok = tenantOrg(s)
	assert.True(t, ok)
	assert.Equal(t, 6, org)
	s, _ = scope.FromContext(systemCtx(t, 0))
	_, ok = tenantOrg(s)
	assert.False(t, ok)
	s, _ = scope.FromContext(authCtx(t))
	_, ok = tenantOrg(s)
	assert.False(t, ok, "the authenticator has no tenant")
}

// TestCheckCreateTenant runs the create rule on mutations built by an ent
// client without a driver: the rule never needs the database.
func TestCheckCreateTenant(t *testing.T) {
	c := ent.NewClient()
	rule := checkCreateTenant()
	user4 := userCtx(t, scope.User{ID: 1, OrgID: 4, Role: scope.RoleAdmin})

	t.Run("no org_id takes the scope's", func(t *testing.T) {
		for name, ctx := range map[string]context.Context{"user": user4, "InOrg": systemCtx(t, 4)} {
			m := c.Company.Create().SetName("x").Mutation()
			require.ErrorIs(t, rule.EvalMutation(ctx, m), privacy.Skip, name)
			org, ok := m.OrgID()
			assert.True(t, ok, name)
			assert.Equal(t, 4, org, name)
		}
	})
	t.Run("the scope's org_id passes", func(t *testing.T) {
		m := c.Job.Create().SetOrgID(4).Mutation()
		assert.ErrorIs(t, rule.EvalMutation(user4, m), privacy.Skip)
	})
	t.Run("another org_id is denied", func(t *testing.T) {
		muts := map[string]ent.Mutation{
			"company":     c.Company.Create().SetOrgID(5).Mutation(),
			"user":        c.User.Create().SetOrgID(5).Mutation(),
			"job":         c.Job.Create().SetOrgID(5).Mutation(),
			"note":        c.Note.Create().SetOrgID(5).Mutation(),
			"audit event": c.AuditEvent.Create().SetOrgID(5).Mutation(),
		}
		for name, m := range muts {
			for ctxName, ctx := range map[string]context.Context{"user": user4, "InOrg": systemCtx(t, 4)} {
				err := rule.EvalMutation(ctx, m)
				assert.ErrorIs(t, err, ErrWrongTenant, "%s under %s", name, ctxName)
				assert.ErrorIs(t, err, privacy.Deny, "%s under %s", name, ctxName)
			}
		}
	})
	t.Run("a tenant scope cannot create organizations", func(t *testing.T) {
		m := c.Organization.Create().SetName("x").SetSlug("x").Mutation()
		assert.ErrorIs(t, rule.EvalMutation(user4, m), ErrWrongTenant)
		assert.ErrorIs(t, rule.EvalMutation(systemCtx(t, 4), m), ErrWrongTenant)
		assert.ErrorIs(t, rule.EvalMutation(systemCtx(t, 0), m), privacy.Skip)
	})
	t.Run("the all-tenant system scope may name any org", func(t *testing.T) {
		m := c.Company.Create().SetOrgID(5).Mutation()
		assert.ErrorIs(t, rule.EvalMutation(systemCtx(t, 0), m), privacy.Skip)
		org, _ := m.OrgID()
		assert.Equal(t, 5, org)
	})
	t.Run("no scope is denied", func(t *testing.T) {
		m := c.Company.Create().SetName("x").Mutation()
		assert.ErrorIs(t, rule.EvalMutation(context.Background(), m), scope.ErrNoScope)
	})
}

// TestCheckLinksNeedsNoDatabaseWhenItSkips: deletes, the all-tenant system
// scope and mutations without added edges are skipped before any query (the
// client here has no driver: a query would panic).
func TestCheckLinksNeedsNoDatabaseWhenItSkips(t *testing.T) {
	c := ent.NewClient()
	rule := checkLinks()
	user4 := userCtx(t, scope.User{ID: 1, OrgID: 4, Role: scope.RoleAdmin})

	assert.ErrorIs(t, rule.EvalMutation(user4, deleteOf(c.Job.UpdateOneID(1).Mutation())), privacy.Skip)
	assert.ErrorIs(t, rule.EvalMutation(user4, c.Job.UpdateOneID(1).SetTitle("x").Mutation()), privacy.Skip)
	assert.ErrorIs(t, rule.EvalMutation(systemCtx(t, 0), c.Job.Create().SetCompanyID(9).AddManagerIDs(8).Mutation()), privacy.Skip)
	assert.ErrorIs(t, rule.EvalMutation(context.Background(), c.Job.Create().SetCompanyID(9).Mutation()), scope.ErrNoScope)
}

// deleteOf turns an update mutation into a delete-one: ent builds delete
// mutations only inside Exec.
func deleteOf[M interface{ SetOp(ent.Op) }](m M) M {
	m.SetOp(ent.OpDeleteOne)
	return m
}

func TestEntityMutationGates(t *testing.T) {
	c := ent.NewClient()
	user4 := userCtx(t, scope.User{ID: 1, OrgID: 4, Role: scope.RoleAdmin})
	banned := userCtx(t, scope.User{ID: 2, OrgID: 4, Role: scope.RoleAdmin, Banned: true})
	sys := systemCtx(t, 0)
	auth := authCtx(t)

	// Organizations and audit events never change under a user scope.
	assert.ErrorIs(t, Organization.mutate(user4, c.Organization.UpdateOneID(4).Mutation()), ErrReadOnly)
	assert.ErrorIs(t, AuditEvent.mutate(user4, c.AuditEvent.Create().Mutation()), ErrReadOnly)
	// Users, companies, jobs and notes: unbanned user scopes only.
	for name, m := range map[string]ent.Mutation{
		"user": c.User.UpdateOneID(1).Mutation(), "company": c.Company.UpdateOneID(1).Mutation(),
		"job": c.Job.UpdateOneID(1).Mutation(), "note": c.Note.UpdateOneID(1).Mutation(),
	} {
		assert.ErrorIs(t, userScopeOnly(user4, m), privacy.Skip, name)
		assert.ErrorIs(t, userScopeOnly(banned, m), ErrReadOnly, name)
		assert.ErrorIs(t, userScopeOnly(sys, m), ErrReadOnly, name)
		assert.ErrorIs(t, userScopeOnly(auth, m), ErrReadOnly, name)
		assert.ErrorIs(t, userScopeOnly(context.Background(), m), scope.ErrNoScope, name)
	}
	// Sessions: the email authenticator creates, users and the token
	// authenticator delete, nobody updates.
	// A login's session must name its user, whose organization it is
	// put in (loginInUsersOrg reads the user: the mutation oracle's
	// logins cover the allowed path and a session in another
	// organization).
	assert.ErrorIs(t, Session.mutate(auth, c.Session.Create().Mutation()), ErrForeignLink)
	assert.ErrorIs(t, Session.mutate(user4, c.Session.Create().Mutation()), ErrReadOnly)
	assert.ErrorIs(t, Session.mutate(user4, deleteOf(c.Session.UpdateOneID(1).Mutation())), privacy.Skip)
	assert.ErrorIs(t, Session.mutate(banned, deleteOf(c.Session.UpdateOneID(1).Mutation())), ErrReadOnly)
	assert.ErrorIs(t, Session.mutate(auth, deleteOf(c.Session.UpdateOneID(1).Mutation())), ErrReadOnly, "an email lookup cannot revoke")
	assert.ErrorIs(t, Session.mutate(user4, c.Session.UpdateOneID(1).Mutation()), ErrReadOnly)
	tok, err := scope.Authenticator(scope.AuthLookup{TokenHash: "h"})
	require.NoError(t, err)
	tokCtx := scope.NewContext(context.Background(), tok)
	assert.ErrorIs(t, Session.mutate(tokCtx, deleteOf(c.Session.UpdateOneID(1).Mutation())), privacy.Skip)
	assert.ErrorIs(t, Session.mutate(tokCtx, c.Session.Create().Mutation()), ErrReadOnly, "a token lookup cannot log in")
}

// TestEveryTypeHasRules: edge predicates and orders narrow their subquery
// with the target type's rules (narrowTo); a type missing from entities
// would match nothing there (fail closed) but must fail here first.
func TestEveryTypeHasRules(t *testing.T) {
	for typ := range ent.ScopeEdges {
		_, ok := entities[typ]
		assert.True(t, ok, "rules.entities has no rules for %s", typ)
	}
	assert.Len(t, entities, len(ent.ScopeEdges))
}
