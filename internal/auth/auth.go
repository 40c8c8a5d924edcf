// Package auth turns credentials into scopes: a login checks an email and a
// password and creates a session; a request's bearer token finds its session
// and the user behind it. Both run under the narrow authenticator scope (see
// internal/scope), never under a system scope: they can read the one user
// or session they are about, and nothing else.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// ErrUnauthenticated is every failure to authenticate: unknown email, wrong
// password, inactive user, unknown, expired or revoked token. The caller
// cannot tell which.
var ErrUnauthenticated = errors.New("auth: unauthenticated")

// SessionTTL is how long a session lasts.
const SessionTTL = 14 * 24 * time.Hour

// Service authenticates against one database.
type Service struct {
	Client *ent.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (a Service) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// dummyHash is compared against when the email is unknown, so that a failed
// login costs one bcrypt comparison whether or not the email exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("scopegate-dummy-password"), bcrypt.DefaultCost)

// HashToken returns the stored form of a bearer token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Login checks the credentials and creates a session. It returns the token
// (shown once; only its hash is stored) and when it expires.
func (a Service) Login(ctx context.Context, email, password string) (string, time.Time, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	s, err := scope.Authenticator(scope.AuthLookup{Email: email})
	if err != nil {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", time.Time{}, ErrUnauthenticated
	}
	// By key: the user by their unique email, then the new session.
	actx := database.ByKey(scope.NewContext(ctx, s))
	u, err := a.Client.User.Query().Where(user.Email(email)).Only(actx)
	switch {
	case ent.IsNotFound(err):
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return "", time.Time{}, ErrUnauthenticated
	case err != nil:
		return "", time.Time{}, fmt.Errorf("auth: login: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil || !u.Active {
		return "", time.Time{}, ErrUnauthenticated
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	expires := a.now().Add(SessionTTL).UTC().Truncate(time.Second)
	err = database.WithTx(actx, a.Client, func(tx *ent.Tx) error {
		return tx.Session.Create().SetUserID(u.ID).SetOrgID(u.OrgID).SetTokenHash(HashToken(token)).SetExpiresAt(expires).Exec(actx)
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: create session: %w", err)
	}
	return token, expires, nil
}

// Authenticate returns the scope of the user whose unexpired session the
// token names.
func (a Service) Authenticate(ctx context.Context, token string) (scope.Scope, error) {
	if token == "" {
		return scope.Scope{}, ErrUnauthenticated
	}
	s, err := scope.Authenticator(scope.AuthLookup{TokenHash: HashToken(token)})
	if err != nil {
		return scope.Scope{}, ErrUnauthenticated
	}
	// By key: the session by its unique token hash.
	actx := database.ByKey(scope.NewContext(ctx, s))
	// One statement: the user, if a session with this token has not
	// expired. Loading the session and then its user (WithUser) would cost
	// a second statement on every authenticated request.
	u, err := a.Client.User.Query().
		Where(user.HasSessionsWith(session.TokenHash(HashToken(token)), session.ExpiresAtGT(a.now()))).
		Only(actx)
	switch {
	case ent.IsNotFound(err):
		return scope.Scope{}, ErrUnauthenticated
	case err != nil:
		return scope.Scope{}, fmt.Errorf("auth: session: %w", err)
	}
	if !u.Active {
		return scope.Scope{}, ErrUnauthenticated
	}
	us, err := UserScope(u)
	if err != nil {
		return scope.Scope{}, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	return us, nil
}

// UserScope is the scope u acts under once signed in: every field of the
// row that the rules read (tenant, role, company, banned, active), copied
// in one place so that no caller can leave one out.
func UserScope(u *ent.User) (scope.Scope, error) {
	return scope.ForUser(scope.User{ID: u.ID, OrgID: u.OrgID, Role: scope.Role(u.Role), CompanyID: u.CompanyID, Banned: u.Banned, Active: u.Active})
}

// Logout revokes the session the token names. Revoking an unknown token is
// not an error: the token does not work either way.
func (a Service) Logout(ctx context.Context, token string) error {
	s, err := scope.Authenticator(scope.AuthLookup{TokenHash: HashToken(token)})
	if err != nil {
		return ErrUnauthenticated
	}
	actx := scope.NewContext(ctx, s)
	return database.WithTx(actx, a.Client, func(tx *ent.Tx) error {
		_, err := tx.Session.Delete().Where(session.TokenHash(HashToken(token))).Exec(actx)
		return err
	})
}
