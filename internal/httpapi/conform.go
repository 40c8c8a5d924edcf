package httpapi

import (
	"net"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// HTTP conformance (docs/design.md section 11): what the mux would answer itself,
// in text or HTML, answered here in JSON.

// withCleanPaths answers a path that is not clean (//, /./, /../) with the
// canonical 404 body. http.ServeMux would redirect it (307, with an HTML
// body) to the cleaned path: a JSON API has nothing to redirect to, and a
// client that sent /api//jobs/5 has a bug worth seeing.
func (s *Server) withCleanPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		if r.Method == http.MethodConnect || p != cleanPath(p) {
			s.writeError(w, r, errNotFoundRoute)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// cleanPath is net/http's: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// probeMethods are the methods a path may be asked whether it serves.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// noRoute answers a request no route took: 405 with Allow when the path is
// a route's with another method, else 404. The catch-all "/" route hides
// the mux's own 405, which would be text.
func (s *Server) noRoute(_ http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range probeMethods {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		return &methodNotAllowed{allow: allow}
	}
	return errNotFoundRoute
}

// loginLimiter counts failed logins (docs/design.md section 11) in fixed windows,
// per (email, client address) and per client address; never per email
// alone, so that nobody can lock a user out from another address. An
// attempt is counted when it starts, as a failure, and uncounted when it
// succeeds: parallel guesses cannot all slip in before the first failure
// is recorded.
type loginLimiter struct {
	mu sync.Mutex
	// pairLimit is the failures allowed per (email, address) in a window;
	// addrLimit those per address, whatever the email: a user whose
	// neighbour behind the same address mistyped a password is not
	// refused, a client guessing many emails is.
	pairLimit, addrLimit int
	window               time.Duration
	now                  func() time.Time
	seen                 map[string]*window
}

type window struct {
	start time.Time
	n     int
}

func loginKeys(email, addr string) (pair, address string) {
	return "pair\x00" + addr + "\x00" + email, "addr\x00" + addr
}

// clientAddr is the request's client address without the port.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// begin counts an attempt of email from addr as a failure, unless the pair
// or the address is over its limit: then it returns how long until the
// later of the blocking windows ends, and false.
func (l *loginLimiter) begin(email, addr string) (time.Duration, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	pair, address := loginKeys(email, addr)
	var wait time.Duration
	for _, k := range []struct {
		key   string
		limit int
	}{{pair, l.pairLimit}, {address, l.addrLimit}} {
		w := l.current(k.key, now)
		if w != nil && w.n >= k.limit {
			wait = max(wait, w.start.Add(l.window).Sub(now))
		}
	}
	if wait > 0 {
		return wait, false
	}
	for _, k := range []string{pair, address} {
		w := l.current(k, now)
		if w == nil {
			w = &window{start: now}
			l.seen[k] = w
		}
		w.n++
	}
	l.forgetOld(now)
	return 0, true
}

// succeeded uncounts the attempt begin counted: the pair's failures are
// forgotten, the address keeps its others.
func (l *loginLimiter) succeeded(email, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pair, address := loginKeys(email, addr)
	delete(l.seen, pair)
	if w := l.seen[address]; w != nil && w.n > 0 {
		w.n--
	}
}

// abandoned uncounts the attempt begin counted when it ended neither in
// success nor in a wrong password (the database failed).
func (l *loginLimiter) abandoned(email, addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pair, address := loginKeys(email, addr)
	for _, k := range []string{pair, address} {
		if w := l.seen[k]; w != nil && w.n > 0 {
			w.n--
		}
	}
}

// current is key's window if it has not ended.
func (l *loginLimiter) current(key string, now time.Time) *window {
	w := l.seen[key]
	if w == nil || now.Sub(w.start) >= l.window {
		return nil
	}
	return w
}

// forgetOld drops ended windows once the map is large, so that it cannot
// grow without bound.
func (l *loginLimiter) forgetOld(now time.Time) {
	if len(l.seen) <= 100_000 {
		return
	}
	for k, w := range l.seen {
		if now.Sub(w.start) >= l.window {
			delete(l.seen, k)
		}
	}
}

// normalEmail is the email as the limiter and the login compare it.
func normalEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
