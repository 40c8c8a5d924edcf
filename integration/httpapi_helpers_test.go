package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/httpapi/openapitest"
	"github.com/scopegate/scopegate/internal/logging/logtest"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// The black-box HTTP tests (httpapi_test.go) drive httpapi.New through a
// real listener against a per-test PostgreSQL database. Everything they
// expect comes from docs/design.md sections 5 and 6, not from the server's code.

// apiPassword is every seeded user's password.
const apiPassword = "correct horse battery"

// apiRoles are tenant A's actors; "banned" is a banned admin, so that the
// role alone never opens the admin surface.
var apiRoles = []string{"admin", "manager", "member", "client", "banned"}

// apiClock is the server's clock; tests move it to expire sessions and rate
// limit windows.
type apiClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *apiClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *apiClock) Set(off time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = off
}

// apiTenant is one organization of the world: a user of every role, a
// banned admin, an inactive manager, three companies, jobs of every status
// and visibility, and public and internal notes.
type apiTenant struct {
	slug  string
	org   *ent.Organization
	c1    *ent.Company // the client's company
	c2    *ent.Company
	only  *ent.Company // its name exists in this tenant only
	users map[string]*ent.User

	pub          *ent.Job // c1, published, managers: manager and inactive
	pub2         *ent.Job // c2, published, no managers
	draftManaged *ent.Job // c1, draft, manager: manager
	draftHidden  *ent.Job // c1, draft, no managers
	archived     *ent.Job // c1, archived, no managers

	publicNote   *ent.Note // on pub, by member
	internalNote *ent.Note // on pub, by manager
	hiddenNote   *ent.Note // public, on draftHidden, by admin
}

func (tn *apiTenant) jobs() []*ent.Job {
	return []*ent.Job{tn.pub, tn.pub2, tn.draftManaged, tn.draftHidden, tn.archived}
}

func (tn *apiTenant) notes() []*ent.Note {
	return []*ent.Note{tn.publicNote, tn.internalNote, tn.hiddenNote}
}

func (tn *apiTenant) companies() []*ent.Company { return []*ent.Company{tn.c1, tn.c2, tn.only} }

// allUsers is every user of the tenant, inactive included.
func (tn *apiTenant) allUsers() []*ent.User {
	var out []*ent.User
	for _, k := range []string{"admin", "manager", "member", "client", "banned", "inactive"} {
		out = append(out, tn.users[k])
	}
	return out
}

