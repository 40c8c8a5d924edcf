package jobs_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/jobs"
	"github.com/scopegate/scopegate/internal/scope"
)

// The built-in jobs on the embedded SQLite default (what `scopegate job run`
// uses with no DATABASE_URL); integration/jobs_test.go runs them on
// PostgreSQL. SQLite has no SELECT … FOR UPDATE: the jobs must not send it.

// embedded returns a seeded demo world in an embedded SQLite file, every
// published job made stale (not updated for 60 days).
func embedded(t *testing.T) *database.DB {
	t.Helper()
	ctx := context.Background()
	db, err := demo.OpenEmbedded(ctx, "file:"+filepath.Join(t.TempDir(), "jobs.db"), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	_, err = db.SQL.ExecContext(ctx, `UPDATE jobs SET updated_at = ? WHERE status = 'published'`, time.Now().Add(-60*24*time.Hour))
	require.NoError(t, err)
	return db
}

func system(t *testing.T) context.Context {
	t.Helper()
	s, err := scope.System("jobs test").Scope()
	require.NoError(t, err)
	return scope.NewContext(context.Background(), s)
}

func statusCount(t *testing.T, db *database.DB, st job.Status) int {
	t.Helper()
	n, err := db.Job.Query().Where(job.StatusEQ(st)).Count(system(t))
	require.NoError(t, err)
	return n
}

func TestArchiveStaleEmbedded(t *testing.T) {
	db := embedded(t)
	stale := statusCount(t, db, job.StatusPublished)
	require.Equal(t, 4, stale, "the demo world has two published jobs per organization")
	runner := jobs.NewRunner(db.Client, nil, jobs.NewArchiveStale(30*24*time.Hour, time.Now()))

	t.Run("DryRunReportsWhatARunWouldDo", func(t *testing.T) {
		sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{DryRun: true, BatchSize: 3})
		require.NoError(t, err)
		assert.Equal(t, 4, sum.Matched)
		assert.Zero(t, sum.Changed, "a dry run changes nothing")
		assert.Equal(t, 2, sum.Batches, "4 rows in batches of 3")
		assert.Contains(t, sum.String(), "would change 4 rows in 2 batches")
		assert.Equal(t, stale, statusCount(t, db, job.StatusPublished))
	})
	t.Run("OneTenant", func(t *testing.T) {
		sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{OrgSlug: "acme", BatchSize: 1, Note: "ticket 9"})
		require.NoError(t, err)
		assert.Equal(t, 2, sum.Matched)
		assert.Equal(t, 2, sum.Changed)
		assert.Equal(t, 2, sum.Batches)
		assert.Equal(t, 2, statusCount(t, db, job.StatusPublished), "globex's stale jobs are left")
	})
	t.Run("AllTenants", func(t *testing.T) {
		sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{BatchSize: 1, Note: "ticket 9"})
		require.NoError(t, err)
		assert.Equal(t, 2, sum.Changed)
		assert.Zero(t, statusCount(t, db, job.StatusPublished))
		n, err := db.AuditEvent.Query().Where(auditevent.Object(ent.TypeJob), auditevent.Action("update"),
			auditevent.ReasonContains("job archive-stale run ")).Count(system(t))
		require.NoError(t, err)
		assert.Equal(t, 4, n, "one audit event per archived job")
	})
	t.Run("ErrUnknownOrg", func(t *testing.T) {
		sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{OrgSlug: "nope"})
		require.ErrorIs(t, err, jobs.ErrUnknownOrg)
		assert.Contains(t, err.Error(), `no organization with slug "nope"`)
		assert.Zero(t, sum.Matched)
	})
}

func TestPurgeSessionsEmbedded(t *testing.T) {
	db := embedded(t)
	ctx := context.Background()
	a := auth.Service{Client: db.Client}
	for _, l := range demo.Logins() {
		_, _, err := a.Login(ctx, l.Email, demo.Password)
		require.NoError(t, err)
	}
	// Half the sessions expired an hour ago.
	_, err := db.SQL.ExecContext(ctx, `UPDATE sessions SET expires_at = ? WHERE id % 2 = 0`, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	runner := jobs.NewRunner(db.Client, nil, jobs.PurgeSessions{Now: time.Now()})

	sum, err := runner.Run(ctx, "purge-sessions", jobs.Options{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Matched)
	assert.Equal(t, 1, sum.Batches)

	sum, err = runner.Run(ctx, "purge-sessions", jobs.Options{BatchSize: 3})
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Changed)
	assert.Equal(t, 2, sum.Batches)
	assert.True(t, strings.HasPrefix(sum.String(), "purge-sessions run "), sum.String())
	left, err := db.Session.Query().Count(system(t))
	require.NoError(t, err)
	assert.Equal(t, 4, left, "live sessions stay")
}
