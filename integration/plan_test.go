package integration

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// planNode is one node of EXPLAIN (FORMAT JSON) output.
type planNode struct {
	NodeType  string     `json:"Node Type"`
	Relation  string     `json:"Relation Name"`
	IndexName string     `json:"Index Name"`
	IndexCond string     `json:"Index Cond"`
	OneTime   string     `json:"One-Time Filter"`
	Rows      float64    `json:"Plan Rows"`
	Plans     []planNode `json:"Plans"`
}

// walk calls f on n and every node under it (InitPlans and SubPlans
// included: EXPLAIN lists them among the children), but not under a node
// whose one-time filter is false: that subtree never runs (a banned user's
// `WHERE FALSE`).
func (n planNode) walk(f func(planNode)) {
	f(n)
	if n.OneTime == "false" {
		return
	}
	for _, c := range n.Plans {
		c.walk(f)
	}
}

// planTenantTables are the tables that grow with the tenants: a plan may
// read them only through an index probe. They are every table of the
// schema (join tables included, pgtest.Tables) but those of
// planUncheckedTables, so a new table is checked without an edit here.
var planTenantTables = func() map[string]bool {
	out := map[string]bool{}
	for _, t := range pgtest.Tables() {
		if _, unchecked := planUncheckedTables[t]; !unchecked {
			out[t] = true
		}
	}
	return out
}()

// planUncheckedTables are the tables whose plans are not held to index
// probes, each with why.
var planUncheckedTables = map[string]string{
	"organizations": "one row per tenant, and every scope reads at most its own",
	"audit_events":  "written by the audit hook, read by no repository statement",
}

// boundedProbe matches an index condition that pins a column to a value or
// a list of values (`=`, `= ANY`), or the slice of one tenant's keys: what
// reads a bounded part of the index rather than walking it.
var boundedProbe = regexp.MustCompile(`= |= ANY|ROW\(org_id, id\) < `)

// planScans returns, outermost first, how p reads each tenant table
// ("jobs/job_org_id_id"), and a problem for each read of a tenant table
// that is not a bounded index probe: a Seq Scan, or an index walked
// without a condition that bounds it (allWalk allows an (org_id, id) walk,
// the all-tenant system scope's list order).
func planScans(p planNode, allWalk bool) (scans, problems []string) {
	p.walk(func(n planNode) {
		if !planTenantTables[n.Relation] && !strings.HasPrefix(n.NodeType, "Bitmap Index") {
			return
		}
		switch n.NodeType {
		case "Seq Scan":
			scans = append(scans, n.Relation+"/seq")
			problems = append(problems, "Seq Scan on "+n.Relation)
		case "Index Scan", "Index Only Scan", "Bitmap Index Scan":
			scans = append(scans, strings.TrimPrefix(n.Relation+"/", "/")+n.IndexName)
			if !boundedProbe.MatchString(n.IndexCond) && !(allWalk && strings.HasSuffix(n.IndexName, "_org_id_id")) {
				problems = append(problems, fmt.Sprintf("%s walks %s (Index Cond %q)", n.NodeType, n.IndexName, n.IndexCond))
			}
		}
	})
	return scans, problems
}

