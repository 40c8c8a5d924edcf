package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/migration"
)

// e2eBinary builds cmd/scopegate once per test binary.
func e2eBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "scopegate")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/scopegate")
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Run(), "go build")
	return bin
}

// e2eEnv is the environment of the binary: this process's, without any
// database variable unless given.
func e2eEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "MIGRATE_DATABASE_URL=") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func e2eRun(t *testing.T, bin, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "scopegate %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// e2eServer is a running `scopegate serve`.
type e2eServer struct {
	cmd  *exec.Cmd
	base string
	ops  string      // the ops listener's base URL; "" with --ops-addr=
	out  chan string // the rest of stdout, line by line
	// exited is closed once the process has been waited for, which
	// happens only after stdout reached EOF: os/exec's Wait closes the
	// pipe, and calling it while a read is under way loses the output
	// (TestE2EPostgres failed that way once). waitErr is Wait's error.
	exited  chan struct{}
	waitErr error
}

// e2eServe starts `scopegate serve` on free ports, API and ops alike, so
// that tests in parallel do not collide (on the ops listener's default,
// 9090, among others), with extra flags after those; "--ops-addr="
// disables the ops listener.
func e2eServe(t *testing.T, bin, dir string, env []string, extra ...string) *e2eServer {
	t.Helper()
	wantOps := !slices.Contains(extra, "--ops-addr=")
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0"}, extra...)...)
	cmd.Dir, cmd.Env = dir, env
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	s := &e2eServer{cmd: cmd, out: make(chan string, 100), exited: make(chan struct{})}
	sc := bufio.NewScanner(stdout)
	deadline := time.After(30 * time.Second)
	lines := make(chan string)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		<-readDone
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	forwarding := false // lines go to s.out (set below, in this goroutine)
	t.Cleanup(func() {
		cmd.Process.Kill()
		// Drain what the server printed, so that the reader reaches
		// EOF and Wait runs.
		drain := s.out
		if !forwarding {
			drain = lines
		}
		go func() {
			for range drain {
			}
		}()
		<-s.exited
	})
	for s.base == "" || wantOps && s.ops == "" {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "serve exited before listening")
			if rest, found := strings.CutPrefix(line, "listening on "); found {
				s.base = strings.Fields(rest)[0]
			}
			if rest, found := strings.CutPrefix(line, "ops listening on "); found {
				s.ops = strings.Fields(rest)[0]
			}
			s.out <- line
		case <-deadline:
			t.Fatal("serve did not start listening within 30s")
		}
	}
	forwarding = true
	go func() {
		for l := range lines {
			s.out <- l
		}
		close(s.out)
	}()
	return s
}

// do sends a request to the API's listener, validated against the OpenAPI
// document as every HTTP test's (apiValidated).
func (s *e2eServer) do(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	return e2eDoWith(t, apiValidated(t, http.DefaultClient), method, s.base+path, token, body)
}

// e2eDo sends a request anywhere, the ops listener included (which the
// API's document does not describe).
func e2eDo(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	return e2eDoWith(t, http.DefaultClient, method, url, token, body)
}

func e2eDoWith(t *testing.T, c *http.Client, method, url, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (s *e2eServer) login(t *testing.T, email, password string) string {
	t.Helper()
	code, body := s.do(t, "POST", "/api/session", "", `{"email":"`+email+`","password":"`+password+`"}`)
	require.Equal(t, http.StatusCreated, code, body)
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(body), &out))
	return out.Token
}

// stop sends SIGTERM and expects a clean exit.
func (s *e2eServer) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	// Read stdout to its end first (the process closes it on exit);
	// Wait runs after that (see exited).
	var rest []string
	timeout := time.After(15 * time.Second)
	for reading := true; reading; {
		select {
		case l, ok := <-s.out:
			if !ok {
				reading = false
				break
			}
			rest = append(rest, l)
		case <-timeout:
			t.Fatal("serve did not stop within 15s of SIGTERM")
		}
	}
	select {
	case <-s.exited:
		assert.NoError(t, s.waitErr, "serve should exit 0 after SIGTERM")
	case <-time.After(15 * time.Second):
		t.Fatal("serve closed its stdout but did not exit within 15s")
	}
	assert.Contains(t, strings.Join(rest, "\n"), "shutting down")
}

