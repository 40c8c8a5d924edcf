// Package database is the one seam between the data layer and its database:
// the only constructor of the ent client and of the driver under it. Every
// statement the project sends passes through Driver, which counts statements
// for tests, refuses upserts that could rewrite another tenant's row, and
// runs every unit of work in a transaction that first sets the scope's
// transaction-local settings, which PostgreSQL's row-level security policies
// read (docs/design.md section 8), without touching the repositories.
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
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"    // PostgreSQL driver
	_ "modernc.org/sqlite" // embedded SQLite driver

	"github.com/scopegate/scopegate/ent"
	_ "github.com/scopegate/scopegate/ent/runtime" // the one import of ent's runtime: policies, hooks, defaults
	"github.com/scopegate/scopegate/internal/audit"
	"github.com/scopegate/scopegate/internal/scope"
)

// DefaultMaxOpenConns is the size of a PostgreSQL pool when
// Options.MaxOpenConns is 0: enough for a server's concurrent requests on a
// few cores, few enough for PostgreSQL's default max_connections (100) to
// hold several instances and the migrations.
const DefaultMaxOpenConns = 16

// ErrUnsupportedURL is returned for a database URL that is neither
// PostgreSQL nor SQLite.
var ErrUnsupportedURL = errors.New("database: unsupported database URL")

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Counter, if set, counts every statement sent (tests read it).
	Counter *Counter
	// MaxOpenConns caps a PostgreSQL pool (0: DefaultMaxOpenConns). The
	// pool keeps that many idle, too: database/sql keeps two unless told
	// otherwise, so under concurrency most requests would open a new
	// connection, and a new connection has none of the prepared statements
	// of the one closed before it.
	MaxOpenConns int
	// StatementCache is how many prepared statements each PostgreSQL
	// connection keeps (conn): 0 means DefaultStatementCache, a negative
	// number none, as behind a pooler that does not track prepared
	// statements (PgBouncer in transaction mode before 1.21).
	StatementCache int
	// StatementTimeout bounds each statement of a scoped transaction on
	// the server (PostgreSQL's statement_timeout, set transaction-locally
	// with the scope's settings): a statement still running after it is
	// cancelled by PostgreSQL itself, even if the client's own
	// cancellation (a request's deadline) never arrives. 0 leaves the
	// server's setting (by default none).
	StatementTimeout time.Duration
	// QueryLog receives the system scope's query log, at debug level
	// (audit.LogSystemQueries); nil logs nothing.
	QueryLog *slog.Logger
	// NoScopeSettings sends statements as they come, outside transactions
	// and without the scope settings that row-level security reads: only
	// for measuring what RLS costs (against a database whose policies are
	// on, it sees no rows).
	NoScopeSettings bool
	// Replicas are PostgreSQL URLs of streaming replicas of the
	// database (replica.go): the reads of requests that allow it
	// (ReadFromReplica) go to them. Each gets a pool like the primary's.
	Replicas []string
	// ReplicaMaxLag is how far behind the primary, in time, a replica
	// may be and still serve reads (0: DefaultReplicaMaxLag).
	ReplicaMaxLag time.Duration
	// ReplicaCheckInterval is how often each replica's replay position
	// is checked (0: DefaultReplicaCheckInterval).
	ReplicaCheckInterval time.Duration
	// Log receives the replicas' changes of state (skipped, usable
	// again); nil logs nothing.
	Log *slog.Logger
}

// DB is an open database: the ent client and what it was opened with.
type DB struct {
	*ent.Client
	SQL     *sql.DB
	Dialect string
	// Replicas route reads to the replicas of Options.Replicas; nil
	// without any.
	Replicas *Replicas
}

// Close closes the client, its pool and the replicas' pools.
func (db *DB) Close() error {
	err := db.Client.Close()
	if db.Replicas != nil {
		err = errors.Join(err, db.Replicas.Close())
	}
	return err
}

// Open connects to rawURL: postgres://… or postgresql://… for PostgreSQL
// through lib/pq, file:… or a path ending in .db for embedded SQLite.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	driverName, dsn, dialectName, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	db, err := openPool(driverName, dsn, opts)
	if err != nil {
		return nil, fmt.Errorf("database: open %s: %w", dialectName, err)
	}
	if dialectName == dialect.Postgres {
		sizePool(db, opts)
	}
	if dialectName == dialect.SQLite {
		// SQLite allows one writer; one connection avoids "database is
		// locked" under concurrent requests of the embedded demo.
		db.SetMaxOpenConns(1)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database: connect to %s: %w", dialectName, err)
	}
	drv := NewDriver(entsql.OpenDB(dialectName, db), opts)
	if len(opts.Replicas) > 0 {
		if dialectName != dialect.Postgres {
			db.Close()
			return nil, fmt.Errorf("%w: replicas need a PostgreSQL primary", ErrUnsupportedURL)
		}
		if drv.replicas, err = openReplicas(db, opts.Replicas, opts); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &DB{Client: newClient(drv, opts), SQL: db, Dialect: dialectName, Replicas: drv.replicas}, nil
}

