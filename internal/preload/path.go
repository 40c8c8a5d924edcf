package preload

import (
	"errors"
	"fmt"
	"sort"
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

// Tree is a parsed set of preload paths: each edge to load, with the edges to
// load under it. Shared prefixes are merged: "notes,notes.author" is one
// notes load with author under it.
type Tree map[string]Tree

// Paths returns the tree as sorted dotted paths, leaves only.
func (t Tree) Paths() []string {
	var out []string
	var walk func(prefix string, t Tree)
	walk = func(prefix string, t Tree) {
		for _, k := range t.edges() {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			if len(t[k]) == 0 {
				out = append(out, p)
			}
			walk(p, t[k])
		}
	}
	walk("", t)
	return out
}

// edges returns the tree's edges in a stable order.
func (t Tree) edges() []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parse splits a comma-separated list of dotted paths into a tree, checking
// only the syntax. An empty string is an empty tree. Leaves are nil trees,
// so a request of plain edges allocates one map.
func parse(raw string) (Tree, string, error) {
	t := Tree{}
	if raw == "" {
		return t, "", nil
	}
	for rest, more := raw, true; more; {
		var p string
		p, rest, more = strings.Cut(rest, ",")
		node, depth := t, 0
		for segs, deeper := p, true; deeper; {
			var s string
			s, segs, deeper = strings.Cut(segs, ".")
			if !validSegment(s) {
				return nil, p, errors.New("malformed")
			}
			if depth++; depth > MaxDepth {
				return nil, p, errTooDeep
			}
			child, ok := node[s]
			switch {
			case deeper && child == nil:
				child = Tree{}
				node[s] = child
			case !ok:
				node[s] = nil
			}
			node = child
		}
	}
	return t, "", nil
}

var errTooDeep = errors.New("too deep")

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
