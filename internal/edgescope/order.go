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
	var (
		join  *sql.Selector
		build = sql.Dialect(q.Dialect())
		terms = []sql.OrderTerm{
			sql.OrderByCount("*", append([]sql.OrderTermOption{sql.OrderAs(countAlias(q, s))}, opts...)...),
		}
	)
	switch {
	case s.FromEdgeOwner():
		// A unique edge has no count order in the generated code; order
		// by whether the scope sees the neighbour.
		OrderByNeighborTerms(q, s, typ, sql.OrderByField(s.To.Column, opts...))
		return
	case s.ThroughEdgeTable():
		pk1, pk2 := s.Edge.Columns[0], s.Edge.Columns[1]
		if s.Edge.Inverse {
			pk1, pk2 = pk2, pk1
		}
		toT := build.Table(s.To.Table).Schema(s.To.Schema)
		// Named here: Join would alias it after its columns were
		// written with the table's own name.
		joinT := build.Table(s.Edge.Table).Schema(s.Edge.Schema).As("edge_link")
		join = build.Select(joinT.C(pk1)).
			From(toT).
			Join(joinT).
			On(toT.C(s.To.Column), joinT.C(pk2)).
			GroupBy(joinT.C(pk1))
		join.WithContext(q.Context())
		Narrow(join, typ)
		selectTerms(join, terms)
		q.LeftJoin(join).On(q.C(s.From.Column), join.C(pk1))
	case s.ToEdgeOwner():
		toT := build.Table(s.Edge.Table).Schema(s.Edge.Schema)
		join = build.Select(toT.C(s.Edge.Columns[0])).
			From(toT).
			GroupBy(toT.C(s.Edge.Columns[0]))
		join.WithContext(q.Context())
		Narrow(join, typ)
		selectTerms(join, terms)
		q.LeftJoin(join).On(q.C(s.From.Column), join.C(s.Edge.Columns[0]))
	}
	orderTerms(q, join, terms)
}

// OrderByNeighborTerms orders q by terms of the neighbours through s that
// the scope sees (typ is the neighbours' type).
func OrderByNeighborTerms(q *sql.Selector, s *sqlgraph.Step, typ string, opts ...sql.OrderTerm) {
	var (
		join  *sql.Selector
		build = sql.Dialect(q.Dialect())
	)
	switch {
	case s.FromEdgeOwner():
		toT := build.Table(s.To.Table).Schema(s.To.Schema)
		join = build.Select(toT.C(s.To.Column)).From(toT)
		join.WithContext(q.Context())
		Narrow(join, typ)
		selectTerms(join, opts)
		q.LeftJoin(join).On(q.C(s.Edge.Columns[0]), join.C(s.To.Column))
	case s.ThroughEdgeTable():
		pk1, pk2 := s.Edge.Columns[1], s.Edge.Columns[0]
		if s.Edge.Inverse {
			pk1, pk2 = pk2, pk1
		}
		toT := build.Table(s.To.Table).Schema(s.To.Schema)
		// Named here: Join would alias it after its columns were
		// written with the table's own name.
		joinT := build.Table(s.Edge.Table).Schema(s.Edge.Schema).As("edge_link")
		join = build.Select(joinT.C(pk2)).
			From(toT).
			Join(joinT).
			On(toT.C(s.To.Column), joinT.C(pk1)).
			GroupBy(joinT.C(pk2))
		join.WithContext(q.Context())
		Narrow(join, typ)
		selectTerms(join, opts)
		q.LeftJoin(join).On(q.C(s.From.Column), join.C(pk2))
	case s.ToEdgeOwner():
		toT := build.Table(s.Edge.Table).Schema(s.Edge.Schema)
		join = build.Select(toT.C(s.Edge.Columns[0])).
			From(toT).
			GroupBy(toT.C(s.Edge.Columns[0]))
		join.WithContext(q.Context())
		Narrow(join, typ)
		selectTerms(join, opts)
		q.LeftJoin(join).On(q.C(s.From.Column), join.C(s.Edge.Columns[0]))
	}
	orderTerms(q, join, opts)
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
