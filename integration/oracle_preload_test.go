package integration

// The leak oracle's preload extension (issue 4): for every scope of a world,
// on both surfaces, random preload requests of depth 1 to 3 go through
// preload.Parse and the registry's eager loads, and every loaded child list
// is compared with the one computed in plain Go: the rows the scope sees
// (package world, docs/design.md section 3) AND the surface's filter, in the
// surface's order, cut to the per-parent limit. The expected table
// (designPreloads) is written from docs/design.md section 4, not read from the
// registry, so that a registry entry that widens, drops or reorders
// something is a mismatch.
//
// Requests are drawn from every edge of the schema, not only the listed
// ones: a request naming an unlisted edge anywhere must be refused with a
// *preload.Error that names a refused path of the request, the entity, the
// surface and exactly the allowed paths this table implies.

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/preload"
)

// preloadRequestsPerEntity is how many random requests each scope makes per
// entity and surface, besides the one that names every listed edge.
const preloadRequestsPerEntity = 3

// preloadRequest is a parsed request as the oracle builds it: the edges at
// this level, each with the ones under it.
type preloadRequest []preloadNode

type preloadNode struct {
	edge world.Edge
	sub  preloadRequest
}

// add merges a path (a list of edges) into the request.
func (r preloadRequest) add(path []world.Edge) preloadRequest {
	if len(path) == 0 {
		return r
	}
	for i := range r {
		if r[i].edge == path[0] {
			r[i].sub = r[i].sub.add(path[1:])
			return r
		}
	}
	return append(r, preloadNode{edge: path[0], sub: preloadRequest(nil).add(path[1:])})
}

// refused returns the paths of the request that the table refuses on
// surface: each path cut at its first unlisted edge.
func (r preloadRequest) refused(surface preload.Surface, prefix string) []string {
	var out []string
	for _, n := range r {
		p := strings.TrimPrefix(prefix+"."+n.edge.Name, ".")
		if _, ok := designPreloads[n.edge.From][surface][n.edge.Name]; !ok {
			out = append(out, p)
			continue
		}
		out = append(out, n.sub.refused(surface, p)...)
	}
	return out
}

// preloads runs the preload requests of one scope on both surfaces.
func (o *oracle) preloads() {
	for _, surface := range preload.Surfaces {
		for _, typ := range []string{world.Job, world.Company, world.User, world.Note} {
			// Every listed edge of typ at once, each with a random tail.
			var paths [][]world.Edge
			for _, e := range world.EdgesFrom(typ) {
				if _, ok := designPreloads[typ][surface][e.Name]; ok {
					paths = append(paths, o.preloadPath(e, surface, 1+o.r.IntN(3), false))
				}
			}
			o.preloadCase(typ, surface, paths)
			for range preloadRequestsPerEntity {
				o.preloadCase(typ, surface, o.randomPreloadPaths(typ, surface))
			}
		}
	}
}

// randomPreloadPaths returns one to three paths from typ, each of depth 1 to
// 3; a path strays off the table (an unlisted edge) one time in eight per
// edge, and a path is sometimes repeated or followed by its own prefix, which
// must merge.
func (o *oracle) randomPreloadPaths(typ string, surface preload.Surface) [][]world.Edge {
	var paths [][]world.Edge
	for range 1 + o.r.IntN(3) {
		first, ok := o.preloadEdge(typ, surface, true)
		if !ok {
			continue
		}
		p := o.preloadPath(first, surface, 1+o.r.IntN(3), true)
		paths = append(paths, p)
		switch o.r.IntN(6) {
		case 0:
			paths = append(paths, p)
		case 1:
			paths = append(paths, p[:1])
		}
	}
	return paths
}

// preloadPath extends first into a path of up to depth edges.
func (o *oracle) preloadPath(first world.Edge, surface preload.Surface, depth int, stray bool) []world.Edge {
	path := []world.Edge{first}
	for len(path) < depth {
		next, ok := o.preloadEdge(path[len(path)-1].To, surface, stray)
		if !ok {
			break
		}
		path = append(path, next)
	}
	return path
}

// preloadEdge picks an edge from typ: one the table lists on surface, or,
// one time in eight when stray is set (and always when none is listed), any
// edge of the schema. False if typ has no edge at all.
func (o *oracle) preloadEdge(typ string, surface preload.Surface, stray bool) (world.Edge, bool) {
	all := world.EdgesFrom(typ)
	var listed []world.Edge
	for _, e := range all {
		if _, ok := designPreloads[typ][surface][e.Name]; ok {
			listed = append(listed, e)
		}
	}
	pool := listed
	if len(listed) == 0 || stray && o.r.IntN(8) == 0 {
		pool = all
	}
	if len(pool) == 0 {
		return world.Edge{}, false
	}
	return pool[o.r.IntN(len(pool))], true
}

func preloadSpelling(paths [][]world.Edge) string {
	parts := make([]string, len(paths))
	for i, p := range paths {
		names := make([]string, len(p))
		for j, e := range p {
			names[j] = e.Name
		}
		parts[i] = strings.Join(names, ".")
	}
	return strings.Join(parts, ",")
}

