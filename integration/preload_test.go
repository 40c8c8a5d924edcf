package integration

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/preload"
)

func TestPreloadSmoke(t *testing.T) {
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	var admin *ent.User
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		org := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		admin = tx.User.Create().SetOrgID(org.ID).SetEmail("a@a").SetName("A").SetRole("admin").SaveX(sys)
		co := tx.Company.Create().SetOrgID(org.ID).SetName("C").SaveX(sys)
		for i := 0; i < 3; i++ {
			j := tx.Job.Create().SetOrgID(org.ID).SetCompanyID(co.ID).SetTitle("pub").SetStatus(job.StatusPublished).SetCreatedByID(admin.ID).AddManagerIDs(admin.ID).SaveX(sys)
			for k := 0; k < 25; k++ {
				tx.Note.Create().SetOrgID(org.ID).SetJobID(j.ID).SetAuthorID(admin.ID).SetBody("b").SaveX(sys)
			}
		}
		return nil
	})
	ctx := pgtest.UserContext(t, admin)
	tree, err := preload.Parse(preload.Job, preload.SurfaceUser, "company,managers,notes.author")
	require.NoError(t, err)
	db.Counter.Reset()
	jobs, err := preload.Jobs(db.Job.Query(), preload.SurfaceUser, tree).All(ctx)
	require.NoError(t, err)
	for _, s := range db.Counter.Statements() {
		t.Log(s)
	}
	require.Equal(t, 5, db.Counter.Count())
	for _, j := range jobs {
		require.Len(t, j.Edges.Notes, 20)
		require.NotNil(t, j.Edges.Notes[0].Edges.Author)
		require.NotNil(t, j.Edges.Company)
		require.Len(t, j.Edges.Managers, 1)
	}
}
