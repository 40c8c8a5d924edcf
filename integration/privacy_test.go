package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/auditevent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/scope"
)

// ---------------------------------------------------------------------------
// Fixture: two tenants with users of every role, companies, jobs in every
// status, managers, public and internal notes, sessions, and the audit events
// the seeding wrote. No row links the two tenants: the tenant-safe foreign
// keys refuse such a link under every scope (TestTenantSafeKeys).
// ---------------------------------------------------------------------------

// tenantRows is one tenant of the fixture.
type tenantRows struct {
	Org *ent.Organization

	Admin, Manager, Manager2, Member, Client, Banned *ent.User

	C1, C2 *ent.Company

	// Pub1 (C1, managed by Manager), Pub2 (C2, by Manager2), Draft1 (C1,
	// by Manager), Draft2 (C2, by Manager2), DraftNobody (C1, no manager),
	// Archived (C1, managed by Member).
	Pub1, Pub2, Draft1, Draft2, DraftNobody, Archived *ent.Job

	// One public note (by Admin) and one internal note (by Manager) per job.
	PublicNote, InternalNote map[int]*ent.Note
	// One session per user.
	Session map[int]*ent.Session
}

func (r *tenantRows) users() []*ent.User {
	return []*ent.User{r.Admin, r.Manager, r.Manager2, r.Member, r.Client, r.Banned}
}

func (r *tenantRows) jobs() []*ent.Job {
	return []*ent.Job{r.Pub1, r.Pub2, r.Draft1, r.Draft2, r.DraftNobody, r.Archived}
}

func (r *tenantRows) notes() []*ent.Note {
	var ns []*ent.Note
	for _, j := range r.jobs() {
		ns = append(ns, r.PublicNote[j.ID], r.InternalNote[j.ID])
	}
	return ns
}

func (r *tenantRows) sessions() []*ent.Session {
	var ss []*ent.Session
	for _, u := range r.users() {
		ss = append(ss, r.Session[u.ID])
	}
	return ss
}

// twoTenants is the seeded database.
type twoTenants struct {
	db   *pgtest.DB
	sys  context.Context
	A, B *tenantRows
}

// seedTwoTenants builds the fixture under an all-tenant system scope, in one
// transaction, and resets the statement counter.
func seedTwoTenants(t *testing.T) *twoTenants {
	t.Helper()
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	tt := &twoTenants{db: db, sys: sys}
	pgtest.MustTx(t, sys, db.Client, func(tx *ent.Tx) error {
		tt.A = seedTenant(t, sys, tx, "a")
		tt.B = seedTenant(t, sys, tx, "b")
		return nil
	})
	db.Counter.Reset()
	return tt
}

