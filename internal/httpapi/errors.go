package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// apiError is the body of every error answer: {"error": {...}}.
type apiError struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
	Allowed []string          `json:"allowed,omitempty"`
	Rule    string            `json:"rule,omitempty"`
	Check   string            `json:"check,omitempty"`
}

// errBadRequest marks a request the server could not read: a malformed or
// oversized body, unknown fields, a bad query parameter.
var errBadRequest = errors.New("bad request")

type badRequest struct {
	msg    string
	fields map[string]string
}

func (e *badRequest) Error() string        { return e.msg }
func (e *badRequest) Is(target error) bool { return target == errBadRequest }

func badRequestf(msg string) error { return &badRequest{msg: msg} }

// errRateLimited is a login refused for too many failed attempts; see
// *rateLimited for when to retry.
var errRateLimited = errors.New("rate limited")

// rateLimited says when a refused login may be tried again.
type rateLimited struct{ retryAfter time.Duration }

func (e *rateLimited) Error() string        { return "rate limited" }
func (e *rateLimited) Is(target error) bool { return target == errRateLimited }

// retryAfterSeconds is the Retry-After of e: whole seconds, rounded up, at
// least one.
func (e *rateLimited) retryAfterSeconds() int {
	return max(1, int((e.retryAfter+time.Second-1)/time.Second))
}

// methodNotAllowed is a known path asked with a method it does not serve.
type methodNotAllowed struct{ allow []string }

func (e *methodNotAllowed) Error() string { return "method not allowed" }

// errNotFoundRoute answers paths that are not routes.
var errNotFoundRoute = errors.New("no such route")

// The one body every hidden or missing row gets: byte for byte the same.
var notFoundBody = apiError{Code: "not_found", Message: "not found"}

// writeError classifies err once, through this table, into a status and a
// stable code. Only internal errors are logged with their detail; the client
// sees a short message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error, inBody bool) {
	status, body := s.classify(r, err, inBody)
	s.countRefusal(err)
	var rl *rateLimited
	var mna *methodNotAllowed
	switch {
	case status == http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", "Bearer")
	case errors.As(err, &rl):
		w.Header().Set("Retry-After", strconv.Itoa(rl.retryAfterSeconds()))
	case errors.As(err, &mna):
		w.Header().Set("Allow", strings.Join(mna.allow, ", "))
	case status == http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", retryAfterUnavailable)
	}
	writeJSON(w, status, map[string]apiError{"error": body})
}

