package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/integration/pgtest"
)

// Fuzzing the API (docs/design.md section 11: no input can produce a 500). Each
// target builds one server over one real PostgreSQL database (apiNewWorld)
// and sends every input to one of its routes as one of its actors; the
// only oracle is the contract every answer owes: below 500, JSON (or an
// empty 204), errors shaped {"error": {"code", "message"}}. `go test` runs
// the seed corpus (the f.Add calls and testdata/fuzz); `go test -fuzz
// FuzzHTTPBody ./integration` searches further.

// fuzzActors are who may send a fuzzed request ("" is nobody).
var fuzzActors = []string{"admin", "manager", "member", "client", "banned", "b:admin", ""}

type fuzzRoute struct{ method, path string }

// fuzzBodyRoutes is every route that reads a body, on rows of tenant A
// (visible, hidden) and of tenant B.
func fuzzBodyRoutes(w *apiWorld) []fuzzRoute {
	a, b := w.a, w.b
	return []fuzzRoute{
		{"POST", "/api/session"},
		{"POST", "/api/jobs"},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID)},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.draftHidden.ID)},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", b.pub.ID)},
		{"POST", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID)},
		{"POST", fmt.Sprintf("/api/jobs/%d/notes", b.pub.ID)},
		{"PATCH", fmt.Sprintf("/api/notes/%d", a.publicNote.ID)},
		{"PATCH", fmt.Sprintf("/api/notes/%d", a.hiddenNote.ID)},
		{"POST", "/api/companies"},
		{"PATCH", fmt.Sprintf("/api/companies/%d", a.c2.ID)},
		{"PATCH", fmt.Sprintf("/api/companies/%d", b.c2.ID)},
		{"POST", "/api/users"},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["client"].ID)},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["member"].ID)},
		{"PATCH", fmt.Sprintf("/api/users/%d", b.users["member"].ID)},
	}
}

// fuzzQueryRoutes is every route that reads a query (and those that
// should ignore or refuse one).
func fuzzQueryRoutes(w *apiWorld) []fuzzRoute {
	a, b := w.a, w.b
	out := []fuzzRoute{
		{"GET", "/api/me"}, {"GET", "/api/policy"}, {"GET", "/api/preloads"},
		{"GET", "/healthz"}, {"GET", "/readyz"},
		{"GET", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID)},
		{"GET", fmt.Sprintf("/api/jobs/%d/notes", b.pub.ID)},
	}
	for _, prefix := range []string{"/api", "/api/admin"} {
		out = append(out,
			fuzzRoute{"GET", prefix + "/jobs"},
			fuzzRoute{"GET", fmt.Sprintf("%s/jobs/%d", prefix, a.pub.ID)},
			fuzzRoute{"GET", fmt.Sprintf("%s/jobs/%d", prefix, b.pub.ID)},
			fuzzRoute{"GET", prefix + "/companies"},
			fuzzRoute{"GET", fmt.Sprintf("%s/companies/%d", prefix, a.c1.ID)},
			fuzzRoute{"GET", prefix + "/users"},
			fuzzRoute{"GET", fmt.Sprintf("%s/users/%d", prefix, a.users["manager"].ID)},
		)
	}
	return out
}

// fuzzSend sends one request and checks the contract every answer owes.
func fuzzSend(t *testing.T, w *apiWorld, method, path, rawQuery, token, body string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.URL.RawQuery = rawQuery
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	show := func() string {
		return fmt.Sprintf("%s %s?%.200q body %.300q -> %d %.500s", method, path, rawQuery, body, res.StatusCode, b)
	}
	if res.StatusCode >= 500 {
		t.Fatalf("a 5xx: %s", show())
	}
	if res.StatusCode == http.StatusNoContent {
		if len(b) != 0 {
			t.Fatalf("a 204 with a body: %s", show())
		}
		return
	}
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !json.Valid(b) {
		t.Fatalf("not JSON: %s", show())
	}
	if res.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("an error without {error: {code, message}}: %s", show())
		}
	}
}

// fuzzQuery makes the fuzzer's bytes a query the client can send: bytes
// that may not appear raw in a request line are percent-encoded, the rest
// (including %, & and =, malformed escapes and all) pass as they are.
func fuzzQuery(q string) string {
	var sb strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c <= ' ' || c >= 0x7f || c == '#' {
			fmt.Fprintf(&sb, "%%%02X", c)
			continue
		}
		sb.WriteByte(c)
	}
	return sb.String()
}

// fuzzNewWorld is the world of a fuzz target: no login limit, since the
// fuzzer logs in as often as it likes.
func fuzzNewWorld(f *testing.F) *apiWorld {
	f.Helper()
	return apiNewWorld(f, apiOptions{loginLimit: 1 << 30, loginAddressLimit: 1 << 30})
}

