package integration

// Tenant-safe foreign keys (docs/design.md section 8): every foreign key between
// tenant tables includes org_id, so that no scope at all (the all-tenant
// system scope included) and no raw SQL statement (the schema owner's
// included) can link rows of two tenants. The keys are read from the
// database, so that a new one is tried as soon as it exists.

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	entmigrate "github.com/scopegate/scopegate/ent/migrate"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/migration"
	"github.com/scopegate/scopegate/migrations"
)

// tenantKey is a foreign key (org_id, column) REFERENCES ref (org_id, id).
type tenantKey struct {
	table, name, column, ref string
	onDelete                 string   // pg_constraint.confdeltype
	setNull                  []string // the columns ON DELETE SET NULL names (PostgreSQL 15)
}

func (k tenantKey) String() string {
	return fmt.Sprintf("%s %s(org_id, %s) -> %s(org_id, id)", k.name, k.table, k.column, k.ref)
}

// foreignKey is any foreign key of the schema, as PostgreSQL holds it.
type foreignKey struct {
	table, name, ref string
	columns, refCols []string
	onDelete         string
	setNull          []string
}

func schemaForeignKeys(t *testing.T, db *stdsql.DB) []foreignKey {
	t.Helper()
	rows, err := db.Query(`
SELECT r.relname, c.conname, f.relname, c.confdeltype,
  ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),
  ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),
  ARRAY(SELECT a.attname::text FROM unnest(coalesce(c.confdelsetcols, '{}')) k(n) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY 1)
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_class f ON f.oid = c.confrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
WHERE c.contype = 'f' AND n.nspname = current_schema()
ORDER BY 1, 2`)
	require.NoError(t, err)
	defer rows.Close()
	var out []foreignKey
	for rows.Next() {
		var fk foreignKey
		require.NoError(t, rows.Scan(&fk.table, &fk.name, &fk.ref, &fk.onDelete,
			pq.Array(&fk.columns), pq.Array(&fk.refCols), pq.Array(&fk.setNull)))
		out = append(out, fk)
	}
	require.NoError(t, rows.Err())
	require.NotEmpty(t, out, "no foreign keys")
	return out
}

// tablesWithColumn lists the tables of the schema that have column.
func tablesWithColumn(t *testing.T, db *stdsql.DB, column string, notNull bool) []string {
	t.Helper()
	q := `SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = $1`
	if notNull {
		q += ` AND is_nullable = 'NO'`
	}
	return pgtest.Column[string](t, db, q+` ORDER BY 1`, column)
}

// schemaTenantKeys returns the tenant-safe keys of the database, and fails
// the test for a foreign key between two tenant tables that is not one.
func schemaTenantKeys(t *testing.T, db *stdsql.DB) []tenantKey {
	t.Helper()
	tenant := tablesWithColumn(t, db, "org_id", true)
	var keys []tenantKey
	for _, fk := range schemaForeignKeys(t, db) {
		if !slices.Contains(tenant, fk.table) || !slices.Contains(tenant, fk.ref) {
			continue
		}
		if !slices.Equal(fk.columns[:1], []string{"org_id"}) || len(fk.columns) != 2 ||
			!slices.Equal(fk.refCols, []string{"org_id", "id"}) {
			t.Errorf("foreign key %s %s%v -> %s%v links two tenant tables without org_id", fk.name, fk.table, fk.columns, fk.ref, fk.refCols)
			continue
		}
		keys = append(keys, tenantKey{table: fk.table, name: fk.name, column: fk.columns[1], ref: fk.ref,
			onDelete: fk.onDelete, setNull: fk.setNull})
	}
	return keys
}

