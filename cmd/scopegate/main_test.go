package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/migration"
	"github.com/scopegate/scopegate/migrations"
)

// runCLI runs the command line with only vars as environment.
func runCLI(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] },
		lookupenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	code = run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	cases := []struct {
		args       []string
		code       int
		stdout     string // substring expected on stdout
		stderr     string // substring expected on stderr
		emptyOther bool   // the other stream must be empty
	}{
		{args: nil, code: 2, stderr: "missing command"},
		{args: []string{"--help"}, code: 0, stdout: "migrate"},
		{args: []string{"-h"}, code: 0, stdout: "Exit status"},
		{args: []string{"help"}, code: 0, stdout: "Commands:"},
		{args: []string{"help", "migrate", "diff"}, code: 0, stdout: "Usage: scopegate migrate diff NAME [flags]"},
		{args: []string{"help", "nope"}, code: 2, stderr: `unknown command "nope"`},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"serve", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{args: []string{"serve", "--help"}, code: 0, stdout: "--addr address"},
		{args: []string{"serve", "--help"}, code: 0, stdout: "--ops-addr address"},
		{args: []string{"serve", "--help"}, code: 0, stdout: `(default "127.0.0.1:9090")`},
		{args: []string{"serve", "--help"}, code: 0, stdout: "--pprof\n"},
		{args: []string{"serve", "--help"}, code: 0, stdout: "--db-max-conns size"},
		{args: []string{"serve", "--ops-addr", "nowhere"}, code: 2, stderr: `--ops-addr must be host:port (empty disables the ops listener), not "nowhere"`},
		{args: []string{"serve", "--ops-addr", "127.0.0.1:65536"}, code: 2, stderr: "--ops-addr must be host:port"},
		{args: []string{"serve", "--ops-addr", "127.0.0.1:http"}, code: 2, stderr: "--ops-addr must be host:port"},
		{args: []string{"serve", "--pprof=maybe"}, code: 2, stderr: `invalid boolean value "maybe" for --pprof`},
		{args: []string{"serve", "--pprof", "--ops-addr="}, code: 2, stderr: "--pprof needs the ops listener"},
		{args: []string{"seed", "demo", "--help"}, code: 0, stdout: "--db-max-conns size"},
		{args: []string{"seed", "demo", "--help"}, code: 0, stdout: "Usage: scopegate seed demo [flags]"},
		{args: []string{"seed", "scale", "--help"}, code: 0, stdout: "--large-tenant jobs"},
		{args: []string{"seed", "scale"}, code: 2, stderr: "--orgs and --jobs-per-org are required"},
		{args: []string{"seed", "scale", "--orgs", "-1", "--jobs-per-org", "5"}, code: 2, stderr: "organizations must be 1 to 10000, not -1"},
		{args: []string{"seed", "scale", "--orgs", "10001", "--jobs-per-org", "5"}, code: 2, stderr: "organizations must be 1 to 10000"},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "-5"}, code: 2, stderr: "jobs per organization must be 1 to 1000000"},
		{args: []string{"seed", "scale", "--orgs", "1000", "--jobs-per-org", "100000"}, code: 2, stderr: "at most 10000000 jobs in all"},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "5", "--large-tenant", "-1"}, code: 2, stderr: "the large tenant's jobs must be 0 to"},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "5", "--notes-per-job", "51"}, code: 2, stderr: "notes per job must be 0 to 50"},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "5", "--run", "Big World"}, code: 2, stderr: "run tag"},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "5", "--bogus"}, code: 2, stderr: `unknown flag "--bogus"`},
		{args: []string{"seed", "scale", "--orgs", "two", "--jobs-per-org", "5"}, code: 2, stderr: "invalid value"},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "5", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "5"}, code: 2, stderr: "embedded SQLite file lacks"},
		{args: []string{"seed", "scale", "--orgs", "2", "--jobs-per-org", "5", "--database-url", "file:x.db"}, code: 2, stderr: "must be postgres://"},
		{args: []string{"org", "create"}, code: 2, stderr: "--name and --slug are required"},
		{args: []string{"user", "create", "--org", "a"}, code: 2, stderr: "missing"},
		{args: []string{"policy", "list", "--format", "yaml"}, code: 2, stderr: "unknown format"},
		{args: []string{"policy", "list", "--allow", "role:manager"}, code: 0, stdout: "job.update"},
		{args: []string{"policy", "explain"}, code: 2, stderr: "--user and --action are required"},
		{args: []string{"policy", "explain", "--user", "a@b", "--action", "job.fly"}, code: 2, stderr: `unknown action "job.fly"`},
		{args: []string{"policy", "why-hidden", "--user", "a@b"}, code: 2, stderr: "--user, --object and --id are required"},
		{args: []string{"preload", "list", "--format", "markdown"}, code: 0, stdout: "# Preload registry"},
		{args: []string{"preload", "list", "--format", "xml"}, code: 2, stderr: "unknown format"},
		{args: []string{"job", "run"}, code: 2, stderr: "want one job name"},
		{args: []string{"job", "run", "archive-stale", "--older-than", "-1h"}, code: 2, stderr: "--older-than must be positive"},
		{args: []string{"serve", "--database-url", "mysql://x"}, code: 2, stderr: "must be postgres://"},
		{args: []string{"--bogus"}, code: 2, stderr: `unknown flag "--bogus"`},
		{args: []string{"migrate"}, code: 2, stderr: "missing command"},
		{args: []string{"migrate", "--help"}, code: 0, stdout: "status"},
		{args: []string{"migrate", "sideways"}, code: 2, stderr: `unknown command "sideways"`},
		{args: []string{"migrate", "up", "--help"}, code: 0, stdout: "--database-url URL"},
		{args: []string{"migrate", "down", "-h"}, code: 0, stdout: "Roll back the newest"},
		{args: []string{"migrate", "status", "--help"}, code: 0, stdout: "Usage: scopegate migrate status [flags]"},
		{args: []string{"migrate", "diff", "--help"}, code: 0, stdout: "--dev-url URL"},
		{args: []string{"migrate", "up"}, code: 2, stderr: "no database: set MIGRATE_DATABASE_URL or DATABASE_URL"},
		{args: []string{"db", "grant"}, code: 2, stderr: "no database: set MIGRATE_DATABASE_URL or DATABASE_URL"},
		{args: []string{"migrate", "up", "--database-url", "file:x.db"}, code: 2, stderr: "PostgreSQL only"},
		{args: []string{"migrate", "status", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{args: []string{"migrate", "up", "--nope"}, code: 2, stderr: `unknown flag "--nope"`},
		{args: []string{"migrate", "diff"}, code: 2, stderr: "want one NAME, got 0"},
		{args: []string{"migrate", "diff", "a", "b"}, code: 2, stderr: "want one NAME, got 2"},
		{args: []string{"migrate", "diff", "../x"}, code: 2, stderr: `NAME "../x"`},
		{args: []string{"migrate", "diff", "x", "--dir"}, code: 2, stderr: "flag needs an argument"},
		{args: []string{"migrate", "diff", "x"}, code: 2, stderr: "no PostgreSQL server for the dev database"},
		{args: []string{"migrate", "diff", "x", "--dev-url", "file:x.db"}, code: 2, stderr: "must be PostgreSQL"},
		{args: []string{"migrate", "diff", "x", "--dev-url", "postgres://u@127.0.0.1:1/p", "--dir", "/nonexistent"}, code: 1, stderr: "/nonexistent is not a directory"},
		{args: []string{"migrate", "status", "--database-url", "postgres://u@127.0.0.1:1/p?sslmode=disable"}, code: 1, stderr: "connect to"},
		{args: []string{"migrate", "hash", "extra"}, code: 2, stderr: `unexpected argument "extra"`},
		{args: []string{"migrate", "hash", "--dir", "/nonexistent"}, code: 1, stderr: "/nonexistent is not a directory"},
		{args: []string{"help", "migrate", "hash"}, code: 0, stdout: "Usage: scopegate migrate hash [flags]"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, "_"), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, c.args...)
			if code != c.code {
				t.Errorf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.stdout) {
				t.Errorf("stdout lacks %q:\n%s", c.stdout, stdout)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, stderr)
			}
			if c.code == 0 && stderr != "" {
				t.Errorf("stderr not empty on success:\n%s", stderr)
			}
			if c.code != 0 && stdout != "" {
				t.Errorf("stdout not empty on error:\n%s", stdout)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		args    []string
		pos     []string
		dir     string
		wantErr bool
	}{
		{args: []string{"name"}, pos: []string{"name"}, dir: "d"},
		{args: []string{"name", "--dir", "x"}, pos: []string{"name"}, dir: "x"},
		{args: []string{"--dir=x", "name"}, pos: []string{"name"}, dir: "x"},
		{args: []string{"a", "-dir", "x", "b"}, pos: []string{"a", "b"}, dir: "x"},
		{args: []string{"--", "--dir", "x"}, pos: []string{"--dir", "x"}, dir: "d"},
		{args: []string{"a", "--", "-b"}, pos: []string{"a", "-b"}, dir: "d"},
		{args: []string{"a", "--nope"}, wantErr: true},
	} {
		fs := newFlagSet([]string{"t"})
		dir := fs.String("dir", "d", "")
		pos, err := parseInterspersed(fs, c.args)
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v, want error %v", c.args, err, c.wantErr)
			continue
		}
		if c.wantErr {
			continue
		}
		if !slices.Equal(pos, c.pos) || *dir != c.dir {
			t.Errorf("%q: positional %q dir %q, want %q %q", c.args, pos, *dir, c.pos, c.dir)
		}
	}
}

