package main

// root is the command tree: every command of the CLI is listed here, in the
// order --help shows them. The actions live in one file per group
// (serve.go, migrate.go, admin.go, seed.go, policy.go, job.go).
var root = &command{
	name: "scopegate",
	help: `
Scopegate: a multi-tenant data layer on ent and PostgreSQL.

Environment:
  DATABASE_URL                  PostgreSQL database (postgres://user@host:5432/db?sslmode=disable),
                                as the application role; unset, commands use the embedded SQLite
                                file ./scopegate.db
  SCOPEGATE_DB_MAX_CONNS        size of the PostgreSQL connection pool, all kept open when idle
                                (default 16; --db-max-conns; DATABASE_MAX_CONNS is its old name)
  MIGRATE_DATABASE_URL          the same database as the schema owner, for 'migrate' and
                                'db grant' (default DATABASE_URL)
  SCOPEGATE_APP_PASSWORD        password 'db grant' sets on the application role
  SCOPEGATE_DEV_DATABASE_URL    server for the throwaway database of 'migrate diff'
  SCOPEGATE_OPS_ADDR            serve's ops listener, /metrics (default 127.0.0.1:9090; empty
                                disables it; --ops-addr)
  SCOPEGATE_PPROF               true: serve also /debug/pprof/ on the ops listener (--pprof)
  SCOPEGATE_ADDR                serve's address (default 127.0.0.1:8080; --addr)
  SCOPEGATE_LOG_FORMAT          text or json, the logs' format on stderr (default text; --log-format)
  SCOPEGATE_LOG_LEVEL           debug, info, warn or error (default info for serve, warn for the
                                other commands, whose results go to stdout; --log-level)
  SCOPEGATE_<FLAG>              every other flag: --batch-size is SCOPEGATE_BATCH_SIZE (each
                                command's --help names its variables), except --yes

A flag given on the command line beats its environment variable.

'scopegate version' or 'scopegate --version' prints the build: module
version, VCS revision and time, Go version.

Exit status: 0 success, 1 failure, 2 usage error.`,
	subs: []*command{
		{
			name:    "serve",
			summary: "serve the JSON API",
			help: `
Serve the JSON API. With no DATABASE_URL it uses the embedded SQLite file
./scopegate.db, creates its schema and seeds the demo world on first start,
and prints the demo logins. With DATABASE_URL=postgres://… it refuses to
start while migrations are pending ('scopegate migrate up' applies them).
SIGINT or SIGTERM stops accepting, finishes in-flight requests (up to 10 s)
and closes the database.

A second listener, for operators, serves Prometheus metrics at /metrics
and, with --pprof, the Go profiler at /debug/pprof/; never on the API's
address. It prints its address after the API's ("ops listening on …").

It logs at info (--log-level); every other command logs at warn.`,
			setup:   serve,
			verbose: true,
		},
		{
			name:    "migrate",
			summary: "apply, roll back, list or generate database migrations (PostgreSQL)",
			help: `
Manage the versioned SQL migrations embedded from migrations/ (goose format,
generated from the ent schema). The database comes from --database-url or
DATABASE_URL and must be PostgreSQL.`,
			subs: []*command{
				{
					name:    "up",
					summary: "apply every pending migration",
					setup:   migrateUp,
				},
				{
					name:    "down",
					summary: "roll back the newest applied migration",
					help: `
Roll back the newest applied migration. Its down step may drop tables and
every row in them; it refuses to run without --yes. Servers still running
answer /readyz with 503 from then on (their schema is not there), and
requests that need a dropped table with 503 unavailable, until 'migrate up'.`,
					setup: migrateDown,
				},
				{
					name:    "status",
					summary: "list every migration and whether it is applied",
					setup:   migrateStatus,
				},
				{
					name:    "diff",
					args:    "NAME",
					summary: "write a new migration for what changed in the ent schema",
					help: `
Compare the migrations in --dir with the ent schema (ent/schema, after
'go generate ./...') and write the difference as a new goose migration
<version>_NAME.sql, updating atlas.sum. NAME may hold letters, digits, '_'
and '-'.

The comparison replays the migrations on a throwaway database, created on
the PostgreSQL server of --dev-url (else SCOPEGATE_DEV_DATABASE_URL,
SCOPEGATE_TEST_DATABASE_URL, DATABASE_URL) and dropped at the end; the user
needs the CREATEDB privilege. Prints the files written, or "no changes".`,
					setup: migrateDiff,
				},
				{
					name:    "hash",
					summary: "rewrite atlas.sum after a migration was edited by hand",
					help: `
Rewrite the atlas.sum of --dir from the content of its migrations. Needed
after editing a migration by hand (a trigger, a data fix: what 'migrate
diff' cannot write): 'migrate diff' and the drift test refuse a directory
whose files do not match its atlas.sum. Review the edit first; the hash
only records it.`,
					setup: migrateHash,
				},
			},
		},
		{
			name:    "db",
			summary: "manage the database's roles",
			subs: []*command{
				{
					name:    "grant",
					summary: "create or update the application role: DML on the application's tables only",
					help: `
Create the application role (--role, default scopegate_app) if it does not
exist, make it a plain login role (no superuser, no BYPASSRLS, no CREATEDB
or CREATEROLE) and grant it exactly SELECT, INSERT, UPDATE and DELETE on the
application's tables, their sequences, and SELECT on the migrations' version
table. Run it as the schema owner (MIGRATE_DATABASE_URL) after 'migrate up';
it is idempotent. The server then connects as that role (DATABASE_URL).`,
					setup: dbGrant,
				},
			},
		},
		{
			name:    "seed",
			summary: "write demo data, or a large world for benchmarks",
			subs: []*command{
				{
					name:    "demo",
					summary: "seed the demo world (two organizations, a user of every role in each)",
					help: `
Seed the demo world, unless it is there already: two organizations, a user
of every role in each (their logins are printed), two companies and four
jobs each, with notes. --jobs N adds jobs, to a world already there too,
until the demo organizations have N (in transactions of 1000, with a
progress bar): enough for 'job run archive-stale --older-than 1s' to show
its batches and to be interrupted and resumed.`,
					setup: seedDemo,
				},
				{
					name:    "scale",
					summary: "write a large world fast with COPY (PostgreSQL), for benchmarks and trials at size",
					help: `
Write --orgs organizations of --jobs-per-org jobs each, and with
--large-tenant K one more organization of K jobs, written last so that its
jobs have the highest ids (one large tenant among many small ones). Each
organization gets companies, users of every role (admins, managers,
members, clients), jobs of every status, --managers-per-job managers per job
and --notes-per-job notes per job, half of them internal; every user's
password is printed at the end with logins to try.

It needs PostgreSQL (DATABASE_URL or --database-url; the embedded SQLite
file has no COPY) and runs as that URL's role, normally the application
role, with row-level security in force: rows are COPYed into temporary
tables, then inserted under an audited all-tenant system scope whose reason
names the run (one audit event per organization created). Ids are drawn
from the tables' sequences, so later inserts do not collide. Jobs go in
transactions of 10000 with their links and notes. With MIGRATE_DATABASE_URL
(the tables' owner) the tables are analyzed at the end; otherwise ANALYZE is
skipped and the output says so.

Every run has a tag (--run, default random) in its slugs and emails
(scale-<run>-1, admin1@scale-<run>-1.test): running again adds a second
world beside the first; a tag already used is refused. Caps: 10000
organizations, 1000000 jobs per organization, 10000000 jobs in all.
Prints rows and rows per second for each table.`,
					setup: seedScale,
				},
			},
		},
		{
			name:    "org",
			summary: "manage organizations",
			subs: []*command{
				{name: "create", summary: "create an organization (audited system scope)", setup: orgCreate},
			},
		},
		{
			name:    "company",
			summary: "manage companies",
			subs: []*command{
				{name: "create", summary: "create a company in an organization (audited system scope)", setup: companyCreate},
			},
		},
		{
			name:    "user",
			summary: "manage users",
			subs: []*command{
				{
					name:    "create",
					summary: "create a user without a token (audited system scope)",
					help: `
Create a user in the organization of --org, as its admin would through
POST /api/users (same validation, the password hashed), under an audited
system scope narrowed to that organization: the way to make the first
admin. The password comes from --password, or, kept out of the process
list and the shell's history, from the first line of standard input with
--password-stdin:

  printf '%s\n' "$PASSWORD" | scopegate user create --org acme --email boss@acme.test \
      --name Boss --role admin --password-stdin`,
					setup: userCreate,
				},
			},
		},
		{
			name:    "policy",
			summary: "list and explain the authorization policy",
			subs: []*command{
				{name: "list", summary: "list the rules, optionally filtered", setup: policyList},
				{name: "explain", summary: "explain the decision for a user, an action and an object", setup: policyExplain},
				{name: "why-hidden", summary: "explain which row rule hides a row from a user", setup: policyWhyHidden},
			},
		},
		{
			name:    "preload",
			summary: "show the preload registry",
			subs: []*command{
				{name: "list", summary: "list what each entity may preload on each surface", setup: preloadList},
			},
		},
		{
			name:    "version",
			summary: "print the module version, VCS revision and time, and Go version",
			setup:   versionCmd,
		},
		{
			name:    "job",
			summary: "run batch jobs under an audited system scope",
			subs: []*command{
				{
					name:    "run",
					args:    "NAME",
					summary: "run archive-stale or purge-sessions",
					help: `
Run a batch job under a system scope whose reason names the job, the run
and --note; every change writes an audit event in its batch's transaction.
Rows are processed in id order, --batch-size per transaction. Ctrl-C
finishes the current batch, then stops; running again continues where it
stopped. A progress bar shows on a terminal, log lines otherwise, and a
one-line summary at the end.

Jobs:
  archive-stale    archive published jobs not updated for --older-than (all tenants, or --org)
  purge-sessions   delete expired sessions`,
					setup: jobRun,
				},
			},
		},
	},
}
