package database

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"
)

// DefaultStatementCache is how many prepared statements each PostgreSQL
// connection keeps (Options.StatementCache).
const DefaultStatementCache = 256

// connector wraps lib/pq's connector. Its connections keep the statements
// they run prepared, and send the seam's own statements (BEGIN, the scope
// settings) in the same message, and so the same round trip, as the
// statement that follows them.
//
// Prepared statements: lib/pq sends a parameterized statement unnamed, so
// PostgreSQL plans it afresh every time, and under row-level security
// every policy is planned into every statement (0.3 ms for a single-row
// SELECT; docs/benchmarks.md). A connection prepares each statement on
// first use; PostgreSQL plans it for its first executions, then runs a
// cached generic plan. The settings the policies read are evaluated when
// the plan runs, never baked into it.
//
// Riders: lib/pq waits for the answer to each message before it sends the
// next, and the extended protocol it runs a prepared statement with
// carries one statement. So when something rides, the connection runs the
// prepared statement as EXECUTE, its arguments written as quoted literals
// (literal: the text the extended protocol would carry, read by the
// parameter's type), in one simple-protocol message with the riders:
//
//	BEGIN READ ONLY; SELECT set_config('scopegate.org_id', '7', true), …; EXECUTE "3"('42')
//
// Otherwise, and for arguments with no such literal (bytes, a string with a
// NUL byte), it runs it through lib/pq, after the riders have gone on their
// own. DEALLOCATEs of statements evicted from the cache ride too.
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
	return &conn{pqConn: inner, cache: c.cache, stmts: map[string]*list.Element{}, lru: list.New(), beginAt: -1}, nil
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
	stmts map[string]*list.Element // query → element of lru holding a *namedStmt
	lru   *list.List               // most recently used first

	// ride holds the statements of the open transaction that go with the
	// next message: its BEGIN, the scope settings; rideSets counts the row
	// sets they answer with, which the next query skips. The transaction's
	// end drops them: nothing of a scope outlives its transaction here.
	ride     []string
	rideSets int
	// dealloc holds the DEALLOCATEs of evicted statements, which go first
	// in the next message, whatever its transaction.
	dealloc []string
	// beginAt is the index in ride of the open transaction's BEGIN while
	// it has not been sent, else -1.
	beginAt int
	// inTx is true while a transaction is open, and plan is the
	// plan_cache_mode the connection set in it ("" for none yet: the
	// session's default) (plan.go).
	inTx bool
	plan string
	// broken is set when the server went away under a statement (lost).
	broken bool
}

// namedStmt is a statement the connection prepared (lib/pq's), and its
// name on the server, by which EXECUTE finds it ("" if unknown: then it
// cannot carry riders).
type namedStmt struct {
	query string
	stmt  driver.Stmt
	name  string
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

type rideKey struct{}

// rideWithNext marks ctx's statement (without parameters) as one that may
// wait for the connection's next statement and travel with it. An error
// of its own then surfaces with that statement.
func rideWithNext(ctx context.Context) context.Context {
	return context.WithValue(ctx, rideKey{}, true)
}

func rides(ctx context.Context) bool {
	r, _ := ctx.Value(rideKey{}).(bool)
	return r
}

// BeginTx records the transaction's BEGIN; the next message carries it.
func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.beginAt >= 0 || len(c.ride) > 0 {
		return nil, errors.New("database: transaction already begun")
	}
	mode, err := beginMode(opts)
	if err != nil {
		return nil, err
	}
	c.beginAt = 0
	c.ride = append(c.ride, "BEGIN"+mode)
	c.inTx, c.plan = true, ""
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

// message joins what rides with stmt into one simple-protocol message,
// and forgets it: from here on it has been sent.
func (c *conn) message(stmts ...string) (msg string, skipSets int) {
	all := make([]string, 0, len(c.dealloc)+len(c.ride)+len(stmts))
	all = append(append(append(all, c.dealloc...), c.ride...), stmts...)
	skipSets = c.rideSets
	c.dealloc, c.ride, c.rideSets, c.beginAt = c.dealloc[:0], c.ride[:0], 0, -1
	return strings.Join(all, "; "), skipSets
}

// flush sends what rides on its own.
func (c *conn) flush(ctx context.Context) error {
	if len(c.ride) == 0 && len(c.dealloc) == 0 {
		return nil
	}
	msg, _ := c.message()
	if _, err := c.pqConn.ExecContext(ctx, msg, nil); err != nil {
		return fmt.Errorf("database: %s: %w", msg, err)
	}
	return nil
}

// ExecContext implements driver.ExecerContext.
func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	res, err := c.execContext(ctx, query, args)
	return res, c.lost(err)
}

func (c *conn) execContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 {
		if rides(ctx) {
			c.ride = append(c.ride, query)
			if strings.HasPrefix(query, "SELECT ") {
				c.rideSets++
			}
			return driver.RowsAffected(0), nil
		}
		msg, _ := c.message(query)
		return c.pqConn.ExecContext(ctx, msg, nil)
	}
	st, exec, err := c.route(ctx, query, args)
	switch {
	case err != nil:
		return nil, err
	case exec != "":
		msg, _ := c.message(exec)
		res, err := c.pqConn.ExecContext(ctx, msg, nil)
		c.after(st, err)
		return res, err
	case st == nil:
		return c.pqConn.ExecContext(ctx, query, args)
	}
	res, err := st.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	c.after(st, err)
	return res, err
}

