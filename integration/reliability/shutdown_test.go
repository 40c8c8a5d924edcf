package reliability

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
)

// TestShutdownDrains sends SIGTERM while 32 clients run, with writes
// held in flight by a lock: every request the server accepted completes
// with its normal answer, new connections are refused while it drains,
// it exits 0 within the drain timeout, and every stored write was
// acknowledged, whole.
func TestShutdownDrains(t *testing.T) {
	const clients = 32
	const drain = 10 * time.Second
	db := pgtest.New(t)
	f, s := serveFixture(t, db, 40, "--shutdown-timeout", drain.String())

	var signalled atomic.Bool
	c := binary.Client(clients, 30*time.Second)
	// Each client goes on until the server stops answering it after the
	// signal.
	load := startMixedLoad(clients, c, s.Base, f, "drain-", func(a binary.Answer) bool { return a.Err == nil || !signalled.Load() })
	time.Sleep(time.Second)
	// Hold new jobs back (SHARE blocks INSERT, not SELECT), so that
	// writes are in flight when the signal comes.
	release := lockTable(t, db.Raw, "jobs", "SHARE")
	if !eventually(5*time.Second, func() bool { return strings.Count(strings.Join(appBackends(t, db.Raw), "\n"), "active Lock") >= 2 }) {
		t.Fatalf("no writes waiting on the lock: %q", appBackends(t, db.Raw))
	}
	inFlight := strings.Count(strings.Join(appBackends(t, db.Raw), "\n"), "active Lock")
	signalled.Store(true)
	signalAt := time.Now()
	s.Signal(t, syscall.SIGTERM)

	// While the held writes drain, the listener refuses new connections.
	host := strings.TrimPrefix(s.Base, "http://")
	refused := eventually(time.Second, func() bool {
		conn, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			conn.Close()
			return false
		}
		return errors.Is(err, syscall.ECONNREFUSED)
	})
	select {
	case <-s.Exited():
		t.Fatal("serve exited before the writes in flight were released")
	default:
	}
	if !refused {
		t.Error("new connections were not refused after SIGTERM")
	}
	time.Sleep(time.Second)
	release()
	err := s.Wait(t, drain+5*time.Second)
	exitAfter := time.Since(signalAt)
	load.wait()
	if err != nil {
		t.Errorf("serve after SIGTERM: %v, want exit 0\n%s", err, s.LogTail())
	}
	if exitAfter > drain {
		t.Errorf("serve exited %s after SIGTERM; the drain timeout is %s", exitAfter, drain)
	}
	if !strings.Contains(s.Output(), "shutting down") {
		t.Errorf("serve did not say it was shutting down:\n%s", s.Output())
	}

	var answered, heldDone, noAnswer int
	for _, e := range load.log.all() {
		a := e.answer
		switch {
		case a.Err != nil:
			noAnswer++
			if e.start.Before(signalAt) && !isConnClosed(a.Err) {
				t.Errorf("%s sent %s before the signal: %v", e.kind, signalAt.Sub(e.start), a.Err)
			}
		case a.Status != http.StatusOK && a.Status != http.StatusCreated:
			t.Errorf("%s: %d %s, want its normal answer", e.kind, a.Status, a.Body)
		default:
			answered++
			if e.kind == "create" && e.start.Before(signalAt) && e.end.After(signalAt.Add(time.Second)) {
				heldDone++
			}
		}
	}
	if heldDone == 0 {
		t.Error("no write held across the signal completed")
	}
	acked, unacked := load.writes.check(t, db.Raw, "drain-", len(f.ManagerIDs))
	if unacked != 0 {
		t.Errorf("%d writes are stored whose client got no answer: a request was cut off after it was applied", unacked)
	}
	t.Logf("SIGTERM under %d clients with %d writes held in flight: %d answered normally (%d held writes finished after the signal), "+
		"%d refused or closed after it; new connections refused; exit 0 after %s (drain timeout %s); %d writes acknowledged, all stored whole, none unacknowledged",
		clients, inFlight, answered, heldDone, noAnswer, exitAfter.Round(time.Millisecond), drain, acked)
}