// explainAs explains query with args as the application role under the
// settings of the scope in ctx (database.BeginTx, as the seam sets them),
// or as the owner without row-level security, in a transaction it rolls
// back. With analyze it runs the statement and returns its execution time.
func explainAs(ctx context.Context, db *pgtest.DB, owner bool, analyze bool, query string, args []any) (planNode, time.Duration, string, error) {
	var tx *sql.Tx
	var err error
	if owner {
		tx, err = db.Raw.BeginTx(ctx, nil)
	} else {
		tx, err = database.BeginTx(ctx, db.SQL, nil)
	}
	if err != nil {
		return planNode{}, 0, "", err
	}
	defer tx.Rollback()
	opts := "FORMAT JSON"
	if analyze {
		opts = "ANALYZE, FORMAT JSON"
	}
	var raw string
	if err := tx.QueryRowContext(ctx, "EXPLAIN ("+opts+") "+query, args...).Scan(&raw); err != nil {
		return planNode{}, 0, "", fmt.Errorf("explain: %w", err)
	}
	var out []struct {
		Plan      planNode `json:"Plan"`
		Execution float64  `json:"Execution Time"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil || len(out) != 1 {
		return planNode{}, 0, raw, fmt.Errorf("cannot read the plan (%v)", err)
	}
	return out[0].Plan, time.Duration(out[0].Execution * float64(time.Millisecond)), raw, nil
}

// The plan world: eleven tenants, the large one (org 1) with the highest
// ids in every table, as a tenant that grew after the others would have.
const (
	planBig        = 1
	planSmallOrgs  = 10     // orgs 2..11
	planSmallJobs  = 100000 // spread over the small tenants, lowest ids
	planBigJobs    = 100000 // the large tenant, highest ids
	planSmallUsers = 2000   // per small tenant
	planBigUsers   = 50000
	planSmallCos   = 200 // companies per small tenant
	planBigCos     = 20000
)

// Users of a tenant, by their number g (1-based) inside it: 1 is an admin,
// g ≡ 2 (mod 10) a manager, 8 and 9 clients, 5 (mod 10) banned, the rest
// members. A user's id is base+g.
const planRoleSQL = `CASE WHEN g = 1 THEN 'admin' WHEN g % 10 = 2 THEN 'manager' WHEN g % 10 IN (8, 9) THEN 'client' ELSE 'member' END`

// seedPlanWorld fills db with set-based SQL as the owner, foreign-key
// triggers off (the rows are valid by construction), and analyzes it.
func seedPlanWorld(t *testing.T, db *pgtest.DB) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Owner(t).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	// Small tenant k (0..9) is org 2+k; its users are k*500+g, its
	// companies k*50+g. The large tenant's users are 5000+g, companies
	// 500+g, jobs 100000+g.
	bigU, bigC := planSmallOrgs*planSmallUsers, planSmallOrgs*planSmallCos
	stmts := []string{
		`SET session_replication_role = replica`,
		`INSERT INTO organizations (id, created_at, updated_at, name, slug)
		 SELECT g, now(), now(), 'org ' || g, 'org-' || g FROM generate_series(1, 11) g`,
		fmt.Sprintf(`INSERT INTO companies (id, created_at, updated_at, name, org_id)
		 SELECT k * %[1]d + g, now(), now(), 'company ' || g, 2 + k FROM generate_series(0, 9) k, generate_series(1, %[1]d) g`, planSmallCos),
		fmt.Sprintf(`INSERT INTO companies (id, created_at, updated_at, name, org_id)
		 SELECT %d + g, now(), now(), 'company ' || g, 1 FROM generate_series(1, %d) g`, bigC, planBigCos),
		fmt.Sprintf(`INSERT INTO users (id, created_at, updated_at, email, name, role, banned, org_id, company_id)
		 SELECT k * %[1]d + g, now(), now(), 'u' || (k * %[1]d + g) || '@example.com', 'user', %[2]s, g %% 10 = 5, 2 + k,
		   CASE WHEN g %% 10 IN (8, 9) THEN k * %[3]d + 1 + g %% %[3]d END
		 FROM generate_series(0, 9) k, generate_series(1, %[1]d) g`, planSmallUsers, planRoleSQL, planSmallCos),
		fmt.Sprintf(`INSERT INTO users (id, created_at, updated_at, email, name, role, banned, org_id, company_id)
		 SELECT %[1]d + g, now(), now(), 'u' || (%[1]d + g) || '@example.com', 'user', %[2]s, g %% 10 = 5, 1,
		   CASE WHEN g %% 10 IN (8, 9) THEN %[3]d + 1 + g %% %[4]d END
		 FROM generate_series(1, %[5]d) g`, bigU, planRoleSQL, bigC, planBigCos, planBigUsers),
		// Jobs: 60% published, 30% draft, 10% archived; created by the
		// tenant's admin.
		fmt.Sprintf(`INSERT INTO jobs (id, created_at, updated_at, title, status, company_id, org_id, created_by_id)
		 SELECT g, now() - g * interval '1 second', now(), 'job ' || g,
		   CASE WHEN g / 10 %% 10 < 6 THEN 'published' WHEN g / 10 %% 10 < 9 THEN 'draft' ELSE 'archived' END,
		   (g %% 10) * %[2]d + 1 + (g / 10) %% %[2]d, 2 + g %% 10, (g %% 10) * %[3]d + 1
		 FROM generate_series(1, %[1]d) g`, planSmallJobs, planSmallCos, planSmallUsers),
		fmt.Sprintf(`INSERT INTO jobs (id, created_at, updated_at, title, status, company_id, org_id, created_by_id)
		 SELECT %[1]d + g, now() - g * interval '1 second', now(), 'job ' || g,
		   CASE WHEN g %% 10 < 6 THEN 'published' WHEN g %% 10 < 9 THEN 'draft' ELSE 'archived' END,
		   %[3]d + 1 + g %% %[4]d, 1, %[5]d + 1
		 FROM generate_series(1, %[2]d) g`, planSmallJobs, planBigJobs, bigC, planBigCos, bigU),
		// One manager per job, a second on every third; managers are the
		// users g ≡ 2 (mod 10) of the job's tenant.
		fmt.Sprintf(`INSERT INTO job_managers (job_id, user_id, org_id)
		 SELECT j.id, CASE WHEN j.org_id = 1 THEN %[1]d ELSE (j.org_id - 2) * %[2]d END + 2 + 10 * ((j.id + m) %% (CASE WHEN j.org_id = 1 THEN %[3]d ELSE %[2]d END / 10)), j.org_id
		 FROM jobs j, generate_series(0, 1) m WHERE m = 0 OR j.id %% 3 = 0`, bigU, planSmallUsers, planBigUsers),
		// Notes: one per small tenant's job, two per large tenant's job
		// (one internal), written by the tenant's admin.
		`INSERT INTO notes (created_at, updated_at, body, internal, job_id, org_id, author_id)
		 SELECT now() - n * interval '1 minute', now(), 'note', n = 2, j.id, j.org_id, j.created_by_id
		 FROM jobs j, generate_series(1, 2) n WHERE n = 1 OR j.org_id = 1`,
		// One session per user; the token of user u is "tok-u".
		`INSERT INTO sessions (token_hash, expires_at, created_at, user_id, org_id)
		 SELECT encode(sha256(('tok-' || id)::bytea), 'hex'), now() + interval '1 day', now(), id, org_id FROM users`,
		`RESET session_replication_role`,
		`ANALYZE`,
	}
	for _, q := range stmts {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
	var counts string
	if err := conn.QueryRowContext(ctx, `SELECT format('%s jobs, %s managers links, %s notes, %s users, %s companies, %s sessions',
		(SELECT count(*) FROM jobs), (SELECT count(*) FROM job_managers), (SELECT count(*) FROM notes),
		(SELECT count(*) FROM users), (SELECT count(*) FROM companies), (SELECT count(*) FROM sessions))`).Scan(&counts); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %s in %v", counts, time.Since(start).Round(time.Millisecond))
}

// planUser loads user id (as the system scope) and returns its scope's
// context.
func planUser(t *testing.T, db *pgtest.DB, id int) (*ent.User, context.Context) {
	t.Helper()
	u, err := db.User.Get(pgtest.SystemContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return u, pgtest.UserContext(t, u)
}

// planShape is one repository call whose statements are explained.
type planShape struct {
	name string
	run  func(ctx context.Context) error
}

// TestLargeTenantFirstPageUsesOrgIndex: docs/design.md section 8. A large tenant
// (100k jobs, half of the table) whose jobs have the highest ids: with
// PostgreSQL's default planner settings, the first page of its job list,
// as the repository sends it, must read the (org_id, id) index, not walk
// the primary key past every other tenant's rows; as the owner (no
// row-level security) and as the application role with the settings of
// an admin and of a manager of that tenant. It logs the execution time
// (EXPLAIN ANALYZE; the target is under 1 ms, reported, not asserted).
func TestLargeTenantFirstPageUsesOrgIndex(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	seedPlanWorld(t, db)
	client, capture := pgtest.NewCaptureClient(db)
	jobs := repo.Jobs{Client: client}
	bigAdmin := planSmallOrgs*planSmallUsers + 1
	for _, c := range []struct {
		who   string
		id    int
		owner bool
	}{
		{"owner", bigAdmin, true},
		{"admin", bigAdmin, false},
		{"manager", bigAdmin + 1, false},
	} {
		_, ctx := planUser(t, db, c.id)
		capture.Take()
		if _, err := jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		st := planListStatement(t, capture.Take(), "jobs")
		plan, _, raw, err := explainAs(st.Ctx, db, c.owner, false, st.Query, st.Args)
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.who, err, st.Query)
		}
		scans, problems := planScans(plan, false)
		if len(problems) > 0 || !slices.Contains(scans, "jobs/job_org_id_id") {
			t.Fatalf("as %s, the first page of the large tenant reads %v (%v), want jobs/job_org_id_id:\n%s\n%s", c.who, scans, problems, st.Query, raw)
		}
		var best time.Duration
		for i := 0; i < 5; i++ { // the first run reads the pages into the cache
			_, exec, _, err := explainAs(st.Ctx, db, c.owner, true, st.Query, st.Args)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 || exec < best {
				best = exec
			}
		}
		t.Logf("large tenant, first page of 50, as %s: %v, execution %.3f ms (best of 5)", c.who, scans, ms(best))
	}
}

// planListStatement returns the one captured SELECT from table.
func planListStatement(t *testing.T, sts []pgtest.Statement, table string) pgtest.Statement {
	t.Helper()
	for _, st := range sts {
		if strings.HasPrefix(st.Query, "SELECT ") && strings.Contains(st.Query, ` FROM "`+table+`"`) {
			return st
		}
	}
	t.Fatalf("no statement from %s among %d", table, len(sts))
	return pgtest.Statement{}
}

// TestPlanScopedQueries: every query shape the repositories and the preload
// registry send, captured from real calls under the scopes of every role
// of the large tenant and of a small one, and under system scopes,
// explained (with its arguments, default planner settings, after ANALYZE,
// 200k jobs) as the application role with the scope's settings. No plan
// may read a tenant table (planTenantTables) but by a bounded index probe.
func TestPlanScopedQueries(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	seedPlanWorld(t, db)
	client, capture := pgtest.NewCaptureClient(db)
	r := struct {
		jobs      repo.Jobs
		companies repo.Companies
		users     repo.Users
		notes     repo.Notes
		auth      auth.Service
	}{repo.Jobs{Client: client}, repo.Companies{Client: client}, repo.Users{Client: client}, repo.Notes{Client: client}, auth.Service{Client: client}}

	bigU := planSmallOrgs * planSmallUsers
	// Users of the large tenant (g: 1 admin, 2 manager, 3 member, 8
	// client, 5 banned) and the admin and a client of small tenant 2.
	actors := []struct {
		name string
		id   int
	}{
		{"admin", bigU + 1}, {"manager", bigU + 2}, {"member", bigU + 3}, {"client", bigU + 8}, {"banned", bigU + 5},
		{"small-admin", 1}, {"small-client", 8},
	}
	// Preload paths that, together, use every edge of the registry on the
	// surface, at depth (docs/design.md section 4).
	paths := map[preload.Surface]map[preload.Entity]string{
		preload.SurfaceUser: {
			preload.Job:     "company.jobs.managers,managers.company,notes.author.company",
			preload.Company: "jobs.notes.author,jobs.managers.company",
			preload.User:    "company.jobs.notes",
			preload.Note:    "author.company.jobs",
		},
		preload.SurfaceAdmin: {
			preload.Job:     "company.jobs.creator,managers.managed_jobs.notes,notes.author.managed_jobs,creator.company",
			preload.Company: "jobs.managers.managed_jobs,jobs.notes.author",
			preload.User:    "managed_jobs.company.jobs,company.jobs.creator",
			preload.Note:    "author.managed_jobs.notes",
		},
	}
	shapes := func(surface preload.Surface, jobID, companyID, userID int, cursor string) []planShape {
		p := paths[surface]
		return []planShape{
			{"jobs.list", func(ctx context.Context) error {
				_, err := r.jobs.List(ctx, surface, repo.JobFilter{}, repo.ListOptions{})
				return err
			}},
			{"jobs.list after a cursor", func(ctx context.Context) error {
				_, err := r.jobs.List(ctx, surface, repo.JobFilter{}, repo.ListOptions{Cursor: cursor})
				return err
			}},
			{"jobs.list status=published", func(ctx context.Context) error {
				_, err := r.jobs.List(ctx, surface, repo.JobFilter{Status: "published"}, repo.ListOptions{})
				return err
			}},
			{"jobs.list status=draft", func(ctx context.Context) error {
				_, err := r.jobs.List(ctx, surface, repo.JobFilter{Status: "draft"}, repo.ListOptions{})
				return err
			}},
			{"jobs.list preload " + p[preload.Job], func(ctx context.Context) error {
				_, err := r.jobs.List(ctx, surface, repo.JobFilter{}, repo.ListOptions{Preload: p[preload.Job], Limit: repo.MaxLimit})
				return err
			}},
			{"jobs.get preload " + p[preload.Job], func(ctx context.Context) error {
				_, _, err := r.jobs.Get(ctx, surface, jobID, repo.GetOptions{Preload: p[preload.Job]})
				return err
			}},
			{"companies.list preload " + p[preload.Company], func(ctx context.Context) error {
				_, err := r.companies.List(ctx, surface, repo.ListOptions{Preload: p[preload.Company]})
				return err
			}},
			{"companies.get", func(ctx context.Context) error {
				_, _, err := r.companies.Get(ctx, surface, companyID, repo.GetOptions{})
				return err
			}},
			{"users.list preload " + p[preload.User], func(ctx context.Context) error {
				_, err := r.users.List(ctx, surface, repo.ListOptions{Preload: p[preload.User]})
				return err
			}},
			{"users.get", func(ctx context.Context) error {
				_, _, err := r.users.Get(ctx, surface, userID, repo.GetOptions{})
				return err
			}},
			{"notes.list of a job preload " + p[preload.Note], func(ctx context.Context) error {
				_, err := r.notes.List(ctx, surface, jobID, repo.ListOptions{Preload: p[preload.Note]})
				return err
			}},
		}
	}

	var failures, gaps []string
	check := func(who string, shape planShape, ctx context.Context, allWalk bool) {
		capture.Take()
		if err := shape.run(ctx); err != nil && !errors.Is(err, repo.ErrNotFound) {
			t.Fatalf("%s %s: %v", who, shape.name, err)
		}
		for _, st := range capture.Take() {
			// Reads only: SELECTs, and the WITH of the per-parent capped
			// eager loads (preload's perParentLimit); not the settings.
			isRead := strings.HasPrefix(st.Query, "SELECT ") || strings.HasPrefix(st.Query, "WITH ")
			if !isRead || strings.HasPrefix(st.Query, "SELECT set_config(") {
				continue
			}
			plan, _, raw, err := explainAs(st.Ctx, db, false, false, st.Query, st.Args)
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", who, shape.name, err, st.Query)
			}
			scans, problems := planScans(plan, allWalk)
			t.Logf("%-12s %-70s %-22s %v", who, shape.name, rlsLabel(st.Query), scans)
			switch {
			case len(problems) > 0 && (planParents(st.Args) > planFanOut || plan.Rows > planFanOut):
				gaps = append(gaps, fmt.Sprintf("%s %s: %s for %d values (array elements counted), %.0f rows expected: %v", who, shape.name, rlsLabel(st.Query), planParents(st.Args), plan.Rows, problems))
			case len(problems) > 0:
				failures = append(failures, fmt.Sprintf("%s %s: %s with %d arguments, %.0f rows expected: %v\n%s\nargs %v\n%s", who, shape.name, rlsLabel(st.Query), len(st.Args), plan.Rows, problems, st.Query, st.Args, raw))
			}
		}
	}

	for _, a := range actors {
		u, ctx := planUser(t, db, a.id)
		// A job, a company and a user the scope sees, if any (the banned
		// user sees none: the shapes then answer not found).
		jobID, companyID, userID := 0, 0, u.ID
		if p, err := r.jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Limit: 1}); err == nil && len(p.Items) > 0 {
			jobID = p.Items[0].ID
		}
		if p, err := r.companies.List(ctx, preload.SurfaceUser, repo.ListOptions{Limit: 1}); err == nil && len(p.Items) > 0 {
			companyID = p.Items[0].ID
		}
		surfaces := []preload.Surface{preload.SurfaceUser}
		if u.Role == "admin" {
			surfaces = append(surfaces, preload.SurfaceAdmin)
		}
		for _, surface := range surfaces {
			first, err := r.jobs.List(ctx, surface, repo.JobFilter{}, repo.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, shape := range shapes(surface, jobID, companyID, userID, first.NextCursor) {
				if shape.name == "jobs.list after a cursor" && first.NextCursor == "" {
					continue
				}
				check(a.name+"/"+surface.String(), shape, ctx, false)
			}
		}
		if u.Role == "admin" {
			// Deleting a company with jobs counts them, then refuses
			// (conflict): the one count a route sends.
			check(a.name, planShape{"companies.delete counts jobs", func(ctx context.Context) error {
				err := r.companies.Delete(ctx, companyID)
				if err == nil {
					return fmt.Errorf("deleted a company with jobs")
				}
				return nil
			}}, ctx, false)
		}
		// Authentication of the user's token: the session by its hash,
		// then the user.
		check(a.name, planShape{"auth.authenticate", func(ctx context.Context) error {
			_, err := r.auth.Authenticate(context.Background(), fmt.Sprintf("tok-%d", u.ID))
			if err != nil && !u.Banned {
				return err
			}
			return nil
		}}, ctx, false)
	}

	// System scopes: all tenants (pages in (org_id, id) order, walking
	// that index), and narrowed to the large tenant.
	sys, err := scope.System("plan test").Scope()
	if err != nil {
		t.Fatal(err)
	}
	inOrg, err := scope.System("plan test").InOrg(planBig).Scope()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		s    scope.Scope
		all  bool
	}{{"system-all", sys, true}, {"system-inorg", inOrg, false}} {
		ctx := scope.NewContext(context.Background(), c.s)
		first, err := r.jobs.List(ctx, preload.SurfaceAdmin, repo.JobFilter{}, repo.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range shapes(preload.SurfaceAdmin, planSmallJobs+1, planSmallOrgs*planSmallCos+1, bigU+1, first.NextCursor)[:5] {
			check(c.name, shape, ctx, c.all)
		}
	}

	// The policies' lookup functions are PL/pgSQL: EXPLAIN shows their
	// call, not their plan. Explain their queries under each scope (every
	// scope, though the users policy calls scopegate_client_managers only
	// for clients: under any other its conditions still bound the probe).
	var bodies []string
	rows, err := db.Raw.Query(`SELECT prosrc FROM pg_proc WHERE proname IN ('scopegate_managed_jobs', 'scopegate_client_managers', 'scopegate_token_user') ORDER BY proname`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var src string
		if err := rows.Scan(&src); err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`RETURN \((.*)\); END`).FindStringSubmatch(src)
		if m == nil {
			t.Fatalf("cannot read the query of %s", src)
		}
		bodies = append(bodies, m[1])
	}
	rows.Close()
	for _, a := range actors {
		_, ctx := planUser(t, db, a.id)
		for _, q := range bodies {
			plan, _, raw, err := explainAs(ctx, db, false, false, q, nil)
			if err != nil {
				t.Fatal(err)
			}
			scans, problems := planScans(plan, false)
			t.Logf("%-12s %-70s %v", a.name, "policy lookup "+q, scans)
			if len(problems) > 0 {
				failures = append(failures, fmt.Sprintf("%s policy lookup: %v\n%s\n%s", a.name, problems, q, raw))
			}
		}
	}
	for _, g := range gaps {
		t.Logf("known gap: %s", g)
	}
	for _, f := range failures {
		t.Error(f)
	}
}

// planParents counts the values a statement is sent: each id of an array
// parameter (eager loads send their parent ids as one "{1,2,…}", see
// ent/eagerin.go) and each other argument.
func planParents(args []any) int {
	n := 0
	for _, a := range args {
		if s, ok := a.(string); ok && strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			n += strings.Count(s, ",") + 1
			continue
		}
		n++
	}
	return n
}

// planFanOut: an eager load with more parent ids than this, or expected to
// return more rows, that does not probe is a known gap, logged rather than
// failed; every other shape must probe. With company.jobs and
// user.managed_jobs capped at 20 per parent, what is left are depth-3 loads
// of thousands of rows (docs/database.md, "Known gaps"): the managers of
// ~2,400 jobs (a small tenant's admin, company.jobs.managers), which reads
// job_managers whole; the notes of ~3,000 jobs (managers.managed_jobs.notes,
// an admin and the system scopes), whose notes policy plans a hashed SubPlan
// over jobs that those scopes never run; and the managed jobs of 200
// managers of every tenant (the all-tenant system scope), hashed from jobs.
const planFanOut = 1000
