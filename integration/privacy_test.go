package integration

import (
	"context"
	"database/sql"
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
		tt.A = seedTenant(sys, tx, "a")
		tt.B = seedTenant(sys, tx, "b")
		return nil
	})
	db.Counter.Reset()
	return tt
}

// loginContext is the authenticator scope of a login by email: sessions are
// created by logging in, not by the system scope.
func loginContext(email string) context.Context {
	s, err := scope.Authenticator(scope.AuthLookup{Email: email})
	if err != nil {
		panic(err)
	}
	return scope.NewContext(context.Background(), s)
}

func seedTenant(ctx context.Context, tx *ent.Tx, slug string) *tenantRows {
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
		r.Session[u.ID] = tx.Session.Create().SetUserID(u.ID).SetTokenHash("tok-" + slug + "-" + u.Name).
			SetExpiresAt(time.Now().Add(time.Hour)).SaveX(loginContext(u.Email))
	}
	return r
}

func userIDs(xs ...*ent.User) []int { return mapIDs(xs, func(x *ent.User) int { return x.ID }) }
func companyIDs(xs ...*ent.Company) []int {
	return mapIDs(xs, func(x *ent.Company) int { return x.ID })
}
func jobIDs(xs ...*ent.Job) []int   { return mapIDs(xs, func(x *ent.Job) int { return x.ID }) }
func noteIDs(xs ...*ent.Note) []int { return mapIDs(xs, func(x *ent.Note) int { return x.ID }) }
func sessionIDs(xs ...*ent.Session) []int {
	return mapIDs(xs, func(x *ent.Session) int { return x.ID })
}

func mapIDs[T any](xs []T, id func(T) int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		out = append(out, id(x))
	}
	return out
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
				return mapIDs(xs, func(x *ent.Organization) int { return x.ID }), err
			},
			func(ctx context.Context) (int, error) { return c.Organization.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Organization.Get(ctx, id); return err }},
		{ent.TypeUser,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.User.Query().All(ctx)
				return userIDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.User.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.User.Get(ctx, id); return err }},
		{ent.TypeCompany,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Company.Query().All(ctx)
				return companyIDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Company.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Company.Get(ctx, id); return err }},
		{ent.TypeJob,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Job.Query().All(ctx)
				return jobIDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Job.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Job.Get(ctx, id); return err }},
		{ent.TypeNote,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Note.Query().All(ctx)
				return noteIDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Note.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Note.Get(ctx, id); return err }},
		{ent.TypeSession,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.Session.Query().All(ctx)
				return sessionIDs(xs...), err
			},
			func(ctx context.Context) (int, error) { return c.Session.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.Session.Get(ctx, id); return err }},
		{ent.TypeAuditEvent,
			func(ctx context.Context) ([]int, error) {
				xs, err := c.AuditEvent.Query().All(ctx)
				return mapIDs(xs, func(x *ent.AuditEvent) int { return x.ID }), err
			},
			func(ctx context.Context) (int, error) { return c.AuditEvent.Query().Count(ctx) },
			func(ctx context.Context, id int) error { _, err := c.AuditEvent.Get(ctx, id); return err }},
	}
}

// edgeReader reads one edge: traverse follows it from the parents the scope
// can see (narrowed to the given parent ids if not nil), eager loads it on
// every parent the scope can see and returns parent id -> child ids.
type edgeReader struct {
	from, edge, to string
	traverse       func(ctx context.Context, parents []int) ([]int, error)
	eager          func(ctx context.Context) (map[int][]int, error)
}

func (e edgeReader) String() string { return e.from + "." + e.edge }

// eagerMany and eagerOne collect an eager load's result.
func eagerMany[P, C any](ps []P, pid func(P) int, children func(P) []C, cid func(C) int) map[int][]int {
	out := make(map[int][]int, len(ps))
	for _, p := range ps {
		out[pid(p)] = mapIDs(children(p), cid)
	}
	return out
}

