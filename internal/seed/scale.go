// Package seed writes large worlds fast, for benchmarks and for trying the
// server at size: many organizations of the same shape (companies, users
// of every role, jobs with their managers and notes), optionally one large
// tenant whose jobs get the highest ids, written with COPY through lib/pq
// as the application role, row-level security in force.
//
// Why staging tables: PostgreSQL refuses COPY FROM into a table with
// row-level security for every role the policies apply to ("COPY FROM not
// supported with row-level security"), and FORCE ROW LEVEL SECURITY makes
// that the schema owner too; only a superuser or a BYPASSRLS role could
// COPY straight in, and the application role is neither (docs/design.md section
// 8). So each batch is COPYed into session-local temporary tables (no
// policies, no indexes, no WAL), then moved with one INSERT … SELECT per
// table, which the policies check under the run's audited system scope
// (scopegate.system = all) like any other write, and which the tenant-safe
// foreign keys check row by row.
package seed

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"entgo.io/ent/dialect"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// Password is every seeded user's password. Seeded data only: all users
// share one bcrypt hash, computed once (a hash per user would take hours at
// bcrypt's cost).
const Password = "scale-password"

// Caps on a Shape: beyond them a run is a typo, not a benchmark.
const (
	MaxOrgs            = 10_000
	MaxJobsPerOrg      = 1_000_000
	MaxLargeTenantJobs = 10_000_000
	MaxTotalJobs       = 10_000_000 // Orgs × JobsPerOrg + LargeTenantJobs
	MaxManagersPerJob  = 10
	MaxNotesPerJob     = 50
)

// Defaults of a Shape's per-job fields.
const (
	DefaultManagersPerJob = 2
	DefaultNotesPerJob    = 4
	// DefaultBatchJobs is how many jobs (with their links and notes) one
	// transaction writes: enough to amortize the statements, few enough
	// that the staging tables stay within a few MB of temp buffers.
	DefaultBatchJobs = 10_000
)

// ErrShape is returned for a Shape outside the caps.
var ErrShape = errors.New("seed: invalid shape")

// ErrNotPostgres is returned for a database that is not PostgreSQL: COPY
// is PostgreSQL's.
var ErrNotPostgres = errors.New("seed: scale seeding needs PostgreSQL (COPY)")

// ErrIDsTaken is returned when the ids reserved for a table are not one
// contiguous block: something took values of the table's sequence during
// the reservation, past the table lock (a direct nextval). Nothing was
// written; run again.
var ErrIDsTaken = errors.New("seed: a concurrent writer took ids of the reserved block")

// Shape is the world a run writes.
type Shape struct {
	Orgs            int // small organizations, at least 1
	JobsPerOrg      int // jobs of each small organization, at least 1
	LargeTenantJobs int // 0: no large tenant; else one more organization, last, with this many jobs
	ManagersPerJob  int // join-table rows per job (NewShape: DefaultManagersPerJob)
	NotesPerJob     int // notes per job, half of them internal (NewShape: DefaultNotesPerJob)
	// Run tags the slugs and emails of this run ("scale-<run>-1"), so a
	// second run adds a second world beside the first. Empty: random.
	Run string
	// Seed drives the mix of statuses, salaries and who manages what.
	Seed uint64
	// BatchJobs: jobs per transaction; 0 means DefaultBatchJobs.
	BatchJobs int
}

// NewShape returns a shape with the per-job defaults.
func NewShape(orgs, jobsPerOrg, largeTenantJobs int) Shape {
	return Shape{Orgs: orgs, JobsPerOrg: jobsPerOrg, LargeTenantJobs: largeTenantJobs,
		ManagersPerJob: DefaultManagersPerJob, NotesPerJob: DefaultNotesPerJob, Seed: 1}
}

