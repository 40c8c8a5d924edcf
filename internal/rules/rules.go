// Package rules owns the row-level security of the data layer: the ent privacy
// rules that decide, for every query and mutation, which rows the scope in the
// context may see or change (docs/design.md section 3), and the mutation checks that
// ent does not make by itself (docs/design.md section 10): creates in the scope's
// tenant only, links only to rows the scope can see.
//
// The rules run in this order for every entity (see Base and Roles):
//
//	deny without a scope -> tenant filter -> create tenant -> narrow clears
//	-> link checks -> create owner -> immutable inverse edges -> the system
//	scope's two limits ->
//	allow the system scope -> the entity's gate -> visibility filter ->
//	write policy (docs/design.md section 5, internal/policy) -> allow
//
// so that a system scope narrowed with InOrg is narrowed by the tenant filter
// before it is allowed, a user's update or delete reaches only rows they see
// before the policy is asked about them, and no query falls through to an
// implicit allow.
package rules

import (
	"context"
	"errors"
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/intercept"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/internal/scope"
)

// ErrNoScope is what every query and mutation without a scope returns. It
// matches both scope.ErrNoScope and privacy.Deny under errors.Is.
var ErrNoScope = fmt.Errorf("%w: %w", privacy.Deny, scope.ErrNoScope)

// ErrForeignLink is returned when a mutation links to a row the scope cannot
// see: another tenant's, or one hidden by the role rules. It does not say
// which, so a denial reveals nothing about rows of another tenant.
var ErrForeignLink = errors.New("rules: linked row not found")

// ErrWrongTenant is returned when a create names an organization other than
// the scope's.
var ErrWrongTenant = errors.New("rules: organization does not match the scope")

// ErrReadOnly is returned for mutations the scope may never make through the
// data layer (banned users, audit events outside the system scope, ...).
var ErrReadOnly = errors.New("rules: mutation not allowed for this scope")

// wherer is what every generated query and mutation builder implements.
type wherer interface {
	WhereP(...func(*sql.Selector))
}

// pred is a storage-level predicate, the common shape of every generated
// predicate.X type.
type pred = func(*sql.Selector)

// matchAll matches every row.
func matchAll(s *sql.Selector) { s.Where(sql.ExprP("TRUE")) }

// nothing matches no row. Used rather than a Deny for reads, so that a hidden
// row looks exactly like a missing one: an empty list, a not-found error.
func nothing(s *sql.Selector) { s.Where(sql.False()) }

func from(ctx context.Context) (scope.Scope, error) {
	s, ok := scope.FromContext(ctx)
	if !ok {
		return scope.Scope{}, ErrNoScope
	}
	return s, nil
}

// DenyIfNoScope is the first rule of every policy: no scope, no SQL.
func DenyIfNoScope() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if _, err := from(ctx); err != nil {
			return err
		}
		return privacy.Skip
	})
}

// AllowIfSystem allows the system scope. It must come after the tenant
// filter, so that System(...).InOrg(id) is narrowed first.
func AllowIfSystem() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if s, err := from(ctx); err == nil && s.IsSystem() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// filterRule narrows queries, and update and delete mutations, by a predicate
// computed from the scope. Creates are not narrowed (a WHERE clause means
// nothing to an INSERT); CheckCreate and CheckLinks guard them.
type filterRule struct {
	// predicate returns the narrowing predicate; nil means "do not narrow".
	predicate func(s scope.Scope) pred
	// decision is returned after narrowing: Skip for a filter that later
	// rules refine, Allow for the final role rule.
	decision error
}

func (r filterRule) apply(ctx context.Context, w any) error {
	s, err := from(ctx)
	if err != nil {
		return err
	}
	p := r.predicate(s)
	if m, ok := w.(ent.Mutation); ok && p == nil && m.Op().Is(ent.OpUpdateOne) {
		// With a predicate, ent checks that the row exists before it
		// writes the row's edges: an UpdateOneID of a missing id is then
		// *ent.NotFoundError, not a foreign-key error from a join row.
		p = matchAll
	}
	if p != nil {
		wh, ok := w.(wherer)
		if !ok {
			// A builder that cannot be narrowed must not run unnarrowed.
			return privacy.Denyf("rules: %T cannot be filtered", w)
		}
		wh.WhereP(p)
	}
	return r.decision
}

func (r filterRule) EvalQuery(ctx context.Context, q ent.Query) error {
	iq, err := intercept.NewQuery(q)
	if err != nil {
		return privacy.Denyf("rules: %v", err)
	}
	return r.apply(ctx, iq)
}

func (r filterRule) EvalMutation(ctx context.Context, m ent.Mutation) error {
	if m.Op().Is(ent.OpCreate) {
		if _, err := from(ctx); err != nil {
			return err
		}
		return r.decision
	}
	return r.apply(ctx, m)
}

// Base is the head of every entity's policy, shared through the schema's
// BaseMixin: deny without a scope, narrow to the tenant, check what a create
// or a link would reach, then allow the system scope. Its Allow ends the
// evaluation, so the system scope never meets the role rules.
func Base(e Entity) ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			shadowRule{},
			DenyIfNoScope(),
			filterRule{predicate: e.tenant, decision: privacy.Skip},
			AllowIfSystem(),
		},
		Mutation: privacy.MutationPolicy{
			shadowRule{},
			DenyIfNoScope(),
			filterRule{predicate: e.tenant, decision: privacy.Skip},
			checkCreateTenant(),
			narrowClears(),
			checkLinks(),
			checkCreateOwner(),
			immutableInverse(),
			systemLimits(),
			AllowIfSystem(),
		},
	}
}

// Roles is the tail of every entity's policy: the role rules of docs/design.md
// section 3 for reads (with a final deny, so that nothing falls through to
// ent's implicit allow), and for mutations the entity's gate, the same
// visibility filter, and the write policy of docs/design.md section 5.
func Roles(e Entity) ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			filterRule{predicate: e.visible, decision: privacy.Allow},
			privacy.AlwaysDenyRule(),
		},
		Mutation: privacy.MutationPolicy{
			privacy.MutationRuleFunc(e.mutate),
			filterRule{predicate: e.visible, decision: privacy.Skip},
			authorizeWrites(),
			privacy.AlwaysAllowRule(),
		},
	}
}

// TenantTraverser adds `org_id = <scope's org>` to every query, and every
// traversal step, of a tenant-owned type: a second belt, independent of the
// privacy rules, for reads. It fails closed without a scope.
func TenantTraverser() ent.Interceptor {
	return intercept.TraverseFunc(func(ctx context.Context, q intercept.Query) error {
		if shadowOff.Load() {
			return nil
		}
		s, ok := scope.FromContext(ctx)
		if !ok {
			return ErrNoScope
		}
		if org, ok := tenantOrg(s); ok {
			q.WhereP(sql.FieldEQ("org_id", org))
		}
		return nil
	})
}
