package integration

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
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
	"github.com/scopegate/scopegate/internal/auth"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

// rlsBenchPassword is the benchmark admin's password, for the HTTP login.
const rlsBenchPassword = "rls bench password"

// rlsSide is one way into the same database: RLS on (the application role,
// scope settings in every transaction), off (the owner, a superuser that
// RLS does not apply to, without transactions or settings: the code path
// before RLS existed), or seam (the owner with the seam's transactions and
// settings: what they cost without the policies).
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
// eighteen (case, side) pairs in a shuffled order, so that machine noise hits
// both sides alike; the report per case is the median of the per-round
// ratios on/off, the median times and the round trips of one operation,
// and the ratio seam/off: the share of the transactions and settings alone.
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
		{name: "seam", counter: database.NewCounter(false)},
	}
	urls := []string{db.URL, db.OwnerURL, db.OwnerURL}
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
			j, _, err := repo.Jobs{Client: s.db.Client}.Create(userCtx, repo.JobInput{
				Title: fmt.Sprintf("rls bench job %d", seq), CompanyID: companyID,
				Status: "published", ManagerIDs: []int{admin.ID},
			})
			return j, err
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
	roundTrips := make([][3]trips, len(cases))
	for i, c := range cases {
		var out [3][]byte
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
		if c.same && (!bytes.Equal(out[0], out[1]) || !bytes.Equal(out[2], out[1])) {
			b.Fatalf("%s: the sides disagree:\non:   %.300s\noff:  %.300s\nseam: %.300s", c.name, out[0], out[1], out[2])
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
	times := make([][3][]time.Duration, len(cases))
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
	pairedMedian := func(num, den []time.Duration) float64 {
		rs := make([]float64, len(num))
		for r := range rs {
			rs[r] = float64(num[r]) / float64(den[r])
		}
		slices.Sort(rs)
		return rs[len(rs)/2]
	}
	for i, c := range cases {
		ratio := pairedMedian(times[i][0], times[i][1])
		seam := pairedMedian(times[i][2], times[i][1])
		b.ReportMetric(ratio, c.name+"-on/off")
		b.ReportMetric(seam, c.name+"-seam/off")
		on, off := roundTrips[i][0], roundTrips[i][1]
		fmt.Printf("rls %-11s %d rounds: median on %v, off %v, seam %v; paired median on/off %.3f, seam/off %.3f; round trips on %d (%d queries), off %d (%d queries)\n",
			c.name, rounds, median(times[i][0]), median(times[i][1]), median(times[i][2]), ratio, seam, on.count, on.queries, off.count, off.queries)
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

// BenchmarkPlanningRLS shows where RLS spends its time inside PostgreSQL:
// it captures the statements (with their arguments and scopes) of the
// repository's list, get and create and of a token's authentication (what
// every HTTP request adds), and runs each under EXPLAIN ANALYZE, in a
// transaction that is rolled back, as the application role with the
// scope's settings (on) and as the owner without them (off), alternating.
// It prints the median planning and execution times per statement.
func BenchmarkPlanningRLS(b *testing.B) {
	ctx := context.Background()
	w := newRLSBenchWorld(b)
	client, capture := pgtest.NewCaptureClient(w.db)
	userCtx := pgtest.UserContext(b, w.admin)
	jobs := repo.Jobs{Client: client}
	authn := auth.Service{Client: client}
	token, _, err := authn.Login(ctx, w.admin.Email, rlsBenchPassword)
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		run  func() error
	}{
		{"list", func() error {
			ctx, end := database.WithReadUnit(userCtx)
			defer end()
			_, err := jobs.List(ctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{Preload: benchPaths, Limit: 200})
			return err
		}},
		{"get", func() error {
			ctx, end := database.WithReadUnit(userCtx)
			defer end()
			_, _, err := jobs.Get(ctx, preload.SurfaceUser, w.getID, repo.GetOptions{})
			return err
		}},
		{"create", func() error {
			_, _, err := jobs.Create(userCtx, repo.JobInput{Title: "rls planning job", CompanyID: w.companyID,
				Status: "published", ManagerIDs: []int{w.admin.ID}})
			return err
		}},
		{"auth", func() error {
			ctx, end := database.WithReadUnit(ctx)
			defer end()
			_, err := authn.Authenticate(ctx, token)
			return err
		}},
	}
	reps := max(b.N, 15)
	b.ResetTimer()
	for _, c := range cases {
		capture.Take()
		if err := c.run(); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		var sum [4]time.Duration
		for _, st := range capture.Take() {
			if strings.HasPrefix(st.Query, "SELECT set_config(") {
				continue
			}
			var t [4][]time.Duration // planning on, off; execution on, off
			for r := 0; r < reps; r++ {
				for _, on := range rand.Perm(2) {
					plan, exec, err := rlsExplain(st, w.db, on == 0)
					if err != nil {
						b.Fatalf("%s: %v\n%s", c.name, err, st.Query)
					}
					t[on] = append(t[on], plan)
					t[2+on] = append(t[2+on], exec)
				}
			}
			var m [4]time.Duration
			for i := range m {
				slices.Sort(t[i])
				m[i] = t[i][len(t[i])/2]
				sum[i] += m[i]
			}
			fmt.Printf("rls plan %-6s %-30s planning on %6.3f off %6.3f ms; execution on %6.3f off %6.3f ms\n",
				c.name, rlsLabel(st.Query), ms(m[0]), ms(m[1]), ms(m[2]), ms(m[3]))
		}
		fmt.Printf("rls plan %-6s %-30s planning on %6.3f off %6.3f ms; execution on %6.3f off %6.3f ms\n",
			c.name, "(sum of medians)", ms(sum[0]), ms(sum[1]), ms(sum[2]), ms(sum[3]))
		b.ReportMetric(ms(sum[0]-sum[1]), c.name+"-extra-planning-ms")
		b.ReportMetric(ms(sum[2]-sum[3]), c.name+"-extra-execution-ms")
	}
	b.StopTimer()
	b.ReportMetric(0, "ns/op")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rlsExplain runs st under EXPLAIN ANALYZE in a transaction it rolls back:
// with on, as the application role with the settings the seam would send
// (the scope's, and scopegate.inserting for a user's INSERT into jobs); without, as
// the owner with none. It returns the planning and execution times.
func rlsExplain(st pgtest.Statement, db *pgtest.DB, on bool) (plan, exec time.Duration, err error) {
	var tx *sql.Tx
	if on {
		tx, err = database.BeginTx(st.Ctx, db.SQL, nil)
		if err == nil && database.SettingsFor(st.Ctx, st.Query).Inserting != "" {
			_, err = tx.ExecContext(st.Ctx, `SELECT set_config('scopegate.inserting', 'true', true)`)
		}
	} else {
		tx, err = db.Raw.BeginTx(st.Ctx, nil)
	}
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	var out []byte
	if err := tx.QueryRowContext(st.Ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+st.Query, st.Args...).Scan(&out); err != nil {
		return 0, 0, err
	}
	var res []struct {
		Planning  float64 `json:"Planning Time"`
		Execution float64 `json:"Execution Time"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res) != 1 {
		return 0, 0, fmt.Errorf("explain: %v: %s", err, out)
	}
	return time.Duration(res[0].Planning * float64(time.Millisecond)), time.Duration(res[0].Execution * float64(time.Millisecond)), nil
}

// rlsLabel names a statement by its verb and its first table.
func rlsLabel(q string) string {
	verb, _, _ := strings.Cut(q, " ")
	for _, kw := range []string{` FROM "`, ` INTO "`} {
		if _, rest, ok := strings.Cut(q, kw); ok {
			table, _, _ := strings.Cut(rest, `"`)
			if strings.Contains(q, ` JOIN "`) {
				table += "+join"
			}
			if strings.Contains(q, "EXISTS (") {
				table += "+exists"
			}
			return verb + " " + table
		}
	}
	return verb
}