func eagerOne[P any, C comparable](ps []P, pid func(P) int, child func(P) C, cid func(C) int) map[int][]int {
	out := make(map[int][]int, len(ps))
	var zero C
	for _, p := range ps {
		out[pid(p)] = []int{}
		if c := child(p); c != zero {
			out[pid(p)] = []int{cid(c)}
		}
	}
	return out
}

func orgID(x *ent.Organization) int { return x.ID }
func uID(x *ent.User) int           { return x.ID }
func cID(x *ent.Company) int        { return x.ID }
func jID(x *ent.Job) int            { return x.ID }
func nID(x *ent.Note) int           { return x.ID }
func sID(x *ent.Session) int        { return x.ID }

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
		{ent.TypeOrganization, organization.EdgeUsers, ent.TypeUser,
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryUsers().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithUsers().All(ctx)
				return eagerMany(xs, orgID, func(x *ent.Organization) []*ent.User { return x.Edges.Users }, uID), err
			}},
		{ent.TypeOrganization, organization.EdgeCompanies, ent.TypeCompany,
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryCompanies().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithCompanies().All(ctx)
				return eagerMany(xs, orgID, func(x *ent.Organization) []*ent.Company { return x.Edges.Companies }, cID), err
			}},
		{ent.TypeOrganization, organization.EdgeJobs, ent.TypeJob,
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithJobs().All(ctx)
				return eagerMany(xs, orgID, func(x *ent.Organization) []*ent.Job { return x.Edges.Jobs }, jID), err
			}},
		{ent.TypeOrganization, organization.EdgeNotes, ent.TypeNote,
			func(ctx ctxT, p []int) ([]int, error) { return oq(p).QueryNotes().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Organization.Query().WithNotes().All(ctx)
				return eagerMany(xs, orgID, func(x *ent.Organization) []*ent.Note { return x.Edges.Notes }, nID), err
			}},
		// User
		{ent.TypeUser, user.EdgeOrg, ent.TypeOrganization,
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithOrg().All(ctx)
				return eagerOne(xs, uID, func(x *ent.User) *ent.Organization { return x.Edges.Org }, orgID), err
			}},
		{ent.TypeUser, user.EdgeCompany, ent.TypeCompany,
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryCompany().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithCompany().All(ctx)
				return eagerOne(xs, uID, func(x *ent.User) *ent.Company { return x.Edges.Company }, cID), err
			}},
		{ent.TypeUser, user.EdgeManagedJobs, ent.TypeJob,
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryManagedJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithManagedJobs().All(ctx)
				return eagerMany(xs, uID, func(x *ent.User) []*ent.Job { return x.Edges.ManagedJobs }, jID), err
			}},
		{ent.TypeUser, user.EdgeNotes, ent.TypeNote,
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryNotes().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithNotes().All(ctx)
				return eagerMany(xs, uID, func(x *ent.User) []*ent.Note { return x.Edges.Notes }, nID), err
			}},
		{ent.TypeUser, user.EdgeSessions, ent.TypeSession,
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QuerySessions().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithSessions().All(ctx)
				return eagerMany(xs, uID, func(x *ent.User) []*ent.Session { return x.Edges.Sessions }, sID), err
			}},
		{ent.TypeUser, user.EdgeCreatedJobs, ent.TypeJob,
			func(ctx ctxT, p []int) ([]int, error) { return uq(p).QueryCreatedJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.User.Query().WithCreatedJobs().All(ctx)
				return eagerMany(xs, uID, func(x *ent.User) []*ent.Job { return x.Edges.CreatedJobs }, jID), err
			}},
		// Company
		{ent.TypeCompany, company.EdgeOrg, ent.TypeOrganization,
			func(ctx ctxT, p []int) ([]int, error) { return cq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Company.Query().WithOrg().All(ctx)
				return eagerOne(xs, cID, func(x *ent.Company) *ent.Organization { return x.Edges.Org }, orgID), err
			}},
		{ent.TypeCompany, company.EdgeJobs, ent.TypeJob,
			func(ctx ctxT, p []int) ([]int, error) { return cq(p).QueryJobs().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Company.Query().WithJobs().All(ctx)
				return eagerMany(xs, cID, func(x *ent.Company) []*ent.Job { return x.Edges.Jobs }, jID), err
			}},
		{ent.TypeCompany, company.EdgeClients, ent.TypeUser,
			func(ctx ctxT, p []int) ([]int, error) { return cq(p).QueryClients().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Company.Query().WithClients().All(ctx)
				return eagerMany(xs, cID, func(x *ent.Company) []*ent.User { return x.Edges.Clients }, uID), err
			}},
		// Job
		{ent.TypeJob, job.EdgeOrg, ent.TypeOrganization,
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithOrg().All(ctx)
				return eagerOne(xs, jID, func(x *ent.Job) *ent.Organization { return x.Edges.Org }, orgID), err
			}},
		{ent.TypeJob, job.EdgeCompany, ent.TypeCompany,
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryCompany().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithCompany().All(ctx)
				return eagerOne(xs, jID, func(x *ent.Job) *ent.Company { return x.Edges.Company }, cID), err
			}},
		{ent.TypeJob, job.EdgeManagers, ent.TypeUser,
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryManagers().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithManagers().All(ctx)
				return eagerMany(xs, jID, func(x *ent.Job) []*ent.User { return x.Edges.Managers }, uID), err
			}},
		{ent.TypeJob, job.EdgeNotes, ent.TypeNote,
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryNotes().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithNotes().All(ctx)
				return eagerMany(xs, jID, func(x *ent.Job) []*ent.Note { return x.Edges.Notes }, nID), err
			}},
		{ent.TypeJob, job.EdgeCreator, ent.TypeUser,
			func(ctx ctxT, p []int) ([]int, error) { return jq(p).QueryCreator().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Job.Query().WithCreator().All(ctx)
				return eagerOne(xs, jID, func(x *ent.Job) *ent.User { return x.Edges.Creator }, uID), err
			}},
		// Note
		{ent.TypeNote, note.EdgeOrg, ent.TypeOrganization,
			func(ctx ctxT, p []int) ([]int, error) { return nq(p).QueryOrg().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Note.Query().WithOrg().All(ctx)
				return eagerOne(xs, nID, func(x *ent.Note) *ent.Organization { return x.Edges.Org }, orgID), err
			}},
		{ent.TypeNote, note.EdgeJob, ent.TypeJob,
			func(ctx ctxT, p []int) ([]int, error) { return nq(p).QueryJob().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Note.Query().WithJob().All(ctx)
				return eagerOne(xs, nID, func(x *ent.Note) *ent.Job { return x.Edges.Job }, jID), err
			}},
		{ent.TypeNote, note.EdgeAuthor, ent.TypeUser,
			func(ctx ctxT, p []int) ([]int, error) { return nq(p).QueryAuthor().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Note.Query().WithAuthor().All(ctx)
				return eagerOne(xs, nID, func(x *ent.Note) *ent.User { return x.Edges.Author }, uID), err
			}},
		// Session
		{ent.TypeSession, session.EdgeUser, ent.TypeUser,
			func(ctx ctxT, p []int) ([]int, error) { return sq(p).QueryUser().IDs(ctx) },
			func(ctx ctxT) (map[int][]int, error) {
				xs, err := c.Session.Query().WithUser().All(ctx)
				return eagerOne(xs, sID, func(x *ent.Session) *ent.User { return x.Edges.User }, uID), err
			}},
	}
}

