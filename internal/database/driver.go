package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// ErrUnsafeUpsert is returned for an INSERT … ON CONFLICT … DO UPDATE that
// could rewrite a row outside what the scope may change: sent by a scope
// that does not see every row of its tenant, not pinned to the scope's
// tenant (on a globally unique column, a user's email, it would rewrite
// another tenant's row), or setting values the mutation rules never saw.
// The error wrapping it says which rule of checkUpsert failed.
var ErrUnsafeUpsert = errors.New("database: upsert not narrowed to the tenant")

// Counter counts the statements sent through a Driver. Safe for concurrent
// use. Statements of the seam's own making (BEGIN, the scope settings,
// COMMIT and ROLLBACK) count as round trips but not as queries, so a test
// can assert both exactly. BEGIN and the settings count only where they
// cost a round trip of their own: on PostgreSQL they travel with the
// statement that follows them (conn.go), and a transaction that sends
// nothing sends no BEGIN and no COMMIT. Statements() lists them all.
type Counter struct {
	n, control atomic.Int64
	mu         sync.Mutex
	keep       bool
	log        []string
}

// NewCounter returns a counter; with keep it also records the statements,
// for a test that wants to print them when an assertion fails.
func NewCounter(keep bool) *Counter { return &Counter{keep: keep} }

// Count returns the number of statements sent since the last Reset: every
// round trip, transaction control and scope settings included.
func (c *Counter) Count() int { return int(c.n.Load()) }

// Queries returns the number of statements sent since the last Reset other
// than transaction control and scope settings: what the caller asked for.
func (c *Counter) Queries() int { return int(c.n.Load() - c.control.Load()) }

// Statements returns the recorded statements (only with keep).
func (c *Counter) Statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// Reset sets the counts to zero and forgets recorded statements.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n.Store(0)
	c.control.Store(0)
	c.log = nil
}

func (c *Counter) add(stmt string) { c.record(stmt, false) }

func (c *Counter) addControl(stmt string) { c.record(stmt, true) }

// addRider records a statement of the seam's that travels with the next
// one, in its round trip: logged, not counted.
func (c *Counter) addRider(stmt string) {
	if c != nil && c.keep {
		c.mu.Lock()
		c.log = append(c.log, stmt)
		c.mu.Unlock()
	}
}

func (c *Counter) record(stmt string, control bool) {
	if c == nil {
		return
	}
	c.n.Add(1)
	if control {
		c.control.Add(1)
	}
	if c.keep {
		c.mu.Lock()
		c.log = append(c.log, stmt)
		c.mu.Unlock()
	}
}

// Driver is the ent driver every client of the project runs on.
//
// On PostgreSQL it runs every statement in a transaction whose first
// statement sets the scope's settings (Settings) for row-level security:
// inside the caller's transaction (BeginTx), in the request's shared
// read-only transaction (WithReadUnit), or else in a transaction of its own
// around the one statement. Settings are transaction-local, so nothing of a
// scope survives on a pooled connection after commit or rollback.
type Driver struct {
	dialect.Driver
	counter *Counter
	// settings turns the scope settings and their transactions on.
	settings bool
	// statementTimeout is Options.StatementTimeout in milliseconds, ""
	// for none.
	statementTimeout string
	// replicas, if set, serve the reads of requests that allow it
	// (ReadFromReplica).
	replicas *Replicas
}

var _ dialect.Driver = (*Driver)(nil)

func (d *Driver) before(ctx context.Context, query string, args any) error {
	if err := checkUpsert(ctx, query, args); err != nil {
		return err
	}
	d.counter.add(query)
	readUnitFrom(ctx).roundTrip()
	return nil
}

// Exec implements dialect.ExecQuerier.
func (d *Driver) Exec(ctx context.Context, query string, args, v any) error {
	if err := d.before(ctx, query, args); err != nil {
		return err
	}
	if !d.settings {
		return d.Driver.Exec(ctx, query, args, v)
	}
	endReadUnit(ctx, d, true) // a write: the shared read has ended
	tx, err := d.ownTx(ctx, query)
	if err != nil {
		return err
	}
	if err := tx.Tx.Exec(ctx, query, args, v); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

// Query implements dialect.ExecQuerier.
func (d *Driver) Query(ctx context.Context, query string, args, v any) error {
	if err := d.before(ctx, query, args); err != nil {
		return err
	}
	if !d.settings {
		return d.Driver.Query(ctx, query, args, v)
	}
	if handled, err := queryInReadUnit(ctx, d, query, args, v); handled {
		return err
	}
	rows, ok := v.(*entsql.Rows)
	if !ok {
		return fmt.Errorf("database: query into %T, want *sql.Rows", v)
	}
	tx, err := d.ownTx(ctx, query)
	if err != nil {
		return err
	}
	if err := tx.Tx.Query(ctx, query, args, rows); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	// The transaction ends when the rows do: INSERT … RETURNING is a
	// query too, so a failed COMMIT must reach the caller, through Err
	// after the last Next (which is where ent's scanners look).
	rows.ColumnScanner = &txRows{ColumnScanner: rows.ColumnScanner, tx: tx}
	return nil
}

// ownTx begins a transaction of its own for the one statement query, with
// the settings query needs.
func (d *Driver) ownTx(ctx context.Context, query string) (*Tx, error) {
	tx, err := d.begin(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := tx.follow(ctx, query); err != nil {
		return nil, errors.Join(err, tx.Rollback())
	}
	return tx, nil
}

// Tx starts a transaction.
func (d *Driver) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.BeginTx(ctx, nil)
}

// BeginTx starts a transaction with options and, on PostgreSQL, sets the
// scope's settings as its first statement.
func (d *Driver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	// One connection per request at a time; a transaction that may
	// write sends the request's later reads to the primary.
	endReadUnit(ctx, d, opts == nil || !opts.ReadOnly)
	return d.begin(ctx, opts)
}

// begin starts a transaction bound to txCtx (database/sql rolls it back
// when txCtx ends).
func (d *Driver) begin(txCtx context.Context, opts *sql.TxOptions) (*Tx, error) {
	type beginner interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	}
	b, ok := d.Driver.(beginner)
	if !ok {
		return nil, fmt.Errorf("database: %T cannot begin transactions with options", d.Driver)
	}
	tx, err := b.BeginTx(txCtx, opts)
	if err != nil {
		return nil, err
	}
	// The settings follow with the first statement (Tx.follow): it may
	// need other settings than a read would (Settings.Inserting), and a
	// transaction that sends nothing needs none.
	return &Tx{Tx: tx, d: d, unit: readUnitFrom(txCtx)}, nil
}

