package reliability

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
)

// killedJobPlan is the shape of one TestKilledJob: how much work there is
// and how the runs over it are killed.
type killedJobPlan struct {
	// rows of jobs seeded, spread over two organizations: four in five
	// stale published (the work), one in ten fresh published and one in
	// ten stale drafts (what archive-stale must leave alone).
	rows      int
	batchSize int
	kills     []killedJobKill
}

// killedJobKill is one run ended by SIGKILL.
type killedJobKill struct {
	// afterBatches: the run is let commit at least this many batches
	// before it is stopped; it may commit more before the kill lands.
	afterBatches int
	// blocked: the kill lands while the run is provably in the middle of
	// a batch, held after its UPDATE of jobs and before its audit insert
	// by a lock the test takes on audit_events. Otherwise it lands at a
	// random moment of the run.
	blocked bool
}

// killedJobCIPlan is the form CI runs (a few seconds); killedJobFullPlan,
// which SCOPEGATE_RELIABILITY_FULL=1 selects, has ten times the rows and
// more kills, one of them at a random moment of a run's start (before or
// while it counts, or in its first batch).
var (
	killedJobCIPlan = killedJobPlan{rows: 2_500, batchSize: 100, kills: []killedJobKill{
		{afterBatches: 1, blocked: true},
		{afterBatches: 1},
		{afterBatches: 3, blocked: true},
		{afterBatches: 0, blocked: true}, // the run's very first batch
		{afterBatches: 2},
	}}
	killedJobFullPlan = killedJobPlan{rows: 25_000, batchSize: 250, kills: []killedJobKill{
		{afterBatches: 1, blocked: true},
		{afterBatches: 1},
		{afterBatches: 4, blocked: true},
		{afterBatches: 0, blocked: true},
		{afterBatches: 2},
		{afterBatches: 7, blocked: true},
		{afterBatches: 3},
		{afterBatches: 2, blocked: true},
		{afterBatches: 5},
		{afterBatches: 1, blocked: true},
		{afterBatches: 0},
		{afterBatches: 6, blocked: true},
	}}
)

// killedJobOlderThan is archive-stale's --older-than; stale rows are
// seeded twice as old, fresh ones now.
const killedJobOlderThan = "720h"

