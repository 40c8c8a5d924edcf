package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/demo"
)

// e2eServer is a running `scopegate serve` (binary.Server) with the
// checks of the API tests: requests validated against the OpenAPI
// document, a login, and a clean stop.
type e2eServer struct{ *binary.Server }

// e2eServe starts `scopegate serve` on free ports (binary.Command.Serve),
// with extra flags; "--ops-addr=" disables the ops listener.
func e2eServe(t *testing.T, sg binary.Command, extra ...string) e2eServer {
	t.Helper()
	return e2eServer{sg.Serve(t, extra...)}
}

// do sends a request to the API's listener, validated against the OpenAPI
// document as every HTTP test's (apiValidated).
func (s e2eServer) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	return e2eDoWith(t, apiValidated(t, http.DefaultClient), method, s.Base+path, token, body)
}

// e2eDo sends a request anywhere, the ops listener included (which the
// API's document does not describe).
func e2eDo(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	return e2eDoWith(t, http.DefaultClient, method, url, token, body)
}

func e2eDoWith(t *testing.T, c *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	a := binary.Send(context.Background(), c, method, url, token, body)
	require.NoError(t, a.Err)
	return a.Status, string(a.Body)
}

func (s e2eServer) login(t *testing.T, email, password string) string {
	t.Helper()
	return binary.Login(t, apiValidated(t, http.DefaultClient), s.Base, email, password)
}

// stop sends SIGTERM and expects a clean exit that says so.
func (s e2eServer) stop(t *testing.T) {
	t.Helper()
	s.Signal(t, syscall.SIGTERM)
	assert.NoError(t, s.Wait(t, 15*time.Second), "serve should exit 0 after SIGTERM")
	assert.Contains(t, s.Output(), "shutting down")
}

