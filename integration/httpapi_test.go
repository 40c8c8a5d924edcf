package integration

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/integration/pgtest"
	"github.com/scopegate/scopegate/internal/preload"
)

// Black-box tests of the HTTP contract of docs/design.md section 6. Helpers are in
// httpapi_helpers_test.go.

// apiVisible is what one actor of tenant A may see (docs/design.md section 3).
type apiVisible struct {
	jobs      []*ent.Job
	companies []*ent.Company
	users     []*ent.User
	pubNotes  []*ent.Note // the notes of a.pub; nil when the job is hidden
	notes     []*ent.Note // every note of the tenant the actor sees
}

func apiVisibility(a *apiTenant) map[string]apiVisible {
	u := a.users
	return map[string]apiVisible{
		"admin": {a.jobs(), a.companies(), a.allUsers(),
			[]*ent.Note{a.publicNote, a.internalNote}, a.notes()},
		"manager": {[]*ent.Job{a.pub, a.pub2, a.draftManaged}, a.companies(), a.allUsers(),
			[]*ent.Note{a.publicNote, a.internalNote}, []*ent.Note{a.publicNote, a.internalNote}},
		"member": {[]*ent.Job{a.pub, a.pub2}, a.companies(), a.allUsers(),
			[]*ent.Note{a.publicNote}, []*ent.Note{a.publicNote}},
		"client": {[]*ent.Job{a.pub}, []*ent.Company{a.c1}, []*ent.User{u["client"], u["manager"], u["inactive"]},
			[]*ent.Note{a.publicNote}, []*ent.Note{a.publicNote}},
		"banned": {nil, nil, []*ent.User{u["banned"]}, nil, nil},
	}
}

// apiReads checks one entity's two read routes for one actor: GET path
// lists exactly visible, in id order, on one page; GET path/{id} of each
// row of all is 200 with the row's id and check's fields when the row is
// visible, and the missing id's 404 when it is not.
func apiReads[T interface{ GetID() int }](t *testing.T, w *apiWorld, tok, path string, visible, all []T, check func(T, map[string]any)) {
	t.Helper()
	r := w.do(t, "GET", path, tok, "")
	apiStatus(t, r, http.StatusOK)
	items, cur := apiList(t, r)
	ids := apiIDs(t, items)
	assert.ElementsMatch(t, pgtest.IDs(visible...), ids, "%s", r)
	assert.True(t, sort.IntsAreSorted(ids), "a list is in id order: %v", ids)
	assert.Empty(t, cur, "no next_cursor on the only page")
	for _, row := range all {
		if !slices.Contains(pgtest.IDs(visible...), row.GetID()) {
			w.likeMissing(t, tok, "GET", row.GetID(), apiPathID(path+"/%d", ""))
			continue
		}
		r := w.do(t, "GET", fmt.Sprintf("%s/%d", path, row.GetID()), tok, "")
		apiStatus(t, r, http.StatusOK)
		d := apiData(t, r)
		assert.Equal(t, row.GetID(), apiInt(t, d["id"]))
		check(row, d)
	}
}

// TestHTTPReadsByRole: every read route of both surfaces for every role of
// tenant A: lists hold exactly the visible rows in id order, a visible row
// is 200, a hidden one is the missing id's 404, the admin surface and the
// policy are 403 for everyone but the admin.
func TestHTTPReadsByRole(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	vis := apiVisibility(a)
	for _, role := range apiRoles {
		t.Run(role, func(t *testing.T) {
			tok := w.tokens[role]
			v := vis[role]

			// jobs
			apiReads(t, w, tok, "/api/jobs", v.jobs, a.jobs(), func(j *ent.Job, d map[string]any) {
				assert.Equal(t, j.Title, d["title"])
				assert.Equal(t, string(j.Status), d["status"])
				assert.Equal(t, j.CompanyID, apiInt(t, d["company_id"]))
				assert.Equal(t, a.org.ID, apiInt(t, d["org_id"]))
				assert.NotContains(t, d, "edges", "no preload, no edges")
			})
			for _, st := range []job.Status{job.StatusDraft, job.StatusPublished, job.StatusArchived} {
				r := w.do(t, "GET", "/api/jobs?status="+string(st), tok, "")
				apiStatus(t, r, http.StatusOK)
				items, _ := apiList(t, r)
				want := []int{}
				for _, j := range v.jobs {
					if j.Status == st {
						want = append(want, j.ID)
					}
				}
				assert.ElementsMatch(t, want, apiIDs(t, items), "%s", r)
			}
			for _, j := range a.jobs() {
				if !slices.Contains(pgtest.IDs(v.jobs...), j.ID) {
					w.likeMissing(t, tok, "GET", j.ID, apiPathID("/api/jobs/%d/notes", ""))
					continue
				}
				r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/notes", j.ID), tok, "")
				apiStatus(t, r, http.StatusOK)
				notes, _ := apiList(t, r)
				want := []int{}
				for _, n := range v.notes {
					if n.JobID == j.ID {
						want = append(want, n.ID)
					}
				}
				assert.ElementsMatch(t, want, apiIDs(t, notes), "%s", r)
			}
			if v.pubNotes != nil {
				r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID), tok, "")
				notes, _ := apiList(t, r)
				assert.ElementsMatch(t, pgtest.IDs(v.pubNotes...), apiIDs(t, notes), "%s", r)
				for _, n := range notes {
					assert.Equal(t, a.pub.ID, apiInt(t, n["job_id"]))
					assert.Contains(t, n, "body")
					assert.Contains(t, n, "internal")
				}
			}

			// companies
			apiReads(t, w, tok, "/api/companies", v.companies, a.companies(), func(c *ent.Company, d map[string]any) {
				assert.Equal(t, c.Name, d["name"])
				assert.Equal(t, false, d["archived"])
			})

			// users
			apiReads(t, w, tok, "/api/users", v.users, a.allUsers(), func(u *ent.User, d map[string]any) {
				assert.Equal(t, u.Name, d["name"])
				assert.Equal(t, string(u.Role), d["role"])
			})

			// the admin surface and the policy
			adminPaths := []string{
				"/api/admin/jobs", fmt.Sprintf("/api/admin/jobs/%d", a.pub.ID),
				"/api/admin/companies", fmt.Sprintf("/api/admin/companies/%d", a.c1.ID),
				"/api/admin/users", fmt.Sprintf("/api/admin/users/%d", a.users[role].ID),
				"/api/policy",
			}
			for _, p := range adminPaths {
				r := w.do(t, "GET", p, tok, "")
				if role != "admin" {
					// The rule and check of these 403s: TestHTTPForbidden.
					apiErrorBody(t, r, http.StatusForbidden, "forbidden")
					continue
				}
				apiStatus(t, r, http.StatusOK)
			}
			if role == "admin" {
				for p, want := range map[string][]int{
					"/api/admin/jobs":      pgtest.IDs(a.jobs()...),
					"/api/admin/companies": pgtest.IDs(a.companies()...),
					"/api/admin/users":     pgtest.IDs(a.allUsers()...),
				} {
					r := w.do(t, "GET", p, tok, "")
					items, _ := apiList(t, r)
					assert.ElementsMatch(t, want, apiIDs(t, items), "%s", r)
				}
				for _, j := range a.jobs() {
					r := w.do(t, "GET", fmt.Sprintf("/api/admin/jobs/%d", j.ID), tok, "")
					apiStatus(t, r, http.StatusOK)
					assert.Equal(t, j.ID, apiInt(t, apiData(t, r)["id"]))
				}
			}
		})
	}
}

// TestHTTPMe: GET /api/me gives the user with their own unredacted contact
// fields, the organization, the role and what the policy lets them do.
func TestHTTPMe(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	every := []string{"job.read", "job.create", "job.update", "job.delete",
		"company.read", "company.create", "company.update", "company.delete",
		"note.create", "note.update", "note.delete", "note.internal",
		"user.read", "user.create", "user.update", "user.delete"}
	type canWant struct{ has, hasNot []string }
	wants := map[string]canWant{
		"manager": {has: []string{"job.read", "job.create", "job.update", "company.read", "note.create", "note.internal", "user.read", "user.update"},
			hasNot: []string{"job.delete", "company.create", "company.update", "company.delete", "user.create", "user.delete"}},
		"member": {has: []string{"job.read", "company.read", "note.create", "user.read", "user.update"},
			hasNot: []string{"job.create", "job.update", "job.delete", "company.create", "company.update", "company.delete", "note.internal", "user.create", "user.delete"}},
		"client": {has: []string{"job.read", "company.read", "user.read", "user.update"},
			hasNot: []string{"job.create", "job.update", "job.delete", "company.create", "company.update", "company.delete", "note.create", "user.create", "user.delete"}},
	}
	check := func(t *testing.T, tn *apiTenant, key, token string) {
		u := tn.users[key]
		r := w.do(t, "GET", "/api/me", token, "")
		apiStatus(t, r, http.StatusOK)
		d := apiData(t, r)
		assert.ElementsMatch(t, []string{"user", "org", "role", "can"}, slices.Collect(maps.Keys(d)))
		me, ok := d["user"].(map[string]any)
		require.True(t, ok, "%s", r)
		assert.Equal(t, u.ID, apiInt(t, me["id"]))
		assert.Equal(t, u.Email, me["email"], "their own email, unredacted")
		assert.Equal(t, u.Phone, me["phone"], "their own phone, unredacted")
		assert.Equal(t, u.Name, me["name"])
		assert.NotContains(t, me, "redacted")
		org, ok := d["org"].(map[string]any)
		require.True(t, ok, "%s", r)
		assert.Equal(t, tn.org.ID, apiInt(t, org["id"]))
		assert.Equal(t, tn.org.Name, org["name"])
		assert.Equal(t, tn.org.Slug, org["slug"])
		assert.Equal(t, string(u.Role), d["role"])
		can := apiStrings(t, d["can"])
		switch key {
		case "admin":
			assert.ElementsMatch(t, every, can, "an admin may do everything")
		case "banned":
			assert.ElementsMatch(t, []string{"user.read"}, can, "a banned user may only read themself")
		default:
			for _, a := range wants[key].has {
				assert.Contains(t, can, a, "%s may %s", key, a)
			}
			for _, a := range wants[key].hasNot {
				assert.NotContains(t, can, a, "%s may not %s", key, a)
			}
		}
	}
	for _, role := range apiRoles {
		t.Run(role, func(t *testing.T) { check(t, w.a, role, w.tokens[role]) })
	}
	t.Run("tenant B admin", func(t *testing.T) { check(t, w.b, "admin", w.tokens["b:admin"]) })
}

