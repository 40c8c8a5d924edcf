package integration

// The data layer behind PgBouncer in transaction pooling mode
// (docs/scaling.md): each client transaction runs on whichever server
// connection is free, so nothing of a scope may outlive its transaction on
// a server connection, and nothing the seam relies on may live on one
// across transactions. The scope settings are transaction-local
// (set_config(..., true)) and travel in the transaction's first message;
// the seam's prepared statements are session state, which PgBouncer before
// 1.21 does not carry from one server connection to the next: behind it
// the statement cache must be off (database.Options.StatementCache < 0,
// scopegate serve --statement-cache -1).
//
//	SCOPEGATE_PGBOUNCER_ORACLE_WORLDS=N   leak oracle worlds through PgBouncer (default 2)

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/note"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
)

// TestPgBouncerRLSPoolSafety is TestRLSPoolSafety through PgBouncer: 64
// goroutines on 64 client connections share DefaultBouncerPool server
// connections; no unit sees another tenant's row, and afterwards no
// server connection keeps a setting.
func TestPgBouncerRLSPoolSafety(t *testing.T) {
	t.Parallel()
	db, b := pgtest.NewBehindBouncer(t, 64, pgtest.DefaultBouncerPool)
	w := newRLSWorldOn(t, db, 3)
	f := rlsPoolSafety(t, w, b.Pool)
	assert.Greater(t, f.clients, f.servers, "clients must outnumber the server connections")
	assert.LessOrEqual(t, f.servers, b.Pool)
	logBouncer(t, b, db)
}

// TestPgBouncerLeakOracle is the leak oracle (TestLeakOracle) on worlds
// whose client goes through PgBouncer: 8 client connections over 2 server
// connections.
func TestPgBouncerLeakOracle(t *testing.T) {
	t.Parallel()
	n := oracleEnvPositive(t, "SCOPEGATE_PGBOUNCER_ORACLE_WORLDS", 2)
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = int64(i + 1)
	}
	summary := &oracleSummary{name: "leak oracle through PgBouncer"}
	runLeakOracle(t, summary, seeds, func(tb testing.TB) *pgtest.DB {
		db, b := pgtest.NewBehindBouncer(tb, 8, 2)
		// Cleanups run last first: this one before the database and
		// the bouncer go.
		tb.Cleanup(func() { logBouncer(tb, b, db) })
		return db
	})
}

// TestPgBouncerNeedsStatementCacheOff shows why the option exists: the
// same scoped reads through the same transaction-mode PgBouncer fail with
// the seam's statement cache on (a statement is prepared on one server
// connection, outside a transaction, and executed in a transaction on
// another, which lacks it, or holds a statement of another client by the
// same name), and pass with it off.
func TestPgBouncerNeedsStatementCacheOff(t *testing.T) {
	t.Parallel()
	srv := pgtest.ServerURL(t)
	b := pgtest.StartBouncer(t, srv, 2)
	on := pgtest.NewWith(t, srv, pgtest.Options{Via: b.Via, MaxOpenConns: 16})
	sys := pgtest.SystemContext(t)
	failures := scopedReads(sys, on)
	var prepared int
	for msg, n := range failures {
		if strings.Contains(msg, "prepared statement") {
			prepared += n
		}
	}
	t.Logf("statement cache on: %d of %d units failed; by error:%s", sum(failures), scopedUnits, describe(failures))
	assert.Positive(t, prepared, "with the statement cache on, no unit failed on a prepared statement through transaction-mode PgBouncer")

	off := pgtest.NewWith(t, srv, pgtest.Options{Via: b.Via, MaxOpenConns: 16, StatementCache: -1})
	failures = scopedReads(sys, off)
	assert.Empty(t, failures, "with the statement cache off, units failed")
}

// scopedUnits is how many units of scoped reads scopedReads runs.
const scopedUnits = 400

// scopedReads runs scopedUnits units of scoped reads of several shapes
// (each its own prepared statement) on 16 goroutines, and counts the
// failures by error message (pq's, without the statement's name).
func scopedReads(ctx context.Context, db *pgtest.DB) map[string]int {
	var mu sync.Mutex
	failures := map[string]int{}
	units := make(chan int)
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range units {
				r := rand.New(rand.NewPCG(uint64(i), 3))
				var err error
				switch r.IntN(4) {
				case 0:
					_, err = db.Client.Job.Query().Where(job.IDGT(r.IntN(10))).All(ctx)
				case 1:
					_, err = db.Client.Note.Query().Where(note.JobIDIn(1, 2, 3)).Count(ctx)
				case 2:
					_, err = db.Client.User.Query().Where(user.EmailHasPrefix("a")).IDs(ctx)
				case 3:
					rctx, end := database.WithReadUnit(ctx)
					_, err = db.Client.Company.Query().Limit(5).All(rctx)
					err = errors.Join(err, end())
				}
				if err != nil {
					msg := err.Error()
					if pqe := (*pq.Error)(nil); errors.As(err, &pqe) {
						msg = fmt.Sprintf("%s (%s)", pqe.Message, pqe.Code)
					}
					msg = quotedName.ReplaceAllString(msg, `"…"`)
					mu.Lock()
					failures[msg]++
					mu.Unlock()
				}
			}
		}()
	}
	for i := range scopedUnits {
		units <- i
	}
	close(units)
	wg.Wait()
	return failures
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func describe(m map[string]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "\n\t%5d  %s", m[k], k)
	}
	return b.String()
}

