package integration

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// The seam's PostgreSQL connections (internal/database/conn.go) keep
// prepared statements and send a transaction's BEGIN with its first
// statement. These tests hold a pool of one connection, so that what they
// read back from pg_prepared_statements is the connection that ran the
// statements.

func onePool(t *testing.T, url string, cache int) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), url, database.Options{MaxOpenConns: 1, StatementCache: cache})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// adminOnOnePool is onePool (no statement cache) on a fresh database, and
// the context of a user scope, an admin of organization 1: these tests
// watch the settings, statements and plans a scope sends, not its rows.
func adminOnOnePool(t *testing.T) (*database.DB, context.Context) {
	t.Helper()
	db := onePool(t, pgtest.New(t).URL, 0)
	s, err := scope.ForUser(scope.User{ID: 1, OrgID: 1, Role: scope.RoleAdmin})
	require.NoError(t, err)
	return db, scope.NewContext(context.Background(), s)
}

// preparedOnConn returns, for each statement prepared on the pool's one
// connection, how many times it ran.
func preparedOnConn(t *testing.T, db *sql.DB) map[string]int64 {
	t.Helper()
	rows, err := db.Query(`SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements`)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		require.NoError(t, rows.Scan(&name, &n))
		out[name] = n
	}
	require.NoError(t, rows.Err())
	return out
}

func TestStatementCacheReusesAndIsBounded(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	db := onePool(t, d.OwnerURL, 2)
	ctx := context.Background()
	queries := []string{
		"SELECT count(*) FROM jobs WHERE org_id = $1",
		"SELECT count(*) FROM users WHERE org_id = $1",
		"SELECT count(*) FROM companies WHERE org_id = $1",
	}
	for i := 0; i < 10; i++ {
		var n int
		require.NoError(t, db.SQL.QueryRowContext(ctx, queries[0], i).Scan(&n))
	}
	assert.Equal(t, map[string]int64{queries[0]: 10}, preparedOnConn(t, db.SQL), "one statement, prepared once, run ten times")

	for _, q := range queries[1:] {
		var n int
		require.NoError(t, db.SQL.QueryRowContext(ctx, q, 1).Scan(&n))
	}
	assert.Equal(t, map[string]int64{queries[1]: 1, queries[2]: 1}, preparedOnConn(t, db.SQL), "the least recently used statement is deallocated")

	off := onePool(t, d.OwnerURL, -1)
	var n int
	for i := 0; i < 3; i++ {
		require.NoError(t, off.SQL.QueryRowContext(ctx, queries[0], 1).Scan(&n))
	}
	assert.Empty(t, preparedOnConn(t, off.SQL), "a negative StatementCache prepares nothing")
}

// A prepared statement whose result type changed under it (a column added
// to the table of a SELECT *) fails once with PostgreSQL's 0A000; the seam
// then forgets it, and the next run prepares it afresh.
func TestStatementCacheForgetsStaleStatements(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	db := onePool(t, d.OwnerURL, 0)
	ctx := context.Background()
	const q = "SELECT * FROM organizations WHERE id = $1"
	run := func() error {
		rows, err := db.SQL.QueryContext(ctx, q, 1)
		if err != nil {
			return err
		}
		return errors.Join(rows.Close(), rows.Err())
	}
	require.NoError(t, run())
	require.Len(t, preparedOnConn(t, db.SQL), 1)
	_, err := d.Raw.ExecContext(ctx, "ALTER TABLE organizations ADD COLUMN extra int")
	require.NoError(t, err)
	if err := run(); err != nil {
		t.Logf("after the change: %v", err)
		var pqErr *pq.Error
		require.ErrorAs(t, err, &pqErr)
		require.Equal(t, "0A000", string(pqErr.Code), "%v", err)
	}
	require.NoError(t, run(), "the statement is prepared again")
}

// Settings travel as literals in the statement that carries BEGIN: values
// with quotes and backslashes arrive unchanged, and a NUL byte, which no
// literal can carry, is refused by PostgreSQL and leaves the pool usable.
func TestSettingsLiteralsArriveUnchanged(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	ctx := context.Background()
	for _, email := range []string{`o'hara@example.com`, `back\slash@example.com`, `'); SELECT 1; --@x.y`, "ünï@例え.jp"} {
		s, err := scope.Authenticator(scope.AuthLookup{Email: email})
		require.NoError(t, err)
		tx, err := database.BeginTx(scope.NewContext(ctx, s), d.SQL, &sql.TxOptions{ReadOnly: true})
		require.NoError(t, err, email)
		var got string
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT current_setting('scopegate.auth_email')").Scan(&got))
		require.NoError(t, tx.Rollback())
		assert.Equal(t, email, got)
	}
	s, err := scope.Authenticator(scope.AuthLookup{Email: "nul\x00@example.com"})
	require.NoError(t, err)
	_, err = database.BeginTx(scope.NewContext(ctx, s), d.SQL, nil)
	require.Error(t, err)
	var n int
	require.NoError(t, d.Raw.QueryRowContext(ctx, "SELECT 1").Scan(&n))
	_, err = d.Client.Organization.Query().Count(pgtest.SystemContext(t))
	require.NoError(t, err, "the pool still works")
}