// TestKilledJob kills `scopegate job run archive-stale` with SIGKILL
// several times over one piece of work, in the middle of a batch and at
// random moments, runs it again each time, and checks that in the end
// every stale job was archived exactly once, with exactly one audit event,
// and nothing else was touched: a killed batch's transaction is rolled back
// whole by PostgreSQL, and a re-run continues from what was committed.
func TestKilledJob(t *testing.T) {
	plan := killedJobCIPlan
	if os.Getenv("SCOPEGATE_RELIABILITY_FULL") == "1" {
		plan = killedJobFullPlan
	}
	bin := binary.Scopegate(t)
	start := time.Now()
	db := pgtest.New(t)
	w := killedJobSeed(t, db, plan.rows)
	t.Logf("seeded %d jobs in %s: %d stale published (the work), %d left alone (fresh published, stale drafts); batch size %d",
		plan.rows, time.Since(start).Round(time.Millisecond), len(w.stale), len(w.untouched), plan.batchSize)
	start = time.Now()

	var runs []killedJobRunReport
	for i, k := range plan.kills {
		before := killedJobCountsOf(t, db.Raw) // before the run can commit anything
		run := killedJobStart(t, bin, db, plan.batchSize, i+1)
		how := "killed at a random moment"
		if k.blocked {
			var inFlight int
			killedJobKillBlocked(t, db, run, before, k, plan.batchSize, &inFlight)
			how = fmt.Sprintf("killed blocked mid-batch (%d rows updated, rolled back)", inFlight)
		} else {
			killedJobKillAtRandom(t, db, run, before, k, plan.batchSize)
		}
		after := killedJobCountsOf(t, db.Raw)
		killedJobConsistent(t, db.Raw)
		runs = append(runs, killedJobRunReport{attempt: i + 1, how: how + ", let commit >= " + strconv.Itoa(k.afterBatches) + " batches first",
			rows: after.audited - before.audited, took: run.proc.Took()})
	}

	left := len(w.stale) - killedJobCountsOf(t, db.Raw).audited
	final := killedJobStart(t, bin, db, plan.batchSize, len(plan.kills)+1)
	<-final.proc.Exited()
	require.NoError(t, final.proc.Err(), "the last run must finish\n%s", final.output())
	sum := killedJobSummary(t, final)
	assert.Equal(t, left, sum.matched, "the last run finds what the killed ones left")
	assert.Equal(t, left, sum.changed, "and does all of it")
	runs = append(runs, killedJobRunReport{attempt: final.attempt, how: "to completion (exit 0)", rows: sum.changed, took: final.proc.Took()})

	// A further run finds nothing left: the work is done, not redone. (It
	// writes nothing, so it is not among the runs reported.)
	again := killedJobStart(t, bin, db, plan.batchSize, len(plan.kills)+2)
	<-again.proc.Exited()
	require.NoError(t, again.proc.Err(), "%s", again.output())
	assert.Equal(t, killedJobRunSummary{}, killedJobSummary(t, again), "a run after the end changes nothing")

	killedJobCheckEnd(t, db.Raw, w, runs)

	total := 0
	for _, r := range runs {
		t.Logf("run %d: %s: %d rows committed, %s", r.attempt, r.how, r.rows, r.took.Round(time.Millisecond))
		total += r.rows
	}
	t.Logf("%d runs, %d killed with SIGKILL (%d blocked mid-batch, %d at random), %d rows processed in total, each once, with one audit event each; runs and checks took %s",
		len(runs), len(plan.kills), killedJobBlockedKills(plan), len(plan.kills)-killedJobBlockedKills(plan), total,
		time.Since(start).Round(time.Millisecond))
	assert.Equal(t, len(w.stale), total, "the runs' rows add up to the work")
}

func killedJobBlockedKills(p killedJobPlan) int {
	n := 0
	for _, k := range p.kills {
		if k.blocked {
			n++
		}
	}
	return n
}

type killedJobRunReport struct {
	attempt int
	how     string
	rows    int // committed by this run, counted from its audit events
	took    time.Duration
}

// killedJobWorld is what the seed wrote.
type killedJobWorld struct {
	stale     []int64          // stale published jobs: the work
	untouched map[int64]string // the other jobs, with their status and updated_at
}

