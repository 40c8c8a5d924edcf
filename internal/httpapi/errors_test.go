package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// TestAnswers: each kind of error, as a handler gets it (wrapped), answers
// its status, code, message and details. The driver's errors reach here
// classified (internal/repo's TestClassify); these are what the
// classification yields.
func TestAnswers(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("op: %w", err) }
	denial := &policy.Error{Decision: policy.Decision{Action: policy.JobUpdate, DecidedBy: "deny: banned"}}
	refusal := &preload.Error{Path: "password_hash", Entity: preload.Job, Surface: preload.SurfaceUser,
		Reason: preload.ReasonUnknown, Allowed: []string{"company"}}
	for _, c := range []struct {
		name   string
		err    error
		status int
		want   apiError
	}{
		{"unsupported media type", errUnsupportedMediaType, 415,
			apiError{Code: "unsupported_media_type", Message: "the body must be application/json"}},
		{"method not allowed", &methodNotAllowed{allow: []string{"GET"}}, 405,
			apiError{Code: "method_not_allowed", Message: "method not allowed; see the Allow header"}},
		{"bad request", &badRequest{msg: "unknown field", fields: map[string]string{"x": "unknown"}}, 400,
			apiError{Code: "bad_request", Message: "unknown field", Fields: map[string]string{"x": "unknown"}}},
		{"rate limited", &rateLimited{}, 429,
			apiError{Code: "rate_limited", Message: "too many failed attempts; retry after the seconds in Retry-After"}},
		{"no route", errNotFoundRoute, 404, notFoundBody},
		{"preload refused", wrap(fmt.Errorf("%w: %w", repo.ErrPreloadRefused, refusal)), 400,
			apiError{Code: "preload_not_allowed", Message: refusal.Error(), Allowed: []string{"company"}}},
		{"unauthenticated", wrap(repo.ErrUnauthenticated), 401,
			apiError{Code: "unauthenticated", Message: "missing, unknown, expired or revoked credentials"}},
		{"not found", wrap(repo.ErrNotFound), 404, notFoundBody},
		{"forbidden by the policy", wrap(fmt.Errorf("%w: %w", repo.ErrForbidden, denial)), 403,
			apiError{Code: "forbidden", Message: "forbidden", Rule: "job.update", Check: "deny: banned"}},
		{"forbidden by a privacy rule", wrap(repo.ErrForbidden), 403, apiError{Code: "forbidden", Message: "forbidden"}},
		{"a conflict with its reason", wrap(&repo.ConflictError{Reason: "company has jobs", Err: errors.New("driver detail")}), 409,
			apiError{Code: "conflict", Message: "company has jobs"}},
		{"a bare conflict", wrap(repo.ErrConflict), 409, apiError{Code: "conflict", Message: "conflict"}},
		{"an invalid body", wrap(&repo.InvalidError{Fields: map[string]string{"title": "is required"}}), 422,
			apiError{Code: "invalid", Message: "invalid input", Fields: map[string]string{"title": "is required"}}},
		{"an invalid query", wrap(&repo.InvalidError{Fields: map[string]string{"cursor": "not a cursor of this list"}, Source: repo.FromQuery}), 400,
			apiError{Code: "bad_request", Message: "invalid query parameter", Fields: map[string]string{"cursor": "not a cursor of this list"}}},
		{"timed out", wrap(fmt.Errorf("%w: %w", repo.ErrTimedOut, context.DeadlineExceeded)), 503,
			apiError{Code: "unavailable", Message: "the database did not answer in time"}},
		{"the schema behind", wrap(fmt.Errorf("%w: relation \"jobs\" does not exist", repo.ErrSchema)), 503,
			apiError{Code: "unavailable", Message: schemaUnavailable}},
		{"the database down", wrap(fmt.Errorf("%w: dial tcp: connection refused", repo.ErrUnavailable)), 503,
			apiError{Code: "unavailable", Message: "the database is unavailable"}},
		{"an error of no kind", errors.New("boom"), 500, apiError{Code: "internal", Message: "internal error"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
			status, body := s.classify(httptest.NewRequest(http.MethodGet, "/api/jobs", nil), c.err)
			if status != c.status || fmt.Sprint(body) != fmt.Sprint(c.want) {
				t.Errorf("%d %+v, want %d %+v", status, body, c.status, c.want)
			}
		})
	}
}

