package preload

import (
	"fmt"

	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/user"
)

// load applies the edges under a node to the child query of its edge.
type load func(childQuery any)

// entry is one row of a registry table: the description for people, the
// typed ent eager load for the parent query, and the table of the edge's
// target on the same surface, where the edges under it are looked up.
type entry struct {
	Description
	apply func(parent any, nodes []node, children int32)
	sub   []entry
}

func edgeEntry[Q any](entity Entity, s Surface, edge string, target Entity, filter, order string, limit int, with func(Q, load)) entry {
	return entry{
		Description: Description{Entity: entity, Surface: s, Edge: edge, Target: target, Filter: filter, Order: order, Limit: limit},
		// The registry files an entry under its entity, so the parent
		// is always that entity's query.
		apply: func(parent any, nodes []node, children int32) {
			with(parent.(Q), func(child any) { applyNodes(child, nodes, children) })
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

// applyNodes adds to q the eager loads of the edges from nodes[first-1] on,
// each with the edges under it. The nodes hold their registry entries:
// nothing is looked up.
func applyNodes(q any, nodes []node, first int32) {
	if uq, ok := q.(*ent.UserQuery); ok {
		uq.Select(userReadColumns...)
	}
	for i := first; i != 0; i = nodes[i-1].next {
		n := &nodes[i-1]
		n.entry.apply(q, nodes, n.child)
	}
}

// apply adds t's eager loads to q, a query of entity. A tree parsed for
// another entity is a programming error, like a query of the wrong type,
// and panics rather than load edges of another table.
func (t Tree) apply(entity Entity, q any) {
	if t.first != 0 && t.entity != entity {
		panic(fmt.Sprintf("preload: a tree parsed for %s applied to a %s query", t.entity, entity))
	}
	applyNodes(q, t.nodes, t.first)
}

// Jobs adds the preloads of t (from Parse(Job, ...)) to q.
func Jobs(q *ent.JobQuery, t Tree) *ent.JobQuery { t.apply(Job, q); return q }

// Companies adds the preloads of t (from Parse(Company, ...)) to q.
func Companies(q *ent.CompanyQuery, t Tree) *ent.CompanyQuery { t.apply(Company, q); return q }

// Users adds the preloads of t (from Parse(User, ...)) to q.
func Users(q *ent.UserQuery, t Tree) *ent.UserQuery { t.apply(User, q); return q }

// Notes adds the preloads of t (from Parse(Note, ...)) to q.
func Notes(q *ent.NoteQuery, t Tree) *ent.NoteQuery { t.apply(Note, q); return q }

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
