package integration

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/integration/binary"
	"github.com/scopegate/scopegate/integration/pgtest"
)

// errorCode returns the code of an error body.
func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &e), body)
	return e.Error.Code
}

// TestE2EMigrateDownUnderARunningServer: docs/design.md section 11. 'migrate down'
// refuses without --yes; once the schema is rolled back under a running
// server, /readyz says 503 and requests that need a dropped table answer 503
// unavailable, never 500; 'migrate up' (and the grants) make it ready again.
func TestE2EMigrateDownUnderARunningServer(t *testing.T) {
	t.Parallel()
	bin := binary.Scopegate(t)
	url := throwawayDB(t, "scopegate_e2e_")
	dir := t.TempDir()
	const appRole = "scopegate_e2e_app"
	owner := binary.Command{Path: bin, Dir: dir, Env: binary.Env("MIGRATE_DATABASE_URL="+url, "SCOPEGATE_APP_PASSWORD="+appRole)}
	sg := binary.Command{Path: bin, Dir: dir, Env: binary.Env("DATABASE_URL="+pgtest.AsRole(url, appRole), "MIGRATE_DATABASE_URL="+url)}
	owner.MustRun(t, "migrate", "up")
	owner.MustRun(t, "db", "grant", "--role", appRole)
	sg.MustRun(t, "org", "create", "--name", "Acme", "--slug", "acme")
	sg.MustRun(t, "user", "create", "--org", "acme", "--email", "boss@acme.test",
		"--name", "Boss", "--role", "admin", "--password", "long enough password")

	s := e2eServe(t, sg)
	token := s.login(t, "boss@acme.test", "long enough password")
	code, body := s.do(t, "POST", "/api/companies", token, `{"name":"Initech"}`)
	require.Equal(t, http.StatusCreated, code, body)
	code, _ = s.do(t, "GET", "/readyz", "", "")
	require.Equal(t, http.StatusOK, code)

	code, out := owner.Run(t, "migrate", "down")
	assert.Equal(t, 2, code, "migrate down without --yes is refused:\n%s", out)
	assert.Contains(t, out, "pass --yes to confirm")
	code, _ = s.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code, "nothing was rolled back")

	// One migration down: the schema is no longer this binary's.
	assert.Contains(t, owner.MustRun(t, "migrate", "down", "--yes"), "rolled back migration")
	code, body = s.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	assert.Equal(t, "unavailable", errorCode(t, body))
	assert.Contains(t, body, "schema")

	// Everything down: the tables are gone under the running server.
	for i := 0; ; i++ {
		require.Less(t, i, 50, "migrate down never ran out of migrations")
		code, out := owner.Run(t, "migrate", "down", "--yes")
		if code != 0 {
			require.Contains(t, out, "no applied migration to roll back")
			break
		}
	}
	code, body = s.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	for _, path := range []string{"/api/jobs", "/api/companies", "/api/me"} {
		code, body = s.do(t, "GET", path, token, "")
		assert.Equal(t, http.StatusServiceUnavailable, code, "%s: %s", path, body)
		assert.Equal(t, "unavailable", errorCode(t, body), path)
		assert.False(t, strings.Contains(body, "relation"), "no driver detail: %s", body)
	}
	code, body = s.do(t, "POST", "/api/session", "", `{"email":"boss@acme.test","password":"long enough password"}`)
	assert.Equal(t, http.StatusServiceUnavailable, code, body)

	// Up again, grants again (they went with the tables): ready.
	owner.MustRun(t, "migrate", "up")
	owner.MustRun(t, "db", "grant", "--role", appRole)
	code, body = s.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code, body)
	code, body = s.do(t, "GET", "/api/jobs", token, "")
	assert.Equal(t, http.StatusUnauthorized, code, "the session went with its table: %s", body)
	s.stop(t)
}