// preloadCase parses one request and, if the table accepts it, loads every
// row of typ with it and checks the parents and every loaded child list; if
// the table refuses it, checks the typed error.
func (o *oracle) preloadCase(typ string, surface preload.Surface, paths [][]world.Edge) {
	o.stats.preloadRequests.Add(1)
	raw := preloadSpelling(paths)
	var req preloadRequest
	for _, p := range paths {
		req = req.add(p)
	}
	name := fmt.Sprintf("preload %s on %s surface: %q", typ, surface, raw)
	entity := designEntity[typ]
	tree, err := preload.Parse(entity, surface, raw)
	if refused := req.refused(surface, ""); len(refused) > 0 {
		o.preloadRefused(name, err, typ, surface, refused)
		return
	}
	if err != nil {
		o.stats.cases.Add(1)
		o.mismatch(name, "refused a request the table allows: %v", err)
		return
	}
	parents, err := o.preloadAll(entity, tree)
	o.ids(name+" .All", dynIDs(parents), err, o.visible(typ))
	if err == nil {
		o.checkPreloaded(name, surface, parents, req)
	}
}

// preloadRefused wants a *preload.Error for one of the refused paths, naming
// the entity, the surface and the allowed paths.
func (o *oracle) preloadRefused(name string, err error, typ string, surface preload.Surface, refused []string) {
	o.stats.cases.Add(1)
	var pe *preload.Error
	switch {
	case err == nil:
		o.mismatch(name, "accepted; the table refuses %v", refused)
	case !errors.As(err, &pe) || !errors.Is(err, preload.ErrNotAllowed):
		o.mismatch(name, "error %v (%T), want a *preload.Error matching preload.ErrNotAllowed", err, err)
	case !slices.Contains(refused, pe.Path):
		o.mismatch(name, "error names path %q, want one of %v", pe.Path, refused)
	case pe.Entity != designEntity[typ] || pe.Surface != surface || pe.Reason != preload.ReasonUnknown:
		o.mismatch(name, "error says entity %s, surface %s, reason %s", pe.Entity, pe.Surface, pe.Reason)
	case !slices.Equal(pe.Allowed, designAllowedPaths(typ, surface)):
		o.mismatch(name, "error allows %v, the table %v", pe.Allowed, designAllowedPaths(typ, surface))
	}
}

// preloadAll runs a query of every row of entity with the tree's preloads,
// in the scope, as the repositories do.
func (o *oracle) preloadAll(entity preload.Entity, tree preload.Tree) ([]reflect.Value, error) {
	var (
		rows any
		err  error
	)
	switch entity {
	case preload.Job:
		rows, err = preload.Jobs(o.client.Job.Query(), tree).All(o.ctx)
	case preload.Company:
		rows, err = preload.Companies(o.client.Company.Query(), tree).All(o.ctx)
	case preload.User:
		rows, err = preload.Users(o.client.User.Query(), tree).All(o.ctx)
	case preload.Note:
		rows, err = preload.Notes(o.client.Note.Query(), tree).All(o.ctx)
	default:
		panic("oracle: no preload entry point for " + entity)
	}
	if err != nil {
		return nil, err
	}
	return dynSlice(reflect.ValueOf(rows)), nil
}

// checkPreloaded compares every loaded child list, all the way down, with
// the rows the scope sees under the edge, filtered, ordered and cut as the
// table says.
func (o *oracle) checkPreloaded(name string, surface preload.Surface, rows []reflect.Value, req preloadRequest) {
	for _, row := range rows {
		id := dynEntityID(row)
		for _, n := range req {
			at := fmt.Sprintf("%s: %s(%d).Edges.%s", name, n.edge.From, id, n.edge.Go())
			children, err := dynLoaded(row, eagerLoad{edge: n.edge})
			spec := designPreloads[n.edge.From][surface][n.edge.Name]
			want := o.expectPreloaded(n.edge, spec, id)
			o.stats.preloadLists.Add(1)
			if spec.order != nil {
				o.ordered(at, dynIDs(children), err, want)
			} else {
				o.ids(at, dynIDs(children), err, want)
			}
			if err == nil && len(n.sub) > 0 {
				o.checkPreloaded(name, surface, children, n.sub)
			}
		}
	}
}

// expectPreloaded is what parent id must hold under e: privacy, then the
// filter, then the order, then the per-parent limit.
func (o *oracle) expectPreloaded(e world.Edge, spec preloadSpec, id int) []int {
	want := []int{}
	for _, c := range o.reach(e, []int{id}) {
		if spec.keep == nil || spec.keep(o.world, c) {
			want = append(want, c)
		}
	}
	if spec.order != nil {
		slices.SortFunc(want, func(a, b int) int { return spec.order(o.world, a, b) })
	}
	if spec.limit > 0 && len(want) > spec.limit {
		want = want[:spec.limit]
		o.stats.preloadCut.Add(1)
	}
	return want
}
