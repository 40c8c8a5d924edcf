package pgtest

import (
	"context"
	"database/sql"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/database"
)

// NewCaptureClient returns an ent client on db's application pool, through
// the same seam as New's (database.NewDriver: scope settings, riders),
// with a Capture under the seam that records every statement ent
// sends, with its arguments and context: what the plan tests and the RLS
// benchmark explain is the real statement, not a copy written by hand.
func NewCaptureClient(db *DB) (*ent.Client, *Capture) {
	capture := &Capture{Driver: entsql.OpenDB(dialect.Postgres, db.SQL)}
	return ent.NewClient(ent.Driver(database.NewDriver(capture, database.Options{}))), capture
}

// Statement is one statement sent, with its arguments and the context
// (so the scope) it was sent with.
type Statement struct {
	Ctx   context.Context
	Query string
	Args  []any
}

// Capture sits under the seam's Driver and records every
// statement it sends, in or out of a transaction.
type Capture struct {
	dialect.Driver
	mu    sync.Mutex
	stmts []Statement
}

func (d *Capture) record(ctx context.Context, query string, args any) {
	a, _ := args.([]any)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stmts = append(d.stmts, Statement{Ctx: context.WithoutCancel(ctx), Query: query, Args: a})
}

// Take returns the statements recorded so far and forgets them.
func (d *Capture) Take() []Statement {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.stmts
	d.stmts = nil
	return out
}

func (d *Capture) Exec(ctx context.Context, query string, args, v any) error {
	d.record(ctx, query, args)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *Capture) Query(ctx context.Context, query string, args, v any) error {
	d.record(ctx, query, args)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *Capture) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.(*entsql.Driver).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &captureTx{Tx: tx, d: d}, nil
}

type captureTx struct {
	dialect.Tx
	d *Capture
}

func (t *captureTx) Exec(ctx context.Context, query string, args, v any) error {
	t.d.record(ctx, query, args)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *captureTx) Query(ctx context.Context, query string, args, v any) error {
	t.d.record(ctx, query, args)
	return t.Tx.Query(ctx, query, args, v)
}