// killedJobSeed writes two organizations (through ent, audited) and rows
// jobs interleaved over both (one INSERT through the owner's connection:
// updated_at is set by ent on every save, and the stale rows need it in
// the past). Ids interleave the organizations and the kinds, so every
// batch spans both tenants and passes over rows it must leave alone.
func killedJobSeed(t *testing.T, db *pgtest.DB, rows int) killedJobWorld {
	t.Helper()
	type org struct{ id, company, user int }
	orgs := pgtest.Seed(t, db.Client, func(ctx context.Context, tx *ent.Tx) ([2]org, error) {
		var out [2]org
		for i, slug := range []string{"killedjob-a", "killedjob-b"} {
			o, err := tx.Organization.Create().SetName(slug).SetSlug(slug).Save(ctx)
			if err != nil {
				return out, err
			}
			u, err := tx.User.Create().SetOrgID(o.ID).SetEmail("admin@" + slug + ".test").SetName("admin").SetRole("admin").Save(ctx)
			if err != nil {
				return out, err
			}
			c, err := tx.Company.Create().SetOrgID(o.ID).SetName("company").Save(ctx)
			if err != nil {
				return out, err
			}
			out[i] = org{o.ID, c.ID, u.ID}
		}
		return out, nil
	})
	_, err := db.Raw.Exec(`
		WITH o(n, org_id, company_id, user_id) AS (VALUES (0, $1::bigint, $2::bigint, $3::bigint), (1, $4, $5, $6)),
		g AS (
			SELECT g, CASE (g / 2) % 10 WHEN 3 THEN 'fresh' WHEN 7 THEN 'draft' ELSE 'stale' END AS kind
			FROM generate_series(0, $7::int - 1) g
		)
		INSERT INTO jobs (created_at, updated_at, title, status, company_id, org_id, created_by_id)
		SELECT t, t, 'killedjob ' || kind || ' ' || g, CASE kind WHEN 'draft' THEN 'draft' ELSE 'published' END,
			o.company_id, o.org_id, o.user_id
		FROM g JOIN o ON o.n = g % 2
		CROSS JOIN LATERAL (SELECT CASE kind WHEN 'fresh' THEN now() ELSE now() - interval '60 days' END AS t) ts
		ORDER BY g`,
		orgs[0].id, orgs[0].company, orgs[0].user, orgs[1].id, orgs[1].company, orgs[1].user, rows)
	require.NoError(t, err, "seed jobs")

	w := killedJobWorld{untouched: map[int64]string{}}
	rs, err := db.Raw.Query(`SELECT id, title LIKE 'killedjob stale %', status || ' ' || updated_at FROM jobs ORDER BY id`)
	require.NoError(t, err)
	defer rs.Close()
	for rs.Next() {
		var (
			id    int64
			stale bool
			state string
		)
		require.NoError(t, rs.Scan(&id, &stale, &state))
		if stale {
			w.stale = append(w.stale, id)
		} else {
			w.untouched[id] = state
		}
	}
	require.NoError(t, rs.Err())
	require.Len(t, w.stale, rows*8/10)
	return w
}

// killedJobRun is one `scopegate job run archive-stale` process.
type killedJobRun struct {
	attempt int
	// appName is the application_name of its connections, by which the
	// test finds its backends in pg_stat_activity.
	appName string
	proc    *binary.Process
}

func (r *killedJobRun) output() string {
	return fmt.Sprintf("run %d stdout:\n%s\nstderr:\n%s", r.attempt, r.proc.Output(), r.proc.LogTail())
}

func (r *killedJobRun) exited() bool {
	select {
	case <-r.proc.Exited():
		return true
	default:
		return false
	}
}

// killedJobStart starts a run, its note naming the attempt so that the
// audit events tell the runs apart.
func killedJobStart(t *testing.T, bin string, db *pgtest.DB, batchSize, attempt int) *killedJobRun {
	t.Helper()
	r := &killedJobRun{attempt: attempt, appName: fmt.Sprintf("killedjob-run-%d", attempt)}
	u, err := url.Parse(db.URL)
	require.NoError(t, err)
	q := u.Query()
	q.Set("application_name", r.appName)
	u.RawQuery = q.Encode()
	sg := binary.Command{Path: bin, Env: binary.Env("DATABASE_URL=" + u.String())}
	r.proc = sg.Start(t, "job", "run", "archive-stale",
		"--batch-size", strconv.Itoa(batchSize), "--older-than", killedJobOlderThan,
		"--note", fmt.Sprintf("killedjob attempt %d", attempt))
	return r
}

// kill sends SIGKILL and waits for the process to be gone; it must have
// been killed, not have finished on its own.
func (r *killedJobRun) kill(t *testing.T) {
	t.Helper()
	require.False(t, r.exited(), "run %d ended before the kill: %v\n%s", r.attempt, r.proc.Err(), r.output())
	r.proc.Signal(t, syscall.SIGKILL)
	<-r.proc.Exited()
	var exit *exec.ExitError
	require.ErrorAs(t, r.proc.Err(), &exit, "run %d", r.attempt)
	ws, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "run %d: %v", r.attempt, r.proc.Err())
}

// killedJobCounts is what is committed: archived jobs, and archive-stale's
// audit events (updates of jobs).
type killedJobCounts struct{ archived, audited int }

type killedJobQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func killedJobCountsOf(t *testing.T, q killedJobQueryer) killedJobCounts {
	t.Helper()
	var c killedJobCounts
	require.NoError(t, q.QueryRowContext(context.Background(), `SELECT
		(SELECT count(*) FROM jobs WHERE status = 'archived'),
		(SELECT count(*) FROM audit_events WHERE object = $1 AND action = 'update')`, ent.TypeJob).
		Scan(&c.archived, &c.audited))
	return c
}

// killedJobWait polls cond until it holds, failing after a generous
// timeout, or at once if run (when given) exits meanwhile.
func killedJobWait(t *testing.T, what string, run *killedJobRun, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if run != nil && run.exited() {
			t.Fatalf("run %d exited while waiting for %s: %v\n%s", run.attempt, what, run.proc.Err(), run.output())
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// killedJobWaitProgress waits until run has committed at least batches
// batches since before.
func killedJobWaitProgress(t *testing.T, db *pgtest.DB, run *killedJobRun, before killedJobCounts, batches, batchSize int) {
	t.Helper()
	killedJobWait(t, fmt.Sprintf("run %d to commit %d batches", run.attempt, batches), run, func() bool {
		return killedJobCountsOf(t, db.Raw).audited-before.audited >= batches*batchSize
	})
}

// killedJobKillBlocked lets run commit k.afterBatches batches, then takes a
// lock on audit_events that lets readers through but no insert, waits
// until run's batch is provably between its UPDATE of jobs (it holds
// jobs' RowExclusiveLock, which only the UPDATE takes) and its audit
// insert (it waits for audit_events), kills it there, and checks that
// the batch left nothing: not while it is gone, not after PostgreSQL has
// ended its backend. It sets inFlightRows to how many rows the killed
// batch had updated.
func killedJobKillBlocked(t *testing.T, db *pgtest.DB, run *killedJobRun, before killedJobCounts, k killedJobKill, batchSize int, inFlightRows *int) {
	t.Helper()
	ctx := context.Background()
	killedJobWaitProgress(t, db, run, before, k.afterBatches, batchSize)
	lock, err := db.Raw.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer lock.Rollback()
	_, err = lock.ExecContext(ctx, `LOCK TABLE audit_events IN SHARE ROW EXCLUSIVE MODE`)
	require.NoError(t, err)
	// With the lock granted no transaction that inserted audit events is
	// still open: these are exactly the committed batches.
	committed := killedJobCountsOf(t, lock)
	require.Equal(t, committed.archived, committed.audited, "committed batches: an audit event per archived job")

	var pid int
	killedJobWait(t, fmt.Sprintf("run %d to block between its UPDATE and its audit insert", run.attempt), run, func() bool {
		err := db.Raw.QueryRowContext(ctx, `
			SELECT a.pid FROM pg_stat_activity a
			WHERE a.datname = current_database() AND a.application_name = $1 AND a.wait_event_type = 'Lock'
			AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted
				AND l.relation = 'audit_events'::regclass)
			AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted
				AND l.relation = 'jobs'::regclass AND l.mode = 'RowExclusiveLock')`, run.appName).Scan(&pid)
		if errors.Is(err, sql.ErrNoRows) {
			return false
		}
		require.NoError(t, err)
		return true
	})
	// The rows the blocked batch has updated, uncommitted: the old
	// versions this snapshot sees carry its transaction id as xmax.
	var inFlight []int64
	require.NoError(t, db.Raw.QueryRowContext(ctx, `SELECT coalesce(array_agg(j.id), '{}') FROM jobs j, pg_stat_activity a
		WHERE a.pid = $1 AND j.xmax = a.backend_xid`, pid).Scan(pq.Array(&inFlight)))
	require.NotEmpty(t, inFlight, "run %d: the blocked batch has updated its rows", run.attempt)
	require.LessOrEqual(t, len(inFlight), batchSize)
	run.kill(t)
	*inFlightRows = len(inFlight)

	// The blocked batch's UPDATE is not committed, and cannot be: the
	// process that would have sent COMMIT is gone.
	assert.Equal(t, committed, killedJobCountsOf(t, lock), "run %d: right after the kill, only the committed batches", run.attempt)
	require.NoError(t, lock.Rollback())

	// Released, the backend's insert goes through, then it finds its
	// client gone and ends, rolling its transaction back.
	killedJobWaitBackendsGone(t, db, run)
	assert.Equal(t, committed, killedJobCountsOf(t, db.Raw),
		"run %d: the batch killed mid-way was rolled back: no archived job, no audit event of it", run.attempt)
	var archived, audited int
	require.NoError(t, db.Raw.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM jobs WHERE id = ANY($1) AND status <> 'published'),
		(SELECT count(*) FROM audit_events WHERE object = $2 AND object_id::bigint = ANY($1))`,
		pq.Array(inFlight), ent.TypeJob).Scan(&archived, &audited))
	assert.Zero(t, archived, "run %d: the killed batch's rows are still published", run.attempt)
	assert.Zero(t, audited, "run %d: the killed batch's rows have no audit event", run.attempt)
}

// killedJobKillAtRandom lets run commit k.afterBatches batches, kills it
// after a random further pause (within a batch or two), and waits until
// PostgreSQL has ended its backends. The batch in flight, if any, was
// either committed whole or rolled back whole; killedJobConsistent
// checks which it was not: half.
func killedJobKillAtRandom(t *testing.T, db *pgtest.DB, run *killedJobRun, before killedJobCounts, k killedJobKill, batchSize int) {
	t.Helper()
	killedJobWaitProgress(t, db, run, before, k.afterBatches, batchSize)
	time.Sleep(time.Duration(mrand.Int64N(int64(50 * time.Millisecond))))
	run.kill(t)
	killedJobWaitBackendsGone(t, db, run)
}

// killedJobWaitBackendsGone waits until no backend of run's connections
// is left in pg_stat_activity: PostgreSQL has noticed the client is gone
// and rolled back whatever it had open.
func killedJobWaitBackendsGone(t *testing.T, db *pgtest.DB, run *killedJobRun) {
	t.Helper()
	killedJobWait(t, fmt.Sprintf("run %d's backends to end", run.attempt), nil, func() bool {
		var n int
		require.NoError(t, db.Raw.QueryRow(`SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, run.appName).Scan(&n))
		return n == 0
	})
}

