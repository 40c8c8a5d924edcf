package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/internal/logging/logtest"
	"github.com/scopegate/scopegate/internal/version"
)

// leaves calls fn with every leaf command and its path.
func leaves(cmd *command, path []string, fn func(*command, []string)) {
	if cmd.subs == nil {
		fn(cmd, path)
		return
	}
	for _, s := range cmd.subs {
		leaves(s, append(append([]string(nil), path...), s.name), fn)
	}
}

// Every flag of every command has an environment variable, named in its
// --help (docs/design.md section 11), but the confirmations that must be typed.
func TestEveryFlagHasAnEnvironmentVariable(t *testing.T) {
	n := 0
	leaves(root, []string{root.name}, func(cmd *command, path []string) {
		fs := newFlagSet(path)
		setupLeaf(cmd, fs)
		_, stdout, _ := runCLI(t, nil, append(path[1:], "--help")...)
		// The flags' entries, not an example in the description.
		if i := strings.Index(stdout, "\nFlags:\n"); i >= 0 {
			stdout = stdout[i:]
		}
		fs.VisitAll(func(f *flag.Flag) {
			n++
			if noEnv[f.Name] {
				return
			}
			i := strings.Index(stdout, "  --"+f.Name+" ")
			if i < 0 {
				i = strings.Index(stdout, "  --"+f.Name+"\n")
			}
			require.GreaterOrEqual(t, i, 0, "%s --help lacks --%s:\n%s", strings.Join(path, " "), f.Name, stdout)
			entry := stdout[i:]
			if j := strings.Index(entry[2:], "\n  --"); j >= 0 {
				entry = entry[:j+2]
			}
			if name := flagEnv(path, f.Name); name != "" {
				assert.Contains(t, entry, "($"+name+")", "%s --%s", strings.Join(path, " "), f.Name)
			} else {
				assert.Regexp(t, `\$[A-Z_]+`, entry, "%s --%s names no variable", strings.Join(path, " "), f.Name)
			}
		})
	})
	assert.Greater(t, n, 50)
}

// A variable sets its flag; the flag, given, beats it; a bad value is a
// usage error that names the variable.
func TestEnvSetsFlags(t *testing.T) {
	code, stdout, stderr := runCLI(t, map[string]string{"SCOPEGATE_OBJECT": "company"}, "policy", "list")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "company.create")
	assert.NotContains(t, stdout, "job.update")

	code, stdout, stderr = runCLI(t, map[string]string{"SCOPEGATE_OBJECT": "company"}, "policy", "list", "--object", "job")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "job.update")
	assert.NotContains(t, stdout, "company.create")

	code, stdout, stderr = runCLI(t, map[string]string{"SCOPEGATE_FORMAT": "json"}, "preload", "list")
	require.Equal(t, 0, code, stderr)
	assert.True(t, json.Valid([]byte(stdout)), "SCOPEGATE_FORMAT=json: %s", stdout)

	for _, c := range []struct {
		vars map[string]string
		args []string
		err  string
	}{
		{vars: map[string]string{"SCOPEGATE_BATCH_SIZE": "many"}, args: []string{"job", "run", "purge-sessions"}, err: `SCOPEGATE_BATCH_SIZE="many": parse error`},
		{vars: map[string]string{"SCOPEGATE_DRY_RUN": "perhaps"}, args: []string{"job", "run", "purge-sessions"}, err: "SCOPEGATE_DRY_RUN"},
		{vars: map[string]string{"SCOPEGATE_OLDER_THAN": "-1h"}, args: []string{"job", "run", "archive-stale"}, err: "--older-than must be positive"},
		{vars: map[string]string{envLogLevel: "loud"}, args: []string{"policy", "list"}, err: `SCOPEGATE_LOG_LEVEL="loud": log level must be debug, info, warn or error`},
		{vars: map[string]string{envLogFormat: "xml"}, args: []string{"policy", "list"}, err: `SCOPEGATE_LOG_FORMAT="xml": log format must be text or json`},
		{args: []string{"policy", "list", "--log-level", "loud"}, err: `invalid value "loud" for flag --log-level`},
	} {
		code, stdout, stderr := runCLI(t, c.vars, c.args...)
		if code != 2 || !strings.Contains(stderr, c.err) || stdout != "" {
			t.Errorf("%v %q: exit %d, stdout %q, stderr:\n%s", c.vars, c.args, code, stdout, stderr)
		}
	}
	// A good variable under a bad flag: the flag is what is wrong.
	code, _, stderr = runCLI(t, map[string]string{envLogLevel: "debug"}, "policy", "list", "--log-level", "loud")
	assert.Equal(t, 2, code, stderr)
}

func TestVersion(t *testing.T) {
	want := "scopegate " + version.Get().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		assert.Equal(t, 0, code, stderr)
		assert.Equal(t, want, stdout, "%q", args)
		assert.Contains(t, stdout, runtime.Version())
	}
	code, _, stderr := runCLI(t, nil, "--version", "extra")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, `unexpected argument "extra"`)
	code, stdout, _ := runCLI(t, nil, "--help")
	assert.Equal(t, 0, code)
	assert.Regexp(t, `(?m)^  version +print the module version`, stdout)
}