// BEGIN is sent late but is sent: what a transaction wrote is gone after
// its rollback, whether its first statement carried BEGIN (no parameters)
// or BEGIN went on its own before it (parameters).
func TestLazyBeginStillIsolates(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	db := onePool(t, d.OwnerURL, 0)
	ctx := context.Background()
	count := func() int {
		var n int
		require.NoError(t, d.Raw.QueryRowContext(ctx, "SELECT count(*) FROM organizations").Scan(&n))
		return n
	}
	before := count()
	for _, insert := range []struct {
		q    string
		args []any
	}{
		{"INSERT INTO organizations (created_at, updated_at, name, slug) VALUES (now(), now(), 'x', 'lazy-a')", nil},
		{"INSERT INTO organizations (created_at, updated_at, name, slug) VALUES (now(), now(), $1, $2)", []any{"x", "lazy-b"}},
	} {
		tx, err := db.SQL.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, insert.q, insert.args...)
		require.NoError(t, err)
		require.NoError(t, tx.Rollback())
		assert.Equal(t, before, count(), "%s survived the rollback", insert.q)
	}
	// A transaction that sends nothing commits and rolls back cleanly, and
	// leaves the connection idle for the next one.
	for _, end := range []func(*sql.Tx) error{(*sql.Tx).Commit, (*sql.Tx).Rollback} {
		tx, err := db.SQL.BeginTx(ctx, nil)
		require.NoError(t, err)
		require.NoError(t, end(tx))
	}
	// Had a BEGIN stayed behind, these two would share its transaction
	// and its now().
	_, err := db.SQL.ExecContext(ctx, "SELECT pg_sleep(0.01)")
	require.NoError(t, err)
	var fresh bool
	require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT now() = statement_timestamp()").Scan(&fresh))
	assert.True(t, fresh, "a statement after empty transactions runs in a transaction begun before it")
}

// The pool keeps every connection it may open: under concurrency no
// request opens a connection because an idle one was closed a moment before
// (database/sql keeps two idle by default), and the prepared statements
// stay with the connections.
func TestPoolKeepsItsConnections(t *testing.T) {
	t.Parallel()
	d := pgtest.New(t)
	db, err := database.Open(context.Background(), d.OwnerURL, database.Options{})
	require.NoError(t, err)
	defer db.Close()
	require.Equal(t, database.DefaultMaxOpenConns, db.SQL.Stats().MaxOpenConnections)
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		var wg sync.WaitGroup
		errs := make(chan error, 12)
		for g := 0; g < 12; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := db.SQL.ExecContext(ctx, "SELECT pg_sleep(0.002)")
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}
	st := db.SQL.Stats()
	assert.Zero(t, st.MaxIdleClosed, "connections closed for want of idle room: %+v", st)
	assert.LessOrEqual(t, st.OpenConnections, 12)
}

// The scope settings wait for the statement after them; a transaction that
// ends first takes them along: the connection's next statement, in or out
// of a transaction, runs without them.
func TestRidingSettingsEndWithTheirTransaction(t *testing.T) {
	t.Parallel()
	db, ctx := adminOnOnePool(t)
	setting := func() string {
		var v sql.NullString
		require.NoError(t, db.SQL.QueryRowContext(context.Background(), "SELECT current_setting('scopegate.org_id', true)").Scan(&v))
		return v.String
	}
	for _, end := range []func(*sql.Tx) error{(*sql.Tx).Commit, (*sql.Tx).Rollback} {
		tx, err := database.BeginTx(ctx, db.SQL, nil)
		require.NoError(t, err)
		require.NoError(t, end(tx))
		assert.Empty(t, setting(), "settings of a transaction that sent nothing")

		tx, err = database.BeginTx(ctx, db.SQL, nil)
		require.NoError(t, err)
		var org string
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT current_setting('scopegate.org_id')").Scan(&org))
		require.Equal(t, "1", org)
		require.NoError(t, end(tx))
		assert.Empty(t, setting(), "settings of a transaction that ran a statement")
	}
	// Through ent: a transaction, and a read unit whose COMMIT does not
	// hold its caller.
	tx, err := db.Client.Tx(ctx)
	require.NoError(t, err)
	_, err = tx.Job.Query().Count(ctx)
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	assert.Empty(t, setting())
	unit, end := database.WithReadUnit(ctx)
	_, err = db.Client.Job.Query().Count(unit)
	require.NoError(t, err)
	require.NoError(t, end())
	assert.Empty(t, setting(), "after a read unit")
}

