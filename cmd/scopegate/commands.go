package main

// root is the command tree: every command of the CLI is listed here, in the
// order --help shows them. The actions live in one file per group
// (migrate.go, ...). DESIGN section 7 lists the commands still to come
// (serve, seed, org, user, policy, preload, job).
var root = &command{
	name: "scopegate",
	help: `
Scopegate: a multi-tenant data layer on ent and PostgreSQL.

Environment:
  DATABASE_URL                  PostgreSQL database (postgres://user@host:5432/db?sslmode=disable)
  SCOPEGATE_DEV_DATABASE_URL    server for the throwaway database of 'migrate diff'

Exit status: 0 success, 1 failure, 2 usage error.`,
	subs: []*command{
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
					setup:   migrateDown,
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
			},
		},
	},
}