func (s *Server) classify(r *http.Request, err error, inBody bool) (int, apiError) {
	var (
		br  *badRequest
		pe  *preload.Error
		pol *policy.Error
		inv *repo.InvalidError
		mna *methodNotAllowed
	)
	if database.DataRejected(err) && !errors.As(err, &inv) {
		// A value PostgreSQL refused that reached here without a
		// repository to classify it (a login): invalid input, as the
		// repositories say it, never a 500.
		err = fmt.Errorf("%w: %w", repo.InvalidData(err), err)
	}
	switch {
	case errors.Is(err, errUnsupportedMediaType):
		return http.StatusUnsupportedMediaType, apiError{Code: "unsupported_media_type", Message: "the body must be application/json"}
	case errors.As(err, &mna):
		return http.StatusMethodNotAllowed, apiError{Code: "method_not_allowed", Message: "method not allowed; see the Allow header"}
	case errors.As(err, &br):
		return http.StatusBadRequest, apiError{Code: "bad_request", Message: br.msg, Fields: br.fields}
	case errors.As(err, &pe):
		return http.StatusBadRequest, apiError{Code: "preload_not_allowed", Message: pe.Error(), Allowed: pe.Allowed}
	case errors.Is(err, auth.ErrUnauthenticated), errors.Is(err, scope.ErrNoScope):
		return http.StatusUnauthorized, apiError{Code: "unauthenticated", Message: "missing, unknown, expired or revoked credentials"}
	case errors.Is(err, errRateLimited):
		// One body for every 429; the wait is in Retry-After.
		return http.StatusTooManyRequests, apiError{Code: "rate_limited", Message: "too many failed attempts; retry after the seconds in Retry-After"}
	case errors.Is(err, repo.ErrNotFound), errors.Is(err, errNotFoundRoute), database.RowRefused(err):
		// A row-level security refusal the repositories did not
		// classify: the row is not the scope's, as if missing.
		return http.StatusNotFound, notFoundBody
	case errors.Is(err, repo.ErrForbidden), errors.Is(err, policy.ErrForbidden):
		body := apiError{Code: "forbidden", Message: "forbidden"}
		if errors.As(err, &pol) {
			body.Rule = string(pol.Decision.Action)
			body.Check = pol.Decision.DecidedBy
		}
		return http.StatusForbidden, body
	case errors.Is(err, repo.ErrConflict):
		return http.StatusConflict, apiError{Code: "conflict", Message: conflictMessage(err)}
	case errors.As(err, &inv):
		if !inBody {
			return http.StatusBadRequest, apiError{Code: "bad_request", Message: "invalid query parameter", Fields: inv.Fields}
		}
		return http.StatusUnprocessableEntity, apiError{Code: "invalid", Message: "invalid input", Fields: inv.Fields}
	case database.ConstraintViolated(err):
		// A constraint the repositories did not classify: the request
		// conflicts with the stored rows (a foreign key, the tenant-safe
		// ones of docs/design.md section 8 among them, or a unique index). A
		// missing row and another tenant's fail alike; never a 500.
		return http.StatusConflict, apiError{Code: "conflict", Message: "conflict"}
	case database.TimedOut(err):
		// The request's deadline passed (waiting for a pooled
		// connection, or on a slow statement), PostgreSQL's statement
		// timeout cancelled it, or the client went away, which leaves
		// nobody to read the answer: an overload, not a bug.
		if errors.Is(r.Context().Err(), context.Canceled) {
			s.log.InfoContext(r.Context(), "client went away", slog.String("error", err.Error()))
		} else {
			s.log.WarnContext(r.Context(), "database did not answer in time", slog.String("error", err.Error()))
		}
		return http.StatusServiceUnavailable, apiError{Code: "unavailable", Message: "the database did not answer in time"}
	case database.SchemaMissing(err):
		// A relation missing at request time (42P01 after a 'migrate
		// down'): the database is not ready for this binary, as /readyz
		// says; an outage, not a bug.
		s.log.ErrorContext(r.Context(), "database schema unavailable", slog.String("error", err.Error()))
		return http.StatusServiceUnavailable, apiError{Code: "unavailable", Message: schemaUnavailable}
	case database.Unavailable(err) || s.databaseDown(r):
		s.log.ErrorContext(r.Context(), "database unavailable", slog.String("error", err.Error()))
		return http.StatusServiceUnavailable, apiError{Code: "unavailable", Message: "the database is unavailable"}
	}
	s.log.ErrorContext(r.Context(), "internal error", slog.String("error", err.Error()))
	return http.StatusInternalServerError, apiError{Code: "internal", Message: "internal error"}
}

// retryAfterUnavailable is the Retry-After of every 503, in seconds: an
// outage, a restart, an exhausted pool and a slow statement are all
// seconds long, and a client that waits one second and tries again is
// served as soon as the database is back.
const retryAfterUnavailable = "1"

// schemaUnavailable is the message of a 503 for a schema that is not this
// binary's.
const schemaUnavailable = "the database schema is not the version this server needs; apply the migrations"

// conflictMessage says what conflicted without echoing driver detail.
func conflictMessage(err error) string {
	var ce *repo.ConflictError
	if errors.As(err, &ce) {
		return ce.Reason
	}
	return "conflict"
}

// databaseDown pings the database after an unclassified error: a failure
// whose driver error is not one unavailable knows (a database refusing
// connections answers 55000, say) is still an outage, not a bug.
func (s *Server) databaseDown(r *http.Request) bool {
	if s.ping == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
	defer cancel()
	return s.ping(ctx) != nil
}
