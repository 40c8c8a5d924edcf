package integration

// The leak oracle's shape families (oracle_test.go runs them): every case
// belongs to one family, and the summary counts cases and mismatches per
// family. This file holds the families, the known gaps, the summary, and the
// shapes that start from a row rather than from a query: traversals from an
// entity value, edge predicates (Has<Edge>, Has<Edge>With) and edge orders
// (By<Edge>Count, By<Edge>, By<Edge>Field). docs/design.md section 3 rule 8: a row
// the scope cannot see is never a starting point, and hidden rows count as
// absent in every predicate, order and count through an edge.

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/organization"
	"github.com/scopegate/scopegate/ent/session"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/world"
)

// The families of cases, in the order the summary prints them.
const (
	familyNoScope        = "no scope"         // checkNoScope
	familyList           = "list"             // lists
	familyGet            = "get"              // gets
	familyTraverseQuery  = "traverse(query)"  // Query().QueryX(), Where(id).QueryX()
	familyTraverseEntity = "traverse(entity)" // client.T.QueryX(&ent.T{ID}), row.QueryX(): IDs, Exist
	familyCountRelations = "count(relations)" // Count of a traversal from one row, every form
	familyEager          = "eager"            // WithX, at every depth
	familyPreload        = "preload"          // the preload registry (oracle_preload_test.go)
	familyEdgePredicate  = "edge-predicate"   // Has<Edge>, Has<Edge>With, Not(Has<Edge>)
	familyEdgeOrder      = "edge-order"       // By<Edge>Count, By<Edge>, By<Edge>Field
	familyMutation       = "mutation"         // bulk and one-row updates and deletes, ForUpdate
)

var oracleFamilies = []string{
	familyNoScope, familyList, familyGet, familyTraverseQuery, familyTraverseEntity,
	familyCountRelations, familyEager, familyPreload, familyEdgePredicate, familyEdgeOrder,
	familyMutation,
}

// oracleKnownGaps lists the families whose mismatches are known gaps: rules
// docs/design.md section 3 states but the data layer does not enforce yet, with the
// reason. Their mismatches are counted apart, logged and printed loudly in
// the summary, never counted as passing cases and never fail the test;
// except what no hidden row can explain, which fails as in any family: an
// unexpected error, and a mismatch under the all-tenant system scope. The
// list cannot go stale: a listed family with no (known-gap) mismatch in a
// run fails the test, so a fix must take it off the list, and from then on
// its mismatches fail like any other. (Rule 8 also allows refusing such a
// shape with a typed error; a fix that refuses must teach the family's
// checks to expect that error.)
//
// It is empty: the last gaps, edge predicates and edge orders (docs/design.md section 10
// (h)), are closed by internal/edgescope, and their families are asserted
// like every other.
var oracleKnownGaps = map[string]string{}

// oracleSummary holds the run's counts per family.
type oracleSummary struct {
	// name heads the report's lines ("leak oracle" if empty).
	name     string
	mu       sync.Mutex
	families map[string]*oracleStats
}

func (s *oracleSummary) add(family string, st *oracleStats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.families == nil {
		s.families = map[string]*oracleStats{}
	}
	if s.families[family] == nil {
		s.families[family] = &oracleStats{}
	}
	s.families[family].add(st)
}