// TestTenantSafeKeysCoverTheSchema: the keys the database holds are the ones
// migration.Tables declares, every foreign key between tenant tables is one,
// every tenant table has the unique (org_id, id) they reference, a SET NULL
// key nulls its own column only, and a join table that ent fills without
// org_id has the trigger that fills it.
func TestTenantSafeKeysCoverTheSchema(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	keys := schemaTenantKeys(t, db.SQL)

	var fromDB, fromModel []string
	for _, k := range keys {
		fromDB = append(fromDB, k.table+"."+k.name)
	}
	entTables := map[string]bool{}
	for _, tb := range entmigrate.Tables {
		for _, c := range tb.Columns {
			if c.Name == "org_id" {
				entTables[tb.Name] = true
			}
		}
	}
	var filled []string // tables given org_id by migration.Tables, not by ent
	for _, tb := range migration.Tables() {
		hasOrg := false
		for _, c := range tb.Columns {
			hasOrg = hasOrg || c.Name == "org_id" && !c.Nullable
		}
		if hasOrg && !entTables[tb.Name] {
			filled = append(filled, tb.Name)
		}
		for _, fk := range tb.ForeignKeys {
			if len(fk.Columns) == 2 && fk.Columns[0].Name == "org_id" {
				fromModel = append(fromModel, tb.Name+"."+fk.Symbol)
			}
		}
	}
	sort.Strings(fromModel)
	assert.Equal(t, fromModel, fromDB, "tenant-safe keys: migration.Tables against the migrated database")
	assert.Len(t, keys, 8, "users.company_id, jobs.company_id, jobs.created_by_id, notes.job_id, notes.author_id, job_managers.job_id, job_managers.user_id, sessions.user_id")
	assert.Equal(t, []string{"job_managers"}, filled)

	unique := map[string]bool{}
	rows, err := db.SQL.Query(`
SELECT t.relname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = current_schema() AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(n, o) JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n ORDER BY k.o) = ARRAY['org_id', 'id']`)
	require.NoError(t, err)
	for rows.Next() {
		var table string
		require.NoError(t, rows.Scan(&table))
		unique[table] = true
	}
	require.NoError(t, rows.Err())
	rows.Close()
	withID := tablesWithColumn(t, db.SQL, "id", true)
	for _, table := range tablesWithColumn(t, db.SQL, "org_id", true) {
		if slices.Contains(withID, table) {
			assert.True(t, unique[table], "tenant table %s has no unique (org_id, id)", table)
		}
	}

	for _, k := range keys {
		switch k.onDelete {
		case "n", "d": // SET NULL, SET DEFAULT
			assert.Equal(t, []string{k.column}, k.setNull, "%s: ON DELETE SET NULL must name %s only, not org_id", k, k.column)
		}
	}

	for _, table := range filled {
		var n int
		require.NoError(t, db.SQL.QueryRow(`
SELECT count(*) FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal
AND tgtype & 2 = 2 AND tgtype & 4 = 4`, table).Scan(&n)) // BEFORE, INSERT
		assert.Equal(t, 1, n, "%s: ent inserts its rows without org_id; a BEFORE INSERT trigger must fill it", table)
	}
}

// tenantKeysWorld: two tenants, each with a company, an admin (creator,
// author and manager of the job), a client of the company, a job and a note
// on it.
type tenantKeysWorld struct {
	db   *pgtest.DB
	sys  context.Context
	A, B tenantKeysRows
}

type tenantKeysRows struct {
	org, company, admin, client, job, note, session int
}

