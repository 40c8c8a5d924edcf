package preload

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// MaxDepth is how many edges one path may cross (notes.author is 2).
const MaxDepth = 3

// ErrNotAllowed matches every refused preload under errors.Is.
var ErrNotAllowed = errors.New("preload: not allowed")

// Reason says why a path was refused.
type Reason string

// The reasons a path is refused.
const (
	ReasonMalformed Reason = "malformed"   // whitespace, empty segment, bad character
	ReasonUnknown   Reason = "not_allowed" // not in the registry for this entity and surface
	ReasonTooDeep   Reason = "too_deep"    // more than MaxDepth edges
)

// Error is a refused preload request. It names the path, the entity and
// surface it was asked on, and every path that is allowed there, so a client
// can correct itself.
type Error struct {
	Path    string
	Entity  Entity
	Surface Surface
	Reason  Reason
	Allowed []string
}

func (e *Error) Error() string {
	return fmt.Sprintf("preload %q is %s for %s on the %s surface; allowed: %s",
		e.Path, strings.ReplaceAll(string(e.Reason), "_", " "), e.Entity, e.Surface, strings.Join(e.Allowed, ", "))
}

// Is makes errors.Is(err, ErrNotAllowed) true.
func (e *Error) Is(target error) bool { return target == ErrNotAllowed }

// Tree is a checked set of preloads for one entity on one surface, as Parse
// returns it. Every node is the registry entry of its edge, resolved while
// parsing, so applying a Tree looks nothing up and a Tree cannot name an
// edge the registry does not list. Shared prefixes are merged:
// "notes,notes.author" is one notes load with author under it. The zero
// Tree loads nothing.
//
// The nodes live in one slice, linked by index (1-based; 0 is none), so a
// request costs one allocation however many paths it names.
type Tree struct {
	entity Entity
	nodes  []node
	first  int32 // the first edge of the entity itself
}

// node is one edge to load: its entry, the first edge to load under it, and
// the next edge beside it, in edge order.
type node struct {
	entry       *entry
	child, next int32
}

// Paths returns the tree as sorted dotted paths, leaves only.
func (t Tree) Paths() []string {
	var out []string
	var walk func(prefix string, i int32)
	walk = func(prefix string, i int32) {
		for ; i != 0; i = t.nodes[i-1].next {
			n := t.nodes[i-1]
			p := n.entry.Edge
			if prefix != "" {
				p = prefix + "." + p
			}
			if n.child == 0 {
				out = append(out, p)
			}
			walk(p, n.child)
		}
	}
	walk("", t.first)
	return out
}

// add returns the node of e under the node at link's owner (link is &t.first
// or a node's child), adding it in edge order if it is not there yet.
func (t *Tree) add(link *int32, e *entry) *int32 {
	for *link != 0 && t.nodes[*link-1].entry.Edge < e.Edge {
		link = &t.nodes[*link-1].next
	}
	if *link == 0 || t.nodes[*link-1].entry != e {
		n := node{entry: e, next: *link}
		// link may point into t.nodes: set it before append moves them.
		*link = int32(len(t.nodes) + 1)
		t.nodes = append(t.nodes, n)
	}
	return &t.nodes[*link-1].child
}

// Parse checks raw ("company,managers,notes.author") against the registry of
// entity on surface and returns the tree to load, in one pass: each segment
// is checked for syntax and resolved to its registry entry as it is read.
// Nothing is sent to the database: a refused path is an *Error before any
// SQL.
//
// Which refusal a request with several faults gets: the first malformed or
// too deep path in the request's order, if there is one; otherwise the
// first path not listed, in sorted order, cut after its first unlisted
// edge.
func Parse(entity Entity, surface Surface, raw string) (Tree, error) {
	t := Tree{entity: entity}
	if raw == "" {
		return t, nil
	}
	fail := func(path string, reason Reason) (Tree, error) {
		return Tree{}, &Error{Path: path, Entity: entity, Surface: surface, Reason: reason, Allowed: Allowed(entity, surface)}
	}
	t.nodes = make([]node, 0, min(strings.Count(raw, ",")+strings.Count(raw, ".")+1, maxNodes))
	roots := tables[entity][surface]
	var unlisted string // the least unlisted path so far
	for rest, more := raw, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, ",")
		link, table, depth := &t.first, roots, 0
		for segs, deeper := p, true; deeper; {
			var s string
			s, segs, deeper = strings.Cut(segs, ".")
			if !validSegment(s) {
				return fail(p, ReasonMalformed)
			}
			if depth++; depth > MaxDepth {
				return fail(p, ReasonTooDeep)
			}
			if link == nil {
				continue // past an unlisted edge: syntax only
			}
			e := find(table, s)
			if e == nil {
				// Every byte a segment may hold sorts after '.', so
				// comparing dotted paths as strings is comparing them
				// edge by edge.
				cut := p[:len(p)-len(segs)]
				if deeper {
					cut = cut[:len(cut)-1]
				}
				if unlisted == "" || cut < unlisted {
					unlisted = cut
				}
				link = nil
				continue
			}
			link, table = t.add(link, e), e.sub
		}
	}
	if unlisted != "" {
		return fail(unlisted, ReasonUnknown)
	}
	return t, nil
}

func validSegment(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r != '_' && (r > unicode.MaxASCII || !unicode.IsLower(r) && !unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}
