package integration

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/integration/pgtest"
)

func TestSmoke(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	var member *ent.User
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		org := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		admin := tx.User.Create().SetOrgID(org.ID).SetEmail("a@a").SetName("A").SetRole("admin").SaveX(sys)
		member = tx.User.Create().SetOrgID(org.ID).SetEmail("m@a").SetName("M").SetRole("member").SaveX(sys)
		co := tx.Company.Create().SetOrgID(org.ID).SetName("C").SaveX(sys)
		tx.Job.Create().SetOrgID(org.ID).SetCompanyID(co.ID).SetTitle("pub").SetStatus(job.StatusPublished).SetCreatedByID(admin.ID).SaveX(sys)
		tx.Job.Create().SetOrgID(org.ID).SetCompanyID(co.ID).SetTitle("draft").SetCreatedByID(admin.ID).SaveX(sys)
		return nil
	})
	ctx := pgtest.UserContext(t, member)
	jobs, err := db.Job.Query().All(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	n, err := db.AuditEvent.Query().Count(sys)
	require.NoError(t, err)
	require.Equal(t, 6, n)
}
