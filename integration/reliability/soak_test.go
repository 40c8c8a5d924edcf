package reliability

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/integration/world"
	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/httpapi/openapitest"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/scope"
	"github.com/scopegate/scopegate/internal/seed"
)

// soakPlan is the size of one TestSoak.
type soakPlan struct {
	requests   int // scenarios start until this many requests were sent
	workers    int // concurrent clients
	orgs       int // tenants seeded
	jobsPerOrg int
	warmup     int // read requests before the start figures are taken
}

// soakCIPlan is the form CI runs (a few thousand requests);
// SCOPEGATE_RELIABILITY_FULL=1 selects soakFullPlan, the same test over
// 100,000 requests.
var (
	soakCIPlan   = soakPlan{requests: 3_000, workers: 32, orgs: 3, jobsPerOrg: 200, warmup: 300}
	soakFullPlan = soakPlan{requests: 100_000, workers: 32, orgs: 3, jobsPerOrg: 200, warmup: 2_000}
)

// TestSoak runs a bounded mixed workload against `scopegate serve` (issue
// 13, item 5): every route, every role (a banned user among them), three
// tenants, 32 concurrent clients. Every answer is checked: its status is
// the one this test expects for that caller and row (which is always one
// the OpenAPI document allows: every exchange is validated against it),
// no 5xx; every object of a 2xx body, preloaded edges included, is of the
// caller's organization, visible to the caller by world's model of
// docs/design.md section 3, redacted as section 5 says, linked to its
// parent, and within the preload registry's filters and caps (section 4).
// The server's goroutines must come back to their level before the load,
// and its RSS must not grow without bound.
//
// How the visibility check stays exact while the soak writes: every write
// keeps what visibility depends on fixed. Rows seeded before the soak are
// only patched in fields no rule reads (titles, names, phones, note
// bodies), never deleted. Rows the soak creates are given, at creation,
// everything visibility depends on (organization, status, managers,
// company, internal) and never change it; they are added to the model when
// their 201 arrives, and a deleted one stays in the model, since while it
// existed it was visible exactly as the model says. A soak job that is
// published has no managers, and a draft's managers see only it, so no soak
// row changes who sees a seeded row (a client sees the managers of the
// published jobs it sees). A row another worker created may appear in a
// list before its creator has registered it: that sighting is checked once
// every worker has finished. At the end the database, read with raw SQL,
// must hold exactly the rows it held before the soak, with the same
// visibility columns: every soak row was deleted by the scenario that made
// it, and no seeded row's visibility changed, which is what the model
// assumed.
//
// Each request's expected status is exact (a scenario's writes touch only
// its own rows, or seeded rows in fields that do not change who may do
// what), but for a failed login: 401, or 429 once the limiter has counted
// enough of them.
func TestSoak(t *testing.T) {
	plan := soakCIPlan
	if os.Getenv("SCOPEGATE_RELIABILITY_FULL") == "1" {
		plan = soakFullPlan
	}
	ctx := context.Background()
	db := pgtest.New(t)
	res, err := seed.Scale(ctx, db.SQL, seed.NewShape(plan.orgs, plan.jobsPerOrg, 0), seed.Options{Analyze: db.Owner(t)})
	require.NoError(t, err)
	srv := startServer(t, db.URL)
	s := newSoak(t, srv, db, res, plan)

	s.run(plan.warmup, soakReadScenarios)
	s.closeIdle()
	time.Sleep(time.Second)
	start := soakRuntimeOf(t, srv.Ops)
	s.stats = newSoakStats()

	began := time.Now()
	s.run(plan.requests, soakScenarios)
	elapsed := time.Since(began)
	s.closeIdle()
	end := soakRuntimeOf(t, srv.Ops)
	time.Sleep(2 * time.Second)
	idle := soakRuntimeOf(t, srv.Ops)
	// Generous: a connection's goroutines end a moment after the client
	// closed it; only a leak stays above the bound for ten more seconds.
	settled := idle
	for deadline := time.Now().Add(10 * time.Second); settled.goroutines > start.goroutines+10 && time.Now().Before(deadline); {
		time.Sleep(time.Second)
		settled = soakRuntimeOf(t, srv.Ops)
	}

	s.resolveSightings()
	s.checkFinalWorld(ctx, db)
	t.Log("\n" + s.report(plan, elapsed, start, end, idle))

	assert.LessOrEqual(t, settled.goroutines, start.goroutines+10,
		"server goroutines: %d before the load, %d after it and 2 s idle, %d after 10 s more", start.goroutines, idle.goroutines, settled.goroutines)
	assert.LessOrEqual(t, idle.rss, 4*start.rss, "server RSS: %.1f MB before the load, %.1f MB after it", start.rss/1e6, idle.rss/1e6)
	assert.GreaterOrEqual(t, s.stats.total, plan.requests, "requests sent")
	for _, r := range soakDocumentRoutes(t) {
		assert.True(t, s.stats.ok[r] > 0, "route %s: no 2xx answer in the soak (statuses %v)", r, s.stats.statuses[r])
	}
	for _, role := range []string{"admin", "manager", "member", "client", "banned member", "anonymous"} {
		assert.Greater(t, s.stats.roles[role], 0, "no request as %s", role)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kind := range slices.Sorted(maps.Keys(s.errs)) {
		e := s.errs[kind]
		t.Errorf("%s: %d, for example:\n  %s", kind, e.n, strings.Join(e.examples, "\n  "))
	}
}

// ---- the world and its callers

// soakActor is one signed-in user the soak sends requests as.
type soakActor struct {
	label string // the role, or "banned member"
	email string
	user  *world.UserRow
	v     world.Viewer
	token string
	// visibleJobs are the seeded jobs of its organization it sees.
	visibleJobs []int
}

func (a *soakActor) role() scope.Role { return a.user.Role }

// admin reports whether the actor has an admin's rights: an unbanned admin.
func (a *soakActor) admin() bool { return a.user.Role == scope.RoleAdmin && !a.user.Banned }

// createsJobs reports whether the policy lets the actor create jobs.
func (a *soakActor) createsJobs() bool {
	return !a.user.Banned && (a.user.Role == scope.RoleAdmin || a.user.Role == scope.RoleManager)
}

// soakOrg is one tenant: its callers and the ids of its seeded rows.
type soakOrg struct {
	index                          int
	id                             int
	admin, manager, member, client *soakActor
	banned                         *soakActor // only in the first organization
	inactive                       string     // the email of a deactivated user, first organization only
	actors                         []*soakActor
	ids                            map[string][]int // world type -> seeded ids
	managers                       []int            // user ids of its managers
	creators                       []int            // users who created jobs: never deletable (409)
}

// soakModel is world's model of who sees what, over the seeded rows and
// those the soak created; safe for concurrent use.
type soakModel struct {
	mu   sync.RWMutex
	snap *world.Snapshot
}

// sees reports whether the model knows the row, and whether v must see it.
func (m *soakModel) sees(v world.Viewer, typ string, id int) (known, visible bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	switch typ {
	case world.Organization:
		known = m.snap.Orgs[id] != nil
	case world.User:
		known = m.snap.Users[id] != nil
	case world.Company:
		known = m.snap.Companies[id] != nil
	case world.Job:
		known = m.snap.Jobs[id] != nil
	case world.Note:
		known = m.snap.Notes[id] != nil
	}
	return known, known && m.snap.Sees(v, typ, id)
}

// visible is sees for a row the caller asks for by id: unknown is unseen.
func (m *soakModel) visible(a *soakActor, typ string, id int) bool {
	_, ok := m.sees(a.v, typ, id)
	return ok
}

// manages reports whether user manages job, if the model knows the job.
func (m *soakModel) manages(jobID, userID int) (known, manages bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	j := m.snap.Jobs[jobID]
	if j == nil {
		return false, false
	}
	_, ok := slices.BinarySearch(j.Managers, userID)
	return true, ok
}

func (m *soakModel) noteAuthor(id int) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := m.snap.Notes[id]; n != nil {
		return n.AuthorID
	}
	return 0
}

// add registers a row the soak created. Rows are never removed: see
// TestSoak.
func (m *soakModel) add(row any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch r := row.(type) {
	case *world.JobRow:
		slices.Sort(r.Managers)
		m.snap.Jobs[r.ID] = r
	case *world.NoteRow:
		m.snap.Notes[r.ID] = r
	case *world.CompanyRow:
		m.snap.Companies[r.ID] = r
	case *world.UserRow:
		m.snap.Users[r.ID] = r
	default:
		panic(fmt.Sprintf("soak: cannot add %T", row))
	}
}