// killedJobConsistent checks what must hold after every kill: the archived
// jobs and the audited ones are the same set, each audited once.
func killedJobConsistent(t *testing.T, raw *sql.DB) {
	t.Helper()
	var twice, auditedNotArchived, archivedNotAudited int
	require.NoError(t, raw.QueryRow(`
		WITH a AS (SELECT object_id::bigint AS id, count(*) AS n FROM audit_events
			WHERE object = $1 AND action = 'update' GROUP BY 1)
		SELECT
			(SELECT count(*) FROM a WHERE n > 1),
			(SELECT count(*) FROM a LEFT JOIN jobs j USING (id) WHERE j.status IS DISTINCT FROM 'archived'),
			(SELECT count(*) FROM jobs j WHERE j.status = 'archived' AND NOT EXISTS (SELECT 1 FROM a WHERE a.id = j.id))`,
		ent.TypeJob).Scan(&twice, &auditedNotArchived, &archivedNotAudited))
	assert.Zero(t, twice, "jobs audited more than once")
	assert.Zero(t, auditedNotArchived, "audit events of jobs not archived (a half-committed batch)")
	assert.Zero(t, archivedNotAudited, "archived jobs without an audit event (a half-committed batch)")
}

// killedJobRunSummary is the summary line of a finished run.
type killedJobRunSummary struct{ changed, matched, batches int }

var killedJobSummaryLine = regexp.MustCompile(`archive-stale run \S+: done; changed (\d+) of (\d+) rows in (\d+) batches`)

