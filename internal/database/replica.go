package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// Read replicas (docs/scaling.md, Read replicas). A request that only reads,
// under a user's scope, may read from a streaming replica of the primary
// instead of the primary itself; everything else goes to the primary:
// writes, transactions of the caller's, locking reads, reads after a write
// in the same request, the authenticator's session lookup (so that a
// revoked session is revoked at once), and system scopes (batch jobs see
// the primary's rows). The HTTP layer opts a request's reads in
// (ReadFromReplica) for safe methods only, so that no decision a write
// makes rests on a replica's rows.
//
// Read-your-writes across requests: a response to a request that wrote
// carries the primary's WAL position after its commit (Replicas.Position);
// a client that sends it back with its next request is served by a
// replica only if that replica has replayed at least that far, and by the
// primary otherwise. A replica that is down, not in recovery, or behind
// the primary by more than Options.ReplicaMaxLag is skipped until a check
// finds it usable again; a replica that fails a read (its connection lost,
// a recovery conflict) sends that read, and the request's later reads, to
// the primary.

// LSN is a position in PostgreSQL's write-ahead log, a pg_lsn: written as
// two hexadecimal numbers, "16/B374D848".
type LSN uint64

// ErrBadLSN is returned by ParseLSN for text that is not a WAL position.
var ErrBadLSN = errors.New("not a WAL position (two hexadecimal numbers, like 0/16B3748)")

// ParseLSN parses PostgreSQL's text form of a pg_lsn.
func ParseLSN(s string) (LSN, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || len(hi) == 0 || len(hi) > 8 || len(lo) == 0 || len(lo) > 8 {
		return 0, ErrBadLSN
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, ErrBadLSN
	}
	return LSN(h<<32 | l), nil
}

// String is PostgreSQL's text form.
func (l LSN) String() string {
	return strconv.FormatUint(uint64(l>>32), 16) + "/" + strconv.FormatUint(uint64(l&0xFFFFFFFF), 16)
}

// Defaults of the replica options.
const (
	DefaultReplicaMaxLag        = 5 * time.Second
	DefaultReplicaCheckInterval = 200 * time.Millisecond
)

// Replicas routes a request's reads to streaming replicas of the primary.
type Replicas struct {
	primary  *sql.DB
	set      []*replica
	maxLag   time.Duration
	interval time.Duration
	log      *slog.Logger

	next atomic.Uint32 // round robin over set

	// history holds the primary's WAL position at each check, newest
	// last, for as long as maxLag looks back.
	mu      sync.Mutex
	history []positionAt

	primaryReads, fallbacks atomic.Int64

	stop context.CancelFunc
	done chan struct{}
}

type positionAt struct {
	at  time.Time
	lsn LSN
}

// replica is one read replica and what the last check found.
type replica struct {
	name string // host:port/database, without credentials: for logs and metrics
	db   *sql.DB
	drv  *Driver

	replayed atomic.Uint64 // LSN the replica has replayed, at the last check
	lagBytes atomic.Int64  // the primary's position then, minus replayed
	state    atomic.Int32  // replicaState
	reads    atomic.Int64  // requests whose reads it served (readTarget)
}

// replicaState is what the last check (or a failed read) found.
type replicaState int32

const (
	replicaUnknown  replicaState = iota // not checked yet: not used
	replicaUp                           // in recovery, within the lag bound
	replicaLagging                      // in recovery, behind by more than the bound
	replicaDown                         // unreachable, or failed a read since the last check
	replicaPromoted                     // not in recovery: not a replica of this primary any more
)

func (s replicaState) String() string {
	return [...]string{"unknown", "up", "lagging", "down", "promoted"}[s]
}