// soak is one TestSoak's server, model and tallies.
type soak struct {
	t      *testing.T
	srv    *binary.Server
	client *http.Client // the workers' connections
	// loginFrom and failFrom are each worker's clients for logins, from
	// loopback addresses of its own: the login limiter counts a login in
	// progress as a failure of its (email, address) pair, so that
	// workers signing in as the same user from one address could be
	// refused 429; failed logins go from a third address, so that they
	// never slow a worker's correct ones.
	loginFrom, failFrom []*http.Client
	val                 *openapitest.Validator
	model               *soakModel
	base                *world.Snapshot // the world before the soak, unchanged
	orgs                []*soakOrg
	actors              []*soakActor
	preloads            map[preload.Surface]map[preload.Entity][]string

	sent   atomic.Int64
	limit  atomic.Int64
	serial atomic.Int64

	mu        sync.Mutex
	errs      map[string]*soakErrors
	nerrs     int
	sightings []soakSighting
	stats     *soakStats
}

type soakErrors struct {
	n        int
	examples []string
}

// soakSighting is an object of a body the model did not know when it was
// read: a row another worker had created but not yet registered.
type soakSighting struct {
	by    *soakActor
	typ   string
	id    int
	where string
}

func newSoak(t *testing.T, srv *binary.Server, db *pgtest.DB, res seed.Result, plan soakPlan) *soak {
	t.Helper()
	ctx := context.Background()
	val, err := openapitest.Server()
	require.NoError(t, err)
	s := &soak{t: t, srv: srv, client: binary.Client(plan.workers, 30*time.Second), val: val,
		errs: map[string]*soakErrors{}, stats: newSoakStats(),
		preloads: map[preload.Surface]map[preload.Entity][]string{}}
	for _, sf := range preload.Surfaces {
		s.preloads[sf] = map[preload.Entity][]string{}
		for _, e := range []preload.Entity{preload.Job, preload.Company, preload.User, preload.Note} {
			s.preloads[sf][e] = preload.Allowed(e, sf)
		}
	}
	for i := range plan.workers {
		s.loginFrom = append(s.loginFrom, soakClientFrom(fmt.Sprintf("127.0.1.%d", i+1)))
		s.failFrom = append(s.failFrom, soakClientFrom(fmt.Sprintf("127.0.2.%d", i+1)))
	}

	// The callers: per organization its admin, its first manager, member
	// and client (seeded users are all active and unbanned); in the first
	// one, its second member banned and its second client deactivated.
	snap, err := world.Load(ctx, db.Raw)
	require.NoError(t, err)
	require.Len(t, res.OrgIDs, plan.orgs)
	byRole := func(org int, role scope.Role) []*world.UserRow {
		var out []*world.UserRow
		for _, id := range snap.IDs(world.User) {
			if u := snap.Users[id]; u.OrgID == org && u.Role == role {
				out = append(out, u)
			}
		}
		require.NotEmpty(t, out, "org %d has no %s", org, role)
		return out
	}
	first := res.OrgIDs[0]
	members, clients := byRole(first, scope.RoleMember), byRole(first, scope.RoleClient)
	require.True(t, len(members) >= 2 && len(clients) >= 2, "the first organization needs two members and two clients")
	_, err = db.Raw.ExecContext(ctx, `UPDATE users SET banned = true WHERE id = $1`, members[1].ID)
	require.NoError(t, err)
	_, err = db.Raw.ExecContext(ctx, `UPDATE users SET active = false WHERE id = $1`, clients[1].ID)
	require.NoError(t, err)

	type soakLogin struct {
		org   int
		label string
		email string
	}
	var logins []soakLogin
	for i, org := range res.OrgIDs {
		for _, r := range []scope.Role{scope.RoleAdmin, scope.RoleManager, scope.RoleMember, scope.RoleClient} {
			logins = append(logins, soakLogin{i, string(r), byRole(org, r)[0].Email})
		}
	}
	logins = append(logins, soakLogin{0, "banned member", members[1].Email})
	tokens := make([]string, len(logins))
	for i, l := range logins {
		tokens[i] = binary.Login(t, http.DefaultClient, srv.Base, l.email, seed.Password)
	}

	// The model, read after the sign-ins (their sessions are part of the
	// world the end is compared with).
	s.base, err = world.Load(ctx, db.Raw)
	require.NoError(t, err)
	mine, err := world.Load(ctx, db.Raw)
	require.NoError(t, err)
	s.model = &soakModel{snap: mine}
	emails := map[string]*world.UserRow{}
	for _, u := range mine.Users {
		emails[u.Email] = u
	}
	createdJobs := world.Edge{From: world.User, Name: "created_jobs", To: world.Job}
	for i, org := range res.OrgIDs {
		o := &soakOrg{index: i, id: org, ids: map[string][]int{}}
		for _, typ := range []string{world.Job, world.Company, world.User, world.Note} {
			for _, id := range mine.IDs(typ) {
				if mine.OrgOf(typ, id) == org {
					o.ids[typ] = append(o.ids[typ], id)
				}
			}
		}
		for _, id := range o.ids[world.User] {
			if mine.Users[id].Role == scope.RoleManager {
				o.managers = append(o.managers, id)
			}
			if len(mine.Neighbors(createdJobs, id)) > 0 {
				o.creators = append(o.creators, id)
			}
		}
		require.NotEmpty(t, o.creators)
		s.orgs = append(s.orgs, o)
	}
	for i, l := range logins {
		u := emails[l.email]
		a := &soakActor{label: l.label, email: l.email, user: u, v: world.UserViewer(u), token: tokens[i]}
		o := s.orgs[l.org]
		a.visibleJobs = mine.Filter(a.v, world.Job, o.ids[world.Job])
		switch l.label {
		case "admin":
			o.admin = a
		case "manager":
			o.manager = a
		case "member":
			o.member = a
		case "client":
			o.client = a
		default:
			o.banned = a
		}
		o.actors = append(o.actors, a)
		s.actors = append(s.actors, a)
	}
	s.orgs[0].inactive = clients[1].Email
	require.True(t, mine.Users[members[1].ID].Banned && !mine.Users[clients[1].ID].Active)
	return s
}

// soakClientFrom is a client whose connections come from ip, a loopback
// address, so that the server sees another client address.
func soakClientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 2}}
}

// closeIdle closes every idle client connection, so that the server's
// goroutines serving them end before its figures are read.
func (s *soak) closeIdle() {
	s.client.CloseIdleConnections()
	for i := range s.loginFrom {
		s.loginFrom[i].CloseIdleConnections()
		s.failFrom[i].CloseIdleConnections()
	}
}

// ---- running

// soakScenario is a short sequence of requests. tour asks for the variant
// that reaches every route of the scenario with a 2xx answer: each worker's
// first scenario is a tour, so every route is exercised whatever the
// random draws.
type soakScenario struct {
	name   string
	weight int
	run    func(w *soakWorker, o *soakOrg, tour bool)
}

var (
	soakReadScenarios []soakScenario // reads only: the warm-up
	soakScenarios     []soakScenario // everything
)

func init() {
	soakReadScenarios = []soakScenario{
		{"read jobs", 16, soakReadJobs},
		{"read companies", 8, soakReadCompanies},
		{"read users", 8, soakReadUsers},
		{"admin surface", 6, soakAdminSurface},
		{"session info", 6, soakSessionInfo},
	}
	soakScenarios = append(slices.Clone(soakReadScenarios),
		soakScenario{"refusals", 4, soakRefusals},
		soakScenario{"job life", 8, soakJobLife},
		soakScenario{"note life", 10, soakNoteLife},
		soakScenario{"company life", 3, soakCompanyLife},
		soakScenario{"user life", 1, soakUserLife},
		soakScenario{"sign in and out", 1, soakSignInOut},
		soakScenario{"seeded writes", 8, soakSeededWrites},
	)
}

// soakWorker is one concurrent client.
type soakWorker struct {
	s     *soak
	id    int
	r     *mrand.Rand
	stats *soakStats
}

