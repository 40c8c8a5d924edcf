package integration

// Named tests of the write rules enforced inside ent (docs/design.md sections 3 and
// 5, 10 (g) and (i)): a mutation through any ent client gets the answer the
// repository would give, whatever builder it uses. The mutation oracle
// (mutation_oracle_test.go) runs random sequences of the same; these are the
// cases an attacker tried first, kept readable.

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/rules"
	"github.com/scopegate/scopegate/internal/scope"
)

// forbiddenBy asserts that err is a policy denial of action, matching both
// privacy.Deny (ent's answer) and policy.ErrForbidden (the repository's).
func forbiddenBy(t *testing.T, err error, action policy.Action) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, privacy.Deny)
	assert.ErrorIs(t, err, policy.ErrForbidden)
	var pe *policy.Error
	if assert.True(t, errors.As(err, &pe), "want a *policy.Error, got %v", err) {
		assert.Equal(t, action, pe.Decision.Action)
	}
}

func TestWritePolicyIsEnforcedInsideEnt(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, c := tt.A, tt.db.Client
	as := func(u *ent.User) context.Context { return pgtest.UserContext(t, u) }
	denied := []struct {
		name   string
		action policy.Action
		do     func() error
	}{
		{"a member demotes an admin", policy.UserUpdate, func() error {
			return c.User.UpdateOneID(a.Admin.ID).SetRole(user.RoleMember).Exec(as(a.Member))
		}},
		{"a member makes themself admin", policy.UserUpdate, func() error {
			return c.User.UpdateOneID(a.Member.ID).SetRole(user.RoleAdmin).Exec(as(a.Member))
		}},
		{"a manager unbans everyone in bulk", policy.UserUpdate, func() error {
			return c.User.Update().SetBanned(false).Exec(as(a.Manager))
		}},
		{"a client sets salary_max on a job they see", policy.JobUpdate, func() error {
			return c.Job.UpdateOneID(a.Pub1.ID).SetSalaryMax(1).Exec(as(a.Client))
		}},
		{"a manager bulk-updates jobs, some of which they do not manage", policy.JobUpdate, func() error {
			return c.Job.Update().SetTitle("mine now").Exec(as(a.Manager))
		}},
		{"a manager deletes a job they manage", policy.JobDelete, func() error {
			return c.Job.DeleteOneID(a.Draft1.ID).Exec(as(a.Manager))
		}},
		{"a member deletes a note someone else wrote", policy.NoteDelete, func() error {
			return c.Note.DeleteOneID(a.PublicNote[a.Pub1.ID].ID).Exec(as(a.Member))
		}},
		{"a member writes an internal note", policy.NoteInternal, func() error {
			return c.Note.Create().SetJobID(a.Pub1.ID).SetBody("psst").SetInternal(true).Exec(as(a.Member))
		}},
		{"a client writes a note", policy.NoteCreate, func() error {
			return c.Note.Create().SetJobID(a.Pub1.ID).SetBody("hello").Exec(as(a.Client))
		}},
		{"a manager moves another author's note into their job", policy.NoteUpdate, func() error {
			return c.Job.UpdateOneID(a.Draft1.ID).AddNoteIDs(a.PublicNote[a.Pub1.ID].ID).Exec(as(a.Manager))
		}},
		{"a member renames a company", policy.CompanyUpdate, func() error {
			return c.Company.UpdateOneID(a.C1.ID).SetName("ours").Exec(as(a.Member))
		}},
		{"a manager creates a user", policy.UserCreate, func() error {
			return c.User.Create().SetEmail("new@a.test").SetName("new").SetRole(user.RoleAdmin).Exec(as(a.Manager))
		}},
		{"a member adds themself as a job's manager through their own row", policy.UserUpdate, func() error {
			return c.User.UpdateOneID(a.Member.ID).AddManagedJobIDs(a.Pub2.ID).Exec(as(a.Member))
		}},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			before := tt.db.Sums(t)
			forbiddenBy(t, tc.do(), tc.action)
			tt.db.AssertUnchanged(t, before)
		})
	}

	t.Run("the answer is the repository's", func(t *testing.T) {
		role := "admin"
		_, _, repoErr := repo.Users{Client: c}.Update(as(a.Member), a.Admin.ID, repo.UserPatch{Role: &role})
		entErr := c.User.UpdateOneID(a.Admin.ID).SetRole(user.RoleAdmin).Exec(as(a.Member))
		var fromRepo, fromEnt *policy.Error
		require.True(t, errors.As(repoErr, &fromRepo), "repository: %v", repoErr)
		require.True(t, errors.As(entErr, &fromEnt), "ent: %v", entErr)
		assert.Equal(t, fromRepo.Decision, fromEnt.Decision)
	})

	allowed := []struct {
		name string
		do   func(ctx context.Context, tx *ent.Tx) error
		as   *ent.User
	}{
		{"a member changes their own name and phone", func(ctx context.Context, tx *ent.Tx) error {
			return tx.User.UpdateOneID(a.Member.ID).SetName("m").SetPhone("1").Exec(ctx)
		}, a.Member},
		{"a manager edits a job they manage", func(ctx context.Context, tx *ent.Tx) error {
			return tx.Job.UpdateOneID(a.Draft1.ID).SetTitle("better").Exec(ctx)
		}, a.Manager},
		{"a member writes a public note and deletes it", func(ctx context.Context, tx *ent.Tx) error {
			n, err := tx.Note.Create().SetJobID(a.Pub1.ID).SetBody("hi").Save(ctx)
			if err != nil {
				return err
			}
			if n.AuthorID != a.Member.ID {
				return errors.New("the author was not taken from the scope")
			}
			return tx.Note.DeleteOne(n).Exec(ctx)
		}, a.Member},
		{"an admin does anything in their tenant", func(ctx context.Context, tx *ent.Tx) error {
			return tx.Job.Update().SetTitle("all mine").Exec(ctx)
		}, a.Admin},
	}
	for _, tc := range allowed {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := c.Tx(as(tc.as))
			require.NoError(t, err)
			defer tx.Rollback()
			require.NoError(t, tc.do(as(tc.as), tx))
		})
	}
}

