package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/scopegate/scopegate/internal/policy"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
	"github.com/scopegate/scopegate/internal/version"
)

func (s *Server) routes() {
	s.handle("GET /healthz", public, s.healthz)
	s.handle("GET /readyz", public, s.readyz)
	s.handle("GET /api/openapi.json", public, s.openapi)
	s.handle("POST /api/session", public, s.login)
	s.handle("DELETE /api/session", signedIn, s.logout)
	s.handle("GET /api/me", signedIn, s.me)
	s.handle("GET /api/policy", adminOnly, s.policy)
	s.handle("GET /api/preloads", signedIn, s.preloads)

	for _, sf := range []struct {
		prefix  string
		surface preload.Surface
		access  access
	}{{"/api", preload.SurfaceUser, signedIn}, {"/api/admin", preload.SurfaceAdmin, adminOnly}} {
		s.handle("GET "+sf.prefix+"/jobs", sf.access, s.listJobs(sf.surface))
		s.handle("GET "+sf.prefix+"/jobs/{id}", sf.access, getOne(sf.surface, s.repos.Jobs.Get, viewJob))
		s.handle("GET "+sf.prefix+"/companies", sf.access, listAll(sf.surface, s.repos.Companies.List, viewCompany))
		s.handle("GET "+sf.prefix+"/companies/{id}", sf.access, getOne(sf.surface, s.repos.Companies.Get, viewCompany))
		s.handle("GET "+sf.prefix+"/users", sf.access, listAll(sf.surface, s.repos.Users.List, viewUser))
		s.handle("GET "+sf.prefix+"/users/{id}", sf.access, getOne(sf.surface, s.repos.Users.Get, viewUser))
	}
	s.handle("POST /api/jobs", signedIn, s.createJob)
	s.handle("PATCH /api/jobs/{id}", signedIn, s.updateJob)
	s.handle("DELETE /api/jobs/{id}", signedIn, deleteOne(s.repos.Jobs.Delete))
	s.handle("GET /api/jobs/{id}/notes", signedIn, s.listNotes)
	s.handle("POST /api/jobs/{id}/notes", signedIn, s.createNote)
	s.handle("PATCH /api/notes/{id}", signedIn, s.updateNote)
	s.handle("DELETE /api/notes/{id}", signedIn, deleteOne(s.repos.Notes.Delete))
	s.handle("POST /api/companies", signedIn, s.createCompany)
	s.handle("PATCH /api/companies/{id}", signedIn, s.updateCompany)
	s.handle("DELETE /api/companies/{id}", signedIn, deleteOne(s.repos.Companies.Delete))
	s.handle("POST /api/users", signedIn, s.createUser)
	s.handle("PATCH /api/users/{id}", signedIn, s.updateUser)
	s.handle("DELETE /api/users/{id}", signedIn, deleteOne(s.repos.Users.Delete))
	s.handle("/", public, s.noRoute)
}

// pathID reads {id}. A malformed id is a 404 like any other id that names
// no row the caller can see.
func pathID(r *http.Request) (int, error) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id <= 0 {
		return 0, repo.ErrNotFound
	}
	return id, nil
}

func scopeOf(r *http.Request) scope.Scope {
	sc, _ := scope.FromContext(r.Context())
	return sc
}

// listOptions reads preload, limit and cursor, refusing anything else.
func listOptions(q url.Values, extra ...string) (repo.ListOptions, error) {
	allowed := map[string]bool{"preload": true, "limit": true, "cursor": true}
	for _, e := range extra {
		allowed[e] = true
	}
	for k, v := range q {
		if !allowed[k] {
			return repo.ListOptions{}, &badRequest{msg: "unknown query parameter", fields: map[string]string{k: "unknown"}}
		}
		if len(v) > 1 {
			return repo.ListOptions{}, &badRequest{msg: "repeated query parameter", fields: map[string]string{k: "given more than once"}}
		}
	}
	o := repo.ListOptions{Preload: q.Get("preload"), Cursor: q.Get("cursor")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > repo.MaxLimit {
			return o, &badRequest{msg: "invalid limit", fields: map[string]string{"limit": "must be between 1 and 200"}}
		}
		o.Limit = n
	}
	return o, nil
}

