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

// The write policy of DESIGN section 5, enforced inside ent: every mutation
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

// writeRule authorizes one type's mutations for a user scope.
type writeRule func(ctx context.Context, c *ent.Client, m ent.Mutation, ids []int) error

var writeRules = map[string]writeRule{
	ent.TypeJob:     authorizeJob,
	ent.TypeCompany: authorizeCompany,
	ent.TypeNote:    authorizeNote,
	ent.TypeUser:    authorizeUser,
}

// authorizeWrites is the mutation rule. It runs after the visibility filter,
// so the rows an update or delete reaches are the ones the scope sees.
func authorizeWrites() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		s, err := from(ctx)
		if err != nil {
			return err
		}
		rule, ok := writeRules[m.Type()]
		if !s.IsUser() || !ok {
			return privacy.Skip
		}
		c, ok := m.(clientOf)
		if !ok {
			return privacy.Denyf("rules: %T has no client to authorize with", m)
		}
		var ids []int
		if !m.Op().Is(ent.OpCreate) {
			mi, ok := m.(idser)
			if !ok {
				return privacy.Denyf("rules: %T cannot list its rows", m)
			}
			if ids, err = mi.IDs(ctx); err != nil {
				return fmt.Errorf("rules: rows of %s: %w", m.Type(), err)
			}
		}
		if err := rule(ctx, c.Client(), m, ids); err != nil {
			return err
		}
		if !m.Op().Is(ent.OpCreate) {
			// Pin the mutation to the rows just authorized: a row that
			// starts matching its predicates between this read and the
			// write (committed by someone else meanwhile) was never asked
			// about.
			w, ok := m.(wherer)
			if !ok {
				return privacy.Denyf("rules: %T cannot be pinned to its rows", m)
			}
			w.WhereP(sql.FieldIn("id", ids...))
		}
		if err := authorizeInverseLinks(ctx, c.Client(), m); err != nil {
			return err
		}
		return privacy.Skip
	})
}

// denied wraps a policy denial so that it matches privacy.Deny (ent's
// answer to a denied mutation) and policy.ErrForbidden (the repositories').
func denied(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", privacy.Deny, err)
}

// each authorizes action on every row.
func each[T any](ctx context.Context, action policy.Action, rows []T, object func(T) any) error {
	for _, r := range rows {
		if err := policy.Authorize(ctx, action, object(r)); err != nil {
			return denied(err)
		}
	}
	return nil
}

func self[T any](r T) any { return r }

func actionFor(m ent.Mutation, create, update, del policy.Action) policy.Action {
	switch {
	case m.Op().Is(ent.OpCreate):
		return create
	case m.Op().Is(ent.OpDelete | ent.OpDeleteOne):
		return del
	}
	return update
}

func authorizeJob(ctx context.Context, c *ent.Client, m ent.Mutation, ids []int) error {
	action := actionFor(m, policy.JobCreate, policy.JobUpdate, policy.JobDelete)
	if m.Op().Is(ent.OpCreate) {
		return denied(policy.Authorize(ctx, action, nil))
	}
	// job.update asks whether the user manages the job: load its managers.
	jobs, err := c.Job.Query().Where(job.IDIn(ids...)).WithManagers().All(ctx)
	if err != nil {
		return fmt.Errorf("rules: jobs to authorize: %w", err)
	}
	return each(ctx, action, jobs, self)
}

func authorizeCompany(ctx context.Context, c *ent.Client, m ent.Mutation, ids []int) error {
	action := actionFor(m, policy.CompanyCreate, policy.CompanyUpdate, policy.CompanyDelete)
	if m.Op().Is(ent.OpCreate) {
		return denied(policy.Authorize(ctx, action, nil))
	}
	companies, err := c.Company.Query().Where(company.IDIn(ids...)).All(ctx)
	if err != nil {
		return fmt.Errorf("rules: companies to authorize: %w", err)
	}
	return each(ctx, action, companies, self)
}

