package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// rlsWorld is a generated world, its snapshot and every viewer of it.
type rlsWorld struct {
	db      *pgtest.DB
	snap    *world.Snapshot
	viewers []world.Viewer
}

func newRLSWorld(t *testing.T, seed int64) *rlsWorld {
	t.Helper()
	return newRLSWorldOn(t, pgtest.New(t), seed)
}

// newRLSWorldOn is newRLSWorld on db (one behind PgBouncer, say).
func newRLSWorldOn(t *testing.T, db *pgtest.DB, seed int64) *rlsWorld {
	t.Helper()
	if err := world.Generate(pgtest.SystemContext(t), db.Client, seed); err != nil {
		t.Fatalf("seed %d: generate: %v", seed, err)
	}
	snap, err := world.Load(context.Background(), db.Owner(t))
	require.NoError(t, err)
	w := &rlsWorld{db: db, snap: snap, viewers: []world.Viewer{world.SystemViewer(0)}}
	for _, org := range snap.IDs(world.Organization) {
		w.viewers = append(w.viewers, world.SystemViewer(org))
	}
	for _, id := range snap.IDs(world.User) {
		w.viewers = append(w.viewers, world.UserViewer(snap.Users[id]))
	}
	return w
}

// exec runs query through the application's pool in a transaction of its
// own under ctx's scope (its settings, which row-level security reads),
// commits it, and returns the rows it affected.
func (w *rlsWorld) exec(t *testing.T, ctx context.Context, query string) (int64, error) {
	t.Helper()
	tx, err := database.BeginTx(ctx, w.db.SQL, nil)
	require.NoError(t, err)
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, query)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.NoError(t, tx.Commit())
	return n, nil
}

func viewerContext(t testing.TB, v world.Viewer) context.Context {
	t.Helper()
	s, err := v.Scope("rls test")
	require.NoError(t, err)
	return scope.NewContext(context.Background(), s)
}