// TestHTTPPreloadsAndPolicy: GET /api/preloads lists the user surface for
// everyone and the admin surface too for admins; GET /api/policy lists and
// filters the rules (403 for non-admins is in TestHTTPForbidden).
func TestHTTPPreloadsAndPolicy(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	design := func(surfaces ...preload.Surface) []string {
		var out []string
		for _, s := range surfaces {
			out = append(out, designEntries(s)...)
		}
		return out
	}
	for _, who := range []string{"admin", "manager", "member", "client", "banned", "b:admin"} {
		t.Run(who, func(t *testing.T) {
			r := w.do(t, "GET", "/api/preloads", w.tokens[who], "")
			apiStatus(t, r, http.StatusOK)
			items, cur := apiList(t, r)
			assert.Empty(t, cur)
			var got []string
			for _, it := range items {
				for _, k := range []string{"entity", "surface", "edge", "target", "filter", "order"} {
					assert.Contains(t, it, k, "preload entry %v", it)
				}
				got = append(got, fmt.Sprintf("%v:%v.%v->%v", it["surface"], it["entity"], it["edge"], it["target"]))
			}
			want := design(preload.SurfaceUser)
			if who == "admin" || who == "b:admin" {
				want = design(preload.SurfaceUser, preload.SurfaceAdmin)
			}
			assert.ElementsMatch(t, want, got, "%s", r)
		})
	}

	tok := w.tokens["admin"]
	actions := func(r apiResp) []string {
		t.Helper()
		apiStatus(t, r, http.StatusOK)
		items, _ := apiList(t, r)
		var out []string
		for _, it := range items {
			for _, k := range []string{"object", "action", "allow", "deny", "description"} {
				assert.Contains(t, it, k, "rule %v", it)
			}
			out = append(out, fmt.Sprint(it["action"]))
		}
		return out
	}
	assert.Len(t, actions(w.do(t, "GET", "/api/policy", tok, "")), 16, "docs/design.md section 5 has 15 actions, plus note.internal")
	assert.ElementsMatch(t, []string{"job.create", "job.update", "note.create", "note.internal"},
		actions(w.do(t, "GET", "/api/policy?allow=role:manager", tok, "")), "which actions may a manager take")
	assert.ElementsMatch(t, []string{"job.read", "job.create", "job.update", "job.delete"},
		actions(w.do(t, "GET", "/api/policy?object=job", tok, "")))
	apiErrorBody(t, w.do(t, "GET", "/api/policy?role=manager", tok, ""), http.StatusBadRequest, "bad_request")
}

// TestHTTPListShapesAndPagination: {"data": [...]} with next_cursor while
// more rows follow, keyset pages in id order, cursors bound to their list,
// tenant and surface, limits, and relations under "edges" by edge name.
func TestHTTPListShapesAndPagination(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	admin := w.tokens["admin"]

	t.Run("pages", func(t *testing.T) {
		var got []int
		path := "/api/jobs?limit=2"
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10, "pagination does not end")
			r := w.do(t, "GET", path, admin, "")
			apiStatus(t, r, http.StatusOK)
			items, cur := apiList(t, r)
			got = append(got, apiIDs(t, items)...)
			if cur == "" {
				assert.Len(t, items, 1, "5 jobs in pages of 2: the last has 1")
				break
			}
			assert.Len(t, items, 2)
			path = "/api/jobs?limit=2&cursor=" + url.QueryEscape(cur)
		}
		assert.Equal(t, pgtest.IDs(a.jobs()...), got, "every job once, in id order")

		r := w.do(t, "GET", "/api/jobs?limit=5", admin, "")
		items, cur := apiList(t, r)
		assert.Len(t, items, 5)
		assert.Empty(t, cur, "a page that holds the rest has no next_cursor")
		assert.NotContains(t, string(r.body), "next_cursor")
	})

	t.Run("cursors are bound to their list", func(t *testing.T) {
		cursorOf := func(token, path string) string {
			r := w.do(t, "GET", path, token, "")
			apiStatus(t, r, http.StatusOK)
			_, cur := apiList(t, r)
			require.NotEmpty(t, cur, "%s", r)
			return url.QueryEscape(cur)
		}
		bCur := cursorOf(w.tokens["b:admin"], "/api/jobs?limit=1")
		userCur := cursorOf(admin, "/api/jobs?limit=1")
		pubCur := cursorOf(admin, "/api/jobs?limit=1&status=published")
		compCur := cursorOf(admin, "/api/companies?limit=1")
		for _, p := range []string{
			"/api/jobs?cursor=" + bCur,                // another tenant's
			"/api/admin/jobs?cursor=" + userCur,       // another surface's
			"/api/jobs?cursor=" + pubCur,              // another filter's
			"/api/jobs?status=draft&cursor=" + pubCur, // another filter's
			"/api/jobs?cursor=" + compCur,             // another entity's
			"/api/users?cursor=" + userCur,            // another entity's
			"/api/jobs?cursor=bm90LWEtY3Vyc29y",       // not a cursor
			fmt.Sprintf("/api/jobs/%d/notes?cursor=", a.pub.ID) + userCur,
		} {
			apiErrorBody(t, w.do(t, "GET", p, admin, ""), http.StatusBadRequest, "bad_request")
		}
	})

	t.Run("edges", func(t *testing.T) {
		r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d?preload=company,managers,notes.author", a.pub.ID), w.tokens["member"], "")
		apiStatus(t, r, http.StatusOK)
		d := apiData(t, r)
		e := apiEdges(t, d)
		assert.ElementsMatch(t, []string{"company", "managers", "notes"}, slices.Collect(maps.Keys(e)))
		co, ok := e["company"].(map[string]any)
		require.True(t, ok, "a unique edge is one object: %s", r)
		assert.Equal(t, a.c1.ID, apiInt(t, co["id"]))
		assert.Equal(t, []int{a.users["manager"].ID}, apiIDs(t, apiEdgeList(t, d, "managers")), "user surface: active managers only")
		notes := apiEdgeList(t, d, "notes")
		assert.Equal(t, []int{a.publicNote.ID}, apiIDs(t, notes))
		assert.Equal(t, a.users["member"].ID, apiInt(t, apiEdges(t, notes[0])["author"].(map[string]any)["id"]))

		// The user surface filters even for an admin; the admin surface
		// does not.
		r = w.do(t, "GET", fmt.Sprintf("/api/jobs/%d?preload=notes,managers", a.pub.ID), admin, "")
		d = apiData(t, r)
		assert.Equal(t, []int{a.publicNote.ID}, apiIDs(t, apiEdgeList(t, d, "notes")), "user surface: public notes only")
		assert.Equal(t, []int{a.users["manager"].ID}, apiIDs(t, apiEdgeList(t, d, "managers")))
		r = w.do(t, "GET", fmt.Sprintf("/api/admin/jobs/%d?preload=notes,managers,creator", a.pub.ID), admin, "")
		d = apiData(t, r)
		assert.ElementsMatch(t, []int{a.publicNote.ID, a.internalNote.ID}, apiIDs(t, apiEdgeList(t, d, "notes")))
		assert.ElementsMatch(t, pgtest.IDs(a.users["manager"], a.users["inactive"]), apiIDs(t, apiEdgeList(t, d, "managers")))
		assert.Equal(t, a.users["admin"].ID, apiInt(t, apiEdges(t, d)["creator"].(map[string]any)["id"]))

		r = w.do(t, "GET", fmt.Sprintf("/api/admin/users/%d?preload=managed_jobs,company", a.users["manager"].ID), admin, "")
		d = apiData(t, r)
		assert.ElementsMatch(t, pgtest.IDs(a.pub, a.draftManaged), apiIDs(t, apiEdgeList(t, d, "managed_jobs")))
		assert.NotContains(t, apiEdges(t, d), "company", "a manager has no company: no edge")

		r = w.do(t, "GET", fmt.Sprintf("/api/companies/%d?preload=jobs", a.c1.ID), w.tokens["member"], "")
		assert.Equal(t, []int{a.pub.ID}, apiIDs(t, apiEdgeList(t, apiData(t, r), "jobs")), "user surface: published jobs only")
		r = w.do(t, "GET", fmt.Sprintf("/api/admin/companies/%d?preload=jobs", a.c1.ID), admin, "")
		assert.ElementsMatch(t, pgtest.IDs(a.pub, a.draftManaged, a.draftHidden, a.archived),
			apiIDs(t, apiEdgeList(t, apiData(t, r), "jobs")))

		r = w.do(t, "GET", "/api/users?preload=company", w.tokens["manager"], "")
		items, _ := apiList(t, r)
		for _, it := range items {
			if apiInt(t, it["id"]) == a.users["client"].ID {
				assert.Equal(t, a.c1.ID, apiInt(t, apiEdges(t, it)["company"].(map[string]any)["id"]))
			}
		}

		r = w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/notes?preload=author", a.pub.ID), w.tokens["manager"], "")
		notes, _ = apiList(t, r)
		require.Len(t, notes, 2)
		for _, n := range notes {
			assert.Equal(t, apiInt(t, n["author_id"]), apiInt(t, apiEdges(t, n)["author"].(map[string]any)["id"]))
		}

		// Three levels, and duplicates merged.
		r = w.do(t, "GET", "/api/jobs?preload=company.jobs.managers,company,company.jobs", w.tokens["member"], "")
		apiStatus(t, r, http.StatusOK)
		items, _ = apiList(t, r)
		require.NotEmpty(t, items)
		for _, it := range items {
			co := apiEdges(t, it)["company"].(map[string]any)
			for _, j := range apiEdgeList(t, co, "jobs") {
				assert.Contains(t, apiEdges(t, j), "managers", "third level loaded")
			}
		}
	})

	t.Run("limits", func(t *testing.T) {
		ctx := pgtest.SystemContext(t)
		pgtest.MustTx(t, ctx, w.db.Client, func(tx *ent.Tx) error {
			bulk := make([]*ent.JobCreate, 250)
			for i := range bulk {
				bulk[i] = tx.Job.Create().SetOrgID(a.org.ID).SetCompanyID(a.c2.ID).SetTitle(fmt.Sprintf("bulk %d", i)).
					SetCreatedByID(a.users["admin"].ID)
			}
			tx.Job.CreateBulk(bulk...).SaveX(ctx)
			return nil
		})
		r := w.do(t, "GET", "/api/jobs", admin, "")
		items, cur := apiList(t, r)
		assert.Len(t, items, 50, "the default limit is 50")
		assert.NotEmpty(t, cur)
		r = w.do(t, "GET", "/api/jobs?limit=200", admin, "")
		items, cur = apiList(t, r)
		assert.Len(t, items, 200, "the largest limit is 200")
		assert.NotEmpty(t, cur)
		r = w.do(t, "GET", "/api/jobs?limit=200&cursor="+url.QueryEscape(cur), admin, "")
		items, cur = apiList(t, r)
		assert.Len(t, items, 55)
		assert.Empty(t, cur)
	})
}

