package rules

import (
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/edgescope"
	"github.com/scopegate/scopegate/internal/scope"
)

// entities maps every type to its rules, for the subqueries of edge
// predicates and orders (internal/edgescope).
var entities = map[string]Entity{
	ent.TypeOrganization: Organization,
	ent.TypeUser:         User,
	ent.TypeCompany:      Company,
	ent.TypeJob:          Job,
	ent.TypeNote:         Note,
	ent.TypeSession:      Session,
	ent.TypeAuditEvent:   AuditEvent,
}

func init() {
	edgescope.Register(narrowTo)
	edgescope.RegisterLink(pinLink)
}

// pinLink narrows the rows of a link table (job_managers) that s reads to
// the scope's tenant, on PostgreSQL, where the link table has org_id
// (edgescope.NarrowLink). A scope of no tenant (the all-tenant system
// scope, the authenticator) reads links unpinned; the embedded SQLite
// schema has no such column.
func pinLink(s *sql.Selector, column string) {
	if shadowOff.Load() || s.Dialect() != dialect.Postgres {
		return
	}
	sc, ok := scope.FromContext(s.Context())
	if !ok {
		return // Narrow, on the link's ends, fails closed
	}
	if org, ok := tenantOrg(sc); ok {
		s.Where(sql.EQ(column, org))
	}
}

// narrowTo narrows s, a subquery over typ's table built by an edge predicate
// or order, to the rows a query of typ would return under the scope in s's
// context: the same tenant filter and role rules, in the same order (the
// system scope is allowed after the tenant filter). No scope, no rows.
func narrowTo(s *sql.Selector, typ string) {
	if shadowOff.Load() {
		return
	}
	sc, ok := scope.FromContext(s.Context())
	e, known := entities[typ]
	if !ok || !known {
		s.Where(sql.False())
		return
	}
	if p := e.tenant(sc); p != nil {
		p(s)
	}
	if sc.IsSystem() {
		return
	}
	if p := e.visible(sc); p != nil {
		p(s)
	}
}
