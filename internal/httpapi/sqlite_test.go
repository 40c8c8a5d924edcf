package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// The embedded SQLite database, the server's default, takes every write
// route: the repositories read a row FOR UPDATE before they change or
// delete it, which ent refuses on SQLite unless the generated ForUpdate
// leaves the clause out there (ent/template/lock.tmpl). Every PATCH and
// DELETE answered 500 before.
func TestEmbeddedSQLiteUpdatesAndDeletes(t *testing.T) {
	s, _, _ := demoServer(t, Config{})
	admin := loginAs(t, s, "admin@acme.test")
	first := func(path string) int {
		t.Helper()
		rec := send(s, "GET", path, admin, "", "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var out struct {
			Data []struct{ ID int }
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out))
		require.NotEmpty(t, out.Data, path)
		return out.Data[0].ID
	}
	job := first("/api/jobs")
	company := first("/api/companies")
	note := first(fmt.Sprintf("/api/jobs/%d/notes", job))
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"PATCH", fmt.Sprintf("/api/jobs/%d", job), `{"title":"Renamed on SQLite"}`, http.StatusOK},
		{"PATCH", fmt.Sprintf("/api/companies/%d", company), `{"name":"Renamed company"}`, http.StatusOK},
		{"PATCH", fmt.Sprintf("/api/notes/%d", note), `{"body":"edited"}`, http.StatusOK},
		{"DELETE", fmt.Sprintf("/api/notes/%d", note), "", http.StatusNoContent},
		{"DELETE", fmt.Sprintf("/api/jobs/%d", job), "", http.StatusNoContent},
	} {
		rec := send(s, c.method, c.path, admin, c.body, "")
		require.Equal(t, c.want, rec.Code, "%s %s: %s", c.method, c.path, rec.Body.String())
	}
}
