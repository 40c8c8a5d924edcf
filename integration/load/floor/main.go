// Command floor is the performance floor of issue 11: the job routes the
// load benchmark drives, written by hand with net/http, database/sql and
// lib/pq, the way a careful developer would write them without Scopegate.
//
// It serves the same JSON as `scopegate serve` for an admin on the user
// surface, from the same kinds of statements (one to authenticate, one for
// the rows, one per preload edge; the same link checks on create), under
// the same row-level security settings, so that what the benchmark
// measures between the two is the cost of the data layer, not of a
// different query plan. It is not a second implementation of the product:
// it serves admins only and knows one preload list.
//
//	DATABASE_URL=postgres://... floor --addr 127.0.0.1:0
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/lib/pq"
)

// preloads is the one preload list the floor serves.
const preloads = "company,managers,notes.author"

// notesPerJob is the user surface's per-job cap on notes (preload.NotesPerJob).
const notesPerJob = 20

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	conns := flag.Int("db-max-conns", 16, "maximum open database connections")
	flag.Parse()
	// binary_parameters=yes: lib/pq then sends a parameterized statement
	// in one round trip instead of two (docs/design.md section 8), what a careful
	// hand-written service would configure.
	db, err := sql.Open("postgres", withParam(os.Getenv("DATABASE_URL"), "binary_parameters=yes"))
	if err != nil {
		log.Fatal(err)
	}
	// The same pool shape as the server: as many idle connections as open
	// ones, so that concurrency does not open a connection per request.
	db.SetMaxOpenConns(*conns)
	db.SetMaxIdleConns(*conns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	f := &floor{db: db}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/jobs", f.handle(f.list))
	mux.HandleFunc("GET /api/jobs/{id}", f.handle(f.get))
	mux.HandleFunc("POST /api/jobs", f.handle(f.create))
	mux.HandleFunc("GET /metrics", memstats)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		<-c
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

func withParam(url, kv string) string {
	if strings.Contains(url, "?") {
		return url + "&" + kv
	}
	return url + "?" + kv
}

// memstats serves the two allocation counters the load benchmark reads, in
// the names and format of the Prometheus Go collector that `scopegate
// serve` exposes on its ops listener.
func memstats(w http.ResponseWriter, _ *http.Request) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	fmt.Fprintf(w, "go_memstats_mallocs_total %d\ngo_memstats_alloc_bytes_total %d\n", m.Mallocs, m.TotalAlloc)
}

type floor struct{ db *sql.DB }

// caller is the authenticated user.
type caller struct {
	id, org int
	role    string
}

type httpError struct {
	status     int
	code, text string
}

func (e *httpError) Error() string { return e.text }

var (
	errUnauthenticated = &httpError{http.StatusUnauthorized, "unauthenticated", "sign in first"}
	errForbidden       = &httpError{http.StatusForbidden, "forbidden", "the floor serves admins only"}
	errNotFound        = &httpError{http.StatusNotFound, "not_found", "not found"}
)

func (f *floor) handle(h func(http.ResponseWriter, *http.Request, caller) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := f.authenticate(r)
		if err == nil {
			err = h(w, r, c)
		}
		if err != nil {
			var he *httpError
			if !errors.As(err, &he) {
				log.Printf("%s %s: %v", r.Method, r.URL.Path, err)
				he = &httpError{http.StatusInternalServerError, "internal", "internal error"}
			}
			writeJSON(w, he.status, map[string]any{"error": map[string]string{"code": he.code, "message": he.text}})
		}
	}
}

// settings are the row-level security settings of one transaction, in the
// order of database.Settings.
type settings struct {
	org, user, role, authToken, inserting string
}

const setSettings = `SELECT set_config('scopegate.org_id', $1, true), set_config('scopegate.user_id', $2, true),
 set_config('scopegate.role', $3, true), set_config('scopegate.company_id', '', true),
 set_config('scopegate.banned', '', true), set_config('scopegate.system', '', true),
 set_config('scopegate.auth_email', '', true), set_config('scopegate.auth_token', $4, true),
 set_config('scopegate.inserting', $5, true), set_config('jit', 'off', true)`

func (f *floor) begin(ctx context.Context, s settings, readOnly bool) (*sql.Tx, error) {
	tx, err := f.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, setSettings, s.org, s.user, s.role, s.authToken, s.inserting); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	return tx, nil
}

