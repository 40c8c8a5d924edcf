package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/scopegate/scopegate/internal/database"
	"github.com/scopegate/scopegate/internal/demo"
	"github.com/scopegate/scopegate/internal/httpapi"
)

// ShutdownGrace is how long in-flight requests get after SIGINT/SIGTERM.
const ShutdownGrace = 10 * time.Second

func serve(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on")
	return func(ctx context.Context, e *env, args []string) error {
		if len(args) > 0 {
			return usagef("unexpected argument %q", args[0])
		}
		log := slog.New(slog.NewTextHandler(e.stderr, nil))
		d, err := db.open(ctx, e)
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
				slog.String("see", "DESIGN section 8"))
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
		api, err := httpapi.New(httpapi.Config{Client: d.Client, Ping: d.SQL.PingContext, Logger: log})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *addr)
		if err != nil {
			return err
		}
		srv := &http.Server{
			Handler:           api,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       60 * time.Second,
			ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
		fmt.Fprintf(e.stdout, "listening on http://%s (%s)\n", ln.Addr(), d.where)
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
		}
		fmt.Fprintln(e.stdout, "shutting down")
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

func printLogins(e *env) {
	fmt.Fprintf(e.stdout, "demo logins (password %q):\n", demo.Password)
	for _, l := range demo.Logins() {
		fmt.Fprintf(e.stdout, "  %-8s %-22s org %s\n", l.Role, l.Email, l.Org)
	}
}
