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
