// Package repo is what HTTP handlers and the CLI call to read and change
// data. Reads rely on the privacy rules (a row the scope cannot see does not
// exist, for every method); errors from ent, the driver and the packages
// below (policy, preload, scope, auth) are classified here, once, into the
// kinds of Kinds, wrapped with %w. A caller decides its answer from the
// kind alone (KindOf): the HTTP API's is a table from kind to status.
package repo

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/privacy"
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/rules"
	"github.com/scopegate/scopegate/internal/scope"
)

// The kinds of error every repository method returns, wrapped. Classify
// them with errors.Is, or KindOf.
var (
	// ErrNotFound: the row does not exist or the scope may not see it.
	// The two are never told apart.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the scope may see the row (or use the surface) but not
	// do this. A policy denial carries its *policy.Error.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: a uniqueness or state conflict; see *ConflictError for
	// what conflicted.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input is malformed; see *InvalidError for fields.
	ErrInvalid = errors.New("invalid input")
	// ErrInvalidQuery: an ErrInvalid whose values came from the query or
	// path of a read (a filter, a cursor, a page size), not from an
	// entity given to a create or update. It matches ErrInvalid too.
	ErrInvalidQuery = errors.New("invalid query")
	// ErrPreloadRefused: a preload path the registry does not allow
	// there; the *preload.Error names the paths that are allowed.
	ErrPreloadRefused = errors.New("preload refused")
	// ErrUnauthenticated: no scope, or credentials that authenticate
	// nobody (unknown, expired or revoked; a wrong password).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrUnavailable: the database cannot be reached or will not serve
	// (down, restarting, refusing connections, out of connections).
	ErrUnavailable = errors.New("database unavailable")
	// ErrTimedOut: the database is there but did not answer in time:
	// the call's deadline passed, or its client went away, while it
	// waited for a connection, a lock or a statement.
	ErrTimedOut = errors.New("database timed out")
	// ErrSchema: the database's schema is not this binary's (a relation
	// it needs is missing). It is database.ErrSchema, which the
	// migrations' readiness check returns too.
	ErrSchema = database.ErrSchema
)

// Kinds lists every kind of error the repositories return, in the order
// KindOf tries them: where an error matches two (ErrInvalidQuery is an
// ErrInvalid), the first names it.
var Kinds = []error{
	ErrUnauthenticated, ErrPreloadRefused, ErrNotFound, ErrForbidden, ErrConflict,
	ErrInvalidQuery, ErrInvalid, ErrTimedOut, ErrSchema, ErrUnavailable,
}

