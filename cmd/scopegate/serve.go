package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/httpapi"
	"github.com/scopegate/scopegate/internal/metrics"
	"github.com/scopegate/scopegate/internal/migration"
)

// Defaults of serve's timeouts (docs/reliability.md).
const (
	// DefaultShutdownTimeout is how long in-flight requests get after
	// SIGINT/SIGTERM.
	DefaultShutdownTimeout = 10 * time.Second
	// DefaultStatementTimeout is PostgreSQL's statement_timeout for the
	// server's scoped transactions: half the request deadline, so that a
	// request may make one slow statement and still answer in time.
	DefaultStatementTimeout = httpapi.DefaultRequestTimeout / 2
)

func serve(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on")
	opsf := addOpsFlags(fs)
	replicas := addReplicaFlags(fs)
	requestTimeout := fs.Duration("request-timeout", httpapi.DefaultRequestTimeout,
		"`duration` a request may take, waiting for a pooled connection included; past it the answer is 503 with Retry-After")
	statementTimeout := fs.Duration("statement-timeout", DefaultStatementTimeout,
		"PostgreSQL statement_timeout `duration` of every scoped transaction (0: the server's own)")
	shutdownTimeout := fs.Duration("shutdown-timeout", DefaultShutdownTimeout,
		"`duration` in-flight requests get to finish after SIGTERM or SIGINT")
	return func(ctx context.Context, e *env, args []string) error {
		ops, err := opsf.settings(e)
		if err != nil {
			return err
		}
		switch {
		case *requestTimeout <= 0:
			return usagef("--request-timeout must be positive")
		case *statementTimeout < 0:
			return usagef("--statement-timeout must not be negative")
		case *shutdownTimeout <= 0:
			return usagef("--shutdown-timeout must be positive")
		}
		log := e.logger()
		opts := database.Options{StatementTimeout: *statementTimeout, Log: log}
		if err := replicas.options(e, &opts); err != nil {
			return err
		}
		d, err := db.openWith(ctx, e, opts)
		if err != nil {
			return err
		}
		defer d.Close()
		if d.embedded {
			log.Warn("embedded SQLite has no row-level security: the ent rules alone scope every query")
		} else if why, err := database.Privileged(ctx, d.SQL); err != nil {
			return err
		} else if why != "" {
			log.Warn(why+": PostgreSQL row-level security is not in force for it; connect as the application role (scopegate db grant)",
				slog.String("see", "docs/design.md section 8"))
		}
		if d.embedded {
			seeded, err := demo.Seed(ctx, d.Client)
			if err != nil {
				return err
			}
			if seeded {
				fmt.Fprintln(e.stdout, "seeded the demo world")
			}
			printLogins(e)
		}
		cfg := httpapi.Config{Client: d.Client, Ping: d.SQL.PingContext, Ready: readiness(d), Logger: log,
			RequestTimeout: *requestTimeout, Replicas: d.Replicas}
		// Without the ops listener nothing would read the metrics:
		// none are kept, and requests pay nothing for them.
		var reg *metrics.Registry
		if ops.addr != "" {
			reg = metrics.New()
			if err := reg.AddDB(d.SQL); err != nil {
				return err
			}
			if d.Replicas != nil {
				if err := reg.AddReplicas(d.Replicas); err != nil {
					return err
				}
			}
			cfg.Metrics = reg
		}
		api, err := httpapi.New(cfg)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		defer ln.Close() // if the ops listener fails; Shutdown closes it otherwise
		var opsLn net.Listener
		if ops.addr != "" {
			if opsLn, err = net.Listen("tcp", ops.addr); err != nil {
				return fmt.Errorf("ops listener: %w", err)
			}
			defer opsLn.Close()
		}
		// Requests run under base, which ends when the shutdown's drain
		// timeout passes: their statements are cancelled and their
		// transactions rolled back before the process exits, rather
		// than cut off mid-way by the exit.
		base, abandon := context.WithCancel(context.WithoutCancel(ctx))
		defer abandon()
		var running atomic.Int64 // requests in the API's handler
		srv := &http.Server{
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				running.Add(1)
				defer running.Add(-1)
				api.ServeHTTP(w, r)
			}),
			BaseContext:       func(net.Listener) context.Context { return base },
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		fmt.Fprintf(e.stdout, "listening on http://%s (%s)\n", ln.Addr(), d.where)
		servers := []*http.Server{srv}
		listeners := []net.Listener{ln}
		if opsLn != nil {
			servers = append(servers, &http.Server{
				Handler:           opsHandler(reg, ops.pprof),
				ReadHeaderTimeout: 5 * time.Second,
				// pprof's profile and trace run for ?seconds= and
				// extend their own write deadline past this.
				WriteTimeout: 30 * time.Second,
				IdleTimeout:  60 * time.Second,
				ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			})
			listeners = append(listeners, opsLn)
			what := "/metrics"
			if ops.pprof {
				what += ", /debug/pprof/"
			}
			fmt.Fprintf(e.stdout, "ops listening on http://%s (%s)\n", opsLn.Addr(), what)
		}
		errc := make(chan error, len(servers))
		for i, s := range servers {
			go func() { errc <- s.Serve(listeners[i]) }()
		}
		pending := len(servers)
		var errs []error
		select {
		case err := <-errc: // a listener failed: stop the other too
			pending--
			errs = append(errs, err)
		case <-ctx.Done():
			fmt.Fprintln(e.stdout, "shutting down")
		}
		// Shutdown closes the listeners at once (new connections are
		// refused), closes idle connections, and waits for the requests
		// in flight to finish. Nine tenths of the drain timeout go to
		// that; requests still running then are abandoned: their
		// context ends, lib/pq has PostgreSQL cancel their statements,
		// and the last tenth waits for them to return, so that the exit
		// leaves no statement running and no transaction open.
		drain := time.Now().Add(*shutdownTimeout)
		sctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), drain.Add(-*shutdownTimeout/10))
		defer cancel()
		var drainErr error
		for _, s := range servers {
			if err := s.Shutdown(sctx); err != nil {
				drainErr = errors.Join(drainErr, fmt.Errorf("shutdown: %w", err))
			}
		}
		if n := running.Load(); n > 0 {
			abandon()
			for running.Load() > 0 && time.Now().Before(drain) {
				time.Sleep(10 * time.Millisecond)
			}
			// Says more than Shutdown's "context deadline exceeded".
			drainErr = fmt.Errorf("shutdown: %d requests still running at the drain timeout (--shutdown-timeout %s) were cancelled", n, *shutdownTimeout)
		}
		if drainErr != nil {
			errs = append(errs, drainErr)
		}
		for ; pending > 0; pending-- {
			if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
}

// readiness is /readyz's check (docs/design.md section 11): the database answers
// and, on PostgreSQL, its schema is the version this binary carries. The
// schema can change under a running server ('migrate down', or a newer
// binary's 'migrate up'), so it is checked on every call, not once at
// start. The embedded SQLite schema is created by this binary at start.
func readiness(d *opened) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := d.SQL.PingContext(ctx); err != nil {
			return err
		}
		if d.embedded {
			return nil
		}
		return migration.CheckCurrent(ctx, d.SQL)
	}
}

func printLogins(e *env) {
	fmt.Fprintf(e.stdout, "demo logins (password %q):\n", demo.Password)
	for _, l := range demo.Logins() {
		fmt.Fprintf(e.stdout, "  %-8s %-22s org %s\n", l.Role, l.Email, l.Org)
	}
}