// sizePool sizes a PostgreSQL pool (Options.MaxOpenConns).
func sizePool(db *sql.DB, opts Options) {
	n := opts.MaxOpenConns
	if n <= 0 {
		n = DefaultMaxOpenConns
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	// Connections idle this long after a burst are closed; those in
	// steady use keep their prepared statements.
	db.SetConnMaxIdleTime(5 * time.Minute)
}

// openPool opens the connection pool; PostgreSQL's connections come from
// the seam's connector (conn.go).
func openPool(driverName, dsn string, opts Options) (*sql.DB, error) {
	if driverName != "postgres" {
		return sql.Open(driverName, dsn)
	}
	c, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	cache := opts.StatementCache
	if cache == 0 {
		cache = DefaultStatementCache
	}
	return sql.OpenDB(connector{Connector: c, cache: cache}), nil
}

// NewClient wraps an open *sql.DB in the seam's driver and returns the ent
// client over it. Every ent client of the project is built here.
func NewClient(db *sql.DB, dialectName string, opts Options) *ent.Client {
	return newClient(NewDriver(entsql.OpenDB(dialectName, db), opts), opts)
}

func newClient(drv *Driver, opts Options) *ent.Client {
	c := ent.NewClient(ent.Driver(drv))
	// The client's interceptors are shared with its transactions' clients.
	c.Intercept(audit.LogSystemQueries(opts.QueryLog))
	return c
}

// NewDriver wraps an ent driver in the seam. NewClient is the way in for
// everything but a test that must hold the transactions ent begins.
func NewDriver(drv dialect.Driver, opts Options) *Driver {
	d := &Driver{
		Driver:   drv,
		counter:  opts.Counter,
		settings: drv.Dialect() == dialect.Postgres && !opts.NoScopeSettings,
	}
	if opts.StatementTimeout > 0 {
		// PostgreSQL reads a bare number as milliseconds; at least
		// one, since 0 would mean no timeout at all.
		d.statementTimeout = strconv.FormatInt(max(1, opts.StatementTimeout.Milliseconds()), 10)
	}
	return d
}

func parseURL(raw string) (driverName, dsn, dialectName string, err error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", "", fmt.Errorf("%w: %v", ErrUnsupportedURL, err)
		}
		q := u.Query()
		if !q.Has("binary_parameters") {
			// lib/pq sends a parameterized statement in two round trips
			// (parse, then bind/execute) unless told to send binary
			// parameters in one (docs/design.md section 8).
			q.Set("binary_parameters", "yes")
		}
		u.RawQuery = q.Encode()
		return "postgres", u.String(), dialect.Postgres, nil
	case strings.HasPrefix(raw, "file:"), strings.HasSuffix(raw, ".db"), strings.HasPrefix(raw, "sqlite:"):
		dsn := strings.TrimPrefix(raw, "sqlite:")
		if !strings.HasPrefix(dsn, "file:") {
			dsn = "file:" + dsn
		}
		if !strings.Contains(dsn, "foreign_keys") {
			sep := "?"
			if strings.Contains(dsn, "?") {
				sep = "&"
			}
			dsn += sep + "_pragma=foreign_keys(1)&_pragma=busy_timeout(5000)"
		}
		return "sqlite", dsn, dialect.SQLite, nil
	}
	return "", "", "", fmt.Errorf("%w: want postgres://… or file:….db", ErrUnsupportedURL)
}

// WithTx runs fn in a transaction of client: it commits when fn returns nil,
// and rolls back when fn returns an error or panics. Without a scope in ctx
// it fails before the transaction begins, so that no statement is sent.
func WithTx(ctx context.Context, client *ent.Client, fn func(tx *ent.Tx) error) (err error) {
	if _, ok := scope.FromContext(ctx); !ok {
		return fmt.Errorf("database: begin: %w", scope.ErrNoScope)
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("database: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			if rerr := tx.Rollback(); rerr != nil && !errors.Is(rerr, sql.ErrTxDone) {
				err = errors.Join(err, fmt.Errorf("database: rollback: %w", rerr))
			}
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("database: commit: %w", err)
	}
	return nil
}
