package scope_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/internal/scope"
)

func intPtr(v int) *int { return &v }

func TestForUserRefusesInvalidUsers(t *testing.T) {
	valid := scope.User{ID: 1, OrgID: 2, Role: scope.RoleMember, Active: true}
	cases := []struct {
		name string
		edit func(u *scope.User)
	}{
		{"zero user", func(u *scope.User) { *u = scope.User{} }},
		{"zero id", func(u *scope.User) { u.ID = 0 }},
		{"negative id", func(u *scope.User) { u.ID = -1 }},
		{"zero organization", func(u *scope.User) { u.OrgID = 0 }},
		{"negative organization", func(u *scope.User) { u.OrgID = -5 }},
		{"empty role", func(u *scope.User) { u.Role = "" }},
		{"unknown role", func(u *scope.User) { u.Role = "owner" }},
		{"role in the wrong case", func(u *scope.User) { u.Role = "Admin" }},
		{"system is not a role", func(u *scope.User) { u.Role = "system" }},
		{"client without a company", func(u *scope.User) { u.Role = scope.RoleClient; u.CompanyID = nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := valid
			tc.edit(&u)
			s, err := scope.ForUser(u)
			require.ErrorIs(t, err, scope.ErrInvalid)
			assert.False(t, s.Valid(), "a refused scope must be the zero scope")
			_, ok := scope.FromContext(scope.NewContext(context.Background(), s))
			assert.False(t, ok, "a refused scope must read as no scope")
		})
	}
}

func TestForUserBuildsAUserScope(t *testing.T) {
	for _, r := range scope.Roles {
		t.Run(string(r), func(t *testing.T) {
			u := scope.User{ID: 7, OrgID: 3, Role: r, Active: true}
			if r == scope.RoleClient {
				u.CompanyID = intPtr(11)
			}
			s, err := scope.ForUser(u)
			require.NoError(t, err)
			assert.True(t, s.Valid())
			assert.True(t, s.IsUser())
			assert.False(t, s.IsSystem())
			assert.False(t, s.IsAuthenticator())
			assert.Equal(t, scope.KindUser, s.Kind())
			org, ok := s.OrgID()
			assert.True(t, ok)
			assert.Equal(t, 3, org)
			assert.Equal(t, 7, s.UserID())
			assert.Equal(t, r, s.Role())
			assert.Equal(t, "user:7", s.Actor())
			assert.Empty(t, s.Reason())
			_, auth := s.AuthLookup()
			assert.False(t, auth)
		})
	}

	t.Run("the company is copied", func(t *testing.T) {
		c := 11
		s, err := scope.ForUser(scope.User{ID: 1, OrgID: 1, Role: scope.RoleClient, CompanyID: &c})
		require.NoError(t, err)
		c = 99 // a later change of the caller's value cannot move the scope
		got, ok := s.CompanyID()
		require.True(t, ok)
		assert.Equal(t, 11, got)
	})

	t.Run("banned", func(t *testing.T) {
		s, err := scope.ForUser(scope.User{ID: 1, OrgID: 1, Role: scope.RoleAdmin, Banned: true})
		require.NoError(t, err)
		assert.True(t, s.Banned())
	})
}

// TestScopeCannotBeChangedThroughUser: a scope is fixed once built. User()
// returns a copy; changing the copy's company must not move a client's
// scope to another company.
func TestScopeCannotBeChangedThroughUser(t *testing.T) {
	s, err := scope.ForUser(scope.User{ID: 1, OrgID: 1, Role: scope.RoleClient, CompanyID: intPtr(11)})
	require.NoError(t, err)
	u, ok := s.User()
	require.True(t, ok)
	require.NotNil(t, u.CompanyID)
	*u.CompanyID = 42
	got, _ := s.CompanyID()
	assert.Equal(t, 11, got, "User() handed out the scope's own company pointer")
}

func TestSystemScopeNeedsAReason(t *testing.T) {
	for _, reason := range []string{"", " ", "  ", "\t\n"} {
		t.Run("reason "+`"`+reason+`"`, func(t *testing.T) {
			s, err := scope.System(reason).Scope()
			require.ErrorIs(t, err, scope.ErrInvalid)
			assert.False(t, s.Valid())
			_, err = scope.System(reason).InOrg(3).Scope()
			require.ErrorIs(t, err, scope.ErrInvalid, "InOrg must not repair a missing reason")
		})
	}

	s, err := scope.System("  archive-stale run 42  ").Scope()
	require.NoError(t, err)
	assert.True(t, s.IsSystem())
	assert.False(t, s.IsUser())
	assert.Equal(t, scope.KindSystem, s.Kind())
	assert.Equal(t, "archive-stale run 42", s.Reason())
	assert.Equal(t, "system", s.Actor())
	_, narrowed := s.OrgID()
	assert.False(t, narrowed, "System without InOrg spans all tenants")
	_, isUser := s.User()
	assert.False(t, isUser)
	assert.Zero(t, s.UserID())
	assert.False(t, s.Banned())
}

