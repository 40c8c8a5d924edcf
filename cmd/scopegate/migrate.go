package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/migration"
)

// Environment variables read by the commands.
const (
	envDatabaseURL        = "DATABASE_URL"
	envMigrateDatabaseURL = "MIGRATE_DATABASE_URL"
	envDBMaxConns         = "SCOPEGATE_DB_MAX_CONNS"
	envDatabaseMaxConns   = "DATABASE_MAX_CONNS" // deprecated alias of SCOPEGATE_DB_MAX_CONNS
	envOpsAddr            = "SCOPEGATE_OPS_ADDR"
	envPprof              = "SCOPEGATE_PPROF"
	envAppPassword        = "SCOPEGATE_APP_PASSWORD"
	envDevDatabaseURL     = "SCOPEGATE_DEV_DATABASE_URL"
	envTestServerURL      = "SCOPEGATE_TEST_DATABASE_URL"
)

func databaseURLFlag(fs *flag.FlagSet) *string {
	return fs.String("database-url", "", "PostgreSQL `URL` of the database (default $"+envDatabaseURL+")")
}

// ownerURLFlag is --database-url of the commands that change the schema or
// its grants: they connect as the schema owner.
func ownerURLFlag(fs *flag.FlagSet) *string {
	return fs.String("database-url", "", "PostgreSQL `URL` of the database, as the schema owner (default $"+
		envMigrateDatabaseURL+", else $"+envDatabaseURL+")")
}

// asOwner is an action that takes no arguments and runs on the PostgreSQL
// database of dbURL (ownerURLFlag's), connected as the schema owner
// (openPostgres) and closed after: the commands that change the schema or
// its grants.
func asOwner(dbURL *string, run func(ctx context.Context, e *env, db *sql.DB) error) action {
	return func(ctx context.Context, e *env, args []string) error {
		db, err := openPostgres(ctx, e, *dbURL)
		if err != nil {
			return err
		}
		defer db.Close()
		return run(ctx, e, db)
	}
}

func migrateUp(fs *flag.FlagSet) action {
	return asOwner(ownerURLFlag(fs), func(ctx context.Context, e *env, db *sql.DB) error {
		n, err := migration.Up(ctx, db)
		if n > 0 {
			fmt.Fprintf(e.stdout, "applied %d %s\n", n, plural(n, "migration"))
		}
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintln(e.stdout, "no pending migrations")
		}
		return nil
	})
}

func migrateDown(fs *flag.FlagSet) action {
	down := asOwner(ownerURLFlag(fs), func(ctx context.Context, e *env, db *sql.DB) error {
		v, err := migration.Down(ctx, db)
		if errors.Is(err, goose.ErrNoNextVersion) {
			return errors.New("migrate down: no applied migration to roll back")
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "rolled back migration %d\n", v)
		return nil
	})
	yes := fs.Bool("yes", false, "confirm: the rollback may drop tables and the rows in them")
	return func(ctx context.Context, e *env, args []string) error {
		if !*yes {
			// Before connecting: a rollback may drop populated tables
			// under a running server (docs/design.md section 11).
			return usagef("migrate down rolls back the newest migration, which may drop tables and their rows, under running servers too: pass --yes to confirm")
		}
		return down(ctx, e, args)
	}
}