// run sends at least n requests from the plan's workers, drawing
// scenarios from scenarios by weight after each worker's tour.
func (s *soak) run(n int, scenarios []soakScenario) {
	s.sent.Store(0)
	s.limit.Store(int64(n))
	total := 0
	for _, sc := range scenarios {
		total += sc.weight
	}
	var wg sync.WaitGroup
	workers := make([]*soakWorker, len(s.loginFrom))
	for i := range workers {
		w := &soakWorker{s: s, id: i, r: mrand.New(mrand.NewPCG(uint64(i), uint64(n))), stats: newSoakStats()}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			for s.sent.Load() < s.limit.Load() {
				sc := scenarios[w.id%len(scenarios)]
				if !first {
					k := w.r.IntN(total)
					for _, c := range scenarios {
						if k < c.weight {
							sc = c
							break
						}
						k -= c.weight
					}
				}
				o := s.orgs[w.r.IntN(len(s.orgs))]
				if first {
					o = s.orgs[w.id%len(s.orgs)]
				}
				sc.run(w, o, first)
				first = false
			}
		}()
	}
	wg.Wait()
	for _, w := range workers {
		s.stats.merge(w.stats)
	}
}

// soakReq is one request and what its answer must be.
type soakReq struct {
	route  string // the document's operation, "GET /api/jobs/{id}"; else what it is
	method string
	path   string
	by     *soakActor // the caller; nil: no credentials
	token  string     // sent instead of by's token when set
	body   string
	ctype  string // the body's content type; empty: application/json
	// invalid marks a request deliberately outside the document: only its
	// answer is validated.
	invalid bool
	want    []int
	// typ is the world type of a 2xx answer's data; soakMe and
	// soakPreloads for those routes; "" for none.
	typ     string
	surface preload.Surface
	client  *http.Client
}

const (
	soakMe       = "me"
	soakPreloads = "preloads"
)

func soakWant(cond bool, yes, no int) []int {
	if cond {
		return []int{yes}
	}
	return []int{no}
}

// do sends q, checks its answer, and returns its status and decoded body
// (nil for none).
func (w *soakWorker) do(q soakReq) (int, map[string]any) {
	s := w.s
	s.sent.Add(1)
	var rd io.Reader
	if q.body != "" {
		rd = strings.NewReader(q.body)
	}
	req, err := http.NewRequest(q.method, s.srv.Base+q.path, rd)
	if err != nil {
		w.fail("transport", "%s %s: %v", q.method, q.path, err)
		return 0, nil
	}
	token := q.token
	if token == "" && q.by != nil {
		token = q.by.token
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if q.body != "" {
		req.Header.Set("Content-Type", cmp.Or(q.ctype, "application/json"))
	}
	if q.invalid {
		req = openapitest.Invalid(req)
	}
	c := q.client
	if c == nil {
		c = s.client
	}
	role := "anonymous"
	if q.by != nil {
		role = q.by.label
	}
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		w.fail("transport", "%s %s as %s: %v", q.method, q.path, role, err)
		return 0, nil
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	took := time.Since(start)
	if err != nil {
		w.fail("transport", "%s %s as %s: reading the body: %v", q.method, q.path, role, err)
		return 0, nil
	}
	w.stats.record(q.route, role, res.StatusCode, took)
	where := fmt.Sprintf("%s %s as %s (%s)", q.method, q.path, role, q.by.name())
	switch {
	case res.StatusCode == http.StatusInternalServerError:
		w.fail("500", "%s: %.300s", where, body)
	case res.StatusCode == http.StatusServiceUnavailable:
		w.fail("503", "%s: %.300s", where, body)
	case res.StatusCode >= 500:
		w.fail("5xx", "%s: %d %.300s", where, res.StatusCode, body)
	}
	if !slices.Contains(q.want, res.StatusCode) {
		w.fail("unexpected status", "%s: want %v, got %d: %.300s", where, q.want, res.StatusCode, body)
	}
	if err := s.val.Check(req, []byte(q.body), res, body); err != nil {
		w.fail("openapi", "%s: %v", where, err)
	}
	if res.StatusCode == http.StatusNoContent {
		if len(body) != 0 {
			w.fail("body", "%s: 204 with a body: %.300s", where, body)
		}
		return res.StatusCode, nil
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		w.fail("body", "%s: %d, not a JSON object: %.300s", where, res.StatusCode, body)
		return res.StatusCode, nil
	}
	if res.StatusCode/100 == 2 && q.typ != "" {
		w.checkData(&q, m["data"])
	}
	return res.StatusCode, m
}

func (a *soakActor) name() string {
	if a == nil {
		return "no user"
	}
	return fmt.Sprintf("user %d of org %d", a.user.ID, a.user.OrgID)
}

// fail records an error of kind; past 500 errors the soak stops starting
// scenarios (the figures of a broken run are not worth the wait).
func (w *soakWorker) fail(kind, format string, args ...any) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.errs[kind]
	if e == nil {
		e = &soakErrors{}
		s.errs[kind] = e
	}
	e.n++
	if len(e.examples) < 5 {
		e.examples = append(e.examples, fmt.Sprintf(format, args...))
	}
	if s.nerrs++; s.nerrs == 500 {
		s.limit.Store(0)
	}
}

// ---- what a body may hold

// checkData checks the data of a 2xx answer to q.
func (w *soakWorker) checkData(q *soakReq, data any) {
	where := fmt.Sprintf("%s %s as %s (%s)", q.method, q.path, q.by.label, q.by.name())
	switch q.typ {
	case soakMe:
		me, _ := data.(map[string]any)
		u, _ := me["user"].(map[string]any)
		org, _ := me["org"].(map[string]any)
		if id, _ := soakInt(u["id"]); id != q.by.user.ID || me["role"] != string(q.by.role()) {
			w.fail("me", "%s: user %v, role %v", where, u["id"], me["role"])
		}
		if id, _ := soakInt(org["id"]); id != q.by.user.OrgID {
			w.fail("leak: another tenant", "%s: org %v", where, org["id"])
		}
		w.checkObject(q, where, world.User, u, nil)
		w.checkObject(q, where, world.Organization, org, nil)
		return
	case soakPreloads:
		list, _ := data.([]any)
		admin := false
		for _, d := range list {
			sf, _ := d.(map[string]any)["surface"].(string)
			admin = admin || sf == preload.SurfaceAdmin.String()
		}
		if admin != q.by.admin() {
			w.fail("preloads", "%s: admin surface listed: %t", where, admin)
		}
		return
	}
	switch d := data.(type) {
	case []any:
		for _, x := range d {
			o, _ := x.(map[string]any)
			w.checkObject(q, where, q.typ, o, nil)
		}
	case map[string]any:
		w.checkObject(q, where, q.typ, d, nil)
	default:
		w.fail("body", "%s: data is %T", where, data)
	}
}

// soakParent is the object an edge was loaded from.
type soakParent struct {
	typ, edge string
	id        int
	obj       map[string]any
}

// checkObject checks one object of type typ and, recursively, its edges.
func (w *soakWorker) checkObject(q *soakReq, where, typ string, o map[string]any, parent *soakParent) {
	a := q.by
	id, ok := soakInt(o["id"])
	if !ok {
		w.fail("body", "%s: a %s without an id: %v", where, typ, o)
		return
	}
	what := fmt.Sprintf("%s %d", typ, id)
	if parent != nil {
		what = fmt.Sprintf("%s (edge %s of %s %d)", what, parent.edge, parent.typ, parent.id)
	}
	org := id
	if typ != world.Organization {
		org, _ = soakInt(o["org_id"])
	}
	if org != a.user.OrgID {
		w.fail("leak: another tenant", "%s: %s of org %d", where, what, org)
	}
	switch known, visible := w.s.model.sees(a.v, typ, id); {
	case !known:
		w.s.mu.Lock()
		w.s.sightings = append(w.s.sightings, soakSighting{by: a, typ: typ, id: id, where: where + ": " + what})
		w.s.mu.Unlock()
	case !visible:
		w.fail("leak: not visible", "%s: %s", where, what)
	}

	// Redaction (docs/design.md section 5).
	switch typ {
	case world.User:
		_, email := o["email"]
		_, phone := o["phone"]
		if contact := a.admin() || id == a.user.ID; !contact && (email || phone) || contact && !email {
			w.fail("redaction", "%s: %s: email shown %t, phone shown %t", where, what, email, phone)
		}
	case world.Job:
		if _, salary := o["salary_max"]; salary && a.role() == scope.RoleClient {
			w.fail("redaction", "%s: %s: salary_max shown to a client", where, what)
		}
	}
	if parent != nil {
		w.checkEdge(q, where, what, parent, id, o)
	}

	edges, _ := o["edges"].(map[string]any)
	for name, v := range edges {
		e, ok := soakEdge(typ, name)
		if !ok {
			w.fail("body", "%s: %s: unknown edge %q", where, what, name)
			continue
		}
		p := &soakParent{typ: typ, edge: name, id: id, obj: o}
		if e.Unique {
			x, _ := v.(map[string]any)
			w.checkObject(q, where, e.To, x, p)
			continue
		}
		list, _ := v.([]any)
		if limit := soakEdgeCap(q.surface, e); limit > 0 && len(list) > limit {
			w.fail("preload cap", "%s: %s: %d rows in %s, cap %d", where, what, len(list), name, limit)
		}
		for _, x := range list {
			c, _ := x.(map[string]any)
			w.checkObject(q, where, e.To, c, p)
		}
	}
}