// seedTenant creates one tenant of the fixture; its sessions are created by
// logging in (pgtest.LoginContext), not by the system scope.
func seedTenant(tb testing.TB, ctx context.Context, tx *ent.Tx, slug string) *tenantRows {
	tb.Helper()
	r := &tenantRows{
		PublicNote:   map[int]*ent.Note{},
		InternalNote: map[int]*ent.Note{},
		Session:      map[int]*ent.Session{},
	}
	r.Org = tx.Organization.Create().SetName("Org " + slug).SetSlug(slug).SaveX(ctx)
	r.C1 = tx.Company.Create().SetOrgID(r.Org.ID).SetName("c1").SaveX(ctx)
	r.C2 = tx.Company.Create().SetOrgID(r.Org.ID).SetName("c2").SaveX(ctx)
	mkUser := func(label string, role user.Role) *ent.UserCreate {
		return tx.User.Create().SetOrgID(r.Org.ID).SetEmail(label + "@" + slug + ".test").SetName(label).
			SetPhone("555-" + label).SetRole(role)
	}
	r.Admin = mkUser("admin", user.RoleAdmin).SaveX(ctx)
	r.Manager = mkUser("manager", user.RoleManager).SaveX(ctx)
	r.Manager2 = mkUser("manager2", user.RoleManager).SaveX(ctx)
	r.Member = mkUser("member", user.RoleMember).SaveX(ctx)
	r.Client = mkUser("client", user.RoleClient).SetCompanyID(r.C1.ID).SaveX(ctx)
	r.Banned = mkUser("banned", user.RoleMember).SetBanned(true).SaveX(ctx)
	mkJob := func(title string, co *ent.Company, st job.Status, managers ...*ent.User) *ent.Job {
		c := tx.Job.Create().SetOrgID(r.Org.ID).SetCompanyID(co.ID).SetTitle(title).SetStatus(st).
			SetSalaryMax(1000).SetCreatedByID(r.Admin.ID)
		for _, m := range managers {
			c.AddManagerIDs(m.ID)
		}
		return c.SaveX(ctx)
	}
	r.Pub1 = mkJob("pub1", r.C1, job.StatusPublished, r.Manager)
	r.Pub2 = mkJob("pub2", r.C2, job.StatusPublished, r.Manager2)
	r.Draft1 = mkJob("draft1", r.C1, job.StatusDraft, r.Manager)
	r.Draft2 = mkJob("draft2", r.C2, job.StatusDraft, r.Manager2)
	r.DraftNobody = mkJob("draft-nobody", r.C1, job.StatusDraft)
	r.Archived = mkJob("archived", r.C1, job.StatusArchived, r.Member)
	for _, j := range r.jobs() {
		r.PublicNote[j.ID] = tx.Note.Create().SetOrgID(r.Org.ID).SetJobID(j.ID).SetAuthorID(r.Admin.ID).
			SetBody("public on " + j.Title).SaveX(ctx)
		r.InternalNote[j.ID] = tx.Note.Create().SetOrgID(r.Org.ID).SetJobID(j.ID).SetAuthorID(r.Manager.ID).
			SetBody("internal on " + j.Title).SetInternal(true).SaveX(ctx)
	}
	for _, u := range r.users() {
		r.Session[u.ID] = tx.Session.Create().SetUserID(u.ID).SetOrgID(u.OrgID).SetTokenHash("tok-" + slug + "-" + u.Name).
			SetExpiresAt(time.Now().Add(time.Hour)).SaveX(pgtest.LoginContext(tb, u.Email))
	}
	return r
}

// ---------------------------------------------------------------------------
// Readers: every entity's All/Count/Get, and every edge's traversal and
// eager load, behind one shape so that tests can loop over them.
// ---------------------------------------------------------------------------

type entityReader struct {
	typ   string
	all   func(ctx context.Context) ([]int, error)
	count func(ctx context.Context) (int, error)
	get   func(ctx context.Context, id int) error
}

func entityReaders(c *ent.Client) []entityReader {
	return []entityReader{
		{ent.TypeOrganization,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Organization.Query().All(ctx)
				return pgtest.IDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Organization.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Organization.Get(ctx, id); return err }},
		{ent.TypeUser,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.User.Query().All(ctx)
				return pgtest.IDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.User.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.User.Get(ctx, id); return err }},
		{ent.TypeCompany,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Company.Query().All(ctx)
				return pgtest.IDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Company.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Company.Get(ctx, id); return err }},
		{ent.TypeJob,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Job.Query().All(ctx)
				return pgtest.IDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Job.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Job.Get(ctx, id); return err }},
		{ent.TypeNote,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Note.Query().All(ctx)
				return pgtest.IDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Note.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Note.Get(ctx, id); return err }},
		{ent.TypeSession,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Session.Query().All(ctx)
				return pgtest.IDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Session.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Session.Get(ctx, id); return err }},
		{ent.TypeAuditEvent,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.AuditEvent.Query().All(ctx)
				return pgtest.IDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.AuditEvent.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.AuditEvent.Get(ctx, id); return err }},
	}
}

// edgeReader reads one edge: traverse follows it from the parents the scope
// can see (narrowed to the given parent ids if not nil), eager loads it on
// every parent the scope can see and returns parent id -> child ids.
type edgeReader struct {
	world.Edge
	traverse func(ctx context.Context, parents []int) ([]int, error)
	eager    func(ctx context.Context) (map[int][]int, error)
}

// schemaEdge returns world's edge from typ named name.
func schemaEdge(typ, name string) world.Edge {
	for _, e := range world.EdgesFrom(typ) {
		if e.Name == name {
			return e
		}
	}
	panic("world has no edge " + typ + "." + name)
}

// eagerMany and eagerOne collect an eager load's result: the ids of each
// parent's children.
func eagerMany[P, C interface{ GetID() int }](ps []P, children func(P) []C) map[int][]int {
	out := make(map[int][]int, len(ps))
	for _, p := range ps {
		out[p.GetID()] = pgtest.IDs(children(p)...)
	}
	return out
}

