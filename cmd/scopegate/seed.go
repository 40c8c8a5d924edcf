package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"

	"github.com/scopegate/scopegate/internal/seed"
)

// seedScale writes a large world with COPY (internal/seed), as the
// application role of DATABASE_URL, row-level security in force: the run is
// an all-tenant batch job under its own audited system scope, like 'job
// run'. Only ANALYZE needs the tables' owner, so MIGRATE_DATABASE_URL, when
// set, is used for that alone.
func seedScale(fs *flag.FlagSet) action {
	dbURL := databaseURLFlag(fs)
	orgs := fs.Int("orgs", 0, "`number` of small organizations, 1 to 10000 (required)")
	jobsPerOrg := fs.Int("jobs-per-org", 0, "`number` of jobs of each small organization, 1 to 1000000 (required)")
	large := fs.Int("large-tenant", 0, "add one more organization with this many `jobs`, written last (highest ids)")
	managers := fs.Int("managers-per-job", seed.DefaultManagersPerJob, "managers linked to each job, 0 to 10 (`number`)")
	notes := fs.Int("notes-per-job", seed.DefaultNotesPerJob, "notes on each job, half of them internal, 0 to 50 (`number`)")
	run := fs.String("run", "", "`tag` in this run's slugs and emails: lowercase letters and digits (default random)")
	rngSeed := fs.Uint64("seed", 1, "`seed` of the mix of statuses, salaries and managers")
	return func(ctx context.Context, e *env, args []string) error {
		if *orgs == 0 || *jobsPerOrg == 0 {
			return usagef("--orgs and --jobs-per-org are required")
		}
		shape := seed.NewShape(*orgs, *jobsPerOrg, *large)
		shape.ManagersPerJob, shape.NotesPerJob, shape.Run, shape.Seed = *managers, *notes, *run, *rngSeed
		if err := shape.Validate(); err != nil {
			return usagef("%s", strings.ReplaceAll(err.Error(), seed.ErrShape.Error()+": ", ""))
		}
		u := firstNonEmpty(*dbURL, e.getenv(envDatabaseURL))
		if u == "" {
			return usagef("seed scale writes with COPY, which the embedded SQLite file lacks: set %s to a PostgreSQL database (as the application role) or pass --database-url", envDatabaseURL)
		}
		d, err := dbFlags{url: &u, file: new(string), maxConns: new(string)}.open(ctx, e)
		if err != nil {
			return err
		}
		defer d.Close()
		var opts seed.Options
		if owner := e.getenv(envMigrateDatabaseURL); owner != "" && owner != u {
			if !isPostgres(owner) {
				return usagef("%s must be postgres://…", envMigrateDatabaseURL)
			}
			odb, err := sql.Open("postgres", owner)
			if err != nil {
				return fmt.Errorf("open %s: %w", redacted(owner), err)
			}
			defer odb.Close()
			opts.Analyze = odb
		}
		opts.Progress = newProgress(e.stderr)
		res, err := seed.Scale(ctx, d.SQL, shape, opts)
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("interrupted: the batches committed so far stay, tagged with their run: %w", err)
		}
		if err != nil {
			return err
		}
		printScale(e, shape, res)
		return nil
	}
}

// printScale writes the run's counts and throughput per table, and logins
// to try.
func printScale(e *env, shape seed.Shape, res seed.Result) {
	w := e.stdout
	fmt.Fprintf(w, "seed scale run %s: %d organizations x %d jobs", res.Run, shape.Orgs, shape.JobsPerOrg)
	if shape.LargeTenantJobs > 0 {
		fmt.Fprintf(w, " + a large tenant of %d jobs", shape.LargeTenantJobs)
	}
	fmt.Fprintf(w, ", %d managers and %d notes per job\n\n", shape.ManagersPerJob, shape.NotesPerJob)
	const row = "%-20s %10s %9s %10s\n"
	fmt.Fprintf(w, row, "table", "rows", "seconds", "rows/s")
	total := 0
	for _, t := range res.Tables {
		total += t.Rows
		fmt.Fprintf(w, row, t.Table, strconv.Itoa(t.Rows), fmt.Sprintf("%.2f", t.Duration.Seconds()), fmt.Sprintf("%.0f", rate(t.Rows, t.Duration.Seconds())))
	}
	fmt.Fprintf(w, row, "total (wall clock)", strconv.Itoa(total), fmt.Sprintf("%.2f", res.Duration.Seconds()), fmt.Sprintf("%.0f", rate(total, res.Duration.Seconds())))
	if res.Analyzed {
		fmt.Fprintln(w, "\nanalyzed the tables")
	} else {
		fmt.Fprintf(w, "\nANALYZE skipped: %s (set %s to the owner's URL to have it run)\n", res.AnalyzeSkipped, envMigrateDatabaseURL)
	}
	fmt.Fprintf(w, "\nevery seeded user's password: %s\n", seed.Password)
	for _, l := range res.Logins {
		fmt.Fprintf(w, "  %-40s %-8s of %s (%d jobs)\n", l.Email, l.Role, l.Org, l.Jobs)
	}
}

func rate(rows int, seconds float64) float64 {
	if seconds <= 0 {
		return 0
	}
	return float64(rows) / seconds
}
