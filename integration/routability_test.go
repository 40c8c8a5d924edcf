package integration

// Tenant routability (issue 15 item 3, docs/scaling.md "Tenant
// routability"): of the statements a leak-oracle run sends under user
// scopes, the share whose every table access is pinned to one org_id, the
// property a tenant-sharded cluster (Citus, distribution column org_id)
// routes a statement to one node on.
//
//	SCOPEGATE_ROUTABILITY_WORLDS=N   run N worlds (default 1)
//	SCOPEGATE_ORACLE_SEED=S          start at seed S (default 1)
//
// The statements are captured under the seam (pgtest.Capture) with their
// arguments and the scope they were sent under. Pinning is not read from
// the text: each distinct statement, with its arguments, is explained as
// the owner (row-level security bypassed, so only the application's own
// predicates count), and every scan of a tenant table must carry, as a
// top-level conjunct of its index condition or filter, its org_id (the
// organizations table: its id) equal to a constant; all such constants of
// one statement must be the same, and the scope's organization. The
// planner's equivalence classes carry a constant across join conditions
// (t.org_id = j.org_id), as a distributed planner's do. INSERTs are
// pinned when every row they insert sets org_id to the scope's
// organization.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/audit"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/scope"
)

// routabilityExceptions are the documented classes of user-scope
// statements that are not pinned to one org_id, with why (docs/scaling.md,
// "Tenant routability"). A statement of a class not listed here fails the
// test: a new unpinned shape must be fixed or documented.
var routabilityExceptions = map[string]string{
	classReread: "ent's UpdateOne reads the updated row back by its primary key alone, " +
		"in the UPDATE's transaction (the UPDATE itself is pinned)",
	classContradictory: "the statement names another tenant's org_id (the oracle asks for foreign rows) and the tenant filter adds the scope's: " +
		"no row can match, a distributed planner prunes every shard",
	"scan of sessions not pinned": "sessions has no org_id (a session is found by its token hash before any tenant is known, docs/design.md section 1); " +
		"a user scope reads its sessions through the user they belong to",
}

const (
	classReread        = "re-read of an updated row by id"
	classContradictory = "contradictory org_id (another tenant asked for)"
)

func TestTenantRoutability(t *testing.T) {
	t.Parallel()
	if pgtest.ShadowMode(t) == pgtest.ShadowRLSOnly {
		// The ent rules are off: the statements carry none of the
		// application's predicates, which are what is measured.
		t.Skip("routability measures the ent rules' predicates; SCOPEGATE_SHADOW=rls turns them off")
	}
	first, _ := oracleSeedEnv(t)
	n := oracleEnvPositive(t, "SCOPEGATE_ROUTABILITY_WORLDS", 1)
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = first + int64(i)
	}
	var mu sync.Mutex
	total := &routabilityTally{exceptions: map[routabilityKey]*routabilityShape{}}
	newDB := func(tb testing.TB) *pgtest.DB {
		db := pgtest.New(tb)
		capture := &pgtest.Capture{Driver: entsql.OpenDB(dialect.Postgres, db.SQL)}
		client := ent.NewClient(ent.Driver(database.NewDriver(capture, database.Options{Counter: db.Counter})))
		client.Intercept(audit.LogSystemQueries(nil))
		db.DB = &database.DB{Client: client, SQL: db.SQL, Dialect: db.Dialect}
		// Cleanups run last in, first out: this one before pgtest drops
		// the database.
		tb.Cleanup(func() {
			tally := classifyStatements(tb, db, capture.Take())
			mu.Lock()
			defer mu.Unlock()
			total.add(tally)
		})
		return db
	}
	runLeakOracle(t, &oracleSummary{}, seeds, newDB)
	if t.Failed() {
		return
	}
	total.report(t, len(seeds))
	if total.user == 0 {
		t.Fatal("no statement was sent under a user scope: the capture saw nothing")
	}
	undocumented := map[string]int{}
	for k, sh := range total.exceptions {
		if _, ok := routabilityExceptions[k.class]; !ok {
			if undocumented[k.class] == 0 {
				t.Errorf("undocumented unpinned class %q, e.g.:\n\t%s\n\targs %v", k.class, sh.example.Query, sh.example.Args)
			}
			undocumented[k.class] += sh.count
		}
	}
	for c, n := range undocumented {
		t.Errorf("undocumented unpinned class %q: %d statements", c, n)
	}
}

