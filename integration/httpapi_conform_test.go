package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HTTP conformance (docs/design.md section 11): answers the API owes every client,
// whatever it sends. Each case here answered otherwise once (issue 12).

// rawReq sends a request with exactly the headers given (no Content-Type
// added) through c, and checks what every answer must satisfy.
func (w *apiWorld) rawReq(t testing.TB, c *http.Client, method, path string, header map[string]string, body string) apiResp {
	t.Helper()
	req := w.newRequest(t, method, path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return w.exchange(t, c, req, path, body)
}

// apiJSON encodes v (json.Marshal: a NUL byte becomes \u0000, which %q
// would write as the invalid \x00).
func apiJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// noRedirects is a client that shows a redirect instead of following it.
func noRedirects() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// TestHTTPTextLimits: a NUL byte or an over-long string in any field of
// any body is 422 invalid naming the field (PostgreSQL cannot store a NUL:
// it answered 22021, and the server 500), a password over bcrypt's 72 bytes
// too; the login needs no token for it. Nothing changes. A string at the
// limit, counted in characters, is fine.
func TestHTTPTextLimits(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	long := func(n int) string { return strings.Repeat("é", n) }
	job := fmt.Sprintf("/api/jobs/%d", a.pub.ID)
	notes := fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID)
	note := fmt.Sprintf("/api/notes/%d", a.publicNote.ID)
	company := fmt.Sprintf("/api/companies/%d", a.c2.ID)
	member := fmt.Sprintf("/api/users/%d", a.users["member"].ID)
	self := fmt.Sprintf("/api/users/%d", a.users["manager"].ID)
	newUser := func(field, value string) string {
		m := map[string]any{"email": "new@a.test", "name": "New", "phone": "1", "role": "member", "password": "long enough password"}
		m[field] = value
		return apiJSON(t, m)
	}
	jobBody := func(field, value string) string {
		m := map[string]any{"title": "ok", "company_id": a.c1.ID}
		m[field] = value
		return apiJSON(t, m)
	}
	cases := []struct {
		who, method, path, body, field string
	}{
		// NUL bytes
		{"admin", "POST", "/api/jobs", jobBody("title", "a\x00b"), "title"},
		{"admin", "POST", "/api/jobs", jobBody("description", "\x00"), "description"},
		{"admin", "PATCH", job, `{"title":"a\u0000b"}`, "title"},
		{"admin", "POST", "/api/companies", `{"name":"Acme\u0000"}`, "name"},
		{"admin", "PATCH", company, `{"name":"\u0000"}`, "name"},
		{"admin", "POST", notes, `{"body":"hi\u0000"}`, "body"},
		{"admin", "PATCH", note, `{"body":"\u0000"}`, "body"},
		{"admin", "POST", "/api/users", newUser("name", "a\x00"), "name"},
		{"admin", "POST", "/api/users", newUser("email", "x\x00@a.test"), "email"},
		{"admin", "POST", "/api/users", newUser("phone", "\x00"), "phone"},
		{"admin", "POST", "/api/users", newUser("password", "long enough\x00password"), "password"},
		{"admin", "PATCH", member, `{"name":"\u0000"}`, "name"},
		{"manager", "PATCH", self, `{"phone":"\u0000"}`, "phone"},
		{"", "POST", "/api/session", `{"email":"admin@a.test\u0000","password":"x"}`, "email"},
		// over-long strings
		{"admin", "POST", "/api/jobs", jobBody("title", long(201)), "title"},
		{"admin", "POST", "/api/jobs", jobBody("description", long(20001)), "description"},
		{"admin", "POST", "/api/jobs", jobBody("status", long(21)), "status"},
		{"admin", "PATCH", job, apiJSON(t, map[string]string{"title": long(201)}), "title"},
		{"admin", "POST", "/api/companies", apiJSON(t, map[string]string{"name": long(201)}), "name"},
		{"admin", "POST", notes, apiJSON(t, map[string]string{"body": long(20001)}), "body"},
		{"admin", "POST", "/api/users", newUser("name", long(201)), "name"},
		{"admin", "POST", "/api/users", newUser("email", long(321)+"@a.test"), "email"},
		{"admin", "POST", "/api/users", newUser("phone", long(51)), "phone"},
		{"admin", "POST", "/api/users", newUser("role", long(21)), "role"},
		{"admin", "POST", "/api/users", newUser("password", strings.Repeat("p", 73)), "password"},
		{"admin", "POST", "/api/users", newUser("password", long(37)), "password"}, // 37 characters, 74 bytes
		{"", "POST", "/api/session", apiJSON(t, map[string]string{"email": long(321), "password": "x"}), "email"},
		{"", "POST", "/api/session", fmt.Sprintf(`{"email":"admin@a.test","password":%q}`, strings.Repeat("p", 73)), "password"},
	}
	before := w.db.Sums(t)
	for _, c := range cases {
		r := w.doInvalid(t, c.method, c.path, w.tokens[c.who], c.body)
		f := apiFields(t, r)
		assert.Contains(t, f, c.field, "%s", apiShort(r.String()))
		assert.Len(t, f, 1, "%s", apiShort(r.String()))
		w.db.AssertUnchanged(t, before, c.method+" "+c.path+" "+apiShort(c.body))
	}

	// At the limit, counted in characters (each é is two bytes).
	r := w.do(t, "POST", "/api/jobs", tok, jobBody("title", long(200)))
	apiStatus(t, r, http.StatusCreated)
	assert.Equal(t, long(200), apiData(t, r)["title"])
	apiStatus(t, w.do(t, "POST", "/api/companies", tok, apiJSON(t, map[string]string{"name": long(200)})), http.StatusCreated)
	r = w.do(t, "POST", "/api/users", tok, newUser("password", strings.Repeat("p", 72)))
	apiStatus(t, r, http.StatusCreated)
}