// rawIDs runs a raw SELECT in a transaction with the settings of ctx's
// scope, through the application's own pool.
func rawIDs(ctx context.Context, db *sql.DB, query string) ([]int, error) {
	tx, err := database.BeginTx(ctx, db, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []int{}
	for rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// TestRLSTablesAreForced: every table of the schema but goose's own has row-
// level security enabled and forced (so that even the table owner is
// subject to it unless it is a superuser or has BYPASSRLS), and the
// application role can bypass none of it.
func TestRLSTablesAreForced(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	rows, err := db.Owner(t).Query(`
		SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'goose_db_version'
		ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var name string
		var enabled, forced bool
		require.NoError(t, rows.Scan(&name, &enabled, &forced))
		assert.True(t, enabled, "%s: row-level security not enabled", name)
		assert.True(t, forced, "%s: row-level security not forced", name)
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, pgtest.Tables(), tables, "tables with tenant data")

	var super, bypass bool
	require.NoError(t, db.SQL.QueryRow(`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&super, &bypass))
	assert.False(t, super || bypass, "the application role must be subject to row-level security")
}

// TestRLSWithoutSettingsSeesNothing: the application role with no scope
// settings counts zero rows in every table, though every table has rows.
func TestRLSWithoutSettingsSeesNothing(t *testing.T) {
	t.Parallel()
	w := newRLSWorld(t, 1)
	for _, tbl := range pgtest.Tables() {
		var owner, app int
		q := "SELECT count(*) FROM " + pq.QuoteIdentifier(tbl)
		require.NoError(t, w.db.Owner(t).QueryRow(q).Scan(&owner))
		require.NoError(t, w.db.SQL.QueryRow(q).Scan(&app))
		assert.Positive(t, owner, "%s: the world has no rows to hide", tbl)
		assert.Zero(t, app, "%s: rows visible without settings", tbl)
	}
}

// TestRLSReadsMatchTheModel is the read half of the RLS-alone shadow run:
// for every viewer of several worlds (every user, each InOrg system scope,
// the all-tenant one), a raw `SELECT id FROM t`, with no ent rule in the
// way, returns exactly the rows docs/design.md section 3 lets the viewer see.
func TestRLSReadsMatchTheModel(t *testing.T) {
	t.Parallel()
	cases, mismatches := 0, 0
	for seed := int64(1); seed <= 4; seed++ {
		w := newRLSWorld(t, seed)
		for _, v := range w.viewers {
			ctx := viewerContext(t, v)
			for _, typ := range world.Types {
				got, err := rawIDs(ctx, w.db.SQL, "SELECT id FROM "+ent.TableOf[typ]+" ORDER BY id")
				require.NoError(t, err)
				want := w.snap.Visible(v, typ)
				cases++
				if !slices.Equal(got, want) {
					mismatches++
					t.Errorf("seed %d, %s, %s: RLS shows %v, the model %v", seed, v, typ, got, want)
				}
			}
		}
	}
	t.Logf("RLS reads: %d cases, %d mismatches", cases, mismatches)
}

// TestRLSRawWritesCannotCrossTenants: with org A's settings, raw SQL through
// the application's pool cannot insert into org B, and updates and deletes
// aimed at org B's rows change nothing.
func TestRLSRawWritesCannotCrossTenants(t *testing.T) {
	t.Parallel()
	w := newRLSWorld(t, 2)
	orgs := w.snap.IDs(world.Organization)
	a, b := orgs[0], orgs[1]
	var admin *world.UserRow
	for _, id := range w.snap.IDs(world.User) {
		if u := w.snap.Users[id]; u.OrgID == a && u.Role == scope.RoleAdmin && !u.Banned {
			admin = u
			break
		}
	}
	require.NotNil(t, admin, "org %d has no unbanned admin", a)
	before := w.db.Sums(t)

	for _, v := range []world.Viewer{world.UserViewer(admin), world.SystemViewer(a)} {
		ctx := viewerContext(t, v)
		exec := func(query string) (int64, error) { return w.exec(t, ctx, query) }
		bCompany := firstOf(w.snap, world.Company, b)
		bJob := firstOf(w.snap, world.Job, b)
		bUser := firstOf(w.snap, world.User, b)
		inserts := map[string]string{
			"companies":     fmt.Sprintf(`INSERT INTO companies (created_at, updated_at, name, archived, org_id) VALUES (now(), now(), 'x', false, %d)`, b),
			"users":         fmt.Sprintf(`INSERT INTO users (created_at, updated_at, email, name, role, banned, active, org_id) VALUES (now(), now(), 'rls-x@example.test', 'x', 'admin', false, true, %d)`, b),
			"jobs":          fmt.Sprintf(`INSERT INTO jobs (created_at, updated_at, title, description, status, company_id, org_id, created_by_id) VALUES (now(), now(), 'x', '', 'published', %d, %d, %d)`, bCompany, b, bUser),
			"notes":         fmt.Sprintf(`INSERT INTO notes (created_at, updated_at, body, internal, job_id, org_id, author_id) VALUES (now(), now(), 'x', false, %d, %d, %d)`, bJob, b, bUser),
			"job_managers":  fmt.Sprintf(`INSERT INTO job_managers (job_id, user_id, org_id) VALUES (%d, %d, %d)`, bJob, bUser, b),
			"sessions":      fmt.Sprintf(`INSERT INTO sessions (token_hash, expires_at, created_at, user_id, org_id) VALUES ('rls-x', now(), now(), %d, %d)`, bUser, b),
			"organizations": `INSERT INTO organizations (created_at, updated_at, name, slug) VALUES (now(), now(), 'x', 'rls-x')`,
		}
		for tbl, q := range inserts {
			_, err := exec(q)
			var pqErr *pq.Error
			if assert.ErrorAs(t, err, &pqErr, "%s: insert into org %d as %s", tbl, b, v) {
				// 42501: new row violates row-level security policy.
				assert.Equal(t, pq.ErrorCode("42501"), pqErr.Code, "%s: %v", tbl, err)
			}
		}
		for _, tbl := range tablesWithColumn(t, w.db.Raw, "org_id", false) {
			n, err := exec(fmt.Sprintf("UPDATE %s SET org_id = org_id WHERE org_id = %d", tbl, b))
			require.NoError(t, err, tbl)
			assert.Zero(t, n, "%s: update of org %d's rows as %s", tbl, b, v)
			n, err = exec(fmt.Sprintf("DELETE FROM %s WHERE org_id = %d", tbl, b))
			require.NoError(t, err, tbl)
			assert.Zero(t, n, "%s: delete of org %d's rows as %s", tbl, b, v)
		}
		n, err := exec(fmt.Sprintf("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE org_id = %d)", b))
		require.NoError(t, err)
		assert.Zero(t, n, "sessions of org %d deleted as %s", b, v)
		n, err = exec(fmt.Sprintf("UPDATE organizations SET name = name WHERE id = %d", b))
		require.NoError(t, err)
		assert.Zero(t, n, "organization %d updated as %s", b, v)
	}
	w.db.AssertUnchanged(t, before, "rows changed")
}

func firstOf(s *world.Snapshot, typ string, org int) int {
	if ids := s.OfOrg(typ, org); len(ids) > 0 {
		return ids[0]
	}
	panic(fmt.Sprintf("no %s in org %d", typ, org))
}

// TestRLSPoolSafety: 64 goroutines run 10,000 units of work that alternate
// tenants, roles and the system scope, through ent and through raw SQL on
// the same pool; none sees a row of another tenant, and afterwards every
// connection of the pool has empty settings. TestPgBouncerRLSPoolSafety
// runs the same through PgBouncer.
func TestRLSPoolSafety(t *testing.T) {
	t.Parallel()
	w := newRLSWorld(t, 3)
	// Keep every connection the pool opens (database/sql keeps 2 idle by
	// default), so that all of them are checked at the end.
	w.db.SQL.SetMaxIdleConns(8)
	rlsPoolSafety(t, w, 0)
}

// poolFigures are what rlsPoolSafety counted: goroutines, the pool's
// client connections, and the application role's server connections.
type poolFigures struct{ goroutines, clients, servers int }

// rlsPoolSafety is TestRLSPoolSafety's work and checks on w's pool. Then
// it holds hold of the pool's connections at once (0: every connection
// the pool has open), each in a transaction, so each on a server
// connection of its own even behind a transaction pooler, reads their
// settings, and requires that every server connection of the application
// role to w's database was among them (pg_stat_activity).
func rlsPoolSafety(t *testing.T, w *rlsWorld, hold int) poolFigures {
	const goroutines, units = 64, 10_000
	var next, foreign, done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 7))
			for next.Add(1) <= units {
				v := w.viewers[r.IntN(len(w.viewers))]
				s, err := v.Scope("rls pool safety")
				if err != nil {
					errs <- err
					return
				}
				ctx := scope.NewContext(context.Background(), s)
				var orgs []int
				switch r.IntN(3) {
				case 0: // ent, statement by statement
					jobs, err := w.db.Client.Job.Query().All(ctx)
					if err != nil {
						errs <- err
						return
					}
					for _, j := range jobs {
						orgs = append(orgs, j.OrgID)
					}
				case 1: // ent, in a request's shared read
					rctx, end := database.WithReadUnit(ctx)
					notes, err := w.db.Client.Note.Query().All(rctx)
					if err == nil {
						var users []int
						users, err = w.db.Client.User.Query().Select("org_id").Ints(rctx)
						orgs = append(orgs, users...)
					}
					if err = errors.Join(err, end()); err != nil {
						errs <- err
						return
					}
					for _, n := range notes {
						orgs = append(orgs, n.OrgID)
					}
				case 2: // raw SQL, no ent rule in the way
					ids, err := rawIDs(ctx, w.db.SQL, "SELECT org_id FROM jobs UNION ALL SELECT org_id FROM notes UNION ALL SELECT org_id FROM users")
					if err != nil {
						errs <- err
						return
					}
					orgs = ids
				}
				if v.OrgID != 0 {
					for _, o := range orgs {
						if o != v.OrgID {
							foreign.Add(1)
						}
					}
				}
				done.Add(1)
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	require.EqualValues(t, units, done.Load())
	assert.Zero(t, foreign.Load(), "rows of another tenant seen")

	// Hold the connections at once, each in a transaction, and read
	// their settings and which server process answered.
	ctx := context.Background()
	clients := w.db.SQL.Stats().OpenConnections
	if hold == 0 {
		hold = clients
	}
	require.Positive(t, hold)
	checked := map[int]bool{}
	var txs []*sql.Tx
	defer func() {
		for _, tx := range txs {
			tx.Rollback()
		}
	}()
	for i := 0; i < hold; i++ {
		tx, err := w.db.SQL.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
		require.NoError(t, err)
		txs = append(txs, tx)
		var pid int
		var org, user, role, company, system, inserting sql.NullString
		require.NoError(t, tx.QueryRowContext(ctx, `SELECT pg_backend_pid(), current_setting('scopegate.org_id', true),
			current_setting('scopegate.user_id', true), current_setting('scopegate.role', true),
			current_setting('scopegate.company_id', true), current_setting('scopegate.system', true),
			current_setting('scopegate.inserting', true)`).Scan(&pid, &org, &user, &role, &company, &system, &inserting))
		for _, s := range []sql.NullString{org, user, role, company, system, inserting} {
			assert.Empty(t, s.String, "server connection %d keeps a setting", pid)
		}
		assert.False(t, checked[pid], "two open transactions on server connection %d", pid)
		checked[pid] = true
	}
	rows, err := w.db.Raw.QueryContext(ctx, `SELECT pid FROM pg_stat_activity
		WHERE usename = $1 AND datname = current_database()`, pgtest.AppRole)
	require.NoError(t, err)
	var servers []int
	for rows.Next() {
		var pid int
		require.NoError(t, rows.Scan(&pid))
		servers = append(servers, pid)
	}
	require.NoError(t, rows.Err())
	for _, pid := range servers {
		assert.True(t, checked[pid], "server connection %d of the application role was not checked", pid)
	}
	t.Logf("%d units on %d goroutines over %d client connections and %d server connections; %d server connections checked",
		done.Load(), goroutines, clients, len(servers), len(checked))
	return poolFigures{goroutines: goroutines, clients: clients, servers: len(servers)}
}

