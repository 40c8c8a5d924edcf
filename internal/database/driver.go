package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"

	"github.com/scopegate/scopegate/internal/scope"
)

// ErrUnsafeUpsert is returned for an INSERT … ON CONFLICT … DO UPDATE sent
// under a tenant scope whose conflict target does not include org_id and
// whose update is not narrowed by org_id: on a globally unique column (a
// user's email) it would rewrite another tenant's row.
var ErrUnsafeUpsert = errors.New("database: upsert not narrowed to the tenant")

// Counter counts the statements sent through a Driver. Safe for concurrent
// use.
type Counter struct {
	n    atomic.Int64
	mu   sync.Mutex
	keep bool
	log  []string
}

// NewCounter returns a counter; with keep it also records the statements,
// for a test that wants to print them when an assertion fails.
func NewCounter(keep bool) *Counter { return &Counter{keep: keep} }

// Count returns the number of statements sent since the last Reset.
func (c *Counter) Count() int { return int(c.n.Load()) }

// Statements returns the recorded statements (only with keep).
func (c *Counter) Statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// Reset sets the count to zero and forgets recorded statements.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n.Store(0)
	c.log = nil
}

func (c *Counter) add(stmt string) {
	if c == nil {
		return
	}
	c.n.Add(1)
	if c.keep {
		c.mu.Lock()
		c.log = append(c.log, stmt)
		c.mu.Unlock()
	}
}

// Driver is the ent driver every client of the project runs on.
type Driver struct {
	dialect.Driver
	counter *Counter
}

var _ dialect.Driver = (*Driver)(nil)

func (d *Driver) before(ctx context.Context, query string, args any) error {
	if err := checkUpsert(ctx, query, args); err != nil {
		return err
	}
	d.counter.add(query)
	return nil
}

// Exec implements dialect.ExecQuerier.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	if err := d.before(ctx, query, args); err != nil {
		return err
	}
	return d.Driver.Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	if err := d.before(ctx, query, args); err != nil {
		return err
	}
	return d.Driver.Query(ctx, query, args, v)
}

// Tx starts a transaction.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options. This is where a transaction-
// local tenant setting (SET LOCAL) for row-level security belongs.
func (d *Driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	type beginner interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}
	b, ok := d.Driver.(beginner)
	if !ok {
		return nil, fmt.Errorf("database: %T cannot begin transactions with options", d.Driver)
	}
	d.counter.add("BEGIN")
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Tx{Tx: tx, d: d}, nil
}

// Tx is a transaction of a Driver.
type Tx struct {
	dialect.Tx
	d *Driver
}

// Exec implements dialect.ExecQuerier.
func (t *Tx) Exec(ctx context.Context, query string, args, v any) error {
	if err := t.d.before(ctx, query, args); err != nil {
		return err
	}
	return t.Tx.Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier.
func (t *Tx) Query(ctx context.Context, query string, args, v any) error {
	if err := t.d.before(ctx, query, args); err != nil {
		return err
	}
	return t.Tx.Query(ctx, query, args, v)
}

// Commit commits the transaction.
func (t *Tx) Commit() error {
	t.d.counter.add("COMMIT")
	return t.Tx.Commit()
}

// Rollback rolls the transaction back.
func (t *Tx) Rollback() error {
	t.d.counter.add("ROLLBACK")
	return t.Tx.Rollback()
}

// checkUpsert guards INSERT … ON CONFLICT … DO UPDATE, which ent's privacy
// rules cannot see (the conflict clause is not part of the mutation). An
// upsert may rewrite an existing row that the scope cannot see, so:
//
//   - the all-tenant system scope may upsert anything;
//   - the authenticator and non-admin users may not upsert at all (they do
//     not see every row of their tenant, so the conflicting row may be
//     hidden from them);
//   - an admin or an InOrg system scope must keep the update in its tenant:
//     the conflict target names org_id (so the conflicting row has the
//     inserted, scope-set org_id), or the DO UPDATE ends in exactly
//     WHERE "<table>"."org_id" = $N with $N the scope's organization;
//   - and the update must not assign org_id itself.
//
// ent writes these statements itself, so matching its shapes is exact; any
// other shape is refused.
func checkUpsert(ctx context.Context, query string, args any) error {
	i := strings.Index(query, " ON CONFLICT ")
	if i < 0 {
		return nil
	}
	rest := query[i+len(" ON CONFLICT "):]
	upd := strings.Index(rest, " DO UPDATE SET ")
	if upd < 0 {
		return nil // DO NOTHING rewrites nothing
	}
	s, ok := scope.FromContext(ctx)
	org, narrowed := s.OrgID()
	switch {
	case ok && s.IsSystem() && !narrowed:
		return nil
	case !ok || !narrowed || s.IsAuthenticator():
		return fmt.Errorf("%w: no tenant to keep it in", ErrUnsafeUpsert)
	case s.IsUser() && (s.Role() != scope.RoleAdmin || s.Banned()):
		return fmt.Errorf("%w: only admins, who see every row of their tenant, may upsert", ErrUnsafeUpsert)
	}
	update := rest[upd+len(" DO UPDATE SET "):]
	set := update
	if w := strings.LastIndex(set, " WHERE "); w >= 0 {
		set = set[:w]
	} else if r := strings.LastIndex(set, " RETURNING "); r >= 0 {
		set = set[:r]
	}
	// ent keeps an immutable column as it is with `"org_id" = "t"."org_id"`;
	// any other mention of org_id in the SET list could move the row.
	if strings.Contains(keepsOrg.ReplaceAllString(set, ""), `"org_id"`) {
		return fmt.Errorf("%w: the update touches org_id", ErrUnsafeUpsert)
	}
	if target, ok := conflictColumns(rest[:upd]); ok && slices.Contains(target, `"org_id"`) {
		return nil
	}
	if m := narrowedWhere.FindStringSubmatch(update); m != nil && argIs(args, m[1], org) {
		return nil
	}
	return fmt.Errorf("%w: the conflict target or WHERE must pin org_id to the scope's organization", ErrUnsafeUpsert)
}

// keepsOrg matches the assignment that leaves org_id unchanged.
var keepsOrg = regexp.MustCompile(`"org_id" = "\w+"\."org_id"(,|$)`)

// narrowedWhere matches the end of a DO UPDATE narrowed to one tenant, as ent
// writes sql.UpdateWhere(sql.EQ("org_id", org)).
var narrowedWhere = regexp.MustCompile(`\sWHERE\s+"\w+"\."org_id"\s*=\s*\$(\d+)(?:\s+RETURNING\s+[^;]*)?$`)

// conflictColumns returns the column list of a conflict target
// `("a", "b")`, and false for any other shape (ON CONSTRAINT, an index
// predicate after the list, ...).
func conflictColumns(target string) ([]string, bool) {
	if !strings.HasPrefix(target, "(") || !strings.HasSuffix(target, ")") {
		return nil, false
	}
	cols := strings.Split(target[1:len(target)-1], ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	return cols, true
}

// argIs reports whether the 1-based placeholder n of args holds org.
func argIs(args any, n string, org int) bool {
	list, ok := args.([]any)
	i, err := strconv.Atoi(n)
	if !ok || err != nil || i < 1 || i > len(list) {
		return false
	}
	return fmt.Sprint(list[i-1]) == strconv.Itoa(org)
}
