package integration

// The mutation oracle: seeded random sequences of ent mutations (creates,
// bulk creates, updates by id and by predicate, deletes, edge add / remove /
// clear / set, upserts) under random scopes (every user of a world, the
// all-tenant system scope, InOrg system scopes, authenticator scopes and no
// scope), each compared with a plain-Go model of docs/design.md sections 3 and 5
// written in this file, without reading internal/rules or internal/policy.
//
//	SCOPEGATE_MUTATION_ORACLE_N=N       mutations per run (default 10000)
//	SCOPEGATE_MUTATION_ORACLE_WORLDS=W  worlds the mutations are spread over
//	                                    (default 4; 1 with SCOPEGATE_ORACLE_SEED)
//	SCOPEGATE_ORACLE_SEED=S             first seed (default 1)
//	SCOPEGATE_MUTATION_ORACLE_DETAIL=1  also log counts by scope, type and kind
//
// How a mutation is checked. Every mutation runs in its own transaction. The
// transaction is opened through the project's database seam
// (database.Driver, which holds the upsert guard) wrapped around a small
// driver of this file that keeps the *sql.Tx it began, so the test can read
// the transaction's own state with raw SQL, outside ent and its privacy
// rules: one statement returns an md5 checksum of each of the 8 tables; only
// the tables whose checksum moved (or that the model expects to move) are
// then read row by row (row_to_json) and diffed against the model's
// predicted delta: rows created, deleted, and every changed column, the
// job_managers link rows and the audit events (actor, reason, action,
// object, object id, organization) included. Then the transaction is rolled
// back, so the world stays what the model holds; about one allowed mutation
// in 20 is committed instead and the world reloaded, to exercise sequences.
// A mutation that makes PostgreSQL fail leaves the transaction aborted: it
// can change nothing any more, which is what the model wants of it.

import (
	"context"
	stdsql "database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/company"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/audit"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/rules"
	"github.com/scopegate/scopegate/internal/scope"
)

const (
	defaultMutationOracleN      = 10000
	defaultMutationOracleWorlds = 4
	moMaxSamplesPerKind         = 2
	moMaxSamples                = 200
	// moCommitOneIn: an allowed mutation is committed with this odds.
	moCommitOneIn = 20
)

func TestMutationOracle(t *testing.T) {
	t.Parallel()
	total := oracleEnvPositive(t, "SCOPEGATE_MUTATION_ORACLE_N", defaultMutationOracleN)
	first, replay := oracleSeedEnv(t)
	worlds := defaultMutationOracleWorlds
	if replay {
		worlds = 1
	}
	worlds = min(oracleEnvPositive(t, "SCOPEGATE_MUTATION_ORACLE_WORLDS", worlds), total)
	sum := &moSummary{kinds: map[string]*moCount{}, edgeOps: map[string]*moCount{},
		mkinds: map[string]int{}, okinds: map[string]int{}, rls: pgtest.ShadowMode(t) == pgtest.ShadowRLSOnly}
	start := time.Now()
	t.Run("worlds", func(t *testing.T) {
		for i := range worlds {
			seed := first + int64(i)
			quota := total / worlds
			if i < total%worlds {
				quota++
			}
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				t.Parallel()
				runMutationWorld(t, seed, quota, sum)
			})
		}
	})
	sum.report(t, total, time.Since(start))
}

// ---------------------------------------------------------------------------
// A driver that keeps its transaction

// moHeldDriver is a dialect.Driver over a *sql.DB that remembers the last
// *sql.Tx it began, so that the test can run raw SQL inside the very
// transaction ent runs the mutation in. It sits under database.Driver, the
// project's one seam, so every statement still passes the seam's checks.
type moHeldDriver struct {
	db *stdsql.DB
	tx *stdsql.Tx
}

var _ dialect.Driver = (*moHeldDriver)(nil)

func (d *moHeldDriver) Exec(ctx context.Context, query string, args, v any) error {
	return entsql.Conn{ExecQuerier: d.db}.Exec(ctx, query, args, v)
}

func (d *moHeldDriver) Query(ctx context.Context, query string, args, v any) error {
	return entsql.Conn{ExecQuerier: d.db}.Query(ctx, query, args, v)
}

func (d *moHeldDriver) Tx(ctx context.Context) (dialect.Tx, error) { return d.BeginTx(ctx, nil) }

func (d *moHeldDriver) BeginTx(ctx context.Context, opts *stdsql.TxOptions) (dialect.Tx, error) {
	tx, err := d.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	d.tx = tx
	return &entsql.Tx{Conn: entsql.Conn{ExecQuerier: tx}, Tx: tx}, nil
}

func (d *moHeldDriver) Close() error    { return nil }
func (d *moHeldDriver) Dialect() string { return dialect.Postgres }

// ---------------------------------------------------------------------------
// Raw state: every row of every table, as canonical strings

const (
	moAny  = "\x00any"  // in an expectation: any value
	moNull = "\x00null" // SQL NULL
)

// moTables is every table of the schema, in the order of pgtest.Sums (the
// checksums moSums reads).
var moTables = pgtest.Tables()

var moTimeCols = map[string]bool{"created_at": true, "updated_at": true, "expires_at": true, "at": true}

var moHasUpdatedAt = map[string]bool{
	world.Organization: true, world.User: true, world.Company: true, world.Job: true, world.Note: true,
}

type (
	mrow   map[string]string
	mtable map[string]mrow // key: id, or "job_id/user_id" for job_managers
)

func moKey(id int) string            { return strconv.Itoa(id) }
func moPairKey(job, user int) string { return fmt.Sprintf("%d/%d", job, user) }

type moQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*stdsql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *stdsql.Row
}

// moSeeAllSQL gives the rest of a transaction the settings of the
// all-tenant system scope, under which row-level security hides no row.
const moSeeAllSQL = `SELECT set_config('scopegate.system', 'all', true), set_config('scopegate.org_id', '', true),
	set_config('scopegate.user_id', '', true), set_config('scopegate.role', '', true),
	set_config('scopegate.company_id', '', true), set_config('scopegate.banned', '', true),
	set_config('scopegate.auth_email', '', true), set_config('scopegate.auth_token', '', true),
	set_config('scopegate.inserting', '', true), set_config('jit', 'off', true)`

// moSums reads a checksum of every table in one statement
// (pgtest.ChecksumSQL), prepared once per connection (planning it cost more
// than running it).
func moSums(ctx context.Context, stmt *stdsql.Stmt, tx *stdsql.Tx) (pgtest.Sums, error) {
	if tx != nil {
		stmt = tx.StmtContext(ctx, stmt)
	}
	return pgtest.ScanSums(stmt.QueryRowContext(ctx))
}

func moDump(ctx context.Context, q moQueryer, tbl string) (mtable, error) {
	rows, err := q.QueryContext(ctx, "SELECT row_to_json(t)::text FROM "+tbl+" t")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := mtable{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		r, err := moDecodeRow(s)
		if err != nil {
			return nil, err
		}
		if tbl == "job_managers" {
			out[r["job_id"]+"/"+r["user_id"]] = r
		} else {
			out[r["id"]] = r
		}
	}
	return out, rows.Err()
}

func moDecodeRow(s string) (mrow, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	out := make(mrow, len(m))
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			out[k] = moNull
		case json.Number:
			out[k] = x.String()
		case bool:
			out[k] = strconv.FormatBool(x)
		case string:
			if moTimeCols[k] {
				if tm, err := time.Parse(time.RFC3339Nano, x); err == nil {
					x = tm.UTC().Format(time.RFC3339Nano)
				}
			}
			out[k] = x
		default:
			out[k] = fmt.Sprint(x)
		}
	}
	return out, nil
}

// moCanon is the canonical string of a value the test sets.
func moCanon(v any) string {
	switch x := v.(type) {
	case nil:
		return moNull
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case user.Role:
		return string(x)
	case job.Status:
		return string(x)
	}
	panic(fmt.Sprintf("mutation oracle: no canonical form for %T", v))
}

func moShow(v string) string {
	switch v {
	case moAny:
		return "<any>"
	case moNull:
		return "NULL"
	}
	return strconv.Quote(v)
}

func moShowRow(r mrow) string {
	cols := slices.Sorted(maps.Keys(r))
	var parts []string
	for _, c := range cols {
		if r[c] == moAny {
			continue
		}
		parts = append(parts, c+"="+moShow(r[c]))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// ---------------------------------------------------------------------------
// Expected deltas

type moTDelta struct {
	deleted  map[string]bool
	changed  map[string]mrow
	created  []mrow
	optional []mrow // may appear, need not
}

type moDelta map[string]*moTDelta

func (d moDelta) t(tbl string) *moTDelta {
	if d[tbl] == nil {
		d[tbl] = &moTDelta{deleted: map[string]bool{}, changed: map[string]mrow{}}
	}
	return d[tbl]
}

func (d moDelta) del(tbl, key string) { d.t(tbl).deleted[key] = true }

func (d moDelta) set(tbl, key, col, val string) {
	td := d.t(tbl)
	if td.changed[key] == nil {
		td.changed[key] = mrow{}
	}
	// A definite value wins over "any" (updated_at of a row both updated
	// and reached through an edge).
	if old, ok := td.changed[key][col]; ok && old != moAny && val == moAny {
		return
	}
	td.changed[key][col] = val
}

func (d moDelta) create(tbl string, r mrow)   { td := d.t(tbl); td.created = append(td.created, r) }
func (d moDelta) optional(tbl string, r mrow) { td := d.t(tbl); td.optional = append(td.optional, r) }

func moMatch(want, got mrow) bool {
	for c, v := range want {
		if v == moAny {
			continue
		}
		if g, ok := got[c]; !ok || g != v {
			return false
		}
	}
	return true
}

// moCompareTable compares one table after a mutation with before and the
// expected delta. subset: the mutation failed after starting to write (in
// ent, not in PostgreSQL), so only changes outside the modeled effect count.
func moCompareTable(tbl string, before, after mtable, d *moTDelta, subset bool) (probs []string, unusedOptional []mrow) {
	if d == nil {
		d = &moTDelta{deleted: map[string]bool{}, changed: map[string]mrow{}}
	}
	for _, k := range slices.Sorted(maps.Keys(before)) {
		b := before[k]
		a, ok := after[k]
		if !ok {
			if !d.deleted[k] {
				probs = append(probs, fmt.Sprintf("%s row %s deleted, model keeps it", tbl, k))
			}
			continue
		}
		if d.deleted[k] && !subset {
			probs = append(probs, fmt.Sprintf("%s row %s not deleted, model deletes it", tbl, k))
			continue
		}
		exp := d.changed[k]
		for _, col := range slices.Sorted(maps.Keys(a)) {
			av, bv := a[col], b[col]
			ev, has := exp[col]
			if av == bv {
				if has && ev != moAny && ev != bv && !subset && !d.deleted[k] {
					probs = append(probs, fmt.Sprintf("%s row %s: %s stayed %s, model sets %s", tbl, k, col, moShow(bv), moShow(ev)))
				}
				continue
			}
			if !has || (ev != moAny && ev != av) {
				want := "model keeps it"
				if has {
					want = "model sets " + moShow(ev)
				}
				probs = append(probs, fmt.Sprintf("%s row %s: %s changed %s -> %s, %s", tbl, k, col, moShow(bv), moShow(av), want))
			}
		}
	}
	var fresh []string
	for k := range after {
		if _, ok := before[k]; !ok {
			fresh = append(fresh, k)
		}
	}
	sort.Strings(fresh)
	used := make([]bool, len(d.created))
	usedOpt := make([]bool, len(d.optional))
	for _, k := range fresh {
		a := after[k]
		matched := false
		for i, e := range d.created {
			if !used[i] && moMatch(e, a) {
				used[i], matched = true, true
				break
			}
		}
		for i, e := range d.optional {
			if !matched && !usedOpt[i] && moMatch(e, a) {
				usedOpt[i], matched = true, true
			}
		}
		if !matched {
			probs = append(probs, fmt.Sprintf("%s: unexpected new row %s", tbl, moShowRow(a)))
		}
	}
	if !subset {
		for i, e := range d.created {
			if !used[i] {
				probs = append(probs, fmt.Sprintf("%s: missing new row %s", tbl, moShowRow(e)))
			}
		}
	}
	for i, e := range d.optional {
		if !usedOpt[i] {
			unusedOptional = append(unusedOptional, e)
		}
	}
	return probs, unusedOptional
}

// ---------------------------------------------------------------------------
// Edges, fields and mutations

// moEdgeInfo says where an edge's foreign key lives: on the row itself
// ("self": job.company is jobs.company_id), on the target rows ("target":
// company.jobs is jobs.company_id) or in the join table ("join").
type moEdgeInfo struct {
	world.Edge
	where     string
	col       string // the foreign key column (self: own table; target: target table; join: own side)
	immutable bool   // the foreign key column is immutable
	required  bool   // NOT NULL
	stem      string // Add<stem>IDs / Remove<stem>IDs
}

func moE(from, name, to string, unique bool) world.Edge {
	return world.Edge{From: from, Name: name, To: to, Unique: unique}
}

var moEdgeInfos = []moEdgeInfo{
	{moE(world.Organization, "users", world.User, false), "target", "org_id", true, true, "User"},
	{moE(world.Organization, "companies", world.Company, false), "target", "org_id", true, true, "Company"},
	{moE(world.Organization, "jobs", world.Job, false), "target", "org_id", true, true, "Job"},
	{moE(world.Organization, "notes", world.Note, false), "target", "org_id", true, true, "Note"},
	{moE(world.Organization, "sessions", world.Session, false), "target", "org_id", true, true, "Session"},
	{moE(world.User, "org", world.Organization, true), "self", "org_id", true, true, ""},
	{moE(world.User, "company", world.Company, true), "self", "company_id", false, false, ""},
	{moE(world.User, "managed_jobs", world.Job, false), "join", "user_id", false, false, "ManagedJob"},
	{moE(world.User, "notes", world.Note, false), "target", "author_id", true, true, "Note"},
	{moE(world.User, "sessions", world.Session, false), "target", "user_id", true, true, "Session"},
	{moE(world.User, "created_jobs", world.Job, false), "target", "created_by_id", true, true, "CreatedJob"},
	{moE(world.Session, "org", world.Organization, true), "self", "org_id", true, true, ""},
	{moE(world.Session, "user", world.User, true), "self", "user_id", true, true, ""},
	{moE(world.Company, "org", world.Organization, true), "self", "org_id", true, true, ""},
	{moE(world.Company, "jobs", world.Job, false), "target", "company_id", false, true, "Job"},
	{moE(world.Company, "clients", world.User, false), "target", "company_id", false, false, "Client"},
	{moE(world.Job, "org", world.Organization, true), "self", "org_id", true, true, ""},
	{moE(world.Job, "company", world.Company, true), "self", "company_id", false, true, ""},
	{moE(world.Job, "managers", world.User, false), "join", "job_id", false, false, "Manager"},
	{moE(world.Job, "notes", world.Note, false), "target", "job_id", false, true, "Note"},
	{moE(world.Job, "creator", world.User, true), "self", "created_by_id", true, true, ""},
	{moE(world.Note, "org", world.Organization, true), "self", "org_id", true, true, ""},
	{moE(world.Note, "job", world.Job, true), "self", "job_id", false, true, ""},
	{moE(world.Note, "author", world.User, true), "self", "author_id", true, true, ""},
}

func moEdge(from, name string) *moEdgeInfo {
	for i := range moEdgeInfos {
		if moEdgeInfos[i].From == from && moEdgeInfos[i].Name == name {
			return &moEdgeInfos[i]
		}
	}
	panic("mutation oracle: no edge " + from + "." + name)
}

// moEdgeOp is one edge operation of a mutation.
type moEdgeOp struct {
	info *moEdgeInfo
	op   string // add, remove, clear, set
	ids  []int
}

func (e moEdgeOp) method() string {
	switch e.op {
	case "add":
		return "Add" + e.info.stem + "IDs"
	case "remove":
		return "Remove" + e.info.stem + "IDs"
	case "clear":
		return "Clear" + e.info.Go()
	}
	return "Set" + e.info.Go() + "ID"
}

// moUpdateOps lists the edge operations the generated update builders
// offer: set and clear for a mutable foreign key on the row, add, remove
// and clear for the others.
func moUpdateOps() []moEdgeOp {
	var out []moEdgeOp
	for i := range moEdgeInfos {
		info := &moEdgeInfos[i]
		switch {
		case info.where == "self" && !info.immutable:
			out = append(out, moEdgeOp{info: info, op: "set"}, moEdgeOp{info: info, op: "clear"})
		case info.where != "self":
			out = append(out, moEdgeOp{info: info, op: "add"}, moEdgeOp{info: info, op: "remove"}, moEdgeOp{info: info, op: "clear"})
		}
	}
	return out
}

// moUpdateFields lists the fields the update builders set, per type (the
// coverage test checks there is no other).
var moUpdateFields = map[string][]string{
	world.Organization: {"name", "slug"},
	world.User:         {"name", "phone", "email", "role", "banned", "active", "password_hash"},
	world.Session:      {"expires_at"},
	world.Company:      {"name", "archived"},
	world.Job:          {"title", "description", "status", "salary_max"},
	world.Note:         {"body", "internal"},
	world.AuditEvent:   {},
}

// moUniqueFields may not be set on more than one row at once.
var moUniqueFields = map[string]bool{"email": true, "slug": true}

var moClearable = map[string]bool{"phone": true, "password_hash": true, "salary_max": true}

type moField struct {
	col   string
	val   any
	clear bool
}

type moSpec struct {
	fields []moField
	edges  []moEdgeOp
}

func (s *moSpec) field(col string, v any) { s.fields = append(s.fields, moField{col: col, val: v}) }
func (s *moSpec) edge(from, name, op string, ids ...int) {
	s.edges = append(s.edges, moEdgeOp{info: moEdge(from, name), op: op, ids: ids})
}

func (s moSpec) get(col string) (any, bool) {
	for _, f := range s.fields {
		if f.col == col && !f.clear {
			return f.val, true
		}
	}
	return nil, false
}

func moGoValue(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case time.Time:
		return "time.Date(" + x.UTC().Format("2006, 1, 2, 15, 4, 5") + ", 0, time.UTC)"
	case user.Role:
		return "user.Role" + strings.ToUpper(string(x[:1])) + string(x[1:])
	case job.Status:
		return "job.Status" + strings.ToUpper(string(x[:1])) + string(x[1:])
	}
	return fmt.Sprint(v)
}

func moInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ", ")
}