func apiSeedTenant(t testing.TB, tx *ent.Tx, slug, hash string) *apiTenant {
	t.Helper()
	ctx := pgtest.SystemContext(t)
	tn := &apiTenant{slug: slug, users: map[string]*ent.User{}}
	tn.org = tx.Organization.Create().SetName("Org " + slug).SetSlug(slug).SaveX(ctx)
	tn.c1 = tx.Company.Create().SetOrgID(tn.org.ID).SetName("C1").SaveX(ctx)
	tn.c2 = tx.Company.Create().SetOrgID(tn.org.ID).SetName("C2").SaveX(ctx)
	tn.only = tx.Company.Create().SetOrgID(tn.org.ID).SetName("Only " + slug).SaveX(ctx)
	mk := func(key string, role user.Role, co *ent.Company, banned, active bool) {
		email := key + "@" + slug + ".test"
		c := tx.User.Create().SetOrgID(tn.org.ID).SetEmail(email).SetName(key + " " + slug).
			SetPhone("555-" + key + "-" + slug).SetRole(role).SetBanned(banned).SetActive(active).
			SetPasswordHash(hash)
		if co != nil {
			c.SetCompanyID(co.ID)
		}
		tn.users[key] = c.SaveX(ctx)
	}
	mk("admin", user.RoleAdmin, nil, false, true)
	mk("manager", user.RoleManager, nil, false, true)
	mk("member", user.RoleMember, nil, false, true)
	mk("client", user.RoleClient, tn.c1, false, true)
	mk("banned", user.RoleAdmin, nil, true, true)
	mk("inactive", user.RoleManager, nil, false, false)
	mkJob := func(title string, co *ent.Company, st job.Status, salary int, managers ...*ent.User) *ent.Job {
		c := tx.Job.Create().SetOrgID(tn.org.ID).SetCompanyID(co.ID).SetTitle(title + " " + slug).
			SetStatus(st).SetSalaryMax(salary).SetCreatedByID(tn.users["admin"].ID)
		for _, m := range managers {
			c.AddManagerIDs(m.ID)
		}
		return c.SaveX(ctx)
	}
	tn.pub = mkJob("published", tn.c1, job.StatusPublished, 5000, tn.users["manager"], tn.users["inactive"])
	tn.pub2 = mkJob("published 2", tn.c2, job.StatusPublished, 6000)
	tn.draftManaged = mkJob("draft managed", tn.c1, job.StatusDraft, 7000, tn.users["manager"])
	tn.draftHidden = mkJob("draft hidden", tn.c1, job.StatusDraft, 8000)
	tn.archived = mkJob("archived", tn.c1, job.StatusArchived, 9000)
	mkNote := func(j *ent.Job, author *ent.User, body string, internal bool) *ent.Note {
		return tx.Note.Create().SetOrgID(tn.org.ID).SetJobID(j.ID).SetAuthorID(author.ID).
			SetBody(body + " " + slug).SetInternal(internal).SaveX(ctx)
	}
	tn.publicNote = mkNote(tn.pub, tn.users["member"], "public note", false)
	tn.internalNote = mkNote(tn.pub, tn.users["manager"], "internal note", true)
	tn.hiddenNote = mkNote(tn.draftHidden, tn.users["admin"], "note on a hidden job", false)
	return tn
}

// apiWorld is a server over a fresh database with tenants A and B, and a
// token for each of their actors ("admin" is A's, "b:admin" B's).
type apiWorld struct {
	db     *pgtest.DB
	srv    *httptest.Server
	clock  *apiClock
	log    *logtest.Buffer
	a, b   *apiTenant
	tokens map[string]string
	// seed creates the rows a case changes; its serial names what a
	// case makes up.
	seed *pgtest.Seeder
	// missing is the body of GET /api/jobs/{pgtest.MissingID}: every 404
	// must equal it.
	missing string
}

type apiOptions struct {
	loginLimit        int  // failed logins per email and address; 0: the server's default (5)
	loginAddressLimit int  // failed logins per address; 0: the server's default (10 × loginLimit)
	noLogin           bool // log nobody in (the rate limit test counts every attempt)
}

func apiNewWorld(t testing.TB, o apiOptions) *apiWorld {
	t.Helper()
	w := &apiWorld{db: pgtest.New(t), clock: &apiClock{}, log: &logtest.Buffer{}, tokens: map[string]string{}}
	w.seed = pgtest.NewSeeder(w.db.Client)
	hash, err := repo.HashPassword(apiPassword)
	require.NoError(t, err)
	pgtest.MustTx(t, pgtest.SystemContext(t), w.db.Client, func(tx *ent.Tx) error {
		w.a = apiSeedTenant(t, tx, "a", hash)
		w.b = apiSeedTenant(t, tx, "b", hash)
		return nil
	})
	api, err := httpapi.New(httpapi.Config{
		Client:            w.db.Client,
		Ping:              w.db.SQL.PingContext,
		Now:               w.clock.Now,
		Logger:            slog.New(slog.NewTextHandler(w.log, nil)),
		LoginLimit:        o.loginLimit,
		LoginAddressLimit: o.loginAddressLimit,
	})
	require.NoError(t, err)
	w.srv = httptest.NewServer(api)
	t.Cleanup(w.srv.Close)
	t.Cleanup(func() {
		// The access log never carries a token or a password.
		logs := w.log.String()
		assert.NotContains(t, logs, apiPassword, "a password reached the log")
		assert.NotContains(t, logs, "$2a$", "a password hash reached the log")
		for who, tok := range w.tokens {
			assert.NotContains(t, logs, tok, "the token of %s reached the log", who)
		}
	})
	if !o.noLogin {
		for _, role := range apiRoles {
			w.tokens[role] = w.login(t, w.a.users[role].Email)
		}
		for _, role := range []string{"admin", "manager", "member", "client"} {
			w.tokens["b:"+role] = w.login(t, w.b.users[role].Email)
		}
		r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d", pgtest.MissingID), w.tokens["admin"], "")
		apiErrorBody(t, r, http.StatusNotFound, "not_found")
		w.missing = string(r.body)
	}
	return w
}

