package migration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	entschema "entgo.io/ent/dialect/sql/schema"

	"github.com/scopegate/scopegate/ent"
	entmigrate "github.com/scopegate/scopegate/ent/migrate"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// embeddedTenant is one tenant's rows in an embedded database: a company
// with a client, an admin who created a job at that company, a note on it
// and the admin as its manager, and a second job managed by the client that
// has no note.
type embeddedTenant struct {
	org, company, admin, client, job, note, bareJob, session int
}

func openEmbedded(t *testing.T, file string) *database.DB {
	t.Helper()
	db, err := database.Open(context.Background(), "file:"+file, database.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func seedEmbeddedTenant(t *testing.T, db *sql.DB, slug string) embeddedTenant {
	t.Helper()
	var r embeddedTenant
	insert := func(dst *int, query string, args ...any) {
		t.Helper()
		res, err := db.Exec(query, args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			t.Fatal(err)
		}
		*dst = int(id)
	}
	insert(&r.org, `INSERT INTO organizations (created_at, updated_at, name, slug) VALUES (datetime('now'), datetime('now'), ?, ?)`, slug, slug)
	insert(&r.company, `INSERT INTO companies (created_at, updated_at, name, org_id) VALUES (datetime('now'), datetime('now'), 'c', ?)`, r.org)
	insert(&r.admin, `INSERT INTO users (created_at, updated_at, email, name, role, org_id) VALUES (datetime('now'), datetime('now'), ?, 'a', 'admin', ?)`, "admin@"+slug, r.org)
	insert(&r.client, `INSERT INTO users (created_at, updated_at, email, name, role, org_id, company_id) VALUES (datetime('now'), datetime('now'), ?, 'c', 'client', ?, ?)`,
		"client@"+slug, r.org, r.company)
	insertJob := `INSERT INTO jobs (created_at, updated_at, title, company_id, org_id, created_by_id) VALUES (datetime('now'), datetime('now'), 'j', ?, ?, ?)`
	insert(&r.job, insertJob, r.company, r.org, r.admin)
	insert(&r.bareJob, insertJob, r.company, r.org, r.admin)
	insert(&r.note, `INSERT INTO notes (created_at, updated_at, body, job_id, org_id, author_id) VALUES (datetime('now'), datetime('now'), 'n', ?, ?, ?)`, r.job, r.org, r.admin)
	insert(&r.session, `INSERT INTO sessions (created_at, token_hash, expires_at, org_id, user_id) VALUES (datetime('now'), ?, datetime('now'), ?, ?)`,
		"hash-"+slug, r.org, r.client)
	for _, l := range [][2]int{{r.job, r.admin}, {r.bareJob, r.client}} {
		if _, err := db.Exec(`INSERT INTO job_managers (job_id, user_id) VALUES (?, ?)`, l[0], l[1]); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// dump reads every row of every table, to compare before and after.
func dump(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"organizations", "companies", "users", "jobs", "notes", "job_managers", "sessions"} {
		rows, err := db.Query(`SELECT * FROM ` + table + ` ORDER BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if bs, ok := v.([]byte); ok {
					vals[i] = string(bs)
				}
			}
			fmt.Fprintln(&b, table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// TestEmbeddedTenantKeys: on the embedded SQLite database too, no statement
// links rows of two tenants: every tenant-safe key of tables(SQLite) and the
// join table's triggers refuse it as a foreign key does, and nothing
// changes; links inside one tenant work, and deleting a company leaves its
// clients in their tenant.
func TestEmbeddedTenantKeys(t *testing.T) {
	ctx := context.Background()
	db := openEmbedded(t, filepath.Join(t.TempDir(), "keys.db"))
	if err := CreateEmbedded(ctx, db); err != nil {
		t.Fatal(err)
	}
	if err := CreateEmbedded(ctx, db); err != nil {
		t.Fatalf("a second CreateEmbedded: %v", err)
	}
	a, b := seedEmbeddedTenant(t, db.SQL, "a"), seedEmbeddedTenant(t, db.SQL, "b")
	refused := func(what, query string, args ...any) {
		t.Helper()
		before := dump(t, db.SQL)
		_, err := db.SQL.Exec(query, args...)
		if err == nil || !strings.Contains(err.Error(), "FOREIGN KEY constraint failed") {
			t.Errorf("%s: %v, want a foreign key failure", what, err)
		}
		if after := dump(t, db.SQL); after != before {
			t.Errorf("%s changed the database:\n%s\nwas\n%s", what, after, before)
		}
	}

	// The row of a tenant each tenant table holds, and its id in b.
	rowOf := map[string][2]int{
		"companies": {a.company, b.company}, "users": {a.client, b.client},
		"jobs": {a.job, b.job}, "notes": {a.note, b.note}, "sessions": {a.session, b.session},
	}
	keys := 0
	for _, tb := range tables(dialect.SQLite) {
		for _, fk := range tb.ForeignKeys {
			if len(fk.Columns) != 2 || fk.Columns[0].Name != orgColumn {
				continue
			}
			keys++
			own, ref := fk.Columns[1].Name, fk.RefTable.Name
			row, target := rowOf[tb.Name], rowOf[ref]
			if row[0] == 0 || target[0] == 0 {
				t.Fatalf("no seeded rows for key %s of %s to %s", fk.Symbol, tb.Name, ref)
			}
			refused(fk.Symbol, `UPDATE `+tb.Name+` SET `+own+` = ? WHERE id = ?`, target[1], row[0])
		}
	}
	if keys != 6 {
		t.Errorf("%d tenant-safe keys, want 6 (users.company_id, jobs.company_id, jobs.created_by_id, notes.job_id, notes.author_id, sessions.user_id)", keys)
	}
	refused("a link of a's job and b's user", `INSERT INTO job_managers (job_id, user_id) VALUES (?, ?)`, a.job, b.client)
	refused("a link of b's job and a's user", `INSERT INTO job_managers (job_id, user_id) VALUES (?, ?)`, b.job, a.admin)
	refused("a link moved to b's user", `UPDATE job_managers SET user_id = ? WHERE job_id = ?`, b.admin, a.job)
	refused("a link moved to b's job", `UPDATE job_managers SET job_id = ? WHERE job_id = ?`, b.job, a.job)
	refused("a managed job moved to b, company and creator with it",
		`UPDATE jobs SET org_id = ?, company_id = ?, created_by_id = ? WHERE id = ?`, b.org, b.company, b.admin, a.bareJob)
	refused("a manager moved to b", `UPDATE users SET org_id = ?, company_id = NULL WHERE id = ?`, b.org, a.client)

	sys, err := scope.System("test: embedded tenant keys").Scope()
	if err != nil {
		t.Fatal(err)
	}
	sctx := scope.NewContext(ctx, sys)
	before := dump(t, db.SQL)
	err = database.WithTx(sctx, db.Client, func(tx *ent.Tx) error {
		return tx.Job.UpdateOneID(a.job).AddManagerIDs(b.client).Exec(sctx)
	})
	if !ent.IsConstraintError(err) {
		t.Errorf("AddManagerIDs of another tenant's user under the system scope: %v, want a constraint error", err)
	}
	if dump(t, db.SQL) != before {
		t.Error("the refused AddManagerIDs changed the database")
	}

	// Inside one tenant.
	if err := database.WithTx(sctx, db.Client, func(tx *ent.Tx) error {
		return tx.Job.UpdateOneID(a.job).AddManagerIDs(a.client).Exec(sctx)
	}); err != nil {
		t.Fatalf("a manager of the same tenant: %v", err)
	}
	if _, err := db.SQL.Exec(`UPDATE users SET org_id = org_id WHERE id = ?`, a.client); err != nil {
		t.Errorf("an org_id set to itself: %v", err)
	}
	for _, q := range []string{`DELETE FROM job_managers WHERE job_id IN (SELECT id FROM jobs WHERE org_id = ?)`,
		`DELETE FROM notes WHERE org_id = ?`, `DELETE FROM jobs WHERE org_id = ?`} {
		if _, err := db.SQL.Exec(q, b.org); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.SQL.Exec(`DELETE FROM companies WHERE id = ?`, b.company); err != nil {
		t.Fatalf("delete a company with a client: %v", err)
	}
	var org int
	var company sql.NullInt64
	if err := db.SQL.QueryRow(`SELECT org_id, company_id FROM users WHERE id = ?`, b.client).Scan(&org, &company); err != nil {
		t.Fatal(err)
	}
	if org != b.org || company.Valid {
		t.Errorf("the client of a deleted company: org_id %d, company_id %v; want %d and NULL", org, company, b.org)
	}
}

// TestEmbeddedUpgrade: a demo file written before the tenant-safe keys (ent's
// plain schema) is brought up to date with its rows.
func TestEmbeddedUpgrade(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "old.db")
	db := openEmbedded(t, file)
	plain, err := entschema.CopyTables(entmigrate.Tables)
	if err != nil {
		t.Fatal(err)
	}
	if err := entmigrate.Create(ctx, db.Client.Schema, plain); err != nil {
		t.Fatal(err)
	}
	a := seedEmbeddedTenant(t, db.SQL, "a")
	seedEmbeddedTenant(t, db.SQL, "b")
	before := dump(t, db.SQL)
	if err := CreateEmbedded(ctx, db); err != nil {
		t.Fatal(err)
	}
	if after := dump(t, db.SQL); after != before {
		t.Errorf("the upgrade changed the rows:\n%s\nwas\n%s", after, before)
	}
	var n int
	if err := db.SQL.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('job_managers', 'jobs', 'users')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if want := len(embeddedTenantTriggers(tables(dialect.SQLite))); n != want || want == 0 {
		t.Errorf("%d triggers, want %d", n, want)
	}
	if _, err := db.SQL.Exec(`UPDATE jobs SET company_id = (SELECT id FROM companies WHERE org_id <> ?) WHERE id = ?`, a.org, a.job); err == nil {
		t.Error("after the upgrade a job moved to another tenant's company")
	}
}

// TestOpenEmbeddedRefusesPostgres: OpenEmbedded never creates a schema on
// PostgreSQL, which gets its schema from the versioned migrations only
// (docs/design.md section 8); it refuses after connecting, before any
// statement changes the database. The database is a throwaway one, so
// that an OpenEmbedded without the refusal fails here without touching a
// shared database.
func TestOpenEmbeddedRefusesPostgres(t *testing.T) {
	server := os.Getenv("SCOPEGATE_TEST_DATABASE_URL")
	if server == "" {
		t.Skip("SCOPEGATE_TEST_DATABASE_URL is not set")
	}
	ctx := context.Background()
	u, drop, err := ThrowawayDatabase(ctx, server, "scopegate_openembedded_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	db, err := OpenEmbedded(ctx, u, database.Options{})
	if err == nil {
		db.Close()
		t.Fatal("OpenEmbedded opened PostgreSQL")
	}
	if !strings.Contains(err.Error(), "the embedded schema is for SQLite") {
		t.Errorf("OpenEmbedded on PostgreSQL: %v, want the refusal", err)
	}
}