func (s moSpec) String() string {
	var b strings.Builder
	for _, f := range s.fields {
		if f.clear {
			fmt.Fprintf(&b, ".Clear%s()", moPascal(f.col))
		} else {
			fmt.Fprintf(&b, ".Set%s(%s)", moPascal(f.col), moGoValue(f.val))
		}
	}
	for _, e := range s.edges {
		fmt.Fprintf(&b, ".%s(%s)", e.method(), moInts(e.ids))
	}
	return b.String()
}

func moPascal(col string) string {
	var b strings.Builder
	for _, p := range strings.Split(col, "_") {
		if p == "id" {
			b.WriteString("ID")
			continue
		}
		b.WriteString(strings.ToUpper(p[:1]) + p[1:])
	}
	return b.String()
}

// moUpsert is an INSERT ... ON CONFLICT on users (email) or companies
// (org_id, name).
type moUpsert struct {
	action  string // see moUpsertActions
	where   string // "", "target" (users.org_id = pin), "excluded" ("excluded"."org_id" = pin)
	pin     int
	literal string
}

var moUpsertActions = []string{
	"UpdateNewValues", "ResolveWithNewValues", "ResolveWith(SetExcluded(name))",
	"ResolveWith(Set(name, literal))", "Update(SetName(literal))", "Ignore", "DoNothing",
}

// moUpsertCopies: the SET copies "excluded" values of the same column or
// keeps the row's own. Not ResolveWithNewValues: it copies every column,
// org_id and created_at included, from the inserted row (docs/design.md section 10 (j)).
var moUpsertCopies = map[string]bool{
	"UpdateNewValues": true, "ResolveWith(SetExcluded(name))": true, "Ignore": true,
}

type moOp struct {
	kind    string // create, create-bulk, update-one, update-where, delete-one, delete-where, upsert
	label   string // what the summary counts it as
	edgeKey string // "job.managers add", for edge operations
	typ     string
	id      int
	where   []int
	set     moSpec
	creates []moSpec
	ups     *moUpsert
}

func (o *moOp) String() string {
	c := "client." + o.typ
	switch o.kind {
	case "create":
		return c + ".Create()" + o.creates[0].String() + ".Save(ctx)"
	case "create-bulk":
		parts := make([]string, len(o.creates))
		for i, s := range o.creates {
			parts[i] = c + ".Create()" + s.String()
		}
		return c + ".CreateBulk(" + strings.Join(parts, ", ") + ").Save(ctx)"
	case "update-one":
		return fmt.Sprintf("%s.UpdateOneID(%d)%s.Save(ctx)", c, o.id, o.set)
	case "update-where":
		return fmt.Sprintf("%s.Update().Where(sql.FieldIn(\"id\", %s))%s.Save(ctx)", c, moInts(o.where), o.set)
	case "delete-one":
		return fmt.Sprintf("%s.DeleteOneID(%d).Exec(ctx)", c, o.id)
	case "delete-where":
		return fmt.Sprintf("%s.Delete().Where(sql.FieldIn(\"id\", %s)).Exec(ctx)", c, moInts(o.where))
	case "upsert":
		u := o.ups
		target := `sql.ConflictColumns("email")`
		if o.typ == world.Company {
			target = `sql.ConflictColumns("org_id", "name")`
		}
		opts := []string{target}
		switch u.where {
		case "target":
			opts = append(opts, fmt.Sprintf(`sql.UpdateWhere(sql.EQ("org_id", %d))`, u.pin))
		case "excluded":
			opts = append(opts, fmt.Sprintf(`sql.UpdateWhere(sql.EQ("\"excluded\".\"org_id\"", %d))`, u.pin))
		}
		tail := ""
		switch u.action {
		case "ResolveWithNewValues":
			opts = append(opts, "sql.ResolveWithNewValues()")
		case "ResolveWith(SetExcluded(name))":
			opts = append(opts, `sql.ResolveWith(func(u *sql.UpdateSet) { u.SetExcluded("name") })`)
		case "ResolveWith(Set(name, literal))":
			opts = append(opts, fmt.Sprintf(`sql.ResolveWith(func(u *sql.UpdateSet) { u.Set("name", %q) })`, u.literal))
		case "Update(SetName(literal))":
			tail = fmt.Sprintf(".Update(func(u *ent.%sUpsert) { u.SetName(%q) })", o.typ, u.literal)
		default:
			tail = "." + u.action + "()"
		}
		return c + ".Create()" + o.creates[0].String() + ".OnConflict(" + strings.Join(opts, ", ") + ")" + tail + ".ID(ctx)"
	}
	return o.kind
}

// ---------------------------------------------------------------------------
// Running a mutation through ent, by reflection over the generated builders

type moResult struct {
	err      error
	ids      []int // created ids, or the id an update-one / upsert returned
	count    int   // update-where / delete-where
	panicked bool
}

func moErrOf(v reflect.Value) error {
	if v.IsNil() {
		return nil
	}
	return v.Interface().(error)
}

func moWhereIDs(b reflect.Value, ids []int) reflect.Value {
	m := b.MethodByName("Where")
	p := reflect.ValueOf(entsql.FieldIn("id", ids...)).Convert(m.Type().In(0).Elem())
	return m.Call([]reflect.Value{p})[0]
}

// moApply calls the builder's setters for s.
func moApply(b reflect.Value, s moSpec) reflect.Value {
	for _, f := range s.fields {
		if f.clear {
			b = dynCall(b, "Clear"+moPascal(f.col))[0]
			continue
		}
		m := b.MethodByName("Set" + moPascal(f.col))
		if !m.IsValid() {
			panic(fmt.Sprintf("mutation oracle: %s has no setter for %s", b.Type(), f.col))
		}
		b = m.Call([]reflect.Value{reflect.ValueOf(f.val).Convert(m.Type().In(0))})[0]
	}
	for _, e := range s.edges {
		args := make([]any, len(e.ids))
		for i, id := range e.ids {
			args[i] = id
		}
		b = dynCall(b, e.method(), args...)[0]
	}
	return b
}

func (w *moWorld) run(ctx context.Context, c *ent.Client, o *moOp) (res moResult) {
	defer func() {
		if p := recover(); p != nil {
			res = moResult{err: fmt.Errorf("panic: %v", p), panicked: true}
		}
	}()
	tc := reflect.ValueOf(c).Elem().FieldByName(o.typ)
	switch o.kind {
	case "create":
		b := moApply(dynCall(tc, "Create")[0], o.creates[0])
		out := dynCall(b, "Save", ctx)
		if res.err = moErrOf(out[1]); res.err == nil {
			res.ids = []int{dynEntityID(out[0])}
		}
	case "create-bulk":
		var bs []any
		for _, s := range o.creates {
			bs = append(bs, moApply(dynCall(tc, "Create")[0], s).Interface())
		}
		out := dynCall(dynCall(tc, "CreateBulk", bs...)[0], "Save", ctx)
		if res.err = moErrOf(out[1]); res.err == nil {
			for i := range out[0].Len() {
				res.ids = append(res.ids, dynEntityID(out[0].Index(i)))
			}
		}
	case "update-one":
		out := dynCall(moApply(dynCall(tc, "UpdateOneID", o.id)[0], o.set), "Save", ctx)
		if res.err = moErrOf(out[1]); res.err == nil {
			res.ids = []int{dynEntityID(out[0])}
		}
	case "update-where":
		b := moApply(moWhereIDs(dynCall(tc, "Update")[0], o.where), o.set)
		out := dynCall(b, "Save", ctx)
		res.err = moErrOf(out[1])
		res.count = int(out[0].Int())
	case "delete-one":
		res.err = moErrOf(dynCall(dynCall(tc, "DeleteOneID", o.id)[0], "Exec", ctx)[0])
	case "delete-where":
		out := dynCall(moWhereIDs(dynCall(tc, "Delete")[0], o.where), "Exec", ctx)
		res.err = moErrOf(out[1])
		res.count = int(out[0].Int())
	case "upsert":
		id, err := moRunUpsert(ctx, c, o)
		res.err = err
		if err == nil {
			res.ids = []int{id}
		}
	default:
		panic("mutation oracle: unknown kind " + o.kind)
	}
	return res
}

func moRunUpsert(ctx context.Context, c *ent.Client, o *moOp) (int, error) {
	u := o.ups
	var opts []entsql.ConflictOption
	if o.typ == world.User {
		opts = append(opts, entsql.ConflictColumns(user.FieldEmail))
	} else {
		opts = append(opts, entsql.ConflictColumns(company.FieldOrgID, company.FieldName))
	}
	switch u.where {
	case "target":
		opts = append(opts, entsql.UpdateWhere(entsql.EQ("org_id", u.pin)))
	case "excluded":
		opts = append(opts, entsql.UpdateWhere(entsql.EQ(`"excluded"."org_id"`, u.pin)))
	}
	switch u.action {
	case "ResolveWithNewValues":
		opts = append(opts, entsql.ResolveWithNewValues())
	case "ResolveWith(SetExcluded(name))":
		opts = append(opts, entsql.ResolveWith(func(s *entsql.UpdateSet) { s.SetExcluded("name") }))
	case "ResolveWith(Set(name, literal))":
		opts = append(opts, entsql.ResolveWith(func(s *entsql.UpdateSet) { s.Set("name", u.literal) }))
	}
	if o.typ == world.User {
		up := moApply(reflect.ValueOf(c.User.Create()), o.creates[0]).Interface().(*ent.UserCreate).OnConflict(opts...)
		switch u.action {
		case "UpdateNewValues":
			up = up.UpdateNewValues()
		case "Update(SetName(literal))":
			up = up.Update(func(s *ent.UserUpsert) { s.SetName(u.literal) })
		case "Ignore":
			up = up.Ignore()
		case "DoNothing":
			up = up.DoNothing()
		}
		return up.ID(ctx)
	}
	up := moApply(reflect.ValueOf(c.Company.Create()), o.creates[0]).Interface().(*ent.CompanyCreate).OnConflict(opts...)
	switch u.action {
	case "UpdateNewValues":
		up = up.UpdateNewValues()
	case "Update(SetName(literal))":
		up = up.Update(func(s *ent.CompanyUpsert) { s.SetName(u.literal) })
	case "Ignore":
		up = up.Ignore()
	case "DoNothing":
		up = up.DoNothing()
	}
	return up.ID(ctx)
}

