package rules

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/privacy"
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

// ErrNotOwner is returned when a user's create names another user as the
// row's author or creator: like org_id, those come from the scope.
var ErrNotOwner = errors.New("rules: the author or creator must be the signed-in user")

// owned is a mutation whose row names the user who made it (a note's
// author, a job's creator).
type owned interface {
	owner() (int, bool)
	setOwner(int)
}

type noteOwner struct{ *ent.NoteMutation }

func (m noteOwner) owner() (int, bool) { return m.AuthorID() }
func (m noteOwner) setOwner(id int)    { m.SetAuthorID(id) }

type jobOwner struct{ *ent.JobMutation }

func (m jobOwner) owner() (int, bool) { return m.CreatedByID() }
func (m jobOwner) setOwner(id int)    { m.SetCreatedByID(id) }

func ownerOf(m ent.Mutation) (owned, bool) {
	switch m := m.(type) {
	case *ent.NoteMutation:
		return noteOwner{m}, true
	case *ent.JobMutation:
		return jobOwner{m}, true
	}
	return nil, false
}

// checkCreateOwner makes a user's note or job name that user as its author
// or creator, as the repositories do: unset, it is taken from the scope;
// another user is denied, so that nobody writes in someone else's name
// (note.update and note.delete allow a note's author).
func checkCreateOwner() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		s, err := from(ctx)
		if err != nil {
			return err
		}
		o, ok := ownerOf(m)
		if !ok || !m.Op().Is(ent.OpCreate) || !s.IsUser() {
			return privacy.Skip
		}
		switch got, set := o.owner(); {
		case !set:
			o.setOwner(s.UserID())
		case got != s.UserID():
			return privacy.Denyf("%w", ErrNotOwner)
		}
		return privacy.Skip
	})
}

// edgeOf returns the generated description of an edge of typ.
func edgeOf(typ, name string) (ent.ScopeEdge, bool) {
	e, ok := ent.ScopeEdges[typ][name]
	return e, ok
}

// forTenantScopes is a mutation rule that keeps a tenant scope to the rows
// it sees: rule runs on the mutations applies to, under any scope but the
// all-tenant system scope (allTenants), which sees every row and so has
// nothing to narrow or check. The rest it skips; no scope is ErrNoScope.
func forTenantScopes(applies func(ent.Mutation) bool, rule func(context.Context, ent.Mutation) error) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		if !applies(m) {
			return privacy.Skip
		}
		s, err := from(ctx)
		if err != nil {
			return err
		}
		if allTenants(s) {
			return privacy.Skip
		}
		return rule(ctx, m)
	})
}

// idser is what update mutations implement: the ids of the rows they will
// change, read under the mutation's context and predicates.
type idser interface {
	IDs(ctx context.Context) ([]int, error)
}

// narrowClears makes clearing a many-to-many edge (job.ClearManagers,
// user.ClearManagedJobs) under a tenant scope remove only the links whose
// both ends the scope sees: ent would delete every join row of the changed
// rows, links to rows of other tenants and to hidden rows included. Clearing
// an edge whose key lives in the target table (company.ClearJobs) would
// rewrite rows of that table the scope may not see, and is denied.
func narrowClears() privacy.MutationRule {
	clears := func(m ent.Mutation) bool {
		return len(m.ClearedEdges()) > 0 && m.Op().Is(ent.OpUpdate|ent.OpUpdateOne)
	}
	return forTenantScopes(clears, func(ctx context.Context, m ent.Mutation) error {
		for _, name := range m.ClearedEdges() {
			e, ok := edgeOf(m.Type(), name)
			switch {
			case !ok:
				return privacy.Denyf("rules: no clear rule for edge %s.%s", m.Type(), name)
			case e.OwnFK:
				continue // clears a column of the changed row itself
			case e.Rel != ent.EdgeM2M:
				return privacy.Denyf("%w: %s.%s cannot be cleared under a tenant scope", ErrForeignLink, m.Type(), name)
			}
			if err := clearVisibleLinks(ctx, m, e); err != nil {
				return err
			}
		}
		return privacy.Skip
	})
}

// clearVisibleLinks turns the clear of M2M edge e into the removal of the
// links the scope sees, keeping the ids the mutation adds and removes.
func clearVisibleLinks(ctx context.Context, m ent.Mutation, e ent.ScopeEdge) error {
	mi, ok := m.(idser)
	c, ok2 := m.(clientOf)
	if !ok || !ok2 {
		return privacy.Denyf("rules: %T cannot narrow a clear", m)
	}
	ids, err := mi.IDs(ctx)
	if err != nil {
		return fmt.Errorf("rules: rows of %s: %w", m.Type(), err)
	}
	var linked []int
	if len(ids) > 0 {
		if linked, err = c.Client().NeighborIDs(ctx, e.Type, e.Name, ids); err != nil {
			return fmt.Errorf("rules: links of %s.%s: %w", e.Type, e.Name, err)
		}
	}
	added, err := intIDs(m.AddedIDs(e.Name))
	if err != nil {
		return privacy.Denyf("rules: edge %s.%s: %v", e.Type, e.Name, err)
	}
	removed, err := intIDs(m.RemovedIDs(e.Name))
	if err != nil {
		return privacy.Denyf("rules: edge %s.%s: %v", e.Type, e.Name, err)
	}
	if err := m.ResetEdge(e.Name); err != nil {
		return privacy.Denyf("rules: %v", err)
	}
	// Called even with no ids: the edge stays among the mutation's
	// changed edges, so the write policy judges the clear the caller asked
	// for, not the empty removal it became.
	removed = slices.Compact(slices.Sorted(slices.Values(append(removed, linked...))))
	if err := ent.RemoveEdgeIDs(m, e.Name, removed...); err != nil {
		return privacy.Denyf("rules: %v", err)
	}
	if len(added) > 0 {
		if err := ent.AddEdgeIDs(m, e.Name, added...); err != nil {
			return privacy.Denyf("rules: %v", err)
		}
	}
	return nil
}

