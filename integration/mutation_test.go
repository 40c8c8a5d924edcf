package integration

import (
	"context"
	stdsql "database/sql"
	"errors"
	"strconv"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/audit"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/rules"
	"github.com/scopegate/scopegate/internal/scope"
)

// TestCrossTenantUpdateAndDeleteByIDAreNotFound: a user of tenant A who
// updates or deletes a row of tenant B by id gets exactly what a missing id
// gives (not found, or the same denial for mutations the scope may never
// make), and nothing changes.
func TestCrossTenantUpdateAndDeleteByIDAreNotFound(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b := tt.A, tt.B
	c := tt.db.Client

	type op struct {
		name     string
		foreign  int
		own      int
		run      func(ctx context.Context, id int) error
		readOnly bool // never allowed for a user scope: denied whatever the row
	}
	ops := []op{
		{"User.UpdateOneID", b.Member.ID, a.Member.ID, func(ctx context.Context, id int) error {
			return c.User.UpdateOneID(id).SetName("hijacked").Exec(ctx)
		}, false},
		{"User.DeleteOneID", b.Member.ID, a.Member.ID, func(ctx context.Context, id int) error {
			return c.User.DeleteOneID(id).Exec(ctx)
		}, false},
		{"Company.UpdateOneID", b.C2.ID, a.C2.ID, func(ctx context.Context, id int) error {
			return c.Company.UpdateOneID(id).SetName("hijacked").Exec(ctx)
		}, false},
		{"Company.DeleteOneID", b.C2.ID, a.C2.ID, func(ctx context.Context, id int) error {
			return c.Company.DeleteOneID(id).Exec(ctx)
		}, false},
		{"Job.UpdateOneID", b.Draft2.ID, a.Draft2.ID, func(ctx context.Context, id int) error {
			return c.Job.UpdateOneID(id).SetTitle("hijacked").SetStatus(job.StatusPublished).Exec(ctx)
		}, false},
		{"Job.DeleteOneID", b.Draft2.ID, a.Draft2.ID, func(ctx context.Context, id int) error {
			return c.Job.DeleteOneID(id).Exec(ctx)
		}, false},
		{"Note.UpdateOneID", b.InternalNote[b.Pub1.ID].ID, a.InternalNote[a.Pub1.ID].ID, func(ctx context.Context, id int) error {
			return c.Note.UpdateOneID(id).SetBody("hijacked").SetInternal(false).Exec(ctx)
		}, false},
		{"Note.DeleteOneID", b.InternalNote[b.Pub1.ID].ID, a.InternalNote[a.Pub1.ID].ID, func(ctx context.Context, id int) error {
			return c.Note.DeleteOneID(id).Exec(ctx)
		}, false},
		{"Session.DeleteOneID", b.Session[b.Admin.ID].ID, a.Session[a.Admin.ID].ID, func(ctx context.Context, id int) error {
			return c.Session.DeleteOneID(id).Exec(ctx)
		}, false},
		{"Session.UpdateOneID", b.Session[b.Admin.ID].ID, a.Session[a.Admin.ID].ID, func(ctx context.Context, id int) error {
			return c.Session.UpdateOneID(id).SetExpiresAt(time.Now().Add(24 * time.Hour)).Exec(ctx)
		}, true},
		{"Organization.UpdateOneID", b.Org.ID, a.Org.ID, func(ctx context.Context, id int) error {
			return c.Organization.UpdateOneID(id).SetName("hijacked").Exec(ctx)
		}, true},
		{"Organization.DeleteOneID", b.Org.ID, a.Org.ID, func(ctx context.Context, id int) error {
			return c.Organization.DeleteOneID(id).Exec(ctx)
		}, true},
	}
	auditB, err := c.AuditEvent.Query().Where(auditevent.OrgID(b.Org.ID)).FirstID(tt.sys)
	require.NoError(t, err)
	auditA, err := c.AuditEvent.Query().Where(auditevent.OrgID(a.Org.ID)).FirstID(tt.sys)
	require.NoError(t, err)
	ops = append(ops,
		op{"AuditEvent.UpdateOneID", auditB, auditA, func(ctx context.Context, id int) error {
			return c.AuditEvent.UpdateOneID(id).Exec(ctx)
		}, true},
		op{"AuditEvent.DeleteOneID", auditB, auditA, func(ctx context.Context, id int) error {
			return c.AuditEvent.DeleteOneID(id).Exec(ctx)
		}, true},
	)

	for _, actor := range []*ent.User{a.Admin, a.Manager} {
		ctx := pgtest.UserContext(t, actor)
		for _, o := range ops {
			t.Run(string(actor.Role)+"/"+o.name, func(t *testing.T) {
				before := tt.db.Sums(t)
				errForeign := o.run(ctx, o.foreign)
				errMissing := o.run(ctx, pgtest.MissingID)
				require.Error(t, errForeign)
				require.Error(t, errMissing)
				if o.readOnly {
					assert.ErrorIs(t, errForeign, rules.ErrReadOnly)
					assert.ErrorIs(t, errForeign, privacy.Deny)
					errOwn := o.run(ctx, o.own)
					assert.ErrorIs(t, errOwn, rules.ErrReadOnly, "the same denial for a row of the own tenant")
				} else {
					var nf *ent.NotFoundError
					assert.ErrorAs(t, errForeign, &nf, "foreign row: %v", errForeign)
					assert.True(t, ent.IsNotFound(errForeign))
					assert.True(t, ent.IsNotFound(errMissing), "missing row: %v", errMissing)
				}
				assert.Equal(t, errMissing.Error(), errForeign.Error(), "a foreign row must look exactly like a missing one")
				tt.db.AssertUnchanged(t, before)
			})
		}
	}

	t.Run("bulk updates and deletes aimed at B's rows touch nothing", func(t *testing.T) {
		ctx := pgtest.UserContext(t, a.Admin)
		before := tt.db.Sums(t)
		bulk := []struct {
			name string
			run  func() (int, error)
		}{
			{"User.Update", func() (int, error) {
				return c.User.Update().Where(user.IDIn(pgtest.IDs(b.users()...)...)).SetName("x").Save(ctx)
			}},
			{"Company.Update", func() (int, error) {
				return c.Company.Update().Where(company.OrgID(b.Org.ID)).SetArchived(true).Save(ctx)
			}},
			{"Job.Update", func() (int, error) {
				return c.Job.Update().Where(job.IDIn(pgtest.IDs(b.jobs()...)...)).SetTitle("x").Save(ctx)
			}},
			{"Note.Update", func() (int, error) {
				return c.Note.Update().Where(note.IDIn(pgtest.IDs(b.notes()...)...)).SetBody("x").Save(ctx)
			}},
			{"Note.Delete", func() (int, error) {
				return c.Note.Delete().Where(note.IDIn(pgtest.IDs(b.notes()...)...)).Exec(ctx)
			}},
			{"Session.Delete", func() (int, error) {
				return c.Session.Delete().Where(session.IDIn(pgtest.IDs(b.sessions()...)...)).Exec(ctx)
			}},
		}
		for _, op := range bulk {
			n, err := op.run()
			require.NoError(t, err, op.name)
			assert.Zero(t, n, op.name)
		}
		tt.db.AssertUnchanged(t, before)
	})
}

