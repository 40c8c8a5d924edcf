package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"testing"
	"time"

	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// planNode is one node of EXPLAIN (FORMAT JSON) output.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	IndexName string     `json:"Index Name"`
	Plans     []planNode `json:"Plans"`
}

// planIndexes lists the indexes a plan scans, outermost first.
func planIndexes(n planNode) []string {
	var out []string
	if n.IndexName != "" {
		out = append(out, n.IndexName)
	}
	for _, c := range n.Plans {
		out = append(out, planIndexes(c)...)
	}
	return out
}

// explainFirstJobPage returns the plan of the first page of a tenant's job
// list, as ent sends it (keyset pagination: ORDER BY id LIMIT page+1).
func explainFirstJobPage(t *testing.T, ctx context.Context, conn interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, org int) (planNode, string) {
	t.Helper()
	var raw string
	err := conn.QueryRowContext(ctx, `EXPLAIN (FORMAT JSON)
SELECT id, created_at, updated_at, title, description, status, salary_max, company_id, org_id, created_by_id
FROM jobs WHERE org_id = $1 ORDER BY id LIMIT 51`, org).Scan(&raw)
	if err != nil {
		t.Fatal(err)
	}
	var plans []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(raw), &plans); err != nil || len(plans) != 1 {
		t.Fatalf("cannot read the plan (%v):\n%s", err, raw)
	}
	return plans[0].Plan, raw
}

// TestLargeTenantFirstPageUsesOrgIndex: DESIGN section 8. A large tenant
// whose jobs have the highest ids: with the default random_page_cost (4) the
// planner may walk the primary key and discard every other tenant's rows;
// with random_page_cost = 1.1, as docs/database.md says to configure, it
// must use (org_id, id).
func TestLargeTenantFirstPageUsesOrgIndex(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// As the owner: the fixture is loaded with triggers off and analyzed.
	pdb := pgtest.New(t)
	db := pdb.Owner(t)
	// Settings apply to one connection: keep it.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	start := time.Now()
	// Skipping the foreign-key triggers halves the time of the inserts
	// (the rows are valid). It needs a superuser; without one it is slower.
	if _, err := conn.ExecContext(ctx, `SET session_replication_role = replica`); err != nil {
		t.Logf("foreign-key checks stay on: %v", err)
	}
	// Organizations 1 to 11; 1 is the large tenant, 2 to 11 are small.
	const big, small = 1, 5
	for _, q := range []string{
		`INSERT INTO organizations (id, created_at, updated_at, name, slug)
		 SELECT g, now(), now(), 'org ' || g, 'org-' || g FROM generate_series(1, 11) g`,
		`INSERT INTO companies (id, created_at, updated_at, name, org_id)
		 SELECT g, now(), now(), 'company', g FROM generate_series(1, 11) g`,
		`INSERT INTO users (id, created_at, updated_at, email, name, role, org_id)
		 SELECT g, now(), now(), 'admin' || g || '@example.com', 'admin', 'admin', g FROM generate_series(1, 11) g`,
		`INSERT INTO users (id, created_at, updated_at, email, name, role, org_id)
		 VALUES (12, now(), now(), 'manager@example.com', 'manager', 'manager', 1)`,
		// 100k jobs of the small tenants first (lower ids), then 100k of the large one.
		`INSERT INTO jobs (created_at, updated_at, title, status, company_id, org_id, created_by_id)
		 SELECT now(), now(), 'job ' || g, 'published', 2 + g % 10, 2 + g % 10, 2 + g % 10 FROM generate_series(1, 100000) g`,
		`INSERT INTO jobs (created_at, updated_at, title, status, company_id, org_id, created_by_id)
		 SELECT now(), now(), 'job ' || g, 'published', 1, 1, 1 FROM generate_series(1, 100000) g`,
		`RESET session_replication_role`,
		`ANALYZE jobs`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	t.Logf("seeded 200k jobs in %v", time.Since(start).Round(time.Millisecond))

	def, _ := explainFirstJobPage(t, ctx, conn, big)
	t.Logf("default random_page_cost: scans %v", planIndexes(def))

	if _, err := conn.ExecContext(ctx, `SET random_page_cost = 1.1`); err != nil {
		t.Fatal(err)
	}
	plan, raw := explainFirstJobPage(t, ctx, conn, big)
	got := planIndexes(plan)
	if len(got) == 0 || got[0] != "job_org_id_id" {
		t.Fatalf("with random_page_cost = 1.1 the first page of a large tenant scans %v, want job_org_id_id:\n%s", got, raw)
	}
	// A small tenant uses it too.
	if plan, raw := explainFirstJobPage(t, ctx, conn, small); len(planIndexes(plan)) == 0 || planIndexes(plan)[0] != "job_org_id_id" {
		t.Fatalf("the first page of a small tenant scans %v, want job_org_id_id:\n%s", planIndexes(plan), raw)
	}

	// Under row-level security: as the application role, with the settings
	// of an admin and of a manager of the large tenant, whose policies add
	// their own conditions to the same query.
	for _, u := range []scope.User{{ID: 1, OrgID: big, Role: scope.RoleAdmin}, {ID: 12, OrgID: big, Role: scope.RoleManager}} {
		s, err := scope.ForUser(u)
		if err != nil {
			t.Fatal(err)
		}
		sctx := scope.NewContext(ctx, s)
		tx, err := database.BeginTx(sctx, pdb.SQL, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(sctx, `SET LOCAL random_page_cost = 1.1`); err != nil {
			t.Fatal(err)
		}
		plan, raw := explainFirstJobPage(t, sctx, tx, big)
		_ = tx.Rollback()
		if got := planIndexes(plan); len(got) == 0 || got[0] != "job_org_id_id" {
			t.Fatalf("under row-level security, as %s, the first page of a large tenant scans %v, want job_org_id_id:\n%s", u.Role, got, raw)
		}
	}
}
