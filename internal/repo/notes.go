package repo

import (
	"context"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/predicate"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
)

// Notes reads and changes notes.
type Notes struct{ Client *ent.Client }

// NoteInput creates a note on a job. The author is the scope's user.
type NoteInput struct {
	Body     string
	Internal bool
}

// NotePatch changes a note; nil fields are left alone.
type NotePatch struct {
	Body     *string
	Internal *bool
}

// List returns a page of the notes of a job. ErrNotFound if the scope cannot
// see the job.
func (r Notes) List(ctx context.Context, surface preload.Surface, jobID int, opts ListOptions) (Page[*ent.Note], error) {
	return list(ctx, "list notes", listed{entity: preload.Note, surface: surface, filter: "job:" + itoa(jobID)}, opts,
		func(ctx context.Context, p listPlan) ([]*ent.Note, error) {
			q := r.Client.Note.Query().Where(note.JobID(jobID), predicate.Note(p.keyset)).Order(note.ByOrgID(), note.ByID()).Limit(p.limit + 1)
			rows, err := preload.Notes(q, p.tree).All(ctx)
			if err != nil {
				return nil, err
			}
			// A hidden job and a missing one both answer ErrNotFound,
			// not an empty list. A note the scope sees proves its job
			// visible (docs/design.md section 3: notes are visible
			// only on jobs the scope can see), so the job is looked up
			// only when the page is empty: one statement fewer on
			// every page that has notes.
			if len(rows) == 0 {
				if ok, err := r.Client.Job.Query().Where(job.ID(jobID)).Exist(ctx); err != nil || !ok {
					return nil, orNotFound(err)
				}
			}
			return rows, nil
		},
		func(n *ent.Note) (int, int) { return n.OrgID, n.ID })
}

// Get returns one note. ErrNotFound if it does not exist or the scope may
// not see it.
func (r Notes) Get(ctx context.Context, surface preload.Surface, id int, opts GetOptions) (*ent.Note, policy.Redacted, error) {
	return get(ctx, "get note", preload.Note, surface, opts, func(ctx context.Context, tree preload.Tree) (*ent.Note, error) {
		return preload.Notes(r.Client.Note.Query().Where(note.ID(id)), tree).Only(ctx)
	})
}

// Create writes a note on a job the scope can see (ErrNotFound otherwise).
// Only admins and managers may write internal notes (policy note.internal):
// a member or client could not read theirs back.
func (r Notes) Create(ctx context.Context, jobID int, in NoteInput) (*ent.Note, policy.Redacted, error) {
	ctx = database.ByKey(ctx) // its statements find rows by key
	const op = "create note"
	s, err := scopeOf(ctx)
	if err != nil {
		return nil, nil, classify(op, err)
	}
	f := fields{}
	f.text("body", in.Body, requiredText, MaxNoteBodyLen)
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.Note
	err = database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		j, err := authorized(ctx, policy.NoteCreate, tx.Job.Query().Where(job.ID(jobID)).Only)
		if err != nil {
			return err
		}
		if in.Internal {
			if err := policy.Authorize(ctx, policy.NoteInternal, j); err != nil {
				return err
			}
		}
		out, err = tx.Note.Create().SetJobID(j.ID).SetAuthorID(s.UserID()).SetBody(in.Body).SetInternal(in.Internal).Save(ctx)
		return err
	})
	return written(ctx, op, out, err)
}

// Update changes a note. ErrNotFound if the scope cannot see it.
func (r Notes) Update(ctx context.Context, id int, p NotePatch) (*ent.Note, policy.Redacted, error) {
	ctx = database.ByKey(ctx) // its statements find rows by key
	const op = "update note"
	f := fields{}
	if p.Body != nil {
		f.text("body", *p.Body, nonEmptyText, MaxNoteBodyLen)
	}
	if err := f.err(); err != nil {
		return nil, nil, classify(op, err)
	}
	var out *ent.Note
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		n, err := authorized(ctx, policy.NoteUpdate, tx.Note.Query().Where(note.ID(id)).ForUpdate().Only)
		if err != nil {
			return err
		}
		if p.Internal != nil && *p.Internal {
			if err := policy.Authorize(ctx, policy.NoteInternal, n); err != nil {
				return err
			}
		}
		if same(p.Body, n.Body) && same(p.Internal, n.Internal) {
			out = n // nothing to write: no updated_at bump
			return nil
		}
		out, err = tx.Note.UpdateOne(n).SetNillableBody(p.Body).SetNillableInternal(p.Internal).Save(ctx)
		return err
	})
	return written(ctx, op, out, err)
}

// Delete deletes a note. ErrNotFound if the scope cannot see it.
func (r Notes) Delete(ctx context.Context, id int) error {
	const op = "delete note"
	err := database.WithTx(ctx, r.Client, func(tx *ent.Tx) error {
		n, err := authorized(ctx, policy.NoteDelete, tx.Note.Query().Where(note.ID(id)).ForUpdate().Only)
		if err != nil {
			return err
		}
		return tx.Note.DeleteOne(n).Exec(ctx)
	})
	return classifyQuery(op, err)
}
