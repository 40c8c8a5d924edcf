package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/migration"
)

// defaultEmbedded is the SQLite file used when no database is configured.
const defaultEmbedded = "scopegate.db"

// dbFlags are the flags of every command that opens the database.
type dbFlags struct {
	url      *string
	file     *string
	maxConns *string
	// stmtCache is --statement-cache; nil (a dbFlags built by hand)
	// keeps the seam's default.
	stmtCache *int
}

func addDBFlags(fs *flag.FlagSet) dbFlags {
	return dbFlags{
		url:  databaseURLFlag(fs),
		file: fs.String("db-file", defaultEmbedded, "embedded SQLite `file` used when no database URL is given"),
		// A string, not an int: the default is the environment's, and
		// a bad value gets the same message from the flag as from it.
		maxConns: fs.String("db-max-conns", "", "`size` of the PostgreSQL connection pool, 1 to 10000, all kept open when idle\n"+
			"      (default $"+envDBMaxConns+", else "+strconv.Itoa(database.DefaultMaxOpenConns)+")"),
		stmtCache: fs.Int("statement-cache", database.DefaultStatementCache,
			"prepared `statements` each PostgreSQL connection keeps, up to "+strconv.Itoa(maxStatementCache)+"; -1 (or 0): none, which is what\n"+
				"      PgBouncer in transaction mode before 1.21 needs: it does not keep prepared statements (docs/scaling.md)"),
	}
}

// opened is an open database and whether it is the embedded one.
type opened struct {
	*database.DB
	embedded bool
	where    string
}

// open connects to PostgreSQL (--database-url or DATABASE_URL), refusing to
// go on while migrations are pending, or, with neither, to the embedded
// SQLite file, whose schema it creates from the ent schema.
func (f dbFlags) open(ctx context.Context, e *env) (*opened, error) {
	return f.openWith(ctx, e, database.Options{})
}

// openWith is open with PostgreSQL options (the pool's size comes from the
// flags).
func (f dbFlags) openWith(ctx context.Context, e *env, opts database.Options) (*opened, error) {
	raw := *f.url
	if raw == "" {
		raw = e.getenv(envDatabaseURL)
	}
	if raw == "" && len(opts.Replicas) > 0 {
		return nil, usagef("read replicas (--replica-url, %s) need a PostgreSQL DATABASE_URL", envReplicaURL)
	}
	if raw == "" {
		db, err := migration.OpenEmbedded(ctx, "file:"+*f.file, database.Options{QueryLog: e.logger()})
		if err != nil {
			return nil, err
		}
		return &opened{DB: db, embedded: true, where: "embedded SQLite " + *f.file}, nil
	}
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return nil, usagef("DATABASE_URL must be postgres://… (leave it empty for the embedded SQLite file)")
	}
	conns, err := maxConns(e, *f.maxConns)
	if err != nil {
		return nil, err
	}
	cache, err := statementCache(f.stmtCache)
	if err != nil {
		return nil, err
	}
	opts.MaxOpenConns, opts.StatementCache, opts.QueryLog = conns, cache, e.logger()
	db, err := database.Open(ctx, raw, opts)
	if err != nil {
		return nil, err
	}
	if err := migration.CheckCurrent(ctx, db.SQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w\napply them with: scopegate migrate up", err)
	}
	return &opened{DB: db, where: "PostgreSQL"}, nil
}

// maxStatementCache bounds --statement-cache: a statement held per
// connection holds its plans on the server too.
const maxStatementCache = 100000

// statementCache turns --statement-cache into database.Options'
// StatementCache: -1 or 0 keep none (negative there), nil the default.
func statementCache(n *int) (int, error) {
	switch {
	case n == nil:
		return 0, nil
	case *n < -1 || *n > maxStatementCache:
		return 0, usagef("--statement-cache (SCOPEGATE_STATEMENT_CACHE) must be a number of statements from -1 (none) to %d, not %d", maxStatementCache, *n)
	case *n <= 0:
		return -1, nil
	}
	return *n, nil
}

// maxConns returns the PostgreSQL pool's size from --db-max-conns (flag),
// else SCOPEGATE_DB_MAX_CONNS, else DATABASE_MAX_CONNS (the name before
// docs/design.md section 11 named them all SCOPEGATE_, kept so that deployments do
// not silently fall back to the default), else 0 for
// database.DefaultMaxOpenConns.
func maxConns(e *env, flagValue string) (int, error) {
	name, v := "--db-max-conns", flagValue
	if v == "" {
		name, v = envDBMaxConns, e.getenv(envDBMaxConns)
	}
	if v == "" {
		name, v = envDatabaseMaxConns, e.getenv(envDatabaseMaxConns)
		if v != "" {
			e.logger().Warn(envDatabaseMaxConns + " is deprecated, set " + envDBMaxConns + " instead")
		}
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 10000 {
		return 0, usagef("%s must be a number of connections from 1 to 10000, not %q", name, v)
	}
	return n, nil
}