// openReplicas opens a pool for each replica URL (with the primary's
// options) and starts checking them. A replica that cannot be reached now
// is not an error: it is skipped until a check reaches it.
func openReplicas(primary *sql.DB, urls []string, opts Options) (*Replicas, error) {
	r := &Replicas{
		primary:  primary,
		maxLag:   opts.ReplicaMaxLag,
		interval: opts.ReplicaCheckInterval,
		log:      opts.Log,
		done:     make(chan struct{}),
	}
	if r.maxLag <= 0 {
		r.maxLag = DefaultReplicaMaxLag
	}
	if r.interval <= 0 {
		r.interval = DefaultReplicaCheckInterval
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for _, raw := range urls {
		driverName, dsn, dialectName, err := parseURL(raw)
		if err != nil || dialectName != dialect.Postgres {
			r.closePools()
			return nil, fmt.Errorf("%w: a replica must be postgres://…", ErrUnsupportedURL)
		}
		db, err := openPool(driverName, dsn, opts)
		if err != nil {
			r.closePools()
			return nil, fmt.Errorf("database: open replica %s: %w", replicaName(raw), err)
		}
		sizePool(db, opts)
		r.set = append(r.set, &replica{
			name: replicaName(raw),
			db:   db,
			drv:  NewDriver(entsql.OpenDB(dialect.Postgres, db), opts),
		})
	}
	ctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	r.check(ctx) // the first verdicts before the first request
	go r.watch(ctx)
	return r, nil
}

// replicaName is a replica URL without its credentials and options.
func replicaName(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "replica"
	}
	return u.Host + u.Path
}

// Close stops the checks and closes the replicas' pools.
func (r *Replicas) Close() error {
	r.stop()
	<-r.done
	return r.closePools()
}

func (r *Replicas) closePools() error {
	var errs []error
	for _, rep := range r.set {
		errs = append(errs, rep.db.Close())
	}
	return errors.Join(errs...)
}

func (r *Replicas) watch(ctx context.Context) {
	defer close(r.done)
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.check(ctx)
		}
	}
}

// checkTimeout bounds one check of one server: a replica that does not
// answer within it counts as down.
func (r *Replicas) checkTimeout() time.Duration { return max(r.interval, time.Second) }

// check reads the primary's WAL position and each replica's replay
// position, and judges each replica.
func (r *Replicas) check(ctx context.Context) {
	now := time.Now()
	cctx, cancel := context.WithTimeout(ctx, r.checkTimeout())
	defer cancel()
	var text string
	if err := r.primary.QueryRowContext(cctx, "SELECT pg_current_wal_lsn()::text").Scan(&text); err == nil {
		if lsn, err := ParseLSN(text); err == nil {
			r.record(now, lsn)
		}
	}
	need, current := r.positions(now)
	var wg sync.WaitGroup
	for _, rep := range r.set {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.judge(cctx, rep, need, current)
		}()
	}
	wg.Wait()
}

// record keeps the primary's position at time at, and forgets positions
// older than the lag bound needs.
func (r *Replicas) record(at time.Time, lsn LSN) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.history = append(r.history, positionAt{at, lsn})
	cut := 0
	for cut+1 < len(r.history) && at.Sub(r.history[cut+1].at) >= r.maxLag {
		cut++ // history[cut+1] alone answers positions(at) from now on
	}
	r.history = r.history[cut:]
}

// positions returns the primary's position maxLag ago (a replica that has
// replayed less lags by more than maxLag; 0 when the history is shorter)
// and its newest known position.
func (r *Replicas) positions(now time.Time) (need, current LSN) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.history {
		if now.Sub(p.at) >= r.maxLag {
			need = p.lsn
		}
	}
	if n := len(r.history); n > 0 {
		current = r.history[n-1].lsn
	}
	return need, current
}

