package metrics

import (
	"database/sql"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	_ "modernc.org/sqlite" // a pool to take statistics of, without a server
)

// series returns the samples of the metric family name as label strings
// ("method=GET,route=/x,status=200") mapped to their count or value.
func series(t *testing.T, r *Registry, name string) map[string]float64 {
	t.Helper()
	fams, err := r.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out[strings.Join(labels, ",")] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}

func TestRouteObserves(t *testing.T) {
	r := New()
	job := r.Route("/api/jobs/{id}")
	job("GET", 200, time.Millisecond, 2)
	job("GET", 0, time.Millisecond, 2) // nothing written: 200
	job("GET", 404, time.Millisecond, 1)
	job("PATCH", 200, time.Millisecond, 5)
	job("BREW", 418, time.Millisecond, 0) // a client's method is not a label value
	r.Route("/api/jobs/{id}")("GET", 200, time.Millisecond, 2)

	want := map[string]float64{
		"method=GET,route=/api/jobs/{id},status=200":   3,
		"method=GET,route=/api/jobs/{id},status=404":   1,
		"method=PATCH,route=/api/jobs/{id},status=200": 1,
		"method=other,route=/api/jobs/{id},status=418": 1,
	}
	got := series(t, r, "scopegate_http_requests_total")
	if len(got) != len(want) {
		t.Errorf("requests: got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("requests %s = %v, want %v", k, got[k], v)
		}
	}
	if got := series(t, r, "scopegate_http_request_duration_seconds")["method=GET,route=/api/jobs/{id}"]; got != 4 {
		t.Errorf("duration observations of GET: %v, want 4", got)
	}
	if got := series(t, r, "scopegate_db_statements_per_request")["method=PATCH,route=/api/jobs/{id}"]; got != 1 {
		t.Errorf("statement observations of PATCH: %v, want 1", got)
	}
}

// Once a route has seen a method and status, observing it again allocates
// nothing: the server is benchmarked against a hand-written handler.
func TestRouteObserveDoesNotAllocate(t *testing.T) {
	obs := New().Route("/api/jobs")
	obs("GET", 200, time.Millisecond, 3)
	if n := testing.AllocsPerRun(100, func() { obs("GET", 200, time.Millisecond, 3) }); n != 0 {
		t.Errorf("%v allocations per observation, want 0", n)
	}
}

func TestHandlerServesTheTextFormat(t *testing.T) {
	r := New()
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := r.AddDB(db); err != nil {
		t.Fatal(err)
	}
	r.Route("/healthz")("GET", 200, time.Millisecond, 0)
	r.PolicyDenied("job.update")
	r.PolicyDenied("job.update")
	r.PreloadRefused("job", "user")
	ops := r.SystemScopeOperations("archive-stale")
	ops()
	ops()
	ops()
	rec := httptest.NewRecorder()
	r.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`scopegate_http_requests_total{method="GET",route="/healthz",status="200"} 1`,
		`scopegate_go_goroutines `,
		`scopegate_process_cpu_seconds_total `,
		`scopegate_go_sql_open_connections{db_name="scopegate"} `,
		`scopegate_go_sql_wait_count_total{db_name="scopegate"} `,
		`scopegate_policy_denials_total{action="job.update"} 2`,
		`scopegate_preload_refusals_total{entity="job",surface="user"} 1`,
		`scopegate_system_scope_operations_total{job="archive-stale"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Requests that race to a route's first use of a method and status all
// count, whichever of them builds the cached series.
func TestRouteFirstUseRaces(t *testing.T) {
	r := New()
	obs := r.Route("/api/me")
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs("GET", 200, time.Millisecond, 1)
			obs("DELETE", 204, time.Millisecond, 1)
		}()
	}
	wg.Wait()
	got := series(t, r, "scopegate_http_requests_total")
	for _, k := range []string{"method=GET,route=/api/me,status=200", "method=DELETE,route=/api/me,status=204"} {
		if got[k] != n {
			t.Errorf("%s = %v, want %d", k, got[k], n)
		}
	}
}
