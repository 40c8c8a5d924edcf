package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/lib/pq"
)

// ErrBadRole is returned for a role name Grant will not use.
var ErrBadRole = errors.New("database: bad role name")

// ErrRoleOwnsObjects is returned when the application role owns a table,
// sequence or schema: an owner is exempt from row-level security unless
// forced, and may alter or drop what it owns.
var ErrRoleOwnsObjects = errors.New("database: the application role owns objects")

// versionTable is goose's record of the applied migrations: the server
// reads it (readiness checks the schema version) and never writes it.
const versionTable = "goose_db_version"

var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// GrantOptions tune Grant.
type GrantOptions struct {
	// Password, if set, becomes the role's password.
	Password string
}

// Grant makes role the application role of the database db is connected to
// (docs/design.md section 8): it creates the role if it does not exist, makes it a
// plain login role (no superuser, no BYPASSRLS, no CREATEDB or CREATEROLE),
// and gives it exactly: CONNECT on the database, USAGE on the schema,
// SELECT, INSERT, UPDATE and DELETE on the application's tables, USAGE on
// their sequences, and SELECT on the migrations' version table. Run it as
// the schema owner after migrating; it is idempotent, so running it again
// after a migration that added a table grants that table too. It refuses a
// role that owns any object of the database.
//
// Grants may run at once, from two deploys or for two databases of one
// server. The role's own statements therefore run one by one, each its own
// transaction, so that the server-wide catalog row each one changes is held
// for one statement only; the privileges follow in one transaction. A
// statement or transaction that lost a race on a catalog row is tried
// again (catalogRace). A grant that fails after its role statements leaves
// the role created; running it again finishes it.
func Grant(ctx context.Context, db *sql.DB, role string, opts GrantOptions) error {
	if !roleName.MatchString(role) {
		return fmt.Errorf("%w %q: want lowercase letters, digits and _", ErrBadRole, role)
	}
	var me string
	if err := db.QueryRowContext(ctx, `SELECT current_user`).Scan(&me); err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	if role == me {
		return fmt.Errorf("%w: %s is the current user", ErrRoleOwnsObjects, role)
	}
	// Before any statement changes the role, which would commit on its
	// own; grantPrivileges checks again in its transaction.
	if err := refuseOwner(ctx, db, role); err != nil {
		return err
	}
	q := pq.QuoteIdentifier(role)
	stmts := []string{
		// CREATE ROLE has no IF NOT EXISTS; the DO block makes it one.
		fmt.Sprintf(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s) THEN CREATE ROLE %s LOGIN; END IF; END $$`,
			pq.QuoteLiteral(role), q),
		fmt.Sprintf(`ALTER ROLE %s LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION`, q),
	}
	if opts.Password != "" {
		stmts = append(stmts, fmt.Sprintf(`ALTER ROLE %s PASSWORD %s`, q, pq.QuoteLiteral(opts.Password)))
	}
	for _, s := range stmts {
		err := retryCatalogRace(ctx, func() error {
			_, err := db.ExecContext(ctx, s)
			return err
		})
		if err != nil {
			return fmt.Errorf("database: grant: %w", err)
		}
	}
	return retryCatalogRace(ctx, func() error { return grantPrivileges(ctx, db, role) })
}

// retryCatalogRace runs fn until it succeeds, fails otherwise than by a
// catalog race, or has lost the race catalogRaceAttempts times; it waits a
// jittered, growing pause between attempts, so that the other side commits.
func retryCatalogRace(ctx context.Context, fn func() error) error {
	pause := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == catalogRaceAttempts || !catalogRace(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause/2 + rand.N(pause)):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// catalogRaceAttempts bounds retryCatalogRace: with pauses capped at 200
// ms, about five seconds of losing before the error is returned.
const catalogRaceAttempts = 30

// catalogRace reports whether err is PostgreSQL refusing a statement
// because another transaction changed the same catalog row at once. Role
// rows are shared by the whole server and CREATE ROLE, ALTER ROLE and
// GRANT take no lock that would make a second one wait: the loser fails
// with "tuple concurrently updated" (XX000, an internal error that
// PostgreSQL uses for exactly this), or, when both created the role, with a
// duplicate key on pg_authid's name index. Retrying is the documented
// remedy; serialization failures and deadlocks are retried for the same
// reason.
func catalogRace(err error) bool {
	var pqErr *pq.Error
	if !errors.As(err, &pqErr) {
		return false
	}
	switch pqErr.Code {
	case "40001", "40P01":
		return true
	case "23505":
		return strings.HasPrefix(pqErr.Constraint, "pg_")
	case "XX000":
		return pqErr.Message == "tuple concurrently updated"
	}
	return false
}

// grantPrivileges gives role what Grant promises, in one transaction.
func grantPrivileges(ctx context.Context, db *sql.DB, role string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	defer tx.Rollback()

	q := pq.QuoteIdentifier(role)
	var schema, dbname string
	if err := tx.QueryRowContext(ctx, `SELECT current_schema(), current_database()`).Scan(&schema, &dbname); err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	if err := refuseOwner(ctx, tx, role); err != nil {
		return err
	}
	tables, err := appTables(ctx, tx, schema)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	stmts := []string{
		fmt.Sprintf(`GRANT CONNECT ON DATABASE %s TO %s`, pq.QuoteIdentifier(dbname), q),
		fmt.Sprintf(`GRANT USAGE ON SCHEMA %s TO %s`, pq.QuoteIdentifier(schema), q),
		fmt.Sprintf(`REVOKE CREATE ON SCHEMA %s FROM %s`, pq.QuoteIdentifier(schema), q),
		fmt.Sprintf(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA %s TO %s`, pq.QuoteIdentifier(schema), q),
	}
	for _, t := range tables {
		stmts = append(stmts, fmt.Sprintf(`GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO %s`, pq.QuoteIdentifier(t), q))
	}
	// A partition has no policies of its own: the parent's apply to
	// what is read and written through the parent, and only there
	// (docs/scaling.md, Partitioning). Named directly, a partition
	// would show every tenant's rows, so the role may not name one.
	parts, err := partitions(ctx, tx, schema)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	for _, t := range parts {
		stmts = append(stmts, fmt.Sprintf(`REVOKE ALL ON %s FROM %s`, pq.QuoteIdentifier(t), q))
	}
	hasVersions, err := hasTable(ctx, tx, schema, versionTable)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	if hasVersions {
		stmts = append(stmts,
			fmt.Sprintf(`REVOKE ALL ON %s FROM %s`, pq.QuoteIdentifier(versionTable), q),
			fmt.Sprintf(`GRANT SELECT ON %s TO %s`, pq.QuoteIdentifier(versionTable), q))
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("database: grant: %s: %w", s, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	return nil
}

// refuseOwner returns ErrRoleOwnsObjects if role owns a relation or
// schema of the database.
func refuseOwner(ctx context.Context, q queryer, role string) error {
	owned, err := ownedBy(ctx, q, role)
	if err != nil {
		return fmt.Errorf("database: grant: %w", err)
	}
	if len(owned) > 0 {
		return fmt.Errorf("%w: %s owns %s", ErrRoleOwnsObjects, role, strings.Join(owned, ", "))
	}
	return nil
}

// queryer is a pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// ownedBy lists the relations and schemas of the database role owns.
func ownedBy(ctx context.Context, q queryer, role string) ([]string, error) {
	return queryNames(ctx, q, `
		SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = $1
		UNION ALL
		SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = $1
		ORDER BY 1`, role)
}

// appTables lists the tables of schema but the migrations' version table
// and partitions (partitioned tables are listed; their partitions are
// not).
func appTables(ctx context.Context, tx *sql.Tx, schema string) ([]string, error) {
	return queryNames(ctx, tx, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> $2
		ORDER BY 1`, schema, versionTable)
}

// partitions lists the partitions of schema's partitioned tables.
func partitions(ctx context.Context, tx *sql.Tx, schema string) ([]string, error) {
	return queryNames(ctx, tx, `
		SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relispartition ORDER BY 1`, schema)
}

// queryNames runs query, which selects one column of names.
func queryNames(ctx context.Context, q queryer, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func hasTable(ctx context.Context, tx *sql.Tx, schema, table string) (bool, error) {
	var ok bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT FROM pg_tables WHERE schemaname = $1 AND tablename = $2)`, schema, table).Scan(&ok)
	return ok, err
}

// Privileged says why the role db is connected as would not be held by
// row-level security (a superuser, BYPASSRLS, or the owner of tables), and
// "" when it would be. The server warns with it at start (docs/design.md section 8).
func Privileged(ctx context.Context, db *sql.DB) (string, error) {
	var user string
	var super, bypass bool
	var owned int
	err := db.QueryRowContext(ctx, `
		SELECT current_user, r.rolsuper, r.rolbypassrls,
		       (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relkind = 'r')
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &super, &bypass, &owned)
	if err != nil {
		return "", fmt.Errorf("database: role of the connection: %w", err)
	}
	switch {
	case super:
		return fmt.Sprintf("connected as %s, a superuser", user), nil
	case bypass:
		return fmt.Sprintf("connected as %s, which has BYPASSRLS", user), nil
	case owned > 0:
		return fmt.Sprintf("connected as %s, which owns %d tables", user, owned), nil
	}
	return "", nil
}
