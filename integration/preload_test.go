package integration

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// preloadWorld is a small hand-built world for the preload table: org A with
// a user of every role, an inactive manager, two companies, jobs of every
// status and a page of notes.
type preloadWorld struct {
	db                                  *pgtest.DB
	admin, manager, member, client      *ent.User
	inactiveManager                     *ent.User
	c1, c2                              *ent.Company
	published, draft, archived, otherCo *ent.Job
	publicNotes, internalNotes          int
}

func newPreloadWorld(t *testing.T) *preloadWorld {
	t.Helper()
	w := &preloadWorld{db: pgtest.New(t), publicNotes: 25, internalNotes: 3}
	sys := pgtest.SystemContext(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pgtest.MustTx(t, sys, w.db.Client, func(tx *ent.Tx) error {
		a := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		w.c1 = tx.Company.Create().SetOrgID(a.ID).SetName("C1").SaveX(sys)
		w.c2 = tx.Company.Create().SetOrgID(a.ID).SetName("C2").SaveX(sys)
		mk := func(org int, email, role string, updated time.Time) *ent.UserCreate {
			return tx.User.Create().SetOrgID(org).SetEmail(email).SetName(email).SetRole(userRole(role)).SetUpdatedAt(updated)
		}
		w.admin = mk(a.ID, "admin@a", "admin", base).SaveX(sys)
		w.manager = mk(a.ID, "manager@a", "manager", base.Add(2*time.Hour)).SaveX(sys)
		w.inactiveManager = mk(a.ID, "inactive@a", "manager", base.Add(3*time.Hour)).SetActive(false).SaveX(sys)
		w.member = mk(a.ID, "member@a", "member", base).SaveX(sys)
		w.client = mk(a.ID, "client@a", "client", base).SetCompanyID(w.c1.ID).SaveX(sys)
		newJob := func(co *ent.Company, st job.Status, created time.Time) *ent.JobCreate {
			return tx.Job.Create().SetOrgID(a.ID).SetCompanyID(co.ID).SetTitle(string(st)).SetStatus(st).
				SetCreatedByID(w.admin.ID).SetCreatedAt(created)
		}
		w.published = newJob(w.c1, job.StatusPublished, base).
			AddManagerIDs(w.admin.ID, w.manager.ID, w.inactiveManager.ID).SaveX(sys)
		w.draft = newJob(w.c1, job.StatusDraft, base.Add(time.Hour)).AddManagerIDs(w.manager.ID).SaveX(sys)
		w.archived = newJob(w.c1, job.StatusArchived, base.Add(2*time.Hour)).SaveX(sys)
		w.otherCo = newJob(w.c2, job.StatusPublished, base.Add(3*time.Hour)).SaveX(sys)
		for i := 0; i < w.publicNotes+w.internalNotes; i++ {
			tx.Note.Create().SetOrgID(a.ID).SetJobID(w.published.ID).SetAuthorID(w.member.ID).
				SetBody(fmt.Sprint(i)).SetInternal(i%10 == 9).SetCreatedAt(base.Add(time.Duration(i) * time.Minute)).SaveX(sys)
		}
		return nil
	})
	return w
}

func userRole(r string) user.Role { return user.Role(r) }

func (w *preloadWorld) getJob(t *testing.T, u *ent.User, s preload.Surface, id int, paths string) *ent.Job {
	t.Helper()
	j, _, err := repo.Jobs{Client: w.db.Client}.Get(pgtest.UserContext(t, u), s, id, repo.GetOptions{Preload: paths})
	require.NoError(t, err)
	return j
}

func TestPreloadJobManagers(t *testing.T) {
	t.Parallel()
	w := newPreloadWorld(t)
	t.Run("UserSurfaceActiveOnlyNewestFirst", func(t *testing.T) {
		for _, u := range []*ent.User{w.admin, w.manager, w.member, w.client} {
			j := w.getJob(t, u, preload.SurfaceUser, w.published.ID, "managers")
			assert.Equal(t, []int{w.manager.ID, w.admin.ID}, pgtest.IDs(j.Edges.Managers...), "as %s", u.Role)
		}
	})
	t.Run("AdminSurfaceAllNewestFirst", func(t *testing.T) {
		j := w.getJob(t, w.admin, preload.SurfaceAdmin, w.published.ID, "managers")
		assert.Equal(t, []int{w.inactiveManager.ID, w.manager.ID, w.admin.ID}, pgtest.IDs(j.Edges.Managers...))
	})
}

func TestPreloadJobNotes(t *testing.T) {
	t.Parallel()
	w := newPreloadWorld(t)
	check := func(t *testing.T, notes []*ent.Note, wantLen int, wantInternal bool) {
		t.Helper()
		require.Len(t, notes, wantLen)
		for i, n := range notes {
			if !wantInternal {
				assert.False(t, n.Internal, "internal note %d on the user surface", n.ID)
			}
			if i > 0 {
				assert.False(t, n.CreatedAt.After(notes[i-1].CreatedAt), "notes not newest first")
			}
		}
	}
	t.Run("UserSurfacePublicNewest20", func(t *testing.T) {
		for _, u := range []*ent.User{w.admin, w.manager, w.member, w.client} {
			j := w.getJob(t, u, preload.SurfaceUser, w.published.ID, "notes")
			check(t, j.Edges.Notes, preload.NotesPerJob, false)
		}
	})
	t.Run("AdminSurfaceAllNewestFirst", func(t *testing.T) {
		j := w.getJob(t, w.admin, preload.SurfaceAdmin, w.published.ID, "notes")
		check(t, j.Edges.Notes, w.publicNotes+w.internalNotes, true)
	})
	t.Run("LimitIsPerParent", func(t *testing.T) {
		sys := pgtest.SystemContext(t)
		pgtest.MustTx(t, sys, w.db.Client, func(tx *ent.Tx) error {
			for i := 0; i < 3; i++ {
				tx.Note.Create().SetOrgID(w.admin.OrgID).SetJobID(w.otherCo.ID).SetAuthorID(w.admin.ID).SetBody("x").SaveX(sys)
			}
			return nil
		})
		page, err := repo.Jobs{Client: w.db.Client}.List(pgtest.UserContext(t, w.member), preload.SurfaceUser,
			repo.JobFilter{Status: "published"}, repo.ListOptions{Preload: "notes"})
		require.NoError(t, err)
		got := map[int]int{}
		for _, j := range page.Items {
			got[j.ID] = len(j.Edges.Notes)
		}
		assert.Equal(t, map[int]int{w.published.ID: preload.NotesPerJob, w.otherCo.ID: 3}, got)
	})
	t.Run("NoteAuthorOnBothSurfaces", func(t *testing.T) {
		j := w.getJob(t, w.member, preload.SurfaceUser, w.published.ID, "notes.author")
		require.NotEmpty(t, j.Edges.Notes)
		assert.Equal(t, w.member.ID, j.Edges.Notes[0].Edges.Author.ID)
		j = w.getJob(t, w.admin, preload.SurfaceAdmin, w.published.ID, "notes.author")
		assert.Equal(t, w.member.ID, j.Edges.Notes[0].Edges.Author.ID)
	})
}

func TestPreloadAdminOnlyEdges(t *testing.T) {
	t.Parallel()
	w := newPreloadWorld(t)
	j := w.getJob(t, w.admin, preload.SurfaceAdmin, w.published.ID, "creator,company")
	assert.Equal(t, w.admin.ID, j.Edges.Creator.ID)
	assert.Equal(t, w.c1.ID, j.Edges.Company.ID)

	u, _, err := repo.Users{Client: w.db.Client}.Get(pgtest.UserContext(t, w.admin), preload.SurfaceAdmin, w.manager.ID, repo.GetOptions{Preload: "managed_jobs,company"})
	require.NoError(t, err)
	assert.Equal(t, []int{w.draft.ID, w.published.ID}, pgtest.IDs(u.Edges.ManagedJobs...))

	for _, who := range []*ent.User{w.manager, w.member, w.client} {
		_, _, err := repo.Jobs{Client: w.db.Client}.Get(pgtest.UserContext(t, who), preload.SurfaceAdmin, w.published.ID, repo.GetOptions{})
		assert.ErrorIs(t, err, repo.ErrForbidden, "admin surface as %s", who.Role)
	}
}

func TestPreloadCompanyJobs(t *testing.T) {
	t.Parallel()
	w := newPreloadWorld(t)
	companies := repo.Companies{Client: w.db.Client}
	c, _, err := companies.Get(pgtest.UserContext(t, w.member), preload.SurfaceUser, w.c1.ID, repo.GetOptions{Preload: "jobs"})
	require.NoError(t, err)
	assert.Equal(t, []int{w.published.ID}, pgtest.IDs(c.Edges.Jobs...), "user surface: published only")

	c, _, err = companies.Get(pgtest.UserContext(t, w.admin), preload.SurfaceAdmin, w.c1.ID, repo.GetOptions{Preload: "jobs"})
	require.NoError(t, err)
	assert.Equal(t, []int{w.archived.ID, w.draft.ID, w.published.ID}, pgtest.IDs(c.Edges.Jobs...), "admin surface: all, newest first")

	// A manager's own draft is visible to them directly, but the user
	// surface shows published jobs only.
	c, _, err = companies.Get(pgtest.UserContext(t, w.manager), preload.SurfaceUser, w.c1.ID, repo.GetOptions{Preload: "jobs"})
	require.NoError(t, err)
	assert.Equal(t, []int{w.published.ID}, pgtest.IDs(c.Edges.Jobs...))

	c, _, err = companies.Get(pgtest.UserContext(t, w.client), preload.SurfaceUser, w.c1.ID, repo.GetOptions{Preload: "jobs.managers"})
	require.NoError(t, err)
	require.Len(t, c.Edges.Jobs, 1)
	assert.Equal(t, []int{w.manager.ID, w.admin.ID}, pgtest.IDs(c.Edges.Jobs[0].Edges.Managers...))
}

func TestPreloadUserCompany(t *testing.T) {
	t.Parallel()
	w := newPreloadWorld(t)
	for _, s := range preload.Surfaces {
		u, _, err := repo.Users{Client: w.db.Client}.Get(pgtest.UserContext(t, w.admin), s, w.client.ID, repo.GetOptions{Preload: "company"})
		require.NoError(t, err)
		assert.Equal(t, w.c1.ID, u.Edges.Company.ID, "surface %s", s)
	}
}

// TestPreloadRefusedSendsNoSQL: every refused path is a typed error naming
// what is allowed, and nothing reaches the database.
func TestPreloadRefusedSendsNoSQL(t *testing.T) {
	t.Parallel()
	w := newPreloadWorld(t)
	jobs := repo.Jobs{Client: w.db.Client}
	cases := []struct {
		name, paths string
		surface     preload.Surface
		reason      preload.Reason
	}{
		{"UnknownEdge", "company,owner", preload.SurfaceUser, preload.ReasonUnknown},
		{"AdminOnlyOnUserSurface", "creator", preload.SurfaceUser, preload.ReasonUnknown},
		{"TooDeep", "company.jobs.notes.author", preload.SurfaceAdmin, preload.ReasonTooDeep},
		{"Malformed", "notes..author", preload.SurfaceUser, preload.ReasonMalformed},
		{"Whitespace", "company, notes", preload.SurfaceUser, preload.ReasonMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := pgtest.UserContext(t, w.admin)
			for _, call := range []func() error{
				func() error {
					_, err := jobs.List(ctx, c.surface, repo.JobFilter{}, repo.ListOptions{Preload: c.paths})
					return err
				},
				func() error {
					_, _, err := jobs.Get(ctx, c.surface, w.published.ID, repo.GetOptions{Preload: c.paths})
					return err
				},
			} {
				w.db.Counter.Reset()
				err := call()
				var pe *preload.Error
				require.True(t, errors.As(err, &pe), "got %v", err)
				assert.ErrorIs(t, err, preload.ErrNotAllowed)
				assert.Equal(t, c.reason, pe.Reason)
				assert.Equal(t, preload.Job, pe.Entity)
				assert.Equal(t, c.surface, pe.Surface)
				assert.Equal(t, preload.Allowed(preload.Job, c.surface), pe.Allowed)
				assert.Zero(t, w.db.Counter.Count(), "statements sent: %v", w.db.Counter.Statements())
			}
		})
	}
}

