// Package pgtest gives each test its own PostgreSQL database, created from a
// template that the embedded migrations were applied to once, and dropped
// when the test ends. The server comes from SCOPEGATE_TEST_DATABASE_URL, else
// from a testcontainers-go PostgreSQL where Docker runs; with neither the
// test fails and says how to provide one.
package pgtest

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/migration"
	"github.com/scopegate/scopegate/migrations"
)

// EnvURL names the environment variable holding the test server's URL.
const EnvURL = "SCOPEGATE_TEST_DATABASE_URL"

// AppRole is the application role the tests' clients connect as, as the
// server does in production (docs/design.md section 8): no superuser, owns nothing,
// DML grants only (database.Grant). Roles belong to the server, not to a
// database, so every test database shares it; its password serves servers
// that do not trust local connections.
const AppRole = "scopegate_test_app"

// DB is one test's database. Its client and SQL pool connect as AppRole.
type DB struct {
	*database.DB
	// URL connects to this database as AppRole (through the pooler of
	// Options.Via, if any).
	URL string
	// OwnerURL connects to it as the server's user, which owns the schema.
	OwnerURL string
	// Counter counts every statement sent through DB.Client.
	Counter *database.Counter
	// Raw connects as the owner, a superuser that row-level security does
	// not apply to: for checks of what is stored (checksums, a row's
	// columns). The application's own pool, SQL, sees nothing without a
	// scope's settings (database.BeginTx), so a check made through it
	// would pass on empty tables.
	Raw *sql.DB
}

var (
	serverOnce sync.Once
	serverURL  string
	serverErr  error

	// templates holds, per server URL, the template database's name
	// once it is built (the shared server's, and those of private
	// servers, StartPrivate).
	templatesMu sync.Mutex
	templates   = map[string]string{}
)

// ServerURL returns the URL of the PostgreSQL server tests use, starting a
// container if needed. It fails the test if there is none.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	serverOnce.Do(func() { serverURL, serverErr = findServer() })
	if serverErr != nil {
		tb.Fatalf("pgtest: no PostgreSQL server: %v\n"+
			"Set %s=postgres://user@127.0.0.1:5432/postgres?sslmode=disable to a server this test may create databases on, "+
			"or run the tests where Docker runs (testcontainers-go starts postgres:16-alpine).", serverErr, EnvURL)
	}
	return serverURL
}

func findServer() (string, error) {
	if u := os.Getenv(EnvURL); u != "" {
		return u, nil
	}
	return startContainer()
}

// New returns a fresh, migrated database for this test, dropped in
// t.Cleanup.
func New(tb testing.TB) *DB {
	tb.Helper()
	return NewOn(tb, ServerURL(tb))
}

// NewOn is New on the server at srv, a superuser's URL: a private server
// of the test's own (StartPrivate), say.
func NewOn(tb testing.TB, srv string) *DB {
	tb.Helper()
	return NewWith(tb, srv, Options{})
}

// Options change how NewWith opens the application role's pool. The zero
// value is New's.
type Options struct {
	// Via rewrites the application role's URL, to reach the database
	// through a pooler (Bouncer.Via); nil connects directly.
	Via func(url string) string
	// MaxOpenConns sizes the pool (0: 8).
	MaxOpenConns int
	// StatementCache is database.Options.StatementCache (0: the seam's
	// default, negative: none).
	StatementCache int
}