// clientOf is implemented by every generated mutation: the client bound to
// the mutation's transaction, if any.
type clientOf interface{ Client() *ent.Client }

// checkLinks re-reads, under the same scope, every row a mutation links to
// or unlinks (company, managers, job, author, ...) and denies unless all are
// visible. Without it, SetCompanyID or AddManagerIDs could point at another
// tenant's rows, and RemoveClientIDs could rewrite them: ent's filters
// narrow which rows a mutation changes, not which rows its edge values refer
// to. The error is the same for a foreign row and a missing one.
func checkLinks() privacy.MutationRule {
	links := func(m ent.Mutation) bool { return !m.Op().Is(ent.OpDelete | ent.OpDeleteOne) }
	return forTenantScopes(links, func(ctx context.Context, m ent.Mutation) error {
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
	for _, name := range edges {
		if name == "org" && isLogin(ctx, m) {
			continue // loginInUsersOrg checks it against the user's
		}
		e, ok := edgeOf(m.Type(), name)
		if !ok {
			return privacy.Denyf("rules: no link check for edge %s.%s", m.Type(), name)
		}
		ids, err := intIDs(idsOf(name))
		if err != nil {
			return privacy.Denyf("rules: edge %s.%s: %v", m.Type(), name, err)
		}
		if len(ids) == 0 {
			continue
		}
		n, err := c.Client().CountIDs(ctx, e.Target, ids)
		if err != nil {
			return fmt.Errorf("rules: checking edge %s.%s: %w", m.Type(), name, err)
		}
		if n != len(ids) {
			return privacy.Denyf("%w: %s.%s", ErrForeignLink, m.Type(), name)
		}
	}
	return nil
}

// isLogin reports whether m is a login's session create: the
// authenticator, by email, creating a session.
func isLogin(ctx context.Context, m ent.Mutation) bool {
	s, err := from(ctx)
	if err != nil {
		return false
	}
	l, auth := s.AuthLookup()
	_, session := m.(*ent.SessionMutation)
	return session && auth && l.Email != "" && m.Op().Is(ent.OpCreate)
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

// immutableInverse refuses, for every scope, adding, removing or clearing
// through an edge whose key is an immutable field of the target table
// (user.AddNoteIDs would rewrite notes' author_id, organization.AddJobIDs
// jobs' org_id): ent lets the field be changed from the other side, where
// its immutability is not checked, and fails half-way through at best.
func immutableInverse() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		for _, edges := range [][]string{m.AddedEdges(), m.RemovedEdges(), m.ClearedEdges()} {
			for _, name := range edges {
				e, ok := edgeOf(m.Type(), name)
				if ok && !e.OwnFK && e.Rel != ent.EdgeM2M && e.InverseImmutable {
					return privacy.Denyf("%w: %s.%s would change the immutable %s.%s", ErrReadOnly, e.Type, e.Name, e.Target, e.Inverse)
				}
			}
		}
		return privacy.Skip
	})
}

// systemLimits are the two mutations even the system scope may not make
// (docs/design.md section 5): sessions are created only by logging in, under the
// authenticator scope, and audit events are written only by the audit hook.
func systemLimits() privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		s, err := from(ctx)
		if err != nil {
			return err
		}
		if !s.IsSystem() {
			return privacy.Skip
		}
		switch {
		case m.Type() == ent.TypeSession && m.Op().Is(ent.OpCreate):
			return privacy.Denyf("%w: sessions are created by logging in, not by the system scope", ErrReadOnly)
		case m.Type() == ent.TypeAuditEvent && m.Op().Is(ent.OpCreate) && !isAuditWriter(ctx):
			return privacy.Denyf("%w: audit events are written by the audit hook only", ErrReadOnly)
		case m.Type() == ent.TypeAuditEvent && m.Op().Is(ent.OpUpdate|ent.OpUpdateOne):
			return privacy.Denyf("%w: audit events are never changed", ErrReadOnly)
		}
		return privacy.Skip
	})
}

type auditWriterKey struct{}

// AuditWriterContext marks ctx as the audit hook's own: the one context in
// which the system scope may create audit events. Only internal/audit calls
// it (internal/sourcecheck checks that).
func AuditWriterContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, auditWriterKey{}, true)
}

func isAuditWriter(ctx context.Context) bool {
	v, _ := ctx.Value(auditWriterKey{}).(bool)
	return v
}