// TestHTTPRedaction: redacted fields are absent and named in "redacted",
// for listed, fetched, written and preloaded objects alike.
func TestHTTPRedaction(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a

	// user objects: contact fields for admins and the user themself only.
	checkUser := func(t *testing.T, viewer string, obj map[string]any) {
		t.Helper()
		id := apiInt(t, obj["id"])
		self := id == a.users[viewer].ID
		if viewer == "admin" || self {
			assert.Contains(t, obj, "email", "%s sees the email of %d", viewer, id)
			assert.Contains(t, obj, "phone", "%s sees the phone of %d", viewer, id)
			assert.NotContains(t, obj, "redacted", "%s: nothing redacted on %d", viewer, id)
			return
		}
		assert.NotContains(t, obj, "email", "%s may not see the email of %d", viewer, id)
		assert.NotContains(t, obj, "phone", "%s may not see the phone of %d", viewer, id)
		assert.ElementsMatch(t, []string{"email", "phone"}, apiStrings(t, obj["redacted"]), "redacted of user %d for %s", id, viewer)
	}
	// job objects: salary_max hidden from clients.
	checkJob := func(t *testing.T, viewer string, obj map[string]any) {
		t.Helper()
		if viewer == "client" {
			assert.NotContains(t, obj, "salary_max")
			assert.Contains(t, apiStrings(t, obj["redacted"]), "salary_max")
			return
		}
		assert.Contains(t, obj, "salary_max", "%s sees salary_max", viewer)
		assert.NotContains(t, obj, "redacted")
	}

	for _, viewer := range []string{"admin", "manager", "member", "client", "banned"} {
		t.Run(viewer, func(t *testing.T) {
			tok := w.tokens[viewer]
			r := w.do(t, "GET", "/api/users", tok, "")
			items, _ := apiList(t, r)
			require.NotEmpty(t, items)
			for _, it := range items {
				checkUser(t, viewer, it)
			}
			for _, it := range items {
				r := w.do(t, "GET", fmt.Sprintf("/api/users/%d", apiInt(t, it["id"])), tok, "")
				checkUser(t, viewer, apiData(t, r))
			}
			if viewer == "banned" {
				return
			}
			r = w.do(t, "GET", "/api/jobs?preload=managers,notes.author,company", tok, "")
			items, _ = apiList(t, r)
			require.NotEmpty(t, items)
			for _, j := range items {
				checkJob(t, viewer, j)
				for _, m := range apiEdgeList(t, j, "managers") {
					checkUser(t, viewer, m)
				}
				for _, n := range apiEdgeList(t, j, "notes") {
					apiCheckAuthor(t, viewer, n, checkUser)
				}
			}
			r = w.do(t, "GET", fmt.Sprintf("/api/jobs/%d?preload=managers", a.pub.ID), tok, "")
			d := apiData(t, r)
			checkJob(t, viewer, d)
			managers := apiEdgeList(t, d, "managers")
			require.NotEmpty(t, managers)
			for _, m := range managers {
				checkUser(t, viewer, m)
			}
			r = w.do(t, "GET", fmt.Sprintf("/api/companies/%d?preload=jobs.managers", a.c1.ID), tok, "")
			for _, j := range apiEdgeList(t, apiData(t, r), "jobs") {
				checkJob(t, viewer, j)
				for _, m := range apiEdgeList(t, j, "managers") {
					checkUser(t, viewer, m)
				}
			}
			r = w.do(t, "GET", fmt.Sprintf("/api/jobs/%d/notes?preload=author", a.pub.ID), tok, "")
			notes, _ := apiList(t, r)
			for _, n := range notes {
				apiCheckAuthor(t, viewer, n, checkUser)
			}
			// Their own row, written: still theirs to read.
			r = w.do(t, "PATCH", fmt.Sprintf("/api/users/%d", a.users[viewer].ID), tok, `{"phone":"555-new"}`)
			apiStatus(t, r, http.StatusOK)
			d = apiData(t, r)
			assert.Equal(t, "555-new", d["phone"])
			assert.Equal(t, a.users[viewer].Email, d["email"])
		})
	}

	t.Run("values", func(t *testing.T) {
		r := w.do(t, "GET", fmt.Sprintf("/api/jobs/%d", a.pub.ID), w.tokens["member"], "")
		assert.Equal(t, 5000, apiInt(t, apiData(t, r)["salary_max"]))
		inactive := a.users["inactive"] // the one user no subtest changed
		r = w.do(t, "GET", fmt.Sprintf("/api/users/%d", inactive.ID), w.tokens["admin"], "")
		d := apiData(t, r)
		assert.Equal(t, inactive.Email, d["email"])
		assert.Equal(t, inactive.Phone, d["phone"])
		// The admin surface shows an admin every contact field, creator
		// and inactive managers included.
		r = w.do(t, "GET", fmt.Sprintf("/api/admin/jobs/%d?preload=creator,managers", a.pub.ID), w.tokens["admin"], "")
		d = apiData(t, r)
		checkUser(t, "admin", apiEdges(t, d)["creator"].(map[string]any))
		for _, m := range apiEdgeList(t, d, "managers") {
			checkUser(t, "admin", m)
		}
		// A manager's write answers with what the manager may read.
		r = w.do(t, "PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID), w.tokens["manager"], `{"description":"edited"}`)
		apiStatus(t, r, http.StatusOK)
		checkJob(t, "manager", apiData(t, r))
		// An admin creating a user sees its contact fields.
		r = w.do(t, "POST", "/api/users", w.tokens["admin"],
			`{"email":"fresh@a.test","name":"Fresh","phone":"555-fresh","role":"member","password":"long enough password"}`)
		apiStatus(t, r, http.StatusCreated)
		d = apiData(t, r)
		assert.Equal(t, "fresh@a.test", d["email"])
		assert.Equal(t, "555-fresh", d["phone"])
	})
}

// apiMutCase is one write of the role matrix. want is by apiRoles.
type apiMutCase struct {
	name string
	rule string // the denying rule of its 403s ("": any, not a policy rule)
	want [5]int
	req  func(t *testing.T, w *apiWorld, role string) (method, path, body string)
}

// TestHTTPMutationsByRole: every write route for every role of tenant A:
// the status of docs/design.md sections 5 and 6, the answer's shape, 403 with the
// denying rule and check, 404 for rows the role cannot see, and the tables
// changed exactly when the write succeeded.
func TestHTTPMutationsByRole(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	self := func(role string) *ent.User { return a.users[role] }
	freshPub := func(t *testing.T, managers ...*ent.User) *ent.Job {
		return w.seedJob(t, a, a.c1, job.StatusPublished, managers...)
	}
	cases := []apiMutCase{
		{"create a job", "job.create", [5]int{201, 201, 403, 403, 403},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "POST", "/api/jobs", fmt.Sprintf(`{"title":"new job","description":"d","company_id":%d,"status":"draft","salary_max":100,"manager_ids":[%d]}`,
					a.c1.ID, a.users["manager"].ID)
			}},
		{"update a job they manage", "job.update", [5]int{200, 200, 403, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				j := freshPub(t, a.users["manager"], a.users["banned"])
				return "PATCH", fmt.Sprintf("/api/jobs/%d", j.ID), `{"title":"renamed","salary_max":200}`
			}},
		{"update a job they do not manage", "job.update", [5]int{200, 403, 403, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				j := freshPub(t)
				return "PATCH", fmt.Sprintf("/api/jobs/%d", j.ID), `{"status":"archived"}`
			}},
		{"delete a job", "job.delete", [5]int{204, 403, 403, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				j := freshPub(t, a.users["manager"])
				w.seed.Note(t, j, a.users["member"], false)
				return "DELETE", fmt.Sprintf("/api/jobs/%d", j.ID), ""
			}},
		{"write a public note", "note.create", [5]int{201, 201, 201, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "POST", fmt.Sprintf("/api/jobs/%d/notes", freshPub(t).ID), `{"body":"hello"}`
			}},
		{"write an internal note", "", [5]int{201, 201, 403, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "POST", fmt.Sprintf("/api/jobs/%d/notes", freshPub(t).ID), `{"body":"secret","internal":true}`
			}},
		{"edit their own note", "note.update", [5]int{200, 200, 200, 200, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				n := w.seed.Note(t, freshPub(t), self(role), false)
				return "PATCH", fmt.Sprintf("/api/notes/%d", n.ID), `{"body":"edited"}`
			}},
		{"edit another's note", "note.update", [5]int{200, 403, 403, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				n := w.seed.Note(t, freshPub(t), w.seed.User(t, a.org.ID, user.RoleMember, nil), false)
				return "PATCH", fmt.Sprintf("/api/notes/%d", n.ID), `{"body":"edited"}`
			}},
		{"delete their own note", "note.delete", [5]int{204, 204, 204, 204, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				n := w.seed.Note(t, freshPub(t), self(role), false)
				return "DELETE", fmt.Sprintf("/api/notes/%d", n.ID), ""
			}},
		{"delete another's note", "note.delete", [5]int{204, 403, 403, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				n := w.seed.Note(t, freshPub(t), w.seed.User(t, a.org.ID, user.RoleMember, nil), false)
				return "DELETE", fmt.Sprintf("/api/notes/%d", n.ID), ""
			}},
		{"create a company", "company.create", [5]int{201, 403, 403, 403, 403},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "POST", "/api/companies", fmt.Sprintf(`{"name":"new company %d"}`, w.seed.Next())
			}},
		{"update the client's company", "company.update", [5]int{200, 403, 403, 403, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "PATCH", fmt.Sprintf("/api/companies/%d", a.c1.ID), fmt.Sprintf(`{"name":"C1 renamed %d"}`, w.seed.Next())
			}},
		{"delete a company", "company.delete", [5]int{204, 403, 403, 404, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "DELETE", fmt.Sprintf("/api/companies/%d", w.seed.Company(t, a.org.ID).ID), ""
			}},
		{"create a user", "user.create", [5]int{201, 403, 403, 403, 403},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "POST", "/api/users", fmt.Sprintf(`{"email":"created%d@a.test","name":"Created","phone":"555","role":"client","password":"long enough password","company_id":%d}`,
					w.seed.Next(), a.c2.ID)
			}},
		{"update their own name and phone", "user.update", [5]int{200, 200, 200, 200, 403},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "PATCH", fmt.Sprintf("/api/users/%d", self(role).ID), fmt.Sprintf(`{"name":"Renamed %d","phone":"555-%d"}`, w.seed.Next(), w.seed.Next())
			}},
		{"update their own role", "user.update", [5]int{200, 403, 403, 403, 403},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				// The phone changes too: a patch that changes nothing
				// writes nothing (docs/design.md section 11).
				return "PATCH", fmt.Sprintf("/api/users/%d", self(role).ID), fmt.Sprintf(`{"role":"admin","phone":"555-%d"}`, w.seed.Next())
			}},
		{"update another user", "user.update", [5]int{200, 403, 403, 404, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "PATCH", fmt.Sprintf("/api/users/%d", w.seed.User(t, a.org.ID, user.RoleMember, nil).ID), `{"name":"Renamed"}`
			}},
		{"ban another user", "user.update", [5]int{200, 403, 403, 404, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "PATCH", fmt.Sprintf("/api/users/%d", w.seed.User(t, a.org.ID, user.RoleMember, nil).ID), `{"banned":true}`
			}},
		{"delete a user", "user.delete", [5]int{204, 403, 403, 404, 404},
			func(t *testing.T, w *apiWorld, role string) (string, string, string) {
				return "DELETE", fmt.Sprintf("/api/users/%d", w.seed.User(t, a.org.ID, user.RoleMember, nil).ID), ""
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for i, role := range apiRoles {
				t.Run(role, func(t *testing.T) {
					method, path, body := c.req(t, w, role)
					before := w.db.Sums(t)
					r := w.do(t, method, path, w.tokens[role], body)
					want := c.want[i]
					switch want {
					case http.StatusOK, http.StatusCreated:
						if apiStatus(t, r, want) {
							d := apiData(t, r)
							assert.Positive(t, apiInt(t, d["id"]), "%s", r)
							assert.Equal(t, a.org.ID, apiInt(t, d["org_id"]), "written in the caller's tenant: %s", r)
						}
						assert.NotEqual(t, before, w.db.Sums(t), "%s succeeded but wrote nothing", r)
						return
					case http.StatusNoContent:
						apiStatus(t, r, want)
						assert.NotEqual(t, before, w.db.Sums(t), "%s succeeded but wrote nothing", r)
						return
					case http.StatusForbidden:
						e := apiForbidden(t, r, c.rule)
						if role == "banned" && c.rule != "" {
							assert.Equal(t, "deny: banned", e["check"], "%s", r)
						}
					case http.StatusNotFound:
						apiStatus(t, r, want)
						assert.Equal(t, w.missing, string(r.body), "a row the caller cannot see is the missing id's 404: %s", r)
					}
					w.db.AssertUnchanged(t, before, r.String())
				})
			}
		})
	}

	t.Run("logout", func(t *testing.T) {
		for _, role := range apiRoles {
			tok := w.login(t, a.users[role].Email)
			apiStatus(t, w.do(t, "DELETE", "/api/session", tok, ""), http.StatusNoContent)
			apiErrorBody(t, w.do(t, "GET", "/api/me", tok, ""), http.StatusUnauthorized, "unauthenticated")
			apiStatus(t, w.do(t, "GET", "/api/me", w.tokens[role], ""), http.StatusOK) // other sessions live on
		}
	})
}

