package main

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/scopegate/scopegate/internal/auth"
)

// embeddedCLI seeds the demo world into an embedded SQLite file of its own
// (the default with no DATABASE_URL) and returns a runner whose commands use
// that file.
func embeddedCLI(t *testing.T) (run func(args ...string) (int, string, string), file string) {
	t.Helper()
	file = filepath.Join(t.TempDir(), "scopegate.db")
	run = func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, nil, append(args, "--db-file", file)...)
	}
	if code, stdout, stderr := run("seed", "demo"); code != 0 {
		t.Fatalf("seed demo: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	return run, file
}

// sqliteExec runs a statement on the embedded file behind the CLI's back
// (to backdate rows, as time would).
func sqliteExec(t *testing.T, file, stmt string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+file)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(context.Background(), stmt, args...); err != nil {
		t.Fatal(err)
	}
}

type cliCase struct {
	name   string
	args   []string
	code   int
	stdout []string // regexps stdout must match
	stderr []string // regexps stderr must match
	not    []string // regexps neither stream may match
}

func (c cliCase) check(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if code != c.code {
		t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", c.name, code, c.code, stdout, stderr)
	}
	for _, re := range c.stdout {
		if !regexp.MustCompile(re).MatchString(stdout) {
			t.Errorf("%s: stdout does not match %s:\n%s", c.name, re, stdout)
		}
	}
	for _, re := range c.stderr {
		if !regexp.MustCompile(re).MatchString(stderr) {
			t.Errorf("%s: stderr does not match %s:\n%s", c.name, re, stderr)
		}
	}
	for _, re := range c.not {
		if regexp.MustCompile(re).MatchString(stdout + stderr) {
			t.Errorf("%s: output matches %s:\nstdout:\n%s\nstderr:\n%s", c.name, re, stdout, stderr)
		}
	}
	if code != 0 && stdout != "" {
		t.Errorf("%s: stdout not empty on error:\n%s", c.name, stdout)
	}
}

// TestJobRunEmbedded runs both batch jobs on the embedded SQLite default,
// which has no SELECT … FOR UPDATE.
func TestJobRunEmbedded(t *testing.T) {
	run, file := embeddedCLI(t)
	// Every published demo job (2 per organization) goes stale, and
	// half the sessions expire.
	sqliteExec(t, file, `UPDATE jobs SET updated_at = ? WHERE status = 'published'`, time.Now().Add(-60*24*time.Hour))
	for _, who := range []string{"admin@acme.test", "member@acme.test", "admin@globex.test", "member@globex.test"} {
		for _, exp := range []time.Duration{-time.Hour, time.Hour} {
			sqliteExec(t, file, `INSERT INTO sessions (created_at, user_id, org_id, token_hash, expires_at)
				SELECT ?, id, org_id, ?, ? FROM users WHERE email = ?`, time.Now(), who+exp.String(), time.Now().Add(exp), who)
		}
	}
	for _, c := range []cliCase{
		{name: "DryRunReportsWhatARunWouldDo", args: []string{"job", "run", "archive-stale", "--dry-run", "--batch-size", "3"},
			stdout: []string{`^archive-stale run \S+: dry run, nothing written; would change 4 rows in 2 batches of up to 3, `}},
		{name: "DryRunOneTenant", args: []string{"job", "run", "archive-stale", "--dry-run", "--org", "acme"},
			stdout: []string{`would change 2 rows in 1 batch of up to 500`}},
		{name: "ErrUnknownOrgBeforeAnyWork", args: []string{"job", "run", "archive-stale", "--org", "nope"}, code: 1,
			stderr: []string{`^scopegate: no organization with slug "nope"\n$`}, not: []string{`ent:`, `run \d`}},
		{name: "ArchiveStale", args: []string{"job", "run", "archive-stale", "--batch-size", "1", "--note", "ticket 9"},
			stdout: []string{`^archive-stale run \S+: done; changed 4 of 4 rows in 4 batches, `}},
		{name: "ArchiveStaleAgainFindsNothing", args: []string{"job", "run", "archive-stale"},
			stdout: []string{`changed 0 of 0 rows in 0 batches`}},
		{name: "PurgeSessions", args: []string{"job", "run", "purge-sessions", "--batch-size", "3"},
			stdout: []string{`^purge-sessions run \S+: done; changed 4 of 4 rows in 2 batches, `}},
	} {
		code, stdout, stderr := run(c.args...)
		c.check(t, code, stdout, stderr)
	}
}

