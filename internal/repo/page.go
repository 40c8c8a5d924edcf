package repo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"entgo.io/ent/dialect/sql"

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

// Page is one page of a list, in ascending (org_id, id) order: ascending id
// under a scope narrowed to one tenant (a user's, or an InOrg system
// scope), tenant after tenant under the all-tenant system scope.
type Page[T any] struct {
	Items      []T
	NextCursor string // empty on the last page
	// Redacted lists, per returned entity (preloaded ones included), the
	// fields that were zeroed because the scope may not read them.
	Redacted policy.Redacted
}

// cursor is the keyset position after which the next page starts: the
// (org_id, id) of the last row of the page. It carries the tenant and
// surface it was issued for, so a cursor from another tenant or surface is
// refused (ErrInvalid) instead of being read as a position.
type cursor struct {
	After int `json:"a"`
	// AfterOrg is the org_id of the last row. Under a scope narrowed to
	// one tenant it is that tenant (Org), and omitted; the all-tenant
	// system scope (Org 0) pages across tenants and needs it.
	AfterOrg int    `json:"ao,omitempty"`
	Org      int    `json:"o"`
	Surface  string `json:"s"`
	Filter   string `json:"f,omitempty"`
	Kind     string `json:"k"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor returns the position raw holds: the (org_id, id) after which
// the page starts, (want.Org, 0) without a cursor.
func decodeCursor(raw string, want cursor) (org, id int, err error) {
	if raw == "" {
		return want.Org, 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err == nil && want.Org > 0 {
		// A tenant's cursor never leaves its tenant.
		if c.AfterOrg != 0 {
			err = fmt.Errorf("position in another tenant")
		}
		c.AfterOrg = want.Org
	}
	if err != nil || c.After <= 0 || c.AfterOrg <= 0 || c.Org != want.Org || c.Surface != want.Surface || c.Filter != want.Filter || c.Kind != want.Kind {
		return 0, 0, invalidQuery("cursor", "not a cursor of this list")
	}
	return c.AfterOrg, c.After, nil
}

// listPlan is the checked part of a list call: page size, position, preload
// tree. Building it sends no SQL.
type listPlan struct {
	limit    int
	afterOrg int // org_id of the position; the scope's tenant when it has one
	after    int
	tree     preload.Tree
	pos      cursor
}

// keyset narrows a list query to the page after p's position, in the order
// of ORDER BY org_id, id: rows whose (org_id, id) is greater than the position, and,
// under a scope narrowed to one tenant, not past that tenant's last key.
//
// Why a range on the pair rather than `id > after ORDER BY id`: the tenant
// filter (org_id = $org) makes both jobs_pkey and (org_id, id) deliver the
// rows in id order, and the planner, which assumes a tenant's rows are
// spread evenly over the ids, prices a walk of the primary key that
// discards the other tenants' rows as cheap for a tenant with half the
// rows. When that tenant's rows have the highest ids, the walk reads every
// other row first (150-290 ms in docs/design.md section 8). Written as a range of
// the composite key, the page is a bounded slice of the (org_id, id) index
// (its index conditions), while the primary key could only evaluate it row
// by row as a filter: the planner takes the index with its default
// settings (integration/plan_test.go). Under the all-tenant system scope
// there is no tenant filter, and the same order is what (org_id, id) reads
// from its start.
func (p listPlan) keyset(s *sql.Selector) {
	key := []string{s.C("org_id"), s.C("id")}
	s.Where(sql.CompositeGT(key, p.afterOrg, p.after))
	if p.pos.Org > 0 {
		// Ids are positive: (org, 0) < every row of the next tenant.
		s.Where(sql.CompositeLT(key, p.pos.Org+1, 0))
	}
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
		return listPlan{}, invalidQuery("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	org, _ := s.OrgID()
	pos := cursor{Org: org, Surface: surface.String(), Filter: filter, Kind: string(entity)}
	afterOrg, after, err := decodeCursor(o.Cursor, pos)
	if err != nil {
		return listPlan{}, err
	}
	tree, err := preload.Parse(entity, surface, o.Preload)
	if err != nil {
		return listPlan{}, err
	}
	return listPlan{limit: limit, afterOrg: afterOrg, after: after, tree: tree, pos: pos}, nil
}

// page cuts the limit+1 rows a list fetched into a redacted page and its
// cursor; key returns a row's (org_id, id). A row Redact cannot redact is
// an error, never a page.
func page[T any](s scope.Scope, p listPlan, rows []T, key func(T) (org, id int)) (Page[T], error) {
	next := ""
	if len(rows) > p.limit {
		rows = rows[:p.limit]
		c := p.pos
		org, id := key(rows[len(rows)-1])
		c.After = id
		if c.Org == 0 {
			c.AfterOrg = org
		}
		next = encodeCursor(c)
	}
	red, err := policy.Redact(s, rows)
	if err != nil {
		return Page[T]{}, err
	}
	return Page[T]{Items: rows, NextCursor: next, Redacted: red}, nil
}

// redact redacts v, what a repository method returns, under the scope in
// ctx: every method that returns an entity returns its redaction, so that
// no caller has to remember to compute it.
func redact(ctx context.Context, v any) (policy.Redacted, error) {
	s, err := scopeOf(ctx)
	if err != nil {
		return nil, err
	}
	return policy.Redact(s, v)
}

// checkSurface refuses the admin surface to anyone but admins and the system
// scope. Route authorization does this too; the data layer does not trust it.
// The surface itself needs no check: preload.Surface has no values but the
// two.
func checkSurface(s scope.Scope, surface preload.Surface) error {
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
		return s, preload.Tree{}, err
	}
	if err := checkSurface(s, surface); err != nil {
		return s, preload.Tree{}, err
	}
	t, err := preload.Parse(entity, surface, opts.Preload)
	return s, t, err
}
