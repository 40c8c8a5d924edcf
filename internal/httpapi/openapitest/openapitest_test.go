package openapitest_test

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/httpapi/openapitest"
)

const (
	job  = `{"id":1,"org_id":1,"company_id":2,"title":"t","description":"","status":"published","created_by_id":3,"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`
	user = `{"id":3,"org_id":1,"name":"n","role":"admin","banned":false,"active":true,"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:05Z"}`
)

// answer is what the fake server answers one request.
type answer struct {
	status  int
	body    string
	headers map[string]string
}

// exchange sends one request to a fake server that answers a, through a
// validating client, and returns the round trip's error.
func exchange(t *testing.T, a answer, method, path, token, body string, invalid bool) error {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range a.headers {
			w.Header().Set(k, v)
		}
		if a.body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	defer srv.Close()
	v, err := openapitest.Server()
	if err != nil {
		t.Fatal(err)
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if invalid {
		req = openapitest.Invalid(req)
	}
	res, err := v.Client(srv.Client()).Do(req)
	if err == nil {
		res.Body.Close()
	}
	return err
}

// The validation is not vacuous: each documented exchange passes, and each
// way of breaking it fails with ErrMismatch naming the route and status.
func TestValidatorCatchesMismatches(t *testing.T) {
	notFound := answer{status: 404, body: `{"error":{"code":"not_found","message":"not found"}}`}
	for _, c := range []struct {
		name                      string
		answer                    answer
		method, path, token, body string
		invalid                   bool
		wantErr                   bool
		wantIn                    string // in the error, when wanted
	}{
		{name: "OK", answer: answer{200, `{"data":` + job + `}`, nil}, method: "GET", path: "/api/jobs/1", token: "t"},
		{name: "OKList", answer: answer{200, `{"data":[` + job + `],"next_cursor":"abc"}`, nil}, method: "GET", path: "/api/jobs?limit=5&status=draft", token: "t"},
		{name: "OKCreated", answer: answer{201, `{"data":` + job + `}`, nil}, method: "POST", path: "/api/jobs", token: "t", body: `{"title":"t","company_id":2}`},
		{name: "OKNoContent", answer: answer{204, ``, nil}, method: "DELETE", path: "/api/jobs/1", token: "t"},
		{name: "OKNotFound", answer: notFound, method: "GET", path: "/api/jobs/1", token: "t"},
		{name: "OKUnknownPath", answer: notFound, method: "GET", path: "/api/nothing/here", token: "t"},
		{name: "OKNoTokenIs401", answer: answer{401, `{"error":{"code":"unauthenticated","message":"m"}}`, map[string]string{"WWW-Authenticate": "Bearer"}}, method: "GET", path: "/api/me"},
		{name: "OKPublic", answer: answer{200, `{"status":"ok","version":"v1"}`, nil}, method: "GET", path: "/healthz"},
		{name: "OKWrongMethod405", answer: answer{405, `{"error":{"code":"method_not_allowed","message":"m"}}`, map[string]string{"Allow": "GET, PATCH, DELETE"}},
			method: "PUT", path: "/api/jobs/1", token: "t", body: `{}`},
		{name: "OKMarkedInvalid", answer: answer{400, `{"error":{"code":"bad_request","message":"m"}}`, nil}, method: "POST", path: "/api/jobs", token: "t", body: `{`, invalid: true},

		{name: "ErrUndocumentedStatus", answer: answer{418, `{"error":{"code":"conflict","message":"m"}}`, nil}, method: "GET", path: "/api/me", token: "t",
			wantErr: true, wantIn: "GET /api/me (route GET /api/me) -> 418"},
		{name: "Err500", answer: answer{500, `{"error":{"code":"internal","message":"internal error"}}`, nil}, method: "GET", path: "/api/jobs", token: "t", wantErr: true},
		{name: "ErrExtraField", answer: answer{200, `{"data":` + strings.Replace(job, `"id":1`, `"id":1,"password_hash":"x"`, 1) + `}`, nil},
			method: "GET", path: "/api/jobs/1", token: "t", wantErr: true, wantIn: "password_hash"},
		{name: "ErrMissingField", answer: answer{200, `{"data":` + strings.Replace(job, `"title":"t",`, ``, 1) + `}`, nil},
			method: "GET", path: "/api/jobs/1", token: "t", wantErr: true, wantIn: "title"},
		{name: "ErrNullList", answer: answer{200, `{"data":null}`, nil}, method: "GET", path: "/api/users", token: "t", wantErr: true},
		{name: "ErrCodeOfAnotherStatus", answer: answer{404, `{"error":{"code":"conflict","message":"m"}}`, nil}, method: "GET", path: "/api/jobs/1", token: "t", wantErr: true},
		{name: "ErrForbiddenWithoutRule", answer: answer{403, `{"error":{"code":"forbidden","message":"m"}}`, nil}, method: "DELETE", path: "/api/jobs/1", token: "t", wantErr: true},
		{name: "ErrInvalidWithoutFields", answer: answer{422, `{"error":{"code":"invalid","message":"m"}}`, nil}, method: "POST", path: "/api/jobs", token: "t",
			body: `{"title":"t","company_id":2}`, wantErr: true},
		{name: "ErrUnknownPathAnswered200", answer: answer{200, `{"data":{}}`, nil}, method: "GET", path: "/api/nothing", token: "t", wantErr: true},
		{name: "ErrUnknownPathHTML", answer: answer{404, ``, nil}, method: "GET", path: "/api/nothing", token: "t", wantErr: true},
		{name: "ErrWrongMethod405WithoutAllow", answer: answer{405, `{"error":{"code":"method_not_allowed","message":"m"}}`, nil},
			method: "PUT", path: "/api/jobs/1", token: "t", body: `{}`, wantErr: true},
		{name: "Err401WithoutChallenge", answer: answer{401, `{"error":{"code":"unauthenticated","message":"m"}}`, nil}, method: "GET", path: "/api/me",
			wantErr: true, wantIn: "WWW-Authenticate"},
		{name: "Err429WithoutRetryAfter", answer: answer{429, `{"error":{"code":"rate_limited","message":"m"}}`, nil}, method: "POST", path: "/api/session",
			body: `{"email":"a@b.test","password":"p"}`, wantErr: true, wantIn: "Retry-After"},
		{name: "Err503WithoutRetryAfter", answer: answer{503, `{"error":{"code":"unavailable","message":"m"}}`, nil}, method: "GET", path: "/api/jobs", token: "t",
			wantErr: true, wantIn: "Retry-After"},
		{name: "ErrNoTokenAnswered200", answer: answer{200, `{"data":[]}`, nil}, method: "GET", path: "/api/jobs", wantErr: true},
		{name: "ErrRequestBody", answer: answer{201, `{"data":` + job + `}`, nil}, method: "POST", path: "/api/jobs", token: "t",
			body: `{"title":"t","company_id":2,"org_id":9}`, wantErr: true, wantIn: "request"},
		{name: "ErrRequestQuery", answer: answer{200, `{"data":[]}`, nil}, method: "GET", path: "/api/jobs?limit=500", token: "t", wantErr: true},
		{name: "ErrTooManyIDs", answer: answer{201, `{"data":` + job + `}`, nil}, method: "POST", path: "/api/jobs", token: "t",
			body: `{"title":"t","company_id":2,"manager_ids":[` + strings.TrimSuffix(strings.Repeat("1,", 101), ",") + `]}`, wantErr: true},
		{name: "ErrMarkedInvalidStillChecksResponse", answer: answer{500, `{"error":{"code":"internal","message":"m"}}`, nil},
			method: "POST", path: "/api/jobs", token: "t", body: `{`, invalid: true, wantErr: true},
		{name: "ErrRedactedUnknownField", answer: answer{200, `{"data":` + strings.Replace(user, `"id":3`, `"id":3,"redacted":["password"]`, 1) + `}`, nil},
			method: "GET", path: "/api/users/3", token: "t", wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := exchange(t, c.answer, c.method, c.path, c.token, c.body, c.invalid)
			if !c.wantErr {
				if err != nil {
					t.Fatalf("a documented exchange failed: %v", err)
				}
				return
			}
			if !errors.Is(err, openapitest.ErrMismatch) {
				t.Fatalf("want ErrMismatch, got %v", err)
			}
			if !strings.Contains(err.Error(), c.wantIn) {
				t.Errorf("error %q does not say %q", err, c.wantIn)
			}
		})
	}
}

// The server serves the document, without a token, and the answer is
// itself valid against it.
func TestServeOpenAPI(t *testing.T) {
	api, err := httpapi.New(httpapi.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	v, err := openapitest.Server()
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Client(srv.Client()).Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if string(b) != string(httpapi.OpenAPI()) {
		t.Fatal("the served document is not the embedded one")
	}
	if !strings.Contains(string(b), `"openapi": "3.1.0"`) {
		t.Fatal("not an OpenAPI 3.1 document")
	}
}