// judge checks one replica and records what it found, logging changes.
func (r *Replicas) judge(ctx context.Context, rep *replica, need, current LSN) {
	var inRecovery bool
	var text string
	err := rep.db.QueryRowContext(ctx, "SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn()::text, '')").Scan(&inRecovery, &text)
	state := replicaUp
	switch {
	case err != nil:
		state = replicaDown
	case !inRecovery:
		state = replicaPromoted
	default:
		replayed, perr := ParseLSN(text)
		if perr != nil {
			state, err = replicaDown, fmt.Errorf("replay position %q: %w", text, perr)
			break
		}
		rep.replayed.Store(uint64(replayed))
		rep.lagBytes.Store(max(0, int64(current)-int64(replayed)))
		if replayed < need {
			state = replicaLagging
		}
	}
	if old := replicaState(rep.state.Swap(int32(state))); old != state {
		attrs := []any{slog.String("replica", rep.name), slog.String("state", state.String()), slog.String("was", old.String())}
		switch state {
		case replicaUp:
			r.log.Info("replica usable", attrs...)
		case replicaLagging:
			r.log.Warn("replica skipped: behind the primary by more than the lag bound", append(attrs, slog.Duration("max_lag", r.maxLag))...)
		default:
			r.log.Warn("replica skipped", append(attrs, slog.Any("error", err))...)
		}
	}
}

// pick returns a usable replica that has replayed at least after, or nil.
func (r *Replicas) pick(after LSN) *replica {
	n := uint32(len(r.set))
	start := r.next.Add(1)
	for i := range n {
		if rep := r.set[(start+i)%n]; rep.usable(after) {
			return rep
		}
	}
	return nil
}

func (rep *replica) usable(after LSN) bool {
	return replicaState(rep.state.Load()) == replicaUp && LSN(rep.replayed.Load()) >= after
}

// failed takes a replica out of use until the next check reaches it.
func (r *Replicas) failed(rep *replica, err error) {
	r.fallbacks.Add(1)
	if Unavailable(err) && replicaState(rep.state.Swap(int32(replicaDown))) != replicaDown {
		r.log.Warn("replica skipped: a read failed; the request reads from the primary",
			slog.String("replica", rep.name), slog.Any("error", err))
	}
}

// replicaFault reports whether a read that failed on a replica should be
// tried on the primary: the replica is unreachable or went away, or
// cancelled the read for a conflict with recovery (40001), none of which
// the primary would do.
func replicaFault(ctx context.Context, err error) bool {
	return ctx.Err() == nil && (Unavailable(err) || ConcurrentChange(err))
}

// Position returns the primary's current WAL insert position: the commit
// record of every transaction committed before the call is before it. Not
// pg_current_wal_lsn(), the write position: with synchronous_commit off,
// a commit returns before its record is written, and a replica that had
// replayed up to the write position could still miss it (TestReadReplicas
// found that on a primary so configured).
func (r *Replicas) Position(ctx context.Context) (LSN, error) {
	var text string
	if err := r.primary.QueryRowContext(ctx, "SELECT pg_current_wal_insert_lsn()::text").Scan(&text); err != nil {
		return 0, fmt.Errorf("database: WAL position: %w", err)
	}
	return ParseLSN(text)
}

// ReplicaStatus is what the last check found of one replica.
type ReplicaStatus struct {
	Name   string
	Usable bool
	State  string
	// LagBytes is how far the replica's replay was behind the primary's
	// newest known position, at the last check that reached it.
	LagBytes int64
	// Reads counts the requests whose reads went to the replica.
	Reads int64
}

// Status returns each replica's status, in the order of the URLs.
func (r *Replicas) Status() []ReplicaStatus {
	out := make([]ReplicaStatus, len(r.set))
	for i, rep := range r.set {
		st := replicaState(rep.state.Load())
		out[i] = ReplicaStatus{Name: rep.name, Usable: st == replicaUp, State: st.String(),
			LagBytes: rep.lagBytes.Load(), Reads: rep.reads.Load()}
	}
	return out
}

// PrimaryReads counts the requests whose reads could have gone to a
// replica but went to the primary: no replica was usable, or none had
// replayed the client's last write.
func (r *Replicas) PrimaryReads() int64 { return r.primaryReads.Load() }

// Fallbacks counts the reads that failed on a replica and were sent to
// the primary.
func (r *Replicas) Fallbacks() int64 { return r.fallbacks.Load() }

// owns reports whether d is the driver of one of r's replicas.
func (r *Replicas) owns(d *Driver) bool {
	if r == nil {
		return false
	}
	for _, rep := range r.set {
		if rep.drv == d {
			return true
		}
	}
	return false
}