// TestCreatesLandInTheScopesTenant: a create naming another organization is
// denied; a create naming none takes the scope's.
func TestCreatesLandInTheScopesTenant(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b := tt.A, tt.B
	c := tt.db.Client
	ctx := pgtest.UserContext(t, a.Admin)
	orgB := b.Org.ID

	t.Run("a foreign org_id is denied", func(t *testing.T) {
		creates := []struct {
			name string
			run  func() error
		}{
			{"Company", func() error { return c.Company.Create().SetOrgID(orgB).SetName("planted").Exec(ctx) }},
			{"User", func() error {
				return c.User.Create().SetOrgID(orgB).SetEmail("planted@b.test").SetName("p").SetRole(user.RoleAdmin).Exec(ctx)
			}},
			{"Job", func() error {
				return c.Job.Create().SetOrgID(orgB).SetCompanyID(a.C1.ID).SetTitle("planted").SetCreatedByID(a.Admin.ID).Exec(ctx)
			}},
			{"Note", func() error {
				return c.Note.Create().SetOrgID(orgB).SetJobID(a.Pub1.ID).SetAuthorID(a.Admin.ID).SetBody("planted").Exec(ctx)
			}},
			{"Organization", func() error { return c.Organization.Create().SetName("planted").SetSlug("planted").Exec(ctx) }},
			{"Company.CreateBulk with one foreign row", func() error {
				return c.Company.CreateBulk(
					c.Company.Create().SetName("fine"),
					c.Company.Create().SetOrgID(orgB).SetName("planted"),
				).Exec(ctx)
			}},
			{"Company upsert", func() error {
				return c.Company.Create().SetOrgID(orgB).SetName("c1").
					OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().Exec(ctx)
			}},
		}
		for _, cr := range creates {
			t.Run(cr.name, func(t *testing.T) {
				before := tt.db.Sums(t)
				err := cr.run()
				assert.ErrorIs(t, err, rules.ErrWrongTenant)
				assert.ErrorIs(t, err, privacy.Deny)
				tt.db.AssertUnchanged(t, before)
			})
		}
	})

	t.Run("no org_id takes the scope's", func(t *testing.T) {
		co, err := c.Company.Create().SetName("new").Save(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Org.ID, co.OrgID)
		u, err := c.User.Create().SetEmail("new@a.test").SetName("new").SetRole(user.RoleMember).Save(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Org.ID, u.OrgID)
		j, err := c.Job.Create().SetCompanyID(co.ID).SetTitle("new").SetCreatedByID(a.Admin.ID).Save(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Org.ID, j.OrgID)
		n, err := c.Note.Create().SetJobID(j.ID).SetAuthorID(a.Admin.ID).SetBody("new").Save(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Org.ID, n.OrgID)
		// And the database agrees.
		var org int
		require.NoError(t, tt.db.Raw.QueryRow(`SELECT org_id FROM notes WHERE id = $1`, n.ID).Scan(&org))
		assert.Equal(t, a.Org.ID, org)
	})
}

