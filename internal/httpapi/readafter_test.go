package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A Scopegate-Read-After that is not a WAL position is a client's mistake:
// 400 naming the header, on every signed-in route, whether or not the
// server reads from replicas; a well-formed one changes nothing without
// replicas. No write answer carries the header without replicas.
func TestReadAfterHeader(t *testing.T) {
	s, _, _ := demoServer(t, Config{})
	admin := loginAs(t, s, "admin@acme.test")
	do := func(method, path, value, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set(HeaderReadAfter, value)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	for _, bad := range []string{"x", "0/", "/1", "1/2/3", "G/1", "123456789/1", "-1/1", "0x1/2", " 1/2"} {
		rec := do("GET", "/api/jobs", bad, "")
		require.Equal(t, http.StatusBadRequest, rec.Code, "%q: %s", bad, rec.Body.String())
		var out struct{ Error apiError }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		assert.Equal(t, "bad_request", out.Error.Code)
		assert.Contains(t, out.Error.Fields, HeaderReadAfter, "%q", bad)
	}
	rec := do("POST", "/api/companies", "zz", `{"name":"Not created"}`)
	require.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	rec = do("GET", "/api/companies", "", "")
	assert.NotContains(t, rec.Body.String(), "Not created", "a request refused for its header wrote")

	for _, good := range []string{"0/0", "16/B374D848", "ffffffff/FFFFFFFF"} {
		rec := do("GET", "/api/jobs", good, "")
		require.Equal(t, http.StatusOK, rec.Code, "%q: %s", good, rec.Body.String())
	}
	rec = do("POST", "/api/companies", "0/1", `{"name":"Created"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Empty(t, rec.Header().Get(HeaderReadAfter), "a server without replicas has no WAL position to give")
}