func throwaway(t *testing.T) string {
	t.Helper()
	u, drop, err := migration.ThrowawayDatabase(context.Background(), pgtest.ServerURL(t), "scopegate_clitest_")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return u
}

func TestMigrateUpStatusDown(t *testing.T) {
	u := throwaway(t)
	vars := map[string]string{envDatabaseURL: u}
	entries, err := migrations.FS.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	total := len(entries)

	mustRun := func(want string, args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, vars, args...)
		if code != 0 || !strings.Contains(stdout, want) {
			t.Fatalf("%q: exit %d, want 0 and %q on stdout\nstdout:\n%s\nstderr:\n%s", args, code, want, stdout, stderr)
		}
		return stdout
	}
	out := mustRun("0 applied,", "migrate", "status")
	if strings.Count(out, "  pending\n") != total {
		t.Errorf("want %d pending migrations:\n%s", total, out)
	}
	mustRun("applied ", "migrate", "up")
	mustRun("no pending migrations", "migrate", "up")
	out = mustRun(" 0 pending", "migrate", "status", "--database-url", u)
	for _, e := range entries {
		if !strings.Contains(out, e.Name()) {
			t.Errorf("status does not list %s:\n%s", e.Name(), out)
		}
	}
	// Without --yes nothing is rolled back: a usage error, before connecting.
	if code, stdout, stderr := runCLI(t, vars, "migrate", "down"); code != 2 || stdout != "" || !strings.Contains(stderr, "pass --yes to confirm") {
		t.Errorf("migrate down without --yes: exit %d, want 2\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	mustRun(" 0 pending", "migrate", "status")
	mustRun("rolled back migration ", "migrate", "down", "--yes")
	mustRun(" 1 pending", "migrate", "status")
	mustRun("applied 1 migration", "migrate", "up")

	// --database-url wins over DATABASE_URL.
	vars[envDatabaseURL] = "postgres://nobody@127.0.0.1:1/none?sslmode=disable"
	mustRun(" 0 pending", "migrate", "status", "--database-url", u)
	if code, _, stderr := runCLI(t, vars, "migrate", "status"); code != 1 {
		t.Errorf("status on an unreachable DATABASE_URL: exit %d, want 1; stderr:\n%s", code, stderr)
	}
}

func TestMigrateDownWithNothingApplied(t *testing.T) {
	code, _, stderr := runCLI(t, map[string]string{envDatabaseURL: throwaway(t)}, "migrate", "down", "--yes")
	if code != 1 || !strings.Contains(stderr, "no applied migration to roll back") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}

// TestMigrateDiff generates the whole schema into an empty directory, then
// finds nothing more to write, and leaves no dev database behind.
func TestMigrateDiff(t *testing.T) {
	server := pgtest.ServerURL(t)
	before := devDatabases(t, server)
	dir := t.TempDir()
	vars := map[string]string{envDevDatabaseURL: server}

	code, stdout, stderr := runCLI(t, vars, "migrate", "diff", "init", "--dir", dir)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], "_init.sql") || lines[1] != filepath.Join(dir, "atlas.sum") {
		t.Fatalf("want the new migration and atlas.sum, got:\n%s", stdout)
	}
	sqlText, err := os.ReadFile(lines[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"-- +goose Up", "-- +goose Down", `CREATE UNIQUE INDEX "job_org_id_id"`,
		// A tenant-safe key nulls its own column only, not org_id.
		`FOREIGN KEY ("org_id", "company_id") REFERENCES "companies" ("org_id", "id") ON UPDATE NO ACTION ON DELETE SET NULL ("company_id")`} {
		if !bytes.Contains(sqlText, []byte(want)) {
			t.Errorf("%s lacks %q", lines[0], want)
		}
	}

	code, stdout, stderr = runCLI(t, nil, "migrate", "diff", "again", "--dev-url", server, "--dir", dir)
	if code != 0 || !strings.Contains(stdout, "no changes") {
		t.Fatalf("second diff: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	for _, name := range devDatabases(t, server) {
		if !slices.Contains(before, name) {
			t.Errorf("dev database %s was not dropped", name)
		}
	}
}

// TestMigrateHash rewrites a stale atlas.sum into the checked-in one.
func TestMigrateHash(t *testing.T) {
	dir := t.TempDir()
	src, err := filepath.Glob(filepath.Join("..", "..", "migrations", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	for _, f := range src {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "atlas.sum" {
			want = b
			b = []byte("h1:stale=\n")
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want == nil {
		t.Fatal("no migrations/atlas.sum")
	}
	code, stdout, stderr := runCLI(t, nil, "migrate", "hash", "--dir", dir)
	if code != 0 || strings.TrimSpace(stdout) != filepath.Join(dir, "atlas.sum") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "atlas.sum"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("atlas.sum:\n%s\nwant the checked-in one:\n%s", got, want)
	}
}

func devDatabases(t *testing.T, server string) []string {
	t.Helper()
	db, err := sql.Open("postgres", server)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return pgtest.Column[string](t, db, `SELECT datname FROM pg_database WHERE datname LIKE 'scopegate\_dev\_%'`)
}

func TestDatabaseMaxConnsIsValidated(t *testing.T) {
	for _, v := range []string{"zero", "0", "-3", "10001", "1.5"} {
		code, stdout, stderr := runCLI(t, map[string]string{
			envDatabaseURL:      "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
			envDatabaseMaxConns: v,
		}, "serve")
		if code != 2 || !strings.Contains(stderr, "DATABASE_MAX_CONNS must be a number of connections") || stdout != "" {
			t.Errorf("DATABASE_MAX_CONNS=%q: exit %d, stdout %q, stderr:\n%s", v, code, stdout, stderr)
		}
	}
}

func TestOpsFlagsAndEnv(t *testing.T) {
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want opsSettings
		err  string // substring of the usage error; "" for none
	}{
		{name: "Defaults", want: opsSettings{addr: defaultOpsAddr}},
		{name: "Flag", args: []string{"--ops-addr", ":9999", "--pprof"}, want: opsSettings{addr: ":9999", pprof: true}},
		{name: "Env", vars: map[string]string{envOpsAddr: "0.0.0.0:9100", envPprof: "true"}, want: opsSettings{addr: "0.0.0.0:9100", pprof: true}},
		{name: "FlagBeatsEnv", args: []string{"--ops-addr", "127.0.0.1:1", "--pprof=false"},
			vars: map[string]string{envOpsAddr: "127.0.0.1:2", envPprof: "1"}, want: opsSettings{addr: "127.0.0.1:1"}},
		{name: "FlagAtItsDefaultBeatsEnv", args: []string{"--ops-addr", defaultOpsAddr},
			vars: map[string]string{envOpsAddr: "127.0.0.1:2"}, want: opsSettings{addr: defaultOpsAddr}},
		{name: "EmptyFlagDisables", args: []string{"--ops-addr="}, vars: map[string]string{envOpsAddr: "127.0.0.1:2"}, want: opsSettings{}},
		{name: "EmptyEnvDisables", vars: map[string]string{envOpsAddr: ""}, want: opsSettings{}},
		{name: "FlagEnablesWhatEnvDisables", args: []string{"--ops-addr", "127.0.0.1:0"}, vars: map[string]string{envOpsAddr: ""}, want: opsSettings{addr: "127.0.0.1:0"}},
		{name: "ErrEnvAddr", vars: map[string]string{envOpsAddr: "9090"}, err: `SCOPEGATE_OPS_ADDR must be host:port (empty disables the ops listener), not "9090"`},
		{name: "ErrEnvPprof", vars: map[string]string{envPprof: "yes please"}, err: `SCOPEGATE_PPROF must be true or false, not "yes please"`},
		{name: "ErrEnvPprofWithoutListener", vars: map[string]string{envPprof: "true", envOpsAddr: ""}, err: "SCOPEGATE_PPROF needs the ops listener"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := newFlagSet([]string{"serve"})
			f := addOpsFlags(fs)
			if _, err := parseInterspersed(fs, c.args); err != nil {
				t.Fatal(err)
			}
			e := &env{getenv: func(k string) string { return c.vars[k] },
				lookupenv: func(k string) (string, bool) { v, ok := c.vars[k]; return v, ok }}
			got, err := f.settings(e)
			checkSetting(t, got, err, c.want, c.err)
		})
	}
}

// checkSetting checks a setting read from flags and the environment: with
// wantErr "", no error and want; otherwise a usage error that contains
// wantErr.
func checkSetting[T comparable](t *testing.T, got T, err error, want T, wantErr string) {
	t.Helper()
	var u *usageError
	switch {
	case wantErr == "" && err != nil:
		t.Fatalf("error %v", err)
	case wantErr != "" && (!errors.As(err, &u) || !strings.Contains(err.Error(), wantErr)):
		t.Fatalf("error %v, want a usage error with %q", err, wantErr)
	case wantErr == "" && got != want:
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDBMaxConnsFlagAndEnv(t *testing.T) {
	cases := []struct {
		name    string
		flag    string
		vars    map[string]string
		want    int
		err     string // substring of the usage error; "" for none
		warning bool   // the deprecated name is used
	}{
		{name: "Default", want: 0},
		{name: "Flag", flag: "32", want: 32},
		{name: "Env", vars: map[string]string{envDBMaxConns: "24"}, want: 24},
		{name: "DeprecatedEnv", vars: map[string]string{envDatabaseMaxConns: "20"}, want: 20, warning: true},
		{name: "FlagBeatsEnv", flag: "8", vars: map[string]string{envDBMaxConns: "24", envDatabaseMaxConns: "20"}, want: 8},
		{name: "EnvBeatsDeprecated", vars: map[string]string{envDBMaxConns: "24", envDatabaseMaxConns: "20"}, want: 24},
		{name: "ErrFlag", flag: "0", err: `--db-max-conns must be a number of connections from 1 to 10000, not "0"`},
		{name: "ErrEnv", vars: map[string]string{envDBMaxConns: "many"}, err: `SCOPEGATE_DB_MAX_CONNS must be a number of connections from 1 to 10000, not "many"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var errb bytes.Buffer
			e := &env{stderr: &errb, getenv: func(k string) string { return c.vars[k] }}
			got, err := maxConns(e, c.flag)
			checkSetting(t, got, err, c.want, c.err)
			if warned := strings.Contains(errb.String(), "DATABASE_MAX_CONNS is deprecated"); warned != c.warning {
				t.Errorf("deprecation warning %v, want %v; stderr %q", warned, c.warning, errb.String())
			}
		})
	}
}

// --statement-cache N keeps N prepared statements per connection; -1 and 0
// keep none (database.Options' negative), and a dbFlags without the flag
// the seam's default.
func TestStatementCache(t *testing.T) {
	for _, c := range []struct{ flag, want int }{{256, 256}, {1, 1}, {0, -1}, {-1, -1}, {100000, 100000}} {
		if got, err := statementCache(&c.flag); err != nil || got != c.want {
			t.Errorf("--statement-cache %d: got %d, %v; want %d", c.flag, got, err, c.want)
		}
	}
	if got, err := statementCache(nil); err != nil || got != 0 {
		t.Errorf("no flag: got %d, %v; want 0, the seam's default", got, err)
	}
	for _, bad := range []int{-2, 100001} {
		var u *usageError
		if _, err := statementCache(&bad); !errors.As(err, &u) {
			t.Errorf("--statement-cache %d: %v, want a usage error", bad, err)
		}
	}
}

// Through the command line, a bad value in the environment is a usage
// error before anything is opened, as a bad flag is.
func TestOpsAndPoolSettingsAreValidated(t *testing.T) {
	unreachable := "postgres://nobody@127.0.0.1:1/none?sslmode=disable"
	for _, c := range []struct {
		vars map[string]string
		args []string
		err  string
	}{
		{vars: map[string]string{envOpsAddr: "bogus"}, err: "SCOPEGATE_OPS_ADDR must be host:port"},
		{vars: map[string]string{envPprof: "2"}, err: "SCOPEGATE_PPROF must be true or false"},
		{vars: map[string]string{envDatabaseURL: unreachable, envDBMaxConns: "10001"}, err: "SCOPEGATE_DB_MAX_CONNS must be a number of connections"},
		{vars: map[string]string{envDatabaseURL: unreachable}, args: []string{"--db-max-conns", "-1"}, err: "--db-max-conns must be a number of connections"},
		{vars: map[string]string{envDatabaseURL: unreachable, "SCOPEGATE_STATEMENT_CACHE": "-2"}, err: "--statement-cache (SCOPEGATE_STATEMENT_CACHE) must be a number of statements from -1 (none) to 100000, not -2"},
		{vars: map[string]string{envDatabaseURL: unreachable, "SCOPEGATE_STATEMENT_CACHE": "some"}, err: `SCOPEGATE_STATEMENT_CACHE="some"`},
		{vars: map[string]string{envDatabaseURL: unreachable}, args: []string{"--statement-cache", "100001"}, err: "--statement-cache (SCOPEGATE_STATEMENT_CACHE) must be a number of statements from -1"},
	} {
		code, stdout, stderr := runCLI(t, c.vars, append([]string{"serve"}, c.args...)...)
		if code != 2 || !strings.Contains(stderr, c.err) || stdout != "" {
			t.Errorf("%v %q: exit %d, stdout %q, stderr:\n%s", c.vars, c.args, code, stdout, stderr)
		}
	}
}

// TestSeedScale runs seed scale end to end on a migrated database: counts
// and throughput per table, logins, and a second run beside the first.
func TestSeedScale(t *testing.T) {
	u := throwaway(t)
	vars := map[string]string{envDatabaseURL: u}
	if code, stdout, stderr := runCLI(t, vars, "migrate", "up"); code != 0 {
		t.Fatalf("migrate up: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	code, stdout, stderr := runCLI(t, vars, "seed", "scale", "--orgs", "2", "--jobs-per-org", "3", "--large-tenant", "7", "--run", "cli1")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{`seed scale run cli1:`, `(?m)^organizations +3 `, `(?m)^jobs +13 `, `(?m)^job_managers +26 `,
		`(?m)^notes +52 `, `rows/s`, `analyzed the tables`, `scale-password`, `admin1@scale-cli1-large\.test`, `admin1@scale-cli1-1\.test`} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("stdout lacks %s:\n%s", want, stdout)
		}
	}
	if code, _, stderr := runCLI(t, vars, "seed", "scale", "--orgs", "1", "--jobs-per-org", "1"); code != 0 {
		t.Errorf("a second run: exit %d\nstderr:\n%s", code, stderr)
	}
	if code, _, stderr := runCLI(t, vars, "seed", "scale", "--orgs", "1", "--jobs-per-org", "1", "--run", "cli1"); code != 1 || !strings.Contains(stderr, "exist already") {
		t.Errorf("a run tag used already: exit %d, want 1 and a clear message\nstderr:\n%s", code, stderr)
	}
}

// TestCommandsWithoutArgumentsRefuseThem: every command whose synopsis
// names no arguments answers an extra one with a usage error, before it
// opens anything (runLeaf checks it for them all).
func TestCommandsWithoutArgumentsRefuseThem(t *testing.T) {
	var leaves func(c *command, path []string)
	n := 0
	leaves = func(c *command, path []string) {
		if c.subs != nil {
			for _, s := range c.subs {
				leaves(s, append(slices.Clip(path), s.name))
			}
			return
		}
		if c.args != "" {
			return
		}
		n++
		// Cancelled: a command that ran anyway (serve) ends at once.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var out, errb bytes.Buffer
		e := &env{stdout: &out, stderr: &errb, getenv: func(string) string { return "" },
			lookupenv: func(string) (string, bool) { return "", false }}
		code := run(ctx, append(slices.Clip(path), "extra"), e)
		if stderr := errb.String(); code != 2 || !strings.Contains(stderr, `unexpected argument "extra"`) {
			t.Errorf("%s extra: exit %d, stderr %q; want 2 and an unexpected argument", strings.Join(path, " "), code, stderr)
		}
	}
	leaves(root, nil)
	if n < 10 {
		t.Fatalf("found only %d commands without arguments: the walk is wrong", n)
	}
}