func killedJobSummary(t *testing.T, r *killedJobRun) killedJobRunSummary {
	t.Helper()
	m := killedJobSummaryLine.FindStringSubmatch(r.proc.Output())
	require.NotNil(t, m, "no summary line\n%s", r.output())
	var s killedJobRunSummary
	for i, p := range []*int{&s.changed, &s.matched, &s.batches} {
		n, err := strconv.Atoi(m[i+1])
		require.NoError(t, err)
		*p = n
	}
	return s
}

var killedJobReason = regexp.MustCompile(`^job archive-stale run \S+: killedjob attempt (\d+)$`)

// killedJobCheckEnd checks the end state against the seed: every stale job
// archived, the others as they were, and one audit event per archived
// job, of the system, in the job's tenant, whose reason names the run that
// did it, the runs' shares agreeing with what each run committed.
func killedJobCheckEnd(t *testing.T, raw *sql.DB, w killedJobWorld, runs []killedJobRunReport) {
	t.Helper()
	killedJobConsistent(t, raw)

	var archived int
	require.NoError(t, raw.QueryRow(`SELECT count(*) FROM jobs WHERE id = ANY($1) AND status = 'archived'`,
		pq.Array(w.stale)).Scan(&archived))
	assert.Equal(t, len(w.stale), archived, "every stale published job archived")

	rs, err := raw.Query(`SELECT id, status || ' ' || updated_at FROM jobs WHERE NOT (id = ANY($1))`, pq.Array(w.stale))
	require.NoError(t, err)
	now := map[int64]string{}
	for rs.Next() {
		var (
			id    int64
			state string
		)
		require.NoError(t, rs.Scan(&id, &state))
		now[id] = state
	}
	require.NoError(t, rs.Err())
	rs.Close()
	assert.Equal(t, w.untouched, now, "fresh published jobs and stale drafts unchanged")

	var events, distinct, outside, wrongTenant, notSystem int
	require.NoError(t, raw.QueryRow(`
		SELECT count(*), count(DISTINCT a.object_id),
			count(*) FILTER (WHERE NOT (a.object_id::bigint = ANY($2))),
			count(*) FILTER (WHERE a.org_id IS DISTINCT FROM j.org_id),
			count(*) FILTER (WHERE a.actor <> 'system')
		FROM audit_events a LEFT JOIN jobs j ON j.id = a.object_id::bigint
		WHERE a.object = $1 AND a.action = 'update'`, ent.TypeJob, pq.Array(w.stale)).
		Scan(&events, &distinct, &outside, &wrongTenant, &notSystem))
	assert.Equal(t, len(w.stale), events, "one audit event per stale job")
	assert.Equal(t, len(w.stale), distinct, "no job audited twice")
	assert.Zero(t, outside, "audit events of jobs that were not the work")
	assert.Zero(t, wrongTenant, "audit events in another tenant than the job's")
	assert.Zero(t, notSystem, "audit events of another actor than the system")

	// Each event's reason names its run; the runs' shares are what each
	// committed.
	rs, err = raw.Query(`SELECT reason, count(*) FROM audit_events WHERE object = $1 AND action = 'update' GROUP BY 1`, ent.TypeJob)
	require.NoError(t, err)
	perAttempt := map[int]int{}
	for rs.Next() {
		var (
			reason string
			n      int
		)
		require.NoError(t, rs.Scan(&reason, &n))
		m := killedJobReason.FindStringSubmatch(reason)
		if !assert.NotNil(t, m, "reason %q names no run", reason) {
			continue
		}
		attempt, _ := strconv.Atoi(m[1])
		assert.Zero(t, perAttempt[attempt], "attempt %d has one run id", attempt)
		perAttempt[attempt] += n
	}
	require.NoError(t, rs.Err())
	rs.Close()
	want := map[int]int{}
	for _, r := range runs {
		if r.rows > 0 {
			want[r.attempt] = r.rows
		}
	}
	assert.Equal(t, want, perAttempt, "rows per run, from the audit events' reasons")
}
