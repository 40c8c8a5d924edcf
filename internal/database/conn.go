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
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lib/pq"
)

// DefaultStatementCache is how many prepared statements each PostgreSQL
// connection keeps (Options.StatementCache).
const DefaultStatementCache = 256

// connector wraps lib/pq's connector. Its connections send the seam's own
// statements (BEGIN, the scope settings) in the same message, and so the
// same round trip, as the statement that follows them, and keep the
// statements they run prepared.
//
// lib/pq waits for the answer to each message before it sends the next,
// and sends a parameterized statement in the extended protocol, which
// cannot carry a second statement. So a connection runs a parameterized
// statement as EXECUTE of a statement it prepared with PREPARE, its
// arguments written as quoted literals (literal), in a simple-protocol
// message that also carries what rides with it:
//
//	BEGIN READ ONLY; SELECT set_config('scopegate.org_id', '7', true), …; EXECUTE sg_3('42')
//
// A quoted literal is what PostgreSQL's extended protocol does with a
// parameter sent as text: an untyped value that the parameter's type reads.
// Arguments that have no such literal (bytes, a string with a NUL byte)
// take lib/pq's own path, unnamed, after what rides has gone on its own.
//
// Prepared statements: PostgreSQL plans a statement it has prepared for its
// first executions, then runs a cached generic plan; under row-level
// security every policy is planned into every statement, which cost 0.3 ms
// for a single-row SELECT (docs/benchmarks.md). The settings the policies
// read are evaluated when the plan runs, never baked into it. The PREPARE
// rides with the statement's first EXECUTE, and the DEALLOCATE of a
// statement evicted from the cache with the next message.
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
	seq   int                      // names sg_1, sg_2, …: never reused on a connection

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
	// suspect counts statements that may or may not exist on the server
	// (a message that prepared one failed): past a few, the next message
	// deallocates every statement and the cache starts afresh, unless a
	// caller prepared statements of its own on the connection (callerStmts),
	// which that would break: the suspects then stay until it closes.
	suspect     int
	callerStmts bool
}

// namedStmt is a statement the connection prepared under name.
type namedStmt struct{ query, name string }

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
	if c.suspect > 8 && !c.callerStmts {
		c.dealloc = []string{"DEALLOCATE ALL"}
		c.stmts, c.lru, c.suspect = map[string]*list.Element{}, list.New(), 0
	}
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
	exec, st, ok := c.execute(query, args)
	if !ok {
		if err := c.flush(ctx); err != nil {
			return nil, err
		}
		return c.pqConn.ExecContext(ctx, query, args)
	}
	msg, _ := c.message(exec...)
	res, err := c.pqConn.ExecContext(ctx, msg, nil)
	c.after(st, len(exec) > 1, err)
	return res, err
}

// QueryContext implements driver.QueryerContext.
func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	stmts, st, ok := []string{query}, (*namedStmt)(nil), true
	if len(args) > 0 {
		stmts, st, ok = c.execute(query, args)
	}
	if !ok {
		if err := c.flush(ctx); err != nil {
			return nil, err
		}
		return c.pqConn.QueryContext(ctx, query, args)
	}
	msg, skip := c.message(stmts...)
	rows, err := c.pqConn.QueryContext(ctx, msg, nil)
	if err == nil && skip > 0 {
		err = skipSets(rows, skip)
		if err != nil {
			_ = rows.Close()
		}
	}
	c.after(st, len(stmts) > 1, err)
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

// execute returns the statements that run query with args: EXECUTE of the
// connection's prepared statement, after its PREPARE the first time. It
// reports false when args have no literal or the cache is off.
func (c *conn) execute(query string, args []driver.NamedValue) ([]string, *namedStmt, bool) {
	if c.cache <= 0 || !preparable(query) {
		return nil, nil, false
	}
	lits := make([]string, len(args))
	for i, a := range args {
		l, ok := literal(a.Value)
		if !ok {
			return nil, nil, false
		}
		lits[i] = l
	}
	var stmts []string
	st := c.lookup(query)
	if st == nil {
		for c.lru.Len() >= c.cache {
			c.evict(c.lru.Back().Value.(*namedStmt))
		}
		c.seq++
		st = &namedStmt{query: query, name: "sg_" + strconv.Itoa(c.seq)}
		c.stmts[query] = c.lru.PushFront(st)
		stmts = append(stmts, "PREPARE "+st.name+" AS "+query)
	}
	return append(stmts, "EXECUTE "+st.name+"("+strings.Join(lits, ", ")+")"), st, true
}

// preparable reports whether PREPARE takes query: it takes SELECT,
// INSERT, UPDATE, DELETE, MERGE and VALUES (with their WITH), where the
// extended protocol takes any statement (an EXPLAIN with parameters).
func preparable(query string) bool {
	verb, _, _ := strings.Cut(strings.TrimLeft(query, " \t\r\n("), " ")
	switch strings.ToUpper(verb) {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "WITH":
		return true
	}
	return false
}

func (c *conn) lookup(query string) *namedStmt {
	e, ok := c.stmts[query]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*namedStmt)
}

// evict drops st from the cache; its DEALLOCATE rides with the next
// message.
func (c *conn) evict(st *namedStmt) {
	c.forget(st)
	c.dealloc = append(c.dealloc, "DEALLOCATE "+st.name)
}

func (c *conn) forget(st *namedStmt) {
	if e, ok := c.stmts[st.query]; ok && e.Value == st {
		c.lru.Remove(e)
		delete(c.stmts, st.query)
	}
}

// after looks at how a message that ran st went. If it failed after
// preparing st, PostgreSQL may or may not hold st (the PREPARE ran or
// not): the cache forgets it and counts it suspect. A statement PostgreSQL
// no longer runs as prepared, deallocated behind the connection's back
// (26000) or planned for tables whose columns changed since (0A000,
// "cached plan must not change result type"), is prepared afresh next
// time.
func (c *conn) after(st *namedStmt, prepared bool, err error) {
	if err == nil || st == nil {
		return
	}
	var pqErr *pq.Error
	errors.As(err, &pqErr)
	switch {
	case prepared:
		c.forget(st)
		c.suspect++
	case pqErr != nil && pqErr.Code == "26000": // gone already
		c.forget(st)
	case pqErr != nil && pqErr.Code == "0A000":
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
	c.callerStmts = true
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