// ---------------------------------------------------------------------------
// Model: the database read with plain SQL (no ent, no privacy), and docs/design.md
// section 3 computed from it in plain Go.
// ---------------------------------------------------------------------------

type mUser struct {
	ID, Org int
	Role    string
	Banned  bool
	Company int // 0: none
}

type mJob struct {
	ID, Org, Company, Creator int
	Status                    string
	Managers                  []int
}

type mNote struct {
	ID, Org, Job, Author int
	Internal             bool
}

type tenantModel struct {
	orgs      []int
	users     map[int]mUser
	companies map[int]int // id -> org
	jobs      map[int]mJob
	notes     map[int]mNote
	sessions  map[int]int // id -> user
	audits    map[int]int // id -> org (0: none)
}

func loadModel(t *testing.T, db *sql.DB) *tenantModel {
	t.Helper()
	ctx := context.Background()
	m := &tenantModel{users: map[int]mUser{}, companies: map[int]int{}, jobs: map[int]mJob{},
		notes: map[int]mNote{}, sessions: map[int]int{}, audits: map[int]int{}}
	scan := func(query string, row func(*sql.Rows) error) {
		rows, err := db.QueryContext(ctx, query)
		require.NoError(t, err, query)
		defer rows.Close()
		for rows.Next() {
			require.NoError(t, row(rows), query)
		}
		require.NoError(t, rows.Err(), query)
	}
	scan(`SELECT id FROM organizations`, func(r *sql.Rows) error {
		var id int
		err := r.Scan(&id)
		m.orgs = append(m.orgs, id)
		return err
	})
	scan(`SELECT id, org_id, role, banned, coalesce(company_id, 0) FROM users`, func(r *sql.Rows) error {
		var u mUser
		err := r.Scan(&u.ID, &u.Org, &u.Role, &u.Banned, &u.Company)
		m.users[u.ID] = u
		return err
	})
	scan(`SELECT id, org_id FROM companies`, func(r *sql.Rows) error {
		var id, org int
		err := r.Scan(&id, &org)
		m.companies[id] = org
		return err
	})
	scan(`SELECT id, org_id, company_id, created_by_id, status FROM jobs`, func(r *sql.Rows) error {
		var j mJob
		err := r.Scan(&j.ID, &j.Org, &j.Company, &j.Creator, &j.Status)
		m.jobs[j.ID] = j
		return err
	})
	scan(`SELECT job_id, user_id FROM job_managers`, func(r *sql.Rows) error {
		var jid, uid int
		if err := r.Scan(&jid, &uid); err != nil {
			return err
		}
		j := m.jobs[jid]
		j.Managers = append(j.Managers, uid)
		m.jobs[jid] = j
		return nil
	})
	scan(`SELECT id, org_id, job_id, author_id, internal FROM notes`, func(r *sql.Rows) error {
		var n mNote
		err := r.Scan(&n.ID, &n.Org, &n.Job, &n.Author, &n.Internal)
		m.notes[n.ID] = n
		return err
	})
	scan(`SELECT id, user_id FROM sessions`, func(r *sql.Rows) error {
		var id, uid int
		err := r.Scan(&id, &uid)
		m.sessions[id] = uid
		return err
	})
	scan(`SELECT id, coalesce(org_id, 0) FROM audit_events`, func(r *sql.Rows) error {
		var id, org int
		err := r.Scan(&id, &org)
		m.audits[id] = org
		return err
	})
	return m
}

