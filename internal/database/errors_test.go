package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
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
		// A server killed while lib/pq reads a message (the test of
		// a killed replica found a bare io.EOF reaching a request).
		{err: wrap(io.ErrUnexpectedEOF), unreached: true},
		{err: wrap(io.EOF), unreached: true},
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

func TestParseLSN(t *testing.T) {
	for _, c := range []struct {
		in   string
		want LSN
	}{
		{"0/0", 0}, {"0/16B3748", 0x16B3748}, {"16/B374D848", 0x16_B374D848}, {"ffffffff/FFFFFFFF", 1<<64 - 1},
	} {
		got, err := ParseLSN(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseLSN(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
		if back, err := ParseLSN(got.String()); err != nil || back != got {
			t.Errorf("ParseLSN(%q.String() = %q) = %v, %v", c.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "0", "0/", "/0", "1/2/3", "g/0", "123456789/0", "0/123456789", "-1/0", "+1/0", " 0/0", "0x1/0"} {
		if _, err := ParseLSN(bad); !errors.Is(err, ErrBadLSN) {
			t.Errorf("ParseLSN(%q): %v, want ErrBadLSN", bad, err)
		}
	}
}