// TestLinksToRowsTheScopeCannotSeeAreDenied: a create or update that links a
// row of another tenant, or a row of the same tenant the scope cannot see,
// is denied with ErrForeignLink, and nothing changes.
func TestLinksToRowsTheScopeCannotSeeAreDenied(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b := tt.A, tt.B
	c := tt.db.Client
	admin := pgtest.UserContext(t, a.Admin)
	manager := pgtest.UserContext(t, a.Manager)
	member := pgtest.UserContext(t, a.Member)
	client := pgtest.UserContext(t, a.Client)

	cases := []struct {
		name string
		run  func() error
	}{
		// Another tenant's rows, by an admin (who sees all of A).
		{"create job with a foreign company", func() error {
			return c.Job.Create().SetCompanyID(b.C1.ID).SetTitle("x").SetCreatedByID(a.Admin.ID).Exec(admin)
		}},
		{"create job with a foreign manager", func() error {
			return c.Job.Create().SetCompanyID(a.C1.ID).SetTitle("x").SetCreatedByID(a.Admin.ID).
				AddManagerIDs(a.Manager.ID, b.Manager.ID).Exec(admin)
		}},
		{"create job with a foreign creator", func() error {
			return c.Job.Create().SetCompanyID(a.C1.ID).SetTitle("x").SetCreatedByID(b.Admin.ID).Exec(admin)
		}},
		{"create job with a missing company", func() error {
			return c.Job.Create().SetCompanyID(pgtest.MissingID).SetTitle("x").SetCreatedByID(a.Admin.ID).Exec(admin)
		}},
		{"create note on a foreign job", func() error {
			return c.Note.Create().SetJobID(b.Pub1.ID).SetAuthorID(a.Admin.ID).SetBody("x").Exec(admin)
		}},
		{"create note with a foreign author", func() error {
			return c.Note.Create().SetJobID(a.Pub1.ID).SetAuthorID(b.Admin.ID).SetBody("x").Exec(admin)
		}},
		{"create client of a foreign company", func() error {
			return c.User.Create().SetEmail("x@a.test").SetName("x").SetRole(user.RoleClient).SetCompanyID(b.C1.ID).Exec(admin)
		}},
		{"create jobs in bulk, one with a foreign company", func() error {
			return c.Job.CreateBulk(
				c.Job.Create().SetCompanyID(a.C1.ID).SetTitle("fine").SetCreatedByID(a.Admin.ID),
				c.Job.Create().SetCompanyID(b.C1.ID).SetTitle("x").SetCreatedByID(a.Admin.ID),
			).Exec(admin)
		}},
		{"update job to a foreign company", func() error {
			return c.Job.UpdateOneID(a.Pub1.ID).SetCompanyID(b.C1.ID).Exec(admin)
		}},
		{"update job adding a foreign manager", func() error {
			return c.Job.UpdateOneID(a.Pub1.ID).AddManagerIDs(b.Manager2.ID).Exec(admin)
		}},
		{"bulk update jobs adding a foreign manager", func() error {
			return c.Job.Update().Where(job.ID(a.Pub2.ID)).AddManagerIDs(b.Manager2.ID).Exec(admin)
		}},
		{"update note to a foreign job", func() error {
			return c.Note.UpdateOneID(a.PublicNote[a.Pub1.ID].ID).SetJobID(b.Pub1.ID).Exec(admin)
		}},
		{"update user to a foreign company", func() error {
			return c.User.UpdateOneID(a.Client.ID).SetCompanyID(b.C2.ID).Exec(admin)
		}},
		{"update company adding a foreign job", func() error {
			return c.Company.UpdateOneID(a.C1.ID).AddJobIDs(b.Pub1.ID).Exec(admin)
		}},
		{"update company adding a foreign client", func() error {
			return c.Company.UpdateOneID(a.C1.ID).AddClientIDs(b.Client.ID).Exec(admin)
		}},
		{"update user adding a foreign managed job", func() error {
			return c.User.UpdateOneID(a.Manager.ID).AddManagedJobIDs(b.Pub1.ID).Exec(admin)
		}},
		{"update user adding a foreign note", func() error {
			return c.User.UpdateOneID(a.Admin.ID).AddNoteIDs(b.PublicNote[b.Pub1.ID].ID).Exec(admin)
		}},
		{"update user adding a foreign session", func() error {
			return c.User.UpdateOneID(a.Admin.ID).AddSessionIDs(b.Session[b.Admin.ID].ID).Exec(admin)
		}},
		{"update user adding a foreign created job", func() error {
			return c.User.UpdateOneID(a.Admin.ID).AddCreatedJobIDs(b.Pub1.ID).Exec(admin)
		}},
		// Rows of the same tenant that the scope cannot see.
		{"member creates a note on a draft job they do not manage", func() error {
			return c.Note.Create().SetJobID(a.DraftNobody.ID).SetAuthorID(a.Member.ID).SetBody("x").Exec(member)
		}},
		{"member moves a note to a draft job they do not manage", func() error {
			return c.Note.UpdateOneID(a.PublicNote[a.Pub1.ID].ID).SetJobID(a.Draft1.ID).Exec(member)
		}},
		{"manager creates a note on a draft job another manager manages", func() error {
			return c.Note.Create().SetJobID(a.Draft2.ID).SetAuthorID(a.Manager.ID).SetBody("x").Exec(manager)
		}},
		{"manager adds themself to a job of their own tenant they cannot see", func() error {
			return c.User.UpdateOneID(a.Manager.ID).AddManagedJobIDs(a.DraftNobody.ID).Exec(manager)
		}},
		{"client creates a note on a job of another company", func() error {
			return c.Note.Create().SetJobID(a.Pub2.ID).SetAuthorID(a.Client.ID).SetBody("x").Exec(client)
		}},
		{"client links a note to a user they cannot see", func() error {
			return c.Note.Create().SetJobID(a.Pub1.ID).SetAuthorID(a.Member.ID).SetBody("x").Exec(client)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tt.db.Sums(t)
			err := tc.run()
			assert.ErrorIs(t, err, rules.ErrForeignLink)
			assert.ErrorIs(t, err, privacy.Deny)
			tt.db.AssertUnchanged(t, before)
		})
	}

	// Controls: the same links to rows the scope can see succeed, so the
	// denials above are about the linked row and nothing else.
	t.Run("links to visible rows succeed", func(t *testing.T) {
		require.NoError(t, c.Note.Create().SetJobID(a.Pub1.ID).SetAuthorID(a.Member.ID).SetBody("ok").Exec(member))
		require.NoError(t, c.Note.Create().SetJobID(a.Draft1.ID).SetAuthorID(a.Manager.ID).SetBody("ok").Exec(manager))
		require.NoError(t, c.Job.UpdateOneID(a.Pub1.ID).AddManagerIDs(a.Manager2.ID).Exec(admin))
		require.NoError(t, c.Job.Create().SetCompanyID(a.C2.ID).SetTitle("ok").SetCreatedByID(a.Admin.ID).
			AddManagerIDs(a.Manager.ID).Exec(admin))
	})
}

