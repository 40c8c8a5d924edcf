package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// TestPreloadFanOutCaps: company.jobs (both surfaces) and user.managed_jobs
// (admin surface) return at most the newest designJobsPerCompany and
// designManagedJobsPerUser rows per parent, after the surface's filter and
// the privacy rules, and each parent is cut on its own: a company or a
// manager with more jobs than the cap does not take rows from another.
func TestPreloadFanOutCaps(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var (
		admin, member, busyManager, otherManager *ent.User
		busy, quiet                              *ent.Company
		busyPublished, busyAll, quietJobs        []int // newest first
		busyManaged, otherManaged                []int // newest first
	)
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		o := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		busy = tx.Company.Create().SetOrgID(o.ID).SetName("Busy").SaveX(sys)
		quiet = tx.Company.Create().SetOrgID(o.ID).SetName("Quiet").SaveX(sys)
		mk := func(email string, role string) *ent.User {
			return tx.User.Create().SetOrgID(o.ID).SetEmail(email).SetName(email).SetRole(userRole(role)).SaveX(sys)
		}
		admin, member = mk("admin@a", "admin"), mk("member@a", "member")
		busyManager, otherManager = mk("busy@a", "manager"), mk("other@a", "manager")
		// 30 jobs of Busy, one an hour, every fifth a draft, all managed
		// by busyManager; the newest also by otherManager. Quiet has 3.
		var created []*ent.Job
		for i := range 30 {
			st := job.StatusPublished
			if i%5 == 4 {
				st = job.StatusDraft
			}
			c := tx.Job.Create().SetOrgID(o.ID).SetCompanyID(busy.ID).SetTitle("busy").SetStatus(st).
				SetCreatedByID(admin.ID).SetCreatedAt(base.Add(time.Duration(i) * time.Hour)).AddManagerIDs(busyManager.ID)
			if i == 29 {
				c.AddManagerIDs(otherManager.ID)
			}
			created = append(created, c.SaveX(sys))
		}
		for i := range 3 {
			quietJobs = append([]int{tx.Job.Create().SetOrgID(o.ID).SetCompanyID(quiet.ID).SetTitle("quiet").
				SetStatus(job.StatusPublished).SetCreatedByID(admin.ID).SetCreatedAt(base.Add(time.Duration(i) * time.Hour)).
				AddManagerIDs(otherManager.ID).SaveX(sys).ID}, quietJobs...)
		}
		for i := len(created) - 1; i >= 0; i-- {
			busyAll = append(busyAll, created[i].ID)
			if created[i].Status == job.StatusPublished {
				busyPublished = append(busyPublished, created[i].ID)
			}
		}
		busyManaged = busyAll
		otherManaged = append([]int{created[29].ID}, quietJobs...)
		return nil
	})
	require.Greater(t, len(busyPublished), designJobsPerCompany)
	require.Greater(t, len(busyManaged), designManagedJobsPerUser)
	client, capture := pgtest.NewCaptureClient(db)

	companyJobs := func(t *testing.T, u *ent.User, surface preload.Surface) map[int][]int {
		t.Helper()
		page, err := repo.Companies{Client: client}.List(pgtest.UserContext(t, u), surface, repo.ListOptions{Preload: "jobs"})
		require.NoError(t, err)
		got := map[int][]int{}
		for _, c := range page.Items {
			got[c.ID] = pgtest.IDs(c.Edges.Jobs...)
		}
		return got
	}
	t.Run("CompanyJobsUserSurface", func(t *testing.T) {
		got := companyJobs(t, member, preload.SurfaceUser)
		assert.Equal(t, map[int][]int{busy.ID: busyPublished[:designJobsPerCompany], quiet.ID: quietJobs}, got)
	})
	t.Run("CompanyJobsAdminSurface", func(t *testing.T) {
		got := companyJobs(t, admin, preload.SurfaceAdmin)
		assert.Equal(t, map[int][]int{busy.ID: busyAll[:designJobsPerCompany], quiet.ID: quietJobs}, got)
	})
	t.Run("ManagedJobsPerManager", func(t *testing.T) {
		capture.Take()
		page, err := repo.Users{Client: client}.List(pgtest.UserContext(t, admin), preload.SurfaceAdmin, repo.ListOptions{Preload: "managed_jobs"})
		require.NoError(t, err)
		got := map[int][]int{}
		for _, u := range page.Items {
			got[u.ID] = pgtest.IDs(u.Edges.ManagedJobs...)
		}
		assert.Equal(t, map[int][]int{
			admin.ID: {}, member.ID: {},
			busyManager.ID:  busyManaged[:designManagedJobsPerUser],
			otherManager.ID: otherManaged,
		}, got)
		// The M2M load numbers the rows of each manager: the partition is
		// the join table's user_id that ent selects first.
		var load string
		for _, st := range capture.Take() {
			if strings.Contains(st.Query, `JOIN "job_managers"`) {
				load = st.Query
			}
		}
		require.NotEmpty(t, load, "no managed_jobs load captured")
		assert.Contains(t, load, `SELECT "t1"."user_id", "jobs"."id"`)
		assert.Contains(t, load, `ROW_NUMBER() OVER (PARTITION BY "user_id" ORDER BY "created_at" DESC, "id" DESC)`)
	})
}
