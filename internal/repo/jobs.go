package repo

import (
	"context"
	"fmt"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/predicate"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
)

// Jobs reads and changes jobs.
type Jobs struct{ Client *ent.Client }

// JobFilter narrows a job list.
type JobFilter struct {
	Status string // "" for any
}

// JobInput creates a job. The organization and the creator come from the
// scope, never from input.
type JobInput struct {
	Title       string
	Description string
	CompanyID   int
	Status      string // "" for draft
	SalaryMax   *int
	ManagerIDs  []int
}

// JobPatch changes a job; nil fields are left alone.
type JobPatch struct {
	Title          *string
	Description    *string
	CompanyID      *int
	Status         *string
	SalaryMax      *int
	ClearSalaryMax bool
	ManagerIDs     *[]int // replaces the managers
}

// unchanged reports whether p would leave j as it is. j's managers must be
// loaded.
func (p JobPatch) unchanged(j *ent.Job) bool {
	salary := true
	switch {
	case p.ClearSalaryMax:
		salary = j.SalaryMax == nil
	case p.SalaryMax != nil:
		salary = j.SalaryMax != nil && *j.SalaryMax == *p.SalaryMax
	}
	return same(p.Title, j.Title) && same(p.Description, j.Description) && same(p.CompanyID, j.CompanyID) &&
		(p.Status == nil || *p.Status == "" || *p.Status == string(j.Status)) && salary &&
		(p.ManagerIDs == nil || sameIDs(*p.ManagerIDs, j.Edges.Managers))
}

// List returns a page of the jobs the scope may see, with the preloads of
// opts on surface. A refused preload is a *preload.Error, before any SQL.
func (r Jobs) List(ctx context.Context, surface preload.Surface, f JobFilter, opts ListOptions) (Page[*ent.Job], error) {
	what := listed{entity: preload.Job, surface: surface, filter: f.Status}
	if f.Status != "" && job.StatusValidator(job.Status(f.Status)) != nil {
		what.invalid = invalidQuery("status", "must be draft, published or archived")
	}
	return list(ctx, "list jobs", what, opts,
		func(ctx context.Context, p listPlan) ([]*ent.Job, error) {
			q := r.Client.Job.Query().Where(predicate.Job(p.keyset)).Order(job.ByOrgID(), job.ByID()).Limit(p.limit + 1)
			if f.Status != "" {
				q.Where(job.StatusEQ(job.Status(f.Status)))
			}
			return preload.Jobs(q, p.tree).All(ctx)
		},
		func(j *ent.Job) (int, int) { return j.OrgID, j.ID })
}

// Get returns one job. ErrNotFound if it does not exist or the scope may not
// see it.
func (r Jobs) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.Job, policy.Redacted, error) {
	return get(ctx, "get job", preload.Job, surface, opts, func(ctx context.Context, tree preload.Tree) (*ent.Job, error) {
		return preload.Jobs(r.Client.Job.Query().Where(job.ID(id)), tree).Only(ctx)
	})
}

// validateJob checks a job's fields; mode is requiredText for a create,
// nonEmptyText for a patch.
func validateJob(f fields, mode int, title, description *string, status *string, salary *int) {
	if title != nil {
		f.text("title", *title, mode, MaxTitleLen)
	}
	if description != nil {
		f.text("description", *description, optionalText, MaxDescriptionLen)
	}
	if status != nil && *status != "" {
		if job.StatusValidator(job.Status(*status)) != nil {
			f.add("status", "must be draft, published or archived")
		}
	}
	if salary != nil {
		if *salary < 0 {
			f.add("salary_max", "must not be negative")
		}
	}
}

// Create creates a job in the scope's organization. A company or manager the
// scope cannot see is ErrNotFound, exactly like a missing one.
func (r Jobs) Create(ctx context.Context, in JobInput) (*ent.Job, policy.Redacted, error) {
	ctx = database.ByKey(ctx) // its statements find rows by key
	const op = "create job"
	s, err := scopeOf(ctx)
	if err != nil {
		return nil, nil, classify(op, err)
	}
	if err := policy.Authorize(ctx, policy.JobCreate, nil); err != nil {
		return nil, nil, classify(op, err)
	}
	f := fields{}
	validateJob(f, requiredText, &in.Title, &in.Description, &in.Status, in.SalaryMax)
	switch {
	case in.CompanyID == 0:
		f.add("company_id", "is required")
	case in.CompanyID < 0:
		f.add("company_id", "must be an id")
	}
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.Job
	err = database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		c := tx.Job.Create().
			SetTitle(in.Title).
			SetDescription(in.Description).
			SetCompanyID(in.CompanyID).
			SetNillableSalaryMax(in.SalaryMax).
			SetCreatedByID(s.UserID()).
			AddManagerIDs(in.ManagerIDs...)
		if in.Status != "" {
			c.SetStatus(job.Status(in.Status))
		}
		out, err = c.Save(ctx)
		return err
	})
	return written(ctx, op, out, err)
}

// Update changes a job. ErrNotFound if the scope cannot see it; ErrForbidden
// if it can but may not change it.
func (r Jobs) Update(ctx context.Context, id int, p JobPatch) (*ent.Job, policy.Redacted, error) {
	ctx = database.ByKey(ctx) // its statements find rows by key
	const op = "update job"
	f := fields{}
	validateJob(f, nonEmptyText, p.Title, p.Description, p.Status, p.SalaryMax)
	if p.CompanyID != nil && *p.CompanyID <= 0 {
		f.add("company_id", "must be an id")
	}
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.Job
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		j, err := authorized(ctx, policy.JobUpdate, tx.Job.Query().Where(job.ID(id)).WithManagers().ForUpdate().Only)
		if err != nil {
			return err
		}
		if p.unchanged(j) {
			// Nothing to write: no statement, no updated_at bump.
			out = j
			out.Edges = ent.JobEdges{}
			return nil
		}
		u := tx.Job.UpdateOne(j).
			SetNillableTitle(p.Title).
			SetNillableDescription(p.Description).
			SetNillableCompanyID(p.CompanyID).
			SetNillableSalaryMax(p.SalaryMax)
		if p.Status != nil && *p.Status != "" {
			u.SetStatus(job.Status(*p.Status))
		}
		if p.ClearSalaryMax {
			u.ClearSalaryMax()
		}
		if p.ManagerIDs != nil {
			u.ClearManagers().AddManagerIDs(*p.ManagerIDs...)
		}
		out, err = u.Save(ctx)
		return err
	})
	return written(ctx, op, out, err)
}

// Delete deletes a job and its notes. ErrNotFound if the scope cannot see
// it; ErrForbidden if it can but may not delete it.
func (r Jobs) Delete(ctx context.Context, id int) error {
	const op = "delete job"
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		j, err := authorized(ctx, policy.JobDelete, tx.Job.Query().Where(job.ID(id)).ForUpdate().Only)
		if err != nil {
			return err
		}
		if _, err := tx.Note.Delete().Where(note.JobID(j.ID)).Exec(ctx); err != nil {
			return fmt.Errorf("notes: %w", err)
		}
		return tx.Job.DeleteOne(j).Exec(ctx)
	})
	return classifyQuery(op, err)
}