// checkEdge checks that a preloaded object belongs to its parent by the
// edge it came through, and passes the surface's filter (docs/design.md
// section 4).
func (w *soakWorker) checkEdge(q *soakReq, where, what string, p *soakParent, id int, o map[string]any) {
	field := func(m map[string]any, k string) int { v, _ := soakInt(m[k]); return v }
	user := q.surface == preload.SurfaceUser
	linked, filtered := true, true
	switch p.typ + "." + p.edge {
	case "Job.company":
		linked = id == field(p.obj, "company_id")
	case "Job.creator":
		linked = id == field(p.obj, "created_by_id")
	case "Job.managers":
		if known, manages := w.s.model.manages(p.id, id); known {
			linked = manages
		}
		filtered = !user || o["active"] == true
	case "Job.notes":
		linked = field(o, "job_id") == p.id
		filtered = !user || o["internal"] == false
	case "Note.author":
		linked = id == field(p.obj, "author_id")
	case "Company.jobs":
		linked = field(o, "company_id") == p.id
		filtered = !user || o["status"] == string(job.StatusPublished)
	case "User.company":
		linked = id == field(p.obj, "company_id")
	case "User.managed_jobs":
		if known, manages := w.s.model.manages(id, p.id); known {
			linked = manages
		}
	default:
		w.fail("body", "%s: %s: an edge the soak does not know", where, what)
	}
	if !linked {
		w.fail("edge", "%s: %s is not linked to its parent", where, what)
	}
	if !filtered {
		w.fail("preload filter", "%s: %s is outside the %s surface's filter: %v", where, what, q.surface, o)
	}
}

func soakEdge(typ, name string) (world.Edge, bool) {
	for _, e := range world.EdgesFrom(typ) {
		if e.Name == name {
			return e, true
		}
	}
	return world.Edge{}, false
}

// soakEdgeCap is the registry's cap per parent of a to-many edge on a
// surface (0: none).
func soakEdgeCap(sf preload.Surface, e world.Edge) int {
	switch e.String() {
	case "Job.notes":
		if sf == preload.SurfaceUser {
			return preload.NotesPerJob
		}
	case "Company.jobs":
		return preload.JobsPerCompany
	case "User.managed_jobs":
		return preload.ManagedJobsPerUser
	}
	return 0
}

func soakInt(v any) (int, bool) {
	f, ok := v.(float64)
	return int(f), ok && f == math.Trunc(f)
}

// dataID is the id of a one-object answer's data.
func soakDataID(m map[string]any) int {
	d, _ := m["data"].(map[string]any)
	id, _ := soakInt(d["id"])
	return id
}

// expectFields checks that a created or changed object holds what was
// asked.
func (w *soakWorker) expectFields(where string, m map[string]any, want map[string]any) {
	d, _ := m["data"].(map[string]any)
	for k, v := range want {
		got := d[k]
		if f, ok := got.(float64); ok {
			got = int(f)
		}
		if fmt.Sprint(got) != fmt.Sprint(v) {
			w.fail("write", "%s: %s is %v, want %v", where, k, d[k], v)
		}
	}
}

// resolveSightings checks the objects no model row was known for when
// they were read, now that every creation has been registered.
func (s *soak) resolveSightings() {
	w := &soakWorker{s: s}
	for _, x := range s.sightings {
		switch known, visible := s.model.sees(x.by.v, x.typ, x.id); {
		case !known:
			w.fail("unknown row", "%s: no such row was seeded or created by the soak", x.where)
		case !visible:
			w.fail("leak: not visible", "%s (a row created during the soak)", x.where)
		}
	}
}

// checkFinalWorld compares the database after the soak with the world
// before it: the same rows, with the same columns visibility depends on.
func (s *soak) checkFinalWorld(ctx context.Context, db *pgtest.DB) {
	w := &soakWorker{s: s}
	after, err := world.Load(ctx, db.Raw)
	if err != nil {
		w.fail("final world", "%v", err)
		return
	}
	for _, typ := range []string{world.Organization, world.User, world.Session, world.Company, world.Job, world.Note} {
		before, now := s.base.IDs(typ), after.IDs(typ)
		if !slices.Equal(before, now) {
			w.fail("final world", "%s: %d rows before the soak, %d after; left over %v, missing %v", typ, len(before), len(now),
				soakHead(soakMinus(now, before)), soakHead(soakMinus(before, now)))
		}
	}
	same := func(typ string, id int, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			w.fail("final world", "%s %d changed: %v, was %v", typ, id, b, a)
		}
	}
	for id, a := range s.base.Jobs {
		if b := after.Jobs[id]; b != nil {
			same(world.Job, id, []any{a.OrgID, a.CompanyID, a.Status, a.CreatedByID, a.Managers}, []any{b.OrgID, b.CompanyID, b.Status, b.CreatedByID, b.Managers})
		}
	}
	for id, a := range s.base.Notes {
		if b := after.Notes[id]; b != nil {
			same(world.Note, id, []any{a.OrgID, a.JobID, a.AuthorID, a.Internal}, []any{b.OrgID, b.JobID, b.AuthorID, b.Internal})
		}
	}
	for id, a := range s.base.Companies {
		if b := after.Companies[id]; b != nil {
			same(world.Company, id, []any{a.OrgID, a.Archived}, []any{b.OrgID, b.Archived})
		}
	}
	for id, a := range s.base.Users {
		if b := after.Users[id]; b != nil {
			same(world.User, id, []any{a.OrgID, a.Role, a.Banned, a.Active, soakDeref(a.CompanyID)}, []any{b.OrgID, b.Role, b.Banned, b.Active, soakDeref(b.CompanyID)})
		}
	}
}

func soakDeref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}

func soakMinus(a, b []int) []int {
	var out []int
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); !ok {
			out = append(out, x)
		}
	}
	return out
}

func soakHead(xs []int) []int { return xs[:min(len(xs), 10)] }

// ---- picking

// actor picks one of o's callers, any role, the banned one included.
func (w *soakWorker) actor(o *soakOrg) *soakActor { return o.actors[w.r.IntN(len(o.actors))] }

// other picks one of o's callers other than a.
func (w *soakWorker) other(o *soakOrg, a *soakActor) *soakActor {
	for {
		if b := w.actor(o); b != a {
			return b
		}
	}
}