// The settings and BEGIN travel in the message of the statement after
// them: a read unit's get is one message (EXECUTE with its riders) and the
// COMMIT, and the statement was prepared by the first get.
func TestRidersTravelWithTheStatement(t *testing.T) {
	// Not parallel: database.RiderExecutes counts the whole process's
	// statements, and a test running beside this one would add its own.
	db, ctx := adminOnOnePool(t)
	get := func() {
		unit, end := database.WithReadUnit(ctx)
		_, err := db.Client.Job.Query().Where().Count(unit)
		require.NoError(t, err)
		require.NoError(t, end())
	}
	get() // prepares the statement
	before := database.RiderExecutes()
	for i := 0; i < 5; i++ {
		get()
	}
	assert.EqualValues(t, 5, database.RiderExecutes()-before, "gets whose settings went in a message of their own")
}

// Statements under database.ByKey run a generic plan, made once per
// connection; every other statement of a scoped transaction, and eager
// loads under ByKey too, is planned for its own arguments (plan.go). No
// plan mode outlives its transaction on the pooled connection.
func TestPlanModes(t *testing.T) {
	t.Parallel()
	db, ctx := adminOnOnePool(t)
	mode := func(ctx context.Context, tx *sql.Tx, query string, arg any) string {
		var v string
		require.NoError(t, tx.QueryRowContext(ctx, query, arg).Scan(&v))
		return v
	}
	const one = "SELECT current_setting('plan_cache_mode') WHERE $1::int = 1"
	const many = "SELECT current_setting('plan_cache_mode') WHERE 1 = ANY($1::int[])"
	tx, err := database.BeginTx(ctx, db.SQL, &sql.TxOptions{ReadOnly: true})
	require.NoError(t, err)
	assert.Equal(t, "force_custom_plan", mode(ctx, tx, one, 1), "a scoped statement")
	assert.Equal(t, "force_generic_plan", mode(database.ByKey(ctx), tx, one, 1), "by key")
	assert.Equal(t, "force_custom_plan", mode(database.ByKey(ctx), tx, many, "{1}"), "an eager load's shape, by key")
	assert.Equal(t, "force_generic_plan", mode(database.ByKey(ctx), tx, one, 1), "by key again")
	assert.Equal(t, "force_custom_plan", mode(ctx, tx, one, 1), "a scoped statement after one by key")
	require.NoError(t, tx.Rollback())
	var v string
	require.NoError(t, db.SQL.QueryRowContext(ctx, "SELECT current_setting('plan_cache_mode')").Scan(&v))
	assert.Equal(t, "auto", v, "after the transaction, on the pooled connection")

	// Through ent and the repository: a get's own statement is planned
	// once, its eager loads on every call, a list's statements on every
	// call; PostgreSQL counts which plans each prepared statement ran.
	sys := pgtest.SystemContext(t)
	var admin *ent.User
	var j *ent.Job
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		org := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		admin = tx.User.Create().SetOrgID(org.ID).SetEmail("admin@a.test").SetName("Admin").SetRole("admin").SaveX(sys)
		c := tx.Company.Create().SetOrgID(org.ID).SetName("C").SaveX(sys)
		j = tx.Job.Create().SetOrgID(org.ID).SetCompanyID(c.ID).SetTitle("J").SetCreatedByID(admin.ID).AddManagerIDs(admin.ID).SaveX(sys)
		tx.Note.Create().SetOrgID(org.ID).SetJobID(j.ID).SetAuthorID(admin.ID).SetBody("n").SaveX(sys)
		return nil
	})
	actx := pgtest.UserContext(t, admin)
	jobs := repo.Jobs{Client: db.Client}
	const runs = 3
	for range runs {
		_, _, err := jobs.Get(actx, preload.SurfaceUser, j.ID, repo.GetOptions{Preload: "company,managers,notes.author"})
		require.NoError(t, err)
		_, err = jobs.List(actx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: "company"})
		require.NoError(t, err)
	}
	type plans struct{ generic, custom int64 }
	rows, err := db.SQL.QueryContext(ctx, `SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements`)
	require.NoError(t, err)
	got := map[string]plans{}
	for rows.Next() {
		var q string
		var p plans
		require.NoError(t, rows.Scan(&q, &p.generic, &p.custom))
		got[q] = p
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	var get, list, eager int
	for q, p := range got {
		switch {
		case strings.Contains(q, "current_setting"): // the statements above
		case strings.Contains(q, " = ANY("):
			eager++
			assert.Zero(t, p.generic, "an eager load, planned per call:\n%s", q)
			assert.Positive(t, p.custom, "an eager load, planned per call:\n%s", q)
		case !strings.HasPrefix(q, `SELECT "jobs"."id", "jobs"."created_at"`): // seeding
		case strings.Contains(q, " ORDER BY "):
			list++
			assert.Equal(t, plans{0, runs}, p, "the list, planned per call:\n%s", q)
		default:
			get++
			assert.Equal(t, plans{runs, 0}, p, "the get, planned once:\n%s", q)
		}
	}
	assert.Equal(t, []int{1, 1, 4}, []int{get, list, eager}, "one get, one list, four eager loads (company, managers, notes, authors) among %d statements", len(got))
}