// report prints the summary: the total line of the families that must pass
// (the one other tooling greps, "leak oracle: "), a line per family, and the
// known gaps; and fails the test on what the counts say went untested or
// stale.
func (s *oracleSummary) report(t *testing.T, worlds int, took time.Duration) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	names := slices.Clone(oracleFamilies)
	for _, f := range slices.Sorted(maps.Keys(s.families)) {
		if !slices.Contains(names, f) {
			names = append(names, f)
		}
	}
	get := func(f string) *oracleStats {
		if st := s.families[f]; st != nil {
			return st
		}
		return &oracleStats{}
	}
	// The total counts the families that must pass, and the mismatches
	// of known-gap families that fail all the same: its mismatches are
	// what fails the test.
	var total oracleStats
	for _, f := range names {
		if _, gap := oracleKnownGaps[f]; !gap {
			total.add(get(f))
		} else {
			total.mismatches.Add(get(f).failures.Load())
		}
	}
	name := s.name
	if name == "" {
		name = "leak oracle"
	}
	lines := []string{fmt.Sprintf(name+": %d worlds, %d cases compared (%d preload requests, %d preloaded child lists, %d cut by a per-parent limit), %d mismatches (%s)",
		worlds, total.cases.Load(), total.preloadRequests.Load(), total.preloadLists.Load(), total.preloadCut.Load(), total.mismatches.Load(),
		took.Round(time.Millisecond))}
	for _, f := range names {
		st := get(f)
		note := ""
		if reason, gap := oracleKnownGaps[f]; gap {
			note = fmt.Sprintf("  KNOWN GAP (%s): not counted above", reason)
			if n := st.failures.Load(); n > 0 {
				note += fmt.Sprintf("; %d of them FAIL (errors, or under the all-tenant system scope)", n)
			}
		}
		lines = append(lines, fmt.Sprintf(name+" family %-18s %8d cases compared, %6d mismatches%s",
			f+":", st.cases.Load(), st.mismatches.Load(), note))
	}
	var gaps, reasons []string
	var gapMismatches int64
	for _, f := range names {
		if reason, gap := oracleKnownGaps[f]; gap {
			n := get(f).mismatches.Load() - get(f).failures.Load()
			gaps = append(gaps, fmt.Sprintf("%d %s", n, f))
			gapMismatches += n
			if !slices.Contains(reasons, reason) {
				reasons = append(reasons, reason)
			}
		}
	}
	if len(gaps) > 0 {
		gapLine := fmt.Sprintf("leak oracle: KNOWN GAPS (%s, not yet enforced): %s mismatches",
			strings.Join(reasons, "; "), strings.Join(gaps, " and "))
		lines = append(lines, gapLine)
		if gapMismatches > 0 {
			bar := strings.Repeat("!", 78)
			lines = append(lines, bar,
				"!! "+gapLine,
				"!! Rows the scope cannot see still decide these answers (docs/design.md section 3 rule 8).",
				"!! They do not fail the test while their family is in oracleKnownGaps.",
				bar)
		}
	}
	for _, l := range lines {
		t.Log(l)
		fmt.Println(l)
	}

	if total.cases.Load() == 0 || total.preloadLists.Load() == 0 {
		t.Error("leak oracle compared nothing")
	}
	if total.preloadCut.Load() == 0 {
		// Every world has a published job with more public notes than
		// the limit; if no list was cut, the limit went untested.
		t.Error("leak oracle: no preloaded list met the per-parent limit")
	}
	for _, f := range oracleFamilies {
		if get(f).cases.Load() == 0 {
			t.Errorf("leak oracle: family %s compared nothing", f)
		}
	}
	for _, f := range slices.Sorted(maps.Keys(oracleKnownGaps)) {
		switch st := get(f); {
		case !slices.Contains(oracleFamilies, f):
			t.Errorf("leak oracle: oracleKnownGaps lists %q, which is no family (%v)", f, oracleFamilies)
		case st.cases.Load() > 0 && st.mismatches.Load() == st.failures.Load():
			t.Errorf("leak oracle: known-gap family %s had no mismatch in %d cases: the gap (%s) seems closed; take %s off oracleKnownGaps so that its mismatches fail the test",
				f, st.cases.Load(), oracleKnownGaps[f], f)
		}
	}
}

// gapMismatch records a mismatch of a known-gap family: logged (as many as
// mismatch prints), counted by kind, never failed.
func (o *oracle) gapMismatch(reason, name, format string, args ...any) {
	if !o.countKind(o.gapKinds, &o.gapPrinted, name) {
		return
	}
	o.t.Logf("leak oracle KNOWN GAP (%s; not a failure)\n\tseed:   %d (SCOPEGATE_ORACLE_SEED=%d)\n\tscope:  %s\n\tfamily: %s\n\tcase:   %s\n\t%s",
		reason, o.seed, o.seed, o.desc, o.family, name, fmt.Sprintf(format, args...))
}

// ---------------------------------------------------------------------------
// Shapes: traversals from an entity value

