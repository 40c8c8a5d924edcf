package httpapi

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// designSection returns section n of docs/design.md, heading included.
func designSection(t *testing.T, n string) string {
	t.Helper()
	b, err := os.ReadFile("../../docs/design.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n## "+n+". ")
	if i < 0 {
		t.Fatalf("docs/design.md has no section %s", n)
	}
	section := text[i+1:]
	if j := strings.Index(section, "\n## "); j >= 0 {
		section = section[:j]
	}
	return section
}

// TestDesignNamesEveryRoute: every path of the OpenAPI document (which
// TestOpenAPIListsEveryRoute holds to the server's routes) is named in
// docs/design.md section 6, the API's contract; an admin surface path by
// its collection, since the table says "(and `/{id}`)" once for them all.
// The table is written by hand and would otherwise fall behind a new
// route without a word.
func TestDesignNamesEveryRoute(t *testing.T) {
	section := designSection(t, "6")
	var doc struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Paths) < 10 {
		t.Fatalf("the OpenAPI document has only %d paths", len(doc.Paths))
	}
	for path := range doc.Paths {
		named := path
		if strings.HasPrefix(path, "/api/admin/") {
			named = strings.TrimSuffix(path, "/{id}")
		}
		if !strings.Contains(section, named+"`") && !strings.Contains(section, named+" ") {
			t.Errorf("docs/design.md section 6 does not name %s", named)
		}
	}
}
