// Package migration owns the database's versioned schema: it writes new
// goose-format migrations from the ent schema (atlas diff against a throwaway
// dev database) and applies the embedded ones with goose.
package migration

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	atlasschema "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	entmigrate "github.com/scopegate/scopegate/ent/migrate"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/migrations"
)

// ErrPending is returned by CheckCurrent when migrations are not applied.
var ErrPending = errors.New("migration: pending migrations")

// ErrUnknown is returned by CheckCurrent when the database has migrations
// applied that this binary does not carry (a newer binary migrated it).
var ErrUnknown = errors.New("migration: unknown migrations applied")

// Tables returns the schema the PostgreSQL migrations are generated from
// and checked against: a copy of ent's tables (ent's own are left as
// generated) plus what the ent schema cannot declare:
//
//   - tenant-safe foreign keys (tenantKeys): every foreign key between two
//     tenant tables includes org_id, so that no statement, under any scope
//     or none, can link rows of two tenants (docs/design.md section 8);
//   - org_id on the join tables of tenant tables (job_managers), which those
//     keys need; ent inserts only (job_id, user_id), so a trigger written in
//     the migrations fills it from the job;
//   - an index on job_managers(user_id). The primary key (job_id, user_id)
//     serves job -> managers; user -> managed_jobs, and the client rule
//     "users who manage a visible job", filter on user_id alone.
func Tables() []*schema.Table { return tables(dialect.Postgres) }

// The column and the table that make a table tenant-owned.
const (
	orgColumn = "org_id"
	orgTable  = "organizations"
)

// tables builds the schema for a dialect. SQLite (the embedded demo) gets
// the tenant-safe keys of the entity tables, but no org_id on the join
// tables: a SQLite trigger cannot fill a column before the NOT NULL check,
// and a nullable org_id would turn the composite keys off (MATCH SIMPLE
// skips a key with a NULL in it). Triggers check its links instead
// (embeddedTenantTriggers).
func tables(dialectName string) []*schema.Table {
	ts, err := schema.CopyTables(entmigrate.Tables)
	if err != nil {
		panic(fmt.Sprintf("migration: copy ent's tables: %v", err)) // ent's generated tables are consistent
	}
	if dialectName == dialect.Postgres {
		for _, t := range ts {
			if isJoinTable(t) {
				t.Columns = append(t.Columns, &schema.Column{Name: orgColumn, Type: field.TypeInt})
			}
		}
	}
	tenantKeys(ts, dialectName)
	jm := table(ts, entmigrate.JobManagersTable.Name)
	const name = "jobmanager_user_id"
	if !slices.ContainsFunc(jm.Indexes, func(i *schema.Index) bool { return i.Name == name }) {
		jm.Indexes = append(jm.Indexes, &schema.Index{Name: name, Columns: []*schema.Column{column(jm, "user_id")}})
	}
	return ts
}

