package demo_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/migration"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// TestSeedEmbedded seeds the demo world into an embedded SQLite file, as
// `scopegate serve` does with no DATABASE_URL, and reads it back through the
// real authentication and repositories.
func TestSeedEmbedded(t *testing.T) {
	ctx := context.Background()
	db, err := migration.OpenEmbedded(ctx, "file:"+filepath.Join(t.TempDir(), "demo.db"), database.Options{})
	require.NoError(t, err)
	defer db.Close()

	wrote, err := demo.Seed(ctx, db.Client)
	require.NoError(t, err)
	assert.True(t, wrote)
	wrote, err = demo.Seed(ctx, db.Client)
	require.NoError(t, err)
	assert.False(t, wrote, "a second seed writes nothing")

	a := auth.Service{Client: db.Client}
	for _, l := range demo.Logins() {
		token, _, err := a.Login(ctx, l.Email, demo.Password)
		require.NoError(t, err, l.Email)
		s, err := a.Authenticate(ctx, token)
		require.NoError(t, err)
		uctx := scope.NewContext(ctx, s)
		page, err := repo.New(db.Client).Jobs.List(uctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: "company,managers,notes.author"})
		require.NoError(t, err, l.Email)
		want := map[string]int{"admin": 4, "manager": 4, "member": 2, "client": 1}[l.Role]
		assert.Len(t, page.Items, want, "%s sees %d jobs", l.Email, want)
		for _, j := range page.Items {
			o, _ := s.OrgID()
			assert.Equal(t, o, j.OrgID, "tenant")
			for _, n := range j.Edges.Notes {
				assert.False(t, n.Internal, "user surface shows public notes only")
			}
		}
	}
}
