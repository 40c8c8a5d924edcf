package integration

import (
	"os"
	"testing"

	"github.com/scopegate/scopegate/integration/binary"
)

// TestMain removes, after the tests, the scopegate binary that the
// end-to-end tests build once and share (binary.Main).
func TestMain(m *testing.M) { os.Exit(binary.Main(m)) }
