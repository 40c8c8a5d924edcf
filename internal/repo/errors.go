// Package repo is what HTTP handlers and the CLI call to read and change
// data. Reads rely on the privacy rules (a row the scope cannot see does not
// exist, for every method); errors from ent and the driver are classified
// here, once, into the sentinels below, wrapped with %w.
package repo

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/rules"
	"github.com/scopegate/scopegate/internal/scope"
)

// The errors every repository method returns, wrapped. Classify them with
// errors.Is.
var (
	// ErrNotFound: the row does not exist or the scope may not see it.
	// The two are never told apart.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the scope may see the row (or use the surface) but not
	// do this.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: a uniqueness or state conflict.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed; see *InvalidError for fields.
	ErrInvalid = errors.New("invalid input")
)

// InvalidError lists what is wrong with an input, per field.
type InvalidError struct {
	Fields map[string]string
}

// Error lists the fields in name order, each with its message, in words
// (the HTTP API sends Fields itself; this is for the CLI and logs).
func (e *InvalidError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for name := range e.Fields {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + ": " + e.Fields[name]
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, msg string) error {
	return &InvalidError{Fields: map[string]string{field: msg}}
}

// fields collects per-field problems of one input.
type fields map[string]string

func (f fields) check(name string, err error) {
	if err != nil {
		if _, seen := f[name]; !seen {
			f[name] = err.Error()
		}
	}
}

func (f fields) add(name, msg string) { f.check(name, errors.New(msg)) }

func (f fields) err() error {
	if len(f) == 0 {
		return nil
	}
	return &InvalidError{Fields: f}
}

// classify maps ent, privacy and driver errors to the repository's errors.
// Unknown errors pass through wrapped, to be treated as internal.
func classify(op string, err error) error {
	var pqErr *pq.Error
	var pe *preload.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, scope.ErrNoScope):
		return fmt.Errorf("%s: %w", op, err)
	case ent.IsNotFound(err):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case errors.Is(err, rules.ErrForeignLink):
		// A linked id the scope cannot see: the same answer as a missing
		// one, whichever tenant it belongs to.
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrForbidden), errors.Is(err, ErrConflict), errors.Is(err, ErrInvalid):
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, policy.ErrForbidden):
		return fmt.Errorf("%s: %w: %w", op, ErrForbidden, err)
	case errors.As(err, &pe):
		return fmt.Errorf("%s: %w", op, err)
	case errors.As(err, &pqErr) && (pqErr.Code == "40P01" || pqErr.Code == "40001"):
		// deadlock_detected, serialization_failure: a concurrent change
		// won; the caller may retry.
		return fmt.Errorf("%s: %w: %w", op, conflict("a concurrent change conflicted; retry"), err)
	case database.SchemaMissing(err):
		// The schema is behind this binary (a relation is missing):
		// the database cannot serve, whatever the request.
		return fmt.Errorf("%s: %w: %w", op, database.ErrSchema, err)
	case database.RowRefused(err):
		// A row-level security policy refused the row (docs/rls.md).
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	case errors.As(err, &pqErr) && pqErr.Code == "23514": // check_violation
		return fmt.Errorf("%s: %w", op, &InvalidError{Fields: map[string]string{pqErr.Constraint: "violates " + pqErr.Constraint}})
	case database.DataRejected(err):
		return fmt.Errorf("%s: %w: %w", op, InvalidData(err), err)
	case database.ConstraintViolated(err):
		// A unique violation, or a foreign key (a row still referenced
		// by others).
		return fmt.Errorf("%s: %w", op, &ConflictError{Reason: "already exists or still in use", Err: err})
	case errors.Is(err, privacy.Deny):
		return fmt.Errorf("%s: %w: %w", op, ErrForbidden, err)
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return fmt.Errorf("%s: %w", op, &InvalidError{Fields: map[string]string{ve.Name: ve.Error()}})
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ConflictError says what conflicted, in words safe to show a client. Err,
// if set, is the driver's error behind it: reachable with errors.As, never
// in the message.
type ConflictError struct {
	Reason string
	Err    error
}

func (e *ConflictError) Error() string { return "conflict: " + e.Reason }

// Unwrap returns the driver's error, if any.
func (e *ConflictError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

func conflict(msg string) error { return &ConflictError{Reason: msg} }

// orNotFound turns "no error, but nothing there" into ErrNotFound.
func orNotFound(err error) error {
	if err != nil {
		return err
	}
	return ErrNotFound
}

func itoa(n int) string { return fmt.Sprint(n) }

// InvalidData is the InvalidError of a value PostgreSQL refused to store or
// read (database.DataRejected: a NUL byte, a number out of range): the
// input is invalid, never the server broken. It names the column when
// PostgreSQL does, else "input".
func InvalidData(err error) *InvalidError {
	field := database.DataColumn(err)
	if field == "" {
		field = "input"
	}
	return &InvalidError{Fields: map[string]string{field: "holds a value the database cannot store"}}
}