func eagerOne[P interface{ GetID() int }, C interface {
	comparable
	GetID() int
}](ps []P, child func(P) C) map[int][]int {
	out := make(map[int][]int, len(ps))
	var zero C
	for _, p := range ps {
		out[p.GetID()] = []int{}
		if c := child(p); c != zero {
			out[p.GetID()] = []int{c.GetID()}
		}
	}
	return out
}

func edgeReaders(c *ent.Client) []edgeReader {
	oq := func(p []int) *ent.OrganizationQuery {
		q := c.Organization.Query()
		if p != nil {
			q.Where(organization.IDIn(p...))
		}
		return q
	}
	uq := func(p []int) *ent.UserQuery {
		q := c.User.Query()
		if p != nil {
			q.Where(user.IDIn(p...))
		}
		return q
	}
	cq := func(p []int) *ent.CompanyQuery {
		q := c.Company.Query()
		if p != nil {
			q.Where(company.IDIn(p...))
		}
		return q
	}
	jq := func(p []int) *ent.JobQuery {
		q := c.Job.Query()
		if p != nil {
			q.Where(job.IDIn(p...))
		}
		return q
	}
	nq := func(p []int) *ent.NoteQuery {
		q := c.Note.Query()
		if p != nil {
			q.Where(note.IDIn(p...))
		}
		return q
	}
	sq := func(p []int) *ent.SessionQuery {
		q := c.Session.Query()
		if p != nil {
			q.Where(session.IDIn(p...))
		}
		return q
	}
	type ctxT = context.Context
	return []edgeReader{
		// Organization
		{schemaEdge(ent.TypeOrganization, organization.EdgeUsers),
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryUsers().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithUsers().All(ctx)
				return eagerMany(xs, func(x *ent.Organization) []*ent.User { return x.Edges.Users }), err
			}},
		{schemaEdge(ent.TypeOrganization, organization.EdgeCompanies),
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryCompanies().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithCompanies().All(ctx)
				return eagerMany(xs, func(x *ent.Organization) []*ent.Company { return x.Edges.Companies }), err
			}},
		{schemaEdge(ent.TypeOrganization, organization.EdgeJobs),
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithJobs().All(ctx)
				return eagerMany(xs, func(x *ent.Organization) []*ent.Job { return x.Edges.Jobs }), err
			}},
		{schemaEdge(ent.TypeOrganization, organization.EdgeNotes),
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryNotes().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithNotes().All(ctx)
				return eagerMany(xs, func(x *ent.Organization) []*ent.Note { return x.Edges.Notes }), err
			}},
		{schemaEdge(ent.TypeOrganization, organization.EdgeSessions),
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QuerySessions().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithSessions().All(ctx)
				return eagerMany(xs, func(x *ent.Organization) []*ent.Session { return x.Edges.Sessions }), err
			}},
		// User
		{schemaEdge(ent.TypeUser, user.EdgeOrg),
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithOrg().All(ctx)
				return eagerOne(xs, func(x *ent.User) *ent.Organization { return x.Edges.Org }), err
			}},
		{schemaEdge(ent.TypeUser, user.EdgeCompany),
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryCompany().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithCompany().All(ctx)
				return eagerOne(xs, func(x *ent.User) *ent.Company { return x.Edges.Company }), err
			}},
		{schemaEdge(ent.TypeUser, user.EdgeManagedJobs),
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryManagedJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithManagedJobs().All(ctx)
				return eagerMany(xs, func(x *ent.User) []*ent.Job { return x.Edges.ManagedJobs }), err
			}},
		{schemaEdge(ent.TypeUser, user.EdgeNotes),
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryNotes().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithNotes().All(ctx)
				return eagerMany(xs, func(x *ent.User) []*ent.Note { return x.Edges.Notes }), err
			}},
		{schemaEdge(ent.TypeUser, user.EdgeSessions),
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QuerySessions().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithSessions().All(ctx)
				return eagerMany(xs, func(x *ent.User) []*ent.Session { return x.Edges.Sessions }), err
			}},
		{schemaEdge(ent.TypeUser, user.EdgeCreatedJobs),
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryCreatedJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithCreatedJobs().All(ctx)
				return eagerMany(xs, func(x *ent.User) []*ent.Job { return x.Edges.CreatedJobs }), err
			}},
		// Company
		{schemaEdge(ent.TypeCompany, company.EdgeOrg),
			func(ctx ctxT, p []int) ([]int, error) { return cq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Company.Query().WithOrg().All(ctx)
				return eagerOne(xs, func(x *ent.Company) *ent.Organization { return x.Edges.Org }), err
			}},
		{schemaEdge(ent.TypeCompany, company.EdgeJobs),
			func(ctx ctxT, p []int) ([]int, error) { return cq(p).QueryJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Company.Query().WithJobs().All(ctx)
				return eagerMany(xs, func(x *ent.Company) []*ent.Job { return x.Edges.Jobs }), err
			}},
		{schemaEdge(ent.TypeCompany, company.EdgeClients),
			func(ctx ctxT, p []int) ([]int, error) { return cq(p).QueryClients().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Company.Query().WithClients().All(ctx)
				return eagerMany(xs, func(x *ent.Company) []*ent.User { return x.Edges.Clients }), err
			}},
		// Job
		{schemaEdge(ent.TypeJob, job.EdgeOrg),
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithOrg().All(ctx)
				return eagerOne(xs, func(x *ent.Job) *ent.Organization { return x.Edges.Org }), err
			}},
		{schemaEdge(ent.TypeJob, job.EdgeCompany),
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryCompany().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithCompany().All(ctx)
				return eagerOne(xs, func(x *ent.Job) *ent.Company { return x.Edges.Company }), err
			}},
		{schemaEdge(ent.TypeJob, job.EdgeManagers),
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryManagers().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithManagers().All(ctx)
				return eagerMany(xs, func(x *ent.Job) []*ent.User { return x.Edges.Managers }), err
			}},
		{schemaEdge(ent.TypeJob, job.EdgeNotes),
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryNotes().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithNotes().All(ctx)
				return eagerMany(xs, func(x *ent.Job) []*ent.Note { return x.Edges.Notes }), err
			}},
		{schemaEdge(ent.TypeJob, job.EdgeCreator),
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryCreator().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithCreator().All(ctx)
				return eagerOne(xs, func(x *ent.Job) *ent.User { return x.Edges.Creator }), err
			}},
		// Note
		{schemaEdge(ent.TypeNote, note.EdgeOrg),
			func(ctx ctxT, p []int) ([]int, error) { return nq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Note.Query().WithOrg().All(ctx)
				return eagerOne(xs, func(x *ent.Note) *ent.Organization { return x.Edges.Org }), err
			}},
		{schemaEdge(ent.TypeNote, note.EdgeJob),
			func(ctx ctxT, p []int) ([]int, error) { return nq(p).QueryJob().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Note.Query().WithJob().All(ctx)
				return eagerOne(xs, func(x *ent.Note) *ent.Job { return x.Edges.Job }), err
			}},
		{schemaEdge(ent.TypeNote, note.EdgeAuthor),
			func(ctx ctxT, p []int) ([]int, error) { return nq(p).QueryAuthor().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Note.Query().WithAuthor().All(ctx)
				return eagerOne(xs, func(x *ent.Note) *ent.User { return x.Edges.Author }), err
			}},
		// Session
		{schemaEdge(ent.TypeSession, session.EdgeOrg),
			func(ctx ctxT, p []int) ([]int, error) { return sq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Session.Query().WithOrg().All(ctx)
				return eagerOne(xs, func(x *ent.Session) *ent.Organization { return x.Edges.Org }), err
			}},
		{schemaEdge(ent.TypeSession, session.EdgeUser),
			func(ctx ctxT, p []int) ([]int, error) { return sq(p).QueryUser().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Session.Query().WithUser().All(ctx)
				return eagerOne(xs, func(x *ent.Session) *ent.User { return x.Edges.User }), err
			}},
	}
}

