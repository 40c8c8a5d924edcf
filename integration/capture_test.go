package integration

import (
	"context"
	"database/sql"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
)

// newCaptureClient returns an ent client on db's application pool, through
// the same seam as pgtest's (database.NewDriver: scope settings, riders),
// with a captureDriver under the seam that records every statement ent
// sends, with its arguments and context: what the plan tests and the RLS
// benchmark explain is the real statement, not a copy written by hand.
func newCaptureClient(db *pgtest.DB) (*ent.Client, *captureDriver) {
	capture := &captureDriver{Driver: entsql.OpenDB(dialect.Postgres, db.SQL)}
	return ent.NewClient(ent.Driver(database.NewDriver(capture, database.Options{}))), capture
}

// capturedStatement is one statement sent, with its arguments and the context
// (so the scope) it was sent with.
type capturedStatement struct {
	ctx   context.Context
	query string
	args  []any
}

// captureDriver sits under the seam's Driver and records every
// statement it sends, in or out of a transaction.
type captureDriver struct {
	dialect.Driver
	mu    sync.Mutex
	stmts []capturedStatement
}

func (d *captureDriver) record(ctx context.Context, query string, args any) {
	a, _ := args.([]any)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stmts = append(d.stmts, capturedStatement{ctx: context.WithoutCancel(ctx), query: query, args: a})
}

// take returns the statements recorded so far and forgets them.
func (d *captureDriver) take() []capturedStatement {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := d.stmts
	d.stmts = nil
	return out
}

func (d *captureDriver) Exec(ctx context.Context, query string, args, v any) error {
	d.record(ctx, query, args)
	return d.Driver.Exec(ctx, query, args, v)
}

func (d *captureDriver) Query(ctx context.Context, query string, args, v any) error {
	d.record(ctx, query, args)
	return d.Driver.Query(ctx, query, args, v)
}

func (d *captureDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	tx, err := d.Driver.(*entsql.Driver).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &captureTx{Tx: tx, d: d}, nil
}

type captureTx struct {
	dialect.Tx
	d *captureDriver
}

func (t *captureTx) Exec(ctx context.Context, query string, args, v any) error {
	t.d.record(ctx, query, args)
	return t.Tx.Exec(ctx, query, args, v)
}

func (t *captureTx) Query(ctx context.Context, query string, args, v any) error {
	t.d.record(ctx, query, args)
	return t.Tx.Query(ctx, query, args, v)
}
