package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/scopegate/scopegate/internal/jobs"
)

func jobRun(fs *flag.FlagSet) action {
	db := addDBFlags(fs)
	dryRun := fs.Bool("dry-run", false, "write nothing; report the rows and batches a run would change")
	org := fs.String("org", "", "narrow the system scope to the organization with this `slug`")
	note := fs.String("note", "", "operator's `reason`, recorded in every audit event")
	batch := fs.Int("batch-size", jobs.DefaultBatchSize, "`number` of rows per transaction")
	olderThan := fs.Duration("older-than", 720*time.Hour, "archive-stale: archive published jobs not updated for this `duration`")
	return func(ctx context.Context, e *env, args []string) error {
		now := time.Now()
		builtin := builtinJobs(*olderThan, now)
		if len(args) != 1 {
			return usagef("want one job name: %s", jobNames(builtin, " or "))
		}
		if *olderThan <= 0 {
			return usagef("--older-than must be positive")
		}
		if *batch <= 0 {
			return usagef("--batch-size must be positive")
		}
		d, err := db.open(context.WithoutCancel(ctx), e)
		if err != nil {
			return err
		}
		defer d.Close()
		runner := jobs.NewRunner(d.Client, e.logger(), builtin...)
		if _, ok := runner.Jobs[args[0]]; !ok {
			return usagef("unknown job %q (known: %s)", args[0], jobNames(builtin, ", "))
		}
		// Ctrl-C (ctx) finishes the current batch, then stops: the runner
		// only looks at ctx between batches.
		sum, err := runner.Run(ctx, args[0], jobs.Options{
			DryRun: *dryRun, OrgSlug: *org, Note: *note, BatchSize: *batch,
			Progress: newProgress(e.stderr),
		})
		switch {
		case errors.Is(err, jobs.ErrUnknownOrg):
			// Found before any work: no summary of a run that did not
			// start, and the message user create gives.
			return fmt.Errorf("no organization with slug %q", *org)
		case err != nil && !errors.Is(err, jobs.ErrInterrupted) && sum.Batches == 0:
			// Failed before a batch was committed: nothing to sum up.
			return err
		}
		fmt.Fprintln(e.stdout, sum)
		if errors.Is(err, jobs.ErrInterrupted) {
			return errors.New("interrupted; run the same command again to continue")
		}
		return err
	}
}

// builtinJobs are the jobs `scopegate job run` knows, in the order its
// messages name them: a new job is added here and nowhere else in the CLI
// (TestEveryJobIsDocumented checks the help and docs/operations.md name it).
func builtinJobs(olderThan time.Duration, now time.Time) []jobs.Job {
	return []jobs.Job{jobs.NewArchiveStale(olderThan, now), jobs.PurgeSessions{Now: now}}
}

// jobNames joins the jobs' names with sep.
func jobNames(js []jobs.Job, sep string) string {
	names := make([]string, len(js))
	for i, j := range js {
		names[i] = j.Name()
	}
	return strings.Join(names, sep)
}

// newProgress draws a bar on a terminal and logs a line every few seconds
// elsewhere.
func newProgress(w io.Writer) jobs.Progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{w: w}
	}
	return &logProgress{w: w, every: 5 * time.Second}
}

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionShowCount(),
		progressbar.OptionSetDescription("rows"), progressbar.OptionClearOnFinish())
}
func (p *barProgress) Add(n int) { p.bar.Add(n) }
func (p *barProgress) Finish()   { p.bar.Finish() }

type logProgress struct {
	mu          sync.Mutex
	w           io.Writer
	every       time.Duration
	total, done int
	last        time.Time
}

func (p *logProgress) Start(total int) { p.total, p.last = total, time.Now() }
func (p *logProgress) Add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if time.Since(p.last) >= p.every {
		p.last = time.Now()
		fmt.Fprintf(p.w, "progress: %d of %d rows\n", p.done, p.total)
	}
}
func (p *logProgress) Finish() {}
