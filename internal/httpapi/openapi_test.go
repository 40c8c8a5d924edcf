package httpapi

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIListsEveryRoute: the document names every route the server
// registers, and nothing else, so a new route cannot be left out of it
// (docs/design.md section 11).
func TestOpenAPIListsEveryRoute(t *testing.T) {
	s := newTestServer(t, nil)
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	var registered []string
	for _, p := range s.patterns {
		if p == "/" { // the catch-all: every other path is 404
			continue
		}
		registered = append(registered, p)
	}
	if len(registered) < 30 {
		t.Fatalf("only %d routes registered: %v", len(registered), registered)
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %q is registered but not in openapi.json (add it to openapigen's ops and run go generate ./internal/httpapi)", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.json documents %q, which the server does not register", d)
		}
	}
}
