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
	s, err := scopeOf(ctx)
	if err != nil {
		return Page[*ent.Company]{}, classifyQuery("list companies", err)
	}
	p, err := planList(s, preload.Company, surface, "", opts)
	if err != nil {
		return Page[*ent.Company]{}, classifyQuery("list companies", err)
	}
	q := r.Client.Company.Query().Where(predicate.Company(p.keyset)).Order(company.ByOrgID(), company.ByID()).Limit(p.limit + 1)
	rows, err := preload.Companies(q, p.tree).All(ctx)
	if err != nil {
		return Page[*ent.Company]{}, classifyQuery("list companies", err)
	}
	pg, err := page(s, p, rows, func(c *ent.Company) (int, int) { return c.OrgID, c.ID })
	if err != nil {
		return Page[*ent.Company]{}, classifyQuery("list companies", err)
	}
	return pg, nil
}

// Get returns one company. ErrNotFound if it does not exist or the scope may
// not see it.
func (r Companies) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.Company, policy.Redacted, error) {
	ctx = database.ByKey(ctx) // its statements find rows by key
	s, tree, err := planGet(ctx, preload.Company, surface, opts)
	if err != nil {
		return nil, nil, classifyQuery("get company", err)
	}
	c, err := preload.Companies(r.Client.Company.Query().Where(company.ID(id)), tree).Only(ctx)
	if err != nil {
		return nil, nil, classifyQuery("get company", err)
	}
	red, err := policy.Redact(s, c)
	if err != nil {
		return nil, nil, classifyQuery("get company", err)
	}
	return c, red, nil
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
	if err != nil {
		return nil, nil, classify(op, err)
	}
	red, err := redact(ctx, out)
	if err != nil {
		return nil, nil, classify(op, err)
	}
	return out, red, nil
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
		c, err := tx.Company.Query().Where(company.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return err
		}
		if err := policy.Authorize(ctx, policy.CompanyUpdate, c); err != nil {
			return err
		}
		if same(p.Name, c.Name) && same(p.Archived, c.Archived) {
			out = c // nothing to write: no updated_at bump
			return nil
		}
		out, err = tx.Company.UpdateOne(c).SetNillableName(p.Name).SetNillableArchived(p.Archived).Save(ctx)
		return err
	})
	if err != nil {
		return nil, nil, classify(op, err)
	}
	red, err := redact(ctx, out)
	if err != nil {
		return nil, nil, classify(op, err)
	}
	return out, red, nil
}

// Delete deletes a company. A company that still has jobs or clients is
// ErrConflict: deleting it would orphan them.
func (r Companies) Delete(ctx context.Context, id int) error {
	const op = "delete company"
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		c, err := tx.Company.Query().Where(company.ID(id)).ForUpdate().Only(ctx)
		if err != nil {
			return err
		}
		if err := policy.Authorize(ctx, policy.CompanyDelete, c); err != nil {
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
