package repo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/scope"
)

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// ListOptions are what every List takes.
type ListOptions struct {
	// Preload is a comma-separated list of dotted paths, checked against
	// the preload registry for the entity and surface.
	Preload string
	// Limit is the page size: 0 means DefaultLimit; above MaxLimit is
	// ErrInvalid.
	Limit int
	// Cursor is the opaque next_cursor of the previous page.
	Cursor string
}

// GetOptions are what every Get takes.
type GetOptions struct {
	Preload string
}

// Page is one page of a list, in ascending id order.
type Page[T any] struct {
	Items      []T
	NextCursor string // empty on the last page
	// Redacted lists, per returned entity (preloaded ones included), the
	// fields that were zeroed because the scope may not read them.
	Redacted policy.Redacted
}

// cursor is the keyset position after which the next page starts. It carries
// the tenant and surface it was issued for, so a cursor from another tenant
// or surface is refused (ErrInvalid) instead of being read as a position.
type cursor struct {
	After   int    `json:"a"`
	Org     int    `json:"o"`
	Surface string `json:"s"`
	Filter  string `json:"f,omitempty"`
	Kind    string `json:"k"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(raw string, want cursor) (int, error) {
	if raw == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.After <= 0 || c.Org != want.Org || c.Surface != want.Surface || c.Filter != want.Filter || c.Kind != want.Kind {
		return 0, invalid("cursor", "not a cursor of this list")
	}
	return c.After, nil
}

// listPlan is the checked part of a list call: page size, position, preload
// tree. Building it sends no SQL.
type listPlan struct {
	limit int
	after int
	tree  preload.Tree
	pos   cursor
}

func planList(s scope.Scope, entity preload.Entity, surface preload.Surface, filter string, o ListOptions) (listPlan, error) {
	if err := checkSurface(s, surface); err != nil {
		return listPlan{}, err
	}
	limit := o.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return listPlan{}, invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	org, _ := s.OrgID()
	pos := cursor{Org: org, Surface: string(surface), Filter: filter, Kind: string(entity)}
	after, err := decodeCursor(o.Cursor, pos)
	if err != nil {
		return listPlan{}, err
	}
	tree, err := preload.Parse(entity, surface, o.Preload)
	if err != nil {
		return listPlan{}, err
	}
	return listPlan{limit: limit, after: after, tree: tree, pos: pos}, nil
}

// page cuts the limit+1 rows a list fetched into a redacted page and its
// cursor.
func page[T any](s scope.Scope, p listPlan, rows []T, id func(T) int) Page[T] {
	next := ""
	if len(rows) > p.limit {
		rows = rows[:p.limit]
		c := p.pos
		c.After = id(rows[len(rows)-1])
		next = encodeCursor(c)
	}
	return Page[T]{Items: rows, NextCursor: next, Redacted: policy.Redact(s, rows)}
}

// checkSurface refuses the admin surface to anyone but admins and the system
// scope. Route authorization does this too; the data layer does not trust it.
func checkSurface(s scope.Scope, surface preload.Surface) error {
	if _, err := preload.ParseSurface(string(surface)); err != nil {
		return invalid("surface", err.Error())
	}
	if surface == preload.SurfaceAdmin {
		return policy.CheckAdminSurface(s)
	}
	return nil
}

func scopeOf(ctx context.Context) (scope.Scope, error) {
	s, ok := scope.FromContext(ctx)
	if !ok {
		return scope.Scope{}, scope.ErrNoScope
	}
	return s, nil
}

func planGet(ctx context.Context, entity preload.Entity, surface preload.Surface, opts GetOptions) (scope.Scope, preload.Tree, error) {
	s, err := scopeOf(ctx)
	if err != nil {
		return s, nil, err
	}
	if err := checkSurface(s, surface); err != nil {
		return s, nil, err
	}
	t, err := preload.Parse(entity, surface, opts.Preload)
	return s, t, err
}