// login signs in over HTTP and returns the token.
func (w *apiWorld) login(t testing.TB, email string) string {
	t.Helper()
	r := w.do(t, "POST", "/api/session", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, apiPassword))
	require.Equal(t, http.StatusCreated, r.code, "login %s: %s", email, r.body)
	var out struct {
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	require.NoError(t, json.Unmarshal(r.body, &out))
	require.NotEmpty(t, out.Token)
	return out.Token
}

// apiResp is one answer, with what was asked.
type apiResp struct {
	method, path string
	code         int
	body         []byte
	header       http.Header
}

func (r apiResp) String() string {
	return fmt.Sprintf("%s %s -> %d %s", r.method, r.path, r.code, r.body)
}

// do sends a request with a bearer token ("" for none).
func (w *apiWorld) do(t testing.TB, method, path, token, body string) apiResp {
	t.Helper()
	return w.send(t, w.srv.Client(), method, path, apiBearer(token), body)
}

// doInvalid is do for a request the test sends deliberately against the
// OpenAPI document (malformed JSON, an unknown field, an id that is not
// one): only its answer is validated against the document.
func (w *apiWorld) doInvalid(t testing.TB, method, path, token, body string) apiResp {
	t.Helper()
	return w.sendInvalid(t, w.srv.Client(), method, path, apiBearer(token), body)
}

func apiBearer(token string) string {
	if token == "" {
		return ""
	}
	return "Bearer " + token
}

// send sends a request with a raw Authorization header ("" for none) and
// checks what every answer must satisfy, the OpenAPI document first.
func (w *apiWorld) send(t testing.TB, c *http.Client, method, path, auth, body string) apiResp {
	t.Helper()
	return w.sendReq(t, c, method, path, auth, body, false)
}

// sendInvalid is send for a request that is deliberately invalid (see
// doInvalid).
func (w *apiWorld) sendInvalid(t testing.TB, c *http.Client, method, path, auth, body string) apiResp {
	t.Helper()
	return w.sendReq(t, c, method, path, auth, body, true)
}

func (w *apiWorld) sendReq(t testing.TB, c *http.Client, method, path, auth, body string, invalid bool) apiResp {
	t.Helper()
	req := w.newRequest(t, method, path, body)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if invalid {
		req = openapitest.Invalid(req)
	}
	return w.exchange(t, apiValidated(t, c), req, path, body)
}

// newRequest is a request for path (and its query) on the test server,
// with body if it is not empty, and no header yet.
func (w *apiWorld) newRequest(t testing.TB, method, path, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	require.NoError(t, err)
	return req
}

// exchange sends req, made by newRequest(path, body), through c, reads the
// whole answer and checks what every answer must satisfy (apiScan).
func (w *apiWorld) exchange(t testing.TB, c *http.Client, req *http.Request, path, body string) apiResp {
	t.Helper()
	res, err := c.Do(req)
	require.NoError(t, err, "%s %s", req.Method, path)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := apiResp{method: req.Method, path: path, code: res.StatusCode, body: b, header: res.Header}
	apiScan(t, r, body)
	return r
}

// apiValidated returns c with a transport that validates every request and
// answer against the server's OpenAPI document (docs/design.md section 11): a
// mismatch fails the test, naming the route, the status and the
// validator's message, and the test goes on to show any other. Every HTTP
// test's client goes through it.
func apiValidated(t testing.TB, c *http.Client) *http.Client {
	t.Helper()
	v, err := openapitest.Server()
	require.NoError(t, err, "the OpenAPI document")
	return v.ReportingClient(c, func(err error) { t.Errorf("%v", err) })
}