// ---------------------------------------------------------------------------
// Model: integration/world, the one plain-Go model of docs/design.md
// section 3, over the database read with raw SQL (no ent, no privacy).
// ---------------------------------------------------------------------------

// loadWorld reads the fixture back as world's snapshot.
func loadWorld(t *testing.T, db *pgtest.DB) *world.Snapshot {
	t.Helper()
	s, err := world.Load(context.Background(), db.Raw)
	require.NoError(t, err)
	return s
}

// viewerOf is u's user scope, as the model sees it: u as stored.
func viewerOf(s *world.Snapshot, u *ent.User) world.Viewer {
	row, ok := s.Users[u.ID]
	if !ok {
		panic(fmt.Sprintf("user %d is not in the snapshot", u.ID))
	}
	return world.UserViewer(row)
}

// checkComposition asserts rule 7 for v on every edge: a traversal and an
// eager load return exactly the linked rows that a direct query for them
// would return, from every parent v can see, and nothing from parents v
// cannot see.
func checkComposition(t *testing.T, c *ent.Client, s *world.Snapshot, v world.Viewer, ctx context.Context, hidden map[string][]int) {
	t.Helper()
	readers := edgeReaders(c)
	read := make([]world.Edge, len(readers))
	for i, e := range readers {
		read[i] = e.Edge
	}
	require.ElementsMatch(t, world.Edges, read, "edgeReaders must read every edge of the schema")
	for _, e := range readers {
		parents := s.Visible(v, e.From)
		got, err := e.traverse(ctx, nil)
		require.NoError(t, err, "traverse %s", e)
		assert.ElementsMatch(t, s.Reach(v, e.Edge, parents), got, "traverse %s from every visible parent", e)

		if hp := hidden[e.From]; len(hp) > 0 {
			got, err := e.traverse(ctx, hp)
			require.NoError(t, err, "traverse %s from hidden parents", e)
			assert.Empty(t, got, "traverse %s from parents the scope cannot see", e)
		}

		loaded, err := e.eager(ctx)
		require.NoError(t, err, "eager %s", e)
		assert.ElementsMatch(t, parents, slices.Collect(maps.Keys(loaded)), "eager %s: parents", e)
		for _, p := range parents {
			assert.ElementsMatch(t, s.Reach(v, e.Edge, []int{p}), loaded[p], "eager %s of %s %d", e, e.From, p)
		}
	}
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

// TestTenantIsolationForEveryEntity: an admin of tenant A (who sees the most)
// never sees a row of tenant B, by any query path, for any entity. (No row
// of A links to a row of B: the tenant-safe keys refuse it,
// TestTenantSafeKeys.)
func TestTenantIsolationForEveryEntity(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	s := loadWorld(t, tt.db)
	a, b := tt.A, tt.B
	ctx := pgtest.UserContext(t, a.Admin)
	orgA, orgB := a.Org.ID, b.Org.ID

	// The fixture must really hold rows of B for every entity, or this
	// test proves nothing.
	for _, r := range entityReaders(tt.db.Client) {
		require.NotEmpty(t, s.OfOrg(r.typ, orgB), "fixture: no %s rows in tenant B", r.typ)
	}

	for _, r := range entityReaders(tt.db.Client) {
		t.Run(r.typ, func(t *testing.T) {
			want := s.OfOrg(r.typ, orgA)
			require.NotEmpty(t, want)

			t.Run("All returns every row of A and none of B", func(t *testing.T) {
				got, err := r.all(ctx)
				require.NoError(t, err)
				assert.ElementsMatch(t, want, got)
				for _, id := range got {
					assert.Equal(t, orgA, s.OrgOf(r.typ, id), "%s %d belongs to another tenant", r.typ, id)
				}
			})
			t.Run("Count counts A only", func(t *testing.T) {
				n, err := r.count(ctx)
				require.NoError(t, err)
				assert.Equal(t, len(want), n)
			})
			t.Run("Get of every row of B is not found like a missing row", func(t *testing.T) {
				for _, id := range s.OfOrg(r.typ, orgB) {
					err := r.get(ctx, id)
					require.Error(t, err, "%s %d of tenant B", r.typ, id)
					assert.True(t, ent.IsNotFound(err), "%s %d: want not found, got %v", r.typ, id, err)
				}
				err := r.get(ctx, pgtest.MissingID)
				assert.True(t, ent.IsNotFound(err), "missing %s: %v", r.typ, err)
				for _, id := range want {
					assert.NoError(t, r.get(ctx, id), "%s %d of tenant A", r.typ, id)
				}
			})
		})
	}

	t.Run("traversals and eager loads of every edge", func(t *testing.T) {
		hidden := map[string][]int{}
		for _, r := range entityReaders(tt.db.Client) {
			hidden[r.typ] = s.OfOrg(r.typ, orgB)
		}
		// Explicitly: nothing of B, whatever links A's rows hold.
		for _, e := range edgeReaders(tt.db.Client) {
			got, err := e.traverse(ctx, nil)
			require.NoError(t, err, "traverse %s", e)
			for _, id := range got {
				assert.Equal(t, orgA, s.OrgOf(e.To, id), "traverse %s reached %s %d of another tenant", e, e.To, id)
			}
			loaded, err := e.eager(ctx)
			require.NoError(t, err, "eager %s", e)
			for p, cs := range loaded {
				assert.Equal(t, orgA, s.OrgOf(e.From, p), "eager %s: parent %d of another tenant", e, p)
				for _, id := range cs {
					assert.Equal(t, orgA, s.OrgOf(e.To, id), "eager %s reached %s %d of another tenant", e, e.To, id)
				}
			}
		}
		checkComposition(t, tt.db.Client, s, viewerOf(s, a.Admin), ctx, hidden)
	})

	t.Run("traversals starting from B's rows by id go nowhere", func(t *testing.T) {
		n, err := tt.db.Company.Query().Where(company.ID(b.C1.ID)).QueryJobs().Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		n, err = tt.db.User.Query().Where(user.ID(b.Manager.ID)).QueryManagedJobs().Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
	})

	t.Run("a deep eager load holds nothing of B at any level", func(t *testing.T) {
		orgs, err := tt.db.Organization.Query().
			WithUsers(func(q *ent.UserQuery) {
				q.WithCompany(func(q *ent.CompanyQuery) { q.WithJobs().WithClients() }).
					WithManagedJobs(func(q *ent.JobQuery) { q.WithCompany().WithManagers() }).
					WithNotes(func(q *ent.NoteQuery) { q.WithJob() }).
					WithSessions().
					WithCreatedJobs()
			}).
			WithJobs(func(q *ent.JobQuery) {
				q.WithCompany(func(q *ent.CompanyQuery) { q.WithClients() }).
					WithManagers(func(q *ent.UserQuery) { q.WithManagedJobs() }).
					WithNotes(func(q *ent.NoteQuery) { q.WithAuthor().WithJob() }).
					WithCreator()
			}).
			WithNotes(func(q *ent.NoteQuery) {
				q.WithJob(func(q *ent.JobQuery) { q.WithManagers().WithCompany() }).
					WithAuthor(func(q *ent.UserQuery) { q.WithCompany() })
			}).
			All(ctx)
		require.NoError(t, err)
		require.Len(t, orgs, 1)
		var n int
		walkEdges(orgs, func(typ string, id int) {
			n++
			assert.Equal(t, orgA, s.OrgOf(typ, id), "%s %d of another tenant in a deep eager load", typ, id)
		})
		assert.Greater(t, n, 50, "the deep load should reach many rows")
	})

	t.Run("audit events of B and of no tenant stay hidden", func(t *testing.T) {
		n, err := tt.db.AuditEvent.Query().Where(auditevent.OrgIDIsNil()).Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		n, err = tt.db.AuditEvent.Query().Where(auditevent.OrgID(orgB)).Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}

// walkEdges visits every row loaded under orgs, at every level.
func walkEdges(orgs []*ent.Organization, visit func(typ string, id int)) {
	var (
		vu func(*ent.User)
		vc func(*ent.Company)
		vj func(*ent.Job)
		vn func(*ent.Note)
	)
	vu = func(u *ent.User) {
		if u == nil {
			return
		}
		visit(ent.TypeUser, u.ID)
		vc(u.Edges.Company)
		for _, j := range u.Edges.ManagedJobs {
			vj(j)
		}
		for _, n := range u.Edges.Notes {
			vn(n)
		}
		for _, s := range u.Edges.Sessions {
			visit(ent.TypeSession, s.ID)
		}
		for _, j := range u.Edges.CreatedJobs {
			vj(j)
		}
	}
	vc = func(c *ent.Company) {
		if c == nil {
			return
		}
		visit(ent.TypeCompany, c.ID)
		for _, j := range c.Edges.Jobs {
			vj(j)
		}
		for _, u := range c.Edges.Clients {
			vu(u)
		}
	}
	vj = func(j *ent.Job) {
		if j == nil {
			return
		}
		visit(ent.TypeJob, j.ID)
		vc(j.Edges.Company)
		for _, u := range j.Edges.Managers {
			vu(u)
		}
		for _, n := range j.Edges.Notes {
			vn(n)
		}
		vu(j.Edges.Creator)
	}
	vn = func(n *ent.Note) {
		if n == nil {
			return
		}
		visit(ent.TypeNote, n.ID)
		vj(n.Edges.Job)
		vu(n.Edges.Author)
	}
	for _, o := range orgs {
		visit(ent.TypeOrganization, o.ID)
		for _, u := range o.Edges.Users {
			vu(u)
		}
		for _, j := range o.Edges.Jobs {
			vj(j)
		}
		for _, n := range o.Edges.Notes {
			vn(n)
		}
		for _, c := range o.Edges.Companies {
			vc(c)
		}
	}
}

// visibleSets is what one scope should see, entity by entity.
type visibleSets map[string][]int

// assertSees checks All, Count and Get of every entity against want, and
// that every row of the database outside want is not found by Get.
func assertSees(t *testing.T, c *ent.Client, s *world.Snapshot, ctx context.Context, want visibleSets) {
	t.Helper()
	for _, r := range entityReaders(c) {
		w := want[r.typ]
		got, err := r.all(ctx)
		require.NoError(t, err, r.typ)
		assert.ElementsMatch(t, w, got, "%s: All", r.typ)
		n, err := r.count(ctx)
		require.NoError(t, err, r.typ)
		assert.Equal(t, len(w), n, "%s: Count", r.typ)
		for _, id := range s.IDs(r.typ) {
			err := r.get(ctx, id)
			if slices.Contains(w, id) {
				assert.NoError(t, err, "%s %d: Get", r.typ, id)
			} else {
				assert.True(t, ent.IsNotFound(err), "%s %d: Get should be not found, got %v", r.typ, id, err)
			}
		}
	}
}

// TestRowScopingRules checks each rule of docs/design.md section 3, one subtest per
// rule, in both tenants, with explicit expectations written from the
// fixture (and, for rule 7, from the model).
func TestRowScopingRules(t *testing.T) {
	t.Parallel()
	tt := seedTwoTenants(t)
	s := loadWorld(t, tt.db)
	c := tt.db.Client
	tenants := map[string]*tenantRows{"A": tt.A, "B": tt.B}

	t.Run("1 no scope fails and the system scope sees every row", func(t *testing.T) {
		for _, r := range entityReaders(c) {
			_, err := r.all(context.Background())
			assert.ErrorIs(t, err, scope.ErrNoScope, r.typ)
			got, err := r.all(tt.sys)
			require.NoError(t, err, r.typ)
			assert.ElementsMatch(t, s.IDs(r.typ), got, "%s: system scope", r.typ)
		}
	})

	t.Run("2 every row a user sees belongs to their tenant", func(t *testing.T) {
		for _, tn := range tenants {
			for _, u := range tn.users() {
				ctx := pgtest.UserContext(t, u)
				for _, r := range entityReaders(c) {
					got, err := r.all(ctx)
					require.NoError(t, err)
					for _, id := range got {
						assert.Equal(t, u.OrgID, s.OrgOf(r.typ, id), "user %s of org %d sees %s %d", u.Email, u.OrgID, r.typ, id)
					}
				}
			}
		}
	})

	for name, tn := range tenants {
		t.Run("3 a banned user sees only their own user row and their organization/"+name, func(t *testing.T) {
			assertSees(t, c, s, pgtest.UserContext(t, tn.Banned), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         pgtest.IDs(tn.Banned),
			})
		})
	}

	for name, tn := range tenants {
		t.Run("4 an admin sees every row of the organization, audit events included/"+name, func(t *testing.T) {
			require.NotEmpty(t, s.OfOrg(ent.TypeAuditEvent, tn.Org.ID))
			assertSees(t, c, s, pgtest.UserContext(t, tn.Admin), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         pgtest.IDs(tn.users()...),
				ent.TypeCompany:      pgtest.IDs(tn.C1, tn.C2),
				ent.TypeJob:          pgtest.IDs(tn.jobs()...),
				ent.TypeNote:         pgtest.IDs(tn.notes()...),
				ent.TypeSession:      pgtest.IDs(tn.sessions()...),
				ent.TypeAuditEvent:   s.OfOrg(ent.TypeAuditEvent, tn.Org.ID),
			})
		})
	}

	for name, tn := range tenants {
		// Published jobs of the tenant.
		published := []*ent.Job{tn.Pub1, tn.Pub2}
		publicNotes := []*ent.Note{tn.PublicNote[tn.Pub1.ID], tn.PublicNote[tn.Pub2.ID]}
		t.Run("5 a manager sees all companies and users, published and managed jobs, all notes on them/"+name, func(t *testing.T) {
			notes := append(slices.Clone(publicNotes),
				tn.InternalNote[tn.Pub1.ID], tn.InternalNote[tn.Pub2.ID],
				tn.PublicNote[tn.Draft1.ID], tn.InternalNote[tn.Draft1.ID])
			assertSees(t, c, s, pgtest.UserContext(t, tn.Manager), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         pgtest.IDs(tn.users()...),
				ent.TypeCompany:      pgtest.IDs(tn.C1, tn.C2),
				ent.TypeJob:          pgtest.IDs(append(slices.Clone(published), tn.Draft1)...),
				ent.TypeNote:         pgtest.IDs(notes...),
				ent.TypeSession:      pgtest.IDs(tn.Session[tn.Manager.ID]),
			})
			// Manager2 manages another draft: the managed-jobs half of the
			// rule follows the user, not the role.
			notes2 := append(slices.Clone(publicNotes),
				tn.InternalNote[tn.Pub1.ID], tn.InternalNote[tn.Pub2.ID],
				tn.PublicNote[tn.Draft2.ID], tn.InternalNote[tn.Draft2.ID])
			assertSees(t, c, s, pgtest.UserContext(t, tn.Manager2), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         pgtest.IDs(tn.users()...),
				ent.TypeCompany:      pgtest.IDs(tn.C1, tn.C2),
				ent.TypeJob:          pgtest.IDs(append(slices.Clone(published), tn.Draft2)...),
				ent.TypeNote:         pgtest.IDs(notes2...),
				ent.TypeSession:      pgtest.IDs(tn.Session[tn.Manager2.ID]),
			})
		})
		t.Run("5 a member sees all companies and users, published and managed jobs, public notes on them/"+name, func(t *testing.T) {
			assertSees(t, c, s, pgtest.UserContext(t, tn.Member), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         pgtest.IDs(tn.users()...),
				ent.TypeCompany:      pgtest.IDs(tn.C1, tn.C2),
				ent.TypeJob:          pgtest.IDs(append(slices.Clone(published), tn.Archived)...),
				ent.TypeNote:         pgtest.IDs(append(slices.Clone(publicNotes), tn.PublicNote[tn.Archived.ID])...),
				ent.TypeSession:      pgtest.IDs(tn.Session[tn.Member.ID]),
			})
		})
	}

	for name, tn := range tenants {
		t.Run("6 a client sees their company, its published jobs, public notes on them, themselves and those jobs' managers/"+name, func(t *testing.T) {
			assertSees(t, c, s, pgtest.UserContext(t, tn.Client), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				// Not Member (manages an archived job of C1), not
				// Manager2 (manages jobs of C2 only).
				ent.TypeUser:    pgtest.IDs(tn.Client, tn.Manager),
				ent.TypeCompany: pgtest.IDs(tn.C1),
				ent.TypeJob:     pgtest.IDs(tn.Pub1),
				ent.TypeNote:    pgtest.IDs(tn.PublicNote[tn.Pub1.ID]),
				ent.TypeSession: pgtest.IDs(tn.Session[tn.Client.ID]),
			})
		})
	}

	t.Run("7 traversals and eager loads return exactly what direct queries would", func(t *testing.T) {
		for _, tn := range tenants {
			for _, u := range tn.users() {
				t.Run(u.Email, func(t *testing.T) {
					v := viewerOf(s, u)
					hidden := map[string][]int{}
					for _, r := range entityReaders(c) {
						for _, id := range s.IDs(r.typ) {
							if !s.Sees(v, r.typ, id) {
								hidden[r.typ] = append(hidden[r.typ], id)
							}
						}
					}
					checkComposition(t, c, s, v, pgtest.UserContext(t, u), hidden)
				})
			}
		}
	})
}
