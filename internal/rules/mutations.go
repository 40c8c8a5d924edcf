package rules

import (
	"context"
	"fmt"
	"slices"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
)

// tenantOwned is what every mutation of a TenantMixin type implements.
type tenantOwned interface {
	OrgID() (int, bool)
	SetOrgID(int)
}

// checkCreateTenant makes a create land in the scope's tenant: org_id is
// taken from the scope when the caller left it unset, and a create that
// names another organization is denied. ent's filters cannot do this: a
// WHERE clause means nothing to an INSERT.
func checkCreateTenant() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !m.Op().Is(ent.OpCreate) {
			return privacy.Skip
		}
		s, err := from(ctx)
		if err != nil {
			return err
		}
		org, narrowed := tenantOrg(s)
		if _, ok := m.(*ent.OrganizationMutation); ok && narrowed {
			return privacy.Denyf("%w: a tenant scope cannot create organizations", ErrWrongTenant)
		}
		t, ok := m.(tenantOwned)
		if !ok || !narrowed {
			return privacy.Skip
		}
		switch got, set := t.OrgID(); {
		case !set:
			t.SetOrgID(org)
		case got != org:
			return privacy.Denyf("%w", ErrWrongTenant)
		}
		return privacy.Skip
	})
}

// clientOf is implemented by every generated mutation: the client bound to
// the mutation's transaction, if any.
type clientOf interface{ Client() *ent.Client }

// counter counts how many of ids the scope in ctx can see, running the
// target type's own privacy rules.
type counter func(ctx context.Context, c *ent.Client, ids []int) (int, error)

var countVisible = map[string]counter{
	ent.TypeOrganization: func(ctx context.Context, c *ent.Client, ids []int) (int, error) {
		return c.Organization.Query().Where(organization.IDIn(ids...)).Count(ctx)
	},
	ent.TypeUser: func(ctx context.Context, c *ent.Client, ids []int) (int, error) {
		return c.User.Query().Where(user.IDIn(ids...)).Count(ctx)
	},
	ent.TypeCompany: func(ctx context.Context, c *ent.Client, ids []int) (int, error) {
		return c.Company.Query().Where(company.IDIn(ids...)).Count(ctx)
	},
	ent.TypeJob: func(ctx context.Context, c *ent.Client, ids []int) (int, error) {
		return c.Job.Query().Where(job.IDIn(ids...)).Count(ctx)
	},
	ent.TypeNote: func(ctx context.Context, c *ent.Client, ids []int) (int, error) {
		return c.Note.Query().Where(note.IDIn(ids...)).Count(ctx)
	},
	ent.TypeSession: func(ctx context.Context, c *ent.Client, ids []int) (int, error) {
		return c.Session.Query().Where(session.IDIn(ids...)).Count(ctx)
	},
}

// EdgeTargets names, for every mutable type and edge, the type the edge
// points to. checkLinks refuses an edge it does not know (fail closed), and a
// test checks that this table covers every edge of the generated schema.
var EdgeTargets = map[string]map[string]string{
	ent.TypeOrganization: {
		organization.EdgeUsers:     ent.TypeUser,
		organization.EdgeCompanies: ent.TypeCompany,
		organization.EdgeJobs:      ent.TypeJob,
		organization.EdgeNotes:     ent.TypeNote,
	},
	ent.TypeUser: {
		user.EdgeOrg:         ent.TypeOrganization,
		user.EdgeCompany:     ent.TypeCompany,
		user.EdgeManagedJobs: ent.TypeJob,
		user.EdgeNotes:       ent.TypeNote,
		user.EdgeSessions:    ent.TypeSession,
		user.EdgeCreatedJobs: ent.TypeJob,
	},
	ent.TypeCompany: {
		company.EdgeOrg:     ent.TypeOrganization,
		company.EdgeJobs:    ent.TypeJob,
		company.EdgeClients: ent.TypeUser,
	},
	ent.TypeJob: {
		job.EdgeOrg:      ent.TypeOrganization,
		job.EdgeCompany:  ent.TypeCompany,
		job.EdgeManagers: ent.TypeUser,
		job.EdgeNotes:    ent.TypeNote,
		job.EdgeCreator:  ent.TypeUser,
	},
	ent.TypeNote: {
		note.EdgeOrg:    ent.TypeOrganization,
		note.EdgeJob:    ent.TypeJob,
		note.EdgeAuthor: ent.TypeUser,
	},
	ent.TypeSession: {
		session.EdgeUser: ent.TypeUser,
	},
}