// owner returns the tenant a row belongs to (0: none).
func (m *tenantModel) owner(typ string, id int) int {
	switch typ {
	case ent.TypeOrganization:
		return id
	case ent.TypeUser:
		return m.users[id].Org
	case ent.TypeCompany:
		return m.companies[id]
	case ent.TypeJob:
		return m.jobs[id].Org
	case ent.TypeNote:
		return m.notes[id].Org
	case ent.TypeSession:
		return m.users[m.sessions[id]].Org
	case ent.TypeAuditEvent:
		return m.audits[id]
	}
	panic("unknown type " + typ)
}

// rows returns every id of typ.
func (m *tenantModel) rows(typ string) []int {
	var ids []int
	switch typ {
	case ent.TypeOrganization:
		ids = slices.Clone(m.orgs)
	case ent.TypeUser:
		ids = keys(m.users)
	case ent.TypeCompany:
		ids = keys(m.companies)
	case ent.TypeJob:
		ids = keys(m.jobs)
	case ent.TypeNote:
		ids = keys(m.notes)
	case ent.TypeSession:
		ids = keys(m.sessions)
	case ent.TypeAuditEvent:
		ids = keys(m.audits)
	default:
		panic("unknown type " + typ)
	}
	slices.Sort(ids)
	return ids
}

