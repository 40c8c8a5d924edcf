// Package migration owns the database's versioned schema: it writes new
// goose-format migrations from the ent schema (atlas diff against a throwaway
// dev database) and applies the embedded ones with goose.
package migration

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/sqltool"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"

	"github.com/scopegate/scopegate/ent"
	entmigrate "github.com/scopegate/scopegate/ent/migrate"
	"github.com/scopegate/scopegate/migrations"
)

// ErrPending is returned by CheckCurrent when migrations are not applied.
var ErrPending = errors.New("migration: pending migrations")

// Tables returns ent's tables plus what the ent schema cannot declare: an
// index on the managers join table's user_id. The join table's primary key
// (job_id, user_id) serves job -> managers; user -> managed_jobs, and the
// client rule "users who manage a visible job", filter on user_id alone.
func Tables() []*schema.Table {
	t := entmigrate.JobManagersTable
	const name = "jobmanager_user_id"
	if !slices.ContainsFunc(t.Indexes, func(i *schema.Index) bool { return i.Name == name }) {
		t.Indexes = append(t.Indexes, &schema.Index{Name: name, Columns: []*schema.Column{t.Columns[1]}})
	}
	return entmigrate.Tables
}

// Diff compares the migrations in dir with the ent schema, using devURL, an
// empty PostgreSQL database it may use and wipe, and writes the difference
// as a new goose migration called name. It returns the files it wrote: none
// when the directory already matches the schema.
func Diff(ctx context.Context, devURL, dir, name string) ([]string, error) {
	before, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	gd, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migration: open %s: %w", dir, err)
	}
	err = schema.Diff(ctx, devURL, name, Tables(),
		schema.WithDir(gd),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(dialect.Postgres),
		schema.WithFormatter(sqltool.GooseFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil && !errors.Is(err, atlasmigrate.ErrNoPlan) {
		return nil, fmt.Errorf("migration: diff: %w", err)
	}
	after, err := listDir(dir)
	if err != nil {
		return nil, err
	}
	var created []string
	for _, f := range after {
		if !slices.Contains(before, f) {
			created = append(created, f)
		}
	}
	return created, nil
}

// Hash rewrites the atlas.sum of the migrations in dir from their content,
// after a migration was edited by hand (a trigger, a data fix: what atlas
// cannot write). Diff and the drift test refuse a directory whose files do
// not match its atlas.sum.
func Hash(dir string) error {
	gd, err := sqltool.NewGooseDir(dir)
	if err != nil {
		return fmt.Errorf("migration: open %s: %w", dir, err)
	}
	sum, err := gd.Checksum()
	if err != nil {
		return fmt.Errorf("migration: hash %s: %w", dir, err)
	}
	if err := atlasmigrate.WriteSumFile(gd, sum); err != nil {
		return fmt.Errorf("migration: write %s: %w", filepath.Join(dir, atlasmigrate.HashFileName), err)
	}
	return nil
}

func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("migration: read %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// ThrowawayDatabase creates an empty database on the PostgreSQL server of
// serverURL and returns its URL and a function that drops it.
func ThrowawayDatabase(ctx context.Context, serverURL, prefix string) (string, func(context.Context) error, error) {
	u, err := url.Parse(serverURL)
	if err != nil {
		return "", nil, fmt.Errorf("migration: server URL: %w", err)
	}
	db, err := sql.Open("postgres", serverURL)
	if err != nil {
		return "", nil, err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("migration: create database %s: %w", name, err)
	}
	u.Path = "/" + name
	drop := func(ctx context.Context) error {
		defer db.Close()
		_, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)")
		return err
	}
	return u.String(), drop, nil
}

func provider(db *sql.DB) (*goose.Provider, error) {
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	if err != nil {
		return nil, fmt.Errorf("migration: %w", err)
	}
	return p, nil
}

// Up applies every pending migration and returns how many it applied.
func Up(ctx context.Context, db *sql.DB) (int, error) {
	p, err := provider(db)
	if err != nil {
		return 0, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return len(res), fmt.Errorf("migration: up: %w", err)
	}
	return len(res), nil
}

// Down rolls back the newest applied migration.
func Down(ctx context.Context, db *sql.DB) (int64, error) {
	p, err := provider(db)
	if err != nil {
		return 0, err
	}
	res, err := p.Down(ctx)
	if err != nil {
		return 0, fmt.Errorf("migration: down: %w", err)
	}
	if res == nil || res.Source == nil {
		return 0, nil
	}
	return res.Source.Version, nil
}

// State is one migration and whether it is applied.
type State struct {
	Version int64
	Path    string
	Applied bool
}

// Status lists every embedded migration and whether it is applied.
func Status(ctx context.Context, db *sql.DB) ([]State, error) {
	p, err := provider(db)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration: status: %w", err)
	}
	out := make([]State, 0, len(st))
	for _, s := range st {
		out = append(out, State{Version: s.Source.Version, Path: s.Source.Path, Applied: s.State == goose.StateApplied})
	}
	return out, nil
}

// CheckCurrent returns an error matching ErrPending if any embedded
// migration is not applied.
func CheckCurrent(ctx context.Context, db *sql.DB) error {
	st, err := Status(ctx, db)
	if err != nil {
		return err
	}
	n := 0
	for _, s := range st {
		if !s.Applied {
			n++
		}
	}
	if n > 0 {
		return fmt.Errorf("%w: %d not applied (run: scopegate migrate up)", ErrPending, n)
	}
	return nil
}

// CreateEmbedded creates (or brings up to date) the schema of an embedded
// SQLite database directly from the ent schema. PostgreSQL never takes this
// path: it uses the versioned migrations.
func CreateEmbedded(ctx context.Context, c *ent.Client) error {
	Tables()
	if err := c.Schema.Create(ctx); err != nil {
		return fmt.Errorf("migration: create embedded schema: %w", err)
	}
	return nil
}
