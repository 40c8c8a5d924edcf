package integration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/jobs"
	"github.com/scopegate/scopegate/internal/metrics"
)

type jobsWorld struct {
	db           *pgtest.DB
	orgA, orgB   *ent.Organization
	staleA       []int
	staleB       []int
	fresh, draft []int
}

// newJobsWorld makes stale published jobs in two orgs (backdated by plain
// SQL, since updated_at is set by ent on every save), plus fresh and draft
// ones that archive-stale must leave alone.
func newJobsWorld(t *testing.T, staleA, staleB int) *jobsWorld {
	t.Helper()
	w := &jobsWorld{db: pgtest.New(t)}
	sys := pgtest.SystemContext(t)
	pgtest.MustTx(t, sys, w.db.Client, func(tx *ent.Tx) error {
		w.orgA = tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		w.orgB = tx.Organization.Create().SetName("B").SetSlug("b").SaveX(sys)
		for _, o := range []struct {
			org   *ent.Organization
			stale int
			ids   *[]int
		}{{w.orgA, staleA, &w.staleA}, {w.orgB, staleB, &w.staleB}} {
			u := tx.User.Create().SetOrgID(o.org.ID).SetEmail("admin@" + o.org.Slug).SetName("a").SetRole("admin").SaveX(sys)
			c := tx.Company.Create().SetOrgID(o.org.ID).SetName("c").SaveX(sys)
			mk := func(n int, st job.Status) []int {
				bs := make([]*ent.JobCreate, n)
				for i := range bs {
					bs[i] = tx.Job.Create().SetOrgID(o.org.ID).SetCompanyID(c.ID).SetTitle("t").SetStatus(st).SetCreatedByID(u.ID)
				}
				var ids []int
				for _, j := range tx.Job.CreateBulk(bs...).SaveX(sys) {
					ids = append(ids, j.ID)
				}
				return ids
			}
			*o.ids = mk(o.stale, job.StatusPublished)
			w.fresh = append(w.fresh, mk(3, job.StatusPublished)...)
			w.draft = append(w.draft, mk(3, job.StatusDraft)...)
		}
		return nil
	})
	for _, ids := range [][]int{w.staleA, w.staleB, w.draft} {
		for _, id := range ids {
			_, err := w.db.Raw.Exec(`UPDATE jobs SET updated_at = now() - interval '60 days' WHERE id = $1`, id)
			require.NoError(t, err)
		}
	}
	return w
}

// stopAfter closes stop once n batches have been reported.
type stopAfter struct {
	n, seen int
	stop    chan struct{}
}

func (s *stopAfter) Start(int) {}
func (s *stopAfter) Finish()   {}
func (s *stopAfter) Add(int) {
	s.seen++
	if s.seen == s.n {
		close(s.stop)
	}
}

func (w *jobsWorld) statuses(t *testing.T) map[int]job.Status {
	t.Helper()
	js, err := w.db.Job.Query().All(pgtest.SystemContext(t))
	require.NoError(t, err)
	out := map[int]job.Status{}
	for _, j := range js {
		out[j.ID] = j.Status
	}
	return out
}

// auditCount returns, per job id, how many update events archive-stale
// wrote for it.
func (w *jobsWorld) auditCount(t *testing.T) map[int]int {
	t.Helper()
	evs, err := w.db.AuditEvent.Query().Where(auditevent.Object(ent.TypeJob), auditevent.Action("update")).All(pgtest.SystemContext(t))
	require.NoError(t, err)
	out := map[int]int{}
	for _, e := range evs {
		id, err := strconv.Atoi(e.ObjectID)
		require.NoError(t, err)
		out[id]++
		assert.Equal(t, "system", e.Actor)
		assert.Contains(t, e.Reason, "job archive-stale run ")
		assert.Contains(t, e.Reason, "ticket 7")
	}
	return out
}