func soakPick[T any](r *mrand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// pickID picks a seeded id of typ to ask for: mostly one of o's, else
// another tenant's, else one no row has. A tour asks for one a sees.
func (w *soakWorker) pickID(o *soakOrg, a *soakActor, typ string, tour bool) int {
	if tour {
		for range 100 {
			if id := soakPick(w.r, o.ids[typ]); w.s.model.visible(a, typ, id) {
				return id
			}
		}
	}
	switch k := w.r.IntN(10); {
	case k < 7:
		return soakPick(w.r, o.ids[typ])
	case k < 9:
		other := w.s.orgs[(o.index+1+w.r.IntN(len(w.s.orgs)-1))%len(w.s.orgs)]
		return soakPick(w.r, other.ids[typ])
	default:
		return 1_000_000_000 + w.r.IntN(1_000_000)
	}
}

// listQuery is a list's query: a page size, sometimes a status filter,
// and usually one or two preload paths allowed for entity on surface (a
// path three edges deep only with a small page).
func (w *soakWorker) listQuery(e preload.Entity, sf preload.Surface, status bool) string {
	q := url.Values{}
	limit := soakPick(w.r, []int{5, 10, 25})
	if w.r.IntN(4) > 0 {
		allowed := w.s.preloads[sf][e]
		var paths []string
		for range 1 + w.r.IntN(2) {
			p := soakPick(w.r, allowed)
			if !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
			if strings.Count(p, ".") == 2 {
				limit = 3
			}
		}
		q.Set("preload", strings.Join(paths, ","))
	}
	q.Set("limit", strconv.Itoa(limit))
	if status && w.r.IntN(3) == 0 {
		q.Set("status", soakPick(w.r, []string{"draft", "published", "archived"}))
	}
	return "?" + q.Encode()
}

// getQuery is a get's query: usually a preload path.
func (w *soakWorker) getQuery(e preload.Entity, sf preload.Surface) string {
	if w.r.IntN(3) == 0 {
		return ""
	}
	return "?preload=" + url.QueryEscape(soakPick(w.r, w.s.preloads[sf][e]))
}

func (w *soakWorker) name(kind string) string {
	return fmt.Sprintf("Soak %s %d", kind, w.s.serial.Add(1))
}

func soakJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ---- the scenarios

// soakRead is a list (with sometimes its next page) and two gets of one
// entity on the user surface.
func soakRead(w *soakWorker, o *soakOrg, tour bool, e preload.Entity, typ, plural string) {
	a := w.actor(o)
	if tour {
		a = o.admin
	}
	q := w.listQuery(e, preload.SurfaceUser, e == preload.Job)
	_, m := w.do(soakReq{route: "GET /api/" + plural, method: "GET", path: "/api/" + plural + q, by: a,
		want: []int{200}, typ: typ, surface: preload.SurfaceUser})
	if next, _ := m["next_cursor"].(string); next != "" && (tour || w.r.IntN(3) == 0) {
		w.do(soakReq{route: "GET /api/" + plural, method: "GET", path: "/api/" + plural + q + "&cursor=" + url.QueryEscape(next), by: a,
			want: []int{200}, typ: typ, surface: preload.SurfaceUser})
	}
	id := w.pickID(o, a, typ, tour)
	w.do(soakReq{route: "GET /api/" + plural + "/{id}", method: "GET", path: fmt.Sprintf("/api/%s/%d%s", plural, id, w.getQuery(e, preload.SurfaceUser)),
		by: a, want: soakWant(w.s.model.visible(a, typ, id), 200, 404), typ: typ, surface: preload.SurfaceUser})
}

func soakReadJobs(w *soakWorker, o *soakOrg, tour bool) {
	soakRead(w, o, tour, preload.Job, world.Job, "jobs")
	a := w.actor(o)
	if tour {
		a = o.admin
	}
	id := w.pickID(o, a, world.Job, tour)
	q := "?limit=" + strconv.Itoa(soakPick(w.r, []int{5, 50}))
	w.do(soakReq{route: "GET /api/jobs/{id}/notes", method: "GET", path: fmt.Sprintf("/api/jobs/%d/notes%s", id, q), by: a,
		want: soakWant(w.s.model.visible(a, world.Job, id), 200, 404), typ: world.Note, surface: preload.SurfaceUser})
}

func soakReadCompanies(w *soakWorker, o *soakOrg, tour bool) {
	soakRead(w, o, tour, preload.Company, world.Company, "companies")
}

func soakReadUsers(w *soakWorker, o *soakOrg, tour bool) {
	soakRead(w, o, tour, preload.User, world.User, "users")
}

// soakAdminSurface lists and gets each entity on the admin surface: an
// admin's, or anyone else's 403.
func soakAdminSurface(w *soakWorker, o *soakOrg, tour bool) {
	a := o.admin
	if !tour && w.r.IntN(10) < 3 {
		a = w.actor(o)
	}
	for _, x := range []struct {
		e      preload.Entity
		typ    string
		plural string
	}{{preload.Job, world.Job, "jobs"}, {preload.Company, world.Company, "companies"}, {preload.User, world.User, "users"}} {
		q := w.listQuery(x.e, preload.SurfaceAdmin, x.e == preload.Job)
		w.do(soakReq{route: "GET /api/admin/" + x.plural, method: "GET", path: "/api/admin/" + x.plural + q, by: a,
			want: soakWant(a.admin(), 200, 403), typ: x.typ, surface: preload.SurfaceAdmin})
		id := w.pickID(o, a, x.typ, tour)
		want := []int{403}
		if a.admin() {
			want = soakWant(w.s.model.visible(a, x.typ, id), 200, 404)
		}
		w.do(soakReq{route: "GET /api/admin/" + x.plural + "/{id}", method: "GET",
			path: fmt.Sprintf("/api/admin/%s/%d%s", x.plural, id, w.getQuery(x.e, preload.SurfaceAdmin)), by: a,
			want: want, typ: x.typ, surface: preload.SurfaceAdmin})
	}
}

// soakSessionInfo is what a client asks once per page: who am I, what may
// I preload, the policy (admins), and the health routes.
func soakSessionInfo(w *soakWorker, o *soakOrg, tour bool) {
	a := w.actor(o)
	if tour {
		a = o.admin
	}
	w.do(soakReq{route: "GET /api/me", method: "GET", path: "/api/me", by: a, want: []int{200}, typ: soakMe, surface: preload.SurfaceUser})
	w.do(soakReq{route: "GET /api/preloads", method: "GET", path: "/api/preloads", by: a, want: []int{200}, typ: soakPreloads})
	w.do(soakReq{route: "GET /api/policy", method: "GET", path: "/api/policy?allow=role:manager", by: a, want: soakWant(a.admin(), 200, 403)})
	w.do(soakReq{route: "GET /healthz", method: "GET", path: "/healthz", want: []int{200}})
	w.do(soakReq{route: "GET /readyz", method: "GET", path: "/readyz", want: []int{200}})
	if tour || w.r.IntN(20) == 0 {
		w.do(soakReq{route: "GET /api/openapi.json", method: "GET", path: "/api/openapi.json", want: []int{200}})
	}
}

// soakRefusals are requests that must be refused, each with its status.
func soakRefusals(w *soakWorker, o *soakOrg, _ bool) {
	a := w.actor(o)
	w.do(soakReq{route: "GET /api/jobs", method: "GET", path: "/api/jobs", want: []int{401}})
	w.do(soakReq{route: "GET /api/me", method: "GET", path: "/api/me", token: "soak-not-a-token", want: []int{401}})
	w.do(soakReq{route: "GET /api/jobs", method: "GET", path: "/api/jobs?preload=bogus", by: a, want: []int{400}})
	w.do(soakReq{route: "GET /api/jobs", method: "GET", path: "/api/jobs?preload=creator", by: a, want: []int{400}})
	w.do(soakReq{route: "GET /api/companies", method: "GET", path: "/api/companies?limit=0", by: a, want: []int{400}, invalid: true})
	w.do(soakReq{route: "GET /api/users", method: "GET", path: "/api/users?colour=red", by: a, want: []int{400}, invalid: true})
	w.do(soakReq{route: "GET /api/jobs/{id}", method: "GET", path: "/api/jobs/abc", by: a, want: []int{404}, invalid: true})
	w.do(soakReq{route: "(no route)", method: "GET", path: "/api/nowhere", by: a, want: []int{404}})
	w.do(soakReq{route: "(wrong method)", method: "PUT", path: "/api/jobs", by: a, want: []int{405}})
	w.do(soakReq{route: "POST /api/companies", method: "POST", path: "/api/companies", by: a, body: `{"name":`, want: []int{400}, invalid: true})
	w.do(soakReq{route: "POST /api/companies", method: "POST", path: "/api/companies", by: a, body: `{"name":"x"}`, ctype: "text/plain",
		want: []int{415}, invalid: true})
}

// soakJobLife creates a job as an admin or a manager, reads and changes it
// as several roles, adds a note, and has the admin delete it.
func soakJobLife(w *soakWorker, o *soakOrg, tour bool) {
	creator := o.admin
	if !tour {
		switch w.r.IntN(10) {
		case 0:
			// A role that may not create jobs.
			x := soakPick(w.r, []*soakActor{o.member, o.client, o.banned})
			if x == nil {
				x = o.member
			}
			w.do(soakReq{route: "POST /api/jobs", method: "POST", path: "/api/jobs", by: x,
				body: soakJSON(map[string]any{"title": w.name("job"), "company_id": soakPick(w.r, o.ids[world.Company])}), want: []int{403}})
			return
		case 1, 2, 3, 4:
			creator = o.manager
		}
	}
	company := soakPick(w.r, o.ids[world.Company])
	status := soakPick(w.r, []string{"draft", "published", "archived"})
	if tour || creator == o.manager && status == "archived" {
		status = "draft"
	}
	// A published job has no managers, a draft its creator if a manager,
	// else maybe one: see TestSoak.
	managers := []int{}
	switch {
	case status == "published":
	case creator == o.manager:
		managers = []int{creator.user.ID}
	case w.r.IntN(2) == 0:
		managers = []int{soakPick(w.r, o.managers)}
	}
	title := w.name("job")
	post := soakReq{route: "POST /api/jobs", method: "POST", path: "/api/jobs", by: creator, want: []int{201}, typ: world.Job, surface: preload.SurfaceUser,
		body: soakJSON(map[string]any{"title": title, "description": "made by the soak", "company_id": company, "status": status,
			"salary_max": 50_000 + w.r.IntN(50)*1000, "manager_ids": managers})}
	code, m := w.do(soakReq{route: post.route, method: post.method, path: post.path, by: post.by, body: post.body, want: post.want})
	if code != 201 {
		return
	}
	id := soakDataID(m)
	w.s.model.add(&world.JobRow{ID: id, OrgID: o.id, CompanyID: company, Status: job.Status(status), CreatedByID: creator.user.ID, Managers: managers})
	w.checkData(&post, m["data"])
	w.expectFields("POST /api/jobs", m, map[string]any{"org_id": o.id, "company_id": company, "status": status, "created_by_id": creator.user.ID, "title": title})
	path := fmt.Sprintf("/api/jobs/%d", id)

	w.do(soakReq{route: "GET /api/jobs/{id}", method: "GET", path: path + "?preload=company,managers,notes", by: creator,
		want: []int{200}, typ: world.Job, surface: preload.SurfaceUser})
	x := w.other(o, creator)
	w.do(soakReq{route: "GET /api/jobs/{id}", method: "GET", path: path + w.getQuery(preload.Job, preload.SurfaceUser), by: x,
		want: soakWant(w.s.model.visible(x, world.Job, id), 200, 404), typ: world.Job, surface: preload.SurfaceUser})
	_, manages := w.s.model.manages(id, creator.user.ID)
	_, m = w.do(soakReq{route: "PATCH /api/jobs/{id}", method: "PATCH", path: path, by: creator,
		body: soakJSON(map[string]any{"title": title + " (changed)", "salary_max": nil}),
		want: soakWant(creator.admin() || manages, 200, 403), typ: world.Job, surface: preload.SurfaceUser})
	if creator.admin() || manages {
		w.expectFields("PATCH /api/jobs/{id}", m, map[string]any{"title": title + " (changed)", "status": status})
	}
	w.do(soakReq{route: "PATCH /api/jobs/{id}", method: "PATCH", path: path, by: o.member, body: soakJSON(map[string]any{"title": "no"}),
		want: soakWant(w.s.model.visible(o.member, world.Job, id), 403, 404)})

	internal := !tour && w.r.IntN(2) == 0
	note := soakReq{route: "POST /api/jobs/{id}/notes", method: "POST", path: path + "/notes", by: creator, want: []int{201},
		typ: world.Note, surface: preload.SurfaceUser, body: soakJSON(map[string]any{"body": w.name("note"), "internal": internal})}
	if code, m := w.do(soakReq{route: note.route, method: note.method, path: note.path, by: note.by, body: note.body, want: note.want}); code == 201 {
		nid := soakDataID(m)
		w.s.model.add(&world.NoteRow{ID: nid, OrgID: o.id, JobID: id, AuthorID: creator.user.ID, Internal: internal})
		w.checkData(&note, m["data"])
		w.expectFields("POST /api/jobs/{id}/notes", m, map[string]any{"job_id": id, "author_id": creator.user.ID, "internal": internal})
	}
	x = w.other(o, creator)
	w.do(soakReq{route: "GET /api/jobs/{id}/notes", method: "GET", path: path + "/notes", by: x,
		want: soakWant(w.s.model.visible(x, world.Job, id), 200, 404), typ: world.Note, surface: preload.SurfaceUser})

	refused := o.manager
	if creator == o.manager {
		refused = o.member
	}
	w.do(soakReq{route: "DELETE /api/jobs/{id}", method: "DELETE", path: path, by: refused,
		want: soakWant(w.s.model.visible(refused, world.Job, id), 403, 404)})
	w.do(soakReq{route: "DELETE /api/jobs/{id}", method: "DELETE", path: path, by: o.admin, want: []int{204}})
	w.do(soakReq{route: "GET /api/jobs/{id}", method: "GET", path: path, by: o.admin, want: []int{404}})
}

// soakNoteLife writes a note on a seeded job as any role, changes it as its
// author and as someone else, and deletes it.
func soakNoteLife(w *soakWorker, o *soakOrg, tour bool) {
	a := w.actor(o)
	if tour {
		a = o.manager
	}
	var jobID int
	if len(a.visibleJobs) > 0 && (tour || w.r.IntN(5) > 0) {
		jobID = soakPick(w.r, a.visibleJobs)
	} else {
		jobID = w.pickID(o, a, world.Job, false)
	}
	internal := !tour && w.r.IntN(2) == 0
	var want []int
	switch {
	case !w.s.model.visible(a, world.Job, jobID):
		want = []int{404}
	case a.role() == scope.RoleAdmin || a.role() == scope.RoleManager:
		want = []int{201}
	case a.role() == scope.RoleMember:
		want = soakWant(!internal, 201, 403)
	default:
		want = []int{403}
	}
	post := soakReq{route: "POST /api/jobs/{id}/notes", method: "POST", path: fmt.Sprintf("/api/jobs/%d/notes", jobID), by: a,
		body: soakJSON(map[string]any{"body": w.name("note"), "internal": internal}), want: want, typ: world.Note, surface: preload.SurfaceUser}
	code, m := w.do(soakReq{route: post.route, method: post.method, path: post.path, by: post.by, body: post.body, want: post.want})
	if code != 201 {
		return
	}
	id := soakDataID(m)
	w.s.model.add(&world.NoteRow{ID: id, OrgID: o.id, JobID: jobID, AuthorID: a.user.ID, Internal: internal})
	w.checkData(&post, m["data"])
	w.expectFields("POST /api/jobs/{id}/notes", m, map[string]any{"job_id": jobID, "author_id": a.user.ID, "internal": internal, "org_id": o.id})
	path := fmt.Sprintf("/api/notes/%d", id)

	body := w.name("note body")
	_, m = w.do(soakReq{route: "PATCH /api/notes/{id}", method: "PATCH", path: path, by: a, body: soakJSON(map[string]any{"body": body}),
		want: []int{200}, typ: world.Note, surface: preload.SurfaceUser})
	w.expectFields("PATCH /api/notes/{id}", m, map[string]any{"body": body, "internal": internal})
	if a.role() == scope.RoleMember {
		// note.internal: a member may not make a note internal.
		w.do(soakReq{route: "PATCH /api/notes/{id}", method: "PATCH", path: path, by: a, body: `{"internal":true}`, want: []int{403}})
	}
	b := w.other(o, a)
	var bwant []int
	switch {
	case !w.s.model.visible(b, world.Note, id):
		bwant = []int{404}
	case b.admin():
		bwant = []int{200}
	default:
		bwant = []int{403}
	}
	w.do(soakReq{route: "PATCH /api/notes/{id}", method: "PATCH", path: path, by: b, body: soakJSON(map[string]any{"body": w.name("note body")}),
		want: bwant, typ: world.Note, surface: preload.SurfaceUser})
	if !b.admin() {
		w.do(soakReq{route: "DELETE /api/notes/{id}", method: "DELETE", path: path, by: b, want: bwant[:1:1]})
	}
	w.do(soakReq{route: "DELETE /api/notes/{id}", method: "DELETE", path: path, by: a, want: []int{204}})
	w.do(soakReq{route: "DELETE /api/notes/{id}", method: "DELETE", path: path, by: a, want: []int{404}})
}

// soakCompanyLife creates, reads, changes and deletes a company as the
// admin, with the other roles refused along the way.
func soakCompanyLife(w *soakWorker, o *soakOrg, tour bool) {
	if !tour && w.r.IntN(5) == 0 {
		x := soakPick(w.r, []*soakActor{o.manager, o.member, o.client})
		w.do(soakReq{route: "POST /api/companies", method: "POST", path: "/api/companies", by: x,
			body: soakJSON(map[string]any{"name": w.name("company")}), want: []int{403}})
		return
	}
	name := w.name("company")
	post := soakReq{route: "POST /api/companies", method: "POST", path: "/api/companies", by: o.admin,
		body: soakJSON(map[string]any{"name": name}), want: []int{201}, typ: world.Company, surface: preload.SurfaceUser}
	code, m := w.do(soakReq{route: post.route, method: post.method, path: post.path, by: post.by, body: post.body, want: post.want})
	if code != 201 {
		return
	}
	id := soakDataID(m)
	w.s.model.add(&world.CompanyRow{ID: id, OrgID: o.id})
	w.checkData(&post, m["data"])
	w.expectFields("POST /api/companies", m, map[string]any{"name": name, "org_id": o.id, "archived": false})
	path := fmt.Sprintf("/api/companies/%d", id)

	for _, x := range []*soakActor{o.member, o.client} {
		w.do(soakReq{route: "GET /api/companies/{id}", method: "GET", path: path + "?preload=jobs", by: x,
			want: soakWant(w.s.model.visible(x, world.Company, id), 200, 404), typ: world.Company, surface: preload.SurfaceUser})
	}
	_, m = w.do(soakReq{route: "PATCH /api/companies/{id}", method: "PATCH", path: path, by: o.admin,
		body: soakJSON(map[string]any{"name": name + " (changed)", "archived": true}), want: []int{200}, typ: world.Company, surface: preload.SurfaceUser})
	w.expectFields("PATCH /api/companies/{id}", m, map[string]any{"name": name + " (changed)", "archived": true})
	w.do(soakReq{route: "PATCH /api/companies/{id}", method: "PATCH", path: path, by: o.manager, body: `{"name":"no"}`, want: []int{403}})
	// A seeded company has jobs and clients: it cannot be deleted.
	w.do(soakReq{route: "DELETE /api/companies/{id}", method: "DELETE", path: fmt.Sprintf("/api/companies/%d", soakPick(w.r, o.ids[world.Company])),
		by: o.admin, want: []int{409}})
	w.do(soakReq{route: "DELETE /api/companies/{id}", method: "DELETE", path: path, by: o.member, want: []int{403}})
	w.do(soakReq{route: "DELETE /api/companies/{id}", method: "DELETE", path: path, by: o.admin, want: []int{204}})
	w.do(soakReq{route: "DELETE /api/companies/{id}", method: "DELETE", path: path, by: o.admin, want: []int{404}})
}

// soakUserLife creates a member as the admin, reads it as each role,
// changes it, and deletes it.
func soakUserLife(w *soakWorker, o *soakOrg, tour bool) {
	if !tour && w.r.IntN(5) == 0 {
		x := soakPick(w.r, []*soakActor{o.manager, o.member, o.client})
		w.do(soakReq{route: "POST /api/users", method: "POST", path: "/api/users", by: x,
			body: soakJSON(map[string]any{"email": fmt.Sprintf("soak-refused-%d@soak.test", w.s.serial.Add(1)), "name": "No",
				"role": "member", "password": "soak-password-1"}), want: []int{403}})
		return
	}
	email := fmt.Sprintf("soak-%d@soak.test", w.s.serial.Add(1))
	post := soakReq{route: "POST /api/users", method: "POST", path: "/api/users", by: o.admin, want: []int{201}, typ: world.User, surface: preload.SurfaceUser,
		body: soakJSON(map[string]any{"email": email, "name": w.name("user"), "role": "member", "password": "soak-password-1"})}
	code, m := w.do(soakReq{route: post.route, method: post.method, path: post.path, by: post.by, body: post.body, want: post.want})
	if code != 201 {
		return
	}
	id := soakDataID(m)
	w.s.model.add(&world.UserRow{ID: id, OrgID: o.id, Email: email, Role: scope.RoleMember, Active: true})
	w.checkData(&post, m["data"])
	w.expectFields("POST /api/users", m, map[string]any{"email": email, "role": "member", "org_id": o.id, "banned": false, "active": true})
	path := fmt.Sprintf("/api/users/%d", id)

	for _, x := range []*soakActor{o.admin, o.member, o.client} {
		w.do(soakReq{route: "GET /api/users/{id}", method: "GET", path: path, by: x,
			want: soakWant(w.s.model.visible(x, world.User, id), 200, 404), typ: world.User, surface: preload.SurfaceUser})
	}
	_, m = w.do(soakReq{route: "PATCH /api/users/{id}", method: "PATCH", path: path, by: o.admin,
		body: `{"name":"Soak user (changed)","phone":"+1 555 0100"}`, want: []int{200}, typ: world.User, surface: preload.SurfaceUser})
	w.expectFields("PATCH /api/users/{id}", m, map[string]any{"name": "Soak user (changed)", "phone": "+1 555 0100"})
	w.do(soakReq{route: "PATCH /api/users/{id}", method: "PATCH", path: path, by: o.member, body: `{"name":"no"}`, want: []int{403}})
	w.do(soakReq{route: "DELETE /api/users/{id}", method: "DELETE", path: path, by: o.manager, want: []int{403}})
	// A user who created jobs cannot be deleted.
	w.do(soakReq{route: "DELETE /api/users/{id}", method: "DELETE", path: fmt.Sprintf("/api/users/%d", soakPick(w.r, o.creators)),
		by: o.admin, want: []int{409}})
	w.do(soakReq{route: "DELETE /api/users/{id}", method: "DELETE", path: path, by: o.admin, want: []int{204}})
	w.do(soakReq{route: "GET /api/users/{id}", method: "GET", path: path, by: o.admin, want: []int{404}})
}

// soakSignInOut signs in, uses the token, signs out, and finds the token
// refused; sometimes a wrong password, or a deactivated user's, is refused
// too (401, or 429 once the limiter has counted enough of them).
func soakSignInOut(w *soakWorker, o *soakOrg, tour bool) {
	a := w.actor(o)
	creds := soakJSON(map[string]string{"email": a.email, "password": seed.Password})
	code, m := w.do(soakReq{route: "POST /api/session", method: "POST", path: "/api/session", body: creds,
		want: []int{201}, client: w.s.loginFrom[w.id]})
	if token, _ := m["token"].(string); code == 201 && token != "" {
		me := soakReq{route: "GET /api/me", method: "GET", path: "/api/me", by: a, token: token, want: []int{200}, typ: soakMe}
		w.do(me)
		w.do(soakReq{route: "DELETE /api/session", method: "DELETE", path: "/api/session", by: a, token: token, want: []int{204}})
		me.want = []int{401}
		w.do(me)
	}
	if tour || w.r.IntN(3) == 0 {
		w.do(soakReq{route: "POST /api/session", method: "POST", path: "/api/session",
			body: soakJSON(map[string]string{"email": a.email, "password": "soak-wrong-password"}), want: []int{401, 429}, client: w.s.failFrom[w.id]})
	}
	if inactive := w.s.orgs[0].inactive; tour || w.r.IntN(3) == 0 {
		w.do(soakReq{route: "POST /api/session", method: "POST", path: "/api/session",
			body: soakJSON(map[string]string{"email": inactive, "password": seed.Password}), want: []int{401, 429}, client: w.s.failFrom[w.id]})
	}
}

// soakSeededWrites changes seeded rows in fields no rule reads, and tries
// writes that must be refused: another tenant's company, an empty title,
// deleting what may not be deleted.
func soakSeededWrites(w *soakWorker, o *soakOrg, tour bool) {
	a := w.actor(o)
	if tour {
		a = o.admin
	}
	model := w.s.model
	jobID := w.pickID(o, a, world.Job, tour)
	_, manages := model.manages(jobID, a.user.ID)
	var want []int
	switch {
	case !model.visible(a, world.Job, jobID):
		want = []int{404}
	case a.admin() || a.role() == scope.RoleManager && !a.user.Banned && manages:
		want = []int{200}
	default:
		want = []int{403}
	}
	w.do(soakReq{route: "PATCH /api/jobs/{id}", method: "PATCH", path: fmt.Sprintf("/api/jobs/%d", jobID), by: a,
		body: soakJSON(map[string]any{"title": w.name("title")}), want: want, typ: world.Job, surface: preload.SurfaceUser})

	w.do(soakReq{route: "PATCH /api/users/{id}", method: "PATCH", path: fmt.Sprintf("/api/users/%d", a.user.ID), by: a,
		body: soakJSON(map[string]any{"name": w.name("name")}), want: soakWant(!a.user.Banned, 200, 403), typ: world.User, surface: preload.SurfaceUser})
	userID := w.pickID(o, a, world.User, tour)
	switch {
	case !model.visible(a, world.User, userID):
		want = []int{404}
	case a.admin() || userID == a.user.ID && !a.user.Banned:
		want = []int{200} // a user may change their own phone
	default:
		want = []int{403}
	}
	w.do(soakReq{route: "PATCH /api/users/{id}", method: "PATCH", path: fmt.Sprintf("/api/users/%d", userID), by: a,
		body: `{"phone":"+1 555 0199"}`, want: want, typ: world.User, surface: preload.SurfaceUser})

	noteID := w.pickID(o, a, world.Note, tour)
	switch {
	case !model.visible(a, world.Note, noteID):
		want = []int{404}
	case a.admin() || model.noteAuthor(noteID) == a.user.ID:
		want = []int{200}
	default:
		want = []int{403}
	}
	w.do(soakReq{route: "PATCH /api/notes/{id}", method: "PATCH", path: fmt.Sprintf("/api/notes/%d", noteID), by: a,
		body: soakJSON(map[string]any{"body": w.name("note body")}), want: want, typ: world.Note, surface: preload.SurfaceUser})

	other := w.s.orgs[(o.index+1)%len(w.s.orgs)]
	w.do(soakReq{route: "POST /api/jobs", method: "POST", path: "/api/jobs", by: a,
		body: soakJSON(map[string]any{"title": w.name("job"), "company_id": soakPick(w.r, other.ids[world.Company])}),
		want: soakWant(a.createsJobs(), 404, 403)})
	w.do(soakReq{route: "POST /api/jobs", method: "POST", path: "/api/jobs", by: a, invalid: true,
		body: soakJSON(map[string]any{"title": "", "company_id": soakPick(w.r, o.ids[world.Company])}),
		want: soakWant(a.createsJobs(), 422, 403)})
	if !a.admin() {
		// An admin's delete would succeed: seeded jobs stay.
		w.do(soakReq{route: "DELETE /api/jobs/{id}", method: "DELETE", path: fmt.Sprintf("/api/jobs/%d", jobID), by: a,
			want: soakWant(model.visible(a, world.Job, jobID), 403, 404)})
	}
	creator := soakPick(w.r, o.creators)
	switch {
	case a.admin():
		want = []int{409}
	case model.visible(a, world.User, creator):
		want = []int{403}
	default:
		want = []int{404}
	}
	w.do(soakReq{route: "DELETE /api/users/{id}", method: "DELETE", path: fmt.Sprintf("/api/users/%d", creator), by: a, want: want})
}

// ---- figures

// soakStats tallies requests: by route and status, by role, and their
// latencies.
type soakStats struct {
	total    int
	statuses map[string]map[int]int
	ok       map[string]int // 2xx answers per route
	lat      map[string][]time.Duration
	roles    map[string]int
}

func newSoakStats() *soakStats {
	return &soakStats{statuses: map[string]map[int]int{}, ok: map[string]int{}, lat: map[string][]time.Duration{}, roles: map[string]int{}}
}

func (st *soakStats) record(route, role string, status int, took time.Duration) {
	st.total++
	if st.statuses[route] == nil {
		st.statuses[route] = map[int]int{}
	}
	st.statuses[route][status]++
	if status/100 == 2 {
		st.ok[route]++
	}
	st.lat[route] = append(st.lat[route], took)
	st.roles[role]++
}

func (st *soakStats) merge(o *soakStats) {
	st.total += o.total
	for r, m := range o.statuses {
		if st.statuses[r] == nil {
			st.statuses[r] = map[int]int{}
		}
		for c, n := range m {
			st.statuses[r][c] += n
		}
	}
	for r, n := range o.ok {
		st.ok[r] += n
	}
	for r, l := range o.lat {
		st.lat[r] = append(st.lat[r], l...)
	}
	for r, n := range o.roles {
		st.roles[r] += n
	}
}

// soakRuntime is the server's figures from its /metrics.
type soakRuntime struct {
	goroutines int
	rss        float64 // bytes
	dbConns    int     // the pool's open connections
}

func soakRuntimeOf(t *testing.T, ops string) soakRuntime {
	t.Helper()
	res, err := http.Get(ops + "/metrics")
	require.NoError(t, err)
	defer res.Body.Close()
	var out soakRuntime
	found := 0
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name, _, _ = strings.Cut(name, "{"); name {
		case "scopegate_go_goroutines":
			out.goroutines = int(f)
			found++
		case "scopegate_process_resident_memory_bytes":
			out.rss = f
			found++
		case "scopegate_go_sql_open_connections":
			out.dbConns = int(f)
		}
	}
	require.NoError(t, sc.Err())
	require.Equal(t, 2, found, "scopegate_go_goroutines and scopegate_process_resident_memory_bytes in /metrics")
	return out
}

