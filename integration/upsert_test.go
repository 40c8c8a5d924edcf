package integration

import (
	"context"
	stdsql "database/sql"
	"errors"
	"testing"

	"entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// upsertWorld is two tenants whose companies share the name "c1", and a user
// of B whose (globally unique) email A's admin will try to upsert.
type upsertWorld struct {
	db              *pgtest.DB
	orgA, orgB      int
	adminA, memberA *ent.User
	victimB         *ent.User
	coA, coB        *ent.Company
	jobA            *ent.Job
	inOrgA, allOrgs context.Context
}

func seedUpsertWorld(t *testing.T) *upsertWorld {
	t.Helper()
	db := pgtest.New(t)
	w := pgtest.Seed(t, db.Client, func(ctx context.Context, tx *ent.Tx) (*upsertWorld, error) {
		w := &upsertWorld{db: db}
		a := tx.Organization.Create().SetName("A").SetSlug("a").SaveX(ctx)
		b := tx.Organization.Create().SetName("B").SetSlug("b").SaveX(ctx)
		w.orgA, w.orgB = a.ID, b.ID
		mk := func(org int, email string, role user.Role) *ent.User {
			return tx.User.Create().SetOrgID(org).SetEmail(email).SetName(email).SetRole(role).SaveX(ctx)
		}
		w.adminA = mk(a.ID, "admin@a.test", user.RoleAdmin)
		w.memberA = mk(a.ID, "member@a.test", user.RoleMember)
		w.victimB = mk(b.ID, "victim@b.test", user.RoleMember)
		mk(b.ID, "admin@b.test", user.RoleAdmin)
		w.coA = tx.Company.Create().SetOrgID(a.ID).SetName("c1").SaveX(ctx)
		w.coB = tx.Company.Create().SetOrgID(b.ID).SetName("c1").SaveX(ctx)
		w.jobA = tx.Job.Create().SetOrgID(a.ID).SetCompanyID(w.coA.ID).SetTitle("j").SetStatus(job.StatusPublished).
			SetCreatedByID(w.adminA.ID).SaveX(ctx)
		return w, nil
	})
	s, err := scope.System("upsert test: " + t.Name()).InOrg(w.orgA).Scope()
	require.NoError(t, err)
	w.inOrgA = scope.NewContext(context.Background(), s)
	w.allOrgs = pgtest.SystemContext(t)
	db.Counter.Reset()
	return w
}

// upserters are the scopes allowed to DO UPDATE in tenant A: its admin, and
// a system scope narrowed to A (whose mutations run in a transaction).
var upserters = []string{"admin of A", "system InOrg(A)"}

// run runs fn as who: with A's admin on the plain client, or under
// InOrg(A) in a transaction committed when fn returns nil.
func (w *upsertWorld) run(t *testing.T, who string, fn func(ctx context.Context, c *ent.Client) error) error {
	t.Helper()
	switch who {
	case "admin of A":
		return fn(pgtest.UserContext(t, w.adminA), w.db.Client)
	case "system InOrg(A)":
		return database.WithTx(w.inOrgA, w.db.Client, func(tx *ent.Tx) error { return fn(w.inOrgA, tx.Client()) })
	}
	t.Fatalf("unknown scope %q", who)
	return nil
}

// userRow reads a user with plain SQL, outside ent and its rules.
func (w *upsertWorld) userRow(t *testing.T, id int) (org int, name, role string) {
	t.Helper()
	require.NoError(t, w.db.Raw.QueryRow(`SELECT org_id, name, role FROM users WHERE id = $1`, id).Scan(&org, &name, &role))
	return org, name, role
}

// TestUpsertTakeoverOfAnotherTenantsUserIsRefused: users.email is unique
// across tenants, so an upsert on it lands on B's user whatever A sends.
// Every way of writing that upsert that does not pin the updated row to A
// (or that sets a value the mutation rules never saw) is refused by the
// database seam before any SQL, and no table changes.
func TestUpsertTakeoverOfAnotherTenantsUserIsRefused(t *testing.T) {
	t.Parallel()
	w := seedUpsertWorld(t)
	excludedOrg := func(org int) *sql.Predicate { return sql.EQ(`"excluded"."org_id"`, org) }
	hijack := func(c *ent.Client) *ent.UserCreate {
		return c.User.Create().SetOrgID(w.orgA).SetEmail(w.victimB.Email).SetName("hijacked").SetRole(user.RoleAdmin)
	}
	variants := []struct {
		name, rule string // rule: the rule of the guard the refusal names
		run        func(ctx context.Context, c *ent.Client) error
	}{
		{"UpdateNewValues", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflictColumns(user.FieldEmail).UpdateNewValues().Exec(ctx)
		}},
		{"UpdateWhere on excluded.org_id", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.UpdateWhere(excludedOrg(w.orgA))).
				UpdateNewValues().Exec(ctx)
		}},
		{"UpdateWhere on sql.Table(excluded).C(org_id)", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail),
				sql.UpdateWhere(sql.EQ(sql.Table("excluded").C(user.FieldOrgID), w.orgA))).UpdateNewValues().Exec(ctx)
		}},
		{"SET org_id from excluded, WHERE on excluded: moves B's user into A", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.ResolveWithNewValues(),
				sql.UpdateWhere(excludedOrg(w.orgA))).Exec(ctx)
		}},
		{"SET org_id from excluded, no WHERE", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.ResolveWithNewValues()).Exec(ctx)
		}},
		{"UpdateWhere on users.org_id of B", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.UpdateWhere(sql.EQ(user.FieldOrgID, w.orgB))).
				UpdateNewValues().Exec(ctx)
		}},
		{"UpdateWhere on users.org_id <> A", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.UpdateWhere(sql.NEQ(user.FieldOrgID, w.orgA))).
				UpdateNewValues().Exec(ctx)
		}},
		{"UpdateWhere on users.org_id = A OR true", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail),
				sql.UpdateWhere(sql.Or(sql.EQ(user.FieldOrgID, w.orgA), sql.EQ(user.FieldOrgID, w.orgB)))).UpdateNewValues().Exec(ctx)
		}},
		{"ConflictWhere on org_id = A", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.ConflictWhere(sql.EQ(user.FieldOrgID, w.orgA))).
				UpdateNewValues().Exec(ctx)
		}},
		{"Update(func) setting fields", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflictColumns(user.FieldEmail).
				Update(func(u *ent.UserUpsert) { u.SetName("hijacked").SetRole(user.RoleAdmin).SetBanned(true) }).Exec(ctx)
		}},
		{"ResolveWith setting org_id, pinned to A", "rule 3", func(ctx context.Context, c *ent.Client) error {
			// org_id is immutable: the generated UserUpsert has no SetOrgID.
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.UpdateWhere(sql.EQ(user.FieldOrgID, w.orgA)),
				sql.ResolveWith(func(s *sql.UpdateSet) { s.Set(user.FieldOrgID, w.orgA) })).Exec(ctx)
		}},
		{"Update(func) setting a field, pinned to A", "rule 3", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.UpdateWhere(sql.EQ(user.FieldOrgID, w.orgA))).
				Update(func(u *ent.UserUpsert) { u.SetRole(user.RoleAdmin) }).Exec(ctx)
		}},
		{"Ignore, which would return B's user id", "rule 2", func(ctx context.Context, c *ent.Client) error {
			_, err := hijack(c).OnConflictColumns(user.FieldEmail).Ignore().ID(ctx)
			return err
		}},
		{"CreateBulk with UpdateWhere on excluded.org_id", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return c.User.CreateBulk(
				c.User.Create().SetOrgID(w.orgA).SetEmail("fresh@a.test").SetName("fresh").SetRole(user.RoleMember),
				hijack(c),
			).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.ResolveWithNewValues(), sql.UpdateWhere(excludedOrg(w.orgA))).Exec(ctx)
		}},
		{"CreateBulk UpdateNewValues", "rule 2", func(ctx context.Context, c *ent.Client) error {
			return c.User.CreateBulk(hijack(c)).OnConflictColumns(user.FieldEmail).UpdateNewValues().Exec(ctx)
		}},
		{"ResolveWithNewValues (SET org_id from excluded), pinned to A", "rule 3", func(ctx context.Context, c *ent.Client) error {
			return hijack(c).OnConflict(sql.ConflictColumns(user.FieldEmail), sql.ResolveWithNewValues(),
				sql.UpdateWhere(sql.EQ(user.FieldOrgID, w.orgA))).Exec(ctx)
		}},
	}
	for _, who := range upserters {
		for _, v := range variants {
			t.Run(who+"/"+v.name, func(t *testing.T) {
				before := w.db.Sums(t)
				w.db.Counter.Reset()
				err := w.run(t, who, v.run)
				require.ErrorIs(t, err, database.ErrUnsafeUpsert, "statements: %q", w.db.Counter.Statements())
				assert.Contains(t, err.Error(), v.rule)
				w.db.AssertUnchanged(t, before)
				org, name, _ := w.userRow(t, w.victimB.ID)
				assert.Equal(t, w.orgB, org)
				assert.Equal(t, w.victimB.Name, name)
			})
		}
	}
}

