package rules

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/scope"
)

// Entity is the row-level security of one entity: how its rows belong to a
// tenant, which of them each role sees (docs/design.md section 3), and which
// mutations a non-system scope may attempt at all.
type Entity struct {
	tenant  func(s scope.Scope) pred
	visible func(s scope.Scope) pred
	mutate  func(ctx context.Context, m ent.Mutation) error
}

// tenantOrg returns the organization a scope is narrowed to: a user's, or an
// InOrg system scope's. The all-tenant system scope and the authenticator
// have none (the authenticator is narrowed by its role rules instead).
func tenantOrg(s scope.Scope) (int, bool) {
	if s.IsUser() || s.IsSystem() {
		return s.OrgID()
	}
	return 0, false
}

// allTenants reports whether s is the all-tenant system scope, which sees
// every row of every tenant.
func allTenants(s scope.Scope) bool {
	_, narrowed := tenantOrg(s)
	return s.IsSystem() && !narrowed
}

// inTenant is the tenant filter of a table: inOrg(org), the table's way of
// saying "the rows of org", for a scope narrowed to org; nothing for a
// scope of no tenant (the all-tenant system scope, and the authenticator,
// whom its role rules narrow instead).
func inTenant(inOrg func(org int) pred) func(scope.Scope) pred {
	return func(s scope.Scope) pred {
		if org, ok := tenantOrg(s); ok {
			return inOrg(org)
		}
		return nil
	}
}

// byOrgColumn narrows a table by its own org_id column.
var byOrgColumn = inTenant(func(org int) pred { return sql.FieldEQ("org_id", org) })

const published = job.StatusPublished

// jobsOfManagerOrMember is rule 5: published jobs, and jobs they manage.
func jobsOfManagerOrMember(s scope.Scope) pred {
	return job.Or(job.StatusEQ(published), job.HasManagersWith(user.ID(s.UserID())))
}

// jobsOfClient is rule 6: published jobs of the client's own company.
func jobsOfClient(s scope.Scope) pred {
	c, _ := s.CompanyID()
	return job.And(job.CompanyID(c), job.StatusEQ(published))
}

// forUser applies the common head of every role rule: only a user scope
// reaches role rules with anything visible, and a banned user sees nothing
// but what the entity's own rule says (their own user row).
func forUser(s scope.Scope, roles func(scope.Role) pred) pred {
	if !s.IsUser() || s.Banned() {
		return nothing
	}
	return roles(s.Role())
}

var everything pred // nil: do not narrow beyond the tenant filter

// Organization: every user sees their own organization (the tenant filter
// already says which); only the system scope changes organizations.
var Organization = Entity{
	tenant: inTenant(func(org int) pred { return organization.ID(org) }),
	visible: func(s scope.Scope) pred {
		if s.IsUser() {
			return everything // banned users too: rule 3
		}
		return nothing
	},
	mutate: func(context.Context, ent.Mutation) error {
		return privacy.Denyf("%w: organizations change only under a system scope", ErrReadOnly)
	},
}

// User rows: rules 3 to 6, plus the authenticator's two lookups.
var User = Entity{
	tenant: byOrgColumn,
	visible: func(s scope.Scope) pred {
		if l, ok := s.AuthLookup(); ok {
			if l.Email != "" {
				return user.Email(l.Email)
			}
			return user.HasSessionsWith(session.TokenHash(l.TokenHash))
		}
		if s.Banned() {
			return user.ID(s.UserID())
		}
		return forUser(s, func(r scope.Role) pred {
			switch r {
			case scope.RoleAdmin, scope.RoleManager, scope.RoleMember:
				return everything
			case scope.RoleClient:
				// HasManagedJobs reads jobs through the job rules
				// (internal/edgescope): managers of jobs they see.
				return user.Or(user.ID(s.UserID()), user.HasManagedJobs())
			}
			return nothing
		})
	},
	mutate: userScopeOnly,
}

// tenantTable is the security of a table of the tenant's data that users
// change: its rows belong to the tenant of their own org_id column, each
// role sees the rows byRole says (asked only for an unbanned user:
// forUser), and signed-in, unbanned users may attempt mutations
// (userScopeOnly). Company, Job and Note differ only in byRole.
func tenantTable(byRole func(s scope.Scope, r scope.Role) pred) Entity {
	return Entity{
		tenant: byOrgColumn,
		visible: func(s scope.Scope) pred {
			return forUser(s, func(r scope.Role) pred { return byRole(s, r) })
		},
		mutate: userScopeOnly,
	}
}

// Company rows: everyone but clients sees all companies of the tenant;
// a client sees their own.
var Company = tenantTable(func(s scope.Scope, r scope.Role) pred {
	switch r {
	case scope.RoleAdmin, scope.RoleManager, scope.RoleMember:
		return everything
	case scope.RoleClient:
		c, _ := s.CompanyID()
		return company.ID(c)
	}
	return nothing
})

