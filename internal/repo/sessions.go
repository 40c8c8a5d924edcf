package repo

import (
	"context"
	"time"

	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/scope"
)

// Sessions signs users in and out through auth.Service, with its errors
// classified like every repository's: credentials that authenticate nobody
// are ErrUnauthenticated, a database that fails is ErrUnavailable or
// ErrTimedOut, a value it refuses ErrInvalid.
type Sessions struct{ Auth auth.Service }

// Login checks an email and password and creates a session: the token
// (shown once) and when it expires. ErrUnauthenticated for an unknown
// email, a wrong password or an inactive user, alike.
func (r Sessions) Login(ctx context.Context, email, password string) (string, time.Time, error) {
	token, expires, err := r.Auth.Login(ctx, email, password)
	return token, expires, classify("login", err)
}

// Authenticate returns the scope of the user whose unexpired session the
// token names; ErrUnauthenticated otherwise.
func (r Sessions) Authenticate(ctx context.Context, token string) (scope.Scope, error) {
	s, err := r.Auth.Authenticate(ctx, token)
	return s, classifyQuery("authenticate", err)
}

// Logout revokes the session the token names.
func (r Sessions) Logout(ctx context.Context, token string) error {
	return classifyQuery("logout", r.Auth.Logout(ctx, token))
}

// AuthorizeAdminSurface is policy.AuthorizeAdminSurface, classified:
// ErrForbidden (carrying the *policy.Error) for anyone but an unbanned
// admin or the system scope.
func AuthorizeAdminSurface(ctx context.Context) error {
	return classifyQuery("admin surface", policy.AuthorizeAdminSurface(ctx))
}

// Can is policy.Can, classified: the actions the scope in ctx may take on
// objects of the type named (every type for "").
func Can(ctx context.Context, object string) ([]policy.Action, error) {
	actions, err := policy.Can(ctx, object)
	return actions, classifyQuery("can", err)
}
