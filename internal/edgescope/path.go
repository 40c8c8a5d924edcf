package edgescope

import (
	"context"

	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"
)

// SetNeighbors is sqlgraph.SetNeighbors of ent v0.14.5 (dialect/sql/
// sqlgraph, Apache 2.0, Copyright 2019-present Facebook Inc.), the
// traversal from a query to its neighbours, changed for many-to-many edges:
// the link table is read through NarrowLink, under the scope of ctx. The
// other edges go to sqlgraph as they are.
func SetNeighbors(ctx context.Context, dialect string, s *sqlgraph.Step) *sql.Selector {
	if !s.ThroughEdgeTable() {
		return sqlgraph.SetNeighbors(dialect, s)
	}
	set := s.From.V.(*sql.Selector)
	builder := sql.Dialect(dialect)
	pk1, pk2 := s.Edge.Columns[1], s.Edge.Columns[0]
	if s.Edge.Inverse {
		pk1, pk2 = pk2, pk1
	}
	to := builder.Table(s.To.Table).Schema(s.To.Schema)
	set.Select(set.C(s.From.Column))
	join := builder.Table(s.Edge.Table).Schema(s.Edge.Schema)
	match := builder.Select(join.C(pk1)).
		From(join).
		Join(set).
		On(join.C(pk2), set.C(s.From.Column))
	match.WithContext(ctx)
	NarrowLink(match, join.C(LinkOrgColumn)) // scopegate
	return builder.Select().
		From(to).
		Join(match).
		On(to.C(s.To.Column), match.C(pk1))
}

// LinkOrgColumn is the tenant column of a link table: every many-to-many
// link table carries its rows' organization on PostgreSQL (migration
// tenant_keys), filled from its ends and bound to both by foreign keys.
// The embedded SQLite schema, made from the ent schema, lacks it: the
// registered LinkFunc pins links on PostgreSQL only.
const LinkOrgColumn = "org_id"

// LinkOrg is the org_id column of the link table of a many-to-many
// step's edge, as a selector that reads the table under its own name
// refers to it.
func LinkOrg(s *sqlgraph.Step) string {
	return sql.Table(s.Edge.Table).Schema(s.Edge.Schema).C(LinkOrgColumn)
}
