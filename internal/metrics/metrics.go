// Package metrics owns the server's Prometheus metrics (docs/design.md section 11):
// a private registry, never the global default, so that nothing a
// dependency registers on its own ends up on /metrics and every test can
// build a registry of its own. Every name is prefixed scopegate_.
//
// The per-request path (Route's observer) is built for a server that is
// benchmarked against a hand-written handler: each route resolves its label
// values once, the first time a method or status is seen, and after that
// an observation is an atomic load and three lock-free updates, without
// allocating.
package metrics

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/scopegate/scopegate/internal/database"
)

// Registry holds the server's metrics.
type Registry struct {
	reg        *prometheus.Registry
	wrapped    prometheus.Registerer // reg, adding the scopegate_ prefix
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	statements *prometheus.HistogramVec
	denials    *prometheus.CounterVec
	refusals   *prometheus.CounterVec
	systemOps  *prometheus.CounterVec
}

// New returns a registry with the HTTP metrics, the policy's and the
// preload registry's refusals, the batch jobs' system-scope operations, and
// Go's runtime and process collectors registered.
func New() *Registry {
	reg := prometheus.NewRegistry()
	r := &Registry{
		reg:     reg,
		wrapped: prometheus.WrapRegistererWithPrefix("scopegate_", reg),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds",
			Help: "Time from a request's arrival to its handler's return, by route pattern and method.",
			// Most requests take a few milliseconds: finer buckets
			// at the low end than prometheus.DefBuckets.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		statements: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "db_statements_per_request",
			Help: "Database round trips per request (transaction control and scope settings included), by route pattern and method.",
			// Buckets: 0 (no database), 1 (the one statement, BEGIN and
			// settings riding with it), up to what a deep preload sends.
			Buckets: []float64{0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50},
		}, []string{"route", "method"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "policy_denials_total",
			Help: "Actions the mutation policy denied, by action (job.update, surface.admin, ...).",
		}, []string{"action"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "preload_refusals_total",
			Help: "Preload requests the preload registry refused, by entity and surface.",
		}, []string{"entity", "surface"}),
		systemOps: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "system_scope_operations_total",
			Help: "Queries and mutations batch jobs made under their system scope, by job.",
		}, []string{"job"}),
	}
	r.wrapped.MustRegister(
		r.requests, r.duration, r.statements, r.denials, r.refusals, r.systemOps,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// AddDB registers the pool statistics of db (open, in use and idle
// connections, waits and wait time) under db_name="scopegate".
func (r *Registry) AddDB(db *sql.DB) error {
	if err := r.wrapped.Register(collectors.NewDBStatsCollector(db, "scopegate")); err != nil {
		return fmt.Errorf("metrics: register database statistics: %w", err)
	}
	return nil
}

// Replicas is what the read replicas report (database.Replicas).
type Replicas interface {
	Status() []database.ReplicaStatus
	PrimaryReads() int64
	Fallbacks() int64
}

// AddReplicas registers the read replicas' metrics: per replica whether it
// serves reads, how far its replay was behind at the last check, and the
// requests whose reads it served; the requests whose reads could have
// gone to a replica but went to the primary; and the reads sent to the
// primary after a replica failed them.
func (r *Registry) AddReplicas(rs Replicas) error {
	if err := r.wrapped.Register(replicaCollector{rs}); err != nil {
		return fmt.Errorf("metrics: register replica metrics: %w", err)
	}
	return nil
}

var (
	replicaUsableDesc = prometheus.NewDesc("db_replica_usable",
		"1 if the read replica serves reads (reachable, in recovery, within the lag bound), else 0.", []string{"replica"}, nil)
	replicaLagDesc = prometheus.NewDesc("db_replica_lag_bytes",
		"How far the replica's replay was behind the primary's WAL position at the last check.", []string{"replica"}, nil)
	readTxDesc = prometheus.NewDesc("db_replica_routed_requests_total",
		"Requests whose reads may come from a replica (signed-in GETs), by where their reads went: a replica's name, or primary.", []string{"target"}, nil)
	fallbackDesc = prometheus.NewDesc("db_replica_fallbacks_total",
		"Reads that failed on a replica and were run on the primary.", nil, nil)
)

type replicaCollector struct{ rs Replicas }

func (c replicaCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- replicaUsableDesc
	ch <- replicaLagDesc
	ch <- readTxDesc
	ch <- fallbackDesc
}

func (c replicaCollector) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.rs.Status() {
		usable := 0.0
		if st.Usable {
			usable = 1
		}
		ch <- prometheus.MustNewConstMetric(replicaUsableDesc, prometheus.GaugeValue, usable, st.Name)
		ch <- prometheus.MustNewConstMetric(replicaLagDesc, prometheus.GaugeValue, float64(st.LagBytes), st.Name)
		ch <- prometheus.MustNewConstMetric(readTxDesc, prometheus.CounterValue, float64(st.Reads), st.Name)
	}
	ch <- prometheus.MustNewConstMetric(readTxDesc, prometheus.CounterValue, float64(c.rs.PrimaryReads()), "primary")
	ch <- prometheus.MustNewConstMetric(fallbackDesc, prometheus.CounterValue, float64(c.rs.Fallbacks()))
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// PolicyDenied counts a denial of action by the mutation policy. Actions
// are the policy's constants, a bounded set: never a client's string.
func (r *Registry) PolicyDenied(action string) {
	r.denials.WithLabelValues(action).Inc()
}

// PreloadRefused counts a preload request the registry refused for entity
// on surface, both the registry's names, never a client's path.
func (r *Registry) PreloadRefused(entity, surface string) {
	r.refusals.WithLabelValues(entity, surface).Inc()
}

// SystemScopeOperations returns the counter of the operations the batch
// job performs under its system scope; a run resolves it once.
func (r *Registry) SystemScopeOperations(job string) func() {
	return r.systemOps.WithLabelValues(job).Inc
}

// Route returns the observer of the requests of one route, named by its
// pattern without the method ("/api/jobs/{id}"; the method is a label of
// its own), or a name the server gives requests that matched none. A server calls it once per route, when it
// registers the route, and the observer on every request.
func (r *Registry) Route(name string) func(method string, status int, elapsed time.Duration, statements int) {
	rt := &route{r: r, name: name}
	return rt.observe
}

// methods are the label values of the method label: any other method is
// "other", so that a client cannot create series.
var methods = [...]string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace, "other",
}

