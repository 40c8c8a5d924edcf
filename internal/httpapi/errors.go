package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
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

// errMethodNotAllowed is a known path asked with a method it does not
// serve; see *methodNotAllowed for the methods it does.
var errMethodNotAllowed = errors.New("method not allowed")

// methodNotAllowed names the methods the path serves, for Allow.
type methodNotAllowed struct{ allow []string }

func (e *methodNotAllowed) Error() string        { return "method not allowed" }
func (e *methodNotAllowed) Is(target error) bool { return target == errMethodNotAllowed }

// errNotFoundRoute answers paths that are not routes.
var errNotFoundRoute = errors.New("no such route")

// errNotReady is a failed readiness check; see *notReady.
var errNotReady = errors.New("not ready")

// notReady is what /readyz's check (Config.Ready) said: the database is
// unreachable, or not at this binary's schema version. It answers the 503
// of an outage, and is logged as a warning ("not ready"), not as the error
// an outage met by a request is: a load balancer asks through every outage
// and restart. Its text is the check's, for the log.
type notReady struct{ err error }

func (e *notReady) Error() string        { return e.err.Error() }
func (e *notReady) Unwrap() error        { return e.err }
func (e *notReady) Is(target error) bool { return target == errNotReady }

// answer is what one kind of error answers: a status, the code and message
// of its body, and, for an outage, the line it logs.
type answer struct {
	status  int
	code    string
	message string
	// logged is the message of the log line at level, "" for none.
	// Only outages are logged here: what a client got wrong is in the
	// access log's status, and an internal error is logged with its
	// detail below.
	level  slog.Level
	logged string
}

