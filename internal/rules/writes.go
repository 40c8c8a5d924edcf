package rules

import (
	"context"
	"fmt"
	"slices"

	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/policy"
)

// The write policy of docs/design.md section 5, enforced inside ent: every mutation
// a user makes through any client asks internal/policy, the same rule table
// the repositories ask, for the action and the fields being changed. A
// handler or job that skips the repository gets the repository's answer: a
// row the scope cannot see is not found (the visibility filter ran before),
// a row it sees but may not change is a *policy.Error.
//
// The system scope is allowed earlier in the policy (it answers to its audit
// trail); organizations, sessions and audit events have mutation rules of
// their own (Entity.mutate) and no actions in the policy table.

// autoFields are set by ent itself on every update; they are not a change
// the caller asked for.
var autoFields = map[string]bool{"updated_at": true}

// changedFields names what m changes: its fields, and its edges by their
// foreign-key field (company_id) or, for edges without one, by name
// (managers).
func changedFields(m ent.Mutation) []string {
	var out []string
	add := func(names ...string) {
		for _, n := range names {
			if !autoFields[n] {
				out = append(out, n)
			}
		}
	}
	add(m.Fields()...)
	add(m.AddedFields()...)
	add(m.ClearedFields()...)
	for _, edges := range [][]string{m.AddedEdges(), m.RemovedEdges(), m.ClearedEdges()} {
		for _, name := range edges {
			if e, ok := edgeOf(m.Type(), name); ok && e.Field != "" {
				add(e.Field)
			} else {
				add(name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// writable is a type the write policy covers: its actions, and how to load
// rows the way the policy's checks need them (a job with its managers, for
// manages_job).
type writable struct {
	create, update, del policy.Action
	load                func(ctx context.Context, c *ent.Client, ids []int) ([]any, error)
}

var writables = map[string]writable{
	ent.TypeJob: {policy.JobCreate, policy.JobUpdate, policy.JobDelete,
		func(ctx context.Context, c *ent.Client, ids []int) ([]any, error) {
			return anys(c.Job.Query().Where(job.IDIn(ids...)).WithManagers().All(ctx))
		}},
	ent.TypeCompany: {policy.CompanyCreate, policy.CompanyUpdate, policy.CompanyDelete,
		func(ctx context.Context, c *ent.Client, ids []int) ([]any, error) {
			return anys(c.Company.Query().Where(company.IDIn(ids...)).All(ctx))
		}},
	ent.TypeNote: {policy.NoteCreate, policy.NoteUpdate, policy.NoteDelete,
		func(ctx context.Context, c *ent.Client, ids []int) ([]any, error) {
			return anys(c.Note.Query().Where(note.IDIn(ids...)).All(ctx))
		}},
	ent.TypeUser: {policy.UserCreate, policy.UserUpdate, policy.UserDelete,
		func(ctx context.Context, c *ent.Client, ids []int) ([]any, error) {
			return anys(c.User.Query().Where(user.IDIn(ids...)).All(ctx))
		}},
}

func anys[T any](rows []T, err error) ([]any, error) {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = r
	}
	return out, err
}

func (w writable) action(op ent.Op) policy.Action {
	switch {
	case op.Is(ent.OpCreate):
		return w.create
	case op.Is(ent.OpDelete | ent.OpDeleteOne):
		return w.del
	}
	return w.update
}

// authorizeWrites is the mutation rule. It runs after the visibility filter,
// so the rows an update or delete reaches are the ones the scope sees.
func authorizeWrites() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		s, err := from(ctx)
		if err != nil {
			return err
		}
		w, ok := writables[m.Type()]
		if !s.IsUser() || !ok {
			return privacy.Skip
		}
		c, ok := m.(clientOf)
		if !ok {
			return privacy.Denyf("rules: %T has no client to authorize with", m)
		}
		if m.Op().Is(ent.OpCreate) {
			err = authorizeCreate(ctx, c.Client(), m, w)
		} else {
			err = authorizeChange(ctx, c.Client(), m, w)
		}
		if err != nil {
			return err
		}
		if err := authorizeInverseLinks(ctx, c.Client(), m); err != nil {
			return err
		}
		return privacy.Skip
	})
}

// authorizeCreate: a create is asked about no row, but note.create about the
// note's job (a member may write on the jobs they see), and writing a note
// as internal also needs note.internal: members and clients could not read
// it back.
func authorizeCreate(ctx context.Context, c *ent.Client, m ent.Mutation, w writable) error {
	nm, isNote := m.(*ent.NoteMutation)
	if !isNote {
		return denied(policy.Authorize(ctx, w.create, nil))
	}
	jobID, _ := nm.JobID()
	// The link check ran first: the job exists and the scope sees it.
	j, err := c.Job.Query().Where(job.ID(jobID)).Only(ctx)
	if err != nil {
		return fmt.Errorf("rules: the note's job: %w", err)
	}
	if err := policy.Authorize(ctx, policy.NoteCreate, j); err != nil {
		return denied(err)
	}
	if internal, set := nm.Internal(); set && internal {
		return denied(policy.Authorize(ctx, policy.NoteInternal, j))
	}
	return nil
}

// authorizeChange asks the policy about every row an update or delete
// reaches (all or nothing), then pins the mutation to exactly those rows: a
// row that starts matching its predicates between this read and the write
// (committed by someone else meanwhile) was never asked about.
func authorizeChange(ctx context.Context, c *ent.Client, m ent.Mutation, w writable) error {
	mi, ok := m.(idser)
	wh, ok2 := m.(wherer)
	if !ok || !ok2 {
		return privacy.Denyf("rules: %T cannot list or pin its rows", m)
	}
	ids, err := mi.IDs(ctx)
	if err != nil {
		return fmt.Errorf("rules: rows of %s: %w", m.Type(), err)
	}
	rows, err := w.load(ctx, c, ids)
	if err != nil {
		return fmt.Errorf("rules: %s rows to authorize: %w", m.Type(), err)
	}
	action := w.action(m.Op())
	if err := authorizeEach(ctx, action, rows, changedFields(m)); err != nil {
		return err
	}
	if nm, isNote := m.(*ent.NoteMutation); isNote && action == policy.NoteUpdate {
		if internal, set := nm.Internal(); set && internal {
			if err := authorizeEach(ctx, policy.NoteInternal, rows, nil); err != nil {
				return err
			}
		}
	}
	wh.WhereP(sql.FieldIn("id", ids...))
	return nil
}

// authorizeEach asks the policy for action on every row; fields are what
// the change sets (user.update allows a user their own name and phone).
func authorizeEach(ctx context.Context, action policy.Action, rows []any, fields []string) error {
	for _, r := range rows {
		object := r
		if u, ok := r.(*ent.User); ok && action == policy.UserUpdate {
			object = policy.UserChange{Target: u, Fields: fields}
		}
		if err := policy.Authorize(ctx, action, object); err != nil {
			return denied(err)
		}
	}
	return nil
}

// denied wraps a policy denial so that it matches privacy.Deny (ent's
// answer to a denied mutation) and policy.ErrForbidden (the repositories').
func denied(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", privacy.Deny, err)
}

// authorizeInverseLinks: linking through an edge whose key lives in the
// target table (job.AddNoteIDs moves notes; company.AddClientIDs sets users'
// company_id) changes the target rows, so it is authorized as an update of
// each of them, changing the inverse edge's field. (An immutable inverse,
// a note's author, is refused for every scope by immutableInverse.)
func authorizeInverseLinks(ctx context.Context, c *ent.Client, m ent.Mutation) error {
	for _, edges := range [][]string{m.AddedEdges(), m.RemovedEdges()} {
		for _, name := range edges {
			e, ok := edgeOf(m.Type(), name)
			if !ok || e.OwnFK || e.Rel == ent.EdgeM2M {
				continue
			}
			target, ok := writables[e.Target]
			if !ok {
				// Sessions and the rest: only the system scope relinks them.
				return privacy.Denyf("%w: %s.%s relinks %s rows", ErrReadOnly, e.Type, e.Name, e.Target)
			}
			ids, err := intIDs(append(m.AddedIDs(name), m.RemovedIDs(name)...))
			if err != nil {
				return privacy.Denyf("rules: edge %s.%s: %v", e.Type, name, err)
			}
			rows, err := target.load(ctx, c, ids)
			if err != nil {
				return fmt.Errorf("rules: %s rows to authorize: %w", e.Target, err)
			}
			field := e.Inverse
			if inv, ok := edgeOf(e.Target, e.Inverse); ok && inv.Field != "" {
				field = inv.Field
			}
			if err := authorizeEach(ctx, target.update, rows, []string{field}); err != nil {
				return err
			}
		}
	}
	return nil
}