// QueryContext implements driver.QueryerContext.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.queryContext(ctx, query, args)
	return rows, c.lost(err)
}

// lost marks the connection broken when lib/pq reports the server gone
// as a bare io.EOF: some of its paths do not turn that into
// driver.ErrBadConn, and database/sql would hand the dead connection on.
// The error keeps io.EOF, which Unavailable classifies. (It must not
// become driver.ErrBadConn: database/sql would send the statement again,
// and it may have run.)
func (c *conn) lost(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		c.broken = true
		return fmt.Errorf("database: connection lost: %w", err)
	}
	return err
}

// IsValid implements driver.Validator: a connection lost (lost) is not
// put back in the pool.
func (c *conn) IsValid() bool { return !c.broken && c.pqConn.IsValid() }

func (c *conn) queryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.queryMessage(ctx, query, nil)
	}
	st, exec, err := c.route(ctx, query, args)
	switch {
	case err != nil:
		return nil, err
	case exec != "":
		return c.queryMessage(ctx, exec, st)
	case st == nil:
		return c.pqConn.QueryContext(ctx, query, args)
	}
	rows, err := st.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	c.after(st, err)
	return rows, err
}

// route decides how a parameterized statement runs: as exec, an EXECUTE
// that carries the riders; else as st, prepared, through lib/pq; else
// unnamed through lib/pq (st nil: the cache is off). In the last two cases
// the riders have gone on their own.
func (c *conn) route(ctx context.Context, query string, args []driver.NamedValue) (st *namedStmt, exec string, err error) {
	st, err = c.prepared(ctx, query)
	if err != nil {
		return nil, "", err
	}
	if st != nil {
		c.planFor(ctx, query)
		if exec, ok := c.execute(st, args); ok {
			riderExecutes.Add(1)
			return st, exec, nil
		}
	}
	return st, "", c.flush(ctx)
}

// planFor makes query's plan_cache_mode (plan.go) the transaction's: when
// it differs from the one set last, the statement that sets it rides with
// query. Outside a transaction statements are not scoped, and keep the
// session's default.
func (c *conn) planFor(ctx context.Context, query string) {
	if !c.inTx {
		return
	}
	if mode := planMode(ctx, query); mode != c.plan {
		c.ride = append(c.ride, planModeSQL(mode))
		c.rideSets++
		c.plan = mode
	}
}

// riderExecutes counts the EXECUTEs that went with riders (RiderExecutes).
var riderExecutes atomic.Int64

// RiderExecutes returns how many prepared statements this process ran as
// EXECUTE with riders (BEGIN, scope settings, DEALLOCATEs) in the same
// message: a test's proof that the riders travel with the statement, not
// in a round trip of their own.
func RiderExecutes() int64 { return riderExecutes.Load() }

// queryMessage sends stmt with what rides, in one simple-protocol
// message, and returns its rows, past those of the riders.
func (c *conn) queryMessage(ctx context.Context, stmt string, st *namedStmt) (driver.Rows, error) {
	msg, skip := c.message(stmt)
	rows, err := c.pqConn.QueryContext(ctx, msg, nil)
	if err == nil && skip > 0 {
		if err = skipSets(rows, skip); err != nil {
			_ = rows.Close()
		}
	}
	c.after(st, err)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// skipSets reads past the first n row sets of rows, those of the
// statements that rode with the query.
func skipSets(rows driver.Rows, n int) error {
	multi, ok := rows.(driver.RowsNextResultSet)
	if !ok {
		return fmt.Errorf("database: %T cannot skip row sets", rows)
	}
	dest := make([]driver.Value, len(rows.Columns()))
	for ; n > 0; n-- {
		for {
			err := rows.Next(dest)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
		}
		if !multi.HasNextResultSet() {
			// The query answered no rows (a command): an empty set
			// stands for it, as lib/pq gives one.
			return nil
		}
		if err := multi.NextResultSet(); err != nil {
			return err
		}
		dest = make([]driver.Value, len(rows.Columns()))
	}
	return nil
}

// execute returns the EXECUTE that runs st with args, when something
// rides and can go with it in one message. Otherwise the statement takes
// the extended protocol on its own, which is the faster way to run a
// prepared statement (no SQL to parse, no literals), once what rides has
// gone.
func (c *conn) execute(st *namedStmt, args []driver.NamedValue) (string, bool) {
	if len(c.ride) == 0 && len(c.dealloc) == 0 || st.name == "" || !preparable(st.query) {
		return "", false
	}
	lits := make([]string, len(args))
	for i, a := range args {
		l, ok := literal(a.Value)
		if !ok {
			return "", false
		}
		lits[i] = l
	}
	return "EXECUTE " + pq.QuoteIdentifier(st.name) + "(" + strings.Join(lits, ", ") + ")", true
}

// preparable reports whether EXECUTE runs query as the extended protocol
// would: SELECT, INSERT, UPDATE, DELETE, MERGE and VALUES (with their
// WITH). Anything else (an EXPLAIN with parameters) goes on its own.
func preparable(query string) bool {
	verb, _, _ := strings.Cut(strings.TrimLeft(query, " \t\r\n("), " ")
	switch strings.ToUpper(verb) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "WITH":
		return true
	}
	return false
}

