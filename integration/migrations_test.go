package integration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/migration"
	"github.com/scopegate/scopegate/migrations"
)

// migrationsSourceDir is the checked-in migrations directory, relative to
// this package.
const migrationsSourceDir = "../migrations"

// throwawayDB creates an empty database on the test server, dropped
// when the test ends, and returns its URL.
func throwawayDB(t *testing.T, prefix string) string {
	t.Helper()
	u, drop, err := migration.ThrowawayDatabase(context.Background(), pgtest.ServerURL(t), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(context.Background()); err != nil {
			t.Errorf("drop %s: %v", u, err)
		}
	})
	return u
}

// TestMigrationsMatchSchema fails when the ent schema changed without a
// migration: it replays migrations/ on an empty database and asks atlas for
// the difference with the schema, which must be empty.
func TestMigrationsMatchSchema(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files, err := filepath.Glob(filepath.Join(migrationsSourceDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no migrations in %s", migrationsSourceDir)
	}
	for _, f := range append(files, filepath.Join(migrationsSourceDir, "atlas.sum")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	devURL := throwawayDB(t, "scopegate_drift_")
	written, err := migration.Diff(context.Background(), devURL, dir, "drift")
	if err != nil {
		t.Fatalf("%v\n(a checksum error means a migration was edited by hand: "+
			"regenerate it with `go run ./cmd/scopegate migrate diff NAME`, or rewrite atlas.sum)", err)
	}
	if len(written) == 0 {
		return
	}
	var b strings.Builder
	for _, f := range written {
		text, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", f, text)
	}
	t.Errorf("the ent schema differs from migrations/: a new migration would hold\n\n%s\n"+
		"Run `go run ./cmd/scopegate migrate diff NAME` (with SCOPEGATE_DEV_DATABASE_URL or "+
		"SCOPEGATE_TEST_DATABASE_URL set), review the file and commit it with atlas.sum.", b.String())
}

// TestMigrationsEmbedded checks that the binary embeds exactly the checked-in
// migrations.
func TestMigrationsEmbedded(t *testing.T) {
	t.Parallel()
	onDisk, err := filepath.Glob(filepath.Join(migrationsSourceDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range onDisk {
		onDisk[i] = filepath.Base(f)
	}
	embedded, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(onDisk, embedded) {
		t.Errorf("embedded migrations %q, on disk %q", embedded, onDisk)
	}
}

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := sql.Open("postgres", throwawayDB(t, "scopegate_updown_"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	embedded, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	total := len(embedded)

	requireStatus := func(wantPending ...int64) {
		t.Helper()
		st, err := migration.Status(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != total {
			t.Fatalf("status lists %d migrations, want %d", len(st), total)
		}
		var pending []int64
		for _, s := range st {
			if !s.Applied {
				pending = append(pending, s.Version)
			}
		}
		if !slices.Equal(pending, wantPending) {
			t.Fatalf("pending %v, want %v", pending, wantPending)
		}
	}
	tables := func() int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'goose_db_version'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	n, err := migration.Up(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n != total {
		t.Fatalf("Up applied %d migrations, want %d", n, total)
	}
	requireStatus()
	if err := migration.CheckCurrent(ctx, db); err != nil {
		t.Fatal(err)
	}
	st, _ := migration.Status(ctx, db)
	newest := st[len(st)-1].Version
	tablesUp := tables()

	v, err := migration.Down(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if v != newest {
		t.Fatalf("Down rolled back %d, want the newest, %d", v, newest)
	}
	requireStatus(newest)
	if err := migration.CheckCurrent(ctx, db); !errors.Is(err, migration.ErrPending) {
		t.Fatalf("CheckCurrent after Down: %v, want ErrPending", err)
	}
	if total == 1 && tables() != 0 {
		t.Fatalf("Down of the only migration left %d tables", tables())
	}

	n, err = migration.Up(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("second Up applied %d migrations, want 1", n)
	}
	requireStatus()
	if got := tables(); got != tablesUp {
		t.Fatalf("%d tables after Up, Down, Up; %d after the first Up", got, tablesUp)
	}
}

// TestEnumCheckConstraints: ent maps enum fields to plain varchar; the
// migrations add CHECK constraints, so that raw SQL cannot store a value the
// Go code does not know.
func TestEnumCheckConstraints(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.New(t).Raw // the constraints, not row-level security
	var org, company, admin int
	if err := db.QueryRowContext(ctx, `INSERT INTO organizations (created_at, updated_at, name, slug) VALUES (now(), now(), 'O', 'o') RETURNING id`).Scan(&org); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRowContext(ctx, `INSERT INTO companies (created_at, updated_at, name, org_id) VALUES (now(), now(), 'C', $1) RETURNING id`, org).Scan(&company); err != nil {
		t.Fatal(err)
	}
	insertUser := `INSERT INTO users (created_at, updated_at, email, name, role, org_id) VALUES (now(), now(), $1, 'U', $2, $3) RETURNING id`
	if err := db.QueryRowContext(ctx, insertUser, "admin@o", "admin", org).Scan(&admin); err != nil {
		t.Fatal(err)
	}
	insertJob := `INSERT INTO jobs (created_at, updated_at, title, status, company_id, org_id, created_by_id) VALUES (now(), now(), 'J', $1, $2, $3, $4)`
	if _, err := db.ExecContext(ctx, insertJob, "published", company, org, admin); err != nil {
		t.Fatalf("a valid job: %v", err)
	}

	for _, c := range []struct {
		what, constraint string
		exec             func() error
	}{
		{"job status 'bogus'", "jobs_status_check", func() error {
			_, err := db.ExecContext(ctx, insertJob, "bogus", company, org, admin)
			return err
		}},
		{"user role 'root'", "users_role_check", func() error {
			_, err := db.ExecContext(ctx, insertUser, "root@o", "root", org)
			return err
		}},
		{"job status updated to 'bogus'", "jobs_status_check", func() error {
			_, err := db.ExecContext(ctx, `UPDATE jobs SET status = 'bogus'`)
			return err
		}},
	} {
		err := c.exec()
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) {
			t.Errorf("%s: error %v, want a *pq.Error", c.what, err)
			continue
		}
		if pqErr.Code != "23514" || pqErr.Code.Name() != "check_violation" || pqErr.Constraint != c.constraint {
			t.Errorf("%s: %s (code %s, constraint %q), want check_violation 23514 of %s",
				c.what, pqErr.Message, pqErr.Code, pqErr.Constraint, c.constraint)
		}
	}
}

// indexDefColumns takes the column list out of a pg_indexes.indexdef:
// "CREATE INDEX job_org_id_id ON public.jobs USING btree (org_id, id)".
var indexDefColumns = regexp.MustCompile(`^CREATE (?:UNIQUE )?INDEX \S+ ON \S+ USING (\w+) \(([^)]*)\)(.*)$`)

// scopeIndex is one index as the planner may use it for a filter.
type scopeIndex struct {
	name    string
	method  string
	columns []string
	partial bool
}

func (i scopeIndex) String() string {
	s := fmt.Sprintf("%s %s(%s)", i.name, i.method, strings.Join(i.columns, ", "))
	if i.partial {
		s += " partial"
	}
	return s
}

// schemaIndexes returns the indexes of every table of the current schema,
// by table.
func schemaIndexes(t *testing.T, db *sql.DB) map[string][]scopeIndex {
	t.Helper()
	rows, err := db.Query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]scopeIndex{}
	for rows.Next() {
		var table, name, def string
		if err := rows.Scan(&table, &name, &def); err != nil {
			t.Fatal(err)
		}
		m := indexDefColumns.FindStringSubmatch(def)
		if m == nil {
			t.Fatalf("cannot read index definition %q", def)
		}
		idx := scopeIndex{name: name, method: m[1], partial: strings.Contains(m[3], " WHERE ")}
		for _, c := range strings.Split(m[2], ",") {
			f := strings.Fields(c) // "id DESC" -> "id"
			idx.columns = append(idx.columns, strings.Trim(f[0], `"`))
		}
		out[table] = append(out[table], idx)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// leadingIndex returns a full btree index of table whose first columns are
// cols, or "".
func leadingIndex(indexes map[string][]scopeIndex, table string, cols ...string) string {
	for _, idx := range indexes[table] {
		if idx.method == "btree" && !idx.partial && len(idx.columns) >= len(cols) && slices.Equal(idx.columns[:len(cols)], cols) {
			return idx.name
		}
	}
	return ""
}

// TestIndexesServeScopedQueries checks the indexes of docs/design.md section 8: the
// first page of a tenant's list, and every eager load or traversal, which
// filters on a foreign key, has an index to use.
func TestIndexesServeScopedQueries(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t).SQL
	indexes := schemaIndexes(t, db)

	t.Run("org_id, id", func(t *testing.T) {
		tenant := []string{"users", "companies", "jobs", "notes"}
		// Every table with an org_id column and an id is a tenant table
		// with pages. (A join table, job_managers, carries org_id for its
		// tenant-safe keys but has no id: its indexes are checked with
		// the eager loads.)
		rows, err := db.Query(`SELECT c.table_name FROM information_schema.columns c
WHERE c.table_schema = current_schema() AND c.column_name = 'org_id'
AND EXISTS (SELECT FROM information_schema.columns i WHERE i.table_schema = c.table_schema AND i.table_name = c.table_name AND i.column_name = 'id')`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var table string
			if err := rows.Scan(&table); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(tenant, table) {
				tenant = append(tenant, table)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		for _, table := range tenant {
			if leadingIndex(indexes, table, "org_id", "id") == "" {
				t.Errorf("%s has no (org_id, id) index; indexes: %v", table, indexes[table])
			}
		}
	})

	t.Run("eager loads", func(t *testing.T) {
		for _, c := range []struct{ table, column string }{
			{"notes", "job_id"},         // job.notes
			{"jobs", "company_id"},      // company.jobs
			{"users", "company_id"},     // company.clients
			{"job_managers", "user_id"}, // user.managed_jobs, the client rule
			{"job_managers", "job_id"},  // job.managers
			{"notes", "author_id"},      // user.notes
			{"jobs", "created_by_id"},   // user.created_jobs
			{"sessions", "user_id"},     // user.sessions
		} {
			if leadingIndex(indexes, c.table, c.column) == "" {
				t.Errorf("no index on %s(%s); indexes: %v", c.table, c.column, indexes[c.table])
			}
		}
	})

	t.Run("every foreign key", func(t *testing.T) {
		// A key's own column leads an index: a tenant-safe key (org_id,
		// company_id) is served by an index on company_id (one company
		// has one org_id), as a delete of the referenced row looks its
		// rows up; org_id alone, the key to organizations, by (org_id, id).
		rows, err := db.Query(`
SELECT r.relname, c.conname, array_agg(a.attname::text ORDER BY k.ord)
FROM pg_constraint c
JOIN pg_class r ON r.oid = c.conrelid
JOIN pg_namespace n ON n.oid = r.relnamespace
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.contype = 'f' AND n.nspname = current_schema()
GROUP BY r.relname, c.conname`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var table, constraint string
			var columns []string
			if err := rows.Scan(&table, &constraint, pq.Array(&columns)); err != nil {
				t.Fatal(err)
			}
			n++
			own := slices.DeleteFunc(slices.Clone(columns), func(c string) bool { return c == "org_id" })
			if len(own) == 0 {
				own = columns
			}
			if len(own) != 1 {
				t.Errorf("foreign key %s on %s%v: want org_id and one column at most", constraint, table, columns)
				continue
			}
			if leadingIndex(indexes, table, own[0]) == "" {
				t.Errorf("foreign key %s%v: no index on %s(%s); indexes: %v", constraint, columns, table, own[0], indexes[table])
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatal("found no foreign keys")
		}
	})
}
