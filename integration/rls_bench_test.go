package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// rlsBenchPassword is the benchmark admin's password, for the HTTP login.
const rlsBenchPassword = "rls bench password"

// rlsSide is one way into the same database: RLS on (the application role,
// scope settings in every transaction) or off (the owner, a superuser that
// RLS does not apply to, without transactions or settings: the code path
// before RLS existed).
type rlsSide struct {
	name    string
	db      *database.DB
	counter *database.Counter
	srv     *httptest.Server
	token   string
}

// rlsCase is one operation, run on either side.
type rlsCase struct {
	name string
	// run does the operation and returns what it read: an HTTP body, or
	// a repository's result for fingerprint.
	run func(s *rlsSide) (any, error)
	// same says whether both sides must answer the same (reads; a create
	// answers a new id).
	same bool
}

// rlsFingerprint turns what a case read into bytes to compare the sides
// by, outside the timed part.
func rlsFingerprint(v any) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case repo.Page[*ent.Job]:
		var b bytes.Buffer
		for _, j := range v.Items {
			fmt.Fprintf(&b, "%d:%d:%d:%d,", j.ID, j.Edges.Company.ID, len(j.Edges.Managers), len(j.Edges.Notes))
		}
		return b.Bytes()
	case *ent.Job:
		return fmt.Appendf(nil, "%d:%s:%d", v.ID, v.Title, v.CompanyID)
	}
	return fmt.Appendf(nil, "%v", v)
}

// BenchmarkRLS measures what row-level security costs: each of a list of
// 200 jobs with company,managers,notes.author, a single-job get and a job
// create, through the repository and through HTTP, with RLS on and off
// against the same database in the same process. Every round runs all
// twelve (case, side) pairs in a shuffled order, so that machine noise hits
// both sides alike; the report per case is the median of the per-round
// ratios on/off, the median times and the round trips of one operation.
func BenchmarkRLS(b *testing.B) {
	ctx := context.Background()
	w := newRLSBenchWorld(b)
	db, admin, companyID, getID := w.db, w.admin, w.companyID, w.getID
	var err error

	// Both sides get a client of their own with the same options but the
	// URL and NoScopeSettings (pgtest's client keeps a log of every
	// statement, which the off side would not pay for).
	sides := []*rlsSide{
		{name: "on", counter: database.NewCounter(false)},
		{name: "off", counter: database.NewCounter(false)},
	}
	urls := []string{db.URL, db.OwnerURL}
	for i, s := range sides {
		s.db, err = database.Open(ctx, urls[i], database.Options{
			Counter: s.counter, MaxOpenConns: 8, NoScopeSettings: s.name == "off",
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.db.Close() })
		api, err := httpapi.New(httpapi.Config{
			Client: s.db.Client, Ping: s.db.SQL.PingContext,
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			b.Fatal(err)
		}
		s.srv = httptest.NewServer(api)
		b.Cleanup(s.srv.Close)
		body, err := rlsHTTP(s, "POST", "/api/session", "", fmt.Sprintf(`{"email":%q,"password":%q}`, admin.Email, rlsBenchPassword), http.StatusCreated)
		if err != nil {
			b.Fatalf("%s: login: %v", s.name, err)
		}
		_, tok, ok := strings.Cut(string(body), `"token":"`)
		if s.token, _, _ = strings.Cut(tok, `"`); !ok || s.token == "" {
			b.Fatalf("%s: no token in %s", s.name, body)
		}
	}

	userCtx := pgtest.UserContext(b, admin)
	const n = 200
	listPath := fmt.Sprintf("/api/jobs?preload=%s&limit=%d", benchPaths, n)
	seq := 0
	cases := []rlsCase{
		{name: "list-repo", same: true, run: func(s *rlsSide) (any, error) {
			ctx, end := database.WithReadUnit(userCtx) // as a request does
			defer end()
			p, err := repo.Jobs{Client: s.db.Client}.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: benchPaths, Limit: n})
			if err == nil && len(p.Items) != n {
				err = fmt.Errorf("%d jobs, want %d", len(p.Items), n)
			}
			return p, err
		}},
		{name: "list-http", same: true, run: func(s *rlsSide) (any, error) {
			return rlsHTTP(s, "GET", listPath, s.token, "", http.StatusOK)
		}},
		{name: "get-repo", same: true, run: func(s *rlsSide) (any, error) {
			ctx, end := database.WithReadUnit(userCtx)
			defer end()
			j, _, err := repo.Jobs{Client: s.db.Client}.Get(ctx, preload.SurfaceUser, getID, repo.GetOptions{})
			return j, err
		}},
		{name: "get-http", same: true, run: func(s *rlsSide) (any, error) {
			return rlsHTTP(s, "GET", fmt.Sprintf("/api/jobs/%d", getID), s.token, "", http.StatusOK)
		}},
		{name: "create-repo", run: func(s *rlsSide) (any, error) {
			seq++
			return repo.Jobs{Client: s.db.Client}.Create(userCtx, repo.JobInput{
				Title: fmt.Sprintf("rls bench job %d", seq), CompanyID: companyID,
				Status: "published", ManagerIDs: []int{admin.ID},
			})
		}},
		{name: "create-http", run: func(s *rlsSide) (any, error) {
			seq++
			return rlsHTTP(s, "POST", "/api/jobs", s.token, fmt.Sprintf(
				`{"title":"rls bench job %d","company_id":%d,"status":"published","manager_ids":[%d]}`,
				seq, companyID, admin.ID), http.StatusCreated)
		}},
	}

	// Warm up, check that both sides see the same rows, and count the
	// round trips of one operation on each side.
	type trips struct{ count, queries int }
	roundTrips := make([][2]trips, len(cases))
	for i, c := range cases {
		var out [2][]byte
		for k, s := range sides {
			if _, err := c.run(s); err != nil {
				b.Fatalf("%s %s: %v", c.name, s.name, err)
			}
			s.counter.Reset()
			v, err := c.run(s)
			if err != nil {
				b.Fatalf("%s %s: %v", c.name, s.name, err)
			}
			roundTrips[i][k] = trips{s.counter.Count(), s.counter.Queries()}
			out[k] = rlsFingerprint(v)
		}
		if c.same && !bytes.Equal(out[0], out[1]) {
			b.Fatalf("%s: the sides disagree:\non:  %.300s\noff: %.300s", c.name, out[0], out[1])
		}
	}

	type run struct{ c, s int }
	var order []run
	for c := range cases {
		for s := range sides {
			order = append(order, run{c, s})
		}
	}
	rounds := max(b.N, 30)
	times := make([][2][]time.Duration, len(cases))
	b.ResetTimer()
	for r := 0; r < rounds; r++ {
		rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, o := range order {
			start := time.Now()
			if _, err := cases[o.c].run(sides[o.s]); err != nil {
				b.Fatalf("%s %s: %v", cases[o.c].name, sides[o.s].name, err)
			}
			times[o.c][o.s] = append(times[o.c][o.s], time.Since(start))
		}
	}
	b.StopTimer()

	median := func(ts []time.Duration) time.Duration {
		ts = slices.Clone(ts)
		slices.Sort(ts)
		return ts[len(ts)/2]
	}
	for i, c := range cases {
		rs := make([]float64, rounds)
		for r := range rs {
			rs[r] = float64(times[i][0][r]) / float64(times[i][1][r])
		}
		slices.Sort(rs)
		ratio := rs[len(rs)/2]
		b.ReportMetric(ratio, c.name+"-on/off")
		on, off := roundTrips[i][0], roundTrips[i][1]
		fmt.Printf("rls %-11s %d rounds: median on %v, off %v; paired median on/off %.3f; round trips on %d (%d queries), off %d (%d queries)\n",
			c.name, rounds, median(times[i][0]), median(times[i][1]), ratio, on.count, on.queries, off.count, off.queries)
	}
	b.ReportMetric(0, "ns/op")
}