// TestReadUnitSwitchesScopeInPlace: a request's shared read-only
// transaction carries reads under several scopes (the authenticator's, then
// the user's): before each read under another scope the seam sends that
// scope's settings, all of them, and each read sees exactly what its scope
// may, even after the all-tenant system scope. One transaction throughout:
// one COMMIT, and BEGIN travels with the first settings.
func TestReadUnitSwitchesScopeInPlace(t *testing.T) {
	t.Parallel()
	w := newRLSWorld(t, 5)
	var a, b world.Viewer
	for _, v := range w.viewers {
		if v.User == nil || len(w.snap.Visible(v, world.Job)) == 0 {
			continue
		}
		switch {
		case a.User == nil:
			a = v
		case b.User == nil && v.OrgID != a.OrgID:
			b = v
		}
	}
	require.NotNil(t, a.User, "no user sees a job")
	require.NotNil(t, b.User, "no second organization's user sees a job")
	sequence := []world.Viewer{a, b, world.SystemViewer(0), a, b}

	unit, end := database.WithReadUnit(context.Background())
	w.db.Counter.Reset()
	for i, v := range sequence {
		s, err := v.Scope("read unit switch")
		require.NoError(t, err)
		got, err := w.db.Client.Job.Query().IDs(scope.NewContext(unit, s))
		require.NoError(t, err, "read %d as %s", i, v)
		sort.Ints(got)
		assert.Equal(t, w.snap.Visible(v, world.Job), got, "read %d as %s", i, v)
	}
	require.NoError(t, end())

	stmts := w.db.Counter.Statements()
	assert.Equal(t, len(sequence), w.db.Counter.Queries(), "statements: %q", stmts)
	// The reads and COMMIT: the settings before each read travel with it
	// (the first with BEGIN).
	assert.Equal(t, len(sequence)+1, w.db.Counter.Count(), "statements: %q", stmts)
	var commits, settings int
	for _, q := range stmts {
		if q == "COMMIT" {
			commits++
		}
		if strings.HasPrefix(q, "SELECT set_config(") {
			settings++
		}
		assert.NotEqual(t, "ROLLBACK", q)
	}
	assert.Equal(t, 1, commits, "statements: %q", stmts)
	assert.Equal(t, len(sequence), settings, "statements: %q", stmts)
}

