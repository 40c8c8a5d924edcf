package reliability

import (
	"os"
	"testing"

	"github.com/scopegate/scopegate/integration/binary"
)

func TestMain(m *testing.M) { os.Exit(binary.Main(m)) }

// startServer runs `scopegate serve` on free ports against databaseURL,
// logging JSON, with extra flags, and waits until both listeners are up.
func startServer(t *testing.T, databaseURL string, extra ...string) *binary.Server {
	t.Helper()
	sg := binary.Command{Path: binary.Scopegate(t), Env: binary.Env("DATABASE_URL=" + databaseURL)}
	return sg.Serve(t, append([]string{"--log-format", "json"}, extra...)...)
}
