package repo

import (
	"context"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/predicate"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
)

// Companies reads and changes companies.
type Companies struct{ Client *ent.Client }

// CompanyInput creates a company.
type CompanyInput struct {
	Name     string
	Archived bool
}

// CompanyPatch changes a company; nil fields are left alone.
type CompanyPatch struct {
	Name     *string
	Archived *bool
}

// List returns a page of the companies the scope may see.
func (r Companies) List(ctx context.Context, surface preload.Surface, opts ListOptions) (Page[*ent.Company], error) {
	return list(ctx, "list companies", listed{entity: preload.Company, surface: surface}, opts,
		func(ctx context.Context, p listPlan) ([]*ent.Company, error) {
			q := r.Client.Company.Query().Where(predicate.Company(p.keyset)).Order(company.ByOrgID(), company.ByID()).Limit(p.limit + 1)
			return preload.Companies(q, p.tree).All(ctx)
		},
		func(c *ent.Company) (int, int) { return c.OrgID, c.ID })
}

// Get returns one company. ErrNotFound if it does not exist or the scope may
// not see it.
func (r Companies) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.Company, policy.Redacted, error) {
	return get(ctx, "get company", preload.Company, surface, opts, func(ctx context.Context, tree preload.Tree) (*ent.Company, error) {
		return preload.Companies(r.Client.Company.Query().Where(company.ID(id)), tree).Only(ctx)
	})
}

// Create creates a company in the scope's organization. A name taken in the
// organization is ErrConflict.
func (r Companies) Create(ctx context.Context, in CompanyInput) (*ent.Company, policy.Redacted, error) {
	ctx = database.ByKey(ctx) // its statements find rows by key
	const op = "create company"
	if err := policy.Authorize(ctx, policy.CompanyCreate, nil); err != nil {
		return nil, nil, classify(op, err)
	}
	f := fields{}
	f.text("name", in.Name, requiredText, MaxNameLen)
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.Company
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) (err error) {
		out, err = tx.Company.Create().SetName(in.Name).SetArchived(in.Archived).Save(ctx)
		return err
	})
	return written(ctx, op, out, err)
}

// Update changes a company. ErrNotFound if the scope cannot see it.
func (r Companies) Update(ctx context.Context, id int, p CompanyPatch) (*ent.Company, policy.Redacted, error) {
	ctx = database.ByKey(ctx) // its statements find rows by key
	const op = "update company"
	f := fields{}
	if p.Name != nil {
		f.text("name", *p.Name, nonEmptyText, MaxNameLen)
	}
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.Company
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		c, err := authorized(ctx, policy.CompanyUpdate, tx.Company.Query().Where(company.ID(id)).ForUpdate().Only)
		if err != nil {
			return err
		}
		if same(p.Name, c.Name) && same(p.Archived, c.Archived) {
			out = c // nothing to write: no updated_at bump
			return nil
		}
		out, err = tx.Company.UpdateOne(c).SetNillableName(p.Name).SetNillableArchived(p.Archived).Save(ctx)
		return err
	})
	return written(ctx, op, out, err)
}

// Delete deletes a company. A company that still has jobs or clients is
// ErrConflict: deleting it would orphan them.
func (r Companies) Delete(ctx context.Context, id int) error {
	const op = "delete company"
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		c, err := authorized(ctx, policy.CompanyDelete, tx.Company.Query().Where(company.ID(id)).ForUpdate().Only)
		if err != nil {
			return err
		}
		// Counted under the admin's own scope, which sees
		// every job and client of the organization.
		if n, err := tx.Company.QueryJobs(c).Count(ctx); err != nil || n > 0 {
			return orConflict(err, "company has jobs")
		}
		if n, err := tx.Company.QueryClients(c).Count(ctx); err != nil || n > 0 {
			return orConflict(err, "company has clients")
		}
		return tx.Company.DeleteOne(c).Exec(ctx)
	})
	return classifyQuery(op, err)
}

func orConflict(err error, msg string) error {
	if err != nil {
		return err
	}
	return conflict(msg)
}