func TestAuthorsAndCreatorsComeFromTheScope(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, c := tt.A, tt.db.Client
	before := tt.db.Sums(t)
	err := c.Note.Create().SetJobID(a.Pub1.ID).SetBody("in your name").SetAuthorID(a.Admin.ID).Exec(pgtest.UserContext(t, a.Member))
	assert.ErrorIs(t, err, rules.ErrNotOwner)
	err = c.Job.Create().SetCompanyID(a.C1.ID).SetTitle("t").SetCreatedByID(a.Admin.ID).Exec(pgtest.UserContext(t, a.Manager))
	assert.ErrorIs(t, err, rules.ErrNotOwner)
	// A hidden or foreign author is a link to a row the scope cannot see:
	// the same answer as a missing one.
	err = c.Note.Create().SetJobID(a.Pub1.ID).SetBody("x").SetAuthorID(tt.B.Admin.ID).Exec(pgtest.UserContext(t, a.Member))
	assert.ErrorIs(t, err, rules.ErrForeignLink)
	err = c.User.UpdateOneID(a.Admin.ID).AddNoteIDs(a.PublicNote[a.Pub2.ID].ID).Exec(pgtest.UserContext(t, a.Admin))
	assert.ErrorIs(t, err, rules.ErrReadOnly, "a note's author is immutable, from either side")
	tt.db.AssertUnchanged(t, before)
}