// TestE2EPostgres drives the real binary the way an operator would: migrate,
// create an organization and an admin, serve, log in over HTTP, use a few
// routes, and stop it with SIGTERM.
func TestE2EPostgres(t *testing.T) {
	bin := e2eBinary(t)
	url, drop, err := migration.ThrowawayDatabase(context.Background(), pgtest.ServerURL(t), "scopegate_e2e_")
	require.NoError(t, err)
	t.Cleanup(func() { drop(context.Background()) })
	dir := t.TempDir()
	env := e2eEnv("DATABASE_URL=" + url)

	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "serve must refuse to start while migrations are pending")
	assert.Contains(t, string(out), "scopegate migrate up")

	assert.Contains(t, e2eRun(t, bin, dir, env, "migrate", "up"), "applied")
	// From here on, as in production: migrations and grants as the schema
	// owner, everything else as the application role.
	const appRole = "scopegate_e2e_app"
	assert.Contains(t, e2eRun(t, bin, dir, e2eEnv("MIGRATE_DATABASE_URL="+url, "SCOPEGATE_APP_PASSWORD="+appRole),
		"db", "grant", "--role", appRole), "role "+appRole)
	env = e2eEnv("DATABASE_URL="+pgtest.AsRole(url, appRole), "MIGRATE_DATABASE_URL="+url)
	assert.Contains(t, e2eRun(t, bin, dir, env, "migrate", "status"), "applied")
	assert.Contains(t, e2eRun(t, bin, dir, env, "org", "create", "--name", "Acme", "--slug", "acme"), "created organization")
	assert.Contains(t, e2eRun(t, bin, dir, env, "user", "create", "--org", "acme", "--email", "boss@acme.test",
		"--name", "Boss", "--role", "admin", "--password", "long enough password"), "created user")

	s := e2eServe(t, bin, dir, env)
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
	code, _ = s.do(t, "GET", "/api/jobs/999999", token, "")
	assert.Equal(t, http.StatusNotFound, code)
	code, _ = s.do(t, "GET", "/readyz", "", "")
	assert.Equal(t, http.StatusOK, code)
	s.stop(t)

	explain := e2eRun(t, bin, dir, env, "policy", "explain", "--user", "boss@acme.test", "--action", "job.create")
	assert.Contains(t, explain, "ALLOWED job.create")

	// A member cannot update the job (not a manager) nor see a draft.
	e2eRun(t, bin, dir, env, "user", "create", "--org", "acme", "--email", "m@acme.test",
		"--name", "M", "--role", "member", "--password", "long enough password")
	var job struct{ Data []struct{ ID int } }
	s2 := e2eServe(t, bin, dir, env)
	token = s2.login(t, "boss@acme.test", "long enough password")
	code, body = s2.do(t, "POST", "/api/jobs", token, `{"title":"Secret","company_id":`+itoa(company.Data.ID)+`}`)
	require.Equal(t, http.StatusCreated, code, body)
	_, body = s2.do(t, "GET", "/api/jobs?status=draft", token, "")
	require.NoError(t, json.Unmarshal([]byte(body), &job))
	require.Len(t, job.Data, 1)
	s2.stop(t)
	id := itoa(job.Data[0].ID)
	explain = e2eRun(t, bin, dir, env, "policy", "explain", "--user", "m@acme.test", "--action", "job.update", "--id", id)
	// The member cannot see the draft: explained by the row rule that
	// hides it, not by job.update's allow lists (the API answers 404).
	assert.Contains(t, explain, "DENIED job.update")
	assert.Contains(t, explain, "job "+id+" is HIDDEN from them")
	assert.Contains(t, explain, "row rule 3.5 manager and member")
	assert.NotContains(t, explain, "ALLOWED")
	hidden := e2eRun(t, bin, dir, env, "policy", "why-hidden", "--user", "m@acme.test", "--object", "job", "--id", id)
	assert.Contains(t, hidden, "HIDDEN from m@acme.test: rule 3.5")
	assert.Contains(t, hidden, "confirmed by the privacy rules")
}

// TestE2EEmbeddedDefault: `scopegate serve` in an empty directory with no
// DATABASE_URL creates ./scopegate.db, seeds the demo world, prints the demo
// logins, and answers for a demo user; the other organization's job is 404.
func TestE2EEmbeddedDefault(t *testing.T) {
	bin := e2eBinary(t)
	dir := t.TempDir()
	s := e2eServe(t, bin, dir, e2eEnv())
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
	_, missing := s.do(t, "GET", "/api/jobs/999999", token, "")
	assert.Equal(t, missing, hidden, "a hidden job answers exactly like a missing one")
	s.stop(t)
}