func FuzzHTTPBody(f *testing.F) {
	w := fuzzNewWorld(f)
	routes := fuzzBodyRoutes(w)
	a, b := w.a, w.b
	ids := func(n, id int) string {
		s := make([]string, n)
		for i := range s {
			s[i] = fmt.Sprint(id)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	seeds := []string{
		// well-formed
		fmt.Sprintf(`{"email":%q,"password":%q}`, a.users["admin"].Email, apiPassword),
		fmt.Sprintf(`{"title":"fuzz","company_id":%d,"status":"published","salary_max":1,"manager_ids":[%d]}`, a.c1.ID, a.users["manager"].ID),
		`{"body":"note","internal":true}`,
		`{"name":"Fuzz Co","archived":true}`,
		`{"email":"fuzz@a.test","name":"Fuzz","phone":"1","role":"member","password":"long enough password"}`,
		fmt.Sprintf(`{"role":"client","company_id":%d}`, a.c1.ID),
		`{"company_id":null}`, `{"salary_max":null}`, `{}`,
		// NUL bytes and text PostgreSQL cannot store
		`{"title":"a\u0000b","company_id":1}`, `{"name":"\u0000"}`, `{"body":"\u0000"}`,
		`{"email":"admin@a.test\u0000","password":"x"}`, `{"email":"x\u0000@a.test","name":"\u0000","role":"member","password":"long enough\u0000"}`,
		`{"name":"\ud800"}`, "{\"name\":\"\xff\xfe\"}",
		// huge and odd numbers
		`{"title":"x","company_id":9223372036854775807}`, `{"title":"x","company_id":9223372036854775808}`,
		`{"title":"x","company_id":-9223372036854775808,"salary_max":-1}`, `{"salary_max":1e308}`, `{"salary_max":-0}`,
		`{"salary_max":9223372036854775807}`, `{"company_id":0}`, `{"manager_ids":[0,-1,9223372036854775807]}`,
		// wrong types and shapes
		`[]`, `"x"`, `null`, `1`, `true`, `{"title":5}`, `{"manager_ids":"1"}`, `{"manager_ids":[[1]]}`,
		`{"internal":"yes"}`, `{"archived":0}`, `{"password":["x"]}`, `{"title":"x"} {}`, `{"title":"x",}`, `{`,
		`{"org_id":1}`, `{"password_hash":"x"}`, `{"title":"x","title":"y"}`,
		// nested objects
		`{"title":{"a":{"b":{"c":[1,{"d":null}]}}}}`, strings.Repeat(`{"a":`, 500) + "1" + strings.Repeat("}", 500),
		`{"manager_ids":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
		// long strings
		`{"title":"` + strings.Repeat("t", 201) + `"}`, `{"body":"` + strings.Repeat("b", 20001) + `"}`,
		`{"email":"` + strings.Repeat("e", 400) + `@a.test","password":"x"}`, `{"password":"` + strings.Repeat("p", 73) + `"}`,
		// unicode
		`{"name":"Ünïcødé 名前 🚀","title":"🚀","body":"\u202e\u200b"}`, `{"name":"` + strings.Repeat("名", 201) + `"}`,
		// foreign and hidden ids
		fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":[%d]}`, b.c1.ID, b.users["manager"].ID),
		fmt.Sprintf(`{"company_id":%d}`, b.c1.ID), fmt.Sprintf(`{"manager_ids":[%d,%d]}`, a.users["client"].ID, b.users["admin"].ID),
		fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":%s}`, a.c1.ID, ids(70000, a.users["manager"].ID)),
		fmt.Sprintf(`{"manager_ids":%s}`, ids(101, pgtest.MissingID)),
	}
	fuzzRoutes(f, w, routes, seeds, 3, func(t *testing.T, rt fuzzRoute, token, body string) {
		fuzzSend(t, w, rt.method, rt.path, "", token, body)
	})
}

func FuzzHTTPQuery(f *testing.F) {
	w := fuzzNewWorld(f)
	routes := fuzzQueryRoutes(w)
	seeds := []string{
		"", "preload=company,managers,notes.author", "preload=creator", "preload=notes.author.company.jobs",
		"preload=%00", "preload=company%00", "status=%00", "status=published", "status=" + strings.Repeat("x", 5000),
		"limit=0", "limit=200", "limit=201", "limit=9223372036854775808", "limit=-1", "limit=1e3", "limit=%00",
		"cursor=%00", "cursor=abc", "cursor=" + strings.Repeat("A", 10000), "cursor=MTIzNDU2Nzg5MDEyMzQ1Njc4OTA",
		"cursor=eyJvcmciOjEsImlkIjo5OTk5OTk5OTk5OTk5OTk5OTk5fQ", "limit=1&limit=2", "bogus=1", "preload=company&preload=notes",
		"allow=role:manager", "allow=role:%00", "uses=%ff", "object=job", "%zz=1", "a=%zz", "=", "&&&", "preload=" + strings.Repeat("company.", 1000),
		"preload=%E5%90%8D", "preload=managers.managed_jobs.creator", "status=published&limit=1&cursor=", "preload=edges", "preload=..",
	}
	fuzzRoutes(f, w, routes, seeds, 4, func(t *testing.T, rt fuzzRoute, token, query string) {
		fuzzSend(t, w, rt.method, rt.path, fuzzQuery(query), token, "")
	})
}

// fuzzRoutes fuzzes inputs on routes: seed i goes to every route r with
// r%spread == i%spread, which spreads the seeds without trying each on
// every route; send sends one input on one route with the token of one of
// fuzzActors. The fuzzed arguments are (route, who uint8, input string),
// the shape of the corpus under testdata/fuzz.
func fuzzRoutes(f *testing.F, w *apiWorld, routes []fuzzRoute, seeds []string, spread int, send func(t *testing.T, rt fuzzRoute, token, input string)) {
	for i, s := range seeds {
		for r := range routes {
			if r%spread == i%spread {
				f.Add(uint8(r), uint8(i), s)
			}
		}
	}
	f.Fuzz(func(t *testing.T, route, who uint8, input string) {
		send(t, routes[int(route)%len(routes)], w.tokens[fuzzActors[int(who)%len(fuzzActors)]], input)
	})
}
