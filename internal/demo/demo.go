// Package demo seeds the demo world: two organizations, a user of every role
// in each (one password for all, printed at start-up), companies, jobs of
// every status and notes. It is what `scopegate serve` shows on a fresh
// machine and what `scopegate seed demo` writes.
package demo

import (
	"context"
	"fmt"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

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

// Seed writes the demo world unless it is there already; it reports
// whether it wrote anything. It runs under a system scope with its own
// reason, in one transaction, so the audit trail shows it.
func Seed(ctx context.Context, c *ent.Client) (bool, error) {
	s, err := scope.System("seed demo data").Scope()
	if err != nil {
		return false, err
	}
	ctx = scope.NewContext(ctx, s)
	if ok, err := c.Organization.Query().Where(organization.Slug(orgs[0].slug)).Exist(ctx); err != nil || ok {
		return false, err
	}
	hash, err := repo.HashPassword(Password)
	if err != nil {
		return false, err
	}
	err = database.WithTx(ctx, c, func(tx *ent.Tx) error {
		for _, o := range orgs {
			if err := seedOrg(ctx, tx, o.name, o.slug, hash); err != nil {
				return fmt.Errorf("demo: %s: %w", o.slug, err)
			}
		}
		return nil
	})
	return err == nil, err
}

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
	salary := 90000
	specs := []struct {
		title   string
		status  job.Status
		company *ent.Company
	}{
		{"Backend engineer", job.StatusPublished, companies[0]},
		{"Data analyst", job.StatusDraft, companies[0]},
		{"Site reliability engineer", job.StatusPublished, companies[1]},
		{"Office manager", job.StatusArchived, companies[1]},
	}
	for _, sp := range specs {
		j, err := tx.Job.Create().SetOrgID(org.ID).SetCompanyID(sp.company.ID).SetTitle(sp.title + " at " + sp.company.Name).
			SetDescription("A demo job.").SetStatus(sp.status).SetSalaryMax(salary).
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