func (f *floor) authenticate(r *http.Request) (caller, error) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return caller{}, errUnauthenticated
	}
	sum := sha256.Sum256([]byte(token))
	hash := hex.EncodeToString(sum[:])
	ctx := r.Context()
	tx, err := f.begin(ctx, settings{role: "authenticator", authToken: hash}, true)
	if err != nil {
		return caller{}, err
	}
	defer tx.Rollback()
	var c caller
	var banned, active bool
	err = tx.QueryRowContext(ctx, `SELECT u.id, u.org_id, u.role, u.banned, u.active FROM users u
WHERE EXISTS (SELECT 1 FROM sessions s WHERE s.user_id = u.id AND s.token_hash = $1 AND s.expires_at > $2)`,
		hash, time.Now()).Scan(&c.id, &c.org, &c.role, &banned, &active)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return caller{}, errUnauthenticated
	case err != nil:
		return caller{}, err
	}
	if err := tx.Commit(); err != nil {
		return caller{}, err
	}
	if !active {
		return caller{}, errUnauthenticated
	}
	if c.role != "admin" || banned {
		return caller{}, errForbidden
	}
	return c, nil
}

func (c caller) settings() settings {
	return settings{org: strconv.Itoa(c.org), user: strconv.Itoa(c.id), role: c.role}
}

// ---- views: the JSON of internal/httpapi/views.go, field for field

type companyView struct {
	ID        int       `json:"id"`
	OrgID     int       `json:"org_id"`
	Name      string    `json:"name"`
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type userView struct {
	ID        int       `json:"id"`
	OrgID     int       `json:"org_id"`
	Email     string    `json:"email,omitempty"`
	Name      string    `json:"name"`
	Phone     string    `json:"phone,omitempty"`
	Role      string    `json:"role"`
	Banned    bool      `json:"banned"`
	Active    bool      `json:"active"`
	CompanyID *int      `json:"company_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

type noteView struct {
	ID        int       `json:"id"`
	OrgID     int       `json:"org_id"`
	JobID     int       `json:"job_id"`
	AuthorID  int       `json:"author_id"`
	Body      string    `json:"body"`
	Internal  bool      `json:"internal"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Edges     *struct {
		Author *userView `json:"author,omitempty"`
	} `json:"edges,omitempty"`
}

// jobEdges are in the order encoding/json writes a map's keys, so the
// bytes match the server's map of edges.
type jobEdges struct {
	Company  *companyView `json:"company,omitempty"`
	Managers *[]userView  `json:"managers,omitempty"`
	Notes    *[]noteView  `json:"notes,omitempty"`
}

type jobView struct {
	ID          int       `json:"id"`
	OrgID       int       `json:"org_id"`
	CompanyID   int       `json:"company_id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	SalaryMax   *int      `json:"salary_max,omitempty"`
	CreatedByID int       `json:"created_by_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Edges       *jobEdges `json:"edges,omitempty"`
}

const (
	jobColumns  = `id, created_at, updated_at, org_id, company_id, title, description, status, salary_max, created_by_id`
	userColumns = `u.id, u.created_at, u.updated_at, u.org_id, u.email, u.name, u.phone, u.role, u.banned, u.active, u.company_id`
)

func scanJob(rows interface{ Scan(...any) error }) (jobView, error) {
	var j jobView
	var salary sql.NullInt64
	err := rows.Scan(&j.ID, &j.CreatedAt, &j.UpdatedAt, &j.OrgID, &j.CompanyID, &j.Title, &j.Description, &j.Status, &salary, &j.CreatedByID)
	if salary.Valid {
		s := int(salary.Int64)
		j.SalaryMax = &s
	}
	return j, err
}

func scanUser(rows interface{ Scan(...any) error }, extra ...any) (userView, error) {
	var u userView
	var company sql.NullInt64
	err := rows.Scan(append(extra, &u.ID, &u.CreatedAt, &u.UpdatedAt, &u.OrgID, &u.Email, &u.Name, &u.Phone, &u.Role, &u.Banned, &u.Active, &company)...)
	if company.Valid {
		c := int(company.Int64)
		u.CompanyID = &c
	}
	return u, err
}

// ---- routes

type listBody struct {
	Data       []jobView `json:"data"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

func (f *floor) list(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	if q.Get("preload") != preloads || len(q) != 1 {
		return &httpError{http.StatusBadRequest, "bad_request", "the floor serves ?preload=" + preloads + " only"}
	}
	const limit = 50
	ctx := r.Context()
	tx, err := f.begin(ctx, c.settings(), true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The server's keyset shape (internal/repo/page.go): a range of
	// (org_id, id), which the default planner answers from that index.
	rows, err := tx.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
WHERE org_id = $1 AND (org_id, id) > ($1, 0) AND (org_id, id) < ($1 + 1, 0) ORDER BY org_id, id LIMIT $2`, c.org, limit+1)
	if err != nil {
		return err
	}
	jobs := make([]jobView, 0, limit+1)
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return err
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	next := ""
	if len(jobs) > limit {
		jobs = jobs[:limit]
		next = cursor(jobs[limit-1].ID, c.org)
	}
	if err := preload(ctx, tx, c.org, jobs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listBody{Data: jobs, NextCursor: next})
	return nil
}