func TestJobArchiveStaleResumesAfterInterruption(t *testing.T) {
	t.Parallel()
	w := newJobsWorld(t, 25, 12)
	runner := jobs.NewRunner(w.db.Client, nil, jobs.NewArchiveStale(30*24*time.Hour, time.Now()))
	p := &stopAfter{n: 2, stop: make(chan struct{})}
	sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{BatchSize: 5, Stop: p.stop, Progress: p, Note: "ticket 7"})
	require.ErrorIs(t, err, jobs.ErrInterrupted)
	assert.True(t, sum.Stopped)
	assert.Equal(t, 2, sum.Batches)
	assert.Equal(t, 10, sum.Changed)
	assert.Equal(t, 37, sum.Matched)

	sum, err = runner.Run(context.Background(), "archive-stale", jobs.Options{BatchSize: 5, Note: "ticket 7"})
	require.NoError(t, err)
	assert.Equal(t, 27, sum.Matched, "the second run starts where the first stopped")
	assert.Equal(t, 27, sum.Changed)

	st := w.statuses(t)
	audits := w.auditCount(t)
	for _, id := range append(append([]int{}, w.staleA...), w.staleB...) {
		assert.Equal(t, job.StatusArchived, st[id], "stale job %d", id)
		assert.Equal(t, 1, audits[id], "job %d audited exactly once", id)
	}
	for _, id := range append(append([]int{}, w.fresh...), w.draft...) {
		assert.NotEqual(t, job.StatusArchived, st[id], "job %d must be left alone", id)
		assert.Zero(t, audits[id])
	}
	assert.Len(t, audits, 37, "one audit row per changed row, no others")

	sum, err = runner.Run(context.Background(), "archive-stale", jobs.Options{Note: "ticket 7"})
	require.NoError(t, err)
	assert.Zero(t, sum.Changed, "a third run finds nothing to do")
}

func TestJobArchiveStaleOneTenant(t *testing.T) {
	t.Parallel()
	w := newJobsWorld(t, 7, 6)
	runner := jobs.NewRunner(w.db.Client, nil, jobs.NewArchiveStale(30*24*time.Hour, time.Now()))
	sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{OrgSlug: "a", Note: "ticket 7"})
	require.NoError(t, err)
	assert.Equal(t, 7, sum.Changed)
	st := w.statuses(t)
	for _, id := range w.staleA {
		assert.Equal(t, job.StatusArchived, st[id])
	}
	for _, id := range w.staleB {
		assert.Equal(t, job.StatusPublished, st[id], "--org a must not touch org b")
	}
	evs, err := w.db.AuditEvent.Query().Where(auditevent.Object(ent.TypeJob), auditevent.Action("update")).All(pgtest.SystemContext(t))
	require.NoError(t, err)
	require.Len(t, evs, 7)
	for _, e := range evs {
		require.NotNil(t, e.OrgID)
		assert.Equal(t, w.orgA.ID, *e.OrgID)
	}

	_, err = runner.Run(context.Background(), "archive-stale", jobs.Options{OrgSlug: "nope"})
	assert.True(t, ent.IsNotFound(err), "%v", err)
	assert.ErrorIs(t, err, jobs.ErrUnknownOrg)
}

func TestJobDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	w := newJobsWorld(t, 4, 3)
	before := w.db.Sums(t)
	runner := jobs.NewRunner(w.db.Client, nil, jobs.NewArchiveStale(30*24*time.Hour, time.Now()))
	sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, 7, sum.Matched)
	assert.Zero(t, sum.Changed)
	assert.Equal(t, before, w.db.Sums(t))
	// It reports what a real run would do: every matched row, and the
	// batches that takes.
	assert.Equal(t, 1, sum.Batches)
	assert.Contains(t, sum.String(), "would change 7 rows in 1 batch ")

	sum, err = runner.Run(context.Background(), "archive-stale", jobs.Options{DryRun: true, OrgSlug: "a", BatchSize: 3})
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Matched, "the same scope as a real run: org a only")
	assert.Equal(t, 2, sum.Batches)
	assert.Contains(t, sum.String(), "would change 4 rows in 2 batches of up to 3")
	assert.Equal(t, before, w.db.Sums(t))

	_, err = runner.Run(context.Background(), "nope", jobs.Options{})
	assert.ErrorIs(t, err, jobs.ErrUnknownJob)
}

