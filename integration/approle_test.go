package integration

// The application role (docs/design.md section 8, issue "Defense in depth" item 1):
// the tests connect as it, as the server does, and it can do no more than
// DML on the application's tables.

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
)

func TestTestsConnectAsTheApplicationRole(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	var user string
	var super, bypass, createDB, createRole bool
	require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT current_user, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole
		FROM pg_roles WHERE rolname = current_user`).Scan(&user, &super, &bypass, &createDB, &createRole))
	assert.Equal(t, pgtest.AppRole, user)
	assert.False(t, super, "superuser")
	assert.False(t, bypass, "BYPASSRLS")
	assert.False(t, createDB || createRole, "CREATEDB or CREATEROLE")
	var owned int
	require.NoError(t, db.SQL.QueryRowContext(ctx,
		`SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)`).Scan(&owned))
	assert.Zero(t, owned, "the application role owns relations")
}

func TestPrivilegedSaysWhyRLSWouldNotHold(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	why, err := database.Privileged(ctx, db.SQL)
	require.NoError(t, err)
	assert.Empty(t, why, "the application role")
	owner, err := sql.Open("postgres", db.OwnerURL)
	require.NoError(t, err)
	defer owner.Close()
	why, err = database.Privileged(ctx, owner)
	require.NoError(t, err)
	assert.NotEmpty(t, why, "the server's own user (a superuser or the tables' owner)")
}

func TestApplicationRoleHasDMLGrantsOnly(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	for _, stmt := range []string{
		`CREATE TABLE intruder (id int)`,
		`DROP TABLE notes`,
		`ALTER TABLE jobs DISABLE ROW LEVEL SECURITY`,
		`TRUNCATE audit_events`,
		`DELETE FROM goose_db_version`,
		`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999999999999, true)`,
		`CREATE ROLE intruder`,
	} {
		_, err := db.SQL.ExecContext(ctx, stmt)
		assert.Error(t, err, stmt)
	}
	var n int
	require.NoError(t, db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM goose_db_version`).Scan(&n),
		"the server reads the schema version")
	assert.Positive(t, n)
}

func TestGrantIsIdempotentAndRefusesOwners(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	owner, err := sql.Open("postgres", db.OwnerURL)
	require.NoError(t, err)
	defer owner.Close()
	for range 2 {
		require.NoError(t, database.Grant(ctx, owner, pgtest.AppRole, database.GrantOptions{Password: pgtest.AppRole}))
	}
	for _, bad := range []string{"", "App", "a-b", "a;drop", `a"b`} {
		assert.ErrorIs(t, database.Grant(ctx, owner, bad, database.GrantOptions{}), database.ErrBadRole, bad)
	}
	var me string
	require.NoError(t, owner.QueryRowContext(ctx, `SELECT current_user`).Scan(&me))
	assert.ErrorIs(t, database.Grant(ctx, owner, me, database.GrantOptions{}), database.ErrRoleOwnsObjects,
		"the schema owner cannot be the application role")
}