// TestRLSRawLinksFollowJobVisibility: a manager link is a row of the job it
// links. With a user's settings, raw SQL through the application's pool can
// neither link a job the user does not see (which would make a hidden draft
// job visible to whoever links themselves to it) nor unlink one, though the
// links of the tenant are readable to every user of it (docs/rls.md).
func TestRLSRawLinksFollowJobVisibility(t *testing.T) {
	t.Parallel()
	w := newRLSWorld(t, 2)
	before := w.db.Sums(t)
	checked := 0
	for _, v := range w.viewers {
		if v.System || v.User.Banned {
			continue
		}
		hidden := 0
		for _, id := range w.snap.IDs(world.Job) {
			if w.snap.OrgOf(world.Job, id) == v.OrgID && !w.snap.Sees(v, world.Job, id) && len(w.snap.Jobs[id].Managers) > 0 {
				hidden = id
				break
			}
		}
		if hidden == 0 {
			continue
		}
		checked++
		ctx := viewerContext(t, v)
		exec := func(query string) (int64, error) { return w.exec(t, ctx, query) }
		_, err := exec(fmt.Sprintf(`INSERT INTO job_managers (job_id, user_id) VALUES (%d, %d)`, hidden, v.User.ID))
		var pqErr *pq.Error
		if assert.ErrorAs(t, err, &pqErr, "%s links hidden job %d to themselves", v, hidden) {
			assert.Equal(t, pq.ErrorCode("42501"), pqErr.Code, "%v", err)
		}
		n, err := exec(fmt.Sprintf(`DELETE FROM job_managers WHERE job_id = %d`, hidden))
		require.NoError(t, err)
		assert.Zero(t, n, "%s unlinks the managers of hidden job %d", v, hidden)
		n, err = exec(fmt.Sprintf(`UPDATE job_managers SET user_id = user_id WHERE job_id = %d`, hidden))
		require.NoError(t, err)
		assert.Zero(t, n, "%s updates the manager links of hidden job %d", v, hidden)
	}
	require.NotZero(t, checked, "no user has a hidden job with managers")
	w.db.AssertUnchanged(t, before, "rows changed")
}