func TestInOrgNarrowsTheSystemScope(t *testing.T) {
	for _, org := range []int{0, -1} {
		s, err := scope.System("job").InOrg(org).Scope()
		require.ErrorIs(t, err, scope.ErrInvalid, "InOrg(%d)", org)
		assert.False(t, s.Valid())
	}
	s, err := scope.System("job").InOrg(5).Scope()
	require.NoError(t, err)
	org, ok := s.OrgID()
	assert.True(t, ok)
	assert.Equal(t, 5, org)
	assert.True(t, s.IsSystem())
	assert.Equal(t, "job", s.Reason())

	// A bad InOrg is not repaired by a later good one.
	_, err = scope.System("job").InOrg(0).InOrg(5).Scope()
	require.ErrorIs(t, err, scope.ErrInvalid)
}

func TestAuthenticatorNeedsExactlyOneLookup(t *testing.T) {
	for name, l := range map[string]scope.AuthLookup{
		"none": {},
		"both": {Email: "a@a.test", TokenHash: "h"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := scope.Authenticator(l)
			require.ErrorIs(t, err, scope.ErrInvalid)
			assert.False(t, s.Valid())
		})
	}
	for name, l := range map[string]scope.AuthLookup{
		"email": {Email: "a@a.test"},
		"token": {TokenHash: "h"},
	} {
		t.Run(name, func(t *testing.T) {
			s, err := scope.Authenticator(l)
			require.NoError(t, err)
			assert.True(t, s.IsAuthenticator())
			assert.False(t, s.IsSystem())
			assert.False(t, s.IsUser())
			_, narrowed := s.OrgID()
			assert.False(t, narrowed)
			got, ok := s.AuthLookup()
			assert.True(t, ok)
			assert.Equal(t, l, got)
			assert.Equal(t, "authenticator", s.Actor())
		})
	}
}

func TestZeroScopeInContextIsNoScope(t *testing.T) {
	_, ok := scope.FromContext(context.Background())
	assert.False(t, ok, "empty context")

	ctx := scope.NewContext(context.Background(), scope.Scope{})
	s, ok := scope.FromContext(ctx)
	assert.False(t, ok, "a zero Scope in the context")
	assert.False(t, s.Valid())
	assert.Equal(t, "none", s.Actor())
	assert.Equal(t, "none", s.String())

	// A zero scope stored over a valid one hides it: the innermost wins.
	u, err := scope.ForUser(scope.User{ID: 1, OrgID: 1, Role: scope.RoleAdmin})
	require.NoError(t, err)
	ctx = scope.NewContext(scope.NewContext(context.Background(), u), scope.Scope{})
	_, ok = scope.FromContext(ctx)
	assert.False(t, ok)

	ctx = scope.NewContext(context.Background(), u)
	got, ok := scope.FromContext(ctx)
	require.True(t, ok)
	assert.Equal(t, 1, got.UserID())
}

func TestWithFlagsCopiesTheMap(t *testing.T) {
	u, err := scope.ForUser(scope.User{ID: 1, OrgID: 1, Role: scope.RoleAdmin})
	require.NoError(t, err)
	flags := map[string]bool{"beta": true}
	s := u.WithFlags(flags)
	flags["beta"] = false
	flags["other"] = true
	assert.True(t, s.Flag("beta"))
	assert.False(t, s.Flag("other"))
	assert.False(t, u.Flag("beta"), "WithFlags returns a copy")

	r := s.WithRequest(scope.Request{ID: "req-1", RemoteAddr: "127.0.0.1"})
	assert.Equal(t, "req-1", r.Request().ID)
	assert.Empty(t, s.Request().ID)
}

func TestScopeStringNeverLeaksSecrets(t *testing.T) {
	s, err := scope.Authenticator(scope.AuthLookup{TokenHash: "secret-hash"})
	require.NoError(t, err)
	assert.NotContains(t, s.String(), "secret-hash")
	s, err = scope.Authenticator(scope.AuthLookup{Email: "who@example.test"})
	require.NoError(t, err)
	assert.NotContains(t, s.String(), "who@example.test")
}

func TestRoleValid(t *testing.T) {
	for _, r := range scope.Roles {
		assert.True(t, r.Valid(), r)
	}
	for _, r := range []scope.Role{"", "owner", "ADMIN", " admin"} {
		assert.False(t, r.Valid(), r)
	}
	assert.Equal(t, []scope.Role{scope.RoleAdmin, scope.RoleManager, scope.RoleMember, scope.RoleClient}, scope.Roles)
}
