// Package edgescope applies a scope's visibility inside the subqueries that
// ent's generated edge predicates and orders build (Has<Edge>,
// Has<Edge>With, By<Edge>Count, By<Edge>, By<Edge>Field): without it they
// read the target table whole, so a member could filter or rank jobs by
// internal notes they cannot read (docs/design.md section 3, rule 8; section 10 (h)).
//
// The generated code (ent/template/edgescope.tmpl) calls Narrow on the
// subquery of the target type. The scope comes from the selector's context,
// which the generated query builders set on every selector they build.
// Which rows a scope sees is internal/rules' business: it registers the
// narrowing function at init. Until it does, and for a selector without a
// scope, Narrow matches nothing: fail closed.
package edgescope

import (
	"sync/atomic"

	"entgo.io/ent/dialect/sql"
)

// NarrowFunc narrows s, a selector over the table of type typ, to the rows
// the scope in s.Context() sees.
type NarrowFunc func(s *sql.Selector, typ string)

var narrow atomic.Pointer[NarrowFunc]

// Register sets the narrowing function. internal/rules calls it at init.
func Register(f NarrowFunc) { narrow.Store(&f) }

// Narrow narrows s, a selector over the table of typ, to the rows the scope
// in its context sees; with no narrowing registered it matches nothing.
func Narrow(s *sql.Selector, typ string) {
	f := narrow.Load()
	if f == nil {
		s.Where(sql.False())
		return
	}
	(*f)(s, typ)
}

// LinkFunc narrows s, a selector that reads the link table of a
// many-to-many edge, to the rows of the scope's tenant; column is the link
// table's org_id as s refers to it.
type LinkFunc func(s *sql.Selector, column string)

var link atomic.Pointer[LinkFunc]

// RegisterLink sets the link narrowing function. internal/rules calls it
// at init.
func RegisterLink(f LinkFunc) { link.Store(&f) }

// NarrowLink narrows the link table rows s reads (its org_id is column) to
// the scope's tenant. The link's two ends are narrowed already (Narrow, and
// the rules of the query the edge starts from), so this removes no row a
// scope sees: it pins the statement to one tenant's links, which lets
// PostgreSQL use the tenant's index and a tenant-sharded cluster route it
// (docs/scaling.md, Tenant routability). Without a registered function it
// does nothing.
func NarrowLink(s *sql.Selector, column string) {
	if f := link.Load(); f != nil {
		(*f)(s, column)
	}
}
