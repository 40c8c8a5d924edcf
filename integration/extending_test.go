package integration

// The steps of docs/extending.md that nothing else would notice if
// forgotten, in the integration package: each test reads the schema (ent's
// generated code, or the migrated database) and fails until the step is
// done for every entity and table.

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/httpapi"
)

// schemaTables returns the tables of the ent schema, join tables included,
// sorted (pgtest.Tables).
func schemaTables() []string { return pgtest.Tables() }

// TestRLSPoliciesCoverEveryCommand: every table of the migrated schema but
// goose's own has a row-level security policy for each of SELECT, INSERT,
// UPDATE and DELETE (or one FOR ALL). TestRLSTablesAreForced sees that
// row-level security is on; with a command's policy missing, that command
// silently matches no row under the application role (a DELETE deletes
// nothing and says so to no one), where the ent rules alone would have
// allowed it.
func TestRLSPoliciesCoverEveryCommand(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rows, err := db.Owner(t).Query(`
		SELECT c.relname, coalesce(array_to_string(array_agg(DISTINCT p.cmd), ','), '')
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		LEFT JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'goose_db_version'
		GROUP BY 1 ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var table, cmds string
		require.NoError(t, rows.Scan(&table, &cmds))
		tables = append(tables, table)
		have := strings.Split(cmds, ",")
		if slices.Contains(have, "ALL") {
			continue
		}
		for _, cmd := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
			if !slices.Contains(have, cmd) {
				t.Errorf("%s: no row-level security policy FOR %s (it has %q): write it in a migration", table, cmd, cmds)
			}
		}
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, schemaTables(), tables, "the migrated tables and the ent schema's (run migrate diff)")
}

// TestWorldModelsEveryType: integration/world, the model every oracle and
// the RLS tests compare with, knows every type of the schema. The leak and
// mutation oracles walk world.Types: a type missing there is never queried
// or mutated by them, and TestLeakOracleCoversSchema checks the edges of
// the types it lists only.
func TestWorldModelsEveryType(t *testing.T) {
	t.Parallel()
	var types []string
	for typ := range ent.ScopeEdges {
		types = append(types, typ)
	}
	assert.ElementsMatch(t, types, world.Types, "the schema's types and world.Types")
	for _, typ := range world.Types {
		_, ok := world.Columns[typ]
		assert.True(t, ok, "world.Columns has no entry for %s (the columns the oracles group by and filter on)", typ)
	}
}

// TestMutationOracleSnapshotsEveryTable: moHasUpdatedAt says which types
// ent stamps on update. The oracle's raw state, from which it proves that a
// denied mutation changed no table, is every table of pgtest.Tables(), the
// same list TestRLSPoliciesCoverEveryCommand compares with the migrated
// database: a table missing there is a table whose changes the oracle
// cannot see.
func TestMutationOracleSnapshotsEveryTable(t *testing.T) {
	t.Parallel()
	for _, typ := range world.Types {
		tbl := ent.TableOf[typ]
		hasUpdatedAt := pgtest.HasColumn(tbl, "updated_at")
		assert.Equal(t, hasUpdatedAt, moHasUpdatedAt[typ], "moHasUpdatedAt[%s]: table %s has updated_at: %t", typ, tbl, hasUpdatedAt)
	}
}

// openAPIOperation is what TestHTTPRouteListsCoverEveryRoute reads of one
// operation of the OpenAPI document.
type openAPIOperation struct {
	Security    *[]any `json:"security"` // [] for a public route
	RequestBody any    `json:"requestBody"`
	Parameters  []struct {
		Ref string `json:"$ref"`
		In  string `json:"in"`
	} `json:"parameters"`
}

// pathParam is a parameter of an OpenAPI path: {id}.
var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// routeMatcher matches "METHOD /concrete/path" against an OpenAPI
// operation: its method, and its path with each parameter as a number.
func routeMatcher(method, path string) *regexp.Regexp {
	parts := pathParam.Split(path, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return regexp.MustCompile("^" + method + " " + strings.Join(parts, "[0-9]+") + "$")
}

// TestHTTPRouteListsCoverEveryRoute: the hand-written route lists of the
// HTTP tests reach every route of the OpenAPI document (which
// TestOpenAPIListsEveryRoute holds to the server's routes): every route
// that needs a token is in unauthenticatedRoutes (401 without one), every
// route with a body in fuzzBodyRoutes, every route with a query parameter
// in fuzzQueryRoutes. A new route missing from them would go untested for
// those contracts, without a word.
func TestHTTPRouteListsCoverEveryRoute(t *testing.T) {
	t.Parallel()
	var doc struct {
		Paths      map[string]map[string]openAPIOperation `json:"paths"`
		Components struct {
			Parameters map[string]struct {
				In string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(httpapi.OpenAPI(), &doc))
	w := apiNewWorld(t, apiOptions{loginLimit: 1000, noLogin: true})
	var unauth, body, query []string
	for _, r := range unauthenticatedRoutes(w) {
		unauth = append(unauth, r.method+" "+r.path)
	}
	for _, r := range fuzzBodyRoutes(w) {
		body = append(body, r.method+" "+r.path)
	}
	for _, r := range fuzzQueryRoutes(w) {
		query = append(query, r.method+" "+r.path)
	}
	covered := func(list []string, method, path string) bool {
		return slices.ContainsFunc(list, routeMatcher(method, path).MatchString)
	}
	n := 0
	for path, item := range doc.Paths {
		for method, op := range item {
			method = strings.ToUpper(method)
			n++
			public := op.Security != nil && len(*op.Security) == 0
			if !public && !covered(unauth, method, path) {
				t.Errorf("%s %s needs a token but is not in unauthenticatedRoutes (httpapi_test.go)", method, path)
			}
			if op.RequestBody != nil && !covered(body, method, path) {
				t.Errorf("%s %s reads a body but is not in fuzzBodyRoutes (httpapi_fuzz_test.go)", method, path)
			}
			for _, p := range op.Parameters {
				in := p.In
				if name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/"); ok {
					in = doc.Components.Parameters[name].In
				}
				if in == "query" && !covered(query, method, path) {
					t.Errorf("%s %s reads a query but is not in fuzzQueryRoutes (httpapi_fuzz_test.go)", method, path)
					break
				}
			}
		}
	}
	require.Greater(t, n, 30, "the OpenAPI document lists only %d operations", n)
}