// TestPolicyExplainSeesAsTheUser: a row the user cannot see is explained
// by the row rule that hides it, and the answer is DENIED, never ALLOWED.
// Demo ids: acme's jobs are 1 (published), 2 (draft), 3, 4; globex's 5-8.
func TestPolicyExplainSeesAsTheUser(t *testing.T) {
	run, _ := embeddedCLI(t)
	explain := func(action, id string) []string {
		return []string{"policy", "explain", "--user", "member@acme.test", "--action", action, "--id", id}
	}
	for _, c := range []cliCase{
		{name: "OwnPublishedJob", args: explain("job.read", "1"), stdout: []string{`^ALLOWED job.read for member@acme.test`}},
		{name: "NoteOnOwnPublishedJob", args: explain("note.create", "1"), stdout: []string{`^ALLOWED note.create .*sees_job`}},
		{name: "VisibleButNotAllowed", args: explain("job.update", "1"),
			stdout: []string{`^DENIED job.update .*: no allow list passed`}},
		{name: "AnotherTenantsJob", args: explain("job.read", "5"),
			stdout: []string{`^DENIED job.read for member@acme.test .*: job 5 is HIDDEN from them\n`, `row rule 3.2 tenant isolation`, `404`},
			not:    []string{`ALLOWED`}},
		{name: "NoteOnAnotherTenantsJob", args: explain("note.create", "6"),
			stdout: []string{`^DENIED note.create .*job 6 is HIDDEN`, `row rule 3.2 tenant isolation`}, not: []string{`ALLOWED`}},
		{name: "NoteOnADraftTheyCannotSee", args: explain("note.create", "2"),
			stdout: []string{`^DENIED note.create .*job 2 is HIDDEN`, `row rule 3.5 manager and member: the job is draft`}, not: []string{`ALLOWED`}},
		{name: "JSON", args: append(explain("job.read", "5"), "--json"),
			stdout: []string{`"allowed": false`, `"hidden": \{`, `"rule": "3.2 tenant isolation"`}},
		{name: "ErrMissingRow", args: explain("job.read", "999"), code: 1, stderr: []string{`no job with id 999`}},
		{name: "ErrNoID", args: []string{"policy", "explain", "--user", "member@acme.test", "--action", "job.read"}, code: 2,
			stderr: []string{`--id is required for job.read`}},
		{name: "WhyHiddenAgrees", args: []string{"policy", "why-hidden", "--user", "member@acme.test", "--object", "job", "--id", "5"},
			stdout: []string{`HIDDEN from member@acme.test: rule 3.2 tenant isolation`}},
	} {
		code, stdout, stderr := run(c.args...)
		c.check(t, code, stdout, stderr)
	}
}

// runCLIStdin runs the command line with stdin as standard input.
func runCLIStdin(t *testing.T, vars map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] },
		lookupenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	code = run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

// adminCases are the org, company and user commands' answers, the same on
// SQLite and PostgreSQL. The organization "acme" exists.
func adminCases() []cliCase {
	user := func(email string, extra ...string) []string {
		return append([]string{"user", "create", "--org", "acme", "--email", email, "--name", "N", "--role", "member"}, extra...)
	}
	return []cliCase{
		{name: "CompanyCreate", args: []string{"company", "create", "--org", "acme", "--name", "Hooli"},
			stdout: []string{`^created company \d+ "Hooli" in acme\n$`}},
		{name: "CompanyCreateUnknownOrg", args: []string{"company", "create", "--org", "nope", "--name", "Hooli"}, code: 1,
			stderr: []string{`^scopegate: no organization with slug "nope"\n$`}},
		{name: "CompanyCreateInvalidName", args: []string{"company", "create", "--org", "acme", "--name", strings.Repeat("x", 300)}, code: 1,
			stderr: []string{`invalid input: name: `}, not: []string{`map\[`}},
		{name: "UserCreate", args: user("new@acme.test", "--password", "long enough password"),
			stdout: []string{`^created user \d+ new@acme.test \(member\) in acme\n$`}},
		{name: "UserCreateDuplicateEmail", args: user("new@acme.test", "--password", "long enough password"), code: 1,
			stderr: []string{`^scopegate: create user: conflict: a user with this email already exists\n$`}},
		{name: "UserCreateShortPassword", args: user("short@acme.test", "--password", "short"), code: 1,
			stderr: []string{`^scopegate: create user: invalid input: password: must be at least 10 characters\n$`}},
		{name: "UserCreateFieldsInOrder", args: []string{"user", "create", "--org", "acme", "--email", "nope", "--name", "N", "--role", "boss", "--password", "short"}, code: 1,
			stderr: []string{`invalid input: email: [^;]+; password: [^;]+; role: `}, not: []string{`map\[`}},
		{name: "UserCreateUnknownOrg", args: []string{"user", "create", "--org", "nope", "--email", "x@y.test", "--name", "N", "--role", "member", "--password", "long enough password"}, code: 1,
			stderr: []string{`^scopegate: no organization with slug "nope"\n$`}},
		{name: "OrgCreateDuplicate", args: []string{"org", "create", "--name", "Acme", "--slug", "acme"}, code: 1,
			stderr: []string{`organization "acme" exists already`}},
	}
}

