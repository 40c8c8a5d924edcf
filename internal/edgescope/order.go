package edgescope

// The edge orders below are sqlgraph.OrderByNeighborsCount and
// sqlgraph.OrderByNeighborTerms of ent v0.14.5 (dialect/sql/sqlgraph,
// Apache 2.0, Copyright 2019-present Facebook Inc.), changed to read the
// target type's rows through Narrow: the neighbours counted or ordered by are
// the ones the scope sees, as if the hidden ones did not exist.

import (
	"fmt"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqlgraph"
)

// OrderByNeighborsCount orders q by the number of neighbours through s that
// the scope sees (typ is the neighbours' type).
func OrderByNeighborsCount(q *sql.Selector, s *sqlgraph.Step, typ string, opts ...sql.OrderTermOption) {
	terms := []sql.OrderTerm{
		sql.OrderByCount("*", append([]sql.OrderTermOption{sql.OrderAs(countAlias(q, s))}, opts...)...),
	}
	orderByNeighbors(q, s, typ, terms)
}

// OrderByNeighborTerms orders q by terms of the neighbours through s that
// the scope sees (typ is the neighbours' type).
func OrderByNeighborTerms(q *sql.Selector, s *sqlgraph.Step, typ string, opts ...sql.OrderTerm) {
	orderByNeighbors(q, s, typ, opts)
}

func orderByNeighbors(q *sql.Selector, s *sqlgraph.Step, typ string, terms []sql.OrderTerm) {
	join, back, front, linkOrg := neighbors(q, s)
	join.WithContext(q.Context())
	Narrow(join, typ)
	if linkOrg != "" {
		NarrowLink(join, linkOrg) // scopegate
	}
	selectTerms(join, terms)
	q.LeftJoin(join).On(q.C(front), join.C(back))
	orderTerms(q, join, terms)
}

// neighbors returns the subquery over the neighbours through s, selecting
// (and, for a non-unique edge, grouping by) the column that refers back to
// q's rows; back names that column, front the column of q it matches, and
// linkOrg the link table's org_id for a many-to-many edge ("" otherwise).
func neighbors(q *sql.Selector, s *sqlgraph.Step) (join *sql.Selector, back, front, linkOrg string) {
	build := sql.Dialect(q.Dialect())
	switch {
	case s.FromEdgeOwner():
		toT := build.Table(s.To.Table).Schema(s.To.Schema)
		return build.Select(toT.C(s.To.Column)).From(toT), s.To.Column, s.Edge.Columns[0], ""
	case s.ThroughEdgeTable():
		src, dst := s.Edge.Columns[0], s.Edge.Columns[1]
		if s.Edge.Inverse {
			src, dst = dst, src
		}
		toT := build.Table(s.To.Table).Schema(s.To.Schema)
		// Named here: Join would alias it after its columns were written
		// with the table's own name.
		joinT := build.Table(s.Edge.Table).Schema(s.Edge.Schema).As("edge_link")
		join = build.Select(joinT.C(src)).
			From(toT).
			Join(joinT).
			On(toT.C(s.To.Column), joinT.C(dst)).
			GroupBy(joinT.C(src))
		return join, src, s.From.Column, joinT.C(LinkOrgColumn)
	default: // s.ToEdgeOwner(): the key is in the neighbours' table
		toT := build.Table(s.Edge.Table).Schema(s.Edge.Schema)
		join = build.Select(toT.C(s.Edge.Columns[0])).
			From(toT).
			GroupBy(toT.C(s.Edge.Columns[0]))
		return join, s.Edge.Columns[0], s.From.Column, ""
	}
}

// countAlias returns a column alias for the count that q does not select
// yet.
func countAlias(q *sql.Selector, s *sqlgraph.Step) string {
	selected := make(map[string]struct{})
	for _, c := range q.SelectedColumns() {
		selected[c] = struct{}{}
	}
	column := fmt.Sprintf("count_%s", s.To.Table)
	if _, ok := selected[column]; ok {
		for i := 1; i <= 5; i++ {
			ci := fmt.Sprintf("%s_%d", column, i)
			if _, ok := selected[ci]; !ok {
				return ci
			}
		}
	}
	return column
}

func orderTerms(q, join *sql.Selector, ts []sql.OrderTerm) {
	for _, t := range ts {
		var (
			orderC                      string
			orderX                      func(*sql.Selector) sql.Querier
			desc, nullsfirst, nullslast bool
		)
		switch t := t.(type) {
		case *sql.OrderFieldTerm:
			f := t.Field
			if t.As != "" {
				f = t.As
			}
			orderC = join.C(f)
			if t.Selected {
				q.AppendSelect(orderC)
			}
			desc, nullsfirst, nullslast = t.Desc, t.NullsFirst, t.NullsLast
		case *sql.OrderExprTerm:
			if t.As != "" {
				orderC = join.C(t.As)
				if t.Selected {
					q.AppendSelect(orderC)
				}
			} else {
				orderX = t.Expr
			}
			desc, nullsfirst, nullslast = t.Desc, t.NullsFirst, t.NullsLast
		default:
			continue
		}
		q.OrderExprFunc(func(b *sql.Builder) {
			switch {
			case orderC != "":
				b.WriteString(orderC)
			case orderX != nil:
				b.Join(orderX(join))
			}
			// PostgreSQL sorts NULLs as larger than any value; like ent,
			// order them first ascending and last descending unless told.
			switch normalizePG := b.Dialect() == dialect.Postgres && !nullsfirst && !nullslast; {
			case normalizePG && desc:
				b.WriteString(" DESC NULLS LAST")
			case normalizePG:
				b.WriteString(" NULLS FIRST")
			case desc:
				b.WriteString(" DESC")
			}
			if nullsfirst {
				b.WriteString(" NULLS FIRST")
			} else if nullslast {
				b.WriteString(" NULLS LAST")
			}
		})
	}
}

func selectTerms(q *sql.Selector, ts []sql.OrderTerm) {
	for _, t := range ts {
		switch t := t.(type) {
		case *sql.OrderFieldTerm:
			if t.As != "" {
				q.AppendSelectAs(q.C(t.Field), t.As)
			} else {
				q.AppendSelect(q.C(t.Field))
			}
		case *sql.OrderExprTerm:
			q.AppendSelectExprAs(t.Expr(q), t.As)
		}
	}
}