// tenantKeys makes every single-column foreign key of a tenant table to
// another tenant table's id a composite one: (org_id, fk) REFERENCES
// ref (org_id, id), with the same name and actions. The referenced
// (org_id, id) is unique on every tenant table (ent/schema TenantMixin);
// PostgreSQL refuses a key to columns that are not.
//
// ON DELETE SET NULL would null org_id too, which is NOT NULL. PostgreSQL
// 15 can null only the key's own column, SET NULL (company_id); atlas
// neither renders nor inspects that column list, so the model keeps
// "SET NULL" (what PostgreSQL reports, so no drift) and Diff's setNullOwnColumns
// hook writes the list into the SQL. SQLite has no column list: there the
// single-column key keeps its SET NULL, and a second, composite key with
// NO ACTION checks the tenant (SQLite counts NO ACTION violations over the
// whole statement, so the SET NULL that runs in it satisfies the key).
func tenantKeys(ts []*schema.Table, dialectName string) {
	for _, t := range ts {
		org, ok := tenantColumn(t)
		if !ok {
			continue
		}
		var fks []*schema.ForeignKey
		for _, fk := range t.ForeignKeys {
			ref := fk.RefTable
			refOrg, refTenant := tenantColumn(ref)
			if !refTenant || ref.Name == orgTable || len(fk.Columns) != 1 || fk.Columns[0] == org {
				fks = append(fks, fk)
				continue
			}
			composite := &schema.ForeignKey{
				Symbol:     fk.Symbol,
				Columns:    []*schema.Column{org, fk.Columns[0]},
				RefTable:   ref,
				RefColumns: []*schema.Column{refOrg, fk.RefColumns[0]},
				OnUpdate:   fk.OnUpdate,
				OnDelete:   fk.OnDelete,
			}
			if dialectName != dialect.Postgres && (fk.OnDelete == schema.SetNull || fk.OnDelete == schema.SetDefault) {
				composite.Symbol += "_tenant"
				composite.OnDelete = schema.NoAction
				fks = append(fks, fk)
			}
			fks = append(fks, composite)
		}
		t.ForeignKeys = fks
	}
}

// tenantColumn returns the NOT NULL org_id of a tenant table. (The audit
// log's org_id is nullable: events without a tenant exist.)
func tenantColumn(t *schema.Table) (*schema.Column, bool) {
	for _, c := range t.Columns {
		if c.Name == orgColumn && !c.Nullable {
			return c, true
		}
	}
	return nil, false
}

// isJoinTable reports whether t is a many-to-many join table between tenant
// tables: no org_id of its own, a primary key made of its foreign keys, all
// of which reference tenant tables.
func isJoinTable(t *schema.Table) bool {
	if _, ok := tenantColumn(t); ok || len(t.ForeignKeys) == 0 || len(t.PrimaryKey) != len(t.ForeignKeys) {
		return false
	}
	for i, fk := range t.ForeignKeys {
		if _, ok := tenantColumn(fk.RefTable); !ok || len(fk.Columns) != 1 || fk.Columns[0] != t.PrimaryKey[i] {
			return false
		}
	}
	return true
}

func table(ts []*schema.Table, name string) *schema.Table {
	for _, t := range ts {
		if t.Name == name {
			return t
		}
	}
	panic("migration: no table " + name)
}

func column(t *schema.Table, name string) *schema.Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	panic("migration: no column " + t.Name + "." + name)
}

// setNullOwnColumns is a diff hook: it writes ON DELETE SET NULL (or SET
// DEFAULT) of a foreign key that includes org_id as SET NULL (col), so
// that PostgreSQL nulls the key's own column and leaves org_id (see
// tenantKeys).
func setNullOwnColumns(next schema.Differ) schema.Differ {
	return schema.DiffFunc(func(current, desired *atlasschema.Schema) ([]atlasschema.Change, error) {
		changes, err := next.Diff(current, desired)
		if err != nil {
			return nil, err
		}
		for _, c := range changes {
			switch c := c.(type) {
			case *atlasschema.AddTable:
				for _, fk := range c.T.ForeignKeys {
					restrictSetNull(fk)
				}
			case *atlasschema.ModifyTable:
				for _, cc := range c.Changes {
					switch cc := cc.(type) {
					case *atlasschema.AddForeignKey:
						restrictSetNull(cc.F)
					case *atlasschema.ModifyForeignKey:
						restrictSetNull(cc.To)
					}
				}
			}
		}
		return changes, nil
	})
}

func restrictSetNull(fk *atlasschema.ForeignKey) {
	if fk.OnDelete != atlasschema.SetNull && fk.OnDelete != atlasschema.SetDefault {
		return
	}
	var own []string
	for _, c := range fk.Columns {
		if c.Name != orgColumn {
			own = append(own, pq.QuoteIdentifier(c.Name))
		}
	}
	if len(own) == len(fk.Columns) {
		return
	}
	fk.OnDelete = atlasschema.ReferenceOption(fmt.Sprintf("%s (%s)", fk.OnDelete, strings.Join(own, ", ")))
}