// answers is the table from every kind of error a handler returns (the
// repositories' repo.Kinds and this package's ownKinds) to its answer.
// A kind missing here would be a 500: TestEveryKindIsAnswered checks that
// none is. What an error says beyond its kind (the fields of an invalid
// input, the paths a refused preload may take) is added by body.
var answers = map[error]answer{
	// This package's: the request could not be read or routed.
	errUnsupportedMediaType: {status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", message: "the body must be application/json"},
	errMethodNotAllowed:     {status: http.StatusMethodNotAllowed, code: "method_not_allowed", message: "method not allowed; see the Allow header"},
	errBadRequest:           {status: http.StatusBadRequest, code: "bad_request", message: "bad request"},
	// One body for every 429; the wait is in Retry-After.
	errRateLimited:   {status: http.StatusTooManyRequests, code: "rate_limited", message: "too many failed attempts; retry after the seconds in Retry-After"},
	errNotFoundRoute: {status: http.StatusNotFound, code: notFoundBody.Code, message: notFoundBody.Message},
	// /readyz: an outage's answer, with the schema's message when the
	// schema is the reason (body).
	errNotReady: {status: http.StatusServiceUnavailable, code: "unavailable", message: databaseUnavailable,
		level: slog.LevelWarn, logged: "not ready"},

	// The repositories'.
	repo.ErrPreloadRefused:  {status: http.StatusBadRequest, code: "preload_not_allowed", message: "preload not allowed"},
	repo.ErrUnauthenticated: {status: http.StatusUnauthorized, code: "unauthenticated", message: "missing, unknown, expired or revoked credentials"},
	// A hidden row and a missing one: the same body, byte for byte.
	repo.ErrNotFound:     {status: http.StatusNotFound, code: notFoundBody.Code, message: notFoundBody.Message},
	repo.ErrForbidden:    {status: http.StatusForbidden, code: "forbidden", message: "forbidden"},
	repo.ErrConflict:     {status: http.StatusConflict, code: "conflict", message: "conflict"},
	repo.ErrInvalidQuery: {status: http.StatusBadRequest, code: "bad_request", message: "invalid query parameter"},
	repo.ErrInvalid:      {status: http.StatusUnprocessableEntity, code: "invalid", message: "invalid input"},
	// Outages, not bugs: the client may retry (Retry-After).
	repo.ErrTimedOut: {status: http.StatusServiceUnavailable, code: "unavailable", message: "the database did not answer in time",
		level: slog.LevelWarn, logged: "database did not answer in time"},
	repo.ErrSchema: {status: http.StatusServiceUnavailable, code: "unavailable", message: schemaUnavailable,
		level: slog.LevelError, logged: "database schema unavailable"},
	repo.ErrUnavailable: {status: http.StatusServiceUnavailable, code: "unavailable", message: databaseUnavailable,
		level: slog.LevelError, logged: "database unavailable"},
}

// ownKinds are this package's kinds of error, tried before the
// repositories'.
var ownKinds = []error{errUnsupportedMediaType, errMethodNotAllowed, errBadRequest, errRateLimited, errNotFoundRoute, errNotReady}

// kindOf is err's kind: one of ownKinds or repo.Kinds, or nil for an
// internal error.
func kindOf(err error) error {
	for _, k := range ownKinds {
		if errors.Is(err, k) {
			return k
		}
	}
	return repo.KindOf(err)
}

// internalAnswer is every error of no kind: a bug, logged with its detail.
var internalAnswer = answer{status: http.StatusInternalServerError, code: "internal", message: "internal error",
	level: slog.LevelError, logged: "internal error"}

// The one body every hidden or missing row gets: byte for byte the same.
var notFoundBody = apiError{Code: "not_found", Message: "not found"}

// writeError answers err through the table: a status, a stable code and a
// short message, and the headers its kind calls for. Only outages and
// internal errors are logged, the latter with their detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := s.classify(r, err)
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

// classify looks err's kind up in answers, and logs it if the kind says
// so.
func (s *Server) classify(r *http.Request, err error) (int, apiError) {
	kind := kindOf(err)
	a, ok := answers[kind]
	if !ok {
		a = internalAnswer
	}
	if a.logged != "" {
		level, msg := a.level, a.logged
		if kind == repo.ErrTimedOut && errors.Is(r.Context().Err(), context.Canceled) {
			// The client went away, which leaves nobody to read
			// the answer: worth a note, not a warning.
			level, msg = slog.LevelInfo, "client went away"
		}
		s.log.Log(r.Context(), level, msg, slog.String("error", err.Error()))
	}
	return a.status, body(kind, a, err)
}

// body is the error body of a: its code and message, with what err says
// beyond its kind.
func body(kind error, a answer, err error) apiError {
	b := apiError{Code: a.code, Message: a.message}
	var (
		br  *badRequest
		pe  *preload.Error
		pol *policy.Error
		inv *repo.InvalidError
		ce  *repo.ConflictError
	)
	switch kind {
	case errBadRequest:
		if errors.As(err, &br) {
			b.Message, b.Fields = br.msg, br.fields
		}
	case repo.ErrPreloadRefused:
		if errors.As(err, &pe) {
			b.Message, b.Allowed = pe.Error(), pe.Allowed
		}
	case repo.ErrForbidden:
		// A policy denial names its rule and the check that decided.
		if errors.As(err, &pol) {
			b.Rule, b.Check = string(pol.Decision.Action), pol.Decision.DecidedBy
		}
	case repo.ErrConflict:
		// What conflicted, in words safe to show; never driver detail.
		if errors.As(err, &ce) {
			b.Message = ce.Reason
		}
	case repo.ErrInvalid, repo.ErrInvalidQuery:
		if errors.As(err, &inv) {
			b.Fields = inv.Fields
		}
	case errNotReady:
		// The schema's own message, as a request that met it gets.
		if errors.Is(err, repo.ErrSchema) {
			b.Message = answers[repo.ErrSchema].message
		}
	}
	return b
}

// retryAfterUnavailable is the Retry-After of every 503, in seconds: an
// outage, a restart, an exhausted pool and a slow statement are all
// seconds long, and a client that waits one second and tries again is
// served as soon as the database is back.
const retryAfterUnavailable = "1"

// databaseUnavailable is the message of a 503 for a database that does
// not answer.
const databaseUnavailable = "the database is unavailable"

// schemaUnavailable is the message of a 503 for a schema that is not this
// binary's.
const schemaUnavailable = "the database schema is not the version this server needs; apply the migrations"