// rlsBenchWorld is BenchmarkPreloadList's dataset (seedBenchWorld: 50
// organizations of 400 jobs) with a password for the admin, and the ids
// the cases use.
type rlsBenchWorld struct {
	db        *pgtest.DB
	admin     *ent.User
	companyID int // a company of the admin's organization
	getID     int // a job of the admin's organization
}

func newRLSBenchWorld(b *testing.B) rlsBenchWorld {
	b.Helper()
	ctx := context.Background()
	w := rlsBenchWorld{db: pgtest.New(b)}
	w.admin = seedBenchWorld(b, w.db, 50, 400)
	hash, err := repo.HashPassword(rlsBenchPassword)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := w.db.Raw.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, hash, w.admin.ID); err != nil {
		b.Fatal(err)
	}
	if err := w.db.Raw.QueryRowContext(ctx, `SELECT id FROM companies WHERE org_id = $1 ORDER BY id LIMIT 1`, w.admin.OrgID).Scan(&w.companyID); err != nil {
		b.Fatal(err)
	}
	if err := w.db.Raw.QueryRowContext(ctx, `SELECT id FROM jobs WHERE org_id = $1 ORDER BY id OFFSET 100 LIMIT 1`, w.admin.OrgID).Scan(&w.getID); err != nil {
		b.Fatal(err)
	}
	return w
}

// rlsHTTP sends one request to s's server and returns the body, or an
// error if the status is not want.
func rlsHTTP(s *rlsSide, method, path, token, body string, want int) ([]byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return nil, fmt.Errorf("%s %s: %d, want %d: %.300s", method, path, res.StatusCode, want, out)
	}
	return out, nil
}
