package pgtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lib/pq"

	entmigrate "github.com/scopegate/scopegate/ent/migrate"
)

// MissingID is an id no row has: the control every "not found" is
// compared with, for every entity. It is far above any id a test world
// reaches (the largest, plan_test's, stays under a million rows a table)
// and fits a 32-bit int.
const MissingID = 1 << 30

// tables is every table of the ent schema, join tables included, sorted.
var tables = func() []string {
	out := make([]string, 0, len(entmigrate.Tables))
	for _, t := range entmigrate.Tables {
		out = append(out, t.Name)
	}
	slices.Sort(out)
	return out
}()

// Tables returns every table of the ent schema, join tables included,
// sorted: read from the generated ent/migrate, so a new entity or join
// table is listed without an edit (extending_test checks the migrated
// database has exactly these tables).
func Tables() []string { return slices.Clone(tables) }

// HasColumn reports whether table has column in the ent schema. That
// schema does not know the columns the SQL migrations add to it
// (job_managers.org_id, say): ask the migrated database about those.
func HasColumn(table, column string) bool {
	for _, t := range entmigrate.Tables {
		if t.Name == table {
			return t.HasColumn(column)
		}
	}
	return false
}

// Sums holds a checksum of the rows of every table, in the order of
// Tables: what a test compares before and after a call to prove that the
// call changed nothing (or something).
type Sums []string

// ChecksumSQL is one statement that returns Sums: a column per table, in
// the order of Tables. Each is the row count and the sum of a 64-bit hash
// of each row's text: independent of row order, so it needs no sort, and a
// changed, added or deleted row changes it (but for a 2^-64 chance). Run it
// as a role row-level security does not narrow (DB.Raw), or in a
// transaction that sees every row: under a narrower scope it sums what
// that scope sees.
var ChecksumSQL = func() string {
	parts := make([]string, len(tables))
	for i, tbl := range tables {
		parts[i] = fmt.Sprintf(`(SELECT count(*) || ':' || coalesce(sum(hashtextextended(t::text, 0)), 0) FROM %s t)`,
			pq.QuoteIdentifier(tbl))
	}
	return "SELECT " + strings.Join(parts, ", ")
}()

// ScanSums scans the one row of ChecksumSQL.
func ScanSums(row interface{ Scan(dest ...any) error }) (Sums, error) {
	out := make(Sums, len(tables))
	dest := make([]any, len(out))
	for i := range out {
		dest[i] = &out[i]
	}
	if err := row.Scan(dest...); err != nil {
		return nil, fmt.Errorf("pgtest: checksums: %w", err)
	}
	return out, nil
}

// Changed returns the tables whose checksum differs between s and after.
func (s Sums) Changed(after Sums) []string {
	var out []string
	for i, tbl := range tables {
		if s[i] != after[i] {
			out = append(out, tbl)
		}
	}
	return out
}

// Sums reads the checksum of every table as the owner, past row-level
// security (a check through the application's pool would pass on tables
// it sees empty).
func (d *DB) Sums(tb testing.TB) Sums {
	tb.Helper()
	s, err := ScanSums(d.Raw.QueryRowContext(context.Background(), ChecksumSQL))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// AssertUnchanged fails the test, naming the tables, if any table differs
// from before; msgAndArgs say what was tried (fmt.Sprint).
func (d *DB) AssertUnchanged(tb testing.TB, before Sums, msgAndArgs ...any) {
	tb.Helper()
	if changed := before.Changed(d.Sums(tb)); len(changed) > 0 {
		tb.Errorf("tables changed: %v%s", changed, describe(msgAndArgs))
	}
}

// AssertChanged fails the test if no table differs from before: a call
// that succeeded must have written something.
func (d *DB) AssertChanged(tb testing.TB, before Sums, msgAndArgs ...any) {
	tb.Helper()
	if len(before.Changed(d.Sums(tb))) == 0 {
		tb.Errorf("no table changed%s", describe(msgAndArgs))
	}
}

func describe(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return ""
	}
	return ": " + fmt.Sprint(msgAndArgs...)
}

// RowSum is a checksum of one row of table, by id, read as the owner.
func (d *DB) RowSum(tb testing.TB, table string, id int) string {
	tb.Helper()
	var sum string
	err := d.Raw.QueryRowContext(context.Background(),
		fmt.Sprintf(`SELECT md5(t::text) FROM %s t WHERE id = $1`, pq.QuoteIdentifier(table)), id).Scan(&sum)
	if err != nil {
		tb.Fatalf("pgtest: checksum of %s %d: %v", table, id, err)
	}
	return sum
}