// TestPreloadStatementCount: company,managers,notes.author costs one
// statement for the jobs and one per edge per level (company, managers,
// notes; then authors), whatever the number of parents.
func TestPreloadStatementCount(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	var admin *ent.User
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		org := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		admin = tx.User.Create().SetOrgID(org.ID).SetEmail("a@a").SetName("A").SetRole("admin").SaveX(sys)
		co := tx.Company.Create().SetOrgID(org.ID).SetName("C").SaveX(sys)
		jobs := make([]*ent.JobCreate, 200)
		for i := range jobs {
			jobs[i] = tx.Job.Create().SetOrgID(org.ID).SetCompanyID(co.ID).SetTitle("t").SetStatus(job.StatusPublished).
				SetCreatedByID(admin.ID).AddManagerIDs(admin.ID)
		}
		created := tx.Job.CreateBulk(jobs...).SaveX(sys)
		notes := make([]*ent.NoteCreate, 0, 400)
		for _, j := range created {
			notes = append(notes, tx.Note.Create().SetOrgID(org.ID).SetJobID(j.ID).SetAuthorID(admin.ID).SetBody("b"),
				tx.Note.Create().SetOrgID(org.ID).SetJobID(j.ID).SetAuthorID(admin.ID).SetBody("b"))
		}
		tx.Note.CreateBulk(notes...).SaveX(sys)
		return nil
	})
	ctx := pgtest.UserContext(t, admin)
	for _, n := range []int{1, 10, 200} {
		for _, s := range preload.Surfaces {
			t.Run(fmt.Sprintf("%s/%d", s, n), func(t *testing.T) {
				db.Counter.Reset()
				// As an HTTP request does: the reads share one
				// read-only transaction (database.WithReadUnit).
				ctx, end := database.WithReadUnit(ctx)
				page, err := repo.Jobs{Client: db.Client}.List(ctx, s, repo.JobFilter{}, repo.ListOptions{Preload: "company,managers,notes.author", Limit: n})
				require.NoError(t, err)
				require.NoError(t, end())
				require.Len(t, page.Items, n)
				for _, j := range page.Items {
					require.NotNil(t, j.Edges.Company)
					require.Len(t, j.Edges.Managers, 1)
					require.Len(t, j.Edges.Notes, 2)
					require.NotNil(t, j.Edges.Notes[0].Edges.Author)
				}
				assert.Equal(t, 1+4, db.Counter.Queries(), "statements: %v", db.Counter.Statements())
				// COMMIT, once: BEGIN READ ONLY and the scope settings
				// travel with the first statement.
				assert.Equal(t, 1+4+1, db.Counter.Count(), "statements: %v", db.Counter.Statements())
			})
		}
	}
}