// ---------------------------------------------------------------------------
// Scopes

type moViewer struct {
	world.Viewer
	kind        string // user, system (all tenants), inorg, auth-email, auth-token, none
	authUser    int
	authSession int
	ctx         context.Context
	desc        string
}

func (v moViewer) systemAll() bool { return v.kind == "system" }
func (v moViewer) isSystem() bool  { return v.kind == "system" || v.kind == "inorg" }
func (v moViewer) banned() bool    { return v.kind == "user" && v.User.Banned }
func (v moViewer) role(roles ...scope.Role) bool {
	return v.kind == "user" && slices.Contains(roles, v.User.Role)
}

func (v moViewer) label() string {
	switch v.kind {
	case "user":
		if v.User.Banned {
			return "banned " + string(v.User.Role)
		}
		return string(v.User.Role)
	case "system":
		return "system(all)"
	case "inorg":
		return "system(InOrg)"
	}
	return v.kind
}

// ---------------------------------------------------------------------------
// The world

type moWorld struct {
	t      *testing.T
	seed   int64
	db     *pgtest.DB
	drv    *moHeldDriver
	client *ent.Client
	r      *rand.Rand
	reason string
	sum    *moSummary
	// sumStmt: pgtest.ChecksumSQL, prepared on the application's pool, for the
	// mutation's transaction; rawSumStmt on the owner's, for the stored
	// state (row-level security does not apply to the owner).
	sumStmt, rawSumStmt *stdsql.Stmt

	snap   *world.Snapshot
	state  map[string]mtable
	sums   []string
	serial int
	i      int // the mutation running
	// unusedOptional: optional rows the last comparison did not meet.
	unusedOptional []mrow
	tRun, tCheck   time.Duration
	tSums, tDump   time.Duration
	// rls: the shadow run with the ent rules off (pgtest.ShadowMode):
	// each mutation is checked against what row-level security alone
	// must do (rlsModel).
	rls bool
}

func runMutationWorld(t *testing.T, seed int64, quota int, sum *moSummary) {
	db := pgtest.New(t)
	sys := pgtest.SystemContext(t)
	if err := world.Generate(sys, db.Client, seed); err != nil {
		t.Fatalf("seed %d: generate: %v", seed, err)
	}
	drv := &moHeldDriver{db: db.SQL}
	w := &moWorld{
		t: t, seed: seed, db: db, drv: drv,
		client: ent.NewClient(ent.Driver(database.NewDriver(drv, database.Options{}))),
		r:      rand.New(rand.NewPCG(uint64(seed), 0x6d75746f)),
		reason: fmt.Sprintf("mutation oracle seed %d", seed),
		sum:    sum,
		rls:    pgtest.ShadowMode(t) == pgtest.ShadowRLSOnly,
	}
	var err error
	if w.sumStmt, err = db.SQL.PrepareContext(context.Background(), pgtest.ChecksumSQL); err != nil {
		t.Fatalf("seed %d: prepare: %v", seed, err)
	}
	defer w.sumStmt.Close()
	if w.rawSumStmt, err = db.Raw.PrepareContext(context.Background(), pgtest.ChecksumSQL); err != nil {
		t.Fatalf("seed %d: prepare: %v", seed, err)
	}
	defer w.rawSumStmt.Close()
	if err := w.reload(); err != nil {
		t.Fatalf("seed %d: load: %v", seed, err)
	}
	start := time.Now()
	for w.i = 0; w.i < quota; w.i++ {
		w.step()
	}
	t.Logf("seed %d: %d mutations in %s (running them %s, checking them %s: checksums %s, reading rows %s)", seed, quota,
		time.Since(start).Round(time.Millisecond), w.tRun.Round(time.Millisecond), w.tCheck.Round(time.Millisecond),
		w.tSums.Round(time.Millisecond), w.tDump.Round(time.Millisecond))
}

func (w *moWorld) reload() error {
	ctx := context.Background()
	snap, err := world.Load(ctx, w.db.Raw)
	if err != nil {
		return err
	}
	state := map[string]mtable{}
	for _, tbl := range moTables {
		if state[tbl], err = moDump(ctx, w.db.Raw, tbl); err != nil {
			return err
		}
	}
	sums, err := moSums(ctx, w.rawSumStmt, nil)
	if err != nil {
		return err
	}
	w.snap, w.state, w.sums = snap, state, sums
	return nil
}

func (w *moWorld) fresh(prefix string) string {
	w.serial++
	return fmt.Sprintf("%s %d-%d", prefix, w.seed, w.serial)
}

func (w *moWorld) freshEmail() string {
	w.serial++
	return fmt.Sprintf("mo%d-%d@mut.test", w.seed, w.serial)
}

func (w *moWorld) freshSlug() string {
	w.serial++
	return fmt.Sprintf("mo-%d-%d", w.seed, w.serial)
}

func (w *moWorld) freshTime() time.Time {
	w.serial++
	return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(w.serial) * time.Second)
}

func (w *moWorld) chance(p float64) bool { return w.r.Float64() < p }

func moPick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func (w *moWorld) row(typ string, id int) mrow { return w.state[ent.TableOf[typ]][moKey(id)] }

func (w *moWorld) exists(typ string, id int) bool { return w.row(typ, id) != nil }

func (w *moWorld) sees(v moViewer, typ string, id int) bool {
	switch v.kind {
	case "auth-email":
		return typ == world.User && id == v.authUser
	case "auth-token":
		return (typ == world.Session && id == v.authSession) || (typ == world.User && id == v.authUser)
	case "none":
		return false
	}
	return w.snap.Sees(v.Viewer, typ, id)
}

func (w *moWorld) pickViewer() moViewer {
	for {
		var (
			v   moViewer
			s   scope.Scope
			err error
		)
		switch x := w.r.IntN(100); {
		case x < 1:
			return moViewer{kind: "none", desc: "no scope", ctx: context.Background()}
		case x < 6:
			if w.chance(0.6) || len(w.state["sessions"]) == 0 {
				u := w.snap.Users[moPick(w.r, w.snap.IDs(world.User))]
				v = moViewer{kind: "auth-email", authUser: u.ID, desc: fmt.Sprintf("authenticator(email of user %d)", u.ID)}
				s, err = scope.Authenticator(scope.AuthLookup{Email: u.Email})
			} else {
				sid := moPick(w.r, w.snap.IDs(world.Session))
				r := w.row(world.Session, sid)
				uid, _ := strconv.Atoi(r["user_id"])
				v = moViewer{kind: "auth-token", authSession: sid, authUser: uid,
					desc: fmt.Sprintf("authenticator(token of session %d of user %d)", sid, uid)}
				s, err = scope.Authenticator(scope.AuthLookup{TokenHash: r["token_hash"]})
			}
		case x < 18:
			v = moViewer{Viewer: world.SystemViewer(0), kind: "system"}
			s, err = v.Viewer.Scope(w.reason)
		case x < 30:
			v = moViewer{Viewer: world.SystemViewer(moPick(w.r, w.snap.IDs(world.Organization))), kind: "inorg"}
			s, err = v.Viewer.Scope(w.reason)
		default:
			v = moViewer{Viewer: world.UserViewer(w.snap.Users[moPick(w.r, w.snap.IDs(world.User))]), kind: "user"}
			s, err = v.Viewer.Scope(w.reason)
		}
		if err != nil {
			continue // a client left without a company by a committed mutation
		}
		if v.desc == "" {
			v.desc = v.Viewer.String()
		}
		v.ctx = scope.NewContext(context.Background(), s)
		return v
	}
}

// pickID returns an id of typ: one the scope sees, one of its tenant it
// does not see, one of another tenant, or one that does not exist.
func (w *moWorld) pickID(v moViewer, typ string) int { return w.pickIDBiased(v, typ, 55) }

// pickIDBiased: pVisible percent of the time a row the scope sees (if any).
func (w *moWorld) pickIDBiased(v moViewer, typ string, pVisible int) int {
	var visible, hidden, other []int
	for _, id := range w.snap.IDs(typ) {
		switch {
		case w.sees(v, typ, id):
			visible = append(visible, id)
		case v.OrgID != 0 && w.snap.OrgOf(typ, id) == any(v.OrgID):
			hidden = append(hidden, id)
		default:
			other = append(other, id)
		}
	}
	x := w.r.IntN(100)
	rest := (100 - pVisible) * 2 / 3 // hidden, other: the rest but a tenth, missing
	switch {
	case x < pVisible && len(visible) > 0:
		return moPick(w.r, visible)
	case x < pVisible+rest/2 && len(hidden) > 0:
		return moPick(w.r, hidden)
	case x < pVisible+rest && len(other) > 0:
		return moPick(w.r, other)
	case x < pVisible+rest && len(visible) > 0:
		return moPick(w.r, visible)
	}
	return pgtest.MissingID + w.r.IntN(1000)
}

