package integration

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/seed"
)

// TestSeedScale writes a small scale world as the application role (row-
// level security in force), in batches that span organizations and split
// the large tenant, and checks it row for row: exact counts, every link
// inside its tenant, the large tenant's jobs last, sequences past the
// seeded ids, and the repository answering each scope exactly its rows.
func TestSeedScale(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := context.Background()
	shape := seed.NewShape(3, 50, 500)
	shape.Run = "t1"
	shape.BatchJobs = 120
	res, err := seed.Scale(ctx, db.SQL, shape, seed.Options{Analyze: db.Owner(t)})
	require.NoError(t, err)
	require.Len(t, res.OrgIDs, 4)
	large := res.OrgIDs[3]

	t.Run("Counts", func(t *testing.T) {
		// Per small organization (50 jobs): 2 companies; 1 admin, 2
		// managers, 1 member, 2 clients. The large tenant (500 jobs): 2
		// companies; 1 admin, 20 managers, 10 members, 2 clients.
		want := map[string]int{"organizations": 4, "companies": 8, "users": 3*6 + 33,
			"jobs": 650, "job_managers": 1300, "notes": 2600}
		for table, n := range want {
			assert.Equal(t, n, seedCount(t, db.Raw, `SELECT count(*) FROM `+table), table)
			assert.Equal(t, n, res.Rows(table), "reported rows of %s", table)
		}
		for i, org := range res.OrgIDs {
			jobs := 50
			if org == large {
				jobs = 500
			}
			assert.Equal(t, jobs, seedCount(t, db.Raw, `SELECT count(*) FROM jobs WHERE org_id = $1`, org), "jobs of org %d", i)
			for _, role := range []string{"admin", "manager", "member", "client"} {
				assert.Positive(t, seedCount(t, db.Raw, `SELECT count(*) FROM users WHERE org_id = $1 AND role = $2`, org, role), "%s of org %d", role, i)
			}
			for _, status := range []string{"draft", "published", "archived"} {
				assert.Positive(t, seedCount(t, db.Raw, `SELECT count(*) FROM jobs WHERE org_id = $1 AND status = $2`, org, status), "%s jobs of org %d", status, i)
			}
		}
		assert.Equal(t, 1300, seedCount(t, db.Raw, `SELECT count(*) FROM notes WHERE internal`), "half the notes internal")
		assert.Zero(t, seedCount(t, db.Raw, `SELECT count(*) FROM (SELECT job_id FROM job_managers GROUP BY job_id HAVING count(*) <> 2) x`), "2 managers per job")
		assert.Zero(t, seedCount(t, db.Raw, `SELECT count(*) FROM (SELECT job_id FROM notes GROUP BY job_id HAVING count(*) <> 4) x`), "4 notes per job")
		assert.True(t, res.Analyzed, res.AnalyzeSkipped)
	})

	t.Run("LinksStayInTheirTenant", func(t *testing.T) {
		for name, q := range map[string]string{
			"users.company_id":     `SELECT count(*) FROM users x JOIN companies r ON r.id = x.company_id WHERE r.org_id <> x.org_id`,
			"clients have one":     `SELECT count(*) FROM users WHERE (role = 'client') <> (company_id IS NOT NULL)`,
			"jobs.company_id":      `SELECT count(*) FROM jobs x JOIN companies r ON r.id = x.company_id WHERE r.org_id <> x.org_id`,
			"jobs.created_by_id":   `SELECT count(*) FROM jobs x JOIN users r ON r.id = x.created_by_id WHERE r.org_id <> x.org_id OR r.role NOT IN ('admin', 'manager')`,
			"notes.job_id":         `SELECT count(*) FROM notes x JOIN jobs r ON r.id = x.job_id WHERE r.org_id <> x.org_id`,
			"notes.author_id":      `SELECT count(*) FROM notes x JOIN users r ON r.id = x.author_id WHERE r.org_id <> x.org_id`,
			"job_managers.job_id":  `SELECT count(*) FROM job_managers x JOIN jobs r ON r.id = x.job_id WHERE r.org_id <> x.org_id`,
			"job_managers.user_id": `SELECT count(*) FROM job_managers x JOIN users r ON r.id = x.user_id WHERE r.org_id <> x.org_id OR r.role <> 'manager'`,
		} {
			assert.Zero(t, seedCount(t, db.Raw, q), name)
		}
	})

	t.Run("LargeTenantHasTheHighestIDs", func(t *testing.T) {
		for _, table := range []string{"jobs", "notes", "users", "companies"} {
			assert.Equal(t, 1, seedCount(t, db.Raw, `SELECT count(*) FROM (SELECT 1 FROM `+table+` x WHERE x.org_id = $1
				HAVING min(x.id) > (SELECT max(y.id) FROM `+table+` y WHERE y.org_id <> $1)) z`, large), table)
		}
	})

	t.Run("AuditedOncePerOrganization", func(t *testing.T) {
		assert.Equal(t, 4, seedCount(t, db.Raw, `SELECT count(*) FROM audit_events WHERE reason = $1 AND action = 'create' AND object = 'Organization'`, res.Reason))
		assert.Equal(t, 4, seedCount(t, db.Raw, `SELECT count(*) FROM audit_events`))
	})

	t.Run("PasswordWorks", func(t *testing.T) {
		var hash string
		require.NoError(t, db.Raw.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE email = $1`, res.Logins[0].Email).Scan(&hash))
		assert.NoError(t, bcrypt.CompareHashAndPassword([]byte(hash), []byte(seed.Password)))
		assert.Equal(t, 1, seedCount(t, db.Raw, `SELECT count(DISTINCT password_hash) FROM users`))
	})

	t.Run("ScopesSeeExactlyTheirRows", func(t *testing.T) {
		sys := pgtest.SystemContext(t)
		r := repo.New(db.Client)
		for _, l := range res.Logins {
			u, err := db.Client.User.Query().Where(user.Email(l.Email)).Only(sys)
			require.NoError(t, err, l.Email)
			var want []int
			switch l.Role {
			case "admin":
				want = pgtest.Column[int](t, db.Raw, `SELECT id FROM jobs WHERE org_id = $1 ORDER BY id`, u.OrgID)
			case "manager", "member":
				want = pgtest.Column[int](t, db.Raw, `SELECT id FROM jobs WHERE org_id = $1 AND (status = 'published'
					OR id IN (SELECT job_id FROM job_managers WHERE user_id = $2)) ORDER BY id`, u.OrgID, u.ID)
			case "client":
				want = pgtest.Column[int](t, db.Raw, `SELECT id FROM jobs WHERE org_id = $1 AND status = 'published' AND company_id = $2 ORDER BY id`, u.OrgID, *u.CompanyID)
			}
			require.NotEmpty(t, want, l.Email)
			var got []int
			opts := repo.ListOptions{Limit: repo.MaxLimit}
			uctx := pgtest.UserContext(t, u)
			for {
				page, err := r.Jobs.List(uctx, preload.SurfaceUser, repo.JobFilter{}, opts)
				require.NoError(t, err, l.Email)
				for _, j := range page.Items {
					got = append(got, j.ID)
				}
				if page.NextCursor == "" {
					break
				}
				opts.Cursor = page.NextCursor
			}
			assert.Equal(t, want, got, "%s (%s) of %s", l.Email, l.Role, l.Org)
		}
	})

	t.Run("LaterInsertsDoNotCollide", func(t *testing.T) {
		sys := pgtest.SystemContext(t)
		org := res.OrgIDs[0]
		admin, err := db.Client.User.Query().Where(user.OrgID(org), user.RoleEQ(user.RoleAdmin)).First(sys)
		require.NoError(t, err)
		err = database.WithTx(sys, db.Client, func(tx *ent.Tx) error {
			c, err := tx.Company.Create().SetOrgID(org).SetName("After the seed").Save(sys)
			if err != nil {
				return err
			}
			u, err := tx.User.Create().SetOrgID(org).SetEmail("after@seed.test").SetName("After").SetRole(user.RoleManager).Save(sys)
			if err != nil {
				return err
			}
			j, err := tx.Job.Create().SetOrgID(org).SetCompanyID(c.ID).SetTitle("After the seed").SetCreatedByID(admin.ID).
				AddManagerIDs(u.ID).Save(sys)
			if err != nil {
				return err
			}
			return tx.Note.Create().SetOrgID(org).SetJobID(j.ID).SetAuthorID(u.ID).SetBody("after").Exec(sys)
		})
		require.NoError(t, err)
	})

	t.Run("SecondRunAddsASecondWorld", func(t *testing.T) {
		second := seed.NewShape(1, 3, 0)
		second.Run = "t2"
		res2, err := seed.Scale(ctx, db.SQL, second, seed.Options{})
		require.NoError(t, err)
		assert.Equal(t, 3, seedCount(t, db.Raw, `SELECT count(*) FROM jobs WHERE org_id = $1`, res2.OrgIDs[0]))
		// As the application role, which owns no table, ANALYZE is
		// skipped and said so.
		assert.False(t, res2.Analyzed)
		assert.Contains(t, res2.AnalyzeSkipped, pgtest.AppRole)

		before := seedCount(t, db.Raw, `SELECT count(*) FROM jobs`)
		_, err = seed.Scale(ctx, db.SQL, second, seed.Options{})
		require.Error(t, err, "a run tag used already")
		assert.Equal(t, before, seedCount(t, db.Raw, `SELECT count(*) FROM jobs`), "a refused run writes nothing")
	})
}

func TestSeedScaleRefusesBadShapes(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	for name, s := range map[string]seed.Shape{
		"NoOrgs":       seed.NewShape(0, 5, 0),
		"NoJobs":       seed.NewShape(2, 0, 0),
		"TooMany":      seed.NewShape(seed.MaxOrgs, seed.MaxJobsPerOrg, 0),
		"NegativeK":    seed.NewShape(1, 1, -1),
		"BadRunTag":    {Orgs: 1, JobsPerOrg: 1, Run: "Has Spaces"},
		"ManyManagers": {Orgs: 1, JobsPerOrg: 1, ManagersPerJob: seed.MaxManagersPerJob + 1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := seed.Scale(context.Background(), db.SQL, s, seed.Options{})
			assert.ErrorIs(t, err, seed.ErrShape)
		})
	}
	assert.Zero(t, seedCount(t, db.Raw, `SELECT count(*) FROM organizations`), "nothing written")
}

func seedCount(t *testing.T, db *sql.DB, q string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), q, args...).Scan(&n), q)
	return n
}