// prepared returns the connection's prepared statement for query,
// preparing it on first use (a round trip of its own, once per connection
// and statement); nil when the cache is off. A BEGIN that waits to be sent
// keeps waiting: a prepared statement belongs to no transaction.
func (c *conn) prepared(ctx context.Context, query string) (*namedStmt, error) {
	if c.cache <= 0 {
		return nil, nil
	}
	if e, ok := c.stmts[query]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*namedStmt), nil
	}
	for c.lru.Len() >= c.cache {
		c.evict(c.lru.Back().Value.(*namedStmt))
	}
	stmt, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st := &namedStmt{query: query, stmt: stmt, name: stmtName(stmt)}
	c.stmts[query] = c.lru.PushFront(st)
	return st, nil
}

// stmtName reads the server-side name of a lib/pq statement, which lib/pq
// keeps unexported: EXECUTE needs it to run the statement in a message
// with riders. A lib/pq without the field gives "", and its statements
// then never carry riders (what rides goes on its own first); the seam's
// tests count the round trips and would say so.
func stmtName(s driver.Stmt) string {
	v := reflect.ValueOf(s)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	f := v.Elem().FieldByName("name")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}

// evict drops st from the cache; its DEALLOCATE rides with the next
// message (or, nameless, it is closed now).
func (c *conn) evict(st *namedStmt) {
	c.forget(st)
	if st.name == "" {
		_ = st.stmt.Close()
		return
	}
	c.dealloc = append(c.dealloc, "DEALLOCATE "+pq.QuoteIdentifier(st.name))
}

func (c *conn) forget(st *namedStmt) {
	if e, ok := c.stmts[st.query]; ok && e.Value == st {
		c.lru.Remove(e)
		delete(c.stmts, st.query)
	}
}

// after looks at how a statement went: one PostgreSQL no longer runs as
// prepared, deallocated behind the connection's back (26000) or planned
// for tables whose columns changed since (0A000, "cached plan must not
// change result type"), is prepared afresh next time.
func (c *conn) after(st *namedStmt, err error) {
	var pqErr *pq.Error
	if st == nil || !errors.As(err, &pqErr) {
		return
	}
	switch pqErr.Code {
	case "26000": // gone already: nothing to deallocate
		c.forget(st)
	case "0A000":
		c.evict(st)
	}
}

// literal writes v, a value database/sql has converted for the driver, as
// a quoted SQL literal: the text PostgreSQL's extended protocol would
// receive for it, quoted so that nothing in it can end the literal. It
// reports false for what has no such literal.
func literal(v driver.Value) (string, bool) {
	switch v := v.(type) {
	case nil:
		return "NULL", true
	case int64:
		return "'" + strconv.FormatInt(v, 10) + "'", true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", false
		}
		return "'" + strconv.FormatFloat(v, 'g', -1, 64) + "'", true
	case bool:
		if v {
			return "'true'", true
		}
		return "'false'", true
	case string:
		if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
			return "", false
		}
		return pq.QuoteLiteral(v), true
	case time.Time:
		return "'" + string(pq.FormatTimestamp(v)) + "'", true
	}
	return "", false
}

// PrepareContext implements driver.ConnPrepareContext: a statement the
// caller prepares is its own, outside the cache.
func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.flush(ctx); err != nil {
		return nil, err
	}
	return c.pqConn.PrepareContext(ctx, query)
}

// Prepare implements driver.Conn.
func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// ResetSession implements driver.SessionResetter: a connection back in the
// pool with a statement of a transaction still waiting to be sent (which
// its transaction's end drops) is dropped, never handed on.
func (c *conn) ResetSession(ctx context.Context) error {
	if len(c.ride) > 0 || c.beginAt >= 0 {
		return driver.ErrBadConn
	}
	return c.pqConn.ResetSession(ctx)
}

// lazyTx is a transaction whose BEGIN may not have been sent yet.
type lazyTx struct{ c *conn }

// end drops what the transaction left to ride (its BEGIN, settings that
// no statement followed) and reports whether it never reached the server:
// then there is nothing to commit or roll back.
func (t lazyTx) end() bool {
	unsent := t.c.beginAt >= 0
	t.c.ride, t.c.rideSets, t.c.beginAt = t.c.ride[:0], 0, -1
	t.c.inTx, t.c.plan = false, ""
	return unsent
}

func (t lazyTx) Commit() error {
	if t.end() {
		return nil
	}
	return t.c.pqConn.Commit()
}

func (t lazyTx) Rollback() error {
	if t.end() {
		return nil
	}
	return t.c.pqConn.Rollback()
}
