package load

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/httpapi/openapitest"
	"github.com/scopegate/scopegate/internal/seed"
)

// EnvReport names the markdown file a full run writes its report into
// (docs/benchmarks.md, between the load markers), with the chart beside it.
const EnvReport = "SCOPEGATE_LOAD_REPORT"

// EnvProfile names a directory where BenchmarkLoad writes the server's CPU
// and allocation profiles of each route under load at concurrency 8
// (route.cpu.pprof, route.allocs.pprof): `go tool pprof -top FILE`.
const EnvProfile = "SCOPEGATE_LOAD_PROFILE"

// config sizes one run of the suite.
type config struct {
	orgs, jobsPerOrg int
	rounds           int
	requests         map[string]int // per route, per server, per round
	concurrency      []int
	// growth adds a 1,000,000-job world with a 100,000-job tenant.
	growth bool
}

var (
	short = config{orgs: 3, jobsPerOrg: 120, rounds: 1, concurrency: []int{1, 8, 32},
		requests: map[string]int{"list": 64, "get": 64, "create": 64}}
	full = config{orgs: 50, jobsPerOrg: 400, rounds: 7, concurrency: []int{1, 8, 32},
		requests: map[string]int{"list": 300, "get": 1000, "create": 600}, growth: true}
)

// TestMain removes, after the tests, the binaries of scopegate and the
// floor that the suites build once and share (binary.Main).
func TestMain(m *testing.M) { os.Exit(binary.Main(m)) }

// TestLoadShort is the CI form of the suite: a small world, a few requests
// per route and concurrency, and the checks that make the benchmark's
// figures mean something: both servers answer every route with the same
// JSON, and no request fails. It asserts nothing about time.
func TestLoadShort(t *testing.T) {
	s := newSuite(t, short)
	s.sameAnswers(t)
	rep := s.compare(t)
	t.Log("\n" + rep.table())
}

// BenchmarkLoad is the full suite: `bash .ci/bench` runs it and writes
// docs/benchmarks.md. With -short it runs the small world.
func BenchmarkLoad(b *testing.B) {
	cfg := full
	if testing.Short() {
		cfg = short
	}
	s := newSuite(b, cfg)
	s.sameAnswers(b)
	// Growth first: the create route adds thousands of jobs to the
	// 20,000-job world, which would then no longer be the world compared.
	var growth []growthReport
	if cfg.growth {
		growth = s.grow(b)
	}
	b.ResetTimer()
	var rep report
	for range b.N {
		rep = s.compare(b)
	}
	b.StopTimer()
	rep.growth = growth
	fmt.Println(rep.table())
	for _, c := range rep.cases {
		b.ReportMetric(c.rpsRatio, fmt.Sprintf("rps-ratio-%s-c%d", c.route, c.conc))
	}
	if dir := os.Getenv(EnvProfile); dir != "" {
		s.profile(b, dir)
	}
	if path := os.Getenv(EnvReport); path != "" {
		if err := rep.write(path); err != nil {
			b.Fatal(err)
		}
		fmt.Println("wrote", path)
	}
}

// suite is the servers under test and what they serve.
type suite struct {
	cfg    config
	db     *pgtest.DB
	sg, fl *server
	token  string
	binary.FirstPage
}

