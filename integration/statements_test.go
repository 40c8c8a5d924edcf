package integration

import (
	"fmt"
	"strings"
	"testing"
)

// stmtCase is one request with the exact number of statements it may send.
type stmtCase struct {
	method, path, body string
	who                string // token key; "" for none
	code               int
	// queries is the exact number of statements the request sends, other
	// than transaction control and the scope's settings (which travel with
	// the statement after them: see database.Counter).
	queries int
	why     string
}

// auth is the one statement that turns a bearer token into a scope.
const authStmts = 1

// read is the formula of issue 11 for a read: 1 to authenticate, 1 for the
// rows, 1 per preload edge.
func read(edges int) int { return authStmts + 1 + edges }

// TestStatementsPerRequest: issue 11. Every route sends an exact, known
// number of statements: 1 to authenticate, then what the route needs (1 for
// a read, plus 1 per preload edge). A change that adds a round trip to a
// route fails here, with the statements it sent.
func TestStatementsPerRequest(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{})
	a := w.a
	jobPath := fmt.Sprintf("/api/jobs/%d", a.pub.ID)
	const preload3 = "?preload=company,managers,notes.author"
	cases := []stmtCase{
		{method: "GET", path: "/healthz", code: 200, queries: 0, why: "no database"},
		{method: "GET", path: "/readyz", code: 200, queries: 0, why: "a ping on the pool, outside any scope"},
		{method: "GET", path: "/api/policy", who: "admin", code: 200, queries: authStmts, why: "the rules are in memory"},
		{method: "GET", path: "/api/preloads", who: "admin", code: 200, queries: authStmts, why: "the registry is in memory"},
		{method: "GET", path: "/api/me", who: "admin", code: 200, queries: read(1), why: "the user and its organization"},
		{method: "GET", path: "/api/jobs", who: "admin", code: 200, queries: read(0)},
		{method: "GET", path: "/api/jobs" + preload3, who: "admin", code: 200, queries: read(4), why: "company, managers, notes, notes.author"},
		{method: "GET", path: "/api/jobs" + preload3, who: "member", code: 200, queries: read(4)},
		{method: "GET", path: "/api/jobs" + preload3, who: "client", code: 200, queries: read(4)},
		{method: "GET", path: jobPath + preload3, who: "admin", code: 200, queries: read(4)},
		{method: "GET", path: jobPath + preload3, who: "manager", code: 200, queries: read(4)},
		{method: "GET", path: "/api/admin/jobs" + preload3 + ",creator", who: "admin", code: 200, queries: read(5)},
		{method: "GET", path: fmt.Sprintf("/api/admin/jobs/%d%s,creator", a.pub.ID, preload3), who: "admin", code: 200, queries: read(5)},
		{method: "GET", path: "/api/companies?preload=jobs", who: "admin", code: 200, queries: read(1)},
		{method: "GET", path: "/api/admin/companies?preload=jobs", who: "admin", code: 200, queries: read(1)},
		{method: "GET", path: fmt.Sprintf("/api/companies/%d", a.c1.ID), who: "admin", code: 200, queries: read(0)},
		{method: "GET", path: fmt.Sprintf("/api/companies/%d?preload=jobs", a.c1.ID), who: "client", code: 200, queries: read(1)},
		{method: "GET", path: "/api/users?preload=company", who: "admin", code: 200, queries: read(1)},
		{method: "GET", path: "/api/users", who: "client", code: 200, queries: read(0)},
		{method: "GET", path: fmt.Sprintf("/api/users/%d", a.users["manager"].ID), who: "member", code: 200, queries: read(0)},
		{method: "GET", path: fmt.Sprintf("/api/admin/users/%d?preload=company,managed_jobs", a.users["client"].ID), who: "admin", code: 200, queries: read(2)},
		{method: "GET", path: fmt.Sprintf("/api/admin/users/%d?preload=company,managed_jobs", a.users["manager"].ID), who: "admin", code: 200, queries: read(1),
			why: "a user of no company: ent loads no company"},
		{method: "GET", path: jobPath + "/notes?preload=author", who: "admin", code: 200, queries: read(1),
			why: "a page with notes proves the job visible: no separate job lookup"},
		{method: "GET", path: fmt.Sprintf("/api/jobs/%d/notes", a.pub2.ID), who: "admin", code: 200, queries: read(1),
			why: "an empty page: the job is looked up to tell an empty list from a hidden job"},
		{method: "GET", path: fmt.Sprintf("/api/jobs/%d/notes", a.draftHidden.ID), who: "member", code: 404, queries: read(1),
			why: "a hidden job costs what an empty page costs"},
		{method: "GET", path: fmt.Sprintf("/api/jobs/%d", w.b.pub.ID), who: "admin", code: 404, queries: read(0),
			why: "another tenant's row costs what a missing one costs"},

		// Writes: the statements each mutation needs, in order.
		{method: "POST", path: "/api/jobs", who: "admin", code: 201, queries: authStmts + 6,
			body: fmt.Sprintf(`{"title":"new","company_id":%d,"status":"draft","manager_ids":[%d]}`, a.c1.ID, a.users["manager"].ID),
			why:  "link checks of organization, company, creator and managers; the insert; the manager links"},
		{method: "PATCH", path: jobPath, who: "admin", code: 200, queries: authStmts + 6, body: `{"title":"renamed"}`,
			why: "the job and its managers (policy), the rows the update may touch and their managers (mutation rule), the update, the re-read"},
		{method: "POST", path: jobPath + "/notes", who: "admin", code: 201, queries: authStmts + 6, body: `{"body":"hello","internal":false}`,
			why: "the job (policy), link checks of organization, job and author, the job's visibility for the new note, the insert"},
		{method: "PATCH", path: fmt.Sprintf("/api/notes/%d", a.publicNote.ID), who: "admin", code: 200, queries: authStmts + 4, body: `{"body":"edited"}`,
			why: "the note (policy), the rows the update may touch, the update, the re-read"},
		{method: "DELETE", path: fmt.Sprintf("/api/notes/%d", a.hiddenNote.ID), who: "admin", code: 204, queries: authStmts + 3,
			why: "the note (policy), the rows the delete may touch, the delete"},
		{method: "POST", path: "/api/companies", who: "admin", code: 201, queries: authStmts + 2, body: `{"name":"Newco"}`,
			why: "the organization link check, the insert"},
		{method: "PATCH", path: fmt.Sprintf("/api/companies/%d", a.c2.ID), who: "admin", code: 200, queries: authStmts + 4, body: `{"name":"C2b"}`,
			why: "the company (policy), the rows the update may touch, the update, the re-read"},
		{method: "POST", path: "/api/users", who: "admin", code: 201, queries: authStmts + 2,
			body: `{"email":"new@a.test","name":"New","role":"member","password":"a long enough password"}`,
			why:  "the organization link check, the insert"},
		{method: "PATCH", path: fmt.Sprintf("/api/users/%d", a.users["member"].ID), who: "admin", code: 200, queries: authStmts + 4, body: `{"name":"Member"}`,
			why: "the user (policy), the rows the update may touch, the update, the re-read"},
		{method: "DELETE", path: fmt.Sprintf("/api/jobs/%d", a.archived.ID), who: "admin", code: 204, queries: authStmts + 7,
			why: "the job (policy), its notes and the rows their delete may touch, the notes' delete, the rows the job's delete may touch and their managers, the delete"},
		{method: "DELETE", path: "/api/session", who: "member", code: 204, queries: authStmts + 1, why: "the session's delete"},
		{method: "POST", path: "/api/session", code: 201, queries: 3, body: fmt.Sprintf(`{"email":%q,"password":%q}`, a.users["manager"].Email, apiPassword),
			why: "the user by email, the user link check, the session's insert"},
	}
	for _, c := range cases {
		w.db.Counter.Reset()
		r := w.do(t, c.method, c.path, w.tokens[c.who], c.body)
		if r.code != c.code {
			t.Errorf("%s %s as %q: %d %s", c.method, c.path, c.who, r.code, r.body)
			continue
		}
		if got := w.db.Counter.Queries(); got != c.queries {
			t.Errorf("%s %s as %q sends %d statements, want %d (%s):\n  %s", c.method, c.path, c.who, got, c.queries, c.why,
				strings.Join(w.db.Counter.Statements(), "\n  "))
		}
	}
}