// Validate reports, as ErrShape, the first field outside its cap.
func (s Shape) Validate() error {
	check := func(ok bool, format string, a ...any) error {
		if ok {
			return nil
		}
		return fmt.Errorf("%w: "+format, append([]any{ErrShape}, a...)...)
	}
	total := int64(s.Orgs)*int64(s.JobsPerOrg) + int64(s.LargeTenantJobs)
	return errors.Join(
		check(s.Orgs >= 1 && s.Orgs <= MaxOrgs, "organizations must be 1 to %d, not %d", MaxOrgs, s.Orgs),
		check(s.JobsPerOrg >= 1 && s.JobsPerOrg <= MaxJobsPerOrg, "jobs per organization must be 1 to %d, not %d", MaxJobsPerOrg, s.JobsPerOrg),
		check(s.LargeTenantJobs >= 0 && s.LargeTenantJobs <= MaxLargeTenantJobs, "the large tenant's jobs must be 0 to %d, not %d", MaxLargeTenantJobs, s.LargeTenantJobs),
		check(total <= MaxTotalJobs, "at most %d jobs in all, not %d", MaxTotalJobs, total),
		check(s.ManagersPerJob >= 0 && s.ManagersPerJob <= MaxManagersPerJob, "managers per job must be 0 to %d, not %d", MaxManagersPerJob, s.ManagersPerJob),
		check(s.NotesPerJob >= 0 && s.NotesPerJob <= MaxNotesPerJob, "notes per job must be 0 to %d, not %d", MaxNotesPerJob, s.NotesPerJob),
		check(s.BatchJobs >= 0, "jobs per batch must not be negative"),
		check(s.Run == "" || validRun(s.Run), "run tag %q: lowercase letters and digits, 1 to 12", s.Run),
	)
}

