package integration

// The steps of docs/extending.md that nothing else would notice if
// forgotten, in the integration package: each test reads the schema (ent's
// generated code, or the migrated database) and fails until the step is
// done for every entity and table.

import (
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	entmigrate "github.com/scopegate/scopegate/ent/migrate"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/integration/world"
)

// schemaTables returns the tables of the ent schema, join tables included.
func schemaTables() []string {
	var out []string
	for _, t := range entmigrate.Tables {
		out = append(out, t.Name)
	}
	sort.Strings(out)
	return out
}

// TestRLSPoliciesCoverEveryCommand: every table of the migrated schema but
// goose's own has a row-level security policy for each of SELECT, INSERT,
// UPDATE and DELETE (or one FOR ALL). TestRLSTablesAreForced sees that
// row-level security is on; with a command's policy missing, that command
// silently matches no row under the application role (a DELETE deletes
// nothing and says so to no one), where the ent rules alone would have
// allowed it.
func TestRLSPoliciesCoverEveryCommand(t *testing.T) {
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

// TestMutationOracleSnapshotsEveryTable: the mutation oracle's raw state
// (moTables), from which it proves that a denied mutation changed no
// table, holds every table of the schema, join tables included; and
// moHasUpdatedAt says which types ent stamps on update. A table missing
// from moTables is a table whose changes the oracle cannot see.
func TestMutationOracleSnapshotsEveryTable(t *testing.T) {
	assert.ElementsMatch(t, schemaTables(), moTables, "the schema's tables and moTables")
	for _, typ := range world.Types {
		tbl := moTableOf[typ]
		var hasUpdatedAt bool
		for _, st := range entmigrate.Tables {
			if st.Name != tbl {
				continue
			}
			for _, c := range st.Columns {
				hasUpdatedAt = hasUpdatedAt || c.Name == "updated_at"
			}
		}
		assert.Equal(t, hasUpdatedAt, moHasUpdatedAt[typ], "moHasUpdatedAt[%s]: table %s has updated_at: %t", typ, tbl, hasUpdatedAt)
	}
}
