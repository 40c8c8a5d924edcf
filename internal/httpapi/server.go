// Package httpapi serves the JSON API of docs/design.md section 6 over the
// repositories. Handlers only decode, call a repository, and encode; every
// error goes through one table (errors.go) from repository errors to status
// and code. The scope is built once per request by the authentication
// middleware and carried in the request's context.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/scopegate/scopegate/ent"
	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/logging"
	"github.com/scopegate/scopegate/internal/preload"
	"github.com/scopegate/scopegate/internal/repo"
	"github.com/scopegate/scopegate/internal/scope"
)

// Config is what a Server needs.
type Config struct {
	Client *ent.Client
	// Ping checks that the database is reachable: /readyz asks it when
	// Ready is nil. Requests need no ping to answer an outage 503: the
	// repositories classify a database that is down (repo.ErrUnavailable).
	Ping func(context.Context) error
	// Ready checks for /readyz that the database can serve this binary:
	// reachable, and at the schema version it carries (no pending or
	// unknown migrations). An error wrapping database.ErrSchema is
	// reported as a schema problem, any other as unreachable. Nil means
	// Ping.
	Ready func(context.Context) error
	// Logger receives the access log and internal errors; nil means
	// slog.Default(). Every line logged while serving a request carries
	// its request_id (logging.Handler, added if the logger lacks it).
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LoginLimit is how many failed logins per email and client address
	// are allowed each minute; 0 means 5.
	LoginLimit int
	// LoginAddressLimit is how many failed logins per client address,
	// whatever the email, are allowed each minute; 0 means ten times
	// LoginLimit.
	LoginAddressLimit int
	// Metrics, if set, observes every request (nil: none, and no cost).
	Metrics Metrics
	// RequestTimeout bounds everything one request does: waiting for a
	// pooled connection, its statements (lib/pq cancels a running one
	// when the deadline passes) and its commit. A request past it is
	// answered 503 unavailable with Retry-After. 0 means
	// DefaultRequestTimeout; a negative value, none.
	RequestTimeout time.Duration
	// Replicas, if set, serve the reads of requests of safe methods
	// under a user's scope (database.ReadFromReplica), and the answers of
	// requests that wrote carry the primary's WAL position
	// (HeaderReadAfter).
	Replicas *database.Replicas
}

// DefaultRequestTimeout is Config.RequestTimeout's default: well above
// any request of a healthy server (milliseconds), well below the
// WriteTimeout after which net/http would drop the answer unsent.
const DefaultRequestTimeout = 10 * time.Second

// Metrics observes the requests of each route. The server asks for a
// route's observer once, when it registers the route, so that the work per
// request is a call with values at hand: method, status, time from arrival
// to the handler's return, and the database round trips the request cost
// (database.UnitStatements). internal/metrics implements it.
type Metrics interface {
	// Route returns the observer of one route, named by its pattern
	// without the method ("/api/jobs/{id}"), or "unmatched" for requests
	// that matched no route.
	Route(name string) func(method string, status int, elapsed time.Duration, statements int)
	// PolicyDenied counts a denial of action (a policy.Action, or
	// the admin surface's) answered to a client.
	PolicyDenied(action string)
	// PreloadRefused counts a preload request refused for entity on
	// surface.
	PreloadRefused(entity, surface string)
}

// Server is the API's http.Handler.
type Server struct {
	repos   *repo.Repos
	ready   func(context.Context) error
	log     *slog.Logger
	now     func() time.Time
	limiter *loginLimiter
	// timeout is the request deadline (Config.RequestTimeout); 0 for
	// none.
	timeout time.Duration
	mux     *http.ServeMux
	// chain is the middleware around mux, built once: wrapping per
	// request cost four closures on every request.
	chain   http.Handler
	metrics Metrics
	// unmatched observes requests that reach no route of handle: the
	// catch-all route and whatever the mux answers itself.
	unmatched func(method string, status int, elapsed time.Duration, statements int)
	// patterns lists every route handle registered, for the test that
	// the OpenAPI document names them all.
	patterns []string
	replicas *database.Replicas
}

// New returns the API handler.
func New(cfg Config) (*Server, error) {
	if err := preload.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		repos:    repo.New(cfg.Client),
		ready:    cfg.Ready,
		log:      cfg.Logger,
		now:      cfg.Now,
		mux:      http.NewServeMux(),
		metrics:  cfg.Metrics,
		replicas: cfg.Replicas,
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = slog.New(logging.NewHandler(s.log.Handler()))
	if s.now == nil {
		s.now = time.Now
	}
	s.repos.Sessions.Auth.Now = cfg.Now
	if s.ready == nil {
		s.ready = cfg.Ping
	}
	switch s.timeout = cfg.RequestTimeout; {
	case s.timeout == 0:
		s.timeout = DefaultRequestTimeout
	case s.timeout < 0:
		s.timeout = 0
	}
	limit := cfg.LoginLimit
	if limit == 0 {
		limit = 5
	}
	addrLimit := cfg.LoginAddressLimit
	if addrLimit == 0 {
		addrLimit = 10 * limit
	}
	s.limiter = &loginLimiter{pairLimit: limit, addrLimit: addrLimit, window: time.Minute, now: s.now, seen: map[string]*window{}}
	if s.metrics != nil {
		s.unmatched = s.metrics.Route(unmatchedRoute)
	}
	s.routes()
	s.chain = s.withRequestID(s.withAccessLog(s.withRecover(s.withDeadline(s.withBodyLimit(s.withCleanPaths(s.mux))))))
	return s, nil
}