// Job rows: rules 4 to 6.
var Job = tenantTable(func(s scope.Scope, r scope.Role) pred {
	switch r {
	case scope.RoleAdmin:
		return everything
	case scope.RoleManager, scope.RoleMember:
		return jobsOfManagerOrMember(s)
	case scope.RoleClient:
		return jobsOfClient(s)
	}
	return nothing
})

// Note rows: notes on jobs the user can see; members and clients only the
// public ones.
var Note = tenantTable(func(s scope.Scope, r scope.Role) pred {
	switch r {
	case scope.RoleAdmin:
		return everything
	case scope.RoleManager:
		// HasJob reads jobs through the job rules: notes on jobs
		// they see (rule 7 composes by itself).
		return note.HasJob()
	case scope.RoleMember, scope.RoleClient:
		return note.And(note.Internal(false), note.HasJob())
	}
	return nothing
})

// Session rows: a user sees their own sessions, an admin those of the
// tenant's users; the authenticator reads and revokes the one session whose
// token hash it holds, and creates sessions for the one user whose email it
// holds (checkLinks makes sure of that).
var Session = Entity{
	tenant: byOrgColumn,
	visible: func(s scope.Scope) pred {
		if l, ok := s.AuthLookup(); ok {
			if l.TokenHash != "" {
				return session.TokenHash(l.TokenHash)
			}
			return nothing
		}
		return forUser(s, func(r scope.Role) pred {
			if r == scope.RoleAdmin {
				return everything
			}
			return session.UserID(s.UserID())
		})
	},
	mutate: func(ctx context.Context, m ent.Mutation) error {
		s, err := from(ctx)
		if err != nil {
			return err
		}
		l, auth := s.AuthLookup()
		switch {
		case s.Banned():
			return privacy.Denyf("%w: banned user", ErrReadOnly)
		case m.Op().Is(ent.OpCreate) && auth && l.Email != "":
			return loginInUsersOrg(ctx, m) // a login
		case m.Op().Is(ent.OpDelete|ent.OpDeleteOne) && (s.IsUser() || auth && l.TokenHash != ""):
			return privacy.Skip // a logout; the visibility filter narrows it
		}
		return privacy.Denyf("%w: sessions are created by logging in and only revoked after", ErrReadOnly)
	},
}

// loginInUsersOrg puts a login's session in its user's organization when
// it names none (reading the one user the authenticator sees). A session
// that names an organization is bound to its user's by the tenant-safe
// foreign key (org_id, user_id) REFERENCES users (org_id, id), on
// PostgreSQL and SQLite alike: checking it here as well would cost every
// login a statement. checkLinks cannot check the organization by reading
// it: the authenticator may not read organizations (nor may it under
// row-level security).
func loginInUsersOrg(ctx context.Context, m ent.Mutation) error {
	sm, ok := m.(*ent.SessionMutation)
	if !ok {
		return privacy.Denyf("rules: %T is not a session", m)
	}
	uid, ok := sm.UserID()
	if !ok {
		return privacy.Denyf("%w: a session names its user", ErrForeignLink)
	}
	if _, set := sm.OrgID(); set {
		return privacy.Skip
	}
	u, err := sm.Client().User.Query().Where(user.ID(uid)).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return privacy.Denyf("%w: Session.user", ErrForeignLink)
	case err != nil:
		return fmt.Errorf("rules: checking the session's user: %w", err)
	}
	sm.SetOrgID(u.OrgID)
	return privacy.Skip
}

// AuditEvent rows: admins read their tenant's; nobody but the data layer,
// under a system scope, writes them.
var AuditEvent = Entity{
	tenant: inTenant(func(org int) pred { return auditevent.OrgID(org) }),
	visible: func(s scope.Scope) pred {
		return forUser(s, func(r scope.Role) pred {
			if r == scope.RoleAdmin {
				return everything
			}
			return nothing
		})
	},
	mutate: func(context.Context, ent.Mutation) error {
		return privacy.Denyf("%w: audit events are written by the data layer only", ErrReadOnly)
	},
}

// userScopeOnly lets signed-in, unbanned users attempt mutations; which ones
// they may make is the policy's business (internal/policy), and which rows
// they reach is the visibility filter's.
func userScopeOnly(ctx context.Context, _ ent.Mutation) error {
	s, err := from(ctx)
	if err != nil {
		return err
	}
	switch {
	case !s.IsUser():
		return privacy.Denyf("%w: %s scope", ErrReadOnly, s.Kind())
	case s.Banned():
		return privacy.Denyf("%w: banned user", ErrReadOnly)
	}
	return privacy.Skip
}
