package integration

import (
	"flag"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/scopegate/scopegate/integration/binary"
)

// TestMain runs the tests four to a CPU unless -test.parallel says
// otherwise, and removes, after them, the scopegate binary that the
// end-to-end tests build once and share (binary.Main).
//
// Every test has its own database (pgtest.New), so they run in parallel.
// go test's default, one test per CPU, leaves the CPUs idle while a test
// waits on PostgreSQL: creating its database from the template, a commit's
// WAL flush, a round trip per statement.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.parallel" })
	if !set {
		if err := flag.Set("test.parallel", strconv.Itoa(testsPerCPU*runtime.GOMAXPROCS(0))); err != nil {
			panic(err)
		}
	}
	os.Exit(binary.Main(m))
}

// testsPerCPU is how many tests run at once per CPU by default.
const testsPerCPU = 4