func newTenantKeysWorld(t *testing.T) *tenantKeysWorld {
	t.Helper()
	w := &tenantKeysWorld{db: pgtest.New(t), sys: pgtest.SystemContext(t)}
	seed := func(slug string) tenantKeysRows {
		return pgtest.Seed(t, w.db.Client, func(ctx context.Context, tx *ent.Tx) (tenantKeysRows, error) {
			var r tenantKeysRows
			o, err := tx.Organization.Create().SetName(slug).SetSlug(slug).Save(ctx)
			if err != nil {
				return r, err
			}
			r.org = o.ID
			c := tx.Company.Create().SetOrgID(r.org).SetName("c " + slug).SaveX(ctx)
			r.company = c.ID
			r.admin = tx.User.Create().SetOrgID(r.org).SetEmail("admin@" + slug).SetName("admin").SetRole(user.RoleAdmin).SaveX(ctx).ID
			r.client = tx.User.Create().SetOrgID(r.org).SetEmail("client@" + slug).SetName("client").SetRole(user.RoleClient).
				SetCompanyID(r.company).SaveX(ctx).ID
			r.job = tx.Job.Create().SetOrgID(r.org).SetCompanyID(r.company).SetTitle("j").SetCreatedByID(r.admin).
				AddManagerIDs(r.admin).SaveX(ctx).ID
			r.note = tx.Note.Create().SetOrgID(r.org).SetJobID(r.job).SetAuthorID(r.admin).SetBody("n").SaveX(ctx).ID
			return r, nil
		})
	}
	w.A, w.B = seed("a"), seed("b")
	// A session of each tenant's admin, written as the owner: only a
	// login creates sessions through ent.
	for _, r := range []*tenantKeysRows{&w.A, &w.B} {
		if err := w.db.Raw.QueryRow(`INSERT INTO sessions (token_hash, expires_at, created_at, org_id, user_id)
			VALUES ($1, now() + interval '1 hour', now(), $2, $3) RETURNING id`,
			fmt.Sprintf("keys-%d", r.org), r.org, r.admin).Scan(&r.session); err != nil {
			t.Fatal(err)
		}
	}
	w.db.Counter.Reset()
	return w
}

// rowOf returns the row of r in table that the keys are tried on.
func (r tenantKeysRows) rowOf(table string) int {
	switch table {
	case "companies":
		return r.company
	case "users":
		return r.client
	case "jobs":
		return r.job
	case "notes":
		return r.note
	case "sessions":
		return r.session
	}
	return 0
}

// requireForeignKeyViolation fails unless err is PostgreSQL's
// foreign_key_violation of constraint (any, if constraint is "").
func requireForeignKeyViolation(t *testing.T, err error, constraint, what string) {
	t.Helper()
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		t.Errorf("%s: %v, want a foreign key violation", what, err)
		return
	}
	if pqErr.Code != "23503" || constraint != "" && pqErr.Constraint != constraint {
		t.Errorf("%s: %s (code %s, constraint %q), want foreign_key_violation 23503 of %q",
			what, pqErr.Message, pqErr.Code, pqErr.Constraint, constraint)
	}
}