// Diff compares the migrations in dir with the ent schema, using devURL, an
// empty PostgreSQL database it may use and wipe, and writes the difference
// as a new goose migration called name. It returns the files it wrote: none
// when the directory already matches the schema.
func Diff(ctx context.Context, devURL, dir, name string) ([]string, error) {
	before, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	gd, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migration: open %s: %w", dir, err)
	}
	if err := dropPoliciesBeforeDrops(ctx, devURL); err != nil {
		return nil, err
	}
	err = schema.Diff(ctx, devURL, name, Tables(),
		schema.WithDir(gd),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialect.Postgres),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
		schema.WithDiffHook(setNullOwnColumns),
	)
	if err != nil && !errors.Is(err, atlasmigrate.ErrNoPlan) {
		return nil, fmt.Errorf("migration: diff: %w", err)
	}
	after, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			created = append(created, f)
		}
	}
	return created, nil
}

// Hash rewrites the atlas.sum of the migrations in dir from their content,
// after a migration was edited by hand (a trigger, a data fix: what atlas
// cannot write). Diff and the drift test refuse a directory whose files do
// not match its atlas.sum.
func Hash(dir string) error {
	gd, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("migration: open %s: %w", dir, err)
	}
	sum, err := gd.Checksum()
	if err != nil {
		return fmt.Errorf("migration: hash %s: %w", dir, err)
	}
	if err := atlasmigrate.WriteSumFile(gd, sum); err != nil {
		return fmt.Errorf("migration: write %s: %w", filepath.Join(dir, atlasmigrate.HashFileName), err)
	}
	return nil
}