// TestHTTPIDListLimit: a list of ids holds at most 100 ids (422 naming
// it): 70,000 manager_ids once made the link check exceed PostgreSQL's
// 65,535 parameters (a 500).
func TestHTTPIDListLimit(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	ids := func(n int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = strconv.Itoa(a.users["manager"].ID)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	before := w.db.Sums(t)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":%s}`, a.c1.ID, ids(70000))},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":%s}`, a.c1.ID, ids(101))},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID), fmt.Sprintf(`{"manager_ids":%s}`, ids(70000))},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID), fmt.Sprintf(`{"manager_ids":%s}`, ids(101))},
	} {
		r := w.doInvalid(t, c.method, c.path, tok, c.body)
		f := apiFields(t, r)
		assert.Equal(t, "must hold at most 100 ids", f["manager_ids"], "%s", apiShort(r.String()))
		w.db.AssertUnchanged(t, before, c.method+" "+c.path)
	}
	r := w.do(t, "POST", "/api/jobs", tok, fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":%s}`, a.c1.ID, ids(100)))
	apiStatus(t, r, http.StatusCreated)
}

// TestHTTPUncleanPaths: a path that is not clean answers JSON (the
// canonical 404), never the mux's redirect with an HTML body.
func TestHTTPUncleanPaths(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	c := noRedirects()
	for _, p := range []string{
		fmt.Sprintf("/api//jobs/%d", w.a.pub.ID),
		"//api/admin/jobs",
		"/api/admin/../admin/jobs",
		"/api/./jobs",
		"/api/jobs/.",
		"/api/jobs/..",
		"/api/%2e%2e/api/jobs",
	} {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			r := w.rawReq(t, c, m, p, map[string]string{"Authorization": "Bearer " + w.tokens["admin"]}, "")
			apiErrorBody(t, r, http.StatusNotFound, "not_found")
			assert.Equal(t, w.missing, string(r.body), "%s", r)
			assert.Empty(t, r.header.Get("Location"), "%s", r)
		}
	}
}

