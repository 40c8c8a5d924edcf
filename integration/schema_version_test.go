package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/migration"
)

// TestSchemaVersionCheck: what /readyz and serve's start ask. The check
// runs as the application role (it only reads goose's version table) and
// tells a current schema from a pending migration and from one the binary
// does not carry (a newer binary migrated the database).
func TestSchemaVersionCheck(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t)
	require.NoError(t, migration.CheckCurrent(ctx, db.SQL), "as the application role, on a migrated database")

	var newest int64
	require.NoError(t, db.Raw.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&newest))

	_, err := db.Raw.ExecContext(ctx, `INSERT INTO goose_db_version (version_id, is_applied) VALUES ($1, true)`, newest+1)
	require.NoError(t, err)
	err = migration.CheckCurrent(ctx, db.SQL)
	assert.ErrorIs(t, err, migration.ErrUnknown)
	assert.ErrorIs(t, err, database.ErrSchema)

	_, err = db.Raw.ExecContext(ctx, `DELETE FROM goose_db_version WHERE version_id >= $1`, newest)
	require.NoError(t, err)
	err = migration.CheckCurrent(ctx, db.SQL)
	assert.ErrorIs(t, err, migration.ErrPending)
	assert.ErrorIs(t, err, database.ErrSchema)
	assert.Contains(t, err.Error(), "1 not applied")

	_, err = db.Raw.ExecContext(ctx, `DROP TABLE goose_db_version`)
	require.NoError(t, err)
	err = migration.CheckCurrent(ctx, db.SQL)
	assert.ErrorIs(t, err, migration.ErrPending, "no version table: nothing applied")
}
