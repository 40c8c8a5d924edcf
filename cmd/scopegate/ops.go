package main

import (
	"flag"
	"net"
	"net/http"
	"net/http/pprof"
	"strconv"

	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/jobs"
	"github.com/scopegate/scopegate/internal/metrics"
)

// defaultOpsAddr is where the ops listener listens unless told otherwise:
// the loopback interface, since /metrics and pprof are for the operator.
const defaultOpsAddr = "127.0.0.1:9090"

var (
	_ httpapi.Metrics = (*metrics.Registry)(nil)
	_ jobs.Metrics    = (*metrics.Registry)(nil)
)

// opsFlags are serve's flags for the ops listener (docs/design.md section 11).
type opsFlags struct {
	fs    *flag.FlagSet
	addr  *string
	pprof *bool
}

func addOpsFlags(fs *flag.FlagSet) opsFlags {
	return opsFlags{
		fs: fs,
		addr: fs.String("ops-addr", defaultOpsAddr, "`address` of the ops listener (/metrics, and /debug/pprof/ with --pprof);\n"+
			"      empty disables it ($"+envOpsAddr+")"),
		pprof: fs.Bool("pprof", false, "serve the Go profiler at /debug/pprof/ on the ops listener ($"+envPprof+")"),
	}
}

// opsSettings is what the ops flags and their environment variables ask for.
type opsSettings struct {
	addr  string // "" disables the listener
	pprof bool
}

// settings resolves the ops flags: a flag given on the command line beats
// its environment variable, which beats the default. Bad values are usage
// errors, found before anything is opened.
func (f opsFlags) settings(e *env) (opsSettings, error) {
	var s opsSettings
	name := "--ops-addr"
	s.addr = *f.addr
	if v, ok := e.lookup(envOpsAddr); ok && !flagGiven(f.fs, "ops-addr") {
		name, s.addr = envOpsAddr, v
	}
	if s.addr != "" {
		_, port, err := net.SplitHostPort(s.addr)
		if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
			return s, usagef("%s must be host:port (empty disables the ops listener), not %q", name, s.addr)
		}
	}
	name = "--pprof"
	s.pprof = *f.pprof
	if v := e.getenv(envPprof); v != "" && !flagGiven(f.fs, "pprof") {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, usagef("%s must be true or false, not %q", envPprof, v)
		}
		name, s.pprof = envPprof, b
	}
	if s.pprof && s.addr == "" {
		return s, usagef("%s needs the ops listener, which --ops-addr or %s disables", name, envOpsAddr)
	}
	return s, nil
}

// opsHandler serves /metrics and, with withPprof, the profiler: on a mux of
// its own, never http.DefaultServeMux (where importing net/http/pprof puts
// its handlers, and which nothing here serves) and never the API's, so
// that neither is reachable through the API's listener.
func opsHandler(reg *metrics.Registry, withPprof bool) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index) // and the named profiles below it: heap, goroutine, …
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}
