package pgtest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
)

// TestSumsSeeEveryChange: the checksums every "nothing changed" check
// compares move when a row of any table is updated, inserted or deleted,
// and only in that table; they stay put when nothing is written.
func TestSumsSeeEveryChange(t *testing.T) {
	db := pgtest.New(t)
	seed := pgtest.NewSeeder(db.Client)
	org := pgtest.Seed(t, db.Client, func(ctx context.Context, tx *ent.Tx) (*ent.Organization, error) {
		return tx.Organization.Create().SetName("A").SetSlug("a").Save(ctx)
	})
	co := seed.Company(t, org.ID)
	admin := seed.User(t, org.ID, user.RoleAdmin, nil)
	manager := seed.User(t, org.ID, user.RoleManager, nil)
	j := seed.Job(t, co, admin, job.StatusPublished, manager)
	seed.Note(t, j, admin, false)
	seed.Session(t, admin)

	before := db.Sums(t)
	if changed := before.Changed(db.Sums(t)); len(changed) > 0 {
		t.Fatalf("nothing was written, but %v changed", changed)
	}
	for _, tbl := range pgtest.Tables() {
		var n int
		if err := db.Raw.QueryRow(`SELECT count(*) FROM ` + tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%s has no row: the test could not see its changes", tbl)
		}
	}
	for _, c := range []struct {
		table string
		sql   string
	}{
		{"organizations", `UPDATE organizations SET name = name || 'x'`},
		{"companies", `UPDATE companies SET archived = NOT archived`},
		{"jobs", `UPDATE jobs SET title = title || 'x'`},
		{"users", `UPDATE users SET phone = phone || 'x' WHERE id = (SELECT min(id) FROM users)`},
		{"job_managers", `DELETE FROM job_managers`},
		{"notes", `INSERT INTO notes (created_at, updated_at, body, internal, job_id, org_id, author_id)
			SELECT now(), now(), 'x', false, job_id, org_id, author_id FROM notes LIMIT 1`},
		{"sessions", `UPDATE sessions SET expires_at = expires_at + interval '1 second'`},
		{"audit_events", `DELETE FROM audit_events WHERE id = (SELECT max(id) FROM audit_events)`},
	} {
		before := db.Sums(t)
		if _, err := db.Raw.Exec(c.sql); err != nil {
			t.Fatalf("%s: %v", c.sql, err)
		}
		if got := before.Changed(db.Sums(t)); !slices.Equal(got, []string{c.table}) {
			t.Errorf("%s: changed %v, want [%s]", c.sql, got, c.table)
		}
	}
}

// TestTablesAreTheSchemas: Tables lists every table of the ent schema,
// the join table included, sorted; HasColumn reads the schema's columns.
func TestTablesAreTheSchemas(t *testing.T) {
	got := pgtest.Tables()
	if !slices.Contains(got, "job_managers") || !slices.IsSorted(got) {
		t.Errorf("Tables() = %v: want every table, join tables included, sorted", got)
	}
	for _, tbl := range ent.TableOf {
		if !slices.Contains(got, tbl) {
			t.Errorf("Tables() = %v: no %s", got, tbl)
		}
	}
	if !pgtest.HasColumn("jobs", "updated_at") || pgtest.HasColumn("sessions", "updated_at") || pgtest.HasColumn("nothing", "id") {
		t.Error("HasColumn does not read the ent schema: jobs.updated_at exists, sessions.updated_at and nothing.id do not")
	}
}
