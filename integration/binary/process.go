package binary

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// listenTimeout bounds how long a server may take to print its addresses:
// a migration check and a pool on a busy machine, not a hang.
const listenTimeout = 60 * time.Second

// Env is the environment of a binary: this process's, without the
// variables the binary would otherwise take its database or its settings
// from (DATABASE_URL, MIGRATE_DATABASE_URL, SCOPEGATE_*), and with extra
// ("NAME=value") after it. A test's binary reads only what the test gives
// it, whatever the shell that runs the tests has set.
func Env(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "MIGRATE_DATABASE_URL=") && !strings.HasPrefix(kv, "SCOPEGATE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// Command is how to run a binary: which one, where and with what
// environment. Its methods run it with arguments.
type Command struct {
	Path string // the binary, from Build or Scopegate
	// Dir is the working directory; if empty, each run gets a new
	// temporary one (never the test's package directory, where an
	// embedded database would be created).
	Dir string
	Env []string // the environment; Env() if nil
}

func (c Command) cmd(tb testing.TB, args []string) *exec.Cmd {
	cmd := exec.Command(c.Path, args...)
	cmd.Dir, cmd.Env = c.Dir, c.Env
	if cmd.Dir == "" {
		cmd.Dir = tb.TempDir()
	}
	if cmd.Env == nil {
		cmd.Env = Env()
	}
	return cmd
}

// Run runs the binary with args to its end and returns its exit code and
// its output, stdout and stderr interleaved. It fails the test only if the
// binary could not run at all.
func (c Command) Run(tb testing.TB, args ...string) (int, string) {
	tb.Helper()
	out, err := c.cmd(tb, args).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), string(out)
	}
	if err != nil {
		tb.Fatalf("%s %s: %v\n%s", filepath.Base(c.Path), strings.Join(args, " "), err, out)
	}
	return 0, string(out)
}

// MustRun runs the binary with args and returns its output; it fails the
// test unless the binary exits 0.
func (c Command) MustRun(tb testing.TB, args ...string) string {
	tb.Helper()
	code, out := c.Run(tb, args...)
	if code != 0 {
		tb.Fatalf("%s %s: exit status %d\n%s", filepath.Base(c.Path), strings.Join(args, " "), code, out)
	}
	return out
}

// Process is a running binary. Its stdout is kept line by line (Output),
// its stderr goes to a log file (LogTail). The test's cleanup kills it if
// it is still running.
type Process struct {
	name    string
	cmd     *exec.Cmd
	log     string // the stderr file
	started time.Time

	mu     sync.Mutex
	stdout []string
	// more is closed, and replaced, when a line arrives.
	more chan struct{}

	// exited is closed once Wait returned, which is only after stdout
	// reached EOF: os/exec's Wait closes the pipe, and calling it while a
	// read is under way loses the output. waitErr and took are Wait's
	// error and the time from Start to then.
	exited  chan struct{}
	waitErr error
	took    time.Duration
}

// Start starts the binary with args and returns at once.
func (c Command) Start(tb testing.TB, args ...string) *Process {
	tb.Helper()
	cmd := c.cmd(tb, args)
	p := &Process{name: filepath.Base(c.Path), cmd: cmd, more: make(chan struct{}), exited: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p.log = filepath.Join(tb.TempDir(), p.name+".log")
	logFile, err := os.Create(p.log)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = logFile
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		tb.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout = append(p.stdout, sc.Text())
			close(p.more)
			p.more = make(chan struct{})
			p.mu.Unlock()
		}
		io.Copy(io.Discard, stdout) // past a line too long to scan
		p.waitErr = cmd.Wait()
		p.took = time.Since(p.started)
		logFile.Close()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	return p
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Signal sends sig to the process.
func (p *Process) Signal(tb testing.TB, sig os.Signal) {
	tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("signal %s to %s: %v", sig, p.name, err)
	}
}

// Exited is closed once the process has exited and its stdout has been
// read to its end.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err is how the process exited (nil for status 0, an *exec.ExitError
// otherwise), once Exited is closed; nil before.
func (p *Process) Err() error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
		return nil
	}
}

// Took is how long the process ran, once Exited is closed; 0 before.
func (p *Process) Took() time.Duration {
	select {
	case <-p.exited:
		return p.took
	default:
		return 0
	}
}

// Wait waits up to d for the process to exit and returns Err; it fails the
// test if the process is still running then.
func (p *Process) Wait(tb testing.TB, d time.Duration) error {
	tb.Helper()
	select {
	case <-p.exited:
		return p.waitErr
	case <-time.After(d):
		tb.Fatalf("%s did not exit within %s:\n%s", p.name, d, p.LogTail())
		return nil
	}
}

// Output is what the process printed on stdout so far, its lines joined
// by newlines.
func (p *Process) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.stdout, "\n")
}

// LogTail is the end of what the process wrote on stderr, for failure
// messages.
func (p *Process) LogTail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// LogLines returns the lines the process wrote on stderr that contain
// substr, for a test to show what went wrong among many lines.
func (p *Process) LogLines(substr string) []string {
	b, _ := os.ReadFile(p.log)
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return out
}

// Server is a process that listens: it printed "listening on URL" and,
// when asked for, "ops listening on URL" (as `scopegate serve` and the
// load benchmark's floor do).
type Server struct {
	*Process
	Base string // the API's listener, http://host:port
	Ops  string // the ops listener, http://host:port; "" when not asked for
}

// Listen starts the binary with args and waits until it printed the
// address of its listener and, if ops, of its ops listener. It fails the
// test if the process exits first or takes longer than a minute.
func (c Command) Listen(tb testing.TB, ops bool, args ...string) *Server {
	tb.Helper()
	s := &Server{Process: c.Start(tb, args...)}
	seen := 0
	// listening reads the lines not seen yet and says whether every
	// address asked for is known; more is closed when there are others.
	listening := func() (ok bool, more <-chan struct{}) {
		s.mu.Lock()
		lines := s.stdout[seen:]
		seen, more = len(s.stdout), s.more
		s.mu.Unlock()
		for _, line := range lines {
			if rest, ok := strings.CutPrefix(line, "ops listening on "); ok {
				s.Ops = strings.Fields(rest)[0]
			} else if rest, ok := strings.CutPrefix(line, "listening on "); ok {
				s.Base = strings.Fields(rest)[0]
			}
		}
		return s.Base != "" && (!ops || s.Ops != ""), more
	}
	deadline := time.After(listenTimeout)
	for {
		ok, more := listening()
		if ok {
			return s
		}
		select {
		case <-more:
		case <-s.exited:
			// Every line was read before the exit: one last look.
			if ok, _ := listening(); ok {
				return s
			}
			tb.Fatalf("%s exited before listening (%v):\n%s", s.name, s.waitErr, s.LogTail())
		case <-deadline:
			tb.Fatalf("%s did not print its address within %s:\n%s", s.name, listenTimeout, s.LogTail())
		}
	}
}

// Serve starts `scopegate serve` (c.Path being the scopegate binary) on
// free ports, the API's and the ops listener's alike, so that servers in
// parallel do not collide (on the ops listener's default, 9090, among
// others), with extra flags after those, and waits until both listen.
// "--ops-addr=" among extra disables the ops listener, and Ops stays "".
func (c Command) Serve(tb testing.TB, extra ...string) *Server {
	tb.Helper()
	ops := !slices.Contains(extra, "--ops-addr=")
	return c.Listen(tb, ops, append([]string{"serve", "--addr", "127.0.0.1:0", "--ops-addr", "127.0.0.1:0"}, extra...)...)
}