// NewWith is NewOn with the application pool opened as opts says. Raw and
// Owner always connect directly to srv.
func NewWith(tb testing.TB, srv string, opts Options) *DB {
	tb.Helper()
	templateName, err := templateOn(srv)
	if err != nil {
		tb.Fatalf("pgtest: template database: %v", err)
	}
	ctx := context.Background()
	admin, err := sql.Open("postgres", srv)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("scopegate_test_%d_%d", os.Getpid(), nextID())
	if _, err := admin.ExecContext(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pq.QuoteIdentifier(name), pq.QuoteIdentifier(templateName))); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	owner := withDatabase(srv, name)
	u := AsRole(owner, AppRole)
	if opts.Via != nil {
		u = opts.Via(u)
	}
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 8
	}
	counter := database.NewCounter(true)
	db, err := database.Open(ctx, u, database.Options{Counter: counter, MaxOpenConns: opts.MaxOpenConns,
		StatementCache: opts.StatementCache})
	if err != nil {
		tb.Fatalf("pgtest: open: %v", err)
	}
	tb.Cleanup(func() {
		db.Close()
		a, err := sql.Open("postgres", srv)
		if err != nil {
			tb.Errorf("pgtest: drop: %v", err)
			return
		}
		defer a.Close()
		if _, err := a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	raw, err := sql.Open("postgres", owner)
	if err != nil {
		tb.Fatalf("pgtest: open as owner: %v", err)
	}
	tb.Cleanup(func() { raw.Close() })
	var bypass bool
	if err := raw.QueryRowContext(ctx, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&bypass); err != nil {
		tb.Fatalf("pgtest: owner's role: %v", err)
	}
	if !bypass {
		tb.Fatalf("pgtest: the server's user must be a superuser (or have BYPASSRLS): the tests read what is stored past row-level security")
	}
	if ShadowMode(tb) == ShadowEntOnly {
		if err := disableRLS(ctx, raw); err != nil {
			tb.Fatalf("pgtest: ent-only shadow run: %v", err)
		}
	}
	counter.Reset()
	return &DB{DB: db, URL: u, OwnerURL: owner, Counter: counter, Raw: raw}
}

// Owner returns a pool connected as the schema owner, closed in cleanup:
// for what the application role may not do (ANALYZE, superuser settings).
func (d *DB) Owner(tb testing.TB) *sql.DB {
	tb.Helper()
	db, err := sql.Open("postgres", d.OwnerURL)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

var (
	idMu sync.Mutex
	id   int
)

func nextID() int {
	idMu.Lock()
	defer idMu.Unlock()
	id++
	return id
}

// AsRole returns raw with the user and password of role (the password is
// the role's name, as pgtest sets it).
func AsRole(raw, role string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err) // the server URL was parsed before
	}
	u.User = url.UserPassword(role, role)
	return u.String()
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err) // the server URL was parsed before
	}
	u.Path = "/" + name
	return u.String()
}

// templateOn returns the name of srv's template database, building it on
// the first call for srv (ensureTemplate).
func templateOn(srv string) (string, error) {
	templatesMu.Lock()
	defer templatesMu.Unlock()
	if name, ok := templates[srv]; ok {
		return name, nil
	}
	name, err := ensureTemplate(srv)
	if err != nil {
		return "", err
	}
	templates[srv] = name
	return name, nil
}

// ensureTemplate creates, once per content of the migrations, a template
// database with every migration applied. Its name carries a hash of the
// migration files, so a changed migration gets a new template, and an
// advisory lock keeps parallel test binaries from building it twice.
func ensureTemplate(srv string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name, err := templateNameFor()
	if err != nil {
		return "", err
	}
	admin, err := sql.Open("postgres", srv)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7245001)"); err != nil {
		return "", fmt.Errorf("lock: %w", err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7245001)")
	var exists bool
	if err := conn.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	// Roles outlive databases; make sure this one exists even when the
	// template does (its grants live in the template).
	if err := ensureRole(ctx, conn, AppRole); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	build := name + "_build"
	conn.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(build)+" WITH (FORCE)")
	if _, err := conn.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(build)); err != nil {
		return "", fmt.Errorf("create %s: %w", build, err)
	}
	db, err := sql.Open("postgres", withDatabase(srv, build))
	if err != nil {
		return "", err
	}
	_, err = migration.Up(ctx, db)
	if err == nil {
		err = database.Grant(ctx, db, AppRole, database.GrantOptions{Password: AppRole})
	}
	db.Close()
	if err != nil {
		return "", err
	}
	// Renaming makes the finished template appear atomically: a crash
	// mid-migration leaves only the _build database behind.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s",
		pq.QuoteIdentifier(build), pq.QuoteIdentifier(name))); err != nil {
		return "", fmt.Errorf("rename template: %w", err)
	}
	return name, nil
}

// ensureRole creates role if the server has none of that name.
func ensureRole(ctx context.Context, conn *sql.Conn, role string) error {
	_, err := conn.ExecContext(ctx, fmt.Sprintf(
		`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN CREATE ROLE %s LOGIN PASSWORD %s; END IF; END $$`,
		pq.QuoteLiteral(role), pq.QuoteIdentifier(role), pq.QuoteLiteral(role)))
	if err != nil {
		return fmt.Errorf("role %s: %w", role, err)
	}
	return nil
}

// templateGrants versions what the template holds besides the migrations:
// change it when database.Grant changes, so a new template is built.
const templateGrants = "grants v1"

func templateNameFor() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", templateGrants)
	var names []string
	err := fs.WalkDir(migrations.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(migrations.FS, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n%d\n", n, len(b))
		h.Write(b)
	}
	return "scopegate_tpl_" + hex.EncodeToString(h.Sum(nil))[:16], nil
}