// TestHTTPBodyShape: a body that is not a JSON object (null included,
// which encoding/json took as {}) is 400 without Go type names; a wrong
// type says what JSON the field takes; a valid object padded past 1 MiB
// names the size limit, not "trailing data".
func TestHTTPBodyShape(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	goTypes := []string{"httpapi", "jobRequest", "Optional", "[]int", "int64", "struct", "Go "}
	noGo := func(r apiResp) {
		t.Helper()
		for _, s := range goTypes {
			assert.NotContains(t, string(r.body), s, "%s", r)
		}
	}
	before := w.db.Sums(t)
	for _, c := range []struct{ method, path, body, token string }{
		{"POST", "/api/jobs", `[]`, tok},
		{"POST", "/api/jobs", `"x"`, tok},
		{"POST", "/api/jobs", `null`, tok},
		{"POST", "/api/jobs", ` null `, tok},
		{"POST", "/api/jobs", `1`, tok},
		{"POST", "/api/jobs", `true`, tok},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID), `null`, tok},
		{"POST", "/api/companies", `null`, tok},
		{"POST", "/api/session", `null`, ""},
		{"POST", "/api/session", `["admin@a.test"]`, ""},
	} {
		r := w.doInvalid(t, c.method, c.path, c.token, c.body)
		e := apiErrorBody(t, r, http.StatusBadRequest, "bad_request")
		assert.Equal(t, "the body must be a JSON object", e["message"], "%s", r)
		noGo(r)
	}
	for _, c := range []struct{ body, field, want string }{
		{fmt.Sprintf(`{"title":5,"company_id":%d}`, a.c1.ID), "title", "must be a string"},
		{`{"title":"x","company_id":"1"}`, "company_id", "must be an integer from -9223372036854775808 to 9223372036854775807"},
		{`{"title":"x","company_id":1e400}`, "company_id", "must be an integer from -9223372036854775808 to 9223372036854775807"},
		{`{"title":"x","company_id":99999999999999999999}`, "company_id", "must be an integer from -9223372036854775808 to 9223372036854775807"},
		{`{"title":"x","company_id":1,"manager_ids":"1"}`, "manager_ids", "must be a list of ids (integers)"},
		{`{"title":"x","company_id":1,"manager_ids":[{"id":1}]}`, "manager_ids", "must be a list of ids (integers)"},
		{`{"title":{"nested":{"deeper":[1,2,3]}},"company_id":1}`, "title", "must be a string"},
	} {
		r := w.doInvalid(t, "POST", "/api/jobs", tok, c.body)
		e := apiErrorBody(t, r, http.StatusBadRequest, "bad_request")
		f, _ := e["fields"].(map[string]any)
		assert.Equal(t, map[string]any{c.field: c.want}, f, "%s", r)
		noGo(r)
	}
	padded := `{"name":"padded"}` + strings.Repeat(" ", 1<<20)
	r := w.doInvalid(t, "POST", "/api/companies", tok, padded)
	e := apiErrorBody(t, r, http.StatusBadRequest, "bad_request")
	assert.Contains(t, e["message"], "1 MiB", "%s", apiShort(r.String()))
	w.db.AssertUnchanged(t, before, "bodies of the wrong shape")
}

