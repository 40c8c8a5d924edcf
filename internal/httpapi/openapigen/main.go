// Command openapigen writes internal/httpapi/openapi.json, the OpenAPI 3.1
// document of the HTTP API (docs/design.md sections 6 and 11), which the server
// embeds and serves at GET /api/openapi.json.
//
// The document is generated rather than written by hand because it is
// regular: every signed-in route answers 401 and 503, every route with an
// {id} answers 404, every route with a body answers 400, 415 and 422, and the
// admin surface repeats the user surface. Those rules are written once here,
// so that a new route gets them right. The enums and limits (roles, job
// statuses, actions, redacted fields, preload paths, page size) come from
// the packages that own them. The output is checked in, so a change to the
// API shows as a diff of the document, and CI's `go generate ./...` drift
// check fails if it is stale.
//
//	go run ./openapigen -o openapi.json   (from internal/httpapi; see go:generate in openapi.go)
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/scopegate/scopegate/ent/job"
	"github.com/scopegate/scopegate/ent/user"
	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
)

func main() {
	out := flag.String("o", "openapi.json", "where to write the document")
	flag.Parse()
	b, err := render(document())
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}

// obj is a JSON object; encoding/json writes its keys sorted, so the output
// is the same on every run.
type obj = map[string]any

func render(doc obj) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ref(kind, name string) obj { return obj{"$ref": "#/components/" + kind + "/" + name} }
func schemaRef(name string) obj { return ref("schemas", name) }

