package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvBouncer names the environment variable holding the path of the
// pgbouncer program for StartBouncer; unset, pgbouncer on PATH, else
// /usr/sbin/pgbouncer (Debian's package puts it there, outside a normal
// user's PATH).
const EnvBouncer = "SCOPEGATE_PGBOUNCER"

// BouncerInstall is the command that installs PgBouncer where CI runs
// (.ci/run runs it when pgbouncer is missing).
const BouncerInstall = "apt-get install -y --no-install-recommends pgbouncer"

// DefaultBouncerPool is the server connections a Bouncer keeps per
// database and user: few, so that a test's clients outnumber them.
const DefaultBouncerPool = 4

// Bouncer is a PgBouncer of one test's own in transaction pooling mode, in
// front of the test server: each client transaction gets whichever server
// connection is free, and gives it back at COMMIT or ROLLBACK, so clients
// share few server connections and no session state may be relied on
// across transactions (docs/scaling.md).
type Bouncer struct {
	Port int
	// Pool is default_pool_size: server connections per database and
	// user.
	Pool  int
	dir   string
	log   string
	owner string // srv's user, an admin of the console
}

// StartBouncer starts a PgBouncer forwarding every database name to the
// server at srv (a superuser's URL, as ServerURL's), with pool server
// connections per database and user (0: DefaultBouncerPool), stopped in
// tb.Cleanup.
// Its log is printed if the test fails. Both srv's user (the owner) and
// AppRole may connect (trust authentication; the auth file holds the
// passwords PgBouncer gives the server). A missing pgbouncer fails the
// test, naming the package to install: CI installs it.
func StartBouncer(tb testing.TB, srv string, pool int) *Bouncer {
	tb.Helper()
	bin, err := bouncerBin()
	if err != nil {
		tb.Fatalf("pgtest: PgBouncer: %v\ninstall it (Debian's package, as .ci/run does): %s", err, BouncerInstall)
	}
	u, err := url.Parse(srv)
	if err != nil {
		tb.Fatalf("pgtest: PgBouncer: server URL: %v", err)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		host = "127.0.0.1"
	}
	if port == "" {
		port = "5432"
	}
	owner := u.User.Username()
	ownerPassword, _ := u.User.Password()
	dir, err := os.MkdirTemp("", "scopegate-pgbouncer-")
	if err != nil {
		tb.Fatal(err)
	}
	if pool <= 0 {
		pool = DefaultBouncerPool
	}
	b := &Bouncer{Pool: pool, dir: dir, log: filepath.Join(dir, "log"), owner: owner}
	if b.Port, err = freePort(); err != nil {
		tb.Fatal(err)
	}
	// The auth file lists who may connect (trust checks no password) and
	// the password PgBouncer logs in to the server with, where the server
	// asks for one.
	users := fmt.Sprintf("%s %s\n%s %s\n", quoteBouncer(owner), quoteBouncer(ownerPassword),
		quoteBouncer(AppRole), quoteBouncer(AppRole))
	// lib/pq sends extra_float_digits at start-up, which PgBouncer
	// 1.18 would refuse: it cannot keep a session parameter in step
	// across the server connections a client is given.
	conf := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
admin_users = %s
pool_mode = transaction
default_pool_size = %d
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
`, host, port, b.Port, filepath.Join(dir, "users.txt"), owner, b.Pool)
	for name, text := range map[string]string{"users.txt": users, "pgbouncer.ini": conf} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	logFile, err := os.Create(b.log)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, filepath.Join(dir, "pgbouncer.ini"))
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, logFile, logFile
	// PgBouncer refuses to run as root.
	if os.Geteuid() == 0 {
		cred, err := postgresCredential()
		if err != nil {
			tb.Fatalf("pgtest: PgBouncer: %v", err)
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		for _, p := range []string{dir, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.ini"), b.log} {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		os.RemoveAll(dir)
		tb.Fatalf("pgtest: start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	tb.Cleanup(func() {
		// SIGINT: PgBouncer's safe shutdown, once clients are gone
		// (the test's pools close before this cleanup runs: cleanups
		// run last registered first). SIGTERM after a while.
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Signal(syscall.SIGTERM)
			<-exited
		}
		if tb.Failed() {
			tb.Logf("pgtest: PgBouncer's log:\n%s", b.Log())
		}
		os.RemoveAll(dir)
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port))
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return b
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			tb.Fatalf("pgtest: PgBouncer exited at start (%v):\n%s", err, b.Log())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("pgtest: PgBouncer does not listen on %s:\n%s", addr, b.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Via returns raw (a URL of the test server) with the bouncer's address in
// place of the server's: the same database and user, through PgBouncer.
func (b *Bouncer) Via(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err) // the server URL was parsed before
	}
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(b.Port))
	return u.String()
}

// Show runs SHOW what (POOLS, STATS, SERVERS...) on PgBouncer's admin
// console and returns its rows, by column name, for the rows whose
// database is db ("" for all).
func (b *Bouncer) Show(tb testing.TB, what, db string) []map[string]string {
	tb.Helper()
	console, err := sql.Open("postgres", fmt.Sprintf("postgres://%s@127.0.0.1:%d/pgbouncer?sslmode=disable",
		url.PathEscape(b.owner), b.Port))
	if err != nil {
		tb.Fatal(err)
	}
	defer console.Close()
	// The console speaks the simple protocol only: a statement
	// without arguments, which lib/pq sends that way.
	rows, err := console.QueryContext(context.Background(), "SHOW "+what)
	if err != nil {
		tb.Fatalf("pgtest: PgBouncer SHOW %s: %v", what, err)
	}
	cols, table := Strings(tb, "pgtest: PgBouncer SHOW "+what, rows)
	var out []map[string]string
	for _, vals := range table {
		row := map[string]string{}
		for i, c := range cols {
			row[c] = vals[i]
		}
		if db == "" || row["database"] == db {
			out = append(out, row)
		}
	}
	return out
}

// Log returns what PgBouncer has logged so far.
func (b *Bouncer) Log() string {
	out, err := os.ReadFile(b.log)
	if err != nil {
		return err.Error()
	}
	return string(bytes.TrimSpace(out))
}

// NewBehindBouncer returns a fresh database (New) whose application-role
// pool, and so its ent client, goes through a PgBouncer of the test's own
// in transaction mode, with clients client connections sharing pool server
// connections (0: DefaultBouncerPool; fewer than clients), and the seam's
// statement cache off (database.Options.StatementCache < 0): PgBouncer
// before 1.21 does not carry a prepared statement from the server
// connection it was made on to the next. Raw and Owner connect directly.
func NewBehindBouncer(tb testing.TB, clients, pool int) (*DB, *Bouncer) {
	tb.Helper()
	srv := ServerURL(tb)
	b := StartBouncer(tb, srv, pool)
	return NewWith(tb, srv, Options{Via: b.Via, MaxOpenConns: clients, StatementCache: -1}), b
}

// bouncerBin finds the pgbouncer program (EnvBouncer).
func bouncerBin() (string, error) {
	if p := os.Getenv(EnvBouncer); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBouncer, p, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/pgbouncer"
	if _, err := os.Stat(debian); err == nil {
		return debian, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return "", errors.New("no pgbouncer on PATH or at /usr/sbin/pgbouncer (set " + EnvBouncer + " to its path)")
}

// quoteBouncer quotes s for PgBouncer's auth file: in double quotes, a
// double quote doubled.
func quoteBouncer(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