// TestHTTPForbidden: 403 forbidden with the denying rule and check, for a
// row the caller sees but may not change and for routes the role may not
// use; nothing changes.
func TestHTTPForbidden(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	before := w.db.Sums(t)

	t.Run("policy denials", func(t *testing.T) {
		r := w.do(t, "PATCH", fmt.Sprintf("/api/jobs/%d", a.pub2.ID), w.tokens["member"], `{"title":"mine now"}`)
		e := apiForbidden(t, r, "job.update")
		assert.Equal(t, "no allow list passed", e["check"])
		r = w.do(t, "PATCH", fmt.Sprintf("/api/jobs/%d", a.pub2.ID), w.tokens["manager"], `{"title":"mine now"}`)
		apiForbidden(t, r, "job.update")
		r = w.do(t, "PATCH", fmt.Sprintf("/api/users/%d", a.users["banned"].ID), w.tokens["banned"], `{"name":"x"}`)
		e = apiForbidden(t, r, "user.update")
		assert.Equal(t, "deny: banned", e["check"])
		apiForbidden(t, w.do(t, "DELETE", fmt.Sprintf("/api/jobs/%d", a.pub.ID), w.tokens["manager"], ""), "job.delete")
		apiForbidden(t, w.do(t, "PATCH", fmt.Sprintf("/api/users/%d", a.users["client"].ID), w.tokens["client"],
			fmt.Sprintf(`{"company_id":%d}`, a.c2.ID)), "user.update")
		apiForbidden(t, w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID), w.tokens["client"], `{"body":"x"}`), "note.create")
		apiForbidden(t, w.do(t, "POST", "/api/companies", w.tokens["manager"], `{"name":"x"}`), "company.create")
	})

	t.Run("internal note by a member", func(t *testing.T) {
		// The member may write notes on the job, but not internal ones.
		r := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID), w.tokens["member"], `{"body":"x","internal":true}`)
		apiForbidden(t, r, "")
		r = w.do(t, "PATCH", fmt.Sprintf("/api/notes/%d", a.publicNote.ID), w.tokens["member"], `{"internal":true}`)
		apiForbidden(t, r, "")
	})

	t.Run("admin routes", func(t *testing.T) {
		adminRoutes := []string{
			"/api/admin/jobs", fmt.Sprintf("/api/admin/jobs/%d", a.pub.ID),
			"/api/admin/companies", fmt.Sprintf("/api/admin/companies/%d", a.c1.ID),
			"/api/admin/users", fmt.Sprintf("/api/admin/users/%d", a.users["admin"].ID),
			"/api/policy", "/api/policy?allow=role:manager",
			// refused before the preload or the query is looked at
			"/api/admin/jobs?preload=nope", "/api/admin/jobs?limit=0",
			fmt.Sprintf("/api/admin/jobs/%d", pgtest.MissingID),
		}
		for _, role := range []string{"manager", "member", "client", "banned", "b:manager", "b:member", "b:client"} {
			for _, p := range adminRoutes {
				do := w.do
				if strings.HasSuffix(p, "limit=0") {
					do = w.doInvalid // a limit the document refuses
				}
				apiForbidden(t, do(t, "GET", p, w.tokens[role], ""), "")
			}
		}
	})
	w.db.AssertUnchanged(t, before, "403s")
}