func (w *moWorld) pickIDs(v moViewer, typ string, n int) []int {
	var out []int
	for range n {
		out = append(out, w.pickID(v, typ))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (w *moWorld) pickOrg(v moViewer) int {
	if v.OrgID != 0 && w.chance(0.7) {
		return v.OrgID
	}
	if w.chance(0.05) {
		return pgtest.MissingID + w.r.IntN(1000)
	}
	return moPick(w.r, w.snap.IDs(world.Organization))
}

// ---------------------------------------------------------------------------
// Generating mutations

func (w *moWorld) genOp(v moViewer) *moOp {
	if (v.kind == "auth-email" || v.kind == "auth-token") && w.chance(0.7) {
		return w.genAuthOp(v)
	}
	switch x := w.r.IntN(100); {
	case x < 13:
		typ := moPick(w.r, world.Types)
		return &moOp{kind: "create", label: "create", typ: typ, creates: []moSpec{w.genCreate(v, typ)}}
	case x < 19:
		typ := moPick(w.r, world.Types)
		o := &moOp{kind: "create-bulk", label: "create-bulk", typ: typ}
		for range 2 + w.r.IntN(2) {
			o.creates = append(o.creates, w.genCreate(v, typ))
		}
		return o
	case x < 37:
		typ := moPick(w.r, world.Types)
		id := w.pickID(v, typ)
		self := v.kind == "user" && typ == world.User && w.chance(0.35)
		if self {
			id = v.User.ID
		}
		s := w.genFields(typ, false, self)
		if w.chance(0.2) || (len(s.fields) == 0 && typ != world.AuditEvent && typ != world.Session) {
			if ops := moOpsFrom(typ); len(ops) > 0 {
				s.edges = append(s.edges, w.genEdgeOp(v, moPick(w.r, ops), id))
			}
		}
		return &moOp{kind: "update-one", label: "update-one", typ: typ, id: id, set: s}
	case x < 45:
		typ := moPick(w.r, world.Types)
		where := w.pickIDs(v, typ, 2+w.r.IntN(3))
		s := w.genFields(typ, true, false)
		if w.chance(0.15) || (len(s.fields) == 0 && typ != world.AuditEvent && typ != world.Session) {
			if ops := moOpsFrom(typ); len(ops) > 0 {
				s.edges = append(s.edges, w.genEdgeOp(v, moPick(w.r, ops), where[0]))
			}
		}
		return &moOp{kind: "update-where", label: "update-where", typ: typ, where: where, set: s}
	case x < 55:
		typ := moPick(w.r, world.Types)
		return &moOp{kind: "delete-one", label: "delete-one", typ: typ, id: w.pickDeletable(v, typ)}
	case x < 61:
		typ := moPick(w.r, world.Types)
		var where []int
		for range 1 + w.r.IntN(3) {
			where = append(where, w.pickDeletable(v, typ))
		}
		slices.Sort(where)
		return &moOp{kind: "delete-where", label: "delete-where", typ: typ, where: slices.Compact(where)}
	case x < 88:
		tmpl := moPick(w.r, moUpdateOps())
		typ := tmpl.info.From
		o := &moOp{label: "edge " + tmpl.op, edgeKey: tmpl.info.String() + " " + tmpl.op, typ: typ}
		if w.chance(0.7) {
			o.kind, o.id = "update-one", w.pickIDBiased(v, typ, 75)
			o.set.edges = []moEdgeOp{w.genEdgeOp(v, tmpl, o.id)}
		} else {
			o.kind, o.where = "update-where", w.pickIDs(v, typ, 1+w.r.IntN(3))
			o.set.edges = []moEdgeOp{w.genEdgeOp(v, tmpl, o.where[0])}
		}
		return o
	default:
		return w.genUpsert(v)
	}
}

func moOpsFrom(typ string) []moEdgeOp {
	var out []moEdgeOp
	for _, op := range moUpdateOps() {
		if op.info.From == typ {
			out = append(out, op)
		}
	}
	return out
}

// pickDeletable prefers rows without dependents half of the time, so that
// deletes that are allowed also succeed.
func (w *moWorld) pickDeletable(v moViewer, typ string) int {
	if w.chance(0.5) {
		var ids []int
		for _, id := range w.snap.IDs(typ) {
			if w.snap.Deletable(typ, id) && (w.chance(0.5) || w.sees(v, typ, id)) {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			return moPick(w.r, ids)
		}
	}
	return w.pickID(v, typ)
}

// genEdgeOp fills tmpl (an edge and an operation) with ids for the row id.
func (w *moWorld) genEdgeOp(v moViewer, tmpl moEdgeOp, id int) moEdgeOp {
	e := moEdgeOp{info: tmpl.info, op: tmpl.op}
	switch tmpl.op {
	case "set":
		e.ids = []int{w.pickIDBiased(v, e.info.To, 75)}
	case "add":
		e.ids = []int{w.pickIDBiased(v, e.info.To, 75)}
		if w.chance(0.4) {
			e.ids = append(e.ids, w.pickID(v, e.info.To))
		}
		slices.Sort(e.ids)
		e.ids = slices.Compact(e.ids)
	case "remove":
		if cur := w.snap.Neighbors(e.info.Edge, id); len(cur) > 0 && w.chance(0.6) {
			e.ids = []int{moPick(w.r, cur)}
			if w.chance(0.3) {
				e.ids = append(e.ids, w.pickID(v, e.info.To))
			}
			slices.Sort(e.ids)
			e.ids = slices.Compact(e.ids)
		} else {
			e.ids = w.pickIDs(v, e.info.To, 1+w.r.IntN(2))
		}
	}
	return e
}

func (w *moWorld) fieldValue(typ, col string) moField {
	if moClearable[col] && w.chance(0.2) {
		return moField{col: col, clear: true}
	}
	f := moField{col: col}
	switch col {
	case "name", "title", "description", "body", "password_hash":
		f.val = w.fresh("mo " + col)
	case "phone":
		f.val = fmt.Sprintf("+1 555 %d", w.serial)
		w.serial++
	case "email":
		f.val = w.freshEmail()
	case "slug":
		f.val = w.freshSlug()
	case "role":
		f.val = moPick(w.r, []user.Role{user.RoleAdmin, user.RoleManager, user.RoleMember, user.RoleClient})
	case "status":
		f.val = moPick(w.r, []job.Status{job.StatusDraft, job.StatusPublished, job.StatusArchived})
	case "banned":
		f.val = w.chance(0.4)
	case "active":
		f.val = !w.chance(0.4)
	case "archived", "internal":
		f.val = w.chance(0.5)
	case "salary_max":
		f.val = 1000 * w.r.IntN(200)
	case "expires_at":
		f.val = w.freshTime()
	default:
		panic("mutation oracle: no value for " + typ + "." + col)
	}
	return f
}

// genFields picks one or two fields to update. bulk: no unique field; self:
// mostly the fields a user may change on their own row.
func (w *moWorld) genFields(typ string, bulk, self bool) moSpec {
	var s moSpec
	cols := moUpdateFields[typ]
	if bulk {
		cols = slices.DeleteFunc(slices.Clone(cols), func(c string) bool {
			return moUniqueFields[c] || (typ == world.Company && c == "name")
		})
	}
	if self && w.chance(0.7) {
		cols = []string{"name", "phone"}
	}
	if len(cols) == 0 {
		return s
	}
	n := 1 + w.r.IntN(2)
	for _, i := range w.r.Perm(len(cols))[:min(n, len(cols))] {
		s.fields = append(s.fields, w.fieldValue(typ, cols[i]))
	}
	return s
}

// setOrg names an organization on a create: always under the all-tenant
// system scope (it has none of its own), sometimes under the others.
func (w *moWorld) setOrg(v moViewer, s *moSpec, typ string) {
	switch x := w.r.IntN(10); {
	case v.systemAll():
		s.edge(typ, "org", "set", moPick(w.r, w.snap.IDs(world.Organization)))
	case x < 7:
	case x < 9 && v.OrgID != 0:
		s.edge(typ, "org", "set", v.OrgID)
	default:
		s.edge(typ, "org", "set", w.pickOrg(v))
	}
}

// setOwner names the creator of a job or the author of a note.
func (w *moWorld) setOwner(v moViewer, s *moSpec, typ, edge string) {
	switch {
	case v.isSystem():
		s.edge(typ, edge, "set", w.pickID(v, world.User))
	case v.kind == "user":
		switch x := w.r.IntN(4); {
		case x < 2:
		case x < 3:
			s.edge(typ, edge, "set", v.User.ID)
		default:
			s.edge(typ, edge, "set", w.pickID(v, world.User))
		}
	default:
		s.edge(typ, edge, "set", w.pickID(v, world.User))
	}
}

func (w *moWorld) genCreate(v moViewer, typ string) moSpec {
	var s moSpec
	switch typ {
	case world.Organization:
		s.field("name", w.fresh("mo org"))
		s.field("slug", w.freshSlug())
		if w.chance(0.05) {
			e := moPick(w.r, moOpsFrom(world.Organization))
			s.edge(typ, e.info.Name, "add", w.pickIDs(v, e.info.To, 1)...)
		}
	case world.User:
		s.field("email", w.freshEmail())
		s.field("name", w.fresh("mo user"))
		s.fields = append(s.fields, w.fieldValue(typ, "role"))
		if w.chance(0.3) {
			s.field("phone", "+1 555 0100")
		}
		if w.chance(0.1) {
			s.field("banned", true)
		}
		if w.chance(0.1) {
			s.field("active", false)
		}
		if w.chance(0.3) {
			s.edge(typ, "company", "set", w.pickID(v, world.Company))
		}
		if w.chance(0.15) {
			s.edge(typ, "managed_jobs", "add", w.pickIDs(v, world.Job, 1+w.r.IntN(2))...)
		}
		if w.chance(0.06) {
			e := moPick(w.r, []string{"notes", "sessions", "created_jobs"})
			s.edge(typ, e, "add", w.pickIDs(v, moEdge(typ, e).To, 1)...)
		}
		w.setOrg(v, &s, typ)
	case world.Session:
		uid := w.pickID(v, world.User)
		if v.kind == "auth-email" && w.chance(0.8) {
			uid = v.authUser
		}
		s.edge(typ, "user", "set", uid)
		s.field("token_hash", w.fresh("mo token"))
		s.field("expires_at", w.freshTime())
	case world.Company:
		s.field("name", w.fresh("mo company"))
		if w.chance(0.3) {
			s.field("archived", true)
		}
		if w.chance(0.08) {
			s.edge(typ, "jobs", "add", w.pickIDs(v, world.Job, 1)...)
		}
		if w.chance(0.1) {
			s.edge(typ, "clients", "add", w.pickIDs(v, world.User, 1)...)
		}
		w.setOrg(v, &s, typ)
	case world.Job:
		s.edge(typ, "company", "set", w.pickID(v, world.Company))
		s.field("title", w.fresh("mo job"))
		if w.chance(0.5) {
			s.fields = append(s.fields, w.fieldValue(typ, "status"))
		}
		if w.chance(0.3) {
			s.field("description", w.fresh("mo description"))
		}
		if w.chance(0.3) {
			s.field("salary_max", 1000*w.r.IntN(100))
		}
		w.setOwner(v, &s, typ, "creator")
		if w.chance(0.4) {
			s.edge(typ, "managers", "add", w.pickIDs(v, world.User, 1+w.r.IntN(2))...)
		}
		if w.chance(0.05) {
			s.edge(typ, "notes", "add", w.pickIDs(v, world.Note, 1)...)
		}
		w.setOrg(v, &s, typ)
	case world.Note:
		s.edge(typ, "job", "set", w.pickID(v, world.Job))
		s.field("body", w.fresh("mo body"))
		switch x := w.r.IntN(10); {
		case x < 4:
			s.field("internal", true)
		case x < 5:
			s.field("internal", false)
		}
		w.setOwner(v, &s, typ, "author")
		w.setOrg(v, &s, typ)
	case world.AuditEvent:
		s.field("actor", "system")
		s.field("reason", w.fresh("mo forged"))
		s.field("action", "update")
		s.field("object", world.Job)
		s.field("object_id", "1")
		if w.chance(0.5) {
			s.field("org_id", w.pickOrg(v))
		}
	}
	return s
}

func (w *moWorld) genAuthOp(v moViewer) *moOp {
	if v.kind == "auth-email" {
		return &moOp{kind: "create", label: "auth session create", typ: world.Session,
			creates: []moSpec{w.genCreate(v, world.Session)}}
	}
	if w.chance(0.5) {
		id := w.pickID(v, world.Session)
		if w.chance(0.5) {
			id = v.authSession
		}
		return &moOp{kind: "delete-one", label: "auth session delete", typ: world.Session, id: id}
	}
	where := append(w.pickIDs(v, world.Session, 2), v.authSession)
	slices.Sort(where)
	return &moOp{kind: "delete-where", label: "auth session delete", typ: world.Session, where: slices.Compact(where)}
}

func (w *moWorld) genUpsert(v moViewer) *moOp {
	typ := moPick(w.r, []string{world.User, world.Company})
	o := &moOp{kind: "upsert", typ: typ, ups: &moUpsert{action: moPick(w.r, moUpsertActions), literal: w.fresh("mo literal")}}
	o.label = "upsert " + o.ups.action
	var s moSpec
	conflictOrg := 0
	if typ == world.User {
		email := w.freshEmail()
		if w.chance(0.65) {
			if r := w.row(world.User, w.pickID(v, world.User)); r != nil {
				email = r["email"]
				conflictOrg, _ = strconv.Atoi(r["org_id"])
			}
		}
		s.field("email", email)
		s.field("name", w.fresh("mo upsert"))
		s.fields = append(s.fields, w.fieldValue(typ, "role"))
		if w.chance(0.2) {
			s.field("phone", "+1 555 0199")
		}
		if w.chance(0.1) {
			s.field("banned", true)
		}
		if w.chance(0.1) {
			s.field("active", false)
		}
	} else {
		name := w.fresh("mo company")
		if w.chance(0.65) {
			if r := w.row(world.Company, w.pickID(v, world.Company)); r != nil {
				name = r["name"]
				conflictOrg, _ = strconv.Atoi(r["org_id"])
			}
		}
		s.field("name", name)
		if w.chance(0.4) {
			s.field("archived", true)
		}
	}
	switch {
	case v.systemAll():
		org := moPick(w.r, w.snap.IDs(world.Organization))
		if conflictOrg != 0 && w.chance(0.6) {
			org = conflictOrg
		}
		s.edge(typ, "org", "set", org)
	case w.chance(0.15):
		s.edge(typ, "org", "set", w.pickOrg(v))
	}
	o.creates = []moSpec{s}
	switch x := w.r.IntN(10); {
	case x < 4:
	case x < 7:
		o.ups.where, o.ups.pin = "target", v.OrgID
		if v.OrgID == 0 || w.chance(0.2) {
			o.ups.pin = moPick(w.r, w.snap.IDs(world.Organization))
		}
	default:
		o.ups.where, o.ups.pin = "excluded", v.OrgID
		if v.OrgID == 0 {
			o.ups.pin = moPick(w.r, w.snap.IDs(world.Organization))
		}
	}
	return o
}

// ---------------------------------------------------------------------------
// The model: docs/design.md sections 3 and 5, and the semantics of the brief

type moViol struct {
	why  string
	want string
	ok   func(error) bool
	// rls: what row-level security alone must do with a mutation denied
	// for this reason (the shadow run SCOPEGATE_SHADOW=rls, see
	// mutation_oracle_rls_test.go).
	rls moRLS
}

func moIs(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if !errors.Is(err, t) {
				return false
			}
		}
		return true
	}
}

func moIsAny(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

func vDeny(why string) moViol {
	return moViol{why, "privacy.Deny", moIs(privacy.Deny), moRLSNotCovered}
}
func vForbidden(why string) moViol {
	return moViol{why, "privacy.Deny and policy.ErrForbidden", moIs(privacy.Deny, policy.ErrForbidden), moRLSNotCovered}
}
func vForeign(why string) moViol {
	return moViol{why, "rules.ErrForeignLink", moIs(rules.ErrForeignLink), moRLSNotCovered}
}
func vWrongTenant(why string) moViol {
	return moViol{why, "rules.ErrWrongTenant", moIs(rules.ErrWrongTenant), moRLSRefuses}
}
func vNotOwner(why string) moViol {
	return moViol{why, "rules.ErrNotOwner", moIs(rules.ErrNotOwner), moRLSNotCovered}
}
func vNotFound(why string) moViol {
	return moViol{why, "*ent.NotFoundError", ent.IsNotFound, moRLSRefuses}
}
func vUnsafe(why string) moViol {
	return moViol{why, "database.ErrUnsafeUpsert", moIs(database.ErrUnsafeUpsert), moRLSSeam}
}

// vImmutable: a link through an immutable foreign key of the target is
// "denied outright"; the brief names no sentinel, so any denial will do.
func vImmutable(why string) moViol {
	return moViol{why, "a denial (privacy.Deny, rules.ErrForeignLink or rules.ErrReadOnly)",
		moIsAny(privacy.Deny, rules.ErrForeignLink, rules.ErrReadOnly), moRLSNotCovered}
}

// moIsDenial: the error is one of the data layer's refusals, not a failure
// of the database.
func moIsDenial(err error) bool {
	return ent.IsNotFound(err) || moIsAny(privacy.Deny, policy.ErrForbidden, rules.ErrForeignLink, rules.ErrWrongTenant,
		rules.ErrNotOwner, rules.ErrReadOnly, database.ErrUnsafeUpsert, scope.ErrNoScope)(err)
}

type moExpect struct {
	viols   []moViol // non-empty: denied with an error matching one of them, nothing changes
	lenient []moViol // allowed, but a denial matching one of these is also accepted
	failOK  []string // allowed by the policy, then ent or PostgreSQL must fail: the reasons
	noop    string   // allowed, changes nothing, any result
	delta   moDelta
	count   int // update-where / delete-where: rows reached (-1: not checked)
	retID   int // update-one / upsert: the id returned
	// creates: the delta depends on the ids the create returns.
	nCreated int
	onIDs    func(ids []int) moDelta
	// notes about effects the design does not rule on (observations).
	notes []string
	// The shadow run with row-level security alone (rlsModel): rlsRefuse,
	// the model's denials that RLS must make too (nothing changes);
	// rlsUncovered, denials of rules RLS does not enforce (only that
	// nothing outside the scope's tenant, or outside what it sees, changes).
	rlsRefuse, rlsUncovered []moViol
}

func moDeny(vs ...moViol) *moExpect { return &moExpect{viols: vs, count: -1} }

func (e *moExpect) String() string {
	whys := func(vs []moViol) string {
		var parts []string
		for _, v := range vs {
			parts = append(parts, v.why)
		}
		return strings.Join(parts, "; ")
	}
	switch {
	case len(e.rlsRefuse) > 0:
		return "RLS refuses: " + whys(e.rlsRefuse)
	case len(e.rlsUncovered) > 0:
		return "not covered by RLS (only the ent rules deny it): " + whys(e.rlsUncovered)
	case len(e.viols) > 0:
		var parts []string
		for _, v := range e.viols {
			parts = append(parts, v.why+" ("+v.want+")")
		}
		return "denied: " + strings.Join(parts, "; or ")
	case e.noop != "":
		return "allowed, changes nothing: " + e.noop
	case len(e.failOK) > 0:
		return "allowed by the policy, then fails in ent or PostgreSQL: " + strings.Join(e.failOK, "; ")
	}
	s := "allowed"
	if e.count >= 0 {
		s += fmt.Sprintf(", %d rows", e.count)
	}
	return s
}

func (w *moWorld) model(v moViewer, o *moOp) *moExpect {
	switch o.kind {
	case "create", "create-bulk":
		return w.modelCreate(v, o)
	case "update-one":
		return w.modelUpdateOne(v, o)
	case "update-where":
		return w.modelUpdateWhere(v, o)
	case "delete-one":
		return w.modelDeleteOne(v, o)
	case "delete-where":
		return w.modelDeleteWhere(v, o)
	case "upsert":
		return w.modelUpsert(v, o)
	}
	panic("mutation oracle: unknown kind " + o.kind)
}

// kindCheck: which scope may make which kind of mutation on a type at all.
// Its rls field says whether row-level security alone refuses the same
// (docs/rls.md): a banned user, a user on organizations or audit events,
// an InOrg scope creating an organization and the authenticator outside
// sessions match no policy; a user's, the system scope's and the
// authenticator's writes of sessions and the system scope's of audit
// events do.
func (w *moWorld) kindCheck(v moViewer, typ, op string) *moViol {
	var vi moViol
	switch v.kind {
	case "user":
		switch {
		case v.User.Banned:
			vi = vDeny("a banned user mutates nothing")
			vi.rls = moRLSRefuses
		case typ == world.Organization || typ == world.AuditEvent:
			vi = vDeny("users never mutate " + typ)
			vi.rls = moRLSRefuses
		case typ == world.Session && op != "delete":
			vi = vDeny("users only delete sessions")
		default:
			return nil
		}
	case "system", "inorg":
		switch {
		case typ == world.AuditEvent && op != "delete":
			vi = vDeny("audit events are written only by the audit hook")
		case typ == world.Session && op == "create":
			vi = vDeny("sessions are created only under the authenticator scope")
		case typ == world.Organization && op == "create" && v.kind == "inorg":
			vi = moViol{"an InOrg scope creates no organization", "privacy.Deny or rules.ErrWrongTenant",
				moIsAny(privacy.Deny, rules.ErrWrongTenant), moRLSRefuses}
		default:
			return nil
		}
	case "auth-email":
		if typ == world.Session && op == "create" {
			return nil
		}
		vi = vDeny("the authenticator (email) only creates sessions")
		if typ != world.Session {
			vi.rls = moRLSRefuses
		}
	case "auth-token":
		if typ == world.Session && op == "delete" {
			return nil
		}
		vi = vDeny("the authenticator (token) only revokes its session")
		// Its one session may be written (its token hash is in the
		// policies); a new one, with another token hash, may not.
		if typ != world.Session || op == "create" {
			vi.rls = moRLSRefuses
		}
	default:
		vi = moViol{"no scope", "scope.ErrNoScope", moIs(scope.ErrNoScope), moRLSRefuses}
	}
	return &vi
}

func (w *moWorld) manages(v moViewer, jobID int) bool {
	j := w.snap.Jobs[jobID]
	return j != nil && slices.Contains(j.Managers, v.User.ID)
}

// mayUpdate: the write policy of section 5 for updating row id, changing
// fields (edges count as the field or edge name).
func (w *moWorld) mayUpdate(v moViewer, typ string, id int, fields []string, internalTrue bool) bool {
	if v.isSystem() {
		return true
	}
	if v.kind != "user" || v.User.Banned {
		return false
	}
	me := v.User
	admin := me.Role == scope.RoleAdmin
	switch typ {
	case world.Company:
		return admin
	case world.Job:
		return admin || (me.Role == scope.RoleManager && w.manages(v, id))
	case world.Note:
		n := w.snap.Notes[id]
		return (admin || (n != nil && n.AuthorID == me.ID)) &&
			(!internalTrue || admin || me.Role == scope.RoleManager)
	case world.User:
		if admin {
			return true
		}
		if id != me.ID {
			return false
		}
		for _, f := range fields {
			if f != "name" && f != "phone" {
				return false
			}
		}
		return true
	}
	return false
}

func (w *moWorld) mayDelete(v moViewer, typ string, id int) bool {
	if v.isSystem() {
		return true
	}
	if v.kind == "auth-token" {
		return typ == world.Session
	}
	if v.kind != "user" || v.User.Banned {
		return false
	}
	me := v.User
	admin := me.Role == scope.RoleAdmin
	switch typ {
	case world.Company, world.Job, world.User:
		return admin
	case world.Note:
		n := w.snap.Notes[id]
		return admin || (n != nil && n.AuthorID == me.ID)
	case world.Session:
		return true // the ones they see
	}
	return false
}

func moMayCreate(role scope.Role, typ string) bool {
	switch typ {
	case world.Company, world.User:
		return role == scope.RoleAdmin
	case world.Job:
		return role == scope.RoleAdmin || role == scope.RoleManager
	case world.Note:
		return role == scope.RoleAdmin || role == scope.RoleManager || role == scope.RoleMember
	}
	return false
}

// targetRight: linking or unlinking target row tid through an edge whose
// foreign key lives in the target table is an update of that row.
func (w *moWorld) targetRight(v moViewer, info *moEdgeInfo, tid int) bool {
	return w.mayUpdate(v, info.To, tid, []string{info.col}, false)
}

func moIsTenantOwned(typ string) bool {
	return typ == world.User || typ == world.Company || typ == world.Job || typ == world.Note
}

// moInsertDefaults are the values ent's defaults put in the INSERT;
// moNullDefaults the columns left out of it (NULL).
var moInsertDefaults = map[string]mrow{
	world.Organization: {"created_at": moAny, "updated_at": moAny},
	world.User:         {"created_at": moAny, "updated_at": moAny, "banned": "false", "active": "true"},
	world.Session:      {"created_at": moAny},
	world.Company:      {"created_at": moAny, "updated_at": moAny, "archived": "false"},
	world.Job:          {"created_at": moAny, "updated_at": moAny, "description": "", "status": "draft"},
	world.Note:         {"created_at": moAny, "updated_at": moAny, "internal": "false"},
	world.AuditEvent:   {"at": moAny},
}

var moNullDefaults = map[string][]string{
	world.User:       {"phone", "password_hash", "company_id"},
	world.Job:        {"salary_max"},
	world.AuditEvent: {"org_id"},
}

type moCreatePlan struct {
	typ     string
	row     mrow            // the new row (no id)
	inserts map[string]bool // the columns of the INSERT
	joins   []int           // M2M other ends
	targets []int           // target rows whose foreign key gets the new id
	tinfo   *moEdgeInfo
	jinfo   *moEdgeInfo
	viols   []moViol
	failOK  []string
}

func (w *moWorld) planCreate(v moViewer, typ string, s moSpec) *moCreatePlan {
	p := &moCreatePlan{typ: typ, row: mrow{}, inserts: map[string]bool{}}
	for k, val := range moInsertDefaults[typ] {
		p.row[k] = val
		p.inserts[k] = true
	}
	for _, c := range moNullDefaults[typ] {
		p.row[c] = moNull
	}
	if vi := w.kindCheck(v, typ, "create"); vi != nil {
		p.viols = append(p.viols, *vi)
		if v.banned() || v.kind == "none" {
			return p
		}
	}
	if v.kind == "user" && !v.User.Banned && !moMayCreate(v.User.Role, typ) && typ != world.Session &&
		typ != world.Organization && typ != world.AuditEvent {
		p.viols = append(p.viols, vForbidden(fmt.Sprintf("%s.create is not allowed to a %s", strings.ToLower(typ), v.User.Role)))
	}
	orgSet, ownerSet := false, false
	for _, f := range s.fields {
		p.row[f.col] = moCanon(f.val)
		p.inserts[f.col] = true
		if typ == world.Note && f.col == "internal" && f.val == true && v.kind == "user" &&
			!v.role(scope.RoleAdmin, scope.RoleManager) {
			p.viols = append(p.viols, vForbidden("an internal note needs an admin or a manager"))
		}
	}
	for _, e := range s.edges {
		info := e.info
		switch info.where {
		case "self":
			id := e.ids[0]
			p.row[info.col] = moKey(id)
			p.inserts[info.col] = true
			switch info.Name {
			case "org":
				orgSet = true
				if !v.systemAll() && id != v.OrgID {
					p.viols = append(p.viols, vWrongTenant(fmt.Sprintf("org_id %d is not the scope's organization", id)))
				} else if !w.exists(world.Organization, id) {
					p.failOK = append(p.failOK, fmt.Sprintf("organization %d does not exist", id))
				}
			case "creator", "author":
				ownerSet = true
				switch {
				case v.kind == "user" && !w.sees(v, world.User, id):
					p.viols = append(p.viols, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, id)))
				case v.kind == "user" && id != v.User.ID:
					p.viols = append(p.viols, vNotOwner(fmt.Sprintf("%s %d is not the signed-in user", info.Name, id)))
				case !v.systemAll() && !w.sees(v, world.User, id):
					p.viols = append(p.viols, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, id)))
				case !w.exists(world.User, id):
					p.failOK = append(p.failOK, fmt.Sprintf("user %d does not exist", id))
				}
			case "user": // a session's
				if v.kind == "auth-email" && id != v.authUser {
					p.viols = append(p.viols, moViol{fmt.Sprintf("a session for user %d, not the login's", id),
						"rules.ErrForeignLink or privacy.Deny", moIsAny(rules.ErrForeignLink, privacy.Deny), moRLSRefuses})
				} else if !w.exists(world.User, id) {
					p.failOK = append(p.failOK, fmt.Sprintf("user %d does not exist", id))
				}
			default:
				if !v.systemAll() && !w.sees(v, info.To, id) {
					p.viols = append(p.viols, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, id)))
				} else if !w.exists(info.To, id) {
					p.failOK = append(p.failOK, fmt.Sprintf("%s %d does not exist", info.Name, id))
				}
			}
		case "join":
			p.jinfo = info
			for _, id := range e.ids {
				if !v.systemAll() && !w.sees(v, info.To, id) {
					p.viols = append(p.viols, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, id)))
				} else if !w.exists(info.To, id) {
					p.failOK = append(p.failOK, fmt.Sprintf("%s %d does not exist", info.Name, id))
				}
				p.joins = append(p.joins, id)
			}
		case "target":
			p.tinfo = info
			if info.immutable {
				p.viols = append(p.viols, vImmutable(fmt.Sprintf("%s: %s.%s is immutable", info, info.To, info.col)))
				continue
			}
			for _, id := range e.ids {
				r := w.row(info.To, id)
				switch {
				case !v.systemAll() && !w.sees(v, info.To, id):
					p.viols = append(p.viols, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, id)))
				case v.kind == "user" && !w.targetRight(v, info, id):
					p.viols = append(p.viols, vForbidden(fmt.Sprintf("linking %s %d updates its %s", info.Name, id, info.col)))
				case r == nil:
					p.failOK = append(p.failOK, fmt.Sprintf("%s %d does not exist", info.Name, id))
				case r[info.col] != moNull:
					p.failOK = append(p.failOK, fmt.Sprintf("%s %d already has a %s (ent: already connected)", info.Name, id, info.col))
				default:
					p.targets = append(p.targets, id)
				}
			}
		}
	}
	if moIsTenantOwned(typ) && !orgSet {
		if v.OrgID != 0 {
			p.row["org_id"] = moKey(v.OrgID)
			p.inserts["org_id"] = true
		} else if len(p.viols) == 0 {
			p.failOK = append(p.failOK, "no org_id")
		}
	}
	if (typ == world.Job || typ == world.Note) && !ownerSet {
		col := map[string]string{world.Job: "created_by_id", world.Note: "author_id"}[typ]
		if v.kind == "user" {
			p.row[col] = moKey(v.User.ID)
			p.inserts[col] = true
		} else if len(p.viols) == 0 {
			p.failOK = append(p.failOK, "no "+col)
		}
	}
	if moIsTenantOwned(typ) && len(p.viols) == 0 {
		org := p.row["org_id"]
		for _, e := range s.edges {
			switch {
			case e.info.where == "self" && e.info.Name != "org":
				p.failOK = append(p.failOK, w.crossTenant(org, e.info.To, e.ids[0])...)
			case e.info.where == "join":
				for _, id := range e.ids {
					p.failOK = append(p.failOK, w.crossTenant(org, e.info.To, id)...)
				}
			}
		}
		for _, t := range p.targets {
			p.failOK = append(p.failOK, w.crossTenant(org, p.tinfo.To, t)...)
		}
	}
	return p
}