func runAdminCases(t *testing.T, run func(args ...string) (int, string, string)) {
	t.Helper()
	for _, c := range adminCases() {
		code, stdout, stderr := run(c.args...)
		c.check(t, code, stdout, stderr)
	}
}

func TestAdminCommandsEmbedded(t *testing.T) {
	run, file := embeddedCLI(t)
	runAdminCases(t, run)

	// --password-stdin: the first line of standard input, its line
	// ending dropped; the user logs in with it.
	code, stdout, stderr := runCLIStdin(t, nil, "from stdin 12345\nignored\n", "user", "create", "--org", "acme", "--email", "stdin@acme.test",
		"--name", "S", "--role", "member", "--password-stdin", "--db-file", file)
	if code != 0 || !strings.Contains(stdout, "created user") {
		t.Fatalf("--password-stdin: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	d, err := dbFlags{url: new(string), file: &file, maxConns: new(string)}.open(context.Background(), &env{getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, _, err := (auth.Service{Client: d.Client}).Login(context.Background(), "stdin@acme.test", "from stdin 12345"); err != nil {
		t.Errorf("login with the password read from stdin: %v", err)
	}
	for _, c := range []struct {
		stdin string
		args  []string
		err   string
	}{
		{"", nil, "missing --password (standard input was empty)"},
		{"long enough password\n", []string{"--password", "long enough password"}, "--password and --password-stdin exclude each other"},
	} {
		args := append([]string{"user", "create", "--org", "acme", "--email", "x@acme.test", "--name", "S", "--role", "member", "--password-stdin", "--db-file", file}, c.args...)
		code, stdout, stderr := runCLIStdin(t, nil, c.stdin, args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, c.err) {
			t.Errorf("stdin %q %q: exit %d, want 2 and %q\nstderr:\n%s", c.stdin, c.args, code, c.err, stderr)
		}
	}
}

// TestAdminCommandsPostgres: the same answers on PostgreSQL, whose unique
// violation is another driver's error.
func TestAdminCommandsPostgres(t *testing.T) {
	vars := map[string]string{envDatabaseURL: throwaway(t)}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, vars, args...)
	}
	for _, args := range [][]string{{"migrate", "up"}, {"org", "create", "--name", "Acme", "--slug", "acme"}} {
		if code, stdout, stderr := run(args...); code != 0 {
			t.Fatalf("%q: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
		}
	}
	runAdminCases(t, run)
}

// TestUsageErrors: mistakes in the command line exit 2 and say what is
// valid, in words a person reads (no Go formatting, stable order).
func TestUsageErrors(t *testing.T) {
	for _, c := range []cliCase{
		{name: "PolicyListUnknownObject", args: []string{"policy", "list", "--object", "bogus"}, code: 2,
			stderr: []string{`unknown object "bogus" \(known: company, job, note, user\)`}},
		{name: "WhyHiddenUnknownObject", args: []string{"policy", "why-hidden", "--user", "a@b", "--object", "widget", "--id", "1"}, code: 2,
			stderr: []string{`unknown object "widget" \(known: job, note, company, user\)`}},
		{name: "MissingFlagsInOrder", args: []string{"user", "create", "--name", "N"}, code: 2,
			stderr: []string{`: missing --email, --org, --password, --role\n`}},
		{name: "CompanyCreateMissingFlags", args: []string{"company", "create"}, code: 2,
			stderr: []string{`: --name and --org are required\n`}},
		{name: "SlugWithCapitalsAndSpaces", args: []string{"org", "create", "--name", "Foo", "--slug", "Bad Slug!"}, code: 2,
			stderr: []string{`--slug "Bad Slug!": use lowercase letters, digits and dashes`}},
		{name: "SlugStartingWithADash", args: []string{"org", "create", "--name", "Foo", "--slug=-acme"}, code: 2,
			stderr: []string{`--slug "-acme": use lowercase letters`}},
		{name: "SlugWithUnderscore", args: []string{"org", "create", "--name", "Foo", "--slug", "acme_inc"}, code: 2,
			stderr: []string{`--slug "acme_inc"`}},
		{name: "UnknownFlagWithTwoDashes", args: []string{"org", "create", "--bogus"}, code: 2,
			stderr: []string{`^scopegate org create: unknown flag "--bogus"\n`}, not: []string{` -bogus`}},
		{name: "UnknownFlagWithOneDash", args: []string{"job", "run", "-bogus"}, code: 2,
			stderr: []string{`unknown flag "--bogus"`}},
		{name: "FlagNeedsAnArgument", args: []string{"job", "run", "archive-stale", "--org"}, code: 2,
			stderr: []string{`flag needs an argument: --org\n`}},
		{name: "InvalidValue", args: []string{"job", "run", "archive-stale", "--batch-size", "many"}, code: 2,
			stderr: []string{`invalid value "many" for flag --batch-size: `}},
		{name: "IDMustBePositive", args: []string{"policy", "why-hidden", "--user", "a@b", "--object", "job", "--id", "-3"}, code: 2,
			stderr: []string{`invalid value "-3" for flag --id: must be a positive whole number`}},
	} {
		code, stdout, stderr := runCLI(t, nil, c.args...)
		c.check(t, code, stdout, stderr)
	}
}

