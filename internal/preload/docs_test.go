package preload

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/preloads.md from the registry")

// TestDocsCurrent fails when docs/preloads.md no longer matches the registry.
// Regenerate it with `go test ./internal/preload -run TestDocsCurrent -update`
// (or `go run ./cmd/scopegate preload list --format markdown > docs/preloads.md`).
func TestDocsCurrent(t *testing.T) {
	const path = "../../docs/preloads.md"
	var b strings.Builder
	if err := Render(&b, "markdown"); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (generate it with -update)", err)
	}
	if string(got) != b.String() {
		t.Fatalf("%s is stale: run `go test ./internal/preload -run TestDocsCurrent -update` and commit it", path)
	}
}