func TestJobPurgeSessions(t *testing.T) {
	t.Parallel()
	w := newJobsWorld(t, 0, 0)
	sys := pgtest.SystemContext(t)
	now := time.Now()
	var expired, live []int
	pgtest.MustTx(t, sys, w.db.Client, func(tx *ent.Tx) error {
		u := tx.User.Create().SetOrgID(w.orgA.ID).SetEmail("s@a").SetName("s").SetRole("member").SaveX(sys)
		login := pgtest.LoginContext(t, u.Email) // sessions are created by logging in
		for i := 0; i < 4; i++ {
			expired = append(expired, tx.Session.Create().SetUserID(u.ID).SetOrgID(u.OrgID).SetTokenHash("e"+strconv.Itoa(i)).SetExpiresAt(now.Add(-time.Hour)).SaveX(login).ID)
			live = append(live, tx.Session.Create().SetUserID(u.ID).SetOrgID(u.OrgID).SetTokenHash("l"+strconv.Itoa(i)).SetExpiresAt(now.Add(time.Hour)).SaveX(login).ID)
		}
		return nil
	})
	runner := jobs.NewRunner(w.db.Client, nil, jobs.PurgeSessions{Now: now})
	sum, err := runner.Run(context.Background(), "purge-sessions", jobs.Options{BatchSize: 3, DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Matched)
	assert.Equal(t, 2, sum.Batches, "4 expired sessions in batches of 3")
	sum, err = runner.Run(context.Background(), "purge-sessions", jobs.Options{BatchSize: 3})
	require.NoError(t, err)
	assert.Equal(t, 4, sum.Changed)
	left, err := w.db.Session.Query().IDs(sys)
	require.NoError(t, err)
	assert.ElementsMatch(t, live, left)
	n, err := w.db.AuditEvent.Query().Where(auditevent.Object(ent.TypeSession), auditevent.Action("delete")).Count(sys)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
}

// Each query and mutation a job's run makes under its system scope counts
// in scopegate_system_scope_operations_total{job}; nothing else does.
func TestJobRunCountsSystemScopeOperations(t *testing.T) {
	t.Parallel()
	w := newJobsWorld(t, 7, 3)
	reg := metrics.New()
	runner := jobs.NewRunner(w.db.Client, nil, jobs.NewArchiveStale(30*24*time.Hour, time.Now()))
	runner.Metrics = reg
	scrape := func() float64 {
		rec := httptest.NewRecorder()
		reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		const series = `scopegate_system_scope_operations_total{job="archive-stale"} `
		for _, l := range strings.Split(rec.Body.String(), "\n") {
			if v, ok := strings.CutPrefix(l, series); ok {
				f, err := strconv.ParseFloat(v, 64)
				require.NoError(t, err)
				return f
			}
		}
		return 0
	}
	sum, err := runner.Run(context.Background(), "archive-stale", jobs.Options{BatchSize: 4})
	require.NoError(t, err)
	require.Equal(t, 10, sum.Changed)
	// At least: the count, a select and an update per batch, and the
	// select that finds nothing left.
	first := scrape()
	assert.GreaterOrEqual(t, first, float64(1+2*sum.Batches+1))

	// Queries under another system scope do not count.
	_, err = w.db.Job.Query().Count(pgtest.SystemContext(t))
	require.NoError(t, err)
	assert.Equal(t, first, scrape())

	// A run with nothing to do still counts what it asked.
	_, err = runner.Run(context.Background(), "archive-stale", jobs.Options{BatchSize: 4})
	require.NoError(t, err)
	assert.Greater(t, scrape(), first)
}