// TestClearingManyToManyTouchesOnlyVisibleLinks: clearing a job's managers,
// or a user's managed jobs, removes the links the scope sees. A link the
// scope could not see would be another tenant's: A.Pub1 managed by
// B.Manager. That link cannot exist (the tenant-safe key
// job_managers_user_id refuses it, even to the all-tenant system scope;
// TestTenantSafeKeys tries every key), so a clear by any scope of A reaches
// A's links only, and a clear from B's side leaves A's jobs alone.
func TestClearingManyToManyTouchesOnlyVisibleLinks(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b, c := tt.A, tt.B, tt.db.Client
	err := database.WithTx(tt.sys, c, func(tx *ent.Tx) error {
		return tx.Job.UpdateOneID(a.Pub1.ID).AddManagerIDs(b.Manager.ID).Exec(tt.sys)
	})
	require.True(t, ent.IsConstraintError(err), "B.Manager as a manager of A.Pub1: %v", err)
	managers := func(ctx context.Context, tx *ent.Tx) []int {
		ids, err := tx.Job.Query().Where(job.ID(a.Pub1.ID)).QueryManagers().IDs(tt.sys)
		require.NoError(t, err)
		return sortedInts(ids)
	}
	inOrg, err := scope.System("test: clear").InOrg(a.Org.ID).Scope()
	require.NoError(t, err)
	cases := []struct {
		name string
		ctx  context.Context
	}{
		{"admin of A", pgtest.UserContext(t, a.Admin)},
		{"system scope in A", scope.NewContext(context.Background(), inOrg)},
		{"all-tenant system scope", tt.sys},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tx, err := c.Tx(tc.ctx)
			require.NoError(t, err)
			defer tx.Rollback()
			require.Equal(t, []int{a.Manager.ID}, managers(tc.ctx, tx))
			require.NoError(t, tx.Job.UpdateOneID(a.Pub1.ID).ClearManagers().Exec(tc.ctx))
			assert.Equal(t, []int{}, managers(tc.ctx, tx))
		})
	}
	t.Run("clear and add in one update", func(t *testing.T) {
		ctx := pgtest.UserContext(t, a.Admin)
		tx, err := c.Tx(ctx)
		require.NoError(t, err)
		defer tx.Rollback()
		require.NoError(t, tx.Job.UpdateOneID(a.Pub1.ID).ClearManagers().AddManagerIDs(a.Manager2.ID).Exec(ctx))
		assert.Equal(t, []int{a.Manager2.ID}, managers(ctx, tx))
	})
	t.Run("from the other side", func(t *testing.T) {
		// B's admin clears B.Manager's managed jobs: B's own.
		ctx := pgtest.UserContext(t, b.Admin)
		tx, err := c.Tx(ctx)
		require.NoError(t, err)
		defer tx.Rollback()
		managed := func() []int {
			ids, err := tx.User.Query().Where(user.ID(b.Manager.ID)).QueryManagedJobs().IDs(tt.sys)
			require.NoError(t, err)
			return sortedInts(ids)
		}
		require.Equal(t, sortedInts(pgtest.IDs(b.Pub1, b.Draft1)), managed())
		require.NoError(t, tx.User.UpdateOneID(b.Manager.ID).ClearManagedJobs().Exec(ctx))
		assert.Empty(t, managed())
		assert.Equal(t, []int{a.Manager.ID}, managers(ctx, tx), "A.Pub1's managers")
	})
}

// TestBanningRevokesSessions: rule 9. The sessions go in the ban's own
// transaction; a ban outside a transaction is refused before it runs.
func TestBanningRevokesSessions(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, c := tt.A, tt.db.Client
	ctx := pgtest.UserContext(t, a.Admin)
	sessionsOf := func(u *ent.User) int {
		n, err := c.Session.Query().Where(session.UserID(u.ID)).Count(tt.sys)
		require.NoError(t, err)
		return n
	}
	require.Equal(t, 1, sessionsOf(a.Member))

	before := tt.db.Sums(t)
	err := c.User.UpdateOneID(a.Member.ID).SetBanned(true).Exec(ctx)
	assert.ErrorIs(t, err, rules.ErrNeedsTransaction)
	tt.db.AssertUnchanged(t, before)

	require.NoError(t, database.WithTx(ctx, c, func(tx *ent.Tx) error {
		return tx.User.UpdateOneID(a.Member.ID).SetBanned(true).Exec(ctx)
	}))
	assert.Equal(t, 0, sessionsOf(a.Member))

	active := false
	_, _, err = repo.Users{Client: c}.Update(ctx, a.Manager.ID, repo.UserPatch{Active: &active})
	require.NoError(t, err)
	assert.Equal(t, 0, sessionsOf(a.Manager))
	assert.Equal(t, 1, sessionsOf(a.Manager2), "other users keep theirs")
	assert.Equal(t, 1, sessionsOf(tt.B.Member), "other tenants keep theirs")
}

// TestSystemScopeLimits: even the system scope does not create sessions
// (logging in does) nor write or change audit events (the audit hook does).
func TestSystemScopeLimits(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, c := tt.A, tt.db.Client
	before := tt.db.Sums(t)
	for name, do := range map[string]func(tx *ent.Tx) error{
		"create a session": func(tx *ent.Tx) error {
			return tx.Session.Create().SetUserID(a.Member.ID).SetOrgID(a.Member.OrgID).SetTokenHash("forged").SetExpiresAt(a.Member.CreatedAt).Exec(tt.sys)
		},
		"write an audit event": func(tx *ent.Tx) error {
			return tx.AuditEvent.Create().SetActor("system").SetReason("forged").SetAction("create").
				SetObject("Job").SetObjectID("1").Exec(tt.sys)
		},
		"change an audit event": func(tx *ent.Tx) error {
			return tx.AuditEvent.Update().Exec(tt.sys)
		},
	} {
		t.Run(name, func(t *testing.T) {
			err := database.WithTx(tt.sys, c, do)
			assert.ErrorIs(t, err, rules.ErrReadOnly)
			assert.ErrorIs(t, err, privacy.Deny)
			tt.db.AssertUnchanged(t, before)
		})
	}
	t.Run("the audit hook still writes", func(t *testing.T) {
		require.NoError(t, database.WithTx(tt.sys, c, func(tx *ent.Tx) error {
			return tx.Company.UpdateOneID(a.C1.ID).SetName("renamed").Exec(tt.sys)
		}))
		n, err := c.AuditEvent.Query().Count(tt.sys)
		require.NoError(t, err)
		assert.Positive(t, n)
	})
}

