// Package binary runs scopegate the way an operator does, as a separate
// process, for the tests that must see it from outside: the end-to-end
// tests (integration), the fault tests (integration/reliability) and the
// load benchmark (integration/load). It owns every step between a test and
// such a process: building a binary once per test process, running a
// one-shot command, starting a server on free ports and waiting for the
// addresses it prints, reading its stdout and stderr, signalling it,
// waiting for its exit, and the HTTP exchanges with it (Send, Login).
//
// It exists because each of those harnesses used to carry its own copy,
// and the copies drifted: one called (*exec.Cmd).Wait while a goroutine
// still read the stdout pipe, which os/exec forbids, and TestE2EPostgres
// lost the server's output to it. Here stdout is read to its end before
// Wait, in one place.
package binary

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// ScopegatePackage is the import path of the scopegate command.
const ScopegatePackage = "github.com/scopegate/scopegate/cmd/scopegate"

// builds holds the binaries built in this test process: each package is
// built once, on first use, into dir, which Main removes at the end.
var builds struct {
	mu    sync.Mutex
	dir   string
	byPkg map[string]*build
}

// build is one package's binary; once guards the go build, so that tests
// in parallel wait for the same build rather than race to it.
type build struct {
	once sync.Once
	path string
	err  error
}

// Main runs a test binary's tests and then removes the binaries they built.
// A package whose tests call Build or Scopegate has
//
//	func TestMain(m *testing.M) { os.Exit(binary.Main(m)) }
//
// Without it Build fails: a binary built per test would cost a go build
// each, and one built per process would be left behind in the temporary
// directory.
func Main(m *testing.M) int {
	dir, err := os.MkdirTemp("", "scopegate-binaries-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "binary.Main:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	builds.mu.Lock()
	builds.dir = dir
	builds.mu.Unlock()
	return m.Run()
}

// Build returns the path of the binary of the Go package pkg (an import
// path in this module), built on its first use in this test process and
// reused by every later test.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	builds.mu.Lock()
	dir := builds.dir
	b := builds.byPkg[pkg]
	if b == nil && dir != "" {
		if builds.byPkg == nil {
			builds.byPkg = map[string]*build{}
		}
		b = &build{}
		builds.byPkg[pkg] = b
	}
	builds.mu.Unlock()
	if dir == "" {
		tb.Fatalf("binary.Build(%s): the package's TestMain must call binary.Main", pkg)
	}
	b.once.Do(func() {
		// A directory per package, so that the binary keeps its
		// command's name (scopegate, floor) whatever else is built.
		sub, err := os.MkdirTemp(dir, "build-")
		if err != nil {
			b.err = fmt.Errorf("go build %s: %w", pkg, err)
			return
		}
		b.path = filepath.Join(sub, path.Base(pkg))
		out, err := exec.Command("go", "build", "-o", b.path, pkg).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		tb.Fatal(b.err)
	}
	return b.path
}

// Scopegate returns the path of the scopegate binary (see Build).
func Scopegate(tb testing.TB) string {
	tb.Helper()
	return Build(tb, ScopegatePackage)
}
