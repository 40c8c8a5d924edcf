package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

func TestAuthLoginAuthenticateLogout(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	hash, err := repo.HashPassword("correct horse battery")
	require.NoError(t, err)
	var u, inactive *ent.User
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		org := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(sys)
		u = tx.User.Create().SetOrgID(org.ID).SetEmail("m@a.test").SetName("M").SetRole("member").SetPasswordHash(hash).SaveX(sys)
		inactive = tx.User.Create().SetOrgID(org.ID).SetEmail("i@a.test").SetName("I").SetRole("member").SetPasswordHash(hash).SetActive(false).SaveX(sys)
		return nil
	})
	now := time.Now()
	a := auth.Service{Client: db.Client, Now: func() time.Time { return now }}
	ctx := context.Background()

	for name, creds := range map[string][2]string{
		"UnknownEmail":  {"nobody@a.test", "correct horse battery"},
		"WrongPassword": {"m@a.test", "wrong horse battery"},
		"Inactive":      {inactive.Email, "correct horse battery"},
		"EmptyEmail":    {"", "x"},
	} {
		_, _, err := a.Login(ctx, creds[0], creds[1])
		assert.ErrorIs(t, err, auth.ErrUnauthenticated, name)
	}

	token, expires, err := a.Login(ctx, " M@A.test ", "correct horse battery")
	require.NoError(t, err)
	assert.WithinDuration(t, now.Add(auth.SessionTTL), expires, 2*time.Second)
	n, err := db.Session.Query().Count(sys)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	stored, err := db.Session.Query().Only(sys)
	require.NoError(t, err)
	assert.Equal(t, auth.HashToken(token), stored.TokenHash, "only the hash is stored")
	assert.NotContains(t, stored.TokenHash, token)

	s, err := a.Authenticate(ctx, token)
	require.NoError(t, err)
	assert.Equal(t, u.ID, s.UserID())
	assert.Equal(t, scope.RoleMember, s.Role())

	_, err = a.Authenticate(ctx, token+"x")
	assert.ErrorIs(t, err, auth.ErrUnauthenticated)
	_, err = a.Authenticate(ctx, "")
	assert.ErrorIs(t, err, auth.ErrUnauthenticated)

	later := auth.Service{Client: db.Client, Now: func() time.Time { return now.Add(auth.SessionTTL + time.Minute) }}
	_, err = later.Authenticate(ctx, token)
	assert.ErrorIs(t, err, auth.ErrUnauthenticated, "expired")

	require.NoError(t, a.Logout(ctx, token))
	_, err = a.Authenticate(ctx, token)
	assert.ErrorIs(t, err, auth.ErrUnauthenticated, "revoked")
}
