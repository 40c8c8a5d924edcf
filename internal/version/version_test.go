package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	i := Get()
	if i.Go != runtime.Version() {
		t.Errorf("Go = %q, want %q", i.Go, runtime.Version())
	}
	if i.Version == "" {
		t.Error("empty version")
	}
	s := i.String()
	for _, want := range []string{i.Version, i.Go} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
}

func TestStringNamesWhatIsMissing(t *testing.T) {
	got := Info{Version: "v1.2.3", Revision: "abc", Time: "2026-01-02T03:04:05Z", Modified: true, Go: "go1.26"}.String()
	if want := "v1.2.3 abc (modified) 2026-01-02T03:04:05Z go1.26"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got = Info{Version: "(devel)", Go: "go1.26"}.String()
	if want := "(devel) unknown revision unknown time go1.26"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
