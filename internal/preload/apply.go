package preload

import (
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/user"
)

// load applies the children of a tree node to the child query of an edge.
type load func(childQuery any)

// entry is one row of a registry table: the description for people and the
// typed ent eager load for the parent query.
type entry struct {
	Description
	apply func(parent any, children Tree)
}

func edgeEntry[Q any](entity Entity, s Surface, edge string, target Entity, filter, order string, limit int, with func(Q, load)) entry {
	return entry{
		Description: Description{Entity: entity, Surface: s, Edge: edge, Target: target, Filter: filter, Order: order, Limit: limit},
		apply: func(parent any, children Tree) {
			with(parent.(Q), func(child any) { applyTree(target, s, child, children) })
		},
	}
}

func jobEdge(s Surface, edge string, target Entity, filter, order string, limit int, with func(*ent.JobQuery, load)) entry {
	return edgeEntry(Job, s, edge, target, filter, order, limit, with)
}

func noteEdge(s Surface, edge string, target Entity, filter, order string, with func(*ent.NoteQuery, load)) entry {
	return edgeEntry(Note, s, edge, target, filter, order, 0, with)
}

func companyEdge(s Surface, edge string, target Entity, filter, order string, limit int, with func(*ent.CompanyQuery, load)) entry {
	return edgeEntry(Company, s, edge, target, filter, order, limit, with)
}

func userEdge(s Surface, edge string, target Entity, filter, order string, limit int, with func(*ent.UserQuery, load)) entry {
	return edgeEntry(User, s, edge, target, filter, order, limit, with)
}

// userReadColumns are the user columns a read returns: all but the
// password hash, which no view renders and only a login reads (internal/
// auth). Not selecting it keeps sixty bytes per user row off the wire and
// out of the scanner, and the hash out of every loaded entity.
var userReadColumns = func() []string {
	var cols []string
	for _, c := range user.Columns {
		if c != user.FieldPasswordHash {
			cols = append(cols, c)
		}
	}
	return cols
}()

// applyTree adds the eager loads of t to q, an ent query of entity. t came
// from Parse, so every edge is in the registry; an edge that is not is a
// programming error and panics rather than load something unchecked.
func applyTree(entity Entity, s Surface, q any, t Tree) {
	if uq, ok := q.(*ent.UserQuery); ok {
		uq.Select(userReadColumns...)
	}
	for _, e := range t.edges() {
		found := false
		for _, en := range tables[entity][s] {
			if en.Edge == e {
				en.apply(q, t[e])
				found = true
				break
			}
		}
		if !found {
			panic(fmt.Sprintf("preload: %s.%s on %s was not validated by Parse", entity, e, s))
		}
	}
}

// Jobs adds the preloads of t (from Parse(Job, s, ...)) to q.
func Jobs(q *ent.JobQuery, s Surface, t Tree) *ent.JobQuery { applyTree(Job, s, q, t); return q }

// Companies adds the preloads of t (from Parse(Company, s, ...)) to q.
func Companies(q *ent.CompanyQuery, s Surface, t Tree) *ent.CompanyQuery {
	applyTree(Company, s, q, t)
	return q
}

// Users adds the preloads of t (from Parse(User, s, ...)) to q.
func Users(q *ent.UserQuery, s Surface, t Tree) *ent.UserQuery { applyTree(User, s, q, t); return q }

// Notes adds the preloads of t (from Parse(Note, s, ...)) to q.
func Notes(q *ent.NoteQuery, s Surface, t Tree) *ent.NoteQuery { applyTree(Note, s, q, t); return q }

// perParentLimit keeps at most limit rows per value of partitionBy, in the
// given order. ent's Limit inside an eager load limits the whole load, not
// each parent, so the load is wrapped: the filtered rows are numbered per
// parent with ROW_NUMBER() OVER (PARTITION BY ...) and only the first limit
// are kept. Still one statement per edge.
//
// The numbered rows come unordered: the window orders each parent's rows
// and the outer query the result, so an ORDER BY of the load's own would
// only make PostgreSQL sort the rows once more before numbering them.
func perParentLimit(partitionBy string, limit int, orderBy ...string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		d := sql.Dialect(s.Dialect())
		s.SetDistinct(false)
		with := d.With("preload_src").As(s.Clone().ClearOrder()).
			With("preload_limited").As(
			d.Select("*").
				AppendSelectExprAs(sql.RowNumber().PartitionBy(partitionBy).OrderBy(orderBy...), "preload_rn").
				From(d.Table("preload_src")),
		)
		t := d.Table("preload_limited").As(s.TableName())
		outer := d.Select(s.UnqualifiedColumns()...).
			From(t).
			Where(sql.LTE(t.C("preload_rn"), limit))
		outer.OrderBy(orderBy...)
		*s = *outer.Prefix(with)
	}
}