// TestHelpText: no (default "0") for ids that have no default, placeholders
// that name what goes there.
func TestHelpText(t *testing.T) {
	for _, c := range []cliCase{
		{name: "ExplainID", args: []string{"policy", "explain", "--help"}, stdout: []string{`--id id\n\s+id of the object \(required, except for create actions; for note.create, the job's\) \(\$SCOPEGATE_[A-Z_]+\)\n`}},
		{name: "WhyHiddenID", args: []string{"policy", "why-hidden", "--help"}, stdout: []string{`--id id\n\s+id of the row \(required\) \(\$SCOPEGATE_[A-Z_]+\)\n`}},
		{name: "CompanyID", args: []string{"user", "create", "--help"}, stdout: []string{`--company-id id\n\s+company id \(clients only\) \(\$SCOPEGATE_[A-Z_]+\)\n`, `--password-stdin\n`}},
		{name: "BatchSize", args: []string{"job", "run", "--help"}, stdout: []string{`--batch-size number\n\s+number of rows per transaction \(default "500"\)`}},
		{name: "CompanyCreate", args: []string{"company", "create", "--help"}, stdout: []string{`Usage: scopegate company create \[flags\]`, `--org slug`}},
		{name: "MigrateDownYes", args: []string{"migrate", "down", "--help"}, stdout: []string{`--yes\n`}},
		{name: "SeedDemoJobs", args: []string{"seed", "demo", "--help"}, stdout: []string{`--jobs number\n`}},
	} {
		code, stdout, stderr := runCLI(t, nil, c.args...)
		c.not = append(c.not, `\(default "0"\)`, `--batch-size transaction`)
		c.check(t, code, stdout, stderr)
	}
}

// TestSeedDemoJobs: --jobs makes the demo world bigger, also when it is
// there already, so that a batch job has batches to show.
func TestSeedDemoJobs(t *testing.T) {
	file := filepath.Join(t.TempDir(), "scopegate.db")
	run := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, nil, append(args, "--db-file", file)...)
	}
	for _, c := range []cliCase{
		{name: "FewerThanTheWorld", args: []string{"seed", "demo", "--jobs", "7"}, code: 2, stderr: []string{`--jobs must be 8 to 1000000, not 7`}},
		{name: "Seed", args: []string{"seed", "demo", "--jobs", "1203"},
			stdout: []string{`^seeded the demo world\nadded 1195 jobs: the demo organizations have 1203\n`}},
		{name: "TopUp", args: []string{"seed", "demo", "--jobs", "1210"},
			stdout: []string{`^the demo world is already there\nadded 7 jobs: the demo organizations have 1210\n`}},
		{name: "NothingToAdd", args: []string{"seed", "demo", "--jobs", "20"},
			stdout: []string{`^the demo world is already there\ndemo logins`}},
		// Half the jobs are published, 4 default ones and 601 added,
		// every one updated more than 1ns ago.
		{name: "DryRun", args: []string{"job", "run", "archive-stale", "--older-than", "1ns", "--dry-run", "--batch-size", "100"},
			stdout: []string{`would change 605 rows in 7 batches of up to 100`}},
		{name: "Run", args: []string{"job", "run", "archive-stale", "--older-than", "1ns", "--batch-size", "100"},
			stdout: []string{`done; changed 605 of 605 rows in 7 batches`}},
	} {
		code, stdout, stderr := run(c.args...)
		c.check(t, code, stdout, stderr)
	}
}
