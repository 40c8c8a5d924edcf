package database

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/internal/scope"
)

// Settings are the transaction-local PostgreSQL settings (scopegate.*) that
// the row-level security policies read (docs/design.md section 8). The seam derives
// them from the scope in the context and sets every one of them, empty or
// not, as the first statement of each transaction: an empty setting means
// "no rows" to the policies, never "all rows".
type Settings struct {
	OrgID     string // scopegate.org_id: the tenant, for users and InOrg system scopes
	UserID    string // scopegate.user_id
	Role      string // scopegate.role: a user's role, or "authenticator"
	CompanyID string // scopegate.company_id: a client's company
	Banned    string // scopegate.banned: "true" for a banned user
	System    string // scopegate.system: "all" or "org" for a system scope
	AuthEmail string // scopegate.auth_email: the authenticator's login email
	AuthToken string // scopegate.auth_token: the authenticator's session token hash
	// Inserting is "true" while a user's INSERT into jobs runs.
	// PostgreSQL checks the new row of an INSERT … RETURNING (ent returns
	// every id) against the SELECT policy, and a manager's new draft job
	// is not visible to them before its managers are linked: the jobs
	// policy lets such a statement see the jobs its own user created.
	// Only that statement: the policies of other tables read jobs too (a
	// manager link needs its job visible), and while any INSERT ran, a
	// manager could link anyone to a draft they created and may not see.
	Inserting string // scopegate.inserting
	// StatementTimeout is PostgreSQL's statement_timeout for the
	// transaction, in milliseconds (Options.StatementTimeout); empty
	// leaves the server's. It is not a scope setting: the Driver adds it.
	StatementTimeout string
}

// settingNames lists the settings in the order of setSettingsSQL's
// parameters and of Settings.values.
var settingNames = []string{
	"scopegate.org_id", "scopegate.user_id", "scopegate.role", "scopegate.company_id",
	"scopegate.banned", "scopegate.system", "scopegate.auth_email", "scopegate.auth_token",
	"scopegate.inserting",
}

// setSettingsSQL sets every setting, transaction-locally (the third argument
// of set_config), in one statement and so in one round trip.
//
// It also turns JIT compilation off for the transaction: the planner prices
// the policies' subqueries as if they ran for every row, which pushes
// small scoped queries over jit_above_cost, and compiling their large
// expressions took 800 ms for a query that runs in 1.
//
// How PostgreSQL plans each statement of the transaction is the
// connection's to say (plan.go, conn.go), statement by statement.
var setSettingsSQL = func() string {
	q := "SELECT "
	for i, n := range settingNames {
		q += fmt.Sprintf("set_config('%s', $%d, true), ", n, i+1)
	}
	return q + transactionSettings
}()

// transactionSettings are the planner settings of every scoped transaction
// (see setSettingsSQL).
const transactionSettings = "set_config('jit', 'off', true)"

// sql returns the statement that sets s with its values as quoted literals.
// Without parameters it can wait for the statement after it and travel in
// the same message, with the transaction's BEGIN (conn.go). It reports
// false when a value holds a NUL byte, which no SQL literal can carry:
// setSettingsSQL then sends it as a parameter, for PostgreSQL to refuse.
func (s Settings) sql() (string, bool) {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, v := range s.values() {
		v := v.(string)
		if strings.IndexByte(v, 0) >= 0 {
			return "", false
		}
		fmt.Fprintf(&b, "set_config('%s', %s, true), ", settingNames[i], pq.QuoteLiteral(v))
	}
	if s.StatementTimeout != "" {
		// Digits only (the Driver formats it), so no quoting is needed.
		fmt.Fprintf(&b, "set_config('statement_timeout', '%s', true), ", s.StatementTimeout)
	}
	b.WriteString(transactionSettings)
	return b.String(), true
}

// statement returns the statement that sets s and its arguments. When it
// rides it has none (its values are literals), and it may wait for the
// next statement and travel with it (rideWithNext). A value with a NUL
// byte, which no literal can carry, makes it setSettingsSQL with
// parameters, for PostgreSQL to refuse: that statement fails, so it
// needs no statement timeout.
func (s Settings) statement() (query string, args []any, rides bool) {
	if q, ok := s.sql(); ok {
		return q, []any{}, true
	}
	return setSettingsSQL, s.values(), false
}

func (s Settings) values() []any {
	return []any{s.OrgID, s.UserID, s.Role, s.CompanyID, s.Banned, s.System, s.AuthEmail, s.AuthToken, s.Inserting}
}

// insertIntoJobs starts every INSERT that ent sends for jobs (creates,
// bulk creates and upserts); Settings.Inserting is for them alone.
const insertIntoJobs = `INSERT INTO "jobs" `

// SettingsFor returns the settings the seam sends with query under the
// scope in ctx: SettingsOf, and Inserting for an INSERT into jobs.
func SettingsFor(ctx context.Context, query string) Settings {
	s := SettingsOf(ctx)
	if s.UserID != "" && strings.HasPrefix(query, insertIntoJobs) {
		s.Inserting = "true"
	}
	return s
}

// SettingsOf returns the settings for the scope in ctx; without a scope,
// every setting is empty and the policies show no row.
func SettingsOf(ctx context.Context) Settings {
	s, ok := scope.FromContext(ctx)
	if !ok {
		return Settings{}
	}
	var out Settings
	if org, ok := s.OrgID(); ok {
		out.OrgID = strconv.Itoa(org)
	}
	switch {
	case s.IsUser():
		out.UserID = strconv.Itoa(s.UserID())
		out.Role = string(s.Role())
		if c, ok := s.CompanyID(); ok {
			out.CompanyID = strconv.Itoa(c)
		}
		if s.Banned() {
			out.Banned = "true"
		}
	case s.IsSystem():
		out.System = "all"
		if out.OrgID != "" {
			out.System = "org"
		}
	case s.IsAuthenticator():
		l, _ := s.AuthLookup()
		out.Role = "authenticator"
		out.AuthEmail, out.AuthToken = l.Email, l.TokenHash
	}
	return out
}

// TxBeginner is what BeginTx begins a transaction on: a *sql.DB, or a
// *sql.Conn when several transactions must share one session (the
// temporary tables of a bulk load, internal/seed).
type TxBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

var (
	_ TxBeginner = (*sql.DB)(nil)
	_ TxBeginner = (*sql.Conn)(nil)
)

// BeginTx begins a transaction on db with the settings of the scope in ctx.
// It is for the code that must speak database/sql directly (a hand-written
// query, a benchmark's floor, a COPY): ent's statements get their settings
// from the Driver.
func BeginTx(ctx context.Context, db TxBeginner, opts *sql.TxOptions) (*sql.Tx, error) {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("database: begin: %w", err)
	}
	q, args, rides := SettingsOf(ctx).statement()
	setCtx := ctx
	if rides {
		setCtx = rideWithNext(ctx)
	}
	if _, err := tx.ExecContext(setCtx, q, args...); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("database: set scope settings: %w", err)
	}
	return tx, nil
}
