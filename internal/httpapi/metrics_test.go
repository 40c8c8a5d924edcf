package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/internal/metrics"
)

// newTestServer builds the API without a database: enough for the routes
// that need none (/healthz, unknown paths).
func newTestServer(t *testing.T, m Metrics) *Server {
	t.Helper()
	s, err := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(s *Server, path string) int {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code
}

// Requests are counted under their route's pattern; a path that matches
// no route is "unmatched", never itself.
func TestMetricsNameRoutesByPattern(t *testing.T) {
	reg := metrics.New()
	s := newTestServer(t, reg)
	if code := get(s, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz: %d", code)
	}
	if code := get(s, "/nope/123"); code != http.StatusNotFound {
		t.Fatalf("/nope/123: %d", code)
	}
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`scopegate_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`scopegate_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`scopegate_db_statements_per_request_sum{method="GET",route="/healthz"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, "/nope") {
		t.Errorf("/metrics names a raw path:\n%s", body)
	}
}

// The metrics add no allocation to a request: the server is benchmarked
// against a hand-written handler.
func TestMetricsCostNoAllocation(t *testing.T) {
	without := newTestServer(t, nil)
	with := newTestServer(t, metrics.New())
	get(with, "/healthz") // the route's series are made on first use
	base := testing.AllocsPerRun(50, func() { get(without, "/healthz") })
	got := testing.AllocsPerRun(50, func() { get(with, "/healthz") })
	if got > base {
		t.Errorf("%v allocations per request with metrics, %v without", got, base)
	}
}