// TestE2EPostgres drives the real binary the way an operator would: migrate,
// create an organization and an admin, serve, log in over HTTP, use a few
// routes, and stop it with SIGTERM.
func TestE2EPostgres(t *testing.T) {
	t.Parallel()
	bin := binary.Scopegate(t)
	url := throwawayDB(t, "scopegate_e2e_")
	dir := t.TempDir()
	sg := binary.Command{Path: bin, Dir: dir, Env: binary.Env("DATABASE_URL=" + url)}

	code, out := sg.Run(t, "serve", "--addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0")
	require.NotZero(t, code, "serve must refuse to start while migrations are pending")
	assert.Contains(t, out, "scopegate migrate up")

	assert.Contains(t, sg.MustRun(t, "migrate", "up"), "applied")
	// From here on, as in production: migrations and grants as the schema
	// owner, everything else as the application role.
	const appRole = "scopegate_e2e_app"
	owner := binary.Command{Path: bin, Dir: dir, Env: binary.Env("MIGRATE_DATABASE_URL="+url, "SCOPEGATE_APP_PASSWORD="+appRole)}
	assert.Contains(t, owner.MustRun(t, "db", "grant", "--role", appRole), "role "+appRole)
	sg.Env = binary.Env("DATABASE_URL="+pgtest.AsRole(url, appRole), "MIGRATE_DATABASE_URL="+url)
	assert.Contains(t, sg.MustRun(t, "migrate", "status"), "applied")
	assert.Contains(t, sg.MustRun(t, "org", "create", "--name", "Acme", "--slug", "acme"), "created organization")
	assert.Contains(t, sg.MustRun(t, "user", "create", "--org", "acme", "--email", "boss@acme.test",
		"--name", "Boss", "--role", "admin", "--password", "long enough password"), "created user")

	s := e2eServe(t, sg)
	token := s.login(t, "boss@acme.test", "long enough password")
	code, body := s.do(t, "POST", "/api/companies", token, `{"name":"Initech"}`)
	require.Equal(t, http.StatusCreated, code, body)
	var company struct{ Data struct{ ID int } }
	require.NoError(t, json.Unmarshal([]byte(body), &company))
	code, body = s.do(t, "POST", "/api/jobs", token, `{"title":"Engineer","company_id":`+itoa(company.Data.ID)+`,"status":"published"}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, body = s.do(t, "GET", "/api/jobs?preload=company,managers", token, "")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `"Engineer"`)
	assert.Contains(t, body, `"edges":{"company":`)
	code, _ = s.do(t, "GET", "/api/jobs/"+itoa(pgtest.MissingID), token, "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = s.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code)
	s.stop(t)

	explain := sg.MustRun(t, "policy", "explain", "--user", "boss@acme.test", "--action", "job.create")
	assert.Contains(t, explain, "ALLOWED job.create")

	// A member cannot update the job (not a manager) nor see a draft.
	sg.MustRun(t, "user", "create", "--org", "acme", "--email", "m@acme.test",
		"--name", "M", "--role", "member", "--password", "long enough password")
	var job struct{ Data []struct{ ID int } }
	s2 := e2eServe(t, sg)
	token = s2.login(t, "boss@acme.test", "long enough password")
	code, body = s2.do(t, "POST", "/api/jobs", token, `{"title":"Secret","company_id":`+itoa(company.Data.ID)+`}`)
	require.Equal(t, http.StatusCreated, code, body)
	_, body = s2.do(t, "GET", "/api/jobs?status=draft", token, "")
	require.NoError(t, json.Unmarshal([]byte(body), &job))
	require.Len(t, job.Data, 1)
	s2.stop(t)
	id := itoa(job.Data[0].ID)
	explain = sg.MustRun(t, "policy", "explain", "--user", "m@acme.test", "--action", "job.update", "--id", id)
	// The member cannot see the draft: explained by the row rule that
	// hides it, not by job.update's allow lists (the API answers 404).
	assert.Contains(t, explain, "DENIED job.update")
	assert.Contains(t, explain, "job "+id+" is HIDDEN from them")
	assert.Contains(t, explain, "row rule 3.5 manager and member")
	assert.NotContains(t, explain, "ALLOWED")
	hidden := sg.MustRun(t, "policy", "why-hidden", "--user", "m@acme.test", "--object", "job", "--id", id)
	assert.Contains(t, hidden, "HIDDEN from m@acme.test: rule 3.5")
	assert.Contains(t, hidden, "confirmed by the privacy rules")
}

// TestE2EEmbeddedDefault: `scopegate serve` in an empty directory with no
// DATABASE_URL creates ./scopegate.db, seeds the demo world, prints the demo
// logins, and answers for a demo user; the other organization's job is 404.
func TestE2EEmbeddedDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := e2eServe(t, binary.Command{Path: binary.Scopegate(t), Dir: dir})
	_, err := os.Stat(filepath.Join(dir, "scopegate.db"))
	require.NoError(t, err, "serve creates ./scopegate.db")

	token := s.login(t, "member@acme.test", demo.Password)
	code, body := s.do(t, "GET", "/api/jobs?preload=company,notes.author", token, "")
	require.Equal(t, http.StatusOK, code, body)
	var page struct {
		Data []struct {
			ID    int
			OrgID int `json:"org_id"`
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &page))
	require.NotEmpty(t, page.Data)

	other := s.login(t, "admin@globex.test", demo.Password)
	code, body = s.do(t, "GET", "/api/jobs", other, "")
	require.Equal(t, http.StatusOK, code)
	var theirs struct{ Data []struct{ ID int } }
	require.NoError(t, json.Unmarshal([]byte(body), &theirs))
	require.NotEmpty(t, theirs.Data)
	code, hidden := s.do(t, "GET", "/api/jobs/"+itoa(theirs.Data[0].ID), token, "")
	assert.Equal(t, http.StatusNotFound, code)
	_, missing := s.do(t, "GET", "/api/jobs/"+itoa(pgtest.MissingID), token, "")
	assert.Equal(t, missing, hidden, "a hidden job answers exactly like a missing one")
	s.stop(t)
}