// cursor is the server's opaque keyset cursor (internal/repo/page.go).
func cursor(after, org int) string {
	b, _ := json.Marshal(struct {
		After   int    `json:"a"`
		Org     int    `json:"o"`
		Surface string `json:"s"`
		Kind    string `json:"k"`
	}{after, org, "user", "job"})
	return base64.RawURLEncoding.EncodeToString(b)
}

func (f *floor) get(w http.ResponseWriter, r *http.Request, c caller) error {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id <= 0 {
		return errNotFound
	}
	q := r.URL.Query()
	if q.Get("preload") != preloads || len(q) != 1 {
		return &httpError{http.StatusBadRequest, "bad_request", "the floor serves ?preload=" + preloads + " only"}
	}
	ctx := r.Context()
	tx, err := f.begin(ctx, c.settings(), true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	j, err := scanJob(tx.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE org_id = $1 AND id = $2`, c.org, id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errNotFound
	case err != nil:
		return err
	}
	jobs := []jobView{j}
	if err := preload(ctx, tx, c.org, jobs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]jobView{"data": jobs[0]})
	return nil
}

// preload loads company, managers, notes and the notes' authors of jobs:
// four statements, each filtered like the registry's user surface (active
// managers, public notes, at most notesPerJob per job, newest first).
func preload(ctx context.Context, tx *sql.Tx, org int, jobs []jobView) error {
	if len(jobs) == 0 {
		return nil
	}
	ids := make([]int64, len(jobs))
	companyIDs := make([]int64, 0, len(jobs))
	byID := make(map[int]*jobEdges, len(jobs))
	seenCompany := map[int]bool{}
	for i := range jobs {
		ids[i] = int64(jobs[i].ID)
		e := &jobEdges{Managers: &[]userView{}, Notes: &[]noteView{}}
		jobs[i].Edges = e
		byID[jobs[i].ID] = e
		if !seenCompany[jobs[i].CompanyID] {
			seenCompany[jobs[i].CompanyID] = true
			companyIDs = append(companyIDs, int64(jobs[i].CompanyID))
		}
	}

	companies := map[int]*companyView{}
	rows, err := tx.QueryContext(ctx, `SELECT id, created_at, updated_at, org_id, name, archived FROM companies
WHERE org_id = $1 AND id = ANY($2)`, org, pq.Array(companyIDs))
	if err != nil {
		return err
	}
	for rows.Next() {
		var c companyView
		if err := rows.Scan(&c.ID, &c.CreatedAt, &c.UpdatedAt, &c.OrgID, &c.Name, &c.Archived); err != nil {
			rows.Close()
			return err
		}
		companies[c.ID] = &c
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i := range jobs {
		jobs[i].Edges.Company = companies[jobs[i].CompanyID]
	}

	rows, err = tx.QueryContext(ctx, `SELECT jm.job_id, `+userColumns+` FROM job_managers jm JOIN users u ON u.id = jm.user_id
WHERE jm.org_id = $1 AND jm.job_id = ANY($2) AND u.org_id = $1 AND u.active ORDER BY u.updated_at DESC, u.id DESC`, org, pq.Array(ids))
	if err != nil {
		return err
	}
	for rows.Next() {
		var job int
		u, err := scanUser(rows, &job)
		if err != nil {
			rows.Close()
			return err
		}
		*byID[job].Managers = append(*byID[job].Managers, u)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	rows, err = tx.QueryContext(ctx, `SELECT id, created_at, updated_at, org_id, job_id, author_id, body, internal FROM (
  SELECT n.*, row_number() OVER (PARTITION BY n.job_id ORDER BY n.created_at DESC, n.id DESC) AS rn
  FROM notes n WHERE n.org_id = $1 AND n.job_id = ANY($2) AND NOT n.internal) t
WHERE rn <= $3 ORDER BY created_at DESC, id DESC`, org, pq.Array(ids), notesPerJob)
	if err != nil {
		return err
	}
	var authorIDs []int64
	seenAuthor := map[int]bool{}
	for rows.Next() {
		var n noteView
		if err := rows.Scan(&n.ID, &n.CreatedAt, &n.UpdatedAt, &n.OrgID, &n.JobID, &n.AuthorID, &n.Body, &n.Internal); err != nil {
			rows.Close()
			return err
		}
		*byID[n.JobID].Notes = append(*byID[n.JobID].Notes, n)
		if !seenAuthor[n.AuthorID] {
			seenAuthor[n.AuthorID] = true
			authorIDs = append(authorIDs, int64(n.AuthorID))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(authorIDs) == 0 {
		return nil
	}

	authors := map[int]*userView{}
	rows, err = tx.QueryContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.org_id = $1 AND u.id = ANY($2)`, org, pq.Array(authorIDs))
	if err != nil {
		return err
	}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			rows.Close()
			return err
		}
		authors[u.ID] = &u
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, e := range byID {
		for i := range *e.Notes {
			n := &(*e.Notes)[i]
			n.Edges = &struct {
				Author *userView `json:"author,omitempty"`
			}{Author: authors[n.AuthorID]}
		}
	}
	return nil
}