// authorizeNote: note.create is asked about the job (a member may write on
// the jobs they see), and writing a note as internal also needs
// note.internal: members and clients could not read it back.
func authorizeNote(ctx context.Context, c *ent.Client, m ent.Mutation, ids []int) error {
	nm, ok := m.(*ent.NoteMutation)
	if !ok {
		return privacy.Denyf("rules: %T is not a note mutation", m)
	}
	internal, setsInternal := nm.Internal()
	internal = setsInternal && internal
	if m.Op().Is(ent.OpCreate) {
		jobID, _ := nm.JobID()
		// The link check ran first: the job exists and the scope sees it.
		j, err := c.Job.Query().Where(job.ID(jobID)).Only(ctx)
		if err != nil {
			return fmt.Errorf("rules: the note's job: %w", err)
		}
		if err := policy.Authorize(ctx, policy.NoteCreate, j); err != nil {
			return denied(err)
		}
		if internal {
			return denied(policy.Authorize(ctx, policy.NoteInternal, j))
		}
		return nil
	}
	notes, err := c.Note.Query().Where(note.IDIn(ids...)).All(ctx)
	if err != nil {
		return fmt.Errorf("rules: notes to authorize: %w", err)
	}
	if err := each(ctx, actionFor(m, "", policy.NoteUpdate, policy.NoteDelete), notes, self); err != nil {
		return err
	}
	if internal {
		return each(ctx, policy.NoteInternal, notes, self)
	}
	return nil
}

// authorizeUser: user.update is asked with the fields being changed, so a
// user may change their own name and phone and nothing else.
func authorizeUser(ctx context.Context, c *ent.Client, m ent.Mutation, ids []int) error {
	action := actionFor(m, policy.UserCreate, policy.UserUpdate, policy.UserDelete)
	if m.Op().Is(ent.OpCreate) {
		return denied(policy.Authorize(ctx, action, nil))
	}
	users, err := c.User.Query().Where(user.IDIn(ids...)).All(ctx)
	if err != nil {
		return fmt.Errorf("rules: users to authorize: %w", err)
	}
	if action != policy.UserUpdate {
		return each(ctx, action, users, self)
	}
	fields := changedFields(m)
	return each(ctx, action, users, func(u *ent.User) any { return policy.UserChange{Target: u, Fields: fields} })
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
			ids, err := intIDs(append(m.AddedIDs(name), m.RemovedIDs(name)...))
			if err != nil {
				return privacy.Denyf("rules: edge %s.%s: %v", e.Type, name, err)
			}
			if err := authorizeTargets(ctx, c, e, ids); err != nil {
				return err
			}
		}
	}
	return nil
}

func authorizeTargets(ctx context.Context, c *ent.Client, e ent.ScopeEdge, ids []int) error {
	field := e.Inverse
	if inv, ok := edgeOf(e.Target, e.Inverse); ok && inv.Field != "" {
		field = inv.Field
	}
	switch e.Target {
	case ent.TypeJob:
		jobs, err := c.Job.Query().Where(job.IDIn(ids...)).WithManagers().All(ctx)
		if err != nil {
			return err
		}
		return each(ctx, policy.JobUpdate, jobs, self)
	case ent.TypeNote:
		notes, err := c.Note.Query().Where(note.IDIn(ids...)).All(ctx)
		if err != nil {
			return err
		}
		return each(ctx, policy.NoteUpdate, notes, self)
	case ent.TypeUser:
		users, err := c.User.Query().Where(user.IDIn(ids...)).All(ctx)
		if err != nil {
			return err
		}
		return each(ctx, policy.UserUpdate, users, func(u *ent.User) any {
			return policy.UserChange{Target: u, Fields: []string{field}}
		})
	case ent.TypeCompany:
		companies, err := c.Company.Query().Where(company.IDIn(ids...)).All(ctx)
		if err != nil {
			return err
		}
		return each(ctx, policy.CompanyUpdate, companies, self)
	}
	// Sessions and the rest: only the system scope relinks them.
	return privacy.Denyf("%w: %s.%s relinks %s rows", ErrReadOnly, e.Type, e.Name, e.Target)
}