// ownedBy returns the ids of typ that belong to org.
func (m *tenantModel) ownedBy(typ string, org int) []int {
	var out []int
	for _, id := range m.rows(typ) {
		if m.owner(typ, id) == org {
			out = append(out, id)
		}
	}
	return out
}

func keys[V any](mp map[int]V) []int {
	out := make([]int, 0, len(mp))
	for k := range mp {
		out = append(out, k)
	}
	return out
}

// viewer is a user scope as the model sees it.
type viewer struct {
	ID, Org int
	Role    string
	Banned  bool
	Company int
}

func viewerOf(u *ent.User) viewer {
	v := viewer{ID: u.ID, Org: u.OrgID, Role: string(u.Role), Banned: u.Banned}
	if u.CompanyID != nil {
		v.Company = *u.CompanyID
	}
	return v
}

func (m *tenantModel) jobVisible(v viewer, id int) bool {
	j, ok := m.jobs[id]
	if !ok || j.Org != v.Org || v.Banned {
		return false
	}
	switch v.Role {
	case "admin":
		return true
	case "manager", "member":
		return j.Status == "published" || slices.Contains(j.Managers, v.ID)
	case "client":
		return j.Company == v.Company && j.Status == "published"
	}
	return false
}

// visible computes docs/design.md section 3 for v: rule 2 (the tenant), then rules
// 3 to 6.
func (m *tenantModel) visible(v viewer, typ string, id int) bool {
	if m.owner(typ, id) != v.Org {
		return false
	}
	switch typ {
	case ent.TypeOrganization:
		return true
	case ent.TypeUser:
		switch {
		case v.Banned:
			return id == v.ID
		case v.Role == "client":
			if id == v.ID {
				return true
			}
			for jid, j := range m.jobs {
				if slices.Contains(j.Managers, id) && m.jobVisible(v, jid) {
					return true
				}
			}
			return false
		}
		return true
	case ent.TypeCompany:
		if v.Banned {
			return false
		}
		return v.Role != "client" || id == v.Company
	case ent.TypeJob:
		return m.jobVisible(v, id)
	case ent.TypeNote:
		n := m.notes[id]
		switch {
		case v.Banned:
			return false
		case v.Role == "admin":
			return true
		case v.Role == "manager":
			return m.jobVisible(v, n.Job)
		}
		return !n.Internal && m.jobVisible(v, n.Job)
	case ent.TypeSession:
		return !v.Banned && (v.Role == "admin" || m.sessions[id] == v.ID)
	case ent.TypeAuditEvent:
		return !v.Banned && v.Role == "admin"
	}
	panic("unknown type " + typ)
}

func (m *tenantModel) visibleRows(v viewer, typ string) []int {
	var out []int
	for _, id := range m.rows(typ) {
		if m.visible(v, typ, id) {
			out = append(out, id)
		}
	}
	return out
}

// linked returns the rows that edge links parent to, whatever anyone sees.
func (m *tenantModel) linked(from, edge string, parent int) []int {
	var out []int
	add := func(id int) {
		if id != 0 {
			out = append(out, id)
		}
	}
	switch from + "." + edge {
	case "Organization.users":
		for id, u := range m.users {
			if u.Org == parent {
				add(id)
			}
		}
	case "Organization.companies":
		for id, org := range m.companies {
			if org == parent {
				add(id)
			}
		}
	case "Organization.jobs":
		for id, j := range m.jobs {
			if j.Org == parent {
				add(id)
			}
		}
	case "Organization.notes":
		for id, n := range m.notes {
			if n.Org == parent {
				add(id)
			}
		}
	case "User.org":
		add(m.users[parent].Org)
	case "User.company":
		add(m.users[parent].Company)
	case "User.managed_jobs":
		for id, j := range m.jobs {
			if slices.Contains(j.Managers, parent) {
				add(id)
			}
		}
	case "User.notes":
		for id, n := range m.notes {
			if n.Author == parent {
				add(id)
			}
		}
	case "User.sessions":
		for id, uid := range m.sessions {
			if uid == parent {
				add(id)
			}
		}
	case "User.created_jobs":
		for id, j := range m.jobs {
			if j.Creator == parent {
				add(id)
			}
		}
	case "Company.org":
		add(m.companies[parent])
	case "Company.jobs":
		for id, j := range m.jobs {
			if j.Company == parent {
				add(id)
			}
		}
	case "Company.clients":
		for id, u := range m.users {
			if u.Company == parent {
				add(id)
			}
		}
	case "Job.org":
		add(m.jobs[parent].Org)
	case "Job.company":
		add(m.jobs[parent].Company)
	case "Job.managers":
		out = append(out, m.jobs[parent].Managers...)
	case "Job.notes":
		for id, n := range m.notes {
			if n.Job == parent {
				add(id)
			}
		}
	case "Job.creator":
		add(m.jobs[parent].Creator)
	case "Note.org":
		add(m.notes[parent].Org)
	case "Note.job":
		add(m.notes[parent].Job)
	case "Note.author":
		add(m.notes[parent].Author)
	case "Session.user":
		add(m.sessions[parent])
	default:
		panic("unknown edge " + from + "." + edge)
	}
	return out
}