// Tx is a transaction of a Driver.
type Tx struct {
	dialect.Tx
	d           *Driver
	settings    Settings
	hasSettings bool
	sent        bool // a statement has been sent, and with it BEGIN
	// unit counts the transaction's control statements for the request
	// it serves (UnitStatements); nil outside a read unit.
	unit *readUnit
}

// control counts a statement of the seam's own making that costs a round
// trip: in the test counter and in the request's unit.
func (t *Tx) control(stmt string) {
	t.d.counter.addControl(stmt)
	t.unit.roundTrip()
}

// sending notes that a statement goes out; its BEGIN goes with it when
// merged, or else before it, in a round trip of its own.
func (t *Tx) sending(merged bool) {
	if t.sent {
		return
	}
	t.sent = true
	if !merged {
		t.control("BEGIN")
	}
}

// set makes s the transaction's settings.
func (t *Tx) set(ctx context.Context, s Settings) error {
	q, args, rides := s.statement()
	if rides {
		// The settings (and BEGIN) travel with the next statement,
		// in its round trip (conn.go).
		ctx = rideWithNext(ctx)
		t.sending(true)
		t.d.counter.addRider(q)
	} else {
		t.sending(false)
		t.control(q)
	}
	if err := t.Tx.Exec(ctx, q, args, nil); err != nil {
		return fmt.Errorf("database: set scope settings: %w", err)
	}
	t.settings, t.hasSettings = s, true
	return nil
}

// follow makes the transaction's settings those that query needs under
// the scope in ctx: its first statement sets them, and a statement that
// runs under another scope (or inserts) changes them.
func (t *Tx) follow(ctx context.Context, query string) error {
	if !t.d.settings {
		return nil
	}
	s := SettingsFor(ctx, query)
	s.StatementTimeout = t.d.statementTimeout
	if !t.hasSettings || s != t.settings {
		return t.set(ctx, s)
	}
	return nil
}

// Exec implements dialect.ExecQuerier.
func (t *Tx) Exec(ctx context.Context, query string, args, v any) error {
	if err := t.ready(ctx, query, args); err != nil {
		return err
	}
	return t.Tx.Exec(ctx, query, args, v)
}

// Query implements dialect.ExecQuerier.
func (t *Tx) Query(ctx context.Context, query string, args, v any) error {
	if err := t.ready(ctx, query, args); err != nil {
		return err
	}
	return t.Tx.Query(ctx, query, args, v)
}

// ready readies the transaction for query, the caller's next statement:
// the driver's checks and counts of it (before), the settings it needs
// (follow), and its BEGIN counted if it is the first.
func (t *Tx) ready(ctx context.Context, query string, args any) error {
	if err := t.d.before(ctx, query, args); err != nil {
		return err
	}
	if err := t.follow(ctx, query); err != nil {
		return err
	}
	t.sending(false)
	return nil
}

// Commit commits the transaction.
func (t *Tx) Commit() error {
	if t.sent {
		t.control("COMMIT")
	}
	return t.Tx.Commit()
}

// commitReadOnly ends a read-only transaction without waiting for the
// COMMIT, whose outcome cannot matter to a caller that wrote nothing: a
// failed one leaves nothing behind either, and database/sql releases the
// connection only once PostgreSQL has answered.
func (t *Tx) commitReadOnly() {
	if !t.sent {
		_ = t.Tx.Commit() // nothing was sent: free
		return
	}
	t.control("COMMIT")
	go func() { _ = t.Tx.Commit() }()
}

// Rollback rolls the transaction back.
func (t *Tx) Rollback() error {
	if t.sent {
		t.control("ROLLBACK")
	}
	return t.Tx.Rollback()
}

// txRows are the rows of a statement that runs in a transaction of its
// own: the transaction commits once the rows are read to the end (or
// closed), and rolls back if reading them failed.
type txRows struct {
	entsql.ColumnScanner
	tx   *Tx
	done bool
	err  error
}

func (r *txRows) Next() bool {
	if r.ColumnScanner.Next() {
		return true
	}
	r.end()
	return false
}

func (r *txRows) Err() error {
	if err := r.ColumnScanner.Err(); err != nil {
		return err
	}
	return r.err
}

func (r *txRows) Close() error {
	err := r.ColumnScanner.Close()
	r.end()
	return errors.Join(err, r.err)
}

func (r *txRows) end() {
	if r.done {
		return
	}
	r.done = true
	if err := r.ColumnScanner.Err(); err != nil {
		_ = r.tx.Rollback()
		return
	}
	// Next has closed the rows (database/sql does when it returns false).
	if err := r.tx.Commit(); err != nil {
		r.err = fmt.Errorf("database: commit: %w", err)
	}
}
