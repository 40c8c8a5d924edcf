package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/scopegate/scopegate/internal/preload"
)

// schemaName is the OpenAPI schema of a preload entity: "job" -> "Job".
func schemaName(e preload.Entity) string { return strings.ToUpper(string(e[:1])) + string(e[1:]) }

// TestOpenAPIDescribesEveryRegistryEdge: every edge the preload registry
// lets a client load, on either surface, is a property of its entity's
// "edges" object in the OpenAPI document, holding the target's schema (one,
// or a list). The edges objects allow no other property, so an edge
// missing there makes every answer that loads it invalid against the
// document, which only a test that happens to request that preload would
// see.
func TestOpenAPIDescribesEveryRegistryEdge(t *testing.T) {
	type ref struct {
		Ref   string `json:"$ref"`
		Items *ref   `json:"items"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties struct {
					Edges struct {
						Properties map[string]ref `json:"properties"`
					} `json:"edges"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	described := preload.Describe()
	if len(described) == 0 {
		t.Fatal("the registry describes no edge: the test proves nothing")
	}
	for _, d := range described {
		entity := schemaName(d.Entity)
		s, ok := doc.Components.Schemas[entity]
		if !ok {
			t.Errorf("%s.%s: openapi.json has no schema %s", d.Entity, d.Edge, entity)
			continue
		}
		p, ok := s.Properties.Edges.Properties[d.Edge]
		if !ok {
			t.Errorf("%s.%s (%s surface): not in %s.edges of openapi.json (add it in openapigen and run go generate ./internal/httpapi)", d.Entity, d.Edge, d.Surface, entity)
			continue
		}
		if p.Items != nil {
			p = *p.Items
		}
		if want := "#/components/schemas/" + schemaName(d.Target); p.Ref != want {
			t.Errorf("%s.%s: openapi.json says %q, the registry's target is %s", d.Entity, d.Edge, p.Ref, want)
		}
	}
}
