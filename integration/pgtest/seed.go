package pgtest

import (
	"context"
	"testing"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// SystemContext returns a context carrying an all-tenant system scope whose
// reason names the test, for seeding.
func SystemContext(tb testing.TB) context.Context {
	tb.Helper()
	s, err := scope.System("test seed: " + tb.Name()).Scope()
	if err != nil {
		tb.Fatal(err)
	}
	return scope.NewContext(context.Background(), s)
}

// UserContext returns a context carrying u's scope.
func UserContext(tb testing.TB, u *ent.User) context.Context {
	tb.Helper()
	return scope.NewContext(context.Background(), MustScope(tb, u))
}

// MustScope builds u's user scope.
func MustScope(tb testing.TB, u *ent.User) scope.Scope {
	tb.Helper()
	s, err := scope.ForUser(scope.User{
		ID: u.ID, OrgID: u.OrgID, Role: scope.Role(u.Role), CompanyID: u.CompanyID,
		Banned: u.Banned, Active: u.Active,
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// MustTx runs fn in one transaction under ctx's scope and fails the test on
// error.
func MustTx(tb testing.TB, ctx context.Context, c *ent.Client, fn func(tx *ent.Tx) error) {
	tb.Helper()
	if err := database.WithTx(ctx, c, fn); err != nil {
		tb.Fatal(err)
	}
}

// Seed creates rows under an all-tenant system scope, in one (audited)
// transaction, and returns what create returns; it fails the test if create
// or the commit fails.
func Seed[T any](tb testing.TB, c *ent.Client, create func(ctx context.Context, tx *ent.Tx) (T, error)) T {
	tb.Helper()
	ctx := SystemContext(tb)
	var out T
	MustTx(tb, ctx, c, func(tx *ent.Tx) error {
		var err error
		out, err = create(ctx, tx)
		return err
	})
	return out
}

// LoginContext returns a context carrying the authenticator scope of a login
// by email: the one scope that may create sessions (docs/design.md section 5), for
// tests that need sessions to exist.
func LoginContext(tb testing.TB, email string) context.Context {
	tb.Helper()
	s, err := scope.Authenticator(scope.AuthLookup{Email: email})
	if err != nil {
		tb.Fatal(err)
	}
	return scope.NewContext(context.Background(), s)
}

// IDs returns the ids of rows, in their order; an empty list for none (not
// nil, so that it equals the empty lists the code under test returns).
// Every ent entity has GetID (ent/template/getid.tmpl).
func IDs[T interface{ GetID() int }](rows ...T) []int {
	out := make([]int, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.GetID())
	}
	return out
}
