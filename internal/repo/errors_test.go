package repo

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/rules"
	"github.com/scopegate/scopegate/internal/scope"
)

// TestClassify: every error a repository meets, from ent, the driver and
// the packages below, becomes one kind, and the original stays reachable.
// What is of no kind stays of none: the HTTP API answers it 500 and logs
// it, rather than guess.
func TestClassify(t *testing.T) {
	fk := &pq.Error{Code: "23503", Constraint: "jobs_companies_jobs",
		Message: `insert or update on table "jobs" violates foreign key constraint "jobs_companies_jobs"`}
	undefined := &pq.Error{Code: "42P01", Message: `relation "jobs" does not exist`}
	for _, c := range []struct {
		name string
		err  error
		kind error
	}{
		{"no scope", fmt.Errorf("policy: job.create: %w", scope.ErrNoScope), ErrUnauthenticated},
		{"no scope, from a privacy rule", rules.ErrNoScope, ErrUnauthenticated},
		{"credentials that authenticate nobody", auth.ErrUnauthenticated, ErrUnauthenticated},
		{"ent's not found", &ent.NotFoundError{}, ErrNotFound},
		{"a link the scope cannot see", fmt.Errorf("edge: %w", rules.ErrForeignLink), ErrNotFound},
		{"a row-level security refusal", &pq.Error{Code: "42501"}, ErrNotFound},
		{"a policy denial", &policy.Error{Decision: policy.Decision{Action: policy.JobUpdate}}, ErrForbidden},
		{"a privacy denial", fmt.Errorf("%w: read only", privacy.Deny), ErrForbidden},
		{"a refused preload", &preload.Error{Path: "x", Reason: preload.ReasonUnknown}, ErrPreloadRefused},
		// A foreign key or unique violation is a 409, never a 500 (a
		// tenant-safe key refusing a link to another tenant's row is
		// one), whether ent or the driver reports it.
		{"ent's constraint error", fmt.Errorf("create job: %w", &ent.ConstraintError{}), ErrConflict},
		{"a foreign key violation from the driver", fmt.Errorf("add m2m edge for table job_managers: %w", fk), ErrConflict},
		{"a unique violation from the driver", &pq.Error{Code: "23505"}, ErrConflict},
		{"a deadlock", &pq.Error{Code: "40P01"}, ErrConflict},
		{"a serialization failure", &pq.Error{Code: "40001"}, ErrConflict},
		{"a check violation", &pq.Error{Code: "23514", Constraint: "jobs_salary_check"}, ErrInvalid},
		{"a NUL byte", &pq.Error{Code: "22021"}, ErrInvalid},
		{"a string too long", &pq.Error{Code: "22001"}, ErrInvalid},
		{"a number out of range", &pq.Error{Code: "22003"}, ErrInvalid},
		{"not a number", &pq.Error{Code: "22P02"}, ErrInvalid},
		{"an untranslatable character", &pq.Error{Code: "22P05"}, ErrInvalid},
		// Outages: the relation missing at request time (the schema
		// rolled back under the server) is 503 like /readyz, not 500.
		{"the driver's 42P01", fmt.Errorf("list jobs: %w", undefined), ErrSchema},
		{"an undefined column", &pq.Error{Code: "42703"}, ErrSchema},
		{"the typed schema error", fmt.Errorf("%w: 1 not applied", database.ErrSchema), ErrSchema},
		{"embedded SQLite", errors.New("SQL logic error: no such table: jobs (1)"), ErrSchema},
		{"the deadline", context.DeadlineExceeded, ErrTimedOut},
		{"the client gone", context.Canceled, ErrTimedOut},
		{"the statement timeout", &pq.Error{Code: "57014"}, ErrTimedOut},
		{"the lock timeout", &pq.Error{Code: "55P03"}, ErrTimedOut},
		{"a refused connection", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, ErrUnavailable},
		{"a broken connection", driver.ErrBadConn, ErrUnavailable},
		{"a shutdown", &pq.Error{Code: "57P01", Severity: "FATAL"}, ErrUnavailable},
		{"a database that refuses connections", &pq.Error{Code: "55000", Severity: "FATAL"}, ErrUnavailable},
		{"too many connections", &pq.Error{Code: "53300", Severity: "FATAL"}, ErrUnavailable},
		{"a syntax error", &pq.Error{Code: "42601"}, nil},
		{"anything else", errors.New("boom"), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := classify("op", c.err)
			if k := KindOf(got); k != c.kind {
				t.Errorf("KindOf(classify(%v)) = %v, want %v", c.err, k, c.kind)
			}
			if !errors.Is(got, c.err) && !ent.IsNotFound(c.err) && !isCheckViolation(c.err) {
				t.Errorf("classify(%v) = %v: the original is lost", c.err, got)
			}
			if c.kind == ErrInvalid && !strings.HasPrefix(got.Error(), "op: invalid input: ") {
				t.Errorf("classify(%v) = %q, want the fields in words", c.err, got)
			}
		})
	}
	if classify("op", nil) != nil || KindOf(nil) != nil {
		t.Error("no error classifies as one")
	}
}

// TestClassifyIsIdempotent: an error classified twice (a repository
// calling another) keeps its kind.
func TestClassifyIsIdempotent(t *testing.T) {
	for _, k := range Kinds {
		if got := KindOf(classify("outer", classify("inner", k))); got != k && !(k == ErrInvalidQuery && got == ErrInvalid) {
			t.Errorf("%v classified twice: %v", k, got)
		}
	}
}

// TestInvalidSource: an invalid value found by a read or a delete came
// from the query (ErrInvalidQuery, still an ErrInvalid); found by a create
// or update, from the body. The source is the repository's to say, not
// the HTTP method's.
func TestInvalidSource(t *testing.T) {
	for _, err := range []error{
		&pq.Error{Code: "22021"},
		&pq.Error{Code: "23514", Constraint: "jobs_salary_check"},
	} {
		body, query := classify("update job", err), classifyQuery("list jobs", err)
		if KindOf(body) != ErrInvalid || errors.Is(body, ErrInvalidQuery) {
			t.Errorf("classify(%v): %v, want ErrInvalid from the body", err, KindOf(body))
		}
		var inv *InvalidError
		if KindOf(query) != ErrInvalidQuery || !errors.Is(query, ErrInvalid) || !errors.As(query, &inv) || len(inv.Fields) != 1 {
			t.Errorf("classifyQuery(%v): %v, want ErrInvalidQuery with one field", err, query)
		}
	}
	// A value the repository found invalid keeps the source it gave.
	if got := classify("list jobs", invalidQuery("cursor", "not a cursor of this list")); KindOf(got) != ErrInvalidQuery {
		t.Errorf("an invalid cursor: %v", KindOf(got))
	}
	if got := classifyQuery("update job", fields{"title": "is required"}.err()); KindOf(got) != ErrInvalid {
		t.Errorf("an invalid title: %v", KindOf(got))
	}
}