// TestUpsertsCannotTouchAnotherTenantsRow: ON CONFLICT … DO UPDATE never
// rewrites a row of another tenant.
func TestUpsertsCannotTouchAnotherTenantsRow(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b := tt.A, tt.B
	c := tt.db.Client
	var bOnly *ent.Company
	pgtest.MustTx(t, tt.sys, c, func(tx *ent.Tx) error {
		bOnly = tx.Company.Create().SetOrgID(b.Org.ID).SetName("b-only").SaveX(tt.sys)
		return nil
	})
	ctx := pgtest.UserContext(t, a.Admin)

	t.Run("a company upsert on (org_id, name) creates in A and leaves B's row alone", func(t *testing.T) {
		bSum := tt.db.RowSum(t, "companies", bOnly.ID)
		b1Sum := tt.db.RowSum(t, "companies", b.C1.ID)
		id, err := c.Company.Create().SetName("b-only").SetArchived(true).
			OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().ID(ctx)
		require.NoError(t, err)
		assert.NotEqual(t, bOnly.ID, id)
		var org int
		require.NoError(t, tt.db.Raw.QueryRow(`SELECT org_id FROM companies WHERE id = $1`, id).Scan(&org))
		assert.Equal(t, a.Org.ID, org)
		// A name both tenants use resolves to A's row.
		id, err = c.Company.Create().SetName("c1").SetArchived(true).
			OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().ID(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.C1.ID, id)
		assert.Equal(t, bSum, tt.db.RowSum(t, "companies", bOnly.ID))
		assert.Equal(t, b1Sum, tt.db.RowSum(t, "companies", b.C1.ID))
	})

	t.Run("a user upsert on the global email is refused by the seam", func(t *testing.T) {
		upserts := map[string]func() error{
			"one": func() error {
				return c.User.Create().SetEmail(b.Member.Email).SetName("hijacked").SetRole(user.RoleAdmin).
					OnConflictColumns(user.FieldEmail).UpdateNewValues().Exec(ctx)
			},
			"bulk": func() error {
				return c.User.CreateBulk(
					c.User.Create().SetEmail("fresh@a.test").SetName("fresh").SetRole(user.RoleMember),
					c.User.Create().SetEmail(b.Member.Email).SetName("hijacked").SetRole(user.RoleAdmin),
				).OnConflictColumns(user.FieldEmail).UpdateNewValues().Exec(ctx)
			},
			"explicit update": func() error {
				return c.User.Create().SetEmail(b.Member.Email).SetName("hijacked").SetRole(user.RoleAdmin).
					OnConflictColumns(user.FieldEmail).Update(func(u *ent.UserUpsert) { u.SetBanned(true) }).Exec(ctx)
			},
		}
		for name, run := range upserts {
			t.Run(name, func(t *testing.T) {
				before := tt.db.Sums(t)
				tt.db.Counter.Reset()
				err := run()
				assert.ErrorIs(t, err, database.ErrUnsafeUpsert)
				tt.db.AssertUnchanged(t, before)
			})
		}
	})

	t.Run("ResolveWithNewValues copies org_id from the inserted row and is refused", func(t *testing.T) {
		// Its SET holds "org_id" = "excluded"."org_id": even narrowed, a
		// statement that assigns org_id from input is not of a safe shape.
		before := tt.db.Sums(t)
		err := c.User.Create().SetEmail(a.Member.Email).SetName("renamed").SetRole(user.RoleMember).
			OnConflict(
				sql.ConflictColumns(user.FieldEmail),
				sql.ResolveWithNewValues(),
				sql.UpdateWhere(sql.EQ(user.FieldOrgID, a.Org.ID)),
			).Exec(ctx)
		assert.ErrorIs(t, err, database.ErrUnsafeUpsert)
		tt.db.AssertUnchanged(t, before)
	})

	t.Run("a user upsert narrowed by UpdateWhere on the scope's org passes the seam and leaves B's row alone", func(t *testing.T) {
		before := tt.db.Sums(t)
		_, err := c.User.Create().SetEmail(b.Member.Email).SetName("hijacked").SetRole(user.RoleAdmin).
			OnConflict(
				sql.ConflictColumns(user.FieldEmail),
				sql.UpdateWhere(sql.EQ(user.FieldOrgID, a.Org.ID)),
			).UpdateNewValues().ID(ctx)
		// The conflicting row is B's, so the DO UPDATE's WHERE is false:
		// PostgreSQL updates nothing and returns no row.
		assert.NotErrorIs(t, err, database.ErrUnsafeUpsert)
		assertNoRowOrRLSRefusal(t, err)
		tt.db.AssertUnchanged(t, before)

		// The same narrowing on an email of A updates A's row.
		id, err := c.User.Create().SetEmail(a.Member.Email).SetName("renamed").SetRole(user.RoleMember).
			OnConflict(
				sql.ConflictColumns(user.FieldEmail),
				sql.UpdateWhere(sql.EQ(user.FieldOrgID, a.Org.ID)),
			).UpdateNewValues().ID(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Member.ID, id)
		got, err := c.User.Get(ctx, a.Member.ID)
		require.NoError(t, err)
		assert.Equal(t, "renamed", got.Name)
		assert.Equal(t, a.Org.ID, got.OrgID)
	})

	// The seam accepts an upsert whose text names org_id after ON CONFLICT;
	// naming it is not narrowing to the scope's tenant.
	t.Run("naming org_id without narrowing to the scope's org does not reach B's row", func(t *testing.T) {
		cases := []struct {
			name   string
			victim *ent.User // a different row of B for each case
			opts   []sql.ConflictOption
		}{
			{"UpdateWhere org_id = B", b.Member, []sql.ConflictOption{
				sql.ConflictColumns(user.FieldEmail),
				sql.ResolveWithNewValues(),
				sql.UpdateWhere(sql.EQ(user.FieldOrgID, b.Org.ID)),
			}},
			{"UpdateWhere org_id <> A", b.Manager2, []sql.ConflictOption{
				sql.ConflictColumns(user.FieldEmail),
				sql.ResolveWithNewValues(),
				sql.UpdateWhere(sql.NEQ(user.FieldOrgID, a.Org.ID)),
			}},
			{"ConflictWhere org_id = A (arbiter inference, not a filter)", b.Client, []sql.ConflictOption{
				sql.ConflictColumns(user.FieldEmail),
				sql.ConflictWhere(sql.EQ(user.FieldOrgID, a.Org.ID)),
				sql.ResolveWithNewValues(),
			}},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before := tt.db.Sums(t)
				tt.db.Counter.Reset()
				err := c.User.Create().SetEmail(tc.victim.Email).SetName("hijacked").SetRole(user.RoleAdmin).
					OnConflict(tc.opts...).Exec(ctx)
				t.Logf("upsert error: %v; statements: %q", err, tt.db.Counter.Statements())
				var (
					org        int
					name, role string
				)
				require.NoError(t, tt.db.Raw.QueryRow(`SELECT org_id, name, role FROM users WHERE id = $1`, tc.victim.ID).
					Scan(&org, &name, &role))
				t.Logf("B's user %d after: org_id=%d (B is %d) name=%q role=%q", tc.victim.ID, org, b.Org.ID, name, role)
				tt.db.AssertUnchanged(t, before, "the upsert rewrote another tenant's row")
			})
		}
	})
}