// TestUpsertAllowedShapesKeepToTheTenant: the shapes an admin or an InOrg
// system scope may send do what they say, in their tenant, and nothing to B.
func TestUpsertAllowedShapesKeepToTheTenant(t *testing.T) {
	t.Parallel()
	pinnedToA := func(w *upsertWorld) sql.ConflictOption { return sql.UpdateWhere(sql.EQ(user.FieldOrgID, w.orgA)) }
	for _, who := range upserters {
		t.Run(who, func(t *testing.T) {
			w := seedUpsertWorld(t)
			victimSum := w.db.RowSum(t, "users", w.victimB.ID)
			coBSum := w.db.RowSum(t, "companies", w.coB.ID)
			t.Cleanup(func() {
				if !t.Failed() {
					assert.Equal(t, victimSum, w.db.RowSum(t, "users", w.victimB.ID), "B's user changed")
					assert.Equal(t, coBSum, w.db.RowSum(t, "companies", w.coB.ID), "B's company changed")
				}
			})
			upsertUser := func(email, name string, opts ...sql.ConflictOption) func(ctx context.Context, c *ent.Client) (int, error) {
				return func(ctx context.Context, c *ent.Client) (int, error) {
					return c.User.Create().SetOrgID(w.orgA).SetEmail(email).SetName(name).SetRole(user.RoleMember).
						OnConflict(append([]sql.ConflictOption{sql.ConflictColumns(user.FieldEmail)}, opts...)...).
						UpdateNewValues().ID(ctx)
				}
			}
			id := func(t *testing.T, fn func(ctx context.Context, c *ent.Client) (int, error)) (int, error) {
				var got int
				err := w.run(t, who, func(ctx context.Context, c *ent.Client) (err error) {
					got, err = fn(ctx, c)
					return err
				})
				assert.NotErrorIs(t, err, database.ErrUnsafeUpsert)
				return got, err
			}

			t.Run("UpdateNewValues with UpdateWhere on users.org_id renames A's user", func(t *testing.T) {
				got, err := id(t, upsertUser(w.memberA.Email, "renamed", pinnedToA(w)))
				require.NoError(t, err)
				assert.Equal(t, w.memberA.ID, got)
				org, name, role := w.userRow(t, w.memberA.ID)
				assert.Equal(t, []any{w.orgA, "renamed", "member"}, []any{org, name, role})
			})
			t.Run("the same on B's email updates nothing", func(t *testing.T) {
				before := w.db.Sums(t)
				_, err := id(t, upsertUser(w.victimB.Email, "hijacked", pinnedToA(w)))
				// The DO UPDATE's WHERE is false on B's row: PostgreSQL
				// neither updates nor returns it.
				assertNoRowOrRLSRefusal(t, err)
				w.db.AssertUnchanged(t, before)
			})
			t.Run("a fresh email inserts into A", func(t *testing.T) {
				got, err := id(t, upsertUser("fresh@a.test", "fresh", pinnedToA(w)))
				require.NoError(t, err)
				org, _, _ := w.userRow(t, got)
				assert.Equal(t, w.orgA, org)
			})
			t.Run(`company on ("org_id", "name") updates A's c1`, func(t *testing.T) {
				got, err := id(t, func(ctx context.Context, c *ent.Client) (int, error) {
					return c.Company.Create().SetOrgID(w.orgA).SetName("c1").SetArchived(true).
						OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().ID(ctx)
				})
				require.NoError(t, err)
				assert.Equal(t, w.coA.ID, got)
				var archived bool
				require.NoError(t, w.db.Raw.QueryRow(`SELECT archived FROM companies WHERE id = $1`, w.coA.ID).Scan(&archived))
				assert.True(t, archived)
			})
			t.Run(`company CreateBulk on ("org_id", "name")`, func(t *testing.T) {
				err := w.run(t, who, func(ctx context.Context, c *ent.Client) error {
					return c.Company.CreateBulk(
						c.Company.Create().SetOrgID(w.orgA).SetName("c1").SetArchived(false),
						c.Company.Create().SetOrgID(w.orgA).SetName("bulk"),
					).OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().Exec(ctx)
				})
				require.NoError(t, err)
				var n int
				require.NoError(t, w.db.Raw.QueryRow(
					`SELECT count(*) FROM companies WHERE org_id = $1 AND ((name = 'c1' AND NOT archived) OR name = 'bulk')`, w.orgA).Scan(&n))
				assert.Equal(t, 2, n)
			})
			t.Run("DoNothing on B's email changes nothing", func(t *testing.T) {
				before := w.db.Sums(t)
				err := w.run(t, who, func(ctx context.Context, c *ent.Client) error {
					return c.User.Create().SetOrgID(w.orgA).SetEmail(w.victimB.Email).SetName("hijacked").SetRole(user.RoleAdmin).
						OnConflictColumns(user.FieldEmail).DoNothing().Exec(ctx)
				})
				// ent reports the row it did not insert as ErrNoRows.
				assertNoRowOrRLSRefusal(t, err)
				w.db.AssertUnchanged(t, before)
			})
			t.Run("DoNothing on a fresh email inserts into A", func(t *testing.T) {
				got, err := id(t, func(ctx context.Context, c *ent.Client) (int, error) {
					return c.User.Create().SetOrgID(w.orgA).SetEmail("nothing@a.test").SetName("n").SetRole(user.RoleMember).
						OnConflictColumns(user.FieldEmail).DoNothing().ID(ctx)
				})
				require.NoError(t, err)
				org, _, _ := w.userRow(t, got)
				assert.Equal(t, w.orgA, org)
			})
			t.Run(`Ignore on ("org_id", "name") returns A's c1 unchanged`, func(t *testing.T) {
				sum := w.db.RowSum(t, "companies", w.coA.ID)
				got, err := id(t, func(ctx context.Context, c *ent.Client) (int, error) {
					return c.Company.Create().SetOrgID(w.orgA).SetName("c1").SetArchived(true).
						OnConflictColumns(company.FieldOrgID, company.FieldName).Ignore().ID(ctx)
				})
				require.NoError(t, err)
				assert.Equal(t, w.coA.ID, got)
				assert.Equal(t, sum, w.db.RowSum(t, "companies", w.coA.ID))
			})
			t.Run("Ignore with UpdateWhere on users.org_id", func(t *testing.T) {
				ignore := func(email string) func(ctx context.Context, c *ent.Client) (int, error) {
					return func(ctx context.Context, c *ent.Client) (int, error) {
						return c.User.Create().SetOrgID(w.orgA).SetEmail(email).SetName("ignored").SetRole(user.RoleAdmin).
							OnConflict(sql.ConflictColumns(user.FieldEmail), pinnedToA(w)).Ignore().ID(ctx)
					}
				}
				sum := w.db.RowSum(t, "users", w.adminA.ID)
				got, err := id(t, ignore(w.adminA.Email))
				require.NoError(t, err)
				assert.Equal(t, w.adminA.ID, got)
				assert.Equal(t, sum, w.db.RowSum(t, "users", w.adminA.ID))
				_, err = id(t, ignore(w.victimB.Email))
				assertNoRowOrRLSRefusal(t, err, "B's user id must not come back")
			})
		})
	}
}