// logBouncer logs what PgBouncer counted for db's database: transactions
// and queries it pooled, and the server connections it holds.
func logBouncer(tb testing.TB, b *pgtest.Bouncer, db *pgtest.DB) {
	tb.Helper()
	name := strings.TrimPrefix(mustPath(tb, db.OwnerURL), "/")
	for _, s := range b.Show(tb, "STATS", name) {
		tb.Logf("PgBouncer %s: %s transactions, %s queries, %s µs waited for a server connection",
			name, s["total_xact_count"], s["total_query_count"], s["total_wait_time"])
	}
	for _, p := range b.Show(tb, "POOLS", name) {
		tb.Logf("PgBouncer pool %s/%s: %d server connections (active %s, idle %s, used %s), max wait %s s; pool size %d",
			name, p["user"], sumOf(p, "sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"),
			p["sv_active"], p["sv_idle"], p["sv_used"], p["maxwait"], b.Pool)
	}
}

// quotedName matches a statement's quoted name in an error message.
var quotedName = regexp.MustCompile(`"[^"]*"`)

// mustPath returns raw's path: a database URL's database.
func mustPath(tb testing.TB, raw string) string {
	u, err := url.Parse(raw)
	require.NoError(tb, err)
	return u.Path
}

// sumOf adds up the numeric columns names of a SHOW row.
func sumOf(row map[string]string, names ...string) int {
	n := 0
	for _, name := range names {
		v, _ := strconv.Atoi(row[name])
		n += v
	}
	return n
}

// TestPgBouncerServe runs `scopegate serve` and the commands that set up
// its tenant through transaction-mode PgBouncer, the statement cache off
// from SCOPEGATE_STATEMENT_CACHE=-1: concurrent requests, reads and
// writes, all answer. The same server with --statement-cache 256 (the
// flag beats the variable) fails requests: the option reaches the pool.
func TestPgBouncerServe(t *testing.T) {
	t.Parallel()
	bin := binary.Scopegate(t)
	db, b := pgtest.NewBehindBouncer(t, 8, 2)
	sg := binary.Command{Path: bin, Dir: t.TempDir(), Env: binary.Env("DATABASE_URL="+db.URL,
		"MIGRATE_DATABASE_URL="+db.OwnerURL, "SCOPEGATE_STATEMENT_CACHE=-1")}
	sg.MustRun(t, "org", "create", "--name", "Acme", "--slug", "acme")
	sg.MustRun(t, "user", "create", "--org", "acme", "--email", "boss@acme.test",
		"--name", "Boss", "--role", "admin", "--password", "long enough password")

	s := e2eServe(t, sg, "--db-max-conns", "8")
	token := s.login(t, "boss@acme.test", "long enough password")
	code, body := s.do(t, "POST", "/api/companies", token, `{"name":"Initech"}`)
	require.Equal(t, http.StatusCreated, code, body)
	var company struct{ Data struct{ ID int } }
	require.NoError(t, json.Unmarshal([]byte(body), &company))
	failed, statuses := hammer(s.Base, token, company.Data.ID)
	assert.Zero(t, failed, "requests through PgBouncer with the statement cache off failed: %v", statuses)
	t.Logf("statement cache off: %v", statuses)
	s.stop(t)
	logBouncer(t, b, db)

	s = e2eServe(t, sg, "--db-max-conns", "8", "--statement-cache", "256")
	failed, statuses = hammer(s.Base, token, company.Data.ID)
	t.Logf("statement cache on: %v", statuses)
	assert.Positive(t, failed, "with --statement-cache 256 through transaction-mode PgBouncer no request failed: did the flag reach the pool?")
	s.Signal(t, syscall.SIGTERM)
	s.Wait(t, 15*time.Second)
}

// hammer sends 400 requests on 16 goroutines to the server at base: lists
// with eager loads, and job creations. It returns how many did not
// succeed, and the count of each status.
func hammer(base, token string, company int) (failed int, statuses map[int]int) {
	c := binary.Client(16, 30*time.Second)
	var mu sync.Mutex
	statuses = map[int]int{}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				var a binary.Answer
				switch i % 3 {
				case 0:
					a = binary.Send(context.Background(), c, "GET", base+"/api/jobs?preload=company,managers", token, "")
				case 1:
					a = binary.Send(context.Background(), c, "GET", base+"/api/companies", token, "")
				case 2:
					a = binary.Send(context.Background(), c, "POST", base+"/api/jobs", token,
						fmt.Sprintf(`{"title":"Job %d","company_id":%d,"status":"published"}`, i, company))
				}
				mu.Lock()
				statuses[a.Status]++
				if a.Err != nil || a.Status >= 300 {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed, statuses
}