// dropPoliciesBeforeDrops prepares the dev database for atlas's replay.
// Atlas replays migrations/ on it, then drops its tables one by one; the
// row-level security policies (which atlas does not model) read other
// tables, and PostgreSQL refuses to drop a table a policy depends on. An
// event trigger on the throwaway dev database drops every policy before a
// DROP TABLE runs. It needs a superuser, as creating the dev database does.
func dropPoliciesBeforeDrops(ctx context.Context, devURL string) error {
	db, err := sql.Open("postgres", devURL)
	if err != nil {
		return fmt.Errorf("migration: dev database: %w", err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE OR REPLACE FUNCTION public.scopegate_dev_drop_policies() RETURNS event_trigger LANGUAGE plpgsql AS $$
DECLARE p record;
BEGIN
  FOR p IN SELECT policyname, schemaname, tablename FROM pg_policies LOOP
    EXECUTE format('DROP POLICY %I ON %I.%I', p.policyname, p.schemaname, p.tablename);
  END LOOP;
END $$`,
		`DROP EVENT TRIGGER IF EXISTS scopegate_dev_drop_policies`,
		`CREATE EVENT TRIGGER scopegate_dev_drop_policies ON ddl_command_start
		   WHEN TAG IN ('DROP TABLE') EXECUTE FUNCTION public.scopegate_dev_drop_policies()`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("migration: prepare the dev database (it needs a superuser): %w", err)
		}
	}
	return nil
}

func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migration: read %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// ThrowawayDatabase creates an empty database on the PostgreSQL server of
// serverURL and returns its URL and a function that drops it.
func ThrowawayDatabase(ctx context.Context, serverURL, prefix string) (string, func(context.Context) error, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("migration: server URL: %w", err)
	}
	db, err := sql.Open("postgres", serverURL)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("migration: create database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func(ctx context.Context) error {
		defer db.Close()
		_, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
		return err
	}
	return u.String(), drop, nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("migration: %w", err)
	}
	return p, nil
}

// Up applies every pending migration and returns how many it applied.
func Up(ctx context.Context, db *sql.DB) (int, error) {
	p, err := provider(db)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migration: up: %w", err)
	}
	return len(res), nil
}

// Down rolls back the newest applied migration.
func Down(ctx context.Context, db *sql.DB) (int64, error) {
	p, err := provider(db)
	if err != nil {
		return 0, err
	}
	res, err := p.Down(ctx)
	if err != nil {
		return 0, fmt.Errorf("migration: down: %w", err)
	}
	if res == nil || res.Source == nil {
		return 0, nil
	}
	return res.Source.Version, nil
}

// State is one migration and whether it is applied.
type State struct {
	Version int64
	Path    string
	Applied bool
}

// Status lists every embedded migration and whether it is applied.
func Status(ctx context.Context, db *sql.DB) ([]State, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration: status: %w", err)
	}
	out := make([]State, 0, len(st))
	for _, s := range st {
		out = append(out, State{Version: s.Source.Version, Path: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// CheckCurrent returns nil if the database's schema is the one this binary
// carries: every embedded migration applied, and none applied that the
// binary does not carry. Otherwise it returns an error matching ErrPending
// or ErrUnknown, and database.ErrSchema. It only reads goose's version
// table (so the application role may run it, as /readyz does): a missing
// table means nothing is applied.
func CheckCurrent(ctx context.Context, db *sql.DB) error {
	p, err := provider(db)
	if err != nil {
		return err
	}
	embedded := map[int64]bool{}
	for _, src := range p.ListSources() {
		embedded[src.Version] = true
	}
	applied, err := appliedVersions(ctx, db)
	if err != nil {
		return err
	}
	var unknown []int64
	for v := range applied {
		if !embedded[v] {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("%w: %w: %d applied that this binary does not carry (%v); it is older than the database's schema",
			ErrUnknown, database.ErrSchema, len(unknown), unknown)
	}
	n := 0
	for v := range embedded {
		if !applied[v] {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%w: %w: %d not applied (run: scopegate migrate up)", ErrPending, database.ErrSchema, n)
	}
	return nil
}

// appliedVersions reads goose's version table: the versions applied, in
// the order goose wrote them, the latest row of a version deciding (goose
// deletes a version's row on down; older gooses wrote is_applied = false).
// Version 0 is goose's own first row.
func appliedVersions(ctx context.Context, db *sql.DB) (map[int64]bool, error) {
	rows, err := db.QueryContext(ctx, `SELECT version_id, is_applied FROM `+goose.DefaultTablename+` ORDER BY id`)
	if database.SchemaMissing(err) {
		return map[int64]bool{}, nil // no version table: nothing applied
	}
	if err != nil {
		return nil, fmt.Errorf("migration: read the applied versions: %w", err)
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		var ok bool
		if err := rows.Scan(&v, &ok); err != nil {
			return nil, fmt.Errorf("migration: read the applied versions: %w", err)
		}
		if v != 0 {
			applied[v] = ok
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migration: read the applied versions: %w", err)
	}
	for v, ok := range applied {
		if !ok {
			delete(applied, v)
		}
	}
	return applied, nil
}

// OpenEmbedded opens the embedded SQLite database at rawURL ("file:" and a
// path, or "file::memory:" for one in memory, which the one connection of
// an embedded database keeps) and creates or updates its schema with
// CreateEmbedded; on an error it closes what it opened. A PostgreSQL URL is
// refused: PostgreSQL gets its schema from the versioned migrations only.
func OpenEmbedded(ctx context.Context, rawURL string, opts database.Options) (*database.DB, error) {
	db, err := database.Open(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	if db.Dialect != dialect.SQLite {
		db.Close()
		return nil, fmt.Errorf("migration: the embedded schema is for SQLite, not %s", db.Dialect)
	}
	if err := CreateEmbedded(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// CreateEmbedded creates (or brings up to date) the schema of an embedded
// SQLite database directly from the ent schema, with the tenant-safe keys
// of tables and, for the join tables, which have no org_id there, the
// triggers of embeddedTenantTriggers. PostgreSQL never takes this path: it
// uses the versioned migrations.
func CreateEmbedded(ctx context.Context, db *database.DB) error {
	ts := tables(dialect.SQLite)
	triggers := embeddedTenantTriggers(ts)
	// Dropped while ent migrates: SQLite rebuilds a changed table under a
	// temporary name, and renaming it back fails while a trigger names a
	// table that is, for that moment, missing.
	for _, tr := range triggers {
		if _, err := db.SQL.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+quoteSQLite(tr.name)); err != nil {
			return fmt.Errorf("migration: create embedded schema: %w", err)
		}
	}
	if err := entmigrate.Create(ctx, db.Client.Schema, ts); err != nil {
		return fmt.Errorf("migration: create embedded schema: %w", err)
	}
	for _, tr := range triggers {
		if _, err := db.SQL.ExecContext(ctx, tr.sql); err != nil {
			return fmt.Errorf("migration: create embedded trigger %s: %w", tr.name, err)
		}
	}
	return nil
}

type trigger struct{ name, sql string }

// embeddedTenantTriggers returns, for every join table between two tenant
// tables (job_managers), SQLite triggers that refuse what a composite key
// with org_id refuses on PostgreSQL: a link between rows of two tenants,
// inserted or updated, and an org_id changed under an existing link. They
// fail as a foreign key does ("FOREIGN KEY constraint failed"), so that ent
// reports a constraint error.
func embeddedTenantTriggers(ts []*schema.Table) []trigger {
	var out []trigger
	q := quoteSQLite
	for _, t := range ts {
		if !isJoinTable(t) || len(t.ForeignKeys) != 2 {
			continue
		}
		a, b := t.ForeignKeys[0], t.ForeignKeys[1]
		abort := fmt.Sprintf("SELECT RAISE(ABORT, 'FOREIGN KEY constraint failed: %s would link two tenants'); END", t.Name)
		orgOf := func(fk *schema.ForeignKey, row string) string {
			return fmt.Sprintf("(SELECT %s FROM %s WHERE %s = %s.%s)",
				q(orgColumn), q(fk.RefTable.Name), q(fk.RefColumns[0].Name), row, q(fk.Columns[0].Name))
		}
		differ := orgOf(a, "NEW") + " IS NOT " + orgOf(b, "NEW")
		out = append(out,
			trigger{t.Name + "_tenant_insert", fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s BEFORE INSERT ON %s WHEN %s BEGIN %s",
				q(t.Name+"_tenant_insert"), q(t.Name), differ, abort)},
			trigger{t.Name + "_tenant_update", fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s BEFORE UPDATE ON %s WHEN %s BEGIN %s",
				q(t.Name+"_tenant_update"), q(t.Name), differ, abort)})
		for _, side := range [][2]*schema.ForeignKey{{a, b}, {b, a}} {
			this, other := side[0], side[1]
			name := t.Name + "_" + this.RefTable.Name + "_" + orgColumn
			moved := fmt.Sprintf("EXISTS (SELECT 1 FROM %s AS l JOIN %s AS o ON o.%s = l.%s WHERE l.%s = NEW.%s AND o.%s IS NOT NEW.%s)",
				q(t.Name), q(other.RefTable.Name), q(other.RefColumns[0].Name), q(other.Columns[0].Name),
				q(this.Columns[0].Name), q(this.RefColumns[0].Name), q(orgColumn), q(orgColumn))
			out = append(out, trigger{name, fmt.Sprintf("CREATE TRIGGER IF NOT EXISTS %s BEFORE UPDATE OF %s ON %s WHEN %s BEGIN %s",
				q(name), q(orgColumn), q(this.RefTable.Name), moved, abort)})
		}
	}
	return out
}

func quoteSQLite(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }
