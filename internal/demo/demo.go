// Package demo seeds the demo world: two organizations, a user of every role
// in each (one password for all, printed at start-up), companies, jobs of
// every status and notes. It is what `scopegate serve` shows on a fresh
// machine and what `scopegate seed demo` writes.
package demo

import (
	"context"
	"fmt"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/migration"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// InMemory is the URL of an embedded SQLite database in memory, for
// OpenEmbedded: gone when it is closed, and one database, since an
// embedded database has one connection.
const InMemory = "file::memory:"

// OpenEmbedded opens the embedded SQLite database at rawURL (InMemory, or
// "file:" and a path), creates its schema (migration.OpenEmbedded) and
// seeds the demo world unless it is there: what the examples and the tests
// of the packages below read, and what `scopegate serve` shows with no
// DATABASE_URL. On an error it closes what it opened.
func OpenEmbedded(ctx context.Context, rawURL string, opts database.Options) (*database.DB, error) {
	db, err := migration.OpenEmbedded(ctx, rawURL, opts)
	if err != nil {
		return nil, err
	}
	if _, err := Seed(ctx, db.Client); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// User reads the demo user with email (one of Logins) under a system scope
// of its own, as the authenticator reads a user before anyone is signed in.
func User(ctx context.Context, c *ent.Client, email string) (*ent.User, error) {
	s, err := scope.System("demo: look up " + email).Scope()
	if err != nil {
		return nil, err
	}
	u, err := c.User.Query().Where(user.Email(email)).Only(scope.NewContext(ctx, s))
	if err != nil {
		return nil, fmt.Errorf("demo: user %s: %w", email, err)
	}
	return u, nil
}

// OrgSlugs maps each organization's id to its slug, read under a system
// scope of its own: what an example prints for a row's tenant.
func OrgSlugs(ctx context.Context, c *ent.Client) (map[int]string, error) {
	s, err := scope.System("demo: name the organizations").Scope()
	if err != nil {
		return nil, err
	}
	orgs, err := c.Organization.Query().All(scope.NewContext(ctx, s))
	if err != nil {
		return nil, fmt.Errorf("demo: organizations: %w", err)
	}
	out := make(map[int]string, len(orgs))
	for _, o := range orgs {
		out[o.ID] = o.Slug
	}
	return out, nil
}

// UserContext returns ctx carrying the scope of the demo user with email,
// built as a login builds it (auth.UserScope).
func UserContext(ctx context.Context, c *ent.Client, email string) (context.Context, error) {
	u, err := User(ctx, c, email)
	if err != nil {
		return nil, err
	}
	s, err := auth.UserScope(u)
	if err != nil {
		return nil, fmt.Errorf("demo: user %s: %w", email, err)
	}
	return scope.NewContext(ctx, s), nil
}

// Password is every demo user's password. Demo data only.
const Password = "demo-password"

// Login is one demo user.
type Login struct {
	Org, Email, Role string
}

// orgs of the demo world.
var orgs = []struct{ name, slug string }{{"Acme Staffing", "acme"}, {"Globex Recruiting", "globex"}}

// Logins lists the demo users.
func Logins() []Login {
	var out []Login
	for _, o := range orgs {
		for _, r := range []string{"admin", "manager", "member", "client"} {
			out = append(out, Login{Org: o.slug, Email: r + "@" + o.slug + ".test", Role: r})
		}
	}
	return out
}

// DefaultJobs is how many jobs the demo world has: four per organization,
// one of each status and company.
const DefaultJobs = 8

// MaxJobs caps Options.Jobs.
const MaxJobs = 1_000_000

// jobBatch is how many extra jobs one transaction writes.
const jobBatch = 1000

// ErrJobs is returned for an Options.Jobs out of range.
var ErrJobs = fmt.Errorf("demo: the number of jobs must be %d to %d", DefaultJobs, MaxJobs)

// Progress receives the progress of writing extra jobs (a bar on a
// terminal); jobs.Progress has this shape.
type Progress interface {
	Start(total int)
	Add(n int)
	Finish()
}

// Options of SeedWith. The zero value seeds the default world.
type Options struct {
	// Jobs is how many jobs the demo world should have, DefaultJobs to
	// MaxJobs (0: DefaultJobs). The jobs past the default ones are
	// written in batches, shared between the organizations, each a copy
	// of one of the default jobs (so half of them published) without
	// notes: enough rows for a batch job's progress to show.
	Jobs int
	// Progress, if set, follows the extra jobs.
	Progress Progress
}

// Result is what SeedWith wrote.
type Result struct {
	// Seeded: the demo world was not there and was written.
	Seeded bool
	// Added is how many jobs were added past the default ones.
	Added int
	// Jobs is how many jobs the demo organizations have now.
	Jobs int
}

// Seed writes the demo world unless it is there already; it reports
// whether it wrote anything. It runs under a system scope with its own
// reason, in one transaction, so the audit trail shows it.
func Seed(ctx context.Context, c *ent.Client) (bool, error) {
	res, err := SeedWith(ctx, c, Options{})
	return res.Seeded, err
}

// SeedWith writes the demo world unless it is there already, then adds
// jobs until the demo organizations have o.Jobs of them. It runs under a
// system scope with its own reason, the world in one transaction and the
// extra jobs in transactions of jobBatch, so the audit trail shows it and
// an interrupted run keeps what it committed (running it again adds the
// rest).
func SeedWith(ctx context.Context, c *ent.Client, o Options) (Result, error) {
	var res Result
	want := o.Jobs
	if want == 0 {
		want = DefaultJobs
	}
	if want < DefaultJobs || want > MaxJobs {
		return res, fmt.Errorf("%w, not %d", ErrJobs, o.Jobs)
	}
	s, err := scope.System("seed demo data").Scope()
	if err != nil {
		return res, err
	}
	ctx = scope.NewContext(ctx, s)
	there, err := c.Organization.Query().Where(organization.Slug(orgs[0].slug)).Exist(ctx)
	if err != nil {
		return res, err
	}
	if !there {
		hash, err := repo.HashPassword(Password)
		if err != nil {
			return res, err
		}
		err = database.WithTx(ctx, c, func(tx *ent.Tx) error {
			for _, o := range orgs {
				if err := seedOrg(ctx, tx, o.name, o.slug, hash); err != nil {
					return fmt.Errorf("demo: %s: %w", o.slug, err)
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Seeded = true
	}
	res.Added, res.Jobs, err = addJobs(ctx, c, want, o.Progress)
	return res, err
}

// demoOrg is what an extra job of one organization needs.
type demoOrg struct {
	id, admin, manager int
	companies          []*ent.Company
}

// addJobs adds jobs to the demo organizations until they have want, and
// returns how many it added and how many there are.
func addJobs(ctx context.Context, c *ent.Client, want int, p Progress) (added, have int, err error) {
	var dos []demoOrg
	var ids []int
	for _, o := range orgs {
		org, err := c.Organization.Query().Where(organization.Slug(o.slug)).Only(ctx)
		if err != nil {
			return 0, 0, fmt.Errorf("demo: %s: %w", o.slug, err)
		}
		dos = append(dos, demoOrg{id: org.ID})
		ids = append(ids, org.ID)
	}
	have, err = c.Job.Query().Where(job.OrgIDIn(ids...)).Count(ctx)
	if err != nil || have >= want {
		return 0, have, err
	}
	for i, o := range orgs {
		d := &dos[i]
		for _, r := range []struct {
			role string
			id   *int
		}{{"admin", &d.admin}, {"manager", &d.manager}} {
			u, err := c.User.Query().Where(user.Email(r.role + "@" + o.slug + ".test")).Only(ctx)
			if err != nil {
				return 0, have, fmt.Errorf("demo: %s's %s: %w", o.slug, r.role, err)
			}
			*r.id = u.ID
		}
		if d.companies, err = c.Company.Query().Where(company.OrgID(d.id)).Order(company.ByID()).Limit(2).All(ctx); err != nil || len(d.companies) == 0 {
			return 0, have, fmt.Errorf("demo: %s's companies: %w", o.slug, orNoCompany(err))
		}
	}
	if p != nil {
		p.Start(want - have)
		defer p.Finish()
	}
	for have < want {
		if err := ctx.Err(); err != nil {
			return added, have, fmt.Errorf("demo: interrupted after %d jobs: %w", added, err)
		}
		n := min(jobBatch, want-have)
		err := database.WithTx(ctx, c, func(tx *ent.Tx) error {
			bs := make([]*ent.JobCreate, n)
			for i := range bs {
				seq := have + i + 1 // the job's number in the demo world
				d := dos[seq%len(dos)]
				sp := specs[seq%len(specs)]
				co := d.companies[sp.company%len(d.companies)]
				bs[i] = tx.Job.Create().SetOrgID(d.id).SetCompanyID(co.ID).
					SetTitle(fmt.Sprintf("%s #%d at %s", sp.title, seq, co.Name)).SetDescription("A demo job.").
					SetStatus(sp.status).SetSalaryMax(demoSalary).SetCreatedByID(d.admin).AddManagerIDs(d.manager)
			}
			return tx.Job.CreateBulk(bs...).Exec(ctx)
		})
		if err != nil {
			return added, have, fmt.Errorf("demo: add jobs: %w", err)
		}
		have += n
		added += n
		if p != nil {
			p.Add(n)
		}
	}
	return added, have, nil
}

func orNoCompany(err error) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("none")
}

// The default jobs of each organization: one of each status, on its two
// companies (by index).
var specs = []struct {
	title   string
	status  job.Status
	company int
}{
	{"Backend engineer", job.StatusPublished, 0},
	{"Data analyst", job.StatusDraft, 0},
	{"Site reliability engineer", job.StatusPublished, 1},
	{"Office manager", job.StatusArchived, 1},
}

const demoSalary = 90000

func seedOrg(ctx context.Context, tx *ent.Tx, name, slug, hash string) error {
	org, err := tx.Organization.Create().SetName(name).SetSlug(slug).Save(ctx)
	if err != nil {
		return err
	}
	companies := make([]*ent.Company, 2)
	for i, n := range []string{"Initech", "Umbrella"} {
		if companies[i], err = tx.Company.Create().SetOrgID(org.ID).SetName(n + " (" + slug + ")").Save(ctx); err != nil {
			return err
		}
	}
	users := map[string]*ent.User{}
	for _, r := range []user.Role{user.RoleAdmin, user.RoleManager, user.RoleMember, user.RoleClient} {
		b := tx.User.Create().SetOrgID(org.ID).SetEmail(string(r) + "@" + slug + ".test").
			SetName(fmt.Sprintf("%s %s", titled(string(r)), titled(slug))).SetPhone("+1 555 0100").
			SetRole(r).SetPasswordHash(hash)
		if r == user.RoleClient {
			b.SetCompanyID(companies[0].ID)
		}
		if users[string(r)], err = b.Save(ctx); err != nil {
			return err
		}
	}
	for _, sp := range specs {
		co := companies[sp.company]
		j, err := tx.Job.Create().SetOrgID(org.ID).SetCompanyID(co.ID).SetTitle(sp.title + " at " + co.Name).
			SetDescription("A demo job.").SetStatus(sp.status).SetSalaryMax(demoSalary).
			SetCreatedByID(users["admin"].ID).AddManagerIDs(users["manager"].ID).Save(ctx)
		if err != nil {
			return err
		}
		for _, n := range []struct {
			body     string
			internal bool
		}{{"Looks promising.", false}, {"Internal: budget approved.", true}} {
			if err := tx.Note.Create().SetOrgID(org.ID).SetJobID(j.ID).SetAuthorID(users["manager"].ID).
				SetBody(n.body).SetInternal(n.internal).Exec(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

func titled(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