// crossTenant: the tenant-safe foreign keys (docs/design.md section 8) refuse a
// link from a row of organization org to row id of typ of another one,
// under every scope; only the all-tenant system scope gets past the rules
// to them. It returns the reason, if the link is one.
func (w *moWorld) crossTenant(org, typ string, id int) []string {
	r := w.row(typ, id)
	if !moIsTenantOwned(typ) || r == nil || org == "" || org == moNull || org == moAny || r["org_id"] == org {
		return nil
	}
	return []string{fmt.Sprintf("%s %d is of organization %s, not %s%s", typ, id, r["org_id"], org, moTenantKey)}
}

// moTenantKey ends the reasons of crossTenant: a mutation that fails for
// those alone must fail with a foreign key violation.
const moTenantKey = " (a tenant-safe foreign key)"

// jobOrg is the org_id of a job, which the trigger copies into its manager
// links.
func (w *moWorld) jobOrg(id int) string {
	if r := w.row(world.Job, id); r != nil {
		return r["org_id"]
	}
	return moAny
}

// applyCreate adds a planned create to d, with the new row's id (0:
// unknown).
func (w *moWorld) applyCreate(d moDelta, v moViewer, p *moCreatePlan, id int) {
	key := moAny
	if id > 0 {
		key = moKey(id)
	}
	r := maps.Clone(p.row)
	r["id"] = key
	d.create(ent.TableOf[p.typ], r)
	for _, other := range p.joins {
		jr := mrow{"job_id": key, "user_id": moKey(other), "org_id": p.row["org_id"]}
		if p.typ == world.User {
			jr = mrow{"job_id": moKey(other), "user_id": key, "org_id": w.jobOrg(other)}
		}
		d.create("job_managers", jr)
	}
	for _, t := range p.targets {
		ttbl := ent.TableOf[p.tinfo.To]
		d.set(ttbl, moKey(t), p.tinfo.col, key)
		if moHasUpdatedAt[p.tinfo.To] {
			d.set(ttbl, moKey(t), "updated_at", moAny)
		}
		w.secondary(d, v, p.tinfo.To, moKey(t))
	}
	if v.isSystem() && p.typ != world.AuditEvent {
		org := p.row["org_id"]
		if p.typ == world.Organization || p.typ == world.Session {
			org = moAny
		}
		d.create("audit_events", w.auditRow("create", p.typ, key, org))
	}
}

