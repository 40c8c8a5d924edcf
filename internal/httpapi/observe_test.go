package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/logging"
	"github.com/scopegate/scopegate/internal/logging/logtest"
	"github.com/scopegate/scopegate/internal/metrics"
)

// demoServer serves the demo world from an embedded SQLite file, logging
// JSON to the returned buffer.
func demoServer(t *testing.T, cfg Config) (*Server, *database.DB, *logtest.Buffer) {
	t.Helper()
	ctx := context.Background()
	db, err := demo.OpenEmbedded(ctx, "file:"+filepath.Join(t.TempDir(), "demo.db"), database.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	logs := &logtest.Buffer{}
	// A JSON handler without logging.Handler: the server adds the
	// request id itself.
	cfg.Client = db.Client
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	s, err := New(cfg)
	require.NoError(t, err)
	return s, db, logs
}

func send(s http.Handler, method, path, token, body, requestID string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if requestID != "" {
		req.Header.Set("X-Request-Id", requestID)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func loginAs(t *testing.T, s http.Handler, email string) string {
	t.Helper()
	rec := send(s, "POST", "/api/session", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, demo.Password), "")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
	return out.Token
}

// Every line written while serving a request carries its request_id: the
// failed login, the internal error and the not-ready lines as well as the
// access log (docs/design.md section 11). The log is JSON lines and nothing else.
func TestLogLinesCarryTheRequestID(t *testing.T) {
	ping := func(context.Context) error { return nil }
	s, db, logs := demoServer(t, Config{Ping: func(ctx context.Context) error { return ping(ctx) }})
	const member = "member@acme.test"

	rec := send(s, "POST", "/api/session", "", fmt.Sprintf(`{"email":%q,"password":"wrong password"}`, member), "req-failed-login")
	require.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())

	ping = func(context.Context) error { return errors.New("connection refused") }
	rec = send(s, "GET", "/readyz", "", "", "req-not-ready")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)

	// A closed pool ("sql: database is closed"): an error nothing
	// classifies, a bug of the server's own.
	token := loginAs(t, s, member)
	require.NoError(t, db.Close())
	rec = send(s, "GET", "/api/jobs", token, "", "req-internal")
	require.Equal(t, http.StatusInternalServerError, rec.Code, rec.Body.String())
	// A request id the server makes up is logged too.
	rec = send(s, "GET", "/readyz", "", "", "")
	generated := rec.Header().Get("X-Request-Id")
	require.NotEmpty(t, generated)

	seen := map[string][]string{} // message -> request ids, in order
	for _, l := range logtest.Lines(t, logs.String()) {
		msg, _ := l["msg"].(string)
		id, ok := l[logging.RequestIDKey].(string)
		assert.True(t, ok && id != "", "a line without request_id: %v", l)
		if msg != "request" {
			seen[msg] = append(seen[msg], id)
		}
	}
	assert.Contains(t, seen["failed login"], "req-failed-login")
	assert.Contains(t, seen["not ready"], "req-not-ready")
	assert.Contains(t, seen["internal error"], "req-internal")
	assert.Contains(t, logs.String(), `"request_id":"`+generated+`"`)
}

// A policy denial and a preload refusal answered to a client are counted
// by action, and by entity and surface.
func TestMetricsCountRefusals(t *testing.T) {
	reg := metrics.New()
	s, _, _ := demoServer(t, Config{Metrics: reg})
	member := loginAs(t, s, "member@acme.test")

	// (A PATCH would lock its row first, which the embedded SQLite
	// cannot: company.create is denied before any statement.)
	rec := send(s, "POST", "/api/companies", member, `{"name":"Mine"}`, "")
	require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	rec = send(s, "GET", "/api/jobs?preload=password_hash", member, "", "")
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	rec = send(s, "GET", "/api/admin/jobs", member, "", "")
	require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())

	rec = httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		`scopegate_policy_denials_total{action="company.create"} 1`,
		`scopegate_policy_denials_total{action="surface.admin"} 1`,
		`scopegate_preload_refusals_total{entity="job",surface="user"} 1`,
	} {
		assert.Contains(t, rec.Body.String(), want)
	}
}

// GET /healthz names the build: module version, VCS revision and time,
// and the Go version.
func TestHealthzNamesTheBuild(t *testing.T) {
	s := newTestServer(t, nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var got map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, "ok", got["status"])
	assert.Equal(t, runtime.Version(), got["go"])
	assert.NotEmpty(t, got["version"])
	for _, k := range []string{"revision", "time", "modified"} {
		assert.Contains(t, got, k)
	}
}
