// Package scope owns the caller's identity for the data layer: who is asking,
// for which organization (tenant), with which role, or, for batch jobs, an
// explicit and audited system scope. A scope is built once at the front door
// (HTTP middleware, a batch job, the authenticator) and carried in a
// context.Context; everything below reads it from there.
package scope

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrNoScope is returned by every query and mutation whose context carries no
// scope. The data layer fails closed: no SQL is sent.
var ErrNoScope = errors.New("scope: no scope in context")

// ErrInvalid is returned when a scope cannot be built from the given values.
var ErrInvalid = errors.New("scope: invalid scope")

// Role is a user's role inside an organization.
type Role string

// The roles of docs/design.md section 2.
const (
	RoleAdmin   Role = "admin"
	RoleManager Role = "manager"
	RoleMember  Role = "member"
	RoleClient  Role = "client"
)

// Roles lists every role, in order of decreasing power.
var Roles = []Role{RoleAdmin, RoleManager, RoleMember, RoleClient}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Kind tells which sort of principal a scope stands for.
type Kind uint8

const (
	kindInvalid Kind = iota
	// KindUser is a signed-in user of one organization.
	KindUser
	// KindSystem is a batch job or operator command: all tenants, or one
	// tenant with InOrg. Always carries a reason and is always audited.
	KindSystem
	// KindAuthenticator is the narrow scope used before a user is known:
	// it may read one user by email or one session by token hash, and
	// create or revoke sessions. Nothing else.
	KindAuthenticator
)

func (k Kind) String() string {
	switch k {
	case KindUser:
		return "user"
	case KindSystem:
		return "system"
	case KindAuthenticator:
		return "authenticator"
	default:
		return "invalid"
	}
}

// User is what a scope needs to know about the current user. The data layer
// copies it once, when the scope is built, so that a later change of the
// user's row cannot change a request that is already running.
type User struct {
	ID        int
	OrgID     int
	Role      Role
	CompanyID *int // clients only
	Banned    bool
	Active    bool
}

// Request is metadata about the request that built the scope, for logs.
type Request struct {
	ID         string
	RemoteAddr string
}

// Scope is the caller of the data layer. The zero value is not a valid scope:
// every rule treats it as no scope at all.
type Scope struct {
	kind    Kind
	user    User
	orgID   int // tenant; 0 for an all-tenant system scope
	reason  string
	flags   map[string]bool
	request Request
	auth    AuthLookup
}

// ForUser returns the scope of a signed-in user. The user must have an id, an
// organization and a known role.
func ForUser(u User) (Scope, error) {
	switch {
	case u.ID <= 0:
		return Scope{}, fmt.Errorf("%w: user id %d", ErrInvalid, u.ID)
	case u.OrgID <= 0:
		return Scope{}, fmt.Errorf("%w: organization id %d", ErrInvalid, u.OrgID)
	case !u.Role.Valid():
		return Scope{}, fmt.Errorf("%w: role %q", ErrInvalid, u.Role)
	case u.Role == RoleClient && u.CompanyID == nil:
		// A client without a company would see nothing; refuse it loudly
		// instead of building a scope that silently matches no rows.
		return Scope{}, fmt.Errorf("%w: client %d has no company", ErrInvalid, u.ID)
	}
	if u.CompanyID != nil {
		c := *u.CompanyID
		u.CompanyID = &c
	}
	return Scope{kind: KindUser, user: u, orgID: u.OrgID}, nil
}

// SystemScope is an all-tenant (or, with InOrg, one-tenant) scope for batch
// jobs and operator commands, still being built. It is a distinct type so that
// no code path can turn a request value into a system scope by accident: the
// only way in is System, which demands a reason, and that reason lands in
// every audit event. Errors are kept until Scope is called, so that
// System(reason).InOrg(id).Scope() reads as one sentence.
type SystemScope struct {
	s   Scope
	err error
}

// System starts a system scope over all tenants. The reason is mandatory: it
// says who started the work and why ("archive-stale run 42: ticket OPS-7").
func System(reason string) SystemScope {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return SystemScope{err: fmt.Errorf("%w: system scope needs a reason", ErrInvalid)}
	}
	return SystemScope{s: Scope{kind: KindSystem, reason: reason}}
}

// InOrg narrows a system scope to one tenant: queries and bulk mutations see
// only that organization's rows.
func (s SystemScope) InOrg(orgID int) SystemScope {
	if s.err == nil && orgID <= 0 {
		s.err = fmt.Errorf("%w: organization id %d", ErrInvalid, orgID)
	}
	s.s.orgID = orgID
	return s
}

