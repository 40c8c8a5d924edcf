package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/lib/pq"

	"github.com/scopegate/scopegate/ent"
)

// The driver's errors are classified here, once, so that the layers above
// the seam (repositories, HTTP) ask what an error means without knowing
// lib/pq's error codes.

// RowRefused reports whether PostgreSQL's row-level security refused a
// row (42501 insufficient_privilege): to the scope, a row it may not write
// is one it does not have.
func RowRefused(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "42501"
}

// ConstraintViolated reports whether err is a foreign key or unique
// violation (23503, 23505): ent's constraint error, or the driver's own.
func ConstraintViolated(err error) bool {
	var pqErr *pq.Error
	return ent.IsConstraintError(err) ||
		errors.As(err, &pqErr) && (pqErr.Code == "23503" || pqErr.Code == "23505")
}

// ForeignKeyViolated reports whether err is a foreign key violation
// (23503): a row still referenced by others, or a link to a row that is
// not there.
func ForeignKeyViolated(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23503"
}

// CheckViolated reports whether err is a check constraint violation
// (23514), and the constraint it names.
func CheckViolated(err error) (constraint string, ok bool) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23514" {
		return pqErr.Constraint, true
	}
	return "", false
}

// ConcurrentChange reports whether PostgreSQL aborted a statement for a
// concurrent transaction: a deadlock (40P01) or a serialization failure
// (40001). The change may succeed if tried again.
func ConcurrentChange(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && (pqErr.Code == "40P01" || pqErr.Code == "40001")
}

// UniqueViolation reports whether err is a unique violation on
// table.column: PostgreSQL's 23505 on that column's key (its constraint
// <table>_<column>_key, or "Key (column)=" in the detail), or SQLite's
// "UNIQUE constraint failed: table.column".
func UniqueViolation(err error, table, column string) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Code == "23505" &&
			(pqErr.Constraint == table+"_"+column+"_key" || strings.HasPrefix(pqErr.Detail, "Key ("+column+")="))
	}
	return ent.IsConstraintError(err) && strings.Contains(err.Error(), "UNIQUE constraint failed: "+table+"."+column)
}

// Unavailable reports whether err means the database cannot be reached or
// will not serve this connection. A FATAL error is one: PostgreSQL ends the
// session with it, whatever its code (a database that does not accept
// connections answers 55000 at connect time; a password refused, 28P01),
// so no statement of ours can run until it is fixed.
func Unavailable(err error) bool {
	var netErr *net.OpError
	var pqErr *pq.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr),
		// A server that went away (pg_ctl stop -m immediate, a crash)
		// ends lib/pq's read of a message: some of its paths return
		// that as is, before or in the middle of a message.
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pqErr):
		// Class 08: connection exception; 57P0x: the server is shutting
		// down or restarting; too_many_connections (53300) and
		// invalid_catalog_name (3D000, the database is gone) too.
		return pqErr.Fatal() || pqErr.Code.Class() == "08" || pqErr.Code == "57P01" || pqErr.Code == "57P02" ||
			pqErr.Code == "57P03" || pqErr.Code == "53300" || pqErr.Code == "3D000"
	}
	return false
}

// TimedOut reports whether err means a statement did not finish in time:
// PostgreSQL cancelled it (57014 query_canceled: the statement timeout of
// Options.StatementTimeout, or the cancel request lib/pq sends when a
// call's context ends), a lock was not granted within lock_timeout
// (55P03), or the call's context ended while it waited for a pooled
// connection or an answer. The database is there but did not serve the
// call: callers answer "unavailable" (HTTP 503), never an internal error.
func TimedOut(err error) bool {
	var pqErr *pq.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	case errors.As(err, &pqErr):
		return pqErr.Code == "57014" || pqErr.Code == "55P03"
	}
	return false
}

// ErrSchema means the database's schema is not the one this binary
// carries: migrations are pending (a relation it needs is missing, after a
// 'migrate down' say) or the database has migrations the binary does not
// know. The database is there but cannot serve: callers answer
// "unavailable" (HTTP 503), never an internal error.
var ErrSchema = errors.New("database: the schema is not this binary's")

// SchemaMissing reports whether err is ErrSchema or a driver error saying
// a relation, column or schema the statement names does not exist:
// PostgreSQL 42P01 undefined_table, 42703 undefined_column, 3F000
// invalid_schema_name, 42883 undefined_function (the row-level security
// policies call functions of the migrations); SQLite's "no such table" and
// "no such column". The application never names such a thing by mistake:
// its statements come from the ent schema, so the schema is behind.
func SchemaMissing(err error) bool {
	if err == nil {
		return false
	}
	var pqErr *pq.Error
	switch {
	case errors.Is(err, ErrSchema):
		return true
	case errors.As(err, &pqErr):
		switch pqErr.Code {
		case "42P01", "42703", "3F000", "42883":
			return true
		}
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "no such table:") || strings.Contains(msg, "no such column:")
}

// DataRejected reports whether PostgreSQL refused a value (class 22,
// data_exception): a NUL byte in text (22021), a string too long for its
// column (22001), a number out of range (22003), text that is not a number
// (22P02), and the like. The value came from input, so the request is
// invalid, not the server broken.
func DataRejected(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code.Class() == "22"
}

// DataColumn is the column a data error names, or "".
func DataColumn(err error) string {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return pqErr.Column
	}
	return ""
}