// routabilityKey groups the exceptions: the reason, and the statement's
// text with its lists of placeholders folded.
type routabilityKey struct{ class, shape string }

type routabilityShape struct {
	count   int
	example pgtest.Statement
}

type routabilityTally struct {
	captured, data         int // every statement; SELECT, INSERT, UPDATE, DELETE
	user, system, auth, no int // data statements by scope kind
	pinned                 int // of user
	inserts, insertsPinned int // of user: INSERTs, and those pinned
	distinct               int // distinct user statements with their arguments
	exceptions             map[routabilityKey]*routabilityShape
}

func (t *routabilityTally) add(o *routabilityTally) {
	t.captured += o.captured
	t.data += o.data
	t.user += o.user
	t.system += o.system
	t.auth += o.auth
	t.no += o.no
	t.pinned += o.pinned
	t.inserts += o.inserts
	t.insertsPinned += o.insertsPinned
	t.distinct += o.distinct
	for k, sh := range o.exceptions {
		if mine := t.exceptions[k]; mine != nil {
			mine.count += sh.count
		} else {
			t.exceptions[k] = sh
		}
	}
}

func (t *routabilityTally) report(tb testing.TB, worlds int) {
	var b strings.Builder
	fmt.Fprintf(&b, "tenant routability, %d world(s):\n", worlds)
	fmt.Fprintf(&b, "\tstatements captured: %d (data statements %d; the rest BEGIN and scope settings)\n", t.captured, t.data)
	fmt.Fprintf(&b, "\tdata statements by scope: user %d, system %d (not measured), authenticator %d, none %d\n", t.user, t.system, t.auth, t.no)
	fmt.Fprintf(&b, "\tuser-scope statements pinned to one org_id: %d of %d = %.2f%% (%d distinct statement+arguments explained)\n",
		t.pinned, t.user, 100*float64(t.pinned)/float64(max(t.user, 1)), t.distinct)
	fmt.Fprintf(&b, "\tuser-scope INSERTs: %d, pinned %d\n", t.inserts, t.insertsPinned)
	byClass := map[string]int{}
	for k, sh := range t.exceptions {
		byClass[k.class] += sh.count
	}
	for _, c := range slices.Sorted(maps.Keys(byClass)) {
		fmt.Fprintf(&b, "\texception %-40s %6d statements\n", c, byClass[c])
	}
	// Up to three shapes of each class, the shortest first.
	keys := slices.SortedFunc(maps.Keys(t.exceptions), func(a, b routabilityKey) int {
		if c := strings.Compare(a.class, b.class); c != 0 {
			return c
		}
		return len(a.shape) - len(b.shape)
	})
	shown := map[string]int{}
	for _, k := range keys {
		if shown[k.class]++; shown[k.class] > 3 {
			continue
		}
		fmt.Fprintf(&b, "\t  %6d  %s: %s\n", t.exceptions[k].count, k.class, k.shape)
	}
	tb.Log(b.String())
}

var (
	routabilityPlaceholders = regexp.MustCompile(`\$[0-9]+(, \$[0-9]+)*`)
	routabilityData         = regexp.MustCompile(`^(?i)\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b`)
)

