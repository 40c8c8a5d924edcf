package repo

import (
	"context"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/scope"
)

// Jobs reads jobs.
type Jobs struct{ Client *ent.Client }

// JobFilter narrows a job list.
type JobFilter struct {
	Status string // "" for any
}

// List returns a page of the jobs the scope may see, with the preloads of
// opts on surface. A refused preload is a *preload.Error, before any SQL.
func (r Jobs) List(ctx context.Context, surface preload.Surface, f JobFilter, opts ListOptions) (Page[*ent.Job], error) {
	s, err := scopeOf(scope.FromContext(ctx))
	if err != nil {
		return Page[*ent.Job]{}, classify("list jobs", err)
	}
	if f.Status != "" {
		if err := job.StatusValidator(job.Status(f.Status)); err != nil {
			return Page[*ent.Job]{}, invalid("status", "must be draft, published or archived")
		}
	}
	p, err := planList(s, preload.Job, surface, f.Status, opts)
	if err != nil {
		return Page[*ent.Job]{}, classify("list jobs", err)
	}
	q := r.Client.Job.Query().Where(job.IDGT(p.after)).Order(job.ByID()).Limit(p.limit + 1)
	if f.Status != "" {
		q.Where(job.StatusEQ(job.Status(f.Status)))
	}
	rows, err := preload.Jobs(q, surface, p.tree).All(ctx)
	if err != nil {
		return Page[*ent.Job]{}, classify("list jobs", err)
	}
	return page(p, rows, func(j *ent.Job) int { return j.ID }), nil
}

// Get returns one job. ErrNotFound if it does not exist or the scope may not
// see it.
func (r Jobs) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.Job, error) {
	tree, err := planGet(ctx, preload.Job, surface, opts)
	if err != nil {
		return nil, classify("get job", err)
	}
	j, err := preload.Jobs(r.Client.Job.Query().Where(job.ID(id)), surface, tree).Only(ctx)
	return j, classify("get job", err)
}

// Companies reads companies.
type Companies struct{ Client *ent.Client }

// List returns a page of the companies the scope may see.
func (r Companies) List(ctx context.Context, surface preload.Surface, opts ListOptions) (Page[*ent.Company], error) {
	s, err := scopeOf(scope.FromContext(ctx))
	if err != nil {
		return Page[*ent.Company]{}, classify("list companies", err)
	}
	p, err := planList(s, preload.Company, surface, "", opts)
	if err != nil {
		return Page[*ent.Company]{}, classify("list companies", err)
	}
	q := r.Client.Company.Query().Where(company.IDGT(p.after)).Order(company.ByID()).Limit(p.limit + 1)
	rows, err := preload.Companies(q, surface, p.tree).All(ctx)
	if err != nil {
		return Page[*ent.Company]{}, classify("list companies", err)
	}
	return page(p, rows, func(c *ent.Company) int { return c.ID }), nil
}

// Get returns one company. ErrNotFound if it does not exist or the scope may
// not see it.
func (r Companies) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.Company, error) {
	tree, err := planGet(ctx, preload.Company, surface, opts)
	if err != nil {
		return nil, classify("get company", err)
	}
	c, err := preload.Companies(r.Client.Company.Query().Where(company.ID(id)), surface, tree).Only(ctx)
	return c, classify("get company", err)
}

// Users reads users.
type Users struct{ Client *ent.Client }

// List returns a page of the users the scope may see.
func (r Users) List(ctx context.Context, surface preload.Surface, opts ListOptions) (Page[*ent.User], error) {
	s, err := scopeOf(scope.FromContext(ctx))
	if err != nil {
		return Page[*ent.User]{}, classify("list users", err)
	}
	p, err := planList(s, preload.User, surface, "", opts)
	if err != nil {
		return Page[*ent.User]{}, classify("list users", err)
	}
	q := r.Client.User.Query().Where(user.IDGT(p.after)).Order(user.ByID()).Limit(p.limit + 1)
	rows, err := preload.Users(q, surface, p.tree).All(ctx)
	if err != nil {
		return Page[*ent.User]{}, classify("list users", err)
	}
	return page(p, rows, func(u *ent.User) int { return u.ID }), nil
}

// Get returns one user. ErrNotFound if it does not exist or the scope may not
// see it.
func (r Users) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.User, error) {
	tree, err := planGet(ctx, preload.User, surface, opts)
	if err != nil {
		return nil, classify("get user", err)
	}
	u, err := preload.Users(r.Client.User.Query().Where(user.ID(id)), surface, tree).Only(ctx)
	return u, classify("get user", err)
}

func planGet(ctx context.Context, entity preload.Entity, surface preload.Surface, opts GetOptions) (preload.Tree, error) {
	s, err := scopeOf(scope.FromContext(ctx))
	if err != nil {
		return nil, err
	}
	if err := checkSurface(s, surface); err != nil {
		return nil, err
	}
	return preload.Parse(entity, surface, opts.Preload)
}