// soakDocumentRoutes lists the operations of the OpenAPI document, as
// "METHOD /path".
func soakDocumentRoutes(t *testing.T) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(httpapi.OpenAPI(), &doc))
	var out []string
	for p, ops := range doc.Paths {
		for m := range ops {
			out = append(out, strings.ToUpper(m)+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

func soakPercentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(ds)))) - 1
	return ds[max(0, min(i, len(ds)-1))]
}

func soakMS(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) }

// report is the soak's figures as Markdown, for docs/reliability.md.
func (s *soak) report(plan soakPlan, elapsed time.Duration, start, end, idle soakRuntime) string {
	st := s.stats
	var all []time.Duration
	var b strings.Builder
	fmt.Fprintf(&b, "| route | requests | statuses | p50 ms | p99 ms |\n| --- | ---: | --- | ---: | ---: |\n")
	for _, r := range slices.Sorted(maps.Keys(st.statuses)) {
		l := st.lat[r]
		slices.Sort(l)
		all = append(all, l...)
		var codes []string
		for _, c := range slices.Sorted(maps.Keys(st.statuses[r])) {
			codes = append(codes, fmt.Sprintf("%d×%d", c, st.statuses[r][c]))
		}
		fmt.Fprintf(&b, "| `%s` | %d | %s | %s | %s |\n", r, len(l), strings.Join(codes, " "), soakMS(soakPercentile(l, 0.5)), soakMS(soakPercentile(l, 0.99)))
	}
	slices.Sort(all)
	var roles []string
	for _, r := range slices.Sorted(maps.Keys(st.roles)) {
		roles = append(roles, fmt.Sprintf("%s %d", r, st.roles[r]))
	}
	fmt.Fprintf(&b, "\nworld: %d tenants of %d jobs, %d notes, %d companies and %d users in all\n", plan.orgs, plan.jobsPerOrg,
		len(s.base.Notes), len(s.base.Companies), len(s.base.Users))
	fmt.Fprintf(&b, "%d requests (plan %d, %d tenants, %d workers) in %s: %.0f requests/s; p50 %s ms, p99 %s ms, max %s ms\n",
		st.total, plan.requests, plan.orgs, plan.workers, elapsed.Round(time.Millisecond), float64(st.total)/elapsed.Seconds(),
		soakMS(soakPercentile(all, 0.5)), soakMS(soakPercentile(all, 0.99)), soakMS(soakPercentile(all, 1)))
	fmt.Fprintf(&b, "by role: %s\n", strings.Join(roles, ", "))
	fmt.Fprintf(&b, "server goroutines: %d before the load (after a %d-request warm-up), %d at its end, %d after 2 s idle\n",
		start.goroutines, plan.warmup, end.goroutines, idle.goroutines)
	fmt.Fprintf(&b, "server RSS: %.1f MB before, %.1f MB at the end, %.1f MB after 2 s idle; database connections open: %d, %d, %d\n",
		start.rss/1e6, end.rss/1e6, idle.rss/1e6, start.dbConns, end.dbConns, idle.dbConns)
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(&b, "objects read before their creator registered them (checked at the end): %d\n", len(s.sightings))
	if len(s.errs) == 0 {
		b.WriteString("errors: none\n")
	} else {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(s.errs)) {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, s.errs[k].n))
		}
		fmt.Fprintf(&b, "errors: %s\n", strings.Join(kinds, ", "))
	}
	return b.String()
}