// oracleLoadAll loads every row of every type under ctx (the all-tenant
// system scope), by id.
func oracleLoadAll(ctx context.Context, c *ent.Client) (map[string]map[int]reflect.Value, error) {
	out := map[string]map[int]reflect.Value{}
	for _, typ := range world.Types {
		q := dynQuery{typ: typ, v: dynCall1(reflect.ValueOf(c).Elem().FieldByName(typ), "Query")}
		rows, err := q.all(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		out[typ] = map[int]reflect.Value{}
		for _, row := range rows {
			out[typ][dynEntityID(row)] = row
		}
	}
	return out, nil
}

// sysEntity returns row id of typ as loaded under the all-tenant system
// scope; for an id that does not exist, a copy of another row with the id
// changed (an entity that was deleted since it was loaded).
func (o *oracle) sysEntity(typ string, id int) reflect.Value {
	if row, ok := o.sysRows[typ][id]; ok {
		return row
	}
	ids := o.world.IDs(typ)
	if len(ids) == 0 {
		panic("oracle: no row of " + typ + " to copy")
	}
	src := o.sysRows[typ][ids[0]]
	row := reflect.New(src.Type().Elem())
	row.Elem().Set(src.Elem())
	row.Elem().FieldByName("ID").SetInt(int64(id))
	return row
}

// fromEntity runs the traversal of e from row id in the two forms that
// start from an entity value rather than a query, under the scope:
// client.<From>.Query<Edge>(&ent.<From>{ID: id}) (an entity value built from
// the id alone) and row.Query<Edge>() (the row loaded under the all-tenant
// system scope: an entity the scope got from somewhere else). Both must
// answer exactly what Query().Where(id = X).Query<Edge>() answers: want.
// Each form ends in IDs, Exist or Count (count(relations)), one drawn at
// random: every scope of a world draws again, which covers every
// combination many times per world at a third of the statements.
func (o *oracle) fromEntity(e world.Edge, id int, want []int) {
	byClient := reflect.ValueOf(o.client).Elem().FieldByName(e.From).MethodByName("Query" + e.Go())
	value := reflect.New(byClient.Type().In(0).Elem())
	value.Elem().FieldByName("ID").SetInt(int64(id))
	row := o.sysEntity(e.From, id)
	forms := []struct {
		name string
		q    func() dynQuery
	}{
		{fmt.Sprintf("client.%s.Query%s(&ent.%s{ID: %d})", e.From, e.Go(), e.From, id),
			func() dynQuery { return dynQuery{typ: e.To, v: byClient.Call([]reflect.Value{value})[0]} }},
		{fmt.Sprintf("%s(%d, loaded under the system scope).Query%s()", e.From, id, e.Go()),
			func() dynQuery { return dynQuery{typ: e.To, v: dynCall1(row, "Query"+e.Go())} }},
	}
	for _, f := range forms {
		o.fromEntityForm(f.name, f.q, want)
	}
}

func (o *oracle) fromEntityForm(name string, q func() dynQuery, want []int) {
	o.in(familyTraverseEntity)
	defer func() {
		// ent's own Client.Query<Edge> reads the driver from the entity:
		// an entity value built from an id alone has none, and panics.
		if p := recover(); p != nil {
			o.stats.cases.Add(1)
			o.mismatchErr(name, "panic: %v", p)
		}
	}()
	switch o.r.IntN(3) {
	case 0:
		got, err := q().ids(o.ctx)
		o.ids(name+".IDs", got, err, want)
	case 1:
		ok, err := q().exist(o.ctx)
		o.equal(name+".Exist", ok, len(want) > 0, err)
	default:
		o.in(familyCountRelations)
		n, err := q().count(o.ctx)
		o.equal(name+".Count", n, len(want), err)
	}
}

// ---------------------------------------------------------------------------
// Shapes: edge predicates and edge orders

// oracleEdgeFuncs are the generated functions of one edge that build a
// predicate or an order through it. ent has no lookup by name, so they are
// listed by hand; TestLeakOracleEdgeShapesCoverSchema checks the table
// against world.Edges and the functions' names and types.
type oracleEdgeFuncs struct {
	has     any // <from>.Has<Edge>() predicate.<From>
	hasWith any // <from>.Has<Edge>With(...predicate.<To>) predicate.<From>
	// Edges that are lists:
	byCount any // <from>.By<Edge>Count(...sql.OrderTermOption) <from>.OrderOption
	byTerms any // <from>.By<Edge>(sql.OrderTerm, ...sql.OrderTerm) <from>.OrderOption
	// Unique edges:
	byField any // <from>.By<Edge>Field(string, ...sql.OrderTermOption) <from>.OrderOption
}

var oracleEdgeShapes = map[string]oracleEdgeFuncs{
	"Organization.users":     {has: organization.HasUsers, hasWith: organization.HasUsersWith, byCount: organization.ByUsersCount, byTerms: organization.ByUsers},
	"Organization.companies": {has: organization.HasCompanies, hasWith: organization.HasCompaniesWith, byCount: organization.ByCompaniesCount, byTerms: organization.ByCompanies},
	"Organization.jobs":      {has: organization.HasJobs, hasWith: organization.HasJobsWith, byCount: organization.ByJobsCount, byTerms: organization.ByJobs},
	"Organization.notes":     {has: organization.HasNotes, hasWith: organization.HasNotesWith, byCount: organization.ByNotesCount, byTerms: organization.ByNotes},
	"Organization.sessions":  {has: organization.HasSessions, hasWith: organization.HasSessionsWith, byCount: organization.BySessionsCount, byTerms: organization.BySessions},
	"User.org":               {has: user.HasOrg, hasWith: user.HasOrgWith, byField: user.ByOrgField},
	"User.company":           {has: user.HasCompany, hasWith: user.HasCompanyWith, byField: user.ByCompanyField},
	"User.managed_jobs":      {has: user.HasManagedJobs, hasWith: user.HasManagedJobsWith, byCount: user.ByManagedJobsCount, byTerms: user.ByManagedJobs},
	"User.notes":             {has: user.HasNotes, hasWith: user.HasNotesWith, byCount: user.ByNotesCount, byTerms: user.ByNotes},
	"User.sessions":          {has: user.HasSessions, hasWith: user.HasSessionsWith, byCount: user.BySessionsCount, byTerms: user.BySessions},
	"User.created_jobs":      {has: user.HasCreatedJobs, hasWith: user.HasCreatedJobsWith, byCount: user.ByCreatedJobsCount, byTerms: user.ByCreatedJobs},
	"Session.org":            {has: session.HasOrg, hasWith: session.HasOrgWith, byField: session.ByOrgField},
	"Session.user":           {has: session.HasUser, hasWith: session.HasUserWith, byField: session.ByUserField},
	"Company.org":            {has: company.HasOrg, hasWith: company.HasOrgWith, byField: company.ByOrgField},
	"Company.jobs":           {has: company.HasJobs, hasWith: company.HasJobsWith, byCount: company.ByJobsCount, byTerms: company.ByJobs},
	"Company.clients":        {has: company.HasClients, hasWith: company.HasClientsWith, byCount: company.ByClientsCount, byTerms: company.ByClients},
	"Job.org":                {has: job.HasOrg, hasWith: job.HasOrgWith, byField: job.ByOrgField},
	"Job.company":            {has: job.HasCompany, hasWith: job.HasCompanyWith, byField: job.ByCompanyField},
	"Job.managers":           {has: job.HasManagers, hasWith: job.HasManagersWith, byCount: job.ByManagersCount, byTerms: job.ByManagers},
	"Job.notes":              {has: job.HasNotes, hasWith: job.HasNotesWith, byCount: job.ByNotesCount, byTerms: job.ByNotes},
	"Job.creator":            {has: job.HasCreator, hasWith: job.HasCreatorWith, byField: job.ByCreatorField},
	"Note.org":               {has: note.HasOrg, hasWith: note.HasOrgWith, byField: note.ByOrgField},
	"Note.job":               {has: note.HasJob, hasWith: note.HasJobWith, byField: note.ByJobField},
	"Note.author":            {has: note.HasAuthor, hasWith: note.HasAuthorWith, byField: note.ByAuthorField},
}

// oracleTargetPreds is, per target type, a predicate that splits the rows
// along a rule of docs/design.md section 3 (Has<Edge>With(pred)); every edge also
// gets one on a random column and value (world.Columns).
var oracleTargetPreds = map[string]struct {
	column string
	value  any
}{
	world.Note:    {"internal", true},
	world.Job:     {"status", "draft"},
	world.User:    {"role", "admin"},
	world.Company: {"archived", true},
}

// whereV is Where with a generated predicate value (predicate.<Type>).
func (q dynQuery) whereV(p reflect.Value) dynQuery {
	m := q.v.MethodByName("Where")
	return dynQuery{typ: q.typ, v: m.Call([]reflect.Value{p.Convert(m.Type().In(0).Elem())})[0]}
}

// orderV is Order(terms...) with generated order options
// (<type>.OrderOption) or storage-level ones.
func (q dynQuery) orderV(terms ...reflect.Value) dynQuery {
	m := q.v.MethodByName("Order")
	in := make([]reflect.Value, len(terms))
	for i, t := range terms {
		in[i] = t.Convert(m.Type().In(0).Elem())
	}
	return dynQuery{typ: q.typ, v: m.Call(in)[0]}
}

var oracleSelectorFunc = reflect.TypeOf((func(*sql.Selector))(nil))

// edgePredicates: for every edge e of type T, T.Query().Where(p).IDs with p
// Has<Edge>(), and two of Has<Edge>With(), Not(Has<Edge>()) and
// Has<Edge>With(pred) (pred on a rule's column, oracleTargetPreds, or on a
// random column and value). Rule 8: the answer is the rows of T the scope
// sees that have a neighbor through e that the scope also sees (and that
// satisfies pred); hidden neighbors do not exist.
func (o *oracle) edgePredicates() {
	for _, e := range world.Edges {
		f := oracleEdgeShapes[e.String()]
		has := reflect.ValueOf(f.has).Call(nil)[0]
		hasWith := reflect.ValueOf(f.hasWith)
		predArg := func(column string, value any) reflect.Value {
			return reflect.ValueOf(oracleFieldEQ(column, value)).Convert(hasWith.Type().In(0).Elem())
		}
		q := func(p reflect.Value) ([]int, error) { return o.query(o.client, e.From).whereV(p).ids(o.ctx) }
		prefix := fmt.Sprintf("%s.Query().Where(%s.Has%s", e.From, strings.ToLower(e.From), e.Go())

		// Has<Edge>() always; two of the other shapes, drawn at random
		// (every scope of a world draws again).
		want := o.withNeighbor(e, nil)
		got, err := q(has)
		o.ids(prefix+"()).IDs", got, err, want)
		shapes := []func(){
			func() {
				got, err := q(hasWith.Call(nil)[0])
				o.ids(prefix+"With()).IDs", got, err, want)
			},
			func() {
				not := reflect.ValueOf(sql.NotPredicates(has.Convert(oracleSelectorFunc).Interface().(func(*sql.Selector))))
				got, err := q(not)
				o.ids(fmt.Sprintf("%s.Query().Where(%s.Not(%s.Has%s())).IDs", e.From, strings.ToLower(e.From), strings.ToLower(e.From), e.Go()),
					got, err, slices.DeleteFunc(o.visible(e.From), func(id int) bool { return slices.Contains(want, id) }))
			},
		}
		with := func(column string, value any) {
			want := o.withNeighbor(e, func(n int) bool { return o.value(e.To, n, column) == value })
			got, err := q(hasWith.Call([]reflect.Value{predArg(column, value)})[0])
			o.ids(fmt.Sprintf("%sWith(%s = %s)).IDs", prefix, column, groupKey(value)), got, err, want)
		}
		if p, ok := oracleTargetPreds[e.To]; ok {
			shapes = append(shapes, func() { with(p.column, p.value) })
		}
		if ids := o.world.IDs(e.To); len(ids) > 0 {
			cols := world.Columns[e.To]
			col := cols[o.r.IntN(len(cols))]
			value := o.value(e.To, o.sample(ids, 1)[0], col)
			shapes = append(shapes, func() { with(col, value) })
		}
		o.r.Shuffle(len(shapes), func(i, j int) { shapes[i], shapes[j] = shapes[j], shapes[i] })
		for _, shape := range shapes[:min(2, len(shapes))] {
			shape()
		}
	}
}

// withNeighbor returns the rows of e.From the scope sees that have a
// neighbor through e that the scope sees and that keep accepts (any, if
// keep is nil).
func (o *oracle) withNeighbor(e world.Edge, keep func(n int) bool) []int {
	out := []int{}
	for _, id := range o.visible(e.From) {
		for _, n := range o.world.Neighbors(e, id) {
			if o.world.Sees(o.v, e.To, n) && (keep == nil || keep(n)) {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// value is world.Value, with the id column of every type.
func (o *oracle) value(typ string, id int, column string) any {
	if column == "id" {
		return id
	}
	return o.world.Value(typ, id, column)
}

// oracleKey is a sort key computed from the rows the scope sees: null for
// no neighbor (or only hidden ones), else an int, a bool or a string.
type oracleKey struct {
	null bool
	v    any
}

// oracleCompareKeys orders keys as ent's orders through an edge do on
// PostgreSQL: sqlgraph writes NULLS FIRST for an ascending term and DESC
// NULLS LAST for a descending one (as MySQL and SQLite sort), so NULL sorts
// below every value.
func oracleCompareKeys(a, b oracleKey) int {
	switch {
	case a.null && b.null:
		return 0
	case a.null:
		return -1
	case b.null:
		return 1
	}
	switch x := a.v.(type) {
	case int:
		return x - b.v.(int)
	case bool:
		y := b.v.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case string:
		return strings.Compare(x, b.v.(string))
	}
	panic(fmt.Sprintf("oracle: cannot order %T", a.v))
}

// edgeOrders: for every edge e of type T, the rows of T the scope sees in the
// order of a term through e, ties broken by id: By<Edge>Count(desc) or
// By<Edge>(sum(id) desc) for the edges that are lists, By<Edge>Field on the
// target's id (ascending or descending) or on a random column of the target
// (world.Columns) for unique ones; one term per edge, drawn at random (every
// scope of a world draws again). Rule 8: the keys come from the neighbors
// the scope sees; a hidden neighbor is absent (count 0, sum and field NULL).
func (o *oracle) edgeOrders() {
	for _, e := range world.Edges {
		f := oracleEdgeShapes[e.String()]
		byID := reflect.ValueOf(sql.OrderByField("id").ToFunc())
		seen := func(id int) []int { return o.world.Filter(o.v, e.To, o.world.Neighbors(e, id)) }
		run := func(shape string, term reflect.Value, desc bool, key func(id int) oracleKey) {
			want := slices.Clone(o.visible(e.From))
			slices.SortStableFunc(want, func(a, b int) int {
				c := oracleCompareKeys(key(a), key(b))
				if desc {
					c = -c
				}
				return c // ties keep the ids ascending
			})
			got, err := o.query(o.client, e.From).orderV(term, byID).ids(o.ctx)
			o.ordered(fmt.Sprintf("%s.Query().Order(%s.%s, %s.ByID()).IDs", e.From, strings.ToLower(e.From), shape, strings.ToLower(e.From)),
				got, err, want)
		}
		if !e.Unique {
			if o.r.IntN(2) == 0 {
				term := reflect.ValueOf(f.byCount).Call([]reflect.Value{reflect.ValueOf(sql.OrderDesc())})[0]
				run(fmt.Sprintf("By%sCount(sql.OrderDesc())", e.Go()), term, true, func(id int) oracleKey {
					return oracleKey{v: len(seen(id))}
				})
				continue
			}
			term := reflect.ValueOf(f.byTerms).Call([]reflect.Value{reflect.ValueOf(sql.OrderTerm(sql.OrderBySum("id", sql.OrderDesc())))})[0]
			run(fmt.Sprintf(`By%s(sql.OrderBySum("id", sql.OrderDesc()))`, e.Go()), term, true, func(id int) oracleKey {
				ns := seen(id)
				sum := 0
				for _, n := range ns {
					sum += n
				}
				return oracleKey{null: len(ns) == 0, v: sum}
			})
			continue
		}
		field := func(column string) func(id int) oracleKey {
			return func(id int) oracleKey {
				ns := seen(id)
				if len(ns) == 0 {
					return oracleKey{null: true}
				}
				v := o.value(e.To, ns[0], column)
				return oracleKey{null: v == nil, v: v}
			}
		}
		cols := world.Columns[e.To]
		terms := []struct {
			column string
			desc   bool
		}{{"id", false}, {"id", true}, {cols[o.r.IntN(len(cols))], false}}
		term := terms[o.r.IntN(len(terms))]
		args := []reflect.Value{reflect.ValueOf(term.column)}
		spelled := []string{strconv.Quote(term.column)}
		if term.column == "id" {
			// sqlgraph selects the target's key and the field under one
			// name: By<Edge>Field("id") alone fails with "column reference
			// "id" is ambiguous" (42702). An alias avoids it.
			args = append(args, reflect.ValueOf(sql.OrderAs("oracle_key")))
			spelled = append(spelled, `sql.OrderAs("oracle_key")`)
		}
		if term.desc {
			args = append(args, reflect.ValueOf(sql.OrderDesc()))
			spelled = append(spelled, "sql.OrderDesc()")
		}
		run(fmt.Sprintf("By%sField(%s)", e.Go(), strings.Join(spelled, ", ")),
			reflect.ValueOf(f.byField).Call(args)[0], term.desc, field(term.column))
	}
}

// TestLeakOracleEdgeShapesCoverSchema checks that oracleEdgeShapes lists
// every edge of world.Edges and no other, each with the generated functions
// of that edge (by name and by type), so that a new edge cannot escape the
// edge-predicate and edge-order families.
func TestLeakOracleEdgeShapesCoverSchema(t *testing.T) {
	t.Parallel()
	const entPkg = "github.com/scopegate/scopegate/ent/"
	for _, e := range world.Edges {
		f, ok := oracleEdgeShapes[e.String()]
		if !ok {
			t.Errorf("%s: not in oracleEdgeShapes", e)
			continue
		}
		pkg := strings.ToLower(e.From)
		check := func(what string, fn any, name string, in []string, out string) {
			t.Helper()
			if fn == nil {
				t.Errorf("%s: no %s", e, what)
				return
			}
			v := reflect.ValueOf(fn)
			if got := runtime.FuncForPC(v.Pointer()).Name(); got != entPkg+pkg+"."+name {
				t.Errorf("%s: %s is %s, want %s", e, what, got, entPkg+pkg+"."+name)
			}
			typ := v.Type()
			var gotIn []string
			for i := range typ.NumIn() {
				gotIn = append(gotIn, typ.In(i).String())
			}
			if !slices.Equal(gotIn, in) || typ.NumOut() != 1 || typ.Out(0).String() != out {
				t.Errorf("%s: %s has type %s, want func(%s) %s", e, what, typ, strings.Join(in, ", "), out)
			}
		}
		pred := func(typ string) string { return "predicate." + typ }
		order := pkg + ".OrderOption"
		check("has", f.has, "Has"+e.Go(), nil, pred(e.From))
		check("hasWith", f.hasWith, "Has"+e.Go()+"With", []string{"[]" + pred(e.To)}, pred(e.From))
		if e.Unique {
			check("byField", f.byField, "By"+e.Go()+"Field", []string{"string", "[]sql.OrderTermOption"}, order)
			if f.byCount != nil || f.byTerms != nil {
				t.Errorf("%s: a unique edge with byCount or byTerms", e)
			}
		} else {
			check("byCount", f.byCount, "By"+e.Go()+"Count", []string{"[]sql.OrderTermOption"}, order)
			check("byTerms", f.byTerms, "By"+e.Go(), []string{"sql.OrderTerm", "[]sql.OrderTerm"}, order)
			if f.byField != nil {
				t.Errorf("%s: an edge that is a list with byField", e)
			}
		}
	}
	for name := range oracleEdgeShapes {
		if !slices.ContainsFunc(world.Edges, func(e world.Edge) bool { return e.String() == name }) {
			t.Errorf("oracleEdgeShapes lists %s, which world.Edges does not", name)
		}
	}
	for typ := range oracleTargetPreds {
		if !slices.ContainsFunc(world.Edges, func(e world.Edge) bool { return e.To == typ }) {
			t.Errorf("oracleTargetPreds has %s, which no edge leads to", typ)
		}
	}
}