func methodIndex(m string) int {
	switch m {
	case http.MethodGet:
		return 0
	case http.MethodHead:
		return 1
	case http.MethodPost:
		return 2
	case http.MethodPut:
		return 3
	case http.MethodPatch:
		return 4
	case http.MethodDelete:
		return 5
	case http.MethodOptions:
		return 6
	case http.MethodConnect:
		return 7
	case http.MethodTrace:
		return 8
	}
	return len(methods) - 1
}

// route caches one route's series, by method, then by status. Series are
// created on first use, not up front: a route answers few of the possible
// methods and statuses, and unused series would only clutter /metrics.
type route struct {
	r       *Registry
	name    string
	methods [len(methods)]atomic.Pointer[routeMethod]
}

const minStatus, maxStatus = 100, 599

type routeMethod struct {
	duration, statements prometheus.Observer
	byStatus             [maxStatus - minStatus + 1]atomic.Pointer[prometheus.Counter]
}

func (rt *route) observe(method string, status int, elapsed time.Duration, statements int) {
	i := methodIndex(method)
	m := rt.methods[i].Load()
	if m == nil {
		m = &routeMethod{
			duration:   rt.r.duration.WithLabelValues(rt.name, methods[i]),
			statements: rt.r.statements.WithLabelValues(rt.name, methods[i]),
		}
		// Two first requests may race; both build the same series
		// (WithLabelValues returns the one registered), one is kept.
		if !rt.methods[i].CompareAndSwap(nil, m) {
			m = rt.methods[i].Load()
		}
	}
	m.duration.Observe(elapsed.Seconds())
	m.statements.Observe(float64(statements))
	if status == 0 {
		status = http.StatusOK // a handler that writes nothing answers 200
	}
	if status < minStatus || status > maxStatus {
		rt.r.requests.WithLabelValues(rt.name, methods[i], strconv.Itoa(status)).Inc()
		return
	}
	slot := &m.byStatus[status-minStatus]
	c := slot.Load()
	if c == nil {
		v := rt.r.requests.WithLabelValues(rt.name, methods[i], strconv.Itoa(status))
		slot.CompareAndSwap(nil, &v)
		c = &v
	}
	(*c).Inc()
}
