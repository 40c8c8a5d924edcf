package database

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/lib/pq"
)

// DefaultStatementCache is how many prepared statements each PostgreSQL
// connection keeps (Options.StatementCache).
const DefaultStatementCache = 256

// connector wraps lib/pq's connector: its connections keep prepared
// statements, and they begin a transaction lazily.
//
// Prepared statements: lib/pq sends every parameterized statement unnamed,
// so PostgreSQL plans it afresh each time, and under row-level security
// every policy is planned into every statement (0.3 ms for a single-row
// SELECT, 2 ms for an authenticated request's two lookups; docs/benchmarks.md).
// A statement prepared once per connection is planned for the first few
// executions and then runs on its cached generic plan. The settings the
// policies read are evaluated when the plan runs, never baked into it. A
// statement is prepared the second time the connection sees it: one that
// runs once (an IN list of a length that does not come back) stays
// unnamed, rather than cost a prepare and, once evicted, a close.
//
// Lazy BEGIN: a transaction's BEGIN is sent with its first statement, in
// the same round trip when that statement has no parameters, which the
// seam's scope settings never have (Settings.sql). A transaction that
// sends nothing sends no BEGIN and no COMMIT either.
type connector struct {
	driver.Connector
	cache int // statements per connection; 0 keeps none
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(pqConn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("database: lib/pq connection %T lacks a method the seam needs", dc)
	}
	return &conn{pqConn: inner, cache: c.cache, stmts: map[string]*list.Element{}, lru: list.New(), seen: map[string]struct{}{}}, nil
}

// pqConn is what lib/pq's connection implements and database/sql looks for.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
	driver.Tx // lib/pq's connection is its own transaction
}

// conn is one PostgreSQL connection. database/sql never uses a connection
// from two goroutines at once, so it needs no lock.
type conn struct {
	pqConn
	cache int
	stmts map[string]*list.Element // query → element of lru holding a *cachedStmt
	lru   *list.List               // most recently used first
	seen  map[string]struct{}      // queries run once, unnamed; at most 4 × cache

	// begin is the BEGIN statement of a transaction not yet sent ("" when
	// none is pending).
	begin string
}

type cachedStmt struct {
	query string
	stmt  driver.Stmt
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
)

// BeginTx records the transaction's BEGIN; the first statement sends it.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.begin != "" {
		return nil, errors.New("database: transaction already begun")
	}
	mode, err := beginMode(opts)
	if err != nil {
		return nil, err
	}
	c.begin = "BEGIN" + mode
	return lazyTx{c}, nil
}

// Begin implements driver.Conn.
func (c *conn) Begin() (driver.Tx, error) { //nolint:staticcheck // required by driver.Conn
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// beginMode is lib/pq's: the same BEGIN that lib/pq would send.
func beginMode(opts driver.TxOptions) (string, error) {
	var mode string
	switch sql.IsolationLevel(opts.Isolation) {
	case sql.LevelDefault:
	case sql.LevelReadUncommitted:
		mode = " ISOLATION LEVEL READ UNCOMMITTED"
	case sql.LevelReadCommitted:
		mode = " ISOLATION LEVEL READ COMMITTED"
	case sql.LevelRepeatableRead:
		mode = " ISOLATION LEVEL REPEATABLE READ"
	case sql.LevelSerializable:
		mode = " ISOLATION LEVEL SERIALIZABLE"
	default:
		return "", fmt.Errorf("database: isolation level not supported: %d", opts.Isolation)
	}
	if opts.ReadOnly {
		mode += " READ ONLY"
	} else {
		mode += " READ WRITE"
	}
	return mode, nil
}

// sendBegin sends a pending BEGIN on its own.
func (c *conn) sendBegin(ctx context.Context) error {
	if c.begin == "" {
		return nil
	}
	begin := c.begin
	c.begin = ""
	if _, err := c.pqConn.ExecContext(ctx, begin, nil); err != nil {
		return fmt.Errorf("database: %s: %w", begin, err)
	}
	return nil
}

// ExecContext implements driver.ExecerContext.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		// One simple-protocol message, and so one round trip, however
		// many statements it holds: a pending BEGIN goes with it.
		if c.begin != "" {
			query = c.begin + "; " + query
			c.begin = ""
		}
		return c.pqConn.ExecContext(ctx, query, nil)
	}
	if err := c.sendBegin(ctx); err != nil {
		return nil, err
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	res, err := st.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	c.forgetIfStale(st, err)
	return res, err
}

// QueryContext implements driver.QueryerContext.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.sendBegin(ctx); err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return c.pqConn.QueryContext(ctx, query, nil)
	}
	st, err := c.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.pqConn.QueryContext(ctx, query, args)
	}
	rows, err := st.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	c.forgetIfStale(st, err)
	return rows, err
}

// PrepareContext implements driver.ConnPrepareContext: a statement the
// caller prepares is its own, outside the cache.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.sendBegin(ctx); err != nil {
		return nil, err
	}
	return c.pqConn.PrepareContext(ctx, query)
}

// Prepare implements driver.Conn.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// prepared returns the connection's prepared statement for query,
// preparing it on its second use; nil when query runs unnamed (its first
// use, or the cache is off).
func (c *conn) prepared(ctx context.Context, query string) (*cachedStmt, error) {
	if c.cache <= 0 {
		return nil, nil
	}
	if e, ok := c.stmts[query]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*cachedStmt), nil
	}
	if _, ok := c.seen[query]; !ok {
		if len(c.seen) >= 4*c.cache {
			clear(c.seen)
		}
		c.seen[query] = struct{}{}
		return nil, nil
	}
	delete(c.seen, query)
	for c.lru.Len() >= c.cache {
		c.forget(c.lru.Back().Value.(*cachedStmt))
	}
	stmt, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st := &cachedStmt{query: query, stmt: stmt}
	c.stmts[query] = c.lru.PushFront(st)
	return st, nil
}

// forgetIfStale drops a statement that PostgreSQL no longer runs as
// prepared: deallocated behind the connection's back (26000), or planned
// for tables whose columns changed since (0A000, "cached plan must not
// change result type"). The next use prepares it again.
func (c *conn) forgetIfStale(st *cachedStmt, err error) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code == "26000" || pqErr.Code == "0A000") {
		c.forget(st)
	}
}

// forget closes a statement and drops it from the cache. Closing costs a
// round trip; a failure to close leaves the statement on the server until
// the connection ends, which is harmless.
func (c *conn) forget(st *cachedStmt) {
	if e, ok := c.stmts[st.query]; ok {
		c.lru.Remove(e)
		delete(c.stmts, st.query)
	}
	_ = st.stmt.Close()
}

// ResetSession implements driver.SessionResetter: a connection back in the
// pool with a BEGIN still pending is dropped, never handed on.
func (c *conn) ResetSession(ctx context.Context) error {
	if c.begin != "" {
		return driver.ErrBadConn
	}
	return c.pqConn.ResetSession(ctx)
}

// lazyTx is a transaction whose BEGIN may not have been sent yet.
type lazyTx struct{ c *conn }

func (t lazyTx) Commit() error {
	if t.c.begin != "" { // nothing was sent: nothing to commit
		t.c.begin = ""
		return nil
	}
	return t.c.pqConn.Commit()
}

func (t lazyTx) Rollback() error {
	if t.c.begin != "" {
		t.c.begin = ""
		return nil
	}
	return t.c.pqConn.Rollback()
}