// TestTenantSafeKeys: every tenant-safe key refuses a link from a row of A
// to a row of B, through ent under the all-tenant system scope (creates,
// updates, edges added from either side) and through raw SQL as the schema
// owner (updates, inserts, and moving a linked row to B), each with a
// foreign key violation and nothing changed.
func TestTenantSafeKeys(t *testing.T) {
	t.Parallel()
	w := newTenantKeysWorld(t)
	a, b, sys := w.A, w.B, w.sys
	owner := w.db.Owner(t)
	keys := schemaTenantKeys(t, w.db.SQL)
	require.NotEmpty(t, keys)

	// Through ent, under the all-tenant system scope, by key. A key ent can
	// not reach says why.
	type entCase struct {
		name string
		run  func(tx *ent.Tx) error
	}
	viaEnt := map[string][]entCase{
		"users_companies_clients": {
			{"create a client of B's company", func(tx *ent.Tx) error {
				return tx.User.Create().SetOrgID(a.org).SetEmail("x@a").SetName("x").SetRole(user.RoleClient).SetCompanyID(b.company).Exec(sys)
			}},
			{"update a client to B's company", func(tx *ent.Tx) error {
				return tx.User.UpdateOneID(a.client).SetCompanyID(b.company).Exec(sys)
			}},
			{"add A's admin, of no company, to B's company's clients", func(tx *ent.Tx) error {
				return tx.Company.UpdateOneID(b.company).AddClientIDs(a.admin).Exec(sys)
			}},
			{"bulk create, one client of B's company", func(tx *ent.Tx) error {
				return tx.User.CreateBulk(
					tx.User.Create().SetOrgID(a.org).SetEmail("y@a").SetName("y").SetRole(user.RoleClient).SetCompanyID(a.company),
					tx.User.Create().SetOrgID(a.org).SetEmail("x@a").SetName("x").SetRole(user.RoleClient).SetCompanyID(b.company),
				).Exec(sys)
			}},
		},
		"jobs_companies_jobs": {
			{"create a job at B's company", func(tx *ent.Tx) error {
				return tx.Job.Create().SetOrgID(a.org).SetCompanyID(b.company).SetTitle("x").SetCreatedByID(a.admin).Exec(sys)
			}},
			{"move a job to B's company", func(tx *ent.Tx) error {
				return tx.Job.UpdateOneID(a.job).SetCompanyID(b.company).Exec(sys)
			}},
		},
		"jobs_users_created_jobs": {
			{"create a job created by B's admin", func(tx *ent.Tx) error {
				return tx.Job.Create().SetOrgID(a.org).SetCompanyID(a.company).SetTitle("x").SetCreatedByID(b.admin).Exec(sys)
			}},
		},
		"notes_jobs_notes": {
			{"create a note on B's job", func(tx *ent.Tx) error {
				return tx.Note.Create().SetOrgID(a.org).SetJobID(b.job).SetAuthorID(a.admin).SetBody("x").Exec(sys)
			}},
			{"move a note to B's job", func(tx *ent.Tx) error {
				return tx.Note.UpdateOneID(a.note).SetJobID(b.job).Exec(sys)
			}},
		},
		"notes_users_notes": {
			{"create a note by B's admin", func(tx *ent.Tx) error {
				return tx.Note.Create().SetOrgID(a.org).SetJobID(a.job).SetAuthorID(b.admin).SetBody("x").Exec(sys)
			}},
		},
		"job_managers_user_id": {
			{"create a job managed by B's admin", func(tx *ent.Tx) error {
				return tx.Job.Create().SetOrgID(a.org).SetCompanyID(a.company).SetTitle("x").SetCreatedByID(a.admin).
					AddManagerIDs(a.client, b.admin).Exec(sys)
			}},
			{"AddManagerIDs of B's admin", func(tx *ent.Tx) error {
				return tx.Job.UpdateOneID(a.job).AddManagerIDs(b.admin).Exec(sys)
			}},
			{"bulk AddManagerIDs of B's client", func(tx *ent.Tx) error {
				return tx.Job.Update().Where(job.ID(a.job)).AddManagerIDs(b.client).Exec(sys)
			}},
			{"AddManagedJobIDs of A's job to B's admin", func(tx *ent.Tx) error {
				return tx.User.UpdateOneID(b.admin).AddManagedJobIDs(a.job).Exec(sys)
			}},
			{"create a user of B managing A's job", func(tx *ent.Tx) error {
				return tx.User.Create().SetOrgID(b.org).SetEmail("x@b").SetName("x").SetRole(user.RoleManager).AddManagedJobIDs(a.job).Exec(sys)
			}},
		},
	}
	notThroughEnt := map[string]string{
		// ent inserts a link as (job_id, user_id); the trigger takes org_id
		// from the job, so the job's side always matches.
		"job_managers_job_id": "org_id comes from the job",
		// Sessions are created by a login only (the system scope is
		// refused), and user_id and org_id are immutable; a login that
		// names another organization meets this key: the mutation test
		// "email lookup creates a session for that user only" sends it.
		"sessions_users_sessions": "only a login creates sessions, under the authenticator",
	}
	for _, k := range keys {
		_, ok := viaEnt[k.name]
		_, skip := notThroughEnt[k.name]
		assert.True(t, ok != skip, "%s: want ent cases, or a reason ent cannot reach it (not both)", k)
	}
	for name := range viaEnt {
		assert.True(t, slices.ContainsFunc(keys, func(k tenantKey) bool { return k.name == name }), "ent cases for %s, which is not a key", name)
	}

	t.Run("ent under the all-tenant system scope", func(t *testing.T) {
		for _, k := range keys {
			for _, c := range viaEnt[k.name] {
				t.Run(k.name+"/"+c.name, func(t *testing.T) {
					before := w.db.Sums(t)
					err := database.WithTx(sys, w.db.Client, c.run)
					assert.True(t, ent.IsConstraintError(err), "%v: want an ent constraint error", err)
					requireForeignKeyViolation(t, err, k.name, c.name)
					w.db.AssertUnchanged(t, before, c.name)
				})
			}
		}
	})

	t.Run("raw SQL as the schema owner", func(t *testing.T) {
		refused := func(t *testing.T, constraint, what, query string, args ...any) {
			t.Helper()
			before := w.db.Sums(t)
			_, err := owner.Exec(query, args...)
			requireForeignKeyViolation(t, err, constraint, what)
			w.db.AssertUnchanged(t, before, what)
		}
		for _, k := range keys {
			t.Run(k.name, func(t *testing.T) {
				target := b.rowOf(k.ref)
				require.NotZero(t, target, "no row of B in %s", k.ref)
				if row := a.rowOf(k.table); row != 0 {
					refused(t, k.name, "update", fmt.Sprintf(`UPDATE %s SET %s = $1 WHERE id = $2`,
						pq.QuoteIdentifier(k.table), pq.QuoteIdentifier(k.column)), target, row)
					refused(t, k.name, "insert", copyRowSQL(t, owner, k.table, k.column), target, row)
					return
				}
				// The join table: its rows have no id.
				require.Equal(t, "job_managers", k.table, "a tenant table without a seeded row")
				other := map[string]string{"job_id": "user_id", "user_id": "job_id"}[k.column]
				ownRow := map[string]int{"job_id": a.job, "user_id": a.admin}
				refused(t, k.name, "update", fmt.Sprintf(`UPDATE job_managers SET %s = $1 WHERE job_id = $2 AND user_id = $3`,
					pq.QuoteIdentifier(k.column)), target, a.job, a.admin)
				refused(t, k.name, "insert with A's org_id", fmt.Sprintf(`INSERT INTO job_managers (org_id, %s, %s) VALUES ($1, $2, $3)`,
					pq.QuoteIdentifier(k.column), pq.QuoteIdentifier(other)), a.org, target, ownRow[other])
			})
		}
		t.Run("job_managers without org_id: the trigger takes the job's", func(t *testing.T) {
			refused(t, "job_managers_user_id", "A's job, B's user", `INSERT INTO job_managers (job_id, user_id) VALUES ($1, $2)`, a.job, b.client)
			refused(t, "job_managers_job_id", "a missing job", `INSERT INTO job_managers (job_id, user_id) VALUES ($1, $2)`, pgtest.MissingID, a.client)
			refused(t, "job_managers_job_id", "B's org_id for A's job", `INSERT INTO job_managers (org_id, job_id, user_id) VALUES ($1, $2, $3)`,
				b.org, a.job, b.client)
		})
		t.Run("a linked row does not move to another tenant", func(t *testing.T) {
			for _, table := range []string{"companies", "users", "jobs", "notes"} {
				refused(t, "", "move "+table, fmt.Sprintf(`UPDATE %s SET org_id = $1 WHERE id = $2`, pq.QuoteIdentifier(table)),
					b.org, a.rowOf(table))
			}
		})
	})
}