// apiScan checks every body: no password hash, no password, JSON unless
// 204, and 204 is empty. Only a request that itself named password_hash
// (to be refused as an unknown field) may see the name echoed.
func apiScan(t testing.TB, r apiResp, sent string) {
	t.Helper()
	s := string(r.body)
	if !strings.Contains(sent, "password_hash") {
		assert.NotContains(t, s, "password_hash", "%s", r)
	}
	assert.NotContains(t, s, "$2a$", "a bcrypt hash in %s", r)
	assert.NotContains(t, s, apiPassword, "a password in %s", r)
	if r.code == http.StatusNoContent {
		assert.Empty(t, r.body, "%s", r)
		return
	}
	assert.True(t, strings.HasPrefix(r.header.Get("Content-Type"), "application/json"), "content type of %s", r)
	assert.True(t, json.Valid(r.body), "not JSON: %s", r)
}

// clientFrom returns a client whose connections come from ip (a loopback
// address), so that the server sees another remote address.
func apiClientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// ---- decoding

func apiObject(t testing.TB, r apiResp) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "%s", r)
	return m
}

// apiData returns the object of {"data": {...}}.
func apiData(t *testing.T, r apiResp) map[string]any {
	t.Helper()
	m := apiObject(t, r)
	assert.Len(t, m, 1, "one object answers only {\"data\"}: %s", r)
	d, ok := m["data"].(map[string]any)
	require.True(t, ok, "no data object: %s", r)
	return d
}

// apiList returns the items of {"data": [...], "next_cursor"?} and the
// cursor ("" when absent).
func apiList(t *testing.T, r apiResp) ([]map[string]any, string) {
	t.Helper()
	m := apiObject(t, r)
	raw, ok := m["data"].([]any)
	require.True(t, ok, "data is not a list (an empty list must be [] not null): %s", r)
	cur := ""
	if c, ok := m["next_cursor"]; ok {
		cur, ok = c.(string)
		require.True(t, ok && cur != "", "next_cursor must be a non-empty string when present: %s", r)
	}
	for k := range m {
		assert.Contains(t, []string{"data", "next_cursor"}, k, "unexpected key in a list answer: %s", r)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		o, ok := v.(map[string]any)
		require.True(t, ok, "list item %d is not an object: %s", i, r)
		out[i] = o
	}
	return out, cur
}

func apiInt(t *testing.T, v any) int {
	t.Helper()
	f, ok := v.(float64)
	require.True(t, ok, "not a number: %v", v)
	return int(f)
}

func apiIDs(t *testing.T, items []map[string]any) []int {
	t.Helper()
	out := make([]int, len(items))
	for i, it := range items {
		out[i] = apiInt(t, it["id"])
	}
	return out
}

func apiStrings(t *testing.T, v any) []string {
	t.Helper()
	if v == nil {
		return nil
	}
	raw, ok := v.([]any)
	require.True(t, ok, "not a list: %v", v)
	out := make([]string, len(raw))
	for i, x := range raw {
		out[i], ok = x.(string)
		require.True(t, ok, "not a string: %v", x)
	}
	return out
}

func apiEdges(t *testing.T, obj map[string]any) map[string]any {
	t.Helper()
	e, ok := obj["edges"].(map[string]any)
	require.True(t, ok, "no edges object in %v", obj)
	return e
}

func apiEdgeList(t *testing.T, obj map[string]any, edge string) []map[string]any {
	t.Helper()
	raw, ok := apiEdges(t, obj)[edge].([]any)
	require.True(t, ok, "edge %s is not a list in %v", edge, obj)
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		out[i] = v.(map[string]any)
	}
	return out
}

// ---- assertions

func apiStatus(t testing.TB, r apiResp, want int) bool {
	t.Helper()
	return assert.Equal(t, want, r.code, "%s", r)
}