// TestEveryKindIsAnswered: the table answers every kind a handler can
// meet, the repositories' and this package's, and nothing else; a new kind
// in repo.Kinds without a row here would be a 500.
func TestEveryKindIsAnswered(t *testing.T) {
	kinds := append(append([]error{}, ownKinds...), repo.Kinds...)
	for _, k := range kinds {
		if _, ok := answers[k]; !ok {
			t.Errorf("kind %q has no answer", k)
		}
		if got := kindOf(fmt.Errorf("wrapped: %w", k)); got != k {
			t.Errorf("kindOf(%q) = %v", k, got)
		}
	}
	if len(answers) != len(kinds) {
		t.Errorf("%d answers for %d kinds: an answer for something no handler returns", len(answers), len(kinds))
	}
}

// TestUnknownErrorIsInternalAndLogged: an error of no kind is a 500 with
// the short body, and its detail is logged, never sent. Outages are
// logged too (without detail to the client); a client's mistake is not.
func TestUnknownErrorIsInternalAndLogged(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil))}
	r := httptest.NewRequest(http.MethodGet, "/api/jobs", nil)
	rec := httptest.NewRecorder()
	s.writeError(rec, r, errors.New("list jobs: secret driver detail"))
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "secret") {
		t.Errorf("%d %s, want 500 without the detail", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "level=ERROR msg=\"internal error\"") || !strings.Contains(logs.String(), "secret driver detail") {
		t.Errorf("not logged with its detail: %s", logs.String())
	}

	logs.Reset()
	s.writeError(httptest.NewRecorder(), r, fmt.Errorf("get job: %w", repo.ErrNotFound))
	if logs.Len() != 0 {
		t.Errorf("a 404 is logged: %s", logs.String())
	}
	s.writeError(httptest.NewRecorder(), r, fmt.Errorf("list jobs: %w: dial tcp: refused", repo.ErrUnavailable))
	if !strings.Contains(logs.String(), "level=ERROR msg=\"database unavailable\"") {
		t.Errorf("an outage is not logged: %s", logs.String())
	}

	// A deadline passed because the client went away: a note, not a
	// warning.
	logs.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.writeError(httptest.NewRecorder(), r.WithContext(ctx), fmt.Errorf("list jobs: %w: %w", repo.ErrTimedOut, context.Canceled))
	if !strings.Contains(logs.String(), "level=INFO msg=\"client went away\"") {
		t.Errorf("a client gone is not an info line: %s", logs.String())
	}
}

// TestErrorHeaders: 401 names the scheme, 405 the methods, 429 and 503
// when to retry.
func TestErrorHeaders(t *testing.T) {
	s := &Server{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	r := httptest.NewRequest(http.MethodGet, "/api/jobs", nil)
	for _, c := range []struct {
		err          error
		header, want string
	}{
		{repo.ErrUnauthenticated, "WWW-Authenticate", "Bearer"},
		{&methodNotAllowed{allow: []string{"GET", "HEAD"}}, "Allow", "GET, HEAD"},
		{&rateLimited{retryAfter: 1500 * 1e6}, "Retry-After", "2"},
		{fmt.Errorf("%w: refused", repo.ErrUnavailable), "Retry-After", "1"},
		{fmt.Errorf("%w: late", repo.ErrTimedOut), "Retry-After", "1"},
		{fmt.Errorf("%w: behind", repo.ErrSchema), "Retry-After", "1"},
	} {
		rec := httptest.NewRecorder()
		s.writeError(rec, r, c.err)
		if got := rec.Header().Get(c.header); got != c.want {
			t.Errorf("%v: %s %q, want %q", c.err, c.header, got, c.want)
		}
	}
}

// TestReadyzChecksTheSchema: /readyz asks Ready (the schema version, in
// serve), not only Ping.
func TestReadyzChecksTheSchema(t *testing.T) {
	var ready error
	s, err := New(Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ping:   func(context.Context) error { return nil },
		Ready:  func(context.Context) error { return ready },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ready  error
		status int
		msg    string
	}{
		{nil, http.StatusOK, ""},
		{fmt.Errorf("migration: pending migrations: %w: 1 not applied", database.ErrSchema), http.StatusServiceUnavailable, "schema"},
		{errors.New("dial tcp: connection refused"), http.StatusServiceUnavailable, "the database is unavailable"},
	} {
		ready = c.ready
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.msg) {
			t.Errorf("ready %v: %d %s, want %d and %q", c.ready, rec.Code, rec.Body, c.status, c.msg)
		}
	}
}