// A job its user created but may not see (a manager's draft that they do
// not manage) stays hidden from the links that user writes. The jobs
// policy shows a user the jobs they created while their INSERT runs, so
// that a new job's INSERT … RETURNING passes; that once held for every
// INSERT, and so a manager's raw link, or ent's AddManagedJobIDs, could
// link anyone to such a job (found by the mutation oracle's RLS-only
// shadow run, seed 300).
func TestRLSRawLinksIgnoreJobsTheUserCreated(t *testing.T) {
	t.Parallel()
	w := newRLSWorld(t, 2)
	drv := database.NewDriver(entsql.OpenDB(dialect.Postgres, w.db.SQL), database.Options{})
	checked := 0
	for _, v := range w.viewers {
		if v.System || v.User.Banned || v.User.Role != "manager" {
			continue
		}
		companies := w.snap.IDs(world.Company)
		company := 0
		for _, id := range companies {
			if w.snap.OrgOf(world.Company, id) == v.OrgID {
				company = id
				break
			}
		}
		if company == 0 {
			continue
		}
		var draft int
		require.NoError(t, w.db.Raw.QueryRowContext(context.Background(), `INSERT INTO jobs
			(created_at, updated_at, title, description, status, org_id, company_id, created_by_id)
			VALUES (now(), now(), 'their hidden draft', '', 'draft', $1, $2, $3) RETURNING id`,
			v.OrgID, company, v.User.ID).Scan(&draft))
		before := w.db.Sums(t)
		ctx := viewerContext(t, v)
		link := fmt.Sprintf(`INSERT INTO "job_managers" ("job_id", "user_id") VALUES (%d, %d)`, draft, v.User.ID)
		_, rawErr := w.exec(t, ctx, link)
		// The statement as ent sends it: through the seam's driver,
		// which chooses each statement's settings.
		entErr := func() error {
			tx, err := drv.Tx(ctx)
			require.NoError(t, err)
			defer tx.Rollback()
			if err := tx.Exec(ctx, link, []any{}, nil); err != nil {
				return err
			}
			return tx.Commit()
		}()
		for path, err := range map[string]error{"raw": rawErr, "ent's driver": entErr} {
			var pqErr *pq.Error
			if assert.ErrorAs(t, err, &pqErr, "%s: %s links their own hidden draft %d to themselves", path, v, draft) {
				assert.Equal(t, pq.ErrorCode("42501"), pqErr.Code, "%s: %v", path, err)
			}
		}
		w.db.AssertUnchanged(t, before, "rows changed")
		checked++
	}
	require.NotZero(t, checked, "no manager to check")
}