// ServeHTTP runs the middleware chain, in this order: request id, access
// log, panic recovery, deadline, body limit, clean paths, authentication
// (per route), route authorization (per route).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.chain.ServeHTTP(w, r)
}

type ctxKey int

// keyLogInfo carries the *logInfo; the request id is logging's
// (logging.NewContext), so that every package's log lines carry it.
const keyLogInfo ctxKey = iota

func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(logging.NewContext(r.Context(), id)))
	})
}

// withDeadline bounds the request by s.timeout (Config.RequestTimeout).
// The request's context also ends when its client disconnects (net/http
// cancels it), and either way lib/pq sends PostgreSQL a cancel request
// for the statement running, so that no statement outlives its request.
func (s *Server) withDeadline(next http.Handler) http.Handler {
	if s.timeout == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// validRequestID accepts a client's request id only if it is short and
// plain, since it is echoed in a header and written to the log.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// logInfo is filled in by later middleware for the access log line and the
// metrics. It rides in the context the access log already adds, so that
// the metrics cost no allocation of their own.
type logInfo struct {
	userID, orgID int
	// observe is the matched route's metrics observer; nil until a route
	// of handle runs.
	observe func(method string, status int, elapsed time.Duration, statements int)
	// statements is the request's database round trips, read when its
	// read unit ends.
	statements int
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// withAccessLog logs one line per request: method, path, status, duration,
// user and org. Never the token, a password or a body. It also hands the
// request to the metrics, if any.
func (s *Server) withAccessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		info := &logInfo{}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), keyLogInfo, info)))
		elapsed := s.now().Sub(start)
		if s.metrics != nil {
			observe := info.observe
			if observe == nil {
				observe = s.unmatched
			}
			observe(r.Method, sw.status, elapsed, info.statements)
		}
		// The request id is added by the logger (logging.Handler).
		s.log.InfoContext(r.Context(), "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Duration("duration", elapsed),
			slog.Int("user_id", info.userID),
			slog.Int("org_id", info.orgID))
	})
}

func (s *Server) withRecover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				writeJSON(w, http.StatusInternalServerError, map[string]apiError{"error": {Code: "internal", Message: "internal error"}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) withBodyLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// access says who may use a route.
type access int

const (
	public    access = iota // no token needed
	signedIn                // any valid token
	adminOnly               // a valid token of an unbanned admin
)

// handlerFunc is a route's handler: it returns an error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers a route with its access rule.
func (s *Server) handle(pattern string, a access, h handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	var observe func(method string, status int, elapsed time.Duration, statements int)
	if s.metrics != nil {
		observe = s.unmatched
		if name := routeName(pattern); name != "/" {
			observe = s.metrics.Route(name)
		}
	}
	s.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, _ := r.Context().Value(keyLogInfo).(*logInfo)
		if info != nil {
			info.observe = observe
		}
		// The request's reads share one read-only transaction per
		// scope (the authenticator's, then the user's); a write
		// ends it and runs in its own. The unit counts the request's
		// round trips, writes included, for the metrics.
		ctx, end := database.WithReadUnit(r.Context())
		defer func() {
			if err := end(); err != nil {
				s.log.WarnContext(ctx, "end of read transaction", slog.Any("error", err))
			}
			if info != nil {
				info.statements = database.UnitStatements(ctx)
			}
		}()
		r = r.WithContext(ctx)
		if s.replicas != nil {
			w = &positionWriter{ResponseWriter: w, ctx: ctx, replicas: s.replicas, log: s.log}
		}
		if a != public {
			after, err := readAfter(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			if s.replicas != nil && safeMethod(r.Method) {
				database.ReadFromReplica(ctx, after)
			}
			ctx, err := s.authenticate(r)
			if err != nil {
				s.writeError(w, r, err)
				return
			}
			r = r.WithContext(ctx)
			if a == adminOnly {
				if err := repo.AuthorizeAdminSurface(ctx); err != nil {
					s.writeError(w, r, err)
					return
				}
			}
		}
		err := h(w, r)
		if err != nil && retryOnPrimary(r, err) {
			err = h(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	}))
}

// unmatchedRoute is the route label of requests that matched no route:
// the catch-all "/" and what the mux answers itself. Never the raw path,
// which would let any client create series.
const unmatchedRoute = "unmatched"

// routeName is the route label of pattern: the pattern without its method,
// which the metrics carry as a label of its own.
func routeName(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// authenticate turns the bearer token into the request's scope.
func (s *Server) authenticate(r *http.Request) (context.Context, error) {
	token, ok := bearer(r)
	if !ok {
		return nil, repo.ErrUnauthenticated
	}
	sc, err := s.repos.Sessions.Authenticate(r.Context(), token)
	if err != nil {
		return nil, err
	}
	id, _ := logging.RequestID(r.Context())
	sc = sc.WithRequest(scope.Request{ID: id, RemoteAddr: r.RemoteAddr})
	if info, ok := r.Context().Value(keyLogInfo).(*logInfo); ok {
		info.userID = sc.UserID()
		info.orgID, _ = sc.OrgID()
	}
	return scope.NewContext(r.Context(), sc), nil
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(h[len(prefix):]), true
}