func (w *moWorld) auditRow(action, typ, objectID, org string) mrow {
	return mrow{"id": moAny, "at": moAny, "actor": audit.Actor, "reason": w.reason, "action": action,
		"object": typ, "object_id": objectID, "org_id": org}
}

// orgOf is the organization an audit event of row id names.
func (w *moWorld) orgOf(typ string, id int) string {
	switch typ {
	case world.Organization:
		return moKey(id)
	case world.Session:
		return moAny // "recorded without one"; the design does not say
	}
	return w.row(typ, id)["org_id"]
}

func moDedupe(vs []moViol) []moViol {
	var out []moViol
	seen := map[string]bool{}
	for _, v := range vs {
		if !seen[v.why+v.want] {
			seen[v.why+v.want] = true
			out = append(out, v)
		}
	}
	return out
}

func (w *moWorld) modelCreate(v moViewer, o *moOp) *moExpect {
	var plans []*moCreatePlan
	var viols []moViol
	var fail []string
	for _, s := range o.creates {
		p := w.planCreate(v, o.typ, s)
		plans = append(plans, p)
		viols = append(viols, p.viols...)
		fail = append(fail, p.failOK...)
	}
	if len(viols) > 0 {
		return moDeny(moDedupe(viols)...)
	}
	return &moExpect{failOK: fail, count: -1, nCreated: len(plans), onIDs: func(ids []int) moDelta {
		d := moDelta{}
		for i, p := range plans {
			id := 0
			if len(ids) == len(plans) {
				id = ids[i]
			}
			w.applyCreate(d, v, p, id)
		}
		return d
	}}
}

// updateShape: what an update spec changes, and its denials that do not
// depend on the rows reached (shape) or that depend only on the linked
// target rows (targets).
func (w *moWorld) updateShape(v moViewer, typ string, s moSpec) (shape, targets []moViol, fields []string, internalTrue bool) {
	for _, f := range s.fields {
		fields = append(fields, f.col)
		if typ == world.Note && f.col == "internal" && f.val == true {
			internalTrue = true
		}
	}
	for _, e := range s.edges {
		info := e.info
		switch info.where {
		case "self":
			fields = append(fields, info.col)
			if e.op == "set" && !v.systemAll() && !w.sees(v, info.To, e.ids[0]) {
				shape = append(shape, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, e.ids[0])))
			}
		case "join":
			fields = append(fields, info.Name)
			for _, id := range e.ids {
				if !v.systemAll() && !w.sees(v, info.To, id) {
					shape = append(shape, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, id)))
				}
			}
		case "target":
			fields = append(fields, info.Name)
			if info.immutable {
				shape = append(shape, vImmutable(fmt.Sprintf("%s %s: %s.%s is immutable", info, e.op, info.To, info.col)))
				if e.op == "clear" && !v.systemAll() {
					shape = append(shape, vForeign(fmt.Sprintf("clearing %s under a tenant scope", info)))
				}
				continue
			}
			if e.op == "clear" {
				if !v.systemAll() {
					shape = append(shape, vForeign(fmt.Sprintf("clearing %s under a tenant scope", info)))
				}
				continue
			}
			for _, id := range e.ids {
				switch {
				case !v.systemAll() && !w.sees(v, info.To, id):
					shape = append(shape, vForeign(fmt.Sprintf("%s %d is not visible", info.Name, id)))
				case v.kind == "user" && !w.targetRight(v, info, id):
					targets = append(targets, vForbidden(fmt.Sprintf("%s %s %d updates its %s", info, e.op, id, info.col)))
				}
			}
		}
	}
	return shape, targets, fields, internalTrue
}

// revoke: banning or deactivating user key deletes their sessions in the
// same transaction; under a system scope each is a changed row, so audited.
func (w *moWorld) revoke(d moDelta, v moViewer, key string) {
	for _, sk := range slices.Sorted(maps.Keys(w.state["sessions"])) {
		if w.state["sessions"][sk]["user_id"] == key {
			d.del("sessions", sk)
			if v.isSystem() {
				d.create("audit_events", w.auditRow("delete", world.Session, sk, moAny))
			}
		}
	}
}

// secondary: a row changed through an edge (its foreign key set by the
// other side) or by ON DELETE SET NULL. Under a system scope "each changed
// row gets an audit event"; the brief's reference (checkAudit) audits the
// mutation's own rows only, so these are optional, and a missing one is an
// observation.
func (w *moWorld) secondary(d moDelta, v moViewer, typ, key string) {
	if v.isSystem() {
		d.optional("audit_events", w.auditRow("update", typ, key, moAny))
	}
}

// applyUpdate adds the update of row id to d; it returns why ent or
// PostgreSQL must fail, if they must.
func (w *moWorld) applyUpdate(d moDelta, v moViewer, typ string, id int, s moSpec, multi bool) (fail []string) {
	tbl, key := ent.TableOf[typ], moKey(id)
	if moHasUpdatedAt[typ] {
		d.set(tbl, key, "updated_at", moAny)
	}
	revoke := false
	for _, f := range s.fields {
		if f.clear {
			d.set(tbl, key, f.col, moNull)
		} else {
			d.set(tbl, key, f.col, moCanon(f.val))
		}
		if typ == world.User && ((f.col == "banned" && f.val == true) || (f.col == "active" && f.val == false)) {
			revoke = true
		}
	}
	if revoke {
		w.revoke(d, v, key)
	}
	org := moNull // the row's organization, for the tenant-safe keys
	if moIsTenantOwned(typ) {
		org = w.row(typ, id)["org_id"]
	}
	for _, e := range s.edges {
		info := e.info
		switch info.where {
		case "self":
			if e.op == "set" {
				d.set(tbl, key, info.col, moKey(e.ids[0]))
				if !w.exists(info.To, e.ids[0]) {
					fail = append(fail, fmt.Sprintf("%s %d does not exist", info.Name, e.ids[0]))
				} else if info.Name != "org" {
					fail = append(fail, w.crossTenant(org, info.To, e.ids[0])...)
				}
			} else if info.required {
				fail = append(fail, fmt.Sprintf("%s is a required edge", info))
			} else {
				d.set(tbl, key, info.col, moNull)
			}
		case "join":
			pair := func(other int) (string, mrow) {
				if typ == world.Job {
					return moPairKey(id, other), mrow{"job_id": key, "user_id": moKey(other), "org_id": org}
				}
				return moPairKey(other, id), mrow{"job_id": moKey(other), "user_id": key, "org_id": w.jobOrg(other)}
			}
			otherCol := map[string]string{"job_id": "user_id", "user_id": "job_id"}[info.col]
			switch e.op {
			case "add":
				for _, other := range e.ids {
					k, r := pair(other)
					if !w.exists(info.To, other) {
						fail = append(fail, fmt.Sprintf("%s %d does not exist", info.Name, other))
					} else if cross := w.crossTenant(org, info.To, other); cross != nil {
						fail = append(fail, cross...)
					} else if w.state["job_managers"][k] == nil {
						d.create("job_managers", r)
					}
				}
			case "remove":
				for _, other := range e.ids {
					if k, _ := pair(other); w.state["job_managers"][k] != nil {
						d.del("job_managers", k)
					}
				}
			case "clear":
				for k, r := range w.state["job_managers"] {
					if r[info.col] != key {
						continue
					}
					other, _ := strconv.Atoi(r[otherCol])
					if v.systemAll() || w.sees(v, info.To, other) {
						d.del("job_managers", k)
					}
				}
			}
		case "target":
			ttbl := ent.TableOf[info.To]
			touch := func(tk string, val string) {
				d.set(ttbl, tk, info.col, val)
				if moHasUpdatedAt[info.To] {
					d.set(ttbl, tk, "updated_at", moAny)
				}
				w.secondary(d, v, info.To, tk)
			}
			switch e.op {
			case "add":
				if multi {
					fail = append(fail, "ent links an O2M edge to one row only")
				}
				for _, t := range e.ids {
					r := w.row(info.To, t)
					switch {
					case r == nil:
						fail = append(fail, fmt.Sprintf("%s %d does not exist", info.Name, t))
					case r[info.col] != moNull:
						fail = append(fail, fmt.Sprintf("%s %d already has a %s (ent: already connected)", info.Name, t, info.col))
					case w.crossTenant(org, info.To, t) != nil:
						fail = append(fail, w.crossTenant(org, info.To, t)...)
					default:
						touch(moKey(t), key)
					}
				}
			case "remove":
				for _, t := range e.ids {
					if r := w.row(info.To, t); r != nil && r[info.col] == key {
						if info.required {
							fail = append(fail, fmt.Sprintf("%s.%s of %d is NOT NULL", info.To, info.col, t))
						} else {
							touch(moKey(t), moNull)
						}
					}
				}
			case "clear":
				for tk, r := range w.state[ttbl] {
					if r[info.col] == key {
						if info.required {
							fail = append(fail, fmt.Sprintf("%s.%s of %s is NOT NULL", info.To, info.col, tk))
						} else {
							touch(tk, moNull)
						}
					}
				}
			}
		}
	}
	if v.isSystem() && typ != world.AuditEvent {
		d.create("audit_events", w.auditRow("update", typ, key, w.orgOf(typ, id)))
	}
	return fail
}

// applyDelete adds the delete of row id to d.
func (w *moWorld) applyDelete(d moDelta, v moViewer, typ string, id int) (fail []string, notes []string) {
	tbl, key := ent.TableOf[typ], moKey(id)
	d.del(tbl, key)
	dependents := func(t, col string) {
		for _, r := range w.state[t] {
			if r[col] == key {
				fail = append(fail, fmt.Sprintf("%s %d still has %s (%s)", typ, id, t, col))
				return
			}
		}
	}
	cascade := func(col string) {
		for k, r := range w.state["job_managers"] {
			if r[col] == key {
				d.del("job_managers", k)
			}
		}
	}
	switch typ {
	case world.Organization:
		for _, t := range []string{"users", "companies", "jobs", "notes"} {
			dependents(t, "org_id")
		}
	case world.User:
		dependents("jobs", "created_by_id")
		dependents("notes", "author_id")
		dependents("sessions", "user_id")
		cascade("user_id")
	case world.Company:
		dependents("jobs", "company_id")
		for k, r := range w.state["users"] {
			if r["company_id"] == key {
				d.set("users", k, "company_id", moNull) // ON DELETE SET NULL
				w.secondary(d, v, world.User, k)
				uid, _ := strconv.Atoi(k)
				if !w.sees(v, world.User, uid) {
					notes = append(notes, fmt.Sprintf("deleting company %d sets company_id NULL on user %d, which the scope does not see", id, uid))
				}
			}
		}
	case world.Job:
		dependents("notes", "job_id")
		cascade("job_id")
	}
	if v.isSystem() && typ != world.AuditEvent {
		d.create("audit_events", w.auditRow("delete", typ, key, w.orgOf(typ, id)))
	}
	return fail, notes
}

func (w *moWorld) modelUpdateOne(v moViewer, o *moOp) *moExpect {
	if vi := w.kindCheck(v, o.typ, "update"); vi != nil {
		return moDeny(*vi)
	}
	shape, targets, fields, internalTrue := w.updateShape(v, o.typ, o.set)
	if !w.sees(v, o.typ, o.id) {
		// Not found; a denial that does not depend on the row (its
		// shape, or the rights on the linked target rows) may come first.
		nf := vNotFound(fmt.Sprintf("%s %d is not visible", o.typ, o.id))
		if moWritesOtherRows(o.set) {
			// ent sends an edge whose foreign key is on the other
			// table (or in the join table) as statements of their own,
			// after the row's UPDATE and before it reports the row not
			// found: row-level security covers those on the rows they
			// reach, which the scope may see (containment), not as a
			// refusal of the hidden row (seed 301: a client's
			// Company.UpdateOneID(hidden).AddClientIDs(visible user)).
			nf.rls = moRLSNotCovered
		}
		vs := append([]moViol{nf}, shape...)
		return moDeny(moDedupe(append(vs, targets...))...)
	}
	viols := append(shape, targets...)
	if !w.mayUpdate(v, o.typ, o.id, fields, internalTrue) {
		viols = append(viols, vForbidden(fmt.Sprintf("%s.update of %d (%s) is not allowed", strings.ToLower(o.typ), o.id, strings.Join(fields, ", "))))
	}
	if len(viols) > 0 {
		return moDeny(moDedupe(viols)...)
	}
	d := moDelta{}
	fail := w.applyUpdate(d, v, o.typ, o.id, o.set, false)
	return &moExpect{delta: d, failOK: fail, retID: o.id, count: -1}
}

// moWritesOtherRows reports whether an update changes an edge whose
// foreign key is not in the updated row itself.
func moWritesOtherRows(set moSpec) bool {
	return slices.ContainsFunc(set.edges, func(e moEdgeOp) bool { return e.info.where != "self" })
}

func (w *moWorld) modelUpdateWhere(v moViewer, o *moOp) *moExpect {
	if vi := w.kindCheck(v, o.typ, "update"); vi != nil {
		return moDeny(*vi)
	}
	shape, targets, fields, internalTrue := w.updateShape(v, o.typ, o.set)
	if len(shape) > 0 {
		return moDeny(moDedupe(shape)...)
	}
	var reached []int
	for _, id := range o.where {
		if w.sees(v, o.typ, id) {
			reached = append(reached, id)
		}
	}
	if len(reached) == 0 {
		return &moExpect{delta: moDelta{}, count: 0, lenient: targets}
	}
	viols := targets
	for _, id := range reached {
		if !w.mayUpdate(v, o.typ, id, fields, internalTrue) {
			viols = append(viols, vForbidden(fmt.Sprintf("%s.update of %d (%s) is not allowed", strings.ToLower(o.typ), id, strings.Join(fields, ", "))))
		}
	}
	if len(viols) > 0 {
		return moDeny(moDedupe(viols)...)
	}
	d := moDelta{}
	var fail []string
	for _, id := range reached {
		fail = append(fail, w.applyUpdate(d, v, o.typ, id, o.set, len(reached) > 1)...)
	}
	return &moExpect{delta: d, failOK: fail, count: len(reached)}
}

