// Package preload owns which relations may be eager-loaded, where. A registry
// lists, per entity and per surface (user or admin: where in the app the
// load happens), the edges that may be preloaded, each with its filter, order
// and optional per-parent limit, as a typed ent eager load. A request names
// paths ("company,managers,notes.author"); they are parsed and checked
// against the registry before any SQL is sent, and anything not listed is
// refused with an error that names what is allowed.
//
// The registry only narrows: the ent privacy rules still run inside every
// eager load, so a preloaded row is always one the scope could read directly.
package preload

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Surface says where in the app a load happens. The type is closed: its
// only values are SurfaceUser and SurfaceAdmin, and its zero value is
// SurfaceUser, the narrower one. A Surface therefore needs no checking once
// it exists: a name becomes one in ParseSurface, the only door from text,
// and nothing after it checks again.
type Surface struct{ i uint8 }

// The surfaces.
var (
	SurfaceUser  = Surface{0} // routes under /api/
	SurfaceAdmin = Surface{1} // routes under /api/admin/, admins only
)

// surfaceNames spells the surfaces, by Surface.i.
var surfaceNames = [...]string{"user", "admin"}

// Surfaces lists every surface.
var Surfaces = []Surface{SurfaceUser, SurfaceAdmin}

func (s Surface) String() string { return surfaceNames[s.i] }

// MarshalText spells the surface in JSON ("user", "admin").
func (s Surface) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ErrUnknownSurface is returned for a name that is not a surface.
var ErrUnknownSurface = errors.New("preload: unknown surface")

// ParseSurface returns the surface named s.
func ParseSurface(s string) (Surface, error) {
	for _, v := range Surfaces {
		if v.String() == s {
			return v, nil
		}
	}
	return Surface{}, fmt.Errorf("%w %q (known: user, admin)", ErrUnknownSurface, s)
}

// Entity names a type whose queries accept preloads.
type Entity string

// The entities with registries.
const (
	Job     Entity = "job"
	Company Entity = "company"
	User    Entity = "user"
	Note    Entity = "note"
)

// Description says in words what one entry loads.
type Description struct {
	Entity  Entity  `json:"entity"`
	Surface Surface `json:"surface"`
	Edge    string  `json:"edge"`
	Target  Entity  `json:"target"`
	Filter  string  `json:"filter"`
	Order   string  `json:"order"`
	Limit   int     `json:"limit_per_parent,omitempty"`
}

func describe(entity Entity, surface Surface, edge string) (Description, bool) {
	if e := find(tables[entity][surface], edge); e != nil {
		return e.Description, true
	}
	return Description{}, false
}

// Allowed lists every path that may be preloaded on entity at surface, up to
// MaxDepth, sorted.
func Allowed(entity Entity, surface Surface) []string {
	var out []string
	var walk func(e Entity, prefix string, depth int)
	walk = func(e Entity, prefix string, depth int) {
		if depth == MaxDepth {
			return
		}
		for _, d := range tables[e][surface] {
			p := d.Edge
			if prefix != "" {
				p = prefix + "." + d.Edge
			}
			out = append(out, p)
			walk(d.Target, p, depth+1)
		}
	}
	walk(entity, "", 0)
	sort.Strings(out)
	return out
}

// Describe returns every entry of the registry, by entity, surface and edge.
func Describe() []Description {
	var out []Description
	for _, e := range entities() {
		for _, s := range Surfaces {
			for _, d := range tables[e][s] {
				out = append(out, d.Description)
			}
		}
	}
	return out
}

func entities() []Entity {
	out := make([]Entity, 0, len(tables))
	for e := range tables {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Validate checks the registry itself: every target registered, no edge
// listed twice, every entry filed under its own entity and surface. (Every
// surface is known: Surface has no other values.) Run it at start-up (the server and the
// tests do), so a mistake in a table fails before the first request.
func Validate() error {
	var errs []string
	for e, bySurface := range tables {
		for s, entries := range bySurface {
			seen := map[string]bool{}
			for _, d := range entries {
				if seen[d.Edge] {
					errs = append(errs, fmt.Sprintf("%s.%s listed twice on %s", e, d.Edge, s))
				}
				seen[d.Edge] = true
				if _, ok := tables[d.Target]; !ok {
					errs = append(errs, fmt.Sprintf("%s.%s targets %s, which has no registry", e, d.Edge, d.Target))
				}
				if d.Entity != e || d.Surface != s {
					errs = append(errs, fmt.Sprintf("%s.%s is filed under %s/%s", d.Entity, d.Edge, e, s))
				}
			}
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("preload: invalid registry: %s", strings.Join(errs, "; "))
	}
	return nil
}
