package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// A read unit counts its request's round trips as the test counter does:
// reads in the shared transaction, a write in a transaction of its own, a
// write that fails and rolls back, and the COMMIT end sends. The server's
// db_statements_per_request metric reads this count.
func TestUnitStatementsCountLikeTheCounter(t *testing.T) {
	t.Parallel()
	w := newRepoWorld(t)
	ctx := w.as(t, actAdmin)
	w.db.Counter.Reset()

	unit, end := database.WithReadUnit(ctx)
	assert.Zero(t, database.UnitStatements(unit), "before any statement")
	_, err := w.r.Companies.List(unit, preload.SurfaceUser, repo.ListOptions{Limit: 1})
	require.NoError(t, err)
	_, _, err = w.r.Companies.Create(unit, repo.CompanyInput{Name: "counted"})
	require.NoError(t, err)
	_, _, err = w.r.Companies.Create(unit, repo.CompanyInput{Name: "counted"}) // the name is taken: rolled back
	require.Error(t, err)
	_, err = w.r.Jobs.List(unit, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Limit: 5})
	require.NoError(t, err)
	require.NoError(t, end())

	assert.Equal(t, w.db.Counter.Count(), database.UnitStatements(unit), "statements:\n%q", w.db.Counter.Statements())
	assert.Greater(t, database.UnitStatements(unit), 4)
	assert.Zero(t, database.UnitStatements(context.Background()), "without a read unit")
}