func (w *moWorld) modelDeleteOne(v moViewer, o *moOp) *moExpect {
	if vi := w.kindCheck(v, o.typ, "delete"); vi != nil {
		return moDeny(*vi)
	}
	if !w.sees(v, o.typ, o.id) {
		return moDeny(vNotFound(fmt.Sprintf("%s %d is not visible", o.typ, o.id)))
	}
	if !w.mayDelete(v, o.typ, o.id) {
		return moDeny(vForbidden(fmt.Sprintf("%s.delete of %d is not allowed", strings.ToLower(o.typ), o.id)))
	}
	d := moDelta{}
	fail, notes := w.applyDelete(d, v, o.typ, o.id)
	return &moExpect{delta: d, failOK: fail, count: -1, notes: notes}
}

func (w *moWorld) modelDeleteWhere(v moViewer, o *moOp) *moExpect {
	if vi := w.kindCheck(v, o.typ, "delete"); vi != nil {
		return moDeny(*vi)
	}
	var reached []int
	var viols []moViol
	for _, id := range o.where {
		if w.sees(v, o.typ, id) {
			reached = append(reached, id)
			if !w.mayDelete(v, o.typ, id) {
				viols = append(viols, vForbidden(fmt.Sprintf("%s.delete of %d is not allowed", strings.ToLower(o.typ), id)))
			}
		}
	}
	if len(viols) > 0 {
		return moDeny(moDedupe(viols)...)
	}
	d := moDelta{}
	var fail, notes []string
	for _, id := range reached {
		f, n := w.applyDelete(d, v, o.typ, id)
		fail, notes = append(fail, f...), append(notes, n...)
	}
	return &moExpect{delta: d, failOK: fail, count: len(reached), notes: notes}
}

func (w *moWorld) modelUpsert(v moViewer, o *moOp) *moExpect {
	u := o.ups
	p := w.planCreate(v, o.typ, o.creates[0])
	viols := p.viols
	if v.banned() {
		return moDeny(viols...)
	}
	// No scope, not even the all-tenant system scope, may set from an
	// upsert what no update may: immutable columns (ResolveWithNewValues
	// copies created_at and org_id from the inserted row), and banned = true
	// or active = false, whose update hook revokes sessions.
	copiesAll := u.action == "UpdateNewValues" || u.action == "ResolveWithNewValues"
	bans := o.typ == world.User && (p.row["banned"] == "true" || p.row["active"] == "false")
	if u.action != "DoNothing" && (u.action == "ResolveWithNewValues" && v.systemAll() || copiesAll && bans) {
		viols = append(viols, vUnsafe(fmt.Sprintf("ON CONFLICT DO UPDATE (%s) copies a column no upsert may set", u.action)))
	}
	if u.action != "DoNothing" && !v.systemAll() {
		pinned := o.typ == world.Company || (u.where == "target" && u.pin == v.OrgID)
		safe := (v.kind == "inorg" || v.role(scope.RoleAdmin)) && pinned && moUpsertCopies[u.action]
		if !safe {
			viols = append(viols, vUnsafe(fmt.Sprintf("ON CONFLICT DO UPDATE (%s, where %q) under %s", u.action, u.where, v.label())))
		}
	}
	// The row the conflict lands on, if any.
	insertOrg := p.row["org_id"]
	var conflict string
	for k, r := range w.state[ent.TableOf[o.typ]] {
		if (o.typ == world.User && r["email"] == p.row["email"]) ||
			(o.typ == world.Company && r["org_id"] == insertOrg && r["name"] == p.row["name"]) {
			conflict = k
		}
	}
	if len(viols) > 0 {
		if conflict != "" {
			// On a conflict no row is inserted: row-level security
			// checks the existing row and the updated one, not the
			// org_id of the row that was not inserted.
			for i := range viols {
				if viols[i].want == "rules.ErrWrongTenant" {
					viols[i].rls = moRLSNotCovered
				}
			}
		}
		return moDeny(moDedupe(viols)...)
	}
	if conflict == "" {
		return &moExpect{failOK: p.failOK, count: -1, nCreated: 1, onIDs: func(ids []int) moDelta {
			d := moDelta{}
			id := 0
			if len(ids) == 1 {
				id = ids[0]
			}
			w.applyCreate(d, v, p, id)
			return d
		}}
	}
	rid, _ := strconv.Atoi(conflict)
	if u.action == "DoNothing" {
		return &moExpect{noop: fmt.Sprintf("DO NOTHING on a conflict with %s %d", o.typ, rid), count: -1}
	}
	r := w.state[ent.TableOf[o.typ]][conflict]
	switch {
	case u.where == "target" && r["org_id"] != moKey(u.pin):
		return &moExpect{noop: fmt.Sprintf("the DO UPDATE WHERE excludes %s %d (org %s)", o.typ, rid, r["org_id"]), count: -1}
	case u.where == "excluded" && insertOrg != moKey(u.pin):
		return &moExpect{noop: fmt.Sprintf("the DO UPDATE WHERE is false (excluded.org_id %s)", insertOrg), count: -1}
	}
	d := moDelta{}
	tbl := ent.TableOf[o.typ]
	set := mrow{}
	switch u.action {
	case "UpdateNewValues", "ResolveWithNewValues":
		for c := range p.inserts {
			if u.action == "UpdateNewValues" && (c == "org_id" || c == "created_at") {
				continue
			}
			set[c] = p.row[c]
		}
	case "ResolveWith(SetExcluded(name))":
		set["name"] = p.row["name"]
	case "ResolveWith(Set(name, literal))", "Update(SetName(literal))":
		set["name"] = u.literal
	}
	for c, val := range set {
		d.set(tbl, conflict, c, val)
	}
	if o.typ == world.User && (set["banned"] == "true" || set["active"] == "false") {
		w.revoke(d, v, conflict)
	}
	if v.isSystem() {
		org := w.orgOf(o.typ, rid)
		if set["org_id"] != "" {
			org = set["org_id"]
		}
		ev := w.auditRow(moAny, o.typ, conflict, org)
		d.create("audit_events", ev)
	}
	return &moExpect{delta: d, retID: rid, count: -1}
}

// ---------------------------------------------------------------------------
// Running and checking one mutation

func (w *moWorld) step() {
	v := w.pickViewer()
	if v.kind == "none" {
		w.noScope(v)
		return
	}
	o := w.genOp(v)
	if w.rls {
		w.rlsDefaults(v, o)
	}
	exp := w.model(v, o)
	if w.rls {
		exp = w.rlsModel(v, exp)
	}
	tx, err := w.client.Tx(v.ctx)
	if err != nil {
		w.sum.record(w, v, o, "error", []string{"begin: " + err.Error()}, exp, moResult{})
		return
	}
	sqlTx := w.drv.tx
	t0 := time.Now()
	res := w.run(v.ctx, tx.Client(), o)
	w.tRun += time.Since(t0)
	t0 = time.Now()
	defer func() { w.tCheck += time.Since(t0) }()
	ctx := context.Background()
	aborted := false
	t1 := time.Now()
	// The checks read every row the transaction holds, past the
	// mutation's scope: as the all-tenant system scope, in the same
	// transaction (nothing of the mutation's runs in it afterwards).
	_, err = sqlTx.ExecContext(ctx, moSeeAllSQL)
	var sums []string
	if err == nil {
		sums, err = moSums(ctx, w.sumStmt, sqlTx)
	}
	w.tSums += time.Since(t1)
	if err != nil {
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "25P02" {
			_ = tx.Rollback()
			w.sum.record(w, v, o, "error", []string{"reading the transaction's checksums: " + err.Error()}, exp, res)
			return
		}
		aborted = true // PostgreSQL refused a statement: nothing can be committed
	}
	w.unusedOptional = nil
	class, probs := w.verify(ctx, v, o, exp, res, sums, aborted, sqlTx)
	if class == "allowed" && len(probs) == 0 {
		for _, r := range w.unusedOptional {
			w.sum.observe(fmt.Sprintf("%s %s %s: no audit event for the %s row changed as a side effect", v.label(), o.label, o.typ, r["object"]),
				fmt.Sprintf("seed %d #%d, scope %s: %s: no audit event for %s %s", w.seed, w.i, v.desc, o, r["object"], r["object_id"]))
		}
	}
	if class == "allowed" && len(probs) == 0 && w.r.IntN(moCommitOneIn) == 0 {
		if err := tx.Commit(); err != nil {
			probs = append(probs, "commit: "+err.Error())
		} else {
			w.sum.commits.Add(1)
			if err := w.reload(); err != nil {
				w.t.Fatalf("seed %d: reload after commit: %v", w.seed, err)
			}
			if !slices.Equal(w.sums, sums) {
				probs = append(probs, "the committed state differs from the state read inside the transaction")
			}
		}
	} else {
		_ = tx.Rollback()
	}
	w.sum.record(w, v, o, class, probs, exp, res)
	for _, n := range exp.notes {
		if class == "allowed" {
			w.sum.observe(v.label()+" "+o.label+" "+o.typ+": "+moNoise.ReplaceAllString(n, "N"),
				fmt.Sprintf("seed %d #%d, scope %s: %s: %s", w.seed, w.i, v.desc, o, n))
		}
	}
}

// noScope: without a scope every mutation fails with scope.ErrNoScope, and
// no statement is sent.
func (w *moWorld) noScope(v moViewer) {
	sysView := moViewer{Viewer: world.SystemViewer(0), kind: "system"}
	o := w.genOp(sysView)
	o.label = "no-scope"
	exp := moDeny(moViol{"no scope", "scope.ErrNoScope", moIs(scope.ErrNoScope), moRLSRefuses})
	if w.rls {
		w.noScopeRLS(v, o, exp)
		return
	}
	before := w.db.Counter.Count()
	res := w.run(context.Background(), w.db.Client, o)
	var probs []string
	switch {
	case res.err == nil:
		probs = append(probs, "no error, want scope.ErrNoScope")
	case !errors.Is(res.err, scope.ErrNoScope):
		probs = append(probs, fmt.Sprintf("error %v, want scope.ErrNoScope", res.err))
	}
	if n := w.db.Counter.Count() - before; n != 0 {
		probs = append(probs, fmt.Sprintf("%d statements sent without a scope", n))
		if err := w.reload(); err != nil {
			w.t.Fatalf("seed %d: reload: %v", w.seed, err)
		}
	}
	w.sum.record(w, v, o, "denied", probs, exp, res)
}

func (w *moWorld) verify(ctx context.Context, v moViewer, o *moOp, exp *moExpect, res moResult, sums []string, aborted bool, tx *stdsql.Tx) (class string, probs []string) {
	unchanged := func() []string { return w.compareState(ctx, sums, aborted, tx, moDelta{}, false) }
	switch {
	case res.panicked:
		return "error", []string{res.err.Error()}
	case len(exp.rlsRefuse) > 0:
		return "denied", append(w.rlsRefused(o, res), unchanged()...)
	case len(exp.rlsUncovered) > 0:
		return "uncovered", w.rlsContained(ctx, v, sums, aborted, tx)
	case len(exp.viols) > 0:
		class = "denied"
		switch {
		case res.err == nil:
			probs = append(probs, "no error; the model denies it")
		case !slices.ContainsFunc(exp.viols, func(vi moViol) bool { return vi.ok(res.err) }):
			probs = append(probs, fmt.Sprintf("error %q does not match what the model wants", res.err))
		}
		probs = append(probs, unchanged()...)
	case exp.noop != "":
		class = "no-op"
		if res.err != nil && moIsDenial(res.err) {
			probs = append(probs, fmt.Sprintf("denied (%v); the model allows it (and it changes nothing)", res.err))
		}
		probs = append(probs, unchanged()...)
	default:
		d := exp.delta
		if exp.onIDs != nil {
			ids := res.ids
			if res.err != nil || len(ids) != exp.nCreated {
				ids = nil
			}
			d = exp.onIDs(ids)
		}
		if len(exp.failOK) > 0 {
			class = "db-failed"
			switch {
			case res.err == nil:
				probs = append(probs, "no error; the model wants a failure: "+strings.Join(exp.failOK, "; "))
			case moIsDenial(res.err):
				probs = append(probs, fmt.Sprintf("denied (%v); the model allows it (then it fails: %s)", res.err, strings.Join(exp.failOK, "; ")))
			case !slices.ContainsFunc(exp.failOK, func(r string) bool { return !strings.HasSuffix(r, moTenantKey) }):
				var pqErr *pq.Error
				if !errors.As(res.err, &pqErr) || pqErr.Code != "23503" || !ent.IsConstraintError(res.err) {
					probs = append(probs, fmt.Sprintf("error %q; the model wants an ent constraint error of a foreign key violation: %s",
						res.err, strings.Join(exp.failOK, "; ")))
				}
			}
			probs = append(probs, w.compareState(ctx, sums, aborted, tx, d, true)...)
			return class, probs
		}
		class = "allowed"
		if res.err != nil {
			if slices.ContainsFunc(exp.lenient, func(vi moViol) bool { return vi.ok(res.err) }) {
				return "denied", unchanged()
			}
			probs = append(probs, fmt.Sprintf("error %q; the model allows it", res.err))
			return class, append(probs, w.compareState(ctx, sums, aborted, tx, d, true)...)
		}
		switch o.kind {
		case "update-where", "delete-where":
			if res.count != exp.count {
				probs = append(probs, fmt.Sprintf("%d rows affected, the model reaches %d", res.count, exp.count))
			}
		case "update-one", "upsert":
			if exp.retID != 0 && (len(res.ids) != 1 || res.ids[0] != exp.retID) {
				probs = append(probs, fmt.Sprintf("returned id %v, want %d", res.ids, exp.retID))
			}
		}
		probs = append(probs, w.compareState(ctx, sums, aborted, tx, d, false)...)
	}
	return class, probs
}

