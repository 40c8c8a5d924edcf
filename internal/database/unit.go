package database

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/scopegate/scopegate/internal/scope"
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

	// replicaOK says the request's reads may go to a replica
	// (ReadFromReplica) that has replayed at least after; wrote that
	// the request has written, or begun a transaction of its own, since:
	// its reads go to the primary from then on. rep is the replica the
	// request reads from, chosen at its first read that may go to one
	// (routed) and kept, so that its reads never go back in time;
	// usedReplica says a read went to one.
	replicaOK, wrote, routed, usedReplica bool
	after                                 LSN
	rep                                   *replica

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
// transaction: on the primary, or on a replica when the request's reads may
// go to one (readTarget). A read that fails on a replica for the
// replica's sake is run again on the primary, which serves the rest of the
// request. It reports false when the statement must run elsewhere.
func queryInReadUnit(ctx context.Context, d *Driver, query string, args, v any) (bool, error) {
	u := readUnitFrom(ctx)
	if u == nil {
		return false, nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	plain := plainRead(query)
	for {
		target, rep := d.readTarget(ctx, u)
		if u.tx != nil && (u.d != target || !plain) {
			if err := u.endLocked(); err != nil {
				return true, err
			}
		}
		if !plain {
			u.wrote = true // INSERT … RETURNING, or a locking read
			return false, nil
		}
		var err error
		if u.tx == nil {
			var tx *Tx
			// A new connection is made here when the pool has
			// none idle: a replica that went away fails here.
			if tx, err = target.begin(u.ctx, &sql.TxOptions{ReadOnly: true}); err == nil {
				tx.unit = u // u.ctx is the one around the unit: begin cannot find it
				u.d, u.tx = target, tx
				u.usedReplica = u.usedReplica || rep != nil
			}
		}
		if err == nil {
			if err = u.tx.follow(ctx, query); err == nil {
				err = u.tx.Tx.Query(ctx, query, args, v)
			}
		}
		if err == nil {
			return true, nil
		}
		// A failed statement aborts the transaction: the next read
		// begins a new one rather than fail with it.
		var rollbackErr error
		if tx := u.tx; tx != nil {
			u.d, u.tx = nil, nil
			rollbackErr = ignoreDone(tx.Rollback())
		}
		if rep != nil && replicaFault(ctx, err) {
			d.replicas.failed(rep, err)
			u.replicaOK, u.rep = false, nil
			continue // once: the primary now serves the request
		}
		return true, errors.Join(err, rollbackErr)
	}
}

// readTarget is the driver a read of the unit goes to: d (the primary),
// or the driver of the replica the request reads from. The choice is
// made at the request's first such read and only ever moves to the
// primary: a replica that stops being usable is not swapped for another,
// which could be further behind than the one already read.
func (d *Driver) readTarget(ctx context.Context, u *readUnit) (target *Driver, rep *replica) {
	if d.replicas == nil || !u.replicaOK || u.wrote {
		return d, nil
	}
	if s, ok := scope.FromContext(ctx); !ok || !s.IsUser() {
		return d, nil
	}
	if !u.routed {
		u.routed = true
		u.rep = d.replicas.pick(u.after)
		if u.rep != nil {
			u.rep.reads.Add(1)
		} else {
			d.replicas.primaryReads.Add(1)
		}
	}
	if u.rep != nil && !u.rep.usable(u.after) {
		u.rep = nil
	}
	if u.rep == nil {
		return d, nil
	}
	return u.rep.drv, u.rep
}

// ReadFromReplica lets the reads of ctx's read unit (WithReadUnit) under a
// user's scope go to a replica that has replayed at least after (0: any),
// until the request writes. Without replicas (Options.Replicas) or a read
// unit it does nothing. The HTTP layer calls it for requests of safe
// methods only.
func ReadFromReplica(ctx context.Context, after LSN) {
	if u := readUnitFrom(ctx); u != nil {
		u.mu.Lock()
		u.replicaOK, u.after = true, after
		u.mu.Unlock()
	}
}

// UnitWrote reports whether anything under ctx's read unit wrote (or began
// a transaction that may have): its client needs the primary's position
// to read its writes back from a replica (Replicas.Position).
func UnitWrote(ctx context.Context) bool {
	u := readUnitFrom(ctx)
	if u == nil {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.wrote
}

// RetryOnPrimary reports whether ctx's read unit read from a replica, and
// if so sends its later reads to the primary: a request that failed as
// unavailable after reading from a replica (its connection lost in the
// middle of a result, where the seam cannot run the read again) may then
// be run again, if it only reads.
func RetryOnPrimary(ctx context.Context) bool {
	u := readUnitFrom(ctx)
	if u == nil {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if !u.usedReplica {
		return false
	}
	_ = u.endLocked()
	u.replicaOK, u.rep = false, nil
	return true
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// endReadUnit ends the context's shared read, if d (or a replica of d)
// holds it open, before a write or a transaction of the caller's; with
// wrote, the request's later reads go to the primary.
func endReadUnit(ctx context.Context, d *Driver, wrote bool) {
	if u := readUnitFrom(ctx); u != nil {
		u.mu.Lock()
		defer u.mu.Unlock()
		u.wrote = u.wrote || wrote
		if u.d != nil && (u.d == d || d.replicas.owns(u.d)) {
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