func newSuite(tb testing.TB, cfg config) *suite {
	tb.Helper()
	ctx := context.Background()
	s := &suite{cfg: cfg}
	s.db = pgtest.New(tb)
	res, err := seed.Scale(ctx, s.db.SQL, seed.NewShape(cfg.orgs, cfg.jobsPerOrg, 0), seed.Options{Analyze: s.db.Owner(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	admin := res.Logins[0]
	for _, l := range res.Logins {
		if l.Role == "admin" {
			admin = l
			break
		}
	}
	s.sg = serveScopegate(tb, "scopegate", s.db.URL, "--pprof")
	s.fl = serveFloor(tb, s.db.URL)
	s.token = binary.Login(tb, Client(1), s.sg.Base, admin.Email, seed.Password)

	// The ids the get and create requests use: the admin's first page.
	body := get(tb, s.sg.Base+listPath, s.token)
	p, err := binary.ReadFirstPage(body)
	if err != nil {
		tb.Fatalf("%v: %s", err, body)
	}
	s.FirstPage = p
	return s
}

const listPath = "/api/jobs?preload=company,managers,notes.author"

// request returns the i-th request of a route.
func (s *suite) request(route string) func(i int) Request {
	switch route {
	case "list":
		return func(int) Request { return Request{Method: "GET", Path: listPath, Want: http.StatusOK} }
	case "get":
		return func(i int) Request {
			return Request{Method: "GET", Path: fmt.Sprintf("/api/jobs/%d?preload=company,managers,notes.author", s.JobIDs[i%len(s.JobIDs)]), Want: http.StatusOK}
		}
	case "create":
		managers, _ := json.Marshal(s.ManagerIDs)
		return func(i int) Request {
			return Request{Method: "POST", Path: "/api/jobs", Want: http.StatusCreated,
				Body: fmt.Sprintf(`{"title":"load %d","description":"written by the load benchmark","company_id":%d,"status":"draft","salary_max":5000,"manager_ids":%s}`,
					i, s.CompanyID, managers)}
		}
	}
	panic("unknown route " + route)
}

var routes = []string{"list", "get", "create"}

// sameAnswers checks that the floor serves what the server serves: the
// same bytes for a list and a get, the same job (but its id and times) for
// a create. A floor that answered less would make every ratio a lie.
func (s *suite) sameAnswers(tb testing.TB) {
	tb.Helper()
	c := Client(1)
	// Scopegate's answers are validated against its OpenAPI document
	// (outside the timed runs, which must measure the server alone); the
	// floor's must equal them.
	v, err := openapitest.Server()
	if err != nil {
		tb.Fatal(err)
	}
	for _, route := range routes {
		rq := s.request(route)(0)
		a, b := send(tb, v.Client(c), s.sg.Base, s.token, rq), send(tb, c, s.fl.Base, s.token, rq)
		if route == "create" {
			a, b = withoutIdentity(tb, a), withoutIdentity(tb, b)
		}
		if string(a) != string(b) {
			tb.Fatalf("%s %s: the floor answers differently\nscopegate: %s\nfloor:     %s", rq.Method, rq.Path, a, b)
		}
	}
}

// withoutIdentity drops what two creates of the same job differ in.
func withoutIdentity(tb testing.TB, body []byte) []byte {
	var v map[string]map[string]any
	if err := json.Unmarshal(body, &v); err != nil {
		tb.Fatalf("%v: %s", err, body)
	}
	for _, k := range []string{"id", "created_at", "updated_at"} {
		if _, ok := v["data"][k]; !ok {
			tb.Fatalf("no %s in %s", k, body)
		}
		delete(v["data"], k)
	}
	out, _ := json.Marshal(v)
	return out
}

// compare runs every route at every concurrency against both servers, in
// rounds; within a round the order of the two servers is random.
func (s *suite) compare(tb testing.TB) report {
	tb.Helper()
	ctx := context.Background()
	rep := report{world: fmt.Sprintf("%d organizations × %d jobs", s.cfg.orgs, s.cfg.jobsPerOrg), rounds: s.cfg.rounds}
	for _, route := range routes {
		for _, conc := range s.cfg.concurrency {
			c := caseReport{route: route, conc: conc, n: s.cfg.requests[route]}
			client := Client(conc)
			// One unmeasured run each warms connections and caches.
			for _, sv := range []*server{s.sg, s.fl} {
				Run(ctx, client, sv.Base, s.token, min(c.n, 4*conc), conc, s.request(route))
			}
			var ratios, p99Ratios []float64
			for range s.cfg.rounds {
				var got [2]Result
				order := []int{0, 1}
				rand.Shuffle(2, func(i, j int) { order[i], order[j] = order[j], order[i] })
				for _, k := range order {
					sv := []*server{s.sg, s.fl}[k]
					got[k] = sv.run(tb, ctx, client, s.token, c.n, conc, s.request(route))
				}
				c.sides[0].add(got[0], s.sg)
				c.sides[1].add(got[1], s.fl)
				ratios = append(ratios, got[0].RPS()/got[1].RPS())
				p99Ratios = append(p99Ratios, float64(got[0].Quantile(0.99))/float64(got[1].Quantile(0.99)))
			}
			c.rpsRatio, c.p99Ratio = Median(ratios), Median(p99Ratios)
			rep.cases = append(rep.cases, c)
		}
	}
	return rep
}

// profile records the server's CPU profile while each route runs at
// concurrency 8 for ten seconds, and the allocations it made meanwhile
// (the allocs profile is cumulative: compare with -base, or read
// alloc_space of a profile taken right after start).
func (s *suite) profile(tb testing.TB, dir string) {
	tb.Helper()
	ops := s.sg.Ops
	save := func(name, url string) {
		b := get(tb, url, "")
		if err := os.WriteFile(filepath.Join(dir, name+".pprof"), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for _, route := range routes {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			client := Client(8)
			for ctx.Err() == nil {
				Run(ctx, client, s.sg.Base, s.token, 100, 8, s.request(route))
			}
		}()
		save(route+".allocs-before", ops+"/debug/pprof/allocs")
		save(route+".cpu", ops+"/debug/pprof/profile?seconds=10")
		save(route+".allocs", ops+"/debug/pprof/allocs")
		cancel()
		<-done
	}
}

// ---- servers

// server is one of the servers compared: scopegate or the floor.
type server struct {
	name string
	*binary.Server
	metrics string // the URL of its allocation counters
}

// serveScopegate starts `scopegate serve` against the database at url,
// with extra flags. Its default logging stays on (an access line per
// request is part of what it costs), into a file as it would be in
// production.
func serveScopegate(tb testing.TB, name, url string, extra ...string) *server {
	tb.Helper()
	sg := binary.Command{Path: binary.Scopegate(tb), Env: binary.Env("DATABASE_URL=" + url)}
	s := sg.Serve(tb, extra...)
	return &server{name: name, Server: s, metrics: s.Ops + "/metrics"}
}

// serveFloor starts the floor (./floor) against the database at url; it
// serves its counters on its only listener.
func serveFloor(tb testing.TB, url string) *server {
	tb.Helper()
	fl := binary.Command{Path: binary.Build(tb, floorPackage), Env: binary.Env("DATABASE_URL=" + url)}
	s := fl.Listen(tb, false, "--addr", "127.0.0.1:0")
	return &server{name: "floor", Server: s, metrics: s.Base + "/metrics"}
}

const floorPackage = "github.com/scopegate/scopegate/integration/load/floor"

// run is one measured run, with the server's allocations over it.
func (sv *server) run(tb testing.TB, ctx context.Context, c *http.Client, token string, n, conc int, next func(int) Request) Result {
	tb.Helper()
	m0, b0, err := Memory(c, sv.metrics)
	if err != nil {
		tb.Fatal(err)
	}
	r := Run(ctx, c, sv.Base, token, n, conc, next)
	if r.Errors > 0 {
		tb.Fatalf("%s: %d of %d requests failed; the first: %s", sv.name, r.Errors, n, r.FirstErr)
	}
	m1, b1, err := Memory(c, sv.metrics)
	if err != nil {
		tb.Fatal(err)
	}
	r.Mallocs, r.Bytes = (m1-m0)/float64(n), (b1-b0)/float64(n)
	return r
}

// get fetches url and returns its body; it fails the test unless the
// answer is 200.
func get(tb testing.TB, url, token string) []byte {
	tb.Helper()
	return send(tb, Client(1), url, token, Request{Method: "GET", Want: http.StatusOK})
}

// send sends rq to the server at base and returns the body; it fails the
// test unless the answer is rq.Want.
func send(tb testing.TB, c *http.Client, base, token string, rq Request) []byte {
	tb.Helper()
	a := binary.Send(context.Background(), c, rq.Method, base+rq.Path, token, rq.Body)
	if a.Err != nil || a.Status != rq.Want {
		tb.Fatalf("%s %s%s: %d %s (%v)", rq.Method, base, rq.Path, a.Status, a.Body, a.Err)
	}
	return a.Body
}