// TestUpsertRefusedToNonAdmins: a member may create a note, but not as an
// upsert that could DO UPDATE (a member does not see every row of the
// tenant); DO NOTHING rewrites nothing and passes.
func TestUpsertRefusedToNonAdmins(t *testing.T) {
	t.Parallel()
	w := seedUpsertWorld(t)
	ctx := pgtest.UserContext(t, w.memberA)
	newNote := func() *ent.NoteCreate {
		return w.db.Client.Note.Create().SetJobID(w.jobA.ID).SetAuthorID(w.memberA.ID).SetBody("upserted")
	}
	require.NoError(t, newNote().Exec(ctx), "the member may create the note itself")

	for name, run := range map[string]func() error{
		"UpdateNewValues": func() error { return newNote().OnConflictColumns(note.FieldID).UpdateNewValues().Exec(ctx) },
		"Ignore":          func() error { return newNote().OnConflictColumns(note.FieldID).Ignore().Exec(ctx) },
		"pinned to the member's org": func() error {
			return newNote().OnConflict(sql.ConflictColumns(note.FieldID), sql.UpdateWhere(sql.EQ(note.FieldOrgID, w.orgA))).
				UpdateNewValues().Exec(ctx)
		},
	} {
		t.Run(name, func(t *testing.T) {
			before := w.db.Sums(t)
			err := run()
			require.ErrorIs(t, err, database.ErrUnsafeUpsert)
			assert.Contains(t, err.Error(), "only unbanned admins")
			w.db.AssertUnchanged(t, before)
		})
	}
	t.Run("DoNothing", func(t *testing.T) {
		n, err := newNote().OnConflictColumns(note.FieldID).DoNothing().ID(ctx)
		require.NoError(t, err)
		var org int
		require.NoError(t, w.db.Raw.QueryRow(`SELECT org_id FROM notes WHERE id = $1`, n).Scan(&org))
		assert.Equal(t, w.orgA, org)
	})
}

