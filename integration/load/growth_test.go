package load

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
	"github.com/scopegate/scopegate/internal/seed"
)

// Growth worlds: the large world has fifty times the jobs of the suite's
// world in tenants of the same size, plus one tenant of 100,000 jobs whose
// rows have the highest ids (the case that misleads a planner into walking
// the primary key).
const (
	largeWorldOrgs   = 2250
	largeTenantJobs  = 100_000
	growthConc       = 8
	growthRequests   = 300
	largeWorldJobsPO = 400
)

// grow measures the same requests in a 1,000,000-job world against the
// suite's 20,000-job world (paired rounds), and the first page of the large
// tenant.
func (s *suite) grow(tb testing.TB) []growthReport {
	tb.Helper()
	ctx := context.Background()
	db := pgtest.New(tb)
	res, err := seed.Scale(ctx, db.SQL, seed.NewShape(largeWorldOrgs, largeWorldJobsPO, largeTenantJobs), seed.Options{Analyze: db.Owner(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	var small, large seed.Login
	for _, l := range res.Logins {
		switch {
		case l.Role == "admin" && l.Jobs == largeTenantJobs && large.Email == "":
			large = l
		case l.Role == "admin" && l.Jobs == largeWorldJobsPO && small.Email == "":
			small = l
		}
	}
	if small.Email == "" || large.Email == "" {
		tb.Fatalf("no admin of a small and of the large tenant among %+v", res.Logins)
	}
	big := serveScopegate(tb, "scopegate-1M", db.URL)
	smallToken, largeToken := binary.Login(tb, Client(1), big.Base, small.Email, seed.Password), binary.Login(tb, Client(1), big.Base, large.Email, seed.Password)
	smallJobs, largeJobs := pageIDs(tb, big.Base, smallToken), pageIDs(tb, big.Base, largeToken)

	type variant struct {
		sv    *server
		token string
		next  func(int) Request
	}
	getOf := func(ids []int) func(int) Request {
		return func(i int) Request {
			return Request{Method: "GET", Path: fmt.Sprintf("/api/jobs/%d?preload=company,managers,notes.author", ids[i%len(ids)]), Want: 200}
		}
	}
	list := s.request("list")
	pairs := []struct {
		label  string
		target float64
		a, b   variant
	}{
		{"list, 1M / 20k jobs", TargetGrowth, variant{s.sg, s.token, list}, variant{big, smallToken, list}},
		{"get, 1M / 20k jobs", TargetGrowth, variant{s.sg, s.token, s.request("get")}, variant{big, smallToken, getOf(smallJobs)}},
		{"list, 100k-job tenant / 400-job tenant, 1M world", 0, variant{big, smallToken, list}, variant{big, largeToken, list}},
		{"get, 100k-job tenant / 400-job tenant, 1M world", 0, variant{big, smallToken, getOf(smallJobs)}, variant{big, largeToken, getOf(largeJobs)}},
	}
	client := Client(growthConc)
	var out []growthReport
	for _, p := range pairs {
		for _, v := range []variant{p.a, p.b} {
			Run(ctx, client, v.sv.Base, v.token, 4*growthConc, growthConc, v.next)
		}
		var p50 [2][]float64
		var ratios []float64
		for range s.cfg.rounds {
			var got [2]Result
			order := []int{0, 1}
			rand.Shuffle(2, func(i, j int) { order[i], order[j] = order[j], order[i] })
			for _, k := range order {
				v := []variant{p.a, p.b}[k]
				got[k] = v.sv.run(tb, ctx, client, v.token, growthRequests, growthConc, v.next)
			}
			for k := range got {
				p50[k] = append(p50[k], ms(got[k].Quantile(0.5)))
			}
			ratios = append(ratios, float64(got[1].Quantile(0.5))/float64(got[0].Quantile(0.5)))
		}
		out = append(out, growthReport{label: p.label, p50: [2]float64{Median(p50[0]), Median(p50[1])}, ratio: Median(ratios), target: p.target})
	}
	out[2].explainExec = firstPageExecution(tb, db, large.Email)
	return out
}

// pageIDs returns the ids of the caller's first page of jobs.
func pageIDs(tb testing.TB, base, token string) []int {
	tb.Helper()
	var page struct {
		Data []struct {
			ID int `json:"id"`
		} `json:"data"`
	}
	body := get(tb, base+listPath, token)
	if err := json.Unmarshal(body, &page); err != nil || len(page.Data) == 0 {
		tb.Fatalf("first page (%v): %s", err, body)
	}
	ids := make([]int, len(page.Data))
	for i, j := range page.Data {
		ids[i] = j.ID
	}
	return ids
}

// firstPageExecution returns the execution time, in milliseconds, of the
// statement the repository sends for the first page of the admin's job
// list, as EXPLAIN ANALYZE reports it under the admin's row-level security
// settings and the server's default planner settings. The statement is
// captured from a real repository call, not written here by hand.
func firstPageExecution(tb testing.TB, db *pgtest.DB, email string) float64 {
	tb.Helper()
	ctx := context.Background()
	var u scope.User
	var role string
	var company sql.NullInt64
	err := db.Owner(tb).QueryRowContext(ctx, `SELECT id, org_id, role, company_id FROM users WHERE email = $1`, email).Scan(&u.ID, &u.OrgID, &role, &company)
	if err != nil {
		tb.Fatal(err)
	}
	u.Role, u.Active = scope.Role(role), true
	sc, err := scope.ForUser(u)
	if err != nil {
		tb.Fatal(err)
	}
	sctx := scope.NewContext(ctx, sc)
	client, capture := pgtest.NewCaptureClient(db)
	if _, err := (repo.Jobs{Client: client}).List(sctx, preload.SurfaceUser, repo.JobFilter{}, repo.ListOptions{}); err != nil {
		tb.Fatal(err)
	}
	var stmt *pgtest.Statement
	taken := capture.Take()
	for i := range taken {
		if strings.HasPrefix(taken[i].Query, `SELECT "jobs".`) {
			stmt = &taken[i]
			break
		}
	}
	if stmt == nil {
		tb.Fatalf("no job list statement among %d captured", len(taken))
	}
	tx, err := database.BeginTx(sctx, db.SQL, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	var best float64
	for i := range 5 { // the best of five: the first run reads pages from disk
		var raw string
		if err := tx.QueryRowContext(sctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+stmt.Query, stmt.Args...).Scan(&raw); err != nil {
			tb.Fatalf("%v\n%s", err, stmt.Query)
		}
		var plans []struct {
			Execution float64 `json:"Execution Time"`
		}
		if err := json.Unmarshal([]byte(raw), &plans); err != nil || len(plans) != 1 {
			tb.Fatalf("%v: %s", err, raw)
		}
		if i == 0 || plans[0].Execution < best {
			best = plans[0].Execution
		}
	}
	return best
}