func migrateStatus(fs *flag.FlagSet) action {
	return asOwner(ownerURLFlag(fs), func(ctx context.Context, e *env, db *sql.DB) error {
		states, err := migration.Status(ctx, db)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tFILE\tSTATE")
		pending := 0
		for _, s := range states {
			state := "applied"
			if !s.Applied {
				state = "pending"
				pending++
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, s.Path, state)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%d applied, %d pending\n", len(states)-pending, pending)
		return nil
	})
}

// migrationName is what 'migrate diff' accepts as NAME: it becomes part of
// a file name.
var migrationName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

func migrateDiff(fs *flag.FlagSet) action {
	dir := fs.String("dir", "migrations", "`DIR` holding the migrations and atlas.sum")
	devURL := fs.String("dev-url", "", "PostgreSQL server `URL` on which to create the throwaway dev database\n"+
		"      (default $"+envDevDatabaseURL+", $"+envTestServerURL+", $"+envDatabaseURL+")")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) != 1 {
			return usagef("want one NAME, got %d arguments", len(args))
		}
		name := args[0]
		if !migrationName.MatchString(name) {
			return usagef("NAME %q: use letters, digits, '_' and '-'", name)
		}
		server := firstNonEmpty(*devURL, e.getenv(envDevDatabaseURL), e.getenv(envTestServerURL), e.getenv(envDatabaseURL))
		if server == "" {
			return usagef("no PostgreSQL server for the dev database: pass --dev-url or set %s", envDevDatabaseURL)
		}
		if !isPostgres(server) {
			return usagef("the dev database must be PostgreSQL (postgres://…)")
		}
		if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("migrate diff: %s is not a directory of migrations (run from the repository root, or pass --dir)", *dir)
		}
		files, err := diff(ctx, server, *dir, name)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			fmt.Fprintf(e.stdout, "no changes: the migrations in %s match the ent schema\n", *dir)
			return nil
		}
		for _, f := range files {
			fmt.Fprintln(e.stdout, filepath.Join(*dir, f))
		}
		fmt.Fprintln(e.stdout, filepath.Join(*dir, "atlas.sum"))
		return nil
	}
}

func migrateHash(fs *flag.FlagSet) action {
	dir := fs.String("dir", "migrations", "`DIR` holding the migrations and atlas.sum")
	return func(ctx context.Context, e *env, args []string) error {
		if fi, err := os.Stat(*dir); err != nil || !fi.IsDir() {
			return fmt.Errorf("migrate hash: %s is not a directory of migrations (run from the repository root, or pass --dir)", *dir)
		}
		if err := migration.Hash(*dir); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, filepath.Join(*dir, "atlas.sum"))
		return nil
	}
}

// diff runs migration.Diff on a throwaway database of server, and drops it
// whatever happens, even when ctx is cancelled (Ctrl-C).
func diff(ctx context.Context, server, dir, name string) (files []string, err error) {
	devDB, drop, err := migration.ThrowawayDatabase(ctx, server, "scopegate_dev_")
	if err != nil {
		return nil, err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := drop(dctx); derr != nil {
			err = errors.Join(err, fmt.Errorf("migrate diff: drop the dev database %s by hand: %w", dbName(devDB), derr))
		}
	}()
	return migration.Diff(ctx, devDB, dir, name)
}

// openPostgres connects, as the schema owner, to the database of
// --database-url, else of MIGRATE_DATABASE_URL, else of DATABASE_URL (one
// URL for both, in development).
func openPostgres(ctx context.Context, e *env, flagURL string) (*sql.DB, error) {
	u := ownerURL(e, flagURL)
	if u == "" {
		return nil, usagef("no database: set %s or %s, or pass --database-url", envMigrateDatabaseURL, envDatabaseURL)
	}
	if !isPostgres(u) {
		return nil, usagef("migrate works on PostgreSQL only: want a postgres:// URL")
	}
	db, err := sql.Open("postgres", u)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to %s: %w", redacted(u), err)
	}
	return db, nil
}

// ownerURL is the schema owner's database URL: --database-url, else
// MIGRATE_DATABASE_URL, else DATABASE_URL (one URL for both, in development).
func ownerURL(e *env, flagURL string) string {
	return firstNonEmpty(flagURL, e.getenv(envMigrateDatabaseURL), e.getenv(envDatabaseURL))
}

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://")
}

// redacted returns u without its password, for messages.
func redacted(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the database"
	}
	return p.Redacted()
}

func dbName(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(p.Path, "/")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// dbGrant creates or updates the application role (docs/design.md section 8).
func dbGrant(fs *flag.FlagSet) action {
	dbURL := ownerURLFlag(fs)
	role := fs.String("role", "scopegate_app", "`name` of the application role")
	return asOwner(dbURL, func(ctx context.Context, e *env, db *sql.DB) error {
		if err := database.Grant(ctx, db, *role, database.GrantOptions{Password: e.getenv(envAppPassword)}); err != nil {
			if errors.Is(err, database.ErrBadRole) {
				return usagef("%v", err)
			}
			return err
		}
		fmt.Fprintf(e.stdout, "role %s: DML on the application's tables of %s, nothing else\n", *role, dbName(ownerURL(e, *dbURL)))
		return nil
	})
}