// TestHTTPMediaType: a body that is not application/json is 415
// unsupported_media_type, the login's too; a charset parameter is fine.
func TestHTTPMediaType(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	c := w.srv.Client()
	auth := "Bearer " + w.tokens["admin"]
	body := fmt.Sprintf(`{"title":"typed","company_id":%d}`, w.a.c1.ID)
	before := w.db.Sums(t)
	for _, ct := range []string{"text/plain", "", "application/x-www-form-urlencoded", "application/jsonx", "multipart/form-data; boundary=x", "application/json;;"} {
		h := map[string]string{"Authorization": auth}
		if ct != "" {
			h["Content-Type"] = ct
		}
		r := w.rawReq(t, c, "POST", "/api/jobs", h, body)
		apiErrorBody(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
		r = w.rawReq(t, c, "PATCH", fmt.Sprintf("/api/jobs/%d", w.a.pub.ID), h, `{"title":"x"}`)
		apiErrorBody(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
		delete(h, "Authorization")
		r = w.rawReq(t, c, "POST", "/api/session", h, fmt.Sprintf(`{"email":%q,"password":%q}`, w.a.users["admin"].Email, apiPassword))
		apiErrorBody(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
	}
	w.db.AssertUnchanged(t, before, "415s")
	r := w.rawReq(t, c, "POST", "/api/jobs", map[string]string{"Authorization": auth, "Content-Type": "application/json; charset=utf-8"}, body)
	apiStatus(t, r, http.StatusCreated)
}

// TestHTTPMethodNotAllowed: a known path asked with a method it does not
// serve is 405 method_not_allowed with Allow; an unknown path stays 404.
func TestHTTPMethodNotAllowed(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	before := w.db.Sums(t)
	for _, c := range []struct{ method, path, allow string }{
		{"PUT", fmt.Sprintf("/api/jobs/%d", a.pub.ID), "GET, HEAD, PATCH, DELETE"},
		{"POST", fmt.Sprintf("/api/jobs/%d", a.pub.ID), "GET, HEAD, PATCH, DELETE"},
		{"PUT", "/api/jobs", "GET, HEAD, POST"},
		{"DELETE", "/api/jobs", "GET, HEAD, POST"},
		{"GET", "/api/session", "POST, DELETE"},
		{"PUT", "/api/session", "POST, DELETE"},
		{"POST", "/api/admin/jobs", "GET, HEAD"},
		{"PATCH", fmt.Sprintf("/api/admin/users/%d", a.users["member"].ID), "GET, HEAD"},
		{"DELETE", "/api/me", "GET, HEAD"},
		{"POST", "/healthz", "GET, HEAD"},
		{"OPTIONS", "/api/companies", "GET, HEAD, POST"},
		{"PUT", fmt.Sprintf("/api/notes/%d", a.publicNote.ID), "PATCH, DELETE"},
	} {
		for _, token := range []string{tok, ""} {
			r := w.do(t, c.method, c.path, token, `{"name":"x"}`)
			apiErrorBody(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
			assert.Equal(t, c.allow, r.header.Get("Allow"), "%s", r)
		}
	}
	w.db.AssertUnchanged(t, before, "405s")
	for _, p := range []string{"/api/nothing", "/api/jobs/1/nothing", "/nothing"} {
		r := w.do(t, "PUT", p, tok, `{}`)
		apiErrorBody(t, r, http.StatusNotFound, "not_found")
		assert.Empty(t, r.header.Get("Allow"), "%s", r)
	}
}

// TestHTTPChallengeHeaders: 401 carries WWW-Authenticate: Bearer, a failed
// login's included; 429 carries Retry-After.
func TestHTTPChallengeHeaders(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{noLogin: true, loginLimit: 1})
	for _, r := range []apiResp{
		w.do(t, "GET", "/api/me", "", ""),
		w.do(t, "GET", "/api/jobs", "not-a-token", ""),
		w.do(t, "POST", "/api/session", "", `{"email":"admin@a.test","password":"wrong password"}`),
	} {
		apiErrorBody(t, r, http.StatusUnauthorized, "unauthenticated")
		assert.Equal(t, "Bearer", r.header.Get("WWW-Authenticate"), "%s", r)
	}
	r := w.do(t, "POST", "/api/session", "", `{"email":"admin@a.test","password":"wrong password"}`)
	apiErrorBody(t, r, http.StatusTooManyRequests, "rate_limited")
	assertRetryAfter(t, r, time.Minute)
}

// assertRetryAfter checks a 429's Retry-After: whole seconds, at least
// one, at most window.
func assertRetryAfter(t *testing.T, r apiResp, window time.Duration) {
	t.Helper()
	s, err := strconv.Atoi(r.header.Get("Retry-After"))
	if assert.NoError(t, err, "Retry-After of %s", r) {
		assert.True(t, s >= 1 && s <= int(window/time.Second), "Retry-After %d of %s", s, r)
	}
}

// TestHTTPPatchNothing: a PATCH that changes nothing (an empty one, or one
// that repeats the stored values) answers 200 with the row and writes
// nothing: no updated_at bump. A real change still bumps it.
func TestHTTPPatchNothing(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	pub := a.pub
	mgrs := apiJSON(t, []int{a.users["manager"].ID, a.users["inactive"].ID})
	cases := []struct{ who, path, body string }{
		{"admin", fmt.Sprintf("/api/jobs/%d", pub.ID), `{}`},
		{"admin", fmt.Sprintf("/api/jobs/%d", pub.ID), apiJSON(t, map[string]any{"title": pub.Title, "description": pub.Description,
			"company_id": pub.CompanyID, "status": string(pub.Status), "salary_max": *pub.SalaryMax})},
		{"admin", fmt.Sprintf("/api/jobs/%d", pub.ID), `{"manager_ids":` + mgrs + `}`},
		{"manager", fmt.Sprintf("/api/jobs/%d", pub.ID), `{}`},
		{"admin", fmt.Sprintf("/api/jobs/%d", a.archived.ID), `{"status":"archived"}`},
		{"admin", fmt.Sprintf("/api/companies/%d", a.c2.ID), `{}`},
		{"admin", fmt.Sprintf("/api/companies/%d", a.c2.ID), `{"name":"C2","archived":false}`},
		{"member", fmt.Sprintf("/api/notes/%d", a.publicNote.ID), `{}`},
		{"member", fmt.Sprintf("/api/notes/%d", a.publicNote.ID), apiJSON(t, map[string]any{"body": a.publicNote.Body, "internal": false})},
		{"admin", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{}`},
		{"admin", fmt.Sprintf("/api/users/%d", a.users["client"].ID), apiJSON(t, map[string]any{"name": a.users["client"].Name,
			"phone": a.users["client"].Phone, "role": "client", "banned": false, "active": true, "company_id": a.c1.ID})},
		{"admin", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{"company_id":null}`},
		{"member", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{}`},
		{"admin", fmt.Sprintf("/api/users/%d", a.users["admin"].ID), `{"role":"admin","banned":false,"active":true}`},
	}
	before := w.db.Sums(t)
	for _, c := range cases {
		r := w.do(t, "PATCH", c.path, w.tokens[c.who], c.body)
		apiStatus(t, r, http.StatusOK)
		d := apiData(t, r)
		assert.NotContains(t, d, "edges", "%s", r)
		w.db.AssertUnchanged(t, before, r.String())
	}
	// A change is a change.
	r := w.do(t, "PATCH", fmt.Sprintf("/api/companies/%d", a.c2.ID), w.tokens["admin"], `{"archived":true}`)
	apiStatus(t, r, http.StatusOK)
	d := apiData(t, r)
	assert.Equal(t, true, d["archived"])
	assert.NotEqual(t, a.c2.UpdatedAt.Format(time.RFC3339Nano), d["updated_at"], "%s", r)
}

// TestHTTPUserCompanyNull: company_id null in PATCH /api/users clears the
// company where docs/design.md allows a user to be without one (a user who is not,
// or stops being, a client) and is 422 for a client, who needs one
// (section 2: company_id is for clients only; section 6 lets admins set
// it). It was silently ignored.
func TestHTTPUserCompanyNull(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	client := fmt.Sprintf("/api/users/%d", a.users["client"].ID)
	before := w.db.Sums(t)
	f := apiFields(t, w.do(t, "PATCH", client, tok, `{"company_id":null}`))
	assert.Equal(t, map[string]any{"company_id": "is required for clients"}, f)
	// A client may not clear their own company (user.update: name and
	// phone only).
	apiForbidden(t, w.do(t, "PATCH", client, w.tokens["client"], `{"company_id":null}`), "user.update")
	w.db.AssertUnchanged(t, before, "company_id null refused")

	r := w.do(t, "PATCH", client, tok, `{"role":"member","company_id":null}`)
	apiStatus(t, r, http.StatusOK)
	d := apiData(t, r)
	assert.Equal(t, "member", d["role"])
	assert.NotContains(t, d, "company_id", "%s", r)
	var co *int
	require.NoError(t, w.db.Raw.QueryRow(`SELECT company_id FROM users WHERE id = $1`, a.users["client"].ID).Scan(&co))
	assert.Nil(t, co, "the company is cleared")
}

// TestHTTPValidationMessages: a 422 says what is wrong in the field's
// terms, never in the validator's ("value is less than the required
// length", "value out of range").
func TestHTTPValidationMessages(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	job := fmt.Sprintf("/api/jobs/%d", a.pub.ID)
	c1 := a.c1.ID
	for _, c := range []struct {
		method, path, body string
		want               map[string]any
	}{
		{"POST", "/api/jobs", `{}`, map[string]any{"title": "is required", "company_id": "is required"}},
		{"POST", "/api/jobs", `{"title":"","company_id":-3}`, map[string]any{"title": "is required", "company_id": "must be an id"}},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"salary_max":-5}`, c1), map[string]any{"salary_max": "must not be negative"}},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"status":"open"}`, c1), map[string]any{"status": "must be draft, published or archived"}},
		{"POST", "/api/jobs", apiJSON(t, map[string]any{"title": strings.Repeat("t", 201), "company_id": c1}), map[string]any{"title": "must be at most 200 characters"}},
		{"POST", "/api/jobs", apiJSON(t, map[string]any{"title": "a\x00", "company_id": c1}), map[string]any{"title": "must not contain a NUL character"}},
		{"PATCH", job, `{"title":""}`, map[string]any{"title": "must not be empty"}},
		{"PATCH", job, `{"salary_max":-5}`, map[string]any{"salary_max": "must not be negative"}},
		{"POST", "/api/companies", `{}`, map[string]any{"name": "is required"}},
		{"POST", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID), `{}`, map[string]any{"body": "is required"}},
		{"POST", "/api/users", `{}`, map[string]any{"email": "is required", "name": "is required", "role": "is required",
			"password": "must be at least 10 characters"}},
		{"POST", "/api/users", `{"email":"nope","name":"n","role":"boss","password":"long enough password"}`,
			map[string]any{"email": "must be an email address", "role": "must be admin, manager, member or client"}},
		{"POST", "/api/users", `{"email":"x@a.test","name":"n","role":"member","password":"` + strings.Repeat("p", 73) + `"}`,
			map[string]any{"password": "must be at most 72 bytes"}},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":[%s]}`, c1, strings.Repeat("1,", 100)+"1"),
			map[string]any{"manager_ids": "must hold at most 100 ids"}},
		{"POST", "/api/users", `{"email":"x@a.test","name":"n","phone":"` + strings.Repeat("5", 51) + `","role":"member","password":"long enough password"}`,
			map[string]any{"phone": "must be at most 50 characters"}},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{"name":""}`, map[string]any{"name": "must not be empty"}},
	} {
		r := w.doInvalid(t, c.method, c.path, tok, c.body)
		assert.Equal(t, c.want, apiFields(t, r), "%s", apiShort(r.String()))
	}
}