// KindOf returns the kind of err, one of Kinds, or nil for an error no
// repository classified: an internal error, a bug.
func KindOf(err error) error {
	if err == nil {
		return nil
	}
	for _, k := range Kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

// InvalidError lists what is wrong with an input, per field, and where the
// input came from.
type InvalidError struct {
	Fields map[string]string
	// Source says where the values came from: a client told "invalid
	// query" corrects its request, one told "invalid input" the entity it
	// sent.
	Source Source
}

// Source is where an invalid value came from.
type Source int

// The sources of an invalid value.
const (
	// FromBody: the entity given to a create or update (or a login).
	FromBody Source = iota
	// FromQuery: the query or path of a read or delete: a filter, a
	// cursor, a page size, an id.
	FromQuery
)

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

// Is makes errors.Is(err, ErrInvalid) true, and errors.Is(err,
// ErrInvalidQuery) for a value from the query.
func (e *InvalidError) Is(target error) bool {
	return target == ErrInvalid || target == ErrInvalidQuery && e.Source == FromQuery
}

// invalidQuery is one invalid value of a read's query: a filter, a
// cursor, a page size.
func invalidQuery(field, msg string) error {
	return &InvalidError{Fields: map[string]string{field: msg}, Source: FromQuery}
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

// classify maps ent, privacy, policy, preload, scope, auth and driver
// errors to the repository's kinds (Kinds), keeping the original wrapped
// for errors.As and the logs. An invalid value it finds came from the
// entity given (FromBody): creates and updates call it; reads and deletes
// call classifyQuery. Errors of no kind pass through wrapped, to be
// treated as internal.
func classify(op string, err error) error { return classifyFrom(op, FromBody, err) }

// classifyQuery is classify for a read or a delete: an invalid value the
// database refuses came from the query or path (FromQuery).
func classifyQuery(op string, err error) error { return classifyFrom(op, FromQuery, err) }

func classifyFrom(op string, src Source, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, scope.ErrNoScope), errors.Is(err, auth.ErrUnauthenticated):
		return fmt.Errorf("%s: %w: %w", op, ErrUnauthenticated, err)
	case ent.IsNotFound(err):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case errors.Is(err, rules.ErrForeignLink):
		// A linked id the scope cannot see: the same answer as a missing
		// one, whichever tenant it belongs to.
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	case KindOf(err) != nil:
		// Classified already (a repository calling another, or an
		// error of this package's).
		return fmt.Errorf("%s: %w", op, err)
	case errors.Is(err, policy.ErrForbidden):
		return fmt.Errorf("%s: %w: %w", op, ErrForbidden, err)
	case errors.Is(err, preload.ErrNotAllowed):
		return fmt.Errorf("%s: %w: %w", op, ErrPreloadRefused, err)
	case database.ConcurrentChange(err):
		// A deadlock or a serialization failure: a concurrent change
		// won; the caller may retry.
		return fmt.Errorf("%s: %w: %w", op, conflict("a concurrent change conflicted; retry"), err)
	case database.TimedOut(err):
		// The deadline passed (waiting for a pooled connection, a lock
		// or a statement), PostgreSQL's statement timeout cancelled
		// the statement, or the caller went away: an overload, not a
		// bug. Before Unavailable, which a passed deadline is too.
		return fmt.Errorf("%s: %w: %w", op, ErrTimedOut, err)
	case database.SchemaMissing(err):
		// The schema is behind this binary (a relation is missing):
		// the database cannot serve, whatever the request.
		return fmt.Errorf("%s: %w: %w", op, ErrSchema, err)
	case database.Unavailable(err):
		return fmt.Errorf("%s: %w: %w", op, ErrUnavailable, err)
	case database.RowRefused(err):
		// A row-level security policy refused the row (docs/rls.md).
		return fmt.Errorf("%s: %w: %w", op, ErrNotFound, err)
	case isCheckViolation(err):
		constraint, _ := database.CheckViolated(err)
		return fmt.Errorf("%s: %w", op, &InvalidError{Fields: map[string]string{constraint: "violates " + constraint}, Source: src})
	case database.DataRejected(err):
		return fmt.Errorf("%s: %w: %w", op, invalidData(err, src), err)
	case database.ConstraintViolated(err):
		// A unique violation, or a foreign key (a row still referenced
		// by others, or a link to another tenant's row that slipped
		// past the rules): never a 500.
		return fmt.Errorf("%s: %w", op, &ConflictError{Reason: "already exists or still in use", Err: err})
	case errors.Is(err, privacy.Deny):
		return fmt.Errorf("%s: %w: %w", op, ErrForbidden, err)
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return fmt.Errorf("%s: %w", op, &InvalidError{Fields: map[string]string{ve.Name: ve.Error()}, Source: src})
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isCheckViolation(err error) bool {
	_, ok := database.CheckViolated(err)
	return ok
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

// invalidData is the InvalidError of a value PostgreSQL refused to store or
// read (database.DataRejected: a NUL byte, a number out of range): the
// input is invalid, never the server broken. It names the column when
// PostgreSQL does, else "input".
func invalidData(err error, src Source) *InvalidError {
	field := database.DataColumn(err)
	if field == "" {
		field = "input"
	}
	return &InvalidError{Fields: map[string]string{field: "holds a value the database cannot store"}, Source: src}
}
