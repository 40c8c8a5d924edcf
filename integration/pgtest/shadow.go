package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"github.com/lib/pq"
)

// Shadow runs (issue 10) check each of the two layers that scope a query
// alone against the model: SCOPEGATE_SHADOW=rls switches the ent rules
// off (a test binary built with -tags scopegate_shadow only), so that
// PostgreSQL's row-level security answers alone; SCOPEGATE_SHADOW=ent
// switches row-level security off on every test database, so that the ent
// rules answer alone. Unset, both are on, as in production.
const (
	ShadowBoth    = ""
	ShadowRLSOnly = "rls"
	ShadowEntOnly = "ent"
)

// ShadowMode returns the layer a shadow run keeps, or ShadowBoth.
func ShadowMode(tb testing.TB) string {
	tb.Helper()
	switch m := os.Getenv("SCOPEGATE_SHADOW"); m {
	case ShadowBoth, ShadowEntOnly:
		return m
	case ShadowRLSOnly:
		if !switchOffRules() {
			tb.Fatalf("SCOPEGATE_SHADOW=rls needs a test binary built with -tags scopegate_shadow")
		}
		return m
	default:
		tb.Fatalf("SCOPEGATE_SHADOW=%q: want rls, ent or nothing", m)
		return ""
	}
}

// disableRLS turns row-level security off on every table of the database
// (the ent-only shadow run).
func disableRLS(ctx context.Context, owner *sql.DB) error {
	rows, err := owner.QueryContext(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := owner.ExecContext(ctx, fmt.Sprintf("ALTER TABLE %s NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY",
			pq.QuoteIdentifier(t))); err != nil {
			return err
		}
	}
	return nil
}