// TestHTTPNotFound: a missing id on every id route, a malformed id and an
// unknown route all answer the one not_found body.
func TestHTTPNotFound(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	tok := w.tokens["admin"]
	before := w.db.Sums(t)
	apiErrorBody(t, apiResp{method: "GET", path: "(canonical)", code: 404, body: []byte(w.missing),
		header: http.Header{"Content-Type": {"application/json"}}}, http.StatusNotFound, "not_found")
	type rq struct{ method, path, body string }
	var reqs []rq
	// Ids that are not positive integers are deliberately outside the
	// OpenAPI document (its id is one); only their answers are validated.
	notAnID := map[string]bool{}
	missing := fmt.Sprint(pgtest.MissingID)
	for _, id := range []string{missing, "0", "-1", "abc", "1.5", "99999999999999999999"} {
		notAnID[id] = id != missing
		reqs = append(reqs,
			rq{"GET", "/api/jobs/" + id, ""}, rq{"PATCH", "/api/jobs/" + id, `{"title":"x"}`}, rq{"DELETE", "/api/jobs/" + id, ""},
			rq{"GET", "/api/jobs/" + id + "/notes", ""}, rq{"POST", "/api/jobs/" + id + "/notes", `{"body":"x"}`},
			rq{"PATCH", "/api/notes/" + id, `{"body":"x"}`}, rq{"DELETE", "/api/notes/" + id, ""},
			rq{"GET", "/api/companies/" + id, ""}, rq{"PATCH", "/api/companies/" + id, `{"name":"x"}`}, rq{"DELETE", "/api/companies/" + id, ""},
			rq{"GET", "/api/users/" + id, ""}, rq{"PATCH", "/api/users/" + id, `{"name":"x"}`}, rq{"DELETE", "/api/users/" + id, ""},
			rq{"GET", "/api/admin/jobs/" + id, ""}, rq{"GET", "/api/admin/companies/" + id, ""}, rq{"GET", "/api/admin/users/" + id, ""},
		)
	}
	reqs = append(reqs, rq{"GET", "/api/nothing", ""}, rq{"GET", "/", ""}, rq{"GET", "/api/admin/notes", ""})
	for _, q := range reqs {
		do := w.do
		if seg := strings.Split(q.path, "/"); len(seg) > 3 && notAnID[seg[len(seg)-1]] || len(seg) > 4 && notAnID[seg[len(seg)-2]] {
			do = w.doInvalid
		}
		r := do(t, q.method, q.path, tok, q.body)
		if apiStatus(t, r, http.StatusNotFound) {
			assert.Equal(t, w.missing, string(r.body), "%s", r)
		}
	}
	// A route's path with a method it does not serve is 405, whatever the
	// id (docs/design.md section 11), not 404.
	for _, q := range []rq{{"GET", "/api/notes/1", ""}, {"GET", "/api/notes/" + missing, ""}, {"PUT", "/api/jobs/1", `{}`}} {
		apiErrorBody(t, w.do(t, q.method, q.path, tok, q.body), http.StatusMethodNotAllowed, "method_not_allowed")
	}
	w.db.AssertUnchanged(t, before, "404s")
}