type jobRequest struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	CompanyID   int    `json:"company_id"`
	Status      string `json:"status"`
	SalaryMax   *int   `json:"salary_max"`
	ManagerIDs  []int  `json:"manager_ids"`
}

func (f *floor) create(w http.ResponseWriter, r *http.Request, c caller) error {
	var in jobRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return &httpError{http.StatusBadRequest, "bad_request", "malformed JSON"}
	}
	switch {
	case in.Title == "" || in.CompanyID <= 0 || len(in.ManagerIDs) > 100:
		return &httpError{http.StatusUnprocessableEntity, "invalid", "title and company_id are required"}
	case in.Status == "":
		in.Status = "draft"
	case in.Status != "draft" && in.Status != "published" && in.Status != "archived":
		return &httpError{http.StatusUnprocessableEntity, "invalid", "unknown status"}
	}
	ctx := r.Context()
	s := c.settings()
	s.inserting = "true"
	tx, err := f.begin(ctx, s, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The links must name rows of the caller's tenant.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM companies WHERE org_id = $1 AND id = $2`, c.org, in.CompanyID).Scan(&n); err != nil {
		return err
	}
	if n != 1 {
		return &httpError{http.StatusUnprocessableEntity, "invalid", "company_id: no such company"}
	}
	managers := make([]int64, 0, len(in.ManagerIDs))
	seen := map[int]bool{}
	for _, id := range in.ManagerIDs {
		if !seen[id] {
			seen[id] = true
			managers = append(managers, int64(id))
		}
	}
	if len(managers) > 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE org_id = $1 AND id = ANY($2)`, c.org, pq.Array(managers)).Scan(&n); err != nil {
			return err
		}
		if n != len(managers) {
			return &httpError{http.StatusUnprocessableEntity, "invalid", "manager_ids: no such user"}
		}
	}
	now := time.Now()
	j, err := scanJob(tx.QueryRowContext(ctx, `INSERT INTO jobs (created_at, updated_at, title, description, status, salary_max, org_id, company_id, created_by_id)
VALUES ($1, $1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+jobColumns,
		now, in.Title, in.Description, in.Status, in.SalaryMax, c.org, in.CompanyID, c.id))
	if err != nil {
		return err
	}
	if len(managers) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO job_managers (org_id, job_id, user_id) SELECT $1, $2, unnest($3::bigint[]) ON CONFLICT DO NOTHING`,
			c.org, j.ID, pq.Array(managers)); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]jobView{"data": j})
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":{"code":"internal","message":"internal error"}}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
