package reliability

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/seed"
)

// fixture is a small seeded world and what the fault tests' requests
// need from it: an admin (who may read and write jobs), a company of
// theirs and managers to link, and the ids of the jobs they see.
type fixture struct {
	db    *pgtest.DB
	admin seed.Login
	token string
	binary.FirstPage
}

// serveFixture seeds a fixture on db (seedFixture), starts the server on
// db with flags, and signs the fixture's admin in to it.
func serveFixture(t *testing.T, db *pgtest.DB, jobsPerOrg int, flags ...string) (*fixture, *binary.Server) {
	t.Helper()
	f := seedFixture(t, db, jobsPerOrg)
	s := startServer(t, db.URL, flags...)
	f.signIn(t, s.Base)
	return f, s
}

// seedFixture writes two organizations of jobsPerOrg jobs each.
func seedFixture(t *testing.T, db *pgtest.DB, jobsPerOrg int) *fixture {
	t.Helper()
	res, err := seed.Scale(context.Background(), db.SQL, seed.NewShape(2, jobsPerOrg, 0), seed.Options{Analyze: db.Raw})
	if err != nil {
		t.Fatalf("seed: %v", err)
	}
	f := &fixture{db: db}
	for _, l := range res.Logins {
		if l.Role == "admin" {
			f.admin = l
			break
		}
	}
	if f.admin.Email == "" {
		t.Fatalf("seed wrote no admin: %+v", res.Logins)
	}
	return f
}

// signIn logs the admin in on the server at base and reads their first
// page of jobs for the ids the requests use.
func (f *fixture) signIn(t *testing.T, base string) {
	t.Helper()
	f.token = binary.Login(t, http.DefaultClient, base, f.admin.Email, seed.Password)
	a := binary.Send(context.Background(), http.DefaultClient, "GET", base+"/api/jobs?preload=managers&limit=50", f.token, "")
	if a.Err != nil || a.Status != http.StatusOK {
		t.Fatalf("the admin's first page: %d %v %s", a.Status, a.Err, a.Body)
	}
	p, err := binary.ReadFirstPage(a.Body)
	if err != nil {
		t.Fatalf("%v: %s", err, a.Body)
	}
	f.FirstPage = p
}

// createBody is the body of a job the test writes: the title names it,
// and its managers make the write more than one statement (the job, then
// its links), so that a half-done write would show.
func (f *fixture) createBody(title string) string {
	ids, _ := json.Marshal(f.ManagerIDs)
	return fmt.Sprintf(`{"title":%q,"company_id":%d,"status":"draft","manager_ids":%s}`, title, f.CompanyID, ids)
}

// writes is the set of job titles a test sent, with what each got.
type writes struct {
	mu    sync.Mutex
	acked map[string]bool // title → answered 201
}

func newWrites() *writes { return &writes{acked: map[string]bool{}} }

func (w *writes) sent(title string, acked bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acked[title] = w.acked[title] || acked
}

// check compares the stored jobs whose title starts with prefix with what
// was sent: every acknowledged write is there, exactly once; nothing is
// there that was not sent; none is there twice; and every stored job has
// all its managers (a write is all or nothing). It returns the numbers for
// the report: acknowledged, and stored without an acknowledgement (the
// database committed, but the answer was lost to the fault).
func (w *writes) check(t *testing.T, raw *sql.DB, prefix string, managers int) (acked, unacked int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := raw.QueryContext(ctx, `SELECT j.title, count(*) OVER (PARTITION BY j.title),
		(SELECT count(*) FROM job_managers m WHERE m.job_id = j.id)
		FROM jobs j WHERE j.title LIKE $1`, strings.ReplaceAll(prefix, "_", `\_`)+"%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string]bool{}
	for rows.Next() {
		var title string
		var copies, links int
		if err := rows.Scan(&title, &copies, &links); err != nil {
			t.Fatal(err)
		}
		stored[title] = true
		if copies != 1 {
			t.Errorf("job %q is stored %d times: a write was applied twice", title, copies)
		}
		if links != managers {
			t.Errorf("job %q has %d of its %d managers: a write was half done", title, links, managers)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for title, ok := range w.acked {
		switch {
		case ok && !stored[title]:
			t.Errorf("job %q was acknowledged (201) but is not stored", title)
		case ok:
			acked++
		case stored[title]:
			unacked++
		}
	}
	for title := range stored {
		if _, ok := w.acked[title]; !ok {
			t.Errorf("job %q is stored but was never sent", title)
		}
	}
	return acked, unacked
}

// appBackends lists what the application role's sessions of the test's
// database are doing: state and wait event of each, for the checks that a
// statement was cancelled.
func appBackends(t *testing.T, raw *sql.DB) []string {
	t.Helper()
	return pgtest.Column[string](t, raw, `SELECT state || ' ' || coalesce(wait_event_type, '-') || ' ' || left(query, 60)
		FROM pg_stat_activity WHERE datname = current_database() AND usename = $1 AND state <> 'idle'`, pgtest.AppRole)
}

// eventually polls cond every 20 ms for up to d.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// lockTable takes a lock on table in mode from the owner's connection and
// holds it until the returned function is called (or the test ends).
func lockTable(t *testing.T, raw *sql.DB, table, mode string) (release func()) {
	t.Helper()
	tx, err := raw.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("LOCK TABLE " + table + " IN " + mode + " MODE"); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { tx.Rollback() }) }
	t.Cleanup(release)
	return release
}
