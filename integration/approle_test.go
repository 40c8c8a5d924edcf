package integration

// The application role (docs/design.md section 8, issue "Defense in depth" item 1):
// the tests connect as it, as the server does, and it can do no more than
// DML on the application's tables.

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync"
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

// Roles belong to the whole server, and PostgreSQL does not lock a role's
// catalog row for CREATE ROLE or ALTER ROLE: two grants at once (two
// deploys, or two databases of one server) collided with "tuple
// concurrently updated" or a duplicate role. Grant retries those, so every
// one of many simultaneous grants succeeds, for a role that does not exist
// yet as well as for one that does.
func TestGrantRunsConcurrently(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	role := fmt.Sprintf("scopegate_race_%d", os.Getpid())
	raw := pgtest.New(t).Owner(t)
	// Registered before the two databases, so it runs after they are gone.
	t.Cleanup(func() { raw.ExecContext(ctx, "DROP ROLE IF EXISTS "+role) })
	owners := []*sql.DB{pgtest.New(t).Owner(t), pgtest.New(t).Owner(t)}
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			wg.Go(func() {
				errs <- database.Grant(ctx, owners[i%2], role, database.GrantOptions{Password: fmt.Sprint("pw", i)})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err, "round %d", round)
		}
	}
}

// Refusing a role that owns objects changes nothing about it: the role's
// statements run in transactions of their own (TestGrantRunsConcurrently),
// so the check comes before them. Without it, a mistaken
// `db grant --role <an owner>` stripped that role's attributes (here
// CREATEDB; for a superuser, SUPERUSER) and set its password, then
// refused.
func TestGrantRefusesAnOwnerBeforeChangingIt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	role := fmt.Sprintf("scopegate_owner_%d", os.Getpid())
	owner := pgtest.New(t).Owner(t)
	_, err := owner.ExecContext(ctx, fmt.Sprintf(`CREATE ROLE %s CREATEDB NOLOGIN`, role))
	require.NoError(t, err)
	t.Cleanup(func() {
		owner.ExecContext(ctx, "DROP OWNED BY "+role)
		owner.ExecContext(ctx, "DROP ROLE IF EXISTS "+role)
	})
	_, err = owner.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE owned_elsewhere (id int); ALTER TABLE owned_elsewhere OWNER TO %s`, role))
	require.NoError(t, err)

	err = database.Grant(ctx, owner, role, database.GrantOptions{Password: "changed"})
	assert.ErrorIs(t, err, database.ErrRoleOwnsObjects)
	var createDB, login bool
	require.NoError(t, owner.QueryRowContext(ctx, `SELECT rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = $1`, role).Scan(&createDB, &login))
	assert.True(t, createDB, "the refused grant took CREATEDB from the role")
	assert.False(t, login, "the refused grant made the role a login role")
}