// TestUpsertAllTenantSystemScopeIsAllowed: the all-tenant system scope sees
// and may change every row, so no shape is refused to it: the global email
// upsert updates B's user, in a transaction.
func TestUpsertAllTenantSystemScopeIsAllowed(t *testing.T) {
	t.Parallel()
	w := seedUpsertWorld(t)
	var id int
	err := database.WithTx(w.allOrgs, w.db.Client, func(tx *ent.Tx) (err error) {
		id, err = tx.User.Create().SetOrgID(w.orgB).SetEmail(w.victimB.Email).SetName("renamed by system").SetRole(user.RoleManager).
			OnConflictColumns(user.FieldEmail).UpdateNewValues().ID(w.allOrgs)
		return err
	})
	require.NoError(t, err)
	assert.Equal(t, w.victimB.ID, id)
	org, name, role := w.userRow(t, w.victimB.ID)
	assert.Equal(t, []any{w.orgB, "renamed by system", "manager"}, []any{org, name, role})

	err = database.WithTx(w.allOrgs, w.db.Client, func(tx *ent.Tx) error {
		return tx.User.Create().SetOrgID(w.orgB).SetEmail(w.victimB.Email).SetName("n").SetRole(user.RoleMember).
			OnConflictColumns(user.FieldEmail).Update(func(u *ent.UserUpsert) { u.SetPhone("555") }).Exec(w.allOrgs)
	})
	require.NoError(t, err)
	var phone string
	require.NoError(t, w.db.Raw.QueryRow(`SELECT phone FROM users WHERE id = $1`, w.victimB.ID).Scan(&phone))
	assert.Equal(t, "555", phone)
	assert.False(t, errors.Is(err, database.ErrUnsafeUpsert))
}

// assertNoRowOrRLSRefusal: an upsert whose conflicting row is another
// tenant's changes nothing. With the ent rules alone the DO UPDATE's WHERE
// is false and PostgreSQL returns no row; with row-level security the
// policy refuses the conflicting row (42501). Either way nothing comes back.
func assertNoRowOrRLSRefusal(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42501" {
		return
	}
	assert.ErrorIs(t, err, stdsql.ErrNoRows, msgAndArgs...)
}