// TestHTTPBadRequestsChangeNothing: malformed JSON, unknown fields, wrong
// types, trailing data, bodies over 1 MiB, null where a value is needed,
// bad limits and unknown query parameters are 400 bad_request and write
// nothing.
func TestHTTPBadRequestsChangeNothing(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	c1 := a.c1.ID
	jobPath := fmt.Sprintf("/api/jobs/%d", a.pub.ID)
	notes := fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID)
	note := fmt.Sprintf("/api/notes/%d", a.publicNote.ID)
	company := fmt.Sprintf("/api/companies/%d", c1)
	member := fmt.Sprintf("/api/users/%d", a.users["member"].ID)
	newUser := `"email":"bad@a.test","name":"Bad","phone":"1","role":"member","password":"long enough password"`
	big := `{"name":"` + strings.Repeat("a", 1<<20) + `"}`
	bigPadded := `{"name":"padded"}` + strings.Repeat(" ", 1<<20)
	cases := []struct{ method, path, body string }{
		// malformed JSON
		{"POST", "/api/jobs", `{`},
		{"POST", "/api/jobs", `{"title":"x",}`},
		{"POST", "/api/jobs", `not json`},
		{"POST", "/api/jobs", ``},
		{"PATCH", jobPath, `{"title":'x'}`},
		{"POST", "/api/companies", `{"name":"x"`},
		{"POST", "/api/session", `{"email":`},
		// unknown fields (org_id and friends are never input)
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"org_id":%d}`, c1, w.b.org.ID)},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"created_by_id":1}`, c1)},
		{"PATCH", jobPath, `{"status":"published","id":1}`},
		{"POST", "/api/companies", `{"name":"x","org_id":1}`},
		{"POST", notes, `{"body":"x","author_id":1}`},
		{"PATCH", note, `{"body":"x","job_id":1}`},
		{"POST", "/api/users", `{` + newUser + `,"org_id":1}`},
		{"POST", "/api/users", `{` + newUser + `,"password_hash":"x"}`},
		{"POST", "/api/users", `{` + newUser + `,"banned":true}`},
		{"PATCH", member, `{"email":"new@a.test"}`},
		{"PATCH", member, `{"password":"long enough password"}`},
		{"PATCH", member, `{"org_id":2}`},
		{"POST", "/api/session", fmt.Sprintf(`{"email":%q,"password":%q,"remember":true}`, a.users["admin"].Email, apiPassword)},
		// wrong types
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":5,"company_id":%d}`, c1)},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":"%d"}`, c1)},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":"1"}`, c1)},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":["1"]}`, c1)},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"salary_max":1.5}`, c1)},
		{"POST", "/api/jobs", `[]`},
		{"POST", "/api/jobs", `"x"`},
		{"PATCH", jobPath, `{"salary_max":"lots"}`},
		{"POST", "/api/companies", `{"name":"x","archived":"yes"}`},
		{"PATCH", company, `{"name":["x"]}`},
		{"POST", notes, `{"body":"x","internal":"no"}`},
		{"POST", "/api/users", `{"email":"x@a.test","name":"x","phone":"1","role":1,"password":"long enough password"}`},
		{"PATCH", member, `{"banned":"yes"}`},
		{"POST", "/api/session", `{"email":1,"password":2}`},
		// null where a value is needed
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":null,"company_id":%d}`, c1)},
		{"PATCH", jobPath, `{"title":null}`},
		{"PATCH", company, `{"name":null}`},
		{"PATCH", member, `{"name":null}`},
		// trailing data
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d} {}`, c1)},
		{"POST", "/api/companies", `{"name":"trailing"}x`},
		{"POST", "/api/companies", `{"name":"trailing"}{"name":"again"}`},
		{"PATCH", company, `{"name":"x"}]`},
		{"POST", "/api/session", fmt.Sprintf(`{"email":%q,"password":%q} 1`, a.users["admin"].Email, apiPassword)},
		// over 1 MiB
		{"POST", "/api/companies", big},
		{"POST", "/api/companies", bigPadded + " "},
		{"PATCH", company, big},
		{"POST", notes, `{"body":"` + strings.Repeat("b", 1<<20) + `"}`},
		{"POST", "/api/session", `{"email":"` + strings.Repeat("e", 1<<20) + `","password":"x"}`},
		// bad limits and query parameters
		{"GET", "/api/jobs?limit=0", ""},
		{"GET", "/api/jobs?limit=201", ""},
		{"GET", "/api/jobs?limit=-1", ""},
		{"GET", "/api/jobs?limit=abc", ""},
		{"GET", "/api/jobs?limit=1.5", ""},
		{"GET", "/api/jobs?limit=1&limit=2", ""},
		{"GET", "/api/companies?limit=1000", ""},
		{"GET", "/api/users?limit=0", ""},
		{"GET", notes + "?limit=201", ""},
		{"GET", "/api/admin/jobs?limit=0", ""},
		{"GET", "/api/jobs?status=open", ""},
		{"GET", "/api/jobs?foo=1", ""},
		{"GET", "/api/jobs?org_id=2", ""},
		{"GET", "/api/companies?sort=name", ""},
		{"GET", "/api/users?role=admin", ""},
		{"GET", notes + "?status=draft", ""},
		{"GET", jobPath + "?limit=1", ""},
		{"GET", company + "?foo=1", ""},
		{"GET", member + "?foo=1", ""},
		{"GET", "/api/admin/jobs?foo=1", ""},
		{"GET", fmt.Sprintf("/api/admin/users/%d?foo=1", a.users["member"].ID), ""},
		{"GET", "/api/policy?foo=1", ""},
	}
	before := w.db.Sums(t)
	for _, c := range cases {
		r := w.doInvalid(t, c.method, c.path, tok, c.body) // every one is, on purpose
		apiErrorBody(t, r, http.StatusBadRequest, "bad_request")
		w.db.AssertUnchanged(t, before, r.method+" "+r.path+" "+apiShort(c.body))
	}

	// The limit is 1 MiB, not less: a body of exactly 1 MiB is read.
	exact := `{"name":"padded"}` + strings.Repeat(" ", 1<<20-len(`{"name":"padded"}`))
	require.Len(t, exact, 1<<20)
	r := w.do(t, "POST", "/api/companies", tok, exact)
	apiStatus(t, r, http.StatusCreated)
}

func apiShort(s string) string {
	if len(s) > 80 {
		return s[:80] + fmt.Sprintf("…(%d bytes)", len(s))
	}
	return s
}

// TestHTTPPreloadNotAllowed: a path the registry does not list for the
// entity and surface is 400 preload_not_allowed with every allowed path.
func TestHTTPPreloadNotAllowed(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	before := w.db.Sums(t)
	cases := []struct {
		who, path, surface, entity string
	}{
		{"member", "/api/jobs?preload=creator", "user", "job"},
		{"admin", "/api/jobs?preload=creator", "user", "job"},
		{"client", fmt.Sprintf("/api/jobs/%d?preload=creator", a.pub.ID), "user", "job"},
		{"manager", "/api/jobs?preload=company,bogus", "user", "job"},
		{"manager", "/api/jobs?preload=notes.author.company.jobs", "user", "job"}, // four levels
		{"manager", "/api/jobs?preload=Company", "user", "job"},
		{"manager", "/api/jobs?preload=company,,notes", "user", "job"},
		{"manager", "/api/jobs?preload=notes.job", "user", "job"},
		{"member", "/api/users?preload=managed_jobs", "user", "user"},
		{"member", fmt.Sprintf("/api/users/%d?preload=notes", a.users["member"].ID), "user", "user"},
		{"member", "/api/companies?preload=clients", "user", "company"},
		{"client", fmt.Sprintf("/api/companies/%d?preload=jobs.creator", a.c1.ID), "user", "company"},
		{"member", fmt.Sprintf("/api/jobs/%d/notes?preload=job", a.pub.ID), "user", "note"},
		{"admin", "/api/admin/jobs?preload=bogus", "admin", "job"},
		{"admin", fmt.Sprintf("/api/admin/jobs/%d?preload=sessions", a.pub.ID), "admin", "job"},
		{"admin", "/api/admin/users?preload=sessions", "admin", "user"},
		{"admin", "/api/admin/companies?preload=clients", "admin", "company"},
		{"admin", "/api/admin/jobs?preload=creator.managed_jobs.creator.company", "admin", "job"},
	}
	for _, c := range cases {
		r := w.do(t, "GET", c.path, w.tokens[c.who], "")
		e := apiErrorBody(t, r, http.StatusBadRequest, "preload_not_allowed")
		assert.Equal(t, apiAllowedPaths(c.surface, c.entity), apiStrings(t, e["allowed"]), "%s", r)
	}
	// The same paths are fine where docs/design.md lists them.
	for _, p := range []string{"/api/admin/jobs?preload=creator", "/api/admin/users?preload=managed_jobs",
		"/api/admin/jobs?preload=creator.managed_jobs.creator", "/api/jobs?preload=notes.author.company"} {
		apiStatus(t, w.do(t, "GET", p, w.tokens["admin"], ""), http.StatusOK)
	}
	w.db.AssertUnchanged(t, before, "refused preloads")
}

// unauthRoute is a request TestHTTPUnauthenticated sends without a valid
// token.
type unauthRoute struct{ method, path, body string }

// unauthenticatedRoutes is every route that needs a token, on rows of
// tenant A (TestHTTPRouteListsCoverEveryRoute checks it against the
// OpenAPI document).
func unauthenticatedRoutes(w *apiWorld) []unauthRoute {
	a := w.a
	return []unauthRoute{
		{"DELETE", "/api/session", ""},
		{"GET", "/api/me", ""},
		{"GET", "/api/policy", ""},
		{"GET", "/api/preloads", ""},
		{"GET", "/api/jobs", ""},
		{"GET", fmt.Sprintf("/api/jobs/%d", a.pub.ID), ""},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d}`, a.c1.ID)},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID), `{"title":"x"}`},
		{"DELETE", fmt.Sprintf("/api/jobs/%d", a.pub.ID), ""},
		{"GET", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID), ""},
		{"POST", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID), `{"body":"x"}`},
		{"PATCH", fmt.Sprintf("/api/notes/%d", a.publicNote.ID), `{"body":"x"}`},
		{"DELETE", fmt.Sprintf("/api/notes/%d", a.publicNote.ID), ""},
		{"GET", "/api/companies", ""},
		{"POST", "/api/companies", `{"name":"x"}`},
		{"GET", fmt.Sprintf("/api/companies/%d", a.only.ID), ""},
		{"PATCH", fmt.Sprintf("/api/companies/%d", a.only.ID), `{"name":"x"}`},
		{"DELETE", fmt.Sprintf("/api/companies/%d", a.only.ID), ""},
		{"GET", "/api/users", ""},
		{"POST", "/api/users", `{"email":"x@a.test","name":"x","phone":"1","role":"member","password":"long enough password"}`},
		{"GET", fmt.Sprintf("/api/users/%d", a.users["member"].ID), ""},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{"name":"x"}`},
		{"DELETE", fmt.Sprintf("/api/users/%d", a.users["member"].ID), ""},
		{"GET", "/api/admin/jobs", ""},
		{"GET", fmt.Sprintf("/api/admin/jobs/%d", a.pub.ID), ""},
		{"GET", "/api/admin/companies", ""},
		{"GET", fmt.Sprintf("/api/admin/companies/%d", a.c1.ID), ""},
		{"GET", "/api/admin/users", ""},
		{"GET", fmt.Sprintf("/api/admin/users/%d", a.users["member"].ID), ""},
	}
}

// TestHTTPUnauthenticated: every route that needs a token answers 401
// unauthenticated, with one body, for no token, a malformed header, an
// unknown token, a revoked token and an expired one; and changes nothing.
// Failed logins are 401 with that body too, whatever failed.
func TestHTTPUnauthenticated(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	routes := unauthenticatedRoutes(w)

	revoked := w.login(t, a.users["admin"].Email)
	apiStatus(t, w.do(t, "DELETE", "/api/session", revoked, ""), http.StatusNoContent)
	expiring := w.login(t, a.users["admin"].Email)

	var canonical string
	check := func(t *testing.T, auth string) {
		t.Helper()
		before := w.db.Sums(t)
		for _, rt := range routes {
			r := w.send(t, w.srv.Client(), rt.method, rt.path, auth, rt.body)
			apiErrorBody(t, r, http.StatusUnauthorized, "unauthenticated")
			if canonical == "" {
				canonical = string(r.body)
			}
			assert.Equal(t, canonical, string(r.body), "every 401 is alike: %s", r)
		}
		w.db.AssertUnchanged(t, before, "401s")
	}
	t.Run("no token", func(t *testing.T) { check(t, "") })
	t.Run("empty bearer", func(t *testing.T) { check(t, "Bearer ") })
	t.Run("not bearer", func(t *testing.T) { check(t, "Basic YWRtaW5AYS50ZXN0OmNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==") })
	t.Run("token alone", func(t *testing.T) { check(t, w.tokens["admin"]) })
	t.Run("unknown token", func(t *testing.T) { check(t, "Bearer "+strings.Repeat("A", 43)) })
	t.Run("token hash as token", func(t *testing.T) {
		sum := sha256.Sum256([]byte(w.tokens["admin"]))
		check(t, "Bearer "+hex.EncodeToString(sum[:]))
	})
	t.Run("revoked", func(t *testing.T) { check(t, "Bearer "+revoked) })
	t.Run("expired", func(t *testing.T) {
		defer w.clock.Set(0)
		w.clock.Set(14*24*time.Hour - time.Minute)
		apiStatus(t, w.do(t, "GET", "/api/me", expiring, ""), http.StatusOK)
		w.clock.Set(14*24*time.Hour + time.Minute)
		check(t, "Bearer "+expiring)
	})

	t.Run("failed logins", func(t *testing.T) {
		before := w.db.Sums(t)
		for _, body := range []string{
			fmt.Sprintf(`{"email":%q,"password":"wrong password"}`, a.users["admin"].Email),
			`{"email":"nobody@a.test","password":"correct horse battery"}`,
			fmt.Sprintf(`{"email":%q,"password":%q}`, a.users["inactive"].Email, apiPassword),
			fmt.Sprintf(`{"email":%q,"password":""}`, a.users["admin"].Email),
			`{"email":"","password":""}`,
			`{}`,
		} {
			do := w.do
			if body == `{}` {
				do = w.doInvalid // the document requires both fields
			}
			r := do(t, "POST", "/api/session", "", body)
			apiErrorBody(t, r, http.StatusUnauthorized, "unauthenticated")
			assert.Equal(t, canonical, string(r.body), "a failed login says nothing about why")
		}
		w.db.AssertUnchanged(t, before, "failed logins")
	})

	t.Run("login", func(t *testing.T) {
		start := time.Now()
		r := w.do(t, "POST", "/api/session", "", fmt.Sprintf(`{"email":%q,"password":%q}`, a.users["member"].Email, apiPassword))
		apiStatus(t, r, http.StatusCreated)
		m := apiObject(t, r)
		assert.ElementsMatch(t, []string{"token", "expires_at"}, slices.Collect(maps.Keys(m)))
		tok, _ := m["token"].(string)
		require.NotEmpty(t, tok)
		exp, err := time.Parse(time.RFC3339, fmt.Sprint(m["expires_at"]))
		require.NoError(t, err)
		assert.WithinDuration(t, start.Add(14*24*time.Hour), exp, time.Minute, "sessions last 14 days")
		// Only the token's SHA-256 is stored.
		sum := sha256.Sum256([]byte(tok))
		var hashed, plain int
		require.NoError(t, w.db.Raw.QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = $1`, hex.EncodeToString(sum[:])).Scan(&hashed))
		require.NoError(t, w.db.Raw.QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = $1`, tok).Scan(&plain))
		assert.Equal(t, 1, hashed)
		assert.Equal(t, 0, plain)
		r = w.do(t, "GET", "/api/me", tok, "")
		assert.Equal(t, a.users["member"].ID, apiInt(t, apiData(t, r)["user"].(map[string]any)["id"]))
	})
}

// TestHTTPLoginRateLimited: docs/design.md section 11. Failed logins count per
// (email, client address) and per client address, never per email alone:
// after 5 failures of one email from one address that pair is 429
// rate_limited with Retry-After, even with the right password, and creates
// no session; the same email from an address that has not failed logs in
// (nobody can lock a user out from elsewhere), and so does another user
// behind the failing address (a shared address). An address that fails
// for many emails is refused for every email. Each window is a minute.
func TestHTTPLoginRateLimited(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{noLogin: true, loginAddressLimit: 8})
	a := w.a
	login := func(c *http.Client, email, password string) apiResp {
		return w.send(t, c, "POST", "/api/session", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	}
	from1, from2, from3, from4, from5 := apiClientFrom("127.0.0.1"), apiClientFrom("127.0.0.2"),
		apiClientFrom("127.0.0.3"), apiClientFrom("127.0.0.4"), apiClientFrom("127.0.0.5")
	admin, member, manager := a.users["admin"].Email, a.users["member"].Email, a.users["manager"].Email

	for i := 0; i < 5; i++ {
		apiErrorBody(t, login(from1, admin, "wrong password"), http.StatusUnauthorized, "unauthenticated")
	}
	before := w.db.Sums(t)
	// The pair is spent, right password or not, however the email is
	// written.
	limited := login(from1, admin, apiPassword)
	apiErrorBody(t, limited, http.StatusTooManyRequests, "rate_limited")
	assertRetryAfter(t, limited, time.Minute)
	r := login(from1, " ADMIN@a.test", apiPassword)
	apiErrorBody(t, r, http.StatusTooManyRequests, "rate_limited")
	assert.Equal(t, string(limited.body), string(r.body))
	w.db.AssertUnchanged(t, before, "rate-limited logins")

	t.Run("lock-out from elsewhere", func(t *testing.T) {
		// The admin, from an address that has not failed, logs in,
		// however many failures other addresses ran up.
		for i := 10; i < 15; i++ {
			from := apiClientFrom(fmt.Sprintf("127.0.0.%d", i))
			for j := 0; j < 4; j++ {
				apiErrorBody(t, login(from, admin, "wrong password"), http.StatusUnauthorized, "unauthenticated")
			}
		}
		apiStatus(t, login(from2, admin, apiPassword), http.StatusCreated)
		apiStatus(t, login(from3, admin, apiPassword), http.StatusCreated)
	})
	t.Run("shared address", func(t *testing.T) {
		// Another user behind the failing address logs in, and may
		// mistype once.
		apiErrorBody(t, login(from1, member, "wrong password"), http.StatusUnauthorized, "unauthenticated")
		apiStatus(t, login(from1, member, apiPassword), http.StatusCreated)
		apiStatus(t, login(from1, manager, apiPassword), http.StatusCreated)
		apiStatus(t, login(from1, a.users["client"].Email, apiPassword), http.StatusCreated)
	})
	t.Run("address guessing many emails", func(t *testing.T) {
		for i := 0; i < 8; i++ {
			apiErrorBody(t, login(from4, fmt.Sprintf("guess%d@a.test", i), "x"), http.StatusUnauthorized, "unauthenticated")
		}
		r := login(from4, member, apiPassword)
		apiErrorBody(t, r, http.StatusTooManyRequests, "rate_limited")
		assertRetryAfter(t, r, time.Minute)
		assert.Equal(t, string(limited.body), string(r.body))
		apiStatus(t, login(from5, member, apiPassword), http.StatusCreated)
	})
	t.Run("unknown email", func(t *testing.T) {
		// Limited the same way: no way to tell it apart.
		for i := 0; i < 5; i++ {
			apiErrorBody(t, login(from5, "ghost@a.test", "x"), http.StatusUnauthorized, "unauthenticated")
		}
		r := login(from5, "ghost@a.test", "x")
		apiErrorBody(t, r, http.StatusTooManyRequests, "rate_limited")
		assert.Equal(t, string(limited.body), string(r.body))
	})
	t.Run("a success forgets the pair's failures", func(t *testing.T) {
		// 4 + 3 failures: over the pair's 5 without the reset, under
		// the address's 8.
		from6 := apiClientFrom("127.0.0.6")
		for _, fails := range []int{4, 3} {
			for i := 0; i < fails; i++ {
				apiErrorBody(t, login(from6, manager, "wrong password"), http.StatusUnauthorized, "unauthenticated")
			}
			apiStatus(t, login(from6, manager, apiPassword), http.StatusCreated)
		}
	})
	t.Run("a minute later", func(t *testing.T) {
		w.clock.Set(61 * time.Second)
		defer w.clock.Set(0)
		apiStatus(t, login(from1, admin, apiPassword), http.StatusCreated)
		apiStatus(t, login(from4, member, apiPassword), http.StatusCreated)
	})
}

// TestHTTPConflict: 409 conflict for a taken company name and for a change
// that would leave the organization without an admin; nothing changes.
func TestHTTPConflict(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	before := w.db.Sums(t)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/companies", `{"name":"C1"}`},
		{"PATCH", fmt.Sprintf("/api/companies/%d", a.c2.ID), `{"name":"C1"}`},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["admin"].ID), `{"role":"member"}`},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["admin"].ID), `{"banned":true}`},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["admin"].ID), `{"active":false}`},
		{"DELETE", fmt.Sprintf("/api/users/%d", a.users["admin"].ID), ""},
		{"DELETE", fmt.Sprintf("/api/companies/%d", a.c1.ID), ""},          // has jobs and a client
		{"DELETE", fmt.Sprintf("/api/users/%d", a.users["member"].ID), ""}, // wrote a note
		{"POST", "/api/users", fmt.Sprintf(`{"email":%q,"name":"x","phone":"1","role":"member","password":"long enough password"}`, a.users["member"].Email)},
	} {
		r := w.do(t, c.method, c.path, tok, c.body)
		apiErrorBody(t, r, http.StatusConflict, "conflict")
		w.db.AssertUnchanged(t, before, r.String())
	}
	// Names are unique per tenant: B's name is free in A.
	apiStatus(t, w.do(t, "POST", "/api/companies", tok, `{"name":"Only b"}`), http.StatusCreated)
	// With a second admin, the first may step down.
	r := w.do(t, "PATCH", fmt.Sprintf("/api/users/%d", a.users["member"].ID), tok, `{"role":"admin"}`)
	apiStatus(t, r, http.StatusOK)
	r = w.do(t, "PATCH", fmt.Sprintf("/api/users/%d", a.users["admin"].ID), tok, `{"role":"manager"}`)
	apiStatus(t, r, http.StatusOK)
}

// TestHTTPInvalid: 422 invalid with per-field messages; nothing changes.
func TestHTTPInvalid(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	tok := w.tokens["admin"]
	before := w.db.Sums(t)
	for _, c := range []struct {
		method, path, body string
		fields             []string
	}{
		{"POST", "/api/jobs", `{"title":"","company_id":0}`, []string{"title", "company_id"}},
		{"POST", "/api/jobs", `{"description":"no title"}`, []string{"title", "company_id"}},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"status":"open"}`, a.c1.ID), []string{"status"}},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"salary_max":-1}`, a.c1.ID), []string{"salary_max"}},
		{"POST", "/api/jobs", fmt.Sprintf(`{"title":"%s","company_id":%d}`, strings.Repeat("t", 201), a.c1.ID), []string{"title"}},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID), `{"status":"open"}`, []string{"status"}},
		{"PATCH", fmt.Sprintf("/api/jobs/%d", a.pub.ID), `{"title":""}`, []string{"title"}},
		{"POST", "/api/companies", `{"name":""}`, []string{"name"}},
		{"POST", "/api/companies", `{}`, []string{"name"}},
		{"PATCH", fmt.Sprintf("/api/companies/%d", a.c2.ID), `{"name":""}`, []string{"name"}},
		{"POST", fmt.Sprintf("/api/jobs/%d/notes", a.pub.ID), `{"body":""}`, []string{"body"}},
		{"PATCH", fmt.Sprintf("/api/notes/%d", a.publicNote.ID), `{"body":""}`, []string{"body"}},
		{"POST", "/api/users", `{"email":"nope","name":"","phone":"1","role":"boss","password":"short"}`, []string{"email", "name", "role", "password"}},
		{"POST", "/api/users", `{"email":"c@a.test","name":"c","phone":"1","role":"client","password":"long enough password"}`, []string{"company_id"}},
		{"POST", "/api/users", fmt.Sprintf(`{"email":"m@a.test","name":"m","phone":"1","role":"member","password":"long enough password","company_id":%d}`, a.c1.ID), []string{"company_id"}},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{"role":"boss"}`, []string{"role"}},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{"role":"client"}`, []string{"company_id"}},
		{"PATCH", fmt.Sprintf("/api/users/%d", a.users["member"].ID), `{"name":""}`, []string{"name"}},
	} {
		r := w.doInvalid(t, c.method, c.path, tok, c.body) // invalid on purpose
		f := apiFields(t, r)
		assert.ElementsMatch(t, c.fields, slices.Collect(maps.Keys(f)), "%s", r)
		w.db.AssertUnchanged(t, before, r.String())
	}
}

// TestHTTPCrossTenant: ids of tenant B in paths and bodies answer, for
// every actor of tenant A, exactly what a missing id answers, and nothing
// changes.
func TestHTTPCrossTenant(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a, b := w.a, w.b
	before := w.db.Sums(t)
	for _, role := range apiRoles {
		t.Run(role, func(t *testing.T) {
			tok := w.tokens[role]
			for _, j := range b.jobs() {
				w.likeMissing(t, tok, "GET", j.ID, apiPathID("/api/jobs/%d", ""))
				w.likeMissing(t, tok, "GET", j.ID, apiPathID("/api/jobs/%d?preload=company,notes", ""))
				w.likeMissing(t, tok, "PATCH", j.ID, apiPathID("/api/jobs/%d", `{"title":"hijacked"}`))
				w.likeMissing(t, tok, "DELETE", j.ID, apiPathID("/api/jobs/%d", ""))
				w.likeMissing(t, tok, "GET", j.ID, apiPathID("/api/jobs/%d/notes", ""))
				w.likeMissing(t, tok, "POST", j.ID, apiPathID("/api/jobs/%d/notes", `{"body":"hijacked"}`))
			}
			for _, c := range b.companies() {
				w.likeMissing(t, tok, "GET", c.ID, apiPathID("/api/companies/%d", ""))
				w.likeMissing(t, tok, "PATCH", c.ID, apiPathID("/api/companies/%d", `{"name":"hijacked"}`))
				w.likeMissing(t, tok, "DELETE", c.ID, apiPathID("/api/companies/%d", ""))
			}
			for _, u := range b.allUsers() {
				w.likeMissing(t, tok, "GET", u.ID, apiPathID("/api/users/%d", ""))
				w.likeMissing(t, tok, "PATCH", u.ID, apiPathID("/api/users/%d", `{"name":"hijacked"}`))
				w.likeMissing(t, tok, "DELETE", u.ID, apiPathID("/api/users/%d", ""))
			}
			for _, n := range b.notes() {
				// GET is no route of a note: 405 for every id alike.
				hidden := w.do(t, "GET", fmt.Sprintf("/api/notes/%d", n.ID), tok, "")
				missing := w.do(t, "GET", fmt.Sprintf("/api/notes/%d", pgtest.MissingID), tok, "")
				apiErrorBody(t, hidden, http.StatusMethodNotAllowed, "method_not_allowed")
				assert.Equal(t, string(missing.body), string(hidden.body), "%s", hidden)
				w.likeMissing(t, tok, "PATCH", n.ID, apiPathID("/api/notes/%d", `{"body":"hijacked"}`))
				w.likeMissing(t, tok, "DELETE", n.ID, apiPathID("/api/notes/%d", ""))
			}
			if role == "admin" {
				w.likeMissing(t, tok, "GET", b.pub.ID, apiPathID("/api/admin/jobs/%d", ""))
				w.likeMissing(t, tok, "GET", b.c1.ID, apiPathID("/api/admin/companies/%d", ""))
				w.likeMissing(t, tok, "GET", b.users["admin"].ID, apiPathID("/api/admin/users/%d", ""))
			}
		})
	}

	// Ids in bodies: for those allowed to write, 404 like a missing id;
	// for the others, the same answer either way.
	body := []struct {
		name, method string
		id           int
		mk           func(int) (string, string)
		writers      []string
	}{
		{"job with B's company", "POST", b.c1.ID,
			apiBodyID("/api/jobs", `{"title":"x","company_id":%d}`), []string{"admin", "manager"}},
		{"job with B's manager", "POST", b.users["manager"].ID,
			apiBodyID("/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":[%%d]}`, a.c1.ID)), []string{"admin", "manager"}},
		{"job with A's and B's managers", "POST", b.users["manager"].ID,
			apiBodyID("/api/jobs", fmt.Sprintf(`{"title":"x","company_id":%d,"manager_ids":[%d,%%d]}`, a.c1.ID, a.users["manager"].ID)), []string{"admin", "manager"}},
		{"move a job to B's company", "PATCH", b.c1.ID,
			apiBodyID(fmt.Sprintf("/api/jobs/%d", a.pub.ID), `{"company_id":%d}`), []string{"admin", "manager"}},
		{"give a job B's manager", "PATCH", b.users["manager"].ID,
			apiBodyID(fmt.Sprintf("/api/jobs/%d", a.pub.ID), `{"manager_ids":[%d]}`), []string{"admin", "manager"}},
		{"client of B's company", "POST", b.c1.ID,
			apiBodyID("/api/users", `{"email":"xt@a.test","name":"x","phone":"1","role":"client","password":"long enough password","company_id":%d}`), []string{"admin"}},
		{"move a client to B's company", "PATCH", b.c1.ID,
			apiBodyID(fmt.Sprintf("/api/users/%d", a.users["client"].ID), `{"company_id":%d}`), []string{"admin"}},
	}
	for _, c := range body {
		t.Run(c.name, func(t *testing.T) {
			for _, role := range apiRoles {
				tok := w.tokens[role]
				if slices.Contains(c.writers, role) {
					w.likeMissing(t, tok, c.method, c.id, c.mk)
					continue
				}
				p, bd := c.mk(c.id)
				got := w.do(t, c.method, p, tok, bd)
				mp, mb := c.mk(pgtest.MissingID)
				miss := w.do(t, c.method, mp, tok, mb)
				assert.Equal(t, miss.code, got.code, "%s: %s vs %s", role, got, miss)
				assert.Equal(t, string(miss.body), string(got.body), "%s", role)
				assert.GreaterOrEqual(t, got.code, 400, "%s", got)
			}
		})
	}
	w.db.AssertUnchanged(t, before, "cross-tenant requests")
}