// TestTraversalsFromEntitiesAnswerLikeQueries: docs/design.md section 10 (g). A member who
// holds the id of a draft job they do not see, or of an internal note,
// learns nothing through Query<Edge>, in either form.
func TestTraversalsFromEntitiesAnswerLikeQueries(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, c := tt.A, tt.db.Client
	ctx := pgtest.UserContext(t, a.Member)
	draft := c.Job.GetX(tt.sys, a.Draft2.ID) // loaded by someone else
	internal := c.Note.GetX(tt.sys, a.InternalNote[a.Pub1.ID].ID)

	for name, q := range map[string]interface {
		IDs(context.Context) ([]int, error)
	}{
		"client.Job.QueryManagers(&ent.Job{ID})": c.Job.QueryManagers(&ent.Job{ID: a.Draft2.ID}),
		"job.QueryManagers()":                    draft.QueryManagers(),
		"job.QueryCompany()":                     draft.QueryCompany(),
		"job.QueryCreator()":                     draft.QueryCreator(),
		"job.QueryNotes()":                       draft.QueryNotes(),
		"note.QueryAuthor()":                     internal.QueryAuthor(),
		"note.QueryJob()":                        internal.QueryJob(),
		"client.Job.QueryManagers(missing)":      c.Job.QueryManagers(&ent.Job{ID: pgtest.MissingID}),
	} {
		ids, err := q.IDs(ctx)
		assert.NoError(t, err, name)
		assert.Empty(t, ids, name)
	}
	n, err := draft.QueryNotes().Count(ctx)
	assert.NoError(t, err)
	assert.Zero(t, n, "a count of a hidden row's relations")

	// A row the member sees answers like the query form.
	pub := c.Job.GetX(tt.sys, a.Pub1.ID)
	got, err := pub.QueryManagers().IDs(ctx)
	require.NoError(t, err)
	want, err := c.Job.Query().Where(job.ID(a.Pub1.ID)).QueryManagers().IDs(ctx)
	require.NoError(t, err)
	assert.ElementsMatch(t, want, got)
	assert.NotEmpty(t, got)
}

func sortedInts(ids []int) []int {
	out := append([]int{}, ids...)
	slices.Sort(out)
	return out
}

// TestOneRowUpdateWithAnEdgePredicate: the WHERE of UpdateOneID carries the
// mutation's context, so the caller's own edge predicate is narrowed by the
// scope like any other (and does not fail closed for want of a scope).
func TestOneRowUpdateWithAnEdgePredicate(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, c := tt.A, tt.db.Client
	for _, ctx := range []context.Context{pgtest.UserContext(t, a.Admin), tt.sys} {
		tx, err := c.Tx(ctx)
		require.NoError(t, err)
		n, err := tx.Job.UpdateOneID(a.Pub1.ID).Where(job.HasNotes()).SetTitle("has notes").Save(ctx)
		require.NoError(t, err)
		assert.Equal(t, "has notes", n.Title)
		require.NoError(t, tx.Rollback())
	}
	// The predicate is narrowed like a query's: a member does not read
	// internal notes, so for them no job has one, and the update reaches
	// nothing; an admin's reaches A.Pub1.
	internal := job.And(job.ID(a.Pub1.ID), job.HasNotesWith(note.Internal(true)))
	n, err := c.Job.Update().Where(internal).SetTitle("x").Save(pgtest.UserContext(t, a.Member))
	require.NoError(t, err)
	assert.Zero(t, n)
	err = c.Job.UpdateOneID(a.Pub1.ID).Where(job.HasNotesWith(note.Internal(true))).SetTitle("x").
		Exec(pgtest.UserContext(t, a.Manager2))
	// Manager2 sees A.Pub1 and its internal note but does not manage it.
	forbiddenBy(t, err, policy.JobUpdate)
}
