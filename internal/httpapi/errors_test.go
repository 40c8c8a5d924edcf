package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/repo"
)

// TestConstraintViolationsAreConflicts: a foreign key or unique violation
// is a 409, whether a repository classified it or not; it is never a 500
// (a tenant-safe key refusing a link to another tenant's row is one).
func TestConstraintViolationsAreConflicts(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := httptest.NewRequest(http.MethodPost, "/api/jobs", nil)
	fk := &pq.Error{Code: "23503", Constraint: "jobs_companies_jobs",
		Message: `insert or update on table "jobs" violates foreign key constraint "jobs_companies_jobs"`}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"ent's constraint error", fmt.Errorf("create job: %w", &ent.ConstraintError{})},
		{"a foreign key violation from the driver", fmt.Errorf("add m2m edge for table job_managers: %w", fk)},
		{"a unique violation from the driver", &pq.Error{Code: "23505"}},
		{"a repository's conflict", fmt.Errorf("create job: %w", repo.ErrConflict)},
	} {
		status, body := s.classify(r, c.err, true)
		if status != http.StatusConflict || body.Code != "conflict" {
			t.Errorf("%s: %d %q, want 409 conflict", c.name, status, body.Code)
		}
	}
	if status, _ := s.classify(r, errors.New("boom"), true); status != http.StatusInternalServerError {
		t.Errorf("an unknown error: %d, want 500", status)
	}
}

// TestMissingRelationIsUnavailable: a relation missing at request time
// (42P01, the schema rolled back under the server) is 503 unavailable, as
// /readyz says, never 500; so is the typed error the repositories wrap it
// in.
func TestMissingRelationIsUnavailable(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := httptest.NewRequest(http.MethodGet, "/api/jobs", nil)
	undefined := &pq.Error{Code: "42P01", Message: `relation "jobs" does not exist`}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"the driver's 42P01", fmt.Errorf("list jobs: %w", undefined)},
		{"an undefined column", &pq.Error{Code: "42703"}},
		{"the repositories' typed error", fmt.Errorf("list jobs: %w: %w", database.ErrSchema, undefined)},
		{"embedded SQLite", errors.New("SQL logic error: no such table: jobs (1)")},
	} {
		status, body := s.classify(r, c.err, false)
		if status != http.StatusServiceUnavailable || body.Code != "unavailable" || strings.Contains(body.Message, "relation") {
			t.Errorf("%s: %d %q %q, want 503 unavailable without driver detail", c.name, status, body.Code, body.Message)
		}
	}
}

// TestReadyzChecksTheSchema: /readyz asks Ready (the schema version, in
// serve), not only Ping.
func TestReadyzChecksTheSchema(t *testing.T) {
	var ready error
	s, err := New(Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ping:   func(context.Context) error { return nil },
		Ready:  func(context.Context) error { return ready },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ready  error
		status int
		msg    string
	}{
		{nil, http.StatusOK, ""},
		{fmt.Errorf("migration: pending migrations: %w: 1 not applied", database.ErrSchema), http.StatusServiceUnavailable, "schema"},
		{errors.New("dial tcp: connection refused"), http.StatusServiceUnavailable, "the database is unavailable"},
	} {
		ready = c.ready
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.msg) {
			t.Errorf("ready %v: %d %s, want %d and %q", c.ready, rec.Code, rec.Body, c.status, c.msg)
		}
	}
}
