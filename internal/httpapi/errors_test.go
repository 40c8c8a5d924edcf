package httpapi

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/ent"
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