// TestSystemScopeMutationsAreAudited: every mutation under a system scope
// writes an audit row in its own transaction; outside a transaction it is
// refused; InOrg narrows it to one tenant.
func TestSystemScopeMutationsAreAudited(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b := tt.A, tt.B
	c := tt.db.Client
	const reason = "OPS-7: audit test"
	sysScope, err := scope.System(reason).Scope()
	require.NoError(t, err)
	sys := scope.NewContext(context.Background(), sysScope)

	auditRow := func(t *testing.T, q *ent.AuditEventClient, ctx context.Context, action, object string, id int) *ent.AuditEvent {
		t.Helper()
		evs, err := q.Query().Where(
			auditevent.Reason(reason), auditevent.Action(action), auditevent.Object(object), auditevent.ObjectID(strconv.Itoa(id)),
		).All(ctx)
		require.NoError(t, err)
		require.Len(t, evs, 1, "audit rows for %s %s %d", action, object, id)
		return evs[0]
	}
	rawAuditCount := func(t *testing.T, object string, id int) int {
		t.Helper()
		var n int
		require.NoError(t, tt.db.Raw.QueryRow(
			`SELECT count(*) FROM audit_events WHERE reason = $1 AND object = $2 AND object_id = $3`,
			reason, object, strconv.Itoa(id)).Scan(&n))
		return n
	}

	t.Run("create, update and delete each write an audit row in the same transaction", func(t *testing.T) {
		var created *ent.Company
		pgtest.MustTx(t, sys, c, func(tx *ent.Tx) error {
			var err error
			created, err = tx.Company.Create().SetOrgID(b.Org.ID).SetName("audited").Save(sys)
			require.NoError(t, err)
			ev := auditRow(t, tx.AuditEvent, sys, "create", ent.TypeCompany, created.ID)
			assert.Equal(t, audit.Actor, ev.Actor)
			assert.Equal(t, "system", ev.Actor)
			assert.Equal(t, reason, ev.Reason)
			require.NotNil(t, ev.OrgID)
			assert.Equal(t, b.Org.ID, *ev.OrgID)
			// Not visible outside the transaction before it commits: it
			// is written in the mutation's own transaction.
			assert.Zero(t, rawAuditCount(t, ent.TypeCompany, created.ID))

			require.NoError(t, tx.Job.UpdateOneID(a.Pub1.ID).SetTitle("renamed by system").Exec(sys))
			ev = auditRow(t, tx.AuditEvent, sys, "update", ent.TypeJob, a.Pub1.ID)
			assert.Equal(t, "system", ev.Actor)
			assert.Equal(t, reason, ev.Reason)
			require.NotNil(t, ev.OrgID)
			assert.Equal(t, a.Org.ID, *ev.OrgID)

			noteID := a.InternalNote[a.Draft1.ID].ID
			require.NoError(t, tx.Note.DeleteOneID(noteID).Exec(sys))
			ev = auditRow(t, tx.AuditEvent, sys, "delete", ent.TypeNote, noteID)
			assert.Equal(t, "system", ev.Actor)
			assert.Equal(t, reason, ev.Reason)
			require.NotNil(t, ev.OrgID)
			assert.Equal(t, a.Org.ID, *ev.OrgID)
			return nil
		})
		assert.Equal(t, 1, rawAuditCount(t, ent.TypeCompany, created.ID))
		assert.Equal(t, 1, rawAuditCount(t, ent.TypeNote, a.InternalNote[a.Draft1.ID].ID))
		// B's admin sees the system's change to B's row.
		ev := auditRow(t, c.AuditEvent, pgtest.UserContext(t, b.Admin), "create", ent.TypeCompany, created.ID)
		assert.Equal(t, reason, ev.Reason)
	})

	t.Run("a rolled back transaction leaves neither the change nor its audit row", func(t *testing.T) {
		before := tt.db.Sums(t)
		errRollback := errors.New("roll back")
		var created int
		err := database.WithTx(sys, c, func(tx *ent.Tx) error {
			co, err := tx.Company.Create().SetOrgID(a.Org.ID).SetName("rolled back").Save(sys)
			require.NoError(t, err)
			created = co.ID
			require.NoError(t, tx.Job.UpdateOneID(b.Pub2.ID).SetTitle("rolled back").Exec(sys))
			require.NoError(t, tx.Session.DeleteOneID(b.Session[b.Member.ID].ID).Exec(sys))
			n, err := tx.AuditEvent.Query().Where(auditevent.Reason(reason), auditevent.Object(ent.TypeCompany),
				auditevent.ObjectID(strconv.Itoa(created))).Count(sys)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the audit row exists inside the transaction")
			return errRollback
		})
		require.ErrorIs(t, err, errRollback)
		tt.db.AssertUnchanged(t, before)
		assert.Zero(t, rawAuditCount(t, ent.TypeCompany, created))
	})

	t.Run("outside a transaction it fails with ErrNoTransaction and changes nothing", func(t *testing.T) {
		muts := map[string]func() error{
			"Create": func() error { return c.Company.Create().SetOrgID(a.Org.ID).SetName("no tx").Exec(sys) },
			"CreateBulk": func() error {
				return c.Company.CreateBulk(c.Company.Create().SetOrgID(a.Org.ID).SetName("no tx")).Exec(sys)
			},
			"UpdateOneID":  func() error { return c.Job.UpdateOneID(a.Pub1.ID).SetTitle("no tx").Exec(sys) },
			"Update":       func() error { return c.Job.Update().SetTitle("no tx").Exec(sys) },
			"DeleteOneID":  func() error { return c.Session.DeleteOneID(a.Session[a.Member.ID].ID).Exec(sys) },
			"Delete":       func() error { _, err := c.Session.Delete().Exec(sys); return err },
			"Organization": func() error { return c.Organization.Create().SetName("no tx").SetSlug("no-tx").Exec(sys) },
			"upsert": func() error {
				return c.Company.Create().SetOrgID(a.Org.ID).SetName("c1").
					OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().Exec(sys)
			},
		}
		for name, run := range muts {
			t.Run(name, func(t *testing.T) {
				before := tt.db.Sums(t)
				err := run()
				assert.ErrorIs(t, err, audit.ErrNoTransaction)
				tt.db.AssertUnchanged(t, before)
			})
		}
	})

	t.Run("InOrg narrows queries and bulk mutations to its tenant and cannot create in another", func(t *testing.T) {
		s := loadWorld(t, tt.db)
		inScope, err := scope.System(reason).InOrg(a.Org.ID).Scope()
		require.NoError(t, err)
		inA := scope.NewContext(context.Background(), inScope)

		for _, r := range entityReaders(c) {
			got, err := r.all(inA)
			require.NoError(t, err, r.typ)
			assert.ElementsMatch(t, s.OfOrg(r.typ, a.Org.ID), got, "%s under InOrg(A)", r.typ)
			for _, id := range s.OfOrg(r.typ, b.Org.ID) {
				assert.True(t, ent.IsNotFound(r.get(inA, id)), "%s %d of B under InOrg(A)", r.typ, id)
			}
		}
		for _, e := range edgeReaders(c) {
			got, err := e.traverse(inA, nil)
			require.NoError(t, err, e.String())
			for _, id := range got {
				assert.Equal(t, a.Org.ID, s.OrgOf(e.To, id), "traverse %s under InOrg(A) reached %s %d", e, e.To, id)
			}
		}

		bCompanies := map[int]string{}
		for _, co := range []*ent.Company{b.C1, b.C2} {
			bCompanies[co.ID] = tt.db.RowSum(t, "companies", co.ID)
		}
		var bSessions int
		require.NoError(t, tt.db.Raw.QueryRow(
			`SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.org_id = $1`, b.Org.ID).Scan(&bSessions))
		require.NotZero(t, bSessions)

		pgtest.MustTx(t, inA, c, func(tx *ent.Tx) error {
			n, err := tx.Company.Update().SetArchived(true).Save(inA)
			require.NoError(t, err)
			assert.Equal(t, 2, n, "A's two companies")
			for _, co := range []*ent.Company{a.C1, a.C2} {
				ev := auditRow(t, tx.AuditEvent, inA, "update", ent.TypeCompany, co.ID)
				require.NotNil(t, ev.OrgID)
				assert.Equal(t, a.Org.ID, *ev.OrgID)
			}
			n, err = tx.Session.Delete().Exec(inA)
			require.NoError(t, err)
			assert.Equal(t, len(a.sessions()), n, "A's sessions only")

			err = tx.Company.Create().SetOrgID(b.Org.ID).SetName("planted").Exec(inA)
			assert.ErrorIs(t, err, rules.ErrWrongTenant)
			err = tx.Job.Create().SetCompanyID(b.C1.ID).SetTitle("x").SetCreatedByID(a.Admin.ID).Exec(inA)
			assert.ErrorIs(t, err, rules.ErrForeignLink)
			err = tx.Organization.Create().SetName("planted").SetSlug("planted").Exec(inA)
			assert.ErrorIs(t, err, rules.ErrWrongTenant)
			co, err := tx.Company.Create().SetName("in A").Save(inA)
			require.NoError(t, err)
			assert.Equal(t, a.Org.ID, co.OrgID)
			return nil
		})
		for id, sum := range bCompanies {
			assert.Equal(t, sum, tt.db.RowSum(t, "companies", id), "B's company %d", id)
		}
		var after int
		require.NoError(t, tt.db.Raw.QueryRow(
			`SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.org_id = $1`, b.Org.ID).Scan(&after))
		assert.Equal(t, bSessions, after, "B's sessions")
		var planted int
		require.NoError(t, tt.db.Raw.QueryRow(`SELECT count(*) FROM companies WHERE name = 'planted'`).Scan(&planted))
		assert.Zero(t, planted)
	})
}

