package reliability

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
)

// TestPoolExhaustion: with a pool of two connections and every read of
// jobs held behind a lock, twelve concurrent requests take the two
// connections or wait for one; all of them answer 503 unavailable with
// Retry-After once the request deadline passes, none later and none with
// 500. Released, the server serves again without a restart.
func TestPoolExhaustion(t *testing.T) {
	const deadline = 2 * time.Second
	db := pgtest.New(t)
	// No statement timeout: the request's deadline alone ends the
	// requests holding connections (lib/pq cancels their statements) and
	// those waiting for one.
	f, s := serveFixture(t, db, 20, "--db-max-conns", "2", "--request-timeout", deadline.String(), "--statement-timeout", "0")

	release := lockTable(t, db.Raw, "jobs", "ACCESS EXCLUSIVE")
	const clients = 12
	c := binary.Client(clients, deadline+5*time.Second)
	answers := make([]binary.Answer, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = binary.Send(context.Background(), c, "GET", s.Base+"/api/jobs?preload=company", f.token, "")
		}()
	}
	// While they wait, exactly two statements of the application role
	// are running (both waiting for the lock): the pool's two
	// connections, and no more.
	if !eventually(deadline/2, func() bool { return len(appBackends(t, db.Raw)) == 2 }) {
		t.Errorf("want the pool's 2 connections waiting on the lock, have %q", appBackends(t, db.Raw))
	}
	wg.Wait()
	var slowest time.Duration
	for i, a := range answers {
		if a.Err != nil || a.Status != http.StatusServiceUnavailable || a.ErrorCode() != "unavailable" || a.RetryAfter == "" {
			t.Errorf("request %d: want 503 unavailable with Retry-After, got %d %v %s (Retry-After %q)", i, a.Status, a.Err, a.Body, a.RetryAfter)
		}
		slowest = max(slowest, a.Took)
	}
	// Bounded by the deadline, with room for a busy machine: the point is
	// that no request waits for the lock's holder.
	if slowest > deadline+3*time.Second {
		t.Errorf("the slowest request took %s; the request deadline is %s", slowest, deadline)
	}
	t.Logf("pool of 2, %d concurrent requests behind a lock, request deadline %s: all 503 with Retry-After, slowest %s",
		clients, deadline, slowest.Round(time.Millisecond))
	// Their statements were cancelled, not left waiting for the lock.
	if !eventually(2*time.Second, func() bool { return len(appBackends(t, db.Raw)) == 0 }) {
		t.Errorf("statements still running after their requests ended: %q", appBackends(t, db.Raw))
	}

	release()
	a := binary.Send(context.Background(), c, "GET", s.Base+"/api/jobs?preload=company", f.token, "")
	if a.Status != http.StatusOK {
		t.Fatalf("after the lock is released: %d %v %s", a.Status, a.Err, a.Body)
	}
}

// TestStatementTimeout: PostgreSQL's statement timeout (--statement-timeout)
// ends a statement stuck behind a lock long before the request's deadline,
// and the request answers 503 unavailable with Retry-After.
func TestStatementTimeout(t *testing.T) {
	db := pgtest.New(t)
	f, s := serveFixture(t, db, 10, "--request-timeout", "30s", "--statement-timeout", "500ms")
	release := lockTable(t, db.Raw, "jobs", "ACCESS EXCLUSIVE")
	defer release()
	a := binary.Send(context.Background(), binary.Client(1, 40*time.Second), "GET", s.Base+"/api/jobs/"+strconv.Itoa(f.JobIDs[0]), f.token, "")
	if a.Err != nil || a.Status != http.StatusServiceUnavailable || a.ErrorCode() != "unavailable" || a.RetryAfter == "" {
		t.Fatalf("want 503 unavailable with Retry-After, got %d %v %s (Retry-After %q)", a.Status, a.Err, a.Body, a.RetryAfter)
	}
	// Ended by the statement timeout, not the 30 s request deadline.
	if a.Took > 10*time.Second {
		t.Errorf("the request took %s: the 500ms statement timeout did not end it", a.Took)
	}
	if log := s.LogTail(); !strings.Contains(log, "statement timeout") {
		t.Errorf("the server's log does not say which timeout ended the statement:\n%s", log)
	}
	t.Logf("statement behind a lock, statement timeout 500ms, request deadline 30s: 503 after %s", a.Took.Round(time.Millisecond))
}

// TestClientDisconnectCancelsStatement: a client that hangs up while its
// request's statement waits behind a lock leaves nothing running:
// net/http ends the request's context, and lib/pq has PostgreSQL cancel
// the statement (no statement timeout and no deadline would end it).
func TestClientDisconnectCancelsStatement(t *testing.T) {
	db := pgtest.New(t)
	f, s := serveFixture(t, db, 10, "--request-timeout", "10m", "--statement-timeout", "0")
	release := lockTable(t, db.Raw, "jobs", "ACCESS EXCLUSIVE")
	defer release()

	ctx, hangUp := context.WithCancel(context.Background())
	done := make(chan binary.Answer, 1)
	go func() {
		done <- binary.Send(ctx, binary.Client(1, time.Minute), "GET", s.Base+"/api/jobs?preload=company", f.token, "")
	}()
	waiting := func() bool {
		return slices.ContainsFunc(appBackends(t, db.Raw), func(b string) bool { return strings.HasPrefix(b, "active Lock") })
	}
	if !eventually(10*time.Second, waiting) {
		t.Fatalf("the request's statement never waited on the lock: %q", appBackends(t, db.Raw))
	}
	hangUp()
	if a := <-done; a.Err == nil {
		t.Fatalf("the client hung up but got an answer: %d %s", a.Status, a.Body)
	}
	start := time.Now()
	if !eventually(5*time.Second, func() bool { return len(appBackends(t, db.Raw)) == 0 }) {
		t.Fatalf("the statement still runs after the client hung up: %q", appBackends(t, db.Raw))
	}
	t.Logf("client hung up while its statement waited on a lock: PostgreSQL ended it within %s", time.Since(start).Round(time.Millisecond))
	// The server is fine: the next request on another connection works
	// once the lock is gone.
	release()
	if a := binary.Send(context.Background(), http.DefaultClient, "GET", s.Base+"/api/jobs", f.token, ""); a.Status != http.StatusOK {
		t.Fatalf("after the hang-up: %d %v %s", a.Status, a.Err, a.Body)
	}
}
