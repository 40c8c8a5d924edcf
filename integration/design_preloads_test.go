package integration

// docs/design.md section 4's preload table, as the tests expect it: written here
// from the text, never read from internal/preload, so that the leak oracle
// and the HTTP tests compare the registry with an independent copy.

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/preload"
)

// Per-parent caps, written here rather than read from the preload package:
// docs/design.md's "at most the 20 newest notes per job" on the user surface, and
// the 20 newest jobs per company (both surfaces) and per manager (admin
// surface) that bound the loads that fan out (docs/preloads.md).
const (
	designNotesPerJob        = 20
	designJobsPerCompany     = 20
	designManagedJobsPerUser = 20
)

// preloadSpec is what one listed edge loads on one surface.
type preloadSpec struct {
	keep  func(s *world.Snapshot, id int) bool // the surface's filter; nil keeps every row
	order func(s *world.Snapshot, a, b int) int
	limit int // per parent; 0 is none
}

// Orders: newest first, then the larger id, like every order of the
// registry (ids break the ties the world's whole-hour timestamps make).
func managersNewestFirst(s *world.Snapshot, a, b int) int {
	return cmp.Or(s.Users[b].UpdatedAt.Compare(s.Users[a].UpdatedAt), cmp.Compare(b, a))
}

func notesNewestFirst(s *world.Snapshot, a, b int) int {
	return cmp.Or(s.Notes[b].CreatedAt.Compare(s.Notes[a].CreatedAt), cmp.Compare(b, a))
}

func jobsNewestFirst(s *world.Snapshot, a, b int) int {
	return cmp.Or(s.Jobs[b].CreatedAt.Compare(s.Jobs[a].CreatedAt), cmp.Compare(b, a))
}

// designPreloads is docs/design.md section 4's table: world type -> surface -> edge.
// An edge absent from a surface's map is refused there.
var designPreloads = map[string]map[preload.Surface]map[string]preloadSpec{
	world.Job: {
		preload.SurfaceUser: {
			"company": {},
			"managers": {
				keep:  func(s *world.Snapshot, id int) bool { return s.Users[id].Active },
				order: managersNewestFirst,
			},
			"notes": {
				keep:  func(s *world.Snapshot, id int) bool { return !s.Notes[id].Internal },
				order: notesNewestFirst,
				limit: designNotesPerJob,
			},
		},
		preload.SurfaceAdmin: {
			"company":  {},
			"managers": {order: managersNewestFirst},
			"notes":    {order: notesNewestFirst},
			"creator":  {},
		},
	},
	world.Note: {
		preload.SurfaceUser:  {"author": {}},
		preload.SurfaceAdmin: {"author": {}},
	},
	world.Company: {
		preload.SurfaceUser: {
			"jobs": {
				keep:  func(s *world.Snapshot, id int) bool { return s.Jobs[id].Status == "published" },
				order: jobsNewestFirst,
				limit: designJobsPerCompany,
			},
		},
		preload.SurfaceAdmin: {"jobs": {order: jobsNewestFirst, limit: designJobsPerCompany}},
	},
	world.User: {
		preload.SurfaceUser:  {"company": {}},
		preload.SurfaceAdmin: {"company": {}, "managed_jobs": {order: jobsNewestFirst, limit: designManagedJobsPerUser}},
	},
}

// designEntity maps a world type to the preload package's name for it.
var designEntity = map[string]preload.Entity{
	world.Job: preload.Job, world.Note: preload.Note, world.Company: preload.Company, world.User: preload.User,
}

// designAllowedPaths lists, from designPreloads alone, every path of depth at
// most 3 that typ accepts on surface, sorted.
func designAllowedPaths(typ string, surface preload.Surface) []string {
	var out []string
	var walk func(typ, prefix string, depth int)
	walk = func(typ, prefix string, depth int) {
		for _, e := range world.EdgesFrom(typ) {
			if _, ok := designPreloads[typ][surface][e.Name]; !ok || depth == 3 {
				continue
			}
			p := strings.TrimPrefix(prefix+"."+e.Name, ".")
			out = append(out, p)
			walk(e.To, p, depth+1)
		}
	}
	walk(typ, "", 0)
	slices.Sort(out)
	return out
}

// designType returns the world type of a preload entity ("job" -> "Job").
func designType(entity preload.Entity) string {
	for typ, e := range designEntity {
		if e == entity {
			return typ
		}
	}
	panic("design: no preload entity " + entity)
}

// designEntries lists the table for surface as
// "surface:entity.edge->target", in preload's entity names.
func designEntries(surface preload.Surface) []string {
	var out []string
	for typ, bySurface := range designPreloads {
		for _, e := range world.EdgesFrom(typ) {
			if _, ok := bySurface[surface][e.Name]; ok {
				out = append(out, fmt.Sprintf("%s:%s.%s->%s", surface, designEntity[typ], e.Name, designEntity[e.To]))
			}
		}
	}
	return out
}
