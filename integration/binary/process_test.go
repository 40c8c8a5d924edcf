package binary

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childEnv names what this test binary does when a test runs it as the
// child process: the tests below run themselves rather than build
// scopegate, so that they check the harness alone, in a second.
const childEnv = "BINARYTEST_CHILD"

// childLines is how many lines the server child prints on its way out:
// far more than a pipe buffers, so that output read after Wait would be
// lost.
const childLines = 20_000

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "":
		os.Exit(m.Run())
	case "server":
		// As `scopegate serve`: its addresses, then work until SIGTERM.
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		fmt.Println("listening on http://127.0.0.1:1 (the API)")
		fmt.Println("ops listening on http://127.0.0.1:2 (metrics)")
		fmt.Fprintln(os.Stderr, "a log line")
		<-stop
		// In one burst, and exit at once: the end of it is still in
		// the pipe when the process is gone.
		w := bufio.NewWriterSize(os.Stdout, 1<<20)
		fmt.Fprintln(w, "shutting down")
		for i := range childLines {
			fmt.Fprintf(w, "line %d\n", i)
		}
		w.Flush()
		os.Exit(0)
	case "fails":
		fmt.Println("to stdout")
		fmt.Fprintln(os.Stderr, "to stderr: cannot start")
		os.Exit(3)
	case "mute":
		time.Sleep(time.Hour)
	}
}

func child(mode string) Command {
	return Command{Path: os.Args[0], Env: Env(childEnv + "=" + mode)}
}

func TestListenSignalWait(t *testing.T) {
	s := child("server").Listen(t, true)
	assert.Equal(t, "http://127.0.0.1:1", s.Base)
	assert.Equal(t, "http://127.0.0.1:2", s.Ops)
	assert.Nil(t, s.Err(), "running")
	s.Signal(t, syscall.SIGTERM)
	require.NoError(t, s.Wait(t, 30*time.Second))
	out := s.Output()
	assert.Contains(t, out, "shutting down")
	assert.True(t, strings.HasSuffix(out, fmt.Sprintf("line %d", childLines-1)), "stdout read to its end before Wait: ...%s", out[max(0, len(out)-100):])
	assert.Equal(t, 3+childLines, strings.Count(out, "\n")+1, "lines on stdout")
	assert.Contains(t, s.LogTail(), "a log line")
	assert.Positive(t, s.Took())
}

func TestRunExitStatus(t *testing.T) {
	code, out := child("fails").Run(t)
	assert.Equal(t, 3, code)
	assert.Contains(t, out, "to stdout")
	assert.Contains(t, out, "to stderr")
}

func TestCommandDefaults(t *testing.T) {
	t.Setenv("DATABASE_URL", "postgres://leaked")
	t.Setenv("SCOPEGATE_ADDR", "leaked")
	env := strings.Join(Env("DATABASE_URL=given"), "\n")
	assert.NotContains(t, env, "leaked")
	assert.Contains(t, env, "DATABASE_URL=given")

	cwd, err := os.Getwd()
	require.NoError(t, err)
	assert.NotEqual(t, cwd, Command{}.cmd(t, nil).Dir, "never the package directory")
}

// fatal stands in for a test, to see the harness fail one.
type fatal struct {
	testing.TB
	msg string
}

func (f *fatal) Helper() {}

func (f *fatal) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs fn with a stand-in for t and returns the message it failed
// the test with ("" if none).
func failure(t *testing.T, fn func(tb testing.TB)) string {
	f := &fatal{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f.msg
}

func TestListenFailsWhenTheProcessExits(t *testing.T) {
	msg := failure(t, func(tb testing.TB) { child("fails").Listen(tb, false) })
	assert.Contains(t, msg, "exited before listening")
	assert.Contains(t, msg, "cannot start", "with the log")
}

func TestWaitFailsWhenTheProcessRunsOn(t *testing.T) {
	p := child("mute").Start(t)
	msg := failure(t, func(tb testing.TB) { p.Wait(tb, 100*time.Millisecond) })
	assert.Contains(t, msg, "did not exit within 100ms")
	assert.Nil(t, p.Err())
}

func TestBuildWantsMain(t *testing.T) {
	msg := failure(t, func(tb testing.TB) { Build(tb, ScopegatePackage) })
	assert.Contains(t, msg, "TestMain must call binary.Main")
}
