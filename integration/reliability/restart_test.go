package reliability

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
)

// TestDatabaseRestart stops the database under load and starts it again
// (docs/reliability.md): 32 clients send mixed reads and writes to a
// server on a private PostgreSQL, which is stopped for five seconds. During
// the outage every request ends within the request deadline with 503
// unavailable and Retry-After, never 500 and never a hang, and /readyz is
// 503. Within two seconds of the restart requests succeed again, without
// restarting the server. Every write acknowledged with 201 is stored once,
// none twice, and none half.
func TestDatabaseRestart(t *testing.T) {
	const (
		clients  = 32
		deadline = 3 * time.Second
		outage   = 5 * time.Second
		recovery = 2 * time.Second
	)
	pg := pgtest.StartPrivate(t)
	db := pgtest.NewOn(t, pg.URL)
	f, s := serveFixture(t, db, 40, "--request-timeout", deadline.String(), "--db-max-conns", "8")

	// The client gives up two seconds after the server's deadline: an
	// answer later than that is a hang.
	c := binary.Client(clients, deadline+2*time.Second)
	var stopped atomic.Bool
	load := startMixedLoad(clients, c, s.Base, f, "restart-", func(binary.Answer) bool { return !stopped.Load() })

	time.Sleep(2 * time.Second) // load against a healthy database
	pg.Stop(t)
	down := time.Now()
	// /readyz says so during the outage.
	ready := binary.Send(context.Background(), c, "GET", s.Base+"/readyz", "", "")
	if ready.Status != http.StatusServiceUnavailable || ready.RetryAfter == "" {
		t.Errorf("/readyz during the outage: %d %v %s (Retry-After %q), want 503 with Retry-After", ready.Status, ready.Err, ready.Body, ready.RetryAfter)
	}
	time.Sleep(outage - time.Since(down))
	// PostgreSQL accepts connections a little before pg_ctl notices and
	// returns, so the outage ends when the start begins: a request that
	// ends between the two may rightly succeed, and counts as neither
	// during nor after.
	restarting := time.Now()
	pg.Start(t)
	up := time.Now()
	time.Sleep(4 * time.Second) // load after the restart
	stopped.Store(true)
	load.wait()
	if ready := binary.Send(context.Background(), c, "GET", s.Base+"/readyz", "", ""); ready.Status != http.StatusOK {
		t.Errorf("/readyz after the restart: %d %s", ready.Status, ready.Body)
	}

	// Classify every exchange by when it ran.
	var during, after, other []exchange
	lastFailure := time.Time{}
	for _, e := range load.log.all() {
		a := e.answer
		switch {
		case a.Err != nil:
			t.Errorf("%s at %s: no answer within %s (a hang): %v", e.kind, e.start.Sub(down).Round(time.Millisecond), deadline+2*time.Second, a.Err)
		case a.Status >= 500 && (a.Status != http.StatusServiceUnavailable || a.ErrorCode() != "unavailable" || a.RetryAfter == ""):
			t.Errorf("%s at %s: %d %s (Retry-After %q), want 503 unavailable with Retry-After", e.kind, e.start.Sub(down).Round(time.Millisecond), a.Status, a.Body, a.RetryAfter)
		case a.Status >= 400 && a.Status < 500:
			t.Errorf("%s: %d %s", e.kind, a.Status, a.Body)
		}
		if a.Err == nil && a.Took > deadline+time.Second {
			t.Errorf("%s at %s took %s; the request deadline is %s", e.kind, e.start.Sub(down).Round(time.Millisecond), a.Took, deadline)
		}
		if a.Status >= 500 && e.end.After(lastFailure) {
			lastFailure = e.end
		}
		switch {
		case e.start.After(down) && e.end.Before(restarting):
			during = append(during, e)
			if a.Status < 500 {
				t.Errorf("%s during the outage answered %d: the database was down", e.kind, a.Status)
			}
		case e.start.After(up):
			after = append(after, e)
		default:
			other = append(other, e)
		}
	}
	if len(during) == 0 {
		t.Fatal("no request ran during the outage")
	}
	// Recovery: no request that began more than two seconds after the
	// restart failed, and requests after the restart did succeed.
	var ok, failedLate int
	for _, e := range after {
		if e.answer.Status < 300 {
			ok++
		}
		if e.answer.Status >= 500 && e.start.After(up.Add(recovery)) {
			failedLate++
		}
	}
	if ok == 0 || failedLate > 0 {
		t.Errorf("after the restart: %d succeeded, %d failed more than %s after it", ok, failedLate, recovery)
	}
	if t.Failed() {
		t.Logf("the server's errors:\n%s", strings.Join(s.LogLines(`"level":"ERROR"`), "\n"))
	}
	recovered := max(0, lastFailure.Sub(up))
	acked, unacked := load.writes.check(t, db.Raw, "restart-", len(f.ManagerIDs))
	t.Logf("database stopped %s under %d clients (request deadline %s): %d requests during the outage, all 503 with Retry-After; "+
		"last failure %s after the restart; %d requests before, across the edges and after; writes: %d acknowledged and stored once, "+
		"%d stored whose answer was a 503, none twice, none half done",
		outage, clients, deadline, len(during), recovered.Round(time.Millisecond), len(other)+len(after), acked, unacked)
	t.Logf("latency during the outage: %s", quantiles(during))
}

// exchange is one request of a load and its answer.
type exchange struct {
	kind       string
	start, end time.Time
	answer     binary.Answer
}

type exchangeLog struct {
	mu sync.Mutex
	xs []exchange
}

func newExchangeLog() *exchangeLog { return &exchangeLog{} }

func (l *exchangeLog) add(e exchange) {
	l.mu.Lock()
	l.xs = append(l.xs, e)
	l.mu.Unlock()
}

func (l *exchangeLog) all() []exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]exchange(nil), l.xs...)
}

// quantiles formats the p50, p99 and maximum of the exchanges' latency.
func quantiles(xs []exchange) string {
	if len(xs) == 0 {
		return "none"
	}
	d := make([]time.Duration, len(xs))
	for i, e := range xs {
		d[i] = e.answer.Took
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Millisecond) }
	return fmt.Sprintf("p50 %s, p99 %s, max %s (%d requests)", q(0.5), q(0.99), d[len(d)-1].Round(time.Millisecond), len(d))
}

// mixedLoad is clients sending mixedRequest in a loop.
type mixedLoad struct {
	log    *exchangeLog
	writes *writes
	wg     sync.WaitGroup
}

// startMixedLoad starts clients that send mixed requests (mixedRequest,
// writes titled prefix+n) to base until more returns false for an answer
// one of them got.
func startMixedLoad(clients int, c *http.Client, base string, f *fixture, prefix string, more func(binary.Answer) bool) *mixedLoad {
	l := &mixedLoad{log: newExchangeLog(), writes: newWrites()}
	var seq atomic.Int64
	for worker := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			r := rand.New(rand.NewPCG(uint64(worker), uint64(len(prefix))))
			for {
				kind, method, path, body, title := mixedRequest(r, f, prefix, &seq)
				start := time.Now()
				a := binary.Send(context.Background(), c, method, base+path, f.token, body)
				if title != "" {
					l.writes.sent(title, a.Err == nil && a.Status == http.StatusCreated)
				}
				l.log.add(exchange{kind: kind, start: start, end: start.Add(a.Took), answer: a})
				if !more(a) {
					return
				}
			}
		}()
	}
	return l
}

// wait waits for every client to stop.
func (l *mixedLoad) wait() { l.wg.Wait() }