// TestAuthenticatorScope: the scope that runs before any user is known reads
// exactly the one user (or session and its user) it was built for, creates
// sessions only for the email's user, and revokes only its own session.
func TestAuthenticatorScope(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b := tt.A, tt.B
	c := tt.db.Client
	authCtx := func(t *testing.T, l scope.AuthLookup) context.Context {
		t.Helper()
		s, err := scope.Authenticator(l)
		require.NoError(t, err)
		return scope.NewContext(context.Background(), s)
	}
	auditCount := func(t *testing.T) int {
		t.Helper()
		var n int
		require.NoError(t, tt.db.Raw.QueryRow(`SELECT count(*) FROM audit_events`).Scan(&n))
		return n
	}

	t.Run("email lookup reads exactly that user", func(t *testing.T) {
		ctx := authCtx(t, scope.AuthLookup{Email: b.Manager.Email})
		assertSees(t, c, loadWorld(t, tt.db), ctx, visibleSets{ent.TypeUser: pgtest.IDs(b.Manager)})
		for _, e := range edgeReaders(c) {
			got, err := e.traverse(ctx, nil)
			require.NoError(t, err, e.String())
			if e.To == ent.TypeUser {
				for _, id := range got {
					assert.Equal(t, b.Manager.ID, id, "traverse %s", e)
				}
			} else {
				assert.Empty(t, got, "traverse %s", e)
			}
		}
	})

	t.Run("token lookup reads exactly that session and its user", func(t *testing.T) {
		s := a.Session[a.Member.ID]
		ctx := authCtx(t, scope.AuthLookup{TokenHash: s.TokenHash})
		assertSees(t, c, loadWorld(t, tt.db), ctx, visibleSets{
			ent.TypeUser:    pgtest.IDs(a.Member),
			ent.TypeSession: pgtest.IDs(s),
		})
		u, err := c.Session.Query().Where(session.TokenHash(s.TokenHash)).QueryUser().Only(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Member.ID, u.ID)
		got, err := c.Session.Query().WithUser().Only(ctx)
		require.NoError(t, err)
		require.NotNil(t, got.Edges.User)
		assert.Equal(t, a.Member.ID, got.Edges.User.ID)
		managed, err := c.User.QueryManagedJobs(a.Member).IDs(ctx)
		require.NoError(t, err)
		assert.Empty(t, managed)
	})

	t.Run("email lookup creates a session for that user only", func(t *testing.T) {
		ctx := authCtx(t, scope.AuthLookup{Email: a.Client.Email})
		audits := auditCount(t)
		s, err := c.Session.Create().SetUserID(a.Client.ID).SetOrgID(a.Client.OrgID).SetTokenHash("login-1").
			SetExpiresAt(time.Now().Add(time.Hour)).Save(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Client.ID, s.UserID)
		assert.Equal(t, audits, auditCount(t), "the authenticator is not audited as a system scope")

		before := tt.db.Sums(t)
		for _, other := range []*ent.User{a.Admin, b.Client} {
			err = c.Session.Create().SetUserID(other.ID).SetOrgID(other.OrgID).SetTokenHash("login-2").
				SetExpiresAt(time.Now().Add(time.Hour)).Exec(ctx)
			assert.ErrorIs(t, err, rules.ErrForeignLink, "session for %s", other.Email)
			assert.ErrorIs(t, err, privacy.Deny)
		}
		// Its own user's session, put in another organization: refused
		// by the tenant-safe key (org_id, user_id), and a session that
		// names none is put in the user's.
		err = c.Session.Create().SetUserID(a.Client.ID).SetOrgID(b.Org.ID).SetTokenHash("login-3").
			SetExpiresAt(time.Now().Add(time.Hour)).Exec(ctx)
		assert.True(t, database.ForeignKeyViolated(err), "a session of %s in organization %d: %v", a.Client.Email, b.Org.ID, err)
		tt.db.AssertUnchanged(t, before)
		unset, err := c.Session.Create().SetUserID(a.Client.ID).SetTokenHash("login-4").
			SetExpiresAt(time.Now().Add(time.Hour)).Save(ctx)
		require.NoError(t, err)
		assert.Equal(t, a.Client.OrgID, unset.OrgID, "a session without an organization is put in its user's")
		before = tt.db.Sums(t)
		// Nor anything else: no revoking, no other entity.
		err = c.Session.DeleteOneID(s.ID).Exec(ctx)
		assert.ErrorIs(t, err, privacy.Deny)
		err = c.User.UpdateOneID(a.Client.ID).SetName("x").Exec(ctx)
		assert.ErrorIs(t, err, privacy.Deny)
		err = c.User.Create().SetOrgID(a.Org.ID).SetEmail("new@a.test").SetName("x").SetRole(user.RoleAdmin).Exec(ctx)
		assert.ErrorIs(t, err, privacy.Deny)
		err = c.Company.Create().SetOrgID(a.Org.ID).SetName("x").Exec(ctx)
		assert.ErrorIs(t, err, privacy.Deny)
		err = c.Session.UpdateOneID(s.ID).SetExpiresAt(time.Now().Add(48 * time.Hour)).Exec(ctx)
		assert.ErrorIs(t, err, privacy.Deny)
		tt.db.AssertUnchanged(t, before)
	})

	t.Run("token lookup deletes its own session only", func(t *testing.T) {
		own := a.Session[a.Manager.ID]
		ctx := authCtx(t, scope.AuthLookup{TokenHash: own.TokenHash})
		before := tt.db.Sums(t)
		for _, other := range []*ent.Session{a.Session[a.Admin.ID], b.Session[b.Manager.ID]} {
			err := c.Session.DeleteOneID(other.ID).Exec(ctx)
			assert.True(t, ent.IsNotFound(err), "session %d: %v", other.ID, err)
		}
		err := c.Session.Create().SetUserID(a.Manager.ID).SetOrgID(a.Manager.OrgID).SetTokenHash("token-created").
			SetExpiresAt(time.Now().Add(time.Hour)).Exec(ctx)
		assert.ErrorIs(t, err, privacy.Deny)
		tt.db.AssertUnchanged(t, before)

		audits := auditCount(t)
		var total int
		require.NoError(t, tt.db.Raw.QueryRow(`SELECT count(*) FROM sessions`).Scan(&total))
		n, err := c.Session.Delete().Exec(ctx)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		var left int
		require.NoError(t, tt.db.Raw.QueryRow(`SELECT count(*) FROM sessions WHERE id = $1`, own.ID).Scan(&left))
		assert.Zero(t, left)
		var after int
		require.NoError(t, tt.db.Raw.QueryRow(`SELECT count(*) FROM sessions`).Scan(&after))
		assert.Equal(t, total-1, after, "every other session is still there")
		assert.Equal(t, audits, auditCount(t))
	})
}