// foreignKeyOnTarget lists the edges whose foreign key lives in the other
// table (one-to-many from this side). Clearing one rewrites rows of the
// target table that the scope may not see, so a tenant scope may not clear
// them wholesale: it removes the ids it can see instead.
var foreignKeyOnTarget = map[string]map[string]bool{
	ent.TypeOrganization: {
		organization.EdgeUsers: true, organization.EdgeCompanies: true,
		organization.EdgeJobs: true, organization.EdgeNotes: true,
	},
	ent.TypeUser:    {user.EdgeNotes: true, user.EdgeSessions: true, user.EdgeCreatedJobs: true},
	ent.TypeCompany: {company.EdgeJobs: true, company.EdgeClients: true},
	ent.TypeJob:     {job.EdgeNotes: true},
}

// checkLinks re-reads, under the same scope, every row a mutation links to
// or unlinks (company, managers, job, author, ...) and denies unless all are
// visible. Without it, SetCompanyID or AddManagerIDs could point at another
// tenant's rows, and RemoveClientIDs or ClearClients could rewrite them:
// ent's filters narrow which rows a mutation changes, not which rows its
// edge values refer to. The error is the same for a foreign row and a
// missing one.
func checkLinks() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
			return privacy.Skip
		}
		s, err := from(ctx)
		if err != nil {
			return err
		}
		if _, narrowed := tenantOrg(s); s.IsSystem() && !narrowed {
			return privacy.Skip // the all-tenant system scope sees every row
		}
		for _, e := range m.ClearedEdges() {
			if foreignKeyOnTarget[m.Type()][e] {
				return privacy.Denyf("%w: %s.%s cannot be cleared under a tenant scope", ErrForeignLink, m.Type(), e)
			}
		}
		if err := checkVisible(ctx, m, m.AddedEdges(), m.AddedIDs); err != nil {
			return err
		}
		if err := checkVisible(ctx, m, m.RemovedEdges(), m.RemovedIDs); err != nil {
			return err
		}
		return privacy.Skip
	})
}

// checkVisible denies unless every id of every edge is visible to the scope.
func checkVisible(ctx context.Context, m ent.Mutation, edges []string, idsOf func(string) []ent.Value) error {
	if len(edges) == 0 {
		return nil
	}
	c, ok := m.(clientOf)
	if !ok {
		return privacy.Denyf("rules: %T has no client to check links with", m)
	}
	for _, e := range edges {
		target, ok := EdgeTargets[m.Type()][e]
		if !ok {
			return privacy.Denyf("rules: no link check for edge %s.%s", m.Type(), e)
		}
		ids, err := intIDs(idsOf(e))
		if err != nil {
			return privacy.Denyf("rules: edge %s.%s: %v", m.Type(), e, err)
		}
		if len(ids) == 0 {
			continue
		}
		n, err := countVisible[target](ctx, c.Client(), ids)
		if err != nil {
			return fmt.Errorf("rules: checking edge %s.%s: %w", m.Type(), e, err)
		}
		if n != len(ids) {
			return privacy.Denyf("%w: %s.%s", ErrForeignLink, m.Type(), e)
		}
	}
	return nil
}

func intIDs(vs []ent.Value) ([]int, error) {
	ids := make([]int, 0, len(vs))
	for _, v := range vs {
		id, ok := v.(int)
		if !ok {
			return nil, fmt.Errorf("id %v is %T, not int", v, v)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}