// apiRoute is a request on a row: path has one %d for its id; body is what
// a write sends.
type apiRoute struct{ method, path, body string }

// TestHTTPHiddenRows: for every role, every row of its own tenant that
// docs/design.md section 3 hides from it is, on every route that names it, a 404
// whose body equals the missing id's; nothing changes.
func TestHTTPHiddenRows(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	a := w.a
	vis := apiVisibility(a)
	before := w.db.Sums(t)
	hiddenSomething := map[string]bool{}
	for _, role := range apiRoles {
		t.Run(role, func(t *testing.T) {
			tok := w.tokens[role]
			v := vis[role]
			// likeMissing checks every route of routes on every id of all
			// but those of visible.
			likeMissing := func(visible, all []int, routes ...apiRoute) {
				for _, id := range all {
					if slices.Contains(visible, id) {
						continue
					}
					hiddenSomething[role] = true
					for _, rt := range routes {
						w.likeMissing(t, tok, rt.method, id, apiPathID(rt.path, rt.body))
					}
				}
			}
			likeMissing(pgtest.IDs(v.jobs...), pgtest.IDs(a.jobs()...),
				apiRoute{"GET", "/api/jobs/%d", ""},
				apiRoute{"PATCH", "/api/jobs/%d", `{"title":"seen"}`},
				apiRoute{"DELETE", "/api/jobs/%d", ""},
				apiRoute{"GET", "/api/jobs/%d/notes", ""},
				apiRoute{"POST", "/api/jobs/%d/notes", `{"body":"seen"}`})
			likeMissing(pgtest.IDs(v.notes...), pgtest.IDs(a.notes()...),
				apiRoute{"PATCH", "/api/notes/%d", `{"body":"seen"}`},
				apiRoute{"DELETE", "/api/notes/%d", ""})
			likeMissing(pgtest.IDs(v.companies...), pgtest.IDs(a.companies()...),
				apiRoute{"GET", "/api/companies/%d", ""},
				apiRoute{"PATCH", "/api/companies/%d", `{"name":"seen"}`},
				apiRoute{"DELETE", "/api/companies/%d", ""})
			likeMissing(pgtest.IDs(v.users...), pgtest.IDs(a.allUsers()...),
				apiRoute{"GET", "/api/users/%d", ""},
				apiRoute{"PATCH", "/api/users/%d", `{"name":"seen"}`},
				apiRoute{"DELETE", "/api/users/%d", ""})
		})
	}
	for _, role := range []string{"manager", "member", "client", "banned"} {
		assert.True(t, hiddenSomething[role], "the world hides nothing from %s: the test proves nothing", role)
	}
	w.db.AssertUnchanged(t, before, "hidden rows")
}

