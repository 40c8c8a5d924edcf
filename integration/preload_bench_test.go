package integration

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lib/pq"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// seedBenchWorld inserts orgs organizations of jobsPerOrg jobs each, with
// one company, a manager and two notes per job, by plain SQL (the data is
// fixture, not under test). It returns an admin of the first organization.
func seedBenchWorld(b *testing.B, db *pgtest.DB, orgs, jobsPerOrg int) *ent.User {
	b.Helper()
	ctx := context.Background()
	stmts := []string{
		`INSERT INTO organizations (name, slug, created_at, updated_at) SELECT 'org'||g, 'org'||g, now(), now() FROM generate_series(1, $1::int) g`,
		`INSERT INTO users (org_id, email, name, role, banned, active, created_at, updated_at)
		   SELECT o.id, 'admin'||o.id||'@x', 'admin', 'admin', false, true, now(), now() FROM organizations o`,
		`INSERT INTO companies (org_id, name, archived, created_at, updated_at) SELECT o.id, 'co', false, now(), now() FROM organizations o`,
		`INSERT INTO jobs (org_id, company_id, title, description, status, created_by_id, created_at, updated_at)
		   SELECT c.org_id, c.id, 'job'||g, '', 'published', u.id, now(), now()
		   FROM companies c JOIN users u ON u.org_id = c.org_id, generate_series(1, $1::int) g`,
		`INSERT INTO job_managers (job_id, user_id) SELECT j.id, j.created_by_id FROM jobs j`,
		`INSERT INTO notes (org_id, job_id, author_id, body, internal, created_at, updated_at)
		   SELECT j.org_id, j.id, j.created_by_id, 'note', g = 2, now() - g * interval '1 minute', now() FROM jobs j, generate_series(1, 2) g`,
		`ANALYZE`,
	}
	args := [][]any{{orgs}, nil, nil, {jobsPerOrg}, nil, nil, nil}
	owner := db.Owner(b) // ANALYZE is the owner's
	for i, s := range stmts {
		if _, err := owner.ExecContext(ctx, s, args[i]...); err != nil {
			b.Fatalf("seed %d: %v", i, err)
		}
	}
	u, err := db.User.Query().Where(user.Email("admin1@x")).Only(pgtest.SystemContext(b))
	if err != nil {
		// The first org's id may not be 1 on a reused sequence.
		u, err = db.User.Query().Where(user.RoleEQ(user.RoleAdmin)).Order(user.ByID()).First(pgtest.SystemContext(b))
	}
	if err != nil {
		b.Fatal(err)
	}
	return u
}

const benchPaths = "company,managers,notes.author"