// compareState compares the transaction's state with the world's before
// the mutation and the expected delta. Only the tables whose checksum moved,
// or that the delta names, are read.
func (w *moWorld) compareState(ctx context.Context, sums []string, aborted bool, tx *stdsql.Tx, d moDelta, subset bool) []string {
	if aborted {
		if !subset {
			for tbl, td := range d {
				if len(td.deleted) > 0 || len(td.created) > 0 {
					return []string{"the transaction is aborted, but the model changes " + tbl}
				}
			}
		}
		return nil
	}
	var probs []string
	for i, tbl := range moTables {
		td := d[tbl]
		if sums[i] == w.sums[i] && td == nil {
			continue
		}
		after := w.state[tbl]
		if sums[i] != w.sums[i] {
			var err error
			t1 := time.Now()
			after, err = moDump(ctx, tx, tbl)
			w.tDump += time.Since(t1)
			if err != nil {
				return append(probs, fmt.Sprintf("reading %s: %v", tbl, err))
			}
		}
		p, unused := moCompareTable(tbl, w.state[tbl], after, td, subset)
		probs = append(probs, p...)
		w.unusedOptional = append(w.unusedOptional, unused...)
	}
	return probs
}

// ---------------------------------------------------------------------------
// Summary

type moCount struct{ n, allowed, denied, dbFailed, noop, uncovered int }

type moSummary struct {
	mu         sync.Mutex
	n          int
	total      moCount
	kinds      map[string]*moCount
	edgeOps    map[string]*moCount
	scopes     map[string]*moCount
	detail     map[string]*moCount // scope, type, kind
	mismatches int
	mkinds     map[string]int
	samples    []string
	okinds     map[string]int
	osamples   []string
	commits    atomicCounter
	rls        bool // the shadow run with row-level security alone
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) Add(d int) { c.mu.Lock(); c.n += d; c.mu.Unlock() }
func (c *atomicCounter) Load() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n }

// moErrClass names the sentinels an error matches, for grouping.
func moErrClass(err error) string {
	if err == nil {
		return "no error"
	}
	var parts []string
	if ent.IsNotFound(err) {
		parts = append(parts, "NotFound")
	}
	for _, x := range []struct {
		name string
		err  error
	}{
		{"Deny", privacy.Deny}, {"ErrForbidden", policy.ErrForbidden}, {"ErrForeignLink", rules.ErrForeignLink},
		{"ErrWrongTenant", rules.ErrWrongTenant}, {"ErrNotOwner", rules.ErrNotOwner}, {"ErrReadOnly", rules.ErrReadOnly},
		{"ErrUnsafeUpsert", database.ErrUnsafeUpsert}, {"ErrNoScope", scope.ErrNoScope},
	} {
		if errors.Is(err, x.err) {
			parts = append(parts, x.name)
		}
	}
	var pqErr *pq.Error
	switch {
	case errors.As(err, &pqErr):
		parts = append(parts, "pq "+string(pqErr.Code)+" "+pqErr.Code.Name())
	case ent.IsConstraintError(err):
		parts = append(parts, "ent constraint")
	case ent.IsValidationError(err):
		parts = append(parts, "ent validation")
	}
	if len(parts) == 0 {
		return "other error"
	}
	return strings.Join(parts, "+")
}

func moProblemClass(p string) string {
	switch {
	case strings.HasPrefix(p, "error "), strings.HasPrefix(p, "denied ("):
		if i := strings.Index(p, "; the model"); i >= 0 {
			return "the model" + strings.SplitN(p[i+len("; the model"):], "(", 2)[0]
		}
		return "another error than the model wants"
	}
	return moNoise.ReplaceAllString(p, "N")
}

var moNoise = regexp.MustCompile(`[0-9]+|"[^"]*"|'[^']*'`)

func (c *moCount) add(class string) {
	c.n++
	switch class {
	case "allowed":
		c.allowed++
	case "denied":
		c.denied++
	case "db-failed":
		c.dbFailed++
	case "no-op":
		c.noop++
	case "uncovered":
		c.uncovered++
	}
}

func (c *moCount) String() string {
	s := fmt.Sprintf("%d (%d allowed, %d denied, %d failed in db, %d no-op", c.n, c.allowed, c.denied, c.dbFailed, c.noop)
	if c.uncovered > 0 {
		s += fmt.Sprintf(", %d not covered by RLS", c.uncovered)
	}
	return s + ")"
}

func (s *moSummary) record(w *moWorld, v moViewer, o *moOp, class string, probs []string, exp *moExpect, res moResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	s.total.add(class)
	if s.kinds[o.label] == nil {
		s.kinds[o.label] = &moCount{}
	}
	s.kinds[o.label].add(class)
	if s.scopes == nil {
		s.scopes = map[string]*moCount{}
	}
	if s.scopes[v.label()] == nil {
		s.scopes[v.label()] = &moCount{}
	}
	s.scopes[v.label()].add(class)
	if s.detail == nil {
		s.detail = map[string]*moCount{}
	}
	dk := fmt.Sprintf("%-16s %-14s %s", v.label(), o.typ, o.label)
	if s.detail[dk] == nil {
		s.detail[dk] = &moCount{}
	}
	s.detail[dk].add(class)
	if o.edgeKey != "" {
		if s.edgeOps[o.edgeKey] == nil {
			s.edgeOps[o.edgeKey] = &moCount{}
		}
		s.edgeOps[o.edgeKey].add(class)
	}
	if len(probs) == 0 {
		return
	}
	s.mismatches++
	kind := fmt.Sprintf("%s | %s %s | model: %s | got: %s | %s", v.label(), o.label, o.typ,
		strings.SplitN(exp.String(), ":", 2)[0], moErrClass(res.err), moProblemClass(probs[0]))
	s.mkinds[kind]++
	if s.mkinds[kind] > moMaxSamplesPerKind || len(s.samples) >= moMaxSamples {
		return
	}
	errS := "<nil>"
	if res.err != nil {
		errS = res.err.Error()
	}
	s.samples = append(s.samples, fmt.Sprintf(
		"mutation oracle mismatch\n\tkind:   %s\n\tseed:   %d, mutation #%d (SCOPEGATE_ORACLE_SEED=%d)\n\tscope:  %s\n\top:     %s\n\tmodel:  %s\n\tgot:    err=%s ids=%v count=%d\n\tproblems:\n\t\t%s",
		kind, w.seed, w.i, w.seed, v.desc, o, exp, errS, res.ids, res.count, strings.Join(probs, "\n\t\t")))
}

func (s *moSummary) observe(kind, sample string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.okinds[kind]++
	if s.okinds[kind] <= 2 && len(s.osamples) < 80 {
		s.osamples = append(s.osamples, sample)
	}
}

func (s *moSummary) report(t *testing.T, want int, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var kinds []string
	for _, k := range slices.Sorted(maps.Keys(s.kinds)) {
		c := s.kinds[k]
		kinds = append(kinds, fmt.Sprintf("%s %d/%d/%d/%d", k, c.allowed, c.denied, c.dbFailed, c.noop))
	}
	line := fmt.Sprintf("mutation oracle: %d mutations (%d allowed, %d denied, %d allowed-then-failed-in-db, %d no-op; %d committed; by kind allowed/denied/failed/no-op: %s), %d mismatches, in %s",
		s.n, s.total.allowed, s.total.denied, s.total.dbFailed, s.total.noop, s.commits.Load(),
		strings.Join(kinds, ", "), s.mismatches, elapsed.Round(time.Millisecond))
	if s.rls {
		// Denied: the model's denials RLS must make too; not covered:
		// the ones only the ent rules make (docs/rls.md).
		var uk []string
		for _, k := range slices.Sorted(maps.Keys(s.kinds)) {
			if c := s.kinds[k]; c.uncovered > 0 {
				uk = append(uk, fmt.Sprintf("%s %d", k, c.uncovered))
			}
		}
		line = fmt.Sprintf("mutation oracle: SHADOW RUN (row-level security alone): %d mutations (%d allowed, %d refused by RLS, %d not covered by RLS (checked: nothing outside the tenant or what the scope sees changed), %d allowed-then-failed-in-db, %d no-op; %d committed; not covered by kind: %s), %d mismatches, in %s",
			s.n, s.total.allowed, s.total.denied, s.total.uncovered, s.total.dbFailed, s.total.noop, s.commits.Load(),
			strings.Join(uk, ", "), s.mismatches, elapsed.Round(time.Millisecond))
	}
	fmt.Println(line)
	t.Log(line)
	var eb strings.Builder
	for _, k := range slices.Sorted(maps.Keys(s.edgeOps)) {
		fmt.Fprintf(&eb, "\n\t%-28s %s", k, s.edgeOps[k])
	}
	t.Logf("edge operations:%s", eb.String())
	var sb strings.Builder
	for _, k := range slices.Sorted(maps.Keys(s.scopes)) {
		fmt.Fprintf(&sb, "\n\t%-28s %s", k, s.scopes[k])
	}
	t.Logf("by scope:%s", sb.String())
	if os.Getenv("SCOPEGATE_MUTATION_ORACLE_DETAIL") != "" {
		var db strings.Builder
		for _, k := range slices.Sorted(maps.Keys(s.detail)) {
			fmt.Fprintf(&db, "\n\t%-50s %s", k, s.detail[k])
		}
		t.Logf("by scope, type and kind:%s", db.String())
	}
	if want >= 5000 {
		for _, op := range moUpdateOps() {
			if k := op.info.String() + " " + op.op; s.edgeOps[k] == nil {
				t.Errorf("mutation oracle: edge operation %s never ran", k)
			}
		}
	}
	if len(s.okinds) > 0 {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(s.okinds)) {
			fmt.Fprintf(&b, "\n\t%5d  %s", s.okinds[k], k)
		}
		t.Logf("observations (allowed effects the design does not rule on; not failures):%s\n\t%s", b.String(), strings.Join(s.osamples, "\n\t"))
	}
	if s.n < want {
		t.Errorf("mutation oracle: ran %d mutations, asked for %d", s.n, want)
	}
	if s.mismatches > 0 {
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(s.mkinds)) {
			fmt.Fprintf(&b, "\n\t%5d  %s", s.mkinds[k], k)
		}
		for _, sample := range s.samples {
			t.Error(sample)
		}
		t.Errorf("mutation oracle: %d mismatches; by kind:%s", s.mismatches, b.String())
	}
}

// ---------------------------------------------------------------------------
// Coverage

// TestMutationOracleCoversSchema: the oracle's tables cover every type,
// every edge of world.Edges (which the leak oracle checks against the
// generated code) and every field and edge operation of the generated
// builders, so that a new field or edge cannot escape the mutation oracle.
func TestMutationOracleCoversSchema(t *testing.T) {
	t.Parallel()
	for _, e := range world.Edges {
		info := moEdge(e.From, e.Name)
		if info.To != e.To || info.Unique != e.Unique {
			t.Errorf("%s: the mutation oracle says %s (unique %t), world.Edges %s (unique %t)", e, info.To, info.Unique, e.To, e.Unique)
		}
	}
	if len(moEdgeInfos) != len(world.Edges) {
		t.Errorf("the mutation oracle lists %d edges, world.Edges %d", len(moEdgeInfos), len(world.Edges))
	}
	c := &ent.Client{}
	for _, typ := range world.Types {
		if ent.TableOf[typ] == "" || moUpdateFields[typ] == nil {
			t.Errorf("%s: no table or field list", typ)
		}
		tc := reflect.ValueOf(c).Elem().FieldByName(typ).Type()
		create, _ := tc.MethodByName("Create")
		updOne, _ := tc.MethodByName("UpdateOneID")
		upd, _ := tc.MethodByName("Update")
		for _, bt := range []reflect.Type{create.Type.Out(0), updOne.Type.Out(0), upd.Type.Out(0)} {
			isCreate := bt == create.Type.Out(0)
			want := map[string]bool{}
			for _, info := range moEdgeInfos {
				if info.From != typ {
					continue
				}
				switch {
				case isCreate && info.where == "self":
					want["Set"+info.Go()+"ID"] = true
				case isCreate:
					want["Add"+info.stem+"IDs"] = true
				case info.where == "self" && !info.immutable:
					want["Set"+info.Go()+"ID"], want["Clear"+info.Go()] = true, true
				case info.where != "self":
					want["Add"+info.stem+"IDs"], want["Remove"+info.stem+"IDs"], want["Clear"+info.Go()] = true, true, true
				}
			}
			for m := range want {
				if _, ok := bt.MethodByName(m); !ok {
					t.Errorf("%s has no %s", bt, m)
				}
			}
			if isCreate {
				continue
			}
			// Every edge operation and field setter of the update
			// builders is one the oracle makes.
			fields := map[string]bool{"SetUpdatedAt": true}
			for _, f := range moUpdateFields[typ] {
				fields["Set"+moPascal(f)] = true
				if moClearable[f] {
					fields["Clear"+moPascal(f)] = true
				}
			}
			for i := range bt.NumMethod() {
				name := bt.Method(i).Name
				switch {
				case strings.HasSuffix(name, "IDs") && (strings.HasPrefix(name, "Add") || strings.HasPrefix(name, "Remove")),
					strings.HasPrefix(name, "Clear") && slices.ContainsFunc(world.EdgesFrom(typ), func(e world.Edge) bool { return name == "Clear"+e.Go() }):
					if !want[name] {
						t.Errorf("%s.%s: an edge operation the mutation oracle does not make", bt, name)
					}
				case strings.HasPrefix(name, "Set") && !strings.HasPrefix(name, "SetNillable"),
					strings.HasPrefix(name, "Clear"):
					// SetCompanyID, ClearCompanyID: the edge's own column.
					edge := slices.ContainsFunc(world.EdgesFrom(typ), func(e world.Edge) bool {
						return name == "Set"+e.Go() || name == "Set"+e.Go()+"ID" || name == "Clear"+e.Go()+"ID"
					})
					if !edge && !fields[name] {
						t.Errorf("%s.%s: a field the mutation oracle does not set", bt, name)
					}
				}
			}
		}
	}
	// Every edge operation of the update builders, and every type, is
	// generated.
	for _, op := range moUpdateOps() {
		if len(moOpsFrom(op.info.From)) == 0 {
			t.Errorf("%s: not generated", op.info)
		}
	}
}
