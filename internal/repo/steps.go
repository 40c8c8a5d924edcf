package repo

import (
	"context"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
)

// The steps the entities' methods share, each written once. What differs
// between entities stays at the call, where a review reads it: the ent
// query (its filter, its FOR UPDATE, its preloads), the policy action, the
// checks of a write.

// listed is what a List lists: entity on surface, the filter its cursors
// are bound to (a cursor of another filter is refused), and the filter's
// own refusal, nil for a valid filter.
type listed struct {
	entity  preload.Entity
	surface preload.Surface
	filter  string
	invalid error
}

// list runs a List, in this order: the scope from ctx, the filter's
// refusal, the plan of opts (page size, cursor, preloads: no SQL yet), the
// rows fetch reads with it (at most p.limit+1, after the plan's position,
// in (org_id, id) order), and their redacted page and cursor; key returns
// a row's (org_id, id). Every error is classified as op's, a read's.
func list[T any](ctx context.Context, op string, what listed, opts ListOptions,
	fetch func(context.Context, listPlan) ([]T, error), key func(T) (org, id int)) (Page[T], error) {
	s, err := scopeOf(ctx)
	if err == nil {
		err = what.invalid
	}
	if err != nil {
		return Page[T]{}, classifyQuery(op, err)
	}
	p, err := planList(s, what.entity, what.surface, what.filter, opts)
	if err != nil {
		return Page[T]{}, classifyQuery(op, err)
	}
	rows, err := fetch(ctx, p)
	if err != nil {
		return Page[T]{}, classifyQuery(op, err)
	}
	pg, err := page(s, p, rows, key)
	if err != nil {
		return Page[T]{}, classifyQuery(op, err)
	}
	return pg, nil
}

// get runs a Get: its statements find rows by key (database.ByKey), the
// scope and the preload tree of opts for entity on surface, the one row
// fetch reads with that tree (not found if the scope cannot see it), and
// its redaction. Every error is classified as op's, a read's.
func get[T any](ctx context.Context, op string, entity preload.Entity, surface preload.Surface, opts GetOptions,
	fetch func(context.Context, preload.Tree) (T, error)) (T, policy.Redacted, error) {
	var none T
	ctx = database.ByKey(ctx) // its statements find rows by key
	s, tree, err := planGet(ctx, entity, surface, opts)
	if err != nil {
		return none, nil, classifyQuery(op, err)
	}
	v, err := fetch(ctx, tree)
	if err != nil {
		return none, nil, classifyQuery(op, err)
	}
	red, err := policy.Redact(s, v)
	if err != nil {
		return none, nil, classifyQuery(op, err)
	}
	return v, red, nil
}

// authorized returns the row find reads, if the scope in ctx may take
// action on it. A write finds its row FOR UPDATE (the query at the call
// says so), so that the row the policy judged is the row it changes. A
// row the scope cannot see is find's not found; one it sees but may not
// change, the policy's denial.
func authorized[T any](ctx context.Context, action policy.Action, find func(context.Context) (T, error)) (T, error) {
	v, err := find(ctx)
	if err != nil {
		return v, err
	}
	if err := policy.Authorize(ctx, action, v); err != nil {
		var none T
		return none, err
	}
	return v, nil
}

// written ends a Create or an Update: what it wrote, with its redaction
// under the scope in ctx, or err, the write's, classified as op's (an
// invalid value came from the entity given).
func written[T any](ctx context.Context, op string, out T, err error) (T, policy.Redacted, error) {
	return redacted(ctx, op, FromBody, out, err)
}

// read ends a read that is neither a List nor a Get: what it read, with
// its redaction under the scope in ctx, or err, the read's, classified as
// op's (an invalid value came from the query or path).
func read[T any](ctx context.Context, op string, v T, err error) (T, policy.Redacted, error) {
	return redacted(ctx, op, FromQuery, v, err)
}

func redacted[T any](ctx context.Context, op string, src Source, v T, err error) (T, policy.Redacted, error) {
	var none T
	if err != nil {
		return none, nil, classifyFrom(op, src, err)
	}
	red, err := redact(ctx, v)
	if err != nil {
		return none, nil, classifyFrom(op, src, err)
	}
	return v, red, nil
}