// Scope returns the finished scope, or the first error met while building it.
func (s SystemScope) Scope() (Scope, error) {
	if s.err != nil {
		return Scope{}, s.err
	}
	return s.s, nil
}

// AuthLookup is the one thing an authenticator scope may look up.
type AuthLookup struct {
	// Email lets a login read the one user with this email and create a
	// session for that user.
	Email string
	// TokenHash lets a request read the one session with this hash, the
	// user it points to, and revoke it.
	TokenHash string
}

// Authenticator returns the narrow scope that runs before any user is known.
// Exactly one of Email and TokenHash must be set.
func Authenticator(l AuthLookup) (Scope, error) {
	if (l.Email == "") == (l.TokenHash == "") {
		return Scope{}, fmt.Errorf("%w: authenticator needs exactly one of email and token hash", ErrInvalid)
	}
	return Scope{kind: KindAuthenticator, auth: l}, nil
}

// WithFlags returns a copy of s with the given feature flags.
func (s Scope) WithFlags(flags map[string]bool) Scope {
	c := make(map[string]bool, len(flags))
	for k, v := range flags {
		c[k] = v
	}
	s.flags = c
	return s
}

// WithRequest returns a copy of s carrying request metadata for logs.
func (s Scope) WithRequest(r Request) Scope {
	s.request = r
	return s
}

// Kind returns the kind of principal.
func (s Scope) Kind() Kind { return s.kind }

// Valid reports whether s was built by a constructor.
func (s Scope) Valid() bool { return s.kind != kindInvalid }

// IsSystem reports whether s is a system scope (all tenants or InOrg).
func (s Scope) IsSystem() bool { return s.kind == KindSystem }

// IsUser reports whether s is a signed-in user's scope.
func (s Scope) IsUser() bool { return s.kind == KindUser }

// IsAuthenticator reports whether s is the authenticator scope.
func (s Scope) IsAuthenticator() bool { return s.kind == KindAuthenticator }

// OrgID returns the tenant the scope is narrowed to, and false for an
// all-tenant system scope or the authenticator.
func (s Scope) OrgID() (int, bool) { return s.orgID, s.orgID > 0 }

// User returns the current user, and false for system and authenticator scopes.
// The company pointer is copied, so that the caller cannot change the scope
// through it.
func (s Scope) User() (User, bool) {
	u := s.user
	if u.CompanyID != nil {
		c := *u.CompanyID
		u.CompanyID = &c
	}
	return u, s.kind == KindUser
}

// UserID returns the current user's id, or 0.
func (s Scope) UserID() int { return s.user.ID }

// Role returns the current user's role, or "".
func (s Scope) Role() Role { return s.user.Role }

// Banned reports whether the current user is banned.
func (s Scope) Banned() bool { return s.kind == KindUser && s.user.Banned }

// CompanyID returns a client's company.
func (s Scope) CompanyID() (int, bool) {
	if s.user.CompanyID == nil {
		return 0, false
	}
	return *s.user.CompanyID, true
}

// Reason returns a system scope's reason, or "".
func (s Scope) Reason() string { return s.reason }

// Flag reports whether the feature flag name is on.
func (s Scope) Flag(name string) bool { return s.flags[name] }

// Request returns the request metadata.
func (s Scope) Request() Request { return s.request }

// AuthLookup returns what an authenticator scope may look up.
func (s Scope) AuthLookup() (AuthLookup, bool) { return s.auth, s.kind == KindAuthenticator }

// Actor names the principal in audit events and logs: "system", "user:42"
// or "authenticator".
func (s Scope) Actor() string {
	switch s.kind {
	case KindUser:
		return fmt.Sprintf("user:%d", s.user.ID)
	case KindSystem:
		return "system"
	case KindAuthenticator:
		return "authenticator"
	default:
		return "none"
	}
}

// String describes the scope for logs; it never includes secrets.
func (s Scope) String() string {
	switch s.kind {
	case KindUser:
		return fmt.Sprintf("user:%d org:%d role:%s banned:%t", s.user.ID, s.orgID, s.user.Role, s.user.Banned)
	case KindSystem:
		if s.orgID > 0 {
			return fmt.Sprintf("system org:%d (%s)", s.orgID, s.reason)
		}
		return fmt.Sprintf("system (%s)", s.reason)
	case KindAuthenticator:
		return "authenticator"
	default:
		return "none"
	}
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying s. A zero Scope may be stored but
// FromContext will not return it: it counts as no scope at all.
func NewContext(ctx context.Context, s Scope) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// FromContext returns the scope in ctx, if any.
func FromContext(ctx context.Context) (Scope, bool) {
	s, ok := ctx.Value(ctxKey{}).(Scope)
	return s, ok && s.Valid()
}