// object is a closed object schema: a property not listed fails
// validation, so a field that reaches a client by accident is caught.
func object(required []string, props obj) obj {
	o := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func arrayOf(items obj) obj { return obj{"type": "array", "items": items} }

func str(desc string) obj {
	o := obj{"type": "string"}
	if desc != "" {
		o["description"] = desc
	}
	return o
}

func enum[T ~string](values ...T) obj {
	vs := make([]string, len(values))
	for i, v := range values {
		vs[i] = string(v)
	}
	return obj{"type": "string", "enum": vs}
}

// surfaceNames spells preload.Surfaces as the JSON does.
func surfaceNames() []string {
	out := make([]string, len(preload.Surfaces))
	for i, s := range preload.Surfaces {
		out[i] = s.String()
	}
	return out
}

var (
	// The enums of the ent schema.
	roles    = []user.Role{user.RoleAdmin, user.RoleManager, user.RoleMember, user.RoleClient}
	statuses = []job.Status{job.StatusDraft, job.StatusPublished, job.StatusArchived}

	id        = obj{"type": "integer", "minimum": 1}
	boolean   = obj{"type": "boolean"}
	timestamp = obj{"type": "string", "format": "date-time"}
)

// input is a string field of a request body: no NUL byte, and at most max
// characters where the schema has a limit (0: none in the document).
func input(minLen, maxLen int, desc string) obj {
	o := obj{"type": "string", "pattern": "^[^\\x00]*$"}
	if minLen > 0 {
		o["minLength"] = minLen
	}
	if maxLen > 0 {
		o["maxLength"] = maxLen
	}
	if desc != "" {
		o["description"] = desc
	}
	return o
}

// maxIDs is the most ids a list in a body may hold (docs/design.md section 11).
const maxIDs = 100

// maxText is the longest job description and note body, in characters:
// the text columns have no limit of their own, the API's is this (the
// conformance work of issue 12 names it repo.MaxDescriptionLen and
// repo.MaxNoteBodyLen; use those once both are merged).
const maxText = 20000

func idList(desc string) obj {
	return obj{"type": "array", "items": id, "maxItems": maxIDs, "description": desc}
}

func redacted(object string) obj {
	return obj{"type": "array", "items": enum(policy.RedactedFieldsOf(object)...),
		"description": "The fields of this object the caller may not read: absent above, named here (docs/design.md section 5)."}
}

func schemas() obj {
	actions := []policy.Action{}
	for _, r := range policy.Rules() {
		actions = append(actions, r.Action)
	}
	var entities []preload.Entity
	for _, d := range preload.Describe() {
		if !slices.Contains(entities, d.Entity) {
			entities = append(entities, d.Entity)
		}
	}
	return obj{
		// ---- errors
		"Error": object([]string{"error"}, obj{"error": schemaRef("ErrorObject")}),
		"ErrorObject": obj{
			"type": "object", "additionalProperties": false,
			"required": []string{"code", "message"},
			"properties": obj{
				"code":    enum(errorCodes()...),
				"message": obj{"type": "string", "minLength": 1},
				"fields": obj{"type": "object", "minProperties": 1,
					"additionalProperties": obj{"type": "string", "minLength": 1},
					"description":          "Per-field messages (422 invalid; 400 bad_request for a named field or query parameter)."},
				"allowed": obj{"type": "array", "items": str(""),
					"description": "The preload paths allowed for this entity and surface (400 preload_not_allowed)."},
				"rule":  str("The policy rule (object.action) that denied the request (403)."),
				"check": str("The check that decided the denial (403)."),
			},
			// Each code carries what docs/design.md section 6 says it does.
			"allOf": []any{
				ifCode("preload_not_allowed", obj{"required": []string{"allowed"}}),
				ifCode("forbidden", obj{"required": []string{"rule", "check"}}),
				ifCode("invalid", obj{"required": []string{"fields"}}),
			},
		},

		// ---- entities
		"Organization": object([]string{"id", "name", "slug"}, obj{"id": id, "name": str(""), "slug": str("")}),
		"User": object([]string{"id", "org_id", "name", "role", "banned", "active", "created_at", "updated_at"}, obj{
			"id": id, "org_id": id,
			"email":      str("Absent (and named in redacted) unless the caller is an admin or this user."),
			"name":       str(""),
			"phone":      str("Absent (and named in redacted) unless the caller is an admin or this user; absent when empty."),
			"role":       enum(roles...),
			"banned":     boolean,
			"active":     boolean,
			"company_id": obj{"type": "integer", "minimum": 1, "description": "Clients only: their company."},
			"created_at": timestamp, "updated_at": timestamp,
			"edges": object(nil, obj{
				"company":      schemaRef("Company"),
				"managed_jobs": arrayOf(schemaRef("Job")),
			}),
			"redacted": redacted("user"),
		}),
		"Company": object([]string{"id", "org_id", "name", "archived", "created_at", "updated_at"}, obj{
			"id": id, "org_id": id, "name": str(""), "archived": boolean,
			"created_at": timestamp, "updated_at": timestamp,
			"edges": object(nil, obj{"jobs": arrayOf(schemaRef("Job"))}),
		}),
		"Job": object([]string{"id", "org_id", "company_id", "title", "description", "status", "created_by_id", "created_at", "updated_at"}, obj{
			"id": id, "org_id": id, "company_id": id,
			"title": str(""), "description": str(""),
			"status":        enum(statuses...),
			"salary_max":    obj{"type": "integer", "description": "Absent when not set, and for clients (then named in redacted)."},
			"created_by_id": id,
			"created_at":    timestamp, "updated_at": timestamp,
			"edges": object(nil, obj{
				"company":  schemaRef("Company"),
				"creator":  schemaRef("User"),
				"managers": arrayOf(schemaRef("User")),
				"notes":    arrayOf(schemaRef("Note")),
			}),
			"redacted": redacted("job"),
		}),
		"Note": object([]string{"id", "org_id", "job_id", "author_id", "body", "internal", "created_at", "updated_at"}, obj{
			"id": id, "org_id": id, "job_id": id, "author_id": id,
			"body": str(""), "internal": boolean,
			"created_at": timestamp, "updated_at": timestamp,
			"edges": object(nil, obj{"author": schemaRef("User")}),
		}),
		"PolicyRule": object([]string{"object", "action", "allow", "deny", "description"}, obj{
			"object": str(""), "action": str("object.action"),
			"allow":       obj{"type": "array", "items": arrayOf(str("")), "description": "Any list allows when all of its checks pass."},
			"deny":        obj{"type": "array", "items": str(""), "description": "Any check denies."},
			"description": str(""),
			"metadata":    obj{"type": "object", "additionalProperties": str("")},
		}),
		"PreloadDescription": object([]string{"entity", "surface", "edge", "target", "filter", "order"}, obj{
			"entity": enum(entities...), "surface": enum(surfaceNames()...),
			"edge": str(""), "target": enum(entities...),
			"filter": str(""), "order": str(""),
			"limit_per_parent": obj{"type": "integer", "minimum": 1},
		}),
		"Me": object([]string{"user", "org", "role", "can"}, obj{
			"user": schemaRef("User"), "org": schemaRef("Organization"), "role": enum(roles...),
			"can": obj{"type": "array", "items": enum(actions...), "description": "The actions the policy could allow this user, as object.action."},
		}),
		"Session": object([]string{"token", "expires_at"}, obj{
			"token": obj{"type": "string", "minLength": 1, "description": "Send it as Authorization: Bearer <token>."}, "expires_at": timestamp,
		}),
		"Health": described(object([]string{"status"}, obj{
			"status":   obj{"const": "ok"},
			"version":  str("The main module's version: a tag, a pseudo-version or (devel)."),
			"revision": str("The VCS commit; empty when the build recorded none."),
			"time":     str("The commit's time; empty when the build recorded none."),
			"modified": obj{"type": "boolean", "description": "The work tree had uncommitted changes."},
			"go":       str("The Go version it was built with."),
		}), "Liveness, and the build it runs (docs/design.md section 11)."),
		"Ready": object([]string{"status"}, obj{"status": obj{"const": "ready"}}),

		// ---- request bodies
		"LoginRequest": object([]string{"email", "password"}, obj{
			"email": input(0, 320, ""), "password": input(0, 72, "At most 72 bytes: a longer one is 422."),
		}),
		"JobCreate": object([]string{"title", "company_id"}, jobInput()),
		"JobPatch": described(object(nil, jobInput()),
			"Only the fields given change; a PATCH that changes nothing changes nothing (no updated_at bump). salary_max: null clears it."),
		"CompanyCreate": object([]string{"name"}, companyInput()),
		"CompanyPatch":  object(nil, companyInput()),
		"NoteCreate":    object([]string{"body"}, noteInput()),
		"NotePatch":     object(nil, noteInput()),
		"UserCreate": object([]string{"email", "name", "role", "password"}, obj{
			"email": input(1, 320, ""), "name": input(1, 200, ""), "phone": input(0, 50, ""),
			"role":       enum(roles...),
			"password":   input(1, 72, "At most 72 bytes (bcrypt's limit): a longer one is 422."),
			"company_id": obj{"type": []string{"integer", "null"}, "minimum": 1, "description": "Clients only: their company."},
		}),
		"UserPatch": described(object(nil, obj{
			"name": input(1, 200, ""), "phone": input(0, 50, ""),
			"role": enum(roles...), "banned": boolean, "active": boolean,
			"company_id": obj{"type": []string{"integer", "null"}, "minimum": 1},
		}), "A user may change their own name and phone; admins may change every field here. Banning or deactivating revokes the user's sessions."),
	}
}

func described(o obj, desc string) obj { o["description"] = desc; return o }

func ifCode(code string, then obj) obj {
	return obj{"if": obj{"properties": obj{"code": obj{"const": code}}, "required": []string{"code"}}, "then": then}
}

func jobInput() obj {
	return obj{
		"title": input(1, 200, ""), "description": input(0, maxText, ""),
		"company_id":  id,
		"status":      enum(statuses...),
		"salary_max":  obj{"type": []string{"integer", "null"}, "minimum": 0},
		"manager_ids": idList("Users of the caller's organization who manage the job; an id the caller cannot see is 404."),
	}
}

func companyInput() obj { return obj{"name": input(1, 200, ""), "archived": boolean} }

func noteInput() obj { return obj{"body": input(1, maxText, ""), "internal": boolean} }

// errorStatus is one error answer of docs/design.md section 6.
type errorStatus struct {
	status  int
	name    string // its components/responses name
	codes   []string
	desc    string
	headers obj
}

var errorStatuses = []errorStatus{
	{status: 400, name: "BadRequest", codes: []string{"bad_request", "preload_not_allowed"},
		desc: "The request could not be read: malformed JSON, an unknown field, a wrong type, a null or non-object body, a body over 1 MiB, an unknown or bad query parameter, a malformed Scopegate-Read-After header (bad_request); or a preload path not allowed here (preload_not_allowed, with allowed). Nothing is written."},
	{status: 401, name: "Unauthenticated", codes: []string{"unauthenticated"},
		desc:    "Missing, unknown, expired or revoked credentials; on POST /api/session, a wrong email or password.",
		headers: obj{"WWW-Authenticate": obj{"description": "Bearer (docs/design.md section 11).", "schema": str("")}}},
	{status: 403, name: "Forbidden", codes: []string{"forbidden"},
		desc: "The caller can see the row but may not change it, or the role may not use the route: rule and check name the denial."},
	{status: 404, name: "NotFound", codes: []string{"not_found"},
		desc: "No such row, or one the caller may not see: the same body, byte for byte. Also any path that is not a route."},
	{status: 405, name: "MethodNotAllowed", codes: []string{"method_not_allowed"},
		desc:    "A route's path with a method it does not serve; Allow lists the methods it does.",
		headers: obj{"Allow": obj{"description": "The methods the path serves.", "schema": str("")}}},
	{status: 409, name: "Conflict", codes: []string{"conflict"},
		desc: "The write conflicts with stored rows: a duplicate, a row still in use, a concurrent change."},
	{status: 415, name: "UnsupportedMediaType", codes: []string{"unsupported_media_type"},
		desc: "A request body that is not application/json."},
	{status: 422, name: "Invalid", codes: []string{"invalid"},
		desc: "The body is well-formed but a value is not acceptable: fields names each and why (a missing or empty required field, a bad enum value, a NUL byte, an over-long string, a password over 72 bytes, more than 100 ids)."},
	{status: 429, name: "RateLimited", codes: []string{"rate_limited"},
		desc:    "Too many failed logins for this email or from this address.",
		headers: obj{"Retry-After": obj{"description": "Seconds until the next attempt may succeed.", "schema": str("")}}},
	{status: 503, name: "Unavailable", codes: []string{"unavailable"},
		desc:    "The database is unreachable or did not answer within the request's deadline (an outage, a restart, an exhausted pool, a slow statement), or, on /readyz, not at this binary's schema version. Retry after the seconds in Retry-After.",
		headers: obj{"Retry-After": obj{"description": "Seconds to wait before trying again.", "schema": str("")}}},
}

func errorCodes() []string {
	var out []string
	for _, e := range errorStatuses {
		out = append(out, e.codes...)
	}
	return out
}

func errorResponses() obj {
	out := obj{}
	for _, e := range errorStatuses {
		body := obj{"allOf": []any{schemaRef("Error"),
			obj{"properties": obj{"error": obj{"properties": obj{"code": enum(e.codes...)}}}}}}
		r := obj{"description": e.desc, "content": obj{"application/json": obj{"schema": body}}}
		if e.headers != nil {
			// Every answer of the status carries them (docs/design.md
			// section 11): required, so a test's answer without one fails.
			for _, h := range e.headers {
				h.(obj)["required"] = true
			}
			r["headers"] = e.headers
		}
		out[e.name] = r
	}
	return out
}

func statusName(status int) string {
	for _, e := range errorStatuses {
		if e.status == status {
			return e.name
		}
	}
	panic(fmt.Sprintf("no error response for %d", status))
}

// param names a components/parameters entry.
type param string

const (
	pID      param = "ID"
	pLimit   param = "Limit"
	pCursor  param = "Cursor"
	pStatus  param = "Status"
	pPreload param = "Preload" // per operation: its description lists the allowed paths
	pAllow   param = "Allow"
	pUses    param = "Uses"
	pObject  param = "Object"
	// pReadAfter is the read-your-writes header (httpapi.HeaderReadAfter).
	pReadAfter param = "ReadAfter"
)

// readAfterHeader is httpapi.HeaderReadAfter (this command cannot import
// the package it generates for); TestOpenAPIReadAfterHeader ties them.
const readAfterHeader = "Scopegate-Read-After"

// lsnPattern is a WAL position as PostgreSQL writes it.
const lsnPattern = "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$"

func parameters() obj {
	q := func(name, desc string, schema obj) obj {
		return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
	}
	return obj{
		string(pID): obj{"name": "id", "in": "path", "required": true, "schema": id,
			"description": "A row id. An id the caller may not see answers exactly as one that does not exist (404); so does an id that is not a positive integer."},
		string(pLimit): q("limit", fmt.Sprintf("Page size, 1 to %d (default %d).", repo.MaxLimit, repo.DefaultLimit),
			obj{"type": "integer", "minimum": 1, "maximum": repo.MaxLimit, "default": repo.DefaultLimit}),
		string(pCursor): q("cursor", "The next_cursor of the previous page of the same list (same surface, filter and entity).",
			obj{"type": "string", "minLength": 1}),
		string(pStatus): q("status", "Only jobs of this status.", enum(statuses...)),
		string(pAllow):  q("allow", "Only rules whose allow lists use this check, e.g. role:manager.", str("")),
		string(pUses):   q("uses", "Only rules that use this check anywhere (allow or deny).", str("")),
		string(pObject): q("object", "Only rules of this object (job, company, note, user).", str("")),
		string(pReadAfter): obj{"name": readAfterHeader, "in": "header", "required": false,
			"description": "Read your writes when the server reads from replicas: the " + readAfterHeader + " of the answer to your last write. " +
				"The request's reads then come from a replica that has replayed that write, or from the primary. A value that is not a WAL position is 400 bad_request. " +
				"Servers without replicas check it and otherwise ignore it.",
			"schema": obj{"type": "string", "pattern": lsnPattern}},
	}
}

// op is one operation of docs/design.md section 6.
type op struct {
	method, path string
	id, summary  string
	tag          string
	public       bool
	admin        bool // admins only: 403 for anyone else
	entity       preload.Entity
	surface      preload.Surface
	list         bool // a list: limit and cursor
	query        []param
	body         string // request body schema
	ok           int
	result       string // response schema of ok; "" for none (204)
	resultWrap   string // "one", "list" or "" (the schema as it is)
	errs         []int  // besides those every operation of its kind gets
}

// ops lists the routes of routes.go. The test TestOpenAPIListsEveryRoute
// fails if the server registers a route that is not here, or the other way.
func ops() []op {
	out := []op{
		{method: "GET", path: "/healthz", id: "healthz", summary: "Liveness", tag: "operations", public: true, ok: 200, result: "Health"},
		{method: "GET", path: "/readyz", id: "readyz", summary: "Readiness: the database is reachable and at this binary's schema version", tag: "operations",
			public: true, ok: 200, result: "Ready", errs: []int{503}},
		{method: "GET", path: "/api/openapi.json", id: "openapi", summary: "This document", tag: "operations", public: true, ok: 200, result: "-"},
		{method: "POST", path: "/api/session", id: "login", summary: "Sign in: a bearer token", tag: "session", public: true,
			body: "LoginRequest", ok: 201, result: "Session", errs: []int{401, 429}},
		{method: "DELETE", path: "/api/session", id: "logout", summary: "Sign out: the token stops working", tag: "session", ok: 204},
		{method: "GET", path: "/api/me", id: "me", summary: "The caller, their organization, role, and what the policy lets them do", tag: "session",
			ok: 200, result: "Me", resultWrap: "one"},
		{method: "GET", path: "/api/policy", id: "policy", summary: "The policy rules (admins only)", tag: "policy", admin: true,
			query: []param{pAllow, pUses, pObject}, ok: 200, result: "PolicyRule", resultWrap: "list", errs: []int{400}},
		{method: "GET", path: "/api/preloads", id: "preloads", summary: "The preload registry of the caller's surfaces", tag: "policy",
			ok: 200, result: "PreloadDescription", resultWrap: "list"},
	}
	type ent struct {
		entity preload.Entity
		plural string
		schema string
		tag    string
	}
	ents := []ent{{preload.Job, "jobs", "Job", "jobs"}, {preload.Company, "companies", "Company", "companies"}, {preload.User, "users", "User", "users"}}
	for _, sf := range []struct {
		prefix  string
		surface preload.Surface
		admin   bool
		idPart  string
	}{{"/api", preload.SurfaceUser, false, ""}, {"/api/admin", preload.SurfaceAdmin, true, "Admin"}} {
		for _, e := range ents {
			list := op{method: "GET", path: sf.prefix + "/" + e.plural, id: "list" + sf.idPart + title(e.plural), tag: e.tag,
				summary: "List " + e.plural + " the caller may see", admin: sf.admin, entity: e.entity, surface: sf.surface, list: true,
				ok: 200, result: e.schema, resultWrap: "list", errs: []int{400}}
			if e.entity == preload.Job {
				list.query = []param{pStatus}
			}
			get := op{method: "GET", path: sf.prefix + "/" + e.plural + "/{id}", id: "get" + sf.idPart + e.schema, tag: e.tag,
				summary: "One " + strings.ToLower(e.schema), admin: sf.admin, entity: e.entity, surface: sf.surface,
				ok: 200, result: e.schema, resultWrap: "one", errs: []int{400}}
			if sf.admin {
				list.summary += " (admin surface, admins only)"
				get.summary += " (admin surface, admins only)"
			}
			out = append(out, list, get)
		}
	}
	write := func(method, path, id, summary, tag, body string, ok int, result string) op {
		return op{method: method, path: path, id: id, summary: summary, tag: tag, body: body, ok: ok, result: result, resultWrap: "one"}
	}
	out = append(out,
		write("POST", "/api/jobs", "createJob", "Create a job (admins, managers)", "jobs", "JobCreate", 201, "Job"),
		write("PATCH", "/api/jobs/{id}", "updateJob", "Change a job (admins, its managers)", "jobs", "JobPatch", 200, "Job"),
		write("DELETE", "/api/jobs/{id}", "deleteJob", "Delete a job (admins)", "jobs", "", 204, ""),
		op{method: "GET", path: "/api/jobs/{id}/notes", id: "listNotes", summary: "The notes of a job the caller may see", tag: "notes",
			entity: preload.Note, surface: preload.SurfaceUser, list: true, ok: 200, result: "Note", resultWrap: "list", errs: []int{400}},
		write("POST", "/api/jobs/{id}/notes", "createNote", "Add a note to a job", "notes", "NoteCreate", 201, "Note"),
		write("PATCH", "/api/notes/{id}", "updateNote", "Change a note (admins, its author)", "notes", "NotePatch", 200, "Note"),
		write("DELETE", "/api/notes/{id}", "deleteNote", "Delete a note (admins, its author)", "notes", "", 204, ""),
		write("POST", "/api/companies", "createCompany", "Create a company (admins)", "companies", "CompanyCreate", 201, "Company"),
		write("PATCH", "/api/companies/{id}", "updateCompany", "Change a company (admins)", "companies", "CompanyPatch", 200, "Company"),
		write("DELETE", "/api/companies/{id}", "deleteCompany", "Delete a company (admins)", "companies", "", 204, ""),
		write("POST", "/api/users", "createUser", "Create a user (admins)", "users", "UserCreate", 201, "User"),
		write("PATCH", "/api/users/{id}", "updateUser", "Change a user (admins; a user their own name and phone)", "users", "UserPatch", 200, "User"),
		write("DELETE", "/api/users/{id}", "deleteUser", "Delete a user (admins)", "users", "", 204, ""),
	)
	return out
}

func title(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// responses adds to o.errs what every operation of its kind answers.
func (o op) responses() obj {
	errs := slices.Clone(o.errs)
	add := func(s ...int) { errs = append(errs, s...) }
	hasID := strings.Contains(o.path, "{id}")
	write := o.method == "POST" || o.method == "PATCH" || o.method == "DELETE"
	if !o.public {
		add(400, 401) // 400: a malformed Scopegate-Read-After
	}
	if o.admin {
		add(403)
	}
	if hasID {
		add(404)
	}
	if o.body != "" {
		add(400, 415, 422)
	}
	if write && o.path != "/api/session" {
		// A mutation asks the policy (403); a body may name a row the
		// caller cannot see (404); it may conflict (409).
		add(403, 404, 409)
	}
	if o.path != "/healthz" && o.path != "/api/openapi.json" {
		add(503)
	}
	slices.Sort(errs)
	errs = slices.Compact(errs)
	rs := obj{}
	switch {
	case o.result == "":
		rs[fmt.Sprint(o.ok)] = obj{"description": "Done; no body."}
	case o.result == "-":
		rs[fmt.Sprint(o.ok)] = obj{"description": "The OpenAPI 3.1 document.",
			"content": obj{"application/json": obj{"schema": obj{"type": "object", "required": []string{"openapi", "paths"}}}}}
	default:
		s := schemaRef(o.result)
		desc := "The " + strings.ToLower(o.result) + "."
		switch o.resultWrap {
		case "one":
			s = object([]string{"data"}, obj{"data": s})
		case "list":
			desc = "A page: next_cursor is absent on the last one."
			s = object([]string{"data"}, obj{
				"data":        arrayOf(s),
				"next_cursor": obj{"type": "string", "minLength": 1, "description": "Pass it as cursor for the next page; absent on the last page."},
			})
		}
		if o.ok == 201 {
			desc = "Created."
		}
		rs[fmt.Sprint(o.ok)] = obj{"description": desc, "content": obj{"application/json": obj{"schema": s}}}
	}
	if write {
		rs[fmt.Sprint(o.ok)].(obj)["headers"] = obj{readAfterHeader: obj{
			"description": "With read replicas: the primary's WAL position after this write. Send it back as " + readAfterHeader + " to read the write back.",
			"schema":      obj{"type": "string", "pattern": lsnPattern}}}
	}
	for _, s := range errs {
		rs[fmt.Sprint(s)] = ref("responses", statusName(s))
	}
	return rs
}

func (o op) operation() obj {
	op := obj{"operationId": o.id, "summary": o.summary, "tags": []string{o.tag}, "responses": o.responses()}
	if o.public {
		op["security"] = []any{}
	}
	var ps []any
	if strings.Contains(o.path, "{id}") {
		ps = append(ps, ref("parameters", string(pID)))
	}
	if !o.public {
		ps = append(ps, ref("parameters", string(pReadAfter)))
	}
	if o.entity != "" {
		allowed := preload.Allowed(o.entity, o.surface)
		ps = append(ps, obj{"name": "preload", "in": "query", "required": false,
			"description": fmt.Sprintf("Relations to load, comma-separated, dots for depth (at most %d levels). Allowed on the %s surface for %s: %s. Anything else is 400 preload_not_allowed.",
				preload.MaxDepth, o.surface, o.entity, strings.Join(allowed, ", ")),
			"schema": obj{"type": "string"}})
	}
	for _, p := range o.query {
		ps = append(ps, ref("parameters", string(p)))
	}
	if o.list {
		ps = append(ps, ref("parameters", string(pLimit)), ref("parameters", string(pCursor)))
	}
	if len(ps) > 0 {
		op["parameters"] = ps
	}
	if o.body != "" {
		op["requestBody"] = obj{"required": true,
			"content": obj{"application/json": obj{"schema": schemaRef(o.body)}}}
	}
	return op
}

const description = `The JSON API of Scopegate (docs/design.md section 6). Every read and write runs in the caller's scope: a row the caller may not see answers exactly as a row that does not exist (404, same body).

Authentication: POST /api/session returns a token; send it as ` + "`Authorization: Bearer <token>`" + `.

Answers: one object is {"data": {...}}; a list is {"data": [...], "next_cursor": "..."} (next_cursor absent on the last page); an error is {"error": {"code", "message", ...}}. Relations loaded with preload sit under each object's edges, keyed by edge name. Redacted fields are absent and named in the object's redacted array.

Outside the paths listed here: any other path answers 404 not_found, and a listed path with a method it does not list answers 405 method_not_allowed with Allow. Every answer carries X-Request-Id. No input answers 500.`

func document() obj {
	paths := obj{}
	for _, o := range ops() {
		item, _ := paths[o.path].(obj)
		if item == nil {
			item = obj{}
			paths[o.path] = item
		}
		item[strings.ToLower(o.method)] = o.operation()
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{
			"title":       "Scopegate API",
			"version":     "1",
			"description": description,
		},
		"security": []any{obj{"bearer": []string{}}},
		"tags": []any{
			obj{"name": "session"}, obj{"name": "jobs"}, obj{"name": "notes"}, obj{"name": "companies"},
			obj{"name": "users"}, obj{"name": "policy"}, obj{"name": "operations"},
		},
		"paths": paths,
		"components": obj{
			"securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer",
				"description": "A token from POST /api/session. Only its hash is stored."}},
			"schemas":    schemas(),
			"responses":  errorResponses(),
			"parameters": parameters(),
		},
	}
}
