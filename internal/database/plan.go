package database

import (
	"context"
	"strings"
)

// How PostgreSQL plans the seam's prepared statements (conn.go keeps each
// statement prepared on its connection).
//
// By default every statement in a scoped transaction is planned for its own
// arguments (plan_cache_mode = force_custom_plan), as an unprepared
// statement is: after five runs PostgreSQL may otherwise switch a prepared
// statement to one generic plan, priced for an average tenant. Chosen
// while small tenants ran it, that plan read every note of a 100,000-job
// tenant to load one job's notes (11 ms for a 0.1 ms statement, 1M-job
// world, docs/benchmarks.md).
//
// Planning is not free under row-level security: every policy, and every
// policy of the tables its subqueries read, is planned into the statement
// (1.2 to 2 ms for the one-row session lookup of authentication; 0.04 ms
// to run a generic plan of it). A statement that finds its rows by key (a
// primary or unique key, or a short list of them) has one best plan
// whatever the arguments and whatever the tenant's size: an index lookup
// on that key. ByKey marks a context whose statements are all of that kind,
// and the seam plans them once per connection (force_generic_plan).
//
// Eager loads stay planned per call even under ByKey: they match their
// rows by a parent key (col = ANY($n), ent/eagerin.go), and how many rows
// that is, and the best plan for it, depends on the parents' tenant.
const (
	planPerCall = "force_custom_plan"
	planOnce    = "force_generic_plan"
)

type byKeyKey struct{}

// ByKey returns ctx marked: every statement run under it, but eager loads,
// finds its rows by key (get, create, update or delete one row; check a
// list of ids), so PostgreSQL may plan it once per connection and reuse the
// plan. A statement whose best plan depends on a tenant's size (a list, a
// count, a bulk change) must not run under it: it would run with the plan
// chosen for whichever tenant ran it first.
func ByKey(ctx context.Context) context.Context {
	return context.WithValue(ctx, byKeyKey{}, true)
}

// planMode returns the plan_cache_mode query runs with under ctx.
func planMode(ctx context.Context, query string) string {
	if k, _ := ctx.Value(byKeyKey{}).(bool); k && !strings.Contains(query, " = ANY(") {
		return planOnce
	}
	return planPerCall
}

// planModeSQL is the statement that sets mode for the rest of the
// transaction; it rides with the statement that needs it.
func planModeSQL(mode string) string {
	return "SELECT set_config('plan_cache_mode', '" + mode + "', true)"
}
