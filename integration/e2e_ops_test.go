package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/internal/demo"
)

// TestE2EOps starts the real binary with its ops listener (docs/design.md section
// 11): /metrics names routes by their pattern, never by a raw path, the
// profiler answers only with --pprof, and the API's listener serves
// neither.
func TestE2EOps(t *testing.T) {
	t.Parallel()
	sg := binary.Command{Path: binary.Scopegate(t), Dir: t.TempDir()}
	s := e2eServe(t, sg, "--pprof")
	require.True(t, strings.HasPrefix(s.Ops, "http://127.0.0.1:"), "ops address %q", s.Ops)
	require.NotEqual(t, s.Base, s.Ops)

	token := s.login(t, "member@acme.test", demo.Password)
	code, body := s.do(t, "GET", "/api/jobs", token, "")
	require.Equal(t, http.StatusOK, code, body)
	var page struct{ Data []struct{ ID int } }
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.NotEmpty(t, page.Data)
	id := itoa(page.Data[0].ID)
	code, body = s.do(t, "GET", "/api/jobs/"+id, token, "")
	require.Equal(t, http.StatusOK, code, body)
	code, _ = s.do(t, "GET", "/api/jobs/987654", token, "")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = s.do(t, "GET", "/no/such/route/42", "", "")
	require.Equal(t, http.StatusNotFound, code)

	// The API's listener serves neither the metrics nor the profiler:
	// both are the API's own 404.
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/cmdline"} {
		code, body := s.do(t, "GET", path, "", "")
		assert.Equal(t, http.StatusNotFound, code, "API listener, %s", path)
		assert.Contains(t, body, `"not_found"`, "API listener, %s", path)
	}

	code, metrics := e2eDo(t, "GET", s.Ops+"/metrics", "", "")
	require.Equal(t, http.StatusOK, code, metrics)
	for _, want := range []string{
		`scopegate_http_requests_total{method="POST",route="/api/session",status="201"} 1`,
		`scopegate_http_requests_total{method="GET",route="/api/jobs",status="200"} 1`,
		`scopegate_http_requests_total{method="GET",route="/api/jobs/{id}",status="200"} 1`,
		`scopegate_http_requests_total{method="GET",route="/api/jobs/{id}",status="404"} 1`,
		`scopegate_http_requests_total{method="GET",route="unmatched",status="404"} 4`, // the route above and the three on the API listener
		`scopegate_http_request_duration_seconds_bucket{method="GET",route="/api/jobs/{id}",le="+Inf"} 2`,
		`scopegate_db_statements_per_request_bucket{method="GET",route="/api/jobs",le="+Inf"} 1`,
		`scopegate_go_goroutines `,
		`scopegate_process_cpu_seconds_total `,
		`scopegate_go_sql_open_connections{db_name="scopegate"} `,
		`scopegate_go_sql_wait_count_total{db_name="scopegate"} `,
	} {
		assert.Contains(t, metrics, want)
	}
	// A request that reads sends statements; a route that matched
	// nothing sends none.
	assert.Greater(t, metricValue(t, metrics, `scopegate_db_statements_per_request_sum{method="GET",route="/api/jobs"}`), 0.0)
	assert.Zero(t, metricValue(t, metrics, `scopegate_db_statements_per_request_sum{method="GET",route="unmatched"}`))
	for _, raw := range []string{"/api/jobs/" + id, "987654", "/no/such", "/debug/pprof"} {
		assert.NotContains(t, metrics, raw, "a raw path in a label")
	}

	code, body = e2eDo(t, "GET", s.Ops+"/debug/pprof/", "", "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "goroutine")
	code, _ = e2eDo(t, "GET", s.Ops+"/debug/pprof/heap?debug=1", "", "")
	assert.Equal(t, http.StatusOK, code)
	s.stop(t)

	// Without --pprof the ops listener has no profiler.
	s = e2eServe(t, sg)
	code, _ = e2eDo(t, "GET", s.Ops+"/metrics", "", "")
	assert.Equal(t, http.StatusOK, code)
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap"} {
		code, _ = e2eDo(t, "GET", s.Ops+path, "", "")
		assert.Equal(t, http.StatusNotFound, code, "ops listener without --pprof, %s", path)
	}
	s.stop(t)

	// Disabled: no ops listener, and the API still serves.
	s = e2eServe(t, sg, "--ops-addr=")
	assert.Empty(t, s.Ops)
	code, _ = s.do(t, "GET", "/healthz", "", "")
	assert.Equal(t, http.StatusOK, code)
	s.stop(t)
}

// metricValue returns the value of the sample named (with its labels)
// series in a text-format scrape.
func metricValue(t *testing.T, scrape, series string) float64 {
	t.Helper()
	v, ok := binary.MetricValue(scrape, series)
	require.True(t, ok, "no sample %s", series)
	return v
}
