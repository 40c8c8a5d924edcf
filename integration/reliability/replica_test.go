package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/seed"
)

// TestReadReplicas runs the server against a private primary and a
// streaming replica of it made with pg_basebackup (docs/scaling.md, Read
// replicas): reads of signed-in GETs land on the replica; read-your-writes
// holds over 1,000 write-then-read sequences while the replica applies
// every commit late; a replica past the lag bound is skipped and used
// again once it catches up; the list route's throughput with the replica
// is reported against a server without it; and killing the replica under
// load fails no request.
func TestReadReplicas(t *testing.T) {
	pg := pgtest.StartPrivate(t)
	standby := pg.StartReplica(t)
	db := pgtest.NewOn(t, pg.URL)
	const maxLag = time.Second
	f, s := serveFixture(t, db, 40, "--replica-url", standby.Rehost(t, db.URL),
		"--replica-check-interval", "50ms", "--replica-max-lag", maxLag.String())
	u, _ := url.Parse(standby.Rehost(t, db.URL))
	rs := &replicaServer{t: t, fixture: f, srv: s, token: f.token, c: binary.Client(32, 10*time.Second), name: u.Host + u.Path}
	replicaRaw, err := sql.Open("postgres", standby.Rehost(t, db.OwnerURL))
	if err != nil {
		t.Fatal(err)
	}
	defer replicaRaw.Close()
	rs.waitUsable(true)

	t.Run("reads land on the replica", func(t *testing.T) {
		const n = 200
		before := rs.reads()
		commits := replicaCommits(t, replicaRaw)
		for i := range n {
			if a := rs.read(i, ""); a.Status != http.StatusOK {
				t.Fatalf("read %d: %d %v %s", i, a.Status, a.Err, a.Body)
			}
		}
		d := rs.reads().minus(before)
		// One read transaction per request: the list and its
		// preloads share it. The authenticator's session lookup is on
		// the primary and not counted here.
		if d.replica < n-10 || d.replica+d.primary != n {
			t.Errorf("%d GETs: %d requests read from the replica, %d on the primary; want (nearly) all on the replica", n, d.replica, d.primary)
		}
		// PostgreSQL's own count on the replica agrees (its statistics
		// are flushed at most once a second).
		if !eventually(5*time.Second, func() bool { return replicaCommits(t, replicaRaw)-commits >= d.replica }) {
			t.Errorf("the replica's pg_stat_database counts %d transactions of the test's database, want at least %d",
				replicaCommits(t, replicaRaw)-commits, d.replica)
		}
		t.Logf("%d GETs: %d read from the replica (pg_stat_database on the replica: +%d commits), %d from the primary",
			n, d.replica, replicaCommits(t, replicaRaw)-commits, d.primary)
	})

	t.Run("read your writes", func(t *testing.T) {
		// The replica applies every commit 400 ms late: a read right
		// after a write that went to it would miss the write.
		standby.Set(t, "recovery_min_apply_delay = '400ms'")
		defer standby.Set(t, "recovery_min_apply_delay = 0")
		time.Sleep(200 * time.Millisecond) // the reload reaches the startup process

		// The control: without the header, reads right after the write
		// miss it. This shows the replica lags, so that the sequences
		// below can fail.
		missed := 0
		for i := range 20 {
			id, _ := rs.create(t, fmt.Sprintf("ryw-control-%d", i))
			if a := rs.get(id, ""); a.Status == http.StatusNotFound {
				missed++
			} else if a.Status != http.StatusOK {
				t.Fatalf("control read: %d %s", a.Status, a.Body)
			}
		}
		if missed == 0 {
			t.Fatal("no read without the header missed its write: the replica does not lag, and the test below proves nothing")
		}

		const sequences, workers = 1000, 16
		before := rs.reads()
		var next, failures, slept atomic.Int64
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > sequences {
						return
					}
					title := fmt.Sprintf("ryw-%d", i)
					id, after := rs.create(t, title)
					if i%10 == 0 {
						// Late enough for the replica to have
						// replayed the write: the read may go to
						// it, and must still see the write.
						slept.Add(1)
						time.Sleep(600 * time.Millisecond)
					}
					a := rs.get(id, after)
					var got struct {
						Data struct{ Title string } `json:"data"`
					}
					json.Unmarshal(a.Body, &got)
					if a.Status != http.StatusOK || got.Data.Title != title {
						failures.Add(1)
						t.Errorf("sequence %d: the read after the write (%s: %s) answered %d %s", i, httpapi.HeaderReadAfter, after, a.Status, a.Body)
					}
					if a.Header.Get(httpapi.HeaderReadAfter) != "" {
						t.Errorf("sequence %d: a GET's answer carries %s", i, httpapi.HeaderReadAfter)
					}
				}
			}()
		}
		wg.Wait()
		d := rs.reads().minus(before)
		if d.replica == 0 {
			t.Errorf("no read of the sequences went to the replica (%d to the primary): the ones made 600 ms after their write should", d.primary)
		}
		t.Logf("read-your-writes: %d write-then-read sequences (%d reading 600 ms after the write), %d failed; "+
			"their reads: %d on the replica, %d on the primary; without the header %d of 20 reads missed their write",
			sequences, slept.Load(), failures.Load(), d.replica, d.primary, missed)
	})

	t.Run("a lagging replica is skipped", func(t *testing.T) {
		// Commits applied 3 s late, against a bound of 1 s, while a
		// writer keeps the primary's position moving.
		standby.Set(t, "recovery_min_apply_delay = '3s'")
		stop := make(chan struct{})
		var writer sync.WaitGroup
		writer.Add(1)
		go func() {
			defer writer.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					rs.create(t, fmt.Sprintf("lag-%d", i))
				}
			}
		}()
		rs.waitUsable(false)
		before := rs.reads()
		for i := range 50 {
			if a := rs.read(i, ""); a.Status != http.StatusOK {
				t.Fatalf("read %d while the replica lags: %d %s", i, a.Status, a.Body)
			}
		}
		d := rs.reads().minus(before)
		close(stop)
		writer.Wait()
		standby.Set(t, "recovery_min_apply_delay = 0")
		if d.replica != 0 || d.primary != 50 {
			t.Errorf("50 GETs while the replica lagged: %d read on the replica, %d on the primary; want all on the primary", d.replica, d.primary)
		}
		start := time.Now()
		rs.waitUsable(true)
		t.Logf("replica applying commits 3 s late (bound %s): skipped; 50 GETs all on the primary; usable again %s after the delay was lifted",
			maxLag, time.Since(start).Round(10*time.Millisecond))
	})

	t.Run("throughput of the list route", func(t *testing.T) {
		plain := startServer(t, db.URL)
		without := &replicaServer{t: t, fixture: f, srv: plain, c: rs.c}
		without.token = binary.Login(t, http.DefaultClient, plain.Base, f.admin.Email, seed.Password)
		const rounds, concurrency, round = 4, 16, 1500 * time.Millisecond
		var ratios []float64
		for i := range rounds {
			with := rs.listThroughput(concurrency, round)
			alone := without.listThroughput(concurrency, round)
			ratios = append(ratios, with/alone)
			t.Logf("round %d: %.0f lists/s with the replica, %.0f without (ratio %.2f)", i+1, with, alone, with/alone)
		}
		slices.Sort(ratios)
		t.Logf("list route, concurrency %d, %d interleaved rounds of %s: median ratio with/without replica %.2f "+
			"(primary, replica, servers and clients share this machine's CPUs)", concurrency, rounds, round, (ratios[rounds/2-1]+ratios[rounds/2])/2)
	})

	t.Run("killing the replica fails no request", func(t *testing.T) {
		rs.waitUsable(true)
		before := rs.reads()
		beforeFallbacks := rs.metric("scopegate_db_replica_fallbacks_total")
		const clients = 16
		var stopped atomic.Bool
		var killedAt time.Time
		var mu sync.Mutex
		var answers, failed, afterKill int
		var wg sync.WaitGroup
		for w := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; !stopped.Load(); i += clients {
					start := time.Now()
					a := rs.read(i, "")
					mu.Lock()
					answers++
					if !killedAt.IsZero() && start.After(killedAt) {
						afterKill++
					}
					if a.Status != http.StatusOK {
						failed++
						t.Errorf("read %d: %d %v %s", i, a.Status, a.Err, a.Body)
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(1500 * time.Millisecond)
		mu.Lock()
		killedAt = time.Now()
		mu.Unlock()
		standby.Kill(t)
		time.Sleep(2500 * time.Millisecond)
		stopped.Store(true)
		wg.Wait()
		d := rs.reads().minus(before)
		fallbacks := rs.metric("scopegate_db_replica_fallbacks_total") - beforeFallbacks
		if afterKill == 0 || d.replica == 0 {
			t.Errorf("the load did not span the kill: %d reads after it, %d on the replica", afterKill, d.replica)
		}
		if failed > 0 {
			t.Logf("the server's errors:\n%s", strings.Join(rs.srv.LogLines(`"level":"ERROR"`), "\n"))
		}
		rs.waitUsable(false)
		t.Logf("replica killed (pg_ctl stop -m immediate) under %d clients: %d GETs, %d after the kill, %d failed; "+
			"%d read from the replica, %d from the primary; %d reads run again on the primary after the replica failed them",
			clients, answers, afterKill, failed, d.replica, d.primary, int(fallbacks))

		// Started again, it serves reads again without a restart of
		// the server.
		standby.Start(t)
		rs.waitUsable(true)
		before = rs.reads()
		for i := range 20 {
			if a := rs.read(i, ""); a.Status != http.StatusOK {
				t.Fatalf("read after the replica's restart: %d %s", a.Status, a.Body)
			}
		}
		if d := rs.reads().minus(before); d.replica == 0 {
			t.Errorf("after the replica's restart no read went to it (%d to the primary)", d.primary)
		}
	})
}

// TestReplicaDownAtStart starts the server with a replica that does not
// answer: the server starts, reports it unusable, and serves every read
// from the primary.
func TestReplicaDownAtStart(t *testing.T) {
	db := pgtest.New(t)
	dead := "postgres://" + pgtest.AppRole + "@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=1"
	f, s := serveFixture(t, db, 5, "--replica-url", dead, "--replica-check-interval", "50ms")
	rs := &replicaServer{t: t, fixture: f, srv: s, token: f.token, c: binary.Client(4, 10*time.Second), name: "127.0.0.1:1/nowhere"}
	before := rs.reads()
	for i := range 20 {
		if a := rs.read(i, ""); a.Status != http.StatusOK {
			t.Fatalf("read %d: %d %s", i, a.Status, a.Body)
		}
	}
	if d := rs.reads().minus(before); d.replica != 0 || d.primary != 20 {
		t.Errorf("20 GETs with the replica down: %d on the replica, %d on the primary", d.replica, d.primary)
	}
	if v := rs.metric(`scopegate_db_replica_usable{replica="` + rs.name + `"}`); v != 0 {
		t.Errorf("scopegate_db_replica_usable of a replica that is down: %v", v)
	}
}

// replicaServer drives a server of the replica tests as the fixture's
// admin.
type replicaServer struct {
	t *testing.T
	*fixture
	srv   *binary.Server
	token string // the admin's, on srv
	c     *http.Client
	name  string // the replica's label in the metrics
}

// read sends the i-th GET of a mix of lists (with preloads) and gets.
func (rs *replicaServer) read(i int, after string) binary.Answer {
	if i%2 == 0 {
		return rs.send("GET", "/api/jobs?preload=managers,company&limit=20", "", after)
	}
	return rs.get(rs.JobIDs[i%len(rs.JobIDs)], after)
}

func (rs *replicaServer) get(id int, after string) binary.Answer {
	return rs.send("GET", fmt.Sprintf("/api/jobs/%d", id), "", after)
}

func (rs *replicaServer) send(method, path, body, after string) binary.Answer {
	var h http.Header
	if after != "" {
		h = http.Header{httpapi.HeaderReadAfter: {after}}
	}
	return binary.SendHeader(context.Background(), rs.c, method, rs.srv.Base+path, rs.token, body, h)
}

// create writes a job and returns its id and the answer's
// Scopegate-Read-After, failing the test unless it is 201 with a WAL
// position.
func (rs *replicaServer) create(t *testing.T, title string) (id int, after string) {
	a := rs.send("POST", "/api/jobs", rs.createBody(title), "")
	var got struct {
		Data struct{ ID int } `json:"data"`
	}
	if a.Status != http.StatusCreated || json.Unmarshal(a.Body, &got) != nil {
		t.Errorf("create %s: %d %v %s", title, a.Status, a.Err, a.Body)
		return 0, ""
	}
	after = a.Header.Get(httpapi.HeaderReadAfter)
	if _, err := database.ParseLSN(after); err != nil {
		t.Errorf("create %s: %s %q: %v", title, httpapi.HeaderReadAfter, after, err)
	}
	return got.Data.ID, after
}

// readCounts are the requests whose reads may come from a replica, by
// where their reads went.
type readCounts struct{ replica, primary int }

func (a readCounts) minus(b readCounts) readCounts {
	return readCounts{a.replica - b.replica, a.primary - b.primary}
}

func (rs *replicaServer) reads() readCounts {
	scrape := binary.Scrape(rs.c, rs.srv.Ops)
	r, _ := binary.MetricValue(scrape, `scopegate_db_replica_routed_requests_total{target="`+rs.name+`"}`)
	p, ok := binary.MetricValue(scrape, `scopegate_db_replica_routed_requests_total{target="primary"}`)
	if !ok {
		rs.t.Fatalf("no scopegate_db_replica_routed_requests_total in the metrics:\n%s", scrape)
	}
	return readCounts{int(r), int(p)}
}

func (rs *replicaServer) metric(series string) float64 {
	v, ok := binary.MetricValue(binary.Scrape(rs.c, rs.srv.Ops), series)
	if !ok {
		rs.t.Fatalf("no sample %s", series)
	}
	return v
}

// waitUsable waits up to 20 s for the server to judge the replica usable
// (or not).
func (rs *replicaServer) waitUsable(usable bool) {
	rs.t.Helper()
	want := 0.0
	if usable {
		want = 1
	}
	series := `scopegate_db_replica_usable{replica="` + rs.name + `"}`
	if !eventually(20*time.Second, func() bool { return rs.metric(series) == want }) {
		rs.t.Fatalf("%s stayed %v, want %v", series, rs.metric(series), want)
	}
}

// listThroughput runs concurrency clients listing jobs for d and returns
// the lists answered per second (every one must be 200).
func (rs *replicaServer) listThroughput(concurrency int, d time.Duration) float64 {
	var n atomic.Int64
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if a := rs.send("GET", "/api/jobs?preload=managers,company&limit=20", "", ""); a.Status != http.StatusOK {
					rs.t.Errorf("list: %d %v %s", a.Status, a.Err, a.Body)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// replicaCommits is the replica's count of committed transactions in the
// test's database.
func replicaCommits(t *testing.T, raw *sql.DB) int {
	t.Helper()
	var n int
	if err := raw.QueryRow(`SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