// BenchmarkPreloadList lists 200 jobs with company,managers,notes.author in
// three ways, interleaved in shuffled rounds so that machine noise hits all
// of them alike: (a) through the repository and the registry, (b) with the
// same ent WithX calls written by hand, (c) with the same statements written
// by hand with database/sql and lib/pq. It reports the medians of the paired
// ratios a/b and a/c.
func BenchmarkPreloadList(b *testing.B) {
	db := pgtest.New(b)
	admin := seedBenchWorld(b, db, 50, 400)
	ctx := pgtest.UserContext(b, admin)
	const n = 200
	variants := []struct {
		name string
		run  func() (int, error)
	}{
		// Each variant reads in one transaction with the scope's
		// settings, as an HTTP request does (database.WithReadUnit).
		{"registry", func() (int, error) {
			ctx, end := database.WithReadUnit(ctx)
			defer end()
			p, err := repo.Jobs{Client: db.Client}.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: benchPaths, Limit: n})
			return len(p.Items), err
		}},
		{"ent", func() (int, error) {
			ctx, end := database.WithReadUnit(ctx)
			defer end()
			jobs, err := db.Job.Query().Where(job.IDGT(0)).Order(job.ByID()).Limit(n + 1).
				WithCompany().
				WithManagers(func(q *ent.UserQuery) {
					q.Where(user.Active(true)).Order(user.ByUpdatedAt(entsql.OrderDesc()), user.ByID(entsql.OrderDesc()))
				}).
				WithNotes(func(q *ent.NoteQuery) {
					q.Where(note.Internal(false)).Order(note.ByCreatedAt(entsql.OrderDesc()), note.ByID(entsql.OrderDesc()))
					q.Modify(handPerParentLimit)
					q.WithAuthor()
				}).All(ctx)
			return min(len(jobs), n), err
		}},
		{"sql", func() (int, error) { return handWrittenList(ctx, db.SQL, admin.OrgID, n) }},
	}
	for _, v := range variants { // warm up and check each returns a page
		got, err := v.run()
		if err != nil || got != n {
			b.Fatalf("%s: %d rows, %v", v.name, got, err)
		}
	}
	rounds := max(b.N, 30)
	times := make([][]time.Duration, len(variants))
	order := []int{0, 1, 2}
	b.ResetTimer()
	for r := 0; r < rounds; r++ {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, i := range order {
			start := time.Now()
			if _, err := variants[i].run(); err != nil {
				b.Fatal(err)
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	b.StopTimer()
	ratio := func(x, y int) float64 {
		rs := make([]float64, rounds)
		for r := range rs {
			rs[r] = float64(times[x][r]) / float64(times[y][r])
		}
		slices.Sort(rs)
		return rs[len(rs)/2]
	}
	median := func(i int) time.Duration {
		ts := slices.Clone(times[i])
		slices.Sort(ts)
		return ts[len(ts)/2]
	}
	b.ReportMetric(ratio(0, 1), "registry/ent")
	b.ReportMetric(ratio(0, 2), "registry/sql")
	b.ReportMetric(float64(median(0).Microseconds()), "registry-µs")
	b.ReportMetric(float64(median(1).Microseconds()), "ent-µs")
	b.ReportMetric(float64(median(2).Microseconds()), "sql-µs")
	b.ReportMetric(0, "ns/op")
	fmt.Printf("preload list of %d jobs, %d rounds: median registry %v, ent %v, sql %v; paired medians registry/ent %.3f, registry/sql %.3f\n",
		n, rounds, median(0), median(1), median(2), ratio(0, 1), ratio(0, 2))
}

// handPerParentLimit is the same ROW_NUMBER wrapper the registry uses,
// written out again so that variant (b) shares no code with (a).
func handPerParentLimit(s *entsql.Selector) {
	d := entsql.Dialect(s.Dialect())
	s.SetDistinct(false)
	orderBy := []string{entsql.Desc(note.FieldCreatedAt), entsql.Desc(note.FieldID)}
	with := d.With("src").As(s.Clone().ClearOrder()).With("lim").As(
		d.Select("*").AppendSelectExprAs(entsql.RowNumber().PartitionBy(note.FieldJobID).OrderBy(orderBy...), "rn").From(d.Table("src")))
	t := d.Table("lim").As(s.TableName())
	outer := d.Select(s.UnqualifiedColumns()...).From(t).Where(entsql.LTE(t.C("rn"), preload.NotesPerJob))
	outer.OrderBy(orderBy...)
	*s = *outer.Prefix(with)
}

type benchJob struct {
	ID, OrgID, CompanyID, CreatedByID int
	Title, Description, Status        string
	SalaryMax                         sql.NullInt64
	CreatedAt, UpdatedAt              time.Time
	Company                           *benchCompany
	Managers                          []*benchUser
	Notes                             []*benchNote
}
type benchCompany struct {
	ID, OrgID            int
	Name                 string
	Archived             bool
	CreatedAt, UpdatedAt time.Time
}
type benchUser struct {
	ID, OrgID            int
	Email, Name, Role    string
	Phone, PasswordHash  sql.NullString
	CompanyID            sql.NullInt64
	Banned, Active       bool
	CreatedAt, UpdatedAt time.Time
}
type benchNote struct {
	ID, OrgID, JobID, AuthorID int
	Body                       string
	Internal                   bool
	CreatedAt, UpdatedAt       time.Time
	Author                     *benchUser
}

const userCols = `u.id, u.org_id, u.email, u.name, u.role, u.phone, u.password_hash, u.company_id, u.banned, u.active, u.created_at, u.updated_at`

func scanUser(sc interface{ Scan(...any) error }, extra ...any) (*benchUser, error) {
	u := &benchUser{}
	dst := append(extra, &u.ID, &u.OrgID, &u.Email, &u.Name, &u.Role, &u.Phone, &u.PasswordHash, &u.CompanyID, &u.Banned, &u.Active, &u.CreatedAt, &u.UpdatedAt)
	return u, sc.Scan(dst...)
}

// handWrittenList is the floor: the statements the registry sends (tenant
// filter included, each eager load's parent ids as one array) with
// database/sql, scanned into plain structs, assembling the same tree, in
// one read-only transaction with the scope's settings, as the seam runs a
// request's reads (row-level security shows nothing without them).
//
// The page's statement has the registry's shape: the position as a
// parameter (id > $2) and the page size written into it (LIMIT 201), as
// ent writes it. With LIMIT as a parameter PostgreSQL plans the cached
// generic plan for an unknown limit and picks another plan (an index scan
// in id order instead of a bitmap scan and a sort, here): a different
// statement, and a quarter of a millisecond faster on this dataset.
//
// Its end does not wait for the ROLLBACK, as the seam's read unit does
// not wait for its COMMIT (database.WithReadUnit): the transaction read
// only, so there is nothing to learn from its end.
func handWrittenList(ctx context.Context, pool *sql.DB, org, n int) (int, error) {
	db, err := database.BeginTx(ctx, pool, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer func() { go db.Rollback() }() // read-only: nothing to commit or wait for
	rows, err := db.QueryContext(ctx, `SELECT id, org_id, company_id, created_by_id, title, description, status, salary_max, created_at, updated_at
		FROM jobs WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT `+strconv.Itoa(n+1), org, 0)
	if err != nil {
		return 0, err
	}
	var jobs []*benchJob
	byID := map[int]*benchJob{}
	for rows.Next() {
		j := &benchJob{}
		if err := rows.Scan(&j.ID, &j.OrgID, &j.CompanyID, &j.CreatedByID, &j.Title, &j.Description, &j.Status, &j.SalaryMax, &j.CreatedAt, &j.UpdatedAt); err != nil {
			return 0, err
		}
		jobs = append(jobs, j)
		byID[j.ID] = j
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if len(jobs) > n {
		jobs = jobs[:n]
	}
	jobIDs := make([]int64, len(jobs))
	companySet := map[int]bool{}
	var companyIDs []int64
	for i, j := range jobs {
		jobIDs[i] = int64(j.ID)
		if !companySet[j.CompanyID] {
			companySet[j.CompanyID] = true
			companyIDs = append(companyIDs, int64(j.CompanyID))
		}
	}
	rows, err = db.QueryContext(ctx, `SELECT id, org_id, name, archived, created_at, updated_at FROM companies WHERE id = ANY($1) AND org_id = $2`, pq.Array(companyIDs), org)
	if err != nil {
		return 0, err
	}
	companies := map[int]*benchCompany{}
	for rows.Next() {
		c := &benchCompany{}
		if err := rows.Scan(&c.ID, &c.OrgID, &c.Name, &c.Archived, &c.CreatedAt, &c.UpdatedAt); err != nil {
			return 0, err
		}
		companies[c.ID] = c
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	for _, j := range jobs {
		j.Company = companies[j.CompanyID]
	}
	rows, err = db.QueryContext(ctx, `SELECT t.job_id, `+userCols+` FROM users u JOIN job_managers t ON u.id = t.user_id
		WHERE u.active AND t.job_id = ANY($1) AND u.org_id = $2 ORDER BY u.updated_at DESC, u.id DESC`, pq.Array(jobIDs), org)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var jobID int
		u, err := scanUser(rows, &jobID)
		if err != nil {
			return 0, err
		}
		byID[jobID].Managers = append(byID[jobID].Managers, u)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	rows, err = db.QueryContext(ctx, `SELECT id, org_id, job_id, author_id, body, internal, created_at, updated_at FROM (
		SELECT n.*, ROW_NUMBER() OVER (PARTITION BY job_id ORDER BY created_at DESC, id DESC) AS rn
		FROM notes n WHERE NOT internal AND job_id = ANY($1) AND org_id = $2) l
		WHERE rn <= $3 ORDER BY created_at DESC, id DESC`, pq.Array(jobIDs), org, preload.NotesPerJob)
	if err != nil {
		return 0, err
	}
	var notes []*benchNote
	authorSet := map[int]bool{}
	var authorIDs []int64
	for rows.Next() {
		nt := &benchNote{}
		if err := rows.Scan(&nt.ID, &nt.OrgID, &nt.JobID, &nt.AuthorID, &nt.Body, &nt.Internal, &nt.CreatedAt, &nt.UpdatedAt); err != nil {
			return 0, err
		}
		notes = append(notes, nt)
		byID[nt.JobID].Notes = append(byID[nt.JobID].Notes, nt)
		if !authorSet[nt.AuthorID] {
			authorSet[nt.AuthorID] = true
			authorIDs = append(authorIDs, int64(nt.AuthorID))
		}
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	rows, err = db.QueryContext(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = ANY($1) AND u.org_id = $2`, pq.Array(authorIDs), org)
	if err != nil {
		return 0, err
	}
	authors := map[int]*benchUser{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return 0, err
		}
		authors[u.ID] = u
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	for _, nt := range notes {
		nt.Author = authors[nt.AuthorID]
	}
	return len(jobs), nil
}
