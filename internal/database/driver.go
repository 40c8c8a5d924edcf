package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
)

// ErrUnsafeUpsert is returned for an INSERT … ON CONFLICT … DO UPDATE that
// could rewrite a row outside what the scope may change: sent by a scope
// that does not see every row of its tenant, not pinned to the scope's
// tenant (on a globally unique column, a user's email, it would rewrite
// another tenant's row), or setting values the mutation rules never saw.
// The error wrapping it says which rule of checkUpsert failed.
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