func validRun(r string) bool {
	if len(r) == 0 || len(r) > 12 {
		return false
	}
	for _, c := range r {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Progress receives the progress of a run in jobs written. The CLI's
// progress bar satisfies it.
type Progress interface {
	Start(total int)
	Add(n int)
	Finish()
}

// Options of one run.
type Options struct {
	// Analyze runs ANALYZE at the end; nil uses the run's database. Only
	// a table's owner (or a superuser) may analyze it: as the application
	// role the step is skipped and Result.AnalyzeSkipped says so.
	Analyze *sql.DB
	// Progress may be nil.
	Progress Progress
	// Now is the clock of the timestamps; nil is time.Now.
	Now func() time.Time
}

// Tables lists the tables a run writes, in the order it writes them.
var Tables = []string{"organizations", "companies", "users", "jobs", "job_managers", "notes"}

// TableStat is what a run wrote to one table.
type TableStat struct {
	Table    string
	Rows     int
	Duration time.Duration
}

// Login is a seeded user worth trying.
type Login struct {
	Email, Role, Org string
	Jobs             int // jobs of their organization
}

// Result is what a run did.
type Result struct {
	Run            string
	Reason         string // the system scope's reason, in the audit events
	Tables         []TableStat
	Duration       time.Duration
	Analyzed       bool
	AnalyzeSkipped string // why ANALYZE did not run, if it did not
	Logins         []Login
	OrgIDs         []int // the organizations written, the large tenant last
}

// Rows returns the rows written to table.
func (r Result) Rows(table string) int {
	for _, t := range r.Tables {
		if t.Table == table {
			return t.Rows
		}
	}
	return 0
}

// orgPlan is one organization of the run and where its rows' ids start.
type orgPlan struct {
	id, index                           int // index: 1.. for small ones, 0 for the large tenant
	slug, name                          string
	jobs                                int
	companies                           int
	admins, managers, members, clients  int
	companyBase, userBase, jobBase, nid int // first id of each kind; nid: first note id
}

func (o *orgPlan) users() int { return o.admins + o.managers + o.members + o.clients }

// people sizes an organization's companies and users for its job count:
// enough managers that each job's managers are distinct people and none
// manages an absurd share, a member per 50 jobs, a client per company.
func (o *orgPlan) people(managersPerJob int) {
	o.companies = clamp(o.jobs/200, 2, 500)
	o.admins = 1 + o.jobs/50_000
	o.managers = clamp(o.jobs/25, max(managersPerJob, 2), 2000)
	o.members = clamp(o.jobs/50, 1, 1000)
	o.clients = o.companies
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

// Scale writes the world of shape to db, a PostgreSQL pool, normally
// connected as the application role. It runs under its own all-tenant
// system scope, whose reason names the run and the shape: the
// organizations are created through ent, so the audit hook records each
// of them with that reason (the tenant's admins see why their organization
// exists); the millions of rows below them are not recorded one by one.
//
// The ids of companies, users, jobs and notes are reserved first, one
// contiguous block per table, by drawing them from the table's own
// sequence (the application role may call nextval, not setval) while the
// tables are locked against inserts; the sequences are then past every id
// the run writes, so later inserts do not collide. Then companies and users
// go in one transaction, and jobs with their links and notes in batches of
// shape.BatchJobs, one transaction each: a failure leaves the batches
// before it, tagged with the run.
func Scale(ctx context.Context, db *sql.DB, shape Shape, opts Options) (Result, error) {
	if shape.BatchJobs == 0 {
		shape.BatchJobs = DefaultBatchJobs
	}
	if err := shape.Validate(); err != nil {
		return Result{}, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if shape.Run == "" {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			return Result{}, fmt.Errorf("seed: run tag: %w", err)
		}
		shape.Run = hex.EncodeToString(b[:])
	}
	start := time.Now()
	reason := fmt.Sprintf("seed scale run %s: %d organizations x %d jobs, large tenant %d jobs",
		shape.Run, shape.Orgs, shape.JobsPerOrg, shape.LargeTenantJobs)
	sys, err := scope.System(reason).Scope()
	if err != nil {
		return Result{}, err
	}
	ctx = scope.NewContext(ctx, sys)
	res := Result{Run: shape.Run, Reason: reason}
	stats := map[string]*TableStat{}
	for _, t := range Tables {
		stats[t] = &TableStat{Table: t}
	}

	var isPG bool
	if err := db.QueryRowContext(ctx, `SELECT current_setting('server_version_num', true) IS NOT NULL`).Scan(&isPG); err != nil || !isPG {
		return Result{}, errors.Join(ErrNotPostgres, err)
	}
	hash, err := repo.HashPassword(Password)
	if err != nil {
		return Result{}, fmt.Errorf("seed: hash the password: %w", err)
	}

	plans := planOrgs(shape)
	t0 := time.Now()
	if err := createOrgs(ctx, db, plans); err != nil {
		return Result{}, err
	}
	stats["organizations"].Rows, stats["organizations"].Duration = len(plans), time.Since(t0)

	// One session for the whole run: the staging tables are its own.
	conn, err := db.Conn(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close()
	defer dropStaging(context.WithoutCancel(ctx), conn)

	if err := reserve(ctx, conn, plans, shape); err != nil {
		return Result{}, err
	}
	w := &writer{conn: conn, shape: shape, hash: hash, now: opts.Now(), stats: stats}
	if err := w.people(ctx, plans); err != nil {
		return Result{}, err
	}
	total := 0
	for _, p := range plans {
		total += p.jobs
	}
	if opts.Progress != nil {
		opts.Progress.Start(total)
		defer opts.Progress.Finish()
	}
	for _, b := range batches(plans, shape.BatchJobs) {
		if err := w.jobs(ctx, b); err != nil {
			return Result{}, err
		}
		if opts.Progress != nil {
			n := 0
			for _, sg := range b {
				n += sg.to - sg.from
			}
			opts.Progress.Add(n)
		}
	}

	analyzer := opts.Analyze
	if analyzer == nil {
		analyzer = db
	}
	res.Analyzed, res.AnalyzeSkipped, err = analyze(ctx, analyzer)
	if err != nil {
		return Result{}, err
	}
	for _, t := range Tables {
		res.Tables = append(res.Tables, *stats[t])
	}
	res.Duration = time.Since(start)
	res.Logins = logins(plans)
	for _, p := range plans {
		res.OrgIDs = append(res.OrgIDs, p.id)
	}
	return res, nil
}

// planOrgs lays out the organizations: the small ones, then the large
// tenant, so that its rows get the highest ids.
func planOrgs(s Shape) []*orgPlan {
	var out []*orgPlan
	for i := 1; i <= s.Orgs; i++ {
		out = append(out, &orgPlan{index: i, jobs: s.JobsPerOrg,
			slug: fmt.Sprintf("scale-%s-%d", s.Run, i), name: fmt.Sprintf("Scale %s organization %d", s.Run, i)})
	}
	if s.LargeTenantJobs > 0 {
		out = append(out, &orgPlan{index: 0, jobs: s.LargeTenantJobs,
			slug: fmt.Sprintf("scale-%s-large", s.Run), name: fmt.Sprintf("Scale %s large tenant", s.Run)})
	}
	for _, p := range out {
		p.people(s.ManagersPerJob)
	}
	return out
}

// createOrgs creates the organizations through ent, in one transaction,
// so that the audit hook records each with the run's reason, and slugs
// taken already fail as a conflict before anything else is written.
func createOrgs(ctx context.Context, db *sql.DB, plans []*orgPlan) error {
	// The client shares db's pool; closing it would close db.
	client := database.NewClient(db, dialect.Postgres, database.Options{})
	err := database.WithTx(ctx, client, func(tx *ent.Tx) error {
		for _, p := range plans {
			o, err := tx.Organization.Create().SetName(p.name).SetSlug(p.slug).Save(ctx)
			if err != nil {
				return err
			}
			p.id = o.ID
		}
		return nil
	})
	if ent.IsConstraintError(err) {
		return fmt.Errorf("seed: organizations of this run's tag exist already (%s…; choose another --run): %w", plans[0].slug, err)
	}
	if err != nil {
		return fmt.Errorf("seed: create organizations: %w", err)
	}
	return nil
}

// reserve draws one contiguous block of ids per table from its sequence
// and lays the blocks out over the organizations, in order. The lock (SHARE
// ROW EXCLUSIVE: reads go on, inserts wait) keeps other writers' nextval
// out of the block; the check after it catches a direct nextval.
func reserve(ctx context.Context, conn *sql.Conn, plans []*orgPlan, s Shape) error {
	var companies, users, jobs int
	for _, p := range plans {
		companies += p.companies
		users += p.users()
		jobs += p.jobs
	}
	need := map[string]int{"companies": companies, "users": users, "jobs": jobs, "notes": jobs * s.NotesPerJob}
	base := map[string]int{}
	err := inTx(ctx, conn, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE companies, users, jobs, notes IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock the tables: %w", err)
		}
		for _, t := range []string{"companies", "users", "jobs", "notes"} {
			n := need[t]
			if n == 0 {
				continue
			}
			var lo, hi, count int
			err := tx.QueryRowContext(ctx, `SELECT min(v), max(v), count(*) FROM (SELECT nextval(pg_get_serial_sequence($1, 'id')) AS v FROM generate_series(1, $2::bigint)) s`,
				t, n).Scan(&lo, &hi, &count)
			if err != nil {
				return fmt.Errorf("reserve %d ids of %s: %w", n, t, err)
			}
			if count != n || hi-lo+1 != n {
				return fmt.Errorf("%w: %s got %d ids from %d to %d", ErrIDsTaken, t, count, lo, hi)
			}
			base[t] = lo
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	c, u, j := base["companies"], base["users"], base["jobs"]
	n := base["notes"]
	for _, p := range plans {
		p.companyBase, p.userBase, p.jobBase, p.nid = c, u, j, n
		c += p.companies
		u += p.users()
		j += p.jobs
		n += p.jobs * s.NotesPerJob
	}
	return nil
}

// inTx runs fn in a transaction on conn that carries the settings of the
// scope in ctx (the run's system scope), committing if fn succeeds.
func inTx(ctx context.Context, conn *sql.Conn, fn func(tx *sql.Tx) error) error {
	tx, err := database.BeginTx(ctx, conn, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// columns of each table, in the order the writer produces them.
var columns = map[string][]string{
	"companies":    {"id", "created_at", "updated_at", "name", "archived", "org_id"},
	"users":        {"id", "created_at", "updated_at", "email", "name", "phone", "role", "banned", "active", "password_hash", "company_id", "org_id"},
	"jobs":         {"id", "created_at", "updated_at", "title", "description", "status", "salary_max", "company_id", "org_id", "created_by_id"},
	"job_managers": {"job_id", "user_id", "org_id"},
	"notes":        {"id", "created_at", "updated_at", "body", "internal", "job_id", "org_id", "author_id"},
}

func stagingName(table string) string { return "seed_scale_" + table }

// writer writes rows through the run's session.
type writer struct {
	conn  *sql.Conn
	shape Shape
	hash  string
	now   time.Time
	stats map[string]*TableStat
}

// copyInto stages the rows that emit produces (through its row function)
// with COPY, then moves them into table with one INSERT … SELECT, in tx.
func (w *writer) copyInto(ctx context.Context, tx *sql.Tx, table string, emit func(row func(args ...any) error) error) error {
	t0 := time.Now()
	cols := columns[table]
	stage := stagingName(table)
	// ON COMMIT DELETE ROWS: the table outlives the transaction, empty,
	// for the next batch of the session.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`CREATE TEMPORARY TABLE IF NOT EXISTS %s (LIKE %s) ON COMMIT DELETE ROWS`,
		database.QuoteIdentifier(stage), database.QuoteIdentifier(table))); err != nil {
		return fmt.Errorf("seed: staging table for %s: %w", table, err)
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = database.QuoteIdentifier(c)
	}
	list := strings.Join(quoted, ", ")
	// lib/pq turns a prepared COPY … FROM STDIN into a stream: each Exec
	// adds a row to a 64 KiB buffer, an Exec without arguments ends it.
	stmt, err := tx.PrepareContext(ctx, fmt.Sprintf("COPY pg_temp.%s (%s) FROM STDIN", database.QuoteIdentifier(stage), list))
	if err != nil {
		return fmt.Errorf("seed: COPY %s: %w", table, err)
	}
	rows := 0
	err = emit(func(args ...any) error {
		rows++
		_, err := stmt.ExecContext(ctx, args...)
		return err
	})
	if err == nil {
		_, err = stmt.ExecContext(ctx) // flushes the COPY
	}
	if cerr := stmt.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("seed: COPY %s: %w", table, err)
	}
	res, err := tx.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM pg_temp.%s`,
		database.QuoteIdentifier(table), list, list, database.QuoteIdentifier(stage)))
	if err != nil {
		return fmt.Errorf("seed: insert %s: %w", table, err)
	}
	if n, err := res.RowsAffected(); err == nil && int(n) != rows {
		return fmt.Errorf("seed: insert %s: %d of %d staged rows went in", table, n, rows)
	}
	st := w.stats[table]
	st.Rows += rows
	st.Duration += time.Since(t0)
	return nil
}

// people writes every organization's companies and users, in one
// transaction.
func (w *writer) people(ctx context.Context, plans []*orgPlan) error {
	created := w.now.Add(-400 * 24 * time.Hour)
	return inTx(ctx, w.conn, func(tx *sql.Tx) error {
		err := w.copyInto(ctx, tx, "companies", func(row func(...any) error) error {
			for _, p := range plans {
				for i := range p.companies {
					if err := row(p.companyBase+i, created, created, fmt.Sprintf("%s %d", companyNames[i%len(companyNames)], i+1),
						i%10 == 9, p.id); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return w.copyInto(ctx, tx, "users", func(row func(...any) error) error {
			for _, p := range plans {
				id := p.userBase
				for _, g := range []struct {
					role string
					n    int
				}{{"admin", p.admins}, {"manager", p.managers}, {"member", p.members}, {"client", p.clients}} {
					for i := 1; i <= g.n; i++ {
						var company any
						if g.role == "client" {
							company = p.companyBase + i - 1
						}
						if err := row(id, created, created, fmt.Sprintf("%s%d@%s.test", g.role, i, p.slug),
							fmt.Sprintf("%s %d of %s", titled(g.role), i, p.slug), fmt.Sprintf("+1 555 %07d", id%10_000_000),
							g.role, false, true, w.hash, company, p.id); err != nil {
							return err
						}
						id++
					}
				}
			}
			return nil
		})
	})
}

var (
	companyNames = []string{"Initech", "Umbrella", "Hooli", "Vandelay", "Soylent", "Stark", "Wayne", "Tyrell", "Cyberdyne", "Wonka"}
	jobTitles    = []string{"Backend engineer", "Data analyst", "Site reliability engineer", "Office manager", "Product designer",
		"Accountant", "Support specialist", "Recruiter", "Frontend engineer", "Sales lead"}
	noteBodies = []string{"Looks promising.", "Internal: budget approved.", "Candidate shortlist sent.",
		"Internal: hiring manager on leave until next month.", "Client asked for an update.", "Internal: salary band under review."}
)

// segment is jobs [from, to) of one organization.
type segment struct {
	p        *orgPlan
	from, to int
}

// batches cuts the organizations' jobs into transactions of size jobs: a
// small organization shares one with others (a transaction per tenant of
// 400 jobs cost more in statements and commits than in rows), a large one
// spans several.
func batches(plans []*orgPlan, size int) [][]segment {
	var out [][]segment
	var cur []segment
	n := 0
	for _, p := range plans {
		for from := 0; from < p.jobs; {
			to := min(from+size-n, p.jobs)
			cur = append(cur, segment{p, from, to})
			n += to - from
			from = to
			if n == size {
				out, cur, n = append(out, cur), nil, 0
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// jobSpec is what the three tables of a job share.
type jobSpec struct {
	p            *orgPlan
	n            int // the job's index in its organization
	managerStart int // index of its first manager, among p's managers
	created      time.Time
}

func (j jobSpec) id() int { return j.p.jobBase + j.n }

// manager is the id of the job's k-th manager: consecutive managers of the
// organization from a random start, so a job's managers are distinct.
func (j jobSpec) manager(k int) int {
	return j.p.userBase + j.p.admins + (j.managerStart+k)%j.p.managers
}

// creator is one of the job's managers, or the first admin when jobs have
// none.
func (j jobSpec) creator(managersPerJob int) int {
	if managersPerJob == 0 {
		return j.p.userBase
	}
	return j.manager(0)
}

// jobs writes the jobs of batch, with their managers and notes, in one
// transaction. Statuses: 60% published, 30% draft, 10% archived; a tenth
// without a salary. Half the notes are internal, written by the job's
// managers in turn.
func (w *writer) jobs(ctx context.Context, batch []segment) error {
	s := w.shape
	r := mrand.New(mrand.NewPCG(s.Seed, uint64(batch[0].p.id)<<32|uint64(batch[0].from)))
	var specs []jobSpec
	for _, sg := range batch {
		// An organization's jobs are spread over the last year, oldest
		// first, as ids grow.
		step := 365 * 24 * time.Hour / time.Duration(sg.p.jobs+1)
		for n := sg.from; n < sg.to; n++ {
			specs = append(specs, jobSpec{p: sg.p, n: n, managerStart: r.IntN(sg.p.managers),
				created: w.now.Add(-365 * 24 * time.Hour).Add(time.Duration(n+1) * step)})
		}
	}
	return inTx(ctx, w.conn, func(tx *sql.Tx) error {
		err := w.copyInto(ctx, tx, "jobs", func(row func(...any) error) error {
			for _, j := range specs {
				var status string
				switch v := r.IntN(10); {
				case v < 6:
					status = "published"
				case v < 9:
					status = "draft"
				default:
					status = "archived"
				}
				var salary any
				if r.IntN(10) != 0 {
					salary = 40_000 + r.IntN(160)*1000
				}
				if err := row(j.id(), j.created, j.created.Add(time.Duration(r.IntN(72))*time.Hour),
					fmt.Sprintf("%s #%d", jobTitles[j.n%len(jobTitles)], j.n+1),
					"A seeded job of "+j.p.slug+".", status, salary,
					j.p.companyBase+r.IntN(j.p.companies), j.p.id, j.creator(s.ManagersPerJob)); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil && s.ManagersPerJob > 0 {
			err = w.copyInto(ctx, tx, "job_managers", func(row func(...any) error) error {
				for _, j := range specs {
					for k := range s.ManagersPerJob {
						if err := row(j.id(), j.manager(k), j.p.id); err != nil {
							return err
						}
					}
				}
				return nil
			})
		}
		if err != nil || s.NotesPerJob == 0 {
			return err
		}
		return w.copyInto(ctx, tx, "notes", func(row func(...any) error) error {
			for _, j := range specs {
				for k := range s.NotesPerJob {
					author := j.creator(s.ManagersPerJob)
					if s.ManagersPerJob > 0 {
						author = j.manager(k % s.ManagersPerJob)
					}
					at := j.created.Add(time.Duration(k+1) * time.Hour)
					if err := row(j.p.nid+j.n*s.NotesPerJob+k, at, at, noteBodies[(j.n+k)%len(noteBodies)], k%2 == 1,
						j.id(), j.p.id, author); err != nil {
						return err
					}
				}
			}
			return nil
		})
	})
}

// dropStaging drops the session's staging tables, so the connection goes
// back to the pool as it came.
func dropStaging(ctx context.Context, conn *sql.Conn) {
	names := make([]string, 0, len(columns))
	for t := range columns {
		names = append(names, "pg_temp."+database.QuoteIdentifier(stagingName(t)))
	}
	_, _ = conn.ExecContext(ctx, "DROP TABLE IF EXISTS "+strings.Join(names, ", "))
}

// analyze refreshes the planner's statistics of the tables written, when
// db's role may (the tables' owner or a superuser): a table just grown a
// hundredfold would otherwise be planned as the empty one it was until
// autovacuum comes by. It reports why it skipped otherwise.
func analyze(ctx context.Context, db *sql.DB) (bool, string, error) {
	var may bool
	err := db.QueryRowContext(ctx, `SELECT bool_and(pg_has_role(c.relowner, 'USAGE')) FROM pg_class c WHERE c.oid = ANY (ARRAY[`+
		`'organizations'::regclass, 'companies'::regclass, 'users'::regclass, 'jobs'::regclass, 'job_managers'::regclass, 'notes'::regclass])`).Scan(&may)
	if err != nil {
		return false, "", fmt.Errorf("seed: may ANALYZE: %w", err)
	}
	if !may {
		var who string
		_ = db.QueryRowContext(ctx, `SELECT current_user`).Scan(&who)
		return false, fmt.Sprintf("role %s does not own the tables; ANALYZE them as the owner (or wait for autovacuum)", who), nil
	}
	if _, err := db.ExecContext(ctx, "ANALYZE "+strings.Join(Tables, ", ")); err != nil {
		return false, "", fmt.Errorf("seed: ANALYZE: %w", err)
	}
	return true, "", nil
}

// logins picks users to try: an admin of the large tenant, then an admin,
// a manager, a member and a client of the first small organization.
func logins(plans []*orgPlan) []Login {
	var out []Login
	last := plans[len(plans)-1]
	if last.index == 0 {
		out = append(out, Login{Email: "admin1@" + last.slug + ".test", Role: "admin", Org: last.slug, Jobs: last.jobs})
	}
	first := plans[0]
	for _, r := range []string{"admin", "manager", "member", "client"} {
		out = append(out, Login{Email: r + "1@" + first.slug + ".test", Role: r, Org: first.slug, Jobs: first.jobs})
	}
	return out
}

func titled(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
