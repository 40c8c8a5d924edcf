package database

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
)

// WithReadUnit returns a context whose reads share one read-only
// transaction, begun by the first read and ended by end (which the caller
// must call, typically when an HTTP request is done): a request's list and
// its eager loads then pay for BEGIN, the scope settings and COMMIT once,
// not once per statement. BEGIN and the settings travel with the first
// read (conn.go), and end does not wait for the COMMIT: the transaction
// wrote nothing, so there is nothing for its caller to learn from it, and
// its connection goes back to the pool once PostgreSQL has answered.
//
// The shared transaction only carries plain reads. A write, a locking read
// or a transaction of the caller's ends it first, so that a request never
// waits for a second connection while it holds one (the first is on its
// way back, its COMMIT sent); a later read begins a new one. A read under
// another scope (an HTTP request's authenticator, then its user) stays in
// it: the new scope's settings, all of them, travel with the read.
//
// The unit also counts the round trips of everything run under its context,
// writes and transactions included (UnitStatements), for the server's
// metrics: it is already in the context of every statement, so counting
// costs no allocation.
func WithReadUnit(ctx context.Context) (context.Context, func() error) {
	u := &readUnit{ctx: ctx}
	return context.WithValue(ctx, readUnitKey{}, u), u.end
}

type readUnitKey struct{}

type readUnit struct {
	ctx context.Context // the request's: the transaction lives as long as it

	mu sync.Mutex
	d  *Driver // the driver of the open transaction
	tx *Tx

	statements atomic.Int64 // round trips, as Counter.Count counts them
}

// UnitStatements returns the round trips sent so far under ctx's read unit
// (WithReadUnit): every statement, transaction control and scope settings
// included where they cost a round trip of their own, as Counter.Count
// counts them. Without a read unit it returns 0.
func UnitStatements(ctx context.Context) int {
	if u := readUnitFrom(ctx); u != nil {
		return int(u.statements.Load())
	}
	return 0
}

// roundTrip counts one round trip in the unit, if there is one.
func (u *readUnit) roundTrip() {
	if u != nil {
		u.statements.Add(1)
	}
}

func readUnitFrom(ctx context.Context) *readUnit {
	u, _ := ctx.Value(readUnitKey{}).(*readUnit)
	return u
}

// queryInReadUnit runs a plain read in the context's shared read-only
// transaction. It reports false when the statement must run elsewhere.
func queryInReadUnit(ctx context.Context, d *Driver, query string, args, v any) (bool, error) {
	u := readUnitFrom(ctx)
	if u == nil {
		return false, nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.tx != nil && (u.d != d || !plainRead(query)) {
		if err := u.endLocked(); err != nil {
			return true, err
		}
	}
	if !plainRead(query) {
		return false, nil
	}
	if u.tx == nil {
		tx, err := d.begin(u.ctx, &sql.TxOptions{ReadOnly: true})
		if err != nil {
			return true, err
		}
		tx.unit = u // u.ctx is the one around the unit: begin cannot find it
		u.d, u.tx = d, tx
	}
	err := u.tx.follow(ctx, query)
	if err == nil {
		err = u.tx.Tx.Query(ctx, query, args, v)
	}
	if err != nil {
		// A failed statement aborts the transaction: the next read
		// begins a new one rather than fail with it.
		tx := u.tx
		u.d, u.tx = nil, nil
		return true, errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return true, nil
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// endReadUnit ends the context's shared read, if d holds it open.
func endReadUnit(ctx context.Context, d *Driver) {
	if u := readUnitFrom(ctx); u != nil {
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.d == d {
			_ = u.endLocked() // read-only: nothing to lose
		}
	}
}

func (u *readUnit) end() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.endLocked()
}

func (u *readUnit) endLocked() error {
	if u.tx == nil {
		return nil
	}
	tx := u.tx
	u.d, u.tx = nil, nil
	tx.commitReadOnly()
	return nil
}

// plainRead reports whether query only reads: a SELECT (or a WITH … SELECT,
// as a limited preload sends) without a locking clause. A data-modifying
// WITH that slipped through would fail in the read-only transaction, not
// write.
func plainRead(query string) bool {
	if !strings.HasPrefix(query, "SELECT ") && !strings.HasPrefix(query, "WITH ") {
		return false
	}
	for _, lock := range []string{" FOR UPDATE", " FOR NO KEY UPDATE", " FOR SHARE", " FOR KEY SHARE"} {
		if strings.Contains(query, lock) {
			return false
		}
	}
	return true
}