// expectedTraversal is what following e from parents (already narrowed to
// what v sees) may return: the linked rows v can see, and nothing else.
func (m *tenantModel) expectedTraversal(v viewer, e edgeReader, parents []int) []int {
	seen := map[int]bool{}
	out := []int{}
	for _, p := range parents {
		for _, c := range m.linked(e.from, e.edge, p) {
			if !seen[c] && m.visible(v, e.to, c) {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// checkComposition asserts rule 7 for v on every edge: a traversal and an
// eager load return exactly the linked rows that a direct query for them
// would return, from every parent v can see, and nothing from parents v
// cannot see.
func checkComposition(t *testing.T, c *ent.Client, m *tenantModel, v viewer, ctx context.Context, hidden map[string][]int) {
	t.Helper()
	for _, e := range edgeReaders(c) {
		parents := m.visibleRows(v, e.from)
		got, err := e.traverse(ctx, nil)
		require.NoError(t, err, "traverse %s", e)
		assert.ElementsMatch(t, m.expectedTraversal(v, e, parents), got, "traverse %s from every visible parent", e)

		if hp := hidden[e.from]; len(hp) > 0 {
			got, err := e.traverse(ctx, hp)
			require.NoError(t, err, "traverse %s from hidden parents", e)
			assert.Empty(t, got, "traverse %s from parents the scope cannot see", e)
		}

		loaded, err := e.eager(ctx)
		require.NoError(t, err, "eager %s", e)
		assert.ElementsMatch(t, parents, keys(loaded), "eager %s: parents", e)
		for _, p := range parents {
			assert.ElementsMatch(t, m.expectedTraversal(v, e, []int{p}), loaded[p], "eager %s of %s %d", e, e.from, p)
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
	tt := seedTwoTenants(t)
	m := loadModel(t, tt.db.Raw)
	a, b := tt.A, tt.B
	ctx := pgtest.UserContext(t, a.Admin)
	orgA, orgB := a.Org.ID, b.Org.ID

	// The fixture must really hold rows of B for every entity, or this
	// test proves nothing.
	for _, r := range entityReaders(tt.db.Client) {
		require.NotEmpty(t, m.ownedBy(r.typ, orgB), "fixture: no %s rows in tenant B", r.typ)
	}

	for _, r := range entityReaders(tt.db.Client) {
		t.Run(r.typ, func(t *testing.T) {
			want := m.ownedBy(r.typ, orgA)
			require.NotEmpty(t, want)

			t.Run("All returns every row of A and none of B", func(t *testing.T) {
				got, err := r.all(ctx)
				require.NoError(t, err)
				assert.ElementsMatch(t, want, got)
				for _, id := range got {
					assert.Equal(t, orgA, m.owner(r.typ, id), "%s %d belongs to another tenant", r.typ, id)
				}
			})
			t.Run("Count counts A only", func(t *testing.T) {
				n, err := r.count(ctx)
				require.NoError(t, err)
				assert.Equal(t, len(want), n)
			})
			t.Run("Get of every row of B is not found like a missing row", func(t *testing.T) {
				for _, id := range m.ownedBy(r.typ, orgB) {
					err := r.get(ctx, id)
					require.Error(t, err, "%s %d of tenant B", r.typ, id)
					assert.True(t, ent.IsNotFound(err), "%s %d: want not found, got %v", r.typ, id, err)
				}
				err := r.get(ctx, 1<<30)
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
			hidden[r.typ] = m.ownedBy(r.typ, orgB)
		}
		// Explicitly: nothing of B, whatever links A's rows hold.
		for _, e := range edgeReaders(tt.db.Client) {
			got, err := e.traverse(ctx, nil)
			require.NoError(t, err, "traverse %s", e)
			for _, id := range got {
				assert.Equal(t, orgA, m.owner(e.to, id), "traverse %s reached %s %d of another tenant", e, e.to, id)
			}
			loaded, err := e.eager(ctx)
			require.NoError(t, err, "eager %s", e)
			for p, cs := range loaded {
				assert.Equal(t, orgA, m.owner(e.from, p), "eager %s: parent %d of another tenant", e, p)
				for _, id := range cs {
					assert.Equal(t, orgA, m.owner(e.to, id), "eager %s reached %s %d of another tenant", e, e.to, id)
				}
			}
		}
		checkComposition(t, tt.db.Client, m, viewerOf(a.Admin), ctx, hidden)
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
			assert.Equal(t, orgA, m.owner(typ, id), "%s %d of another tenant in a deep eager load", typ, id)
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
func assertSees(t *testing.T, c *ent.Client, m *tenantModel, ctx context.Context, want visibleSets) {
	t.Helper()
	for _, r := range entityReaders(c) {
		w := want[r.typ]
		got, err := r.all(ctx)
		require.NoError(t, err, r.typ)
		assert.ElementsMatch(t, w, got, "%s: All", r.typ)
		n, err := r.count(ctx)
		require.NoError(t, err, r.typ)
		assert.Equal(t, len(w), n, "%s: Count", r.typ)
		for _, id := range m.rows(r.typ) {
			err := r.get(ctx, id)
			if slices.Contains(w, id) {
				assert.NoError(t, err, "%s %d: Get", r.typ, id)
			} else {
				assert.True(t, ent.IsNotFound(err), "%s %d: Get should be not found, got %v", r.typ, id, err)
			}
		}
	}
}

func (m *tenantModel) auditOf(org int) []int { return m.ownedBy(ent.TypeAuditEvent, org) }

// TestRowScopingRules checks each rule of docs/design.md section 3, one subtest per
// rule, in both tenants, with explicit expectations written from the
// fixture (and, for rule 7, from the model).
func TestRowScopingRules(t *testing.T) {
	tt := seedTwoTenants(t)
	m := loadModel(t, tt.db.Raw)
	c := tt.db.Client
	tenants := map[string]*tenantRows{"A": tt.A, "B": tt.B}

	t.Run("1 no scope fails and the system scope sees every row", func(t *testing.T) {
		for _, r := range entityReaders(c) {
			_, err := r.all(context.Background())
			assert.ErrorIs(t, err, scope.ErrNoScope, r.typ)
			got, err := r.all(tt.sys)
			require.NoError(t, err, r.typ)
			assert.ElementsMatch(t, m.rows(r.typ), got, "%s: system scope", r.typ)
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
						assert.Equal(t, u.OrgID, m.owner(r.typ, id), "user %s of org %d sees %s %d", u.Email, u.OrgID, r.typ, id)
					}
				}
			}
		}
	})

	for name, tn := range tenants {
		t.Run("3 a banned user sees only their own user row and their organization/"+name, func(t *testing.T) {
			assertSees(t, c, m, pgtest.UserContext(t, tn.Banned), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         userIDs(tn.Banned),
			})
		})
	}

	for name, tn := range tenants {
		t.Run("4 an admin sees every row of the organization, audit events included/"+name, func(t *testing.T) {
			require.NotEmpty(t, m.auditOf(tn.Org.ID))
			assertSees(t, c, m, pgtest.UserContext(t, tn.Admin), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         userIDs(tn.users()...),
				ent.TypeCompany:      companyIDs(tn.C1, tn.C2),
				ent.TypeJob:          jobIDs(tn.jobs()...),
				ent.TypeNote:         noteIDs(tn.notes()...),
				ent.TypeSession:      sessionIDs(tn.sessions()...),
				ent.TypeAuditEvent:   m.auditOf(tn.Org.ID),
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
			assertSees(t, c, m, pgtest.UserContext(t, tn.Manager), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         userIDs(tn.users()...),
				ent.TypeCompany:      companyIDs(tn.C1, tn.C2),
				ent.TypeJob:          jobIDs(append(slices.Clone(published), tn.Draft1)...),
				ent.TypeNote:         noteIDs(notes...),
				ent.TypeSession:      sessionIDs(tn.Session[tn.Manager.ID]),
			})
			// Manager2 manages another draft: the managed-jobs half of the
			// rule follows the user, not the role.
			notes2 := append(slices.Clone(publicNotes),
				tn.InternalNote[tn.Pub1.ID], tn.InternalNote[tn.Pub2.ID],
				tn.PublicNote[tn.Draft2.ID], tn.InternalNote[tn.Draft2.ID])
			assertSees(t, c, m, pgtest.UserContext(t, tn.Manager2), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         userIDs(tn.users()...),
				ent.TypeCompany:      companyIDs(tn.C1, tn.C2),
				ent.TypeJob:          jobIDs(append(slices.Clone(published), tn.Draft2)...),
				ent.TypeNote:         noteIDs(notes2...),
				ent.TypeSession:      sessionIDs(tn.Session[tn.Manager2.ID]),
			})
		})
		t.Run("5 a member sees all companies and users, published and managed jobs, public notes on them/"+name, func(t *testing.T) {
			assertSees(t, c, m, pgtest.UserContext(t, tn.Member), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				ent.TypeUser:         userIDs(tn.users()...),
				ent.TypeCompany:      companyIDs(tn.C1, tn.C2),
				ent.TypeJob:          jobIDs(append(slices.Clone(published), tn.Archived)...),
				ent.TypeNote:         noteIDs(append(slices.Clone(publicNotes), tn.PublicNote[tn.Archived.ID])...),
				ent.TypeSession:      sessionIDs(tn.Session[tn.Member.ID]),
			})
		})
	}

	for name, tn := range tenants {
		t.Run("6 a client sees their company, its published jobs, public notes on them, themselves and those jobs' managers/"+name, func(t *testing.T) {
			assertSees(t, c, m, pgtest.UserContext(t, tn.Client), visibleSets{
				ent.TypeOrganization: {tn.Org.ID},
				// Not Member (manages an archived job of C1), not
				// Manager2 (manages jobs of C2 only).
				ent.TypeUser:    userIDs(tn.Client, tn.Manager),
				ent.TypeCompany: companyIDs(tn.C1),
				ent.TypeJob:     jobIDs(tn.Pub1),
				ent.TypeNote:    noteIDs(tn.PublicNote[tn.Pub1.ID]),
				ent.TypeSession: sessionIDs(tn.Session[tn.Client.ID]),
			})
		})
	}

	t.Run("7 traversals and eager loads return exactly what direct queries would", func(t *testing.T) {
		for _, tn := range tenants {
			for _, u := range tn.users() {
				t.Run(u.Email, func(t *testing.T) {
					v := viewerOf(u)
					hidden := map[string][]int{}
					for _, r := range entityReaders(c) {
						for _, id := range m.rows(r.typ) {
							if !m.visible(v, r.typ, id) {
								hidden[r.typ] = append(hidden[r.typ], id)
							}
						}
					}
					checkComposition(t, c, m, v, pgtest.UserContext(t, u), hidden)
				})
			}
		}
	})
}