// copyRowSQL returns an INSERT that copies row $2 of table with column set
// to $1: every other column as it is (the text columns of a unique index
// suffixed, so that only the foreign key can refuse it), the id from its
// sequence.
func copyRowSQL(t *testing.T, db *stdsql.DB, table, column string) string {
	t.Helper()
	rows, err := db.Query(`
SELECT c.column_name, c.data_type IN ('text', 'character varying'),
  EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
          WHERE i.indrelid = $1::text::regclass AND i.indisunique AND a.attname = c.column_name)
FROM information_schema.columns c
WHERE c.table_schema = current_schema() AND c.table_name = $1::text AND c.column_name <> 'id'
ORDER BY c.ordinal_position`, table)
	require.NoError(t, err)
	defer rows.Close()
	var cols, vals []string
	for rows.Next() {
		var name string
		var text, unique bool
		require.NoError(t, rows.Scan(&name, &text, &unique))
		q := pq.QuoteIdentifier(name)
		cols = append(cols, q)
		switch {
		case name == column:
			vals = append(vals, "$1")
		case text && unique:
			vals = append(vals, q+" || '-copy'")
		default:
			vals = append(vals, q)
		}
	}
	require.NoError(t, rows.Err())
	return fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s WHERE id = $2`, pq.QuoteIdentifier(table),
		strings.Join(cols, ", "), strings.Join(vals, ", "), pq.QuoteIdentifier(table))
}

// TestTenantSafeKeysKeepSameTenantLinks: links inside one tenant still work,
// through ent and raw SQL; the trigger gives a new manager link its job's
// org_id, as the application role too; deleting a company leaves its
// clients in their tenant with no company; deleting a job or a user removes
// their manager links.
func TestTenantSafeKeysKeepSameTenantLinks(t *testing.T) {
	t.Parallel()
	w := newTenantKeysWorld(t)
	a, sys := w.A, w.sys
	var created *ent.Job
	pgtest.MustTx(t, sys, w.db.Client, func(tx *ent.Tx) error {
		created = tx.Job.Create().SetOrgID(a.org).SetCompanyID(a.company).SetTitle("new").SetCreatedByID(a.admin).
			AddManagerIDs(a.admin).SaveX(sys)
		tx.Note.Create().SetOrgID(a.org).SetJobID(created.ID).SetAuthorID(a.client).SetBody("x").SaveX(sys)
		tx.Job.UpdateOneID(a.job).AddManagerIDs(a.client).ExecX(sys)
		tx.User.UpdateOneID(a.client).SetCompanyID(a.company).ExecX(sys)
		return nil
	})
	// A's admin, under their own scope.
	admin, err := w.db.User.Get(sys, a.admin)
	require.NoError(t, err)
	require.NoError(t, w.db.Job.UpdateOneID(created.ID).AddManagerIDs(a.client).Exec(pgtest.UserContext(t, admin)))
	// The application role inserts a link without org_id, as ent does
	// (with the admin's settings: row-level security shows it nothing
	// without them).
	actx := pgtest.UserContext(t, admin)
	raw, err := database.BeginTx(actx, w.db.SQL, nil)
	require.NoError(t, err)
	res, err := raw.ExecContext(actx, `DELETE FROM job_managers WHERE job_id = $1 AND user_id = $2`, a.job, a.admin)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the link to delete")
	_, err = raw.ExecContext(actx, `INSERT INTO job_managers (job_id, user_id) VALUES ($1, $2)`, a.job, a.admin)
	require.NoError(t, err)
	require.NoError(t, raw.Commit())

	links := func() map[[2]int]int {
		rows, err := w.db.Raw.Query(`SELECT job_id, user_id, org_id FROM job_managers`)
		require.NoError(t, err)
		defer rows.Close()
		out := map[[2]int]int{}
		for rows.Next() {
			var j, u, o int
			require.NoError(t, rows.Scan(&j, &u, &o))
			out[[2]int{j, u}] = o
		}
		require.NoError(t, rows.Err())
		return out
	}
	b := w.B
	assert.Equal(t, map[[2]int]int{
		{a.job, a.admin}: a.org, {a.job, a.client}: a.org,
		{created.ID, a.admin}: a.org, {created.ID, a.client}: a.org,
		{b.job, b.admin}: b.org,
	}, links())

	owner := w.db.Owner(t)
	var empty int
	require.NoError(t, owner.QueryRow(`INSERT INTO companies (created_at, updated_at, name, org_id) VALUES (now(), now(), 'empty', $1) RETURNING id`, a.org).Scan(&empty))
	_, err = owner.Exec(`UPDATE users SET company_id = $1 WHERE id = $2`, empty, a.client)
	require.NoError(t, err)
	_, err = owner.Exec(`DELETE FROM companies WHERE id = $1`, empty)
	require.NoError(t, err, "delete a company with a client (ON DELETE SET NULL (company_id))")
	var org int
	var company stdsql.NullInt64
	require.NoError(t, w.db.Raw.QueryRow(`SELECT org_id, company_id FROM users WHERE id = $1`, a.client).Scan(&org, &company))
	assert.Equal(t, a.org, org, "the client keeps its tenant")
	assert.False(t, company.Valid, "the client has no company")

	_, err = owner.Exec(`DELETE FROM notes WHERE job_id = $1`, created.ID)
	require.NoError(t, err)
	_, err = owner.Exec(`DELETE FROM jobs WHERE id = $1`, created.ID)
	require.NoError(t, err, "delete a job with managers (ON DELETE CASCADE)")
	_, err = owner.Exec(`DELETE FROM users WHERE id = $1`, b.client)
	require.NoError(t, err, "delete a user who manages nothing")
	var stranger int
	require.NoError(t, owner.QueryRow(`INSERT INTO users (created_at, updated_at, email, name, role, org_id) VALUES (now(), now(), 'm@a', 'm', 'manager', $1) RETURNING id`, a.org).Scan(&stranger))
	_, err = owner.Exec(`INSERT INTO job_managers (job_id, user_id) VALUES ($1, $2)`, a.job, stranger)
	require.NoError(t, err)
	_, err = owner.Exec(`DELETE FROM users WHERE id = $1`, stranger)
	require.NoError(t, err, "delete a manager (ON DELETE CASCADE)")
	assert.Equal(t, map[[2]int]int{{a.job, a.admin}: a.org, {a.job, a.client}: a.org, {b.job, b.admin}: b.org}, links())
}

// TestTenantKeysMigrationOnData: the tenant_keys migration applies to a
// database that holds rows (job_managers.org_id is filled from the jobs),
// and refuses, naming them, rows that already link two tenants, leaving
// the database as it was.
func TestTenantKeysMigrationOnData(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	var before int64
	for _, f := range files {
		if strings.HasSuffix(f, "_tenant_keys.sql") {
			break
		}
		before, err = goose.NumericComponent(f)
		require.NoError(t, err)
	}
	require.NotZero(t, before, "no migration before tenant_keys")

	// prepare migrates a new database up to the one before tenant_keys and
	// seeds two tenants with raw SQL, as the schema then allowed.
	prepare := func(t *testing.T) (*stdsql.DB, map[string]int) {
		db, err := stdsql.Open("postgres", throwawayDB(t, "scopegate_keys_"))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
		require.NoError(t, err)
		_, err = p.UpTo(ctx, before)
		require.NoError(t, err)
		ids := map[string]int{}
		for _, o := range []string{"a", "b"} {
			var id int
			require.NoError(t, db.QueryRow(`INSERT INTO organizations (created_at, updated_at, name, slug) VALUES (now(), now(), $1, $1) RETURNING id`, o).Scan(&id))
			ids[o] = id
			require.NoError(t, db.QueryRow(`INSERT INTO companies (created_at, updated_at, name, org_id) VALUES (now(), now(), 'c', $1) RETURNING id`, id).Scan(&id))
			ids[o+".company"] = id
			require.NoError(t, db.QueryRow(`INSERT INTO users (created_at, updated_at, email, name, role, org_id, company_id) VALUES (now(), now(), $1, 'u', 'client', $2, $3) RETURNING id`,
				"u@"+o, ids[o], ids[o+".company"]).Scan(&id))
			ids[o+".user"] = id
			require.NoError(t, db.QueryRow(`INSERT INTO jobs (created_at, updated_at, title, company_id, org_id, created_by_id) VALUES (now(), now(), 'j', $1, $2, $3) RETURNING id`,
				ids[o+".company"], ids[o], ids[o+".user"]).Scan(&id))
			ids[o+".job"] = id
			_, err := db.Exec(`INSERT INTO notes (created_at, updated_at, body, job_id, org_id, author_id) VALUES (now(), now(), 'n', $1, $2, $3)`,
				ids[o+".job"], ids[o], ids[o+".user"])
			require.NoError(t, err)
			_, err = db.Exec(`INSERT INTO job_managers (job_id, user_id) VALUES ($1, $2)`, ids[o+".job"], ids[o+".user"])
			require.NoError(t, err)
		}
		return db, ids
	}

	t.Run("rows of one tenant each", func(t *testing.T) {
		db, ids := prepare(t)
		_, err := migration.Up(ctx, db)
		require.NoError(t, err)
		rows, err := db.Query(`SELECT job_id, org_id FROM job_managers ORDER BY job_id`)
		require.NoError(t, err)
		defer rows.Close()
		got := map[int]int{}
		for rows.Next() {
			var j, o int
			require.NoError(t, rows.Scan(&j, &o))
			got[j] = o
		}
		require.NoError(t, rows.Err())
		assert.Equal(t, map[int]int{ids["a.job"]: ids["a"], ids["b.job"]: ids["b"]}, got)
		_, err = db.Exec(`UPDATE jobs SET company_id = $1 WHERE id = $2`, ids["b.company"], ids["a.job"])
		requireForeignKeyViolation(t, err, "jobs_companies_jobs", "after the migration")
	})

	t.Run("rows that link two tenants", func(t *testing.T) {
		db, ids := prepare(t)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE users SET company_id = $1 WHERE id = $2`, []any{ids["b.company"], ids["a.user"]}},
			{`UPDATE jobs SET company_id = $1 WHERE id = $2`, []any{ids["b.company"], ids["a.job"]}},
			{`UPDATE notes SET author_id = $1 WHERE job_id = $2`, []any{ids["b.user"], ids["a.job"]}},
			{`INSERT INTO job_managers (job_id, user_id) VALUES ($1, $2)`, []any{ids["a.job"], ids["b.user"]}},
		} {
			_, err := db.Exec(q.sql, q.args...)
			require.NoError(t, err, q.sql)
		}
		dumpDB := func() string {
			var s string
			require.NoError(t, db.QueryRow(`SELECT string_agg(x, E'\n' ORDER BY x) FROM (
SELECT 'users ' || t::text AS x FROM users t UNION ALL SELECT 'jobs ' || t::text FROM jobs t
UNION ALL SELECT 'notes ' || t::text FROM notes t UNION ALL SELECT 'job_managers ' || t::text FROM job_managers t) rows`).Scan(&s))
			return s
		}
		was := dumpDB()
		_, err := migration.Up(ctx, db)
		require.Error(t, err)
		for _, want := range []string{"rows link two tenants", "users.company_id: 1", "jobs.company_id: 1", "notes.author_id: 1", "job_managers: 1"} {
			assert.Contains(t, err.Error(), want)
		}
		assert.NotContains(t, err.Error(), "jobs.created_by_id")
		st, err := migration.Status(ctx, db)
		require.NoError(t, err)
		for _, s := range st {
			assert.Equal(t, s.Version <= before, s.Applied, "migration %d", s.Version)
		}
		assert.Equal(t, was, dumpDB(), "the refused migration changed rows")
	})
}