// TestUpsertsCannotTouchARowTheScopeCannotSee: the DO UPDATE of an upsert
// must not reach a row of the scope's own tenant that its role cannot see
// (rule 6: a client sees only their own company). Either the upsert is
// refused, or it leaves the hidden row alone and does not return its id.
func TestUpsertsCannotTouchARowTheScopeCannotSee(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a := tt.A
	c := tt.db.Client
	ctx := pgtest.UserContext(t, a.Client)
	_, err := c.Company.Get(ctx, a.C2.ID)
	require.True(t, ent.IsNotFound(err), "the client must not see C2")

	before := tt.db.Sums(t)
	id, err := c.Company.Create().SetName(a.C2.Name).SetArchived(true).
		OnConflictColumns(company.FieldOrgID, company.FieldName).UpdateNewValues().ID(ctx)
	t.Logf("upsert: id=%d err=%v (hidden company C2 is %d)", id, err, a.C2.ID)
	assert.NotEqual(t, a.C2.ID, id, "the upsert returned the id of a company the client cannot see")
	tt.db.AssertUnchanged(t, before, "a client's upsert rewrote a company it cannot see")
}

// TestUnlinkingCannotChangeAnotherTenantsRows: removing or clearing an edge
// whose foreign key lives on the other side (company.clients sets
// users.company_id to NULL) must not update a row of another tenant. The
// link that would let it cannot exist: a user of A whose company is B.C1 is
// refused by the tenant-safe key users_companies_clients, even to the
// all-tenant system scope (TestTenantSafeKeys tries every key). Unlinking
// A's client from B.C1, or clearing B.C1's clients, leaves A's rows alone.
func TestUnlinkingCannotChangeAnotherTenantsRows(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	a, b := tt.A, tt.B
	c := tt.db.Client
	ctx := pgtest.UserContext(t, b.Admin)
	err := database.WithTx(tt.sys, c, func(tx *ent.Tx) error {
		return tx.User.UpdateOneID(a.Member.ID).SetCompanyID(b.C1.ID).Exec(tt.sys)
	})
	require.True(t, ent.IsConstraintError(err), "a user of A at B.C1: %v", err)
	cases := []struct {
		name string
		run  func() error
	}{
		{"ClearClients", func() error { return c.Company.UpdateOneID(b.C1.ID).ClearClients().Exec(ctx) }},
		{"RemoveClientIDs", func() error { return c.Company.UpdateOneID(b.C1.ID).RemoveClientIDs(a.Client.ID).Exec(ctx) }},
		{"bulk ClearClients", func() error { return c.Company.Update().Where(company.ID(b.C1.ID)).ClearClients().Exec(ctx) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tt.db.RowSum(t, "users", a.Client.ID)
			err := tc.run()
			t.Logf("error: %v", err)
			assert.Equal(t, before, tt.db.RowSum(t, "users", a.Client.ID),
				"tenant B's admin changed tenant A's user %d", a.Client.ID)
			var companyID stdsql.NullInt64
			require.NoError(t, tt.db.Raw.QueryRow(`SELECT company_id FROM users WHERE id = $1`, a.Client.ID).Scan(&companyID))
			assert.Equal(t, int64(a.C1.ID), companyID.Int64, "A's client lost its company")
		})
	}
	// B's own client is B's business, but a wholesale clear is refused under
	// a tenant scope (it could reach rows the scope cannot see); removing
	// the ids the scope sees does reach it.
	err = c.Company.UpdateOneID(b.C1.ID).ClearClients().Exec(ctx)
	require.ErrorIs(t, err, rules.ErrForeignLink)
	require.NoError(t, c.Company.UpdateOneID(b.C1.ID).RemoveClientIDs(b.Client.ID).Exec(ctx))
	got, err := c.User.Get(ctx, b.Client.ID)
	require.NoError(t, err)
	assert.Nil(t, got.CompanyID)
}