// classifyStatements decides, for each captured statement, whether it is
// pinned, explaining each distinct one (with its arguments) once.
func classifyStatements(tb testing.TB, db *pgtest.DB, sts []pgtest.Statement) *routabilityTally {
	tally := &routabilityTally{exceptions: map[routabilityKey]*routabilityShape{}}
	tenant := tenantTables(tb, db)
	checkPinningJudge(tb, db, tenant)
	verdicts := map[string]string{} // statement+arguments → "" (pinned) or the class
	type job struct {
		key string
		st  pgtest.Statement
		org int
	}
	var jobs []job
	var users []int
	for i, st := range sts {
		tally.captured++
		if !routabilityData.MatchString(st.Query) || strings.Contains(st.Query, "set_config(") {
			continue
		}
		tally.data++
		s, ok := scope.FromContext(st.Ctx)
		switch {
		case !ok:
			tally.no++
			continue
		case s.IsSystem():
			tally.system++
			continue
		case s.IsAuthenticator():
			tally.auth++
			continue
		case !s.IsUser():
			tb.Errorf("statement under a scope of kind %v: %s", s.Kind(), st.Query)
			continue
		}
		tally.user++
		users = append(users, i)
		org, _ := s.OrgID()
		key := fmt.Sprintf("%d\x00%s\x00%#v", org, st.Query, st.Args)
		if _, seen := verdicts[key]; !seen {
			verdicts[key] = ""
			jobs = append(jobs, job{key, st, org})
		}
	}
	tally.distinct = len(jobs)
	work := make(chan job)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				class := pinning(db, tenant, j.st, j.org)
				mu.Lock()
				verdicts[j.key] = class
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	for _, i := range users {
		st := sts[i]
		s, _ := scope.FromContext(st.Ctx)
		org, _ := s.OrgID()
		class := verdicts[fmt.Sprintf("%d\x00%s\x00%#v", org, st.Query, st.Args)]
		insert := strings.HasPrefix(st.Query, "INSERT ")
		if insert {
			tally.inserts++
		}
		if class == "" {
			tally.pinned++
			if insert {
				tally.insertsPinned++
			}
			continue
		}
		k := routabilityKey{class, routabilityPlaceholders.ReplaceAllString(st.Query, "$…")}
		if sh := tally.exceptions[k]; sh != nil {
			sh.count++
		} else {
			tally.exceptions[k] = &routabilityShape{count: 1, example: st}
		}
	}
	return tally
}

// checkPinningJudge: the judge itself tells a pinned statement from an
// unpinned one, so that the share it reports can fall.
func checkPinningJudge(tb testing.TB, db *pgtest.DB, tenant map[string]string) {
	for _, c := range []struct {
		query string
		args  []any
		want  string
	}{
		{`SELECT "id" FROM "jobs" WHERE "org_id" = $1 AND "status" = $2`, []any{1, "published"}, ""},
		{`SELECT "id" FROM "jobs" WHERE "org_id" = $1 OR "status" = $2`, []any{1, "published"}, "scan of jobs not pinned"},
		{`SELECT "id" FROM "jobs" WHERE "id" = $1`, []any{1}, "scan of jobs not pinned"},
		{`SELECT "id" FROM "jobs" WHERE "org_id" = $1`, []any{2}, "pinned to another org than the scope's"},
		{`SELECT "jobs"."id" FROM "jobs" JOIN "notes" ON "notes"."job_id" = "jobs"."id" WHERE "jobs"."org_id" = $1`, []any{1}, "scan of notes not pinned"},
		{`SELECT "jobs"."id" FROM "jobs" JOIN "notes" ON "notes"."org_id" = "jobs"."org_id" AND "notes"."job_id" = "jobs"."id" WHERE "jobs"."org_id" = $1`, []any{1}, ""},
		{`INSERT INTO "companies" ("org_id", "name") VALUES ($1, $2), ($3, $4) RETURNING "id"`, []any{1, "a", 1, "b"}, ""},
		{`INSERT INTO "companies" ("org_id", "name") VALUES ($1, $2), ($3, $4) RETURNING "id"`, []any{1, "a", 2, "b"}, "insert into companies of another org"},
	} {
		if got := pinning(db, tenant, pgtest.Statement{Query: c.query, Args: c.args}, 1); got != c.want {
			tb.Errorf("routability judge: %s %v under org 1: got %q, want %q", c.query, c.args, got, c.want)
		}
	}
}