// TestReadyzAnswersThroughTheTable: /readyz's 503 is the answers table's,
// through writeError: for an unreachable database the status, Retry-After
// and body of an outage a request meets (repo.ErrUnavailable), for a schema
// that is not this binary's those of repo.ErrSchema; and a changed row of
// the table is what /readyz answers, so it cannot keep a copy of its own.
func TestReadyzAnswersThroughTheTable(t *testing.T) {
	var ready error
	s, err := New(Config{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Ready:  func(context.Context) error { return ready },
	})
	if err != nil {
		t.Fatal(err)
	}
	readyz := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec
	}
	for _, c := range []struct {
		name        string
		ready, kind error
	}{
		{"unreachable", errors.New("dial tcp: connection refused"), repo.ErrUnavailable},
		{"schema", fmt.Errorf("migration: pending migrations: %w: 1 not applied", database.ErrSchema), repo.ErrSchema},
	} {
		t.Run(c.name, func(t *testing.T) {
			ready = c.ready
			got := readyz()
			want := httptest.NewRecorder()
			s.writeError(want, httptest.NewRequest(http.MethodGet, "/api/jobs", nil), fmt.Errorf("list jobs: %w", c.kind))
			if want.Code != http.StatusServiceUnavailable {
				t.Fatalf("writeError(%v) = %d, want 503", c.kind, want.Code)
			}
			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("/readyz: %d %s, want writeError's %d %s", got.Code, got.Body, want.Code, want.Body)
			}
			for _, h := range []string{"Retry-After", "Content-Type"} {
				if got.Header().Get(h) != want.Header().Get(h) {
					t.Errorf("/readyz: %s %q, want writeError's %q", h, got.Header().Get(h), want.Header().Get(h))
				}
			}
		})
	}

	saved := answers[errNotReady]
	t.Cleanup(func() { answers[errNotReady] = saved })
	changed := saved
	changed.code, changed.message = "changed_code", "changed message"
	answers[errNotReady] = changed
	ready = errors.New("dial tcp: connection refused")
	if rec := readyz(); !strings.Contains(rec.Body.String(), `"code":"changed_code","message":"changed message"`) {
		t.Errorf("/readyz with a changed row of the table: %d %s", rec.Code, rec.Body)
	}
}

// TestUnreachableDatabaseIs503: a database nobody answers at is an outage
// (503 unavailable, Retry-After), for a signed-in request and a login
// alike. The repositories classify the refused connection; no ping is
// needed to tell an outage from a bug.
func TestUnreachableDatabaseIs503(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	db, err := sql.Open("postgres", "postgres://scopegate@"+addr+"/scopegate?sslmode=disable&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var logs bytes.Buffer
	s, err := New(Config{Client: database.NewClient(db, dialect.Postgres, database.Options{}),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/api/jobs", nil),
		httptest.NewRequest(http.MethodPost, "/api/session", strings.NewReader(`{"email":"a@b.test","password":"long enough password"}`)),
	} {
		req.Header.Set("Authorization", "Bearer some-token")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" ||
			!strings.Contains(rec.Body.String(), `"code":"unavailable","message":"the database is unavailable"`) {
			t.Errorf("%s %s: %d %v %s, want 503 unavailable with Retry-After", req.Method, req.URL, rec.Code, rec.Header(), rec.Body)
		}
	}
	if !strings.Contains(logs.String(), `msg="database unavailable"`) {
		t.Errorf("the outage is not logged: %s", logs.String())
	}
}