// TestShutdownTimeout: requests still running when the drain timeout
// passes are abandoned: their statements are cancelled and their
// transactions rolled back, the process exits (non-zero: the drain was
// incomplete) within the timeout, and no write is left half done or
// stored without an answer.
func TestShutdownTimeout(t *testing.T) {
	const drain = 2 * time.Second
	db := pgtest.New(t)
	f, s := serveFixture(t, db, 10, "--shutdown-timeout", drain.String(), "--request-timeout", "1m", "--statement-timeout", "0")
	release := lockTable(t, db.Raw, "jobs", "SHARE")
	w := newWrites()
	const held = 4
	var wg sync.WaitGroup
	answers := make([]binary.Answer, held)
	for i := range held {
		wg.Add(1)
		go func() {
			defer wg.Done()
			title := fmt.Sprintf("abandoned-%d", i)
			answers[i] = binary.Send(context.Background(), binary.Client(1, time.Minute), "POST", s.Base+"/api/jobs", f.token, f.createBody(title))
			w.sent(title, answers[i].Err == nil && answers[i].Status == http.StatusCreated)
		}()
	}
	if !eventually(5*time.Second, func() bool { return strings.Count(strings.Join(appBackends(t, db.Raw), "\n"), "active Lock") == held }) {
		t.Fatalf("want %d writes waiting on the lock: %q", held, appBackends(t, db.Raw))
	}
	signalAt := time.Now()
	s.Signal(t, syscall.SIGTERM)
	err := s.Wait(t, drain+5*time.Second)
	exitAfter := time.Since(signalAt)
	if err == nil {
		t.Error("serve exited 0 though requests were abandoned at the drain timeout")
	}
	if exitAfter > drain+2*time.Second {
		t.Errorf("serve exited %s after SIGTERM; the drain timeout is %s", exitAfter, drain)
	}
	// The abandoned statements were cancelled before the exit or ended
	// with the connection: none waits on the lock any more.
	if !eventually(5*time.Second, func() bool { return len(appBackends(t, db.Raw)) == 0 }) {
		t.Errorf("statements of the abandoned requests still run: %q", appBackends(t, db.Raw))
	}
	release()
	wg.Wait()
	for i, a := range answers {
		if a.Err == nil && a.Status != http.StatusServiceUnavailable {
			t.Errorf("abandoned write %d answered %d %s, want 503 or no answer", i, a.Status, a.Body)
		}
	}
	acked, unacked := w.check(t, db.Raw, "abandoned-", len(f.ManagerIDs))
	if acked+unacked != 0 {
		t.Errorf("abandoned writes stored: %d acknowledged, %d not", acked, unacked)
	}
	t.Logf("SIGTERM with %d writes held past the %s drain timeout: exit (%v) after %s; the writes rolled back, none stored",
		held, drain, err, exitAfter.Round(time.Millisecond))
}

// mixedRequest picks a request of the fault tests' mix: a third writes (a
// job titled prefix+n), a third lists, a third reads one job.
func mixedRequest(r *rand.Rand, f *fixture, prefix string, seq *atomic.Int64) (kind, method, path, body, title string) {
	switch n := r.IntN(6); {
	case n < 2:
		title = prefix + strconv.FormatInt(seq.Add(1), 10)
		return "create", "POST", "/api/jobs", f.createBody(title), title
	case n < 4:
		return "list", "GET", "/api/jobs?preload=company,managers", "", ""
	default:
		return "get", "GET", "/api/jobs/" + strconv.Itoa(f.JobIDs[r.IntN(len(f.JobIDs))]) + "?preload=managers", "", ""
	}
}

// isConnClosed reports whether err is the server closing an idle
// keep-alive connection as the client reused it: the request was never
// read, so never accepted.
func isConnClosed(err error) bool {
	s := err.Error()
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		strings.Contains(s, "server closed idle connection") || strings.Contains(s, "EOF") ||
		strings.Contains(s, "connection reset") || strings.Contains(s, "connection refused")
}
