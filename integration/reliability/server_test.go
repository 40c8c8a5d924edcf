package reliability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaryOnce builds cmd/scopegate once for the package's tests.
var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
	binaryDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "scopegate-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binaryDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// scopegateBinary returns the path of cmd/scopegate, built on first use.
func scopegateBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		binaryPath = filepath.Join(binaryDir, "scopegate")
		cmd := exec.Command("go", "build", "-o", binaryPath, "../../cmd/scopegate")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			binaryErr = fmt.Errorf("go build: %w\n%s", err, out.String())
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return binaryPath
}

// server is a running `scopegate serve` process.
type server struct {
	cmd  *exec.Cmd
	base string // the API's listener, http://host:port
	ops  string // the ops listener (/metrics)
	log  string // the server's log file (stderr)
	// done is closed when stdout reached EOF, which os/exec requires
	// before Wait; exited when Wait returned, with its error in waitErr.
	done    chan struct{}
	exited  chan struct{}
	waitErr error
	mu      sync.Mutex
	stdout  []string
}

// startServer runs `scopegate serve` on free ports against databaseURL,
// with extra flags, and waits until both listeners are up.
func startServer(t *testing.T, databaseURL string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0", "--log-format", "json"}, extra...)
	cmd := exec.Command(scopegateBinary(t), args...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "MIGRATE_DATABASE_URL=") && !strings.HasPrefix(kv, "SCOPEGATE_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "DATABASE_URL="+databaseURL)
	cmd.Dir = t.TempDir()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: filepath.Join(cmd.Dir, "serve.log"), done: make(chan struct{}), exited: make(chan struct{})}
	logFile, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.mu.Lock()
			s.stdout = append(s.stdout, sc.Text())
			s.mu.Unlock()
			select {
			case lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		<-s.done // os/exec: every read of the pipe ends before Wait
		s.waitErr = cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-s.exited
	})
	deadline := time.After(60 * time.Second)
	for s.base == "" || s.ops == "" {
		select {
		case line := <-lines:
			if rest, ok := strings.CutPrefix(line, "ops listening on "); ok {
				s.ops = strings.Fields(rest)[0]
			} else if rest, ok := strings.CutPrefix(line, "listening on "); ok {
				s.base = strings.Fields(rest)[0]
			}
		case <-s.exited:
			t.Fatalf("serve exited before listening (%v):\n%s", s.waitErr, s.logTail())
		case <-deadline:
			t.Fatalf("serve did not start listening within 60s:\n%s", s.logTail())
		}
	}
	return s
}

// signal sends sig to the server process.
func (s *server) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// wait waits up to d for the process to exit and returns its error; it
// fails the test if it did not exit.
func (s *server) wait(t *testing.T, d time.Duration) error {
	t.Helper()
	select {
	case <-s.exited:
		return s.waitErr
	case <-time.After(d):
		t.Fatalf("serve did not exit within %s:\n%s", d, s.logTail())
		return nil
	}
}

// output is what the server printed on stdout so far.
func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.stdout, "\n")
}

// logTail is the end of the server's log, for failure messages.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// answer is one HTTP exchange as a test sees it.
type answer struct {
	status     int
	body       []byte
	retryAfter string
	err        error // a transport error: no answer at all
	took       time.Duration
}

// httpClient keeps up to n idle connections to the server, so that n
// clients reuse theirs, and gives up on any request after timeout (a hang
// is a failure, not a wait).
func httpClient(n int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		MaxIdleConns: n, MaxIdleConnsPerHost: n, IdleConnTimeout: time.Minute,
	}}
}

// send sends one request.
func send(ctx context.Context, c *http.Client, method, url, token, body string) answer {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	res, err := c.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, body: b, retryAfter: res.Header.Get("Retry-After"), err: err, took: time.Since(start)}
}

// errorCode is the code of an error answer's body ("" if none).
func (a answer) errorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(a.body, &e)
	return e.Error.Code
}

// login signs in and returns the bearer token.
func login(t *testing.T, base, email, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	a := send(context.Background(), http.DefaultClient, "POST", base+"/api/session", "", string(body))
	if a.err != nil || a.status != http.StatusCreated {
		t.Fatalf("login %s: %d %v %s", email, a.status, a.err, a.body)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil || out.Token == "" {
		t.Fatalf("login %s: %s", email, a.body)
	}
	return out.Token
}