// apiErrorBody checks an error answer: the status, exactly {"error": {...}},
// the code and a message. It returns the error object.
func apiErrorBody(t testing.TB, r apiResp, status int, code string) map[string]any {
	t.Helper()
	apiStatus(t, r, status)
	m := apiObject(t, r)
	assert.Len(t, m, 1, "an error answers only {\"error\"}: %s", r)
	e, ok := m["error"].(map[string]any)
	if !assert.True(t, ok, "no error object: %s", r) {
		return map[string]any{}
	}
	assert.Equal(t, code, e["code"], "%s", r)
	msg, _ := e["message"].(string)
	assert.NotEmpty(t, msg, "error without a message: %s", r)
	return e
}

// apiForbidden checks a 403: code forbidden with the denying rule and check
// (docs/design.md section 6). rule "" accepts any non-empty rule.
func apiForbidden(t *testing.T, r apiResp, rule string) map[string]any {
	t.Helper()
	e := apiErrorBody(t, r, http.StatusForbidden, "forbidden")
	gotRule, _ := e["rule"].(string)
	gotCheck, _ := e["check"].(string)
	if rule != "" {
		assert.Equal(t, rule, gotRule, "denying rule of %s", r)
	} else {
		assert.NotEmpty(t, gotRule, "403 without the denying rule: %s", r)
	}
	assert.NotEmpty(t, gotCheck, "403 without the denying check: %s", r)
	return e
}

// apiFields checks a 422 and returns its per-field messages.
func apiFields(t *testing.T, r apiResp) map[string]any {
	t.Helper()
	e := apiErrorBody(t, r, http.StatusUnprocessableEntity, "invalid")
	f, ok := e["fields"].(map[string]any)
	require.True(t, ok, "422 without fields: %s", r)
	for k, v := range f {
		s, _ := v.(string)
		assert.NotEmpty(t, s, "field %s without a message: %s", k, r)
	}
	return f
}

// likeMissing sends the same request twice, once naming id and once
// pgtest.MissingID (mk builds path and body from an id), and checks that
// both are 404 with byte-for-byte the same body, equal to the canonical
// one, and that nothing changed.
func (w *apiWorld) likeMissing(t *testing.T, token, method string, id int, mk func(id int) (path, body string)) {
	t.Helper()
	before := w.db.Sums(t)
	p, b := mk(id)
	got := w.do(t, method, p, token, b)
	mp, mb := mk(pgtest.MissingID)
	miss := w.do(t, method, mp, token, mb)
	apiStatus(t, miss, http.StatusNotFound)
	if apiStatus(t, got, http.StatusNotFound) {
		assert.Equal(t, string(miss.body), string(got.body), "%s: body differs from the missing id's", got)
		assert.Equal(t, miss.header.Get("Content-Type"), got.header.Get("Content-Type"), "%s", got)
		assert.Equal(t, miss.header.Get("Content-Length"), got.header.Get("Content-Length"), "%s", got)
	}
	assert.Equal(t, w.missing, string(got.body), "%s: not the canonical 404 body", got)
	w.db.AssertUnchanged(t, before, got.String())
}

// apiPathID returns a builder for a path with one %d and a fixed body.
func apiPathID(format, body string) func(int) (string, string) {
	return func(id int) (string, string) { return fmt.Sprintf(format, id), body }
}

// apiBodyID returns a builder for a fixed path and a body with one %d.
func apiBodyID(path, format string) func(int) (string, string) {
	return func(id int) (string, string) { return path, fmt.Sprintf(format, id) }
}

// ---- seeding rows a case may change

// seedJob creates a job of co, of tenant tn, created by tn's admin.
func (w *apiWorld) seedJob(t *testing.T, tn *apiTenant, co *ent.Company, st job.Status, managers ...*ent.User) *ent.Job {
	t.Helper()
	return w.seed.Job(t, co, tn.users["admin"], st, managers...)
}

// apiAllowedPaths lists, sorted, every path docs/design.md section 4 lets entity
// preload on surface (designAllowedPaths, in the API's names).
func apiAllowedPaths(surface, entity string) []string {
	s, err := preload.ParseSurface(surface)
	if err != nil {
		panic(err)
	}
	return designAllowedPaths(designType(preload.Entity(entity)), s)
}
