package httpapi

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/preload"
)

// TestJSONTimeWritesWhatTimeWrites: jsonTime is only a faster path to the
// bytes time.Time's MarshalJSON writes, for every precision and zone.
func TestJSONTimeWritesWhatTimeWrites(t *testing.T) {
	zones := []*time.Location{time.UTC, time.FixedZone("", 5*3600+1800), time.FixedZone("x", -7*3600)}
	for _, loc := range zones {
		for _, ts := range []time.Time{
			time.Date(2026, 11, 30, 12, 0, 0, 0, loc),
			time.Date(2026, 1, 2, 3, 4, 5, 123000000, loc),
			time.Date(1999, 12, 31, 23, 59, 59, 999999999, loc),
			time.Date(2026, 6, 1, 0, 0, 0, 1000, loc),
			time.Now().In(loc),
		} {
			want, err := json.Marshal(ts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(jsonTime(ts))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%v: jsonTime writes %s, time.Time %s", ts, got, want)
			}
		}
	}
}

// TestViewsRenderEveryRegistryEdge: every edge the preload registry lets a
// client load, on either surface, is written by the views under "edges",
// keyed by its name, with what was loaded: an edge the views forgot would
// be loaded, and paid for, and then dropped without a word.
func TestViewsRenderEveryRegistryEdge(t *testing.T) {
	types := map[preload.Entity]reflect.Type{
		preload.Job: reflect.TypeFor[*ent.Job](), preload.Company: reflect.TypeFor[*ent.Company](),
		preload.User: reflect.TypeFor[*ent.User](), preload.Note: reflect.TypeFor[*ent.Note](),
	}
	render := map[preload.Entity]func(any) any{
		preload.Job:     func(e any) any { return viewJob(e.(*ent.Job), nil) },
		preload.Company: func(e any) any { return viewCompany(e.(*ent.Company), nil) },
		preload.User:    func(e any) any { return viewUser(e.(*ent.User), nil) },
		preload.Note:    func(e any) any { return viewNote(e.(*ent.Note), nil) },
	}
	described := preload.Describe()
	if len(described) == 0 {
		t.Fatal("the registry describes no edge: the test proves nothing")
	}
	for _, d := range described {
		t.Run(d.Surface.String()+"/"+string(d.Entity)+"."+d.Edge, func(t *testing.T) {
			parentType, ok := types[d.Entity]
			if !ok || render[d.Entity] == nil {
				t.Fatalf("no view for entity %q", d.Entity)
			}
			parent := reflect.New(parentType.Elem())
			edge := edgeField(parent.Elem().FieldByName("Edges"), d.Edge)
			if !edge.IsValid() {
				t.Fatalf("%v has no edge %q", parentType, d.Edge)
			}
			childType, many := edge.Type(), edge.Kind() == reflect.Slice
			if many {
				childType = childType.Elem()
			}
			if childType != types[d.Target] {
				t.Fatalf("edge %q holds %v, the registry says %q", d.Edge, childType, d.Target)
			}
			child := reflect.New(childType.Elem())
			child.Elem().FieldByName("ID").SetInt(42)
			if many {
				edge.Set(reflect.Append(edge, child))
			} else {
				edge.Set(child)
			}

			b, err := json.Marshal(render[d.Entity](parent.Interface()))
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Edges map[string]json.RawMessage `json:"edges"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			raw, ok := got.Edges[d.Edge]
			if !ok {
				t.Fatalf("the view drops edge %q: %s", d.Edge, b)
			}
			want := `{"id":42,`
			if many {
				want = `[{"id":42,`
			}
			if !strings.HasPrefix(string(raw), want) {
				t.Errorf("edge %q renders %s, want the loaded %s", d.Edge, raw, childType)
			}
		})
	}
}

// edgeField is the field of an ent Edges struct that holds the edge
// named name (its JSON name).
func edgeField(edges reflect.Value, name string) reflect.Value {
	for i := range edges.NumField() {
		if tag, _, _ := strings.Cut(edges.Type().Field(i).Tag.Get("json"), ","); tag == name && edges.Type().Field(i).IsExported() {
			return edges.Field(i)
		}
	}
	return reflect.Value{}
}