func getOptions(q url.Values) (repo.GetOptions, error) {
	for k := range q {
		if k != "preload" {
			return repo.GetOptions{}, &badRequest{msg: "unknown query parameter", fields: map[string]string{k: "unknown"}}
		}
	}
	return repo.GetOptions{Preload: q.Get("preload")}, nil
}

type listBody[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor,omitempty"`
}

type oneBody[T any] struct {
	Data T `json:"data"`
}

// healthz says the process is up, and which build it runs (docs/design.md
// section 11): {"status":"ok","version":…,"revision":…,"time":…,
// "modified":…,"go":…}.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, healthBody{Status: "ok", Info: build})
	return nil
}

type healthBody struct {
	Status string `json:"status"`
	version.Info
}

// build is the running binary's version; it does not change.
var build = version.Get()

// readyz says whether the database can serve this binary (Config.Ready):
// {"status":"ready"}, or a not-ready error answered, like every error,
// through the answers table (503 unavailable with Retry-After).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := contextTimeout(r, 2*time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			return &notReady{err: err}
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

type loginRequest struct {
	Email    string `json:"email" max:"320"`
	Password string `json:"password" maxbytes:"72"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	if err := decode(r, &in); err != nil {
		return err
	}
	email, host := normalEmail(in.Email), clientAddr(r)
	if wait, ok := s.limiter.begin(email, host); !ok {
		return &rateLimited{retryAfter: wait}
	}
	token, expires, err := s.repos.Sessions.Login(r.Context(), in.Email, in.Password)
	if err != nil {
		if !errors.Is(err, repo.ErrUnauthenticated) {
			// Not a wrong password: the database failed.
			s.limiter.abandoned(email, host)
			return err
		}
		s.log.WarnContext(r.Context(), "failed login", "remote_addr", host)
		return err
	}
	s.limiter.succeeded(email, host)
	writeJSON(w, http.StatusCreated, map[string]any{"token": token, "expires_at": expires})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	token, _ := bearer(r)
	if err := s.repos.Sessions.Logout(r.Context(), token); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	sc := scopeOf(r)
	u, red, err := s.repos.Users.Get(r.Context(), preload.SurfaceUser, sc.UserID(), repo.GetOptions{})
	if err != nil {
		return err
	}
	org, orgRed, err := s.repos.Organizations.Current(r.Context())
	if err != nil {
		return err
	}
	can, err := repo.Can(r.Context(), "")
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, oneBody[map[string]any]{Data: map[string]any{
		"user": viewUser(u, red), "org": viewOrg(org, orgRed), "role": sc.Role(), "can": can,
	}})
	return nil
}

func (s *Server) policy(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		if k != "allow" && k != "uses" && k != "object" {
			return &badRequest{msg: "unknown query parameter", fields: map[string]string{k: "unknown"}}
		}
	}
	writeJSON(w, http.StatusOK, listBody[policy.Rule]{Data: nonNil(policy.Find(policy.Filter{
		Allow: q.Get("allow"), Uses: q.Get("uses"), Object: q.Get("object"),
	}))})
	return nil
}

func (s *Server) preloads(w http.ResponseWriter, r *http.Request) error {
	sc := scopeOf(r)
	var out []preload.Description
	for _, d := range preload.Describe() {
		if d.Surface == preload.SurfaceUser || sc.Role() == scope.RoleAdmin && !sc.Banned() {
			out = append(out, d)
		}
	}
	writeJSON(w, http.StatusOK, listBody[preload.Description]{Data: nonNil(out)})
	return nil
}

func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}
