package database

import (
	"context"
	"database/sql/driver"
	"fmt"
	"testing"

	"github.com/lib/pq"
)

func TestDriverErrorClasses(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("repo: op: %w", err) }
	for _, c := range []struct {
		err                                    error
		refused, violated, unreached, timedOut bool
	}{
		{err: wrap(&pq.Error{Code: "42501"}), refused: true},
		{err: wrap(&pq.Error{Code: "23503"}), violated: true},
		{err: wrap(&pq.Error{Code: "23505"}), violated: true},
		{err: wrap(&pq.Error{Code: "08006"}), unreached: true},
		{err: wrap(&pq.Error{Code: "57P01"}), unreached: true},
		// A database that refuses connections, at connect time.
		{err: wrap(&pq.Error{Code: "55000", Severity: "FATAL"}), unreached: true},
		{err: wrap(&pq.Error{Code: "55000", Severity: "ERROR"})},
		{err: wrap(driver.ErrBadConn), unreached: true},
		{err: wrap(context.DeadlineExceeded), unreached: true, timedOut: true},
		{err: wrap(context.Canceled), timedOut: true},
		{err: wrap(&pq.Error{Code: "57014"}), timedOut: true},
		{err: wrap(&pq.Error{Code: "55P03"}), timedOut: true},
		{err: wrap(&pq.Error{Code: "23514"})},
		{err: wrap(&pq.Error{Code: "42601"})},
	} {
		if got := RowRefused(c.err); got != c.refused {
			t.Errorf("RowRefused(%v) = %v", c.err, got)
		}
		if got := ConstraintViolated(c.err); got != c.violated {
			t.Errorf("ConstraintViolated(%v) = %v", c.err, got)
		}
		if got := Unavailable(c.err); got != c.unreached {
			t.Errorf("Unavailable(%v) = %v", c.err, got)
		}
		if got := TimedOut(c.err); got != c.timedOut {
			t.Errorf("TimedOut(%v) = %v", c.err, got)
		}
	}
}

// The codes the repositories ask about by name, so that they need not know
// lib/pq's.
func TestNamedDriverErrors(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("repo: op: %w", err) }
	if !ForeignKeyViolated(wrap(&pq.Error{Code: "23503"})) || ForeignKeyViolated(wrap(&pq.Error{Code: "23505"})) {
		t.Error("ForeignKeyViolated: 23503 only")
	}
	if c, ok := CheckViolated(wrap(&pq.Error{Code: "23514", Constraint: "jobs_salary_check"})); !ok || c != "jobs_salary_check" {
		t.Errorf("CheckViolated(23514) = %q, %v", c, ok)
	}
	if _, ok := CheckViolated(wrap(&pq.Error{Code: "23505"})); ok {
		t.Error("CheckViolated(23505)")
	}
	for _, code := range []pq.ErrorCode{"40P01", "40001"} {
		if !ConcurrentChange(wrap(&pq.Error{Code: code})) {
			t.Errorf("ConcurrentChange(%s) = false", code)
		}
	}
	if ConcurrentChange(wrap(&pq.Error{Code: "23505"})) || ConcurrentChange(nil) {
		t.Error("ConcurrentChange: 40P01 and 40001 only")
	}
}
