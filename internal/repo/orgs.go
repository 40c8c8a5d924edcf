package repo

import (
	"context"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
)

// Organizations reads organizations. A user scope sees only its own; they
// change only under a system scope (scopegate org create).
type Organizations struct{ Client *ent.Client }

// Get returns one organization, and its redaction. ErrNotFound if it is
// not the scope's.
func (r Organizations) Get(ctx context.Context, id int) (*ent.Organization, policy.Redacted, error) {
	const op = "get organization"
	ctx = database.ByKey(ctx) // its statements find rows by key
	o, err := r.Client.Organization.Query().Where(organization.ID(id)).Only(ctx)
	return read(ctx, op, o, err)
}

// Current returns the scope's own organization, and its redaction.
func (r Organizations) Current(ctx context.Context) (*ent.Organization, policy.Redacted, error) {
	s, err := scopeOf(ctx)
	if err != nil {
		return nil, nil, classifyQuery("current organization", err)
	}
	org, ok := s.OrgID()
	if !ok {
		return nil, nil, classifyQuery("current organization", ErrNotFound)
	}
	return r.Get(ctx, org)
}

// List returns the organizations the scope may see, and their redaction:
// its own, or every one for the system scope.
func (r Organizations) List(ctx context.Context) ([]*ent.Organization, policy.Redacted, error) {
	const op = "list organizations"
	os, err := r.Client.Organization.Query().Order(organization.ByID()).All(ctx)
	return read(ctx, op, os, err)
}

// Repos bundles the repositories over one client.
type Repos struct {
	Organizations Organizations
	Users         Users
	Companies     Companies
	Jobs          Jobs
	Notes         Notes
	Sessions      Sessions
}

// New returns the repositories over client.
func New(client *ent.Client) *Repos {
	return &Repos{
		Organizations: Organizations{client},
		Users:         Users{client},
		Companies:     Companies{client},
		Jobs:          Jobs{client},
		Notes:         Notes{client},
		Sessions:      Sessions{auth.Service{Client: client}},
	}
}