// The system scope's per-query log is at debug level, and commands log at
// warn unless asked: an explanation prints no query lines.
func TestCommandsDoNotLogSystemScopeQueries(t *testing.T) {
	file := filepath.Join(t.TempDir(), "demo.db")
	code, _, stderr := runCLI(t, nil, "seed", "demo", "--db-file", file)
	require.Equal(t, 0, code, stderr)
	explain := []string{"policy", "explain", "--db-file", file, "--user", "member@acme.test", "--action", "job.update", "--id", "1"}
	hidden := []string{"policy", "why-hidden", "--db-file", file, "--user", "member@acme.test", "--object", "job", "--id", "1"}
	for _, args := range [][]string{explain, hidden} {
		code, stdout, stderr := runCLI(t, nil, args...)
		require.Contains(t, []int{0, 1}, code, stderr)
		require.NotEmpty(t, stdout)
		assert.NotContains(t, stderr, "system scope query", "%q", args)

		// --log-level debug (here by its variable) shows them.
		_, _, stderr = runCLI(t, map[string]string{envLogLevel: "debug"}, args...)
		assert.Contains(t, stderr, "system scope query", "%q at debug", args)
		_, _, stderr = runCLI(t, map[string]string{envLogLevel: "debug"}, append(args, "--log-level", "info")...)
		assert.NotContains(t, stderr, "system scope query", "%q: the flag beats the variable", args)
	}
}

// Running a batch job at the default level prints its summary and no
// query lines (PostgreSQL: the jobs lock their rows).
func TestJobRunDoesNotLogSystemScopeQueries(t *testing.T) {
	vars := map[string]string{envDatabaseURL: throwaway(t)}
	for _, args := range [][]string{{"migrate", "up"}, {"seed", "demo"}} {
		code, stdout, stderr := runCLI(t, vars, args...)
		require.Equal(t, 0, code, "%q\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	}
	code, stdout, stderr := runCLI(t, vars, "job", "run", "purge-sessions")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "purge-sessions run ")
	assert.NotContains(t, stderr, "system scope query")
	_, _, stderr = runCLI(t, vars, "job", "run", "purge-sessions", "--log-level", "debug", "--log-format", "json")
	assert.Contains(t, stderr, `"msg":"system scope query"`)
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		assert.True(t, json.Valid([]byte(l)), "not a JSON line: %q", l)
	}
}

// serve with its settings from the environment (--addr beating a bad
// SCOPEGATE_ADDR): JSON logs on stderr, only JSON lines, each request's
// lines carrying its request_id; /healthz names the build.
func TestServeFromEnvironmentLogsJSON(t *testing.T) {
	vars := map[string]string{
		envAddr:             "not an address",
		envOpsAddr:          "127.0.0.1:0",
		envLogFormat:        "json",
		"SCOPEGATE_DB_FILE": filepath.Join(t.TempDir(), "serve.db"),
	}
	var stdout, stderr logtest.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return vars[k] },
		lookupenv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, e) }()
	defer func() {
		cancel()
		select {
		case code := <-done:
			assert.Equal(t, 0, code, stderr.String())
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	listening := regexp.MustCompile(`(?m)^listening on (http://\S+) `)
	opsListening := regexp.MustCompile(`(?m)^ops listening on (http://\S+) `)
	var base, ops string
	require.Eventually(t, func() bool {
		m, o := listening.FindStringSubmatch(stdout.String()), opsListening.FindStringSubmatch(stdout.String())
		if m == nil || o == nil {
			return false
		}
		base, ops = m[1], o[1]
		return true
	}, 30*time.Second, 20*time.Millisecond, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)

	do := func(method, url, body, id string) (int, string) {
		req, err := http.NewRequest(method, url, strings.NewReader(body))
		require.NoError(t, err)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("X-Request-Id", id)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		return res.StatusCode, string(b)
	}
	code, body := do("POST", base+"/api/session", `{"email":"member@acme.test","password":"not the password"}`, "cli-failed-login")
	assert.Equal(t, http.StatusUnauthorized, code, body)
	code, body = do("GET", base+"/healthz", "", "cli-health")
	require.Equal(t, http.StatusOK, code, body)
	var health map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	assert.Equal(t, runtime.Version(), health["go"])
	assert.Equal(t, version.Get().Version, health["version"])
	code, body = do("GET", ops+"/metrics", "", "")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `scopegate_http_requests_total{method="POST",route="/api/session",status="401"} 1`)

	require.Eventually(t, func() bool { return strings.Contains(stderr.String(), `"request_id":"cli-health"`) },
		5*time.Second, 10*time.Millisecond)
	ids := map[string]int{}
	for _, m := range logtest.Lines(t, stderr.String()) {
		if id, ok := m["request_id"].(string); ok {
			ids[fmt.Sprint(m["msg"], " ", id)]++
		}
	}
	assert.Equal(t, 1, ids["failed login cli-failed-login"], "%v", ids)
	assert.Equal(t, 1, ids["request cli-failed-login"], "%v", ids)
	assert.Equal(t, 1, ids["request cli-health"], "%v", ids)
}