// tenantTables maps every table of the migrated database to its tenant
// column: org_id where it has one, id for organizations, "" for a table
// with neither (its scans are never pinned).
func tenantTables(tb testing.TB, db *pgtest.DB) map[string]string {
	out := map[string]string{}
	for _, tbl := range pgtest.Tables() {
		out[tbl] = ""
	}
	rows, err := db.Raw.QueryContext(context.Background(),
		`SELECT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'org_id'`)
	if err != nil {
		tb.Fatalf("tenant tables: %v", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			tb.Fatal(err)
		}
		if _, ok := out[name]; ok {
			out[name] = "org_id"
		}
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	out["organizations"] = "id"
	return out
}

// pinning returns "" if st, under a user scope of organization org, touches
// only rows of org in every tenant table, else the class of exception.
func pinning(db *pgtest.DB, tenant map[string]string, st pgtest.Statement, org int) string {
	if strings.HasPrefix(st.Query, "INSERT ") {
		return insertPinning(tenant, st, org)
	}
	if routabilityReread.MatchString(st.Query) {
		return classReread
	}
	var raw string
	if err := db.Raw.QueryRowContext(context.Background(), "EXPLAIN (FORMAT JSON, VERBOSE) "+st.Query, st.Args...).Scan(&raw); err != nil {
		return "explain failed: " + err.Error()
	}
	var plans []struct {
		Plan map[string]any `json:"Plan"`
	}
	if err := json.Unmarshal([]byte(raw), &plans); err != nil || len(plans) != 1 {
		return fmt.Sprintf("unreadable plan (%v)", err)
	}
	orgs := map[int]bool{}
	var unpinned []string
	var walk func(n map[string]any)
	walk = func(n map[string]any) {
		if n["One-Time Filter"] == "false" {
			return // the planner proved it reads nothing
		}
		rel, _ := n["Relation Name"].(string)
		if rel != "" && n["Node Type"] != "ModifyTable" {
			col, known := tenant[rel]
			alias, _ := n["Alias"].(string)
			var vs []int
			if known && col != "" {
				vs = pinnedTo(n, alias, col)
			}
			for _, v := range vs {
				orgs[v] = true
			}
			if len(vs) == 0 {
				unpinned = append(unpinned, rel)
			}
		}
		children, _ := n["Plans"].([]any)
		for _, c := range children {
			if m, ok := c.(map[string]any); ok {
				walk(m)
			}
		}
	}
	walk(plans[0].Plan)
	switch {
	case len(unpinned) > 0:
		slices.Sort(unpinned)
		return "scan of " + strings.Join(slices.Compact(unpinned), ", ") + " not pinned"
	case len(orgs) > 1 && orgs[org]:
		return classContradictory
	case len(orgs) > 0 && !orgs[org]:
		return "pinned to another org than the scope's"
	}
	return "" // no tenant table at all, or all pinned to org
}

// pinnedTo returns the constants that node n's conditions (index
// condition, recheck condition, filter) equate alias.col to, as top-level
// conjuncts.
func pinnedTo(n map[string]any, alias, col string) []int {
	var out []int
	for _, f := range []string{"Index Cond", "Recheck Cond", "Filter"} {
		cond, ok := n[f].(string)
		if !ok {
			continue
		}
		for _, c := range conjuncts(cond) {
			if v, ok := equatesConstant(c, alias, col); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

// conjuncts splits a condition as EXPLAIN prints it at its top-level ANDs.
func conjuncts(cond string) []string {
	cond = strings.TrimSpace(cond)
	for strings.HasPrefix(cond, "(") && closingParen(cond, 0) == len(cond)-1 {
		cond = strings.TrimSpace(cond[1 : len(cond)-1])
	}
	var out []string
	depth, start, inQuote := 0, 0, false
	for i := 0; i < len(cond); i++ {
		switch c := cond[i]; {
		case c == '\'':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && strings.HasPrefix(cond[i:], " AND "):
			out = append(out, cond[start:i])
			start = i + len(" AND ")
			i += len(" AND ") - 1
		}
	}
	return append(out, cond[start:])
}

// closingParen returns the index of the parenthesis closing the one at open.
func closingParen(s string, open int) int {
	depth, inQuote := 0, false
	for i := open; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\'':
			inQuote = !inQuote
		case inQuote:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

var routabilityConstant = regexp.MustCompile(`^'?([0-9]+)'?(::bigint|::integer)?$`)

// equatesConstant reports whether the conjunct c is alias.col = constant
// (either way round; a one-element ANY list counts), and the constant.
func equatesConstant(c, alias, col string) (int, bool) {
	c = strings.TrimSpace(c)
	for strings.HasPrefix(c, "(") && closingParen(c, 0) == len(c)-1 {
		c = strings.TrimSpace(c[1 : len(c)-1])
	}
	column := func(s string) bool {
		s = strings.TrimSpace(s)
		return s == alias+"."+col || s == col
	}
	constant := func(s string) (int, bool) {
		m := routabilityConstant.FindStringSubmatch(strings.TrimSpace(s))
		if m == nil {
			return 0, false
		}
		v, err := strconv.Atoi(m[1])
		return v, err == nil
	}
	if l, r, ok := strings.Cut(c, " = ANY "); ok && column(l) {
		m := regexp.MustCompile(`^\('\{([0-9]+)\}'::bigint\[\]\)$`).FindStringSubmatch(strings.TrimSpace(r))
		if m != nil {
			v, err := strconv.Atoi(m[1])
			return v, err == nil
		}
		return 0, false
	}
	l, r, ok := strings.Cut(c, " = ")
	if !ok {
		return 0, false
	}
	if column(l) {
		return constant(r)
	}
	if column(r) {
		return constant(l)
	}
	return 0, false
}

// routabilityReread is the statement ent's UpdateOne sends after the
// UPDATE, in the same transaction, to read the updated row back: by its
// primary key alone, columns unqualified.
var routabilityReread = regexp.MustCompile(`^SELECT "id", [^()]* FROM "[a-z_]+" WHERE "id" = \$1$`)

var routabilityInsert = regexp.MustCompile(`^INSERT INTO "([a-z_]+)" \(([^)]*)\) VALUES (.*?)(?: ON CONFLICT .*| RETURNING .*)?$`)

// insertPinning: an INSERT is pinned when every row sets org_id to the
// scope's organization (the organizations table: id).
func insertPinning(tenant map[string]string, st pgtest.Statement, org int) string {
	m := routabilityInsert.FindStringSubmatch(st.Query)
	if m == nil {
		return "insert of an unknown form"
	}
	col, known := tenant[m[1]]
	if !known || col == "" {
		return "insert into " + m[1] + " (no org_id)"
	}
	cols := strings.Split(m[2], ", ")
	at := slices.Index(cols, `"`+col+`"`)
	if at < 0 {
		return "insert into " + m[1] + " without " + col
	}
	values := m[3]
	for len(values) > 0 {
		if !strings.HasPrefix(values, "(") {
			return "insert of an unknown form"
		}
		end := closingParen(values, 0)
		if end < 0 {
			return "insert of an unknown form"
		}
		row := strings.Split(values[1:end], ", ")
		if len(row) != len(cols) {
			return "insert of an unknown form"
		}
		p := strings.TrimPrefix(row[at], "$")
		i, err := strconv.Atoi(p)
		if err != nil || i < 1 || i > len(st.Args) {
			return "insert into " + m[1] + " with a non-parameter " + col
		}
		if v, ok := asInt(st.Args[i-1]); !ok || v != org {
			return "insert into " + m[1] + " of another org"
		}
		values = strings.TrimPrefix(values[end+1:], ", ")
	}
	return ""
}

func asInt(a any) (int, bool) {
	switch v := a.(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case int32:
		return int(v), true
	}
	return 0, false
}