// TestHTTPReadiness: /healthz is 200; /readyz is 503 unavailable while the
// database refuses connections, and 200 again once it accepts them, without
// a restart; data routes are 503 unavailable meanwhile, not 500.
func TestHTTPReadiness(t *testing.T) {
	t.Parallel()
	w := apiNewWorld(t, apiOptions{loginLimit: 1000})
	tok := w.tokens["member"]
	r := w.do(t, "GET", "/healthz", "", "")
	apiStatus(t, r, http.StatusOK)
	r = w.do(t, "GET", "/readyz", "", "")
	apiStatus(t, r, http.StatusOK)

	u, err := url.Parse(w.db.URL)
	require.NoError(t, err)
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := sql.Open("postgres", pgtest.ServerURL(t))
	require.NoError(t, err)
	ctx := context.Background()
	allow := func(ok bool) {
		_, err := admin.ExecContext(ctx, fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %t", pq.QuoteIdentifier(name), ok))
		require.NoError(t, err)
	}
	t.Cleanup(func() { // runs before pgtest drops the database
		admin.ExecContext(ctx, "ALTER DATABASE "+pq.QuoteIdentifier(name)+" ALLOW_CONNECTIONS true")
		admin.Close()
	})
	allow(false)
	_, err = admin.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, name)
	require.NoError(t, err)

	apiErrorBody(t, w.do(t, "GET", "/readyz", "", ""), http.StatusServiceUnavailable, "unavailable")
	apiErrorBody(t, w.do(t, "GET", "/readyz", "", ""), http.StatusServiceUnavailable, "unavailable")
	apiStatus(t, w.do(t, "GET", "/healthz", "", ""), http.StatusOK)
	failed := false
	for _, r := range []apiResp{
		w.do(t, "GET", "/api/me", tok, ""),
		w.do(t, "GET", "/api/jobs", tok, ""),
		w.do(t, "POST", "/api/session", "", fmt.Sprintf(`{"email":%q,"password":%q}`, w.a.users["member"].Email, apiPassword)),
	} {
		apiErrorBody(t, r, http.StatusServiceUnavailable, "unavailable")
		failed = failed || r.code != http.StatusServiceUnavailable
	}
	if failed {
		for _, line := range strings.Split(w.log.String(), "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Logf("server log: %s", line)
			}
		}
	}

	allow(true)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r = w.do(t, "GET", "/readyz", "", "")
		if r.code == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	apiStatus(t, r, http.StatusOK)
	assert.Equal(t, "ready", apiObject(t, r)["status"])
	apiStatus(t, w.do(t, "GET", "/api/me", tok, ""), http.StatusOK)
}

// apiCheckAuthor checks a note's preloaded author, if the viewer may see it:
// a client sees only themself and the managers of their jobs, so the author
// of another's note is absent, never shown.
func apiCheckAuthor(t *testing.T, viewer string, n map[string]any, check func(*testing.T, string, map[string]any)) {
	t.Helper()
	e, _ := n["edges"].(map[string]any)
	author, ok := e["author"].(map[string]any)
	if !ok {
		assert.Equal(t, "client", viewer, "only a client may miss a note's author: %v", n)
		return
	}
	assert.Equal(t, apiInt(t, n["author_id"]), apiInt(t, author["id"]))
	check(t, viewer, author)
}
